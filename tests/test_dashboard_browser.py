"""The dashboard in a real browser: Playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent, Member
from tests.helpers.browser import canvas_has_pixels, pytestmark, sign_in  # noqa: F401  (the skip)
from tests.helpers.dashboard import add_member, make_user


def test_sign_in_and_the_charts_are_drawn(app, page):
    for i in range(5):  # a group under five is never drawn
        add_member(app, f"Amina {i}", phone=f"+25471100000{i}", county="Nairobi")
    add_member(app, "Baraka", phone="+254711000009", county="Turkana", kinds=("ride_delivery",), gender="man")
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


@pytest.mark.parametrize("width", [390, 1366])
def test_the_overview_over_a_range_of_joining_days(app, browser, live_server, width):
    from datetime import datetime

    from bot.core.local_time import zone

    with app.app_context():
        today = datetime.now(zone()).date().isoformat()
    for i in range(5):
        add_member(app, f"Amina {i}", phone=f"+25471100000{i}", county="Nairobi")
    add_member(app, "Baraka", phone="+254711000009", county="Turkana")
    with app.app_context():
        db.session.execute(sa.update(Member).where(Member.county == "Turkana").values(joined_at=datetime(2025, 3, 1)))
        db.session.commit()
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 800})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(tab, make_user(app, "organiser"))
    assert tab.locator(".totals li").first.inner_text() == "6 members"
    tab.fill("#joined-from", "2026-01-01")
    tab.fill("#joined-to", today)
    tab.click("#overview-filters button[type=submit]")
    tab.wait_for_url("**/admin/?*from=2026-01-01*")
    assert tab.locator("h1").inner_text() == f"Overview: joined 2026-01-01 to {today}"
    assert tab.locator(".totals li").first.inner_text() == "5 members"
    tab.wait_for_selector("#chart-county[data-drawn=true]")
    assert canvas_has_pixels(tab, "#chart-county")
    scroll, inner = tab.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, (width, scroll, inner)
    tab.click("#every-date")
    tab.wait_for_url("**/admin/")
    assert tab.locator("h1").inner_text() == "Overview"
    refused = tab.goto("/admin/?from=2026-02-30")
    assert refused.status == 400
    assert "is not a date" in tab.locator("#range-problem").inner_text()
    context.close()
    assert errors == []
