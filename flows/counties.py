"""Kenya's 47 counties, and a loose matcher for the county a member types in a chat.

Members misspell, abbreviate, or give their town instead of their county ("Eldoret", "Thika",
"Kakuma"). `match_county` is either sure of one county or offers a short list to choose from. It is
pure and fast: every table is normalised once, at import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from rapidfuzz import fuzz, process

COUNTIES: tuple[str, ...] = (
    "Mombasa",
    "Kwale",
    "Kilifi",
    "Tana River",
    "Lamu",
    "Taita Taveta",
    "Garissa",
    "Wajir",
    "Mandera",
    "Marsabit",
    "Isiolo",
    "Meru",
    "Tharaka-Nithi",
    "Embu",
    "Kitui",
    "Machakos",
    "Makueni",
    "Nyandarua",
    "Nyeri",
    "Kirinyaga",
    "Murang'a",
    "Kiambu",
    "Turkana",
    "West Pokot",
    "Samburu",
    "Trans Nzoia",
    "Uasin Gishu",
    "Elgeyo-Marakwet",
    "Nandi",
    "Baringo",
    "Laikipia",
    "Nakuru",
    "Narok",
    "Kajiado",
    "Kericho",
    "Bomet",
    "Kakamega",
    "Vihiga",
    "Bungoma",
    "Busia",
    "Siaya",
    "Kisumu",
    "Homa Bay",
    "Migori",
    "Kisii",
    "Nyamira",
    "Nairobi",
)

# Other names members use for a county: abbreviations, spellings, and towns, estates and camps in it.
# A place that straddles two counties goes to one of them (Githurai to Kiambu), or is left out.
ALIASES: dict[str, tuple[str, ...]] = {
    "Mombasa": (
        "Msa", "Mombasa Island", "Nyali", "Likoni", "Bamburi", "Kisauni", "Changamwe", "Shanzu",
        "Mtongwe", "Magongo", "Jomvu", "Miritini", "Mikindani", "Port Reitz", "Kongowea",
    ),
    "Kwale": ("Ukunda", "Diani", "Msambweni", "Kinango", "Shimoni", "Tiwi"),
    "Kilifi": ("Malindi", "Watamu", "Mtwapa", "Mariakani", "Kaloleni", "Ganze", "Magarini", "Rabai"),
    "Tana River": ("Hola", "Garsen", "Tana"),
    "Lamu": ("Mpeketoni", "Witu", "Mokowe"),
    "Taita Taveta": ("Voi", "Wundanyi", "Taveta", "Mwatate", "Taita"),
    "Garissa": ("Dadaab", "Ifo", "Hagadera", "Dagahaley", "Masalani"),
    "Wajir": ("Habaswein",),
    "Mandera": ("El Wak", "Rhamu", "Takaba", "Banissa"),
    "Marsabit": ("Moyale", "Laisamis", "North Horr", "Loiyangalani", "Sololo"),
    "Isiolo": ("Garbatulla", "Merti"),
    "Meru": ("Maua", "Nkubu", "Timau"),
    "Tharaka-Nithi": ("Chuka", "Chogoria", "Kathwana", "Tharaka", "Nithi"),
    "Embu": ("Runyenjes", "Siakago"),
    "Kitui": ("Mwingi", "Mutomo"),
    "Machakos": ("Athi River", "Mavoko", "Mlolongo", "Syokimau", "Kangundo", "Matuu"),
    "Makueni": ("Wote", "Emali", "Kibwezi", "Mtito Andei", "Makindu", "Sultan Hamud"),
    "Nyandarua": ("Ol Kalou", "Njabini", "Ndaragwa"),
    "Nyeri": ("Karatina", "Othaya", "Mweiga", "Naro Moru"),
    "Kirinyaga": ("Kerugoya", "Kutus", "Sagana", "Wanguru", "Kagio", "Mwea"),
    "Murang'a": ("Kenol", "Kangema", "Makuyu", "Maragua", "Kandara"),
    "Kiambu": (
        "Thika", "Ruiru", "Juja", "Kikuyu", "Limuru", "Githurai", "Ruaka", "Githunguri", "Gatundu",
        "Karuri", "Kabete", "Kahawa Sukari", "Kinoo", "Wangige",
    ),
    "Turkana": ("Lodwar", "Lokichoggio", "Lokichogio", "Lokichar", "Kakuma", "Kalobeyei", "Lokitaung"),
    "West Pokot": ("Kapenguria", "Chepareria"),
    "Samburu": ("Maralal", "Baragoi", "Archers Post", "Wamba"),
    "Trans Nzoia": ("Kitale", "Endebess", "Kiminini"),
    "Uasin Gishu": ("Eldoret", "Burnt Forest", "Turbo", "Moiben", "Uasin", "Gishu"),
    "Elgeyo-Marakwet": ("Iten", "Kapsowar", "Tambach", "Elgeyo", "Marakwet"),
    "Nandi": ("Kapsabet", "Nandi Hills", "Mosoriot"),
    "Baringo": ("Kabarnet", "Marigat", "Eldama Ravine", "Mogotio"),
    "Laikipia": ("Nanyuki", "Rumuruti", "Nyahururu", "Doldol"),
    "Nakuru": (
        "Nku", "Nak", "Naivasha", "Gilgil", "Molo", "Njoro", "Mai Mahiu", "Elburgon", "Subukia", "Bahati",
    ),
    "Narok": ("Kilgoris", "Maasai Mara", "Masai Mara"),
    "Kajiado": (
        "Kitengela", "Ngong", "Ongata Rongai", "Rongai", "Namanga", "Loitokitok", "Kiserian", "Isinya",
    ),
    "Kericho": ("Litein", "Londiani", "Kipkelion"),
    "Bomet": ("Sotik", "Longisa", "Mulot"),
    "Kakamega": ("Mumias", "Malava", "Butere", "Lugari"),
    "Vihiga": ("Mbale", "Luanda", "Chavakali", "Hamisi"),
    "Bungoma": ("Webuye", "Kimilili", "Chwele"),
    "Busia": ("Malaba", "Nambale", "Port Victoria", "Funyula"),
    "Siaya": ("Bondo", "Ugunja", "Yala", "Ukwala"),
    "Kisumu": ("Ksm", "Kisumo", "Ahero", "Kondele", "Muhoroni", "Kombewa"),
    "Homa Bay": ("Mbita", "Oyugis", "Kendu Bay", "Ndhiwa", "Rusinga"),
    "Migori": ("Rongo", "Awendo", "Isebania", "Kehancha"),
    "Kisii": ("Keroka", "Ogembo", "Suneka", "Nyamache"),
    "Nyamira": ("Nyansiongo", "Ekerenyo"),
    "Nairobi": (
        "Nbi", "Nrb", "Nai", "Nairobbi", "Kawangware", "Kibera", "Kibra", "Eastleigh",
        "Kasarani", "Embakasi", "Westlands", "Langata", "Kilimani", "Kileleshwa", "Lavington", "Parklands",
        "South B", "South C", "Donholm", "Kayole", "Dandora", "Mathare", "Kariobangi", "Huruma",
        "Roysambu", "Zimmerman", "Pipeline", "Utawala", "Ruai", "Njiru", "Kangemi", "Dagoretti", "Riruta",
        "Gikomba", "Ngara", "Pangani", "Buruburu", "Makadara", "Kamukunji", "Starehe", "Mukuru",
        "Kahawa West", "Mwiki",
    ),
}

# Words around the county that say nothing about where ("I live in", "ninaishi kaunti ya", "city").
_FILLER_WORDS = frozenset(
    {
        "i", "im", "am", "live", "living", "stay", "staying", "based", "from", "at", "in", "the", "my",
        "is", "of", "near", "area", "county", "city", "town", "kenya",
        "kaunti", "ya", "wa", "mji", "jiji", "ninaishi", "naishi", "ninakaa", "nakaa", "mimi", "mi", "ni",
        "niko", "nipo", "huko", "hapa", "katika", "mkazi", "eneo", "mtaa", "na",
    }
)

# Everyday words that are, or look like, place names ("wote" is "all"): trusted alone, ignored in a sentence.
_EVERYDAY_WORDS = frozenset({"wote", "maua", "hola", "turbo", "kaka", "sawa", "pipeline"})

# Scores are rapidfuzz's 0-100 `fuzz.ratio` of normalised names. Sure needs a close match that no
# other county comes near: one typo in a six-letter name ("kiambo") scores 83, the next county ~60.
_SURE_SCORE = 80.0
_SURE_MARGIN = 10.0
_CANDIDATE_SCORE = 70.0
_WORD_CANDIDATE_SCORE = 80.0
# Aliases are many, short and less known, so ordinary words land near them ("market", "Marakwet").
_ALIAS_PENALTY = 8.0
# The start of a name: "ki" and "kis" only narrow the list, "nyer" is surely Nyeri; the start of an
# alias is only offered ("dada" is "sister", not Dadaab).
_SHORT_PREFIX_SCORES = {2: 70.0, 3: 75.0}
_PREFIX_SCORE = 85.0
_ALIAS_PREFIX_SCORE = 78.0
_MAX_CANDIDATES = 5
_MAX_CHARS = 300
_MAX_WORDS = 40
_MAX_LOOSE_CHARS = 24
_MIN_LOOSE_KEY = 4

# 2019 census, in thousands: only breaks ties between equally likely counties, since more members
# live in the bigger ones.
_POPULATION: dict[str, int] = {
    "Mombasa": 1208, "Kwale": 867, "Kilifi": 1454, "Tana River": 316, "Lamu": 144, "Taita Taveta": 341,
    "Garissa": 841, "Wajir": 781, "Mandera": 867, "Marsabit": 460, "Isiolo": 268, "Meru": 1546,
    "Tharaka-Nithi": 393, "Embu": 609, "Kitui": 1136, "Machakos": 1422, "Makueni": 988, "Nyandarua": 638,
    "Nyeri": 759, "Kirinyaga": 610, "Murang'a": 1057, "Kiambu": 2418, "Turkana": 927, "West Pokot": 621,
    "Samburu": 310, "Trans Nzoia": 990, "Uasin Gishu": 1163, "Elgeyo-Marakwet": 454, "Nandi": 886,
    "Baringo": 667, "Laikipia": 519, "Nakuru": 2162, "Narok": 1158, "Kajiado": 1118, "Kericho": 902,
    "Bomet": 876, "Kakamega": 1868, "Vihiga": 590, "Bungoma": 1671, "Busia": 894, "Siaya": 993,
    "Kisumu": 1156, "Homa Bay": 1132, "Migori": 1116, "Kisii": 1267, "Nyamira": 606, "Nairobi": 4397,
}

_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u02bc\u02bb`\u00b4")
_NOT_LETTERS = re.compile(r"[^a-z]+")


@dataclass(frozen=True)
class CountyMatch:
    """What a member's text names: one county when sure, else up to five likely ones, best first."""

    county: str | None
    candidates: tuple[str, ...] = ()


