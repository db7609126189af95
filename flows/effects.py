"""Every effect a flow may ask for, in one place: each is a small value object, performed by its area's
performer (`Area.performers`, see ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
class CorrectDetail(Effect):
    """The member changed one answer of sign-up (CHANGE MY DETAILS): `field` is name, county, work, gender or
    community; `values` the member's columns it sets (work: the kinds and the 'other' description)."""

    field: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class OptOut(Effect):
    """Stop every message to the member (a consent event)."""


@dataclass(frozen=True)
class OptIn(Effect):
    """Resume messages to the member (a consent event)."""


@dataclass(frozen=True)
class StopBroadcasts(Effect):
    """The member objects to broadcasts: no more union news, reminders and answers go on (audited)."""


@dataclass(frozen=True)
class ResumeBroadcasts(Effect):
    """The member takes back their objection to broadcasts (audited)."""


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


# --- questions, tickets and data rights ---------------------------------------------------------

@dataclass(frozen=True)
class OpenTicket(Effect):
    """Hand the member's question to an organiser (or add it to the member's open ticket).

    The engine gives the replies the ticket number as the parameter `ticket`. With `call_me` the ticket
    records when the member asked to be called (consent for its holder to see their number).
    """

    text: str
    reason: str
    faq_key: str | None = None
    call_me: bool = False
    # The member's earlier questions in this conversation (the FAQ answered them): the ticket starts with them.
    asked: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddToTicket(Effect):
    """Add what the member wrote to their open ticket (parameter `ticket` for the replies)."""

    text: str


@dataclass(frozen=True)
class EraseMyData(Effect):
    """Erase the member's personal data, keeping only anonymous aggregates (Data Protection Act 2019)."""


@dataclass(frozen=True)
class SendMyDataFile(Effect):
    """Send the member everything held about them as a document (PDF) with links to the same data as JSON
    and CSV (Data Protection Act 2019, s.38): built by a worker after the message's transaction commits."""


# --- broadcasts (organisers) -------------------------------------------------------------------

@dataclass(frozen=True)
class PreviewBroadcast(Effect):
    """Count the segment; the engine returns matched, opted_out, text_count, template_count, no_template, minutes
    and language_notes (the languages left with the fallback template or nothing)."""

    segment: Mapping[str, Any]


@dataclass(frozen=True)
class SendBroadcast(Effect):
    """Create the broadcast and start it once the conversation's transaction commits (returns broadcast_id)."""

    texts: Mapping[str, str]  # language code → text; English always
    segment: Mapping[str, Any]
    send_at: datetime | None = None  # naive UTC; None: now
