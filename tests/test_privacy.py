"""Members' data rights: MY DATA, DELETE MY DATA (database and storage folder cleared, counts kept), and the
retention purge of old message texts."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.extensions import db
from bot.models import ConsentEvent, Course, Enrolment, Member, Message, Ticket, TicketMessage, utcnow
from bot.services import course_stats, privacy
from bot.services.periodic import PERIODIC
from bot.services.redis_conn import connect
from tests.conftest import WhatsApp
from tests.dashboard_helpers import make_user, sign_in
from tests.test_signup_transcripts import ENGLISH_HAPPY, SWAHILI_HAPPY, play
from tests.test_stats import OFFICER, staff_phone

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
        "charts": {name: dict(zip(chart["labels"], chart["values"], strict=True)) for name, chart in charts.items()},
    }


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
    privacy.register_erasure_hook(lambda member, now: calls.append(member.id))
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
        privacy.ERASURE_HOOKS.pop()
    assert calls == [1]
    stored = everything_stored(app)
    for fragment in PERSONAL:
        assert fragment not in stored, fragment
    assert "Baraka Otieno" in stored and OTHER in stored
    assert not (storage / mine).exists() and (storage / theirs).exists()
    after = officers_numbers(app, client, officer)
    assert before["stats"].pop("Members") == " 2 (active 2, opted out 0)"
    assert after["stats"].pop("Members") == " 2 (active 1, opted out 0, data erased 1)"
    before["stats"].pop("New"), after["stats"].pop("New")  # only the joining month is kept, not the week
    assert (before["stats"].pop("By gender"), after["stats"].pop("By gender")) == (" Man 1, Woman 1",
                                                                                " Man 1, not given 1")
    assert after["stats"] == before["stats"] and "Nairobi 1" in after["stats"]["By county"]
    assert "1 completed" in after["stats"]["Courses"]
    assert (before["overview"].pop("active"), after["overview"].pop("active")) == (2, 1)
    assert (before["overview"].pop("data erased"), after["overview"].pop("data erased")) == (0, 1)
    before["overview"].pop("new this week"), after["overview"].pop("new this week")
    assert after["overview"] == before["overview"] and after["overview"]["members"] == 2
    for chart in ("county", "work", "joined", "funnel"):
        assert after["charts"][chart] == before["charts"][chart], chart
    assert sum(after["charts"]["gender"].values()) == 2 and after["charts"]["gender"]["not given"] >= 1
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
    assert numbers["charts"]["county"] == {"Turkana": 1} and numbers["charts"]["work"] == {"Ride-hailing or delivery": 1}
    assert numbers["charts"]["joined"][utcnow().strftime("%Y-%m")] == 1


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


def test_the_clock_purges_daily():
    assert any(job.func.__name__ == "purge_old_messages" and job.cron for job in PERIODIC)


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
