"""The engine's performers for the data-rights effects: a refused consent, DELETE MY DATA."""

from __future__ import annotations

from datetime import datetime

from bot.core.area import Performer
from bot.models import Member
from bot.privacy import service as privacy_service
from flows.base import Effect
from flows.effects import EraseMyData, ForgetContact


def perform_forget(member: Member, effect: ForgetContact, now: datetime) -> None:
    """Forget the person who refused consent (their row and messages are deleted)."""
    privacy_service.forget_person(member, now)


def perform_erase(member: Member, effect: EraseMyData, now: datetime) -> None:
    """Erase the member's personal data."""
    privacy_service.erase_member(member, now)


PRIVACY_PERFORMERS: dict[type[Effect], Performer] = {
    ForgetContact: perform_forget,
    EraseMyData: perform_erase,
}
