"""Yes/no questions read through the one matcher, as transcripts in English and Swahili: ACHA at the menu ("Stop
all messages?") and the broadcast composer's YES/NO take the yes and no words of every language and their loose
spellings; an unclear answer asks again with the way out; a question typed at a yes/no is never a yes."""

from __future__ import annotations

from dataclasses import replace

from flows.effects import Enrol, OpenTicket, OptOut, RegisterMember, SendBroadcast
from tests.flows.test_broadcast_transcript import organiser
from tests.flows.test_choices_transcript import ENGLISH_TO_WORK
from tests.helpers.transcript import KNOWLEDGE, MEMBER, Chat, play

ASKING = replace(MEMBER, facts={**MEMBER.facts, "faq": KNOWLEDGE, "open_ticket": None})

MEMBER_WAY_OUT = "(MENU: main menu \u00b7 AGENT: a person)"
STAFF_WAY_OUT = "(CANCEL: drop this broadcast \u00b7 STAFF: the staff commands)"


def asked_to_stop(lang: str) -> Chat:
    """A member at the menu who sent ENOUGH (ACHA in Swahili)."""
    chat = Chat(lang=lang, member=ASKING, first_contact=False)
    play(chat, [("enough" if lang == "en" else "acha", [])])
    assert chat.state is not None and chat.state.step == "confirm_stop"
    return chat


def test_english_stop_question_offers_two_choices_and_reads_words():
    chat = Chat(lang="en", member=MEMBER, first_contact=False)
    play(chat, [("enough", ["Stop all messages from us?", "1. Yes, stop all messages", "2. No, keep getting them"])])
    for answer in ("yes", "1", "Yes please", "yes stop all messages", "ndio", "sawa", "oui", "haa", "نعم"):
        chat = play(asked_to_stop("en"), [(answer, ["You will not get any more messages from us."])])
        assert chat.of(OptOut) == [OptOut()], answer
    for answer in ("no", "2", "nope", "no keep them", "no, keep getting them", "hapana", "non", "maya", "لا"):
        chat = play(asked_to_stop("en"), [(answer, ["Main menu"])])
        assert not chat.of(OptOut), answer


def test_swahili_stop_question_takes_ndiyo_ndio_sawa_hapana_and_loose_spellings():
    play(Chat(lang="sw", member=MEMBER, first_contact=False), [
        ("acha", ["Tusimamishe jumbe zetu zote?", "1. Ndiyo, simamisha jumbe zote", "2. Hapana, endelea kunitumia"]),
    ])
    for answer in ("ndiyo", "ndio", "Sawa", "NDIYOO", "ndiyo simamisha", "simamisha jumbe zote", "yes"):
        chat = play(asked_to_stop("sw"), [(answer, ["Hutapokea ujumbe wowote kutoka kwetu tena."])])
        assert chat.of(OptOut) == [OptOut()], answer
    for answer in ("hapana", "apana", "hapanaa", "Hapana asante", "endelea kunitumia", "no"):
        chat = play(asked_to_stop("sw"), [(answer, ["Menyu kuu"])])
        assert not chat.of(OptOut), answer


def test_an_unclear_answer_to_the_stop_question_asks_again_with_the_way_out():
    chat = play(asked_to_stop("en"), [("maybe", [
        "I did not understand \u201cmaybe\u201d.", "Please reply 1 (YES) to stop all messages from us, or 2 (NO)",
        "1. Yes, stop all messages", MEMBER_WAY_OUT])])
    assert chat.state is not None and chat.state.step == "confirm_stop" and not chat.of(OptOut)
    play(chat, [("yes", ["You will not get any more messages"])])
    chat = play(asked_to_stop("sw"), [("labda", ["Sikuelewa \u201clabda\u201d.", "Tafadhali jibu 1 (NDIYO)",
                                                 "MENU", "MTU"])])
    assert chat.state is not None and chat.state.step == "confirm_stop" and not chat.of(OptOut)


