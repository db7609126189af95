"""Webhook load benchmark: Umoja's inbound webhook under gunicorn against two floors.

Starts the app as the Procfile does (gunicorn) on PostgreSQL and Redis, drives POST /whatsapp/inbound
with correctly signed requests from many simulated members (new members starting sign-up, members in
the middle of it, members asking for the menu), first at saturation with wrk, then at a fixed offered
rate, and does the same, under the same settings, against a bare Flask app returning a fixed TwiML (the
floor) and the same bare app that first INSERTs the raw message into PostgreSQL and commits (the durable
floor: the limit of any design that stores each message before answering).

    python bench/webhook.py [--duration 15] [--rate 200] [--workers 2] [--threads 4]

Needs wrk (`apt-get install wrk`), PostgreSQL and Redis. It creates its own database (`--database-url`,
default `bench_webhook`) and drops it at the end, also after a failure, and empties its own Redis
database (`--redis-url`) before and after. Prints figures; the last line is
`RESULT key=value …`. It is a script, not a test: this machine is shared and noisy, so compare the
ratio to the floor measured in the same run rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import WRK_THREADS, cpu_seconds, load_average, migrate, run_wrk, start_gunicorn  # noqa: E402
from bot.devtools.database import scratch_database, scratch_redis  # noqa: E402
from bot.devtools.simulator import inbound_form  # noqa: E402
from bot.whatsapp.twilio_api import sign  # noqa: E402

TOKEN = "bench-auth-token"
PATH = "/whatsapp/inbound"
SIGNUP_ANSWERS = ["1", "Amina Wanjiku", "Nairobi", "1, 2", "1", "skip", "skip"]
LUA = """
-- each wrk thread sends its own share of the lines (thread k: lines k, k + threads, …), so no message is
-- sent twice
local lines = {}
local index = 0
local created = 0
setup = function(thread)
  thread:set("id", created)
  created = created + 1
