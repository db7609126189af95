"""MY DATA as a file (Data Protection Act 2019, s.38, portability): everything held about a member as a PDF
in their language, and the same data as JSON and CSV.

A worker builds the three files (`write_export`) under `STORAGE_DIR/exports/<member id>/`, named by a random
export id; a signed link (`links`, itsdangerous, valid `LINK_HOURS`) serves each of them at
`/my-data/<token>/umoja-data.pdf|json|csv` (Twilio fetches the PDF from `PUBLIC_URL` this way). A link
whose member erased their data, whose file is gone or whose signature is wrong or old is 404. DELETE MY
DATA deletes the member's folder (`erase_exports`, an erasure hook) and the clock deletes files older than
the links (`purge_expired_exports`). The dashboard builds the same export for an admin without storing it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app
from fpdf import FPDF
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.core import i18n, local_time
from bot.core.extensions import db
from bot.models import Certificate, Course, Enrolment, Member, Ticket, TicketMessage, Voucher, utcnow
from bot.privacy import service as privacy
from flows import mydata
from flows.base import Msg, Text, msg

bp = Blueprint("my_data_files", __name__)

LINK_HOURS = 24
FILE_NAME = "umoja-data"
FORMATS = {"pdf": "application/pdf", "json": "application/json", "csv": "text/csv; charset=utf-8"}
# The right-to-left mark that opens each line for phones: the PDF sets each line's direction itself. The
# isolates around values stay, and fpdf2's bidi algorithm keeps a number or a date in its order.
BIDI_CONTROLS = dict.fromkeys(map(ord, (i18n.RLM,)))


def serializer() -> URLSafeTimedSerializer:
    """Signs export links with the app's secret."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="my-data-export")


def links(member_id: int, export_id: str) -> dict[str, str]:
    """The signed links to one export, by format (valid LINK_HOURS hours)."""
    token = serializer().dumps({"m": member_id, "e": export_id})
    base = current_app.config["PUBLIC_URL"]
    return {ext: f"{base}/my-data/{token}/{FILE_NAME}.{ext}" for ext in FORMATS}


def read_token(token: str) -> tuple[int, str] | None:
    """The member id and export id a link names, or None for a wrong or expired one."""
    try:
        found = serializer().loads(token, max_age=LINK_HOURS * 3600)
    except BadSignature:
        return None
    if not isinstance(found, dict) or not isinstance(found.get("m"), int) or not isinstance(found.get("e"), str):
        return None
    return found["m"], found["e"]


def exports_dir() -> Path:
    """Where built exports wait for their links: `STORAGE_DIR/exports`."""
    return Path(current_app.config["STORAGE_DIR"]) / "exports"


def export_path(member_id: int, export_id: str, ext: str) -> Path | None:
    """The file of one export in one format; None for an id that is not one of ours."""
    if ext not in FORMATS or not export_id.isalnum():
        return None
    return exports_dir() / str(member_id) / f"{export_id}.{ext}"


# --- the data ----------------------------------------------------------------------------------------

def day(value: datetime | None) -> str | None:
    """A stored UTC time as the union's local day (YYYY-MM-DD)."""
    return local_time.to_local(value).date().isoformat() if value else None


