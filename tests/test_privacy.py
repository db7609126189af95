"""Members' data rights: MY DATA, DELETE MY DATA (database and storage folder cleared, counts kept), and the
retention purge of old message texts."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.areas import AREAS
from bot.core.area import Area, assembled, install
from bot.core.extensions import db
from bot.core.redis_conn import connect
from bot.courses import stats as course_stats
from bot.devtools.simulator import replies_of
from bot.models import (
    AuditEvent,
    BroadcastDelivery,
    ConsentEvent,
    Course,
    Enrolment,
    ForgottenMessage,
    Member,
    Message,
    MessageSubject,
    Ticket,
    TicketMessage,
    utcnow,
)
from bot.privacy import service as privacy
from tests.helpers.app import WhatsApp
from tests.helpers.certificates import LINK, import_codes, vouchers_csv
from tests.helpers.dashboard import make_user, sign_in
from tests.helpers.privacy import assert_nothing_of, pg_dump
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY, play
from tests.helpers.staff import OFFICER, staff_phone

AMINA = "+254712345678"
OTHER = "+254712000555"
PERSONAL = ("Amina", "Wanjiku", "254712345678", "712345678", "5678-card")


@pytest.fixture
def storage(app, tmp_path):
    """A storage folder for this test."""
    saved = app.config["STORAGE_DIR"]
    app.config["STORAGE_DIR"] = str(tmp_path / "storage")
    (tmp_path / "storage").mkdir()
    yield tmp_path / "storage"
    app.config["STORAGE_DIR"] = saved


def store_media(app, storage, phone: str, content: bytes) -> str:
    """A stored file `<sha256>.jpg` and a message from the member pointing at it, as the media areas keep them."""
    name = hashlib.sha256(content).hexdigest() + ".jpg"
    (storage / name).write_bytes(content)
    with app.app_context():
        member = db.session.scalars(sa.select(Member).where(Member.phone == phone)).one()
        db.session.add(Message(member_id=member.id, direction="in", body=f"Photo of my ID {phone}", status="processed",
                               media=[{"url": f"https://api.twilio.com/{phone[-4:]}-card", "content_type": "image/jpeg",
                                       "file": name}],
                               payload={"From": f"whatsapp:{phone}", "ProfileName": phone[-4:]}))
        db.session.commit()
    return name


def everything_stored(app) -> str:
    """Every row of every table, as text."""
    with app.app_context(), db.engine.connect() as connection:
        return "\n".join(str(tuple(row)) for table in db.metadata.sorted_tables
                         for row in connection.execute(sa.select(table)))


def officers_numbers(app, client, officer: WhatsApp) -> dict[str, object]:
    """What officers see: the STATS reply by line heading, the dashboard's headline numbers and its charts."""
    with app.app_context():
        connect().delete(course_stats.SNAPSHOT_KEY)  # counted afresh, not up to two minutes behind
    reply = officer.says("STATS")
    html = client.get("/admin/").get_data(as_text=True)
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', html, re.S).group(1))
    return {
        "stats": dict(line.split(":", 1) for line in reply.splitlines() if ":" in line),
        "overview": {label: int(n.replace(",", "")) for n, label in re.findall(r"<li><b>([\d,]+)</b> ([^<]+)</li>", html)},
        # The tables beside the charts (a group under five reads "<5"), and the exact counts they are made from.
        "charts": {name: dict(chart["table"]) for name, chart in charts.items()},
        "counts": exact_counts(app),
    }


def exact_counts(app) -> dict[str, dict]:
    """The breakdowns the overview draws, as the stats service counts them (no small-group hiding)."""
    from bot.stats import service as stats

    with app.app_context(), stats.one_reading():
        everyone = stats.StatsFilter()
        return {"county": dict(stats.counts_by(Member.county, everyone)),
                "gender": dict(stats.counts_by(Member.gender, everyone)),
                "work": dict(stats.counts_by_work(everyone))}


