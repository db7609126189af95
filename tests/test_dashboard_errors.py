"""Small things staff hit: error pages in the dashboard's layout with a way back (an expired form keeps
the text typed), times in TIMEZONE with the zone named, a phone search in any writing."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Member
from tests.dashboard_helpers import add_member, make_user, sign_in

LAYOUT = 'href="/admin/members"'  # the navigation of a signed-in page


def signed_in(app, role: str):
    """A client signed in as a new account of this role."""
    client = app.test_client()
    assert sign_in(client, make_user(app, role)).status_code == 302
    return client


def test_404_and_403_in_the_layout_with_a_way_back(app):
    organiser = signed_in(app, "organiser")
    missing = organiser.get("/admin/nothing-here", headers={"Referer": "http://localhost/admin/members"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 404 and LAYOUT in html and "This page does not exist" in html
    assert 'href="http://localhost/admin/members" id="way-back"' in html
    assert organiser.get("/admin/members/999999").status_code == 404
    refused = organiser.get("/admin/audit", headers={"Referer": "https://elsewhere.example/admin/x"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and LAYOUT in html and "You may not open this page" in html
    assert 'href="/admin/" id="way-back"' in html
    anonymous = app.test_client().get("/admin/nothing-here").get_data(as_text=True)
    assert "This page does not exist" in anonymous and 'href="/admin/login"' in anonymous
    assert "This page does not exist" not in app.test_client().get("/nothing-here").get_data(as_text=True)


def test_an_expired_form_keeps_the_text_typed(app):
    organiser = signed_in(app, "organiser")
    answer = "Dues are KES 50 a month, paid by M-Pesa <b>before</b> the 5th"
    response = organiser.post("/admin/tickets/1/reply", data={"text": answer, "csrf_token": "expired-token"},
                              headers={"Referer": "http://localhost/admin/tickets"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and LAYOUT in html and "This form has expired" in html
    assert "Dues are KES 50 a month, paid by M-Pesa &lt;b&gt;before&lt;/b&gt; the 5th</textarea>" in html
    assert "expired-token" not in html and 'href="http://localhost/admin/tickets"' in html


def test_too_many_sign_ins_get_the_429_page(app):
    client = app.test_client()
    email = make_user(app, "officer")
    codes = [sign_in(client, email, "wrong password!").status_code for _ in range(6)]
    assert codes[-1] == 429
    refused = sign_in(client, email)
    html = refused.get_data(as_text=True)
    # The sign-in page itself, in the layout, says why and keeps the form for the next try.
    assert refused.status_code == 429 and "Too many failed sign-ins" in html and 'name="email"' in html


def test_times_are_shown_in_the_union_time_zone_with_its_name(app):
    member_id = add_member(app, "Amina")
    with app.app_context():
        db.session.execute(sa.update(Member).values(joined_at=datetime(2026, 11, 30, 22, 15, 42, 123456),
                                                    created_at=datetime(2026, 11, 30, 22, 10, 5, 999999)))
        db.session.commit()
    officer = signed_in(app, "officer")
    page = officer.get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert "2026-12-01 01:15 EAT" in page and "2026-12-01 01:10 EAT" in page
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", page) and "2026-11-30 22:15" not in page
    assert "<td>2026-12-01</td>" in officer.get("/admin/members").get_data(as_text=True)
    audit = signed_in(app, "admin").get("/admin/audit").get_data(as_text=True)
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d EAT</td>", audit)


def test_phone_search_in_any_writing(app):
    add_member(app, "Amina", phone="+254712345678")
    add_member(app, "Baraka", phone="+254722000111")
    officer, organiser = signed_in(app, "officer"), signed_in(app, "organiser")

    def found(client, q: str) -> list[str]:
        page = client.get("/admin/members", query_string={"q": q}).get_data(as_text=True)
        return re.findall(r'<td class="name">.*?(Amina|Baraka)', page, re.S)

    for whole in ("0712345678", "0712 345 678", "+254712345678", "+254 712 345 678", "254712345678", "0712-345-678"):
        assert found(officer, whole) == ["Amina"], whole
        assert found(organiser, whole) == ["Amina"], whole
    for start in ("0712 345", "+254 712", "2547123"):
        assert found(officer, start) == ["Amina"], start
        assert found(organiser, start) == [], start
