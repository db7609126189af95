"""Translations: the Babel catalogs in `locales/`, the vocabulary in every language, and rendering replies.

The catalogs are read straight from the `.po` files with Babel when the app starts, so a fresh clone
runs without a compile step; `flask translate` wraps pybabel's extract, update and compile.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from flows.base import Line, Msg, PerLanguage, Reply, Text
from flows.vocabulary import FIRST_WORD_INTENTS, GLOBAL_KEYWORDS, INTENTS, SMALL_TALK_INTENTS

ROOT = Path(__file__).resolve().parents[2]
LOCALES_DIR = ROOT / "locales"
LANGUAGES = ("en", "sw")
SOURCE_LANGUAGE = "en"
MAX_WHATSAPP_CHARS = 1600

# One catalog (domain) per area, so that work on one area never touches another's catalog.
DOMAINS: dict[str, tuple[str, ...]] = {
    "core": (
        "flows/base.py",
        "flows/form.py",
        "flows/router.py",
        "flows/vocabulary.py",
        "flows/language.py",
        "bot/core/engine.py",
        "bot/commands/registry.py",
        "bot/whatsapp/outbound.py",
    ),
    "signup": ("flows/signup.py", "flows/privacy.py", "flows/reconsent.py"),
    "staff": ("bot/commands/basics.py", "bot/commands/roles.py"),
    "questions": (
        "flows/question.py",
        "flows/smalltalk.py",
        "bot/support/faq.py",
        "flows/mydata.py",
        "bot/support/staff.py",
        "bot/support/tickets.py",
    ),
    "courses": (
        "flows/courses.py",
        "bot/courses/staff.py",
        "bot/certificates/service.py",
        "bot/courses/reminders.py",
    ),
    "stats": ("bot/stats/service.py", "bot/stats/staff.py", "bot/courses/stats.py"),
    "broadcasts": ("flows/broadcast.py", "bot/broadcasts/staff.py", "bot/whatsapp/sending.py"),
}


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation for one language, across every domain (fuzzy and empty entries left out)."""
    table: dict[str, str] = {}
    for domain in DOMAINS:
        path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                    table[message.id] = str(message.string)
    return table


def translate(lang: str, message_id: str) -> str:
    """The message in a language, falling back to the English message id."""
    return catalog(lang).get(message_id, message_id) if lang != SOURCE_LANGUAGE else message_id


def render_value(lang: str, value: Any, extra: Mapping[str, Any]) -> str:
    """A parameter value as text: lines are translated, sequences joined with commas."""
    if isinstance(value, Msg | Text):
        return render_line(lang, value, extra)
    if isinstance(value, PerLanguage):
        return value.values.get(lang) or value.values.get(SOURCE_LANGUAGE) or next(iter(value.values.values()), "")
    if isinstance(value, list | tuple):
        return ", ".join(render_value(lang, item, extra) for item in value)
    return str(value)


def render_line(lang: str, line: Line, extra: Mapping[str, Any] | None = None) -> str:
    """One line in a language, with its parameters filled in."""
    if isinstance(line, Text):
        return line.value
    extra = extra or {}
    params = {**extra, **{k: render_value(lang, v, extra) for k, v in line.params.items()}}
    template = translate(lang, line.id)
    try:
        return template % params
    except (KeyError, ValueError, TypeError):
        try:
            return line.id % params
        except (KeyError, ValueError, TypeError):
            return template


def render_reply(lang: str, reply: Reply, extra: Mapping[str, Any] | None = None) -> list[str]:
    """A reply as WhatsApp messages: usually one, split at line ends when over 1,600 characters."""
    lines = [render_line(lang, line, extra) for line in reply.lines]
    messages: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_WHATSAPP_CHARS and current:
            messages.append(current)
            candidate = line
        while len(candidate) > MAX_WHATSAPP_CHARS:
            messages.append(candidate[:MAX_WHATSAPP_CHARS])
            candidate = candidate[MAX_WHATSAPP_CHARS:]
        current = candidate
    if current:
        messages.append(current)
    return messages


def normalize(text: str) -> str:
    """Upper case, letters and digits only, single spaces: 'Stop!' and ' stop ' both become 'STOP'."""
    folded = unicodedata.normalize("NFKC", text).upper()
    return " ".join(re.sub(r"[^\w]+", " ", folded).replace("_", " ").split())


@dataclass(frozen=True)
class Vocabulary:
    """Every language's words for the global keywords and the intents."""

    keywords: Mapping[str, str]
    intents: Mapping[str, frozenset[str]]
    languages: Mapping[str, frozenset[str]]

    def keyword(self, norm: str) -> str | None:
        """The global keyword a whole message is, if any."""
        return self.keywords.get(norm)

    def intents_of(self, norm: str) -> frozenset[str]:
        """The intents a message matches, whole or (for some) by its first word."""
        first = norm.split(" ", 1)[0] if norm else ""
        found = set(self.intents.get(norm, ()))
        found.update(i for i in self.intents.get(first, ()) if i in FIRST_WORD_INTENTS and len(first) > 1)
        courtesies = self.small_talk(norm.split())
        if courtesies:
            found.update(courtesies | {"smalltalk"})
        return frozenset(found)

    def small_talk(self, words: list[str], longest: int = 4) -> frozenset[str]:
        """The small-talk intents a message is made of, phrase after phrase; empty unless all of it is."""
        reached: dict[int, frozenset[str]] = {0: frozenset()}
        for start in range(len(words)):
            if start not in reached:
                continue
            for end in range(start + 1, min(len(words), start + longest) + 1):
                kinds = self.intents.get(" ".join(words[start:end]), frozenset()) & SMALL_TALK_INTENTS
                if kinds and end not in reached:
                    reached[end] = reached[start] | kinds
        return reached.get(len(words), frozenset()) if words else frozenset()

    def language_of(self, norm: str) -> str | None:
        """The language a message is written in, when its words say so unambiguously."""
        words = {norm, norm.split(" ", 1)[0]} if norm else set()
        hits = {lang for word in words for lang in self.languages.get(word, ())}
        return hits.pop() if len(hits) == 1 else None


def split_words(text: str) -> Iterable[str]:
    """The normalised phrases of a '|'-separated vocabulary entry."""
    return (w for w in (normalize(part) for part in text.split("|")) if w)


@cache
def vocabulary() -> Vocabulary:
    """Build the vocabulary from the catalogs of every language."""
    keywords: dict[str, str] = {}
    intents: dict[str, set[str]] = {}
    seen_in: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        for name, entry in GLOBAL_KEYWORDS.items():
            for word in split_words(translate(lang, entry)):
                keywords.setdefault(word, name)
                seen_in.setdefault(word, set()).add(lang)
        for name, entry in INTENTS.items():
            for word in split_words(translate(lang, entry)):
                intents.setdefault(word, set()).add(name)
                seen_in.setdefault(word, set()).add(lang)
    languages = {word: frozenset(langs) for word, langs in seen_in.items() if len(langs) == 1}
    return Vocabulary(keywords, {k: frozenset(v) for k, v in intents.items()}, languages)


def reload() -> None:
    """Forget the loaded catalogs (after `flask translate update`, or in tests)."""
    catalog.cache_clear()
    vocabulary.cache_clear()