def test_my_data_in_english_lists_everything_held(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    play(whatsapp, [("my data", ["This is everything we hold about you:", "Name: Amina Wanjiku", f"Phone: {AMINA}",
                                 "Member number: KUGWO-000001", "County: Nairobi",
                                 "Work: Data annotation / AI training, Online freelancing", "Gender: Woman",
                                 "Community: not given", "Language: English", "Messages from us: allowed",
                                 "message texts are deleted after 180 days", "send DELETE MY DATA"])])


def test_my_data_in_swahili_from_the_menu(app, whatsapp):
    play(whatsapp, SWAHILI_HAPPY)
    menu = whatsapp.says("menyu")
    number = next(line.split(".")[0] for line in menu.splitlines() if "Taarifa zangu" in line or "data" in line.lower())
    play(whatsapp, [(number, ["Hizi ndizo taarifa zote", "Jina: Baraka Otieno", "Kaunti: Turkana",
                              "Kazi: Usafiri kwa apu (Uber, Bolt) au delivery", "Jamii: Mkimbizi", "FUTA TAARIFA ZANGU"]),
                    ("taarifa zangu", ["Jina: Baraka Otieno"])])


def test_delete_my_data_in_english_erases_personal_data_and_keeps_the_counts(app, client, whatsapp, storage):
    play(whatsapp, ENGLISH_HAPPY)
    other = WhatsApp(client, OTHER)
    play(other, [*SWAHILI_HAPPY[:-1], ("NDIO", ["KUGWO-000002"])])
    mine = store_media(app, storage, AMINA, b"amina's id card")
    theirs = store_media(app, storage, OTHER, b"baraka's certificate")
    app.test_cli_runner().invoke(args=["faq", "load"])
    whatsapp.send("Can the union lend me money for a motorbike?")
    whatsapp.send("AGENT")  # pass it to a person
    whatsapp.send("menu")
    with app.app_context():
        course = Course(slug="ai-basics", url="https://example.org/ai", titles={"en": "AI basics"})
        db.session.add(course)
        db.session.flush()
        db.session.add(Enrolment(member_id=1, course_id=course.id, status="verified"))
        db.session.commit()
    sign_in(client, make_user(app, "officer"))
    officer = staff_phone(app, client, OFFICER, "officer")
    before = officers_numbers(app, client, officer)
    calls = []
    install(app, (*AREAS, Area("counting", erasure_hooks=(lambda member, now: calls.append(member.id),))))
    try:
        with app.app_context():
            consents = db.session.scalars(sa.select(ConsentEvent.kind).order_by(ConsentEvent.id)).all()
        play(whatsapp, [("delete my data", ["This erases your name, phone number, messages and files",
                                            "Delete your data?", "1. Yes, delete my data"]),
                        ("perhaps", ["Please reply 1 to delete your data or 2 to keep it."]),
                        ("2", ["Nothing was deleted."]),
                        ("DELETE MY DATA", ["Delete your data?"]),
                        ("1", ["Your personal data has been deleted."])])
    finally:
        install(app, AREAS)
    assert calls == [1]
    stored = everything_stored(app)
    for fragment in PERSONAL:
        assert fragment not in stored, fragment
    assert "Baraka Otieno" in stored and OTHER in stored
    assert not (storage / mine).exists() and (storage / theirs).exists()
    after = officers_numbers(app, client, officer)
    assert before["stats"].pop("Members") == " 2 (active 2, opted out 0)"
    assert after["stats"].pop("Members") == " 2 (active 1, opted out 0, data erased 1)"
    assert (before["stats"].pop("By gender"), after["stats"].pop("By gender")) == (" Man <5, Woman <5",
                                                                                " Man <5, not given <5")
    assert after["stats"] == before["stats"] and "Nairobi <5" in after["stats"]["By county"]
    assert "1 completed" in after["stats"]["Courses"]
    assert (before["overview"].pop("active"), after["overview"].pop("active")) == (2, 1)
    assert (before["overview"].pop("data erased"), after["overview"].pop("data erased")) == (0, 1)
    assert after["overview"] == before["overview"] and after["overview"]["members"] == 2
    for chart in ("county", "work", "joined", "funnel"):
        assert after["charts"][chart] == before["charts"][chart], chart
    assert after["charts"]["gender"] == {"Man": "<5", "not given": "<5"}
    assert (before["counts"]["gender"], after["counts"]["gender"]) == ({"man": 1, "woman": 1}, {"man": 1, None: 1})
    assert after["counts"]["county"] == before["counts"]["county"] and after["counts"]["work"] == before["counts"]["work"]
    with app.app_context():
        assert db.session.scalars(sa.select(ConsentEvent.kind).order_by(ConsentEvent.id)).all() == consents
        erased = db.session.get(Member, 1)
        assert (erased.status, erased.phone, erased.name, erased.member_number) == ("deleted", "erased-1", None, None)
        assert erased.county == "Nairobi" and sorted(w.kind for w in erased.work_kinds) == [
            "data_annotation", "online_freelancing"]
    assert "Welcome to Kenya Union of Gig Workers!" in whatsapp.says("Hi")  # the number is a stranger again


def test_delete_my_data_in_swahili(app, client, whatsapp, storage):
    play(whatsapp, SWAHILI_HAPPY)
    play(whatsapp, [("futa taarifa zangu", ["Tufute taarifa zako?", "1. Ndiyo, futa taarifa zangu"]),
                    ("ndiyo", ["Taarifa zako binafsi zimefutwa."])])
    stored = everything_stored(app)
    assert "Baraka" not in stored and "254712345678" not in stored
    sign_in(client, make_user(app, "officer"))
    numbers = officers_numbers(app, client, staff_phone(app, client, OFFICER, "officer", lang="sw"))
    assert numbers["stats"]["Wanachama"] == " 1 (hai 0, wamejiondoa 0, waliofuta taarifa 1)"
    assert numbers["charts"]["county"] == {"Turkana": "<5"} and numbers["charts"]["work"] == {"Ride-hailing or delivery": "<5"}
    assert numbers["counts"]["county"] == {"Turkana": 1} and numbers["counts"]["work"] == {"ride_delivery": 1}
    assert list(numbers["charts"]["joined"].values())[-1] == "1"  # this month (in TIMEZONE)


def test_retention_purge_blanks_old_message_texts_only(app, whatsapp):
    play(whatsapp, ENGLISH_HAPPY)
    with app.app_context():
        db.session.execute(sa.update(Message).where(Message.body.in_(["Hi", "1"]))
                           .values(created_at=utcnow() - timedelta(days=200)))
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["retention", "purge"])
    assert first.exit_code == 0 and "purged 0 messages" not in first.output
    with app.app_context():
        old = db.session.scalars(sa.select(Message).where(Message.created_at < utcnow() - timedelta(days=180))).all()
        assert old and all(m.body is None and m.payload is None for m in old)
        assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.body == "Amina Wanjiku")) == 1
    assert "purged 0 messages" in runner.invoke(args=["retention", "purge"]).output
    assert "purged 0 messages" not in runner.invoke(args=["retention", "purge", "--days", "0"]).output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Message.id)).where(Message.body.is_not(None))) == 0


