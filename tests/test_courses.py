"""Courses through the real webhook, in English and Swahili: the catalog, enrolling, MY COURSES."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from rq.registry import ScheduledJobRegistry

from bot.core.extensions import db
from bot.core.queues import queue
from bot.courses.reminders import due_at
from bot.models import Course, Enrolment
from tests.helpers.app import WhatsApp, sqlite_app_migrated
from tests.helpers.courses import add_member
from tests.helpers.signup import play


def scheduled_reminders(app: Flask) -> dict[str, object]:
    """Reminder job id → scheduled time (UTC, naive)."""
    with app.app_context():
        registry = ScheduledJobRegistry(queue=queue("default"))
        return {
            job_id: registry.get_scheduled_time(job_id).replace(tzinfo=None)
            for job_id in registry.get_job_ids() if job_id.startswith("reminder-")
        }


def test_english_catalog_paged_enrol_once_and_my_courses(app, member):
    play(member, [
        ("courses", ["Free courses by Microsoft on LinkedIn Learning", "1. Generative AI: What generative AI is",
                     "5. Cybersecurity", "Reply 0 for more courses."]),
        ("0", ["6. Business Analysis", "8. System Administration"]),
        ("9", ["Please reply with the number of a course, from 1 to 8.", "6. Business Analysis"]),
        ("2", ["Data Analysis", "It takes about 6 hours", "Reply YES to enrol"]),
        ("maybe", ["Please reply YES to enrol, or NO to see the list again.", "Data Analysis"]),
        ("yes", ["You are enrolled in Data Analysis!",
                 "https://www.linkedin.com/learning/paths/career-essentials-in-data-analysis-by-microsoft-and-linkedin",
                 "1. Open the link", "3. When you finish, download your certificate and send CERTIFICATE"]),
        ("courses", ["Reply MY COURSES to see your courses."]),
        ("2", ["Data Analysis"]),
        ("yes", ["You are already enrolled in Data Analysis."]),
        ("my courses", ["Your courses:", "Data Analysis: enrolled", "Send CERTIFICATE to report it."]),
    ])
    with app.app_context():
        enrolments = db.session.execute(sa.select(Enrolment.course_id, Enrolment.enrolled_at)).all()
        course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "data-analysis"))
    [(enrolled_course, enrolled_at)] = enrolments
    assert enrolled_course == course_id
    with app.app_context():
        expected = {f"reminder-1-{days}": due_at(enrolled_at, days).replace(microsecond=0) for days in (3, 7, 14)}
    assert scheduled_reminders(app) == expected


def test_swahili_enrol_and_my_courses(app, mwanachama):
    play(mwanachama, [
        ("kozi", ["Kozi za bure za Microsoft kwenye LinkedIn Learning", "1. Akili bandia zalishi (Generative AI): Akili",
                  "Jibu 0 kuona kozi zaidi."]),
        ("1", ["Akili bandia zalishi", "Inachukua takriban saa 4", "Jibu NDIYO kujiandikisha"]),
        ("hapana", ["Kozi za bure za Microsoft"]),
        ("5", ["Usalama wa mtandao"]),
        ("ndio", ["Umejiandikisha kwenye Usalama wa mtandao (Cybersecurity)!", "Kiungo cha kozi yako:", "Jinsi ya kufanya:"]),
        ("kozi zangu", ["Kozi zako:", "Usalama wa mtandao (Cybersecurity): umejiandikisha", "Tuma CHETI"]),
    ])
    assert len(scheduled_reminders(app)) == 3


def test_courses_menu_item_and_global_keywords_keep_working(member):
    reply = member.says("menu")
    assert "1. Free courses" in reply and "6. My courses" in reply
    assert "Free courses by Microsoft" in member.says("1")
    assert "Main menu" in member.says("menu")
    assert "not enrolled in any course yet" in member.says("6")


def test_no_catalog_says_so(app, client):
    add_member(app, "+254712000009")
    assert "There are no courses right now" in WhatsApp(client, "+254712000009").says("courses")


def test_catalog_reload_updates_and_hides(app, catalog, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("slug,hours,url,title_en,title_sw,summary_en,summary_sw\n"
                    "data-analysis,7,https://example.org/d,Data,Data,Numbers,Takwimu\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["courses", "load", str(data)])
    assert "0 added, 1 updated, 7 hidden" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("slug,title_en\nx,X\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["courses", "load", str(bad)]).exit_code != 0
    listing = app.test_cli_runner().invoke(args=["courses", "list"]).output
    assert "data-analysis\t7h\tData" in listing and "generative-ai" not in listing


def test_a_non_member_may_enrol_and_is_told_how_to_get_the_reward(catalog, whatsapp):
    whatsapp.send("Hi")
    menu = whatsapp.says("menu")
    number = next(line.split(".")[0] for line in menu.splitlines() if "Free courses" in line)
    play(whatsapp, [(number, ["1."]), ("1", []), ("yes", ["may we keep your details?"]),  # the notice first
                    ("yes", ["You are enrolled in", "for union members: send JOIN to become one."])])


def test_a_course_is_chosen_by_the_words_members_use_for_it(app, mwanachama):
    # The sample catalog's words_<lang> columns: "kompyuta" is System Administration, "excel" Data Analysis.
    play(mwanachama, [
        ("kozi", ["Kozi za bure za Microsoft"]),
        ("kompyuta", ["Usimamizi wa mifumo", "Jibu NDIYO kujiandikisha"]),
        ("hapana", ["Kozi za bure za Microsoft"]),
        ("excel", ["Uchambuzi wa data", "Jibu NDIYO kujiandikisha"]),
    ])
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "data-analysis"))
        assert course is not None and "EXCEL" in course.words["en"] and "TAKWIMU" in course.words["sw"]


def check_the_words_upgrade_keeps_the_courses(app_to_migrate: Flask) -> None:
    """Migration 0022 on a database holding a course: the course stays, with no words, and takes words after."""
    from flask_migrate import downgrade, upgrade

    from bot.courses.service import load_catalog

    with app_to_migrate.app_context():
        downgrade(revision="0021")
        try:
            with db.engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO courses (id, slug, url, hours, titles, summaries, position, active, updated_at) "
                    "VALUES (901, 'data-analysis', 'https://example.org/d', 6, '{\"en\": \"Data Analysis\"}', '{}', "
                    "0, true, '2026-12-01 09:00:00')"))
        finally:
            db.session.remove()
            upgrade()
        course = db.session.get(Course, 901)
        assert course is not None and course.titles == {"en": "Data Analysis"} and course.words == {}
        load_catalog()
        db.session.commit()
        assert "EXCEL" in db.session.get(Course, 901).words["en"]
        db.session.execute(sa.delete(Course))
        db.session.commit()
        db.session.remove()


def test_the_course_words_upgrade_keeps_the_courses(app):
    check_the_words_upgrade_keeps_the_courses(app)


def test_the_course_words_upgrade_on_sqlite_too(tmp_path):
    with sqlite_app_migrated(tmp_path) as older:
        check_the_words_upgrade_keeps_the_courses(older)
