"""Matching a member's message to the curated answers, in every language at once (pure).

Each answer carries paraphrases per language (the ways members ask it). They are prepared once into an
index (`FaqIndex`): words weighted by how rare they are among the answers, so "paybill" says much and
"how" little. A message is read word by word, each word matched exactly or with one typo (two in long
words); every paraphrase is scored by how much of it the message covers and how much of the message it
explains (a word of the answer's other paraphrases counts for a quarter). The best answer is given when it is
clearly ahead; when unsure, the closest answers are offered to choose from; when nothing is close, there is
no answer.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

ANSWER_THRESHOLD = 55.0  # 0–100: at or above it (and clearly ahead) the best answer is given
OFFER_THRESHOLD = 40.0  # 0–100: at or above it an answer is offered as a choice
MARGIN = 10.0  # how far the best must lead the second to be given without asking
STOP_WEIGHT = 0.15  # words that say little about the subject ("how", "the", "ni", "ya")
UNKNOWN_WEIGHT = 1.2  # a word no answer knows: the message is about something else
SHORT_UNKNOWN_WEIGHT = 0.3  # an unknown word of three letters or fewer is often a typo of a small word
COVER_POWER = 2.0  # how much a paraphrase must be covered by the message
EXPLAIN_POWER = 0.5  # how much of the message the paraphrase must explain
RELATED_SHARE = 0.25  # how much a message word counts as explained when another paraphrase of the answer has it
SPELLING_SIMILARITY = 75.0  # 0–100 (rapidfuzz ratio): a word this close, with the same first letter, is the word
MIN_STEM = 5  # the shortest shared word ending that makes two words one
MAX_REMEMBERED = 20_000  # message words whose closest known word is remembered

STOP_WORDS = frozenset({
    "a", "an", "the", "i", "im", "me", "my", "mine", "you", "your", "u", "we", "our", "us", "it", "its", "is",
    "are", "am", "be", "was", "been", "do", "does", "did", "to", "of", "for", "in", "on", "at", "by", "with",
    "and", "or", "but", "so", "if", "this", "that", "these", "those", "there", "here", "what", "whats", "wat",
    "how", "hw", "who", "whom", "which", "when", "where", "why", "can", "could", "would", "should", "will",
    "shall", "may", "might", "please", "pls", "plz", "kindly", "hi", "hello", "just", "also", "about", "any",
    "some", "get", "got", "have", "has", "had", "want", "need", "know", "tell", "yes", "no", "ok",
    "ni", "na", "ya", "wa", "za", "la", "cha", "vya", "kwa", "je", "hii", "hiki", "hizi", "huu", "yangu",
    "yako", "yenu", "wangu", "changu", "gani", "vipi", "aje", "nini", "mimi", "mi", "wewe", "nyinyi", "sisi",
    "tafadhali", "kama", "sana", "tu", "pia", "au", "ama", "kuna", "iko", "ziko", "nataka", "naomba", "nifanye",
    "naeza", "naweza",
    # French (accents folded, elisions split off: "qu'est-ce" is "qu estce").
    "le", "les", "un", "une", "des", "du", "de", "d", "l", "j", "il", "elle", "nous", "vous",
    "ils", "m", "moi", "te", "t", "mon", "ma", "mes", "ton", "ta", "votre", "vos", "notre", "nos", "ce", "c",
    "cet", "cette", "ces", "qui", "que", "qu", "quoi", "quel", "quelle", "quels", "quelles", "comment", "est",
    "estce", "et", "ou", "aux", "en", "pour", "par", "avec", "sur", "dans", "pas", "ne", "n", "y", "se", "s",
    "sont", "suis", "etre", "ai", "faire", "fait", "veux", "peux", "svp", "bonjour", "merci", "exactement",
    # Somali.
    "waa", "baa", "ayaa", "ayaan", "ayay", "waxaan", "waxaad", "waxay", "aan", "aad", "iyo", "oo", "ka", "ku", "iga", "ii", "kaa", "kuu", "yaa", "maxaa", "sidee", "sideen", "xagee", "halkee", "goorma", "miyaa", "ah",
    "inaan", "haddii", "wuu", "way", "kee", "mise", "laakiin", "hadda", "idinku", "rabaa",
    # Arabic (folded: no hamza on alef, ta marbuta as ha, alef maqsura as ya) and Juba Arabic in Latin letters.
    "في", "من", "على", "الى", "عن", "ما", "ماذا", "هل", "كيف", "اين", "متى", "لماذا", "انا", "انت", "انتم",
    "نحن", "هو", "هي", "هذا", "هذه", "ذلك", "التي", "الذي", "او", "ام", "ان", "لا", "لم", "يمكن", "يمكنني",
    "اريد", "عندي", "كل", "مع", "ثم", "قد", "لي", "بي", "عني", "شنو", "ana", "intu", "inta", "fi", "kef",
    "shunu", "wen", "bi", "tai", "dayir",
})

_JOINED = re.compile(r"[-'’]")
# French puts the pronoun after the verb with a hyphen ("gardez-vous", "a-t-il"): two words, not one.
_INVERSION = re.compile(r"-(?:t-)?(?=(?:je|tu|il|elle|on|nous|vous|ils|elles)\b)")
# French elisions: "l'argent", "qu'est-ce", "j'ai" are two words (Somali keeps its apostrophes: "da'da").
_ELISION = re.compile(r"\b(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
# Arabic letters that members write either way: hamza on alef (dropped by NFKD), ta marbuta, alef maqsura.
_ARABIC_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ـ": ""})
_ARABIC_WORD = re.compile(r"[\u0621-\u064a]+")
# Light stemming (as search engines do for Arabic): the article and its prepositions in front, then a pronoun
# and a plural or feminine ending behind, so that "حسابي", "الحساب" and "بالحساب" are one word, and so are
# "قسيمة" and "قسيمتي".
_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_ARABIC_PRONOUNS = ("كم", "هم", "ها", "نا", "ي", "ك", "ه")
_ARABIC_ENDINGS = ("ات", "ون", "ين", "ه", "ت")


def arabic_stem(word: str) -> str:
    """An Arabic word without its article in front, and without a pronoun then a plural or feminine ending behind
    (three letters are always kept)."""
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix):]
            break
    for endings in (_ARABIC_PRONOUNS, _ARABIC_ENDINGS):
        for ending in endings:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[:-len(ending)]
                break
    return word


def fold(text: str) -> str:
    """Lower case, accents and Arabic short vowels dropped, Arabic letters written either way made one."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFKC", bare).translate(_ARABIC_LETTERS)