def test_retention_purge_blanks_old_texts_of_closed_tickets(app, whatsapp):
    app.test_cli_runner().invoke(args=["faq", "load"])
    play(whatsapp, ENGLISH_HAPPY)
    whatsapp.send("Can the union lend me money for a motorbike?")
    whatsapp.send("AGENT")  # pass it to a person
    with app.app_context():
        db.session.execute(sa.update(TicketMessage).values(created_at=utcnow() - timedelta(days=200)))
        db.session.commit()
    app.test_cli_runner().invoke(args=["retention", "purge"])
    with app.app_context():
        assert db.session.scalar(sa.select(TicketMessage.body)) is not None  # the ticket is still open
        db.session.execute(sa.update(Ticket).values(status="closed"))
        db.session.commit()
    app.test_cli_runner().invoke(args=["retention", "purge"])
    with app.app_context():
        assert db.session.scalar(sa.select(TicketMessage.body)) is None


def test_the_clock_purges_daily(app):
    assert any(job.func.__name__ == "purge_old_messages" and job.cron for job in assembled(app).periodic)


def test_erasure_blanks_the_members_inbound_messages_not_yet_linked_to_them(app, whatsapp, storage):
    play(whatsapp, ENGLISH_HAPPY)
    (storage / "waiting.jpg").write_bytes(b"amina's waiting photo")
    (storage / "other.jpg").write_bytes(b"someone else's photo")
    with app.app_context():
        for phone, name in ((AMINA, "waiting.jpg"), (OTHER, "other.jpg")):
            db.session.add(Message(direction="in", body=f"Still queued from {phone}", status="received",
                                   media=[{"url": "https://api.twilio.com/m", "file": name}],
                                   payload={"From": f"whatsapp:{phone}", "Body": f"Still queued from {phone}"}))
        db.session.commit()
        privacy.erase_member(db.session.scalars(sa.select(Member).where(Member.phone == AMINA)).one())
        db.session.commit()
        waiting = db.session.scalars(sa.select(Message).where(Message.member_id.is_(None), Message.direction == "in")
                                     .order_by(Message.id)).all()
        assert [(m.body, m.payload) for m in waiting] == [
            (None, None), (f"Still queued from {OTHER}", {"From": f"whatsapp:{OTHER}", "Body": f"Still queued from {OTHER}"})]
    assert not (storage / "waiting.jpg").exists() and (storage / "other.jpg").exists()


