"""Switching language: a one-question flow that returns to whatever the member was doing."""

from __future__ import annotations

from collections.abc import Sequence

from flows.base import N_, Ctx, Input, Line, Reply, Result, State, Text, msg, numbered
from flows.effects import SetLanguage
from flows.form import Answer, Exit, Form, Invalid, Step, pick_one

NAME = "language"

LANGUAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("en", "English", ("ENGLISH", "EN", "KIINGEREZA")),
    ("sw", "Kiswahili", ("KISWAHILI", "SWAHILI", "SW")),
)

# Translators: a language's names as members type them, separated by '|', in capitals; sent alone at any
# step they switch to that language. Keep the English names out of the translation (they always work).
LANGUAGE_NAMES: dict[str, str] = {
    "en": N_("ENGLISH|IN ENGLISH"),
    "sw": N_("SWAHILI|KISWAHILI|IN SWAHILI"),
}


class Choose(Step):
    """Pick a language by number or name."""

    name = "choose"
    topic = msg(N_("which language you prefer"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        """The languages, each in its own name."""
        return (msg(N_("Choose your language:")), *numbered([Text(name) for _, name, _ in LANGUAGES]))

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        """A number or a language name."""
        choice = pick_one(inp.text, len(LANGUAGES))
        words = inp.text.strip().upper()
        for index, (code, _, names) in enumerate(LANGUAGES, 1):
            if choice == index or words in names:
                return Exit(switch_to(code))
        return Invalid(msg(N_("Please reply 1 for English or 2 for Kiswahili.")))


def switch_to(code: str) -> Result:
    """Switch straight to a language the member named (the engine renders the line in the new language)."""
    done = Reply.of(msg(N_("Done: I will write to you in English.")))
    return Result(None, (done,), (SetLanguage(code),))


class Language(Form):
    """The language switch."""

    name = NAME
    steps = (Choose(),)


FLOW = Language()
