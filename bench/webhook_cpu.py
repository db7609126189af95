"""CPU per inbound message, measured in-process: the webhook's own cost without HTTP servers or load tools.

Builds the app on PostgreSQL (an empty schema, then the migrations), sends correctly signed messages
through the Flask test client (new members starting sign-up, members going through it, menu requests)
and prints the CPU time (`time.process_time`) per message in rounds, so runs on a shared machine can be
compared (take the lowest round). `--profile` prints the top of a cProfile of one extra round.

    python bench/webhook_cpu.py [--messages 300] [--rounds 5] [--profile]

The last line is `RESULT cpu_ms_per_msg=… wall_ms_per_msg=…` (the best round).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webhook import SIGNUP_ANSWERS, TOKEN, reset_database  # noqa: E402  (bench/webhook.py, beside this file)

from bot import create_app  # noqa: E402
from bot.devtools.simulator import INBOUND_PATH, inbound_form  # noqa: E402
from bot.whatsapp.twilio_api import sign  # noqa: E402

PUBLIC_URL = "https://umoja.example.org"


def messages(count: int, start: int) -> list[tuple[str, str]]:
    """(phone, body): a third new members saying Hi, a third members going through sign-up, a third MENU."""
    out: list[tuple[str, str]] = []
    for n in range(start, start + count):
        kind = n % 3
        member = (n // 3) % 50
        if kind == 0:
            out.append((f"+2547{n:08d}", "Hi"))
        elif kind == 1:
            step = (n // 150) % (len(SIGNUP_ANSWERS) + 1)
            out.append((f"+2541{member:08d}", "Hi" if step == 0 else SIGNUP_ANSWERS[step - 1]))
        else:
            out.append((f"+2541{member:08d}", "MENU"))
    return out


def run_round(client, batch: list[tuple[str, str]]) -> tuple[float, float]:
    """CPU and wall seconds to post the batch (signing is done before the clock starts)."""
    url = PUBLIC_URL + INBOUND_PATH
    requests = []
    for phone, body in batch:
        form = inbound_form(phone, body)
        requests.append((form, sign(url, form, TOKEN)))
    cpu, wall = time.process_time(), time.perf_counter()
    for form, signature in requests:
        response = client.post(INBOUND_PATH, data=form, headers={"X-Twilio-Signature": signature},
                               base_url=PUBLIC_URL)
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    """Warm up, then time rounds of messages and print CPU per message."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_webhook"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--messages", type=int, default=300, help="messages per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one more round")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    args = parser.parse_args()

    reset_database(args.database_url)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": args.database_url, "REDIS_URL": args.redis_url, "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "WEBHOOK_AUTH_TOKEN": TOKEN, "AUTO_MIGRATE": False,
        "SIMULATOR_ENABLED": False, "SECRET_KEY": "bench",
    })
    client = app.test_client()
    run_round(client, messages(150, 10**6))
    figures = []
    for index in range(args.rounds):
        cpu, wall = run_round(client, messages(args.messages, index * args.messages))
        figures.append((cpu, wall))
        print(f"round {index + 1}: {cpu / args.messages * 1000:.2f} ms CPU, "
              f"{wall / args.messages * 1000:.2f} ms wall per message", flush=True)
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU time, not waits on the database
        profiler.enable()
        run_round(client, messages(args.messages, args.rounds * args.messages))
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)
    cpu, wall = min(figures)
    print(f"RESULT cpu_ms_per_msg={cpu / args.messages * 1000:.2f} wall_ms_per_msg={wall / args.messages * 1000:.2f} "
          f"messages={args.messages} rounds={args.rounds}")


if __name__ == "__main__":
    main()