# --- a refused consent, and what DELETE MY DATA leaves in other people's rows ----------------------

def phone_formats(phone: str) -> tuple[str, ...]:
    """A Kenyan number as people write it: +2547…, 2547…, 07…, 7…, and grouped in threes."""
    national = phone.removeprefix("+254")
    return (phone, phone[1:], "0" + national, national, f"0{national[:3]} {national[3:6]} {national[6:]}",
            f"{national[:3]} {national[3:6]} {national[6:]}")


def every_job_field(app) -> str:
    """Each RQ job of every queue and registry, loaded with `Job.fetch`: its function, args, kwargs, meta,
    results and failures (exc_info), as text (RQ stores them compressed: only loading them shows what they hold)."""
    from rq.job import Job
    from rq.registry import (
        CanceledJobRegistry,
        DeferredJobRegistry,
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
        StartedJobRegistry,
    )

    from bot.core.queues import QUEUES, queue

    registries = (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry, ScheduledJobRegistry,
                  DeferredJobRegistry, CanceledJobRegistry)
    fields = []
    with app.app_context():
        redis = connect()
        for name in QUEUES:
            q = queue(name)
            ids = {*q.job_ids, *(i for kind in registries for i in kind(queue=q).get_job_ids())}
            for job_id in sorted(ids):
                job = Job.fetch(job_id, connection=redis)
                fields.append(repr((job.id, job.func_name, job.args, job.kwargs, job.meta,
                                    [(r.return_value, r.exc_string) for r in job.results()])))
    assert fields, "the history queued no job"
    return "\n".join(fields)


class NamedPhone(WhatsApp):
    """A phone whose WhatsApp profile carries a name, as most do."""

    def __init__(self, client, phone: str, profile_name: str) -> None:
        super().__init__(client, phone)
        self.profile_name = profile_name

    def form(self, body: str = "", **extra: str) -> dict[str, str]:
        return super().form(body, **{"ProfileName": self.profile_name, **extra})


def test_a_refused_consent_keeps_nothing_in_english_and_swahili(app, client):
    for phone, greeting, no, expected in (
        (AMINA, "Hi", "2", "We have deleted your phone number and your messages"),
        (OTHER, "Habari", "Hapana", "Tumefuta nambari yako ya simu na jumbe zako"),
    ):
        person = NamedPhone(client, phone, f"Mama {phone[-4:]}")
        play(person, [(greeting, ["may we keep your details?" if greeting == "Hi" else "tunaomba ruhusa"]),
                      (no, [expected, "JOIN" if greeting == "Hi" else "JIUNGE"])])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
        events = db.session.execute(sa.select(ConsentEvent.kind, ConsentEvent.member_id, ConsentEvent.language)).all()
        assert sorted(events) == [("refusal", None, "en"), ("refusal", None, "sw")]
    dump = pg_dump()
    assert_nothing_of(dump, *phone_formats(AMINA), *phone_formats(OTHER), "Mama 5678", "Mama 0555")


