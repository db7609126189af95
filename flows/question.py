"""Ask a question: the best curated answer in the member's language, 'did it help?', and a ticket for an
organiser when the member asks for a person, when the answer did not help, or when nothing matched and
the member confirms. When unsure, the two closest answers are offered by number, then a person.
Small talk (thanks, greetings, emoji) gets a friendly reply, never a ticket.
CALL ME / NIPIGIE opens (or adds to) the ticket and records the member's consent to be called: the
organiser handling the ticket sees their number, nobody else does.

While a ticket is open the member's messages are added to it, until an organiser closes it or the
member sends MENU. The engine supplies the answers (`facts["faq"]`, a `Knowledge`) and whether a ticket
is still open (`facts["open_ticket"]`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows import mydata, smalltalk
from flows.base import N_, Choices, Ctx, Input, Msg, Option, Reply, Result, State, Text, msg
from flows.choices import ask_which, read
from flows.effects import AddToTicket, OpenTicket
from flows.faq import FaqItem, Knowledge, answer_text, decide, find_choice, question_text
from flows.form import NOT_TEXT, re_ask
from flows.vocabulary import INTENTS
from flows.yes_no import YES_OR_NO, yes_no

NAME = "question"
# The step where what the member writes goes to their open ticket.
TICKET = "ticket"
MAX_TEXT = 1000
NEW_QUESTION_WORDS = 3  # after an answer, a message this long is a new question rather than a wrong reply
MAX_ASKED = 3  # questions the FAQ answered in this conversation, kept in the state to open a ticket with

ASK = msg(N_("What would you like to know? Write your question in a few words."))
DID_IT_HELP = msg(N_("Did this answer help? Reply 1 for yes or 2 for no."))
YES_NO = msg(N_("Please reply 1 if the answer helped or 2 if it did not."))
GLAD = msg(N_("Glad it helped! Ask another question any time, or send MENU for the main menu."))
NO_MATCH = msg(N_("I have passed your question to an organiser (ticket #%(ticket)s)."))
UNSURE = msg(N_("I am not sure which answer you need. Reply with a number:"))
NO_ANSWER = msg(N_("I do not have an answer to that yet. Reply with a number:"))
A_PERSON = msg(N_("Pass my question to a person (an organiser)"))
OTHER_WORDS = msg(N_("Or write your question in other words, or send MENU for the main menu."))
PICK = msg(N_("Please reply with one of the numbers, or write your question in other words."))
NOT_HELPED = msg(N_("Sorry it did not help. I have passed your question to an organiser (ticket #%(ticket)s)."))
AGENT = msg(N_("An organiser will answer you here (ticket #%(ticket)s). Write your question and send it."))
WILL_ANSWER = msg(N_("Someone will answer you here soon. Anything you write now is added to your question; "
                     "send MENU when you are done."))
ADDED = msg(N_("Added to your question for the organisers (ticket #%(ticket)s)."))
CALL_ME = msg(N_("An organiser will call you on this number (ticket #%(ticket)s). By asking, you agree that the "
                 "organiser handling your question sees your number; nobody else does."))
IN_WORDS = msg(N_("Please write your question in words (or send MENU for the main menu)."))
WAITING = msg(N_("An organiser will answer you here. Send MENU for the main menu."))


def knowledge(ctx: Ctx) -> Knowledge:
    """The curated answers, as the engine supplies them."""
    value = ctx.member.facts.get("faq")
    return value if isinstance(value, Knowledge) else Knowledge()


def clip(text: str) -> str:
    """The member's text, trimmed to what a ticket keeps."""
    return text.strip()[:MAX_TEXT]


def open_ticket(text: str, reason: str, first: Msg, faq_key: str | None = None,
                asked: tuple[str, ...] = (), *, call_me: bool = False) -> Result:
    """Open a ticket (or add to the open one), starting with the questions asked before, and wait for the
    organiser's answer."""
    effect = OpenTicket(clip(text), reason, faq_key, asked=asked, call_me=call_me)
    return Result(State(NAME, TICKET), (Reply.of(first, WILL_ANSWER),), (effect,))


def call_me(text: str) -> Result:
    """The member asks to be called: a ticket that records their consent to the holder seeing the number."""
    return open_ticket(text, "call_me", CALL_ME, call_me=True)


