"""The organisers' inbox (/admin/tickets): states, "mine" and nobody's, sorting, assignment and its audit, the
search over what the reader may read (masked first for organisers, digits only as whole numbers, member
numbers), a ticket's page with the answers that were not sent, saved answers and the FAQ's suggestion."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from bot.core.extensions import db
from bot.dashboard.users import create_user
from bot.models import AuditEvent, Member, Message, SavedAnswer, Ticket, TicketMessage, utcnow
from bot.support import tickets
from tests.helpers.courses import add_member
from tests.helpers.dashboard import PASSWORD, sign_in, statements_run
from tests.helpers.review import signed_in


def open_ticket(app: Flask, phone: str, text: str, *, number: int = 1, language: str = "en",
                reason: str = "no_match", call_me: bool = False, **changes) -> int:
    """A member and their ticket with a first question; returns the ticket's id."""
    add_member(app, phone, number=number, language=language)
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.phone == phone))
        ticket = tickets.open_ticket(member, text, reason, call_me=call_me)
        for name, value in changes.items():
            setattr(ticket, name, value)
        db.session.commit()
        return ticket.id


def audit_events(app: Flask, action: str) -> list[tuple[str, str | None, dict | None]]:
    """(actor, subject, details) of every audit event of an action, oldest first."""
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent.actor, AuditEvent.subject, AuditEvent.details)
                                  .where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        return [tuple(row) for row in rows]


def listed(client, **args) -> list[int]:
    """The ticket numbers the inbox lists for these arguments, in the order shown."""
    response = client.get("/admin/tickets", query_string=args)
    assert response.status_code == 200
    return [int(n) for n in re.findall(r'<tr id="ticket-(\d+)"', response.get_data(as_text=True))]


def another_organiser(app: Flask, email: str = "second@umoja.example.org", name: str = "Baraka") -> int:
    """A second organiser account; returns its id."""
    with app.app_context():
        return create_user(email, PASSWORD, "organiser", name=name).id


def test_organiser_answers_and_closes_a_ticket(app, client, catalog, fake_twilio, drain):
    ticket = open_ticket(app, "+254712000001", "When is the <b>next</b> meeting?")
    email, token = signed_in(app, client, "organiser")
    page = client.get("/admin/tickets").get_data(as_text=True)
    assert f'id="ticket-{ticket}"' in page and "When is the &lt;b&gt;next&lt;/b&gt; meeting?" in page
    assert "KUGWO-000001 Amina" in page and "+2547" not in page  # the member by member number, never by phone
    detail = client.get(f"/admin/tickets/{ticket}").get_data(as_text=True)
    assert "; no answer found for the question)" in detail and " EAT" in detail  # times in TIMEZONE, named
    assert "+254712000001" not in detail and "+2547" in detail  # masked for organisers
    response = client.post(f"/admin/tickets/{ticket}/reply", data={"csrf_token": token, "text": "Friday at 10."})
    assert response.status_code == 302 and response.location.endswith(f"/admin/tickets/{ticket}")
    detail = client.get(f"/admin/tickets/{ticket}").get_data(as_text=True)
    assert "as a message" in detail and "Not sent" not in detail and ">you<" in detail  # the first to answer holds it
    drain()
    sent = [m["body"] for m in fake_twilio.messages if m["to"] == "whatsapp:+254712000001"]
    assert len(sent) == 1 and "Friday at 10." in sent[0] and f"#{ticket}" in sent[0]
    assert client.post(f"/admin/tickets/{ticket}/close", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/tickets/{ticket}/close", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/tickets/{ticket}/reply", data={"csrf_token": token, "text": "x"}).status_code == 404
    assert "No open tickets." in client.get("/admin/tickets").get_data(as_text=True)
    assert listed(client, state="closed") == [ticket]  # the closed history
    assert [(a, s, d["status"]) for a, s, d in audit_events(app, "ticket.reply")] == [(email, f"ticket #{ticket}", "pending")]
    assert audit_events(app, "ticket.close") == [(email, f"ticket #{ticket}", None)]


