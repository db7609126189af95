"""Driving the pure flows without a database, a Flask app or the webhook: the engine's classification of
what a member sends, the router, and the replies rendered with the catalogs in `locales/`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from bot.core import i18n
from bot.support.faq import items_from_file
from flows import router
from flows.base import Ctx, Effect, Input, Media, MemberView, Settings, State
from flows.effects import (
    Enrol,
    MarkNoticeAsked,
    OpenTicket,
    OptIn,
    OptOut,
    RecordConsent,
    RegisterMember,
    ReportCertificateFile,
    ReportCertificateLink,
    ResumeBroadcasts,
    SetLanguage,
    StopBroadcasts,
)
from flows.faq import Knowledge


def classify(text: str, media: bool | str | None = None) -> Input:
    """The engine's classification, without a database; `media` attaches a file (True: a photo, or its type)."""
    words = i18n.normalize(text)
    vocabulary = i18n.vocabulary()
    kind = "image/jpeg" if media is True else media
    return Input(text=text, keyword=vocabulary.keyword(words), intents=vocabulary.intents_of(words),
                 media=(Media("https://api.twilio.com/m", kind),) if kind else ())


COURSES = [
    {"id": n, "slug": f"c{n}", "url": f"https://example.org/{n}", "hours": 4.0,
     "titles": {"en": f"Course {n}", "sw": f"Kozi {n}"}, "summaries": {"en": "One line.", "sw": "Mstari mmoja."}}
    for n in range(1, 9)
]

ROOT = Path(__file__).resolve().parents[2]
# The repo's answers (data/faq.yaml) with the union's values filled in.
VALUES = {"en": {"union": "KUGWO", "dues": "KES 50 a month", "pay": "Ask an organiser.", "contact": "", "join": ""},
          "sw": {"dues": "KES 50 kwa mwezi", "pay": "Muulize afisa."}}
KNOWLEDGE = Knowledge(items_from_file(ROOT / "data" / "faq.yaml"), values=VALUES)


Script = list[tuple[str, list[str]]]  # (what the member says, fragments the bot's answer must hold)
NOW = datetime(2026, 12, 3, 9)
EXTRA = {"member_number": "KUGWO-000001", "ticket": 7, "review_days": 3}  # what the engine's effects hand back
MEMBER = MemberView(is_member=True, status="active", name="Amina", member_number="KUGWO-000001",
                    facts={"courses": COURSES, "enrolments": []})


@dataclass
class Chat:
    """One person talking to the pure flows as the engine runs them: classify the message, `router.handle`,
    render the replies in the person's language after the effects (a language switch shows at once), and
    keep the state. The effects are collected, and those that change what the flows see next are applied
    to the member view: a language switch, STOP and START, NO BROADCASTS and BROADCASTS ON, joining, the new
    notice asked, consent recorded, enrolling and reporting a course, a ticket opened.
    `lang=None` is a new contact: the first message's words choose the language, as the engine does."""

    lang: str | None = None
    member: MemberView = field(default_factory=MemberView)
    settings: Settings = field(default_factory=Settings)
    state: State | None = None
    first_contact: bool = True
    effects: list[Effect] = field(default_factory=list)

    def send(self, text: str, media: bool | str | None = None) -> list[str]:
        """One message; the bot's answers as WhatsApp messages."""
        if self.lang is None:
            self.lang = i18n.vocabulary().language_of(i18n.normalize(text)) or "en"
        ctx = Ctx(member=self.member, lang=self.lang, now=NOW, settings=self.settings,
                  first_contact=self.first_contact, translate=i18n.translate)
        result = router.handle(ctx, self.state, classify(text, media))
        self.first_contact = False
        self.state = result.state
        self.effects += result.effects
        for effect in result.effects:
            self.apply(effect)
        return [text for reply in result.replies for text in i18n.render_reply(self.lang, reply, EXTRA)]

    def says(self, text: str, media: bool | str | None = None) -> str:
        """One message; every answer joined, for checking fragments."""
        return "\n".join(self.send(text, media))

    def apply(self, effect: Effect) -> None:
        """What an effect changes in what the flows see at the next message."""
        member, facts = self.member, dict(self.member.facts)
        if isinstance(effect, SetLanguage):
            self.lang = effect.language
        elif isinstance(effect, OptOut | OptIn):
            self.member = replace(member, opted_out=isinstance(effect, OptOut))
        elif isinstance(effect, StopBroadcasts | ResumeBroadcasts):
            stopped = isinstance(effect, StopBroadcasts)
            self.member = replace(member, broadcasts_stopped=stopped,
                                  facts={**facts, "my_data": {**facts.get("my_data", {}), "broadcasts_stopped": stopped}})
        elif isinstance(effect, RegisterMember):
            self.member = replace(member, is_member=True, status="active", name=effect.name,
                                  member_number=EXTRA["member_number"])
        elif isinstance(effect, Enrol | ReportCertificateLink | ReportCertificateFile):
            status = "enrolled" if isinstance(effect, Enrol) else "reported"
            kept = [e for e in facts.get("enrolments") or () if e["course_id"] != effect.course_id]
            facts["enrolments"] = [*kept, {"course_id": effect.course_id, "status": status}]
            self.member = replace(member, facts=facts)
        elif isinstance(effect, RecordConsent):
            self.member = replace(member, consented=True)
        elif isinstance(effect, MarkNoticeAsked):
            self.member = replace(member, notice_outdated=False)
        elif isinstance(effect, OpenTicket):
            self.member = replace(member, facts={**facts, "open_ticket": EXTRA["ticket"]})

    def of(self, kind: type[Effect]) -> list[Effect]:
        """The effects of one kind so far."""
        return [effect for effect in self.effects if isinstance(effect, kind)]


def play(chat: Chat, script: Script) -> Chat:
    """Say each line; the answer must hold every expected fragment."""
    for says, expected in script:
        reply = chat.says(says)
        for fragment in expected:
            assert fragment in reply, f"after {says!r}: expected {fragment!r} in {reply!r}"
    return chat
