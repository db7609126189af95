"""Status callback benchmark: signed callbacks for a large broadcast plus single messages and replies, at
saturation, through the stream (the webhook appends, `worker.py --statuses` applies), then the same while a
broadcast is sent at 400/s on the same machine (`sending`), and, with `--paths …,inline`, through the old
path (`STATUS_APPLY=inline`: applied in the request).

Seeds a broadcast to `--members` members (half of its deliveries without their SID yet: the callbacks come
before our write) and `--singles` single messages and TwiML replies (named by `?m=`, a third with no SID
yet), signs every row's statuses (sent, delivered — skipped for a fifth of them — and read, with
`--repeats` of them again, all shuffled), drives them through the app with wrk at saturation for
`--duration` seconds (figures: callbacks/s, p99, CPU per callback in gunicorn, PostgreSQL, the consumers
and the bench client: wrk and this script), then sends the callbacks wrk did not reach (wrk again, each
thread stopping at the end of its share), and checks that every row holds the highest status sent to it
(0 lost) and that no update ever lowered a status (a trigger counts them: 0 backwards).

The `sending` path runs, during its saturation, a second broadcast to the same members sent as
bench/broadcast.py sends one: RQ workers (`--send-workers`) at SEND_RATE_PER_SECOND=400 through the fake
Twilio API in its own process at 150 ms latency; it prints the send rate reached meanwhile. The broadcast is
cancelled when wrk stops.

    python bench/status.py [--members 100000] [--singles 20000] [--duration 20] [--consumers 1]
                           [--paths stream,sending] [--send-workers 2]

The old inline path takes about 3 ms of CPU per callback: give it `--members 10000` (at ~300/s the default
run's 370,000 callbacks would take 20 minutes).

Needs wrk, PostgreSQL and Redis. It creates its own database (`--database-url`, default `bench_status`) and
drops it at the end, also after a failure, and empties its own Redis database (`--redis-url`) before and
after. Production logging (JSON) and metrics (METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR) are on. Prints figures;
the last line is `RESULT key=value …`. Compare the two paths measured in the same run, not absolute numbers:
the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.broadcast import ACCOUNT_SID as FAKE_ACCOUNT  # noqa: E402
from bench.broadcast import TOKEN as FAKE_TOKEN  # noqa: E402
from bench.broadcast import WORKER, Fake  # noqa: E402
from bench.http_load import (  # noqa: E402
    WRK_THREADS,
    client_cpu,
    cpu_seconds,
    load_average,
    migrate,
    own_cpu,
    run_wrk,
    start_gunicorn,
)
from bot.devtools.database import scratch_database, scratch_redis  # noqa: E402
from bot.whatsapp.messaging import STATUS_RANK  # noqa: E402
from bot.whatsapp.statuses import STREAM  # noqa: E402
from bot.whatsapp.twilio_api import sign  # noqa: E402

TOKEN = "bench-auth-token"
STATUSES = ("sent", "delivered", "read")
# Both wrk scripts: thread `id` reads its share of the callbacks (lines id, id + threads, …) that `keep`
# takes (by their place in the share), as (path, signature, body).
LUA_SHARE = """
local function read_share(path, count, keep)
  local share, n, k = {}, 0, 0
  local file = io.open(path, "r")
  for line in file:lines() do
    if n % count == id then
      if keep(k) then
        local tab = string.find(line, "\\t", 1, true)
        local tab2 = string.find(line, "\\t", tab + 1, true)
        share[#share + 1] = {string.sub(line, 1, tab - 1), string.sub(line, tab + 1, tab2 - 1),
                             string.sub(line, tab2 + 1)}
      end
      k = k + 1
    end
    n = n + 1
  end
  file:close()
  return share
end
local function post(item)
  return wrk.format("POST", item[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                      ["X-Twilio-Signature"] = item[2]}, item[3])
