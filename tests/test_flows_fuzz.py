"""Property-based checks of the pure flows: any sequence of messages gets an answer, never an exception,
never a stuck conversation (MENU always works), and the state always survives storage as JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import i18n
from flows import router
from flows.base import Ctx, Input, Media, MemberView, State
from flows.effects import MarkNoticeAsked, OptIn, OptOut, RegisterMember, SetLanguage

WORDS = ["Hi", "Habari", "join", "jiunge", "1", "2", "3", "7", "0", "1, 3", "yes", "ndio", "no", "hapana", "skip",
         "ruka", "Nairobi", "Nbi", "Kakuma", "Ki", "pizza", "Amina Wanjiku", "MENU", "mwanzo", "HELP", "msaada",
         "STOP", "acha", "START", "anza", "LANGUAGE", "lugha", "BACK", "rudi", "CANCEL", "sitisha", "english",
         "", "\U0001f600", "x" * 1600, "مرحبا", "PRIVACY", "faragha", "DELETE MY DATA", "niko chini ya 18"]
MESSAGES = st.one_of(st.sampled_from(WORDS), st.text(max_size=60))


def classify(text: str, media: bool) -> Input:
    """The engine's classification, without a database."""
    words = i18n.normalize(text)
    vocabulary = i18n.vocabulary()
    return Input(text=text, keyword=vocabulary.keyword(words), intents=vocabulary.intents_of(words),
                 media=(Media("https://api.twilio.com/m", "image/jpeg"),) if media else ())


def apply(member: MemberView, lang: str, effects) -> tuple[MemberView, str]:
    """What the engine's performers would change about the member."""
    for effect in effects:
        if isinstance(effect, OptOut):
            member = replace(member, opted_out=True)
        elif isinstance(effect, OptIn):
            member = replace(member, opted_out=False)
        elif isinstance(effect, RegisterMember):
            member = replace(member, is_member=True, status="active", member_number="KUGWO-000001", name=effect.name)
        elif isinstance(effect, SetLanguage):
            lang = effect.language
        elif isinstance(effect, MarkNoticeAsked):
            member = replace(member, notice_outdated=False)
    return member, lang


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(MESSAGES, st.booleans()), min_size=1, max_size=25))
def test_any_sequence_is_answered_and_menu_always_works(messages):
    member, lang, state = MemberView(), "en", None
    for index, (text, media) in enumerate(messages):
        ctx = Ctx(member=member, lang=lang, now=datetime(2026, 11, 23, 12), first_contact=index == 0)
        inp = classify(text, media)
        result = router.handle(ctx, state, inp)
        silent_stop = inp.keyword == "stop" and member.opted_out
        assert result.replies or silent_stop, (text, state)
        for reply in result.replies:
            assert all(i18n.render_reply(lang, reply, {"member_number": "KUGWO-000001"}))
        member, lang = apply(member, lang, result.effects)
        state = result.state
        if state is not None:
            assert State.from_json(json.loads(json.dumps(state.to_json()))) == state
            assert state.flow in router.FLOWS or state.flow == router.MENU
    ctx = Ctx(member=member, lang=lang, now=datetime(2026, 11, 23, 12))
    menu = router.handle(ctx, state, classify("MENU", False))
    if not member.opted_out:
        assert menu.state is not None and menu.state.flow == router.MENU


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(MESSAGES, st.booleans()), min_size=1, max_size=15))
def test_a_member_with_an_older_notice_is_asked_once_and_never_stuck(messages):
    member = MemberView(is_member=True, status="active", member_number="KUGWO-000001", name="Amina",
                        notice_outdated=True)
    lang, state, asked = "en", None, 0
    for text, media in [*messages, ("MENU", False)]:
        ctx = Ctx(member=member, lang=lang, now=datetime(2026, 12, 3, 12))
        inp = classify(text, media)
        result = router.handle(ctx, state, inp)
        assert result.replies or (inp.keyword == "stop" and member.opted_out), (text, state)
        asked += sum(isinstance(effect, MarkNoticeAsked) for effect in result.effects)
        member, lang = apply(member, lang, result.effects)
        state = result.state
    assert asked <= 1
    ctx = Ctx(member=member, lang=lang, now=datetime(2026, 12, 3, 12))
    menu = router.handle(ctx, state, classify("MENU", False))
    if menu.state is not None and menu.state.flow == "reconsent":  # not asked yet: this is the one time
        assert asked == 0
        menu = router.handle(ctx, menu.state, classify("MENU", False))
    if not member.opted_out:
        assert menu.state is not None and menu.state.flow == router.MENU
