"""The dashboard's broadcast pages: the list, the composer with its segment builder and live count, the
preview with an explicit confirmation, and the live progress page with pause / resume / cancel.

Everything goes through `bot/broadcasts/service.py` (the same services as the WhatsApp command and the
`flask broadcast` commands). The segment builder is made from `SEGMENT_FIELDS`: a field appears once its
name is in the service's `SEGMENT_FILTERS`, so a new filter is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectChoice,
    SelectMultipleField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Length, Optional

from bot.audit import service as audit
from bot.broadcasts import service as broadcasts
from bot.core import i18n
from bot.core.extensions import db
from bot.core.local_time import to_local, to_utc
from bot.dashboard.nav import role_required
from bot.dashboard.views import bp
from bot.models import AuditEvent, Broadcast, Course, utcnow
from bot.models.broadcasts import CANCELLABLE, BroadcastStatus
from bot.privacy import masking
from flows.counties import COUNTIES
from flows.signup import COMMUNITIES, GENDERS, WORK_KINDS

ROLES = ("organiser",)  # and admins
LIST_SIZE = 50
LANGUAGE_NAMES = i18n.LANGUAGE_LABELS
MEMBER_STATUSES = (("active", "Active"), ("prospect", "Signing up (prospect)"))


def _courses() -> list[tuple[str, str]]:
    return [(slug, (titles or {}).get("en") or slug)
            for slug, titles in db.session.execute(sa.select(Course.slug, Course.titles).order_by(Course.slug))]


@dataclass(frozen=True)
class SegmentField:
    """One input of the segment builder: `name` is a key of SEGMENT_FILTERS; `choices` (value, label)
    make a multi-select, no choices a date."""

    name: str
    label: str
    choices: Callable[[], list[tuple[str, str]]] | None = None


SEGMENT_FIELDS: list[SegmentField] = [
    SegmentField("county", "County", lambda: [(c, c) for c in COUNTIES]),
    SegmentField("work", "Kind of work", lambda: list(WORK_KINDS)),
    SegmentField("language", "Language", lambda: [(code, LANGUAGE_NAMES.get(code, code)) for code in i18n.LANGUAGES]),
    SegmentField("gender", "Gender", lambda: list(GENDERS)),
    SegmentField("community", "Community", lambda: list(COMMUNITIES)),
    SegmentField("status", "Membership status (default: active)", lambda: list(MEMBER_STATUSES)),
    SegmentField("joined_after", "Joined on or after"),
    SegmentField("joined_before", "Joined before"),
    SegmentField("enrolled_in", "Enrolled in a course", _courses),
    SegmentField("completed", "Completed a course", _courses),
    SegmentField("not_completed", "Has not completed a course", _courses),
]


def segment_fields() -> list[SegmentField]:
    """The builder's fields that the broadcast service can filter on."""
    return [f for f in SEGMENT_FIELDS if f.name in broadcasts.SEGMENT_FILTERS]


class ComposeBase(FlaskForm):
    """The media, schedule and quiet hours; the text boxes (one per language) and the segment fields are
    added per request."""

    media_url = URLField("Media URL (optional)", validators=[Optional(), URL(require_tld=False), Length(max=500)])
    send_at = DateTimeLocalField("Send at (the union's time zone; empty: now)", format="%Y-%m-%dT%H:%M",
                                 validators=[Optional()])
    quiet_start = TimeField("Quiet hours from", validators=[Optional()])
    quiet_end = TimeField("until", validators=[Optional()])
    replaces = HiddenField()  # the draft being changed: discarded once the new one is stored

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then both ends of the quiet hours or neither."""
        valid = super().validate(extra_validators)
        if (self.quiet_start.data is None) != (self.quiet_end.data is None):
            self.quiet_end.errors = [*self.quiet_end.errors, "Give both ends of the quiet hours, or neither."]
            valid = False
        if self.send_at.data and to_utc(self.send_at.data) < utcnow() - timedelta(minutes=1):
            self.send_at.errors = [*self.send_at.errors, "That time has passed; leave it empty to send now."]
            valid = False
        return valid

    def segment(self) -> dict[str, Any]:
        """The chosen filters, as the service takes them."""
        return segment_from(self.data)

    def texts(self) -> dict[str, str]:
        """The texts by language code (empty boxes left out)."""
        return {code: self.data.get(text_field(code)) or "" for code in i18n.LANGUAGES
                if (self.data.get(text_field(code)) or "").strip()}


def text_field(code: str) -> str:
    """The composer's text box of a language."""
    return f"text_{code}"


