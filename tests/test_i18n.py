"""The catalogs: complete in every language, placeholders intact, keywords understood in both languages."""

from __future__ import annotations

import pytest

from bot.core import i18n
from bot.core.i18n_check import missing_translations, source_messages
from bot.whatsapp import sending
from flows.base import Msg, Reply, Text


def test_every_message_has_a_swahili_translation_with_the_same_placeholders():
    assert missing_translations() == []


def test_the_check_notices_a_missing_translation(monkeypatch):
    monkeypatch.setitem(i18n.DOMAINS, "core", (*i18n.DOMAINS["core"], "tests/untranslated_sample.py"))
    problems = missing_translations()
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
    ("habari yako", "sw"), ("niaje", "sw"), ("12345", None), ("Bonjour", None),
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
