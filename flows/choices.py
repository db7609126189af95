"""Choices: the options a flow offers as its own part of a reply, and the one matcher that reads the answer.

A flow that shows a list builds a `Choices` (stable ids, labels, and the words members use for each option,
translated like every message) and puts it in its reply with `Reply.of(...)`; the same value reads the
member's answer with `match`. The answer may be the option's number (in any script's digits), its label or
one of its words in any configured language, with accents and case folded and loose spelling, and for a
multi-choice list several of these in one message ("transcription and delivery", "1 and online work").

The matcher never guesses: a word that fits two options is an `ask` (the flow shows `which_one`), a word it
does not know is `unknown`, and a negation ("not a woman", "sio mwanamke") is never read as the option.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from flows.base import (
    N_,
    Choices,
    Ctx,
    Input,
    Msg,
    Part,
    PerLanguage,
    Reply,
    Result,
    State,
    Text,
    Translate,
    fold_digits,
    msg,
    untranslated,
)
from flows.form import WAY_OUT


@dataclass(frozen=True)
class Match:
    """What an answer names: `ids` (in the order named), `ask` (options a word fits equally: ask which one),
    `unknown` (words that name nothing)."""

    ids: tuple[str, ...] = ()
    ask: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()

    @property
    def sure(self) -> bool:
        """Whether the answer names options and nothing else."""
        return bool(self.ids) and not self.ask and not self.unknown

    @property
    def one(self) -> str | None:
        """The single option named for sure, or None."""
        return self.ids[0] if self.sure and len(self.ids) == 1 else None


# Scores are rapidfuzz's 0-100 `fuzz.ratio` of the folded texts run together, as for counties: one typo in a
# five-letter word scores 80, another option's word rarely comes within 10 of it.
SURE_SCORE = 80.0
SURE_MARGIN = 10.0
CANDIDATE_SCORE = 75.0
PREFIX_SCORE = 84.0  # the start of a word ("transcrip", "freelan"): sure when no other option starts so
MIN_LOOSE = 4  # words shorter than this match exactly or not at all ("man", "yes", "no")
MAX_CHARS = 300
MAX_WORDS = 40

# Words that say nothing about the choice, in the configured languages ("I do", "ninafanya kazi ya").
FILLER_WORDS = frozenset({
    "i", "im", "am", "a", "an", "the", "do", "doing", "is", "are", "my", "me", "it", "its", "in", "on", "of", "for",
    "with", "as", "work", "works", "working", "job", "jobs", "kind", "type", "option", "number", "choice", "choose",
    "pick", "please", "pls", "plz", "want", "select", "mostly", "also", "both", "only", "one", "like",
    "ni", "mimi", "mi", "nafanya", "ninafanya", "nafanyanga", "kazi", "ya", "wa", "za", "je", "nataka", "chaguo",
    "nambari", "namba", "tafadhali", "niko", "mimii", "mm",
    "suis", "fais", "le", "la", "les", "de", "du", "des", "un", "une", "travail", "moi",
    "waxaan", "ahay", "shaqo", "waan", "aniga",
    "انا", "أنا", "عمل", "اعمل", "في",
})
# Words that turn a sentence against an option: a part holding one never selects anything.
# (Short words that are also parts of others, "si", "ne", "ma", are left out: a typo makes them too easily.)
NEGATIONS = frozenset({
    "not", "dont", "doesnt", "never", "no", "nope", "hapana", "apana", "sio", "siyo", "sifanyi", "sitaki",
    "pas", "non", "maya", "aan", "لا", "ليس", "مش",
})
# Words between several choices ("transcription and delivery", "1 na 3").
CONNECTORS = frozenset({"and", "or", "plus", "na", "au", "ama", "pia", "et", "ou", "iyo", "و", "او", "أو"})
_SEPARATORS = re.compile(r"[,;/&+\n\u060c\u061b|]+")
_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u02bc\u02bb`\u00b4")
_NOT_WORD = re.compile(r"[^\w]+")
_PARAMETER = re.compile(r"%\([a-z_]+\)[sd]")
_BRACKETS = re.compile(r"\(([^)]*)\)")


def fold(text: str) -> list[str]:
    """The words of a text as the matcher compares them: every script's digits as ASCII, accents and other
    marks dropped, case folded, apostrophes gone ("Murang'a" is "muranga"), anything else a space."""
    decomposed = unicodedata.normalize("NFKD", fold_digits(text[:MAX_CHARS]))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch != "\u0640")
    plain = unicodedata.normalize("NFKC", bare).casefold().translate(_APOSTROPHES)
    return _NOT_WORD.sub(" ", plain).replace("_", " ").split()[:MAX_WORDS]


def _texts(value: Any, lang: str, translate: Translate) -> list[str]:
    """A label (or a parameter of one) as the texts it is shown as in a language: filled in, and without its
    parameters ("Language: English · Kiswahili" and "Language")."""
    if isinstance(value, Text):
        return [value.value]
    if isinstance(value, PerLanguage):
        return [v for v in value.values.values() if v]
    if isinstance(value, Msg):
        template = translate(lang, value.id)
        texts = [_PARAMETER.sub(" ", template)]
        if value.params:
            shown = {k: " ".join(_texts(v, lang, translate)[:1]) for k, v in value.params.items()}
            with contextlib.suppress(KeyError, ValueError, TypeError):  # a translation that lost a parameter
                texts.append(template % shown)
        return texts
    if isinstance(value, list | tuple):
        return [" ".join(text for item in value for text in _texts(item, lang, translate)[:1])]
    return [str(value)] if value not in (None, "") else []


def _phrases(label: str) -> list[str]:
    """A label and its parts members type alone: without its brackets, what the brackets hold, each side of
    a slash ("Data annotation / AI training")."""
    phrases = [label]
    inside = _BRACKETS.findall(label)
    outside = _BRACKETS.sub(" ", label)
    for part in (outside, *inside):
        phrases.extend(side for side in part.split("/"))
    return [p for p in phrases if p.strip()]


@dataclass(frozen=True)
class _Index:
    """Every option's folded keys (words run together) → the options they name, and each key's word count."""

    exact: Mapping[str, frozenset[str]]
    loose: Sequence[tuple[str, str]]  # (key, option id), keys of MIN_LOOSE characters or more
    longest: int
    numbers: Mapping[int, str]
    order: Mapping[str, int]
    key_words: frozenset[str]
    label_words: Mapping[str, frozenset[str]]  # single words of the labels ("assistance") → their options
    negative: frozenset[str]  # keys that hold a negation themselves ("prefernottosay")


_INDEX_CACHE: dict[tuple[str, tuple[str, ...], Translate], _Index] = {}


def _index(choices: Choices, languages: Sequence[str], translate: Translate) -> _Index:
    """The keys of every option in every language (built once per list, language set and catalogs)."""
    cache_key = (repr(choices.options), tuple(languages), translate)
    found = _INDEX_CACHE.get(cache_key)
    if found is not None:
        return found
    exact: dict[str, set[str]] = {}
    key_words: set[str] = set()
    label_words: dict[str, set[str]] = {}
    negative: set[str] = set()
    longest = 1
    for option in choices.options:
        texts: list[str] = [phrase for word in option.words for phrase in _phrases(word)]
        for lang in dict.fromkeys(("en", *languages)):
            for label in _texts(option.label, lang, translate):
                texts.extend(_phrases(label))
                for word in fold(label):
                    if len(word) >= MIN_LOOSE and not word.isdigit() and word not in FILLER_WORDS:
                        label_words.setdefault(word, set()).add(option.id)
            for synonyms in option.synonyms:
                texts.extend(translate(lang, synonyms).split("|"))
                texts.extend(synonyms.split("|"))
        for text in texts:
            words = fold(text)
            if words and not all(w in FILLER_WORDS for w in words):
                exact.setdefault("".join(words), set()).add(option.id)
                key_words.update(words)
                if any(w in NEGATIONS for w in words):
                    negative.add("".join(words))
                longest = max(longest, len(words))
    loose = [(key, option_id) for key, ids in exact.items() if len(key) >= MIN_LOOSE and not key.isdigit()
             for option_id in ids]
    index = _Index({k: frozenset(v) for k, v in exact.items()}, loose, longest,
                   {o.number: o.id for o in choices.options},
                   {o.id: n for n, o in enumerate(choices.options)}, frozenset(key_words),
                   {k: frozenset(v) for k, v in label_words.items()}, frozenset(negative))
    if len(_INDEX_CACHE) > 512:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[cache_key] = index
    return index


def match(choices: Choices, text: str, ctx: Ctx | None = None, *,
          languages: Sequence[str] | None = None, translate: Translate | None = None) -> Match:
    """What the member's answer names among the choices (see `Match`); the languages and catalogs are the
    context's unless given."""
    if ctx is not None:
        languages = languages or ctx.settings.languages
        translate = translate or ctx.translate
    index = _index(choices, languages or ("en",), translate or untranslated)
    words = fold(text)
    if not words:
        return Match()
    whole = _exact(index, words)
    if whole is not None:
        return _single(choices, whole)
    if all(w.isdigit() or w in CONNECTORS for w in words):
        return _single(choices, _numbers(index, [w for w in words if w.isdigit()]))
    found = [_part(index, part) for part in _parts(text)]
    combined = Match(
        ids=tuple(dict.fromkeys(i for m in found for i in m.ids)),
        ask=tuple(dict.fromkeys(i for m in found for i in m.ask)),
        unknown=tuple(u for m in found for u in m.unknown),
    )
    return _single(choices, _settle(index, words, combined, unnegated=_unnegated(index, words)))


