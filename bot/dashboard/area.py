"""The dashboard area: the staff web dashboard at /admin and its accounts (`flask admin`)."""

from __future__ import annotations

from bot.core.area import Area
from bot.dashboard import cli, init_dashboard

AREA = Area("dashboard", cli=(cli.admin,), setup=init_dashboard, tables=("dashboard_users",))
