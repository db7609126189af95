"""Certificate reports by link, photo and PDF (media served by the fake Twilio API with Basic auth),
review by officers on WhatsApp, vouchers exactly once, and the waiting list."""

# ruff: noqa: F811  (the course fixtures are imported from test_courses and used as arguments)

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from bot.certificates.service import approve_certificate, download_certificate
from bot.core.extensions import db
from bot.models import Certificate, Member, Message, Voucher
from tests.helpers.app import WhatsApp
from tests.helpers.certificates import LINK, import_codes, pending_report, vouchers_csv
from tests.helpers.courses import add_member
from tests.helpers.signup import play

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
PDF = b"%PDF-1.4\n" + b"1 0 obj\n" * 300
OFFICER = "+254733000001"


@pytest.fixture
def officer(app: Flask, client, catalog) -> WhatsApp:
    """An officer who has written to the union's number (so alerts can reach them)."""
    app.test_cli_runner().invoke(args=["staff", "add", OFFICER, "--role", "officer"])
    officer = WhatsApp(client, OFFICER)
    officer.send("STAFF")
    return officer


def to(fake, phone: str) -> list[dict]:
    """What the fake Twilio API received for a phone."""
    return [m for m in fake.messages if m["to"] == f"whatsapp:{phone}"]


def certificates(app: Flask) -> list[Certificate]:
    """Every report, oldest first."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def media_form(url: str, content_type: str) -> dict[str, str]:
    """The fields of an inbound message with one attachment."""
    return {"NumMedia": "1", "MediaUrl0": url, "MediaContentType0": content_type}


def test_english_report_by_link_approve_and_voucher_once(app, member, officer, fake_twilio, drain, tmp_path):
    output = import_codes(app, vouchers_csv(tmp_path, "LIP-AAA-111", "LIP-BBB-222", "LIP-AAA-111", expiry="2027-03-31"))
    assert "2 added, 1 duplicates ignored, 0 invalid rows, 0 sent to the waiting list" in output
    play(member, [("courses", []), ("3", []), ("yes", ["You are enrolled in Software Development!"])])
    play(member, [
        ("certificate", ["Which course is your certificate for?", "1. Software Development", "2. Generative AI"]),
        ("1", ["Certificate for Software Development.", "https://www.linkedin.com/learning/certificates/"]),
        ("https://example.org/my-cert", ["That does not look like a LinkedIn Learning certificate link.",
                                         "Certificate for Software Development."]),
        (f"Here it is {LINK}?trk=share", ["Thank you! Your certificate for Software Development is waiting for review",
                                          "within 3 days"]),
        ("my courses", ["Software Development: certificate reported, waiting for review"]),
        ("certificate", []),
        ("1", ["We already have your certificate for Software Development. It is waiting for review."]),
    ])
    play(officer, [
        ("REVIEW", ["Certificate reports waiting for review:", "#1 KUGWO-000001 Amina, Software Development: " + LINK]),
        ("APPROVE 1", ["Report #1 approved: the voucher code was sent to the member."]),
        ("APPROVE 1", ["Report #1 was already reviewed (rewarded)."]),
        ("APPROVE 9", ["There is no report #9."]),
        ("APPROVE", ["Please write APPROVE and the report number"]),
        ("REVIEW", ["No certificate reports are waiting for review."]),
    ])
    drain()
    [voucher] = to(fake_twilio, "+254712345678")
    assert "Your LinkedIn Premium voucher code is: LIP-AAA-111" in voucher["body"]
    assert "linkedin.com/premium/redeem" in voucher["body"] and "Use it before 2027-03-31." in voucher["body"]
    assert "Software Development: certificate verified, voucher sent" in member.says("my courses")
    pool = app.test_cli_runner().invoke(args=["vouchers", "pool"]).output
    assert "available: 1\tassigned: 1\twaiting: 0" in pool


def test_members_never_reach_review_commands(member):
    assert "Certificate reports" not in member.says("REVIEW")
    assert "approved" not in member.says("APPROVE 1")


def test_swahili_report_rejected_with_reason_then_reported_again(app, mwanachama, officer, fake_twilio, drain):
    play(mwanachama, [
        ("cheti", ["Cheti chako ni cha kozi gani?", "1. Akili bandia zalishi"]),
        ("20", ["Tafadhali jibu kwa nambari ya kozi, kuanzia 1 hadi 8."]),
        ("2", ["Cheti cha Uchambuzi wa data (Data Analysis).", "Tuma kiungo cha cheti chako"]),
        ("sina", ["Hicho hakionekani kuwa kiungo cha cheti cha LinkedIn Learning."]),
        (LINK, ["Asante! Cheti chako cha Uchambuzi wa data (Data Analysis) kinasubiri kukaguliwa", "ndani ya siku 3"]),
        ("kozi zangu", ["Uchambuzi wa data (Data Analysis): cheti kimetumwa, kinasubiri kukaguliwa"]),
    ])
    play(officer, [
        ("REJECT 1", ["Please write REJECT, the report number and the reason"]),
        ("REJECT 1 jina kwenye cheti halilingani", ["Report #1 rejected; the member was told why."]),
    ])
    drain()
    [rejection] = to(fake_twilio, "+254722000001")
    assert rejection["body"] == ("Cheti chako cha Uchambuzi wa data (Data Analysis) hakikukubaliwa: jina kwenye cheti halilingani\n"
                                 "Unaweza kukituma tena wakati wowote: tuma CHETI.")
    play(mwanachama, [
        ("kozi zangu", ["Uchambuzi wa data (Data Analysis): umejiandikisha"]),
        ("cheti", ["1. Uchambuzi wa data"]),
        ("1", ["Tuma kiungo"]),
        (LINK, ["kinasubiri kukaguliwa"]),
    ])
    assert [c.status for c in certificates(app)] == ["rejected", "pending"]


def test_report_by_photo_is_fetched_with_basic_auth_and_stored_by_hash(app, client, member, officer, fake_twilio,
                                                                       drain):
    import hashlib

    url = fake_twilio.add_media(PNG, "image/png")
    play(member, [("certificate", []), ("4", ["Certificate for Project Management."])])
    reply = member.says("", **media_form(url, "image/png"))
    assert "We are receiving your file for Project Management" in reply
    drain()
    [received] = to(fake_twilio, "+254712345678")
    assert received["body"].startswith("We received your certificate for Project Management. It is waiting for review")
    [report] = certificates(app)
    digest = hashlib.sha256(PNG).hexdigest()
    assert (report.status, report.sha256, report.size) == ("pending", digest, len(PNG))
    stored = Path(app.config["STORAGE_DIR"]) / f"{digest}.png"
    assert report.stored_path == str(stored) and stored.read_bytes() == PNG
    review = officer.says("REVIEW")
    assert url not in review
    [link] = [word for word in review.split() if "/certificates/file/" in word]
    path = link.removeprefix(app.config["PUBLIC_URL"])
    response = client.get(path)
    assert response.status_code == 200 and response.data == PNG and response.mimetype == "image/png"
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_swahili_report_by_pdf(app, mwanachama, fake_twilio, drain):
    url = fake_twilio.add_media(PDF, "application/pdf")
    play(mwanachama, [("cheti", []), ("8", ["Cheti cha Usimamizi wa mifumo (System Administration)."])])
    assert "Tunapokea faili yako ya Usimamizi wa mifumo" in mwanachama.says("", **media_form(url, "application/pdf"))
    drain()
    [received] = to(fake_twilio, "+254722000001")
    assert received["body"].startswith("Tumepokea cheti chako cha Usimamizi wa mifumo (System Administration). Kinasubiri kukaguliwa")
    [report] = certificates(app)
    assert report.status == "pending" and report.stored_path.endswith(".pdf")
    assert "Usimamizi wa mifumo (System Administration): cheti kimetumwa" in mwanachama.says("kozi zangu")


def test_a_content_type_longer_than_its_column_is_cut_not_a_500(app, member, fake_twilio, drain):
    url = fake_twilio.add_media(PNG, "image/png")
    play(member, [("certificate", []), ("4", ["Certificate for Project Management."])])
    content_type = "image/png; name=" + "x" * 200
    assert "We are receiving your file" in member.says("", **media_form(url, content_type))
    [report] = certificates(app)
    assert report.content_type == "image/png"  # the type itself, never the sender's parameters
    drain()
    assert certificates(app)[0].status == "pending"


def test_unsupported_file_type_reprompts_and_the_member_stays(member):
    play(member, [("certificate", []), ("1", [])])
    reply = member.says("", **media_form("https://api.twilio.com/x/Media/ME1", "audio/ogg"))
    assert "We can only read JPG, PNG or WEBP photos and PDF files." in reply and "Certificate for Generative AI." in reply
    assert "waiting for review" in member.says(LINK)


def test_a_file_too_large_is_refused_and_the_member_is_asked_again(app, member, fake_twilio, drain):
    url = fake_twilio.add_media(PNG + b"\x00" * (5 * 1024 * 1024), "image/png")
    play(member, [("certificate", []), ("1", [])])
    member.send("", **media_form(url, "image/png"))
    drain()
    [told] = to(fake_twilio, "+254712345678")
    assert told["body"].startswith("That file is too large (more than 5 MB).")
    assert certificates(app)[0].status == "invalid" and not list(Path(app.config["STORAGE_DIR"]).glob("*"))
    assert "Generative AI is waiting for review" in member.says(LINK)


def test_a_file_that_is_not_what_it_claims_is_refused(app, member, fake_twilio, drain):
    url = fake_twilio.add_media(b"MZ\x90\x00 not a picture", "image/jpeg")
    play(member, [("certificate", []), ("1", [])])
    member.send("", **media_form(url, "image/jpeg"))
    drain()
    assert "We can only read JPG, PNG or WEBP" in to(fake_twilio, "+254712345678")[0]["body"]
    assert certificates(app)[0].reason == "type"


def test_media_from_another_host_is_never_fetched(app, member, fake_twilio, drain):
    play(member, [("certificate", []), ("1", [])])
    member.send("", **media_form("http://127.0.0.2:9/evil.png", "image/png"))
    drain()
    report = certificates(app)[0]
    assert (report.status, report.reason) == ("invalid", "host")


def test_a_failed_download_is_retried_by_a_job_and_the_member_is_told(app, member, fake_twilio, drain):
    from rq.registry import ScheduledJobRegistry

    from bot.core.queues import queue

    url = fake_twilio.add_media(PNG, "image/png", status=500)
    play(member, [("certificate", []), ("1", [])])
    member.send("", **media_form(url, "image/png"))
    drain()
    [told] = to(fake_twilio, "+254712345678")
    assert told["body"].startswith("We could not fetch your file yet. We will keep trying")
    [report] = certificates(app)
    assert (report.status, report.download_attempts) == ("downloading", 1)
    with app.app_context():
        assert "certificate-1" in ScheduledJobRegistry(queue=queue("replies")).get_job_ids()
    fixed = fake_twilio.add_media(PNG, "image/png")
    with app.app_context():
        db.session.execute(sa.update(Certificate).values(media_url=fixed))
        db.session.commit()
        assert download_certificate(report.id) == "stored"
        assert download_certificate(report.id) == "nothing to do"
    assert certificates(app)[0].status == "pending"


def test_the_same_link_from_two_members_is_flagged_and_not_accepted_twice(app, client, member, officer, tmp_path):
    import_codes(app, vouchers_csv(tmp_path, "C1", "C2"))
    add_member(app, "+254712000002", number=2)
    other = WhatsApp(client, "+254712000002")
    for phone in (member, other):
        play(phone, [("certificate", []), ("1", []), (LINK, ["waiting for review"])])
    review = officer.says("REVIEW")
    assert "warning: the same certificate as report #1 from another member" in review
    play(officer, [
        ("APPROVE 1", ["voucher code was sent"]),
        ("APPROVE 2", ["Report #2 is the same certificate as one already accepted from another member"]),
    ])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Voucher.member_id.is_not(None))) == 1


def approve_at_once(app: Flask, report_ids: list[int]) -> list[str]:
    """Approve reports from as many threads at once (one connection each); returns the outcomes."""
    barrier = threading.Barrier(len(report_ids))
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def approve(report_id: int, n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                outcome = approve_certificate(report_id, reviewer=f"+25473300{n:04d}")
                db.session.commit()
                outcomes.append(outcome.status)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=approve, args=(rid, n)) for n, rid in enumerate(report_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return outcomes


def test_eight_officers_approving_the_same_report_at_once_give_one_voucher(app, catalog, tmp_path, drain):
    import_codes(app, vouchers_csv(tmp_path, *[f"CODE{n}" for n in range(5)]))
    add_member(app, "+254712345678")
    report_id = pending_report(app, "+254712345678")
    outcomes = approve_at_once(app, [report_id] * 8)
    assert sorted(outcomes) == ["not_pending"] * 7 + ["rewarded"]
    with app.app_context():
        assert db.session.scalars(sa.select(Voucher.code).where(Voucher.member_id.is_not(None))).all() == ["CODE0"]
        texts = db.session.scalars(sa.select(Message.body).where(Message.direction == "out")).all()
    assert len([t for t in texts if "voucher code is" in t]) == 1


def test_two_reports_of_one_member_approved_at_once_give_one_voucher(app, catalog, tmp_path):
    import_codes(app, vouchers_csv(tmp_path, "ONE", "TWO", "THREE"))
    add_member(app, "+254712345678")
    reports = [pending_report(app, "+254712345678", slug) for slug in ("cybersecurity", "data-analysis", "generative-ai")]
    outcomes = approve_at_once(app, reports)
    assert sorted(outcomes) == ["already_rewarded", "already_rewarded", "rewarded"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Voucher.member_id.is_not(None))) == 1


def test_the_voucher_is_unique_per_member_in_the_database(app, catalog, tmp_path):
    from sqlalchemy.exc import IntegrityError

    import_codes(app, vouchers_csv(tmp_path, "A1", "A2"))
    add_member(app, "+254712345678")
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id))
        db.session.execute(sa.update(Voucher).where(Voucher.code == "A1").values(member_id=member_id))
        with pytest.raises(IntegrityError):
            db.session.execute(sa.update(Voucher).where(Voucher.code == "A2").values(member_id=member_id))
        db.session.rollback()


def test_waiting_list_alerts_officers_and_is_served_in_order(app, client, catalog, officer, fake_twilio, drain, tmp_path):
    for n, phone in enumerate(("+254712000001", "+254712000002", "+254712000003"), start=1):
        add_member(app, phone, number=n)
    first, second, third = (pending_report(app, p) for p in ("+254712000001", "+254712000002", "+254712000003"))
    play(officer, [("APPROVE 2", ["the voucher pool is empty: the member is on the waiting list"])])
    play(officer, [("APPROVE 1", ["waiting list"]), ("APPROVE 3", ["waiting list"])])
    drain()
    assert "on the waiting list" in to(fake_twilio, "+254712000002")[0]["body"]
    alerts = to(fake_twilio, OFFICER)
    assert [a["body"] for a in alerts][-1].startswith("The voucher pool is empty: 3 members are on the waiting list.")
    pool = app.test_cli_runner().invoke(args=["vouchers", "pool"]).output
    assert "available: 0\tassigned: 0\twaiting: 3" in pool
    assert pool.index("+254712000002") < pool.index("+254712000001") < pool.index("+254712000003")
    assert "2 added, 0 duplicates ignored, 0 invalid rows, 2 sent to the waiting list" in import_codes(
        app, vouchers_csv(tmp_path, "LATE1", "LATE2"))
    drain()
    assert "LATE1" in to(fake_twilio, "+254712000002")[-1]["body"]
    assert "LATE2" in to(fake_twilio, "+254712000001")[-1]["body"]
    assert "waiting: 1" in app.test_cli_runner().invoke(args=["vouchers", "pool"]).output
    assert [c.status for c in certificates(app)] == ["rewarded", "rewarded", "waiting"]
    assert (first, second, third) == (1, 2, 3)


def test_voucher_import_counts_invalid_rows(app, catalog, tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,expires_on\nGOOD1,2027-01-01\nBAD DATE,soon\n,\nGOOD2,\nGOOD3,31/12/2027\n"
                    f"{'X' * 129},\n,2027-01-01\n", encoding="utf-8")
    output = import_codes(app, path)
    assert "2 added, 0 duplicates ignored, 4 invalid rows" in output
    # Each refused row is named by its row number, as a spreadsheet shows it, with the reason (never the code).
    assert "row 3: the code has a space in it" in output
    assert "row 6: the expiry date '31/12/2027' is not a date written YYYY-MM-DD" in output
    assert "row 7: the code is longer than 128 characters" in output and "X" * 129 not in output
    assert "row 8: the code is empty" in output
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Voucher.code))) == ["GOOD1", "GOOD2"]


def test_a_lost_download_job_is_queued_again_by_the_periodic_sweep(app, member, fake_twilio, drain):
    from datetime import timedelta

    from bot.certificates.service import requeue_downloads
    from bot.core.redis_conn import connect

    url = fake_twilio.add_media(PNG, "image/png")
    play(member, [("certificate", []), ("1", [])])
    member.send("", **media_form(url, "image/png"))
    with app.app_context():
        connect().flushdb()  # the queued download was lost
        assert requeue_downloads() == 0  # too recent: its retries may still be on their way
        db.session.execute(sa.update(Certificate).values(created_at=Certificate.created_at - timedelta(hours=2)))
        db.session.commit()
        assert requeue_downloads() == 1
    drain()
    assert certificates(app)[0].status == "pending"


def test_a_download_that_keeps_failing_tells_the_member_to_send_it_again(app, member, fake_twilio, drain):
    url = fake_twilio.add_media(PNG, "image/png", status=503)
    play(member, [("certificate", []), ("1", [])])
    member.send("", **media_form(url, "image/png"))
    with app.app_context():
        assert download_certificate(1) == "failed"  # run outside a job: the last attempt
    drain()
    told = [m["body"] for m in to(fake_twilio, "+254712345678")]
    assert told == ["We could not fetch your file. Please send it again, or send the certificate link."]
    assert certificates(app)[0].status == "failed"
    assert "Generative AI is waiting for review" in member.says(LINK)


def test_a_code_given_to_a_member_who_is_later_deleted_is_never_given_again(app, catalog, tmp_path):
    import_codes(app, vouchers_csv(tmp_path, "ONLY"))
    add_member(app, "+254712345678")
    add_member(app, "+254712000002", number=2)
    first = pending_report(app, "+254712345678")
    second = pending_report(app, "+254712000002")
    with app.app_context():
        assert approve_certificate(first, reviewer="o").status == "rewarded"
        db.session.execute(sa.delete(Member).where(Member.phone == "+254712345678"))
        db.session.commit()
        assert approve_certificate(second, reviewer="o").status == "waiting"
        db.session.commit()
    assert "available: 0\tassigned: 1\twaiting: 1" in app.test_cli_runner().invoke(args=["vouchers", "pool"]).output


def test_swahili_report_approved_gives_the_voucher_in_swahili(app, mwanachama, officer, fake_twilio, drain, tmp_path):
    import_codes(app, vouchers_csv(tmp_path, "LIP-SW-1"))
    play(mwanachama, [("kozi", []), ("6", []), ("ndio", ["Umejiandikisha kwenye Uchambuzi wa biashara (Business Analysis)!"]),
                      ("cheti", ["1. Uchambuzi wa biashara"]), ("1", []), (LINK, ["kinasubiri kukaguliwa"])])
    play(officer, [("REVIEW", ["#1 KUGWO-000001 Amina, Business Analysis"]),
                   ("APPROVE #1", ["Report #1 approved: the voucher code was sent to the member."])])
    drain()
    [voucher] = to(fake_twilio, "+254722000001")
    assert voucher["body"] == ("Hongera! Cheti chako cha Uchambuzi wa biashara (Business Analysis) kimekubaliwa. Nambari yako ya vocha ya "
                               "LinkedIn Premium ni: LIP-SW-1\nKuitumia, fungua linkedin.com/premium/redeem, ingia "
                               "kwenye akaunti yako na uweke nambari hiyo.")
    assert "Uchambuzi wa biashara (Business Analysis): cheti kimethibitishwa, vocha imetumwa" in mwanachama.says("kozi zangu")


def test_english_report_rejected_with_the_officers_reason(app, client, member, officer, fake_twilio, drain):
    play(member, [("certificate", []), ("2", []), (LINK, ["waiting for review"])])
    play(officer, [("REJECT 1 the name on the certificate is not yours", ["Report #1 rejected"]),
                   ("REJECT 1 again", ["Report #1 was already reviewed (rejected)."])])
    app.test_cli_runner().invoke(args=["staff", "add", "+254733000005", "--role", "officer"])
    afisa = WhatsApp(client, "+254733000005")
    afisa.send("Habari")
    play(afisa, [("APPROVE 1", ["Ripoti #1 ilishakaguliwa (imekataliwa)."])])
    drain()
    [rejection] = to(fake_twilio, "+254712345678")
    assert rejection["body"] == ("Your certificate for Data Analysis was not accepted: the name on the certificate is "
                                 "not yours\nYou can report it again at any time: send CERTIFICATE.")
    assert "Data Analysis: enrolled" in member.says("my courses")


def test_the_cli_reviews_with_the_same_services(app, catalog, fake_twilio, drain, tmp_path):
    runner = app.test_cli_runner()
    import_codes(app, vouchers_csv(tmp_path, "CLI-1"))
    add_member(app, "+254712345678")
    add_member(app, "+254712000002", number=2)
    first = pending_report(app, "+254712345678")
    second = pending_report(app, "+254712000002")
    listing = runner.invoke(args=["certificates", "pending"]).output
    assert f"#{first}\tKUGWO-000001\t+254712345678\tcybersecurity\thttps://www.linkedin.com/learning/certificates/" in listing
    assert runner.invoke(args=["certificates", "approve", str(first), "--reviewer", "+254733000009"]).output == f"#{first}: rewarded\n"
    assert runner.invoke(args=["certificates", "approve", str(first)]).exit_code == 1
    result = runner.invoke(args=["certificates", "reject", str(second), "blurred", "photo"])
    assert result.output == f"#{second}: rejected\n"
    drain()
    assert "CLI-1" in to(fake_twilio, "+254712345678")[0]["body"]
    assert to(fake_twilio, "+254712000002")[0]["body"].startswith("Your certificate for Cybersecurity was not accepted: blurred photo")
    with app.app_context():
        assert db.session.get(Certificate, first).reviewed_by == "+254733000009"


def test_delete_my_data_removes_the_certificate_file_and_link_but_keeps_the_course_counts(app, member, fake_twilio,
                                                                                        drain):
    url = fake_twilio.add_media(PNG, "image/png")
    play(member, [("certificate", []), ("4", [])])
    member.send("", **media_form(url, "image/png"))
    drain()
    play(member, [("certificate", []), ("2", ["Certificate for Generative AI."])])
    play(member, [(LINK, ["waiting for review"])])
    [photo, link] = certificates(app)
    assert Path(photo.stored_path).is_file() and link.link
    assert "certificates reported: 2" in member.says("my data")
    play(member, [("delete my data", ["Delete your data?"]), ("1", ["Your personal data has been deleted."])])
    after = certificates(app)
    assert not Path(photo.stored_path).exists()
    assert [(c.course_id, c.status) for c in after] == [(photo.course_id, photo.status), (link.course_id, link.status)]
    assert all(c.link is None and c.stored_path is None and c.sha256 is None and c.certificate_key is None for c in after)


def test_an_officer_who_never_wrote_gets_the_alert_as_a_template(app, client, catalog, officer, fake_twilio, drain):
    silent = "+254733000009"
    app.test_cli_runner().invoke(args=["staff", "add", silent, "--role", "officer"])
    add_member(app, "+254712000001", number=1)
    pending_report(app, "+254712000001")
    app.config["WHATSAPP_TEMPLATES"] = {"officer_alert": {"en": "HXalert"}}
    try:
        play(officer, [("APPROVE 1", ["waiting list"])])
        drain()
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    [alert] = to(fake_twilio, silent)
    assert alert["content_sid"] == "HXalert"
    assert to(fake_twilio, OFFICER)[-1]["body"].startswith("The voucher pool is empty")


def test_a_step_reopened_by_a_failed_download_expires_like_any_other(app, member):
    from datetime import timedelta

    from bot.certificates.service import reopen_proof_step
    from bot.models import Conversation, utcnow

    now = utcnow()
    with app.app_context():
        found = db.session.scalars(sa.select(Member).where(Member.phone == "+254712345678")).one()
        reopen_proof_step(found, 1, now)
        db.session.commit()
        conversation = db.session.get(Conversation, found.id)
        assert (conversation.flow, conversation.step) == ("certificate", "proof")
        assert conversation.expires_at == now + timedelta(hours=app.config["CONVERSATION_TIMEOUT_HOURS"])


def test_approving_a_report_whose_file_is_still_downloading_says_so(app, member, officer, fake_twilio, drain):
    url = fake_twilio.add_media(PNG, "image/png")
    play(member, [("certificate", []), ("4", ["Certificate for Project Management."])])
    member.says("", **media_form(url, "image/png"))
    play(officer, [("APPROVE 1", ["Report #1 is still being downloaded: try again in a minute."])])
    drain()
    play(officer, [("APPROVE 1", ["Report #1 approved"])])


class MediaServer:
    """A small threaded HTTP server on 127.0.0.1 standing in for Twilio's media host or its CDN: each path
    answers with a redirect, a file, or a file sent one byte at a time; every request is recorded."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self
        self.routes: dict[str, tuple] = {}
        self.requests: list[tuple[str, str | None]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                server.requests.append((self.path, self.headers.get("Authorization")))
                kind, value, *rest = server.routes.get(self.path, ("missing", None))
                if kind == "redirect":
                    self.send_response(302)
                    self.send_header("Location", value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif kind in {"file", "drip"}:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(value)))
                    self.end_headers()
                    try:
                        if kind == "file":
                            self.wfile.write(value)
                        for byte in value if kind == "drip" else b"":
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(rest[0])
                    except OSError:
                        pass  # the client gave up
                else:
                    self.send_error(404)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def media_servers(app: Flask):
    """Two local media servers (say, Twilio's API and its CDN) and the app configured to allow the first;
    a test allows the second by adding `second.host` to TWILIO_MEDIA_HOSTS."""
    first, second = MediaServer(), MediaServer()
    keys = ("TWILIO_MEDIA_HOSTS", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "MEDIA_DOWNLOAD_SECONDS",
            "TWILIO_HTTP_TIMEOUT", "TWILIO_API_BASE_URL")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(TWILIO_MEDIA_HOSTS=[first.host], TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="secret",
                      TWILIO_API_BASE_URL=None, TWILIO_HTTP_TIMEOUT=2.0)
    yield first, second
    app.config.update(saved)
    first.stop()
    second.stop()