def _unnegated(index: _Index, words: Sequence[str]) -> str | None:
    """The words run together without their negations ("sio mwanamke": "mwanamke"), or None when they hold
    none (a negation that is an option's own word, "Prefer not to say", does not count)."""
    kept = [w for w in words if w not in NEGATIONS or w in index.key_words]
    return "".join(kept) if len(kept) < len(words) else None


def _single(choices: Choices, found: Match) -> Match:
    """A single-choice list answered with several options: ask which one of them."""
    if choices.multiple or len(found.ids) <= 1:
        return found
    return Match(ask=tuple(dict.fromkeys((*found.ids, *found.ask))), unknown=found.unknown)


def _exact(index: _Index, words: Sequence[str]) -> Match | None:
    """The options a text names exactly (one: sure; several: ask), or None; a single word may be one word of
    labels ("assistance", "mtandaoni" of two labels: ask)."""
    ids = index.exact.get("".join(words)) or (index.label_words.get(words[0]) if len(words) == 1 else None)
    if not ids:
        return None
    ordered = tuple(sorted(ids, key=lambda i: index.order[i]))
    return Match(ids=ordered) if len(ordered) == 1 else Match(ask=ordered)


def _numbers(index: _Index, numbers: Sequence[str]) -> Match:
    """Options by their numbers; a number not in the list is unknown."""
    ids: list[str] = []
    unknown: list[str] = []
    for number in numbers:
        option_id = index.numbers.get(int(number)) if len(number) <= 4 else None
        if option_id is None:
            unknown.append(number)
        elif option_id not in ids:
            ids.append(option_id)
    return Match(ids=tuple(ids), unknown=tuple(unknown))


