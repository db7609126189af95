"""Translations: the Babel catalogs in `locales/`, the vocabulary in every language, and rendering replies.

The catalogs are read straight from the `.po` files with Babel when the app starts, so a fresh clone
runs without a compile step; `flask translate` wraps pybabel's extract, update and compile.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from flows.base import Line, Msg, PerLanguage, Reply, Text, fold_digits
from flows.vocabulary import (
    FIRST_WORD_INTENTS,
    GLOBAL_KEYWORDS,
    INTENTS,
    SHARED_GREETINGS,
    SMALL_TALK_INTENTS,
)

ROOT = Path(__file__).resolve().parents[2]
LOCALES_DIR = ROOT / "locales"
# The languages members are served in: the LANGUAGES setting (see `configure`); English, the language of the
# message ids, is the fallback of every message.
DEFAULT_LANGUAGES = ("en", "sw", "fr", "so", "ar")
LANGUAGES: tuple[str, ...] = DEFAULT_LANGUAGES
SOURCE_LANGUAGE = "en"
MAX_WHATSAPP_CHARS = 1600

# Unicode bidi controls: a right-to-left mark opens each line of a right-to-left reply, and every value put
# into a line (a member number, a URL, a course title) is isolated, so that a Latin word keeps its place.
RLM = "\u200f"
FSI = "\u2068"
PDI = "\u2069"

# One catalog (domain) per area, so that work on one area never touches another's catalog.
DOMAINS: dict[str, tuple[str, ...]] = {
    "core": (
        "flows/base.py",
        "flows/form.py",
        "flows/choices.py",
        "flows/router.py",
        "flows/vocabulary.py",
        "flows/language.py",
        "bot/conversation/engine.py",
        "bot/commands/registry.py",
        "bot/whatsapp/outbound.py",
    ),
    "signup": ("flows/signup.py", "flows/privacy.py", "flows/reconsent.py", "flows/correct.py"),
    "staff": ("bot/commands/basics.py", "bot/commands/roles.py", "bot/commands/suggest.py", "bot/support/staff.py"),
    "questions": (
        "flows/question.py",
        "flows/smalltalk.py",
        "bot/support/faq.py",
        "flows/mydata.py",
        "bot/whatsapp/documents.py",
        "bot/support/tickets.py",
    ),
    "courses": (
        "flows/courses.py",
        "bot/courses/staff.py",
        "bot/certificates/service.py",
        "bot/courses/reminders.py",
    ),
    "stats": ("bot/stats/service.py", "bot/stats/staff.py", "bot/stats/languages.py", "bot/courses/stats.py"),
    "broadcasts": ("flows/broadcast.py", "bot/broadcasts/staff.py", "bot/whatsapp/sending.py"),
}
# The domains members read: complete in every configured language. The others are read by staff only and may
# fall back to English in a language other than English and Swahili.
MEMBER_DOMAINS = ("core", "signup", "questions", "courses")
FULL_LANGUAGES = ("en", "sw")  # complete in every domain, staff ones included


def parse_languages(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The LANGUAGES setting ('en,sw,fr,so,ar') as codes, each one Babel knows; unset: the default list."""
    if value is None:
        return DEFAULT_LANGUAGES
    parts = value.split(",") if isinstance(value, str) else list(value)
    codes: list[str] = []
    for part in parts:
        code = part.strip().lower()
        if not code or code in codes:
            continue
        try:
            Locale.parse(code)
        except (ValueError, UnknownLocaleError) as error:
            raise ValueError(f"LANGUAGES: {code!r} is not a language code") from error
        codes.append(code)
    if not codes:
        raise ValueError("LANGUAGES: no language")
    return tuple(codes)


def configure(languages: Iterable[str]) -> None:
    """Serve these languages (from the LANGUAGES setting); the vocabulary is rebuilt when they change."""
    global LANGUAGES
    chosen = tuple(languages)
    if chosen != LANGUAGES:
        LANGUAGES = chosen
        vocabulary.cache_clear()


