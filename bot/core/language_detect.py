"""The language of a first message: the words members type (the vocabulary of every configured language) and
Lingua's statistical models, restricted to the configured languages, shipped in its wheel and run offline.

`detect` returns a language code, or None when the message is too short or too mixed to tell: the member is
then answered in DEFAULT_LANGUAGE and offered the list of languages. Only Arabic script selects Arabic
("Salam", "Salaam", "Asalaam aleikum" in Latin letters are Kenyan greetings too).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from lingua import ConfidenceValue, IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from bot.core import i18n

# The scripts a language is written in, when that alone tells it among the configured ones.
SCRIPTS: dict[str, re.Pattern[str]] = {
    "ar": re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"),
}
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# How sure Lingua must be, and how many letters a message needs, before its guess counts.
MIN_CONFIDENCE = 0.7
ONE_WORD_CONFIDENCE = 0.85
MIN_MARGIN = 0.2  # three words or more: a lead of this much over the second language also counts
MIN_LETTERS = 5


def lingua_language(code: str) -> Language | None:
    """Lingua's language for an ISO 639-1 code, None when Lingua has no model for it."""
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError):
        return None


@cache
def detector(languages: tuple[str, ...]) -> tuple[LanguageDetector, dict[Language, str]] | None:
    """One Lingua detector per set of languages, built once, with its models loaded (a few MB each); None with
    fewer than two languages Lingua knows. Languages told by their script are left to the script."""
    found = {lingua_language(code): code for code in languages if code not in SCRIPTS}
    known = {language: code for language, code in found.items() if language is not None}
    if len(known) < 2:
        return None
    built = LanguageDetectorBuilder.from_languages(*known).with_preloaded_language_models().build()
    return built, known


def warm() -> None:
    """Build the detector for the configured languages now (it takes a second or two), not at a first message."""
    detector(i18n.LANGUAGES)


def by_script(text: str, languages: tuple[str, ...]) -> str | None:
    """The language whose script most of the words are in, when that script tells one language."""
    words = re.findall(r"\w+", text)
    for code, pattern in SCRIPTS.items():
        if code in languages:
            own = sum(1 for word in words if pattern.search(word))
            if own and own >= len(words) - own:
                return code
    return None


def sure(values: list[ConfidenceValue], words: int) -> bool:
    """Whether Lingua's best guess counts: surer the shorter the message (one word says little; a proper name
    looks like any language)."""
    if not values:
        return False
    best = values[0].value
    margin = best - (values[1].value if len(values) > 1 else 0.0)
    if words == 1:
        return best >= ONE_WORD_CONFIDENCE
    return best >= MIN_CONFIDENCE or (words >= 3 and best >= 0.5 and margin >= MIN_MARGIN)


def by_model(text: str, languages: tuple[str, ...]) -> str | None:
    """Lingua's language for a message long enough, when it is sure enough."""
    built = detector(languages)
    if built is None or len(LATIN.findall(text)) < MIN_LETTERS:
        return None
    lingua, codes = built
    values = lingua.compute_language_confidence_values(text)
    return codes.get(values[0].language) if sure(values, len(re.findall(r"\w+", text))) else None


def after_greeting(text: str, vocabulary: i18n.Vocabulary) -> str:
    """The message after a greeting it opens with ('Habari, I want to join' → 'I want to join'): Kenyans greet
    in one language and go on in another, and what follows tells the language."""
    tokens = list(re.finditer(r"\w+", unicodedata.normalize("NFKC", text)))
    for count in range(min(4, len(tokens) - 1), 0, -1):
        phrase = i18n.normalize(" ".join(token.group() for token in tokens[:count]))
        if "greeting" in vocabulary.intents.get(phrase, ()):
            return unicodedata.normalize("NFKC", text)[tokens[count].start():]
    return ""


def detect(text: str, languages: tuple[str, ...] | None = None, *, model: bool = True) -> str | None:
    """The language a first message is written in, or None when it does not tell (the list is offered).
    Without `model`, only the script and the vocabulary's words decide."""
    languages = languages or i18n.LANGUAGES
    norm = i18n.normalize(text)
    letters = sum(ch.isalpha() for ch in norm)
    if not letters:
        return None
    scripted = by_script(text, languages)
    if scripted is not None:
        return scripted
    vocabulary = i18n.vocabulary()
    if norm in vocabulary.keywords:
        return None  # MENU, HELP, STOP are taught in every language
    whole = vocabulary.languages.get(norm)
    if whole is not None and (letters >= 3 or "greeting" in vocabulary.intents.get(norm, ())):
        return next(iter(whole))  # a word only one language uses ('Habari', 'Hi', 'Jiunge')
    if norm in vocabulary.intents:
        return None  # a word several languages use ('SALAAM'), or a short one ('OK')
    if not model:
        return vocabulary.language_of(norm)
    rest = after_greeting(text, vocabulary)
    guessed = by_model(rest, languages) if rest else None
    return guessed or by_model(text, languages) or vocabulary.language_of(norm)
