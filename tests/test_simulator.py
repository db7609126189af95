"""The simulator page: it signs for this machine only, and what it signs the real webhook accepts."""

from __future__ import annotations

from bot.devtools.simulator import replies_of


def test_page_and_signing_round_trip_through_the_real_webhook(client):
    assert client.get("/simulator/").status_code == 200
    signed = client.post("/simulator/sign", json={"phone": "0712 345 678", "body": "Habari"}).get_json()
    assert signed["form"]["From"] == "whatsapp:+254712345678"
    response = client.post(signed["path"], data=signed["form"], headers={"X-Twilio-Signature": signed["signature"]},
                           base_url="https://umoja.example.org")
    assert response.status_code == 200
    assert "Karibu" in replies_of(response.get_data(as_text=True))[0]
    log = client.get("/simulator/messages?phone=%2B254712345678").get_json()
    assert [row["direction"] for row in log] == ["in", "out", "out"]
    assert log[0]["body"] == "Habari"


def test_bad_phone_is_refused_with_a_reason(client):
    response = client.post("/simulator/sign", json={"phone": "hello"})
    assert response.status_code == 400 and "valid phone number" in response.get_json()["error"]


def test_other_machines_are_refused(client):
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get("/simulator/", environ_base=remote).status_code == 403
    assert client.post("/simulator/sign", json={"phone": "+254712345678"}, environ_base=remote).status_code == 403


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(client, content: bytes, name: str = "certificate.pdf", content_type: str = "application/pdf", **kw):
    from io import BytesIO

    return client.post("/simulator/upload", data={"file": (BytesIO(content), name, content_type)},
                       content_type="multipart/form-data", **kw)


def test_a_pdf_sent_from_the_page_goes_through_the_certificate_path(app, client, member, drain):
    import sqlalchemy as sa

    from bot.core.extensions import db
    from bot.models import Certificate
    from tests.helpers.app import serving
    from tests.helpers.signup import play

    play(member, [("certificate", []), ("4", ["Certificate for Project Management."])])
    saved = app.config["PUBLIC_URL"]
    with serving(app) as base:
        app.config["PUBLIC_URL"] = base
        try:
            kept = upload(client, PDF).get_json()
            assert kept["url"].startswith(base + "/simulator/media/") and kept["content_type"] == "application/pdf"
            signed = client.post("/simulator/sign", json={
                "phone": "+254712345678", "body": "",
                "extra": {"NumMedia": "1", "MediaUrl0": kept["url"], "MediaContentType0": kept["content_type"]},
            }).get_json()
            response = client.post(signed["path"], data=signed["form"],
                                   headers={"X-Twilio-Signature": signed["signature"]}, base_url=base)
            reply = replies_of(response.get_data(as_text=True))[0]
            assert "We are receiving your file for Project Management" in reply
            drain()  # the worker downloads the file from the page's URL, as it would from Twilio's
        finally:
            app.config["PUBLIC_URL"] = saved
    with app.app_context():
        [report] = db.session.scalars(sa.select(Certificate)).all()
        assert report.status == "pending" and report.size == len(PDF)


def test_uploads_are_checked_and_kept_for_this_machine_only(app, client):
    assert upload(client, b"").status_code == 400
    assert "Choose a photo or a PDF" in client.post("/simulator/upload", data={}).get_json()["error"]
    limit = app.config["CERTIFICATE_MAX_BYTES"]
    assert upload(client, PDF + b"\x00" * limit).status_code == 413
    kept = upload(client, PDF).get_json()
    path = kept["url"].removeprefix(app.config["PUBLIC_URL"])
    assert client.get(path).data == PDF
    assert client.get("/simulator/media/unknown").status_code == 404
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    assert client.get(path, environ_base=remote).status_code == 403
    assert upload(client, PDF, environ_base=remote).status_code == 403


def test_the_log_shows_local_times_with_the_zone(app, client):
    signed = client.post("/simulator/sign", json={"phone": "+254712345678", "body": "Hi"}).get_json()
    client.post(signed["path"], data=signed["form"], headers={"X-Twilio-Signature": signed["signature"]},
                base_url=app.config["PUBLIC_URL"])
    [first, *_] = client.get("/simulator/messages?phone=%2B254712345678").get_json()
    assert first["local"].endswith("(Africa/Nairobi)")
    hour_utc = int(first["at"][11:13])
    assert int(first["local"].split()[2][:2]) == (hour_utc + 3) % 24
