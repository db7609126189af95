"""Property-based fuzzing of every flow through the real webhook on PostgreSQL: random sequences of texts,
emoji, numbers, keywords in both languages, media, locations and button taps, from new contacts, members
and a staff number. Never an error, always a reply (except STOP when already stopped), MENU always brings
the menu, and the stored conversation is always a valid state."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bot.core import i18n
from bot.core.extensions import db
from bot.devtools.simulator import replies_of
from bot.members.staff_numbers import add_staff
from bot.models import Conversation, Member, utcnow
from flows import router
from flows.base import State
from flows.vocabulary import GLOBAL_KEYWORDS, INTENTS
from tests.conftest import WhatsApp

# Every keyword and intent word in both languages, straight from the catalogs…
VOCABULARY = sorted({
    word.strip()
    for lang in i18n.LANGUAGES
    for entry in (*GLOBAL_KEYWORDS.values(), *INTENTS.values())
    for word in i18n.translate(lang, entry).split("|")
    if word.strip()
})
# …the ones members are told about, written as they type them…
KEYWORDS = ["MENU", "mwanzo", "HELP", "msaada", "STOP", "acha", "START", "anza", "LANGUAGE", "lugha", "BACK",
            "rudi", "CANCEL", "sitisha", "COURSES", "kozi", "CERTIFICATE", "cheti", "MY DATA", "data yangu",
            "AGENT", "mtu", "my courses", "kozi zangu", "DELETE MY DATA", "join", "jiunge", "Hi", "Habari"]
# …and the answers flows expect, staff commands, and things they do not expect.
ANSWERS = ["0", "1", "2", "3", "4", "5", "7", "9", "10", "1, 2", "2 3", "yes", "ndio", "no", "hapana", "skip",
           "ruka", "english", "kiswahili", "Amina Wanjiku", "Nairobi", "Nbi", "Mombasa", "Kakuma", "pizza", "",
           "How do I join?", "Ninalipwa lini?", "https://www.linkedin.com/learning/certificates/0123456789abcdef",
           "\U0001f600", "\U0001f64f\U0001f3fe", "1\ufe0f\u20e3", "x" * 1600, "مرحبا", "  menu!  ",
           "STAFF", "STATS", "TICKETS", "REVIEW", "APPROVE 1", "REJECT 1 blurry", "REPLY 1 Karibu", "CLOSE 1",
           "BROADCAST", "ALL", "county Nairobi; language sw", "BROADCAST STATUS 1", "BROADCAST PAUSE 1",
           "now", "SASA", "2099-01-31 18:00", "2020-01-01 10:00", "2026-13-40 25:99", "BROADCAST CANCEL 1"]
TEXTS = st.one_of(st.sampled_from(VOCABULARY + KEYWORDS + ANSWERS), st.text(max_size=40))
MEDIA_TYPES = ["image/jpeg", "image/png", "application/pdf", "audio/ogg", "video/mp4"]


def media(caption: str, content_type: str) -> tuple[str, dict[str, str]]:
    """A message with one attachment (behind a Twilio media URL) and maybe a caption."""
    return caption, {"NumMedia": "1", "MediaContentType0": content_type,
                     "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"}


# What starts each flow (menu numbers differ for members and non-members, so both kinds are tried).
STARTS = ["Hi", "join", "jiunge", "COURSES", "kozi", "CERTIFICATE", "cheti", "MY DATA", "data yangu", "AGENT", "mtu",
          "LANGUAGE", "lugha", "my courses", "kozi zangu", "question", "swali", "DELETE MY DATA", "Ninalipwa lini?",
          "1", "2", "3", "4", "5", "6", "7", "BROADCAST", "TICKETS"]
ANSWER_TEXTS = st.tuples(st.sampled_from(ANSWERS[:17]), st.just({}))
MESSAGES = st.one_of(
    st.tuples(TEXTS, st.just({})),
    st.tuples(st.sampled_from(STARTS), st.just({})),
    ANSWER_TEXTS,
    ANSWER_TEXTS,
    st.builds(media, st.sampled_from(["", "my certificate", "cheti"]), st.sampled_from(MEDIA_TYPES)),
    st.builds(lambda lat, lon: ("", {"Latitude": f"{lat:.6f}", "Longitude": f"{lon:.6f}"}),
              st.floats(-90, 90), st.floats(-180, 180)),
    st.builds(lambda word: ("", {"ButtonText": word, "ButtonPayload": word.lower() or "x"}),
              st.sampled_from(KEYWORDS + ANSWERS[:20])),
)
# Who writes, and their first message (an admin's number mostly starts with a staff command).
PEOPLE = st.one_of(
    st.tuples(st.sampled_from(["new", "member_en", "member_sw"]), st.sampled_from(STARTS)),
    st.tuples(st.just("staff"), st.sampled_from(["BROADCAST", "TICKETS", "STATS", "REVIEW", "STAFF", "Hi", "1"])),
)
PHONES = itertools.count(1)
MENU_HEADING = "Main menu. Reply with a number:"


@pytest.fixture
def catalog(app: Flask, tmp_path: Path):
    """The sample course catalog, files stored under a temporary folder, no quiet hours."""
    saved = {key: app.config[key] for key in ("STORAGE_DIR", "QUIET_HOURS")}
    app.config.update(STORAGE_DIR=str(tmp_path / "storage"), QUIET_HOURS="")
    result = app.test_cli_runner().invoke(args=["courses", "load"])
    assert result.exit_code == 0, result.output
    yield
    app.config.update(saved)


def someone(app: Flask, kind: str) -> str:
    """A fresh phone number: a new contact, a member (English or Swahili) or an admin's number."""
    phone = f"+2547{90000000 + next(PHONES):08d}"
    with app.app_context():
        if kind.startswith("member"):
            db.session.add(Member(phone=phone, status="active", language=kind[-2:], name="Amina Wanjiku",
                                  member_number=f"FUZZ-{phone[-8:]}", joined_at=utcnow(), last_inbound_at=utcnow(),
                                  consent_at=utcnow()))
            db.session.commit()
        elif kind == "staff":
            add_staff(phone, ["admin"], "Wanjiru")
    return phone


