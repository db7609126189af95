"""The staff commands framework's own command: STAFF lists the commands a staff member may use."""

from __future__ import annotations

from bot.commands import basics
from bot.core.area import Area

AREA = Area("commands", commands=(basics.list_commands,))
