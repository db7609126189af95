"""The top of every conversation: global keywords, the main menu, and handing input to the active flow.

`handle` is pure like every flow. The engine classifies the input (keywords in every language), calls
`handle`, performs the effects and renders the replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flows import (
    agree,
    broadcast,
    correct,
    courses,
    language,
    mydata,
    privacy,
    question,
    reconsent,
    signup,
    smalltalk,
)
from flows.base import (
    N_,
    Choices,
    Ctx,
    Effect,
    Flow,
    Input,
    Line,
    Msg,
    Option,
    Reply,
    Result,
    State,
    Text,
    msg,
)
from flows.choices import not_understood, read, which_one
from flows.effects import Enrol, OpenTicket, OptIn, OptOut, ResumeBroadcasts, SetLanguage, StopBroadcasts
from flows.form import WAY_OUT, re_ask
from flows.vocabulary import INTENTS
from flows.yes_no import yes_no

FLOWS: dict[str, Flow] = {
    signup.NAME: signup.FLOW,
    language.NAME: language.FLOW,
    question.NAME: question.FLOW,
    mydata.NAME: mydata.FLOW,
    courses.COURSES: courses.COURSES_FLOW,
    courses.MY_COURSES: courses.MY_COURSES_FLOW,
    courses.CERTIFICATE: courses.CERTIFICATE_FLOW,
    broadcast.NAME: broadcast.FLOW,
    privacy.NAME: privacy.FLOW,
    reconsent.NAME: reconsent.FLOW,
    correct.NAME: correct.FLOW,
    agree.NAME: agree.FLOW,
}

MENU = "menu"
# Flows for staff: CANCEL there returns to the staff commands, not the member's menu.
STAFF_FLOWS = {broadcast.NAME: broadcast.cancelled}
# Steps that take any text as it is (a broadcast's text): staff command words are not read there.
TEXT_STEPS = {broadcast.NAME: broadcast.TEXT_STEPS}


def takes_any_text(state: State | None) -> bool:
    """Whether the current step takes the whole message as it is, command words included."""
    return state is not None and state.step in TEXT_STEPS.get(state.flow, ())


@dataclass(frozen=True)
class MenuItem:
    """One entry of the main menu: its number, who sees it and the flow it starts."""

    number: int
    flow: str
    label: str
    audience: str = "all"
    intent: str | None = None

    def shown_to(self, ctx: Ctx) -> bool:
        """Whether this member sees the item."""
        if self.audience == "members":
            return ctx.member.is_member
        if self.audience == "non_members":
            return not ctx.member.is_member
        return True


# Each item keeps its number whoever reads the menu: the items everyone sees come first (1-5), so joining
# changes none of them; after them come the prospect's one item (6, Join) or the member's two (6, 7). A
# number means another item only where the old one no longer applies (Join after joining).
MENU_ITEMS: tuple[MenuItem, ...] = (
    MenuItem(1, "courses", N_("Free courses"), "all", "courses"),
    MenuItem(2, "question", N_("Ask a question"), "all", "question"),
    MenuItem(3, "mydata", N_("My data"), "all", "mydata"),
    MenuItem(4, language.NAME, N_("Language: %(languages)s"), "all"),
    MenuItem(5, privacy.NAME, N_("Privacy notice"), "all"),
    MenuItem(6, signup.NAME, N_("Join the union"), "non_members", "join"),
    MenuItem(6, "mycourses", N_("My courses"), "members", "mycourses"),
    MenuItem(7, "certificate", N_("Report a certificate"), "members", "certificate"),
)

STOPPED = msg(N_("You will not get any more messages from us. Send START at any time to receive them again."))
OPTED_OUT_HINT = msg(N_("You have stopped messages from us. Send START to receive them again."))
RESTARTED = msg(N_("Welcome back! You will receive our messages again."))
COMING_SOON = msg(N_("This is coming soon. Please check again in a few days."))
CANCELLED = msg(N_("Stopped. Nothing more was saved."))
EXPIRED = msg(N_("We closed our last conversation because it was left for a long time."))
NOT_UNDERSTOOD = msg(N_("Please reply with a number or a word from the menu."))
BROADCASTS_STOPPED = msg(N_("You will not get union news (broadcasts) any more. Course reminders and answers to your "
                            "questions go on. Send BROADCASTS ON to get the news again."))
BROADCASTS_RESTARTED = msg(N_("You will get union news (broadcasts) again. Send NO BROADCASTS to stop them."))
CONFIRM_STOP = msg(N_("Stop all messages from us? Reply YES to stop them, or NO to keep them."))
STOP_CHOICES = yes_no(msg(N_("Yes, stop all messages")), msg(N_("No, keep getting them")))
CONFIRM_STOP_AGAIN = msg(N_("Please reply 1 (YES) to stop all messages from us, or 2 (NO) to keep them."))


def help_reply(ctx: Ctx) -> Reply:
    """What the global keywords do, and how to reach a person."""
    lines: list[Msg] = [
        msg(N_("Send one of these words at any time:")),
        msg(N_("MENU: the main menu")),
        msg(N_("BACK: the previous question")),
        msg(N_("CANCEL: stop what you are doing")),
        msg(N_("LANGUAGE: change the language (%(languages)s)"), languages=language.names(ctx)),
        msg(N_("COURSES: the free courses; CERTIFICATE: report a course you finished")),
        msg(N_("MY DATA: what we keep about you; CHANGE MY DETAILS: correct it; DELETE MY DATA: erase it")),
        msg(N_("AGENT: a person answers you here; CALL ME: a person calls you")),
        msg(N_("STOP: no more messages from us; START: messages again")),
        msg(N_("NO BROADCASTS: no union news, reminders go on; BROADCASTS ON: the news again")),
        msg(N_("PRIVACY: how we use your data and your rights")),
    ]
    if ctx.settings.help_contact:
        lines.append(msg(N_("To talk to a person: %(contact)s"), contact=Text(ctx.settings.help_contact)))
    return Reply.of(*lines)


def items_for(ctx: Ctx) -> list[MenuItem]:
    """The menu items this member sees, in order."""
    return [item for item in MENU_ITEMS if item.shown_to(ctx)]


def menu_choices(ctx: Ctx) -> Choices:
    """The menu items this member sees, by their fixed numbers, each with its keyword's words."""
    return Choices.of(Option(item.flow, msg(item.label, languages=language.names(ctx)),
                             (INTENTS[item.intent],) if item.intent else (), number=item.number)
                      for item in items_for(ctx))


