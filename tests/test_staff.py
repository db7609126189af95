"""Staff numbers: the CLI, and staff commands on WhatsApp that members never reach."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from bot.broadcasts import service as broadcasts
from bot.core.extensions import db
from bot.models import Broadcast, Conversation, StaffMember, Ticket
from tests.helpers.app import WhatsApp
from tests.helpers.broadcasts import add_members


def test_staff_cli_adds_lists_and_removes_roles(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["staff", "add", "0712 000 111", "--role", "officer", "--name", "Wanjiru"]).exit_code == 0
    assert runner.invoke(args=["staff", "add", "+254712000111", "--role", "organiser"]).exit_code == 0
    listing = runner.invoke(args=["staff", "list"]).output
    assert "+254712000111\tofficer,organiser\tWanjiru" in listing
    assert runner.invoke(args=["staff", "remove", "+254712000111", "--role", "officer"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(StaffMember.roles)) == "organiser"
    assert runner.invoke(args=["staff", "remove", "+254712000111"]).exit_code == 0
    assert runner.invoke(args=["staff", "remove", "+254712000111"]).exit_code != 0
    assert runner.invoke(args=["staff", "add", "not a phone", "--role", "officer"]).exit_code != 0


def test_staff_command_for_staff_only_and_the_conversation_keeps_its_place(app, client):
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000001", "--role", "officer"])
    officer = WhatsApp(client, "+254733000001")
    officer.send("Hi")
    officer.send("1")
    reply = officer.says("staff")
    assert "Staff commands (officer):" in reply and "STAFF: the staff commands you can use" in reply
    assert "Which county" in officer.says("Amina Wanjiku")
    member = WhatsApp(client, "+254733000002")
    member.send("Hi")
    assert "Staff commands" not in member.says("STAFF")


def test_admin_holds_every_role(app, client):
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000003", "--role", "admin"])
    assert "admin, officer, organiser" in WhatsApp(client, "+254733000003").says("STAFF")


def test_a_swahili_speaking_staff_member_reads_the_roles_in_swahili(app, client):
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000004", "--role", "officer"])
    afisa = WhatsApp(client, "+254733000004")
    afisa.send("Habari")
    assert "Amri za wafanyakazi (afisa):" in afisa.says("STAFF")
    assert "Samahani, BROADCAST ni ya msimamizi, mwandalizi tu." in afisa.says("BROADCAST")


def staff_phone(app, client, phone: str, role: str, greeting: str = "Hi") -> WhatsApp:
    """A staff number that has written once (its language is set), back at the menu."""
    assert app.test_cli_runner().invoke(args=["staff", "add", phone, "--role", role]).exit_code == 0
    staff = WhatsApp(client, phone)
    staff.send(greeting)
    staff.send("MENU")
    return staff


def ticket_count(app) -> int:
    """How many tickets exist."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Ticket.id))) or 0


def test_a_mistyped_command_gets_did_you_mean_over_the_commands_of_ones_roles(app, client):
    organiser = staff_phone(app, client, "+254733000011", "organiser")
    assert organiser.says("TIKETS").splitlines() == [
        "TIKETS is not a staff command.", "Did you mean TICKETS?", "Send STAFF for the commands you can use."]
    assert "Did you mean TICKET 3?" in organiser.says("tiket 3")
    assert "Did you mean BROADCAST status?" in organiser.says("brodcast status")
    assert "Did you mean REPLY 2 Karibu sana?" in organiser.says("REPlAY 2 Karibu sana")
    assert "STATS" not in organiser.says("stats2")  # STATS is an officer's command: never suggested to her
    officer = staff_phone(app, client, "+254733000012", "officer")
    assert "Did you mean STATS?" in officer.says("stat")
    assert "TICKETS" not in officer.says("tikets")
    assert ticket_count(app) == 0


