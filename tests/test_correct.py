"""CHANGE MY DETAILS through the webhook: the member's row changes, each change is one audit entry naming the
field and never the old or new value, the running counts move with a county or work change (and agree with
counting the members), and the yes to the sensitive questions is a consent event."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent, ConsentEvent, Member
from bot.stats import service as stats
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY, member_row, play

AMINA = "+254712345678"


def corrections(app) -> list[tuple[str, str | None, dict]]:
    """(actor, subject, details) of every member.correct audit entry, oldest first."""
    with app.app_context():
        return [(e.actor, e.subject, e.details) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "member.correct").order_by(AuditEvent.id))]


def figures(app) -> dict[str, object]:
    """Members by county and by kind of work: from the running counts and counted live."""
    with app.app_context():
        everyone = stats.StatsFilter()
        with stats.one_reading():
            running = (stats.counts_by(Member.county, everyone), stats.counts_by_work(everyone))
        live = (stats.live_counts_by(Member.county, everyone), stats.live_counts_by_work(everyone))
        return {"running": running, "live": live}


def test_a_member_changes_county_and_work_and_the_counts_follow(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)  # Nairobi; data annotation and online freelancing
    before = figures(app)
    assert dict(before["running"][0]) == {"Nairobi": 1}
    play(whatsapp, [
        ("change my details", ["Your details:", "2. County: Nairobi"]),
        ("2", ["Which county do you live in?"]),
        ("Kisumu", ["Saved.", "2. County: Kisumu"]),
        ("3", ["What kind of gig work do you do?"]),
        ("5", ["Saved.", "3. Work: Ride-hailing or delivery"]),
        ("1", ["What is your full name?"]),
        ("Amina Achieng", ["Saved.", "1. Name: Amina Achieng"]),
        ("yes", ["Your details are up to date."]),
    ])
    member = member_row(app, AMINA)
    assert (member.name, member.county, member.member_number) == ("Amina Achieng", "Kisumu", "KUGWO-000001")
    with app.app_context():
        assert sorted(db.session.scalars(sa.text("SELECT kind FROM member_work"))) == ["ride_delivery"]
    after = figures(app)
    assert after["running"] == after["live"]
    assert dict(after["running"][0]) == {"Kisumu": 1}
    assert dict(after["running"][1]) == {"ride_delivery": 1}
    assert "County: Kisumu" in whatsapp.says("my data")
    subject = f"member:{member.id}"
    assert corrections(app) == [(subject, subject, {"field": "county"}), (subject, subject, {"field": "work"}),
                                (subject, subject, {"field": "name"})]
    details = json.dumps([entry for *_, entry in corrections(app)])
    assert not any(value in details for value in ("Nairobi", "Kisumu", "Wanjiku", "Achieng", "annotation"))


def test_an_unchanged_answer_is_not_recorded(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    play(whatsapp, [("change my details", []), ("2", []), ("Nairobi", ["nothing changed"]), ("menu", ["Main menu"])])
    assert corrections(app) == []


def test_gender_given_after_saying_no_asks_the_sensitive_question_and_records_the_yes(app, whatsapp):
    play(whatsapp, SWAHILI_HAPPY[:5])  # up to the sensitive question
    play(whatsapp, [("2", ["Tafadhali hakikisha taarifa zako:"]), ("ndiyo", ["Karibu, Baraka Otieno!"])])
    assert member_row(app, AMINA).gender is None
    play(whatsapp, [
        ("badilisha taarifa", ["Taarifa zako:", "4. Jinsia: hakuna jibu"]),
        ("4", ["Sheria inaziona hizi kuwa taarifa nyeti"]),
        ("1", ["Jinsia yako ni ipi?"]),
        ("2", ["Imehifadhiwa.", "4. Jinsia: Mwanamume"]),
    ])
    member = member_row(app, AMINA)
    assert member.gender == "man"
    with app.app_context():
        kinds = list(db.session.scalars(sa.select(ConsentEvent.kind).where(ConsentEvent.member_id == member.id)
                                        .order_by(ConsentEvent.id)))
    assert kinds == ["consent", "sensitive_no", "sensitive"]
    assert [details for *_, details in corrections(app)] == [{"field": "gender"}]


def test_the_timeline_shows_each_change_and_an_objection_by_field_only(app, client, whatsapp):
    from tests.helpers.dashboard import make_user, sign_in
    from tests.test_dashboard_timeline import titles_of

    play(whatsapp, ENGLISH_HAPPY)
    play(whatsapp, [("change my details", []), ("2", []), ("Kisumu", ["Saved."]), ("menu", []),
                    ("no broadcasts", ["You will not get union news"])])
    sign_in(client, make_user(app, "organiser"))
    html = client.get(f"/admin/members/{member_row(app, AMINA).id}").get_data(as_text=True)
    titles = titles_of(html)
    assert titles.count("Changed an answer of sign-up") == 1 and "Stopped broadcasts (NO BROADCASTS)" in titles
