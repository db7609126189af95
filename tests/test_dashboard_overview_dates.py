"""The overview over a range of joining days (in TIMEZONE): live counts of the members who joined then, the
small-group rule, the range in the title and the links, and dates that cannot be read refused (the reports
read them with the same parser)."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent, Course, Enrolment, Member
from tests.helpers.dashboard import add_member, make_user, sign_in
from tests.test_dashboard import overview_charts

# Moments in UTC; the union's time zone (EAT) is three hours ahead.
FIRST_OF_NOVEMBER_EAT = datetime(2026, 10, 31, 21, 30)  # 2026-11-01 00:30 EAT: in November
LAST_OF_OCTOBER_EAT = datetime(2026, 10, 31, 20, 30)  # 2026-10-31 23:30 EAT: before it
FIRST_OF_DECEMBER_EAT = datetime(2026, 11, 30, 21, 30)  # 2026-12-01 00:30 EAT: after it
NOVEMBER = "from=2026-11-01&to=2026-11-30"


def joined(app, member_id: int, when: datetime) -> None:
    """Set when a member joined."""
    with app.app_context():
        db.session.get(Member, member_id).joined_at = when
        db.session.commit()


def seed(app) -> dict[str, int]:
    """Five Nairobi members (one opted out since) and one from Turkana who joined in November (EAT), one who
    joined just before and one just after; one enrolment in November's group, one outside it."""
    ids = {}
    for i in range(5):
        ids[f"nairobi{i}"] = add_member(app, f"Amina {i}", phone=f"+25471100000{i}", county="Nairobi")
        joined(app, ids[f"nairobi{i}"], FIRST_OF_NOVEMBER_EAT if i == 0 else datetime(2026, 11, 10 + i, 9))
    ids["turkana"] = add_member(app, "Baraka", phone="+254711000009", county="Turkana", kinds=("ride_delivery",),
                                gender="man")
    joined(app, ids["turkana"], datetime(2026, 11, 20, 9))
    ids["october"] = add_member(app, "Chebet", phone="+254711000010", county="Kiambu")
    joined(app, ids["october"], LAST_OF_OCTOBER_EAT)
    ids["december"] = add_member(app, "Dalmas", phone="+254711000011", county="Kiambu")
    joined(app, ids["december"], FIRST_OF_DECEMBER_EAT)
    with app.app_context():
        db.session.get(Member, ids["nairobi2"]).opted_out_at = datetime(2026, 12, 1, 9)
        db.session.commit()
    with app.app_context():
        course = Course(slug="excel", url="https://www.linkedin.com/learning/excel", titles={"en": "Excel"})
        db.session.add(course)
        db.session.flush()
        db.session.add_all([Enrolment(member_id=ids["nairobi1"], course_id=course.id, status="rewarded"),
                            Enrolment(member_id=ids["october"], course_id=course.id, status="enrolled")])
        db.session.commit()
    return ids


def signed_in(app, role: str = "organiser"):
    """A client signed in as a new account of this role."""
    client = app.test_client()
    assert sign_in(client, make_user(app, role)).status_code == 302
    return client


