"""The dashboard's broadcast pages: compose with a segment, live count, preview, confirm (CSRF), progress,
pause / resume / cancel, the audit log; sent through the real pipeline to the fake Twilio API."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent, Broadcast, BroadcastDelivery, utcnow
from tests.helpers.dashboard import add_member, csrf_token, make_user, sign_in


@pytest.fixture
def organiser(app, client):
    """A signed-in organiser's test client and email."""
    email = make_user(app, "organiser")
    assert sign_in(client, email).status_code == 302
    return client, email


def seed(app) -> dict[str, int]:
    """Three members in Nairobi (one Swahili, one opted out), two in Kisumu; all wrote within the hour."""
    ids = {
        "amina": add_member(app, "Amina", phone="+254711000001", county="Nairobi"),
        "baraka": add_member(app, "Baraka", phone="+254711000002", county="Nairobi", kinds=("ride_delivery",)),
        "chebet": add_member(app, "Chebet", phone="+254711000003", county="Nairobi", gender="man"),
        "daudi": add_member(app, "Daudi", phone="+254711000004", county="Kisumu"),
        "esther": add_member(app, "Esther", phone="+254711000005", county="Kisumu"),
    }
    with app.app_context():
        from bot.models import Member

        db.session.execute(sa.update(Member).values(last_inbound_at=utcnow() - timedelta(minutes=5)))
        db.session.execute(sa.update(Member).where(Member.id == ids["baraka"]).values(language="sw"))
        db.session.execute(sa.update(Member).where(Member.id == ids["chebet"]).values(opted_out_at=utcnow()))
        db.session.commit()
    return ids


def compose(client, **fields):
    """Post the composer with its CSRF token."""
    token = csrf_token(client.get("/admin/broadcasts/new").get_data(as_text=True))
    return client.post("/admin/broadcasts/new", data={"csrf_token": token, **fields})


def count_of(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast))


def test_live_count_follows_the_segment(app, organiser):
    client, _ = organiser
    seed(app)
    everyone = client.get("/admin/broadcasts/count").get_json()
    assert (everyone["matched"], everyone["opted_out"], everyone["recipients"]) == (5, 1, 4)
    nairobi = client.get("/admin/broadcasts/count?county=Nairobi").get_json()
    assert (nairobi["matched"], nairobi["opted_out"], nairobi["text"], nairobi["nothing"]) == (3, 1, 2, 0)
    both = client.get("/admin/broadcasts/count?county=Nairobi&county=Kisumu&work=ride_delivery").get_json()
    assert both["matched"] == 1
    assert client.get("/admin/broadcasts/count?language=sw").get_json()["matched"] == 1
    assert client.get("/admin/broadcasts/count?gender=man").get_json()["matched"] == 1
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert client.get(f"/admin/broadcasts/count?joined_after={tomorrow}").get_json()["matched"] == 0
    assert client.get(f"/admin/broadcasts/count?joined_before={tomorrow}").get_json()["matched"] == 5
    assert client.get("/admin/broadcasts/count?county=Atlantis").status_code == 400
    assert client.get("/admin/broadcasts/count?joined_after=yesterday").status_code == 400
    assert count_of(app) == 0  # counting stores nothing


