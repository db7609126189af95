"""The union's own content in every language: the FAQ answers and the course titles and summaries in French,
Somali and Arabic beside English and Swahili, the settings shown to members per language, and English where a
language's text is missing."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from bot.core import i18n
from bot.core.config import load_settings
from bot.courses.service import SAMPLE_CATALOG, read_catalog
from bot.support.faq import read_file
from flows.faq import FaqItem, Knowledge, answer_text, decide, question_text, words_of
from tests.helpers.app import WhatsApp
from tests.helpers.courses import add_member
from tests.helpers.signup import play

FAQ_FILE = Path(__file__).resolve().parents[1] / "data" / "faq.yaml"
NEW_LANGUAGES = ("fr", "so", "ar")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture
def faq(app):
    """The repo's questions and answers, loaded with the flask command."""
    result = app.test_cli_runner().invoke(args=["faq", "load"])
    assert result.exit_code == 0, result.output


def first_strong_direction(text: str) -> str:
    """'R' or 'L': the direction a first-strong isolate gives this text."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "R"
        if kind == "L":
            return "L"
    return "L"


# --- the FAQ file ----------------------------------------------------------------------------------------


def test_every_answer_is_written_in_french_somali_and_arabic_with_the_english_placeholders():
    for entry in read_file(FAQ_FILE):
        english = entry["texts"]["en"]
        for lang in NEW_LANGUAGES:
            block = entry["texts"].get(lang)
            assert block, f"{entry['key']}: no {lang} block"
            assert set(PLACEHOLDER.findall(block["answer"])) == set(PLACEHOLDER.findall(english["answer"])), \
                (entry["key"], lang)
            assert len(block["paraphrases"]) >= 5, (entry["key"], lang)
            assert len(block["answer"]) <= 700, (entry["key"], lang)  # one WhatsApp message, with its values


def test_arabic_answers_and_questions_open_right_to_left():
    """An Arabic answer is one isolated value in its line: its first letter decides its direction, so it must be
    Arabic even when the union's name or a course title comes next."""
    for entry in read_file(FAQ_FILE):
        for part in ("question", "answer"):
            assert first_strong_direction(entry["texts"]["ar"][part]) == "R", (entry["key"], part)


