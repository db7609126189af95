"""What staff may read of a member: who sees phone numbers and voucher codes whole, and the one masking
that every staff-facing text goes through otherwise (dashboard pages, CSV exports, WhatsApp staff replies).

Organisers see phone numbers and voucher codes masked; officers and admins see them whole (an admin holds
every role). Everywhere, staff know a member by member number and first name (`member_label`), or by a
reference such as P-1234 for someone without a member number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import phonenumbers
import sqlalchemy as sa
from flask import current_app

from bot.core.extensions import db
from bot.models import Member, Voucher

# Roles that may read phone numbers and voucher codes in full (the dashboard's rule since it began).
FULL_DATA_ROLES = frozenset({"officer", "admin"})
PROSPECT_PREFIX = "P-"
HIDDEN_CODE = "••••••"
# Bare digit runs long enough to be a phone number that the matcher did not take (a foreign number
# written without its country code, a number with a digit too many).
LONG_DIGITS = re.compile(r"\+?(?<![\w.])\d{9,15}(?![\w])")
# What voucher codes look like: 8+ capitals, digits and dashes with a letter and two digits
# ('LIP-AAA-111', 'X7K2-PQ9M-…'); codes of any shape are also found by looking them up.
CODE_SHAPE = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*[A-Z])(?=(?:[A-Z-]*\d){2})[A-Z0-9][A-Z0-9-]{6,126}[A-Z0-9](?![\w-])")
TOKEN = re.compile(r"[^\s]{1,128}")
TRIM = "\"'.,;:!?()[]{}<>«»“”"
LOOKUP_CHUNK = 500


def sees_full_data(roles: str | Iterable[str]) -> bool:
    """Whether a staff member of these roles (a dashboard role, or a WhatsApp staff member's roles) may read
    phone numbers and voucher codes whole."""
    held = {roles} if isinstance(roles, str) else set(roles)
    return bool(held & FULL_DATA_ROLES)


def mask_phone(phone: str | None) -> str:
    """'+2547•••••678': enough to tell numbers apart, not to call them."""
    if not phone:
        return ""
    return phone[:5] + "•" * max(len(phone) - 8, 0) + phone[-3:]


def first_name(name: str | None) -> str:
    """The first word of a name ('' when none)."""
    return (name or "").split(" ", 1)[0].strip()


def member_reference(member_id: int) -> str:
    """The stable reference of a contact without a member number: 'P-1234' from the member's id."""
    return f"{PROSPECT_PREFIX}{member_id}"


def member_label(member: Member | None) -> str:
    """How staff know a member: 'KUGWO-000123 Amina', or 'P-1234' for someone without a member number."""
    if member is None:
        return "?"
    if not member.member_number:
        return member_reference(member.id)
    return " ".join(filter(None, [member.member_number, first_name(member.name)]))


def member_number_pattern() -> re.Pattern[str]:
    """Member numbers ('KUGWO-000123'): shaped like a code, but they are how staff know members."""
    prefix = current_app.config.get("MEMBER_NUMBER_PREFIX", "KUGWO")
    return re.compile(rf"{re.escape(prefix)}-\d+")


def known_codes(texts: Iterable[str]) -> set[str]:
    """The voucher codes of the vouchers table that occur as words in these texts (one query per 500 words)."""
    words: set[str] = set()
    for text in texts:
        for token in TOKEN.findall(text):
            words.add(token)
            words.add(token.strip(TRIM))
    words.discard("")
    candidates = sorted(words)
    found: set[str] = set()
    for start in range(0, len(candidates), LOOKUP_CHUNK):
        chunk = candidates[start:start + LOOKUP_CHUNK]
        found.update(db.session.scalars(sa.select(Voucher.code).where(Voucher.code.in_(chunk))))
    return found


def mask_text(text: str, codes: set[str]) -> str:
    """The text with every phone number (any format) masked and every voucher code hidden: `codes` from
    the vouchers table and anything of a code's shape (member numbers stay)."""
    if not text:
        return text
    if codes:
        words = "|".join(re.escape(code) for code in sorted(codes, key=len, reverse=True))
        text = re.sub(rf"(?<![\w-])(?:{words})(?![\w-])", HIDDEN_CODE, text)
    member_number = member_number_pattern()
    text = CODE_SHAPE.sub(lambda found: found.group(0) if member_number.fullmatch(found.group(0)) else HIDDEN_CODE,
                          text)
    for match in reversed(list(phonenumbers.PhoneNumberMatcher(text, "KE", leniency=phonenumbers.Leniency.POSSIBLE))):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        text = text[:match.start] + mask_phone(e164) + text[match.end:]
    return LONG_DIGITS.sub(lambda found: mask_phone(found.group(0)), text)


def mask_texts(texts: Sequence[str | None]) -> list[str]:
    """Texts masked for a role that may not read phone numbers or voucher codes, with one lookup of the
    codes they contain (None becomes '')."""
    plain = [text or "" for text in texts]
    codes = known_codes(plain)
    return [mask_text(text, codes) for text in plain]


def shown_texts(texts: Sequence[str | None], roles: str | Iterable[str]) -> list[str]:
    """Texts as staff of these roles may read them: whole for officers and admins, masked for others."""
    if sees_full_data(roles):
        return [text or "" for text in texts]
    return mask_texts(texts)
