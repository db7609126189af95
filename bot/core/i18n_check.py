"""Checks that every marked message has a translation in every language, with the same placeholders."""

from __future__ import annotations

import re
from io import BytesIO

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core import i18n

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def source_messages() -> dict[str, set[str]]:
    """Every message marked in the code, by domain (what `flask translate extract` would collect)."""
    found: dict[str, set[str]] = {}
    for domain, paths in i18n.DOMAINS.items():
        ids: set[str] = set()
        for path in paths:
            target = i18n.ROOT / path
            directory, only = (target, None) if target.is_dir() else (target.parent, target.name)
            for filename, _lineno, message, _comments, _context in extract_from_dir(
                str(directory), method_map=[("**.py", "python")], keywords={"N_": None}
            ):
                if only is None or filename == only:
                    ids.add(message if isinstance(message, str) else message[0])
        found[domain] = ids
    return found


def missing_translations() -> list[str]:
    """Human-readable problems: messages without a translation, fuzzy ones, mismatched placeholders."""
    problems: list[str] = []
    for domain, ids in source_messages().items():
        for lang in i18n.LANGUAGES:
            if lang == i18n.SOURCE_LANGUAGE:
                continue
            path = i18n.LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
            if not path.exists():
                problems.append(f"{lang}/{domain}: catalog missing ({path})")
                continue
            entries = {m.id: m for m in read_po(BytesIO(path.read_bytes()), locale=lang) if m.id}
            for message_id in sorted(ids):
                entry = entries.get(message_id)
                if entry is None or not entry.string:
                    problems.append(f"{lang}/{domain}: untranslated: {message_id!r}")
                elif entry.fuzzy:
                    problems.append(f"{lang}/{domain}: fuzzy: {message_id!r}")
                elif set(PLACEHOLDER.findall(message_id)) != set(PLACEHOLDER.findall(str(entry.string))):
                    problems.append(f"{lang}/{domain}: placeholders differ: {message_id!r}")
    return problems
