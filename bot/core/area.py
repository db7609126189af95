"""What an area of Umoja plugs into the app, as plain constants, and the assembly of every area's parts.

Each area package declares one `Area` in its `area.py` (its facts, erasure and retention hooks and checks, STATS
sections, effect performers, staff commands, periodic jobs, `flask` command groups, and a setup function
for its blueprints); `bot/areas.py` lists the areas and `create_app` assembles them (`install`). The
owners of each kind of part (the engine's facts and performers, DELETE MY DATA, retention, STATS, the
staff commands, the clock) read the assembled parts with `assembled()`: no part joins by being imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    import click

    from bot.commands.registry import StaffCommand
    from bot.core.periodic import PeriodicJob
    from bot.models import Member
    from bot.stats.service import SectionProvider
    from bot.support.inbox import InboxSource
    from flows.base import Effect

FactLoader = Callable[["Member"], Any]
ErasureHook = Callable[["Member", datetime], None]
RetentionHook = Callable[[datetime], int]
Performer = Callable[["Member", Any, datetime], Mapping[str, Any] | None]
AfterMessage = Callable[["Member", datetime], None]
# A message of the area's kind (a `messages.kind`, the name of its template) that will not reach the member:
# Twilio refused it after accepting it (63016) and no template can carry it.
NotSent = Callable[["Member", Mapping[str, Any], datetime], None]
DeliveryStatus = Callable[[int, str, str, int | None], object]
DeliveryStatuses = Callable[[Any, datetime], int]
SendProgress = Callable[[], Mapping[int, Mapping[str, int]]]

EXTENSION = "umoja.areas"


@dataclass(frozen=True)
class HeldPastTime:
    """One kind of data the privacy notice names, how long it is kept, and how many items are held past that
    (`flask retention report`; it should be none)."""

    kind: str
    kept_for: str
    count: int


RetentionCheck = Callable[[datetime], Iterable[HeldPastTime]]


@dataclass(frozen=True)
class Area:
    """One area's parts. `tables`: the tables the area owns; `anonymous_tables`: those of them whose rows
    stay when a member erases their data because they hold nothing identifying (they count in STATS)."""

    name: str
    facts: Mapping[str, FactLoader] = field(default_factory=dict)
    erasure_hooks: tuple[ErasureHook, ...] = ()
    retention_hooks: tuple[RetentionHook, ...] = ()
    # What the area holds past its time, per kind of data the privacy notice names (`flask retention report`).
    retention_checks: tuple[RetentionCheck, ...] = ()
    stats_sections: tuple[SectionProvider, ...] = ()
    performers: Mapping[type[Effect], Performer] = field(default_factory=dict)
    commands: tuple[StaffCommand, ...] = ()
    periodic: tuple[PeriodicJob, ...] = ()
    cli: tuple[click.Command, ...] = ()
    setup: Callable[[Flask], None] | None = None
    tables: tuple[str, ...] = ()
    anonymous_tables: tuple[str, ...] = ()
    # Job paths of the previous release → the functions that run them now (`bot.core.jobs.RenamedJob`).
    renamed_jobs: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # Run after a member's message went through the flows (not for a person just forgotten).
    after_message: tuple[AfterMessage, ...] = ()
    # A status callback naming one of the area's deliveries (`?d=` in the URL it gave Twilio).
    delivery_status: DeliveryStatus | None = None
    # A batch of such callbacks from the status stream (`bot.whatsapp.statuses.StatusUpdate`s): applied in
    # one statement, returns how many rows moved.
    delivery_statuses: DeliveryStatuses | None = None
    # id → counts of the area's sends in progress, for the metrics endpoint.
    send_progress: SendProgress | None = None
    # Its kinds of conversation with members in the organisers' inbox (`bot.support.inbox`).
    inbox_sources: tuple[InboxSource, ...] = ()
    # message kind → what the area does when a message of that kind will not reach the member after all.
    not_sent: Mapping[str, NotSent] = field(default_factory=dict)


@dataclass(frozen=True)
class Assembly:
    """Every area's parts put together, in the order of the areas (erasure hooks run and STATS sections
    show in that order)."""

    areas: tuple[Area, ...]
    facts: Mapping[str, FactLoader]
    erasure_hooks: tuple[ErasureHook, ...]
    retention_hooks: tuple[RetentionHook, ...]
    retention_checks: tuple[RetentionCheck, ...]
    stats_sections: tuple[SectionProvider, ...]
    performers: Mapping[type[Effect], Performer]
    commands: Mapping[str, StaffCommand]
    periodic: tuple[PeriodicJob, ...]
    renamed_jobs: Mapping[str, Callable[..., Any]]
    after_message: tuple[AfterMessage, ...]
    delivery_status: DeliveryStatus | None
    delivery_statuses: DeliveryStatuses | None
    send_progress: SendProgress | None
    inbox_sources: tuple[InboxSource, ...] = ()
    not_sent: Mapping[str, NotSent] = field(default_factory=dict)


def unique(kind: str, pairs: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """A mapping from (key, value) pairs; two areas giving the same key is a mistake, not an override."""
    merged: dict[Any, Any] = {}
    for key, value in pairs:
        if key in merged:
            raise ValueError(f"two areas declare the {kind} {key!r}")
        merged[key] = value
    return merged


def only(kind: str, found: list[Any]) -> Any:
    """The one area's part of a kind only one area may give (None when none does)."""
    if len(found) > 1:
        raise ValueError(f"two areas declare the {kind}")
    return found[0] if found else None


def assemble(areas: Iterable[Area]) -> Assembly:
    """Put the areas' parts together (fails on a fact, performer or command word declared twice)."""
    areas = tuple(areas)
    return Assembly(
        areas=areas,
        facts=MappingProxyType(unique("fact", (item for a in areas for item in a.facts.items()))),
        erasure_hooks=tuple(hook for a in areas for hook in a.erasure_hooks),
        retention_hooks=tuple(hook for a in areas for hook in a.retention_hooks),
        retention_checks=tuple(check for a in areas for check in a.retention_checks),
        stats_sections=tuple(section for a in areas for section in a.stats_sections),
        performers=MappingProxyType(unique("performer of", (item for a in areas for item in a.performers.items()))),
        commands=MappingProxyType(unique("staff command", ((c.word, c) for a in areas for c in a.commands))),
        periodic=tuple(job for a in areas for job in a.periodic),
        renamed_jobs=MappingProxyType(unique("job path", (item for a in areas for item in a.renamed_jobs.items()))),
        after_message=tuple(hook for a in areas for hook in a.after_message),
        delivery_status=only("delivery status", [a.delivery_status for a in areas if a.delivery_status]),
        delivery_statuses=only("delivery statuses", [a.delivery_statuses for a in areas if a.delivery_statuses]),
        send_progress=only("send progress", [a.send_progress for a in areas if a.send_progress]),
        inbox_sources=tuple(unique("inbox kind", ((s.kind, s) for a in areas for s in a.inbox_sources)).values()),
        not_sent=MappingProxyType(unique("not-sent hook of", (item for a in areas for item in a.not_sent.items()))),
    )


def install(app: Flask, areas: Iterable[Area]) -> Assembly:
    """Make the areas' parts the app's (`create_app` installs `bot.areas.AREAS`)."""
    assembly = assemble(areas)
    app.extensions[EXTENSION] = assembly
    return assembly


def assembled(app: Flask | None = None) -> Assembly:
    """The parts of the areas installed in the app (the current one by default)."""
    return (app or current_app).extensions[EXTENSION]
