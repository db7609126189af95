"""The sign-up scripts in English and Swahili played through the webhook: member says, bot answers."""

from __future__ import annotations

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Member
from tests.helpers.app import WhatsApp

Script = list[tuple[str, list[str]]]


def play(whatsapp: WhatsApp, script: Script) -> None:
    """Send each line and check the reply contains every expected fragment."""
    for says, expected in script:
        reply = whatsapp.says(says)
        for fragment in expected:
            assert fragment in reply, f"after {says!r}: expected {fragment!r} in {reply!r}"


def member_row(app, phone: str = "+254712345678") -> Member:
    """The stored member."""
    with app.app_context():
        member = db.session.scalars(sa.select(Member).where(Member.phone == phone)).one()
        db.session.expunge(member)
        return member


ENGLISH_HAPPY: Script = [
    ("Hi", ["Welcome to Kenya Union of Gig Workers!", "Other languages: \u2068Kiswahili\u2069 · \u2068Français\u2069", "may we keep your details?",
            "1. Yes, I am 18 or older and I agree", "3. I am under 18"]),
    ("1", ["What is your full name?"]),
    ("Amina Wanjiku", ["Which county do you live in?"]),
    ("Nbi", ["What kind of gig work do you do?", "2. Data annotation / AI training"]),
    ("2, 3", ["The law treats these as sensitive data", "1. Yes, ask me", "2. No, skip them"]),
    ("1", ["What is your gender?", "Reply SKIP"]),
    ("1", ["Are you a refugee or from a host community?"]),
    ("skip", ["Please check your details:", "1. Name: Amina Wanjiku", "2. County: Nairobi",
              "3. Work: Data annotation / AI training, Online freelancing", "4. Gender: Woman", "5. Community: not given"]),
    ("yes", ["Karibu, Amina Wanjiku! You are now a member of Kenya Union of Gig Workers.",
             "Your member number is KUGWO-000001."]),
]


SWAHILI_HAPPY: Script = [
    ("Habari", ["Karibu Kenya Union of Gig Workers!", "Lugha nyingine: \u2068English\u2069 · \u2068Français\u2069", "tunaomba ruhusa",
                "1. Ndiyo, nina miaka 18 au zaidi na nakubali"]),
    ("ndio", ["Jina lako kamili ni nani?"]),
    ("Baraka Otieno", ["Unaishi kaunti gani?"]),
    ("Kakuma", ["Unafanya kazi gani ya gig?"]),
    ("5", ["Sheria inaziona hizi kuwa taarifa nyeti", "1. Ndiyo, niulize"]),
    ("ndio", ["Jinsia yako ni ipi?", "Jibu RUKA"]),
    ("2", ["Wewe ni mkimbizi"]),
    ("1", ["Tafadhali hakikisha taarifa zako:", "2. Kaunti: Turkana", "3. Kazi: Usafiri kwa apu (Uber, Bolt) au delivery", "5. Jamii: Mkimbizi"]),
    ("NDIO", ["Karibu, Baraka Otieno! Sasa wewe ni mwanachama", "KUGWO-000001"]),
]