end
"""
# Saturation: thread k sends its share in order (wrapping around: a repeat changes nothing); at the end each
# thread says how far it got, and the bench sends the rest.
LUA = LUA_SHARE + """
local lines = {}
local created = 0
local threads = {}
index = 0
setup = function(thread)
  thread:set("id", created)
  threads[#threads + 1] = thread
  created = created + 1
end
init = function(args)
  lines = read_share(args[1], tonumber(args[3]) or 1, function(k) return true end)
end
request = function()
  index = index + 1
  return post(lines[((index - 1) % #lines) + 1])
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("SENT %d %d\\n", thread:get("id"), thread:get("index")))
  end
end
"""
# The callbacks wrk did not reach: thread k sends its share's first lines (wrk may not send its very first
# request, seen on wrk 4.1) and its lines from a little before where it stopped (requests in flight then
# may not have arrived; a repeat changes nothing); once each is answered it writes its marker file (wrk
# itself would wait out its duration) and stops.
LUA_REST = LUA_SHARE + """
local lines = {}
local created = 0
local answered = 0
local marker = nil
setup = function(thread)
  thread:set("id", created)
  created = created + 1
end
init = function(args)
  local head, from = tonumber(args[3]), tonumber(args[5 + id])
  marker = args[4]
  lines = read_share(args[1], tonumber(args[2]), function(k) return k < head or k >= from end)
end
local index = 0
request = function()
  index = index + 1
  return post(lines[math.min(index, #lines)])
end
response = function(status, headers, body)
  answered = answered + 1
  if answered == #lines then
    local file = io.open(marker .. id, "w")
    file:close()
    wrk.thread:stop()
  end
end
"""
SEED = """
INSERT INTO members (phone, status, language, consent_at, joined_at, last_inbound_at, created_at, updated_at)
SELECT '+2547' || lpad(n::text, 8, '0'), 'active', 'en', now(), now(), now(), now(), now()
FROM generate_series(1, :members) AS n;
INSERT INTO broadcasts (texts, segment, status, audience, created_at)
VALUES ('{"en": "Hello"}', '{}', 'running', :members, now());
INSERT INTO broadcast_deliveries (broadcast_id, member_id, status, status_rank, attempts, lookups, kind, twilio_sid)
SELECT 1, id, 'accepted', 1, 1, 0, 'text',
       CASE WHEN id % 2 = 0 THEN 'SM' || lpad(to_hex(id), 32, '0') END
FROM members ORDER BY id;
INSERT INTO messages (member_id, direction, channel, body, status, status_rank, twilio_sid, created_at, updated_at)
SELECT n, 'out', CASE WHEN n % 2 = 0 THEN 'twiml' ELSE 'rest' END, 'Hi',
       CASE WHEN n % 2 = 0 THEN 'replied' ELSE 'queued' END, CASE WHEN n % 2 = 0 THEN 0 ELSE 1 END,
       CASE WHEN n % 3 = 0 THEN NULL ELSE 'SM' || lpad(to_hex(1000000000 + n), 32, '0') END, now(), now()
FROM generate_series(1, :singles) AS n;
CREATE TABLE bench_backwards (tbl text, id bigint, old_rank int, new_rank int);
CREATE FUNCTION bench_backwards() RETURNS trigger AS $$
BEGIN INSERT INTO bench_backwards VALUES (TG_TABLE_NAME, OLD.id, OLD.status_rank, NEW.status_rank); RETURN NEW; END
$$ LANGUAGE plpgsql;
CREATE TRIGGER bench_backwards AFTER UPDATE ON messages FOR EACH ROW
WHEN (NEW.status_rank < OLD.status_rank) EXECUTE FUNCTION bench_backwards();
CREATE TRIGGER bench_backwards AFTER UPDATE ON broadcast_deliveries FOR EACH ROW
WHEN (NEW.status_rank < OLD.status_rank AND OLD.broadcast_id = 1) EXECUTE FUNCTION bench_backwards();
"""
RESET = """
DELETE FROM broadcasts WHERE id <> 1;
UPDATE broadcast_deliveries SET status = 'accepted', status_rank = 1,
    twilio_sid = CASE WHEN member_id % 2 = 0 THEN 'SM' || lpad(to_hex(member_id), 32, '0') END;
UPDATE messages SET status = CASE WHEN id % 2 = 0 THEN 'replied' ELSE 'queued' END,
    status_rank = CASE WHEN id % 2 = 0 THEN 0 ELSE 1 END,
    twilio_sid = CASE WHEN id % 3 = 0 THEN NULL ELSE 'SM' || lpad(to_hex(1000000000 + id), 32, '0') END;
TRUNCATE bench_backwards;
"""


def seed(url: str, members: int, singles: int) -> None:
    """The broadcast, its deliveries, the single messages and replies, and the trigger that counts a status
    moved backwards."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in SEED.split(";\n"):
            if statement.strip():
                connection.execute(sa.text(statement), {"members": members, "singles": singles})
    engine.dispose()


def reset(url: str) -> None:
    """Every row back to its seeded status, for the second path."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in RESET.split(";\n"):
            if statement.strip():
                connection.execute(sa.text(statement))
    engine.dispose()


def callbacks(base_url: str, members: int, singles: int, repeats: float,
              rng: random.Random) -> tuple[list[str], dict[tuple[str, int], int]]:
    """The signed callbacks (path, signature, body lines, shuffled) and the highest rank sent to each row."""
    items: list[tuple[str, str, str]] = []
    expected: dict[tuple[str, int], int] = {}
    rows = [("d", n, f"SM{n:032x}") for n in range(1, members + 1)]
    rows += [("m", n, f"SM{1000000000 + n:032x}") for n in range(1, singles + 1)]
    for kind, row, message_sid in rows:
        statuses = list(STATUSES)
        if rng.random() < 0.2:
            statuses.remove("delivered")  # `read` came and `delivered` was skipped
        statuses += [rng.choice(statuses) for _ in range(int(repeats) + (rng.random() < repeats % 1))]
        expected[(kind, row)] = max(STATUS_RANK[s] for s in statuses)
        path = f"/whatsapp/status?{kind}={row}"
        for status in statuses:
            form = {"AccountSid": "AC" + "1" * 32, "ApiVersion": "2010-04-01", "MessageSid": message_sid,
                    "MessageStatus": status, "SmsSid": message_sid, "SmsStatus": status,
                    "To": f"whatsapp:+2547{row:08d}", "From": "whatsapp:+14155238886", "ChannelPrefix": "whatsapp"}
            items.append((path, sign(base_url + path, form, TOKEN), urlencode(form)))
    rng.shuffle(items)  # out of order, as Twilio's callbacks come
    return [f"{path}\t{signature}\t{body}\n" for path, signature, body in items], expected


def check(url: str, expected: dict[tuple[str, int], int]) -> dict[str, int]:
    """Rows below the highest status sent to them (lost), and updates that lowered a status (backwards)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = {("d", member): rank for member, rank in connection.execute(sa.text(
            "SELECT member_id, status_rank FROM broadcast_deliveries WHERE broadcast_id = 1"))}
        found |= {("m", row): rank for row, rank in connection.execute(sa.text(
            "SELECT id, status_rank FROM messages"))}
        backwards = connection.execute(sa.text("SELECT count(*) FROM bench_backwards")).scalar_one()
    engine.dispose()
    lost = [(key, found.get(key), rank) for key, rank in expected.items() if found.get(key, 0) < rank]
    for key, held, rank in lost[:5]:
        print(f"  lost: {key[0]}={key[1]} holds rank {held}, {rank} was sent", flush=True)
    return {"lost": len(lost), "backwards": backwards}


def wait_drained(redis_url: str, seconds: float = 600.0) -> float:
    """Wait until the stream is empty (every entry applied, acknowledged and deleted); seconds waited."""
    client = redis.Redis.from_url(redis_url)
    start = time.perf_counter()
    while client.xlen(STREAM) and time.perf_counter() - start < seconds:
        time.sleep(0.05)
    return time.perf_counter() - start








def send_rest(base_url: str, script: Path, data: Path, reached: dict[int, int], connections: int) -> int:
    """Send the callbacks wrk did not reach (`LUA_REST`); returns how many were not answered 200."""
    starts = [str(max(connections, reached.get(thread, 0) - connections)) for thread in range(WRK_THREADS)]
    marker = script.parent / f"rest-done-{time.monotonic_ns()}-"
    done = [Path(f"{marker}{thread}") for thread in range(WRK_THREADS)]
    return int(run_wrk(base_url, script, 3600, connections, str(data), str(WRK_THREADS), str(connections),
                       str(marker), *starts, finished=done)["errors"])


START_BROADCAST = """
from bot import create_app
from bot.broadcasts import service as broadcasts
from bot.core.extensions import db
app = create_app()
with app.app_context():
    broadcast = broadcasts.create({"en": "Union meeting on Saturday at 10"})
    broadcast.status = "running"
    db.session.commit()
    print(broadcasts.resolve(broadcast.id))
    broadcasts.launch(broadcast.id, jobs=int(__import__("os").environ["BROADCAST_JOBS"]))
    print(broadcast.id)
"""
CANCEL_BROADCAST = """
import sys
from bot import create_app
from bot.broadcasts import service as broadcasts
with create_app().app_context():
    broadcasts.cancel(int(sys.argv[1]))
"""


class Sending:
    """A broadcast to every member sent at 400/s while the callbacks come (bench/broadcast.py's way: RQ
    workers through the fake Twilio API in its own process, 150 ms a message), cancelled at the end."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.fake = Fake(0.15)
        self.env = dict(env, TWILIO_ACCOUNT_SID=FAKE_ACCOUNT, TWILIO_AUTH_TOKEN=FAKE_TOKEN,
                        TWILIO_API_BASE_URL=self.fake.base, SEND_RATE_PER_SECOND="400", SEND_CONCURRENCY="64",
                        BROADCAST_JOBS=str(workers), BROADCAST_BATCH_SIZE="512", TWILIO_HTTP_TIMEOUT="10",
                        PUBLIC_URL="http://127.0.0.1:9", WHATSAPP_TEMPLATES=json.dumps({}),
                        PYTHONPATH=str(ROOT))
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        started = subprocess.run([sys.executable, "-c", START_BROADCAST], cwd=ROOT, env=self.env, check=True,
                                 capture_output=True, text=True)
        self.broadcast_id = int(started.stdout.split()[-1])
        print(f"[sending] broadcast {self.broadcast_id}: {started.stdout.split()[-2]} deliveries; workers log to {log}",
              flush=True)
        with log.open("a") as out:
            self.workers = [subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=self.env, stdout=out,
                                             stderr=out) for _ in range(workers)]
        self.began = (time.monotonic(), self.fake.accepted())

    def rate(self) -> float:
        """Messages the fake Twilio accepted per second since the start."""
        now, accepted = time.monotonic(), self.fake.accepted()
        return (accepted - self.began[1]) / (now - self.began[0])

    def cpu(self) -> float:
        """CPU seconds of the sending workers and the fake Twilio so far."""
        return sum(cpu_seconds(p.pid)["app"] for p in (*self.workers, self.fake.process))

    def stop(self) -> None:
        """Cancel the broadcast, stop the workers and the fake Twilio."""
        subprocess.run([sys.executable, "-c", CANCEL_BROADCAST, str(self.broadcast_id)], cwd=ROOT, env=self.env,
                       check=False, capture_output=True)
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.wait(timeout=30)
        self.fake.stop()


def measure_path(name: str, args: argparse.Namespace, env: dict[str, str], data: Path, work: Path,
                 expected: dict[tuple[str, int], int]) -> dict[str, float]:
    """One path: gunicorn (and the consumers, for the stream) at saturation with wrk, while a broadcast is
    sent for `sending`; then the rest of the callbacks, and the check."""
    port = 5811
    base = f"http://127.0.0.1:{port}"
    process = start_gunicorn("bot:create_app()", port, args, env, ROOT)
    consumers = [subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "--statuses"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(args.consumers if name != "inline" else 0)]
    sending = Sending(env, args.send_workers, work / "send-workers.log") if name == "sending" else None
    send_rate, send_cpu = 0.0, 0.0
    try:
        time.sleep(3.0 if sending else 1.0)
        print(f"[{name}] saturation with wrk for {args.duration}s ({args.connections} connections) …", flush=True)
        before = cpu_seconds(process.pid)
        consumed_before = [cpu_seconds(c.pid)["app"] for c in consumers]
        client_before = client_cpu() + own_cpu()
        if sending:
            sending.began, send_cpu = (time.monotonic(), sending.fake.accepted()), sending.cpu()
        result = run_wrk(base, work / "status.lua", args.duration, args.connections, str(data), "0",
                         str(WRK_THREADS))
        after, client_after, load = cpu_seconds(process.pid), client_cpu() + own_cpu(), load_average()
        if sending:
            send_rate, send_cpu = sending.rate(), sending.cpu() - send_cpu
            sending.stop()
            sending = None
        drain = wait_drained(args.redis_url) if consumers else 0.0
        settled = cpu_seconds(process.pid)
        consumed = sum(cpu_seconds(c.pid)["app"] - b for c, b in zip(consumers, consumed_before, strict=True))
        print(f"[{name}] sending the callbacks wrk did not reach …", flush=True)
        failed_rest = send_rest(base, work / "rest.lua", data, result["reached"], args.connections)
        if consumers:
            wait_drained(args.redis_url)
    finally:
        if sending:
            sending.stop()
        for child in (process, *consumers):
            child.terminate()
        for child in (process, *consumers):
            child.wait(timeout=20)
    sent = result["requests"]
    figures = {
        "rate": result["rate"], "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"],
        "errors": result["errors"] + failed_rest, "requests": sent, "drain_s": drain,
        "applied_per_s": sent / (args.duration + drain),
        "web_cpu_ms": (after["app"] - before["app"]) / sent * 1000,
        # PostgreSQL until what wrk sent is applied (the consumers write after the answers).
        "db_cpu_ms": (settled["postgres"] - before["postgres"]) / sent * 1000,
        "consumer_cpu_ms": consumed / sent * 1000,
        "client_cpu_ms": (client_after - client_before) / sent * 1000,
        "send_rate": send_rate, "send_cpu_ms": send_cpu / sent * 1000,
    }
    figures.update(check(args.database_url, expected))
    print(f"[{name}] {figures['rate']:.0f} callbacks/s answered at saturation (p50 {figures['p50_ms']:.1f} ms, p99 "
          f"{figures['p99_ms']:.1f} ms, {sent} answered); applied {figures['applied_per_s']:.0f}/s (the stream "
          f"drained {drain:.1f} s after wrk stopped); errors {figures['errors']:.0f}", flush=True)
    print(f"[{name}] CPU per callback: web {figures['web_cpu_ms']:.3f} ms, PostgreSQL {figures['db_cpu_ms']:.3f} ms, "
          f"consumer {figures['consumer_cpu_ms']:.3f} ms, bench client (wrk and this script) "
          f"{figures['client_cpu_ms']:.3f} ms; "
          f"after every callback: lost {figures['lost']}, backwards {figures['backwards']}; load average {load}",
          flush=True)
    if name == "sending":
        print(f"[{name}] meanwhile the broadcast went at {send_rate:.0f} messages/s (goal 400), its workers and the "
              f"fake Twilio using {figures['send_cpu_ms']:.3f} ms of CPU per callback answered", flush=True)
    return figures


def main() -> None:
    """Seed, then both paths through the same callbacks, then the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_status"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--members", type=int, default=100_000, help="the broadcast's deliveries")
    parser.add_argument("--singles", type=int, default=20_000, help="single messages and replies")
    parser.add_argument("--repeats", type=float, default=0.3, help="repeated callbacks per row, on average")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=20, help="seconds of saturation per path")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--consumers", type=int, default=1, help="worker.py --statuses processes")
    parser.add_argument("--paths", default="stream,sending",
                        help="which paths to measure, in order: stream, sending, inline")
    parser.add_argument("--send-workers", type=int, default=2, help="RQ workers sending the broadcast (sending)")
    args = parser.parse_args()
    with scratch_database(args.database_url), scratch_redis(args.redis_url):
        migrate(args.database_url)
        measure(args)


def measure(args: argparse.Namespace) -> None:
    """Both paths, then the RESULT line."""
    work = Path(tempfile.mkdtemp(prefix="umoja-bench-status-"))
    (work / "status.lua").write_text(LUA)
    (work / "rest.lua").write_text(LUA_REST)
    metrics_dir = work / "metrics"
    metrics_dir.mkdir()
    seed(args.database_url, args.members, args.singles)
    base = "http://127.0.0.1:5811"
    print(f"signing the callbacks for {args.members} deliveries and {args.singles} messages …", flush=True)
    lines, expected = callbacks(base, args.members, args.singles, args.repeats, random.Random(7))
    data = work / "callbacks.txt"
    data.write_text("".join(lines))
    env = dict(os.environ, DATABASE_URL=args.database_url, REDIS_URL=args.redis_url, TWILIO_AUTH_TOKEN=TOKEN,
               AUTO_MIGRATE="0", SIMULATOR_ENABLED="0", INSTANCE_PATH=str(work / "instance"), PUBLIC_URL=base,
               LOG_FORMAT="json", METRICS_TOKEN="bench", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    env.pop("TWILIO_ACCOUNT_SID", None)
    results: dict[str, dict[str, float]] = {}
    for index, name in enumerate(args.paths.split(",")):
        if index:
            reset(args.database_url)
            redis.Redis.from_url(args.redis_url).delete(STREAM)
        path_env = dict(env, STATUS_APPLY="inline" if name == "inline" else "stream")
        results[name] = measure_path(name, args, path_env, data, work, expected)
    stream, inline = results.get("stream"), results.get("inline")
    parts = [f"callbacks={len(lines)}", f"members={args.members}", f"singles={args.singles}"]
    for name, figures in results.items():
        parts += [f"{name}_per_s={figures['rate']:.0f}", f"{name}_p99_ms={figures['p99_ms']:.1f}",
                  f"{name}_applied_per_s={figures['applied_per_s']:.0f}",
                  f"{name}_web_cpu_ms={figures['web_cpu_ms']:.3f}", f"{name}_db_cpu_ms={figures['db_cpu_ms']:.3f}",
                  f"{name}_consumer_cpu_ms={figures['consumer_cpu_ms']:.3f}",
                  f"{name}_client_cpu_ms={figures['client_cpu_ms']:.3f}",
                  f"{name}_errors={figures['errors']:.0f}", f"{name}_lost={figures['lost']}",
                  f"{name}_backwards={figures['backwards']}"]
        if name == "sending":
            parts += [f"sending_send_rate={figures['send_rate']:.0f}",
                      f"sending_send_cpu_ms={figures['send_cpu_ms']:.3f}"]
    if stream and inline:
        parts.append(f"speedup={stream['rate'] / inline['rate']:.2f}")
    parts += [f"load_average={load_average()}", f"workers={args.workers}", f"threads={args.threads}",
              f"consumers={args.consumers}"]
    print("RESULT " + " ".join(parts))


if __name__ == "__main__":
    main()