def text_fields() -> dict[str, TextAreaField]:
    """One text box per configured language, English first and required (members without a text in their
    language get it)."""
    fields = {text_field(i18n.SOURCE_LANGUAGE): TextAreaField(
        "Text in English (also for members without a text in their language)",
        validators=[DataRequired(), Length(max=1600)])}
    for code in i18n.LANGUAGES:
        if code != i18n.SOURCE_LANGUAGE:
            fields[text_field(code)] = TextAreaField(f"Text in {broadcasts.language_name(code)} (optional)",
                                                     validators=[Optional(), Length(max=1600)])
    return fields


def compose_form(formdata: Any = None, data: Mapping[str, Any] | None = None) -> ComposeBase:
    """The composer form with a text box per language and one input per segment field (choices read now);
    `data` fills it in."""
    fields: dict[str, Any] = dict(text_fields())
    for f in segment_fields():
        if f.choices is None:
            fields[f.name] = DateField(f.label, validators=[Optional()])
        else:
            choices = [SelectChoice(value, label) for value, label in f.choices()]
            fields[f.name] = SelectMultipleField(f.label, choices=choices, validators=[Optional()])
    form_class = type("ComposeForm", (ComposeBase,), fields)
    if formdata is not None:
        form = form_class(formdata=formdata)
    else:
        form = form_class(data=dict(data)) if data else form_class()
    form.send_at.label.text = f"Send at ({current_app.config['TIMEZONE']}; empty: now)"
    return form


