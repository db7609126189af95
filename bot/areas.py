"""The composition root: every area of Umoja, in order. `create_app` installs them (`install`).

The order is the order in which DELETE MY DATA runs the areas' erasure hooks (the messages first, the
member's own fields after all of them) and in which STATS shows their sections. Adding an area is one
package with an `area.py` declaring its `Area`, and one line here.
"""

from __future__ import annotations

from flask import Flask

from bot.broadcasts.area import AREA as BROADCASTS
from bot.certificates.area import AREA as CERTIFICATES
from bot.commands.area import AREA as COMMANDS
from bot.core import audit, cli, engine, health
from bot.core.area import Area
from bot.courses.area import AREA as COURSES
from bot.dashboard.area import AREA as DASHBOARD
from bot.devtools.area import AREA as DEVTOOLS
from bot.members.area import AREA as MEMBERS
from bot.privacy.area import AREA as PRIVACY
from bot.stats.area import AREA as STATS
from bot.support.area import AREA as SUPPORT
from bot.whatsapp.area import AREA as WHATSAPP
from flows.effects import ConcernsMembers


def core_setup(app: Flask) -> None:
    """The health checks."""
    app.register_blueprint(health.bp)


# The frame the other areas plug into: the engine, the audit log, the catalogs' and development commands.
CORE = Area(
    "core",
    erasure_hooks=(audit.erase_audit_mentions,),
    performers={ConcernsMembers: engine.perform_concerns},
    cli=(cli.translate, cli.chat, cli.dev),
    setup=core_setup,
    tables=("audit_events",),
)

AREAS: tuple[Area, ...] = (
    WHATSAPP,
    MEMBERS,
    CORE,
    PRIVACY,
    CERTIFICATES,
    SUPPORT,
    STATS,
    COURSES,
    BROADCASTS,
    COMMANDS,
    DASHBOARD,
    DEVTOOLS,
)
