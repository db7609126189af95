"""An objection to broadcasts (NO BROADCASTS / SITAKI MATANGAZO) through the webhook: the member's column, the
consent event and the audit entry (ids only), segments that leave the member out and a preview that counts them,
a delivery resolved before the objection skipped, reminders that go on, and the undo word."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.broadcasts import service as broadcasts
from bot.core.extensions import db
from bot.courses.reminders import send_reminder
from bot.devtools.simulator import INBOUND_PATH
from bot.models import AuditEvent, BroadcastDelivery, ConsentEvent, Member, utcnow
from tests.helpers.broadcasts import add_members
from tests.helpers.reminders import age_enrolment, enrol
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY, member_row, play

AMINA = "+254712345678"


def events(app, member_id: int) -> list[str]:
    """The member's consent events, oldest first."""
    with app.app_context():
        return list(db.session.scalars(sa.select(ConsentEvent.kind).where(ConsentEvent.member_id == member_id)
                                       .order_by(ConsentEvent.id)))


def audit_entries(app) -> list[tuple[str, str, str | None, str]]:
    """(actor, action, subject, details as JSON) of the audit log, oldest first."""
    with app.app_context():
        return [(e.actor, e.action, e.subject, json.dumps(e.details)) for e in
                db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def test_no_broadcasts_sets_the_column_records_the_objection_and_broadcasts_on_undoes_it(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    assert "You will not get union news (broadcasts) any more." in whatsapp.says("NO BROADCASTS")
    member = member_row(app, AMINA)
    assert member.broadcasts_stopped_at is not None and member.opted_out_at is None
    assert "Union news (broadcasts): stopped" in whatsapp.says("my data")
    assert "You will get union news (broadcasts) again." in whatsapp.says("broadcasts on")
    assert member_row(app, AMINA).broadcasts_stopped_at is None
    assert events(app, member.id)[-2:] == ["broadcasts_off", "broadcasts_on"]
    mine = [entry for entry in audit_entries(app) if entry[1].startswith("member.broadcasts")]
    assert [(actor, action, subject) for actor, action, subject, _ in mine] == [
        (f"member:{member.id}", "member.broadcasts_stopped", f"member:{member.id}"),
        (f"member:{member.id}", "member.broadcasts_resumed", f"member:{member.id}"),
    ]
    assert not any(AMINA[1:] in details or "Amina" in details for *_, details in mine)


def test_sitaki_matangazo_twice_is_recorded_once(app, whatsapp):
    play(whatsapp, SWAHILI_HAPPY)
    assert "Hutapokea tena habari za chama (matangazo)." in whatsapp.says("Sitaki matangazo")
    whatsapp.says("sitaki matangazo")
    member = member_row(app, AMINA)
    assert events(app, member.id).count("broadcasts_off") == 1
    assert [entry[1] for entry in audit_entries(app)].count("member.broadcasts_stopped") == 1


def test_segments_leave_out_objectors_and_the_preview_counts_them(app):
    with app.app_context():
        ids = add_members(4, start=0)
        add_members(1, start=10, opted_out=True)
        db.session.execute(sa.update(Member).where(Member.id.in_(ids[:2])).values(broadcasts_stopped_at=utcnow()))
        db.session.commit()
        broadcast = broadcasts.create("Meeting on Saturday")
        preview = broadcasts.preview(broadcast)
        assert (preview.matched, preview.opted_out, preview.recipients) == (5, 3, 2)
        assert broadcasts.resolve(broadcast.id) == 2
        reached = set(db.session.scalars(sa.select(BroadcastDelivery.member_id)))
    assert reached == set(ids[2:])


def test_an_objection_after_the_audience_was_resolved_skips_the_delivery(app, pipeline, drain, whatsapp, live_server):
    with app.app_context():
        ids = add_members(3, start=1)
        broadcast = broadcasts.create("Meeting on Saturday")
        assert broadcasts.send(broadcast.id) == "running"
    whatsapp.phone = "+254700000002"
    assert whatsapp.post(whatsapp.form("NO BROADCASTS"), url=live_server + INBOUND_PATH).status_code == 200
    drain()
    assert {m["to"] for m in pipeline.messages if m.get("body") == "Meeting on Saturday"} == {
        "whatsapp:+254700000001", "whatsapp:+254700000003"}
    with app.app_context():
        row = db.session.scalars(sa.select(BroadcastDelivery).where(BroadcastDelivery.member_id == ids[1])).one()
        assert (row.status, row.reason) == ("skipped", "broadcasts_stopped")


def test_reminders_go_on_after_an_objection_to_broadcasts(app, member, fake_twilio, drain):
    enrol(member)
    enrolment_id = age_enrolment(app, 3.5)
    member.send("NO BROADCASTS")
    with app.app_context():
        assert send_reminder(enrolment_id, 3) == "sent"
    drain()
    assert [m["body"][:20] for m in fake_twilio.messages] == ["A reminder about you"]