end
init = function(args)
  local file = io.open(args[1], "r")
  for line in file:lines() do
    local tab = string.find(line, "\\t", 1, true)
    lines[#lines + 1] = {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)}
  end
  file:close()
  index = tonumber(args[2]) or 0
  threads = tonumber(args[3]) or 1
end
request = function()
  index = index + 1
  local item = lines[((index * threads + id) % #lines) + 1]
  return wrk.format("POST", "__PATH__", {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["X-Twilio-Signature"] = item[1]}, item[2])
end
"""
FLOOR_APP = '''
from flask import Flask, Response

app = Flask(__name__)
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello</Message></Response>'


@app.post("/whatsapp/inbound")
def inbound():
    return Response(TWIML, mimetype="text/xml")


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
'''
DURABLE_FLOOR_APP = FLOOR_APP.replace('''def inbound():
    return''', '''def inbound():
    store(request.get_data(cache=True, as_text=True), request.form.get("MessageSid"))
    return''').replace("from flask import Flask, Response", '''import os
import threading

import psycopg
from flask import Flask, Response, request

local = threading.local()


def store(raw, sid):
    """One INSERT of the raw message and a durable commit, on this thread's connection."""
    connection = getattr(local, "connection", None)
    if connection is None:
        connection = local.connection = psycopg.connect(os.environ["FLOOR_DATABASE_URL"])
    with connection.transaction():
        connection.execute("INSERT INTO floor_inbound (sid, raw) VALUES (%s, %s) ON CONFLICT DO NOTHING", (sid, raw))
''')
FLOOR_TABLE = "CREATE TABLE floor_inbound (id bigserial PRIMARY KEY, sid text UNIQUE, raw text, " \
              "received_at timestamptz NOT NULL DEFAULT now())"


def signed_requests(base_url: str, count: int, members: int, offset: int) -> list[tuple[str, str]]:
    """(signature, body) pairs: a mix of new members, members mid sign-up and menu requests, each
    member's messages in order and far apart."""
    url = base_url + PATH
    out: list[tuple[str, str]] = []
    progress = [0] * members
    for n in range(count):
        kind = n % 3
        if kind == 0:
            phone, body = f"+2547{(offset + n) % 10**8:08d}", "Hi"
        elif kind == 1:
            member = (n // 3) % members
            step = progress[member] % (len(SIGNUP_ANSWERS) + 1)
            progress[member] += 1
            body = "Hi" if step == 0 else SIGNUP_ANSWERS[step - 1]
            phone = f"+2541{member:08d}"
        else:
            phone, body = f"+2541{(n // 3) % members:08d}", "MENU"
        form = inbound_form(phone, body, sid="SM" + uuid.uuid4().hex)
        out.append((sign(url, form, TOKEN), urlencode(form)))
    return out


def write_requests(pairs: list[tuple[str, str]], path: Path) -> None:
    """One request per line for the wrk script: signature, tab, body."""
    path.write_text("".join(f"{sig}\t{body}\n" for sig, body in pairs))








def stored_inbound(url: str, table: str = "messages") -> tuple[int, int]:
    """Inbound messages stored (by the app, or by the durable floor), and how many of them were processed."""
    engine = sa.create_engine(url)
    query = ("SELECT count(*), count(processed_at) FROM messages WHERE direction = 'in'" if table == "messages"
             else f"SELECT count(*), count(*) FROM {table}")
    with engine.connect() as connection:
        row = connection.execute(sa.text(query)).one()
    engine.dispose()
    return row[0], row[1]


def create_floor_table(url: str) -> None:
    """The durable floor's table: the raw message and its SID, nothing else."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(FLOOR_TABLE))
    engine.dispose()






def fixed_rate(base_url: str, pairs: list[tuple[str, str]], rate: int, seconds: int) -> dict[str, float]:
    """Offer `rate` requests/s on schedule; latency counts from the scheduled time (no coordinated omission)."""
    session_local = threading.local()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    total = min(len(pairs), rate * seconds)
    start = time.perf_counter() + 0.2

    def fire(index: int) -> None:
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        session = getattr(session_local, "s", None) or requests.Session()
        session_local.s = session
        signature, body = pairs[index]
        try:
            response = session.post(base_url + PATH, data=body, timeout=15, headers={
                "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        elapsed = (time.perf_counter() - scheduled) * 1000
        with lock:
            latencies.append(elapsed)
            errors[0] += 0 if ok else 1

    with ThreadPoolExecutor(64) as pool:
        list(pool.map(fire, range(total)))
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "errors": errors[0],
        "sent": total,
    }


def main() -> None:
    """Run both apps through both loads and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_webhook"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--duration", type=int, default=15, help="seconds of saturation per app")
    parser.add_argument("--rate", type=int, default=200, help="offered requests/s for the latency run")
    parser.add_argument("--rate-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--members", type=int, default=3000, help="members mid sign-up and asking for the menu")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with scratch_database(args.database_url), scratch_redis(args.redis_url):
        migrate(args.database_url)
        create_floor_table(args.database_url)
        measure(args)


def measure(args: argparse.Namespace) -> None:
    """Both apps through both loads, then the comparison."""
    work = Path(tempfile.mkdtemp(prefix="umoja-bench-"))
    (work / "floor_app.py").write_text(FLOOR_APP)
    (work / "durable_floor_app.py").write_text(DURABLE_FLOOR_APP)
    script = work / "webhook.lua"
    script.write_text(LUA.replace("__PATH__", PATH))
    results: dict[str, dict[str, float]] = {}
    env = dict(os.environ, DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, TWILIO_AUTH_TOKEN=TOKEN,
               AUTO_MIGRATE="0", SIMULATOR_ENABLED="0", INSTANCE_PATH=str(work / "instance"),
               FLOOR_DATABASE_URL=args.database_url.replace("postgresql+psycopg://", "postgresql://"))
    env.pop("TWILIO_ACCOUNT_SID", None)
    expected = max(2000, args.duration * 3000)
    for name, target, port, cwd in (("umoja", "bot:create_app()", 5801, ROOT),
                                    ("floor", "floor_app:app", 5802, work),
                                    ("durable", "durable_floor_app:app", 5803, work)):
        base = f"http://127.0.0.1:{port}"
        run_env = dict(env, PUBLIC_URL=base)
        print(f"[{name}] generating {expected} signed requests …", flush=True)
        pairs = signed_requests(base, expected, args.members, offset=0)
        data = work / f"{name}.txt"
        write_requests(pairs, data)
        rate_pairs = signed_requests(base, args.rate * args.rate_seconds, args.members, offset=10**7)
        process = start_gunicorn(target, port, args, run_env, cwd)
        try:
            print(f"[{name}] saturation with wrk for {args.duration}s …", flush=True)
            before = cpu_seconds(process.pid)
            saturation = run_wrk(base, script, args.duration, args.connections, str(data), "0", str(WRK_THREADS))
            after = cpu_seconds(process.pid)
            saturation["load"] = os.getloadavg()[0]
            handled = saturation["rate"] * args.duration
            if name != "floor":
                stored, processed = stored_inbound(args.database_url, "messages" if name == "umoja" else "floor_inbound")
                print(f"[{name}] wrk got {saturation['requests']} answers; stored {stored} inbound messages "
                      f"(those in flight when wrk stopped included), {processed} processed", flush=True)
            for part in ("app", "postgres"):
                saturation[f"{part}_cpu_ms"] = (after[part] - before[part]) / handled * 1000
            print(f"[{name}] fixed rate {args.rate}/s for {args.rate_seconds}s …", flush=True)
            fixed = fixed_rate(base, rate_pairs, args.rate, args.rate_seconds)
        finally:
            process.terminate()
            process.wait(timeout=20)
        results[name] = {"saturation": saturation, "fixed": fixed}
        print(f"[{name}] CPU per message at saturation: {saturation['app_cpu_ms']:.2f} ms in gunicorn, "
              f"{saturation['postgres_cpu_ms']:.2f} ms in PostgreSQL (load average {load_average()})", flush=True)
        print(f"[{name}] {saturation['rate']:.0f} msg/s at saturation (p50 {saturation['p50_ms']:.1f} ms, "
              f"p99 {saturation['p99_ms']:.1f} ms, errors {saturation['errors']}); at {args.rate}/s: "
              f"p50 {fixed['p50_ms']:.1f} ms, p99 {fixed['p99_ms']:.1f} ms, errors {fixed['errors']}", flush=True)

    umoja, floor, durable = results["umoja"], results["floor"], results["durable"]
    ratio = umoja["saturation"]["rate"] / floor["saturation"]["rate"]
    durable_ratio = umoja["saturation"]["rate"] / durable["saturation"]["rate"]
    print(f"ratio to the floor: {ratio:.1%}; to the durable floor: {durable_ratio:.1%} (goal 50%)")
    print(
        "RESULT "
        f"msgs_per_s={umoja['saturation']['rate']:.0f} floor_msgs_per_s={floor['saturation']['rate']:.0f} "
        f"ratio_to_floor={ratio:.3f} p50_ms_at_{args.rate}={umoja['fixed']['p50_ms']:.1f} "
        f"p99_ms_at_{args.rate}={umoja['fixed']['p99_ms']:.1f} "
        f"errors={int(umoja['saturation']['errors'] + umoja['fixed']['errors'])} "
        f"app_cpu_ms_per_msg={umoja['saturation']['app_cpu_ms']:.2f} "
        f"db_cpu_ms_per_msg={umoja['saturation']['postgres_cpu_ms']:.2f} "
        f"floor_cpu_ms_per_msg={floor['saturation']['app_cpu_ms']:.3f} "
        f"durable_floor_msgs_per_s={durable['saturation']['rate']:.0f} ratio_to_durable_floor={durable_ratio:.3f} "
        f"durable_floor_cpu_ms_per_msg={durable['saturation']['app_cpu_ms']:.3f} "
        f"durable_floor_db_cpu_ms_per_msg={durable['saturation']['postgres_cpu_ms']:.3f} "
        f"load_average={load_average()} workers={args.workers} threads={args.threads}"
    )


if __name__ == "__main__":
    main()
