"""Switching language: a one-question flow that returns to whatever the member was doing.

The languages are the LANGUAGES setting (`Settings.languages`), offered in one numbered line, each in its own
name ("1 English · 2 Kiswahili · 3 Français · 4 Soomaali · 5 العربية"). A language's name, in any language,
switches to it at any step (the engine's vocabulary holds the names: they are keywords).
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.base import N_, Choices, Ctx, Input, Option, Part, Reply, Result, State, Text, msg
from flows.choices import read, which_one
from flows.effects import SetLanguage
from flows.form import Answer, Exit, Form, Invalid, Step, Unsure

NAME = "language"

FSI, PDI = "\u2068", "\u2069"  # a name isolated from its neighbours (an Arabic name in a Latin line, and back)

# Translators: a language's names as members type them, separated by '|', in capitals; sent alone at any
# step they switch to that language. Keep the English names out of the translation (they always work).
# Every language's name in every configured language (Babel's data: FRANÇAIS, KIFARANSA…) works too.
LANGUAGE_NAMES: dict[str, str] = {
    "en": N_("ENGLISH|IN ENGLISH"),
    "sw": N_("SWAHILI|KISWAHILI|IN SWAHILI"),
}


def name_of(ctx: Ctx, code: str) -> str:
    """A language's name written in itself (its code when the settings give none)."""
    return ctx.settings.language_names.get(code) or code.upper()


def offer(ctx: Ctx) -> Text:
    """Every configured language in one numbered line, each written in itself."""
    return Text(" · ".join(f"{FSI}{n} {name_of(ctx, code)}{PDI}" for n, code in enumerate(ctx.settings.languages, 1)))


def choices(ctx: Ctx) -> Choices:
    """The configured languages as choices, each by its own name (and its names in the other languages)."""
    return Choices.of(Option(code, Text(name_of(ctx, code)), (LANGUAGE_NAMES[code],) if code in LANGUAGE_NAMES else ())
                      for code in ctx.settings.languages)


def names(ctx: Ctx, *, leave_out: str | None = None) -> Text:
    """The configured languages' own names, unnumbered ('English · Kiswahili · Français …')."""
    return Text(" · ".join(f"{FSI}{name_of(ctx, code)}{PDI}" for code in ctx.settings.languages if code != leave_out))


class Choose(Step):
    """Pick a language by number or name."""

    name = "choose"
    topic = msg(N_("which language you prefer"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """The languages in one numbered line, each in its own name."""
        return (msg(N_("Choose your language:")), offer(ctx))

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """A number or a name, loosely spelt (a name spelt right is a keyword, handled before); after a first
        message that did not tell its language, YES, JOIN or a greeting goes on in the language it is written in."""
        offered = choices(ctx)
        found = read(offered, ctx, inp)
        if found.one:
            return Exit(switch_to(found.one))
        if state.data.get("next") and any(inp.means(word) for word in ("yes", "join", "greeting")):
            return Exit(Result(None))
        if found.ask:
            return Unsure(which_one(offered, found))
        return Invalid(msg(N_("Please reply with the number of your language, or its name.")))


def switch_to(code: str) -> Result:
    """Switch straight to a language the member named (the engine renders the line in the new language)."""
    done = Reply.of(msg(N_("Done: I will write to you in English.")))
    return Result(None, (done,), (SetLanguage(code),))


class Language(Form):
    """The language switch."""

    name = NAME
    steps = (Choose(),)


FLOW = Language()
