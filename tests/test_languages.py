"""Every member in their own language: the LANGUAGES setting, first-message detection, the list of languages,
a switch between any two, every keyword in every language, digits in any script, and right-to-left replies.

Languages whose catalogs are not there yet fall back to English per message: the expectations are rendered
with the catalogs that exist, so these tests hold before and after the catalogs arrive.
"""

from __future__ import annotations

import csv
import itertools
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.core import i18n, language_detect
from bot.core.config import load_settings
from bot.core.i18n_check import missing_translations
from bot.models import Member
from flows import router
from flows.base import (
    Choices,
    Ctx,
    Input,
    MemberView,
    Msg,
    Option,
    Reply,
    Settings,
    State,
    Text,
    fold_digits,
    msg,
)
from flows.choices import match
from flows.effects import SetLanguage
from flows.vocabulary import GLOBAL_KEYWORDS, INTENTS
from tests.helpers.transcript import classify

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = i18n.DEFAULT_LANGUAGES
RLM, FSI, PDI = "\u200f", "\u2068", "\u2069"
WELCOME = "Welcome to %(union)s!"
NAME_QUESTION = "What is your full name?"
UNION = "Kenya Union of Gig Workers"


def rendered(lang: str, message_id: str, **params: object) -> str:
    """A message as a member reading `lang` gets it (English where the catalog lacks it)."""
    return i18n.render_line(lang, Msg(message_id, params))


def has_catalogs(lang: str) -> bool:
    """Whether a language's catalogs are there (English needs none)."""
    return lang == i18n.SOURCE_LANGUAGE or (i18n.LOCALES_DIR / lang / "LC_MESSAGES").is_dir()


# --- the one list ---------------------------------------------------------------------------------------

def test_languages_default_to_five_and_are_one_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("LANGUAGES", raising=False)
    monkeypatch.delenv("DEFAULT_LANGUAGE", raising=False)
    assert load_settings(tmp_path)["LANGUAGES"] == ("en", "sw", "fr", "so", "ar")
    monkeypatch.setenv("LANGUAGES", " SW, en ,sw,am")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "sw")
    settings = load_settings(tmp_path)
    assert settings["LANGUAGES"] == ("sw", "en", "am") and settings["DEFAULT_LANGUAGE"] == "sw"
    assert "UNION_NAME_AM" in settings and "UNION_NAME_FR" not in settings


@pytest.mark.parametrize(("languages", "default"), [("en,xx-nonsense", "en"), ("en,sw", "fr"), (",", "en")])
def test_a_wrong_languages_setting_stops_the_start(monkeypatch, tmp_path, languages, default):
    monkeypatch.setenv("LANGUAGES", languages)
    monkeypatch.setenv("DEFAULT_LANGUAGE", default)
    with pytest.raises(ValueError):
        load_settings(tmp_path)


@pytest.fixture
def two_languages() -> Iterator[None]:
    """Serve English and Swahili only for one test."""
    i18n.configure(("en", "sw"))
    try:
        yield
    finally:
        i18n.configure(LANGUAGES)


def test_a_language_left_out_of_the_setting_is_neither_offered_nor_a_keyword(two_languages):
    assert i18n.vocabulary().keyword(i18n.normalize("Français")) is None
    assert i18n.vocabulary().keyword(i18n.normalize("Kiswahili")) == "language:sw"
    assert language_detect.detect("Bonjour, je voudrais adhérer", ("en", "sw")) != "fr"
    settings = Settings(languages=("en", "sw"))
    ctx = Ctx(member=MemberView(), lang="en", now=datetime(2026, 12, 3, 9), settings=settings)
    text = "\n".join(i18n.render_reply("en", router.handle(ctx, None, classify("LANGUAGE", False)).replies[0]))
    assert f"{FSI}1 English{PDI} · {FSI}2 Kiswahili{PDI}" in text and "Français" not in text


