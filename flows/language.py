"""Switching language: a one-question flow that returns to whatever the member was doing.

The languages are the LANGUAGES setting (`Settings.languages`), offered in one numbered line, each in its own
name ("1 English · 2 Kiswahili · 3 Français · 4 Soomaali · 5 العربية"). A language's name, in any language,
switches to it at any step (the engine's vocabulary holds the names: they are keywords).
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.base import N_, Ctx, Input, Line, Reply, Result, State, Text, msg
from flows.effects import SetLanguage
from flows.form import Answer, Exit, Form, Invalid, Step, pick_one

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


def names(ctx: Ctx, *, leave_out: str | None = None) -> Text:
    """The configured languages' own names, unnumbered ('English · Kiswahili · Français …')."""
    return Text(" · ".join(f"{FSI}{name_of(ctx, code)}{PDI}" for code in ctx.settings.languages if code != leave_out))


class Choose(Step):
    """Pick a language by number or name."""

    name = "choose"
    topic = msg(N_("which language you prefer"))

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Line]:
        """The languages in one numbered line, each in its own name."""
        return (msg(N_("Choose your language:")), offer(ctx))

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Exit:
        """A number (a language's name is a keyword, handled before); after a first message that did not tell
        its language, YES, JOIN or a greeting goes on in the language it is written in."""
        choice = pick_one(inp.text, len(ctx.settings.languages))
        if choice is not None:
            return Exit(switch_to(ctx.settings.languages[choice - 1]))
        if state.data.get("next") and any(inp.means(word) for word in ("yes", "join", "greeting")):
            return Exit(Result(None))
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