def menu(ctx: Ctx, *before: Line, errors: int = 0) -> Result:
    """Show the main menu and wait for a choice."""
    body = Reply.of(*before, msg(N_("Main menu. Reply with a number:")), menu_choices(ctx))
    return Result(State(MENU, "choose", {}, errors), (body,))


def start_flow(ctx: Ctx, name: str, data: Mapping[str, Any] | None = None) -> Result:
    """Start a flow by name, or say it is coming soon; the notice first if the start would store something
    about someone who never agreed to it."""
    flow = FLOWS.get(name)
    if flow is None:
        return menu(ctx, COMING_SOON)
    started = flow.start(ctx, data)
    if stores_before_consent(ctx, started):
        return agree.FLOW.start(ctx, {"then": name, "data": dict(data or {})})
    return started


# What stores something about a person beyond their message: asked only after they agreed to the notice.
STORING_EFFECTS: tuple[type[Effect], ...] = (OpenTicket, Enrol)


def stores_before_consent(ctx: Ctx, result: Result) -> bool:
    """Whether a result would store something about a prospect who has not agreed to the notice (a staff
    number is the union's own: its free words are refused as staff words, never stored as a ticket)."""
    if ctx.member.is_member or ctx.member.consented or ctx.member.roles:
        return False
    return any(isinstance(effect, STORING_EFFECTS) for effect in result.effects)


def ask_consent_for(ctx: Ctx, state: State, inp: Input) -> Result:
    """The notice before an answer that would store something; after YES the same answer is read again."""
    return agree.FLOW.start(ctx, {"then": state.flow, "state": state.to_json(), "text": inp.text,
                                  "intents": sorted(inp.intents)})