# --- keywords in every language -------------------------------------------------------------------------

REQUIRED_WORDS = [("keyword", name) for name in ("menu", "help", "stop", "start", "back", "cancel", "language")] + [
    ("intent", name) for name in ("agent", "join", "courses", "certificate", "mydata", "delete_data")]


@pytest.mark.parametrize(("lang", "kind", "name"), [(lang, kind, name) for lang in LANGUAGES
                                                    for kind, name in REQUIRED_WORDS])
def test_every_keyword_exists_in_every_language_and_means_it_with_any_accents_and_case(lang, kind, name):
    if not has_catalogs(lang):
        pytest.skip(f"no catalogs for {lang} yet")
    entry = (GLOBAL_KEYWORDS if kind == "keyword" else INTENTS)[name]
    words = [word.strip() for word in i18n.own_words(lang, entry).split("|") if word.strip()]
    assert words, f"{lang}: no word for {name}"
    vocabulary = i18n.vocabulary()
    for word in words:
        bare = "".join(ch for ch in unicodedata.normalize("NFD", word) if not unicodedata.combining(ch))
        for typed in (word, word.lower(), bare, bare.lower(), f" {word.title()}! "):
            norm = i18n.normalize(typed)
            if kind == "keyword":
                assert vocabulary.keyword(norm) == name, f"{lang}: {typed!r}"
            else:
                assert name in vocabulary.intents_of(norm), f"{lang}: {typed!r}"


@pytest.mark.parametrize(("typed", "folded"), [
    ("Arrêt", "ARRET"), ("ARRET", "ARRET"), ("  menú  principal ", "MENU PRINCIPAL"), ("٠٠", "00"), ("۱۲", "12"),
    ("مَرْحَبًا", "مرحبا"), ("مرحـــبا", "مرحبا"), ("Soomaali!", "SOOMAALI"), ("\u200fقائمة\u200f", "قايمة"), ("أهلاً", "اهلا"),
])
def test_accents_case_marks_and_digits_are_folded(typed, folded):
    assert i18n.normalize(typed) == folded


def test_no_keyword_means_two_different_things_across_the_configured_languages():
    assert dict(i18n.vocabulary().collisions) == {}


def test_the_collision_check_notices_a_word_with_two_meanings(monkeypatch):
    """A catalog giving a language's name (KISWAHILI) as its MENU word: two meanings, reported, not silently won."""
    real = i18n.catalog("sw")
    menu_words = real[GLOBAL_KEYWORDS["menu"]]
    monkeypatch.setattr(i18n, "catalog", lambda lang: {**real, GLOBAL_KEYWORDS["menu"]: f"{menu_words}|KISWAHILI"}
                        if lang == "sw" else {})
    i18n.vocabulary.cache_clear()
    try:
        collisions = i18n.vocabulary().collisions
        assert set(collisions) == {"KISWAHILI"}
        assert set(collisions["KISWAHILI"]) == {"menu", "language:sw"}
    finally:
        monkeypatch.undo()
        i18n.vocabulary.cache_clear()


@pytest.mark.parametrize(("typed", "code"), [
    ("FRANÇAIS", "fr"), ("francais", "fr"), ("French", "fr"), ("Kifaransa", "fr"), ("SOOMAALI", "so"), ("Somali", "so"),
    ("العربية", "ar"), ("ARABIC", "ar"), ("Kiarabu", "ar"), ("KISWAHILI", "sw"), ("Swahili", "sw"), ("English", "en"),
    ("Kiingereza", "en"), ("anglais", "en"),
])
def test_a_languages_own_name_and_its_name_in_the_others_switch_to_it(typed, code):
    assert i18n.vocabulary().keyword(i18n.normalize(typed)) == f"language:{code}"


# --- digits in any script -------------------------------------------------------------------------------

