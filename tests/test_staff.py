"""Staff numbers: the CLI, and staff commands on WhatsApp that members never reach."""

from __future__ import annotations

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import StaffMember
from tests.conftest import WhatsApp


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