def asked_before(state: State) -> tuple[str, ...]:
    """The earlier questions of this conversation that the FAQ answered, oldest first."""
    earlier = state.data.get("asked")
    return tuple(str(text) for text in earlier if text) if isinstance(earlier, list) else ()


def asked_so_far(state: State) -> tuple[str, ...]:
    """The questions of this conversation, oldest first (the last one included)."""
    last = (str(state.data["text"]),) if state.data.get("text") else ()
    return (*asked_before(state), *last)[-MAX_ASKED:]


def answer(ctx: Ctx, text: str, inp: Input | None = None, asked: tuple[str, ...] = ()) -> Result:
    """Answer a question from the curated set, or offer the closest answers and a person (a ticket starts
    with the questions `asked` before)."""
    if inp is not None and inp.means("agent"):
        return open_ticket("", "asked", AGENT, asked=asked)
    chat = smalltalk.kind_of(inp) if inp is not None else None
    if chat is not None:
        return chatted(chat)
    facts = knowledge(ctx)
    decision = decide(text, facts)
    if decision.answer is not None:
        return answered(ctx, decision.answer, text, asked)
    if ctx.member.facts.get("open_ticket") and not decision.choices:
        return open_ticket(text, "no_match", NO_MATCH, asked=asked)  # a person already has the question: add this to it
    data = {"choices": [item.key for item in decision.choices], "text": clip(text), "asked": list(asked[-(MAX_ASKED - 1):])}
    return offer(ctx, State(NAME, "choose", data))


def answered(ctx: Ctx, item: FaqItem, text: str, asked: tuple[str, ...] = ()) -> Result:
    """One curated answer, then 'did it help?'."""
    reply = Reply.of(Text(answer_text(item, ctx.lang, knowledge(ctx).values)), DID_IT_HELP)
    data = {"faq": item.key, "text": clip(text), "asked": list(asked[-(MAX_ASKED - 1):])}
    return Result(State(NAME, "helped", data), (reply,))


def chatted(kind: str) -> Result:
    """Small talk: a friendly line; after a greeting, the question is asked."""
    if kind == "greeting":
        return Result(State(NAME, "ask"), (Reply.of(smalltalk.HELLO, ASK),))
    return Result(None, (Reply.of(smalltalk.reply_line(kind), smalltalk.ANYTHING_ELSE),))


def offered(ctx: Ctx, state: State) -> list[FaqItem]:
    """The answers offered at the 'choose' step, in the order shown."""
    by_key = {item.key: item for item in knowledge(ctx).items}
    return [by_key[key] for key in state.data.get("choices") or () if key in by_key]


def choices(ctx: Ctx, state: State) -> Choices:
    """The choices: the closest answers' questions (each in every language), then a person."""
    return Choices.of((
        *(Option(item.key, Text(question_text(item, ctx.lang)), words=tuple(item.questions.values()))
          for item in offered(ctx, state)),
        Option(PERSON, A_PERSON, (INTENTS["agent"],)),
    ))


# Whether 'did it help?' was answered: yes or no, by number or word (the list is not shown, the numbers are said).
HELPED = yes_no(Text("1"), Text("2"), yes_words=(
    N_("HELPED|IT HELPED|IT HELPED ME|THAT HELPED|IT DID|USEFUL|THANKS|THANK YOU"),))
PERSON = "person"


def offer(ctx: Ctx, state: State, *before: Msg) -> Result:
    """Offer the closest answers (if any) and a person, by number."""
    intro = UNSURE if offered(ctx, state) else NO_ANSWER
    return Result(state, (Reply.of(*before, intro, choices(ctx, state), OTHER_WORDS),))


