"""The first-message language detection against the labelled set in `data/first_messages.csv`.

Prints each miss, the accuracy (a language where 'ask' was expected, or another language, is wrong; 'ask'
where a language was expected is a miss that falls back to DEFAULT_LANGUAGE and offers the list), the time to
build the detector and the time per detection, then one RESULT line.

    .venv/bin/python bench/language_detect.py
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import i18n, language_detect  # noqa: E402

SET = ROOT / "data" / "first_messages.csv"


def labelled() -> list[dict[str, str]]:
    """The labelled first messages: text, expected (a language code or 'ask'), kind."""
    with SET.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main() -> None:
    rows = labelled()
    started = time.perf_counter()
    language_detect.warm()
    i18n.vocabulary()
    build_ms = (time.perf_counter() - started) * 1000
    wrong = asked = 0
    times: list[float] = []
    for _ in range(5):
        for row in rows:
            begin = time.perf_counter()
            got = language_detect.detect(row["text"]) or "ask"
            times.append((time.perf_counter() - begin) * 1000)
            if _ == 0 and got != row["expected"]:
                if got == "ask":
                    asked += 1
                else:
                    wrong += 1
                print(f"{'ASK  ' if got == 'ask' else 'WRONG'} {row['text']!r}: expected {row['expected']}, got {got}")
    right = len(rows) - wrong - asked
    accuracy = right / len(rows)
    per = statistics.median(times)
    p99 = sorted(times)[int(len(times) * 0.99) - 1]
    print(f"{len(rows)} messages, languages {','.join(i18n.LANGUAGES)}: {right} right, {wrong} wrong language, "
          f"{asked} asked where a language was expected; accuracy {accuracy:.1%}")
    print(f"detector built in {build_ms:.0f} ms; per detection median {per:.3f} ms, p99 {p99:.3f} ms")
    print(f"RESULT messages={len(rows)} accuracy={accuracy:.4f} wrong_language={wrong} asked={asked} "
          f"build_ms={build_ms:.0f} detect_median_ms={per:.3f} detect_p99_ms={p99:.3f}")


if __name__ == "__main__":
    main()
