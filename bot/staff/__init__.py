"""Staff commands on WhatsApp: officers, organisers and admins type a command word, members never see them.

Each area adds a module of commands and imports it in `load_commands`.
"""

from __future__ import annotations


def load_commands() -> None:
    """Import every module that registers staff commands."""
    import bot.staff.broadcast  # noqa: F401
    import bot.staff.courses  # noqa: F401
    import bot.staff.tickets  # noqa: F401
    from bot.staff import basics  # noqa: F401
    from bot.staff import stats as _stats  # noqa: F401
