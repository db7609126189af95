"""The first-message language detection against the labelled set in `data/first_messages.csv`.

Prints each miss and, for each part of the set (`tune`: the messages the thresholds were set on; `holdout`:
written after, never tuned on), the accuracy (a language where 'ask' was expected, or another language, is
wrong; 'ask' where a language was expected is a miss that falls back to DEFAULT_LANGUAGE and offers the list),
then the time to build the detector and the time per detection, then one RESULT line.

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

from bot.core import i18n, language_detect  # noqa: E402

SET = ROOT / "data" / "first_messages.csv"


def labelled() -> list[dict[str, str]]:
    """The labelled first messages: text, expected (a language code or 'ask'), kind, part."""
    with SET.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def score(rows: list[dict[str, str]], times: list[float], show: bool) -> tuple[int, int, int]:
    """Right, wrong language and asked-instead counts over rows (each detection's time added to `times`)."""
    right = wrong = asked = 0
    for row in rows:
        begin = time.perf_counter()
        got = language_detect.detect(row["text"]) or "ask"
        times.append((time.perf_counter() - begin) * 1000)
        if got == row["expected"]:
            right += 1
            continue
        if got == "ask":
            asked += 1
        else:
            wrong += 1
        if show:
            print(f"{'ASK  ' if got == 'ask' else 'WRONG'} [{row['part']}] {row['text']!r}: expected {row['expected']}, got {got}")
    return right, wrong, asked


def main() -> None:
    rows = labelled()
    started = time.perf_counter()
    language_detect.warm()
    i18n.vocabulary()
    build_ms = (time.perf_counter() - started) * 1000
    times: list[float] = []
    figures: dict[str, str] = {}
    for part in ("tune", "holdout"):
        chosen = [row for row in rows if row["part"] == part]
        right, wrong, asked = score(chosen, times, show=True)
        for _ in range(4):
            score(chosen, times, show=False)
        accuracy = right / len(chosen)
        print(f"{part}: {len(chosen)} messages, {right} right, {wrong} wrong language, {asked} asked where a "
              f"language was expected; accuracy {accuracy:.1%}")
        figures.update({f"{part}_messages": str(len(chosen)), f"{part}_accuracy": f"{accuracy:.4f}",
                        f"{part}_wrong_language": str(wrong), f"{part}_asked": str(asked)})
    per = statistics.median(times)
    p99 = sorted(times)[int(len(times) * 0.99) - 1]
    print(f"languages {','.join(i18n.LANGUAGES)}; detector built in {build_ms:.0f} ms; per detection median "
          f"{per:.3f} ms, p99 {p99:.3f} ms")
    print("RESULT " + " ".join(f"{key}={value}" for key, value in figures.items())
          + f" build_ms={build_ms:.0f} detect_median_ms={per:.3f} detect_p99_ms={p99:.3f}")


if __name__ == "__main__":
    main()
