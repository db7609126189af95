"""Every dashboard page a role opens, at a phone's width (390 px) and a desktop's (1366 px), in a real
browser: nothing wider than the screen, the menu folds on a phone, and an organiser's page source never
holds the member's phone number (in any writing) or a voucher code. Screenshots are kept under pytest's
temporary folder."""

# ruff: noqa: F811  (fixtures are imported from other test modules and used as arguments)

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.extensions import db
from bot.models import Member
from bot.support import notes, tickets
from tests.helpers.browser import pytestmark, signed_in_tab, widths  # noqa: F401  (the skip)
from tests.helpers.dashboard import CODE, make_user, rewarded_member

PHONE = "+254712345678"
PHONE_FORMS = ("+254712345678", "254712345678", "0712345678", "0712 345 678", "712345678", "+254 712 345 678",
               "0712-345-678")
WIDTHS = (390, 1366)
ROLE_PAGES = {
    "officer": ["/admin/certificates", "/admin/vouchers"],
    "organiser": ["/admin/tickets", "/admin/broadcasts", "/admin/broadcasts/new"],
    "admin": ["/admin/certificates", "/admin/vouchers", "/admin/tickets", "/admin/broadcasts", "/admin/accounts",
              "/admin/audit", "/admin/jobs"],
}
REPORTS = {"officer": ["vouchers", "membership"], "organiser": ["tickets", "membership"],
           "admin": ["vouchers", "tickets", "membership"]}


def seed(app, tmp_path: Path) -> tuple[int, int]:
    """A member with a voucher, a ticket whose texts carry the phone number, and a note with both; returns the
    member's id and the ticket's."""
    member_id = rewarded_member(app, tmp_path, CODE)
    with app.app_context():
        member = db.session.get(Member, member_id)
        ticket_id = tickets.open_ticket(member, "Please call me on 0712 345 678 about my code " + CODE, "agent").id
        db.session.commit()
        tickets.reply(ticket_id, "We will call 0712-345-678 tomorrow", actor="organiser@umoja.example.org")
        notes.add_note(member, f"Her other number is 254712345678; code {CODE}", author="officer@umoja.example.org")
        db.session.commit()
    return member_id, ticket_id


def pages_for(role: str, member_id: int, ticket_id: int) -> list[str]:
    """Every page of the dashboard the role opens (a missing one too: the 404 page)."""
    tickets_pages = [f"/admin/tickets/{ticket_id}", "/admin/tickets?state=all&q=code", "/admin/saved-answers"]
    return ["/admin/", "/admin/?county=Nairobi&from=2026-01-01&to=2099-12-31", "/admin/members",
            f"/admin/members/{member_id}", "/admin/reports", "/admin/templates",
            *(f"/admin/reports/{name}.html" for name in REPORTS[role]), *ROLE_PAGES[role],
            *(tickets_pages if role != "officer" else []), "/admin/no-such-page"]


@pytest.mark.parametrize("role", ["officer", "organiser", "admin"])
def test_every_page_fits_a_phone_and_a_desktop(app, browser, live_server, catalog, role, tmp_path_factory):
    member_id, ticket_id = seed(app, tmp_path_factory.mktemp("codes"))
    email = make_user(app, role)
    shots = tmp_path_factory.mktemp(f"screenshots-{role}")
    errors: list[str] = []
    for width in WIDTHS:
        context, tab = signed_in_tab(browser, live_server, email, width, errors)
        for path in pages_for(role, member_id, ticket_id):
            response = tab.goto(path)
            assert response.status == (404 if path.endswith("no-such-page") else 200), (role, path, response.status)
            tab.wait_for_load_state("load")
            name = re.sub(r"[/.?&=]", "_", path.strip("/")) or "admin"
            tab.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            scroll, inner = widths(tab)
            assert scroll <= inner, (role, width, path, scroll, inner)
            nav_shown = tab.locator("header nav").is_visible()
            assert nav_shown is (width > 640), (role, width, path)
            if role == "organiser":
                source = tab.content()
                for written in (*PHONE_FORMS, CODE):
                    assert written not in source, (path, written)
        if width == 390:
            tab.goto("/admin/reports")
            tab.click("label.nav-button")
            assert tab.locator("header nav").is_visible()
            tab.click("header nav >> text=Members")
            tab.wait_for_url("**/admin/members")
            table_display = tab.evaluate("() => getComputedStyle(document.querySelector('main table tr')).display")
            assert table_display == "block"
        context.close()
    assert errors == []
    assert len(list(shots.glob("*.png"))) == 2 * len(pages_for(role, member_id, ticket_id))
