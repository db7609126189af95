"""`make run` on a fresh machine: `flask dev` with no settings at all starts the web app, a worker, the
clock and the status applier on SQLite and the embedded Redis, loads the samples, answers a member through
the simulator and applies a status callback for the reply."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import requests

from bot.devtools.simulator import replies_of
from bot.whatsapp.twilio_api import sign

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_reply_statuses_are_applied(instance: Path, base: str, twiml: str) -> None:
    """Twilio's status callback for a reply, signed as Twilio signs it, reaches the reply's row through the
    stream and the status applier `flask dev` runs (SQLite and the embedded Redis)."""
    action = ET.fromstring(twiml).find("Message").get("action").split("#")[0]
    reply_id = int(action.rsplit("m=", 1)[1])
    form = {"MessageSid": "SM" + "5" * 32, "MessageStatus": "read", "AccountSid": "AC" + "1" * 32}
    token = (instance / "local_auth_token").read_text().strip()
    path = action.removeprefix(base)
    assert requests.post(base + path, data=form, timeout=10,
                         headers={"X-Twilio-Signature": sign(action, form, token)}).status_code == 200
    deadline = time.monotonic() + 30
    while True:
        with sqlite3.connect(instance / "umoja.db") as database:
            status = database.execute("SELECT status FROM messages WHERE id = ?", (reply_id,)).fetchone()[0]
        if status == "read" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status == "read"


def test_flask_dev_runs_everything_on_the_embedded_defaults(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "DATABASE_URL", "REDIS_URL", "PUBLIC_URL", "TEST_"))}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(ROOT))
    log = (tmp_path / "dev.log").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "bot", "dev", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "dev.log").read_text()
            time.sleep(0.5)
        signed = requests.post(f"{base}/simulator/sign", json={"phone": "+254712345678", "body": "Hi"}, timeout=10)
        form = signed.json()
        answer = requests.post(base + form["path"], data=form["form"], timeout=10,
                               headers={"X-Twilio-Signature": form["signature"]})
        assert answer.status_code == 200
        assert "Welcome to" in replies_of(answer.text)[0]
        assert_reply_statuses_are_applied(tmp_path / "instance", base, answer.text)
        # The worker and the clock start and run their first jobs (a busy machine takes longer than a few seconds).
        time.sleep(3)
        output = (tmp_path / "dev.log").read_text()
        assert "Loaded the sample course catalog" in output and "Worker and clock: running" in output, output
        assert "Traceback" not in output, output[-3000:]
        # A quiet terminal: the simulator's address is the last line before the first request, with no
        # migration lines and no per-job lines of RQ (they start at WARNING in `flask dev`).
        lines = output.splitlines()
        first_request = next(n for n, line in enumerate(lines) if '"GET /healthz' in line)
        assert lines[first_request - 1].startswith("Simulator: "), output
        assert "alembic" not in output and "rq.worker" not in output, output
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