def test_a_redirect_to_a_host_not_allowed_is_never_requested(app, media_servers):
    from bot.certificates.service import fetch

    first, second = media_servers
    second.routes["/file.png"] = ("file", PNG)
    first.routes["/Media/ME1"] = ("redirect", second.url("/file.png"))
    with app.app_context():
        assert fetch(first.url("/Media/ME1"), 10**6) == (None, "host")
    assert [path for path, _ in first.requests] == ["/Media/ME1"] and second.requests == []


def test_redirects_reach_the_cdn_without_the_credentials_and_stop_after_three(app, media_servers):
    from bot.certificates.service import DownloadError, fetch

    first, second = media_servers
    app.config["TWILIO_MEDIA_HOSTS"] = [first.host, second.host]
    first.routes.update({"/Media/ME1": ("redirect", "/Media/ME1/next"),  # a relative Location, same host
                         "/Media/ME1/next": ("redirect", second.url("/cdn/a"))})
    second.routes.update({"/cdn/a": ("redirect", second.url("/cdn/file.png")), "/cdn/file.png": ("file", PNG),
                          "/cdn/b": ("redirect", second.url("/cdn/a")), "/cdn/c": ("redirect", second.url("/cdn/b"))})
    with app.app_context():
        assert fetch(first.url("/Media/ME1"), 10**6) == (PNG, "")
    assert [path for path, _ in first.requests] == ["/Media/ME1", "/Media/ME1/next"]
    assert all(auth and auth.startswith("Basic ") for _, auth in first.requests)
    assert second.requests == [("/cdn/a", None), ("/cdn/file.png", None)]

    first.routes["/Media/ME2"] = ("redirect", second.url("/cdn/c"))  # four redirects
    first.requests.clear()
    second.requests.clear()
    with app.app_context(), pytest.raises(DownloadError, match="redirects"):
        fetch(first.url("/Media/ME2"), 10**6)
    assert len(first.requests) + len(second.requests) == 4  # the fourth redirect's target is never asked for


