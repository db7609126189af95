"""The simulator page in a real browser, at a phone's width: it fits, refuses an empty message, keeps the
reader's place while new messages arrive, and sends a file."""

from __future__ import annotations

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Certificate, Member, Message
from tests.helpers.browser import pytestmark  # noqa: F401  (the skip)
from tests.helpers.courses import add_member

PHONE = "+254712345678"


def history(app, count: int) -> None:
    """A member with a long conversation, one very long word among it."""
    add_member(app, PHONE)
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id).where(Member.phone == PHONE))
        for n in range(count):
            body = f"message {n}" if n != 3 else "x" * 300
            db.session.add(Message(member_id=member_id, direction="in" if n % 2 else "out", body=body))
        db.session.commit()


def add_message(app, body: str) -> None:
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id).where(Member.phone == PHONE))
        db.session.add(Message(member_id=member_id, direction="out", body=body))
        db.session.commit()


def test_it_fits_a_phone_refuses_empty_and_keeps_the_readers_place(app, browser, live_server):
    history(app, 40)
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 700})
    page = context.new_page()
    try:
        page.goto("/simulator/")
        page.wait_for_selector("text=message 39")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        log = page.locator("#log")
        assert log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 40  # at the newest
        log.evaluate("el => { el.scrollTop = 0; }")
        add_message(app, "a new reply")
        page.wait_for_selector("text=a new reply", timeout=10_000)  # the page polls every 3 s
        assert log.evaluate("el => el.scrollTop") == 0  # still reading the top
        page.click("button[type=submit]")
        page.wait_for_selector("text=Type a message or attach a file first.")
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
                Message.body == "")) == 0
    finally:
        context.close()


def test_a_pdf_attached_on_the_page_reaches_the_certificate_step(app, browser, live_server, member, drain,
                                                                  tmp_path):
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"1 0 obj\n" * 100)
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 700})
    page = context.new_page()
    try:
        page.goto("/simulator/")
        for text, expected in (("certificate", "Project Management"), ("4", "Certificate for Project Management")):
            page.fill("#body", text)
            page.click("button[type=submit]")
            page.wait_for_selector(f"text={expected}")
        page.set_input_files("#file", str(pdf))
        page.click("button[type=submit]")
        page.wait_for_selector("text=We are receiving your file for Project Management")
        drain()
        with app.app_context():
            [report] = db.session.scalars(sa.select(Certificate)).all()
            assert report.status == "pending" and report.stored_path.endswith(".pdf")
    finally:
        context.close()


def test_my_data_file_shows_a_link_to_the_document_that_opens_the_pdf(app, browser, live_server, member, drain):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 700})
    page = context.new_page()
    try:
        page.goto("/simulator/")
        page.fill("#body", "my data file")
        page.click("button[type=submit]")
        page.wait_for_selector("text=We are putting all your data in a document (PDF)")
        drain()
        link = page.wait_for_selector("a.document", timeout=10_000)  # the page polls every 3 s
        assert link.inner_text() == "📄 umoja-data.pdf"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        response = context.request.get(link.get_attribute("href"))
        assert response.status == 200 and response.body().startswith(b"%PDF")
    finally:
        context.close()
