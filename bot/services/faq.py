"""The curated questions and answers: loading `data/faq.yaml` into the database, and the cached
knowledge the question flow matches against."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import current_app

from bot.extensions import db
from bot.i18n import LANGUAGES
from bot.models import FaqEntry, Member, utcnow
from bot.services.facts import FACTS
from flows.faq import FaqItem, Knowledge


class FaqFileError(ValueError):
    """The data file is not a list of complete entries."""


@dataclass(frozen=True)
class LoadReport:
    """What `load` changed."""

    added: int
    updated: int
    removed: int


def read_file(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a data file, checked: a unique key, question and answer in every language."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise FaqFileError("the file must be a list of entries")
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or not entry["key"].strip():
            raise FaqFileError(f"entry {number}: a 'key' is required")
        key = entry["key"].strip()
        if key in seen:
            raise FaqFileError(f"entry {number}: the key {key!r} is used twice")
        seen.add(key)
        row: dict[str, Any] = {"key": key, "position": number}
        for part in ("question", "answer"):
            texts = entry.get(part)
            for lang in LANGUAGES:
                if not isinstance(texts, dict) or not str(texts.get(lang) or "").strip():
                    raise FaqFileError(f"entry {key!r}: '{part}' needs a text in {lang}")
                row[f"{part}_{lang}"] = str(texts[lang]).strip()
        keywords = entry.get("keywords") or {}
        for lang in LANGUAGES:
            words = keywords.get(lang) if isinstance(keywords, dict) else None
            row[f"keywords_{lang}"] = "|".join(str(w).strip() for w in (words or []) if str(w).strip())
        entries.append(row)
    return entries


def load(path: str | Path) -> LoadReport:
    """Make the database hold exactly the file's entries (added, changed, removed by key); commits."""
    entries = read_file(path)
    existing = {row.key: row for row in db.session.scalars(sa.select(FaqEntry))}
    added = updated = 0
    now = utcnow()
    for entry in entries:
        row = existing.pop(entry["key"], None)
        if row is None:
            db.session.add(FaqEntry(**entry, updated_at=now))
            added += 1
        elif any(getattr(row, name) != value for name, value in entry.items()):
            for name, value in entry.items():
                setattr(row, name, value)
            row.updated_at = now
            updated += 1
    for row in existing.values():
        db.session.delete(row)
    db.session.commit()
    return LoadReport(added, updated, len(existing))


_cache: dict[str, Any] = {"signature": None, "items": ()}
_lock = threading.Lock()


def items() -> tuple[FaqItem, ...]:
    """Every entry, from a process cache refreshed when the table changes (one small query per use)."""
    signature = tuple(db.session.execute(sa.select(sa.func.count(FaqEntry.id), sa.func.max(FaqEntry.updated_at))).one())
    with _lock:
        if _cache["signature"] == signature:
            return _cache["items"]
    rows = db.session.scalars(sa.select(FaqEntry).order_by(FaqEntry.position, FaqEntry.id)).all()
    loaded = tuple(
        FaqItem(
            key=row.key,
            questions={"en": row.question_en, "sw": row.question_sw},
            answers={"en": row.answer_en, "sw": row.answer_sw},
            keywords=tuple(w for w in f"{row.keywords_en}|{row.keywords_sw}".split("|") if w),
        )
        for row in rows
    )
    with _lock:
        _cache.update(signature=signature, items=loaded)
    return loaded


def knowledge(member: Member | None = None) -> Knowledge:
    """What the question flow needs: the entries, the threshold and the values for the placeholders."""
    config = current_app.config
    values = {"union": config["UNION_NAME"], "dues": config["MEMBERSHIP_DUES"] or "",
              "contact": config["HELP_CONTACT"] or config["UNION_SHORT_NAME"]}
    return Knowledge(items(), float(config["FAQ_MATCH_THRESHOLD"]), values)


FACTS["faq"] = knowledge