def test_a_server_sending_a_byte_at_a_time_is_abandoned_at_the_deadline(app, media_servers):
    from bot.certificates.service import DownloadError, fetch

    first, _ = media_servers
    first.routes["/Media/ME1"] = ("drip", PNG[:24], 0.25)  # 6 s in all, each byte well within the read timeout
    app.config["MEDIA_DOWNLOAD_SECONDS"] = 1.0
    started = time.monotonic()
    with app.app_context(), pytest.raises(DownloadError, match="too long"):
        fetch(first.url("/Media/ME1"), 10**6)
    assert time.monotonic() - started < 1.6


def outside_the_window(app: Flask, phone: str) -> None:
    """The member last wrote two days ago."""
    from datetime import timedelta

    from bot.models import utcnow

    with app.app_context():
        db.session.execute(sa.update(Member).where(Member.phone == phone)
                           .values(last_inbound_at=utcnow() - timedelta(days=2)))
        db.session.commit()


def voucher_of(app: Flask, phone: str) -> Voucher | None:
    """The voucher row held by a member."""
    with app.app_context():
        voucher = db.session.scalars(sa.select(Voucher).join(Member, Member.id == Voucher.member_id)
                                     .where(Member.phone == phone)).first()
        if voucher is not None:
            db.session.expunge(voucher)
        return voucher


