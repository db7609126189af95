"""Saved answers: replies organisers write once, per language, and insert into their answers to tickets."""

from __future__ import annotations

import sqlalchemy as sa

from bot.audit import service as audit
from bot.core import i18n
from bot.core.extensions import db
from bot.models import SavedAnswer, utcnow


class SavedAnswerError(ValueError):
    """A saved answer without a title or a text, or in a language members are not served in."""


def check(title: str, language: str, text: str) -> tuple[str, str, str]:
    """The fields trimmed, or SavedAnswerError."""
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise SavedAnswerError("a saved answer needs a title and a text")
    if language not in i18n.LANGUAGES:
        raise SavedAnswerError(f"{language!r} is not one of the languages members are served in")
    return title[:80], language, text


def all_answers() -> list[SavedAnswer]:
    """Every saved answer, by language (in the order of LANGUAGES) then title."""
    rows = db.session.scalars(sa.select(SavedAnswer).order_by(SavedAnswer.title, SavedAnswer.id)).all()
    order = {lang: n for n, lang in enumerate(i18n.LANGUAGES)}
    return sorted(rows, key=lambda row: order.get(row.language, len(order)))


def answers_in(language: str | None) -> list[SavedAnswer]:
    """The saved answers in one language, by title."""
    return list(db.session.scalars(sa.select(SavedAnswer).where(SavedAnswer.language == (language or "en"))
                                   .order_by(SavedAnswer.title, SavedAnswer.id)))


def add(title: str, language: str, text: str, *, actor: str) -> SavedAnswer:
    """Keep a new saved answer (audited by title and language)."""
    title, language, text = check(title, language, text)
    answer = SavedAnswer(title=title, language=language, text=text)
    db.session.add(answer)
    db.session.flush()
    audit.record(actor, "saved_answer.add", f"saved answer #{answer.id}", title=title, language=language)
    return answer


def change(answer_id: int, title: str, language: str, text: str, *, actor: str) -> SavedAnswer | None:
    """Change a saved answer (None when there is no such answer); audited."""
    answer = db.session.get(SavedAnswer, answer_id)
    if answer is None:
        return None
    answer.title, answer.language, answer.text = check(title, language, text)
    answer.updated_at = utcnow()
    audit.record(actor, "saved_answer.change", f"saved answer #{answer.id}", title=answer.title,
                 language=answer.language)
    return answer


def delete(answer_id: int, *, actor: str) -> bool:
    """Delete a saved answer (False when there is no such answer); audited."""
    answer = db.session.get(SavedAnswer, answer_id)
    if answer is None:
        return False
    audit.record(actor, "saved_answer.delete", f"saved answer #{answer.id}", title=answer.title,
                 language=answer.language)
    db.session.delete(answer)
    return True
