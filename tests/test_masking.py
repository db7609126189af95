"""Masking holds in every text a role is shown: organisers never read a member's phone number or voucher
code (dashboard search, conversation and tickets, WhatsApp TICKETS), staff know members by member number
(or P-<id>), and CALL ME shows the number to the organiser holding the ticket only."""

# ruff: noqa: F811  (the course fixtures are imported from test_courses and used as arguments)

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bot.certificates.service import approve_certificate
from bot.core.extensions import db
from bot.models import Member, Ticket
from bot.privacy.masking import mask_texts
from tests.helpers.app import WhatsApp
from tests.helpers.certificates import import_codes, pending_report, vouchers_csv
from tests.helpers.dashboard import add_member, csrf_token, make_user, sign_in
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY, play

PHONE = "+254712345678"
# The number as people write it: each must be masked wherever an organiser reads it.
WRITTEN = ("+254712345678", "0712345678", "0712 345 678", "254712345678", "+254 712 345 678", "712345678",
           "0712-345-678")
ORGANISER, OTHER_ORGANISER, OFFICER = "+254733000009", "+254733000008", "+254733000001"


def staff(app: Flask, client: FlaskClient, phone: str, role: str) -> WhatsApp:
    """A staff number of this role."""
    assert app.test_cli_runner().invoke(args=["staff", "add", phone, "--role", role]).exit_code == 0
    return WhatsApp(client, phone)


def signed_in(app: Flask, role: str, email: str | None = None) -> FlaskClient:
    """A browser signed in to the dashboard with a new account of this role."""
    browser = app.test_client()
    if email is None:
        email = make_user(app, role)
    else:
        from bot.dashboard.users import create_user
        with app.app_context():
            create_user(email, "correct horse battery", role)
    assert sign_in(browser, email).status_code == 302
    return browser


def no_phone_in(page: str, phone: str = PHONE) -> bool:
    """Whether none of the ways of writing the number occurs (digits only, so spacing does not hide it)."""
    digits = re.sub(r"\D", "", page)
    return phone[-9:] not in digits


def member_id(app: Flask, phone: str = PHONE) -> int:
    """The id of the member with this phone."""
    with app.app_context():
        return db.session.scalar(sa.select(Member.id).where(Member.phone == phone))


def test_the_masking_hides_a_phone_in_every_format_and_every_voucher_code(app):
    add_member(app, "Amina", phone=PHONE)
    with app.app_context():
        db.session.execute(sa.text("INSERT INTO vouchers (code, added_at) VALUES ('premium1', now())"))
        texts = [f"Call me on {written}, thanks." for written in WRITTEN] + [
            "Your code is: premium1.", "old code XK7P-2291-QQ", "Member number: KUGWO-000123", "at 2026-12-01 18:00",
            "+1 800 555 0100", "erased-12"]
        masked = mask_texts(texts)
    for written, text in zip(WRITTEN, masked, strict=False):
        assert no_phone_in(text) and "+2547•••••678" in text, (written, text)
    assert masked[len(WRITTEN):] == ["Your code is: ••••••.", "old code ••••••", "Member number: KUGWO-000123",
                                     "at 2026-12-01 18:00", "+1800••••100", "erased-12"]


def test_an_organiser_finds_a_phone_only_written_whole(app):
    add_member(app, "Amina Wanjiku", phone=PHONE)
    add_member(app, "Baraka Otieno", phone="+254722000001")
    browser = signed_in(app, "organiser")
    for end in range(5, len(PHONE)):
        page = browser.get("/admin/members", query_string={"q": PHONE[:end]}).get_data(as_text=True)
        assert "No members match." in page and "Amina" not in page, PHONE[:end]
    for written in WRITTEN:
        page = browser.get("/admin/members", query_string={"q": written}).get_data(as_text=True)
        rows = page.split("<tbody>")[1]  # the search box above shows what the organiser typed
        assert "Amina Wanjiku" in rows and "Baraka" not in rows and no_phone_in(rows), written
    officer = signed_in(app, "officer")
    assert "Amina Wanjiku" in officer.get("/admin/members", query_string={"q": "+2547123"}).get_data(as_text=True)


def test_the_conversation_page_shows_an_organiser_no_phone_and_no_voucher_code(app, client, catalog, tmp_path):
    import_codes(app, vouchers_csv(tmp_path, "LIP-AAA-111", "premium2"))
    member = WhatsApp(client, PHONE)
    play(member, ENGLISH_HAPPY)
    play(member, [("my data", ["This is everything we hold about you:", PHONE]),
                  ("MENU", []), ("please call 0712 345 678 or my old code ZX9-8812-KQ", [])])
    report = pending_report(app, PHONE)
    with app.app_context():
        assert approve_certificate(report, reviewer="test").status == "rewarded"
        db.session.commit()
    path = f"/admin/members/{member_id(app)}"
    page = signed_in(app, "organiser").get(path).get_data(as_text=True)
    assert "KUGWO-000001" in page and "voucher code is: ••••••" in page
    assert no_phone_in(page) and "LIP-AAA-111" not in page and "ZX9-8812-KQ" not in page
    admin_page = signed_in(app, "admin").get(path).get_data(as_text=True)
    assert PHONE in admin_page and "LIP-AAA-111" in admin_page  # officers and admins read them whole, as before