def test_an_answer_that_was_not_sent_is_marked_with_the_reason(app, client, catalog):
    ticket = open_ticket(app, "+254712000001", "Hello?")
    with app.app_context():
        db.session.execute(sa.update(Member).values(last_inbound_at=utcnow() - timedelta(days=3)))
        db.session.commit()
    _, token = signed_in(app, client, "organiser")
    client.post(f"/admin/tickets/{ticket}/reply", data={"csrf_token": token, "text": "Late answer"})
    page = client.get(f"/admin/tickets/{ticket}").get_data(as_text=True)
    assert f"Not sent to ticket #{ticket}: outside the 24-hour window and no template is configured." in page
    assert '<span class="error unsent">1 answer not sent</span>' in client.get("/admin/tickets").get_data(as_text=True)
    lines = re.findall(r'<li class="([^"]*)">.*?<div class="body">([^<]*)</div>(.*?)</li>', page, re.S)
    assert [(kind, body) for kind, body, _ in lines] == [("in", "Hello?"), ("out not-sent", "Late answer")]
    assert "<strong>Not sent:</strong> outside the 24-hour window and no template is configured." in lines[1][2]
    assert "Not sent" not in lines[0][2]
    with app.app_context():  # a message Twilio could not deliver is marked too, with its reason
        line = db.session.scalar(sa.select(TicketMessage).where(TicketMessage.author != "member"))
        db.session.execute(sa.update(Message).where(Message.id == line.message_id)
                           .values(status="failed", error_code=63016))
        db.session.commit()
    page = client.get(f"/admin/tickets/{ticket}").get_data(as_text=True)
    assert re.search(r'<li class="out not-sent">.*?<strong>Failed:</strong> [^<]*outside[^<]*\.</p>', page, re.S), page


def test_the_states_filter_and_the_order(app, client, catalog):
    now = utcnow()
    opened = open_ticket(app, "+254712000001", "First", number=1, created_at=now - timedelta(days=3))
    waiting = open_ticket(app, "+254712000002", "Second", number=2, created_at=now - timedelta(hours=5))
    answered = open_ticket(app, "+254712000003", "Third", number=3, created_at=now - timedelta(days=1))
    closed = open_ticket(app, "+254712000004", "Fourth", number=4, created_at=now - timedelta(days=2))
    with app.app_context():
        tickets.reply(waiting, "Which app do you drive for?", actor="test")
        tickets.reply(answered, "The meeting is on Friday.", actor="test")
        tickets.close(closed, actor="test")
        db.session.execute(sa.update(Ticket).where(Ticket.id == opened).values(updated_at=now + timedelta(minutes=1)))
        db.session.commit()
    signed_in(app, client, "organiser")
    assert listed(client) == [opened, answered, waiting]  # not closed, oldest first
    assert listed(client, state="open") == [opened]
    assert listed(client, state="waiting") == [waiting]
    assert listed(client, state="answered") == [answered]
    assert listed(client, state="closed") == [closed]
    assert listed(client, state="all") == [opened, closed, answered, waiting]
    assert listed(client, state="all", sort="newest") == [waiting, answered, closed, opened]
    assert listed(client, sort="activity")[0] == opened
    page = client.get("/admin/tickets").get_data(as_text=True)
    row = page[page.index(f'<tr id="ticket-{opened}"'):]
    row = row[:row.index("</tr>")]
    assert ">3 d<" in row and ">open<" in row and ">1<" in row and "English" in row and "nobody yet" in row
    assert ">5 h<" in page and "waiting for the member" in page and "not sent" not in page
    assert listed(client, state="bogus") == [opened, answered, waiting]


def test_the_inbox_shows_more_on_request(app, client, catalog):
    ids = [open_ticket(app, f"+2547120001{n:02d}", f"Question {n}", number=100 + n) for n in range(3)]
    signed_in(app, client, "organiser")
    page = client.get("/admin/tickets?limit=2").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'<tr id="ticket-(\d+)"', page)] == ids[:2]
    assert 'id="inbox-more" href="/admin/tickets?limit=52' in page
    assert listed(client, limit=3) == ids and 'id="inbox-more"' not in client.get("/admin/tickets?limit=3").get_data(as_text=True)