def carry_on(ctx: Ctx, agreed: Result) -> Result:
    """After YES to the notice: record the consent, then what was asked (the flow started, or the answer read
    again at the step it was given)."""
    ctx = replace(ctx, member=replace(ctx.member, consented=True))
    data = agreed.state.data if agreed.state else {}
    saved = State.from_json(data.get("state"))
    flow = FLOWS.get(saved.flow) if saved else None
    if saved is not None and flow is not None:
        answer = Input(text=str(data.get("text") or ""), intents=frozenset(data.get("intents") or ()))
        went_on = flow.handle(ctx, saved, answer)
    else:
        went_on = start_flow(ctx, str(data.get("then")), data.get("data"))
    return Result(None, agreed.replies, agreed.effects).then(went_on)


# Whole messages that hold a menu item's words but ask for something else ("my data file", "change my details",
# "delete my data"): read before the menu's loose matching, which would take them for MY DATA.
MORE_THAN_A_MENU_WORD = ("delete_data", "mydata_file", "correct")


def choose_from_menu(ctx: Ctx, state: State, inp: Input) -> Result:
    """Start the flow the member picked, or re-show the menu with what is expected."""
    if state.step == "confirm_stop":
        return confirm_stop(ctx, state, inp)
    if any(inp.means(intent) for intent in MORE_THAN_A_MENU_WORD):
        return free_text(ctx, inp) or menu(ctx)
    items = items_for(ctx)
    offered = menu_choices(ctx)
    found = read(offered, ctx, inp)
    chosen = [item for item in items if item.flow == found.one]
    if chosen:
        return start_item(ctx, state, chosen[0])
    for item in items:
        if item.intent and inp.means(item.intent):
            return start_item(ctx, state, item)
    if ctx.member.is_member and inp.means("join"):
        return menu(ctx, *signup.already_member(ctx).lines)
    if found.ask and not found.unknown and len(inp.text.split()) <= 2:  # longer: a question for the FAQ
        return Result(State(MENU, "choose", {}, state.errors), (Reply.of(*which_one(offered, found), WAY_OUT),))
    chat = smalltalk.kind_of(inp)
    if inp.kind == "empty":
        return menu(ctx)
    if chat == "greeting":
        return menu(ctx, smalltalk.HELLO)
    if chat is not None:
        return Result(State(MENU, "choose", {}, state.errors),
                      (Reply.of(smalltalk.reply_line(chat), smalltalk.ANYTHING_ELSE),))
    shortcut = free_text(ctx, inp)
    if shortcut is not None:
        return shortcut
    [shown] = menu(ctx).replies
    return re_ask(State(MENU, "choose", {}, state.errors), NOT_UNDERSTOOD, shown.parts())


def ask_to_stop() -> Result:
    """ACHA at the menu: whether to stop all messages, as a yes/no choice."""
    return Result(State(MENU, "confirm_stop"), (Reply.of(CONFIRM_STOP, STOP_CHOICES),))


def confirm_stop(ctx: Ctx, state: State, inp: Input) -> Result:
    """Yes stops every message, no keeps them (the menu); a menu word or a question is answered as at the menu
    and stops nothing; anything else asks again, with the way out."""
    found = read(STOP_CHOICES, ctx, inp)
    if found.one == "yes":
        return Result(None, (Reply.of(STOPPED),), (OptOut(),))
    if found.one == "no":
        return menu(ctx)
    if found.ask:
        return Result(state, (Reply.of(*which_one(STOP_CHOICES, found), WAY_OUT),))
    if says_more_than_yes_or_no(ctx, inp):
        return choose_from_menu(ctx, State(MENU, "choose"), inp)
    return re_ask(state, (*not_understood(found), CONFIRM_STOP_AGAIN), CONFIRM_STOP, STOP_CHOICES)


def says_more_than_yes_or_no(ctx: Ctx, inp: Input) -> bool:
    """Whether a message at a yes/no asks for something else: a menu item, a person, or a question of a few
    words ("ok and how much is the fee")."""
    if read(menu_choices(ctx), ctx, inp).one or any(inp.means(i) for i in (*MORE_THAN_A_MENU_WORD, "agent", "call_me")):
        return True
    return inp.kind == "text" and len(inp.text.split()) >= question.NEW_QUESTION_WORDS


