"""MY DATA FILE (portability, Data Protection Act 2019 s.38): a worker builds the member's data as a PDF in
their language, with signed links (24 hours) to the same data as JSON and CSV; the links serve nothing once
expired, tampered with or after DELETE MY DATA, and no file is left."""

from __future__ import annotations

import csv
import io
import json
import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pypdf import PdfReader

from bot.core.extensions import db
from bot.models import Member, Message
from bot.privacy import export
from tests.helpers.app import WhatsApp
from tests.helpers.courses import add_member
from tests.helpers.privacy import assert_nothing_of, pg_dump

AMINA = "+254712345678"


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def path_of(url: str) -> str:
    """A link's path, for the test client."""
    return urlsplit(url).path


def sent_document(fake_twilio) -> dict:
    """The one message the fake Twilio API received with a document."""
    (message,) = [m for m in fake_twilio.messages if m["media_urls"]]
    return message


def links_in(body: str) -> dict[str, str]:
    """The JSON and CSV links of the document's message, by format."""
    return {word.rsplit(".", 1)[-1]: word for word in body.split() if "/my-data/" in word}


def test_my_data_file_sends_the_pdf_on_whatsapp_with_json_and_csv_links(app, client, member, fake_twilio, drain):
    member.says("courses")
    member.says("1")
    assert "enrolled" in member.says("yes")
    reply = member.says("my data file")
    assert "We are putting all your data in a document (PDF)" in reply
    assert not fake_twilio.messages or not any(m["media_urls"] for m in fake_twilio.messages)  # not in the webhook
    drain()
    message = sent_document(fake_twilio)
    assert message["to"] == f"whatsapp:{AMINA}"
    (pdf_url,) = message["media_urls"]
    assert pdf_url.startswith(app.config["PUBLIC_URL"] + "/my-data/") and pdf_url.endswith("/umoja-data.pdf")
    assert "These links work for 24 hours" in message["body"]
    links = links_in(message["body"])
    assert set(links) == {"json", "csv"}
    pdf = client.get(path_of(pdf_url))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "private, no-store"
    text = pdf_text(pdf.data)
    for fragment in ("Your data held by Kenya Union of Gig Workers", "Name: Amina Wanjiku", f"Phone: {AMINA}",
                     "Member number: KUGWO-000001", "Courses", "enrolled (since", "Questions to organisers"):
        assert fragment in text, fragment
    data = json.loads(client.get(path_of(links["json"])).data)
    assert data["member_number"] == "KUGWO-000001" and data["phone"] == AMINA
    assert [row["status"] for row in data["courses"]] == ["enrolled"]
    assert isinstance(data["courses"][0]["course_title"], str)
    rows = dict(csv.reader(io.StringIO(client.get(path_of(links["csv"])).data.decode("utf-8-sig"))))
    assert rows["member_number"] == "KUGWO-000001" and rows["courses.1.status"] == "enrolled"
    assert rows["phone"] == AMINA
    assert "We are putting all your data" in member.says("my data file")  # asked again: a second export, later
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Message.body.like("%/my-data/%"))) == 1


def test_swahili_faili_ya_data_yangu_gives_a_swahili_document(app, client, mwanachama, fake_twilio, drain):
    assert "Tunaweka taarifa zako zote kwenye faili (PDF)" in mwanachama.says("faili ya data yangu")
    drain()
    message = sent_document(fake_twilio)
    assert "Hizi hapa taarifa zako zote kwenye faili (PDF)" in message["body"]
    text = pdf_text(client.get(path_of(message["media_urls"][0])).data)
    for fragment in ("Taarifa zako zilizo na", "Kukuhusu", "Jina: Amina Wanjiku", "KUGWO-000001", "Kozi", "Hakuna."):
        assert fragment in text, fragment


def test_arabic_document_is_written_right_to_left_with_the_member_number(app, client, catalog, fake_twilio, drain):
    add_member(app, "+254733000111", language="ar")
    assert "مستندًا (PDF)" in WhatsApp(client, "+254733000111").says("ملف بياناتي")
    drain()
    content = client.get(path_of(sent_document(fake_twilio)["media_urls"][0])).data
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert "KUGWO-000001" in text and "عنك" in text