def test_a_swahili_staff_member_reads_did_you_mean_in_swahili(app, client):
    afisa = staff_phone(app, client, "+254733000013", "officer", "Habari")
    assert afisa.says("STAT Nairobi").splitlines() == [
        "STAT si amri ya wafanyakazi.", "Ulimaanisha STATS Nairobi?", "Tuma STAFF uone amri unazoweza kutumia."]
    reply = afisa.says("Nina swali kuhusu malipo yangu")
    assert reply.splitlines() == [
        "Hiyo si amri ya wafanyakazi, na nambari za wafanyakazi hazifungui maswali kwa waandalizi.",
        "Tuma STAFF uone amri unazoweza kutumia.", "Kujaribu kile wanachama wanaona, tuma MENU."]
    assert ticket_count(app) == 0


def test_free_words_from_a_staff_number_never_open_a_ticket_on_it(app, client):
    app.test_cli_runner().invoke(args=["faq", "load"])
    organiser = staff_phone(app, client, "+254733000014", "organiser")
    for words in ("Can the union lend me money for a motorbike?", "AGENT", "CALL ME", "xyzzy"):
        reply = organiser.says(words)
        assert "That is not a staff command" in reply and "Send STAFF" in reply, (words, reply)
    assert ticket_count(app) == 0
    assert "What would you like to know?" in organiser.says("2")  # asking as a member is a choice from the menu
    assert "ticket" not in organiser.says("Who can join?").lower()


def test_inside_a_flow_a_staff_members_answers_are_not_taken_for_commands(app, client):
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000015", "--role", "organiser"])
    organiser = WhatsApp(client, "+254733000015")
    organiser.send("Hi")
    organiser.send("1")
    assert "Which county" in organiser.says("Rebecca Akinyi")
    assert "Did you mean TICKETS?" in organiser.says("tikets")  # a command word alone is read as one
    assert "What kind of gig work" in organiser.says("Kisumu")  # and the sign-up kept its place
    organiser.send("MENU")
    organiser.send("BROADCAST")
    assert "in another language" in organiser.says("Tickets for Saturday's meeting are free")
    # the other languages' step reads "Reply 1 to come" as a text without its language, not as REPLY
    assert "Please start with the language's number or name" in organiser.says("Reply 1 to come")
    assert "Written in: English · Kiswahili" in organiser.says("2: Reply 1 to come")


def test_staff_lists_every_command_in_one_form(app, client):
    admin = staff_phone(app, client, "+254733000016", "admin")
    lines = admin.says("STAFF").splitlines()
    assert lines[0] == "Staff commands (admin, officer, organiser):"
    words = [line.split(" ")[0].rstrip(":") for line in lines[1:]]
    assert words == sorted(["APPROVE", "BROADCAST", "CLOSE", "REJECT", "REPLY", "REVIEW", "STAFF", "STATS", "TICKET",
                            "TICKETS"])
    assert all(re.fullmatch(r"[A-Z]+( [^:]+)?: [a-z].*[^.]", line) for line in lines[1:]), lines
    assert "REPLY <number> <text>: answer a member's ticket" in lines
    assert "CLOSE <number>: close a ticket and tell the member" in lines
    msimamizi = staff_phone(app, client, "+254733000017", "admin", "Habari")
    assert "REPLY <nambari> <ujumbe>: jibu tiketi ya mwanachama" in msimamizi.says("STAFF").splitlines()


@pytest.mark.parametrize(("greeting", "cancel", "expected"), [
    ("Hi", "CANCEL", "Stopped: the broadcast was not sent. Send STAFF for the staff commands."),
    ("Habari", "SITISHA", "Imesitishwa: tangazo halikutumwa. Tuma STAFF uone amri za wafanyakazi."),
])
def test_cancel_in_the_broadcast_composer_returns_to_the_staff_commands(app, client, greeting, cancel, expected):
    organiser = staff_phone(app, client, "+254733000018", "organiser", greeting)
    organiser.send("BROADCAST")
    organiser.send("Meeting on Saturday")
    reply = organiser.says(cancel)
    assert reply == expected
    with app.app_context():
        assert db.session.scalar(sa.select(Conversation.flow).where(Conversation.member_id == 1)) is None
    organiser.send("BROADCAST")
    missed = organiser.says("")  # an empty message: the reason, the question and the organiser's way out
    assert "MENU" not in missed and "CANCEL" in missed and "STAFF" in missed