def test_who_refused_is_not_listed_exported_or_in_any_segment(app, client):
    from bot.broadcasts import service as broadcasts

    play(WhatsApp(client, AMINA), [("Hi", []), ("2", [])])
    play(WhatsApp(client, "+254712000111"), [("Hi", [])])  # wrote, has not answered: no consent either
    play(WhatsApp(client, OTHER), [("Hi", []), ("1", ["full name"])])  # consented, joining
    sign_in(client, make_user(app, "admin"))
    listed = client.get("/admin/members").get_data(as_text=True)
    assert "712345678" not in listed and "712000555" in listed
    page = client.get("/admin/members?status=prospect").get_data(as_text=True)
    form = dict(re.findall(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)"', page))
    exported = client.post("/admin/members/export", data=form).get_data(as_text=True)
    assert "712345678" not in exported and "712000555" in exported
    with app.app_context():
        for segment in ({"status": ["prospect"]}, {"status": ["prospect", "active"]}, {"language": ["en"],
                                                                                      "status": ["prospect"]}):
            broadcast = broadcasts.create("Hello", segment=segment)
            assert broadcasts.preview(broadcast).matched == 1, segment
            broadcasts.resolve(broadcast.id)
            audience = db.session.scalars(sa.select(Member.phone).join(
                BroadcastDelivery, BroadcastDelivery.member_id == Member.id)
                .where(BroadcastDelivery.broadcast_id == broadcast.id)).all()
            assert audience == [OTHER], segment


def test_twilio_retrying_the_refusal_is_answered_again_and_stores_nothing(app, client):
    person = WhatsApp(client, AMINA)
    person.send("Hi")
    refusal = person.form("2")
    first = person.post(refusal)
    again = person.post(refusal)
    assert first.status_code == again.status_code == 200
    assert replies_of(again.get_data(as_text=True)) == replies_of(first.get_data(as_text=True))
    assert "We have deleted your phone number" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
        kept = db.session.scalars(sa.select(ForgottenMessage.sid_hash)).all()
        assert refusal["MessageSid"] not in str(kept) and len(kept) == 2  # "Hi" and "2", hashed
    assert "may we keep your details?" in person.says("Hi")  # writing again later starts afresh
    with app.app_context():
        assert db.session.scalar(sa.select(Member.last_inbound_at)) is not None


def test_delete_my_data_leaves_nothing_of_her_in_the_database_or_the_jobs(app, client, catalog, fake_twilio,  # noqa: F811
                                                                           drain, tmp_path):
    app.test_cli_runner().invoke(args=["faq", "load"])
    import_codes(app, vouchers_csv(tmp_path, "LIP-AAA-111"))
    amina = NamedPhone(client, AMINA, "Mama Mboga")
    play(amina, ENGLISH_HAPPY)
    officer = staff_phone(app, client, OFFICER, "officer")
    organiser = staff_phone(app, client, "+254733000009", "organiser")
    play(amina, [("Can the union lend me money for a motorbike?", ["Pass my question to a person"]),
                 ("agent", ["ticket"])])
    play(organiser, [("TICKETS", ["#1"]),
                     ("REPLY 1 Hi Amina, we will call you on 0712 345 678 tomorrow", ["Sent"])])
    play(amina, [("menu", []), ("courses", []), ("3", []), ("yes", ["You are enrolled"]),
                 ("certificate", []), ("1", []), (LINK, ["waiting for review"])])
    play(officer, [("REVIEW", ["#1 KUGWO-000001"]),
                   ("REJECT 1 Amina Wanjiku, the name on this certificate is someone else's", ["rejected"])])
    play(amina, [("certificate", []), ("1", []), (LINK, ["waiting for review"])])
    play(officer, [("REVIEW", ["#2"]), ("APPROVE 2", ["voucher code was sent"])])
    drain()
    sign_in(client, make_user(app, "admin"))
    page = client.get("/admin/members?q=%2B254712345678").get_data(as_text=True)
    form = dict(re.findall(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)"', page))
    assert "712345678" in client.post("/admin/members/export", data=form).get_data(as_text=True)
    play(amina, [("my data", [f"Phone: {AMINA}"]), ("my data file", ["document (PDF)"])])
    drain()
    exports = Path(app.config["STORAGE_DIR"]) / "exports"
    assert any(path.suffix == ".pdf" for path in exports.rglob("*"))
    play(amina, [("delete my data", []), ("1", ["has been deleted"])])
    drain()
    assert not [path for path in exports.rglob("*") if path.is_file()]  # MY DATA FILE's exports went too
    identifiers = (*phone_formats(AMINA), "Amina", "Wanjiku", "KUGWO-000001", "Mama Mboga")
    dump = pg_dump()
    assert_nothing_of(dump, *identifiers)
    assert "Sent as a message to ticket #1" not in dump  # the replies of commands about her went too
    assert_nothing_of(every_job_field(app), *identifiers)
    with app.app_context():
        export = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "members.export")).one()
        assert export.details["filters"] == {"search": "phone", "member_ids": [1]}
        assert db.session.scalar(sa.select(sa.func.count(MessageSubject.message_id))) == 0
        staff_texts = db.session.scalars(sa.select(Message.body).join(Member, Member.id == Message.member_id)
                                         .where(Member.phone == OFFICER, Message.direction == "in",
                                                Message.body.is_not(None))).all()
        assert staff_texts == ["Hi"]  # its greeting stays; REVIEW, REJECT, APPROVE and their replies named her


