"""The shape of the code: no import cycles, one composition root, and DELETE MY DATA reaching every area."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
import sqlalchemy as sa

from bot.areas import AREAS
from bot.core.area import Area, assemble, assembled
from bot.core.extensions import db
from bot.core.facts import UnknownFact, facts_of
from bot.models import (
    AuditEvent,
    Certificate,
    Conversation,
    Course,
    Member,
    MemberNote,
    Message,
    MessageSubject,
    Ticket,
    TicketMessage,
    utcnow,
)
from tests.conftest import app_config

ROOT = Path(__file__).resolve().parent.parent
PHONE = "+254712000999"


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (Tarjan's strongly connected components)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return cycles


def test_the_modules_of_bot_and_flows_import_no_cycle():
    # Every import counts, at the top of a module or inside a function (only those under TYPE_CHECKING,
    # which never run, do not).
    graph = grimp.build_graph("bot", "flows", exclude_type_checking_imports=True)
    cycles = import_cycles(graph)
    described = []
    for group in cycles:
        links = [f"{a} -> {b} (line {d['line_number']})" for a in group for b in group
                 for d in graph.get_import_details(importer=a, imported=b)]
        described.append("\n  ".join(links))
    assert not cycles, "import cycles:\n  " + "\n\n  ".join(described)


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    assert import_cycles(graph) == []
    graph.add_import(importer="a.z", imported="a.x")
    assert import_cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_no_module_registers_a_part_when_imported():
    # The old ways for an area to join: each of them made correctness depend on import order.
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "flows").rglob("*.py")]:
        text = path.read_text()
        for pattern in ("FACTS[", "FACTS.update", "register_erasure_hook", "register_retention_hook",
                        "SECTION_PROVIDERS", "NAV.append", "NAV.extend", "(they register", "noqa: E402"):
            assert pattern not in text, f"{path.relative_to(ROOT)}: {pattern}"


def test_the_areas_give_each_fact_performer_and_command_once():
    with pytest.raises(ValueError, match="two areas declare the fact 'faq'"):
        assemble((*AREAS, Area("again", facts={"faq": lambda member: None})))
    parts = assemble(AREAS)
    assert {"my_data", "faq", "open_ticket", "ticket_holder", "courses", "enrolments", "phone"} <= set(parts.facts)
    assert {"STAFF", "STATS", "REVIEW", "APPROVE", "REJECT", "TICKETS", "TICKET", "REPLY", "CLOSE", "BROADCAST"} == \
        set(parts.commands)


def test_the_parts_only_one_area_may_give_are_given_once():
    """Delivery statuses and send progress are the broadcasts area's; a second area giving one is refused,
    and without any the parts are empty (the webhook then refuses a delivery id, the metrics show none)."""
    parts = assemble(AREAS)
    assert parts.delivery_status is not None and parts.send_progress is not None
    assert parts.after_message  # the voucher kept for a member who could not be reached
    with pytest.raises(ValueError, match="two areas declare the delivery status"):
        assemble((*AREAS, Area("again", delivery_status=lambda *args: None)))
    alone = assemble(area for area in AREAS if area.name != "broadcasts")
    assert alone.delivery_status is None and alone.send_progress is None


def test_every_effect_a_flow_can_ask_for_has_a_performer():
    import pkgutil

    import flows
    from flows.base import Effect

    for module in pkgutil.iter_modules(flows.__path__):
        importlib.import_module(f"flows.{module.name}")
    kinds = set()
    pending = [Effect]
    while pending:
        for kind in pending.pop().__subclasses__():
            kinds.add(kind)
            pending.append(kind)
    assert kinds, "no effects found"
    missing = sorted(kind.__name__ for kind in kinds - set(assemble(AREAS).performers))
    assert not missing, f"effects no area performs: {missing}"


def test_the_erasure_hooks_and_stats_sections_keep_their_order(app):
    parts = assembled(app)
    assert [hook.__name__ for hook in parts.erasure_hooks] == [
        "erase_stored_media", "erase_messages", "erase_staff_mentions", "erase_conversation", "erase_user_id",
        "erase_audit_mentions", "erase_exports", "erase_certificates", "erase_ticket_texts", "erase_notes",
    ]
    assert [section.__name__ for section in parts.stats_sections] == [
        "member_section", "county_section", "work_section", "gender_section", "community_section", "language_section",
        "course_section", "certificate_section", "voucher_section",
    ]


def test_an_unknown_fact_raises(app):
    with app.app_context():
        facts = facts_of(Member(phone=PHONE))
        assert "open_ticket" in facts and "open_tickets" not in facts
        with pytest.raises(UnknownFact, match="no area declares the fact 'open_tickets'"):
            facts["open_tickets"]
        with pytest.raises(KeyError, match="open_tickets"):
            facts.get("open_tickets")


def test_every_area_that_keeps_member_data_declares_an_erasure_hook(app):
    owners = {table: area for area in AREAS for table in area.tables}
    assert len(owners) == sum(len(area.tables) for area in AREAS), "a table is declared by two areas"
    for area in AREAS:
        assert set(area.anonymous_tables) <= set(area.tables), area.name
    member_tables = [table for table in db.metadata.tables.values()
                     if any(key.column.table.name == "members" for key in table.foreign_keys)]
    assert member_tables
    for table in member_tables:
        area = owners.get(table.name)
        assert area is not None, f"no area declares the table {table.name}"
        assert area.erasure_hooks or table.name in area.anonymous_tables, \
            f"{table.name} holds member data: the {area.name} area needs an erasure hook"
    assert set(owners) == set(db.metadata.tables), "every table belongs to an area"


def seed_member_everywhere(app, storage: Path) -> int:
    """A member with data in every area that keeps some: messages (with a stored file), a staff command
    about her, her conversation, an audit event, a certificate with its file, a ticket and a note."""
    with app.app_context():
        now = utcnow()
        member = Member(phone=PHONE, name="Zawadi Achieng", status="active", joined_at=now, member_number="KUGWO-009999")
        staff = Member(phone="+254700000111", status="active")
        course = Course(slug="erasure-course", url="https://example.org/c", titles={"en": "A course"})
        db.session.add_all([member, staff, course])
        db.session.flush()
        (storage / "photo.jpg").write_bytes(b"her photo")
        (storage / "cert.pdf").write_bytes(b"her certificate")
        db.session.add(Message(member_id=member.id, direction="in", body="my id is 12345678",
                               media=[{"file": "photo.jpg"}], payload={"From": f"whatsapp:{PHONE}"}))
        command = Message(member_id=staff.id, direction="in", body="REVIEW")
        db.session.add(command)
        db.session.flush()
        db.session.add(MessageSubject(message_id=command.id, member_id=member.id))
        db.session.add(Conversation(member_id=member.id, flow="signup", step="name", answers={"name": "Zawadi"}))
        db.session.add(AuditEvent(actor="officer", action="member.view", subject=PHONE))
        db.session.add(Certificate(member_id=member.id, course_id=course.id, kind="file", link="https://example.org/z",
                                   stored_path=str(storage / "cert.pdf"), status="pending"))
        ticket = Ticket(member_id=member.id, reason="agent")
        db.session.add(ticket)
        db.session.flush()
        db.session.add(TicketMessage(ticket_id=ticket.id, author="member", body="please call Zawadi"))
        db.session.add(MemberNote(member_id=member.id, author="officer", body="lives in Kibera"))
        db.session.commit()
        return member.id


ERASE_ALONE = """
import json, sys
import bot.privacy.service as privacy  # first, and alone: no area has been imported yet
from bot import create_app
config = json.loads(sys.argv[1])
app = create_app(config)
with app.app_context():
    from bot.core.extensions import db
    from bot.models import Member
    privacy.erase_member(db.session.get(Member, int(sys.argv[2])))
    db.session.commit()
"""


def test_delete_my_data_runs_every_areas_hook_whatever_was_imported_before(app, tmp_path):
    storage = tmp_path / "storage"
    storage.mkdir()
    member_id = seed_member_everywhere(app, storage)
    config = app_config(tmp_path, STORAGE_DIR=str(storage))
    subprocess.run([sys.executable, "-c", ERASE_ALONE, json.dumps(config, default=str), str(member_id)],
                   cwd=ROOT, check=True, timeout=120)
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member.phone == f"erased-{member_id}" and member.name is None
        assert db.session.scalars(sa.select(Message.body).where(Message.member_id == member_id)).all() == [None]
        assert db.session.scalars(sa.select(Message.body).where(Message.body == "REVIEW")).all() == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageSubject)) == 0
        assert db.session.get(Conversation, member_id).answers == {}
        assert db.session.scalars(sa.select(AuditEvent.subject)).all() == [None]
        assert db.session.scalars(sa.select(Certificate.link)).all() == [None]
        assert db.session.scalars(sa.select(TicketMessage.body)).all() == [None]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberNote)) == 0
    assert sorted(path.name for path in storage.iterdir()) == []
