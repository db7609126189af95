"""What the HTTP benches (bench/webhook.py, bench/status.py) share: the schema of their scratch database,
gunicorn as the Procfile runs it, wrk at saturation and its figures, and where the CPU went (the server's
process tree, PostgreSQL, the bench client, the machine's load)."""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
WRK_THREADS = 2


def migrate(url: str) -> None:
    """Build the schema of an empty database with the migrations, as `flask db upgrade` does on a server."""
    env = dict(os.environ, DATABASE_URL=url, AUTO_MIGRATE="0")
    subprocess.run([sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def start_gunicorn(target: str, port: int, args: argparse.Namespace, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """gunicorn as the Procfile runs it (`args.workers` × `args.threads`), once its /healthz answers."""
    command = [sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
               "--threads", str(args.threads), "--timeout", "30", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{target} did not start: {process.stderr.read().decode()[-2000:]}")


def run_wrk(base_url: str, script: Path, seconds: int, connections: int, *script_args: str,
            finished: Sequence[Path] = ()) -> dict[str, Any]:
    """Saturation for `seconds` with keep-alive connections, the Lua `script` given `script_args`:
    requests/s, answers, errors (non-2xx and socket errors), p50 and p99, and what the script printed as
    `SENT <thread> <index>` (how far each wrk thread got). With `finished`, wrk is stopped sooner, once the
    script has written each of those files (a thread that sent all it had: wrk itself waits out `seconds`)."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
               base_url, "--", *script_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if finished:
        while process.poll() is None and not all(path.exists() for path in finished):
            time.sleep(0.1)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # wrk stops its threads and prints its figures
    output, errors_text = process.communicate()
    if process.returncode:
        raise SystemExit(f"wrk failed ({process.returncode}): {errors_text[-2000:]}")
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return {
        "rate": float(_found(r"Requests/sec:\s+([\d.]+)", output)),
        "requests": int(_found(r"(\d+) requests in", output)),
        "errors": errors,
        "p50_ms": parse_latency(_found(r"50%\s+([\d.]+\w+)", output)),
        "p99_ms": parse_latency(_found(r"99%\s+([\d.]+\w+)", output)),
        "reached": {int(k): int(v) for k, v in re.findall(r"SENT (\d+) (\d+)", output)},
    }


def _found(pattern: str, output: str) -> str:
    match = re.search(pattern, output)
    if match is None:
        raise SystemExit(f"wrk's output has no {pattern!r}:\n{output[-2000:]}")
    return match.group(1)


def parse_latency(text: str) -> float:
    """wrk's '1.23ms' / '450.00us' / '1.02s' in milliseconds."""
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds used so far by the process tree under `root` and by every PostgreSQL process (Linux
    /proc): where a request's cost goes at saturation."""
    tick = os.sysconf("SC_CLK_TCK")
    processes: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        processes[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, (parent, _, _) in processes.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return {
        "app": sum(processes[pid][2] for pid in tree if pid in processes),
        "postgres": sum(cpu for _, name, cpu in processes.values() if name.startswith("postgres")),
    }


def client_cpu() -> float:
    """CPU seconds of this bench's finished child processes (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    """CPU seconds of this bench process itself (its threads that sign or send requests)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (it is shared: print them with the figures)."""
    return "/".join(f"{value:.2f}" for value in os.getloadavg())
