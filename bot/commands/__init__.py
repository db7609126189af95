"""Staff commands on WhatsApp: officers, organisers and admins type a command word, members never see them.

Each area adds a module of commands and imports it in `load_commands`.
"""

from __future__ import annotations


def load_commands() -> None:
    """Import every module that registers staff commands."""
    import bot.broadcasts.staff  # noqa: F401
    import bot.courses.staff  # noqa: F401
    import bot.support.staff  # noqa: F401
    from bot.commands import basics  # noqa: F401
    from bot.stats import staff as _stats  # noqa: F401
