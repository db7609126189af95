"""What staff type to narrow figures or a broadcast: counties and kinds of work, read word by word, nothing dropped.

A county is read as sign-up reads it (names, abbreviations, towns and camps, loose spelling: `match_county`);
a kind of work by its label in any language, its synonyms ("boda", "delivery", "freelancing") and their
plurals. Every other word is kept as not understood, with the closest kinds of work or counties to suggest,
so that the caller can refuse rather than answer for fewer filters than were typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from flows.counties import ALIASES, COUNTIES, match_county

# The words staff use for each kind of work besides its labels (English, Kiswahili, Sheng).
WORK_SYNONYMS: dict[str, tuple[str, ...]] = {
    "transcription": ("transcription", "transcribing", "transcriber", "transcribers", "unukuzi", "kuandika sauti"),
    "data_annotation": ("data annotation", "annotation", "annotator", "annotators", "annotating", "data labelling",
                        "data labeling", "labelling", "labeling", "ai training", "data labellers"),
    "online_freelancing": ("freelancing", "freelance", "freelancer", "freelancers", "online freelancing",
                           "upwork", "fiverr", "online work", "kazi za mtandaoni", "kazi ya mtandaoni"),
    "virtual_assistance": ("virtual assistance", "virtual assistant", "virtual assistants", "va"),
    "ride_delivery": ("ride hailing", "ridehailing", "delivery", "deliveries", "rider", "riders", "boda",
                      "boda boda", "bodaboda", "boda bodas", "driver", "drivers", "uber", "bolt", "glovo",
                      "taxi", "usafiri", "madereva", "dereva"),
    "content_creation": ("content creation", "content", "content creator", "content creators", "creator",
                         "creators", "youtube", "tiktok", "influencer"),
}
# Words that say nothing about which members ("in", "and", "county", "kaunti", "wanachama").
FILLER = frozenset({"in", "and", "or", "for", "of", "the", "from", "at", "county", "counties", "members", "member",
                    "workers", "na", "au", "ya", "wa", "za", "kwa", "kaunti", "wanachama", "mwanachama"})
LONGEST_PHRASE = 4
SUGGEST_SCORE = 70.0
MAX_SUGGESTIONS = 3


def words_of(text: str) -> list[str]:
    """Lower-case words, accents and punctuation gone: 'Ride-hailing, Mombasa' → ['ride', 'hailing', 'mombasa']."""
    decomposed = unicodedata.normalize("NFKD", text.replace("'", "").replace("\u2019", ""))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^\w]+", " ", bare).replace("_", " ").split()


def key_of(text: str) -> str:
    """A place name as one key: 'Homa Bay' and 'homabay' are the same."""
    return "".join(words_of(text))


COUNTY_KEYS: dict[str, str] = {key_of(name): name for name in COUNTIES}
for _county, _aliases in ALIASES.items():
    for _alias in _aliases:
        COUNTY_KEYS.setdefault(key_of(_alias), _county)


def work_phrases(labels: Mapping[str, str]) -> dict[str, str]:
    """Every phrase that names a kind of work → its key: the labels given (each language's, by the caller),
    the synonyms above, and the keys themselves."""
    phrases = {" ".join(words_of(label)): key for label, key in labels.items() if words_of(label)}
    for key, synonyms in WORK_SYNONYMS.items():
        phrases.setdefault(" ".join(words_of(key)), key)
        for synonym in synonyms:
            phrases.setdefault(" ".join(words_of(synonym)), key)
    return phrases


@dataclass(frozen=True)
class Unknown:
    """A word not understood, and what it may have meant (kinds of work by key, counties by name)."""

    word: str
    works: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    """What the words named, in the order typed (no repeats), and every word not understood."""

    counties: tuple[str, ...] = ()
    works: tuple[str, ...] = ()
    unknown: tuple[Unknown, ...] = ()


def read_filters(text: str, phrases: Mapping[str, str]) -> Filters:
    """Read counties and kinds of work from staff's words (`phrases` from `work_phrases`), longest phrase
    first; a word that is neither, nor a filler word, is kept as not understood with suggestions."""
    words = words_of(text)
    counties: list[str] = []
    works: list[str] = []
    unknown: list[Unknown] = []
    i = 0
    while i < len(words):
        found = phrase_at(words, i, phrases)
        if found is not None:
            kind, value, i = found
            chosen = works if kind == "work" else counties
            if value not in chosen:
                chosen.append(value)
            continue
        if words[i] not in FILLER:
            unknown.append(guess(words[i], phrases))
        i += 1
    return Filters(tuple(counties), tuple(works), tuple(unknown))


def phrase_at(words: list[str], start: int, phrases: Mapping[str, str]) -> tuple[str, str, int] | None:
    """The kind of work or county named by the longest run of words from `start`: ('work' | 'county', its
    key or name, the index after it). A single word may also be a county's loose spelling, as sign-up reads
    it; a longer run must be a name exactly."""
    for end in range(min(len(words), start + LONGEST_PHRASE), start, -1):
        phrase = " ".join(words[start:end])
        singular = phrase[:-1] if phrase.endswith("s") else phrase
        for candidate in (phrase, singular):
            if candidate in phrases:
                return "work", phrases[candidate], end
        county = COUNTY_KEYS.get(key_of(phrase))
        if county is not None:
            return "county", county, end
    match = match_county(words[start])
    if match.county is not None:
        return "county", match.county, start + 1
    return None


def guess(word: str, phrases: Mapping[str, str]) -> Unknown:
    """A word not understood, with the kinds of work and counties it is closest to."""
    close = process.extract(word, list(phrases), scorer=fuzz.ratio, score_cutoff=SUGGEST_SCORE, limit=5)
    works = tuple(dict.fromkeys(phrases[phrase] for phrase, _, _ in close))[:MAX_SUGGESTIONS]
    counties = () if works else match_county(word).candidates[:MAX_SUGGESTIONS]
    return Unknown(word, works, counties)
