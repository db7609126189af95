"""Status callback benchmark: signed callbacks for a large broadcast plus single messages and replies, at
saturation, through the stream (the webhook appends, `worker.py --statuses` applies) and, in the same run,
through the old path (`STATUS_APPLY=inline`: applied in the request).

Seeds a broadcast to `--members` members (half of its deliveries without their SID yet: the callbacks come
before our write) and `--singles` single messages and TwiML replies (named by `?m=`, a third with no SID
yet), signs every row's statuses (sent, delivered — skipped for a fifth of them — and read, with
`--repeats` of them again, all shuffled), drives them through the app with wrk at saturation for
`--duration` seconds (figures: callbacks/s, p99, CPU per callback in gunicorn, PostgreSQL, the consumers
and wrk itself), then sends the callbacks wrk did not reach, and checks that every row holds the highest
status sent to it (0 lost) and that no update ever lowered a status (a trigger counts them: 0 backwards).

    python bench/status.py [--members 100000] [--singles 20000] [--duration 20] [--consumers 1]

Needs wrk, PostgreSQL and Redis. It creates its own database (`--database-url`, default `bench_status`) and
drops it at the end, also after a failure, and empties its own Redis database (`--redis-url`) before and
after. Production logging (JSON) and metrics (METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR) are on. Prints figures;
the last line is `RESULT key=value …`. Compare the two paths measured in the same run, not absolute numbers:
the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import cpu_seconds, migrate, parse_latency, start_gunicorn  # noqa: E402
from bot.devtools.database import scratch_database, scratch_redis  # noqa: E402
from bot.whatsapp.messaging import STATUS_RANK  # noqa: E402
from bot.whatsapp.statuses import STREAM  # noqa: E402
from bot.whatsapp.twilio_api import sign  # noqa: E402

TOKEN = "bench-auth-token"
WRK_THREADS = 2
STATUSES = ("sent", "delivered", "read")
LUA = """
-- thread k sends lines k, k + threads, … in order (wrapping around: a repeat changes nothing); at the end
-- each thread says how far it got, and the bench sends the rest itself
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
  local count = tonumber(args[3]) or 1
  local n = 0
  local file = io.open(args[1], "r")
  for line in file:lines() do
    if n % count == id then
      local tab = string.find(line, "\\t", 1, true)
      local tab2 = string.find(line, "\\t", tab + 1, true)
      lines[#lines + 1] = {string.sub(line, 1, tab - 1), string.sub(line, tab + 1, tab2 - 1),
                           string.sub(line, tab2 + 1)}
    end
    n = n + 1
  end
  file:close()
end
request = function()
  index = index + 1
  local item = lines[((index - 1) % #lines) + 1]
  return wrk.format("POST", item[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                      ["X-Twilio-Signature"] = item[2]}, item[3])
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("SENT %d %d\\n", thread:get("id"), thread:get("index")))
  end
end
"""
SEED = """
INSERT INTO members (phone, status, language, consent_at, joined_at, last_inbound_at, created_at, updated_at)
SELECT '+2547' || lpad(n::text, 8, '0'), 'active', 'en', now(), now(), now(), now(), now()
FROM generate_series(1, :members) AS n;
INSERT INTO broadcasts (text_en, segment, status, audience, created_at)
VALUES ('Hello', '{}', 'running', :members, now());
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
WHEN (NEW.status_rank < OLD.status_rank) EXECUTE FUNCTION bench_backwards();
"""
RESET = """
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
            "SELECT member_id, status_rank FROM broadcast_deliveries"))}
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