def test_a_question_typed_at_the_stop_question_is_answered_and_stops_nothing():
    chat = play(asked_to_stop("en"), [("ok and how much is the fee", ["KES 50 a month"])])
    assert not chat.of(OptOut)
    chat = play(asked_to_stop("sw"), [("sawa lakini ada ni kiasi gani", ["KES 50 kwa mwezi"])])
    assert not chat.of(OptOut)
    chat = play(asked_to_stop("en"), [("courses", ["Free courses"])])
    assert not chat.of(OptOut) and not chat.of(OpenTicket)


def composed(lang: str = "en") -> Chat:
    """An organiser at the broadcast's YES/NO."""
    chat = organiser(lang, languages=("en", "sw"))
    play(chat, [("Meeting on Saturday", []), ("skip", []), ("ALL", []), ("NOW", [])])
    assert chat.state is not None and chat.state.step == "confirm"
    return chat


def test_english_broadcast_yes_no_reads_words_and_offers_two_choices():
    play(organiser(languages=("en", "sw")), [
        ("Meeting on Saturday", []), ("skip", []), ("ALL", []),
        ("NOW", ["Reply YES to send it now", "1. Yes, send it", "2. No, drop it"])])
    for answer in ("YES", "1", "yes send it", "ndiyo", "sawa", "okay"):
        chat = play(composed(), [(answer, ["is on its way"])])
        assert len(chat.of(SendBroadcast)) == 1, answer
    for answer in ("NO", "2", "no, drop it", "hapana", "nope"):
        chat = play(composed(), [(answer, ["Dropped. Nothing was sent."])])
        assert not chat.of(SendBroadcast), answer


def test_swahili_broadcast_yes_no_reads_words():
    for answer in ("ndiyo", "ndio", "sawa", "ndiyoo", "ndiyo litume"):
        chat = play(composed("sw"), [(answer, [])])
        assert len(chat.of(SendBroadcast)) == 1, answer
    for answer in ("hapana", "apana", "hapna", "hapana liache"):
        chat = play(composed("sw"), [(answer, ["Limeachwa. Hakuna kilichotumwa."])])
        assert not chat.of(SendBroadcast), answer


def test_a_yes_with_more_words_or_an_unclear_answer_sends_nothing_and_asks_again_with_the_staff_way_out():
    for answer in ("yes but change the time", "ok how many will get it", "maybe"):
        chat = play(composed(), [(answer, ["Please reply YES or NO.", "1. Yes, send it", STAFF_WAY_OUT])])
        assert not chat.of(SendBroadcast), answer
        assert chat.state is not None and chat.state.step == "confirm"
        assert "MENU: main menu" not in chat.says("perhaps")
    chat = play(composed("sw"), [("sawa lakini badilisha saa", ["CANCEL", "STAFF"])])
    assert not chat.of(SendBroadcast)


def test_the_other_yes_no_steps_never_take_a_yes_with_a_question_for_a_yes():
    chat = play(Chat(lang="en", member=ASKING, first_contact=False), [
        ("courses", ["Free courses"]), ("1", ["Reply YES to enrol"]),
        ("ok and how much is the fee", ["Please reply YES to enrol, or NO"])])
    assert not chat.of(Enrol)
    play(chat, [("ndio", ["You are enrolled"])])
    chat = play(Chat(lang="en", member=ASKING, first_contact=False), [
        ("how much are the dues", ["KES 50 a month", "Did this answer help?"]),
        ("ok and how do I pay it", ["How do I pay the dues?"])])
    assert not chat.of(OpenTicket)
    play(Chat(lang="en", member=ASKING, first_contact=False), [
        ("how much are the dues", ["Did this answer help?"]), ("yes it helped", ["Glad it helped!"])])
    chat = play(Chat(lang="sw", member=ASKING, first_contact=False), [
        ("ada ni kiasi gani", ["Jibu hili limekusaidia?"]), ("ndiyo imesaidia", ["Vizuri"])])
    chat = play(Chat(), [*ENGLISH_TO_WORK, ("delivery", []), ("no", ["Please check your details:"]),
                         ("yes but my county is wrong", ["Please reply YES to join"])])
    assert not chat.of(RegisterMember)
    play(chat, [("yes", ["You are now a member"])])
