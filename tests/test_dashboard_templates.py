"""The templates page (every message sent as a template outside the 24-hour window, and per language its Content
SID, the fallback's or none), its role gating, and the broadcast composer and preview pointing at it for the
members who would get nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.dashboard import csrf_token, make_user, sign_in

TEMPLATES = {"broadcast": {"en": "HX" + "b" * 32, "sw": "HX" + "c" * 32},
             "voucher": {"en": "HX" + "d" * 32, "de": "HX" + "e" * 32},
             "old_reminder": {"en": "HX" + "f" * 32}}


@pytest.fixture
def templates(app, monkeypatch):
    """Broadcast templates in English and Swahili, a voucher template in English (and German, which is not
    configured), an entry no message uses; English is the fallback."""
    monkeypatch.setitem(app.config, "WHATSAPP_TEMPLATES", TEMPLATES)
    monkeypatch.setitem(app.config, "TEMPLATE_FALLBACK", "en")


def row_of(html: str, name: str) -> str:
    found = re.search(rf'<tr id="template-{name}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, name
    return found.group(1)


def cell(row: str, code: str) -> str:
    found = re.search(rf'<li data-language="{code}" class="(\w+)">(.*?)</li>', row, re.S)
    assert found, code
    return found.group(1) + ": " + " ".join(re.sub(r"<[^>]+>", "", found.group(2)).split())


def test_every_message_and_language_shows_its_sid_the_fallback_or_nothing(app, client, templates):
    sign_in(client, make_user(app, "organiser"))
    html = client.get("/admin/templates").get_data(as_text=True)
    broadcast = row_of(html, "broadcast")
    assert cell(broadcast, "en") == f"sid: English: {TEMPLATES['broadcast']['en']}"
    assert cell(broadcast, "sw") == f"sid: Swahili: {TEMPLATES['broadcast']['sw']}"
    assert cell(broadcast, "so") == f"fallback: Somali: fallback (TEMPLATE_FALLBACK, English): {TEMPLATES['broadcast']['en']}"
    assert cell(row_of(html, "voucher"), "ar") == f"fallback: Arabic: fallback (TEMPLATE_FALLBACK, English): {TEMPLATES['voucher']['en']}"
    reply = row_of(html, "organiser_reply")
    assert cell(reply, "sw") == "none: Swahili: none — members in this language get nothing outside the window"
    assert 'class="incomplete"' in html.split('id="template-organiser_reply"')[1].split(">")[0] + ">"
    assert "{{1}} ticket number, {{2}} the answer" in reply
    # Six messages have no template in any of the five languages.
    assert "No template for 30 messages in a language" in html
    assert 'id="approval-note"' in html and "approved" in html
    unused = html.split('id="templates-unused"')[1].split("</table>")[0]
    assert "old_reminder" in unused and "no message is sent as this template" in unused
    assert "languages not in LANGUAGES: de" in unused


def test_without_a_fallback_a_language_without_its_own_template_gets_nothing(app, client, templates, monkeypatch):
    monkeypatch.setitem(app.config, "TEMPLATE_FALLBACK", "")
    sign_in(client, make_user(app, "admin"))
    html = client.get("/admin/templates").get_data(as_text=True)
    broadcast = row_of(html, "broadcast")
    assert cell(broadcast, "so").startswith("none: Somali: none")
    assert cell(broadcast, "en").startswith("sid:")
    assert "TEMPLATE_FALLBACK</code> is none" in html


def test_the_broadcast_template_setting_names_the_row(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "BROADCAST_TEMPLATE", "union_news")
    monkeypatch.setitem(app.config, "WHATSAPP_TEMPLATES", {"union_news": {"sw": "HX" + "a" * 32}})
    sign_in(client, make_user(app, "admin"))
    html = client.get("/admin/templates").get_data(as_text=True)
    assert cell(row_of(html, "union_news"), "sw").startswith("sid:")
    assert 'id="template-broadcast"' not in html and 'id="templates-unused"' not in html


def test_every_template_name_the_code_sends_is_on_the_page(app):
    from bot.dashboard.message_templates import template_uses

    root = Path(__file__).resolve().parents[1] / "bot"
    used = set()
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\btemplate="([a-z_]+)"', source))
        used |= set(re.findall(r'^\w*TEMPLATE = "([a-z_]+)"', source, re.M))
    with app.test_request_context():
        listed = {use.name for use in template_uses()}
    assert {"voucher", "organiser_reply", "ticket_closed", "course_reminder"} <= used
    assert used <= listed, used - listed
    assert "broadcast" in listed


@pytest.mark.parametrize("role", ["officer", "organiser", "admin"])
def test_every_staff_role_may_open_it_from_the_navigation(app, client, role):
    sign_in(client, make_user(app, role))
    assert client.get("/admin/templates").status_code == 200
    assert 'href="/admin/templates"' in client.get("/admin/").get_data(as_text=True)


def test_signed_out_it_asks_to_sign_in(client):
    response = client.get("/admin/templates")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


@pytest.fixture
def somali_without_template(app, monkeypatch):
    """Broadcast templates in English and Swahili, no fallback: two Somali speakers outside the window get
    nothing; one English speaker inside it gets the text."""
    from bot.core.extensions import db
    from tests.helpers.broadcasts import OLD, add_members

    monkeypatch.setitem(app.config, "WHATSAPP_TEMPLATES", {"broadcast": {"en": "HXen", "sw": "HXsw"}})
    monkeypatch.setitem(app.config, "TEMPLATE_FALLBACK", "")
    with app.app_context():
        add_members(1, start=1)
        add_members(1, start=2, language="sw", last_inbound=OLD)
        add_members(2, start=3, language="so", last_inbound=OLD)
        db.session.commit()


def test_the_preview_and_the_live_count_point_at_the_templates_for_who_gets_nothing(app, client,
                                                                                    somali_without_template):
    sign_in(client, make_user(app, "organiser"))
    composer = client.get("/admin/broadcasts/new").get_data(as_text=True)
    assert re.search(r'id="live-nothing" hidden>.*?href="/admin/templates"', composer, re.S)
    counted = client.get("/admin/broadcasts/count").get_json()
    assert (counted["nothing"], counted["nothing_languages"]) == (2, ["Somali"])
    sent = client.post("/admin/broadcasts/new", data={"csrf_token": csrf_token(composer), "text_en": "Meeting"})
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<li class="gets-nothing"><b id="preview-nothing">2</b> get nothing.*?'
                     r'href="/admin/templates" id="preview-templates-link"', page, re.S)
    note = page.split('id="preview-nothing-note">')[1].split("</p>")[0]
    assert "2 members of this\nsegment will get nothing: Somali has no broadcast template" in note
    assert 'href="/admin/templates"' in note
    assert re.search(r'<tr data-language="so">.*?<td class="gets-nothing">2 \(<a href="/admin/templates#template-broadcast">'
                     r"no template</a>\)</td>", page)
    assert re.search(r'<tr data-language="sw">.*?<td>0</td><td>no: they get English</td>', page)


def test_nothing_to_highlight_when_every_language_has_a_template(app, client, somali_without_template, monkeypatch):
    monkeypatch.setitem(app.config, "TEMPLATE_FALLBACK", "en")
    sign_in(client, make_user(app, "organiser"))
    composer = client.get("/admin/broadcasts/new").get_data(as_text=True)
    sent = client.post("/admin/broadcasts/new", data={"csrf_token": csrf_token(composer), "text_en": "Meeting"})
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "gets-nothing" not in page and 'id="preview-nothing-note"' not in page
    assert client.get("/admin/broadcasts/count").get_json()["nothing_languages"] == []


def test_the_whatsapp_preview_points_at_the_templates_page_when_someone_gets_nothing(app, client,
                                                                                    somali_without_template):
    from tests.helpers.app import WhatsApp

    app.test_cli_runner().invoke(args=["staff", "add", "+254733000002", "--role", "organiser"])
    organiser = WhatsApp(client, "+254733000002")
    for line in ("BROADCAST", "Meeting on Saturday", "SKIP"):
        organiser.send(line)
    link = app.config["PUBLIC_URL"] + "/admin/templates"
    assert (f"2 Somali speakers outside the window have no template: they get nothing, which template each language "
            f"has: {link}.") in organiser.says("ALL")
    organiser.send("kiswahili")
    for line in ("BROADCAST", "Meeting on Saturday", "RUKA"):
        organiser.send(line)
    assert f"hawatapata chochote, kiolezo cha kila lugha: {link}." in organiser.says("WOTE")
    app.config["TEMPLATE_FALLBACK"] = "en"  # restored by the fixture's monkeypatch
    for line in ("BROADCAST", "Meeting on Saturday", "RUKA"):
        organiser.send(line)
    assert "/admin/templates" not in organiser.says("WOTE")
