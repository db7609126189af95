"""`flask broadcast create|preview|send|status|pause|resume|cancel`: broadcasts from the command line.

The same services as the WhatsApp BROADCAST command (and, later, the dashboard): `bot/broadcasts/service.py`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import AppGroup

from bot.core.local_time import to_utc

if TYPE_CHECKING:
    from bot.broadcasts.service import Preview

broadcast = AppGroup("broadcast", help="Broadcasts to a segment of members: create, preview, send, follow.")

QUIET = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$")


def describe_preview(p: Preview) -> str:
    """The preview in plain words, and the languages whose members outside the window get the fallback
    template or nothing."""
    from bot.broadcasts.service import note_in_words, preview_notes

    minutes = p.seconds / 60
    notes = [note_in_words(kind, code, count, p.fallback_language) for kind, code, count in preview_notes(p)]
    fallback = f" ({p.fallback} of them the fallback template)" if p.fallback else ""
    return "\n".join([
        f"{p.matched} members match; {p.opted_out} left out (opted out or stopped broadcasts); {p.inside_window} get the text; "
        f"{p.template} are outside the 24-hour window and get the template{fallback}; {p.no_template} get "
        f"nothing (no template for their language). About {minutes:.1f} min at {p.rate}/s.", *notes])


def echo_figures(broadcast_id: int) -> None:
    from bot.broadcasts import service as broadcasts
    from bot.models.broadcasts import BroadcastStatus
    from bot.whatsapp import sending

    figures = broadcasts.figures(broadcast_id)
    if figures is None:
        raise click.ClickException(f"no broadcast {broadcast_id}")
    b = figures.broadcast
    paused = f" ({b.paused_reason})" if b.status == BroadcastStatus.PAUSED and b.paused_reason else ""
    click.echo(f"broadcast {b.id}: {b.status}{paused}; audience {b.audience if b.audience is not None else '-'}")
    click.echo("  " + "  ".join(f"{name} {count}" for name, count in figures.counts.items()))
    for key, code, count in figures.reasons:
        click.echo(f"  {count} × {sending.reason_text(key)}" + (f" (Twilio {code})" if code else ""))


def configured_languages(codes: tuple[str, ...]) -> tuple[str, ...]:
    """The --language values, each one of the LANGUAGES setting."""
    allowed = current_app.config["LANGUAGES"]
    wrong = [code for code in codes if code not in allowed]
    if wrong:
        raise click.BadParameter(f"{', '.join(wrong)}: not one of LANGUAGES ({','.join(allowed)})",
                                 param_hint="--language")
    return codes


def texts_by_language(pairs: tuple[str, ...], aliases: dict[str, str | None]) -> dict[str, str]:
    """The --text LANG=TEXT values (and the --en/--sw aliases) by language code; English required, each
    code one of LANGUAGES, each language once."""
    allowed = current_app.config["LANGUAGES"]
    texts = {code: text for code, text in aliases.items() if text}
    for pair in pairs:
        code, sep, text = pair.partition("=")
        code = code.strip().lower()
        if not sep or not text.strip():
            raise click.BadParameter(f"{pair!r}: use LANG=TEXT, e.g. 'sw=Mkutano Jumamosi'", param_hint="--text")
        if code not in allowed:
            raise click.BadParameter(f"{code}: not one of LANGUAGES ({','.join(allowed)})", param_hint="--text")
        if code in texts:
            raise click.BadParameter(f"{code}: given twice", param_hint="--text")
        texts[code] = text
    if not (texts.get("en") or "").strip():
        raise click.BadParameter("the English text is required: --text en=TEXT (or --en TEXT)", param_hint="--text")
    return texts


@broadcast.command("create")
@click.option("--text", "texts", multiple=True, metavar="LANG=TEXT",
              help="The text in a language of LANGUAGES, e.g. --text 'sw=Mkutano Jumamosi' (repeat for each; "
                   "English is required: members without their language get it).")
@click.option("--en", "english", default=None, help="The same as --text en=TEXT.")
@click.option("--sw", "swahili", default=None, help="The same as --text sw=TEXT.")
@click.option("--media", "media_url", default=None, help="A media URL sent with the text.")
@click.option("--county", multiple=True)
@click.option("--work", multiple=True, help="A kind of work (repeat for several).")
@click.option("--language", multiple=True, help="A language code of LANGUAGES (repeat for several).")
@click.option("--gender", multiple=True)
@click.option("--community", multiple=True)
@click.option("--status", multiple=True, help="Membership status (default: active).")
@click.option("--joined-after", default=None, help="YYYY-MM-DD")
@click.option("--joined-before", default=None, help="YYYY-MM-DD")
@click.option("--enrolled-in", multiple=True, help="A course slug (see `flask courses list`): enrolled in it.")
@click.option("--completed", multiple=True, help="A course slug: certificate verified.")
@click.option("--not-completed", multiple=True, help="A course slug: enrolled, certificate not verified yet.")
@click.option("--at", "send_at", default=None, help="Send at this Africa/Nairobi time: 'YYYY-MM-DD HH:MM'.")
@click.option("--quiet", default=None, help="Quiet hours, Africa/Nairobi, e.g. 21:00-07:00.")
def create_command(texts: tuple[str, ...], english: str | None, swahili: str | None, media_url: str | None,
                   send_at: str | None, quiet: str | None, **segment: object) -> None:
    """Create a draft broadcast and show its preview (nothing is sent)."""
    from bot.broadcasts import service as broadcasts

    by_language = texts_by_language(texts, {"en": english, "sw": swahili})
    configured_languages(tuple(segment.get("language") or ()))  # type: ignore[arg-type]
    when = None
    if send_at:
        try:
            when = to_utc(datetime.strptime(send_at, "%Y-%m-%d %H:%M"))
        except ValueError as error:
            raise click.BadParameter("use 'YYYY-MM-DD HH:MM'", param_hint="--at") from error
    if quiet and not QUIET.match(quiet):
        raise click.BadParameter("use HH:MM-HH:MM", param_hint="--quiet")
    chosen = {name.replace("-", "_"): list(value) if isinstance(value, tuple) else value
              for name, value in segment.items() if value}
    created = broadcasts.create(by_language, segment=chosen, media_url=media_url, send_at=when,
                                quiet=tuple(quiet.split("-")) if quiet else None)  # type: ignore[arg-type]
    click.echo(f"broadcast {created.id} created (draft)")
    click.echo(describe_preview(broadcasts.preview(created)))
    click.echo(f"send it with: flask broadcast send {created.id}")


@broadcast.command("preview")
@click.argument("broadcast_id", type=int)
def preview_command(broadcast_id: int) -> None:
    """How many members match, are left out, get the text or the template, and the time to finish."""
    from bot.broadcasts import service as broadcasts
    from bot.core.extensions import db
    from bot.models import Broadcast

    b = db.session.get(Broadcast, broadcast_id)
    if b is None:
        raise click.ClickException(f"no broadcast {broadcast_id}")
    click.echo(describe_preview(broadcasts.preview(b)))


@broadcast.command("send")
@click.argument("broadcast_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm without asking.")
def send_command(broadcast_id: int, yes: bool) -> None:
    """Confirm and send (or schedule) a draft broadcast."""
    from bot.broadcasts import service as broadcasts
    from bot.core.extensions import db
    from bot.models import Broadcast

    b = db.session.get(Broadcast, broadcast_id)
    if b is None:
        raise click.ClickException(f"no broadcast {broadcast_id}")
    click.echo(describe_preview(broadcasts.preview(b)))
    if not yes and not click.confirm("Send it?"):
        click.echo("not sent")
        return
    click.echo(f"broadcast {broadcast_id}: {broadcasts.send(broadcast_id)}")


@broadcast.command("status")
@click.argument("broadcast_id", type=int)
def status_command(broadcast_id: int) -> None:
    """Queued / sent / delivered / read / failed / skipped, and the top failure reasons."""
    echo_figures(broadcast_id)


def _change(action: str, broadcast_id: int) -> None:
    from bot.broadcasts import service as broadcasts

    done = getattr(broadcasts, action)(broadcast_id)
    if not done:
        raise click.ClickException(f"broadcast {broadcast_id} cannot be {action}d now")
    echo_figures(broadcast_id)


@broadcast.command("pause")
@click.argument("broadcast_id", type=int)
def pause_command(broadcast_id: int) -> None:
    """Pause sending."""
    _change("pause", broadcast_id)


@broadcast.command("resume")
@click.argument("broadcast_id", type=int)
def resume_command(broadcast_id: int) -> None:
    """Resume a paused broadcast."""
    _change("resume", broadcast_id)


@broadcast.command("cancel")
@click.argument("broadcast_id", type=int)
def cancel_command(broadcast_id: int) -> None:
    """Cancel: what is not sent yet is never sent."""
    _change("cancel", broadcast_id)