def sure_score(length: int) -> float:
    """The score at which a key of this length is surely meant: one typo up to 15 letters, two up to 31, then
    three (so that an extra word, "futa taarifa zangu", is not read as the words after it)."""
    typos = 1 if length < 16 else 2 if length < 32 else 3
    return max(SURE_SCORE, 100.0 * (1 - (typos + 0.5) / length))


def _scores(index: _Index, query: str, unnegated: str | None = None) -> dict[str, tuple[float, bool]]:
    """How close a text (words run together) is to each option's best key, or to the start of one, and whether
    that is close enough to be sure. A text with a negation (`unnegated`: the text without it) is close to a key
    only where the negation is part of the match: "sio mwanamke" is closer to "mwanamke" without "sio", so it
    is not the woman; "Fiverr no kadhalika" is closer to "Fiverr na kadhalika" with its "no" (a typo)."""
    scores: dict[str, tuple[float, bool]] = {}
    if len(query) < MIN_LOOSE:
        return scores
    for key, option_id in index.loose:
        score = fuzz.ratio(query, key)
        if unnegated is not None and key not in index.negative and fuzz.ratio(unnegated, key) >= score:
            continue
        enough = score >= sure_score(len(key))
        if key.startswith(query) and score < PREFIX_SCORE:
            score, enough = PREFIX_SCORE, True
        if score > scores.get(option_id, (0.0, False))[0]:
            scores[option_id] = (score, enough)
    return scores