_NO_MATCH = CountyMatch(None)


def _words(text: str) -> list[str]:
    """The text's lower-case ASCII words, without accents, apostrophes, digits or filler words."""
    plain = unicodedata.normalize("NFKD", text[:_MAX_CHARS].casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).translate(_APOSTROPHES)
    return [word for word in _NOT_LETTERS.split(plain) if word and word not in _FILLER_WORDS]


def _key(text: str) -> str:
    """The normalised form a name is looked up by: its words run together ("homa bay" is "homabay")."""
    return "".join(_words(text))


def _build_names() -> dict[str, str]:
    """Every county name and alias, by key, pointing at its county."""
    names = {_key(county): county for county in COUNTIES}
    for county, aliases in ALIASES.items():
        for alias in aliases:
            names.setdefault(_key(alias), county)
    return names


@dataclass(frozen=True)
class _Table:
    """Normalised names and, at the same index, their counties; `penalty` comes off their fuzzy scores."""

    keys: tuple[str, ...]
    counties: tuple[str, ...]
    penalty: float


def _build_tables(names: dict[str, str]) -> tuple[_Table, _Table]:
    """The official names, and the aliases long enough to match loosely without matching everything."""
    official = tuple(_key(county) for county in COUNTIES)
    aliases = [
        (key, county) for key, county in names.items() if key not in official and len(key) >= _MIN_LOOSE_KEY
    ]
    return (
        _Table(official, COUNTIES, 0.0),
        _Table(tuple(key for key, _ in aliases), tuple(county for _, county in aliases), _ALIAS_PENALTY),
    )


