"""The organiser's BROADCAST conversation: the text in English, then in any other configured language (one
message each, '2: Mkutano…', until SKIP), the segment, the preview, when (now or a local date and time), YES.

Pure like every flow: the preview figures come from the `PreviewBroadcast` effect (the engine fills the
preview line's numbers), and nothing is sent until the organiser answers YES (`SendBroadcast`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows.base import N_, Ctx, Input, Line, Msg, Part, Reply, Result, State, Text, fold_digits, msg
from flows.choices import not_understood as not_heard
from flows.choices import read, which_one
from flows.counties import match_county
from flows.effects import PreviewBroadcast, SendBroadcast
from flows.filters import COUNTY_KEYS, guess, key_of, words_of, work_phrases
from flows.form import Answer, Exit, Form, Invalid, Step, Unsure
from flows.language import FSI, PDI, name_of
from flows.signup import WORK_KINDS, WORK_LABELS
from flows.yes_no import yes_no

NAME = "broadcast"
MAX_TEXT = 1500
# The segment filters an organiser can type; a test holds them equal to the service's SEGMENT_FILTERS.
SEGMENT_NAMES = ("county", "work", "language", "gender", "community", "status", "joined_after", "joined_before",
                 "enrolled_in", "completed", "not_completed")
DATE_FILTERS = ("joined_after", "joined_before")
EVERYONE = {"ALL", "EVERYONE", "WOTE", "KILA MTU"}
NOW = {"NOW", "SASA", "SASA HIVI"}
WHEN_FORMAT = "%Y-%m-%d %H:%M"
# Steps whose answer is the broadcast text itself: a first word such as "Tickets" or "Reply" is not a command there.
TEXT_STEPS = ("text_en", "texts")
CANCELLED = msg(N_("Stopped: the broadcast was not sent. Send STAFF for the staff commands."))
WAY_OUT = msg(N_("(CANCEL: drop this broadcast · STAFF: the staff commands)"))
NOBODY = msg(N_("Nobody matches that segment, so there is nothing to send or schedule. Type other filters, or "
                "CANCEL."))


def cancelled(ctx: Ctx, state: State) -> Result:
    """CANCEL inside the composer: nothing is sent and the organiser is back at the staff commands."""
    return Result(None, (Reply.of(CANCELLED),))


# English labels and the synonyms: what an organiser types after "work" (the keys are stored).
WORK_PHRASES = work_phrases({label.split("(")[0]: key for key, label in WORK_KINDS})


@dataclass(frozen=True)
class NotUnderstood:
    """A county or kind of work in a segment that names none, and the closest ones (names or work keys)."""

    name: str
    word: str
    guesses: tuple[str, ...] = ()


def read_value(name: str, value: str) -> str | NotUnderstood:
    """A county as its name (as sign-up reads it) or a kind of work as its key; other filters as typed."""
    if name == "work":
        words = " ".join(words_of(value))
        key = WORK_PHRASES.get(words) or WORK_PHRASES.get(words.removesuffix("s"))
        return key if key else NotUnderstood(name, value, guess(words, WORK_PHRASES).works)
    if name == "county":
        county = COUNTY_KEYS.get(key_of(value)) or match_county(value).county
        return county if county else NotUnderstood(name, value, match_county(value).candidates[:3])
    return value


def parse_segment(text: str) -> dict[str, Any] | str | NotUnderstood:
    """'county Nairobi, Msa; work boda; language sw' → a segment; ALL → everyone; a message id when it is
    wrong, or the county or kind of work that names none."""
    if " ".join(text.upper().split()) in EVERYONE:
        return {}
    segment: dict[str, Any] = {}
    for part in re.split(r"[;\n]+", text):
        part = part.strip()
        if not part:
            continue
        name, _, rest = part.partition(" ")
        name = name.lower().rstrip(":").replace("-", "_")
        values = [v.strip() for v in rest.split(",") if v.strip()]
        if name not in SEGMENT_NAMES or not values:
            return "unknown"
        if name in DATE_FILTERS:
            try:
                segment[name] = date.fromisoformat(values[0]).isoformat()
            except ValueError:
                return "date"
            continue
        read = [read_value(name, value) for value in values]
        problem = next((value for value in read if isinstance(value, NotUnderstood)), None)
        if problem is not None:
            return problem
        segment[name] = list(dict.fromkeys(str(value) for value in read))
    return segment if segment else "unknown"


def not_understood(problem: NotUnderstood) -> Msg:
    """Why a segment's county or kind of work was refused, with the closest ones."""
    if problem.name == "work":
        guesses: list[Line] = [msg(WORK_LABELS[key]) for key in problem.guesses]
        if guesses:
            return msg(N_("I do not know the kind of work \"%(word)s\": did you mean %(guesses)s?"),
                       word=Text(problem.word), guesses=guesses)
        return msg(N_("I do not know the kind of work \"%(word)s\". Kinds of work: %(kinds)s."),
                   word=Text(problem.word), kinds=Text(", ".join(key for key, _ in WORK_KINDS)))
    if problem.guesses:
        return msg(N_("No county is called \"%(word)s\": did you mean %(guesses)s?"), word=Text(problem.word),
                   guesses=[Text(county) for county in problem.guesses])
    return msg(N_("No county is called \"%(word)s\"."), word=Text(problem.word))