def stored(app: Flask, phone: str) -> tuple[bool, dict | None]:
    """Whether the contact has stopped messages, and their stored conversation row."""
    with app.app_context():
        member = db.session.scalars(sa.select(Member).where(Member.phone == phone)).first()
        if member is None:
            return False, None
        conversation = db.session.get(Conversation, member.id)
        row = None if conversation is None else {
            "flow": conversation.flow, "step": conversation.step, "data": conversation.answers,
            "errors": conversation.errors}
        db.session.rollback()
        return member.opted_out, row


def assert_valid(row: dict | None) -> State | None:
    """A stored conversation is nothing, or a state of a known flow that survives JSON storage."""
    if row is None or row["flow"] is None:
        assert row is None or (row["step"] is None and not row["data"]), row
        return None
    state = State.from_json(row)
    assert state is not None, row
    assert state.flow in router.FLOWS or state.flow == router.MENU, row
    assert State.from_json(json.loads(json.dumps(state.to_json()))) == state
    return state


def is_menu(replies: list[str]) -> bool:
    """Whether the replies show the main menu (in either language)."""
    text = "\n".join(replies)
    return any(i18n.translate(lang, MENU_HEADING) in text for lang in i18n.LANGUAGES)


def keyword_of(body: str, extra: dict[str, str]) -> str | None:
    """The global keyword a message is (the body, or the tapped button's text)."""
    text = body.strip() or extra.get("ButtonText", "").strip()
    return i18n.vocabulary().keyword(i18n.normalize(text))


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@example(person=("new", "Hi"), messages=[("\x00", {}), ("Amina\x00", {"ProfileName": "A\x00"})],
         menu_word="MENU")
@example(person=("new", "Hi"), messages=[("AGREE", {}), ("AGENT", {}), ("\x08", {})], menu_word="MENU")
@given(PEOPLE, st.lists(MESSAGES, min_size=1, max_size=20), st.sampled_from(["MENU", "mwanzo"]))
def test_every_flow_through_the_webhook_answers_and_menu_always_works(app, catalog, person, messages, menu_word):
    kind, start = person
    phone = someone(app, kind)
    whatsapp = WhatsApp(app.test_client(), phone)
    for body, extra in [(start, {}), *messages, (menu_word, {})]:
        opted_out, _ = stored(app, phone)
        response = whatsapp.post(whatsapp.form(body, **extra))
        assert response.status_code == 200, (body, extra, response.status_code)
        replies = replies_of(response.get_data(as_text=True))
        keyword = keyword_of(body, extra)
        now_opted_out, row = stored(app, phone)
        state = assert_valid(row)
        event(f"{kind} reached {state.flow if state else None}/{state.step if state else None}")
        if not (opted_out and keyword == "stop"):
            assert replies and all(replies), (body, extra)
        if keyword == "menu" and not now_opted_out:
            assert is_menu(replies), (body, replies)
            assert state is not None and state.flow == router.MENU, row