def test_without_twilio_the_document_goes_to_the_outbox_and_the_simulator_links_it(app, client, member, drain):
    member.says("my data file")
    drain()
    with app.app_context():
        row = db.session.scalars(sa.select(Message).where(Message.media.is_not(None), Message.direction == "out")).one()
        assert row.status == "outbox"
    shown = client.get(f"/simulator/messages?phone={AMINA}").get_json()
    (documents,) = [r["documents"] for r in shown if r["documents"]]
    assert client.get(path_of(documents[0])).data.startswith(b"%PDF")


def token_made(app, hours_ago: float, payload: dict) -> str:
    """A link token signed with the app's secret as if made `hours_ago` hours ago."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - hours_ago * 3600)

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="my-data-export", signer=Then).dumps(payload)


def test_links_verify_expire_after_24_hours_and_a_wrong_token_is_404(app, client, member, drain):
    member.says("my data file")
    drain()
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id).where(Member.phone == AMINA))
        (export_id,) = [p.stem for p in (export.exports_dir() / str(member_id)).glob("*.pdf")]
        good = urlsplit(export.links(member_id, export_id)["pdf"]).path
    assert client.get(good).status_code == 200
    fresh = token_made(app, 23, {"m": member_id, "e": export_id})
    stale = token_made(app, 25, {"m": member_id, "e": export_id})
    assert client.get(f"/my-data/{fresh}/umoja-data.json").status_code == 200
    assert client.get(f"/my-data/{stale}/umoja-data.json").status_code == 404
    token = good.split("/")[2]
    for path in (f"/my-data/{token[:-2]}xx/umoja-data.pdf", f"/my-data/{token}/umoja-data.exe",
                 "/my-data/nonsense/umoja-data.pdf",
                 f"/my-data/{token_made(app, 0, {'m': member_id, 'e': '../../x'})}/umoja-data.pdf",
                 f"/my-data/{token_made(app, 0, {'m': member_id + 1, 'e': export_id})}/umoja-data.pdf",
                 f"/my-data/{URLSafeTimedSerializer('another secret', salt='my-data-export').dumps({'m': member_id, 'e': export_id})}/umoja-data.pdf"):
        assert client.get(path).status_code == 404, path
    with app.app_context():
        assert export.purge_expired_exports(time.time() + 23 * 3600) == 0
        assert export.purge_expired_exports(time.time() + 25 * 3600) == 3
        assert not export.exports_dir().joinpath(str(member_id)).exists()
    assert client.get(good).status_code == 404


def test_after_delete_my_data_the_links_are_404_and_no_file_stays(app, client, member, fake_twilio, drain):
    member.says("my data file")
    drain()
    message = sent_document(fake_twilio)
    urls = [message["media_urls"][0], *links_in(message["body"]).values()]
    assert all(client.get(path_of(url)).status_code == 200 for url in urls)
    member.says("delete my data")
    assert "has been deleted" in member.says("1")
    for url in urls:
        assert client.get(path_of(url)).status_code == 404, url
    with app.app_context():
        left = [p for p in export.exports_dir().rglob("*") if p.is_file()] if export.exports_dir().exists() else []
    assert left == []
    assert_nothing_of(pg_dump(), AMINA, "712345678", "Amina Wanjiku", "KUGWO-000001", "/my-data/")


@pytest.mark.parametrize("lang", ["en", "sw", "fr", "so", "ar"])
def test_every_language_builds_a_pdf(app, catalog, lang):
    add_member(app, "+254700000001", language=lang)
    with app.app_context():
        member = db.session.scalars(sa.select(Member)).one()
        content = export.render(export.collect(member), lang, "pdf")
    assert content.startswith(b"%PDF") and "KUGWO-000001" in pdf_text(content)


def test_an_admin_downloads_a_members_export_from_their_page_and_it_is_audited(app, client, catalog):
    from bot.models import AuditEvent
    from tests.helpers.dashboard import csrf_token, make_user, sign_in

    add_member(app, AMINA)
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id))
    sign_in(client, make_user(app, "admin"))
    page = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert 'id="data-export-pdf"' in page and 'id="data-export-csv"' in page
    token = csrf_token(page)
    pdf = client.post(f"/admin/members/{member_id}/data-export/pdf", data={"csrf_token": token})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and "KUGWO-000001" in pdf_text(pdf.data)
    assert "attachment" in pdf.headers["Content-Disposition"]
    data = json.loads(client.post(f"/admin/members/{member_id}/data-export/json", data={"csrf_token": token}).data)
    assert data["phone"] == AMINA
    assert b"member_number,KUGWO-000001" in client.post(f"/admin/members/{member_id}/data-export/csv",
                                                         data={"csrf_token": token}).data
    assert client.post(f"/admin/members/{member_id}/data-export/pdf").status_code == 400  # no CSRF token
    assert client.post(f"/admin/members/{member_id}/data-export/exe", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "member.data_export")
                                    .order_by(AuditEvent.id)).all()
        assert [(e.actor, e.subject, e.details) for e in events] == [
            ("admin@umoja.example.org", f"member:{member_id}", {"member_id": member_id, "format": f})
            for f in ("pdf", "json", "csv")]
        assert not export.exports_dir().exists()  # built for the admin, never stored
    assert_nothing_of(json.dumps([e.details for e in events]), AMINA, "712345678", "Amina", "KUGWO")


@pytest.mark.parametrize("role", ["officer", "organiser"])
def test_officers_and_organisers_see_no_export_and_cannot_download_one(app, client, catalog, role):
    from tests.helpers.dashboard import csrf_token, make_user, sign_in

    add_member(app, AMINA)
    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id))
    sign_in(client, make_user(app, role))
    page = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert "data-export" not in page
    response = client.post(f"/admin/members/{member_id}/data-export/json", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 403 and b"+254" not in response.data


def test_an_export_racing_delete_my_data_waits_for_it_and_writes_nothing(app, member):
    """The job locks the member's row, as a message being processed does: an erasure committing meanwhile is
    seen, so no file is written after the erasure hook deleted the member's folder."""
    import threading

    from bot.whatsapp.documents import send_my_data_file

    with app.app_context():
        member_id = db.session.scalar(sa.select(Member.id).where(Member.phone == AMINA))
    outcome: list[str] = []

    def run() -> None:
        with app.app_context():
            outcome.append(send_my_data_file(member_id))

    with app.app_context(), db.engine.connect() as erasing:
        erasing.execute(sa.text("SELECT id FROM members WHERE id = :id FOR UPDATE"), {"id": member_id})
        job = threading.Thread(target=run)
        job.start()
        for _ in range(200):  # until the job waits for the row
            with db.engine.connect() as watcher:
                if watcher.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                           "AND datname = current_database()")).scalar():
                    break
            time.sleep(0.05)
        erasing.execute(sa.text("UPDATE members SET status = 'deleted' WHERE id = :id"), {"id": member_id})
        erasing.commit()
        job.join(30)
    assert outcome == ["no member"]
    with app.app_context():
        assert not (export.exports_dir() / str(member_id)).exists()


def test_the_csv_never_runs_a_formula_and_keeps_phone_numbers():
    rows = dict(csv.reader(io.StringIO(export.as_csv(
        {"name": "=HYPERLINK(\"x\")", "phone": AMINA, "work": ["delivery", "transcription"],
         "voucher": {"code": "-1+1"}, "questions": [{"number": 3, "lines": [{"from": "member", "text": "@home"}]}]},
        "en").decode("utf-8-sig"))))
    assert rows == {"field": "value", "name": "'=HYPERLINK(\"x\")", "phone": AMINA, "work": "delivery, transcription",
                    "voucher.code": "'-1+1", "questions.1.number": "3", "questions.1.lines.1.from": "member",
                    "questions.1.lines.1.text": "'@home", "courses": "", "certificate_reports": ""}
