"""A staff number that has written to the bot once (so it has a language)."""

from __future__ import annotations

from bot.members.staff_numbers import add_staff
from tests.helpers.app import WhatsApp

OFFICER = "+254733100001"


def staff_phone(app, client, phone: str, role: str, lang: str = "en") -> WhatsApp:
    with app.app_context():
        add_staff(phone, [role])
    phone_client = WhatsApp(client, phone)
    phone_client.send("Hi" if lang == "en" else "Habari")
    return phone_client