def test_review_and_tickets_name_the_member_by_member_number(app, client, catalog):
    member = WhatsApp(client, PHONE)
    play(member, ENGLISH_HAPPY)
    pending_report(app, PHONE, key="0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    review = staff(app, client, OFFICER, "officer").says("REVIEW")
    assert "#1 KUGWO-000001 Amina, Cybersecurity: https://www.linkedin.com/learning/certificates/" in review
    assert no_phone_in(review) and "Wanjiku" not in review
    member.send("Can the union lend me money for a motorbike? Call 0712 345 678")
    member.send("AGENT")  # no answer fits: the member asks for a person
    listing = staff(app, client, ORGANISER, "organiser").says("TICKETS")
    assert "#1 KUGWO-000001 Amina, " in listing and "motorbike" in listing and "+2547•••••678" in listing
    assert no_phone_in(listing)


def test_a_prospects_ticket_shows_a_reference(app, client):
    prospect = WhatsApp(client, PHONE)
    prospect.send("Hi")
    play(prospect, [("cancel", ["Main menu"]), ("AGENT", ["may we keep your details?"]), ("1", ["(ticket #1)"]),
                    ("My rider account was blocked", [])])
    reference = f"P-{member_id(app)}"
    listing = staff(app, client, ORGANISER, "organiser").says("TICKETS")
    assert f"#1 {reference}, " in listing and no_phone_in(listing)
    page = signed_in(app, "organiser").get("/admin/tickets").get_data(as_text=True)
    assert reference in page and no_phone_in(page)


def call_requested_at(app: Flask):
    """When the member of ticket #1 asked to be called."""
    with app.app_context():
        return db.session.get(Ticket, 1).call_requested_at


def test_call_me_shows_the_number_only_to_the_organiser_holding_the_ticket(app, client):
    member = WhatsApp(client, PHONE)
    play(member, ENGLISH_HAPPY)
    play(member, [("CALL ME", ["An organiser will call you on this number (ticket #1).",
                               "the organiser handling your question sees your number"]),
                  ("It is about my Uber payments", ["Added to your question for the organisers (ticket #1)."])])
    assert call_requested_at(app) is not None
    first, second = staff(app, client, ORGANISER, "organiser"), staff(app, client, OTHER_ORGANISER, "organiser")
    listing = first.says("TICKETS")
    assert "asked to be called: REPLY 1 to take the ticket and see the number" in listing and no_phone_in(listing)
    answer = first.says("REPLY 1 I will call you at 3pm.")
    assert "Sent as a message to ticket #1." in answer and f"asked to be called: {PHONE}" in answer
    assert f"asked to be called: {PHONE}" in first.says("TICKETS")
    listing = second.says("TICKETS")
    assert "the organiser handling the ticket sees the number" in listing and no_phone_in(listing)
    assert no_phone_in(second.says("REPLY 1 Adding a note."))
    inbox = signed_in(app, "organiser")
    page = inbox.get("/admin/tickets").get_data(as_text=True)
    assert "asked to be called" in page and no_phone_in(page)
    page = inbox.get("/admin/tickets/1").get_data(as_text=True)
    assert "the organiser handling this ticket sees the number" in page and no_phone_in(page)


def test_on_the_dashboard_the_first_organiser_to_answer_holds_the_ticket(app, client):
    member = WhatsApp(client, "+254722000001")
    play(member, SWAHILI_HAPPY)
    play(member, [("Nipigie tafadhali", ["Mwandalizi atakupigia kwenye nambari hii (tiketi #1)."])])
    holder = signed_in(app, "organiser", "holder@umoja.example.org")
    other = signed_in(app, "organiser", "other@umoja.example.org")
    page = holder.get("/admin/tickets/1").get_data(as_text=True)
    assert "answer the ticket (or take it) to see the number" in page and no_phone_in(page, "+254722000001")
    sent = holder.post("/admin/tickets/1/reply", data={"text": "Nitakupigia saa tisa.", "csrf_token": csrf_token(page)})
    assert sent.status_code == 302
    page = holder.get("/admin/tickets/1").get_data(as_text=True)
    assert "+254722000001" in page and "shown to you" in page
    assert no_phone_in(holder.get("/admin/tickets").get_data(as_text=True), "+254722000001")  # on its page only
    page = other.get("/admin/tickets/1").get_data(as_text=True)
    assert "the organiser handling this ticket sees the number" in page and no_phone_in(page, "+254722000001")
    assert no_phone_in(staff(app, client, ORGANISER, "organiser").says("TICKETS"), "+254722000001")


def test_a_member_who_did_not_ask_to_be_called_stays_masked_for_the_holder(app, client):
    member = WhatsApp(client, PHONE)
    play(member, ENGLISH_HAPPY)
    member.send("AGENT")
    organiser = staff(app, client, ORGANISER, "organiser")
    assert no_phone_in(organiser.says("REPLY 1 Hello, how can we help?"))
    assert no_phone_in(organiser.says("TICKETS"))
    assert call_requested_at(app) is None


def test_a_whatsapp_name_holding_a_number_is_masked_for_organisers(app):
    with app.app_context():
        db.session.add(Member(phone="+254722000111", profile_name="Kevo 0722 000 111", status="prospect"))
        db.session.commit()
    browser = signed_in(app, "organiser")
    rows = browser.get("/admin/members").get_data(as_text=True).split("<tbody>")[1]
    page = browser.get(f"/admin/members/{member_id(app, '+254722000111')}").get_data(as_text=True)
    assert "Kevo +2547•••••111" in rows and "Kevo +2547•••••111" in page
    assert no_phone_in(rows, "+254722000111") and no_phone_in(page, "+254722000111")