def test_broadcast_status_without_a_number_shows_the_latest(app, client):
    organiser = staff_phone(app, client, "+254733000019", "organiser")
    assert "There is no broadcast yet." in organiser.says("BROADCAST STATUS")
    with app.app_context():
        first = broadcasts.create("First").id
        broadcasts.create("Second, a draft")
        db.session.execute(sa.update(Broadcast).where(Broadcast.id == first).values(status="scheduled"))
        db.session.commit()
    assert organiser.says("BROADCAST STATUS").startswith("Broadcast 1: scheduled.")
    assert organiser.says("broadcast status #2").startswith("Broadcast 2: draft.")
    mwandalizi = staff_phone(app, client, "+254733000020", "organiser", "Habari")
    assert mwandalizi.says("BROADCAST STATUS").startswith("Tangazo 1: ")


def composing(app, client, phone: str, greeting: str = "Hi") -> WhatsApp:
    """An organiser at the segment step of a new broadcast, with members in Mombasa and Uasin Gishu."""
    with app.app_context():
        add_members(2, start=1, county="Mombasa", work=("ride_delivery",))
        add_members(1, start=3, county="Uasin Gishu", work=("online_freelancing",))
        add_members(1, start=4, county="Nairobi", work=("ride_delivery",))
    organiser = staff_phone(app, client, phone, "organiser", greeting)
    organiser.send("BROADCAST")
    organiser.send("Meeting on Saturday")
    organiser.send("SKIP")
    return organiser


def test_the_broadcast_segment_reads_towns_abbreviations_and_words_for_the_work(app, client):
    organiser = composing(app, client, "+254733000031")
    preview = organiser.says("county Msa, Eldoret; work boda")
    assert "Preview: 2 members match." in preview and "When should it go?" in preview
    organiser.send("BACK")
    assert "Preview: 1 members match." in organiser.says("county eldoret; work freelancing")


def test_the_broadcast_segment_refuses_a_county_or_work_it_does_not_know(app, client):
    organiser = composing(app, client, "+254733000032")
    reply = organiser.says("county Mombasa; work freelancin")
    assert 'I do not know the kind of work "freelancin": did you mean Online freelancing' in reply
    assert "Preview" not in reply and "Who should get it?" in reply
    assert 'No county is called "Atlantis".' in organiser.says("county Atlantis")


def test_the_broadcast_segment_refuses_in_swahili(app, client):
    mwandalizi = composing(app, client, "+254733000033", "Habari")
    assert 'Sielewi aina ya kazi "freelancin": ulimaanisha ' in mwandalizi.says("work freelancin")
    assert 'Hakuna kaunti inayoitwa "Atlantis".' in mwandalizi.says("county Atlantis")


@pytest.mark.parametrize(("greeting", "nobody", "asked"), [
    ("Hi", "Nobody matches that segment, so there is nothing to send or schedule.", "Who should get it?"),
    ("Habari", "Hakuna anayelingana na kundi hilo, kwa hivyo hakuna cha kutuma wala kupanga.", "Nani apate?"),
])
def test_a_segment_that_matches_nobody_is_asked_again_before_any_schedule(app, client, greeting, nobody, asked):
    organiser = composing(app, client, "+254733000034", greeting)
    assert "0 " in organiser.says("county Lamu").splitlines()[0]
    reply = organiser.says("NOW")
    assert nobody in reply and asked in reply
    assert "2 " in organiser.says("county Mombasa").splitlines()[0]
    organiser.send("NOW")
    with app.app_context():
        assert db.session.scalar(sa.select(Conversation.step)) == "confirm"
