"""Members without a phone number: a WhatsApp user id (Meta's usernames) as a member's identity, alone or
with a phone number, and two rows of one person merged."""

# ruff: noqa: F811  (the course fixture is imported from test_courses and used as an argument)

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.broadcasts import service as broadcasts
from bot.certificates.service import alert_officers
from bot.core.extensions import db
from bot.courses.reminders import sweep
from bot.models import AuditEvent, Broadcast, Enrolment, Member, MemberNumber, Message, utcnow
from bot.privacy.masking import mask_texts
from bot.stats import service as stats
from flows.base import Reply, Text
from tests.helpers.app import DATABASE_URL, WhatsApp
from tests.helpers.broadcasts import add_members
from tests.helpers.privacy import assert_nothing_of, pg_dump
from tests.helpers.reminders import age_enrolment, enrol
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY, play
from tests.helpers.staff import OFFICER, staff_phone

USER_ID = "US.13491208655302741918"
PHONE = "+254712345678"


class Shown(WhatsApp):
    """A sender whose messages show a phone number in `From` and their user id in `WaId`."""

    def __init__(self, client, phone: str, user_id: str) -> None:
        super().__init__(client, phone)
        self.user_id = user_id

    def form(self, body: str = "", **extra: str) -> dict[str, str]:
        return super().form(body, **{"WaId": self.user_id, **extra})


