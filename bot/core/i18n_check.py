"""Checks that every marked message has a translation in every language, with the same placeholders.

English and Swahili are complete in every domain; every other configured language is complete in the domains
members read (`i18n.MEMBER_DOMAINS`), and may fall back to English in the staff-only ones.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

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
                str(directory), method_map=[("**.py", "python")], keywords={"N_": None, "NP_": (1, 2)}
            ):
                if only is None or filename == only:
                    ids.add(message if isinstance(message, str) else message[0])
        found[domain] = ids
    return found


def required_domains(lang: str) -> tuple[str, ...]:
    """The domains a language must be complete in."""
    return tuple(i18n.DOMAINS) if lang in i18n.FULL_LANGUAGES else i18n.MEMBER_DOMAINS


@dataclass(frozen=True)
class Coverage:
    """How much of one domain one language translates."""

    lang: str
    domain: str
    translated: int
    total: int
    required: bool
    problems: tuple[str, ...]

    @property
    def percent(self) -> float:
        """The share translated, 0-100 (100 for an empty domain)."""
        return 100.0 * self.translated / self.total if self.total else 100.0


def coverage(languages: Iterable[str] | None = None) -> list[Coverage]:
    """Each configured language's completeness in each domain, with its problems (missing, fuzzy, placeholders)."""
    sources = source_messages()
    rows: list[Coverage] = []
    for lang in languages or i18n.LANGUAGES:
        if lang == i18n.SOURCE_LANGUAGE:
            continue
        for domain, ids in sources.items():
            required = domain in required_domains(lang)
            path = i18n.LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
            if not path.exists():
                rows.append(Coverage(lang, domain, 0, len(ids), required,
                                     (f"{lang}/{domain}: catalog missing ({path})",)))
                continue
            entries = {m.id if isinstance(m.id, str) else m.id[0]: m
                       for m in read_po(BytesIO(path.read_bytes()), locale=lang) if m.id}
            problems: list[str] = []
            for message_id in sorted(ids):
                entry = entries.get(message_id)
                forms = entry.string if entry is not None and isinstance(entry.string, tuple) else (
                    (entry.string,) if entry is not None else ())
                if entry is None or not forms or not all(forms):
                    problems.append(f"{lang}/{domain}: untranslated: {message_id!r}")
                elif entry.fuzzy:
                    problems.append(f"{lang}/{domain}: fuzzy: {message_id!r}")
                elif any(set(PLACEHOLDER.findall(message_id)) != set(PLACEHOLDER.findall(str(form)))
                         for form in forms):
                    problems.append(f"{lang}/{domain}: placeholders differ: {message_id!r}")
            rows.append(Coverage(lang, domain, len(ids) - len(problems), len(ids), required, tuple(problems)))
    return rows


def missing_translations(languages: Iterable[str] | None = None) -> list[str]:
    """Human-readable problems in the domains each language must be complete in."""
    return [problem for row in coverage(languages) if row.required for problem in row.problems]


@dataclass
class CoverageCache:
    """The last coverage computed in this process, and the files' state it was computed from."""

    signature: tuple[object, ...] | None = None
    rows: tuple[Coverage, ...] = ()


_coverage_cache = CoverageCache()
_coverage_lock = threading.Lock()


def files_signature(languages: tuple[str, ...]) -> tuple[object, ...]:
    """What the coverage is computed from, cheaply: every marked source file's and catalog's size and change time."""
    paths: list[Path] = []
    for sources in i18n.DOMAINS.values():
        for source in sources:
            target = i18n.ROOT / source
            paths.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    paths.extend(i18n.LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po" for lang in languages for domain in i18n.DOMAINS)
    signature: list[object] = [languages, str(i18n.LOCALES_DIR)]
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            signature.append((str(path), None))
            continue
        signature.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def cached_coverage() -> list[Coverage]:
    """`coverage()` for the configured languages, computed again only when a source file or catalog changed (reading
    every source file's messages takes a second or more: too slow for each view of a page)."""
    signature = files_signature(tuple(i18n.LANGUAGES))
    with _coverage_lock:
        if _coverage_cache.signature == signature:
            return list(_coverage_cache.rows)
    rows = tuple(coverage())
    with _coverage_lock:
        _coverage_cache.signature, _coverage_cache.rows = signature, rows
    return list(rows)
