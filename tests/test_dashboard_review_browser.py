"""The certificates, vouchers and tickets pages in a real browser (Playwright driving Debian's Chromium)."""

# ruff: noqa: F811  (fixtures are imported from other test modules and used as arguments)

from __future__ import annotations

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent, Member, SavedAnswer
from bot.support import tickets
from tests.helpers.browser import canvas_has_pixels, pytestmark, sign_in  # noqa: F401  (the skip)
from tests.helpers.courses import add_member
from tests.helpers.dashboard import make_user
from tests.helpers.review import add_codes, course_ids, report, seed_courses, status_of


def test_officer_approves_a_certificate_in_the_browser(app, page, catalog, fake_twilio, drain, tmp_path):
    add_member(app, "+254712000001", number=1)
    add_member(app, "+254712000002", number=2)
    first, second = course_ids(app)[:2]
    approved = report(app, "+254712000001", first, "aaa111")
    rejected = report(app, "+254712000002", second, "bbb222")
    add_codes(app, tmp_path, "PREMIUM-42")
    email = make_user(app, "officer")
    sign_in(page, email)
    page.click("header nav >> text=Certificates")
    page.wait_for_url("**/admin/certificates")
    row = page.locator(f"#certificate-{approved}")
    assert "KUGWO-000001" in row.inner_text()
    assert row.locator("a", has_text="open the link").get_attribute("href").endswith("aaa111")
    row.locator("form.approve button").click()
    page.wait_for_selector(".notice")
    assert f"Report #{approved} approved: the voucher code was sent" in page.locator(".notice").inner_text()
    assert page.locator(f"#certificate-{approved}").count() == 0

    other = page.locator(f"#certificate-{rejected}")
    other.locator("textarea[name=reason]").fill("The course on the certificate is another one")
    other.locator("form.reject button").click()
    page.wait_for_selector("#queue-empty")
    assert status_of(app, approved) == "rewarded" and status_of(app, rejected) == "rejected"

    drain()
    to_member = [m["body"] for m in fake_twilio.messages if m["to"] == "whatsapp:+254712000001"]
    assert len(to_member) == 1 and "PREMIUM-42" in to_member[0]
    to_other = [m["body"] for m in fake_twilio.messages if m["to"] == "whatsapp:+254712000002"]
    assert len(to_other) == 1 and "The course on the certificate is another one" in to_other[0]
    with app.app_context():
        actors = db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor)
                                    .where(AuditEvent.action.like("certificate.%")).order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in actors] == [("certificate.approve", email), ("certificate.reject", email)]


def test_admin_uploads_vouchers_in_the_browser(app, page, catalog, tmp_path):
    csv_file = tmp_path / "new-codes.csv"
    csv_file.write_text("code\nAAA-1\nAAA-2\n", encoding="utf-8")
    sign_in(page, make_user(app, "admin"))
    page.goto("/admin/vouchers")
    page.set_input_files("#voucher-upload input[type=file]", str(csv_file))
    page.click("#voucher-upload button")
    page.wait_for_selector(".notice")
    assert "2 codes added" in page.locator(".notice").inner_text()
    assert page.locator("#vouchers-free").inner_text() == "2"


def test_organiser_answers_a_ticket_in_the_browser(app, page, catalog, fake_twilio, drain):
    add_member(app, "+254712000001")
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.phone == "+254712000001"))
        ticket = tickets.open_ticket(member, "Can I join if I drive for two apps?", "manual").id
        db.session.add(SavedAnswer(title="Two apps", language="en", text="Yes, you can."))
        db.session.commit()
    sign_in(page, make_user(app, "organiser"))
    page.click("header nav >> text=Tickets")
    page.wait_for_url("**/admin/tickets")
    row = page.locator(f"#ticket-{ticket}")
    assert "two apps" in row.inner_text() and "nobody yet" in row.inner_text()
    row.locator("a", has_text=f"#{ticket}").click()
    page.wait_for_url(f"**/admin/tickets/{ticket}")
    page.locator("#saved-pick button").click()  # the saved answer fills the reply box
    assert page.locator("form.reply textarea[name=text]").input_value() == "Yes, you can."
    page.locator("form.reply button").click()
    page.wait_for_selector(".notice")
    assert f"Sent to ticket #{ticket} as a message." in page.locator(".notice").inner_text()
    assert page.locator("#ticket-holder").inner_text() == "you"
    page.locator("form.close button").click()
    page.wait_for_url("**/admin/tickets")
    assert page.locator("#tickets-empty").is_visible()
    page.fill("#inbox-filters input[name=q]", "two apps")
    page.locator("#inbox-filters button").click()
    assert page.locator(f"#ticket-{ticket} .state").inner_text() == "closed"
    drain()
    sent = [m["body"] for m in fake_twilio.messages if m["to"] == "whatsapp:+254712000001"]
    assert len(sent) == 2 and "Yes, you can." in sent[0]


def test_organiser_keeps_a_saved_answer_in_the_browser(app, page, catalog):
    sign_in(page, make_user(app, "organiser"))
    page.goto("/admin/tickets")
    page.click("text=Saved answers")
    page.wait_for_url("**/admin/saved-answers")
    page.fill("#saved-form input[name=title]", "Mkutano")
    page.select_option("#saved-form select[name=language]", "sw")
    page.fill("#saved-form textarea[name=text]", "Mkutano ni Ijumaa saa nne.")
    page.locator("#saved-form button").click()
    page.wait_for_selector(".notice")
    assert "Mkutano ni Ijumaa saa nne." in page.locator("table").inner_text()


def test_the_course_funnel_is_drawn(app, page, catalog, tmp_path):
    seed_courses(app, tmp_path)
    sign_in(page, make_user(app, "officer"))
    page.wait_for_selector("#chart-funnel[data-drawn=true]")
    assert canvas_has_pixels(page, "#chart-funnel")