RESERVED_EN = ("Report #1 approved, but the voucher code could not be sent: outside the 24-hour window and no "
               "template is configured. The code is kept for this member and goes out when they next write to us "
               "or when a voucher template is configured.")
RESERVED_SW = ("Ripoti #1 imekubaliwa, lakini nambari ya vocha haikuweza kutumwa: nje ya saa 24 na hakuna kiolezo "
               "kilichowekwa. Nambari imehifadhiwa kwa mwanachama huyu na itatumwa atakapotuandikia tena au kiolezo "
               "cha vocha kitakapowekwa.")


def test_a_code_that_cannot_be_sent_is_kept_and_sent_once_when_the_member_writes(app, client, catalog, officer,
                                                                                 fake_twilio, drain, tmp_path):
    import_codes(app, vouchers_csv(tmp_path, "KEPT-1", "OTHER-2"))
    add_member(app, "+254712000001", number=1)
    pending_report(app, "+254712000001")
    outside_the_window(app, "+254712000001")
    assert officer.says("APPROVE 1") == RESERVED_EN
    drain()
    assert to(fake_twilio, "+254712000001") == []
    held = voucher_of(app, "+254712000001")
    assert (held.code, held.sent_at) == ("KEPT-1", None)  # given to this member, not yet sent
    assert "available: 1\tassigned: 1\twaiting: 0" in app.test_cli_runner().invoke(args=["vouchers", "pool"]).output

    member = WhatsApp(client, "+254712000001")
    member.send("Hi")
    member.send("my courses")
    drain()
    from bot.certificates.service import send_reserved_vouchers

    with app.app_context():
        assert send_reserved_vouchers() == 0
    drain()
    codes = [m for m in to(fake_twilio, "+254712000001") if "KEPT-1" in (m.get("body") or "")]
    assert len(codes) == 1 and "Your LinkedIn Premium voucher code is: KEPT-1" in codes[0]["body"]
    assert voucher_of(app, "+254712000001").sent_at is not None