@cache
def locale(code: str) -> Locale:
    """Babel's data about a language (its names, its writing direction)."""
    return Locale.parse(code)


def autonym(code: str) -> str:
    """A language's name written in itself: English, Kiswahili, Français, Soomaali, العربية."""
    name = locale(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


class LanguageLabels(Mapping[str, str]):
    """The configured languages, code → name written in itself, for staff pages (any other code: itself)."""

    def __getitem__(self, code: str) -> str:
        if code not in LANGUAGES:
            raise KeyError(code)
        return autonym(code)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)


LANGUAGE_LABELS = LanguageLabels()


def is_rtl(code: str) -> bool:
    """Whether a language is written right to left."""
    return code in LANGUAGES and written_right_to_left(code)


@cache
def written_right_to_left(code: str) -> bool:
    """Babel's writing direction of a language, read once: every line of every reply asks."""
    return locale(code).character_order == "right-to-left"


def name_in(code: str, lang: str) -> str:
    """A language's name in another language (Babel's data: 'Kifaransa', 'arabe'), '' when unknown."""
    return locale(lang).languages.get(code, "")


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


@cache
def plural_catalog(lang: str) -> tuple[dict[str, tuple[str, ...]], Callable[[int], int]]:
    """singular msgid → its translated forms (complete ones only), and the language's rule choosing a form."""
    table: dict[str, tuple[str, ...]] = {}
    rule: Callable[[int], int] = gettext.c2py("(n != 1)")
    for domain in DOMAINS:
        path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            po = read_po(handle, locale=lang)
        rule = gettext.c2py(po.plural_expr)
        for message in po:
            if isinstance(message.id, tuple) and not message.fuzzy and isinstance(message.string, tuple) \
                    and all(message.string):
                table[message.id[0]] = tuple(str(form) for form in message.string)
    return table, rule


def count_of(value: Any) -> int:
    """The number a plural message's count parameter holds (a number, or a Text of digits); 0 otherwise."""
    text = value.value if isinstance(value, Text) else value
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return 0


def translate_plural(lang: str, singular: str, plural: str, n: int) -> str:
    """The form of a message with plural forms for the number n, falling back to English's two forms."""
    if lang != SOURCE_LANGUAGE:
        forms, rule = plural_catalog(lang)
        found = forms.get(singular)
        if found:
            return found[min(max(rule(n), 0), len(found) - 1)]
    return singular if n == 1 else plural


def translate(lang: str, message_id: str) -> str:
    """The message in a language, falling back to the English message id (a catalog missing or partial)."""
    return catalog(lang).get(message_id, message_id) if lang != SOURCE_LANGUAGE else message_id


def render_value(lang: str, value: Any, extra: Mapping[str, Any]) -> str:
    """A parameter value as text: lines are translated, sequences joined with commas."""
    if isinstance(value, Text):
        return value.value
    if isinstance(value, Msg):
        return fill(lang, value, extra)
    if isinstance(value, PerLanguage):
        return value.values.get(lang) or value.values.get(SOURCE_LANGUAGE) or next(iter(value.values.values()), "")
    if isinstance(value, list | tuple):
        return ", ".join(render_value(lang, item, extra) for item in value)
    return str(value)


def isolate(value: Any) -> Any:
    """A text value between first-strong isolates (its own direction inside a right-to-left line)."""
    return f"{FSI}{value}{PDI}" if isinstance(value, str) and value else value


