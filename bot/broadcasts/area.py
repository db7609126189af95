"""The broadcasts area: messages to a segment of members, from WhatsApp, the dashboard or `flask broadcast`."""

from __future__ import annotations

from bot.broadcasts import cli, staff
from bot.core import periodic
from bot.core.area import Area
from bot.core.periodic import PeriodicJob
from flows.effects import PreviewBroadcast, SendBroadcast

AREA = Area(
    "broadcasts",
    performers={PreviewBroadcast: staff.perform_preview, SendBroadcast: staff.perform_send},
    commands=(staff.broadcast_command,),
    periodic=(PeriodicJob(periodic.supervise_broadcasts, "default", interval=60),),
    cli=(cli.broadcast,),
    tables=("broadcasts", "broadcast_deliveries"),
    # A delivery keeps only its status: the text is the broadcast's, the phone number the member's row's.
    anonymous_tables=("broadcast_deliveries",),
)
