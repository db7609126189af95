"""The dashboard in a real browser: Playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent
from tests.dashboard_helpers import PASSWORD, add_member, make_user

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (no cookies) that fails the test on any script error."""
    context = browser.new_context(base_url=live_server, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    yield tab
    context.close()
    assert errors == []


def sign_in(page, email: str) -> None:
    """Sign in through the form."""
    page.goto("/admin/")
    assert "/admin/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def canvas_has_pixels(page, selector: str) -> bool:
    """Whether a canvas has anything drawn on it."""
    return page.eval_on_selector(selector, """canvas => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
        return false;
    }""")


def test_sign_in_and_the_charts_are_drawn(app, page):
    add_member(app, "Amina", phone="+254711000001", county="Nairobi")
    add_member(app, "Baraka", phone="+254711000002", county="Turkana", kinds=("ride_delivery",), gender="man")
    sign_in(page, make_user(app, "officer"))
    assert page.locator("h1").inner_text() == "Overview"
    for name in ("joined", "county", "work", "gender", "community"):
        selector = f"#chart-{name}"
        page.wait_for_selector(f"{selector}[data-drawn=true]")
        assert canvas_has_pixels(page, selector), name
    blank = page.evaluate("() => { const c = document.createElement('canvas'); c.width = c.height = 10; "
                          "return c.getContext('2d').getImageData(0, 0, 10, 10).data.some(v => v !== 0); }")
    assert blank is False


def test_a_script_name_never_runs(app, page):
    add_member(app, "<script>alert(1)</script>")
    sign_in(page, make_user(app, "organiser"))
    page.goto("/admin/members")
    assert page.locator("td.name").first.inner_text() == "<script>alert(1)</script>"


def test_csv_export_as_admin(app, page):
    add_member(app, "Amina", phone="+254711000001", county="Nairobi")
    add_member(app, "Wanjiru", phone="+254711000002", county="Kiambu")
    email = make_user(app, "admin")
    sign_in(page, email)
    page.goto("/admin/members?county=Kiambu")
    with page.expect_download() as download:
        page.click("#export-csv")
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert "+254711000002" in content and "+254711000001" not in content and "Wanjiru" in content
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.actor).where(AuditEvent.action == "members.export")) == email
    page.goto("/admin/audit")
    assert "members.export" in page.content()


def test_csv_export_refused_for_an_organiser(app, page):
    add_member(app, "Amina")
    sign_in(page, make_user(app, "organiser"))
    page.goto("/admin/members")
    assert page.locator("#export-csv").count() == 0
    assert "+254711000001" not in page.content()
    status = page.evaluate("""async () => {
        const token = document.querySelector('input[name=csrf_token]').value;
        const response = await fetch('/admin/members/export', {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'csrf_token=' + encodeURIComponent(token)});
        return response.status;
    }""")
    assert status == 403
    response = page.goto("/admin/audit")
    assert response.status == 403
