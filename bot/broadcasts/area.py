"""The broadcasts area: messages to a segment of members, from WhatsApp, the dashboard or `flask broadcast`."""

from __future__ import annotations

from bot.broadcasts import cli, service, staff
from bot.core.area import Area
from bot.core.jobs import job
from bot.core.periodic import PeriodicJob
from flows.effects import PreviewBroadcast, SendBroadcast


@job
def supervise_broadcasts() -> dict[str, int]:
    """Start due broadcasts, pause/resume for quiet hours, recover the leases of workers that died."""
    from bot.broadcasts.service import tick

    return tick()


AREA = Area(
    "broadcasts",
    performers={PreviewBroadcast: staff.perform_preview, SendBroadcast: staff.perform_send},
    commands=(staff.broadcast_command,),
    delivery_status=service.record_status,
    delivery_statuses=service.record_statuses,
    send_progress=service.progress_of_running,
    periodic=(PeriodicJob(supervise_broadcasts, "default", interval=60),),
    cli=(cli.broadcast,),
    tables=("broadcasts", "broadcast_deliveries"),
    # A delivery keeps only its status: the text is the broadcast's, the phone number the member's row's.
    anonymous_tables=("broadcast_deliveries",),
)