def test_a_swahili_officer_is_told_and_the_code_goes_once_a_template_is_configured(app, client, catalog,
                                                                                  fake_twilio, drain, tmp_path):
    import_codes(app, vouchers_csv(tmp_path, "KEPT-SW"))
    add_member(app, "+254722000001", language="sw", number=1)
    pending_report(app, "+254722000001")
    outside_the_window(app, "+254722000001")
    app.test_cli_runner().invoke(args=["staff", "add", OFFICER, "--role", "officer"])
    afisa = WhatsApp(client, OFFICER)
    afisa.send("Habari")
    assert afisa.says("APPROVE 1") == RESERVED_SW
    from bot.certificates.service import send_reserved_vouchers

    with app.app_context():
        assert send_reserved_vouchers() == 0  # still no way to reach the member
    app.config["WHATSAPP_TEMPLATES"] = {"voucher": {"sw": "HXvoucher"}}
    try:
        with app.app_context():
            assert send_reserved_vouchers() == 1
            assert send_reserved_vouchers() == 0
        drain()
    finally:
        app.config["WHATSAPP_TEMPLATES"] = {}
    [sent] = to(fake_twilio, "+254722000001")
    assert sent["content_sid"] == "HXvoucher" and '"1": "KEPT-SW"' in sent["content_variables"]


def test_the_cli_and_the_dashboard_say_when_the_code_was_not_sent(app, client, catalog, fake_twilio, drain,
                                                                 tmp_path):
    from tests.helpers.dashboard import csrf_token, make_user, sign_in

    import_codes(app, vouchers_csv(tmp_path, "CLI-KEPT", "WEB-KEPT"))
    add_member(app, "+254712000001", number=1)
    add_member(app, "+254712000002", number=2)
    first = pending_report(app, "+254712000001")
    second = pending_report(app, "+254712000002")
    outside_the_window(app, "+254712000001")
    outside_the_window(app, "+254712000002")
    output = app.test_cli_runner().invoke(args=["certificates", "approve", str(first)]).output
    assert output == f"#{first}: reserved\n{RESERVED_EN}\n"
    assert sign_in(client, make_user(app, "officer")).status_code == 302
    token = csrf_token(client.get("/admin/certificates").get_data(as_text=True))
    page = client.post(f"/admin/certificates/{second}/approve", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert RESERVED_EN.replace("#1", f"#{second}") in page
    drain()
    assert fake_twilio.messages == []
