"""The curated questions and answers: loading `data/faq.yaml` into the database, and the cached
knowledge the question flow matches against."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import current_app

from bot.core import i18n
from bot.core.extensions import db
from bot.core.i18n import translate
from bot.models import FaqEntry, Member, utcnow
from flows.base import N_
from flows.faq import FaqIndex, FaqItem, Knowledge, answer_text, decide, question_text

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


class FaqFileError(ValueError):
    """The data file is not a list of complete entries."""


@dataclass(frozen=True)
class LoadReport:
    """What `load` changed."""

    added: int
    updated: int
    removed: int


def read_file(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a data file, checked: a unique key, and under English and Swahili (when configured) a
    question and an answer (paraphrases optional); another language's block is optional (without one, members
    reading it get the English answer) and checked when given."""
    required = {lang for lang in i18n.LANGUAGES if lang in i18n.FULL_LANGUAGES}
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
        texts: dict[str, dict[str, Any]] = {}
        for lang in sorted({*required, *(name for name in entry if name != "key")}):
            if not LANGUAGE_CODE.fullmatch(str(lang)):
                raise FaqFileError(f"entry {key!r}: {lang!r} is not a language code (each entry is a key, "
                                   "then per language code: question, answer, paraphrases)")
            block = entry.get(lang)
            if block is None and lang not in required:
                continue
            if not isinstance(block, dict):
                raise FaqFileError(f"entry {key!r}: '{lang}' needs a question and an answer")
            for part in ("question", "answer"):
                if not str(block.get(part) or "").strip():
                    raise FaqFileError(f"entry {key!r}: '{lang}' needs a {part}")
            paraphrases = block.get("paraphrases") or []
            if not isinstance(paraphrases, list):
                raise FaqFileError(f"entry {key!r}: '{lang}' paraphrases must be a list")
            texts[lang] = {"question": str(block["question"]).strip(), "answer": str(block["answer"]).strip(),
                           "paraphrases": [str(p).strip() for p in paraphrases if str(p).strip()]}
        entries.append({"key": key, "position": number, "texts": texts})
    return entries


def item_of(key: str, texts: Mapping[str, Mapping[str, Any]]) -> FaqItem:
    """An entry's per-language texts as the matcher's item."""
    return FaqItem(
        key=key,
        questions={lang: part["question"] for lang, part in texts.items()},
        answers={lang: part["answer"] for lang, part in texts.items()},
        paraphrases={lang: tuple(part.get("paraphrases") or ()) for lang, part in texts.items()},
    )


def items_from_file(path: str | Path) -> tuple[FaqItem, ...]:
    """The entries of a data file as the matcher's items, without a database."""
    return tuple(item_of(entry["key"], entry["texts"]) for entry in read_file(path))


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


_cache: dict[str, Any] = {"signature": None, "items": (), "index": None}
_lock = threading.Lock()


def items() -> tuple[tuple[FaqItem, ...], FaqIndex]:
    """Every entry and its prepared index, from a process cache refreshed when the table changes (one
    small query per use): the paraphrases are prepared once per change, not per message."""
    signature = tuple(db.session.execute(sa.select(sa.func.count(FaqEntry.id), sa.func.max(FaqEntry.updated_at))).one())
    with _lock:
        if _cache["signature"] == signature:
            return _cache["items"], _cache["index"]
    rows = db.session.scalars(sa.select(FaqEntry).order_by(FaqEntry.position, FaqEntry.id)).all()
    loaded = tuple(item_of(row.key, row.texts or {}) for row in rows)
    index = FaqIndex(loaded)
    with _lock:
        _cache.update(signature=signature, items=loaded, index=index)
    return loaded, index


CONTACT = N_("You can also call %(contact)s.")
PAY_HOW = N_("How to pay: %(how)s.")
PAY_ASK = N_("An organiser will tell you how and where to pay: send AGENT to ask.")
JOIN_NOW = N_("Send JOIN to join now.")
ALREADY_MEMBER = N_("You are already a member: your member number is %(number)s.")


def per_language(name: str, lang: str) -> str:
    """A setting shown to members in a language: NAME_SW for Swahili when set, else NAME."""
    config = current_app.config
    return str(config.get(f"{name}_{lang.upper()}") or config.get(name) or "")


def placeholder_values(lang: str, member: Member | None) -> dict[str, str]:
    """The answers' placeholders in one language, for one member."""
    contact = current_app.config["HELP_CONTACT"]
    how = per_language("DUES_PAYMENT", lang)
    number = member.member_number if member is not None and member.is_member else None
    return {
        "union": per_language("UNION_NAME", lang),
        "dues": per_language("MEMBERSHIP_DUES", lang),
        "pay": translate(lang, PAY_HOW) % {"how": how.rstrip(".")} if how else translate(lang, PAY_ASK),
        "contact": translate(lang, CONTACT) % {"contact": contact} if contact else "",
        "join": translate(lang, ALREADY_MEMBER) % {"number": number} if number else translate(lang, JOIN_NOW),
    }


def knowledge(member: Member | None = None) -> Knowledge:
    """What the question flow needs: the entries, their index, the thresholds and the placeholder values."""
    config = current_app.config
    loaded, index = items()
    values = {lang: placeholder_values(lang, member) for lang in i18n.LANGUAGES}
    return Knowledge(loaded, float(config["FAQ_MATCH_THRESHOLD"]), values,
                     float(config["FAQ_OFFER_THRESHOLD"]), index)


@dataclass(frozen=True)
class Suggestion:
    """The curated answer the matcher finds for a question: its key, and its question and answer in a language."""

    key: str
    question: str
    answer: str


def suggestion(text: str, lang: str, member: Member | None = None) -> Suggestion | None:
    """The answer the question flow would give to `text` (or the closest it would offer), in `lang` with the
    member's placeholders filled in; None when nothing is close."""
    facts = knowledge(member)
    decision = decide(text, facts)
    item = decision.answer or next(iter(decision.choices), None)
    if item is None:
        return None
    return Suggestion(item.key, question_text(item, lang), answer_text(item, lang, facts.values))
