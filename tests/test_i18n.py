"""The catalogs: complete in every language, placeholders intact, keywords understood in every language."""

from __future__ import annotations

import pytest

from bot.core import i18n
from bot.core.i18n_check import coverage, missing_translations, source_messages
from bot.whatsapp import sending
from flows.base import Msg, Reply, Text


def test_every_message_has_a_swahili_translation_with_the_same_placeholders():
    assert missing_translations(["sw"]) == []


@pytest.mark.parametrize("lang", [code for code in i18n.DEFAULT_LANGUAGES if code != i18n.SOURCE_LANGUAGE])
def test_every_configured_language_is_complete_where_members_read_it(lang):
    """English and Swahili in every domain; any other language in every domain members read. A language whose
    catalogs are not there yet is skipped (its messages fall back to English); once there, it must be complete."""
    if lang not in i18n.FULL_LANGUAGES and not (i18n.LOCALES_DIR / lang).is_dir():
        pytest.skip(f"no catalogs for {lang} yet")
    assert missing_translations([lang]) == []


def test_the_completeness_check_requires_member_domains_only_beyond_english_and_swahili(tmp_path, monkeypatch):
    """A language with only its core catalog: the other member domains are reported, the staff ones are not."""
    (tmp_path / "xx" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "xx" / "LC_MESSAGES" / "core.po").write_text('msgid ""\nmsgstr ""\n\nmsgid "MENU|MAIN MENU|HOME|00"\n'
                                                             'msgstr "MENYU"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    rows = {(row.lang, row.domain): row for row in coverage(["xx"])}
    problems = missing_translations(["xx"])
    assert rows[("xx", "core")].translated == 1 and not rows[("xx", "staff")].required
    assert any(p.startswith("xx/signup: catalog missing") for p in problems)
    assert any(p.startswith("xx/core: untranslated") for p in problems)
    assert not any(p.startswith(("xx/staff", "xx/stats", "xx/broadcasts")) for p in problems)


def test_the_check_notices_a_missing_translation(monkeypatch):
    monkeypatch.setitem(i18n.DOMAINS, "core", (*i18n.DOMAINS["core"], "tests/helpers/untranslated_sample.py"))
    problems = missing_translations(["sw"])
    assert any("A sentence nobody has translated yet." in p for p in problems)


def test_extraction_finds_the_marked_messages():
    found = source_messages()
    assert "What is your full name?" in found["signup"]
    assert "MENU|MAIN MENU|HOME|00" in found["core"]


@pytest.mark.parametrize(("text", "keyword"), [
    ("STOP", "stop"), ("stop", "stop"), (" Acha ujumbe! ", "stop"), ("Acha", "cancel_or_stop"), ("MENU", "menu"), ("mwanzo", "menu"),
    ("msaada", "help"), ("ANZA", "start"), ("lugha", "language"), ("rudi", "back"), ("Sitisha", "cancel"),
    ("stop sending me these", None), ("Nairobi", None),
])
def test_global_keywords_in_both_languages(text, keyword):
    assert i18n.vocabulary().keyword(i18n.normalize(text)) == keyword


@pytest.mark.parametrize(("text", "language"), [
    ("Hi", "en"), ("Hello there", "en"), ("Join", "en"), ("Habari", "sw"), ("Jiunge", "sw"),
    ("habari yako", "sw"), ("niaje", "sw"), ("12345", None), ("Nairobi", None), ("Salaam", None),
])
def test_first_message_language(text, language):
    assert i18n.vocabulary().language_of(i18n.normalize(text)) == language


def test_render_translates_nested_parameters_and_falls_back_to_english():
    line = Msg("Work: %(value)s", {"value": (Msg("Transcription"), Text("tailoring"))})
    assert i18n.render_line("sw", line) == "Kazi: Transcription (kuandika sauti kuwa maandishi), tailoring"
    assert i18n.render_line("sw", Msg("An unknown message")) == "An unknown message"
    assert i18n.render_line("en", Msg("Hello %(name)s!", {"name": Text("Amina")})) == "Hello Amina!"


def test_a_long_reply_is_split_at_whatsapps_limit():
    lines = tuple(Text("x" * 700) for _ in range(3))
    parts = i18n.render_reply("en", Reply(lines))
    assert [len(p) for p in parts] == [1401, 700]
    assert all(len(p) <= 1600 for p in i18n.render_reply("en", Reply((Text("y" * 4000),))))


@pytest.mark.parametrize("key", sorted(sending.REASONS, key=str))
def test_every_sending_reason_reads_in_english_and_swahili(key):
    english = i18n.render_line("en", sending.reason_line(key))
    swahili = i18n.render_line("sw", sending.reason_line(key))
    assert english == sending.reason_text(key) == sending.REASONS[key]
    assert swahili and swahili != english, f"{key}: no Swahili text"


@pytest.mark.parametrize(("key", "english", "swahili"), [
    (None, "unknown", "haijulikani"), ("http_400", "Twilio refused the message (HTTP 400)",
                                       "Twilio ilikataa ujumbe (HTTP 400)"),
    (30007, "Twilio error 30007", "hitilafu ya Twilio 30007"),
])
def test_a_reason_outside_the_table_still_reads_in_both_languages(key, english, swahili):
    assert i18n.render_line("en", sending.reason_line(key)) == english == sending.reason_text(key)
    assert i18n.render_line("sw", sending.reason_line(key)) == swahili


def test_every_status_and_role_shown_to_staff_reads_in_swahili():
    from bot.broadcasts import staff as broadcast
    from bot.certificates import service as certificates
    from bot.commands import roles

    for table in (broadcast.STATUSES, certificates.REPORT_STATUSES, roles.ROLE_NAMES):
        for key, english in table.items():
            assert i18n.render_line("sw", Msg(english)) != english, f"{key}: no Swahili text"


RETENTION = ("Messages stored: %(count)s (message texts are deleted after %(days)s day)",
             "Messages stored: %(count)s (message texts are deleted after %(days)s days)")


@pytest.mark.parametrize(("lang", "days", "expected"), [
    ("en", 1, "after 1 day)"), ("en", 30, "after 30 days)"), ("en", 0, "after 0 days)"),
    ("fr", 1, "après 1 jour)"), ("fr", 0, "après 0 jour)"), ("fr", 30, "après 30 jours)"),
    ("so", 1, "1 maalin kadib)"), ("so", 30, "30 maalmood kadib)"),
    ("sw", 1, "baada ya siku 1)"), ("sw", 30, "baada ya siku 30)"),
    ("ar", 2, "يومين"), ("ar", 5, "أيام"), ("ar", 30, "يوما"), ("ar", 100, "100\u2069 يوم"),
])
def test_plural_forms_follow_each_languages_rule(lang, days, expected):
    from flows.base import NP_, msgn

    line = msgn(NP_(*RETENTION), "days", count=Text("4"), days=days)
    assert expected in i18n.render_line(lang, line)


def test_a_plural_with_an_empty_form_is_untranslated_and_falls_back_to_english(tmp_path, monkeypatch):
    from flows.base import NP_, msgn

    (tmp_path / "sw" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "sw" / "LC_MESSAGES" / "questions.po").write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        f'msgid "{RETENTION[0]}"\nmsgid_plural "{RETENTION[1]}"\nmsgstr[0] "siku %(days)s %(count)s"\nmsgstr[1] ""\n',
        encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.reload()
    try:
        problems = missing_translations(["sw"])
        assert any("sw/questions: untranslated" in p and "Messages stored" in p for p in problems)
        assert i18n.render_line("sw", msgn(NP_(*RETENTION), "days", count=1, days=3)).endswith("after 3 days)")
    finally:
        monkeypatch.undo()
        i18n.reload()