def test_assignment_mine_and_nobodys(app, client, catalog):
    first = open_ticket(app, "+254712000001", "Please call me", number=1, call_me=True, reason="call_me")
    second = open_ticket(app, "+254712000002", "Another question", number=2)
    email, token = signed_in(app, client, "organiser")
    other_id = another_organiser(app)
    assert listed(client, mine="1") == [] and listed(client, unassigned="1") == [first, second]
    page = client.get(f"/admin/tickets/{first}").get_data(as_text=True)
    assert "answer the ticket (or take it) to see the number" in page and "+254712000001" not in page
    assert f'<option value="{other_id}">Baraka</option>' in page

    assert client.post(f"/admin/tickets/{first}/assign", data={"csrf_token": token, "to": "me"}).status_code == 302
    page = client.get(f"/admin/tickets/{first}").get_data(as_text=True)
    assert "+254712000001" in page and "the number is shown to you" in page  # the holder sees it (CALL ME)
    assert listed(client, mine="1") == [first] and listed(client, unassigned="1") == [second]

    assert client.post(f"/admin/tickets/{first}/assign", data={"csrf_token": token, "to": str(other_id)}).status_code == 302
    page = client.get(f"/admin/tickets/{first}").get_data(as_text=True)
    assert "+254712000001" not in page and 'id="ticket-holder">Baraka<' in page
    assert "Baraka" in client.get("/admin/tickets").get_data(as_text=True)
    assert listed(client, mine="1") == []
    with app.app_context():
        assert db.session.get(Ticket, first).holder == f"user:{other_id}"
    other = app.test_client()
    assert sign_in(other, "second@umoja.example.org").status_code == 302
    assert listed(other, mine="1") == [first]
    assert "+254712000001" in other.get(f"/admin/tickets/{first}").get_data(as_text=True)

    assert client.post(f"/admin/tickets/{first}/assign", data={"csrf_token": token, "to": "nobody"}).status_code == 302
    assert listed(client, unassigned="1") == [first, second]
    with app.app_context():
        me = db.session.scalar(sa.text("select id from dashboard_users where email = :e"), {"e": email})
        member = db.session.get(Ticket, first).member_id
    assert audit_events(app, "ticket.assign") == [
        (email, f"ticket #{first}", {"member_id": member, "holder": f"user:{me}", "previous": None}),
        (email, f"ticket #{first}", {"member_id": member, "holder": f"user:{other_id}", "previous": f"user:{me}"}),
        (email, f"ticket #{first}", {"member_id": member, "holder": None, "previous": f"user:{other_id}"}),
    ]
    # An account that is not an organiser, a closed ticket, a missing token: refused, nothing recorded.
    with app.app_context():
        officer = create_user("officer2@umoja.example.org", PASSWORD, "officer").id
        tickets.close(second, actor="test")
        db.session.commit()
    assert client.post(f"/admin/tickets/{first}/assign", data={"csrf_token": token, "to": str(officer)}).status_code == 400
    assert client.post(f"/admin/tickets/{second}/assign", data={"csrf_token": token, "to": "me"}).status_code == 404
    assert client.post(f"/admin/tickets/{first}/assign", data={"to": "me"}).status_code == 400
    assert len(audit_events(app, "ticket.assign")) == 3


def test_officers_cannot_open_the_inbox_nor_saved_answers(app, client, catalog):
    ticket = open_ticket(app, "+254712000001", "Hello")
    _, token = signed_in(app, client, "officer")
    for url in ("/admin/tickets", f"/admin/tickets/{ticket}", "/admin/saved-answers"):
        assert client.get(url).status_code == 403, url
    for url, data in ((f"/admin/tickets/{ticket}/assign", {"to": "me"}),
                      ("/admin/saved-answers", {"title": "t", "language": "en", "text": "x"}),
                      ("/admin/saved-answers/1/delete", {})):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedAnswer)) == 0


def test_the_navigation_leads_organisers_to_the_saved_answers(app, client, catalog):
    signed_in(app, client, "organiser")
    assert 'href="/admin/saved-answers"' in client.get("/admin/").get_data(as_text=True)
    officer = app.test_client()
    signed_in(app, officer, "officer")
    assert 'href="/admin/saved-answers"' not in officer.get("/admin/").get_data(as_text=True)