def draft_data(b: Broadcast) -> dict[str, Any]:
    """A draft's texts, segment and timing as the composer's data, to change it."""
    data: dict[str, Any] = {text_field(code): text for code, text in (b.texts or {}).items()}
    data.update(media_url=b.media_url or "", replaces=str(b.id))
    if b.send_at:
        local = to_local(b.send_at).replace(tzinfo=None)
        data["send_at"] = local
    if b.quiet_start and b.quiet_end:
        data["quiet_start"] = time.fromisoformat(b.quiet_start)
        data["quiet_end"] = time.fromisoformat(b.quiet_end)
    for f in segment_fields():
        value = (b.segment or {}).get(f.name)
        if value in (None, "", []):
            continue
        data[f.name] = date.fromisoformat(str(value)) if f.choices is None else (
            [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return data


def segment_from(data: Mapping[str, Any]) -> dict[str, Any]:
    """The non-empty segment values among the form's data."""
    chosen: dict[str, Any] = {}
    for f in segment_fields():
        value = data.get(f.name)
        if isinstance(value, date):
            chosen[f.name] = value.isoformat()
        elif value:
            chosen[f.name] = list(value)
    return chosen


class ConfirmForm(FlaskForm):
    """Confirm and send (or schedule) a previewed broadcast."""


class ControlForm(FlaskForm):
    """Pause, resume or cancel a broadcast."""

    action = HiddenField(validators=[DataRequired()])


def describe(preview: broadcasts.Preview, texts: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The preview's figures for pages and JSON: the totals, then by language (whether the broadcast has a
    text in it, given `texts`) and the notes on languages left with the fallback template or nothing."""
    return {"matched": preview.matched, "opted_out": preview.opted_out, "text": preview.inside_window,
            "template": preview.template, "fallback": preview.fallback, "nothing": preview.no_template,
            "recipients": preview.recipients, "rate": preview.rate, "minutes": round(preview.seconds / 60, 1),
            "fallback_language": broadcasts.language_name(preview.fallback_language or "") or None,
            "languages": [{"code": code, "name": broadcasts.language_name(code), "members": c.members,
                           "text": c.text, "template": c.template, "fallback": c.fallback, "nothing": c.nothing,
                           "written": texts is None or bool(texts.get(code))}
                          for code, c in preview.languages.items()],
            "notes": [broadcasts.note_in_words(kind, code, count, preview.fallback_language)
                      for kind, code, count in broadcasts.preview_notes(preview)],
            "nothing_languages": [broadcasts.language_name(code) for code, c in preview.languages.items() if c.nothing]}


def progress(broadcast_id: int) -> dict[str, Any] | None:
    """Status, the delivery funnel and failures by reason, for the progress page and its JSON."""
    found = broadcasts.figures(broadcast_id, top=0)  # reasons come split by outcome below
    if found is None:
        return None
    b = found.broadcast
    counts = found.counts
    total = b.audience if b.audience is not None else sum(counts[k] for k in ("queued", "sent", "failed", "skipped"))
    done = total - counts["queued"]
    return {
        "id": b.id, "status": b.status, "paused_reason": b.paused_reason if b.status == BroadcastStatus.PAUSED else None,
        "audience": b.audience, "counts": counts, "total": total, "done": done,
        "percent": round(100 * done / total) if total else (100 if b.status == BroadcastStatus.DONE else 0),
        "reasons": [{"outcome": o, "reason": text, "code": code, "count": n}
                    for o, text, code, n in broadcasts.reasons_by_outcome(broadcast_id)],
        "actions": [a for a, states in CONTROLS.items() if b.status in states],
    }


# Which buttons a broadcast in each status offers.
CONTROLS = {"pause": (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED), "resume": (BroadcastStatus.PAUSED,),
            "cancel": CANCELLABLE}


def local_time(value: Any) -> str:
    """A naive UTC time in the union's time zone (TIMEZONE)."""
    if value is None:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def texts_shown(b: Broadcast) -> list[tuple[str, str | None]]:
    """Every configured language (and any other the broadcast has) with its text; None: English goes."""
    texts = b.texts or {}
    codes = [*i18n.LANGUAGES, *(code for code in texts if code not in i18n.LANGUAGES)]
    return [(broadcasts.language_name(code), texts.get(code)) for code in codes]


def labels_of(segment: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The segment in words: (field label, values)."""
    by_name = {f.name: f for f in SEGMENT_FIELDS}
    found = []
    for name, value in segment.items():
        field = by_name.get(name)
        values = value if isinstance(value, list) else [value]
        names = dict(field.choices()) if field is not None and field.choices is not None else {}
        found.append((field.label if field else name, ", ".join(str(names.get(v, v)) for v in values)))
    return found or [("Members", "every active member")]


@bp.get("/broadcasts")
@role_required(*ROLES)
def broadcasts_list() -> ResponseReturnValue:
    """Every broadcast, newest first, with its status and figures."""
    rows = list(db.session.scalars(sa.select(Broadcast).order_by(Broadcast.id.desc()).limit(LIST_SIZE)))
    figures = {b.id: broadcasts.figures(b.id, top=0) for b in rows}
    subjects = {f"broadcast {b.id}": b.id for b in rows}
    senders = {subjects[subject]: actor for subject, actor in db.session.execute(
        sa.select(AuditEvent.subject, AuditEvent.actor)
        .where(AuditEvent.action == "broadcast.send", AuditEvent.subject.in_(list(subjects))))}
    # A broadcast sent from WhatsApp names its sender by phone number: masked for organisers.
    shown = masking.shown_texts([senders.get(b.id) or b.created_by for b in rows], current_user.role)
    senders = dict(zip([b.id for b in rows], shown, strict=True))
    return render_template("admin/broadcasts.html", broadcasts=rows, figures=figures, senders=senders,
                           local_time=local_time)


@bp.route("/broadcasts/new", methods=["GET", "POST"])
@role_required(*ROLES)
def broadcast_compose() -> ResponseReturnValue:
    """The composer; "Preview" stores a draft (nothing is sent) and shows what it would do."""
    source = request.args.get("from", type=int)
    earlier = db.session.get(Broadcast, source) if source and request.method == "GET" else None
    form = compose_form(data=draft_data(earlier) if earlier is not None and earlier.status == BroadcastStatus.DRAFT else None)
    if form.validate_on_submit():
        quiet = None
        if form.quiet_start.data is not None and form.quiet_end.data is not None:
            quiet = (form.quiet_start.data.strftime("%H:%M"), form.quiet_end.data.strftime("%H:%M"))
        draft = broadcasts.create(
            form.texts(), segment=form.segment(), media_url=form.media_url.data or None,
            send_at=to_utc(form.send_at.data) if form.send_at.data else None, quiet=quiet,
        )
        replaced = form.replaces.data
        if replaced and replaced.isdigit():
            db.session.execute(sa.update(Broadcast).where(Broadcast.id == int(replaced), Broadcast.status == BroadcastStatus.DRAFT)
                               .values(status=BroadcastStatus.CANCELLED, finished_at=draft.created_at))  # a draft: nothing to stop
            db.session.commit()
        return redirect(url_for("admin.broadcast_preview", broadcast_id=draft.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/broadcast_compose.html", form=form, fields=segment_fields(),
                           text_fields=list(text_fields())), status


@bp.get("/broadcasts/count")
@role_required(*ROLES)
def broadcast_count() -> ResponseReturnValue:
    """The live recipient count of the composer's segment (JSON); nothing is stored."""
    form = compose_form(formdata=request.args)
    if not all([getattr(form, f.name).validate(form) for f in segment_fields()]):
        return jsonify({"error": "invalid segment"}), 400
    sketch = Broadcast(texts={}, segment=segment_from(form.data))
    return jsonify(describe(broadcasts.preview(sketch)))


def draft_or_404(broadcast_id: int) -> Broadcast:
    return db.session.get(Broadcast, broadcast_id) or abort(404)


@bp.get("/broadcasts/<int:broadcast_id>/preview")
@role_required(*ROLES)
def broadcast_preview(broadcast_id: int) -> ResponseReturnValue:
    """What the draft would do, and the "Confirm and send" button."""
    b = draft_or_404(broadcast_id)
    if b.status != BroadcastStatus.DRAFT:
        return redirect(url_for("admin.broadcast_progress", broadcast_id=b.id))
    return render_template("admin/broadcast_preview.html", b=b, preview=describe(broadcasts.preview(b), b.texts),
                           texts=texts_shown(b),
                           segment=labels_of(b.segment), form=ConfirmForm(), control=ControlForm(),
                           local_time=local_time)


@bp.post("/broadcasts/<int:broadcast_id>/send")
@role_required(*ROLES)
def broadcast_send(broadcast_id: int) -> ResponseReturnValue:
    """Confirm: start the draft now or schedule it; recorded in the audit log with who."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    # The row stays locked until the service commits the new status: a second confirmation (a double
    # click) waits, then finds the broadcast no longer a draft and neither sends nor audits again.
    b = db.session.get(Broadcast, broadcast_id, with_for_update=True, populate_existing=True) or abort(404)
    if b.status == BroadcastStatus.DRAFT:
        shown = describe(broadcasts.preview(b))
        outcome = broadcasts.send(b.id)
        if outcome in (BroadcastStatus.RUNNING, BroadcastStatus.SCHEDULED):
            audit.record(current_user.email, "broadcast.send", f"broadcast {b.id}", outcome=outcome,
                         recipients=shown["recipients"], segment=b.segment or None,
                         send_at=local_time(b.send_at) or None)
            db.session.commit()
    return redirect(url_for("admin.broadcast_progress", broadcast_id=broadcast_id))


@bp.get("/broadcasts/<int:broadcast_id>")
@role_required(*ROLES)
def broadcast_progress(broadcast_id: int) -> ResponseReturnValue:
    """The live progress: a bar, the funnel, failures by reason, and pause / resume / cancel."""
    b = draft_or_404(broadcast_id)
    return render_template("admin/broadcast_progress.html", b=b, p=progress(broadcast_id), texts=texts_shown(b),
                           segment=labels_of(b.segment), form=ControlForm(), local_time=local_time)


@bp.get("/broadcasts/<int:broadcast_id>/figures")
@role_required(*ROLES)
def broadcast_figures(broadcast_id: int) -> ResponseReturnValue:
    """The progress page's figures (JSON), polled while it is open."""
    found = progress(broadcast_id)
    if found is None:
        abort(404)
    return jsonify(found)


@bp.post("/broadcasts/<int:broadcast_id>/control")
@role_required(*ROLES)
def broadcast_control(broadcast_id: int) -> ResponseReturnValue:
    """Pause, resume or cancel; recorded in the audit log."""
    form = ControlForm()
    if not form.validate_on_submit() or form.action.data not in CONTROLS:
        abort(400)
    draft_or_404(broadcast_id)
    action = form.action.data
    done = {"pause": broadcasts.pause, "resume": broadcasts.resume, "cancel": broadcasts.cancel}[action](broadcast_id)
    if done:
        audit.record(current_user.email, f"broadcast.{action}", f"broadcast {broadcast_id}")
        db.session.commit()
    return redirect(url_for("admin.broadcast_progress", broadcast_id=broadcast_id))

