"""`flask chat`: talk to the bot from a terminal, through signed requests to the real webhook."""

from __future__ import annotations

from collections.abc import Callable

import click
import requests
from flask import current_app

from bot.devtools.simulator import INBOUND_PATH, inbound_form, replies_of
from bot.whatsapp.twilio_api import public_url, sign

Poster = Callable[[dict[str, str], str], str]


def http_poster(base_url: str) -> Poster:
    """Post to a running server over HTTP."""

    def post(form: dict[str, str], signature: str) -> str:
        response = requests.post(base_url.rstrip("/") + INBOUND_PATH, data=form,
                                 headers={"X-Twilio-Signature": signature}, timeout=20)
        response.raise_for_status()
        return response.text

    return post


def in_process_poster() -> Poster:
    """Post through the app in this process (no server needed), still signed and through the webhook."""
    client = current_app.test_client()

    def post(form: dict[str, str], signature: str) -> str:
        response = client.post(INBOUND_PATH, data=form, headers={"X-Twilio-Signature": signature},
                               base_url=current_app.config["PUBLIC_URL"])
        if response.status_code != 200:
            raise click.ClickException(f"the webhook answered {response.status_code}")
        return response.get_data(as_text=True)

    return post


def say(phone: str, body: str, post: Poster, url: str | None = None) -> list[str]:
    """Send one message as `phone` and return the bot's replies (signed for `url`, else PUBLIC_URL)."""
    form = inbound_form(phone, body)
    target = url.rstrip("/") + INBOUND_PATH if url else public_url(INBOUND_PATH)
    signature = sign(target, form, current_app.config["WEBHOOK_AUTH_TOKEN"])
    return replies_of(post(form, signature))


def run_chat(phone: str, url: str | None) -> None:
    """The interactive loop: read a line, send it, print the replies; Ctrl-D or /quit ends it."""
    post = http_poster(url) if url else in_process_poster()
    click.echo(f"Chatting as {phone} {'with ' + url if url else 'in this process'}. /quit to leave.")
    while True:
        try:
            line = input("you> ")
        except EOFError:
            break
        if line.strip() == "/quit":
            break
        try:
            replies = say(phone, line, post, url)
        except requests.RequestException as error:
            raise click.ClickException(f"could not reach {url}: {error}. Is the app running (make run)?") from error
        for reply in replies:
            click.echo(click.style("umoja> ", fg="green") + reply.replace("\n", "\n       "))