def members(app) -> list[tuple[str, str | None, str | None]]:
    """(phone, user id, member number) of every member row, oldest first."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(Member.phone, Member.wa_user_id, Member.member_number).order_by(Member.id))]


def test_a_user_id_signs_up_gets_a_broadcast_and_a_reminder_and_erases_it_all(app, client, catalog, fake_twilio,
                                                                              drain):
    person = WhatsApp(client, USER_ID)
    play(person, ENGLISH_HAPPY)
    assert members(app) == [(USER_ID, USER_ID, "KUGWO-000001")]
    with app.app_context():
        broadcast = broadcasts.create("Meeting on Saturday")
        assert broadcasts.preview(broadcast).matched == 1
        assert broadcasts.send(broadcast.id) == "running"
    drain()
    enrol(person, "2")
    age_enrolment(app, 3.1)
    with app.app_context():
        assert sweep() == 1
    drain()
    sent = [(m["to"], m["body"].split(":")[0]) for m in fake_twilio.messages]
    assert sent == [(f"whatsapp:{USER_ID}", "Meeting on Saturday"),
                    (f"whatsapp:{USER_ID}", "A reminder about your free course Data Analysis")]
    officer = staff_phone(app, client, OFFICER, "officer")
    officer.send(f"who is {USER_ID}?")  # a staff message that holds her identity
    play(person, [("my data", ["Name: Amina Wanjiku", "Phone: not given", f"WhatsApp user id: {USER_ID}",
                               "Member number: KUGWO-000001"]),
                  ("delete my data", ["Delete your data?"]), ("1", ["Your personal data has been deleted."])])
    assert members(app)[0] == ("erased-1", None, None)
    assert_nothing_of(pg_dump(), USER_ID, USER_ID.lower(), "Amina", "Wanjiku", "KUGWO-000001")


def test_the_same_person_later_writing_from_a_phone_with_the_same_user_id_is_recognised(app, client, fake_twilio,
                                                                                        drain):
    play(WhatsApp(client, USER_ID), ENGLISH_HAPPY)
    shown = Shown(client, PHONE, USER_ID)
    play(shown, [("my data", [f"Phone: {PHONE}", f"WhatsApp user id: {USER_ID}", "Member number: KUGWO-000001"])])
    assert members(app) == [(PHONE, USER_ID, "KUGWO-000001")]
    # From now on either identity alone finds the member, and messages go to the phone number.
    play(WhatsApp(client, USER_ID), [("my data", ["Member number: KUGWO-000001", f"Phone: {PHONE}"])])
    play(WhatsApp(client, PHONE), [("my data", ["Member number: KUGWO-000001", f"WhatsApp user id: {USER_ID}"])])
    assert members(app) == [(PHONE, USER_ID, "KUGWO-000001")]
    with app.app_context():
        assert broadcasts.send(broadcasts.create("Meeting on Saturday").id) == "running"
    drain()
    assert [m["to"] for m in fake_twilio.messages] == [f"whatsapp:{PHONE}"]  # the phone, once it is known
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "member.merged")) == 0  # one row all along
        assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.member_id != 1)) == 0


def test_a_phone_member_who_shows_a_user_id_keeps_their_row(app, client):
    play(WhatsApp(client, PHONE), ENGLISH_HAPPY)
    play(Shown(client, PHONE, USER_ID), [("menu", ["Main menu"])])
    assert members(app) == [(PHONE, USER_ID, "KUGWO-000001")]
    play(WhatsApp(client, USER_ID), [("my data", ["Member number: KUGWO-000001"])])
    assert members(app) == [(PHONE, USER_ID, "KUGWO-000001")]


def test_two_rows_of_one_person_merged_by_a_later_message_keep_one_member_number(app, client, catalog):
    by_user_id = WhatsApp(client, USER_ID)
    play(by_user_id, ENGLISH_HAPPY)  # KUGWO-000001, number hidden
    by_phone = WhatsApp(client, PHONE)
    play(by_phone, [*SWAHILI_HAPPY[:-1], ("NDIO", ["KUGWO-000002"])])  # the same person, number shown
    play(by_phone, [("kozi", []), ("2", []), ("ndiyo", ["Umejiandikisha"])])
    play(by_user_id, [("agent", ["ticket"])])
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(Message.id)))
        second = db.session.scalar(sa.select(Member.id).where(Member.phone == PHONE))
    play(Shown(client, PHONE, USER_ID), [("my data", ["Member number: KUGWO-000001", f"Phone: {PHONE}",
                                                      f"WhatsApp user id: {USER_ID}", "Courses: 1"])])
    assert members(app) == [(PHONE, USER_ID, "KUGWO-000001")]
    with app.app_context():
        kept = db.session.scalars(sa.select(Member)).one()
        assert kept.id == 1 and kept.name == "Amina Wanjiku" and kept.language == "en"
        counted = db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.member_id == 1))
        assert counted == before + 1 + 1  # every message of both rows, this one and its reply
        assert db.session.scalar(sa.select(Enrolment.member_id)) == 1
        assert sorted(db.session.scalars(sa.select(MemberNumber.member_id))) == [1, 1]  # neither number reused
        now = utcnow()  # the running counts (PostgreSQL's triggers) follow the merge
        for f in (stats.StatsFilter(), stats.StatsFilter(work="ride_delivery"), stats.StatsFilter(county="Turkana")):
            assert stats.totals(f, now) == stats.live_totals(f, now), f
        assert stats.totals(stats.StatsFilter(), now).total == 1
        [merged] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "member.merged")).all()
        assert merged.details == {"member_id": 1, "merged_member_id": second}
    # Each identity alone keeps finding the one member.
    play(by_phone, [("my data", ["Member number: KUGWO-000001"])])
    play(by_user_id, [("my data", ["Member number: KUGWO-000001"])])
    assert len(members(app)) == 1


def test_on_the_embedded_sqlite_database_user_ids_link_and_merge_too(app, tmp_path):
    from bot import create_app
    from tests.conftest import app_config

    embedded = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'umoja.db'}",
                                     AUTO_MIGRATE=True))
    client = embedded.test_client()
    play(WhatsApp(client, USER_ID), ENGLISH_HAPPY)
    play(WhatsApp(client, PHONE), [*SWAHILI_HAPPY[:-1], ("NDIO", ["KUGWO-000002"])])
    play(Shown(client, PHONE, USER_ID), [("my data", ["Member number: KUGWO-000001", f"Phone: {PHONE}"])])
    assert members(embedded) == [(PHONE, USER_ID, "KUGWO-000001")]
    other = "KE.4711"
    play(Shown(client, "+254722000001", other), [("Hi", ["Welcome to Kenya Union of Gig Workers!"])])
    play(WhatsApp(client, other), [("yes", ["What is your full name?"])])  # the same prospect, by user id
    assert members(embedded)[1:] == [("+254722000001", other, None)]
    with embedded.app_context():
        db.engine.dispose()


def test_inbound_identities_are_kept_or_refused_at_their_column_sizes(app, client, whatsapp):
    long_wa_id = "9" * 40
    assert whatsapp.post(whatsapp.form("Hi", WaId=long_wa_id)).status_code == 200  # left out, not a 500
    assert members(app) == [(PHONE, None, None)]
    longest = "US." + "7" * 128
    assert WhatsApp(client, longest).post(WhatsApp(client, longest).form("Hi")).status_code == 200
    for sender in ("US." + "7" * 129, "us.1349120865", "US.", "US.1349 1208", "XYZ.1349120865", "US-1349120865"):
        other = WhatsApp(client, sender)
        assert other.post(other.form("Hi")).status_code == 400, sender
    assert [row[0] for row in members(app)] == [PHONE, longest]
    # A phone sender's WaId that is no user id (the number's own digits, or anything else) is not one.
    for wa_id in ("254712345678", "not an id", long_wa_id):
        assert whatsapp.post(whatsapp.form("Hi", WaId=wa_id)).status_code == 200
    assert members(app)[0] == (PHONE, None, None)


def test_a_staff_number_may_be_a_user_id(app, client):
    result = app.test_cli_runner().invoke(args=["staff", "add", f"whatsapp:{USER_ID}", "--role", "officer"])
    assert result.exit_code == 0 and USER_ID in result.output, result.output
    refused = app.test_cli_runner().invoke(args=["staff", "add", "US.", "--role", "officer"])
    assert refused.exit_code != 0
    assert app.test_cli_runner().invoke(args=["staff", "add", USER_ID, "--role", "organiser"]).exit_code == 0
    with app.app_context():  # an officer alert before the officer ever wrote creates their contact
        assert alert_officers(Reply((Text("Test alert"),)), utcnow()) == 1
    officer = WhatsApp(client, USER_ID)
    play(officer, [("Hi", []), ("STATS", ["Union statistics"])])
    assert members(app) == [(USER_ID, USER_ID, None)]
    with app.app_context():
        add_members(1)  # a segment that matches nobody is asked again, so the broadcast has one member
    for says in ("BROADCAST", "Meeting on Saturday", "SKIP", "ALL", "NOW"):  # records who wrote it
        officer.send(says)
    assert "Broadcast 1 is on its way" in officer.says("YES")
    with app.app_context():
        assert db.session.scalar(sa.select(Broadcast.created_by)) == USER_ID
    # Known later with a phone too: the user id's roles still hold.
    play(Shown(client, PHONE, USER_ID), [("STATS", ["Union statistics"])])
    assert app.test_cli_runner().invoke(args=["staff", "remove", USER_ID]).exit_code == 0


def test_user_ids_are_masked_for_organisers_like_phone_numbers(app):
    with app.app_context():
        [masked] = mask_texts([f"please call {USER_ID} or whatsapp:{USER_ID}."])
    assert USER_ID not in masked and "1349120865530" not in masked
    assert masked == "please call US.13•••••••••••••••918 or whatsapp:US.13•••••••••••••••918."


@pytest.fixture(params=["sqlite", "postgresql"])
def older_database(request, app, tmp_path) -> Iterator[str]:
    """The URL of an empty database of each kind (on PostgreSQL a schema of its own in the test database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'older.db'}"
        return
    engine = sa.create_engine(DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS before_user_ids CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA before_user_ids"))
    yield str(sa.engine.make_url(DATABASE_URL).update_query_dict({"options": "-csearch_path=before_user_ids"})
              .render_as_string(hide_password=False))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA before_user_ids CASCADE"))
    engine.dispose()


def test_logs_and_error_reports_filter_user_ids_like_phone_numbers():
    from bot.observability.logs import without_phones

    assert without_phones(f"From=whatsapp%3A{USER_ID}&To=whatsapp%3A%2B254712345678 {USER_ID}.") == \
        "From=whatsapp%3A[Filtered]&To=whatsapp%3A[Filtered] [Filtered]."
    assert without_phones("sid SM0123456789abcdef0123456789abcdef job reminder-12-3") == \
        "sid SM0123456789abcdef0123456789abcdef job reminder-12-3"


def test_the_upgrade_keeps_every_member_of_a_database_from_before_user_ids(older_database, tmp_path):
    from flask_migrate import upgrade

    from bot import create_app
    from tests.conftest import app_config

    older = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=older_database))
    with older.app_context():
        upgrade(revision="0015")
        now = utcnow()
        with db.engine.begin() as connection:
            for phone, number, status in (("+254712345678", "KUGWO-000001", "active"),
                                          ("+254722000001", None, "prospect"), ("erased-3", None, "deleted")):
                connection.execute(sa.text(
                    "INSERT INTO members (phone, wa_id, member_number, status, created_at, updated_at) "
                    "VALUES (:phone, :wa_id, :number, :status, :now, :now)"),
                    {"phone": phone, "wa_id": phone.lstrip("+")[:20], "number": number, "status": status, "now": now})
            connection.execute(sa.text("INSERT INTO staff_members (phone, roles, created_at) "
                                       "VALUES ('+254733000009', 'officer', :now)"), {"now": now})
            connection.execute(sa.text(
                "INSERT INTO messages (member_id, direction, channel, twilio_sid, body, payload, status, "
                "status_rank, created_at, updated_at) VALUES (1, 'in', 'whatsapp', 'SMold', 'Hi', :payload, "
                "'processed', 0, :now, :now)"), {"payload": json.dumps({"From": "whatsapp:+254712345678"}), "now": now})
        upgrade()
        kept = db.session.execute(sa.select(Member.id, Member.phone, Member.wa_user_id, Member.member_number,
                                            Member.status).order_by(Member.id)).all()
        assert db.session.scalar(sa.select(Message.member_id).where(Message.twilio_sid == "SMold")) == 1
        # The new identities fit, and a user id is on one row at most.
        longest = "US." + "7" * 128
        db.session.add(Member(phone=longest, wa_user_id=longest, status="prospect"))
        db.session.commit()
        db.session.add(Member(phone="+254799000001", wa_user_id=longest, status="prospect"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.engine.dispose()
    assert [tuple(row) for row in kept] == [(1, "+254712345678", None, "KUGWO-000001", "active"),
                                            (2, "+254722000001", None, None, "prospect"),
                                            (3, "erased-3", None, None, "deleted")]


def test_the_dashboard_finds_a_user_id_whole_and_organisers_see_it_masked(app, client):
    from flask.testing import FlaskClient

    from tests.helpers.dashboard import add_member, make_user, sign_in

    with app.app_context():
        member_id = add_member(app, "Amina", phone=USER_ID)
        db.session.execute(sa.update(Member).values(wa_user_id=USER_ID))
        db.session.commit()
    officer, organiser = client, FlaskClient(app)
    sign_in(officer, make_user(app, "officer"))
    sign_in(organiser, make_user(app, "organiser"))
    for who, part_finds in ((officer, True), (organiser, False)):
        assert "(1)" in who.get(f"/admin/members?q={USER_ID}").get_data(as_text=True)
        assert ("(1)" in who.get(f"/admin/members?q={USER_ID[:12]}").get_data(as_text=True)) is part_finds
    assert USER_ID in officer.get(f"/admin/members/{member_id}").get_data(as_text=True)
    page = organiser.get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert USER_ID not in page and "US.13•" in page
    admin = FlaskClient(app)
    sign_in(admin, make_user(app, "admin"))
    page = admin.get(f"/admin/members?q={USER_ID}").get_data(as_text=True)
    form = dict(re.findall(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)"', page))
    [row] = csv.DictReader(io.StringIO(admin.post("/admin/members/export", data=form).get_data(as_text=True)))
    assert (row["phone"], row["whatsapp_user_id"], row["name"]) == ("", USER_ID, "Amina")
    with app.app_context():
        export = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "members.export")).one()
        assert export.details["filters"] == {"search": "whatsapp user id", "member_ids": [member_id]}