def _loose(index: _Index, query: str, unnegated: str | None = None) -> Match:
    """The option a text spells loosely: sure when close and well ahead of the next; else the close ones."""
    scores = _scores(index, query, unnegated)
    ranked = sorted(scores, key=lambda i: (-scores[i][0], index.order[i]))
    if not ranked or scores[ranked[0]][0] < CANDIDATE_SCORE:
        return Match()
    best, enough = scores[ranked[0]]
    runner_up, also_close = scores[ranked[1]] if len(ranked) > 1 else (0.0, False)
    if enough and not also_close and best - runner_up >= SURE_MARGIN:  # one typo from two options: ask
        return Match(ids=(ranked[0],))
    close = [i for i in ranked if scores[i][1] or scores[i][0] >= max(CANDIDATE_SCORE, best - SURE_MARGIN)]
    return Match(ask=tuple(sorted(close, key=lambda i: index.order[i])))


def _parts(text: str) -> list[list[str]]:
    """The text cut at separators (commas, slashes) and connector words ('and', 'na')."""
    parts: list[list[str]] = []
    for chunk in _SEPARATORS.split(text[:MAX_CHARS]):
        current: list[str] = []
        for word in fold(chunk):
            if word in CONNECTORS:
                if current:
                    parts.append(current)
                current = []
            else:
                current.append(word)
        if current:
            parts.append(current)
    return parts


def _part(index: _Index, words: Sequence[str]) -> Match:
    """One part of an answer: exactly a key or numbers, a run of keys among filler, or loosely one option."""
    whole = _exact(index, words)
    if whole is not None:
        return whole
    if all(w.isdigit() for w in words):
        return _numbers(index, words)
    unnegated = _unnegated(index, words)
    if unnegated is not None:
        spelled = _loose(index, "".join(words), unnegated)
        return spelled if spelled.ids or spelled.ask else Match(unknown=(" ".join(words),))
    return _settle(index, words, _segments(index, words), unnegated=None)


def _settle(index: _Index, words: Sequence[str], found: Match, *, unnegated: str | None) -> Match:
    """Words read one by one, checked against the whole text spelt loosely: words that name options for sure
    stand unless the whole text is spelt like one of them or another option ("me cours" is "mes cours", my courses, more than
    "cours", courses): then ask among them. Words not sure of give way to a whole text spelt like an option."""
    joined = "".join(words)
    loose = _loose(index, joined, unnegated)
    if found.sure:
        if loose.sure and loose.ids[0] in found.ids and len(found.ids) > 1:
            # Spelt like one option's whole label, yet its words name others too: ask rather than choose them all.
            return Match(ask=_ordered(index, set(found.ids)))
        rivals = [i for i, (_, enough) in _scores(index, joined, unnegated).items() if enough and i not in found.ids]
        return found if not rivals else Match(ask=_ordered(index, {*found.ids, *rivals}))
    if loose.sure and {*found.ids, *found.ask} <= set(loose.ids):
        return loose
    if loose.ids or loose.ask:  # spelt like one option, or a typo that reads as another one: ask among them all
        return Match(ask=_ordered(index, {*loose.ids, *loose.ask, *found.ids, *found.ask}))
    return found


