"""Campaign results: a broadcast's funnel by the hour and its replies within a day (masked for organisers), the
comparison of the last broadcasts and its audited CSV, role gating, and the statements a page costs."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.core.local_time import to_local
from bot.models import AuditEvent, Broadcast, BroadcastDelivery, Member, Message, utcnow
from tests.helpers.dashboard import add_member, make_user, sign_in, statements_run

CODE = "LIPX-7KQ2-99AB"
# A broadcast that started at 10 past the hour, two days ago (so every reply window has closed).
START = (utcnow() - timedelta(days=2)).replace(minute=10, second=0, microsecond=0)


def deliver(broadcast_id: int, member_id: int, status: str, after: timedelta, *, code: int | None = None,
            reason: str | None = None) -> None:
    """A delivery that reached `status` `after` the start."""
    db.session.add(BroadcastDelivery(broadcast_id=broadcast_id, member_id=member_id, status=status, error_code=code,
                                     reason=reason, updated_at=START + after))


def inbound(member_id: int, body: str, after: timedelta) -> None:
    """A message from the member `after` the start."""
    db.session.add(Message(member_id=member_id, direction="in", body=body, status="received",
                           created_at=START + after))


def broadcast(text: str = "Meeting on Saturday", *, started: datetime | None = START) -> int:
    """A finished broadcast (no deliveries yet); returns its id."""
    b = Broadcast(texts={"en": text}, status="done", started_at=started, finished_at=started and started + timedelta(hours=1),
                  created_at=(started or utcnow()) - timedelta(minutes=5))
    db.session.add(b)
    db.session.flush()
    return b.id


def seed(app) -> dict[str, int]:
    """One broadcast to five members: read (and a reply with a phone and a voucher code in it, and one before the
    start), delivered (its reply a day too late), failed (invalid recipient; what they write is no reply), sent, skipped (no template); and a
    member outside the audience who writes in the same hour."""
    names = ("amina", "baraka", "chebet", "daudi", "esther", "faraji")
    ids = {name: add_member(app, name.title(), phone=f"+25471100000{i}") for i, name in enumerate(names, 1)}
    with app.app_context():
        ids["broadcast"] = b = broadcast()
        deliver(b, ids["amina"], "read", timedelta(minutes=5))
        deliver(b, ids["baraka"], "delivered", timedelta(hours=1, minutes=10))
        deliver(b, ids["chebet"], "failed", timedelta(minutes=2), code=63024, reason="63024")
        deliver(b, ids["daudi"], "sent", timedelta(minutes=3))
        deliver(b, ids["esther"], "skipped", timedelta(minutes=1), reason="no_template")
        inbound(ids["amina"], "Nimefika! Nipigie 0712345678, my code " + CODE, timedelta(minutes=30))
        inbound(ids["amina"], "written before the broadcast", -timedelta(hours=1))
        inbound(ids["baraka"], "a day and more later", timedelta(hours=1, minutes=10) + timedelta(hours=25))
        inbound(ids["chebet"], "whose message failed", timedelta(minutes=10))
        inbound(ids["faraji"], "not a recipient", timedelta(minutes=40))
        db.session.commit()
    return ids


def chart_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert found, html
    return json.loads(found.group(1))


def hour(app, offset: int) -> str:
    """The label of an hour since the start, in local time."""
    with app.app_context():
        return to_local(START.replace(minute=0) + timedelta(hours=offset)).strftime("%d %b %H:00")


def test_funnel_by_the_hour_and_the_replies_within_a_day(app, client):
    ids = seed(app)
    sign_in(client, make_user(app, "admin"))
    response = client.get(f"/admin/broadcasts/{ids['broadcast']}/results")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    totals = {key: re.search(rf'id="total-{key}">([^<]*)<', html).group(1)
              for key in ("sent", "delivered", "read", "failed", "skipped", "queued", "replied", "replies")}
    assert totals == {"sent": "3", "delivered": "2", "read": "1", "failed": "1", "skipped": "1", "queued": "0",
                      "replied": "1 member", "replies": "1"}
    funnel = chart_of(html)["funnel"]
    assert funnel["labels"] == [hour(app, 0), hour(app, 1)]
    assert {s["label"]: s["values"] for s in funnel["datasets"]} == {
        "sent": [1, 0], "delivered": [0, 1], "read": [1, 0], "failed": [1, 0]}
    table = html.split('id="table-funnel"')[1].split("</table>")[0]
    assert '<th scope="col">Hour (EAT)</th>' in table
    assert f'<td data-label="Hour (EAT)">{hour(app, 1)}</td><td data-label="Sent">0</td><td data-label="Delivered">1</td>' in table
    failures = html.split('id="failures"')[1].split("</table>")[0]
    assert "63024" in failures and hour(app, 0) in failures and "<td data-label=\"Count\">1</td>" in failures
    replies = html.split('id="replies"')[1].split("</table>")[0]
    assert replies.count('class="reply"') == 1
    assert "Nimefika" in replies and f"0712345678, my code {CODE}" in replies  # an admin reads it whole
    for left_out in ("written before the broadcast", "a day and more later", "whose message failed", "not a recipient"):
        assert left_out not in html
    with app.app_context():
        number = db.session.get(Member, ids["amina"]).member_number
    assert f'<a href="/admin/members/{ids["amina"]}">{number}</a>' in replies
    assert "25 min (read)" in replies
    assert "Amina" not in html  # members are known by member number only
    assert "vendor/chart.umd.js" in html and "<script>" not in html  # no inline script (the CSP)


def test_the_funnel_is_exact_from_the_step_times_and_old_rows_are_counted_the_approximate_way(app, client):
    names = ("read", "delivered", "sent", "failed", "old")
    ids = {name: add_member(app, name.title(), phone=f"+25471100020{i}") for i, name in enumerate(names)}
    minutes = lambda n: START + timedelta(minutes=n)  # noqa: E731
    with app.app_context():
        b = broadcast()
        steps = {"read": ("read", 5, 60, 130), "delivered": ("delivered", 3, 20, None), "sent": ("sent", 60, None, None)}
        for name, (status, sent, delivered, read) in steps.items():
            db.session.add(BroadcastDelivery(
                broadcast_id=b, member_id=ids[name], status=status, sent_at=minutes(sent),
                delivered_at=delivered and minutes(delivered), read_at=read and minutes(read),
                updated_at=minutes(read or delivered or sent)))
        deliver(b, ids["failed"], "failed", timedelta(minutes=2), code=63024, reason="63024")
        deliver(b, ids["old"], "delivered", timedelta(minutes=30))  # from before the times were kept
        db.session.commit()
    sign_in(client, make_user(app, "organiser"))
    html = client.get(f"/admin/broadcasts/{b}/results").get_data(as_text=True)
    funnel = chart_of(html)["funnel"]
    assert funnel["labels"] == [hour(app, 0), hour(app, 1), hour(app, 2)]
    # The read message counts as sent in hour 0, delivered in hour 1 and read in hour 2; the old row once, in
    # the hour of its present step.
    assert {s["label"]: s["values"] for s in funnel["datasets"]} == {
        "sent": [2, 1, 0], "delivered": [2, 1, 0], "read": [0, 0, 1], "failed": [1, 0, 0]}
    totals = {key: re.search(rf'id="total-{key}">([^<]*)<', html).group(1) for key in ("sent", "delivered", "read", "failed")}
    assert totals == {"sent": "4", "delivered": "3", "read": "1", "failed": "1"}
    note = html.split('id="funnel-note">')[1].split("</p>")[0]
    assert "so the\nhours are exact" in note
    assert 'id="funnel-approximate">1 delivery from before' in note
    with app.app_context():
        db.session.execute(sa.delete(BroadcastDelivery).where(BroadcastDelivery.member_id == ids["old"]))
        db.session.commit()
    html = client.get(f"/admin/broadcasts/{b}/results").get_data(as_text=True)
    assert "funnel-approximate" not in html
    assert {s["label"]: s["values"] for s in chart_of(html)["funnel"]["datasets"]}["delivered"] == [1, 1, 0]


def test_an_organiser_reads_replies_masked(app, client):
    ids = seed(app)
    sign_in(client, make_user(app, "organiser"))
    html = client.get(f"/admin/broadcasts/{ids['broadcast']}/results").get_data(as_text=True)
    assert "Nimefika" in html
    assert CODE not in html and "0712345678" not in html and "712345678" not in html
    assert not re.search(r"\+2547\d{8}", html)  # no recipient's phone number either


def test_late_statuses_gather_in_the_last_bucket_and_queued_ones_wait(app, client):
    ids = {name: add_member(app, name, phone=f"+25471100010{i}") for i, name in enumerate(("late", "early", "waiting"))}
    with app.app_context():
        b = broadcast()
        deliver(b, ids["late"], "read", timedelta(days=4))
        deliver(b, ids["early"], "delivered", timedelta(minutes=1))
        deliver(b, ids["waiting"], "queued", timedelta(0))
        db.session.commit()
    sign_in(client, make_user(app, "organiser"))
    html = client.get(f"/admin/broadcasts/{b}/results").get_data(as_text=True)
    funnel = chart_of(html)["funnel"]
    assert len(funnel["labels"]) == 73 and funnel["labels"][-1] == "later (72 h on)"
    values = {s["label"]: s["values"] for s in funnel["datasets"]}
    assert values["read"][-1] == 1 and values["delivered"][0] == 1 and sum(values["sent"]) == 0
    assert 'id="total-queued">1<' in html and 'id="total-sent">2<' in html
    table = html.split('id="table-funnel"')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # the heading and the two hours with something in them


def test_a_broadcast_that_has_not_started_has_no_results_yet(app, client):
    with app.app_context():
        draft = broadcast(started=None)
        db.session.commit()
    sign_in(client, make_user(app, "organiser"))
    html = client.get(f"/admin/broadcasts/{draft}/results").get_data(as_text=True)
    assert 'id="not-started"' in html and "chart-data" not in html
    assert client.get("/admin/broadcasts/999999/results").status_code == 404


@pytest.mark.parametrize("url", ["/admin/broadcasts/{id}/results", "/admin/broadcasts/compare",
                                 "/admin/broadcasts/compare.csv"])
def test_officers_may_not_open_campaign_results(app, client, url):
    ids = seed(app)
    sign_in(client, make_user(app, "officer"))
    assert client.get(url.format(id=ids["broadcast"])).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "report.export")) == 0


def test_compare_the_last_broadcasts_and_export_them_audited(app, client):
    ids = seed(app)
    with app.app_context():
        older = broadcast("An older one", started=START - timedelta(days=3))
        for n, status in enumerate(("read", "read", "delivered", "failed")):
            member = ids[("amina", "baraka", "chebet", "daudi")[n]]
            deliver(older, member, status, -timedelta(days=3) + timedelta(minutes=n))
        inbound(ids["baraka"], "from the older one", -timedelta(days=3) + timedelta(hours=2))
        broadcast("Never started", started=None)  # drafts are left out
        for n in range(11):  # eleven newer ones push the two seeded above past the last ten ...
            broadcast(f"newer {n}", started=START + timedelta(hours=n + 1))
        db.session.commit()
    sign_in(client, make_user(app, "organiser"))
    html = client.get("/admin/broadcasts/compare").get_data(as_text=True)
    assert html.count('class="compared"') == 10 and "Meeting on Saturday" not in html  # ... the last ten only
    with app.app_context():
        newer = [b.id for b in db.session.scalars(sa.select(Broadcast)) if b.english_text.startswith("newer ")]
        db.session.execute(sa.delete(Broadcast).where(Broadcast.id.in_(newer)))
        db.session.commit()
    html = client.get("/admin/broadcasts/compare").get_data(as_text=True)
    rows = html.split('class="compared"')[1:]
    assert len(rows) == 2 and "Never started" not in html
    first, second = rows
    assert ids["broadcast"] and f'>{ids["broadcast"]}</a>' in first and "Meeting on Saturday" in first
    assert 'class="pct-delivered">40.0% (2)' in first and 'class="pct-read">20.0% (1)' in first
    assert 'class="pct-failed">20.0% (1)' in first and 'class="pct-replied">20.0% (1)' in first
    assert 'class="pct-delivered">75.0% (3)' in second and 'class="pct-read">50.0% (2)' in second
    assert 'class="pct-failed">25.0% (1)' in second and 'class="pct-replied">25.0% (1)' in second
    response = client.get("/admin/broadcasts/compare.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == ["broadcast", "started_at", "text", "audience", "sent", "sent_pct", "delivered", "delivered_pct",
                        "read", "read_pct", "failed", "failed_pct", "replied_within_a_day", "replied_pct"]
    assert table[1][0] == str(ids["broadcast"]) and table[1][3:] == ["5", "3", "60.0", "2", "40.0", "1", "20.0", "1",
                                                                     "20.0", "1", "20.0"]
    assert table[2][2] == "An older one" and table[2][4:] == ["3", "75.0", "3", "75.0", "2", "50.0", "1", "25.0", "1",
                                                              "25.0"]
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.export")).one()
    assert (event.actor, event.subject, event.details) == (
        "organiser@umoja.example.org", "broadcast_comparison", {"format": "csv", "rows": 2})


def test_the_pages_cost_the_same_statements_however_big_the_broadcast(app, client):
    ids = seed(app)
    sign_in(client, make_user(app, "organiser"))
    url = f"/admin/broadcasts/{ids['broadcast']}/results"
    client.get(url)
    with statements_run(app) as before:
        assert client.get(url).status_code == 200
    with statements_run(app) as compare_before:
        assert client.get("/admin/broadcasts/compare").status_code == 200
    more = [add_member(app, f"Member {n}", phone=f"+25471399{n:04d}") for n in range(20)]
    with app.app_context():
        for n, member_id in enumerate(more):
            deliver(ids["broadcast"], member_id, ("read", "delivered", "failed", "sent")[n % 4], timedelta(hours=n % 5))
            inbound(member_id, f"reply {n}", timedelta(hours=n % 5, minutes=20))
        db.session.commit()
    with statements_run(app) as after:
        html = client.get(url).get_data(as_text=True)
    assert html.count('class="reply"') == 16  # the failed have none
    assert len(after) == len(before)
    reading = [s for s in after if "broadcast_deliveries" in s]
    assert len(reading) == 2  # the funnel with its replies per hour, and the replies themselves
    with statements_run(app) as compare_after:
        assert client.get("/admin/broadcasts/compare").status_code == 200
    assert len(compare_after) == len(compare_before)
    assert len([s for s in compare_after if "broadcast_deliveries" in s]) == 1


def check_upgrade_keeps_deliveries_without_times(app_to_migrate) -> None:
    """Revision 0021 on a database holding a delivery: the row stays, its times empty; and back."""
    from flask_migrate import downgrade, upgrade

    with app_to_migrate.app_context():
        downgrade(revision="0020")
        try:
            with db.engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO members (id, phone, status, created_at, updated_at) "
                    "VALUES (902, '+254700000902', 'active', '2026-11-30', '2026-11-30')"))
                connection.execute(sa.text("INSERT INTO broadcasts (id, texts, segment, status, created_at) "
                                           "VALUES (902, '{\"en\": \"Hello\"}', '{}', 'done', '2026-11-30')"))
                connection.execute(sa.text(
                    "INSERT INTO broadcast_deliveries (broadcast_id, member_id, status, status_rank, attempts, lookups, "
                    "updated_at) VALUES (902, 902, 'read', 6, 1, 0, '2026-11-30 10:00:00')"))
        finally:
            db.session.remove()
            upgrade()
        row = db.session.execute(sa.text("SELECT status, sent_at, delivered_at, read_at FROM broadcast_deliveries "
                                         "WHERE broadcast_id = 902")).one()
        assert tuple(row) == ("read", None, None, None)  # what happened before is not guessed
        db.session.remove()
        downgrade(revision="0020")
        try:
            with db.engine.connect() as connection:
                columns = {c["name"] for c in sa.inspect(connection).get_columns("broadcast_deliveries")}
                assert not columns & {"sent_at", "delivered_at", "read_at"}
                assert connection.execute(sa.text("SELECT count(*) FROM broadcast_deliveries "
                                                  "WHERE broadcast_id = 902")).scalar() == 1
        finally:
            upgrade()
        db.session.execute(sa.text("DELETE FROM broadcasts WHERE id = 902"))
        db.session.execute(sa.text("DELETE FROM members WHERE id = 902"))
        db.session.commit()
        db.session.remove()


def test_the_upgrade_keeps_older_deliveries_without_times(app):
    check_upgrade_keeps_deliveries_without_times(app)


def test_the_upgrade_on_sqlite_too(tmp_path):
    from flask_migrate import upgrade

    from bot import create_app
    from tests.helpers.app import app_config

    older = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'older.db'}"))
    with older.app_context():
        upgrade()
    try:
        check_upgrade_keeps_deliveries_without_times(older)
    finally:
        with older.app_context():
            db.engine.dispose()
