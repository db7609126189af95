"""How well the FAQ understands members: the labelled set in data/faq_questions.csv against data/faq.yaml
(pure: no database, no Redis).

    .venv/bin/python bench/faq_match.py [--part tune|holdout|both] [--rounds 20]

Each message goes the way the bot reads it at the menu: a request for a person, then small talk, then the
matcher. Per part it prints accuracy (the expected answer given; for a `none` row, no answer; for a
`smalltalk` row, a friendly reply), the false-ticket rate (rows that have an answer but were sent towards
a person, out of those rows), the wrong-answer rate (a wrong answer, or any answer to a `none` or
`smalltalk` row, out of all rows), how often the expected answer was among the two offered when the
matcher was unsure, and the time per match; then right and wrong per language of the set (its `language`
column). Targets on the held-out part: >= 90% right, <= 3% wrong.
The set's `part` column must follow its rule (sha256 of the lower-cased text, mod 3 == 0: holdout),
so nobody chooses which rows are held out. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core import i18n  # noqa: E402
from bot.support.faq import items_from_file  # noqa: E402
from flows import smalltalk  # noqa: E402
from flows.base import Input  # noqa: E402
from flows.faq import Knowledge, decide  # noqa: E402

NO_ANSWER = ("none", "smalltalk")


@dataclass
class Tally:
    """Counts for one part of the set."""

    rows: int = 0
    answerable: int = 0
    right: int = 0
    wrong: int = 0
    false_tickets: int = 0
    offered: int = 0
    seconds: float = 0.0
    matches: int = 0


def part_of(text: str) -> str:
    """The part a row belongs to, by rule."""
    return "holdout" if int(hashlib.sha256(text.strip().lower().encode()).hexdigest(), 16) % 3 == 0 else "tune"


def outcome(text: str, knowledge: Knowledge) -> tuple[str, tuple[str, ...], float]:
    """What the bot does with a message: 'person', 'smalltalk', 'choice' (with the offered keys) or an
    answer key; and the seconds the matcher took (0 when it was not needed)."""
    words = i18n.normalize(text)
    vocabulary = i18n.vocabulary()
    inp = Input(text=text, keyword=vocabulary.keyword(words), intents=vocabulary.intents_of(words))
    if inp.means("agent"):
        return "person", (), 0.0
    if smalltalk.kind_of(inp):
        return "smalltalk", (), 0.0
    start = time.perf_counter()
    decision = decide(text, knowledge)
    elapsed = time.perf_counter() - start
    if decision.answer is not None:
        return decision.answer.key, (), elapsed
    if decision.choices:
        return "choice", tuple(item.key for item in decision.choices), elapsed
    return "person", (), elapsed


def measure(rows: list[dict[str, str]], knowledge: Knowledge, rounds: int, show: bool) -> Tally:
    """Score one part of the set; with `show`, print each row the bot got wrong."""
    tally = Tally()
    for row in rows:
        expected = row["expected"]
        got, offered, _ = outcome(row["text"], knowledge)
        tally.rows += 1
        if expected not in NO_ANSWER:
            tally.answerable += 1
        if got == expected or (expected == "none" and got == "person"):
            tally.right += 1
        elif got not in ("person", "smalltalk", "choice"):
            tally.wrong += 1
        elif expected not in NO_ANSWER and got == "person":
            tally.false_tickets += 1
        if got == "choice" and expected in offered:
            tally.offered += 1
        if show and not (got == expected or (expected == "none" and got == "person")):
            print(f"  {expected:>18} <- {got:<18} {offered or ''} {row['text']!r}")
    texts = [row["text"] for row in rows]
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            decide(text, knowledge)
    tally.seconds, tally.matches = time.perf_counter() - start, rounds * len(texts)
    return tally


def main() -> None:
    """Read the set, check its split, score each part, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["tune", "holdout", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds over each part")
    parser.add_argument("--show", action="store_true", help="print the rows the bot gets wrong")
    parser.add_argument("--set", default=str(ROOT / "data" / "faq_questions.csv"))
    parser.add_argument("--faq", default=str(ROOT / "data" / "faq.yaml"))
    args = parser.parse_args()
    with open(args.set, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    misplaced = [row["text"] for row in rows if row["part"] != part_of(row["text"])]
    if misplaced:
        sys.exit(f"the part column does not follow its rule for: {misplaced[:5]}")
    knowledge = Knowledge(items_from_file(args.faq))
    parts = ["tune", "holdout"] if args.part == "both" else [args.part]
    result: list[str] = []
    for part in parts:
        selected = [row for row in rows if row["part"] == part]
        if args.show:
            print(f"{part}: rows not right")
        tally = measure(selected, knowledge, args.rounds, args.show)
        right, wrong = tally.right / tally.rows, tally.wrong / tally.rows
        false_tickets = tally.false_tickets / max(tally.answerable, 1)
        per_match_ms = tally.seconds / max(tally.matches, 1) * 1e3
        print(f"{part:>7}: {tally.rows} rows ({tally.answerable} with an answer) · right {right:.1%} · "
              f"wrong answers {wrong:.1%} · false tickets {false_tickets:.1%} · "
              f"right answer offered when unsure {tally.offered} · {per_match_ms:.3f} ms per match")
        result += [f"{part}_rows={tally.rows}", f"{part}_right={right:.3f}", f"{part}_wrong={wrong:.3f}",
                   f"{part}_false_tickets={false_tickets:.3f}", f"{part}_ms_per_match={per_match_ms:.3f}"]
        for language in dict.fromkeys(row["language"] for row in selected):
            own = measure([row for row in selected if row["language"] == language], knowledge, 0, False)
            print(f"{'':>9}{language:<6} {own.rows:>3} rows · right {own.right / own.rows:.1%} · "
                  f"wrong answers {own.wrong / own.rows:.1%}")
            result += [f"{part}_{language}_right={own.right / own.rows:.3f}",
                       f"{part}_{language}_wrong={own.wrong / own.rows:.3f}"]
    print("RESULT " + " ".join(result))


if __name__ == "__main__":
    main()
