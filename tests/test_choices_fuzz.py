"""The choice matcher against every list the flows show: any option's label (5 characters or more), in any
configured language, with one typo, selects that option or asks which one from a list that holds it, and never
selects another option."""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.core import i18n
from flows import courses, language, mydata, reconsent, router, signup
from flows.base import Choices, Ctx, MemberView
from flows.choices import _index, fold, match

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))


def catalog() -> list[dict]:
    """The sample course catalog (data/courses.csv), as the engine gives it to the flows."""
    with (ROOT / "data" / "courses.csv").open(encoding="utf-8") as handle:
        return [{"id": n, "slug": row["slug"], "titles": {"en": row["title_en"], "sw": row["title_sw"]},
                 "summaries": {"en": row["summary_en"], "sw": row["summary_sw"]}}
                for n, row in enumerate(csv.DictReader(handle), 1)]


def context(*, member: bool, lang: str = "en") -> Ctx:
    """A member's (or a newcomer's) context with the real catalogs."""
    view = MemberView(is_member=member, status="active" if member else "prospect", facts={"courses": catalog()})
    return Ctx(member=view, lang=lang, now=datetime(2026, 12, 7, 9), translate=i18n.translate)


def every_list() -> list[tuple[str, Choices]]:
    """Every list a member can be shown (the county list with a likely set of candidates)."""
    ctx = context(member=True)
    return [
        ("consent", signup.CONSENT_CHOICES),
        ("work", signup.WORK_CHOICES),
        ("sensitive", signup.SENSITIVE_CHOICES),
        ("gender", signup.Gender().choices()),
        ("community", signup.Community().choices()),
        ("county", signup.county_choices(signup.State("signup", "county_pick",
                                                      {"county_candidates": ["Kisumu", "Kisii", "Kilifi"]}))),
        ("delete", mydata.DELETE_CHOICES),
        ("reconsent", reconsent.AGREE_CHOICES),
        ("menu (member)", router.menu_choices(ctx)),
        ("menu (newcomer)", router.menu_choices(context(member=False))),
        ("language", language.choices(ctx)),
        ("courses", courses.course_choices(ctx, courses.courses_of(ctx))),
    ]


LISTS = every_list()
LANGUAGES = i18n.DEFAULT_LANGUAGES


def labels() -> list[tuple[str, Choices, str, str, str]]:
    """(list, choices, option id, language, label as shown) for every label of 5 characters or more."""
    found = []
    for name, choices in LISTS:
        for option in choices.options:
            for lang in LANGUAGES:
                shown = i18n.fill(lang, option.label).replace(i18n.FSI, "").replace(i18n.PDI, "")
                if len(shown) >= 5:
                    found.append((name, choices, option.id, lang, shown))
    return found


LABELS = labels()


def typo(text: str, data: st.DataObject) -> str:
    """The text with one character replaced, added or left out (a letter of its own or of the Latin alphabet)."""
    kind = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    alphabet = sorted(set(text) | set("abcdefghijklmnopqrstuvwxyz"))
    at = data.draw(st.integers(0, len(text) - (0 if kind == "insert" else 1)))
    if kind == "delete":
        return text[:at] + text[at + 1:]
    char = data.draw(st.sampled_from(alphabet))
    return text[:at] + char + text[at + (kind == "replace"):]


def test_every_label_as_it_is_shown_selects_its_option():
    for name, choices, option_id, lang, shown in LABELS:
        found = match(choices, shown, languages=LANGUAGES, translate=i18n.translate)
        assert found.one == option_id or option_id in found.ask, (name, lang, shown, found)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.data())
def test_a_label_with_one_typo_selects_its_option_or_asks_never_another(data):
    name, choices, option_id, lang, shown = data.draw(st.sampled_from(LABELS))
    typed = typo(shown, data)
    # A typo that spells another option's own label or word exactly is that option's answer, not a typo
    # (Arabic "دوراتي", my courses, without its last letter is "دورات", courses).
    spelled = _index(choices, LANGUAGES, i18n.translate).exact.get("".join(fold(typed)), frozenset())
    assume(not spelled - {option_id})
    found = match(choices, typed, languages=LANGUAGES, translate=i18n.translate)
    others = [i for i in found.ids if i != option_id]
    assert not (found.sure and others), f"{name}/{lang}: {typed!r} selected {found.ids}, meant {option_id}"
    assert found.one == option_id or option_id in found.ask, f"{name}/{lang}: {typed!r} gave {found}"
