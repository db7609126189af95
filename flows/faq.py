"""Matching a member's question to the curated answers, in English and Swahili at once (pure).

Each entry is scored by its questions (whole-message similarity) and its keywords (each keyword against
the same number of consecutive words of the message, so 'dews' finds 'dues' but 'football' does not
find 'call'); the best entry wins when its score reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process, utils


@dataclass(frozen=True)
class FaqItem:
    """One curated question and answer, in every language."""

    key: str
    questions: Mapping[str, str]
    answers: Mapping[str, str]
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Knowledge:
    """What the question flow knows: the entries, the threshold (0–100) and values for the answers'
    placeholders ({union}, {dues}, {contact})."""

    items: tuple[FaqItem, ...] = ()
    threshold: float = 85.0
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """The best entry for a question and its score."""

    item: FaqItem
    score: float


def word_runs(words: Sequence[str], size: int) -> list[str]:
    """Every run of `size` consecutive words."""
    return [" ".join(words[i:i + size]) for i in range(len(words) - size + 1)]


def score(text: str, item: FaqItem) -> float:
    """How well a (processed) message matches an entry, 0–100."""
    words = text.split()
    best = 0.0
    for question in item.questions.values():
        best = max(best, fuzz.ratio(text, utils.default_process(question)))
    for keyword in item.keywords:
        processed = utils.default_process(keyword)
        if not processed:
            continue
        runs = word_runs(words, len(processed.split())) or [text]
        found = process.extractOne(processed, runs, scorer=fuzz.ratio)
        if found:
            best = max(best, found[1])
    return best


def best_match(text: str, knowledge: Knowledge) -> Match | None:
    """The best entry for a message, or None when nothing reaches the threshold."""
    processed = utils.default_process(text or "")
    if not processed or not knowledge.items:
        return None
    scored = max(((score(processed, item), -index) for index, item in enumerate(knowledge.items)))
    value, negative_index = scored
    if value < knowledge.threshold:
        return None
    return Match(knowledge.items[-negative_index], value)


def answer_text(item: FaqItem, lang: str, values: Mapping[str, str]) -> str:
    """The answer in a language (English as the fallback), placeholders filled in."""
    text = item.answers.get(lang) or item.answers.get("en") or next(iter(item.answers.values()), "")
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
