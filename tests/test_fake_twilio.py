"""The local fake Twilio API, exercised over loopback HTTP with the real twilio SDK."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.devtools import fake_twilio
from bot.devtools.fake_twilio import FakeTwilio

TO = "whatsapp:+254712345678"
OTHER_TO = "whatsapp:+254798765432"
FROM = "whatsapp:+14155238886"
SID_PATTERN = re.compile(r"SM[0-9a-f]{32}")
# The directory holding the `bot` package under test, so the CLI subprocess runs the same code.
PACKAGE_ROOT = Path(fake_twilio.__file__).resolve().parents[2]


class ReceiverServer(ThreadingHTTPServer):
    """A threading HTTP server whose accept queue takes all the fake's callback workers at once."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128


class CallbackReceiver:
    """A local HTTP endpoint that records the status callbacks posted to it."""

    def __init__(self) -> None:
        """Bind to a free loopback port."""
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []  # HTTP statuses to answer with, in order (then 200)
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            """Records one POST and answers 200."""

            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                """Record the form fields and signature of a callback."""
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = {name: values[0] for name, values in parse_qs(body.decode()).items()}
                with receiver._changed:
                    receiver.received.append({"path": self.path, "params": params,
                                              "signature": self.headers.get("X-Twilio-Signature")})
                    receiver._changed.notify_all()
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self._server = ReceiverServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str = "/whatsapp/status") -> str:
        """The full URL of a path on this receiver."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until n callbacks arrived and return them."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.received) >= n, timeout), self.received
            return list(self.received)

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    """A running fake with a fixed seed."""
    with FakeTwilio(seed=1234) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    """A running status callback receiver."""
    running = CallbackReceiver()
    yield running
    running.close()


def make_client(fake: FakeTwilio, *, auth_token: str | None = None, timeout: float = 5.0) -> Client:
    """A real twilio Client pointed at the fake, the way the app points it."""
    client = Client(fake.account_sid, auth_token or fake.auth_token, http_client=TwilioHttpClient(timeout=timeout))
    client.api.base_url = fake.base_url
    return client


def send(client: Client, to: str = TO, **kwargs: Any) -> Any:
    """Send a WhatsApp text with the SDK."""
    kwargs.setdefault("from_", FROM)
    kwargs.setdefault("body", "hi")
    return client.messages.create(to=to, **kwargs)


def free_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_accepted_message_is_recorded_with_an_sm_sid(fake: FakeTwilio) -> None:
    client = make_client(fake)

    message = send(client, body="Habari", status_callback="http://127.0.0.1:9/cb",
                   media_url=["https://example.org/a.jpg"])

    assert SID_PATTERN.fullmatch(message.sid)
    assert (message.status, message.direction, message.to, message.from_, message.body) == (
        "queued", "outbound-api", TO, FROM, "Habari")
    assert message.account_sid == fake.account_sid
    assert message.num_media == "1"
    assert message.error_code is None
    [recorded] = fake.messages
    assert recorded["sid"] == message.sid
    assert recorded["body"] == "Habari"
    assert recorded["media_urls"] == ["https://example.org/a.jpg"]
    assert recorded["status_callback"] == "http://127.0.0.1:9/cb"
    assert abs(recorded["received_at"] - time.time()) < 60
    assert fake.attempts[0]["http_status"] == 201
    assert fake.attempts[0]["error_code"] is None


def test_raw_answer_matches_twilios_message_json(fake: FakeTwilio) -> None:
    response = requests.post(f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json",
                             data={"To": TO, "From": FROM, "Body": "hi"},
                             auth=(fake.account_sid, fake.auth_token), timeout=5)

    assert response.status_code == 201
    assert response.headers["Content-Length"] == str(len(response.content))
    payload = response.json()
    assert payload["status"] == "queued"
    assert payload["api_version"] == "2010-04-01"
    assert payload["price"] is None and payload["error_message"] is None
    assert parsedate_to_datetime(payload["date_created"]).tzinfo is not None
    assert payload["uri"] == f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{payload['sid']}.json"
    assert set(payload["subresource_uris"]) >= {"media"}


def test_content_template_and_messaging_service_are_accepted(fake: FakeTwilio) -> None:
    client = make_client(fake)

    with_template = client.messages.create(to=TO, from_=FROM, body="ignored", content_sid="HX" + "1" * 32,
                                           content_variables=json.dumps({"1": "Amina"}))
    via_service = client.messages.create(to=TO, messaging_service_sid="MG" + "2" * 32, body="hi")

    assert with_template.status == "queued"
    assert via_service.status == "accepted"
    template, service = fake.messages
    assert template["content_sid"] == "HX" + "1" * 32
    assert json.loads(template["content_variables"]) == {"1": "Amina"}
    assert service["messaging_service_sid"] == "MG" + "2" * 32
    assert service["from"] is None


def test_wrong_auth_token_is_refused_with_20003(fake: FakeTwilio) -> None:
    client = make_client(fake, auth_token="not-the-token")

    with pytest.raises(TwilioRestException) as raised:
        send(client)

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert fake.messages == []


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"to": ""}, 21604),
    ({"from_": None}, 21603),
    ({"body": None}, 21602),
    ({"to": "whatsapp:not-a-number"}, 21211),
    ({"content_sid": "HX" + "1" * 32, "content_variables": "{not json"}, 21656),
])
def test_invalid_parameters_are_refused_like_twilio(fake: FakeTwilio, kwargs: dict[str, Any], code: int) -> None:
    client = make_client(fake)

    with pytest.raises(TwilioRestException) as raised:
        send(client, **kwargs)

    assert (raised.value.status, raised.value.code) == (400, code)
    assert fake.messages == []
    assert [attempt["error_code"] for attempt in fake.attempts] == [code]


@pytest.mark.parametrize(("code", "http_status", "expected_status"), [
    (21610, None, 400),
    (21211, None, 400),
    (20429, None, 429),
    (20500, None, 500),
    (20503, None, 503),
    (63003, 400, 400),
    (63024, 400, 400),
])
def test_synchronous_error_rules_raise_and_are_not_recorded(fake: FakeTwilio, code: int, http_status: int | None,
                                                            expected_status: int) -> None:
    fake.add_error_rule(code, http_status=http_status)
    client = make_client(fake)

    with pytest.raises(TwilioRestException) as raised:
        send(client)

    assert (raised.value.status, raised.value.code) == (expected_status, code)
    assert fake.messages == []
    assert [(a["error_code"], a["http_status"]) for a in fake.attempts] == [(code, expected_status)]
    assert fake.stats()["rejected_by_code"] == {str(code): 1}


def test_rule_with_times_applies_that_many_times(fake: FakeTwilio) -> None:
    fake.add_error_rule(21610, times=1)
    client = make_client(fake)

    with pytest.raises(TwilioRestException):
        send(client)
    send(client)
    send(client)

    assert len(fake.messages) == 2


def test_rule_with_to_only_matches_that_recipient(fake: FakeTwilio) -> None:
    fake.add_error_rule(21610, to=OTHER_TO)
    client = make_client(fake)

    send(client, to=TO)
    with pytest.raises(TwilioRestException) as raised:
        send(client, to=OTHER_TO)
    # A rule written without the channel prefix matches too.
    fake.add_error_rule(21211, to="+254712345678")
    with pytest.raises(TwilioRestException) as raised_again:
        send(client, to=TO)

    assert raised.value.code == 21610
    assert raised_again.value.code == 21211
    assert [m["to"] for m in fake.messages] == [TO]


def outcomes_with_seed(seed: int, sends: int) -> list[bool]:
    """Which of `sends` sequential messages a p=0.5 rule lets through, for a fake with `seed`."""
    with FakeTwilio(seed=seed) as fake:
        fake.add_error_rule(20429, probability=0.5)
        client = make_client(fake)
        outcomes = []
        for _ in range(sends):
            try:
                send(client)
                outcomes.append(True)
            except TwilioRestException as exc:
                assert exc.status == 429
                outcomes.append(False)
        assert len(fake.messages) == sum(outcomes)
        return outcomes


def test_probability_is_drawn_from_the_seeded_generator() -> None:
    first = outcomes_with_seed(7, 200)

    assert 60 <= first.count(False) <= 140
    assert outcomes_with_seed(7, 200) == first


def test_asynchronous_rule_accepts_then_reports_one_failed_callback(fake: FakeTwilio,
                                                                     receiver: CallbackReceiver) -> None:
    fake.add_error_rule(63016)
    client = make_client(fake)

    message = send(client, status_callback=receiver.url())

    assert message.status == "queued"
    assert fake.messages[0]["error_code"] == 63016
    [callback] = receiver.wait_for(1)
    assert callback["params"]["MessageSid"] == message.sid
    assert callback["params"]["MessageStatus"] == "failed"
    assert callback["params"]["ErrorCode"] == "63016"
    assert callback["params"]["ErrorMessage"]
    time.sleep(0.3)
    assert len(receiver.received) == 1
    assert fake.stats()["callbacks"] == 1


def test_undelivered_async_status_can_be_chosen(fake: FakeTwilio, receiver: CallbackReceiver) -> None:
    fake.add_error_rule(63049, async_status="undelivered")

    send(make_client(fake), status_callback=receiver.url())

    [callback] = receiver.wait_for(1)
    assert (callback["params"]["MessageStatus"], callback["params"]["ErrorCode"]) == ("undelivered", "63049")


def test_status_callbacks_arrive_in_order_and_are_signed(fake: FakeTwilio, receiver: CallbackReceiver) -> None:
    client = make_client(fake)
    url = receiver.url("/whatsapp/status?source=fake")

    message = send(client, status_callback=url)

    callbacks = receiver.wait_for(3)
    assert [c["params"]["MessageStatus"] for c in callbacks] == ["sent", "delivered", "read"]
    validator = RequestValidator(fake.auth_token)
    for callback in callbacks:
        params = callback["params"]
        assert callback["path"] == "/whatsapp/status?source=fake"
        assert validator.validate(url, params, callback["signature"])
        assert params["MessageSid"] == params["SmsSid"] == message.sid
        assert params["MessageStatus"] == params["SmsStatus"]
        assert (params["AccountSid"], params["From"], params["To"]) == (fake.account_sid, FROM, TO)
        assert (params["ApiVersion"], params["ChannelPrefix"]) == ("2010-04-01", "whatsapp")
        assert "ErrorCode" not in params
    recorded = fake.wait_for_callbacks(3)
    assert [c["http_status"] for c in recorded] == [200, 200, 200]
    assert recorded[0]["url"] == url
    assert not validator.validate(url, {**callbacks[0]["params"], "MessageStatus": "read"},
                                  callbacks[0]["signature"])


def test_a_callback_url_asking_for_retries_is_tried_again_on_5xx_and_signed_without_its_fragment(
        receiver: CallbackReceiver) -> None:
    with FakeTwilio(callback_statuses=("delivered",)) as fake:
        receiver.answers = [503, 500]
        url = receiver.url("/whatsapp/status?m=7") + "#rc=3&rp=5xx,ct,rt"
        send(make_client(fake), status_callback=url)
        callbacks = receiver.wait_for(3)
        assert [c["http_status"] for c in fake.wait_for_callbacks(3)] == [503, 500, 200]
        validator = RequestValidator(fake.auth_token)
        for callback in callbacks:
            assert callback["path"] == "/whatsapp/status?m=7"
            assert validator.validate(url.split("#")[0], callback["params"], callback["signature"])
        # Without the fragment a 5xx is final; a 4xx is not in this policy either.
        receiver.answers = [503, 400]
        send(make_client(fake), status_callback=receiver.url("/plain"))
        receiver.wait_for(4)  # /plain takes the 503 before /policy is sent (the answers go in arrival order)
        send(make_client(fake), status_callback=receiver.url("/policy") + "#rc=3&rp=5xx,ct,rt")
        receiver.wait_for(5)
        time.sleep(0.3)
        assert len(receiver.received) == 5
        assert [c["path"] for c in receiver.received[3:]] == ["/plain", "/policy"]  # neither was tried again


def test_retry_overrides_cover_a_connection_that_fails(fake: FakeTwilio) -> None:
    dead_url = f"http://127.0.0.1:{free_loopback_port()}/cb#rc=2&rp=ct"
    fake.callback_statuses = ("sent",)
    send(make_client(fake), status_callback=dead_url)
    assert [c["http_status"] for c in fake.wait_for_callbacks(3)] == [None, None, None]
    time.sleep(0.2)
    assert fake.stats()["callbacks"] == 3


def test_default_callback_url_and_chosen_statuses(receiver: CallbackReceiver) -> None:
    with FakeTwilio(callback_url=receiver.url(), callback_statuses=("delivered",)) as fake:
        send(make_client(fake))

        [callback] = receiver.wait_for(1)
        assert callback["params"]["MessageStatus"] == "delivered"
        assert fake.wait_for_callbacks(1)[0]["url"] == receiver.url()


def test_unreachable_callback_is_recorded_and_dropped(fake: FakeTwilio, caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(fake)
    dead_url = f"http://127.0.0.1:{free_loopback_port()}/cb"

    send(client, status_callback=dead_url)
    callbacks = fake.wait_for_callbacks(3)
    send(client)

    assert [c["http_status"] for c in callbacks] == [None, None, None]
    assert fake.stats()["callbacks_failed"] == 3
    assert len(fake.messages) == 2
    assert any("status callback" in record.getMessage() for record in caplog.records)


def test_out_of_order_callbacks_are_shuffled(receiver: CallbackReceiver) -> None:
    with FakeTwilio(seed=3, out_of_order=True, callback_url=receiver.url()) as fake:
        client = make_client(fake)
        for _ in range(10):
            send(client)
        callbacks = receiver.wait_for(30)

    statuses_by_sid: dict[str, list[str]] = defaultdict(list)
    for callback in callbacks:
        statuses_by_sid[callback["params"]["MessageSid"]].append(callback["params"]["MessageStatus"])
    assert len(statuses_by_sid) == 10
    assert all(sorted(statuses) == ["delivered", "read", "sent"] for statuses in statuses_by_sid.values())
    assert any(statuses.index("read") < statuses.index("sent") for statuses in statuses_by_sid.values())


def test_delivered_can_be_skipped(receiver: CallbackReceiver) -> None:
    with FakeTwilio(seed=3, skip_delivered_probability=1.0, callback_url=receiver.url()) as fake:
        client = make_client(fake)
        for _ in range(3):
            send(client)
        callbacks = fake.wait_for_callbacks(6)

    assert sorted(c["params"]["MessageStatus"] for c in callbacks) == ["read"] * 3 + ["sent"] * 3


def test_hang_rule_times_the_client_out_but_the_message_is_accepted(fake: FakeTwilio) -> None:
    fake.add_hang_rule(2.0, times=1)
    impatient = make_client(fake, timeout=0.5)

    with pytest.raises(requests.exceptions.Timeout):
        send(impatient, body="first try")
    send(impatient, body="second try")

    assert [m["body"] for m in fake.wait_for_messages(2)] == ["first try", "second try"]


def test_a_lost_hang_drops_the_request_and_records_nothing(fake: FakeTwilio) -> None:
    fake.add_hang_rule(0.0, times=1, lost=True)
    fake.add_hang_rule(1.0, times=1, lost=True)
    impatient = make_client(fake, timeout=0.3)

    with pytest.raises(requests.exceptions.ConnectionError):
        send(impatient, body="dropped at once")
    with pytest.raises(requests.exceptions.Timeout):
        send(impatient, body="dropped after a wait")
    send(impatient, body="third try")

    assert [m["body"] for m in fake.wait_for_messages(1)] == ["third try"]
    assert [a["body"] for a in fake.attempts] == ["third try"]
    listed = requests.get(f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json",
                          params={"To": TO}, auth=(fake.account_sid, fake.auth_token), timeout=5).json()
    assert [m["body"] for m in listed["messages"]] == ["third try"]


def test_media_needs_basic_auth(fake: FakeTwilio) -> None:
    content = b"\x89PNG\r\n\x1a\n fake image"
    url = fake.add_media(content, "image/png")
    credentials = (fake.account_sid, fake.auth_token)

    anonymous = requests.get(url, timeout=5)
    wrong = requests.get(url, auth=(fake.account_sid, "nope"), timeout=5)
    authorized = requests.get(url, auth=credentials, timeout=5)
    unknown = requests.get(url[:-32] + "f" * 32, auth=credentials, timeout=5)

    assert re.fullmatch(rf"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages/MM[0-9a-f]{{32}}"
                        r"/Media/ME[0-9a-f]{32}", url)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, 20003)
    assert wrong.status_code == 401
    assert authorized.status_code == 200
    assert authorized.content == content
    assert authorized.headers["Content-Type"] == "image/png"
    assert (unknown.status_code, unknown.json()["code"]) == (404, 20404)


def test_media_can_fail_or_be_slow(fake: FakeTwilio) -> None:
    credentials = (fake.account_sid, fake.auth_token)
    broken = fake.add_media(b"x", "audio/ogg", status=500)
    slow = fake.add_media(b"x", "audio/ogg", delay=1.0)

    assert requests.get(broken, auth=credentials, timeout=5).status_code == 500
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(slow, auth=credentials, timeout=0.3)


def test_unknown_paths_answer_20404(fake: FakeTwilio) -> None:
    credentials = (fake.account_sid, fake.auth_token)

    calls = requests.post(f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Calls.json",
                          auth=credentials, timeout=5)
    elsewhere = requests.get(f"{fake.base_url}/v1/Services", auth=credentials, timeout=5)

    assert (calls.status_code, calls.json()["code"]) == (404, 20404)
    assert calls.json()["more_info"] == "https://www.twilio.com/docs/errors/20404"
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, 20404)


def test_control_api(fake: FakeTwilio) -> None:
    client = make_client(fake)
    control = requests.Session()

    assert control.post(f"{fake.base_url}/_fake/rules", json={"kind": "error", "code": 21610, "times": 1},
                        timeout=5).status_code == 201
    assert control.post(f"{fake.base_url}/_fake/rules", json={"kind": "hang", "seconds": 0.01},
                        timeout=5).status_code == 201
    with pytest.raises(TwilioRestException) as raised:
        send(client)
    sent = send(client)
    stats = control.get(f"{fake.base_url}/_fake/stats", timeout=5).json()
    listed = control.get(f"{fake.base_url}/_fake/messages", timeout=5).json()
    bad_rule = control.post(f"{fake.base_url}/_fake/rules", json={"kind": "error", "code": 1, "probability": 2},
                            timeout=5)
    unknown_kind = control.post(f"{fake.base_url}/_fake/rules", json={"kind": "flood"}, timeout=5)
    reset = control.post(f"{fake.base_url}/_fake/reset", timeout=5)

    assert raised.value.code == 21610
    assert stats["accepted"] == 1
    assert stats["rejected"] == 1
    assert stats["rejected_by_code"] == {"21610": 1}
    assert "callbacks" in stats
    assert [m["sid"] for m in listed] == [sent.sid]
    assert bad_rule.status_code == 400
    assert unknown_kind.status_code == 400
    assert reset.status_code == 200
    assert control.get(f"{fake.base_url}/_fake/messages", timeout=5).json() == []
    assert fake.attempts == []
    send(client)
    assert len(fake.messages) == 1


def test_concurrent_sends_overlap_their_latency() -> None:
    sends, latency = 300, 0.15
    with FakeTwilio(latency=latency) as fake:
        clients = threading.local()

        def send_one(index: int) -> str:
            """Send one message with this thread's own client."""
            if not hasattr(clients, "client"):
                clients.client = make_client(fake)
            return send(clients.client, body=f"message {index}").sid

        started = time.monotonic()
        with ThreadPoolExecutor(60) as pool:
            sids = list(pool.map(send_one, range(sends)))
        elapsed = time.monotonic() - started

        assert len(set(sids)) == sends
        assert len(fake.messages) == sends
    # Sequential would take sends * latency (45 s); the bound only proves requests overlapped.
    assert elapsed < sends * latency / 5


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_command_line_serves_until_interrupted(stop_signal: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.devtools.fake_twilio", "--port", "0", "--latency", "0.01"],
        cwd=PACKAGE_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line + (process.stderr.read() if process.stderr else "")
        stats = requests.get(f"{match.group()}/_fake/stats", timeout=5).json()
        assert stats["accepted"] == 0
    finally:
        process.send_signal(stop_signal)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    assert process.returncode == 0
