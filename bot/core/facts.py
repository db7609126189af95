"""Read-only knowledge the engine hands to flows in `MemberView.facts`, computed only when a flow asks.

Each area declares its loaders by name in its `Area.facts` (a function of the member); `facts_of` wraps
the installed ones in a mapping that runs a loader on first access and keeps its value for the rest of
the message. A name no area declares raises `UnknownFact` (a KeyError), with `get` too: a mistyped name
is a bug, not a missing value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from bot.core.area import assembled

if TYPE_CHECKING:
    from bot.models import Member


class UnknownFact(KeyError):
    """A flow or command asked for a fact that no area declares."""

    def __init__(self, name: object, known: Iterator[str]) -> None:
        super().__init__(f"no area declares the fact {name!r} (known: {', '.join(sorted(known))})")


class LazyFacts(Mapping[str, Any]):
    """A mapping whose values are computed on first access."""

    def __init__(self, member: Member, loaders: Mapping[str, Callable[[Member], Any]]) -> None:
        self.member = member
        self.loaders = dict(loaders)
        self.values: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaders:
            raise UnknownFact(name, iter(self.loaders))
        if name not in self.values:
            self.values[name] = self.loaders[name](self.member)
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        """The fact's value; an unknown name raises, as with `[]` (a Mapping's `get` would hide it)."""
        return self[name]

    def __contains__(self, name: object) -> bool:
        return name in self.loaders

    def __iter__(self) -> Iterator[str]:
        return iter(self.loaders)

    def __len__(self) -> int:
        return len(self.loaders)


def facts_of(member: Member) -> LazyFacts:
    """The facts of one member, each loaded when first read."""
    return LazyFacts(member, assembled().facts)