def free_text(ctx: Ctx, inp: Input) -> Result | None:
    """Words the menu does not expect: DELETE MY DATA, CHANGE MY DETAILS, a request for a person or a call, or a question for the FAQ
    (not right after an expired conversation, when the words likely answered the old question)."""
    if inp.means("delete_data"):
        return start_flow(ctx, mydata.NAME, {"delete": True})
    if inp.means("mydata_file"):
        return start_flow(ctx, mydata.NAME, {"file": True})
    if inp.means("correct"):
        return start_flow(ctx, correct.NAME)
    if inp.means("agent"):
        return start_flow(ctx, question.NAME, {"agent": True})
    if inp.means("call_me"):
        return start_flow(ctx, question.NAME, {"call_me": inp.text})
    if inp.kind == "text" and not ctx.expired and not inp.text.strip().rstrip(".)").isdigit():
        return start_flow(ctx, question.NAME, {"text": inp.text})
    return None


def start_item(ctx: Ctx, state: State, item: MenuItem) -> Result:
    """Start a menu item's flow; the language switch returns to the menu afterwards."""
    if item.flow == language.NAME:
        return start_flow(ctx, item.flow, {"return": None})
    return start_flow(ctx, item.flow)


def idle(ctx: Ctx, inp: Input) -> Result:
    """A message when no flow is active."""
    if not ctx.member.is_member:
        if ctx.first_contact and ctx.language_unsure:
            return offer_languages(ctx)
        if ctx.first_contact or inp.means("join") or inp.means("greeting") or inp.keyword == "start":
            return start_flow(ctx, signup.NAME)
        return choose_from_menu(ctx, State(MENU, "choose"), inp)
    if inp.means("join"):
        return menu(ctx, *signup.already_member(ctx).lines)
    if smalltalk.kind_of(inp) == "greeting" or inp.keyword == "start":
        return menu(ctx, msg(N_("Hello %(name)s!"), name=Text(ctx.member.name or "")))
    return choose_from_menu(ctx, State(MENU, "choose"), inp)


def offer_languages(ctx: Ctx) -> Result:
    """A first message that did not tell its language: who we are, in DEFAULT_LANGUAGE, and the languages to
    choose from; the sign-up follows in the one chosen (or in this one, after YES or JOIN)."""
    offer = start_flow(ctx, language.NAME, {"next": signup.NAME})
    return Result(offer.state, (signup.intro(ctx, offer=False), *offer.replies), offer.effects)


def resume(ctx: Ctx, raw: Mapping[str, Any] | None) -> Result:
    """Return to a saved state after a sub-flow (a language switch), asking its question again."""
    saved = State.from_json(raw)
    if saved is None:
        return menu(ctx)
    if saved.flow == MENU:
        return menu(ctx)
    flow = FLOWS.get(saved.flow)
    return flow.ask(ctx, saved) if flow else menu(ctx)