@pytest.mark.parametrize("zero", ["0", "\u0660", "\u06f0", "\u0966"])  # ASCII, Arabic-Indic, Persian, Devanagari
def test_numbers_in_any_script_pick_options(zero):
    digit = {n: chr(ord(zero) + n) for n in range(10)}
    assert fold_digits(digit[1] + digit[2]) == "12"
    five = Choices.of(Option(f"o{n}", Text(f"Option {n}")) for n in range(1, 6))
    seven = Choices.of((Option(f"o{n}", Text(f"Option {n}")) for n in range(1, 8)), multiple=True)
    assert match(five, digit[3]).one == "o3" and match(five, f"{digit[2]}.").one == "o2"
    assert not match(five, digit[9]).ids
    assert match(seven, f"{digit[1]}، {digit[3]}").ids == ("o1", "o3")


ARABIC_DIGITS_SIGN_UP = [
    ("١", NAME_QUESTION),
    ("Amina Wanjiku", "Which county do you live in?"),
    ("Nairobi", "What kind of gig work do you do?"),
    ("٢، ٣", "The law treats these as sensitive data"),
    ("١", "What is your gender?"),
    ("۱", "Are you a refugee or from a host community?"),
    ("٣", "Please check your details:"),
    ("١", NAME_QUESTION),
    ("Amina W. Wanjiku", "Please check your details:"),
]


@pytest.mark.usefixtures("catalog")
def test_arabic_indic_digits_answer_every_numbered_step(app, whatsapp):
    """Sign-up (consent, work, the sensitive question, gender, community, the summary and its correction), the
    menu, the language list, the course list and DELETE MY DATA's question: each with Arabic-Indic or Persian
    digits."""
    whatsapp.says("Hi")
    for says, expected in ARABIC_DIGITS_SIGN_UP:
        reply = whatsapp.says(says)
        assert expected in reply, f"after {says!r}: {reply!r}"
    assert "KUGWO-" in whatsapp.says("yes")
    assert "Main menu" in whatsapp.says("٠٠")
    assert "Choose your language:" in whatsapp.says("٤")
    somali = whatsapp.says("٤")
    assert rendered("so", "Done: I will write to you in English.") in somali
    assert rendered("so", "Main menu. Reply with a number:") in somali
    assert rendered("en", "Main menu. Reply with a number:") in whatsapp.says("English")
    assert "Free courses by Microsoft" in whatsapp.says("١")
    assert "Reply YES to enrol" in whatsapp.says("٢")
    whatsapp.says("MENU")
    assert "Delete your data?" in whatsapp.says("DELETE MY DATA")
    assert "Nothing was deleted." in whatsapp.says("٢")
    with app.app_context():
        member = Member.query.one()
        assert member.name == "Amina W. Wanjiku" and member.county == "Nairobi" and member.language == "en"


# --- right to left --------------------------------------------------------------------------------------

def test_arabic_lines_are_marked_right_to_left_and_latin_values_isolated():
    reply = Reply.of(msg("Your member number is %(member_number)s. Keep it safe."), Text("https://example.org/x"),
                     msg("%(number)s. %(item)s", number=1, item=Text("Career Essentials in Data Analysis")))
    lines = "\n".join(i18n.render_reply("ar", reply, {"member_number": "KUGWO-000123"})).split("\n")
    assert all(line.startswith(RLM) for line in lines)
    assert f"{FSI}KUGWO-000123{PDI}" in lines[0]
    assert lines[1] == f"{RLM}{FSI}https://example.org/x{PDI}"
    assert f"{FSI}Career Essentials in Data Analysis{PDI}" in lines[2]
    english = "\n".join(i18n.render_reply("en", reply, {"member_number": "KUGWO-000123"}))
    assert not any(mark in english for mark in (RLM, FSI, PDI))
    assert not i18n.is_rtl("en") and not i18n.is_rtl("fr") and i18n.is_rtl("ar")


# --- the first message ----------------------------------------------------------------------------------