def words_of(text: str) -> tuple[str, ...]:
    """The words of a text, lower case, accents and punctuation dropped, hyphens joined ('m-pesa': 'mpesa'),
    French elisions and inversions split ("l'argent": 'l argent', 'gardez-vous': 'gardez vous'), Arabic words
    folded and lightly stemmed."""
    split = _INVERSION.sub(" ", _ELISION.sub(lambda m: m.group(0)[:-1] + " ", fold(text or "")))
    plain = _JOINED.sub("", split)
    return tuple(arabic_stem(word) if _ARABIC_WORD.fullmatch(word) else word
                 for word in utils.default_process(plain).split())


def typos_allowed(word: str) -> int:
    """How many typos a word may carry and still be recognised."""
    return 0 if len(word) <= 3 else 1 if len(word) <= 7 else 2


@dataclass(frozen=True)
class FaqItem:
    """One curated answer: per language its question (offered in a choice), answer and paraphrases."""

    key: str
    questions: Mapping[str, str]
    answers: Mapping[str, str]
    paraphrases: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Phrase:
    """One way of asking (a question or a paraphrase), as the answer it belongs to and its words."""

    item: int
    words: frozenset[str]
    weight: float


class FaqIndex:
    """The answers' paraphrases prepared for matching: built once when the answers are loaded."""

    def __init__(self, items: Sequence[FaqItem]) -> None:
        """Collect every phrase, weigh every word by how few answers use it, and index phrases by word."""
        texts = [(n, text) for n, item in enumerate(items)
                 for lang in item.questions.keys() | item.paraphrases.keys()
                 for text in (item.questions.get(lang, ""), *item.paraphrases.get(lang, ()))]
        used_by: dict[str, set[int]] = {}
        for n, text in texts:
            for word in words_of(text):
                used_by.setdefault(word, set()).add(n)
        count = max(len(items), 1)
        self.weights: dict[str, float] = {
            word: STOP_WEIGHT if word in STOP_WORDS else math.log(1 + count / len(users))
            for word, users in used_by.items()
        }
        self.words = tuple(self.weights)
        self.by_initial: dict[str, list[str]] = {}
        for word in self.words:
            self.by_initial.setdefault(word[0], []).append(word)
        self.phrases: list[Phrase] = []
        self.by_word: dict[str, list[int]] = {}
        for n, text in texts:
            words = frozenset(words_of(text))
            if not words:
                continue
            for word in words:
                self.by_word.setdefault(word, []).append(len(self.phrases))
            self.phrases.append(Phrase(n, words, sum(self.weights[w] for w in words)))
        # Phrases such as "who are you" are made of small words only: they count when all of them are there.
        self.small_words_only = [p for p, phrase in enumerate(self.phrases) if phrase.words <= STOP_WORDS]
        self.vocabulary: dict[int, set[str]] = {}
        for phrase in self.phrases:
            self.vocabulary.setdefault(phrase.item, set()).update(phrase.words - STOP_WORDS)
        self.known: dict[str, str | None] = {}

    def recognise(self, word: str) -> str | None:
        """The known word a message word is (itself, the closest within its typos, or one with the same
        Swahili stem); None when unknown."""
        if word in self.weights:
            return word
        if word not in self.known:
            if len(self.known) >= MAX_REMEMBERED:  # members' typos are endless: keep the memory bounded
                self.known.clear()
            allowed = typos_allowed(word)
            # Typos keep the first letter: 'lend' is not 'send'. A misheard spelling ('dews') shares most letters.
            same_start = self.by_initial.get(word[0], ()) if allowed else ()
            typo = process.extractOne(word, same_start, scorer=OSA.distance, score_cutoff=allowed) if allowed else None
            found = typo[0] if typo else None
            if found is None and allowed:
                # A misheard spelling keeps the word's length: 'saturday' is not 'study'.
                alike = [known for known in same_start if abs(len(known) - len(word)) <= 1]
                similar = process.extractOne(word, alike, scorer=fuzz.ratio, score_cutoff=SPELLING_SIMILARITY)
                found = similar[0] if similar else None
            self.known[word] = found if found is not None else self.same_stem(word)
        return self.known[word]

    def same_stem(self, word: str) -> str | None:
        """A known word that differs only by what comes before a shared ending of five letters or more:
        Swahili puts person and tense in front ('nitalipa', 'kulipa', 'nalipa')."""
        if len(word) < MIN_STEM:
            return None
        found = [known for known in self.words if len(known) >= MIN_STEM
                 and (known.endswith(word) or word.endswith(known))]
        return max(found, key=lambda known: (min(len(known), len(word)), known), default=None)

    def scores(self, text: str) -> dict[int, float]:
        """Each answer's best score (0–100) for a message; answers with no word in common are left out."""
        message: dict[str, float] = {}
        unknown = 0.0
        for word in words_of(text):
            known = self.recognise(word)
            if known is None:
                unknown += (STOP_WEIGHT if word in STOP_WORDS else
                            SHORT_UNKNOWN_WEIGHT if len(word) <= 3 else UNKNOWN_WEIGHT)
            elif known not in message:
                message[known] = self.weights[known]
        total = sum(message.values()) + unknown
        best: dict[int, float] = {}
        candidates = {p for word, weight in message.items() if weight > STOP_WEIGHT for p in self.by_word.get(word, ())}
        candidates.update(p for p in self.small_words_only if self.phrases[p].words <= message.keys())
        for number in candidates:
            phrase = self.phrases[number]
            shared = sum(weight for word, weight in message.items() if word in phrase.words)
            related = sum(weight for word, weight in message.items()
                          if word not in phrase.words and word in self.vocabulary[phrase.item])
            covered, explained = shared / phrase.weight, (shared + RELATED_SHARE * related) / total
            value = 100 * covered ** COVER_POWER * explained ** EXPLAIN_POWER
            if value > best.get(phrase.item, 0.0):
                best[phrase.item] = value
        return best