def collect(member: Member) -> dict[str, Any]:
    """Everything held about the member: MY DATA's summary plus their courses, certificate reports, voucher and
    questions to organisers (with what was written in them), as plain values."""
    data = privacy.summary(member)
    data["language_code"] = member.language
    enrolments = db.session.execute(
        sa.select(Enrolment, Course).join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.member_id == member.id).order_by(Enrolment.enrolled_at, Enrolment.id)).all()
    data["courses"] = [{"course": course.slug, "course_title": dict(course.titles or {}), "status": enrolment.status,
                        "enrolled_on": day(enrolment.enrolled_at)} for enrolment, course in enrolments]
    reports = db.session.execute(
        sa.select(Certificate, Course).join(Course, Course.id == Certificate.course_id)
        .where(Certificate.member_id == member.id).order_by(Certificate.created_at, Certificate.id)).all()
    data["certificate_reports"] = [
        {"course": course.slug, "course_title": dict(course.titles or {}), "kind": report.kind, "link": report.link,
         "status": report.status, "reported_on": day(report.created_at), "reviewed_on": day(report.reviewed_at),
         "reason": report.reason if report.status == "rejected" else None}
        for report, course in reports]
    voucher = db.session.scalars(sa.select(Voucher).where(Voucher.member_id == member.id)).first()
    data["voucher"] = None if voucher is None else {
        "code": voucher.code, "given_on": day(voucher.assigned_at),
        "expires_on": voucher.expires_on.isoformat() if voucher.expires_on else None}
    tickets = db.session.scalars(sa.select(Ticket).where(Ticket.member_id == member.id).order_by(Ticket.id)).all()
    lines = db.session.scalars(sa.select(TicketMessage).where(TicketMessage.ticket_id.in_([t.id for t in tickets]))
                               .order_by(TicketMessage.created_at, TicketMessage.id)).all() if tickets else []
    data["questions"] = [
        {"number": ticket.id, "opened_on": day(ticket.created_at), "status": ticket.status,
         "closed_on": day(ticket.closed_at),
         "lines": [{"from": "member" if line.author == "member" else "organiser", "text": line.body,
                    "on": day(line.created_at)} for line in lines if line.ticket_id == ticket.id and line.body]}
        for ticket in tickets]
    return data


def as_json(data: Mapping[str, Any], lang: str) -> bytes:
    """The export as JSON (course titles in the member's language)."""
    return json.dumps(plain(data, lang), ensure_ascii=False, indent=2).encode()


def plain(data: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The export with each course title in one language (the member's, else English)."""
    def titled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "course_title": i18n.render_value(lang, mydata.title_of(row.get("course_title")), {})}
                for row in rows]
    return {**data, "courses": titled(data.get("courses") or []),
            "certificate_reports": titled(data.get("certificate_reports") or [])}


def csv_rows(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(field, value) rows: nested values get dotted names (`courses.1.status`)."""
    for key, item in data.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            yield from csv_rows(item, f"{name}.")
        elif isinstance(item, list | tuple) and any(isinstance(x, Mapping | list | tuple) for x in item):
            for n, element in enumerate(item, 1):
                yield from (csv_rows(element, f"{name}.{n}.") if isinstance(element, Mapping)
                            else [(f"{name}.{n}", json.dumps(element, ensure_ascii=False))])
        elif isinstance(item, list | tuple):
            yield name, ", ".join(str(x) for x in item)
        else:
            yield name, "" if item is None else str(item)


def as_csv(data: Mapping[str, Any], lang: str) -> bytes:
    """The export as CSV: one row per field (UTF-8 with a byte-order mark, so spreadsheets read Arabic)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("field", "value"))
    for name, item in csv_rows(plain(data, lang)):
        writer.writerow((name, spreadsheet_safe(item)))
    return ("\ufeff" + out.getvalue()).encode()


