"""Small talk: thanks, greetings, laughter and emoji get a short friendly reply, never a ticket (pure).

Only where the member is at the menu or asking a question: a flow that expects yes or no reads SAWA,
OK and POA as yes before small talk is considered.
"""

from __future__ import annotations

import re
import unicodedata

from flows.base import N_, Input, Msg, msg

LAUGHTER = re.compile(r"^(?:a?(?:ha){2,}h?|(?:he){2,}h?|(?:hi){2,}|lo+l|lmf?ao|hhh+|😂+|🤣+)$")

WELCOME = msg(N_("You're welcome!"))
HELLO = msg(N_("Hello!"))
SMILE = msg(N_("😊"))
ANYTHING_ELSE = msg(N_("Send MENU for the main menu, or write your question."))


def kind_of(inp: Input) -> str | None:
    """What kind of small talk a message is (thanks, greeting, laughter, emoji), or None for anything else."""
    if inp.kind != "text":
        return None
    if inp.means("smalltalk"):
        return "thanks" if inp.means("thanks") else "greeting"
    words = re.findall(r"\w+|[^\w\s]+", inp.text.lower())
    if words and all(LAUGHTER.match(word) for word in words):
        return "laughter"
    if any(unicodedata.category(char) == "So" for char in inp.text) and not re.search(r"\w", inp.text):
        return "emoji"
    return None


def reply_line(kind: str) -> Msg:
    """The friendly line for a kind of small talk."""
    return {"thanks": WELCOME, "greeting": HELLO}.get(kind, SMILE)
