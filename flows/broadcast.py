"""The organiser's BROADCAST conversation: the text in English, in Swahili, the segment, the preview, YES.

Pure like every flow: the preview figures come from the `PreviewBroadcast` effect (the engine fills the
preview line's numbers), and nothing is sent until the organiser answers YES (`SendBroadcast`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.base import N_, Ctx, Effect, Input, Line, Reply, Result, State, Text, msg
from flows.form import Answer, Exit, Form, Invalid, Step

NAME = "broadcast"
MAX_TEXT = 1500
# The segment filters an organiser can type (the same names as the service's SEGMENT_FILTERS).
SEGMENT_NAMES = ("county", "work", "language", "gender", "community", "status", "joined_after", "joined_before",
                 "enrolled_in", "completed", "not_completed")
DATE_FILTERS = ("joined_after", "joined_before")
EVERYONE = {"ALL", "EVERYONE", "WOTE", "KILA MTU"}


@dataclass(frozen=True)
class PreviewBroadcast(Effect):
    """Count the segment; the engine returns matched, opted_out, text_count, template_count, no_template, minutes."""

    segment: Mapping[str, Any]


@dataclass(frozen=True)
class SendBroadcast(Effect):
    """Create the broadcast and start it once the conversation's transaction commits (returns broadcast_id)."""

    text_en: str
    text_sw: str | None
    segment: Mapping[str, Any]


def parse_segment(text: str) -> dict[str, Any] | str:
    """'county Nairobi, Kisumu; language sw' → a segment; ALL → everyone; a message id when it is wrong."""
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
        else:
            segment[name] = values
    return segment if segment else "unknown"


def text_answer(inp: Input) -> str | None:
    """A message text within WhatsApp's length, or None."""
    text = inp.text.strip() if inp.kind == "text" else ""
    return text if 0 < len(text) <= MAX_TEXT else None


class TextEn(Step):
    name = "text_en"
    topic = msg(N_("the broadcast text in English"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        return (msg(N_("New broadcast. Type the message in English.")),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        text = text_answer(inp)
        if text is None:
            return Invalid(msg(N_("Please type the message as text, at most %(max)s characters."), max=MAX_TEXT))
        return Answer({"text_en": text})


class TextSw(Step):
    name = "text_sw"
    topic = msg(N_("the broadcast text in Swahili"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        return (msg(N_("Now type the same message in Swahili, or SKIP to send the English text to everyone.")),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        if inp.means("skip"):
            return Answer({"text_sw": None})
        text = text_answer(inp)
        if text is None:
            return Invalid(msg(N_("Please type the message as text, at most %(max)s characters."), max=MAX_TEXT))
        return Answer({"text_sw": text})


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
        if isinstance(segment, str):
            return Invalid(msg(N_("I did not understand those filters.")))
        preview = Reply.of(
            msg(N_("Preview: %(matched)s members match. %(opted_out)s are left out because they opted out.")),
            msg(N_("%(text_count)s will get the text; %(template_count)s are outside the 24-hour window and will "
                   "get the template; %(no_template)s will get nothing (no template for their language).")),
            msg(N_("About %(minutes)s minutes to send.")),
        )
        return Answer({"segment": segment}, effects=(PreviewBroadcast(segment),), replies=(preview,))


class Confirm(Step):
    name = "confirm"
    topic = msg(N_("whether to send the broadcast"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        return (msg(N_("Reply YES to send it now, or NO to drop it. Nothing is sent without YES.")),)

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        data = state.data
        if inp.means("yes"):
            effect = SendBroadcast(data["text_en"], data.get("text_sw"), dict(data.get("segment") or {}))
            done = Reply.of(msg(N_("Broadcast %(broadcast_id)s is on its way. Send BROADCAST STATUS %(broadcast_id)s "
                                   "for the figures.")))
            return Exit(Result(None, (done,), (effect,)))
        if inp.means("no"):
            return Exit(Result(None, (Reply.of(msg(N_("Dropped. Nothing was sent."))),)))
        return Invalid(msg(N_("Please reply YES or NO.")))


class BroadcastForm(Form):
    """BROADCAST for organisers."""

    name = NAME
    steps = (TextEn(), TextSw(), Segment(), Confirm())
    review_step = "confirm"

    def finish(self, ctx: Ctx, state: State) -> Result:  # the Confirm step always exits
        return Result(None)


FLOW = BroadcastForm()
