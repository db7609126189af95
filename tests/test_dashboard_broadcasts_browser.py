"""The broadcast pages in a real browser: compose, the live count, the preview, confirm, the live progress."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from bot.core.extensions import db
from bot.models import AuditEvent, Member, utcnow
from tests.dashboard_helpers import add_member, make_user
from tests.test_dashboard_browser import browser, page, pytestmark, sign_in  # noqa: F401  (fixtures)


def test_compose_count_preview_confirm_and_follow_progress(app, page, fake_twilio, drain):  # noqa: F811
    add_member(app, "Amina", phone="+254711000001", county="Nairobi")
    add_member(app, "Wanjiru", phone="+254711000002", county="Nairobi")
    add_member(app, "Otieno", phone="+254711000003", county="Kisumu")
    with app.app_context():
        db.session.execute(sa.update(Member).values(last_inbound_at=utcnow()))
        db.session.commit()
    email = make_user(app, "organiser")
    sign_in(page, email)
    page.click("text=Broadcasts")
    page.click("#new-broadcast")
    page.wait_for_selector("#compose[data-counted=true]")
    assert page.inner_text("#live-count") == "3"
    page.fill("textarea[name=text_en]", "Union meeting on Saturday")
    page.fill("textarea[name=text_sw]", "Mkutano wa chama Jumamosi")
    page.select_option("select[name=county]", ["Nairobi"])
    expect(page.locator("#live-count")).to_have_text("2")
    assert "2 match" in page.inner_text("#live-detail")
    page.click("#preview-broadcast")
    page.wait_for_url("**/preview")
    assert page.inner_text("#preview-matched") == "2" and page.inner_text("#preview-text") == "2"
    assert fake_twilio.messages == []
    page.click("#confirm-send")
    page.wait_for_url(re.compile(r"/admin/broadcasts/\d+$"))
    drain()
    expect(page.locator("#status")).to_have_text("done", timeout=15000)
    assert page.inner_text("#count-sent") == "2" and page.inner_text("#progress-text") == "2 of 2 (100%)"
    assert page.eval_on_selector("#progress-bar", "bar => bar.value === bar.max")
    assert sorted(m["to"] for m in fake_twilio.messages) == ["whatsapp:+254711000001", "whatsapp:+254711000002"]
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.actor).where(AuditEvent.action == "broadcast.send")) == email


def test_pause_resume_and_cancel_from_the_progress_page(app, page):  # noqa: F811
    from datetime import timedelta

    from bot.broadcasts import service as broadcasts

    add_member(app, "Amina", phone="+254711000001", county="Nairobi")
    with app.app_context():
        broadcast_id = broadcasts.create("Later", send_at=utcnow() + timedelta(days=1)).id
        broadcasts.send(broadcast_id)
    sign_in(page, make_user(app, "admin"))
    page.goto(f"/admin/broadcasts/{broadcast_id}")
    expect(page.locator("#status")).to_have_text("scheduled")
    assert page.is_hidden("#resume-broadcast")
    page.click("#pause-broadcast")
    expect(page.locator("#status")).to_have_text("paused (organiser)")
    assert page.is_visible("#resume-broadcast") and page.is_hidden("#pause-broadcast")
    page.click("#cancel-broadcast")
    expect(page.locator("#status")).to_have_text("cancelled")
    assert page.is_hidden("#cancel-broadcast") and page.is_hidden("#resume-broadcast")
    page.goto("/admin/broadcasts")
    assert "cancelled" in page.inner_text("td.status")