def test_the_search_finds_words_and_member_numbers(app, client, catalog):
    bolt = open_ticket(app, "+254712000001", "My Bolt account was blocked", number=123)
    other = open_ticket(app, "+254712000002", "When is the meeting?", number=45)
    with app.app_context():
        tickets.reply(other, "We will talk about bolt fares on Friday", actor="test")
        tickets.close(other, actor="test")
        db.session.commit()
    signed_in(app, client, "organiser")
    assert listed(client, q="Bolt") == [bolt, other]  # in every state, in what organisers wrote too
    assert listed(client, q="bolt", state="live") == [bolt] and listed(client, q="Bolt", state="") == [bolt, other]
    assert listed(client, q="bolt blocked") == [bolt]
    for search in ("KUGWO-000123", "kugwo-000123", "000123", "123"):
        assert listed(client, q=search) == [bolt], search
    assert listed(client, q="45") == [other] and listed(client, q="12") == []
    prospect = open_ticket(app, "+254712000003", "Can I join?", number=3)
    with app.app_context():
        numbered = db.session.scalar(sa.select(Member.id).where(Member.phone == "+254712000002"))
        prospect_id = db.session.get(Ticket, prospect).member_id
        db.session.execute(sa.update(Member).where(Member.id == prospect_id).values(member_number=None))
        db.session.commit()
    assert listed(client, q=f"P-{prospect_id}") == [prospect] and listed(client, q=f"p-{prospect_id}") == [prospect]
    assert listed(client, q=f"P-{numbered}") == []  # a member with a number is known by it, not by reference
    assert listed(client, q="taxi") == []
    assert "No tickets match." in client.get("/admin/tickets?q=taxi").get_data(as_text=True)


def test_digits_match_only_whole_numbers_over_the_masked_text(app, client, catalog):
    phone = open_ticket(app, "+254712000001", "Call me on 0712345678 please", number=1)
    receipt = open_ticket(app, "+254712000002", "My receipt says 0712 and then nothing", number=2)
    code = open_ticket(app, "+254712000003", "Paybill 247247 account 1234", number=3)
    signed_in(app, client, "organiser")
    assert listed(client, q="0712") == [receipt]  # not inside the phone number
    assert listed(client, q="247247") == [code] and listed(client, q="2472") == [] and listed(client, q="123") == []
    for search in ("0712345678", "712345678", "+254712345678", "071234", "345678", "12345"):
        assert listed(client, q=search) == [], search  # the number is masked before the search reads it
    admin = app.test_client()
    signed_in(app, admin, "admin")
    assert listed(admin, q="0712345678") == [phone]  # those who may read numbers find them written whole
    assert listed(admin, q="0712") == [receipt]


@pytest.mark.parametrize("writing", ["0", "254", "+254", ""])
def test_an_organiser_cannot_learn_a_phone_number_by_searching_its_prefix(app, client, catalog, writing):
    """Two tickets with numbers that look the same once masked: every prefix of either number, in any
    writing, finds both or neither, so the search tells an organiser nothing the page does not show."""
    real = open_ticket(app, "+254712000001", "Call me on +254712345678 or 0712345678", number=5000)
    decoy = open_ticket(app, "+254712000002", "Call me on +254799999678 or 0799999678", number=6000)
    signed_in(app, client, "organiser")
    for number in ("712345678", "799999678"):
        written = writing + number
        for end in range(1, len(written) + 1):
            found = set(listed(client, q=written[:end], state="all"))
            assert found in (set(), {real, decoy}), (written[:end], found)
    admin = app.test_client()
    signed_in(app, admin, "admin")
    assert listed(admin, q="0712345678") == [real]  # the two differ when read whole