def test_the_file_says_the_new_languages_await_review_by_a_speaker():
    header = "\n".join(line for line in FAQ_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    assert "French, Somali and Arabic" in header and "await review by a speaker from the community" in \
        " ".join(header.replace("#", " ").split())


def test_a_language_without_its_block_reads_the_english_answer(tmp_path):
    path = tmp_path / "faq.yaml"
    path.write_text(yaml.safe_dump([{
        "key": "dues",
        "en": {"question": "How much are the dues?", "answer": "Dues are {dues}.", "paraphrases": ["dues"]},
        "sw": {"question": "Ada ni ngapi?", "answer": "Ada ni {dues}.", "paraphrases": ["ada"]},
        "fr": {"question": "Combien coûte la cotisation ?", "answer": "La cotisation est de {dues}.",
               "paraphrases": ["cotisation"]},
    }]), encoding="utf-8")
    [entry] = read_file(path)
    assert set(entry["texts"]) == {"en", "sw", "fr"}
    item = FaqItem("dues", *({lang: entry["texts"][lang][part] for lang in entry["texts"]}
                             for part in ("question", "answer")))
    values = {"en": {"dues": "KES 50 a month"}, "so": {"dues": "KES 50 bishiiba"}}
    assert answer_text(item, "so", values) == "Dues are KES 50 bishiiba."
    assert question_text(item, "ar") == "How much are the dues?"
    assert answer_text(item, "fr", values) == "La cotisation est de KES 50 a month."


@pytest.mark.parametrize(("text", "folded"), [
    ("Adhérer", ("adherer",)),
    ("l'argent", ("l", "argent")),
    ("qu'est-ce que", ("qu", "estce", "que")),
    ("quelles données gardez-vous", ("quelles", "donnees", "gardez", "vous")),  # an inversion is two words
    ("a-t-il payé", ("a", "il", "paye")),
    ("da'da lagu biiro", ("dada", "lagu", "biiro")),  # Somali keeps its apostrophes inside a word
    ("مُحَمَّد", ("محمد",)),  # short vowels do not split a word
    ("أين قسيمتي", ("اين", "قسيم")),
    ("بالحساب حسابي الحساب", ("حساب", "حساب", "حساب")),
    ("المجانية", ("مجاني",)),
])
def test_words_are_folded_for_french_somali_and_arabic(text, folded):
    assert words_of(text) == folded


@pytest.mark.parametrize(("text", "key"), [
    ("la cotisation c'est combien", "dues"),
    ("comment adherer", "who_can_join"),  # no accent: folded alike
    ("lambarkayga xubinnimada waan lumiyay", "lost_number"),
    ("sidee baan u bixiyaa lacagta", "pay_dues"),
    ("كم رسوم العضوية", "dues"),
    ("أين قسيمتي", "voucher"),
    ("gurush bi kam", "dues"),  # Juba Arabic in Latin letters
])
def test_questions_in_the_new_languages_find_their_answer(text, key):
    decision = decide(text, Knowledge(tuple(FaqItem(e["key"], {}, {}, {lang: tuple(t["paraphrases"])
                                                                         for lang, t in e["texts"].items()})
                                            for e in read_file(FAQ_FILE))))
    assert decision.answer is not None and decision.answer.key == key, decision


# --- answers through the webhook ----------------------------------------------------------------------------


def test_french_somali_and_arabic_members_get_the_answer_in_their_language(app, client, faq):
    add_member(app, "+254712000001", language="fr", number=1)
    add_member(app, "+254712000002", language="so", number=2)
    add_member(app, "+254712000003", language="ar", number=3)
    french, somali, arabic = (WhatsApp(client, f"+25471200000{n}") for n in (1, 2, 3))
    play(french, [
        ("la cotisation c'est combien", ["La cotisation est de KES 50 par mois.", "les cours sont gratuits"]),
    ])
    play(somali, [("how much are the dues", ["Lacagta xubinnimadu waa KES 50 bishiiba."])])  # asked in English
    reply = arabic.says("كم رسوم العضوية")
    assert "رسوم العضوية 50 شلنًا كينيًا في الشهر." in reply
    assert reply.startswith(i18n.RLM)
    app.config.update(UNION_NAME_FR="Syndicat des travailleurs des plateformes du Kenya")
    try:
        french.says("1")  # the first answer helped
        assert "Syndicat des travailleurs des plateformes du Kenya est un syndicat" in \
            french.says("c'est quoi le syndicat")
    finally:
        app.config["UNION_NAME_FR"] = ""


def test_per_language_settings_default_in_each_new_language(monkeypatch, tmp_path):
    for name in ("MEMBERSHIP_DUES", *(f"MEMBERSHIP_DUES_{lang.upper()}" for lang in NEW_LANGUAGES)):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(tmp_path)
    assert (settings["MEMBERSHIP_DUES_FR"], settings["MEMBERSHIP_DUES_SO"], settings["MEMBERSHIP_DUES_AR"]) == (
        "KES 50 par mois", "KES 50 bishiiba", "50 شلنًا كينيًا في الشهر")
    monkeypatch.setenv("MEMBERSHIP_DUES", "KES 100 a month")
    assert load_settings(tmp_path)["MEMBERSHIP_DUES_SO"] is None  # the union's own figure, not a stale default


# --- courses ------------------------------------------------------------------------------------------------


def test_every_sample_course_has_a_title_and_a_summary_in_every_configured_language():
    for row in read_catalog(SAMPLE_CATALOG):
        for lang in i18n.LANGUAGES:
            assert row["titles"].get(lang) and row["summaries"].get(lang), (row["slug"], lang)
            if lang in NEW_LANGUAGES:  # members find the course on LinkedIn by its English name
                assert f"({row['titles']['en']})" in row["titles"][lang], (row["slug"], lang)


@pytest.mark.parametrize(("lang", "word", "fragments"), [
    ("fr", "cours", ["1. IA générative (Generative AI)", "Ce qu'est l'IA générative", "Cybersécurité (Cybersecurity)"]),
    ("so", "koorsooyin", ["Amniga internetka (Cybersecurity): Ka ilaalinta akoonnada"]),
    ("ar", "دورات", ["الأمن السيبراني (Cybersecurity)", "حماية الحسابات والأجهزة"]),
])
def test_the_course_list_is_in_the_members_language(app, client, catalog, lang, word, fragments):
    add_member(app, "+254712000009", language=lang)
    reply = WhatsApp(client, "+254712000009").says(word)
    for fragment in fragments:
        assert fragment in reply, reply


def test_a_course_without_a_language_column_shows_the_english_title(app, client, tmp_path):
    path = tmp_path / "courses.csv"
    path.write_text("slug,hours,url,title_en,title_sw,summary_en,summary_sw\n"
                    "ai,4,https://example.org/ai,Generative AI,Akili bandia,Prompts at work.,Maagizo kazini.\n",
                    encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["courses", "load", str(path)])
    assert result.exit_code == 0, result.output
    add_member(app, "+254712000008", language="so")
    reply = WhatsApp(client, "+254712000008").says("koorsooyin")
    assert "Generative AI: Prompts at work." in reply