_NAMES = _build_names()
_OFFICIAL_TABLE, _ALIAS_TABLE = _build_tables(_NAMES)
_COUNTY_SET = frozenset(COUNTIES)
_MOST_WORDS = max(len(_words(name)) for name in (*COUNTIES, *chain.from_iterable(ALIASES.values())))


def is_county(name: str) -> bool:
    """Whether the name is exactly one of the 47 official county names."""
    return name in _COUNTY_SET


def match_county(text: str) -> CountyMatch:
    """The county the member means, or the likely ones to choose from, or nothing plausible."""
    words = _words(text)[:_MAX_WORDS]
    query = "".join(words)
    if len(query) < 2:
        return _NO_MATCH
    if query in _NAMES:
        return CountyMatch(_NAMES[query])
    named = _named_in(words)
    if len(named) == 1:
        return CountyMatch(named[0])
    if named:
        return CountyMatch(None, tuple(named[:_MAX_CANDIDATES]))
    scores = _whole_scores(query)
    ranked = _ranked(scores)
    if ranked and _is_clear_winner(ranked, scores):
        return CountyMatch(ranked[0])
    if len(words) > 1:
        for county, score in _word_scores(words).items():
            scores[county] = max(scores.get(county, 0.0), score)
        ranked = _ranked(scores)
    return CountyMatch(None, tuple(ranked[:_MAX_CANDIDATES]))


