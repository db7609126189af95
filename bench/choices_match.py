"""How well the choice matcher reads members' answers: the labelled set in data/choice_answers.csv against the
lists the flows show (pure: no database, no Redis).

    .venv/bin/python bench/choices_match.py [--rounds 20] [--show]

Each row is a list, what a member typed, and what it must give: option ids joined by '+', `ask` (the answer fits
several options: the bot asks which), or `none` (nothing chosen: the question is asked again). It prints the
share right, the wrong rate (an option chosen that the row does not expect: the one mistake a member cannot see),
the ask rate, the miss rate (nothing chosen where the row expects options), and the time per match, with every
language configured. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core import i18n  # noqa: E402
from bot.courses.service import SAMPLE_CATALOG, read_catalog  # noqa: E402
from flows import broadcast, courses, language, mydata, reconsent, router, signup  # noqa: E402
from flows.base import Choices, Ctx, MemberView, State  # noqa: E402
from flows.choices import Match, match  # noqa: E402

ANSWERS = ROOT / "data" / "choice_answers.csv"


def catalog() -> list[dict]:
    """The sample course catalog as the service reads it (titles, summaries, words), each course by its slug."""
    return [{**row, "id": row["slug"]} for row in read_catalog(SAMPLE_CATALOG)]


def lists() -> dict[str, Choices]:
    """The lists the set's rows name."""
    def ctx(member: bool) -> Ctx:
        view = MemberView(is_member=member, status="active" if member else "prospect", facts={"courses": catalog()})
        return Ctx(member=view, lang="en", now=datetime(2026, 12, 7, 9), translate=i18n.translate)

    member = ctx(True)
    candidates = State(signup.NAME, "county_pick", {"county_candidates": ["Kisumu", "Kisii", "Kilifi"]})
    return {
        "work": signup.WORK_CHOICES,
        "gender": signup.Gender().choices(),
        "community": signup.Community().choices(),
        "consent": signup.CONSENT_CHOICES,
        "sensitive": signup.SENSITIVE_CHOICES,
        "delete": mydata.DELETE_CHOICES,
        "reconsent": reconsent.AGREE_CHOICES,
        "menu_member": router.menu_choices(member),
        "menu_newcomer": router.menu_choices(ctx(False)),
        "language": language.choices(member),
        "courses": courses.course_choices(member, catalog()),
        "county": signup.county_choices(candidates),
        "stop": router.STOP_CHOICES,
        "send": broadcast.SEND_CHOICES,
    }


def outcome(found: Match, multiple: bool) -> str:
    """What the bot does with a match, in the set's terms: ids, `ask` or `none`."""
    if found.ask:
        return "ask"
    if found.sure and (multiple or len(found.ids) == 1):
        return "+".join(sorted(found.ids))
    return "none"


def main() -> None:
    """Read the set, match every row, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="times each row is matched, for the timing")
    parser.add_argument("--show", action="store_true", help="print every row that is not right")
    args = parser.parse_args()
    by_name = lists()
    languages = i18n.DEFAULT_LANGUAGES
    with ANSWERS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    counts = {"right": 0, "wrong": 0, "ask": 0, "missed": 0}
    for row in rows:
        choices = by_name[row["list"]]
        got = outcome(match(choices, row["answer"], languages=languages, translate=i18n.translate), choices.multiple)
        expected = "+".join(sorted(row["expected"].split("+")))
        if got == expected:
            counts["right"] += 1
        elif got not in ("ask", "none"):
            counts["wrong"] += 1
        elif got == "ask":
            counts["ask"] += 1
        else:
            counts["missed"] += 1
        if args.show and got != expected:
            print(f"{row['list']:>14}  {row['answer']!r:40} expected {expected:30} got {got}")
    started = time.perf_counter()
    for _ in range(args.rounds):
        for row in rows:
            match(by_name[row["list"]], row["answer"], languages=languages, translate=i18n.translate)
    per_match_us = (time.perf_counter() - started) / (args.rounds * len(rows)) * 1e6
    total = len(rows)
    expected_ask = sum(row["expected"] == "ask" for row in rows)
    print(f"{total} answers over {len(by_name)} lists ({expected_ask} expect a question back), "
          f"{len(languages)} languages")
    print(f"right {counts['right'] / total:.1%}, wrong {counts['wrong'] / total:.1%}, asked instead "
          f"{counts['ask'] / total:.1%}, missed {counts['missed'] / total:.1%}; {per_match_us:.0f} µs per match")
    print(f"RESULT answers={total} accuracy={counts['right'] / total:.3f} wrong_rate={counts['wrong'] / total:.3f} "
          f"ask_rate={counts['ask'] / total:.3f} miss_rate={counts['missed'] / total:.3f} "
          f"us_per_match={per_match_us:.0f}")


if __name__ == "__main__":
    main()