def test_the_overview_counts_the_members_who_joined_in_the_range(app):
    seed(app)
    client = signed_in(app)
    response = client.get(f"/admin/?{NOVEMBER}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Overview: joined 2026-11-01 to 2026-11-30</h1>" in html
    assert "<title>Overview: joined 2026-11-01 to 2026-11-30" in html
    assert "<b>6</b> members" in html and "<b>5</b> active" in html and "<b>1</b> opted out" in html
    assert "new this week" not in html and "New this week and this month are shown without dates" in html
    charts = overview_charts(html)
    # The same small-group rule as without dates: Turkana's one member is drawn nowhere.
    assert charts["county"]["table"] == [["Nairobi", "5"], ["Turkana", "<5"]] and charts["county"]["hidden"] == 1
    assert charts["county"]["labels"] == ["Nairobi"]
    assert dict(zip(charts["work"]["labels"], charts["work"]["values"], strict=True)) == {"Transcription": 5}
    assert charts["joined"]["labels"] == ["2026-11"] and charts["joined"]["values"] == [6]
    # The course funnel follows the range: the enrolments of these members only.
    assert dict(zip(charts["funnel"]["labels"], charts["funnel"]["values"], strict=True)) == {
        "enrolled": 1, "reported": 1, "verified": 1, "rewarded": 1}
    assert "Course funnel of these members&#39; enrolments" in html
    # The form and the links keep the range.
    assert 'name="from" id="joined-from" value="2026-11-01"' in html and 'id="joined-to" value="2026-11-30"' in html
    assert 'href="/admin/reports?from=2026-11-01&amp;to=2026-11-30" id="range-reports"' in html
    assert 'href="/admin/" id="every-date"' in html

    both = client.get(f"/admin/?county=Nairobi&work=transcription&{NOVEMBER}").get_data(as_text=True)
    assert "<h1>Overview: Nairobi, Transcription, joined 2026-11-01 to 2026-11-30</h1>" in both
    assert "<b>5</b> members" in both
    assert 'href="/admin/?county=Nairobi&amp;work=transcription" id="every-date"' in both

    october = client.get("/admin/?from=2026-10-31&to=2026-10-31").get_data(as_text=True)
    assert "<h1>Overview: joined on 2026-10-31</h1>" in october and "<b>1</b> members" in october
    assert overview_charts(october)["county"]["table"] == [["Kiambu", "<5"]]
    assert overview_charts(october)["county"]["labels"] == []
    up_to = client.get("/admin/?to=2026-11-30").get_data(as_text=True)
    assert "<h1>Overview: joined up to 2026-11-30</h1>" in up_to and "<b>7</b> members" in up_to
    assert 'id="range-reports"' not in up_to  # a report always has a first day


def test_a_range_over_every_joining_day_gives_the_figures_without_dates(app):
    seed(app)
    client = signed_in(app, "officer")
    everyone = client.get("/admin/").get_data(as_text=True)
    dated = client.get("/admin/?from=2000-01-01&to=2099-12-31").get_data(as_text=True)
    assert "<b>8</b> members" in everyone and "<b>8</b> members" in dated
    standing = re.compile(r"<li><b>(\d+)</b> (members|active|opted out|data erased)</li>")
    assert standing.findall(everyone) == standing.findall(dated) and len(standing.findall(dated)) == 4
    plain, ranged = overview_charts(everyone), overview_charts(dated)
    for name in ("county", "work", "gender", "community", "funnel"):
        assert plain[name] == ranged[name], name


def test_dates_that_cannot_be_read_are_refused_with_the_reason(app):
    seed(app)
    client = signed_in(app)
    refusals = {
        "from=2026-13-01": 'The "from" date "2026-13-01" is not a date: write it as YYYY-MM-DD',
        "from=20261101": 'The "from" date "20261101" is not a date',
        "to=yesterday": 'The "to" date "yesterday" is not a date',
        "from=2026-11-01junk": 'The "from" date "2026-11-01junk" is not a date',
        "from=1900-01-01": 'The "from" date 1900-01-01 is outside the years 2000–2099',
        "from=2026-12-01&to=2026-11-01": 'The "from" date (2026-12-01) is after the "to" date (2026-11-01)',
    }
    for query, reason in refusals.items():
        response = client.get(f"/admin/?county=Nairobi&{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 400, query
        assert reason.replace('"', "&#34;") in html, (query, re.findall(r'id="range-problem"[^<]*', html))
        assert 'id="chart-data"' not in html and "members</li>" not in html, query  # no figures for other dates
        assert "<option selected>Nairobi</option>" in html, query  # the rest of the form is kept
    for query, reason in refusals.items():
        response = client.get(f"/admin/reports?{query}")
        assert response.status_code == 400, query
        assert reason.replace('"', "&#34;") in response.get_data(as_text=True), query
        assert client.get(f"/admin/reports/membership.csv?{query}").status_code == 400, query
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "report.export")) == 0  # nothing was exported


def test_the_range_on_the_embedded_database(tmp_path):
    from bot import create_app
    from tests.conftest import app_config

    embedded = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'umoja.db'}",
                                     AUTO_MIGRATE=True))
    seed(embedded)
    html = signed_in(embedded).get(f"/admin/?{NOVEMBER}").get_data(as_text=True)
    assert "<b>6</b> members" in html
    assert overview_charts(html)["county"]["table"] == [["Nairobi", "5"], ["Turkana", "<5"]]
    with embedded.app_context():
        db.engine.dispose()