def fill(lang: str, line: Line, extra: Mapping[str, Any] | None = None) -> str:
    """One line in a language with its parameters filled in (isolated in a right-to-left language)."""
    rtl = is_rtl(lang)
    if isinstance(line, Text):
        return isolate(line.value) if rtl else line.value
    extra = extra or {}
    params = {**extra, **{k: render_value(lang, v, extra) for k, v in line.params.items()}}
    if rtl:
        params = {k: isolate(v) for k, v in params.items()}
    if line.plural is not None:
        template = translate_plural(lang, line.id, line.plural,
                                    count_of({**extra, **line.params}.get(line.count or "")))
    else:
        template = translate(lang, line.id)
    try:
        return template % params
    except (KeyError, ValueError, TypeError):
        try:
            return line.id % params
        except (KeyError, ValueError, TypeError):
            return template


def render_line(lang: str, line: Line, extra: Mapping[str, Any] | None = None) -> str:
    """One line in a language, with its parameters filled in; in a right-to-left language each of its lines
    starts with a right-to-left mark, so that a phone shows it right to left whatever it starts with."""
    text = fill(lang, line, extra)
    if is_rtl(lang):
        return "\n".join(RLM + part for part in text.split("\n"))
    return text


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
    """Upper case, letters and digits only, single spaces: 'Stop!' and ' stop ' both become 'STOP'. Accents and
    other marks are dropped ('Arrêt' is 'ARRET', Arabic short vowels and tatweel go) and every script's digits are
    ASCII ('٠٠' is '00')."""
    decomposed = unicodedata.normalize("NFKD", fold_digits(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch != "\u0640")
    folded = unicodedata.normalize("NFKC", bare).upper()
    return " ".join(re.sub(r"[^\w]+", " ", folded).replace("_", " ").split())


@dataclass(frozen=True)
class Vocabulary:
    """Every language's words for the global keywords and the intents."""

    keywords: Mapping[str, str]
    intents: Mapping[str, frozenset[str]]
    languages: Mapping[str, frozenset[str]]
    # Words that would mean two keywords (in one language or across two): each word → its keywords → languages.
    collisions: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)

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


def own_words(lang: str, entry: str) -> str:
    """A vocabulary entry's words in one language: its translation (nothing when the catalog lacks it: the
    English words, which always work, then say nothing about the language)."""
    return entry if lang == SOURCE_LANGUAGE else catalog(lang).get(entry, "")


@cache
def vocabulary() -> Vocabulary:
    """Build the vocabulary from the catalogs of every configured language, and every language's names."""
    meanings: dict[str, dict[str, set[str]]] = {}  # word → keyword → languages
    intents: dict[str, set[str]] = {}
    seen_in: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        entries = {name: own_words(lang, entry) for name, entry in GLOBAL_KEYWORDS.items()}
        for code in LANGUAGES:  # every language's name in this one switches to it ('FRANÇAIS', 'KIARABU')
            key = f"language:{code}"
            entries[key] = "|".join((entries.get(key, ""), name_in(code, lang)))
        for name, entry in entries.items():
            for word in split_words(entry):
                meanings.setdefault(word, {}).setdefault(name, set()).add(lang)
                seen_in.setdefault(word, set()).add(lang)
        for name, entry in INTENTS.items():
            for word in split_words(own_words(lang, entry)):
                intents.setdefault(word, set()).add(name)
                seen_in.setdefault(word, set()).add(lang)
    for word in split_words(SHARED_GREETINGS):
        intents.setdefault(word, set()).add("greeting")
        seen_in.setdefault(word, set()).update(LANGUAGES)
    keywords = {word: min(names, key=lambda n: (min(LANGUAGES.index(lang) for lang in names[n]), n))
                for word, names in meanings.items()}
    collisions = {word: {name: frozenset(langs) for name, langs in names.items()}
                  for word, names in meanings.items() if len(names) > 1}
    languages = {word: frozenset(langs) for word, langs in seen_in.items() if len(langs) == 1}
    return Vocabulary(keywords, {k: frozenset(v) for k, v in intents.items()}, languages, collisions)


def reload() -> None:
    """Forget the loaded catalogs (after `flask translate update`, or in tests)."""
    catalog.cache_clear()
    plural_catalog.cache_clear()
    vocabulary.cache_clear()