def text_step_answer(slot: str, inp: Input) -> Answer | Invalid:
    """The message text, within WhatsApp's length, saved under slot; otherwise a re-ask giving the limit."""
    return text_answer(slot, inp.text if inp.kind == "text" else "")


def text_answer(slot: str, text: str) -> Answer | Invalid:
    """A text within WhatsApp's length, saved under slot; otherwise a re-ask giving the limit."""
    text = text.strip()
    if not 0 < len(text) <= MAX_TEXT:
        return Invalid(msg(N_("Please type the message as text, at most %(max)s characters."), max=MAX_TEXT))
    return Answer({slot: text})


class TextEn(Step):
    name = "text_en"
    topic = msg(N_("the broadcast text in English"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        return (msg(N_("New broadcast. Type the message in English.")),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        answer = text_step_answer("text", inp)
        if isinstance(answer, Invalid):
            return answer
        texts = {**state.data.get("texts", {}), SOURCE: answer.data["text"]}
        return Answer({"texts": texts}, next=None if missing(ctx, texts) else Segment.name)


SOURCE = "en"  # required: members with no text in their language get it


def missing(ctx: Ctx, texts: Mapping[str, str]) -> list[tuple[int, str]]:
    """The configured languages the broadcast has no text in yet, with their numbers in the settings' order."""
    return [(n, code) for n, code in enumerate(ctx.settings.languages, 1) if code not in texts]


def folded(text: str) -> str:
    """Upper case without accents or extra spaces, every script's digits as ASCII ('Français' → 'FRANCAIS')."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", fold_digits(text)) if not unicodedata.combining(ch))
    return " ".join(bare.upper().split())


def language_named(ctx: Ctx, label: str) -> str | None:
    """The configured language a label means: its number in the list, its code, or its name (in itself or
    in English, loosely: 'francais', 'KISWAHILI', 'Swahili')."""
    wanted = folded(label)
    languages = ctx.settings.languages
    if wanted.isdigit():
        n = int(wanted)
        return languages[n - 1] if 1 <= n <= len(languages) else None
    for code in languages:
        names = {code.upper(), folded(name_of(ctx, code)), *ENGLISH_NAMES.get(code, ())}
        if wanted in names:
            return code
    return None


# Names an organiser may type in English beside a language's own name.
ENGLISH_NAMES = {"en": ("ENGLISH",), "sw": ("SWAHILI",), "fr": ("FRENCH",), "so": ("SOMALI",), "ar": ("ARABIC",)}


class OtherTexts(Step):
    """The message in the other configured languages, one message each ('2: Mkutano…'), until SKIP."""

    name = "texts"
    topic = msg(N_("the broadcast text in other languages"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        texts = state.data.get("texts", {})
        left = missing(ctx, texts)
        example = Text(f"{left[0][0]}: …" if left else "2: …")
        lines: list[Line] = []
        if len(texts) > 1:
            lines.append(msg(N_("Written in: %(languages)s."),
                             languages=Text(" · ".join(name_of(ctx, code) for code in texts))))
        lines += [msg(N_("To add it in another language, send the language's number or name, a colon and the "
                         "text, like “%(example)s”. Send SKIP when done: the others get English."),
                      example=example),
                  Text(" · ".join(f"{FSI}{n} {name_of(ctx, code)}{PDI}" for n, code in left))]
        return lines

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        if inp.means("skip") or inp.means("no"):
            return Answer({})
        label, colon, rest = inp.text.partition(":") if inp.kind == "text" else ("", "", "")
        code = language_named(ctx, label) if colon else None
        if code is None:
            left = missing(ctx, state.data.get("texts", {}))
            return Invalid(msg(N_("Please start with the language's number or name and a colon, like "
                                  "“%(example)s”, or send SKIP."),
                               example=Text(f"{left[0][0] if left else 2}: …")))
        answer = text_answer("text", rest)
        if isinstance(answer, Invalid):
            return answer
        texts = {**state.data.get("texts", {}), code: answer.data["text"]}
        return Answer({"texts": texts}, next=self.name if missing(ctx, texts) else None)


class Segment(Step):
    name = "segment"
    topic = msg(N_("who should get the broadcast"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        return (
            msg(N_("Who should get it? Type ALL for every active member, or filters separated by ';', "
                   "for example: county Nairobi, Kiambu; work delivery; language sw")),
            msg(N_("Filters: %(names)s. Dates as YYYY-MM-DD."), names=Text(", ".join(SEGMENT_NAMES))),
        )

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        segment = parse_segment(inp.text) if inp.kind == "text" else "unknown"
        if segment == "date":
            return Invalid(msg(N_("Please write dates as YYYY-MM-DD, for example joined_after 2026-01-31.")))
        if isinstance(segment, NotUnderstood):
            return Invalid(not_understood(segment))
        if isinstance(segment, str):
            return Invalid(msg(N_("I did not understand those filters.")))
        preview = Reply.of(
            msg(N_("Preview: %(matched)s members match. %(opted_out)s are left out because they opted out.")),
            msg(N_("%(text_count)s will get the text; %(template_count)s are outside the 24-hour window and will "
                   "get the template; %(no_template)s will get nothing (no template for their language).")),
            msg(N_("By language: %(language_notes)s.")),
            msg(N_("About %(minutes)s minutes to send.")),
            *texts_sent(ctx, state.data.get("texts") or {}),
        )
        return Answer({"segment": segment}, effects=(PreviewBroadcast(segment),), replies=(preview,))


PREVIEW_CHARS = 160  # how much of each text the preview repeats


def texts_sent(ctx: Ctx, texts: Mapping[str, str]) -> list[Line]:
    """What each language's members will get: each text written (its start), then who gets English."""
    lines: list[Line] = [msg(N_("What each language gets:"))]
    for code, text in texts.items():
        shown = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"
        lines.append(Text(f"{FSI}{name_of(ctx, code)}: {shown}{PDI}"))
    others = [code for code in ctx.settings.languages if code not in texts]
    if others:
        lines.append(msg(N_("%(languages)s: the English text."),
                         languages=Text(" · ".join(name_of(ctx, code) for code in others))))
    return lines


def parse_when(ctx: Ctx, text: str) -> datetime | str | None:
    """NOW → None; 'YYYY-MM-DD HH:MM' in the union's local time → naive UTC; a message id when wrong."""
    cleaned = " ".join(text.split())
    if cleaned.upper() in NOW:
        return None
    try:
        local = datetime.strptime(cleaned, WHEN_FORMAT).replace(tzinfo=ZoneInfo(ctx.settings.timezone))
    except ValueError:
        return "format"
    moment = local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return moment if moment > ctx.now else "past"


def example_time(ctx: Ctx) -> str:
    """A time to come, for the prompt's example: tomorrow at 18:00 in the union's local time."""
    zone = ZoneInfo(ctx.settings.timezone)
    tomorrow = ctx.now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(18, 0)).strftime(WHEN_FORMAT)


class When(Step):
    name = "when"
    topic = msg(N_("when to send the broadcast"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        return (msg(N_("When should it go? Reply NOW, or a date and time like %(example)s (%(zone)s time)."),
                    example=Text(example_time(ctx)), zone=Text(ctx.settings.timezone)),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        if state.data.get("matched") == 0:  # the preview found nobody: there is nothing to schedule
            return Answer({"matched": None}, next=Segment.name, replies=(Reply.of(NOBODY),))
        when = parse_when(ctx, inp.text) if inp.kind == "text" else "format"
        if when == "past":
            return Invalid(msg(N_("That time has passed. Reply NOW, or a time still to come.")))
        if isinstance(when, str):
            return Invalid(msg(N_("Please reply NOW, or a date and time as YYYY-MM-DD HH:MM.")))
        return Answer({"send_at": when.isoformat() if when else None,
                       "send_at_local": " ".join(inp.text.split()) if when else None})


SEND_CHOICES = yes_no(msg(N_("Yes, send it")), msg(N_("No, drop it")))


class Confirm(Step):
    name = "confirm"
    topic = msg(N_("whether to send the broadcast"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        if state.data.get("send_at"):
            return (msg(N_("Reply YES to send it at %(when)s, or NO to drop it. Nothing is sent without YES."),
                        when=Text(str(state.data.get("send_at_local")))), SEND_CHOICES)
        return (msg(N_("Reply YES to send it now, or NO to drop it. Nothing is sent without YES.")), SEND_CHOICES)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """YES (or 1) sends, NO (or 2) drops it; anything else, a question or a yes with more words ("yes but
        change the time"), sends nothing and asks again."""
        data = state.data
        found = read(SEND_CHOICES, ctx, inp)
        if found.ask:
            return Unsure(which_one(SEND_CHOICES, found))
        if found.one == "yes":
            send_at = datetime.fromisoformat(data["send_at"]) if data.get("send_at") else None
            texts = dict(data.get("texts") or {})
            if not texts.get(SOURCE):  # a conversation begun before the texts were kept by language
                return Exit(FLOW.start(ctx))
            effect = SendBroadcast(texts, dict(data.get("segment") or {}), send_at)
            if send_at is not None:
                done = Reply.of(msg(N_("Broadcast %(broadcast_id)s will go out at %(when)s. Send BROADCAST STATUS "
                                       "%(broadcast_id)s for the figures, or BROADCAST CANCEL %(broadcast_id)s."),
                                    when=Text(str(data.get("send_at_local")))))
            else:
                done = Reply.of(msg(N_("Broadcast %(broadcast_id)s is on its way. Send BROADCAST STATUS "
                                       "%(broadcast_id)s for the figures.")))
            return Exit(Result(None, (done,), (effect,)))
        if found.one == "no":
            return Exit(Result(None, (Reply.of(msg(N_("Dropped. Nothing was sent."))),)))
        return Invalid(msg(N_("Please reply YES or NO.")), not_heard(found))


class BroadcastForm(Form):
    """BROADCAST for organisers."""

    name = NAME
    steps = (TextEn(), OtherTexts(), Segment(), When(), Confirm())
    review_step = "confirm"
    way_out = WAY_OUT

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """As every form, except that SASA (Swahili for NOW, and a Sheng greeting) answers the time question
        rather than bringing 'welcome back'."""
        if state.step == When.name and " ".join(inp.text.upper().split()) in NOW:
            inp = replace(inp, intents=inp.intents - {"greeting"})
        return super().handle(ctx, state, inp)

    def finish(self, ctx: Ctx, state: State) -> Result:  # the Confirm step always exits
        return Result(None)

    def miss(self, ctx: Ctx, state: State, reason: Msg, heard: Sequence[Msg] = ()) -> Result:
        """Re-ask with the reason and the organiser's way out (CANCEL, STAFF), never the member's menu."""
        prompt = self.by_name[state.step].prompt(ctx, state)
        return Result(replace(state, errors=state.errors + 1), (Reply.of(*heard, reason, *prompt, WAY_OUT),))


FLOW = BroadcastForm()
