"""Questions answered, tickets for organisers (TICKETS / REPLY / CLOSE), in English and Swahili."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Conversation, FaqEntry, Member, Ticket, utcnow
from flows.faq import FaqItem, Knowledge, decide
from tests.helpers.app import WhatsApp
from tests.helpers.signup import ENGLISH_HAPPY, SWAHILI_HAPPY, play

ORGANISER = "+254733000009"


@pytest.fixture
def faq(app):
    """The repo's questions and answers, loaded with the flask command."""
    result = app.test_cli_runner().invoke(args=["faq", "load"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def organiser(app, client) -> WhatsApp:
    """An organiser's phone."""
    assert app.test_cli_runner().invoke(args=["staff", "add", ORGANISER, "--role", "organiser"]).exit_code == 0
    return WhatsApp(client, ORGANISER)


def tickets(app) -> list[tuple[int, str, str, list[tuple[str, str | None]]]]:
    """Every ticket: id, status, reason and its lines (author, text)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
        return [(t.id, t.status, t.reason, [(e.author, e.body) for e in t.entries]) for t in rows]


def test_faq_load_reports_what_changed_and_refuses_a_broken_file(app, faq, tmp_path):
    assert "13 added, 0 updated, 0 removed" in faq
    source = Path(app.config["FAQ_FILE"]).read_text(encoding="utf-8")
    edited = tmp_path / "faq.yaml"
    edited.write_text(source.replace("Membership dues are {dues}.", "Dues are {dues}.")
                      .split("- key: data_kept")[0], encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["faq", "load", "--file", str(edited)])
    assert "0 added, 1 updated, 3 removed" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(FaqEntry.id))) == 10
        assert db.session.scalar(sa.select(FaqEntry.texts).where(FaqEntry.key == "dues"))["en"]["answer"].startswith(
            "Dues are {dues}.")
    broken = tmp_path / "broken.yaml"
    broken.write_text("- key: x\n  en: {question: Hi, answer: Hello}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["faq", "load", "--file", str(broken)])
    assert result.exit_code != 0 and "'sw' needs a question and an answer" in result.output
    broken.write_text("- key: x\n  question: {en: Hi, sw: Habari}\n  answer: {en: Hello, sw: Jambo}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["faq", "load", "--file", str(broken)])
    assert result.exit_code != 0 and "'answer' is not a language code" in result.output


def test_matching_is_fuzzy_across_languages_and_unsure_offers_the_closest():
    dues = FaqItem("dues", {"en": "How much are the dues?", "sw": "Ada ni kiasi gani?"}, {"en": "x"},
                   {"en": ("dues", "fees"), "sw": ("ada", "kiasi gani", "ni pesa ngapi")})
    pay = FaqItem("pay_dues", {"en": "How do I pay the dues?"}, {"en": "z"},
                  {"en": ("pay the dues", "paybill", "mpesa"), "sw": ("nalipaje ada",)})
    call = FaqItem("call", {"en": "How do I reach an organiser?"}, {"en": "y"}, {"en": ("call", "office")})
    knowledge = Knowledge((dues, pay, call))
    assert decide("hwo much are the dews", knowledge).answer == dues
    assert decide("ada ni kiasi gani jamani", knowledge).answer == dues
    assert decide("Ni pesa ngapi?", knowledge).answer == dues
    assert decide("where is your ofice", knowledge).answer == call
    assert decide("PAYBILL", knowledge).answer == pay
    assert decide("nitalipaje ada", knowledge).answer == pay  # a Swahili prefix on a known word
    unsure = decide("fees or mpesa", knowledge)
    assert unsure.answer is None and [item.key for item in unsure.choices] == ["dues", "pay_dues"]
    assert decide("tell me about football", knowledge) == decide("", knowledge) == decide("?", knowledge)
    assert decide("tell me about football", knowledge).choices == ()


def test_words_from_another_way_of_asking_the_same_answer_count_for_it():
    dues = FaqItem("dues", {"en": "How much are the dues?"}, {"en": "x"}, {"sw": ("ada", "ni ngapi")})
    pay = FaqItem("pay_dues", {"en": "How do I pay the dues?"}, {"en": "y"},
                  {"sw": ("nitalipa aje", "kupitia mpesa", "nalipia wapi")})
    knowledge = Knowledge((dues, pay))
    # "Where (wapi) will I pay (nitalipa) the dues (ada)": "wapi" is in another way of asking how to pay, so
    # paying is no longer far behind how much, and both are offered.
    unsure = decide("nitalipa ada wapi", knowledge)
    assert unsure.answer is None and sorted(item.key for item in unsure.choices) == ["dues", "pay_dues"]
    assert decide("ada ni ngapi", knowledge).answer == dues


def test_a_misheard_spelling_keeps_the_length_of_the_word():
    study = FaqItem("courses", {"en": "What are the courses?"}, {"en": "x"}, {"en": ("study", "courses")})
    dues = FaqItem("dues", {"en": "How much are the dues?"}, {"en": "y"}, {"en": ("dues",)})
    knowledge = Knowledge((study, dues))
    assert decide("dews", knowledge).answer == dues
    assert decide("is there a meeting on saturday", knowledge) == decide("", knowledge)


def test_english_question_answered_and_it_helped(app, whatsapp, faq):
    play(whatsapp, ENGLISH_HAPPY)
    play(whatsapp, [
        ("How much are the dues?", ["Membership dues are KES 50 a month.", "Did this answer help? Reply 1 for yes"]),
        ("maybe", ["Please reply 1 if the answer helped or 2 if it did not."]),
        ("1", ["Glad it helped!"]),
        ("menu", ["Main menu"]),
        ("2", ["What would you like to know?"]),
        ("my account was deactivated by the platform", ["If a platform deactivated or blocked you",
                                                        "section 26(b)", "section 35", "Did this answer help?"]),
    ])
    assert tickets(app) == []


def test_swahili_question_answered_then_not_helped_opens_a_ticket(app, whatsapp, faq):
    play(whatsapp, SWAHILI_HAPPY)
    play(whatsapp, [
        ("ada ni kiasi gani?", ["Ada ya uanachama ni KES 50 kwa mwezi.", "Jibu hili limekusaidia?"]),
        ("2", ["Pole, halijasaidia. Nimempa mwandalizi swali lako (tiketi #1).", "Mtu atakujibu hapa"]),
        ("Nimeshalipa lakini sijapata risiti", ["Imeongezwa kwenye swali lako kwa waandaaji (tiketi #1)."]),
    ])
    assert tickets(app) == [(1, "open", "not_helped", [("member", "ada ni kiasi gani?"),
                                                       ("member", "Nimeshalipa lakini sijapata risiti")])]


def test_answers_the_review_corrected_in_english(app, whatsapp, faq):
    play(whatsapp, ENGLISH_HAPPY)
    reply = whatsapp.says("who can join")
    assert "You are already a member: your member number is KUGWO-000001." in reply and "JOIN" not in reply
    whatsapp.send("1")
    contact = app.config["HELP_CONTACT"]
    app.config["HELP_CONTACT"] = ""
    try:
        reply = whatsapp.says("how do I reach an organiser")
        assert "Send AGENT here at any time" in reply and "call" not in reply and "KUGWO" not in reply
        whatsapp.send("1")
        app.config["HELP_CONTACT"] = "0700 123 456"
        assert "You can also call 0700 123 456." in whatsapp.says("where is your office")
    finally:
        app.config["HELP_CONTACT"] = contact
    whatsapp.send("1")
    play(whatsapp, [
        ("what courses do you offer", ["Microsoft's Career Essentials on LinkedIn Learning",
                                       "one LinkedIn Premium voucher (one per member)", "waiting list"]),
        ("1", ["Glad it helped!"]),
        ("paybill", ["Dues are KES 50 a month. An organiser will tell you how and where to pay: send AGENT to ask."]),
        ("1", ["Glad it helped!"]),
        ("I lost my member number", ["Send MY DATA"]),
        ("1", ["Glad it helped!"]),
        ("do the videos use a lot of data", ["The courses are in English", "mobile data"]),
    ])
    assert tickets(app) == []


def test_answers_in_swahili_use_the_swahili_settings(app, whatsapp, faq):
    play(whatsapp, SWAHILI_HAPPY)
    app.config.update(DUES_PAYMENT="M-Pesa paybill 000000, account: your member number",
                      DUES_PAYMENT_SW="M-Pesa paybill 000000, akaunti: nambari yako ya uanachama",
                      UNION_NAME_SW="Chama cha Wafanyakazi wa Gig Kenya")
    try:
        play(whatsapp, [
            ("nalipaje ada", ["Ada ni KES 50 kwa mwezi. Jinsi ya kulipa: M-Pesa paybill 000000, akaunti: nambari "
                              "yako ya uanachama."]),
            ("1", ["Vizuri!"]),
            ("chama hiki ni nini", ["Chama cha Wafanyakazi wa Gig Kenya ni chama", "wanaoweka lebo kwenye data",
                                    "mbele ya kampuni na serikali"]),
            ("1", ["Vizuri!"]),
            ("nitajiunga aje", ["jamii zinazowakaribisha wakimbizi",
                                "Wewe tayari ni mwanachama: nambari yako ya uanachama ni KUGWO-000001."]),
            ("1", ["Vizuri!"]),
            ("akaunti yangu imefungwa na bolt", ["kifungu 26(b)", "kifungu 35"]),
        ])
    finally:
        for name in ("DUES_PAYMENT", "DUES_PAYMENT_SW", "UNION_NAME_SW"):
            app.config[name] = ""


def test_english_miss_opens_a_ticket_until_menu(app, whatsapp, faq):
    play(whatsapp, ENGLISH_HAPPY)
    play(whatsapp, [
        ("Can the union lend me money for a motorbike?",  # 'lend' is not a typo of 'send' (pay dues)
         ["I am not sure which answer you need. Reply with a number:\n"
          "1. What is the union and what does it do?\n"
          "2. Pass my question to a person (an organiser)\n"
          "Or write your question in other words, or send MENU for the main menu."]),
        ("3", ["Please reply with one of the numbers, or write your question in other words.", "2. Pass my"]),
        ("2", ["I have passed your question to an organiser (ticket #1).", "Someone will answer you here soon."]),
        ("It is urgent please", ["Added to your question for the organisers (ticket #1)."]),
        ("my data", ["This is everything we hold about you:"]),
        ("another thing: the motorbike is for delivery work", ["(ticket #1)"]),
        ("MENU", ["Main menu"]),
        ("how do I get paid safely", ["Agree the price and the work in writing", "Did this answer help?"]),
        ("2", ["Sorry it did not help", "(ticket #1)"]),
    ])
    [(number, status, reason, lines)] = tickets(app)
    assert (number, status, reason) == (1, "open", "no_match")
    assert [text for _, text in lines] == ["Can the union lend me money for a motorbike?", "It is urgent please",
                                           "another thing: the motorbike is for delivery work",
                                           "how do I get paid safely"]


@pytest.mark.parametrize(("signup", "conversation", "reason", "lines"), [
    (ENGLISH_HAPPY, [("How much are the dues?", ["Membership dues are KES 50 a month.", "Did this answer help?"]),
                     ("Can the union lend me money for a motorbike?", ["Pass my question to a person"]),
                     ("agent", ["I have passed your question to an organiser (ticket #1)."])],
     "no_match", ["How much are the dues?", "Can the union lend me money for a motorbike?"]),
    (SWAHILI_HAPPY, [("ada ni kiasi gani?", ["Ada ya uanachama ni KES 50", "Jibu hili limekusaidia?"]),
                     ("mtu", ["Mwandalizi atakujibu hapa (tiketi #1)."])],
     "asked", ["ada ni kiasi gani?"]),
])
def test_a_ticket_opened_after_an_answer_starts_with_the_question_asked(app, whatsapp, faq, signup, conversation,
                                                                        reason, lines):
    play(whatsapp, signup)
    play(whatsapp, conversation)
    assert [(t[2], [text for _, text in t[3]]) for t in tickets(app)] == [(reason, lines)]


def test_asking_for_a_person_in_swahili_and_a_non_member_question(app, client, faq):
    member = WhatsApp(client, "+254712000222")
    play(member, SWAHILI_HAPPY)
    play(member, [("mtu", ["Mwandalizi atakujibu hapa (tiketi #1)."]),
                  ("Nina shida na malipo ya Uber", ["Imeongezwa kwenye swali lako"])])
    prospect = WhatsApp(client, "+254712000333")
    prospect.send("Hi")
    play(prospect, [("cancel", ["Main menu"]), ("Who can join?", ["Anyone aged 18 or over", "Send JOIN to join now."])])
    assert [(t[0], t[2]) for t in tickets(app)] == [(1, "asked")]


def test_organiser_answers_inside_the_window_as_text_and_closes(app, whatsapp, organiser, faq, drain, fake_twilio):
    play(whatsapp, ENGLISH_HAPPY)
    whatsapp.send("Can the union lend me money for a motorbike?")
    whatsapp.send("AGENT")  # pass it to a person
    listing = organiser.says("TICKETS")
    assert "Open tickets (1):" in listing and "#1 KUGWO-000001 Amina, " in listing
    assert "+254712345678" not in listing and "Wanjiku" not in listing
    assert "motorbike" in listing
    assert "Write REPLY" in organiser.says("REPLY one")
    assert "Write REPLY" in organiser.says("REPLY 1")
    assert "Ticket #7 is not open." in organiser.says("REPLY #7 hello")
    assert "Ticket #7 is not open." in organiser.says("REPLY 7 hello")
    assert "Sent as a message to ticket #1" in organiser.says("REPLY 1 We do not lend money, but see the SACCO list.")
    drain()
    [sent] = fake_twilio.messages
    assert sent["to"] == "whatsapp:+254712345678"
    assert sent["body"] == ("An organiser answered your question (ticket #1):\n"
                            "We do not lend money, but see the SACCO list.")
    assert "Write CLOSE" in organiser.says("CLOSE 1 now")
    assert "Ticket #1 is closed." in organiser.says("CLOSE #1")
    assert "Ticket #1 is not open." in organiser.says("CLOSE 1")
    assert "No open tickets." in organiser.says("tickets")
    [(_, status, _, lines)] = tickets(app)
    assert status == "closed" and lines[-1] == ("organiser", "We do not lend money, but see the SACCO list.")
    assert whatsapp.says("thanks for the help") == ("You're welcome!\n"
                                                    "Send MENU for the main menu, or write your question.")
    assert len(tickets(app)) == 1  # a courtesy opens no ticket


def test_organiser_answers_outside_the_window_with_the_template(app, client, organiser, faq, drain, fake_twilio):
    member = WhatsApp(client, "+254712000444")
    play(member, SWAHILI_HAPPY)
    member.send("mtu")
    member.send("Nataka mkopo")
    with app.app_context():
        db.session.execute(sa.update(Member).where(Member.phone == "+254712000444")
                           .values(last_inbound_at=utcnow() - timedelta(hours=30)))
        db.session.commit()
    play(organiser, [("REPLY 1 Hatutoi mikopo.", [
        "Not sent: outside the 24-hour window and no template is configured.",
        "To answer outside the 24-hour window, set up the organiser_reply template."])])
    app.config["WHATSAPP_TEMPLATES"] = {"organiser_reply": {"en": "HXen", "sw": "HXsw"}}
    try:
        assert "Sent as the approved template to ticket #1" in organiser.says("REPLY 1 Hatutoi mikopo.")
        drain()
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    [sent] = fake_twilio.messages
    assert sent["to"] == "whatsapp:+254712000444" and sent["content_sid"] == "HXsw"
    assert '"2": "Hatutoi mikopo."' in sent["content_variables"] and '"1": "1"' in sent["content_variables"]
    assert "body" not in sent or not sent.get("body")


def test_a_swahili_organiser_reads_why_a_reply_was_not_sent_in_swahili(app, client, whatsapp, faq):
    play(whatsapp, ENGLISH_HAPPY)
    whatsapp.send("Can the union lend me money for a motorbike?")
    whatsapp.send("AGENT")  # pass it to a person
    with app.app_context():
        db.session.execute(sa.update(Member).values(last_inbound_at=utcnow() - timedelta(hours=30)))
        db.session.commit()
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000010", "--role", "organiser"])
    mwandaaji = WhatsApp(client, "+254733000010")
    mwandaaji.send("Habari")
    reply = mwandaaji.says("REPLY 1 Hatukopeshi pesa.")
    assert reply.splitlines() == ["Haijatumwa: nje ya saa 24 na hakuna kiolezo kilichowekwa.",
                                  "Ili kujibu nje ya saa 24, weka kiolezo cha organiser_reply."]
    whatsapp.send("STOP")
    assert "Haijatumwa: mwanachama amejiondoa." in mwandaaji.says("REPLY 1 Hatukopeshi pesa.")


def test_members_cannot_use_ticket_commands(app, whatsapp, faq):
    play(whatsapp, ENGLISH_HAPPY)
    whatsapp.send("Can the union lend me money for a motorbike?")
    whatsapp.send("AGENT")  # pass it to a person
    whatsapp.send("menu")
    reply = whatsapp.says("TICKETS")
    assert "Open tickets" not in reply and "No open tickets" not in reply
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_after_an_organiser_reply_the_members_answer_joins_the_ticket_even_after_a_pause(
        app, whatsapp, organiser, faq, drain):
    play(whatsapp, ENGLISH_HAPPY)
    whatsapp.send("Can the union lend me money for a motorbike?")
    whatsapp.send("AGENT")  # pass it to a person
    whatsapp.send("menu")
    with app.app_context():
        db.session.execute(sa.update(Conversation).values(expires_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    organiser.send("REPLY 1 Which county are you in?")
    assert "Added to your question for the organisers (ticket #1)." in whatsapp.says("Nairobi, near Kibera")
    [(_, _, _, lines)] = tickets(app)
    assert lines[-1] == ("member", "Nairobi, near Kibera")


def test_a_member_never_has_two_open_tickets(app, whatsapp, faq):
    play(whatsapp, ENGLISH_HAPPY)
    whatsapp.send("Can the union lend me money for a motorbike?")
    whatsapp.send("AGENT")  # pass it to a person
    with app.app_context():
        db.session.add(Ticket(member_id=1, status="open", reason="asked"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(Ticket(member_id=1, status="closed", reason="asked"))
        db.session.commit()


def test_settings_shown_to_members_may_be_given_per_language(monkeypatch, tmp_path):
    from bot.core.config import load_settings

    monkeypatch.delenv("MEMBERSHIP_DUES", raising=False)
    monkeypatch.delenv("MEMBERSHIP_DUES_SW", raising=False)
    assert load_settings(tmp_path)["MEMBERSHIP_DUES_SW"] == "KES 50 kwa mwezi"
    monkeypatch.setenv("MEMBERSHIP_DUES", "KES 100 a month")
    assert load_settings(tmp_path)["MEMBERSHIP_DUES_SW"] is None  # falls back to the union's own setting
    monkeypatch.setenv("MEMBERSHIP_DUES_SW", "KES 100 kwa mwezi")
    monkeypatch.setenv("UNION_NAME_SW", "Chama cha Wafanyakazi wa Gig")
    settings = load_settings(tmp_path)
    assert (settings["MEMBERSHIP_DUES_SW"], settings["UNION_NAME_SW"]) == ("KES 100 kwa mwezi", "Chama cha Wafanyakazi wa Gig")


def test_a_prospects_agent_opens_no_ticket_before_yes_and_no_forgets_them(app, client, faq):
    prospect = WhatsApp(client, "+254712000555")
    prospect.send("Hi")
    play(prospect, [("cancel", ["Main menu"]),
                    ("agent", ["Before we go on, may we keep your details?", "Reply YES if you are 18 or older"])])
    with app.app_context():
        assert db.session.scalar(sa.select(Member.consent_at).where(Member.phone == "+254712000555")) is None
    assert tickets(app) == []
    play(prospect, [("yes", ["An organiser will answer you here (ticket #1)."])])
    assert [(t[0], t[2]) for t in tickets(app)] == [(1, "asked")]
    with app.app_context():
        assert db.session.scalar(sa.select(Member.consent_at).where(Member.phone == "+254712000555")) is not None
    refusing = WhatsApp(client, "+254712000666")
    refusing.send("Hi")
    play(refusing, [("cancel", ["Main menu"]), ("call me", ["Before we go on"]),
                    ("no", ["We have deleted your phone number"])])
    assert len(tickets(app)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(Member.id).where(Member.phone == "+254712000666")) is None
