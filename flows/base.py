"""The vocabulary shared by every flow: messages, input, state, effects and results.

A flow is pure: it takes a `Ctx`, the conversation `State` and the member's `Input`, and returns a
`Result` (the next state, the replies to send and the effects to perform). It never touches Flask,
the database, Redis or Twilio; the engine in `bot/` does that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

DEFAULT_LANGUAGES = ("en", "sw", "fr", "so", "ar")
# Each default language's name written in itself (the engine gives the configured ones' names from Babel).
DEFAULT_LANGUAGE_NAMES = {"en": "English", "sw": "Kiswahili", "fr": "Français", "so": "Soomaali", "ar": "العربية"}


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogs without translating it here."""
    return message


def fold_digits(text: str) -> str:
    """Every script's digits as ASCII ones: Arabic-Indic '١٢' and Persian '۱۲' are '12'."""
    if text.isascii():
        return text
    return "".join(str(int(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


Translate = Callable[[str, str], str]  # (language, message id) -> the message in that language


def untranslated(lang: str, message_id: str) -> str:
    """The English text of a message: what flows read labels in when no catalogs are given."""
    return message_id


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message with a plural form for extraction (`msgn` shows it with the right form)."""
    return singular, plural


@dataclass(frozen=True)
class Msg:
    """One translatable line: an English message id and its parameters. A message with plural forms has its
    English plural too, and the name of the parameter whose number chooses the form ("1 day", "3 days")."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: str | None = None


@dataclass(frozen=True)
class Text:
    """A line shown as it is (a county name, a member number): never translated."""

    value: str


@dataclass(frozen=True)
class PerLanguage:
    """A parameter value written in several languages (a course title from the catalog): shown in the
    reader's language, else in English, else in any."""

    values: Mapping[str, str]


Line = Msg | Text


def msg(message_id: str, **params: Any) -> Msg:
    """Build a `Msg` from an id and keyword parameters."""
    return Msg(message_id, params)


def msgn(forms: tuple[str, str], by: str, /, **params: Any) -> Msg:
    """Build a `Msg` with plural forms (from `NP_`); the number in the parameter named `by` chooses the form."""
    return Msg(forms[0], params, forms[1], by)


@dataclass(frozen=True)
class Option:
    """One option: a stable id, the label shown, the words members use for it (`synonyms`: message ids whose
    texts list them separated by '|', translated in each catalog like the vocabulary), and `words` that need no
    translation (a course's titles and catalog words in every language; read like labels, each bracket and each side
    of a slash alone too). `number` is the number shown (0: the next one)."""

    id: str
    label: Line
    synonyms: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    number: int = 0
    intent: str | None = None  # a vocabulary intent that, sent as a one-word message, chooses this option


@dataclass(frozen=True)
class Choices:
    """A list of options as a part of a reply: shown as numbered lines (later also as buttons or a list), and
    read back by `match`. `multiple`: several options may be chosen in one answer."""

    options: tuple[Option, ...]
    multiple: bool = False

    @classmethod
    def of(cls, options: Iterable[Option], *, multiple: bool = False, start: int = 1) -> Choices:
        """Number the options that have no number, from `start`, in order."""
        numbered_options: list[Option] = []
        n = start
        for option in options:
            if option.number:
                n = option.number
            numbered_options.append(replace(option, number=n))
            n += 1
        return cls(tuple(numbered_options), multiple)

    def lines(self) -> tuple[Msg, ...]:
        """The numbered lines: '1. First', '2. Second' …"""
        return tuple(msg(N_("%(number)s. %(item)s"), number=o.number, item=o.label) for o in self.options)

    def only(self, ids: Iterable[str]) -> Choices:
        """The same options, numbers kept, narrowed to some ids (for 'which one did you mean?')."""
        wanted = set(ids)
        return Choices(tuple(o for o in self.options if o.id in wanted), self.multiple)

    def option(self, option_id: str) -> Option:
        """The option with an id."""
        return next(o for o in self.options if o.id == option_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every option's id, in order."""
        return tuple(o.id for o in self.options)


Part = Msg | Text | Choices  # what a reply is built from: lines, and the choices it offers


@dataclass(frozen=True)
class Reply:
    """One WhatsApp message made of lines, joined by newlines when rendered. A reply that offers choices holds
    them as its own part too (`choices`, shown as the numbered lines from `choices_at`), so that a channel that
    can draws them as buttons or a list."""

    lines: tuple[Line, ...]
    choices: Choices | None = None
    choices_at: int = 0

    @classmethod
    def of(cls, *lines: Part | Sequence[Part]) -> Reply:
        """Build a reply from lines, sequences of lines and (at most one) `Choices`, shown where it stands."""
        flat: list[Line] = []
        found: list[tuple[Choices, int]] = []

        def add(part: Part | Sequence[Part]) -> None:
            if isinstance(part, Msg | Text):
                flat.append(part)
            elif isinstance(part, Choices):
                found.append((part, len(flat)))
                flat.extend(part.lines())
            else:
                for item in part:
                    add(item)

        for line in lines:
            add(line)
        choices, at = found[-1] if found else (None, 0)
        return cls(tuple(flat), choices, at)

    def parts(self) -> tuple[Part, ...]:
        """The reply as it was built: its lines, with its choices as one part where they stand."""
        if self.choices is None:
            return self.lines
        end = self.choices_at + len(self.choices.options)
        return (*self.lines[:self.choices_at], self.choices, *self.lines[end:])


NOT_GIVEN = msg(N_("not given"))


def label_of(labels: Mapping[Any, str], key: Any) -> Line:
    """A stored key (a status, a role, a gender) in words: its translatable label, the key as it is
    without one, or 'not given' when there is none."""
    if key in labels:
        return msg(labels[key])
    return Text(str(key)) if key not in (None, "", [], ()) else NOT_GIVEN


def numbered(items: Sequence[Line], start: int = 1) -> tuple[Msg, ...]:
    """Lines of a numbered menu: '1. First', '2. Second' …"""
    return tuple(msg(N_("%(number)s. %(item)s"), number=n, item=item) for n, item in enumerate(items, start))


@dataclass(frozen=True)
class Media:
    """An attachment on an inbound message."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Input:
    """What the member sent, already classified by the engine.

    `keyword` is a global keyword (menu, help, stop, start, language, back, cancel) when the whole
    message is one; `intents` holds the vocabulary words the message matches (yes, no, skip, join,
    greeting …) so that flows understand both languages without reading the catalogs.
    """

    text: str = ""
    keyword: str | None = None
    intents: frozenset[str] = frozenset()
    media: tuple[Media, ...] = ()
    location: tuple[float, float] | None = None
    button: str | None = None

    @property
    def kind(self) -> str:
        """The kind of message: text, media, location or empty."""
        if self.media:
            return "media"
        if self.location is not None and not self.text:
            return "location"
        return "text" if self.text else "empty"

    def means(self, intent: str) -> bool:
        """Whether the message matches a vocabulary word such as 'yes'."""
        return intent in self.intents


@dataclass(frozen=True)
class MemberView:
    """A read-only snapshot of the member that flows may look at."""

    is_member: bool = False
    member_number: str | None = None
    name: str | None = None
    status: str = "prospect"
    opted_out: bool = False
    broadcasts_stopped: bool = False  # NO BROADCASTS: union news stopped, reminders and answers go on
    roles: frozenset[str] = frozenset()
    facts: Mapping[str, Any] = field(default_factory=dict)
    notice_outdated: bool = False  # consented to an older notice version and not yet asked about this one
    consented: bool = False  # agreed to the notice (any version): a prospect who has not is asked before we store anything


@dataclass(frozen=True)
class Settings:
    """The union's settings that shape the conversation."""

    union_name: str = "Kenya Union of Gig Workers"
    union_short_name: str = "KUGWO"
    help_contact: str = ""
    languages: tuple[str, ...] = DEFAULT_LANGUAGES  # the LANGUAGES setting, in the order offered to members
    language_names: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LANGUAGE_NAMES))  # code → own name
    timezone: str = "Africa/Nairobi"  # the union's local time (times members and staff type are in it)
    data_controller: str = ""  # who answers for members' data under the Data Protection Act (empty: the union)
    data_protection_contact: str = ""  # how to reach them (empty: an organiser, through AGENT)
    retention_days: int = 180  # how long message texts are kept
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ctx:
    """Everything a flow may know besides the state and the input."""

    member: MemberView
    lang: str
    now: datetime
    settings: Settings = field(default_factory=Settings)
    resumed: bool = False
    expired: bool = False
    first_contact: bool = False
    language_unsure: bool = False  # a first message that did not tell its language: the languages are offered
    translate: Translate = field(default=untranslated)  # the catalogs: labels are matched in every language


@dataclass(frozen=True)
class State:
    """Where a conversation stands: the active flow, its step and the answers saved by name."""

    flow: str
    step: str
    data: Mapping[str, Any] = field(default_factory=dict)
    errors: int = 0

    def at(self, step: str, **data: Any) -> State:
        """The same flow at another step, with data merged in and the error count reset."""
        return replace(self, step=step, data={**self.data, **data}, errors=0)

    def with_data(self, **data: Any) -> State:
        """The same step with data merged in."""
        return replace(self, data={**self.data, **data})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form for storage."""
        return {"flow": self.flow, "step": self.step, "data": dict(self.data), "errors": self.errors}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> State | None:
        """Rebuild a state from its stored form; None for none or an unreadable one."""
        if not raw or not isinstance(raw.get("flow"), str) or not isinstance(raw.get("step"), str):
            return None
        data, errors = raw.get("data"), raw.get("errors")
        return cls(raw["flow"], raw["step"], dict(data) if isinstance(data, Mapping) else {},
                   errors if isinstance(errors, int) else 0)


class Effect:
    """Base of everything a flow asks the engine to do besides replying."""


# What a performer returns under this key is saved with the flow's data, for the flow's next step to read (the
# preview's count of members, which only the database knows); the rest goes to the replies' parameters.
SAVED = "saved"


@dataclass(frozen=True)
class Result:
    """What a flow returns: the next state (None ends the conversation), replies and effects."""

    state: State | None
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()

    def then(self, other: Result) -> Result:
        """This result's replies and effects followed by another's, ending in the other's state."""
        return Result(other.state, self.replies + other.replies, self.effects + other.effects)

    def plus(self, *replies: Reply, effects: Sequence[Effect] = ()) -> Result:
        """The same result with more replies and effects appended."""
        return Result(self.state, self.replies + replies, self.effects + tuple(effects))


class Flow(Protocol):
    """A conversation flow: a name, a way to start, a way to answer, a way back."""

    name: str

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Begin the flow."""

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Answer the member's input at the current step."""

    def back(self, ctx: Ctx, state: State) -> Result:
        """Go to the previous question."""

    def ask(self, ctx: Ctx, state: State) -> Result:
        """Ask the current step's question again (after HELP, a pause or a language switch)."""

    def topic(self, state: State) -> Msg:
        """What the member was telling us at this step, for a 'welcome back' line."""
