"""Effects of the question, ticket and data-rights flows (performed by the engine, see `bot/core/engine.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from flows.base import Effect


@dataclass(frozen=True)
class OpenTicket(Effect):
    """Hand the member's question to an organiser (or add it to the member's open ticket).

    The engine gives the replies the ticket number as the parameter `ticket`. With `call_me` the ticket
    records when the member asked to be called (consent for its holder to see their number).
    """

    text: str
    reason: str
    faq_key: str | None = None
    call_me: bool = False
    # The member's earlier questions in this conversation (the FAQ answered them): the ticket starts with them.
    asked: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddToTicket(Effect):
    """Add what the member wrote to their open ticket (parameter `ticket` for the replies)."""

    text: str


@dataclass(frozen=True)
class EraseMyData(Effect):
    """Erase the member's personal data, keeping only anonymous aggregates (Data Protection Act 2019)."""
