"""Staff commands on WhatsApp: officers, organisers and admins type a command word, members never see them.

Each area writes its commands with `@staff_command` (`bot/commands/registry.py`) and lists them in its
`Area.commands`; the framework's own (STAFF) are in the commands area (`bot/commands/area.py`).
"""
