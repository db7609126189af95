"""Forms: a flow that asks one question at a time, validates each answer and re-asks with a reason.

A form is an ordered list of steps. Each step prompts and parses; an invalid answer re-asks with a
reason, never moves on silently, and after three misses offers the menu or a person. BACK returns to
the previous question, a long pause brings a 'welcome back' line, and a correction from a summary
returns to the summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flows.base import N_, Ctx, Effect, Input, Msg, Part, Reply, Result, State, msg

MAX_MISSES = 3


@dataclass(frozen=True)
class Answer:
    """A valid answer: data to save, and optionally the step to go to next."""

    data: Mapping[str, Any] = field(default_factory=dict)
    next: str | None = None
    effects: tuple[Effect, ...] = ()
    replies: tuple[Reply, ...] = ()


@dataclass(frozen=True)
class Invalid:
    """An answer that does not fit: the reason tells the member what is expected."""

    reason: Msg
    heard: tuple[Msg, ...] = ()  # what was not understood, said before the reason


@dataclass(frozen=True)
class Unsure:
    """An answer that fits several options: the lines that ask which one (not a miss)."""

    lines: tuple[Part, ...]


@dataclass(frozen=True)
class Exit:
    """An answer that leaves the form (a refusal, a finished form)."""

    result: Result


class Step:
    """One question of a form."""

    name: str = ""
    topic: Msg = Msg("")
    substep: bool = False

    def prompt(self, ctx: Ctx, state: State) -> Sequence[Part]:
        """The lines that ask the question."""
        raise NotImplementedError

    def parse(self, ctx: Ctx, state: State, inp: Input) -> Answer | Invalid | Unsure | Exit:
        """Read the member's answer."""
        raise NotImplementedError


NOT_TEXT = msg(N_("I can only read typed answers here."))
STUCK = msg(N_("Having trouble? Send MENU for the main menu, or AGENT to reach a person."))
WAY_OUT = msg(N_("(MENU: main menu · AGENT: a person)"))
WELCOME_BACK = N_("Welcome back! You were telling us %(topic)s.")
FIRST_QUESTION = msg(N_("This is the first question."))


def re_ask(state: State, reason: Part | Sequence[Part], *question: Part | Sequence[Part],
           data: Mapping[str, Any] | None = None) -> Result:
    """A wrong answer: the reason, the question again (`data`: the state's data if the question changed
    it) and the way out (MENU, AGENT); after MAX_MISSES in a row, the reason and STUCK (the menu or a
    person) instead, and the count starts again. Every flow re-prompts this way."""
    misses = state.errors + 1
    data = state.data if data is None else data
    if misses >= MAX_MISSES:
        return Result(State(state.flow, state.step, data, 0), (Reply.of(reason, STUCK),))
    return Result(State(state.flow, state.step, data, misses), (Reply.of(reason, *question, WAY_OUT),))


class Form:
    """A flow made of steps; subclasses give the steps and what happens at the end."""

    name: str = ""
    steps: Sequence[Step] = ()
    way_out: Msg = WAY_OUT  # the line that ends a question asked again (staff forms: CANCEL, STAFF)

    def __init__(self) -> None:
        self.by_name = {step.name: step for step in self.steps}
        self.main_steps = [step.name for step in self.steps if not step.substep]

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Begin at the first step."""
        state = State(self.name, self.main_steps[0], dict(data or {}))
        return self.ask(ctx, state)

    def ask(self, ctx: Ctx, state: State) -> Result:
        """Ask the current question."""
        return Result(state, (Reply.of(*self.by_name[state.step].prompt(ctx, state)),))

    def topic(self, state: State) -> Msg:
        """What this step is about."""
        step = self.by_name.get(state.step)
        return step.topic if step else msg(N_("your answers"))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Validate the answer to the current step and move on, or re-ask with a reason."""
        step = self.by_name.get(state.step)
        if step is None:
            return self.start(ctx)
        if inp.means("greeting") and (ctx.resumed or state.step != self.main_steps[0]):
            return self.welcome_back(ctx, state)
        outcome = step.parse(ctx, state, inp)
        if isinstance(outcome, Exit):
            return outcome.result
        if isinstance(outcome, Unsure):
            return Result(state, (Reply.of(*outcome.lines, self.way_out),))
        if isinstance(outcome, Invalid):
            if ctx.resumed:
                return self.welcome_back(ctx, state)
            return self.miss(ctx, state, outcome.reason, outcome.heard)
        history = [*state.data.get("history", []), state.step] if not step.substep else state.data.get("history", [])
        saved = state.with_data(**outcome.data, history=history)
        target = outcome.next or self.after(saved, step)
        result = self.finish(ctx, saved) if target is None else self.ask(ctx, saved.at(target))
        return Result(result.state, outcome.replies + result.replies, outcome.effects + result.effects)

    def after(self, state: State, step: Step) -> str | None:
        """The step after a main step (or the summary when correcting); None when the form is done."""
        if step.name == self.review_step:
            return None
        if state.data.get("fixing") and self.review_step:
            return self.review_step
        names = self.main_steps
        base = step.name if step.name in names else self.parent_of(step.name)
        index = names.index(base) + 1
        return names[index] if index < len(names) else None

    review_step: str | None = None

    def parent_of(self, substep: str) -> str:
        """The main step a sub-step belongs to."""
        names = [s.name for s in self.steps]
        for name in reversed(names[: names.index(substep)]):
            if name in self.main_steps:
                return name
        return self.main_steps[0]

    def miss(self, ctx: Ctx, state: State, reason: Msg, heard: Sequence[Msg] = ()) -> Result:
        """Re-ask after a wrong answer; after three, offer the menu or a person."""
        return re_ask(state, (*heard, reason), self.by_name[state.step].prompt(ctx, state))

    def welcome_back(self, ctx: Ctx, state: State) -> Result:
        """Remind the member where they were and ask again."""
        prompt = self.by_name[state.step].prompt(ctx, state)
        return Result(state, (Reply.of(msg(WELCOME_BACK, topic=self.topic(state)), *prompt),))

    def back(self, ctx: Ctx, state: State) -> Result:
        """Return to the previous main question."""
        history = list(state.data.get("history", []))
        if state.step in self.main_steps and not history:
            return Result(state, (Reply.of(FIRST_QUESTION, *self.by_name[state.step].prompt(ctx, state)),))
        if not history:
            return self.ask(ctx, state.at(self.parent_of(state.step)))
        previous = history.pop()
        return self.ask(ctx, state.at(previous, history=history))

    def finish(self, ctx: Ctx, state: State) -> Result:
        """What happens after the last step."""
        raise NotImplementedError
