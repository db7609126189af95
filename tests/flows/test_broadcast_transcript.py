"""The organiser's BROADCAST conversation as pure transcripts: the English text, then any other configured
language by its number or name ('2: …', 'français: …'), SKIP, and the texts the broadcast is sent with; in
English and Swahili."""

from __future__ import annotations

from dataclasses import replace

from flows import broadcast
from flows.base import Ctx, Settings
from flows.effects import PreviewBroadcast, SendBroadcast
from tests.helpers.transcript import MEMBER, NOW, Chat, play

ORGANISER = replace(MEMBER, roles=frozenset({"organiser"}))
ALL_NAMES = {"en": "English", "sw": "Kiswahili", "fr": "français", "so": "Soomaali", "ar": "العربية"}


def organiser(lang: str = "en", languages: tuple[str, ...] = ("en", "sw", "fr", "so", "ar")) -> Chat:
    """An organiser who has just sent BROADCAST."""
    settings = Settings(languages=languages, language_names={code: ALL_NAMES[code] for code in languages})
    chat = Chat(lang=lang, member=ORGANISER, settings=settings, first_contact=False)
    chat.state = broadcast.FLOW.start(Ctx(member=ORGANISER, lang=lang, now=NOW, settings=settings)).state
    return chat


def sent(chat: Chat) -> SendBroadcast:
    [effect] = chat.of(SendBroadcast)
    return effect


def test_english_then_two_more_languages_by_number_and_by_name_then_skip():
    chat = play(organiser(), [
        ("Meeting on Saturday at 10", ["To add it in another language, send the language's number or name, a colon",
                                       "“2: …”", "Send SKIP when done: the others get English.",
                                       "\u20682 Kiswahili\u2069 · \u20683 français\u2069 · \u20684 Soomaali\u2069"]),
        ("2: Mkutano Jumamosi saa nne", ["Written in: English · Kiswahili.", "“3: …”"]),
        ("Francais : Réunion samedi à 10 h", ["Written in: English · Kiswahili · français."]),
        # Without a language first, the organiser is told how to write it, and how to go on.
        ("Shir Sabti", ["Please start with the language's number or name and a colon, like “4: …”, or send SKIP.",
                        "(CANCEL: drop this broadcast · STAFF: the staff commands)"]),
        ("9: nothing", ["Please start with the language's number or name"]),
        ("somali: Shir Sabti", ["Written in: English · Kiswahili · français · Soomaali."]),
        ("skip", ["Who should get it?"]),
        ("ALL", ["Preview:", "When should it go?"]),
        ("NOW", ["Reply YES to send it now"]),
        ("YES", ["is on its way"]),
    ])
    assert chat.of(PreviewBroadcast) == [PreviewBroadcast({})]
    assert sent(chat).texts == {"en": "Meeting on Saturday at 10", "sw": "Mkutano Jumamosi saa nne",
                                "fr": "Réunion samedi à 10 h", "so": "Shir Sabti"}


def test_every_language_written_goes_straight_on_and_a_language_can_be_written_again():
    chat = play(organiser(languages=("en", "sw")), [
        ("Meeting on Saturday", ["\u20682 Kiswahili\u2069"]),
        ("swahili: Mkutano", ["Who should get it?"]),  # nothing left to add
        ("back", ["Written in: English · Kiswahili."]),
        ("2: Mkutano Jumamosi", ["Who should get it?"]),
        ("ALL", []), ("NOW", []), ("YES", []),
    ])
    assert sent(chat).texts == {"en": "Meeting on Saturday", "sw": "Mkutano Jumamosi"}


def test_with_english_alone_configured_no_other_language_is_asked_for():
    chat = play(organiser(languages=("en",)), [
        ("Meeting on Saturday", ["Who should get it?"]),
        ("ALL", []), ("NOW", []), ("YES", []),
    ])
    assert sent(chat).texts == {"en": "Meeting on Saturday"}


def test_in_swahili():
    chat = play(organiser("sw"), [
        ("Meeting on Saturday", ["Kuuongeza kwa lugha nyingine, tuma nambari au jina la lugha, nukta mbili",
                                 "Tuma RUKA ukimaliza: wengine watapata wa Kiingereza."]),
        ("kiswahili Mkutano Jumamosi", ["Tafadhali anza na nambari au jina la lugha na nukta mbili, kama “2: …”"]),
        ("2: Mkutano Jumamosi", ["Umeandika kwa: English · Kiswahili."]),
        ("ruka", ["Nani apate"]),
        ("WOTE", []),
        ("SASA", ["Jibu NDIYO kutuma sasa"]),  # SASA is a greeting too: here it means now
        ("NDIYO", []),
    ])
    assert sent(chat).texts == {"en": "Meeting on Saturday", "sw": "Mkutano Jumamosi"}


def test_the_time_given_as_an_example_is_still_to_come():
    # NOW is 2026-12-03 09:00 UTC (12:00 in Nairobi): the example is tomorrow evening, a time the step accepts.
    chat = play(organiser(languages=("en",)), [
        ("Meeting on Saturday", ["Who should get it?"]),
        ("ALL", ["When should it go?", "like 2026-12-04 18:00 (Africa/Nairobi time)"]),
        ("2026-12-04 18:00", ["Reply YES to send it at 2026-12-04 18:00"]),
    ])
    assert chat.state.step == "confirm"


def test_the_preview_shows_the_text_each_language_gets():
    chat = play(organiser(), [
        ("Meeting on Saturday at 10", ["To add it in another language"]),
        ("2: Mkutano Jumamosi saa nne", ["Written in: English · Kiswahili."]),
        ("skip", ["Who should get it?"]),
        ("ALL", ["What each language gets:", "\u2068English: Meeting on Saturday at 10\u2069",
                 "\u2068Kiswahili: Mkutano Jumamosi saa nne\u2069",
                 "français · Soomaali · العربية: the English text.", "When should it go?"]),
    ])
    assert chat.state.step == "when"


def test_the_preview_shows_the_start_of_a_long_text_in_swahili():
    long = "Mkutano " * 40
    play(organiser("sw", languages=("en", "sw")), [
        ("Meeting", []), ("kiswahili: " + long, []),
        ("WOTE", ["Kila lugha itapata:", "\u2068English: Meeting\u2069", "\u2068Kiswahili: " + long[:159] + "…\u2069"]),
    ])