@dataclass(frozen=True)
class Knowledge:
    """What the question flow knows: the answers, their prepared index, the thresholds (0–100) and,
    per language, the values for the answers' placeholders ({union}, {dues}, {pay}, {contact}, {join})."""

    items: tuple[FaqItem, ...] = ()
    threshold: float = ANSWER_THRESHOLD
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    offer_threshold: float = OFFER_THRESHOLD
    index: FaqIndex | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Prepare the index here when the caller did not bring one it prepared earlier."""
        if self.index is None:
            object.__setattr__(self, "index", FaqIndex(self.items))


@dataclass(frozen=True)
class Decision:
    """What a message gets: one answer when the match is clear, else the closest answers to choose from
    (none when nothing is close)."""

    answer: FaqItem | None = None
    choices: tuple[FaqItem, ...] = ()


def decide(text: str, knowledge: Knowledge) -> Decision:
    """The answer for a message, or the (at most two) closest answers to offer, or nothing."""
    if not knowledge.items or knowledge.index is None:
        return Decision()
    ranked = sorted(knowledge.index.scores(text).items(), key=lambda pair: (-pair[1], pair[0]))
    if not ranked:
        return Decision()
    best, value = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if value >= knowledge.threshold and value - second >= MARGIN:
        return Decision(answer=knowledge.items[best])
    close = [knowledge.items[n] for n, score in ranked[:2] if score >= knowledge.offer_threshold]
    return Decision(choices=tuple(close))


def find_choice(text: str, choices: Sequence[FaqItem], knowledge: Knowledge) -> FaqItem | None:
    """Which of the offered answers a reply names by its words (a clear best among them), if any."""
    scores = knowledge.index.scores(text) if knowledge.index else {}
    offered = [(scores.get(knowledge.items.index(item), 0.0), item) for item in choices if item in knowledge.items]
    offered.sort(key=lambda pair: -pair[0])
    if offered and offered[0][0] >= knowledge.offer_threshold and (
            len(offered) == 1 or offered[0][0] - offered[1][0] >= MARGIN):
        return offered[0][1]
    return None


def placeholders(values: Mapping[str, Mapping[str, str]], lang: str) -> Mapping[str, str]:
    """The placeholder values in a language, English for any a language lacks."""
    return {**values.get("en", {}), **values.get(lang, {})}


def answer_text(item: FaqItem, lang: str, values: Mapping[str, Mapping[str, str]]) -> str:
    """The answer in a language (English as the fallback), placeholders filled in."""
    text = item.answers.get(lang) or item.answers.get("en") or next(iter(item.answers.values()), "")
    for name, value in placeholders(values, lang).items():
        text = text.replace("{" + name + "}", value)
    return " ".join(text.split())


def question_text(item: FaqItem, lang: str) -> str:
    """The question an answer replies to, in a language (English as the fallback)."""
    return item.questions.get(lang) or item.questions.get("en") or next(iter(item.questions.values()), item.key)
