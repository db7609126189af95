"""Tickets organisers work with on WhatsApp: the states (open, waiting for the member, answered, closed), TICKETS
with each first question and its number of messages, TICKET <number> with the whole conversation in local time,
and CLOSE telling the member in their language; in English and Swahili."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Member, Ticket, TicketMessage, utcnow
from bot.models.support import TicketEvent, TicketStatus, next_status, staff_event
from flows.mydata import TICKET_LABELS
from tests.helpers.app import WhatsApp
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY, play

ORGANISER = "+254733000021"
MWANDALIZI = "+254733000022"
PHONE = "+254712345678"


@pytest.fixture
def faq(app):
    """The repo's questions and answers."""
    assert app.test_cli_runner().invoke(args=["faq", "load"]).exit_code == 0


def staff_phone(app, client, phone: str, greeting: str = "Hi") -> WhatsApp:
    """An organiser's phone, whose first message sets their language."""
    assert app.test_cli_runner().invoke(args=["staff", "add", phone, "--role", "organiser"]).exit_code == 0
    organiser = WhatsApp(client, phone)
    organiser.send(greeting)
    return organiser


def status_of(app, ticket_id: int = 1) -> str:
    """A ticket's stored state."""
    with app.app_context():
        return db.session.get(Ticket, ticket_id).status


def asking(client, question: str) -> WhatsApp:
    """A member (KUGWO-000001 Amina) who asked for a person, then wrote their question."""
    member = WhatsApp(client, PHONE)
    play(member, ENGLISH_HAPPY)
    member.send("AGENT")
    member.send(question)
    return member


def local(app, moment: datetime) -> str:
    """A stored UTC moment as TICKETS and TICKET show it (the union's local day and time)."""
    zone = ZoneInfo(app.config["TIMEZONE"])
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime("%d/%m %H:%M")


def test_the_transition_rule_is_one_table():
    assert [next_status(s, TicketEvent.MEMBER_WROTE) for s in ("open", "waiting", "answered")] == ["open"] * 3
    assert next_status("open", TicketEvent.STAFF_ANSWERED) == TicketStatus.ANSWERED
    assert next_status("waiting", TicketEvent.STAFF_ASKED) == TicketStatus.WAITING
    assert next_status("answered", TicketEvent.CLOSED) == TicketStatus.CLOSED
    assert next_status("closed", TicketEvent.MEMBER_WROTE) == TicketStatus.CLOSED  # a new question, a new ticket
    assert staff_event("Which county are you in?") == TicketEvent.STAFF_ASKED
    assert staff_event("Uko kaunti gani? ") == TicketEvent.STAFF_ASKED
    assert staff_event("We do not lend money.") == TicketEvent.STAFF_ANSWERED
    assert set(TICKET_LABELS) == set(TicketStatus)  # MY DATA FILE names every state in the member's language


def test_a_ticket_moves_through_its_states_and_tickets_shows_them(app, client, faq):
    member = WhatsApp(client, PHONE)
    play(member, ENGLISH_HAPPY)
    member.send("Can the union lend me money for a motorbike? Call 0712 345 678")
    member.send("AGENT")
    member.send("It is for my boda business")
    assert status_of(app) == "open"
    organiser = staff_phone(app, client, ORGANISER)
    with app.app_context():
        opened = db.session.get(Ticket, 1).created_at
    listing = organiser.says("TICKETS")
    assert listing.splitlines()[1] == (f"#1 KUGWO-000001 Amina, {local(app, opened)}, waiting for an organiser, "
                                       "2 messages: Can the union lend me money for a motorbike? Call +2547•••••678")
    assert "boda business" not in listing and PHONE not in listing
    assert "Read one with TICKET <number>" in listing
    answer = organiser.says("REPLY 1 Which county are you in?")
    assert "Your answer asks a question: the ticket waits for the member." in answer
    assert status_of(app) == "waiting"
    assert "waiting for the member, 3 messages" in organiser.says("TICKETS")
    assert "Added to your question" in member.says("Nairobi")
    assert status_of(app) == "open"
    assert "waits for the member" not in organiser.says("REPLY 1 Our SACCO partners lend to members.")
    assert status_of(app) == "answered"
    assert "answered, 5 messages" in organiser.says("TICKETS")
    assert "Ticket #1 is closed." in organiser.says("CLOSE 1")
    assert status_of(app) == "closed"
    assert "No open tickets." in organiser.says("TICKETS")


def test_tickets_are_listed_waiting_for_an_organiser_first(app, client, faq):
    first, second = WhatsApp(client, "+254712000101"), WhatsApp(client, "+254712000102")
    for phone in (first, second):
        phone.send("Hi")
        phone.send("cancel")
        phone.send("AGENT")
        phone.send("1")  # a prospect agrees to the notice before the ticket is stored
        phone.send(f"My account {phone.phone[-3:]} was blocked")
    organiser = staff_phone(app, client, ORGANISER)
    organiser.send("REPLY 1 We are looking into it.")
    lines = organiser.says("TICKETS").splitlines()
    assert lines[1].startswith("#2 ") and "waiting for an organiser" in lines[1]
    assert lines[2].startswith("#1 ") and "answered" in lines[2]