def test_compose_preview_confirm_sends_once_to_each_member(app, organiser, fake_twilio, live_server, drain):
    client, email = organiser
    seed(app)
    response = compose(client, text_en="Meeting on Saturday", text_sw="Mkutano Jumamosi", county=["Nairobi", "Kisumu"])
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert re.search(r'id="preview-matched">5<', page) and re.search(r'id="preview-opted-out">1<', page)
    assert re.search(r'id="preview-text">4<', page) and "Confirm and send" in page
    [broadcast_id] = map(int, re.findall(r"/admin/broadcasts/(\d+)/preview", preview_url))
    with app.app_context():
        assert db.session.get(Broadcast, broadcast_id).status == "draft"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BroadcastDelivery)) == 0
    drain()
    assert fake_twilio.messages == []  # nothing is sent before the confirmation
    token = csrf_token(page)
    sent = client.post(f"/admin/broadcasts/{broadcast_id}/send", data={"csrf_token": token})
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/admin/broadcasts/{broadcast_id}")
    again = client.post(f"/admin/broadcasts/{broadcast_id}/send", data={"csrf_token": token})
    assert again.status_code == 302  # a second confirmation does nothing more
    drain()
    to = sorted(m["to"] for m in fake_twilio.messages)
    assert to == ["whatsapp:+254711000001", "whatsapp:+254711000002", "whatsapp:+254711000004",
                  "whatsapp:+254711000005"]
    bodies = {m["to"]: m["body"] for m in fake_twilio.messages}
    assert bodies["whatsapp:+254711000002"] == "Mkutano Jumamosi"
    assert bodies["whatsapp:+254711000001"] == "Meeting on Saturday"
    assert count_of(app) == 1
    with app.app_context():
        assert db.session.get(Broadcast, broadcast_id).status == "done"
        events = db.session.execute(sa.select(AuditEvent.actor, AuditEvent.action, AuditEvent.subject)
                                    .where(AuditEvent.action.startswith("broadcast."))).all()
    assert events == [(email, "broadcast.send", f"broadcast {broadcast_id}")]
    figures = client.get(f"/admin/broadcasts/{broadcast_id}/figures").get_json()
    assert figures["status"] == "done" and figures["total"] == 4 and figures["done"] == 4
    assert figures["counts"]["sent"] == 4 and figures["percent"] == 100 and figures["actions"] == []
    listing = client.get("/admin/broadcasts").get_data(as_text=True)
    assert "Meeting on Saturday" in listing and "done" in listing
    assert f'<td class="sender">{email}</td>' in listing
    progress = client.get(f"/admin/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert 'id="progress-bar" max="4" value="4"' in progress
    assert client.get(preview_url).status_code == 302  # no longer a draft


def test_confirm_without_a_csrf_token_sends_nothing(app, organiser, drain, fake_twilio):
    client, _ = organiser
    seed(app)
    location = compose(client, text_en="Hello").headers["Location"]
    broadcast_id = int(re.search(r"/broadcasts/(\d+)/", location).group(1))
    for data in ({}, {"csrf_token": "forged"}):
        assert client.post(f"/admin/broadcasts/{broadcast_id}/send", data=data).status_code == 400
    assert client.post("/admin/broadcasts/new", data={"text_en": "Hello"}).status_code == 400
    drain()
    assert fake_twilio.messages == []
    with app.app_context():
        assert db.session.get(Broadcast, broadcast_id).status == "draft"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action.startswith("broadcast."))) == 0
    assert count_of(app) == 1


def test_composer_refuses_bad_input(app, organiser):
    client, _ = organiser
    assert compose(client, text_en="").status_code == 400
    assert compose(client, text_en="x" * 1601).status_code == 400
    assert compose(client, text_en="Hi", county=["Atlantis"]).status_code == 400
    assert compose(client, text_en="Hi", media_url="not a url").status_code == 400
    page = compose(client, text_en="Hi", quiet_start="21:00")
    assert page.status_code == 400 and "both ends of the quiet hours" in page.get_data(as_text=True)
    past = compose(client, text_en="Hi", send_at="2020-01-01T09:00")
    assert past.status_code == 400 and "That time has passed" in past.get_data(as_text=True)
    assert count_of(app) == 0


def test_schedule_and_quiet_hours_in_nairobi_time(app, organiser, drain, fake_twilio):
    client, email = organiser
    seed(app)
    local = (datetime.now() + timedelta(days=2)).replace(hour=9, minute=30, second=0, microsecond=0)
    location = compose(client, text_en="Tomorrow", send_at=local.strftime("%Y-%m-%dT%H:%M"), quiet_start="21:00",
                       quiet_end="07:00").headers["Location"]
    broadcast_id = int(re.search(r"/broadcasts/(\d+)/", location).group(1))
    with app.app_context():
        b = db.session.get(Broadcast, broadcast_id)
        assert b.send_at == local - timedelta(hours=3)  # Nairobi is UTC+3
        assert (b.quiet_start, b.quiet_end) == ("21:00", "07:00")
    page = client.get(location).get_data(as_text=True)
    assert f"at {local:%Y-%m-%d %H:%M}" in page
    client.post(f"/admin/broadcasts/{broadcast_id}/send", data={"csrf_token": csrf_token(page)})
    drain()
    assert fake_twilio.messages == []
    with app.app_context():
        assert db.session.get(Broadcast, broadcast_id).status == "scheduled"
        details = db.session.scalar(sa.select(AuditEvent.details).where(AuditEvent.actor == email))
    assert details["outcome"] == "scheduled" and details["send_at"] == f"{local:%Y-%m-%d %H:%M}"


