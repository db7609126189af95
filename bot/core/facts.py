"""Read-only knowledge the engine hands to flows in `MemberView.facts`, computed only when a flow asks.

Each area registers a loader under a name in `FACTS` (a function of the member); `facts_of` wraps them
in a mapping that runs a loader on first access and keeps its value for the rest of the message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bot.models import Member

FACTS: dict[str, Callable[[Member], Any]] = {}


class LazyFacts(Mapping[str, Any]):
    """A mapping whose values are computed on first access."""

    def __init__(self, member: Member, loaders: Mapping[str, Callable[[Member], Any]]) -> None:
        self.member = member
        self.loaders = dict(loaders)
        self.values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.values:
            self.values[name] = self.loaders[name](self.member)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.loaders)

    def __len__(self) -> int:
        return len(self.loaders)


def facts_of(member: Member) -> LazyFacts:
    """The facts of one member, each loaded when first read."""
    from bot.courses import service as courses  # noqa: F401  (they register their loaders)
    from bot.privacy import service as privacy  # noqa: F401  (they register their loaders)
    from bot.support import faq, tickets  # noqa: F401  (they register their loaders)

    return LazyFacts(member, FACTS)
