"""The templates page in a real browser at a phone's width and a desktop's (nothing wider than the screen, the
missing templates marked), and the composer's live count pointing at it for the members who would get nothing."""

# ruff: noqa: F811  (fixtures are imported from other test modules and used as arguments)

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers.broadcasts import OLD, add_members
from tests.helpers.browser import pytestmark, sign_in, signed_in_tab, widths  # noqa: F401  (the skip)
from tests.helpers.dashboard import make_user

SIDS = {name: {code: "HX" + f"{n:x}{i:x}" * 16 for i, code in enumerate(("en", "sw", "fr", "ar"))}
        for n, name in enumerate(("broadcast", "voucher", "organiser_reply"))}


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_the_templates_page_fits_a_phone_and_a_desktop(app, browser, live_server, monkeypatch, role,
                                                       tmp_path_factory):
    monkeypatch.setitem(app.config, "WHATSAPP_TEMPLATES", {**SIDS, "an_old_entry_nobody_sends_any_more": {"en": "HX1"}})
    monkeypatch.setitem(app.config, "TEMPLATE_FALLBACK", "")
    email = make_user(app, role)
    shots = tmp_path_factory.mktemp(f"screenshots-templates-{role}")
    errors: list[str] = []
    for width in (390, 1366):
        context, tab = signed_in_tab(browser, live_server, email, width, errors)
        if width == 390:
            tab.click("label.nav-button")
        tab.click("header nav >> text=Templates")
        tab.wait_for_url("**/admin/templates")
        tab.screenshot(path=str(shots / f"templates-{width}.png"), full_page=True)
        scroll, inner = widths(tab)
        assert scroll <= inner, (width, scroll, inner)
        # Somali has no template and there is no fallback: marked on every row.
        missing = tab.locator("#template-broadcast li[data-language=so]")
        assert "get nothing outside the window" in missing.inner_text()
        assert missing.evaluate("li => getComputedStyle(li).backgroundColor") != "rgba(0, 0, 0, 0)"
        assert tab.locator("#template-broadcast li[data-language=sw] code").inner_text() == SIDS["broadcast"]["sw"]
        assert tab.locator("#approval-note").is_visible()
        context.close()
    assert errors == []


def test_the_live_count_shows_who_would_get_nothing_with_a_link(app, page, monkeypatch):
    from bot.core.extensions import db

    monkeypatch.setitem(app.config, "WHATSAPP_TEMPLATES", {"broadcast": {"en": "HXen"}})
    monkeypatch.setitem(app.config, "TEMPLATE_FALLBACK", "")
    with app.app_context():
        add_members(1, start=1)
        add_members(2, start=2, language="so", last_inbound=OLD)
        db.session.commit()
    sign_in(page, make_user(app, "organiser"))
    page.goto("/admin/broadcasts/new")
    page.wait_for_selector("#compose[data-counted=true]")
    notice = page.locator("#live-nothing")
    expect(notice).to_be_visible()
    assert "2 members of the segment will get nothing (Somali" in notice.inner_text()
    page.select_option("select[name=language]", ["en"])
    expect(notice).to_be_hidden()
    page.select_option("select[name=language]", ["so"])
    expect(notice).to_be_visible()
    notice.locator("a").click()
    page.wait_for_url("**/admin/templates")
