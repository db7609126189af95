"""How long matching one message against the curated answers takes (pure, no database).

    PYTHONPATH=. python bench/faq_match.py [--rounds 2000]

Prints the time per match, and how many of the sample questions find an answer.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bot.services.faq import read_file
from flows.faq import FaqItem, Knowledge, best_match

SAMPLES = [
    "How much are the dues?", "ada ni kiasi gani?", "who can join", "naweza kujiunga?",
    "my account was deactivated by the platform", "sijalipwa na mteja", "nataka kozi",
    "where is the office", "hwo much are the dews", "Can the union lend me money for a motorbike?",
    "is there a meeting on saturday", "Nataka mkopo",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    rows = read_file(Path(__file__).resolve().parent.parent / "data" / "faq.yaml")
    items = tuple(
        FaqItem(row["key"], {"en": row["question_en"], "sw": row["question_sw"]},
                {"en": row["answer_en"], "sw": row["answer_sw"]},
                tuple(w for w in f"{row['keywords_en']}|{row['keywords_sw']}".split("|") if w))
        for row in rows
    )
    knowledge = Knowledge(items)
    start = time.perf_counter()
    for i in range(args.rounds):
        best_match(SAMPLES[i % len(SAMPLES)], knowledge)
    elapsed = time.perf_counter() - start
    found = sum(best_match(q, knowledge) is not None for q in SAMPLES)
    print(f"entries: {len(items)}, keywords: {sum(len(i.keywords) for i in items)}")
    print(f"per match: {elapsed / args.rounds * 1e6:.0f} µs over {args.rounds} matches")
    print(f"answered: {found}/{len(SAMPLES)} sample questions (threshold {knowledge.threshold:g})")


if __name__ == "__main__":
    main()