class Question:
    """The question flow: ask → (answer → helped?) or ticket."""

    name = NAME

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Answer the text the member already sent, open a ticket for a person, or ask for the question."""
        data = data or {}
        if data.get("call_me"):
            return call_me(str(data["call_me"]))
        if data.get("agent"):
            return open_ticket("", "asked", AGENT)
        text = str(data.get("text") or "").strip()
        if text:
            return answer(ctx, text)
        return Result(State(NAME, "ask"), (Reply.of(ASK),))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Read the member's message at the current step (MY DATA and DELETE MY DATA work here too)."""
        if inp.means("delete_data"):
            return mydata.FLOW.start(ctx, {"delete": True})
        if inp.means("mydata_file"):
            return mydata.FLOW.start(ctx, {"file": True})
        if inp.means("mydata"):
            return mydata.FLOW.start(ctx)
        if inp.means("call_me"):
            return call_me(inp.text)
        if state.step == "helped":
            return self.helped(ctx, state, inp)
        if state.step == TICKET:
            return self.in_ticket(ctx, state, inp)
        if state.step == "choose":
            return self.choose(ctx, state, inp)
        if inp.kind != "text":
            return self.miss(state, NOT_TEXT, ASK)
        if inp.text.strip().rstrip(".)").isdigit():
            return self.miss(state, IN_WORDS, ASK)
        return answer(ctx, inp.text, inp)

    def helped(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """1 / yes: done; 2 / no: a ticket; a few words: a new question; anything else: asked again."""
        found = read(HELPED, ctx, inp).one
        if found == "yes" or smalltalk.kind_of(inp) in ("thanks", "emoji"):
            return Result(None, (Reply.of(GLAD),))
        if found == "no" or inp.means("no"):
            *earlier, last = asked_so_far(state) or ("",)
            return open_ticket(last, "not_helped", NOT_HELPED, state.data.get("faq"), tuple(earlier))
        if inp.means("agent") or (inp.kind == "text" and len(inp.text.split()) >= NEW_QUESTION_WORDS):
            return answer(ctx, inp.text, inp, asked_so_far(state))
        return self.miss(state, YES_NO, DID_IT_HELP)

    def choose(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """A number or the words of an offered answer: that answer; the last number, AGENT or yes: a
        ticket with the question; small talk or a new question: read as such; anything else: asked again."""
        items = offered(ctx, state)
        question, earlier = str(state.data.get("text") or ""), asked_before(state)
        offer_choices = choices(ctx, state)
        found = read(offer_choices, ctx, inp)
        picked = next((item for item in items if item.key == found.one), None)
        if picked is not None:
            return answered(ctx, picked, question, earlier)
        if found.one == PERSON or inp.means("agent") or (not items and read(YES_OR_NO, ctx, inp).one == "yes"):
            return open_ticket(question, "no_match", NO_MATCH, asked=earlier)
        if inp.kind != "text":
            return re_ask(state, NOT_TEXT, offer_choices, OTHER_WORDS)
        if found.ask and len(inp.text.split()) < NEW_QUESTION_WORDS:
            return ask_which(state, offer_choices, found)
        named = find_choice(inp.text, items, knowledge(ctx)) if items else None
        if named is not None:
            return answered(ctx, named, question, earlier)
        chat = smalltalk.kind_of(inp)
        if chat is not None or inp.means("no"):
            return chatted(chat or "thanks")
        if len(inp.text.split()) >= NEW_QUESTION_WORDS:
            return answer(ctx, inp.text, inp, asked_so_far(state))
        return re_ask(state, PICK, offer_choices, OTHER_WORDS)

    def in_ticket(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Add the message to the open ticket; once an organiser closed it, treat it as a new question."""
        if not ctx.member.facts.get("open_ticket"):
            if inp.kind != "text":
                return Result(State(NAME, "ask"), (Reply.of(NOT_TEXT, ASK),))
            return answer(ctx, inp.text, inp)
        if inp.kind != "text":
            return Result(state, (Reply.of(NOT_TEXT, WAITING),))
        return Result(state, (Reply.of(ADDED),), (AddToTicket(clip(inp.text)),))

    def miss(self, state: State, reason: Msg, prompt: Msg) -> Result:
        """Re-ask after a wrong answer; after three, offer the menu or a person."""
        return re_ask(state, reason, prompt)

    def back(self, ctx: Ctx, state: State) -> Result:
        """There is no earlier question: ask this one again."""
        return self.ask(ctx, state)

    def ask(self, ctx: Ctx, state: State) -> Result:
        """Repeat what the member is expected to send."""
        if state.step == "choose":
            return offer(ctx, state)
        prompt = {"helped": DID_IT_HELP, TICKET: WAITING}.get(state.step, ASK)
        return Result(state, (Reply.of(prompt),))

    def topic(self, state: State) -> Msg:
        """What the member was doing."""
        return msg(N_("your question"))


FLOW = Question()