def test_saved_answers_are_kept_changed_and_deleted(app, client, catalog):
    email, token = signed_in(app, client, "organiser")
    page = client.get("/admin/saved-answers").get_data(as_text=True)
    assert "No saved answers yet." in page and '<option value="sw">Kiswahili</option>' in page
    response = client.post("/admin/saved-answers", data={"csrf_token": token, "title": "Meeting", "language": "sw",
                                                         "text": "Mkutano ni Ijumaa saa nne."})
    assert response.status_code == 302
    client.post("/admin/saved-answers", data={"csrf_token": token, "title": "Meeting", "language": "en",
                                              "text": "The meeting is on Friday at 10."})
    with app.app_context():
        swahili, english = db.session.scalars(sa.select(SavedAnswer.id).order_by(SavedAnswer.id)).all()
    page = client.get("/admin/saved-answers").get_data(as_text=True)
    assert "Mkutano ni Ijumaa saa nne." in page and "The meeting is on Friday at 10." in page
    assert page.index("The meeting is on Friday") < page.index("Mkutano")  # by language, in the order of LANGUAGES
    edit = client.get(f"/admin/saved-answers/{swahili}").get_data(as_text=True)
    assert "Mkutano ni Ijumaa saa nne.</textarea>" in edit and '<option selected value="sw">' in edit
    client.post(f"/admin/saved-answers/{swahili}", data={"csrf_token": token, "title": "Mkutano", "language": "sw",
                                                         "text": "Mkutano ni Jumamosi."})
    response = client.post("/admin/saved-answers", data={"csrf_token": token, "title": "", "language": "xx",
                                                         "text": "x"})
    assert response.status_code == 400 and "title" in response.get_data(as_text=True)
    assert client.post(f"/admin/saved-answers/{english}/delete", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/saved-answers/{english}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/saved-answers/{swahili}/delete", data={}).status_code == 400
    with app.app_context():
        rows = [(row.title, row.language, row.text) for row in db.session.scalars(sa.select(SavedAnswer))]
    assert rows == [("Mkutano", "sw", "Mkutano ni Jumamosi.")]
    assert [(a, s, d) for a, s, d in audit_events(app, "saved_answer.add")] == [
        (email, f"saved answer #{swahili}", {"title": "Meeting", "language": "sw"}),
        (email, f"saved answer #{english}", {"title": "Meeting", "language": "en"})]
    assert audit_events(app, "saved_answer.change") == [
        (email, f"saved answer #{swahili}", {"title": "Mkutano", "language": "sw"})]
    assert audit_events(app, "saved_answer.delete") == [
        (email, f"saved answer #{english}", {"title": "Meeting", "language": "en"})]


def test_a_ticket_offers_the_saved_answers_in_the_members_language(app, client, catalog, fake_twilio, drain):
    ticket = open_ticket(app, "+254712000001", "Mkutano ni lini?", language="sw")
    with app.app_context():
        db.session.add_all([SavedAnswer(title="Mkutano", language="sw", text="Mkutano ni Ijumaa saa nne."),
                            SavedAnswer(title="Meeting", language="en", text="The meeting is on Friday.")])
        db.session.commit()
        swahili = db.session.scalar(sa.select(SavedAnswer.id).where(SavedAnswer.language == "sw"))
    _, token = signed_in(app, client, "organiser")
    page = client.get(f"/admin/tickets/{ticket}").get_data(as_text=True)
    assert f'<option value="{swahili}">Mkutano</option>' in page and "Meeting" not in page
    assert "Kiswahili" in page
    page = client.get(f"/admin/tickets/{ticket}?saved={swahili}").get_data(as_text=True)
    assert 'rows="4">Mkutano ni Ijumaa saa nne.</textarea>' in page
    client.post(f"/admin/tickets/{ticket}/reply", data={"csrf_token": token, "text": "Mkutano ni Ijumaa saa nne."})
    drain()
    assert any("Mkutano ni Ijumaa saa nne." in m["body"] for m in fake_twilio.messages)


def test_a_ticket_shows_the_faq_answer_in_the_members_language(app, client, catalog):
    assert app.test_cli_runner().invoke(args=["faq", "load"]).exit_code == 0
    dues = open_ticket(app, "+254712000001", "ada ni kiasi gani", language="sw", number=1)
    nothing = open_ticket(app, "+254712000002", "my car broke down on the highway", number=2)
    failed = open_ticket(app, "+254712000003", "how much are the dues", number=3, reason="not_helped")
    with app.app_context():
        db.session.execute(sa.update(Ticket).where(Ticket.id == failed).values(faq_key="dues"))
        db.session.commit()
    signed_in(app, client, "organiser")
    page = client.get(f"/admin/tickets/{dues}").get_data(as_text=True)
    suggestion = page[page.index('id="faq-suggestion"'):]
    assert "Ada ya uanachama ni kiasi gani?" in suggestion and "Ada ya uanachama ni " in suggestion
    assert "did not help" not in suggestion
    page = client.get(f"/admin/tickets/{dues}?use=faq").get_data(as_text=True)
    assert re.search(r'rows="4">Ada ya uanachama ni [^<]+</textarea>', page)
    assert 'id="faq-suggestion"' not in client.get(f"/admin/tickets/{nothing}").get_data(as_text=True)
    page = client.get(f"/admin/tickets/{failed}").get_data(as_text=True)
    assert "Membership dues are" in page and "the member was given this answer and said it did not help" in page


def test_the_inbox_reads_a_fixed_number_of_statements(app, client, catalog):
    """Two tickets or eight, searched or not: the inbox reads the same number of statements."""

    def open_tickets(first: int, count: int) -> None:
        for n in range(first, first + count):
            ticket = open_ticket(app, f"+2547120001{n:02d}", f"ticket {n} about Bolt", number=100 + n)
            with app.app_context():
                tickets.reply(ticket, f"answer {n}", actor="test", holder=f"member:{n}")
                db.session.commit()

    def statements_for(**args) -> int:
        with statements_run(app) as statements:
            assert client.get("/admin/tickets", query_string=args).status_code == 200
        return len(statements)

    signed_in(app, client, "organiser")
    open_tickets(0, 2)
    few, few_searched = statements_for(), statements_for(q="bolt")
    open_tickets(2, 6)
    assert statements_for() == few and statements_for(q="bolt") == few_searched
    assert len(listed(client, q="bolt")) == 8


def test_every_inbox_form_rejects_a_missing_csrf_token(app, client, catalog):
    ticket = open_ticket(app, "+254712000001", "Hello")
    signed_in(app, client, "admin")
    posts = [(f"/admin/tickets/{ticket}/reply", {"text": "Friday"}), (f"/admin/tickets/{ticket}/close", {}),
             (f"/admin/tickets/{ticket}/assign", {"to": "me"}),
             ("/admin/saved-answers", {"title": "t", "language": "en", "text": "x"})]
    for url, data in posts:
        for token in (None, "forged"):
            assert client.post(url, data=dict(data) | ({"csrf_token": token} if token else {})).status_code == 400, url
    with app.app_context():
        assert db.session.get(Ticket, ticket).status == "open" and db.session.get(Ticket, ticket).holder is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedAnswer)) == 0