def _named_in(words: Sequence[str]) -> list[str]:
    """Counties named exactly by a word or a run of words in a sentence, in the order they appear."""
    found: list[str] = []
    start = 0
    while start < len(words):
        size = _longest_name_at(words, start)
        if size:
            county = _NAMES["".join(words[start : start + size])]
            if county not in found:
                found.append(county)
            start += size
        else:
            start += 1
    return found


def _longest_name_at(words: Sequence[str], start: int) -> int:
    """How many words from `start` make the longest county name or alias there, or 0 if none does."""
    for size in range(min(_MOST_WORDS, len(words) - start), 0, -1):
        run = words[start : start + size]
        if size == 1 and run[0] in _EVERYDAY_WORDS:
            continue
        if "".join(run) in _NAMES:
            return size
    return 0


def _whole_scores(query: str) -> dict[str, float]:
    """How close the whole message is to each county's best name or alias, or to the start of one."""
    scores: dict[str, float] = {}
    if 3 <= len(query) <= _MAX_LOOSE_CHARS:
        for table in (_OFFICIAL_TABLE, _ALIAS_TABLE):
            _add_fuzzy(scores, query, table, _CANDIDATE_SCORE)
    _add_prefix(scores, query, _OFFICIAL_TABLE, _SHORT_PREFIX_SCORES.get(len(query), _PREFIX_SCORE))
    if len(query) >= _MIN_LOOSE_KEY:
        _add_prefix(scores, query, _ALIAS_TABLE, _ALIAS_PREFIX_SCORE)
    return scores


def _word_scores(words: Iterable[str]) -> dict[str, float]:
    """How close single words of a sentence are to each county's names: enough to offer one, never to pick it."""
    scores: dict[str, float] = {}
    for word in words:
        if len(word) >= _MIN_LOOSE_KEY and word not in _EVERYDAY_WORDS:
            for table in (_OFFICIAL_TABLE, _ALIAS_TABLE):
                _add_fuzzy(scores, word, table, _WORD_CANDIDATE_SCORE)
    return scores


def _add_fuzzy(scores: dict[str, float], query: str, table: _Table, cutoff: float) -> None:
    """Raise each county's score to the query's similarity with its names in the table, if at least `cutoff`."""
    for _, score, index in process.extract(
        query, table.keys, scorer=fuzz.ratio, score_cutoff=cutoff + table.penalty, limit=None
    ):
        county = table.counties[index]
        scores[county] = max(scores.get(county, 0.0), score - table.penalty)


def _add_prefix(scores: dict[str, float], query: str, table: _Table, score: float) -> None:
    """Raise to `score` each county with a name in the table that starts with the query ("nyer", "nyeri")."""
    for key, county in zip(table.keys, table.counties, strict=True):
        if key.startswith(query):
            scores[county] = max(scores.get(county, 0.0), score)


def _ranked(scores: dict[str, float]) -> list[str]:
    """Counties best first; equal scores go to the bigger county, where more members live."""
    return sorted(scores, key=lambda county: (-scores[county], -_POPULATION[county]))


def _is_clear_winner(ranked: Sequence[str], scores: dict[str, float]) -> bool:
    """Whether the best county is close enough, and far enough ahead of the next, to pick it."""
    best = scores[ranked[0]]
    runner_up = scores[ranked[1]] if len(ranked) > 1 else 0.0
    return best >= _SURE_SCORE and best - runner_up >= _SURE_MARGIN
