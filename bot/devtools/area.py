"""The development tools: the simulator (served only without a Twilio account, see SIMULATOR_ENABLED),
`flask chat` and `flask dev`."""

from __future__ import annotations

from flask import Flask

from bot.core.area import Area
from bot.devtools import cli, simulator


def setup(app: Flask) -> None:
    """The simulator's pages, when enabled."""
    if app.config["SIMULATOR_ENABLED"]:
        app.register_blueprint(simulator.bp)


AREA = Area("devtools", cli=(cli.chat, cli.dev), setup=setup)