def _ordered(index: _Index, ids: set[str]) -> tuple[str, ...]:
    """Option ids in the list's order."""
    return tuple(sorted(ids, key=lambda i: index.order[i]))


def _segments(index: _Index, words: Sequence[str]) -> Match:
    """The words read from the left: the longest run that is a key, a number, a filler word, or a word spelt
    loosely like an option (offered, not chosen)."""
    ids: list[str] = []
    ask: list[str] = []
    unknown: list[str] = []
    start = 0
    while start < len(words):
        size, found = _longest_key_at(index, words, start)
        if found is not None:
            ids.extend(i for i in found.ids if i not in ids)
            ask.extend(i for i in found.ask if i not in ask)
            start += size
            continue
        word = words[start]
        start += 1
        if word in FILLER_WORDS:
            continue
        if word.isdigit():
            by_number = _numbers(index, [word])
            ids.extend(i for i in by_number.ids if i not in ids)
            unknown.extend(by_number.unknown)
            continue
        # One word among others spelt like an option is only offered ("reation" of "création de contenu" is
        # also close to "redaction"): the whole part spelt loosely decides, else the member is asked.
        spelled = _loose(index, word) if len(word) >= MIN_LOOSE else Match()
        ask.extend(i for i in (*spelled.ids, *spelled.ask) if i not in ask)
        if not spelled.ids and not spelled.ask:
            unknown.append(word)
    return Match(tuple(ids), tuple(ask), tuple(unknown))


def _longest_key_at(index: _Index, words: Sequence[str], start: int) -> tuple[int, Match | None]:
    """The longest run of words from `start` that is exactly an option's key, and what it names."""
    for size in range(min(index.longest, len(words) - start), 0, -1):
        run = words[start:start + size]
        if size == 1 and run[0].isdigit():
            continue
        found = _exact(index, run)
        if found is not None:
            return size, found
    return 0, None


WHICH_ONE = msg(N_("Which one do you mean? Reply with its number:"))
WHICH_ONES = msg(N_("Which of these do you mean? Reply with all the numbers you choose, for example: %(example)s"))
NOT_UNDERSTOOD = N_("I did not understand \u201c%(words)s\u201d.")


def which_one(choices: Choices, found: Match) -> tuple[Part, ...]:
    """The lines that ask which option an unsure answer meant: the options it fits, with their own numbers
    (so that the answer reads against the whole list), and for a multi-choice list what was understood."""
    close = choices.only(found.ask)
    if choices.multiple:
        chosen = [o.number for o in choices.options if o.id in found.ids]
        example = ", ".join(str(n) for n in [*chosen, close.options[0].number])
        return (msg(WHICH_ONES.id, example=Text(example)), close)
    return (WHICH_ONE, close)


def not_understood(found: Match) -> tuple[Msg, ...]:
    """A line naming the words the matcher did not know (none when it knew them all)."""
    if not found.unknown:
        return ()
    return (msg(NOT_UNDERSTOOD, words=Text(" ".join(found.unknown)[:40])),)


def read(choices: Choices, ctx: Ctx, inp: Input) -> Match:
    """What a typed message names among the choices (nothing for a photo or a location). A tapped button whose
    payload is an option's id chooses it; a one-word message that the engine's vocabulary reads as an option's
    intent ("ndiyo": yes) too."""
    if inp.button and inp.button in choices.ids:
        return Match(ids=(inp.button,))
    if inp.kind != "text":
        return Match()
    found = match(choices, inp.text, ctx)
    if found.sure or len(fold(inp.text)) != 1:
        return found
    meant = [o.id for o in choices.options if o.intent and inp.means(o.intent)]
    return Match(ids=tuple(meant)) if len(meant) == 1 else found


def ask_which(state: State, choices: Choices, found: Match) -> Result:
    """An answer that fits several options: ask which (not a miss: the member gave a real answer)."""
    return Result(state, (Reply.of(*which_one(choices, found), WAY_OUT),))