def test_the_pages_name_the_configured_time_zone(app, organiser, monkeypatch):
    client, _ = organiser
    seed(app)
    monkeypatch.setitem(app.config, "TIMEZONE", "Africa/Lagos")
    composer = client.get("/admin/broadcasts/new").get_data(as_text=True)
    assert "When (Africa/Lagos time)" in composer and "Send at (Africa/Lagos; empty: now)" in composer
    with app.app_context():
        from bot.broadcasts import service as broadcasts

        broadcast_id = broadcasts.create("Hello", send_at=datetime(2031, 1, 5, 6, 30), quiet=("21:00", "07:00")).id
    pages = [client.get(f"/admin/broadcasts/{broadcast_id}/preview").get_data(as_text=True),
             client.get(f"/admin/broadcasts/{broadcast_id}").get_data(as_text=True)]
    for page in pages:  # 06:30 UTC is 07:30 in Lagos (UTC+1), named as such, never "Nairobi"
        assert "2031-01-05 07:30 (Africa/Lagos)" in page and "Nairobi" not in page
    assert "Created (Africa/Lagos)" in client.get("/admin/broadcasts").get_data(as_text=True)


def test_pause_resume_cancel_are_audited(app, organiser):
    client, email = organiser
    seed(app)
    with app.app_context():
        from bot.broadcasts import service as broadcasts

        broadcast_id = broadcasts.create("Hello", send_at=utcnow() + timedelta(days=1)).id
        broadcasts.send(broadcast_id)
    page = client.get(f"/admin/broadcasts/{broadcast_id}").get_data(as_text=True)
    token = csrf_token(page)
    url = f"/admin/broadcasts/{broadcast_id}/control"
    assert client.post(url, data={"action": "pause"}).status_code == 400  # no CSRF token
    assert client.post(url, data={"action": "explode", "csrf_token": token}).status_code == 400
    # scheduled for tomorrow: resumed, it is scheduled again, not sent now
    for action, status in (("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")):
        assert client.post(url, data={"action": action, "csrf_token": token}).status_code == 302
        assert client.get(f"/admin/broadcasts/{broadcast_id}/figures").get_json()["status"] == status
    assert client.post(url, data={"action": "resume", "csrf_token": token}).status_code == 302  # not paused: nothing
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEvent.actor, AuditEvent.action)
                                     .where(AuditEvent.action.startswith("broadcast.")).order_by(AuditEvent.id)).all()
    assert actions == [(email, "broadcast.pause"), (email, "broadcast.resume"), (email, "broadcast.cancel")]


def test_officers_may_not_open_broadcasts(app):
    client = app.test_client()
    sign_in(client, make_user(app, "officer"))
    assert "Broadcasts" not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/admin/broadcasts").status_code == 403
    assert client.get("/admin/broadcasts/count").status_code == 403


def test_course_filters_in_the_segment_builder(app, organiser):
    from bot.models import Course, Enrolment

    client, _ = organiser
    ids = seed(app)
    with app.app_context():
        course = Course(slug="digital-skills", url="https://example.org/c", titles={"en": "Digital skills"})
        db.session.add(course)
        db.session.flush()
        db.session.add_all([Enrolment(member_id=ids["amina"], course_id=course.id, status="enrolled"),
                            Enrolment(member_id=ids["baraka"], course_id=course.id, status="verified")])
        db.session.commit()
    page = client.get("/admin/broadcasts/new").get_data(as_text=True)
    for name in ("enrolled_in", "completed", "not_completed"):
        assert f'name="{name}"' in page
    assert '<option value="digital-skills">Digital skills</option>' in page
    count = "/admin/broadcasts/count?"
    assert client.get(count + "enrolled_in=digital-skills").get_json()["matched"] == 2
    assert client.get(count + "completed=digital-skills").get_json()["matched"] == 1
    assert client.get(count + "not_completed=digital-skills&county=Nairobi").get_json()["matched"] == 1
    assert client.get(count + "enrolled_in=no-such-course").status_code == 400
    location = compose(client, text_en="Hi", completed=["digital-skills"]).headers["Location"]
    preview = client.get(location).get_data(as_text=True)
    assert "Completed a course" in preview and "Digital skills" in preview
    assert re.search(r'id="preview-matched">1<', preview)


def test_broadcast_texts_are_shown_escaped(app, organiser):
    client, _ = organiser
    location = compose(client, text_en="<script>alert(1)</script>").headers["Location"]
    broadcast_id = int(re.search(r"/broadcasts/(\d+)/", location).group(1))
    for url in (location, "/admin/broadcasts", f"/admin/broadcasts/{broadcast_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_two_confirmations_at_once_send_and_audit_once(app, organiser, drain, fake_twilio):
    import threading
    import time

    client, email = organiser
    seed(app)
    other = app.test_client()
    sign_in(other, email)
    location = compose(client, text_en="Hello").headers["Location"]
    broadcast_id = int(re.search(r"/broadcasts/(\d+)/", location).group(1))
    tokens = [csrf_token(c.get(location).get_data(as_text=True)) for c in (client, other)]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def confirm(c, token):
        barrier.wait()
        codes.append(c.post(f"/admin/broadcasts/{broadcast_id}/send", data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=confirm, args=pair) for pair in zip((client, other), tokens, strict=True)]
    with app.app_context(), db.engine.connect() as holder:
        # Hold the broadcast's row so that both confirmations are in flight together, then let go.
        holder.execute(sa.text("SELECT id FROM broadcasts WHERE id = :id FOR UPDATE"), {"id": broadcast_id})
        for t in threads:
            t.start()
        waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND wait_event_type = 'Lock'")
        deadline = time.monotonic() + 10
        with db.engine.connect() as watcher:
            while watcher.execute(waiting).scalar() < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        holder.rollback()
    for t in threads:
        t.join()
    assert codes == [302, 302]
    drain()
    assert len(fake_twilio.messages) == 4 and len({m["to"] for m in fake_twilio.messages}) == 4
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "broadcast.send")) == 1


