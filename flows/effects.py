"""Effects a flow asks the engine to perform: each is a small value object, performed in `bot/effects.py`."""

from __future__ import annotations

from dataclasses import dataclass

from flows.base import Effect


@dataclass(frozen=True)
class SetLanguage(Effect):
    """Switch the member's language."""

    language: str


@dataclass(frozen=True)
class RecordConsent(Effect):
    """The member agreed to the data-protection notice (the engine adds the version and language)."""


@dataclass(frozen=True)
class ForgetContact(Effect):
    """The person refused consent: delete their row, messages and payloads, keep nothing about them."""


@dataclass(frozen=True)
class ConcernsMembers(Effect):
    """The message and its replies name these members (a staff command about them): erasing one of them
    blanks those texts."""

    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class MarkNoticeAsked(Effect):
    """The member was asked about the new notice version (they are asked once)."""


@dataclass(frozen=True)
class DeclineNewNotice(Effect):
    """The member declined the new notice version; their data stays until they send DELETE MY DATA."""


@dataclass(frozen=True)
class RecordSensitiveChoice(Effect):
    """Whether the member let us ask the sensitive questions (gender, community): a consent event."""

    agreed: bool


@dataclass(frozen=True)
class RegisterMember(Effect):
    """Make the contact a member with these answers and give them a member number."""

    name: str
    county: str
    work_kinds: tuple[str, ...]
    work_other: str | None = None
    gender: str | None = None
    community: str | None = None


@dataclass(frozen=True)
class OptOut(Effect):
    """Stop every message to the member (a consent event)."""


@dataclass(frozen=True)
class OptIn(Effect):
    """Resume messages to the member (a consent event)."""


@dataclass(frozen=True)
class Enrol(Effect):
    """Enrol the member in a course (once) and schedule the reminders."""

    course_id: int


@dataclass(frozen=True)
class ReportCertificateLink(Effect):
    """Record a certificate link for review."""

    course_id: int
    link: str
    key: str


@dataclass(frozen=True)
class ReportCertificateFile(Effect):
    """Record a certificate photo or PDF to fetch from Twilio and review."""

    course_id: int
    url: str
    content_type: str