def handle(ctx: Ctx, state: State | None, inp: Input) -> Result:
    """Answer one inbound message."""
    keyword = inp.keyword
    if keyword == "stop":
        if ctx.member.opted_out:
            return Result(None)
        return Result(None, (Reply.of(STOPPED),), (OptOut(),))
    if keyword == "privacy":
        # The full notice at any step, before or without consenting; the conversation stays where it was.
        notice = Result(state, privacy.full_notice(ctx))
        return notice if ctx.member.opted_out else notice.then(ask_again(ctx, state))
    if ctx.member.opted_out:
        if keyword == "start":
            return Result(None, (Reply.of(RESTARTED),), (OptIn(),)).then(menu(ctx))
        if keyword == "help":
            return Result(state, (help_reply(ctx),))
        return Result(state, (Reply.of(OPTED_OUT_HINT),))
    if keyword in ("no_broadcasts", "broadcasts_on"):
        # An objection (Data Protection Act s.26(c), s.36) at any step, like STOP; the conversation stays where it was.
        stop = keyword == "no_broadcasts"
        changed = Result(state, (Reply.of(BROADCASTS_STOPPED if stop else BROADCASTS_RESTARTED),),
                         (StopBroadcasts() if stop else ResumeBroadcasts(),))
        return changed.then(ask_again(ctx, state))
    if asks_new_notice(ctx, state, inp):
        return start_flow(ctx, reconsent.NAME, {"return": state.to_json() if state else None})
    if ctx.expired and keyword is None:
        return idle_after_expiry(ctx, inp)
    if keyword == "help":
        return Result(state, (help_reply(ctx),)).then(ask_again(ctx, state))
    if keyword == "menu":
        return menu(ctx)
    if keyword in ("cancel", "cancel_or_stop") and state is not None and state.flow in STAFF_FLOWS:
        return STAFF_FLOWS[state.flow](ctx, state)
    if keyword == "cancel":
        return menu(ctx, CANCELLED) if state and state.flow != MENU else menu(ctx)
    if keyword == "cancel_or_stop":
        if state and state.flow != MENU:
            return menu(ctx, CANCELLED)
        return ask_to_stop()
    if keyword == "language":
        return start_flow(ctx, language.NAME, {"return": state.to_json() if state else None})
    if keyword and keyword.startswith("language:"):
        switched = language.switch_to(keyword.split(":", 1)[1])
        ctx = in_new_language(ctx, switched)
        if state and state.flow == language.NAME:  # named at the language question: back to what it interrupted
            then = state.data.get("next")
            state = State.from_json(state.data.get("return"))
            if then and state is None:
                return switched.then(start_flow(ctx, then))
        return switched.then(after_language_switch(ctx, state))
    if keyword == "back":
        flow = FLOWS.get(state.flow) if state else None
        return flow.back(ctx, state) if flow and state else menu(ctx)
    if state is None:
        return idle(ctx, inp)
    if state.flow == MENU:
        return choose_from_menu(ctx, state, inp)
    flow = FLOWS.get(state.flow)
    if flow is None:
        return idle(ctx, inp)
    result = flow.handle(ctx, state, inp)
    if result.state is not None and result.state.flow == agree.NAME and result.state.step == agree.AGREED:
        return carry_on(ctx, result)
    if stores_before_consent(ctx, result):
        return ask_consent_for(ctx, state, inp)
    if result.state is None and state.data.get("next"):  # after the list of languages a first message got
        chosen = in_new_language(ctx, result)
        welcomed = {"welcomed": True} if chosen.lang == ctx.lang else None  # the same language: no second welcome
        return Result(None, result.replies, result.effects).then(start_flow(chosen, state.data["next"], welcomed))
    if result.state is None and "return" in state.data:
        return Result(None, result.replies, result.effects).then(
            resume(in_new_language(ctx, result), state.data.get("return")))
    return result


def in_new_language(ctx: Ctx, result: Result) -> Ctx:
    """The context after a result that switches language (what follows is written for the new reader)."""
    for effect in result.effects:
        if isinstance(effect, SetLanguage) and effect.language in ctx.settings.languages:
            return replace(ctx, lang=effect.language)
    return ctx


def asks_new_notice(ctx: Ctx, state: State | None, inp: Input) -> bool:
    """Whether this message is the one at which a member who agreed to an older notice is asked again: HELP and
    DELETE MY DATA work without answering (STOP and PRIVACY are answered before)."""
    if not ctx.member.notice_outdated or (state is not None and state.flow in (reconsent.NAME, mydata.NAME)):
        return False
    return inp.keyword != "help" and not inp.means("delete_data")


def after_language_switch(ctx: Ctx, state: State | None) -> Result:
    """Where a member who named a language goes on: the question they were at, the sign-up for a first
    message, else the menu."""
    if state is not None:
        return resume(ctx, state.to_json())
    if ctx.first_contact and not ctx.member.is_member:
        return start_flow(ctx, signup.NAME)
    return menu(ctx)


def idle_after_expiry(ctx: Ctx, inp: Input) -> Result:
    """The first message after a conversation expired: say so, then treat it as a fresh message."""
    fresh = idle(ctx, inp)
    if fresh.replies:
        first, *rest = fresh.replies
        return Result(fresh.state, (Reply((EXPIRED, *first.lines)), *rest), fresh.effects)
    return fresh


def ask_again(ctx: Ctx, state: State | None) -> Result:
    """Repeat the current question (after HELP); the menu when nothing is active."""
    if state is None or state.flow == MENU:
        return Result(state)
    flow = FLOWS.get(state.flow)
    return flow.ask(ctx, state) if flow else Result(state)
