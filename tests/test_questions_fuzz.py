"""Property-based checks of the question and data-rights flows: any message gets an answer, never an
exception, MENU always works, and the state survives storage as JSON."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import i18n
from flows import router
from flows.base import Ctx, Input, Media, MemberView, State
from flows.faq import FaqItem, Knowledge

KNOWLEDGE = Knowledge((
    FaqItem("dues", {"en": "How much are the dues?", "sw": "Ada ni kiasi gani?"},
            {"en": "Dues are {dues}.", "sw": "Ada ni {dues}."}, {"en": ("dues",), "sw": ("ada",)}),
    FaqItem("pay_dues", {"en": "How do I pay the dues?", "sw": "Nalipaje ada?"},
            {"en": "Pay by M-Pesa.", "sw": "Lipa kwa M-Pesa."}, {"en": ("pay the dues", "mpesa"), "sw": ("nalipaje",)}),
), values={"en": {"dues": "KES 50"}})
WORDS = ["dues", "ada", "how much are the dues", "1", "2", "3", "yes", "ndio", "no", "hapana", "MENU", "mwanzo",
         "agent", "mtu", "ask", "swali", "my data", "taarifa zangu", "delete my data", "futa taarifa zangu",
         "BACK", "HELP", "cancel", "something else entirely", "", "9", "x" * 1200, "dues mpesa", "asante",
         "ok thanks", "👍", "😂", "habari gani", "pay the dues"]


def classify(text: str, media: bool) -> Input:
    """The engine's classification, without a database."""
    words = i18n.normalize(text)
    vocabulary = i18n.vocabulary()
    return Input(text=text, keyword=vocabulary.keyword(words), intents=vocabulary.intents_of(words),
                 media=(Media("https://api.twilio.com/m", "image/jpeg"),) if media else ())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(WORDS), st.text(max_size=40)), st.booleans(), st.booleans()),
                min_size=1, max_size=20),
       st.sampled_from(["en", "sw"]))
def test_questions_and_data_rights_always_answer(messages, lang):
    state = None
    for text, media, ticket_open in messages:
        member = MemberView(is_member=True, status="active", name="Amina", member_number="KUGWO-000001",
                            facts={"faq": KNOWLEDGE, "open_ticket": 3 if ticket_open else None,
                                   "my_data": {"name": "Amina", "work": ["transcription"], "messages": 4}})
        ctx = Ctx(member=member, lang=lang, now=datetime(2026, 11, 23, 12))
        result = router.handle(ctx, state, classify(text, media))
        assert result.replies, (text, state)
        for reply in result.replies:
            assert all(i18n.render_reply(lang, reply, {"ticket": 3}))
        state = result.state
        if state is not None:
            assert State.from_json(json.loads(json.dumps(state.to_json()))) == state
            assert state.flow in router.FLOWS or state.flow == router.MENU
    ctx = Ctx(member=MemberView(is_member=True, status="active"), lang=lang, now=datetime(2026, 11, 23, 12))
    menu = router.handle(ctx, state, classify("MENU", False))
    assert menu.state is not None and menu.state.flow == router.MENU