def client_cpu() -> float:
    """CPU seconds of the finished child processes (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(base_url: str, script: Path, data: Path, seconds: int, connections: int) -> dict[str, Any]:
    """Saturation for `seconds` with keep-alive connections: callbacks/s, latency, errors, and how many lines
    each wrk thread got to."""
    output = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base_url,
         "--", str(data), "0", str(WRK_THREADS)],
        capture_output=True, text=True, check=True,
    ).stdout
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": errors,
        "p50_ms": parse_latency(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99_ms": parse_latency(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "reached": {int(k): int(v) for k, v in re.findall(r"SENT (\d+) (\d+)", output)},
    }


def send_rest(base_url: str, lines: list[str], reached: dict[int, int], connections: int) -> int:
    """Send the lines wrk did not get to (from a little before where each thread stopped: requests in flight
    then may not have arrived; a repeat changes nothing); returns how many were not answered 200."""
    rest = []
    for thread in range(WRK_THREADS):
        share = lines[thread::WRK_THREADS]
        # Also each thread's first lines: wrk may not send its very first request (seen on wrk 4.1).
        rest += share[:connections] + share[max(connections, reached.get(thread, 0) - connections):]
    local = threading.local()

    def post(line: str) -> bool:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        path, signature, body = line.rstrip("\n").split("\t")
        try:
            return session.post(base_url + path, data=body, timeout=30, headers={
                "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}).status_code == 200
        except requests.RequestException:
            return False

    with ThreadPoolExecutor(16) as pool:
        return sum(not ok for ok in pool.map(post, rest))


def measure_path(name: str, args: argparse.Namespace, env: dict[str, str], data: Path, script: Path,
                 lines: list[str], expected: dict[tuple[str, int], int]) -> dict[str, float]:
    """One path: gunicorn (and the consumers, for the stream) at saturation with wrk; then the rest of the
    callbacks, and the check."""
    port = 5811
    base = f"http://127.0.0.1:{port}"
    process = start_gunicorn("bot:create_app()", port, args, env, ROOT)
    consumers = [subprocess.Popen([sys.executable, str(ROOT / "worker.py"), "--statuses"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(args.consumers if name == "stream" else 0)]
    try:
        time.sleep(1.0)
        print(f"[{name}] saturation with wrk for {args.duration}s ({args.connections} connections) …", flush=True)
        before = cpu_seconds(process.pid)
        consumed_before = [cpu_seconds(c.pid)["app"] for c in consumers]
        client_before = client_cpu()
        result = run_wrk(base, script, data, args.duration, args.connections)
        after, client_after = cpu_seconds(process.pid), client_cpu()
        drain = wait_drained(args.redis_url) if consumers else 0.0
        settled = cpu_seconds(process.pid)
        consumed = sum(cpu_seconds(c.pid)["app"] - b for c, b in zip(consumers, consumed_before, strict=True))
        print(f"[{name}] sending the callbacks wrk did not reach …", flush=True)
        failed_rest = send_rest(base, lines, result["reached"], args.connections)
        if consumers:
            wait_drained(args.redis_url)
    finally:
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
    }
    figures.update(check(args.database_url, expected))
    print(f"[{name}] {figures['rate']:.0f} callbacks/s answered at saturation (p50 {figures['p50_ms']:.1f} ms, p99 "
          f"{figures['p99_ms']:.1f} ms, {sent} answered); applied {figures['applied_per_s']:.0f}/s (the stream "
          f"drained {drain:.1f} s after wrk stopped); errors {figures['errors']:.0f}", flush=True)
    print(f"[{name}] CPU per callback: web {figures['web_cpu_ms']:.3f} ms, PostgreSQL {figures['db_cpu_ms']:.3f} ms, "
          f"consumer {figures['consumer_cpu_ms']:.3f} ms, bench client (wrk) {figures['client_cpu_ms']:.3f} ms; "
          f"after every callback: lost {figures['lost']}, backwards {figures['backwards']}", flush=True)
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
    parser.add_argument("--paths", default="stream,inline", help="which paths to measure, in order")
    args = parser.parse_args()
    with scratch_database(args.database_url), scratch_redis(args.redis_url):
        migrate(args.database_url)
        measure(args)


def measure(args: argparse.Namespace) -> None:
    """Both paths, then the RESULT line."""
    work = Path(tempfile.mkdtemp(prefix="umoja-bench-status-"))
    script = work / "status.lua"
    script.write_text(LUA)
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
        results[name] = measure_path(name, args, dict(env, STATUS_APPLY=name), data, script, lines, expected)
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
    if stream and inline:
        parts.append(f"speedup={stream['rate'] / inline['rate']:.2f}")
    parts += [f"workers={args.workers}", f"threads={args.threads}", f"consumers={args.consumers}"]
    print("RESULT " + " ".join(parts))


if __name__ == "__main__":
    main()