def test_progress_shows_the_funnel_and_failures_by_reason_with_twilio_codes(app, organiser, fake_twilio,
                                                                           live_server, drain):
    import time

    client, _ = organiser
    seed(app)
    fake_twilio.add_error_rule(21211, to="whatsapp:+254711000004")
    fake_twilio.add_error_rule(63016, to="whatsapp:+254711000005", http_status=400)
    location = compose(client, text_en="Hello").headers["Location"]
    broadcast_id = int(re.search(r"/broadcasts/(\d+)/", location).group(1))
    client.post(f"/admin/broadcasts/{broadcast_id}/send", data={"csrf_token": csrf_token(client.get(location)
                                                                                       .get_data(as_text=True))})
    drain()
    fake_twilio.wait_for_callbacks(6)
    deadline = time.monotonic() + 10
    figures = client.get(f"/admin/broadcasts/{broadcast_id}/figures").get_json()
    while figures["counts"]["read"] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        figures = client.get(f"/admin/broadcasts/{broadcast_id}/figures").get_json()
    assert figures["counts"] == {"queued": 0, "sent": 2, "delivered": 2, "read": 2, "failed": 1, "skipped": 1}
    assert (figures["total"], figures["done"], figures["percent"], figures["status"]) == (4, 4, 100, "done")
    reasons = {(r["outcome"], r["code"], r["count"]) for r in figures["reasons"]}
    assert reasons == {("failed", 21211, 1), ("skipped", 63016, 1)}
    page = client.get(f"/admin/broadcasts/{broadcast_id}").get_data(as_text=True)
    assert "not a valid phone number" in page and "<td>21211</td>" in page
    assert "outside the 24-hour window and no template is configured" in page and "<td>63016</td>" in page


def test_change_a_draft_then_discard_one(app, organiser):
    client, email = organiser
    seed(app)
    first = compose(client, text_en="Draft one", text_sw="Rasimu", county=["Kisumu"], work=["transcription"],
                    joined_after="2020-01-02", send_at="2030-05-06T07:08", quiet_start="21:00", quiet_end="07:00")
    first_id = int(re.search(r"/broadcasts/(\d+)/", first.headers["Location"]).group(1))
    page = client.get(f"/admin/broadcasts/new?from={first_id}").get_data(as_text=True)
    assert "Draft one</textarea>" in page and "Rasimu</textarea>" in page
    assert '<option selected value="Kisumu">' in page and '<option selected value="transcription">' in page
    assert 'value="2020-01-02"' in page and 'value="2030-05-06T07:08"' in page and 'value="21:00"' in page
    token = csrf_token(page)
    replaces = re.search(r'name="replaces" type="hidden" value="(\d+)"', page).group(1)
    second = client.post("/admin/broadcasts/new", data={"csrf_token": token, "replaces": replaces,
                                                         "text_en": "Draft two", "county": ["Kisumu"]})
    second_id = int(re.search(r"/broadcasts/(\d+)/", second.headers["Location"]).group(1))
    with app.app_context():
        assert db.session.get(Broadcast, first_id).status == "cancelled"
        assert db.session.get(Broadcast, second_id).segment == {"county": ["Kisumu"]}
    preview = client.get(f"/admin/broadcasts/{second_id}/preview").get_data(as_text=True)
    assert "Discard this draft" in preview
    client.post(f"/admin/broadcasts/{second_id}/control", data={"csrf_token": token, "action": "cancel"})
    with app.app_context():
        assert db.session.get(Broadcast, second_id).status == "cancelled"
        assert db.session.scalar(sa.select(AuditEvent.actor).where(AuditEvent.action == "broadcast.cancel")) == email
    # A broadcast that is no longer a draft is not offered for change.
    assert "Draft two" not in client.get(f"/admin/broadcasts/new?from={second_id}").get_data(as_text=True)