def labelled() -> list[dict[str, str]]:
    with (ROOT / "data" / "first_messages.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_labelled_first_messages_are_detected_without_a_wrong_language():
    rows = labelled()
    assert len(rows) >= 100 and {row["expected"] for row in rows} == {*LANGUAGES, "ask"}
    got = {row["text"]: language_detect.detect(row["text"], LANGUAGES) or "ask" for row in rows}
    wrong = {row["text"]: (row["expected"], got[row["text"]]) for row in rows
             if got[row["text"]] not in (row["expected"], "ask")
             or (row["expected"] == "ask" and got[row["text"]] != "ask")}
    assert wrong == {}
    right = sum(got[row["text"]] == row["expected"] for row in rows)
    assert right / len(rows) >= 0.95


@pytest.mark.parametrize("text", ["Salam", "Salaam", "Asalaam aleikum", "salaam aleikum", "OK", "12345", "👍", "MENU"])
def test_shared_greetings_and_short_words_do_not_tell_a_language(text):
    assert language_detect.detect(text, LANGUAGES) is None


@pytest.mark.parametrize(("first", "lang"), [("Bonjour", "fr"), ("Salaan", "so"), ("Nabad", "so"), ("مرحبا", "ar"),
                                             ("Habari", "sw"), ("Hello", "en")])
def test_a_first_message_is_answered_in_its_language(app, whatsapp, first, lang):
    reply = whatsapp.says(first)
    assert rendered(lang, WELCOME, union=UNION) in reply
    assert rendered(lang, "Reply YES if you are 18 or older and agree.") in reply
    with app.app_context():
        assert Member.query.one().language == lang
    if lang == "ar":
        assert all(line.startswith(RLM) for line in reply.split("\n"))
        assert f"{FSI}{UNION}{PDI}" in reply


OFFER = " · ".join(f"{FSI}{n} {name}{PDI}" for n, name in
                   enumerate(["English", "Kiswahili", "Français", "Soomaali", "العربية"], 1))


@pytest.mark.parametrize("first", ["Salaam", "Asalaam aleikum", "12345"])
def test_a_first_message_that_does_not_tell_gets_the_default_language_and_the_list(app, whatsapp, first):
    reply = whatsapp.says(first)
    assert reply.startswith("Welcome to Kenya Union of Gig Workers!")
    assert f"Choose your language:\n{OFFER}" in reply and "may we keep your details?" not in reply
    chosen = whatsapp.says("٣")
    assert rendered("fr", "Done: I will write to you in English.") in chosen
    assert rendered("fr", WELCOME, union=UNION) in chosen
    assert rendered("fr", "Reply YES if you are 18 or older and agree.") in chosen
    assert rendered("fr", NAME_QUESTION) in whatsapp.says("1")
    with app.app_context():
        assert Member.query.one().language == "fr"


def test_after_the_list_yes_goes_on_in_the_default_language(app, whatsapp):
    whatsapp.says("Salaam")
    reply = whatsapp.says("yes")
    assert "may we keep your details?" in reply and "Welcome to" not in reply
    assert NAME_QUESTION in whatsapp.says("1")
    with app.app_context():
        assert Member.query.one().language == "en"


def test_an_answer_that_is_no_language_at_the_list_says_what_is_expected(whatsapp):
    whatsapp.says("12345")
    reply = whatsapp.says("Klingon please")
    assert "Please reply with the number of your language, or its name." in reply
    assert "(MENU: main menu · AGENT: a person)" in reply


def test_language_shows_the_same_list(whatsapp):
    whatsapp.says("Hi")
    assert f"Choose your language:\n{OFFER}" in whatsapp.says("LANGUAGE")


# --- a switch between any two ---------------------------------------------------------------------------

@pytest.mark.parametrize(("before", "after"), list(itertools.permutations(LANGUAGES, 2)))
def test_a_switch_mid_flow_between_any_two_languages(app, whatsapp, before, after):
    """Start in one language by its name, get to the name question, switch by the other's name: the question
    again, in the new language."""
    names = i18n.LANGUAGE_LABELS
    first = whatsapp.says(names[before])
    assert rendered(before, "Reply YES if you are 18 or older and agree.") in first
    assert rendered(before, NAME_QUESTION) in whatsapp.says("1")
    switched = whatsapp.says(names[after])
    assert rendered(after, "Done: I will write to you in English.") in switched
    assert rendered(after, NAME_QUESTION) in switched
    assert rendered(after, "Which county do you live in? For example: Nairobi, Mombasa or Turkana.") in \
        whatsapp.says("Amina Wanjiku")
    with app.app_context():
        assert Member.query.one().language == after


def test_a_switch_at_the_language_list_by_number_returns_to_the_question():
    ctx = Ctx(member=MemberView(), lang="en", now=datetime(2026, 12, 3, 9), settings=Settings())
    state = State("signup", "name", {"consented": True, "history": ["consent"]})
    listed = router.handle(ctx, state, Input(text="language", keyword="language"))
    result = router.handle(ctx, listed.state, classify("٥", False))
    assert SetLanguage("ar") in result.effects and result.state == state


# --- a partial catalog ----------------------------------------------------------------------------------

@pytest.fixture
def partial_french(tmp_path, monkeypatch) -> Iterator[None]:
    """The real English and Swahili catalogs beside a French core catalog holding three entries only."""
    for lang in ("en", "sw"):
        (tmp_path / lang).symlink_to(i18n.LOCALES_DIR / lang, target_is_directory=True)
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)
    entries = {GLOBAL_KEYWORDS["stop"]: "ARRÊT|ARRÊTER", GLOBAL_KEYWORDS["menu"]: "MENU|ACCUEIL",
               INTENTS["greeting"]: "BONJOUR|SALUT|BONSOIR"}
    po = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n' + "".join(
        f'\nmsgid "{message_id}"\nmsgstr "{text}"\n' for message_id, text in entries.items())
    (tmp_path / "fr" / "LC_MESSAGES" / "core.po").write_text(po, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.reload()
    yield
    monkeypatch.undo()
    i18n.reload()


@pytest.mark.usefixtures("partial_french")
def test_a_partial_catalog_serves_its_words_and_english_for_the_rest():
    vocabulary = i18n.vocabulary()
    assert vocabulary.keyword(i18n.normalize("arret")) == vocabulary.keyword(i18n.normalize("Arrêt !")) == "stop"
    assert vocabulary.keyword(i18n.normalize("accueil")) == "menu"
    assert language_detect.detect("Salut", LANGUAGES) == "fr"  # a word only French uses, now that it has it
    assert i18n.render_line("fr", Msg(NAME_QUESTION)) == NAME_QUESTION
    assert vocabulary.collisions == {}
    assert any(p.startswith("fr/core: untranslated") for p in missing_translations(["fr"]))
    assert any(p.startswith("fr/signup: catalog missing") for p in missing_translations(["fr"]))


def test_translate_status_prints_completeness_per_language_and_domain(app):
    from bot.core.i18n_check import coverage

    result = app.test_cli_runner().invoke(args=["translate", "status"])
    lines = result.output.splitlines()
    assert lines[0].split() == ["language", *i18n.DOMAINS]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:] if line.split() and line.split()[0] in LANGUAGES}
    assert set(rows) == set(LANGUAGES) - {"en"}
    assert rows["sw"] == ["100%"] * len(i18n.DOMAINS)
    staff = list(i18n.DOMAINS).index("staff")
    assert all(cells[staff].endswith("*") for lang, cells in rows.items() if lang not in i18n.FULL_LANGUAGES)
    incomplete = any(row.required and row.problems for row in coverage())
    assert result.exit_code == (1 if incomplete else 0)