def test_the_search_form_keeps_what_was_asked(app, client, catalog):
    signed_in(app, client, "organiser")
    page = client.get("/admin/tickets?q=Bolt&state=closed&sort=newest&mine=1").get_data(as_text=True)
    assert 'value="Bolt"' in page and '<option value="closed" selected>' in page
    assert '<option value="newest" selected>' in page and 'name="mine" value="1" checked' in page


def test_the_inbox_on_the_embedded_sqlite_database(tmp_path):
    """The embedded default: the migration up and down, the inbox's search and a saved answer on SQLite."""
    from flask_migrate import downgrade, upgrade

    from bot import create_app
    from tests.helpers.app import app_config

    embedded = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'umoja.db'}"))
    with embedded.app_context():
        upgrade()
    try:
        bolt = open_ticket(embedded, "+254712000001", "My Bolt account, call 0712345678", number=7)
        other = open_ticket(embedded, "+254712000002", "My receipt says 0712", number=8)
        client = embedded.test_client()
        _, token = signed_in(embedded, client, "organiser")
        assert listed(client, q="bolt") == [bolt] and listed(client, q="0712") == [other]
        assert listed(client, q="7") == [bolt] and listed(client, q="0712345678") == []
        client.post("/admin/saved-answers", data={"csrf_token": token, "title": "Hi", "language": "en", "text": "Hello"})
        assert ">Hi</option>" in client.get(f"/admin/tickets/{bolt}").get_data(as_text=True)
        with embedded.app_context():
            db.session.remove()
            downgrade(revision="0019")
            assert "saved_answers" not in sa.inspect(db.engine).get_table_names()
            upgrade()
            assert "saved_answers" in sa.inspect(db.engine).get_table_names()
    finally:
        with embedded.app_context():
            db.engine.dispose()