PHONE = re.compile(r"\+\d{6,15}")


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (a phone number in E.164 stays as it is)."""
    if PHONE.fullmatch(text):
        return text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- the PDF -----------------------------------------------------------------------------------------

@cache
def system_font(family: str = "DejaVu Sans") -> str | None:
    """The file of a system font (fontconfig's `fc-match`), or None without fontconfig or the font."""
    if shutil.which("fc-match") is None:
        return None
    found = subprocess.run(["fc-match", "--format=%{file}", family], capture_output=True, text=True, check=False)
    path = found.stdout.strip()
    return path if path and Path(path).is_file() and family.split()[0].lower() in Path(path).name.lower() else None


def font_file() -> str:
    """The TrueType font the PDF is written in: `PDF_FONT`, else DejaVu Sans from the system."""
    path = current_app.config.get("PDF_FONT") or system_font()
    if not path or not Path(path).is_file():
        raise RuntimeError("no font for the MY DATA document: install DejaVu Sans (fonts-dejavu-core) or set PDF_FONT")
    return str(path)


def as_pdf(data: Mapping[str, Any], lang: str, made_at: datetime | None = None) -> bytes:
    """The export as a PDF in the member's language, right to left for a right-to-left one (Arabic, shaped by
    HarfBuzz)."""
    rtl = i18n.is_rtl(lang)
    pdf = FPDF(format="A4")
    pdf.set_title("MY DATA")
    pdf.set_creator(current_app.config["UNION_NAME"])
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.add_font("body", "", font_file())
    if rtl:  # HarfBuzz joins Arabic letters; Latin text needs none, and shaping triples the time of a page
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl")
    align = "R" if rtl else "L"

    def write(line: Msg | Text, size: float, gap: float = 1.5) -> None:
        pdf.set_font("body", size=size)
        text = i18n.fill(lang, line, {}).translate(BIDI_CONTROLS)
        pdf.multi_cell(0, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    union_name = current_app.config.get(f"UNION_NAME_{lang.upper()}") or current_app.config["UNION_NAME"]
    write(msg(mydata.DOCUMENT_TITLE, union=Text(union_name)), 16, 3)
    made = local_time.to_local(made_at or utcnow())
    write(msg(mydata.DOCUMENT_MADE, date=Text(made.strftime("%Y-%m-%d %H:%M %Z"))), 9, 4)
    for heading, lines in mydata.document(data):
        write(heading, 13, 2)
        for line in lines:
            write(line, 10, 0.5)
        pdf.ln(3)
    return bytes(pdf.output())


def render(data: Mapping[str, Any], lang: str, ext: str) -> bytes:
    """The export in one format."""
    if ext == "pdf":
        return as_pdf(data, lang)
    return as_json(data, lang) if ext == "json" else as_csv(data, lang)


# --- the stored files, their links and their end -----------------------------------------------------

def write_export(member: Member) -> str:
    """Build the member's export in every format under a new export id (returned) for the links to serve."""
    lang = member.language or i18n.SOURCE_LANGUAGE
    data = collect(member)
    export_id = secrets.token_hex(16)
    folder = exports_dir() / str(member.id)
    folder.mkdir(parents=True, exist_ok=True)
    for ext in FORMATS:
        path = folder / f"{export_id}.{ext}"
        partial = path.with_suffix(f".{ext}.part")
        partial.write_bytes(render(data, lang, ext))
        partial.replace(path)  # a link never serves half a file
    return export_id


def erase_exports(member: Member, now: datetime) -> None:
    """Erasure hook: delete every export of the member (their links then find nothing)."""
    shutil.rmtree(exports_dir() / str(member.id), ignore_errors=True)


def purge_expired_exports(now: float | None = None) -> int:
    """Delete exports older than their links (and folders left empty); returns how many files went."""
    root = exports_dir()
    if not root.is_dir():
        return 0
    cutoff = (now or time.time()) - LINK_HOURS * 3600
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed


def send_export(ext: str, content: bytes) -> Response:
    """An export file as a response nobody caches or sniffs."""
    response = Response(content, mimetype=FORMATS[ext])
    response.headers["Content-Disposition"] = f'{"inline" if ext == "pdf" else "attachment"}; filename="{FILE_NAME}.{ext}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/my-data/<token>/umoja-data.<ext>")
def export_file(token: str, ext: str) -> Response:
    """One export file to whoever holds its link: 404 for a wrong or expired link, an erased member or a file
    that is gone."""
    found = read_token(token)
    if found is None or ext not in FORMATS:
        abort(404)
    member_id, export_id = found
    member = db.session.get(Member, member_id)
    path = export_path(member_id, export_id, ext)
    if member is None or member.erased or path is None or not path.is_file():
        abort(404)
    return send_export(ext, path.read_bytes())


def setup(app: Flask) -> None:
    """The links' blueprint."""
    app.register_blueprint(bp)
