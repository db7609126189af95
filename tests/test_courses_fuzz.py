"""Property-based checks of the course flows with a catalog: any sequence of messages (text or media)
gets an answer, the state survives JSON storage, MENU always works, and an enrolment effect names a
course of the catalog once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import i18n
from flows import router
from flows.base import Ctx, Input, Media, MemberView, State
from flows.effects import Enrol, ReportCertificateFile, ReportCertificateLink

COURSES = [
    {"id": n, "slug": f"c{n}", "url": f"https://example.org/{n}", "hours": 4.0,
     "titles": {"en": f"Course {n}", "sw": f"Kozi {n}"}, "summaries": {"en": "One line.", "sw": "Mstari mmoja."}}
    for n in range(1, 9)
]
WORDS = ["courses", "kozi", "my courses", "kozi zangu", "certificate", "cheti", "0", "1", "2", "5", "8", "9", "yes",
         "ndio", "no", "hapana", "MENU", "BACK", "rudi", "CANCEL", "HELP", "STOP", "START", "LANGUAGE", "",
         "https://www.linkedin.com/learning/certificates/0123456789abcdef", "linkedin.com/learning/certificates/x",
         "x" * 1600]
MESSAGES = st.tuples(st.one_of(st.sampled_from(WORDS), st.text(max_size=40)),
                     st.sampled_from([None, "image/png", "application/pdf", "audio/ogg", "image/jpeg; charset=x"]))


def classify(text: str, media: str | None) -> Input:
    """The engine's classification, without a database."""
    words = i18n.normalize(text)
    vocabulary = i18n.vocabulary()
    return Input(text=text, keyword=vocabulary.keyword(words), intents=vocabulary.intents_of(words),
                 media=(Media("https://api.twilio.com/m", media),) if media else ())


@settings(max_examples=300, deadline=None)
@given(st.lists(MESSAGES, min_size=1, max_size=25), st.sampled_from(["en", "sw"]))
def test_course_flows_always_answer_and_enrol_once(messages, lang):
    member = MemberView(is_member=True, status="active", member_number="KUGWO-000001", name="Amina",
                        facts={"courses": COURSES, "enrolments": []})
    state = None
    for text, media in messages:
        ctx = Ctx(member=member, lang=lang, now=datetime(2026, 11, 23, 12))
        inp = classify(text, media)
        result = router.handle(ctx, state, inp)
        assert result.replies or (inp.keyword == "stop" and member.opted_out), (text, state)
        for reply in result.replies:
            assert all(i18n.render_reply(lang, reply, {"review_days": 3}))
        enrolments = list(member.facts["enrolments"])
        for effect in result.effects:
            if isinstance(effect, Enrol):
                assert effect.course_id in {c["id"] for c in COURSES}
                assert effect.course_id not in {e["course_id"] for e in enrolments}
                enrolments.append({"course_id": effect.course_id, "status": "enrolled"})
            elif isinstance(effect, ReportCertificateLink | ReportCertificateFile):
                assert effect.course_id in {c["id"] for c in COURSES}
                enrolments = [e for e in enrolments if e["course_id"] != effect.course_id]
                enrolments.append({"course_id": effect.course_id, "status": "reported"})
            elif type(effect).__name__ == "OptOut":
                member = replace(member, opted_out=True)
            elif type(effect).__name__ == "OptIn":
                member = replace(member, opted_out=False)
        member = replace(member, facts={"courses": COURSES, "enrolments": enrolments})
        state = result.state
        if state is not None:
            assert State.from_json(json.loads(json.dumps(state.to_json()))) == state
            assert state.flow in router.FLOWS or state.flow == router.MENU
    menu = router.handle(Ctx(member=member, lang=lang, now=datetime(2026, 11, 23, 12)), state, classify("MENU", None))
    if not member.opted_out:
        assert menu.state is not None and menu.state.flow == router.MENU
