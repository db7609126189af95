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