def test_a_retry_racing_the_refusal_is_recognised_too(app, client):
    """Twilio retries while the refusal is still being processed: the retry waits for the member's row,
    which the refusal deletes; it must still be recognised, not taken for a new person's first message."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    person = WhatsApp(client, AMINA)
    person.send("Hi")
    refusal = person.form("2")
    with app.app_context(), db.engine.connect() as blocker:
        blocker.execute(sa.text("SELECT id FROM members WHERE phone = :phone FOR UPDATE"), {"phone": AMINA})
        started = threading.Barrier(3)

        def post() -> list[str]:
            started.wait()
            response = WhatsApp(app.test_client(), AMINA).post(refusal)
            assert response.status_code == 200
            return replies_of(response.get_data(as_text=True))

        with ThreadPoolExecutor(2) as pool:
            answers = [pool.submit(post), pool.submit(post)]
            started.wait()
            try:
                waiting = 0
                for _ in range(200):  # until both wait for the lock held here
                    with db.engine.connect() as watcher:  # pg_stat_activity is read once per transaction
                        waiting = watcher.execute(sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = "
                            "current_database()")).scalar()
                    if waiting >= 2:
                        break
                    time.sleep(0.05)
            finally:
                blocker.rollback()
            assert waiting >= 2
            first, second = (answer.result() for answer in answers)
    assert first == second and "We have deleted your phone number" in first[0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0


def test_erasure_blanks_staff_messages_that_hold_her_identifiers_in_any_form(app, client):
    play(WhatsApp(client, AMINA), ENGLISH_HAPPY)
    organiser = staff_phone(app, client, "+254733000009", "organiser")
    mentions = ["REPLY 99 Amina Wanjiku +254 712 345 678", "REPLY 98 call amina   WANJIKU", "REPLY 97 0712-345-678",
                "REPLY 96 (0712) 345678", "REPLY 95 kugwo-000001 asked", "REPLY 94 254712345678"]
    unrelated = ["REPLY 93 call 0712 345 679 tomorrow", "REPLY 92 Amina Otieno asked"]
    for text in mentions + unrelated:
        assert "is not open" in organiser.says(text)
    play(WhatsApp(client, AMINA), [("delete my data", []), ("1", ["has been deleted"])])
    with app.app_context():
        kept = db.session.scalars(sa.select(Message.body).where(Message.body.like("REPLY %")).order_by(Message.id)).all()
    assert kept == unrelated


def test_identifiers_are_found_in_every_way_people_write_them():
    member = Member(phone=AMINA, name="Amina  Wanjiku", profile_name="Mama Mboga", member_number="KUGWO-000001")
    found = privacy.Identifiers.of(member)
    for text in ("+254712345678", "call 0712 345 678", "2547-1234-5678", "712345678.", "hi AMINA WANJIKU",
                 "mama mboga", "#kugwo-000001"):
        assert found.found_in(text), text
    for text in ("0712 345 679", "Amina Otieno", "KUGWO-000011", "", None):
        assert not found.found_in(text), text
    assert privacy.Identifiers.of(Member(phone="erased-3")).phone_digits is None


def test_a_refusal_on_the_embedded_sqlite_database_keeps_nothing_either(app, tmp_path):
    """On SQLite a message is stored before its member is locked, not yet linked to them."""
    from bot import create_app
    from tests.helpers.app import app_config

    embedded = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'umoja.db'}",
                                     AUTO_MIGRATE=True))
    person = WhatsApp(embedded.test_client(), AMINA)
    person.send("Hi")
    refusal = person.form("2")
    answers = [replies_of(person.post(refusal).get_data(as_text=True)) for _ in range(2)]
    assert answers[0] == answers[1] and "We have deleted your phone number" in answers[0][0]
    with embedded.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ForgottenMessage)) == 2
        db.engine.dispose()


def test_the_migration_removes_search_strings_and_reasons_from_older_audit_details(app, tmp_path):
    from flask_migrate import upgrade

    from bot import create_app
    from tests.helpers.app import app_config

    older = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'older.db'}"))
    with older.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as connection:
            for action, details in (
                ("members.export", {"filters": {"q": "+254712345678", "county": "Nairobi"}, "rows": 1}),
                ("certificate.reject", {"member_id": 1, "course_id": 2, "reason": "Amina, not your name"}),
                ("ticket.reply", {"member_id": 1, "status": "queued"}),
            ):
                connection.execute(sa.text("INSERT INTO audit_events (actor, action, details, created_at) "
                                           "VALUES ('admin', :action, :details, '2026-11-30')"),
                                   {"action": action, "details": json.dumps(details)})
        upgrade()
        kept = db.session.execute(sa.select(AuditEvent.action, AuditEvent.details).order_by(AuditEvent.id)).all()
        db.engine.dispose()
    assert kept == [("members.export", {"filters": {"county": "Nairobi"}, "rows": 1, "search": "text"}),
                    ("certificate.reject", {"member_id": 1, "course_id": 2}),
                    ("ticket.reply", {"member_id": 1, "status": "queued"})]


def test_a_refusal_after_a_question_an_organiser_answered_leaves_nothing_either(app, client):
    app.test_cli_runner().invoke(args=["faq", "load"])
    person = NamedPhone(client, AMINA, "Mama Mboga")
    organiser = staff_phone(app, client, "+254733000009", "organiser")
    play(person, [("Hi", ["may we keep your details?"]), ("menu", ["Main menu"]),
                  ("Can the union lend me money for a motorbike?", ["Pass my question to a person"]),
                  ("agent", ["may we keep your details?"]), ("yes", ["ticket #1"])])  # the notice before the ticket
    play(organiser, [("TICKETS", ["#1"]), ("REPLY 1 Hello Mama Mboga, we will call you on 0712 345 678", ["Sent"])])
    play(person, [("menu", []), ("join", ["may we keep your details?"]),
                  ("hapana", ["We have deleted your phone number and your messages"])])
    assert_nothing_of(pg_dump(), *phone_formats(AMINA), "Mama Mboga", "motorbike")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 1  # the organiser
        assert db.session.scalar(sa.select(sa.func.count(MessageSubject.message_id))) == 0