def test_ticket_shows_the_whole_conversation_in_local_time(app, client, faq):
    member = asking(client, "My Uber account was deactivated, call me on 0712 345 678")
    organiser = staff_phone(app, client, ORGANISER)
    organiser.send("REPLY 1 When did it happen?")
    member.send("Last Friday")
    with app.app_context():
        times = [local(app, t) for t in db.session.scalars(sa.select(TicketMessage.created_at).order_by(TicketMessage.id))]
    shown = organiser.says("TICKET 1").splitlines()
    assert shown == [
        "Ticket #1, KUGWO-000001 Amina, waiting for an organiser, 3 messages (times in Africa/Nairobi):",
        f"{times[0]} member: My Uber account was deactivated, call me on +2547•••••678",
        f"{times[1]} organiser: When did it happen?",
        f"{times[2]} member: Last Friday",
        "Answer with REPLY 1 <text>; close with CLOSE 1.",
    ]
    assert "Write TICKET and the ticket number" in organiser.says("TICKET")
    assert "There is no ticket #9." in organiser.says("TICKET 9")
    organiser.send("CLOSE 1")
    closed = organiser.says("TICKET #1")
    assert "KUGWO-000001 Amina, closed on " in closed and "Answer with REPLY" not in closed
    member_side = member.says("TICKET 1")
    assert "Ticket #1," not in member_side  # members never reach staff commands


def test_local_times_follow_the_timezone_setting(app, client, faq):
    asking(client, "Help with my payments")
    moment = datetime(2026, 12, 7, 21, 30)  # 00:30 the next day in Nairobi
    with app.app_context():
        db.session.execute(sa.update(Ticket).values(created_at=moment))
        db.session.execute(sa.update(TicketMessage).values(created_at=moment))
        db.session.commit()
    organiser = staff_phone(app, client, ORGANISER)
    assert "#1 KUGWO-000001 Amina, 08/12 00:30, " in organiser.says("TICKETS")
    assert "08/12 00:30 member: Help with my payments" in organiser.says("TICKET 1")


def test_close_tells_the_member_in_english_how_to_ask_again(app, client, faq, drain, fake_twilio):
    asking(client, "How do I get my voucher?")
    organiser = staff_phone(app, client, ORGANISER)
    reply = organiser.says("CLOSE 1")
    assert reply.splitlines() == ["Ticket #1 is closed.", "The member is told that it is closed and how to ask again."]
    drain()
    [notice] = fake_twilio.messages
    assert notice["to"] == f"whatsapp:{PHONE}"
    assert notice["body"] == ("Your question (ticket #1) is now closed. To ask something new, write it here at any "
                              "time, or send MENU for the main menu.")
    assert "Ticket #1 is not open." in organiser.says("CLOSE 1")


def test_close_tells_a_swahili_member_in_swahili_and_a_swahili_organiser_reads_swahili(
        app, client, faq, drain, fake_twilio):
    member = WhatsApp(client, "+254712000444")
    play(member, SWAHILI_HAPPY)
    member.send("mtu")
    member.send("Nataka mkopo wa pikipiki")
    mwandalizi = staff_phone(app, client, MWANDALIZI, "Habari")
    listing = mwandalizi.says("TICKETS")
    assert "Tiketi zilizo wazi (1):" in listing
    assert "#1 KUGWO-000001 Baraka, " in listing and ", inasubiri mwandalizi, ujumbe 1: Nataka mkopo wa pikipiki" in listing
    assert "Soma moja kwa TICKET <nambari>" in listing
    assert "Jibu lako linauliza swali: tiketi inasubiri jibu la mwanachama." in mwandalizi.says(
        "REPLY 1 Uko kaunti gani?")
    shown = mwandalizi.says("TICKET 1")
    assert "Tiketi #1, KUGWO-000001 Baraka, inasubiri jibu la mwanachama, jumbe 2 (saa za Africa/Nairobi):" in shown
    assert " mwanachama: Nataka mkopo wa pikipiki" in shown and " mwandalizi: Uko kaunti gani?" in shown
    assert mwandalizi.says("CLOSE 1").splitlines() == [
        "Tiketi #1 imefungwa.", "Mwanachama anajulishwa kwamba imefungwa na jinsi ya kuuliza tena."]
    drain()
    notice = fake_twilio.messages[-1]
    assert notice["body"] == ("Swali lako (tiketi #1) sasa limefungwa. Ukitaka kuuliza jambo jipya, liandike hapa "
                              "wakati wowote, au tuma MENU upate menyu kuu.")
    assert "Haijatumwa" not in mwandalizi.says("TICKET 1")


def test_close_outside_the_window_says_the_member_was_not_told(app, client, faq):
    asking(client, "Where do I pay dues?")
    with app.app_context():
        db.session.execute(sa.update(Member).values(last_inbound_at=utcnow() - timedelta(hours=30)))
        db.session.commit()
    organiser = staff_phone(app, client, ORGANISER)
    assert organiser.says("CLOSE 1").splitlines() == [
        "Ticket #1 is closed.",
        "The member was not told: outside the 24-hour window and no template is configured."]
    assert status_of(app) == "closed"


def test_after_close_the_members_next_question_opens_a_new_ticket(app, client, faq):
    member = asking(client, "My rider account was blocked")
    organiser = staff_phone(app, client, ORGANISER)
    organiser.send("CLOSE 1")
    member.send("AGENT")
    member.send("Another problem with my payments")
    with app.app_context():
        rows = db.session.execute(sa.select(Ticket.id, Ticket.status).order_by(Ticket.id)).all()
    assert [tuple(row) for row in rows] == [(1, "closed"), (2, "open")]


def test_a_member_has_one_live_ticket_whatever_its_state(app, client, faq):
    asking(client, "My rider account was blocked")
    staff_phone(app, client, ORGANISER).send("REPLY 1 Which platform?")
    assert status_of(app) == "waiting"
    with app.app_context():
        db.session.add(Ticket(member_id=1, status="open", reason="asked"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
