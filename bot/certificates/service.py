"""Certificate reports and their review, and the LinkedIn Premium voucher pool.

These functions are used by the WhatsApp staff commands and the `flask` commands alike (and by the
dashboard later); they work inside the caller's transaction and never commit, except the jobs.

Exactly once: an approval claims the report with one conditional UPDATE (pending → approved), so two
officers approving at once give one approval; a voucher is claimed with FOR UPDATE SKIP LOCKED and
`vouchers.member_id` is unique, so a member never holds two codes.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import sqlalchemy as sa
from flask import current_app
from rq import Retry, get_current_job
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from bot.audit import service as audit
from bot.core import jobs
from bot.core.area import HeldPastTime
from bot.core.extensions import db
from bot.core.sql import insert_ignore
from bot.members.service import is_user_id, set_conversation
from bot.models import ERASED_STATUS, Certificate, Course, Enrolment, Member, StaffMember, Voucher, utcnow
from bot.models.courses import (
    ACCEPTED_STATUSES,
    OPEN_STATUSES,
    CertificateStatus,
    EnrolmentStatus,
    course_title,
)
from bot.whatsapp import sending
from bot.whatsapp.outbound import notify, template_sid, within_window
from flows.base import N_, NP_, Line, Reply, Text, label_of, msg, msgn
from flows.courses import CERTIFICATE, FILE_TYPES, PROOF

log = logging.getLogger(__name__)

DOWNLOAD_RETRIES = (30, 120, 600, 1800)

RECEIVED = NP_("We received your certificate for %(course)s. It is waiting for review: an officer usually checks within %(days)s day.",
               "We received your certificate for %(course)s. It is waiting for review: an officer usually checks within %(days)s days.")
TOO_LARGE = N_("That file is too large (more than %(mb)s MB). Please send a smaller photo, a PDF, or the certificate link.")
UNSUPPORTED = N_("We can only read JPG, PNG or WEBP photos and PDF files. Please send your certificate as one of these, or send its link.")
FETCH_RETRYING = N_("We could not fetch your file yet. We will keep trying: you do not need to send it again.")
FETCH_FAILED = N_("We could not fetch your file. Please send it again, or send the certificate link.")
VOUCHER = N_("Congratulations! Your certificate for %(course)s is approved. Your LinkedIn Premium voucher code is: %(code)s")
REDEEM = N_("To redeem it, open linkedin.com/premium/redeem, sign in and enter the code.")
EXPIRES = N_("Use it before %(date)s.")
WAITING = N_("Congratulations! Your certificate for %(course)s is approved. We have run out of voucher codes for now: you are on the waiting list and will get your code as soon as new ones arrive.")
ALREADY_REWARDED = N_("Your certificate for %(course)s is approved. Well done! You have already received your LinkedIn Premium voucher.")
REJECTED = N_("Your certificate for %(course)s was not accepted: %(reason)s")
REPORT_AGAIN = N_("You can report it again at any time: send CERTIFICATE.")
POOL_EMPTY = NP_("The voucher pool is empty: %(count)s member is on the waiting list. Please add codes (flask vouchers import).",
                 "The voucher pool is empty: %(count)s members are on the waiting list. Please add codes (flask vouchers import).")

# What an approval or rejection did, for the officer (on WhatsApp in their language, on the dashboard in English).
REVIEW_OUTCOMES = {
    "rewarded": N_("Report #%(id)s approved: the voucher code was sent to the member."),
    "reserved": N_("Report #%(id)s approved, but the voucher code could not be sent: %(reason)s. The code is kept "
                   "for this member and goes out when they next write to us or when a voucher template is "
                   "configured."),
    "waiting": N_("Report #%(id)s approved, but the voucher pool is empty: the member is on the waiting list."),
    "already_rewarded": N_("Report #%(id)s approved; this member already had a voucher, so no new code was sent."),
    "rejected": N_("Report #%(id)s rejected; the member was told why."),
    "not_found": N_("There is no report #%(id)s."),
    "not_pending": N_("Report #%(id)s was already reviewed (%(status)s)."),
    "not_ready": N_("Report #%(id)s is still being downloaded: try again in a minute."),
    "duplicate": N_("Report #%(id)s is the same certificate as one already accepted from another member: reject it with a reason."),
}

# A report's status in words, for the officer told that it was already reviewed.
REPORT_STATUSES = {
    CertificateStatus.PENDING: N_("pending"),
    CertificateStatus.DOWNLOADING: N_("still downloading"),
    CertificateStatus.FAILED: N_("the file could not be fetched"),
    CertificateStatus.INVALID: N_("the file could not be read"),
    CertificateStatus.APPROVED: N_("approved"),
    CertificateStatus.WAITING: N_("on the waiting list"),
    CertificateStatus.REWARDED: N_("rewarded"),
    CertificateStatus.REJECTED: N_("rejected"),
}


class DownloadError(Exception):
    """A media download failed in a way worth retrying."""


@dataclass(frozen=True)
class ReviewOutcome:
    """What an approval or rejection did: approved, rewarded, reserved (a code is kept for the member but
    could not be sent: `reason` says why), waiting, already_rewarded, rejected, not_found, not_pending,
    not_ready (the file is still downloading) or duplicate."""

    status: str
    certificate: Certificate | None = None
    voucher: Voucher | None = None
    reason: str | None = None


@dataclass(frozen=True)
class VoucherImport:
    """What a voucher import did."""

    added: int
    duplicates: int
    invalid: int
    served: int
    problems: tuple[tuple[int, str], ...] = ()  # (row number as a spreadsheet shows it, why it was refused)

    def problem_lines(self, shown: int = 10) -> list[str]:
        """The refused rows, "row 4: the code has a space", the first `shown` of them and how many more."""
        lines = [f"row {row}: {why}" for row, why in self.problems[:shown]]
        if len(self.problems) > shown:
            lines.append(f"and {len(self.problems) - shown} more")
        return lines


@dataclass(frozen=True)
class PoolStatus:
    """The voucher pool and the waiting list (certificate id, member phone, approved at), oldest first."""

    available: int
    assigned: int
    waiting: list[tuple[int, str, datetime | None]] = field(default_factory=list)


# --- reports ---------------------------------------------------------------------------------------


def set_enrolment_status(member_id: int, course_id: int, status: str, now: datetime | None = None) -> Enrolment:
    """Move an enrolment along (creating it when a member reports a course they never enrolled in)."""
    enrolment = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.member_id == member_id, Enrolment.course_id == course_id)
    ).first()
    if enrolment is None:
        enrolment = Enrolment(member_id=member_id, course_id=course_id, status=status, enrolled_at=now or utcnow())
        db.session.add(enrolment)
    else:
        enrolment.status = status
    db.session.flush()
    return enrolment


def find_duplicate(member_id: int, *, key: str | None = None, sha256: str | None = None,
                   statuses: tuple[str, ...] = OPEN_STATUSES) -> Certificate | None:
    """Another member's report of the same certificate (same link/ID or same file) in one of these statuses."""
    conditions = []
    if key:
        conditions.append(Certificate.certificate_key == key)
    if sha256:
        conditions.append(Certificate.sha256 == sha256)
    if not conditions:
        return None
    return db.session.scalars(
        sa.select(Certificate).where(sa.or_(*conditions), Certificate.member_id != member_id,
                                     Certificate.status.in_(statuses)).order_by(Certificate.id)
    ).first()


def report_link(member: Member, course_id: int, link: str, key: str, now: datetime | None = None) -> Certificate:
    """Record a certificate link for review; a link another member reported is flagged as a duplicate."""
    now = now or utcnow()
    duplicate = find_duplicate(member.id, key=key)
    certificate = Certificate(member_id=member.id, course_id=course_id, kind="link", link=link, certificate_key=key,
                              status=CertificateStatus.PENDING, duplicate_of_id=duplicate.id if duplicate else None, created_at=now)
    db.session.add(certificate)
    set_enrolment_status(member.id, course_id, EnrolmentStatus.REPORTED, now)
    db.session.flush()
    return certificate


def report_media(member: Member, course_id: int, media_url: str, content_type: str,
                 now: datetime | None = None) -> Certificate:
    """Record a certificate file to fetch from Twilio; the download job runs once this is committed."""
    now = now or utcnow()
    certificate = Certificate(member_id=member.id, course_id=course_id, kind="media", media_url=media_url,
                              content_type=content_type, status=CertificateStatus.DOWNLOADING, created_at=now)
    db.session.add(certificate)
    set_enrolment_status(member.id, course_id, EnrolmentStatus.REPORTED, now)
    db.session.flush()
    jobs.after_commit(db.session, "replies", download_certificate, certificate.id,
                      **download_options(certificate.id))
    return certificate


def download_options(certificate_id: int) -> dict[str, Any]:
    """How a download job is queued: one per report, retried with back-off; when Redis is down the
    report stays downloading for `requeue_downloads`."""
    return {"job_id": f"certificate-{certificate_id}",
            "retry": Retry(max=len(DOWNLOAD_RETRIES), interval=list(DOWNLOAD_RETRIES)),
            "unqueued": "the sweep queues it later"}


def enqueue_download(certificate_id: int) -> bool:
    """Queue the download job (retried with back-off); False when Redis is down (the sweep retries)."""
    return jobs.enqueue("replies", download_certificate, certificate_id, **download_options(certificate_id))


def requeue_downloads(older_than: timedelta = timedelta(hours=1), now: datetime | None = None) -> int:
    """Queue again the downloads still unfinished long after every retry should have run (a lost job)."""
    cutoff = (now or utcnow()) - older_than
    ids = db.session.scalars(
        sa.select(Certificate.id).where(Certificate.status == CertificateStatus.DOWNLOADING, Certificate.created_at < cutoff)
    ).all()
    return sum(enqueue_download(certificate_id) for certificate_id in ids)


def allowed_media_hosts() -> set[str]:
    """Twilio's media hosts, the host of TWILIO_API_BASE_URL when it points at a local fake API, and this app
    while the simulator is on (it serves the files sent from its page)."""
    hosts = {h.strip().lower() for h in current_app.config["TWILIO_MEDIA_HOSTS"] if h.strip()}
    if current_app.config.get("TWILIO_API_BASE_URL"):
        hosts.add((urlsplit(current_app.config["TWILIO_API_BASE_URL"]).netloc or "").lower())
    if current_app.config.get("SIMULATOR_ENABLED"):  # files sent from the simulator page, served by this app
        hosts.add((urlsplit(current_app.config["PUBLIC_URL"]).netloc or "").lower())
    return hosts


def sniff(content: bytes) -> str | None:
    """The file type from its first bytes (the header a sender gives is not trusted)."""
    if content.startswith(b"%PDF"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


MAX_REDIRECTS = 3  # Twilio's media URL answers with a redirect to its CDN


def media_host(url: str) -> str:
    """The host (and port) a URL points at, as TWILIO_MEDIA_HOSTS lists them."""
    return urlsplit(url).netloc.lower()


def fetch(url: str, max_bytes: int) -> tuple[bytes | None, str]:
    """Download a Twilio media URL: (content, '') or (None, 'too_large'/'host'/'type').

    Redirects are followed by hand, at most MAX_REDIRECTS, each hop checked against the allowed hosts
    before it is requested; the account credentials go to the first host only (the CDN's links are
    signed). The whole download, every hop and every byte, must end within MEDIA_DOWNLOAD_SECONDS.

    Raises:
        DownloadError: an HTTP error, a network error, too many redirects or the deadline passed (retried).
    """
    config = current_app.config
    hosts = allowed_media_hosts()
    deadline = time.monotonic() + float(config["MEDIA_DOWNLOAD_SECONDS"])
    first_host = media_host(url)
    auth = (config["TWILIO_ACCOUNT_SID"] or "", config["TWILIO_AUTH_TOKEN"] or "")
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxy or .netrc credentials from the environment
            for _ in range(MAX_REDIRECTS + 1):
                if media_host(url) not in hosts:
                    return None, "host"
                timeout = min(float(config["TWILIO_HTTP_TIMEOUT"]), remaining(deadline))
                with session.get(url, auth=auth if media_host(url) == first_host else None, stream=True,
                                 allow_redirects=False, timeout=timeout) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    if response.status_code != 200:
                        raise DownloadError(f"HTTP {response.status_code}")
                    if int(response.headers.get("Content-Length") or 0) > max_bytes:
                        return None, "too_large"
                    content = read_before(response, max_bytes, deadline)
                    break
            else:
                raise DownloadError(f"more than {MAX_REDIRECTS} redirects")
    except requests.RequestException as error:
        raise DownloadError(str(error)) from error
    if content is None:
        return None, "too_large"
    if sniff(content) not in FILE_TYPES:
        return None, "type"
    return content, ""


def remaining(deadline: float) -> float:
    """Seconds left before the download's deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise DownloadError("the download took too long")
    return left


def read_before(response: requests.Response, max_bytes: int, deadline: float) -> bytes | None:
    """The body, read as it arrives (a server sending a byte at a time is stopped at the deadline);
    None when it is larger than max_bytes."""
    content = bytearray()
    while chunk := response.raw.read1(64 * 1024, decode_content=True):
        content += chunk
        if len(content) > max_bytes:
            return None
        remaining(deadline)
    return bytes(content)


def store_file(content: bytes) -> tuple[str, Path]:
    """Store a file under STORAGE_DIR as <sha256>.<ext> (written once, atomically)."""
    digest = hashlib.sha256(content).hexdigest()
    folder = Path(current_app.config["STORAGE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{FILE_TYPES[sniff(content) or '']}"
    if not path.exists():
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(tmp, path)
    return digest, path


def reopen_proof_step(member: Member, course_id: int, now: datetime) -> None:
    """Put the member back where they were: asked for the certificate of this course."""
    set_conversation(member, CERTIFICATE, PROOF, {"course_id": course_id}, now=now)


@jobs.job
def download_certificate(certificate_id: int) -> str:
    """The job: fetch a reported file from Twilio, check it, store it, and tell the member."""
    certificate = db.session.get(Certificate, certificate_id, with_for_update=True)
    if certificate is None or certificate.status != CertificateStatus.DOWNLOADING:
        return "nothing to do"
    member = db.session.get(Member, certificate.member_id)
    course = db.session.get(Course, certificate.course_id)
    now = utcnow()
    max_bytes = current_app.config["CERTIFICATE_MAX_BYTES"]
    try:
        content, problem = fetch(certificate.media_url or "", max_bytes)
    except DownloadError as error:
        certificate.download_attempts += 1
        job = get_current_job()
        last = job is None or not job.retries_left
        if last:
            certificate.status, certificate.reason = CertificateStatus.FAILED, f"download failed: {error}"
            set_enrolment_status(member.id, certificate.course_id, EnrolmentStatus.ENROLLED, now)
            notify(member, Reply.of(msg(FETCH_FAILED)), template="certificate_update", now=now)
            reopen_proof_step(member, certificate.course_id, now)
        elif certificate.download_attempts == 1:
            notify(member, Reply.of(msg(FETCH_RETRYING)), template="certificate_update", now=now)
        db.session.commit()
        if last:
            return "failed"
        raise
    if content is None:
        certificate.status, certificate.reason = CertificateStatus.INVALID, problem
        set_enrolment_status(member.id, certificate.course_id, EnrolmentStatus.ENROLLED, now)
        line = msg(TOO_LARGE, mb=max_bytes // (1024 * 1024)) if problem == "too_large" else msg(UNSUPPORTED)
        notify(member, Reply.of(line), template="certificate_update", now=now)
        reopen_proof_step(member, certificate.course_id, now)
        db.session.commit()
        return problem
    digest, path = store_file(content)
    duplicate = find_duplicate(member.id, sha256=digest)
    certificate.sha256, certificate.stored_path, certificate.size = digest, str(path), len(content)
    certificate.content_type = sniff(content)
    certificate.status = CertificateStatus.PENDING
    certificate.duplicate_of_id = duplicate.id if duplicate else None
    lang = member.language or "en"
    notify(member, Reply.of(msgn(RECEIVED, "days", course=Text(course_title(course, lang)),
                                days=current_app.config["CERTIFICATE_REVIEW_DAYS"])),
           template="certificate_update", now=now)
    db.session.commit()
    return "stored"


# --- review ----------------------------------------------------------------------------------------

def pending_certificates(limit: int = 10) -> list[tuple[Certificate, Member, Course]]:
    """Reports waiting for review, oldest first, each with its member and course (one query).

    Args:
        limit: how many at most.
    Returns:
        (report, member, course) for the reports with status "pending"; the report's `duplicate_of_id`
        is set when another member reported the same certificate.
    """
    rows = db.session.execute(
        sa.select(Certificate, Member, Course).join(Member, Member.id == Certificate.member_id)
        .join(Course, Course.id == Certificate.course_id)
        .where(Certificate.status == CertificateStatus.PENDING).order_by(Certificate.id).limit(limit)
    )
    return [(report, member, course) for report, member, course in rows]


def member_of_report(certificate_id: int) -> int | None:
    """The id of the member who sent a report (None when there is no such report)."""
    return db.session.scalar(sa.select(Certificate.member_id).where(Certificate.id == certificate_id))


def approve_certificate(certificate_id: int, *, reviewer: str, now: datetime | None = None,
                        actor: str | None = None) -> ReviewOutcome:
    """Approve a pending report once, and hand the member a voucher (or a place on the waiting list).

    Works in the caller's transaction (commit afterwards); safe to call from many workers at once.

    Args:
        certificate_id: the report's id.
        reviewer: who approves (a phone number, a dashboard user), recorded on the report (20 characters).
        now: the time to record (default: now).
        actor: who approves, as the audit log names them (default: the reviewer).
    Returns:
        A ReviewOutcome whose status is "rewarded" (a voucher was given and sent), "reserved" (given but not
        sendable now, outside the 24-hour window without a template: kept for a later send), "waiting" (pool
        empty), "already_rewarded" (the member already had a code), "not_pending", "not_found" or
        "duplicate" (another member's identical certificate was accepted; nothing changed).
    """
    now = now or utcnow()
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return ReviewOutcome("not_found")
    if certificate.status == CertificateStatus.PENDING and find_duplicate(certificate.member_id, key=certificate.certificate_key,
                                                          sha256=certificate.sha256,
                                                          statuses=ACCEPTED_STATUSES) is not None:
        return ReviewOutcome("duplicate", certificate)
    claimed = db.session.execute(
        sa.update(Certificate).where(Certificate.id == certificate_id, Certificate.status == CertificateStatus.PENDING)
        .values(status=CertificateStatus.APPROVED, reviewed_by=reviewer, reviewed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(certificate)
    if not claimed:
        return ReviewOutcome(unclaimed(certificate), certificate)
    set_enrolment_status(certificate.member_id, certificate.course_id, EnrolmentStatus.VERIFIED, now)
    outcome = award(certificate, now)
    audit.record(actor or reviewer, "certificate.approve", f"certificate #{certificate_id}",
                 member_id=certificate.member_id, course_id=certificate.course_id, outcome=outcome.status)
    return outcome


def award(certificate: Certificate, now: datetime) -> ReviewOutcome:
    """Give the member of an approved report a voucher code, once, and send it (or keep it reserved for
    them when it cannot be sent now); the waiting list when the pool is empty."""
    member = db.session.get(Member, certificate.member_id)
    course = db.session.get(Course, certificate.course_id)
    title = Text(course_title(course, member.language or "en"))
    held = db.session.scalars(sa.select(Voucher).where(Voucher.member_id == member.id)).first()
    if held is not None:
        certificate.status = CertificateStatus.APPROVED
        if held.sent_at is None:  # the code they hold never reached them: it is what they are owed
            reason = send_voucher(held, member, now)
            return ReviewOutcome("reserved" if reason else "already_rewarded", certificate, held, reason)
        notify(member, Reply.of(msg(ALREADY_REWARDED, course=title)), template="certificate_update", now=now)
        return ReviewOutcome("already_rewarded", certificate)
    voucher = db.session.scalars(
        sa.select(Voucher).where(Voucher.assigned_at.is_(None)).order_by(Voucher.id).limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if voucher is None:
        certificate.status = CertificateStatus.WAITING
        notify(member, Reply.of(msg(WAITING, course=title)), template="voucher_waiting", now=now)
        alert_officers(Reply.of(msgn(POOL_EMPTY, "count", count=waiting_count())), now)
        return ReviewOutcome("waiting", certificate)
    try:
        with db.session.begin_nested():
            voucher.member_id, voucher.certificate_id, voucher.assigned_at = member.id, certificate.id, now
            db.session.flush()
    except IntegrityError:
        certificate.status = CertificateStatus.APPROVED
        return ReviewOutcome("already_rewarded", certificate)
    certificate.status = CertificateStatus.REWARDED
    set_enrolment_status(member.id, certificate.course_id, EnrolmentStatus.REWARDED, now)
    reason = send_voucher(voucher, member, now)
    return ReviewOutcome("reserved" if reason else "rewarded", certificate, voucher, reason)


def send_voucher(voucher: Voucher, member: Member, now: datetime) -> str | None:
    """Hand the member's code to the sending pipeline, once (the conditional UPDATE of `sent_at` decides
    between racing callers). Returns None when it is on its way (or already was), else why it cannot be
    sent now ('no_template', 'opted_out', 'deleted'): the code then stays reserved for the member."""
    claimed = db.session.execute(
        sa.update(Voucher).where(Voucher.id == voucher.id, Voucher.sent_at.is_(None)).values(sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    certificate = db.session.get(Certificate, voucher.certificate_id) if voucher.certificate_id else None
    course = db.session.get(Course, certificate.course_id) if certificate else None
    title = Text(course_title(course, member.language or "en") if course else "LinkedIn Learning")
    lines = [msg(VOUCHER, course=title, code=Text(voucher.code)), msg(REDEEM)]
    if voucher.expires_on:
        lines.append(msg(EXPIRES, date=Text(voucher.expires_on.isoformat())))
    expiry = voucher.expires_on.isoformat() if voucher.expires_on else "-"
    stored = notify(member, Reply.of(*lines), template="voucher", variables={"1": voucher.code, "2": expiry}, now=now)
    skipped = next((row for row in stored if row.status == "skipped"), None)
    if skipped is None:
        db.session.refresh(voucher, ["sent_at"])
        return None
    db.session.execute(sa.update(Voucher).where(Voucher.id == voucher.id).values(sent_at=None)
                       .execution_options(synchronize_session=False))
    db.session.refresh(voucher, ["sent_at"])
    return str((skipped.payload or {}).get("reason") or "no_template")


def voucher_not_sent(member: Member, payload: Mapping[str, Any], now: datetime) -> None:
    """The message carrying a code will not reach the member after all (Twilio refused it after accepting it,
    63016 with no voucher template, or 63018 too often): the code is kept for them again, and goes with their
    next message (`send_voucher_kept_for`) or by the clock (`send_reserved_vouchers`)."""
    code = (payload.get("content_variables") or {}).get("1")
    if code:
        db.session.execute(sa.update(Voucher).where(Voucher.member_id == member.id, Voucher.code == code)
                           .values(sent_at=None).execution_options(synchronize_session=False))


def send_reserved_voucher(member: Member, voucher_id: int, now: datetime) -> bool:
    """The member wrote (so the 24-hour window is open): send the code reserved for them, once."""
    if member.opted_out or member.erased:
        return False
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.member_id != member.id or voucher.sent_at is not None:
        return False
    # The member's message opens the window; the row notes it only when the message is finished.
    set_committed_value(member, "last_inbound_at", now)
    return send_voucher(voucher, member, now) is None


def send_reserved_vouchers(now: datetime | None = None) -> int:
    """Send every reserved code that can go now (the member wrote in the last 24 hours, or a voucher
    template is configured for their language); returns how many went. Run by the clock."""
    now = now or utcnow()
    reserved = db.session.execute(
        sa.select(Voucher, Member).join(Member, Member.id == Voucher.member_id)
        .where(Voucher.sent_at.is_(None), Voucher.member_id.is_not(None)).order_by(Voucher.assigned_at)
    ).all()
    sent = 0
    for voucher, member in reserved:
        if member.opted_out or member.erased:
            continue
        if within_window(member, now) or template_sid("voucher", member.language or "en"):
            sent += send_voucher(voucher, member, now) is None
    db.session.commit()
    return sent


def reject_certificate(certificate_id: int, reason: str, *, reviewer: str,
                       now: datetime | None = None, actor: str | None = None) -> ReviewOutcome:
    """Reject a pending report with the officer's reason; the member is told and may report again.

    Args:
        certificate_id: the report's id.
        reason: what the member reads (up to 500 characters).
        reviewer: who rejects, recorded on the report (20 characters).
        now: the time to record (default: now).
        actor: who rejects, as the audit log names them (default: the reviewer).
    Returns:
        A ReviewOutcome whose status is "rejected", "not_pending" or "not_found".
    """
    now = now or utcnow()
    reason = " ".join(reason.split())[:500]
    claimed = db.session.execute(
        sa.update(Certificate).where(Certificate.id == certificate_id, Certificate.status == CertificateStatus.PENDING)
        .values(status=CertificateStatus.REJECTED, reason=reason, reviewed_by=reviewer, reviewed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        return ReviewOutcome("not_found")
    db.session.refresh(certificate)
    if not claimed:
        return ReviewOutcome(unclaimed(certificate), certificate)
    member = db.session.get(Member, certificate.member_id)
    course = db.session.get(Course, certificate.course_id)
    set_enrolment_status(member.id, certificate.course_id, EnrolmentStatus.ENROLLED, now)
    reply = Reply.of(msg(REJECTED, course=Text(course_title(course, member.language or "en")), reason=Text(reason)),
                     msg(REPORT_AGAIN))
    notify(member, reply, template="certificate_update", variables={"1": reason}, now=now)
    # The reason stays on the report only (erased with the member's data): it may name her.
    audit.record(actor or reviewer, "certificate.reject", f"certificate #{certificate_id}",
                 member_id=member.id, course_id=certificate.course_id)
    return ReviewOutcome("rejected", certificate)


def alert_officers(reply: Reply, now: datetime) -> int:
    """Notify every officer and admin; returns how many. An officer who never wrote to the union's number
    gets a contact row here, so the alert goes out as the `officer_alert` template (or is recorded as
    skipped when none is configured) instead of being lost."""
    staff = db.session.scalars(sa.select(StaffMember)).all()
    phones = [s.phone for s in staff if "officer" in s.role_set]
    if not phones:
        return 0
    for phone in phones:  # a staff number that is a WhatsApp user id is the contact's user id too
        insert_ignore(Member, phone=phone, wa_user_id=phone if is_user_id(phone) else None, status="prospect",
                      created_at=now, updated_at=now)
    officers = db.session.scalars(sa.select(Member).where(
        sa.or_(Member.phone.in_(phones), Member.wa_user_id.in_(phones)))).all()
    for officer in officers:
        notify(officer, reply, template="officer_alert", now=now)
    return len(officers)


# --- vouchers --------------------------------------------------------------------------------------

def waiting_count() -> int:
    """How many approved members wait for a code."""
    return db.session.scalar(sa.select(sa.func.count()).where(Certificate.status == CertificateStatus.WAITING)) or 0


VOUCHER_CODE_MAX = 128


def voucher_row_problem(code: str, expiry_text: str) -> str | None:
    """Why a row of a voucher CSV cannot be used (None when it can); never repeats the code itself."""
    if not code:
        return "the code is empty"
    if any(c.isspace() for c in code):
        return "the code has a space in it"
    if len(code) > VOUCHER_CODE_MAX:
        return f"the code is longer than {VOUCHER_CODE_MAX} characters"
    if expiry_text:
        try:
            date.fromisoformat(expiry_text)
        except ValueError:
            shown = expiry_text if len(expiry_text) <= 20 else expiry_text[:20] + "…"
            return f"the expiry date '{shown}' is not a date written YYYY-MM-DD"
    return None


def read_voucher_csv(path: Path) -> tuple[list[tuple[str, date | None]], list[tuple[int, str]]]:
    """Codes (and optional expiry dates, YYYY-MM-DD) from a CSV with a 'code' column, or one code per line;
    and, for each row that cannot be used, its row number (as a spreadsheet numbers it) and why."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    codes: list[tuple[str, date | None]] = []
    problems: list[tuple[int, str]] = []
    if not rows:
        return codes, problems
    header = [c.strip().lower() for c in rows[0]]
    code_at = header.index("code") if "code" in header else 0
    expiry_at = next((header.index(h) for h in ("expires_on", "expiry", "expires") if h in header), None)
    first = 2 if "code" in header else 1
    body = rows[1:] if "code" in header else rows
    for number, row in enumerate(body, start=first):
        if not any(cell.strip() for cell in row):
            continue
        code = row[code_at].strip() if len(row) > code_at else ""
        expiry_text = row[expiry_at].strip() if expiry_at is not None and len(row) > expiry_at else ""
        problem = voucher_row_problem(code, expiry_text)
        if problem is not None:
            problems.append((number, problem))
        else:
            codes.append((code, date.fromisoformat(expiry_text) if expiry_text else None))
    return codes, problems


def import_vouchers(path: Path, now: datetime | None = None, *, actor: str = "flask vouchers import") -> VoucherImport:
    """Add the codes of a CSV (duplicates ignored), then serve the waiting list in order.

    Args:
        path: a CSV with a "code" column and an optional "expires_on" (YYYY-MM-DD), or one code per line.
        now: the time to record (default: now).
        actor: who imports, for the audit log.
    Returns:
        A VoucherImport with the counts of codes added, duplicates ignored, invalid rows and members served.
    """
    now = now or utcnow()
    valid, problems = read_voucher_csv(path)
    invalid = len(problems)
    known = set(db.session.scalars(sa.select(Voucher.code).where(Voucher.code.in_([c for c, _ in valid])))) if valid else set()
    added = 0
    for code, expiry in valid:
        if code in known:
            continue
        known.add(code)
        db.session.add(Voucher(code=code, expires_on=expiry, added_at=now))
        added += 1
    db.session.flush()
    served = serve_waiting_list(now)
    result = VoucherImport(added, len(valid) - added, invalid, served, tuple(problems))
    audit.record(actor, "vouchers.import", path.name, added=added, duplicates=result.duplicates, invalid=invalid,
                 served=served)
    return result


def serve_waiting_list(now: datetime | None = None) -> int:
    """Give available codes to the waiting list, oldest approval first; returns how many were served."""
    now = now or utcnow()
    served = 0
    waiting = db.session.scalars(
        sa.select(Certificate).where(Certificate.status == CertificateStatus.WAITING)
        .order_by(Certificate.reviewed_at, Certificate.id).with_for_update(skip_locked=True)
    ).all()
    for certificate in waiting:
        if db.session.scalar(sa.select(Voucher.id).where(Voucher.assigned_at.is_(None)).limit(1)) is None:
            break
        outcome = award(certificate, now)
        if outcome.status == "waiting":
            break
        served += outcome.status in {"rewarded", "reserved"}
    return served


def voucher_counts() -> tuple[int, int]:
    """How many codes are free and how many are given, in one query."""
    available, assigned = db.session.execute(
        sa.select(sa.func.count().filter(Voucher.assigned_at.is_(None)),
                  sa.func.count().filter(Voucher.assigned_at.is_not(None)))
    ).one()
    return int(available or 0), int(assigned or 0)


def pool_status() -> PoolStatus:
    """How many codes are free and given, and who is waiting."""
    available, assigned = voucher_counts()
    waiting = db.session.execute(
        sa.select(Certificate.id, Member.phone, Certificate.reviewed_at).join(Member, Member.id == Certificate.member_id)
        .where(Certificate.status == CertificateStatus.WAITING).order_by(Certificate.reviewed_at, Certificate.id)
    ).all()
    return PoolStatus(available, assigned, [tuple(row) for row in waiting])


def erase_certificates(member: Member, now: datetime) -> None:
    """DELETE MY DATA: forget the member's certificate links, IDs and files; keep course and status (the counts).

    A file is shared by content hash, so it is deleted only when no other member's report points at it.
    """
    reports = db.session.scalars(sa.select(Certificate).where(Certificate.member_id == member.id)).all()
    for report in reports:
        if report.stored_path:
            shared = db.session.scalar(sa.select(sa.func.count()).where(
                Certificate.stored_path == report.stored_path, Certificate.member_id != member.id))
            if not shared:
                Path(report.stored_path).unlink(missing_ok=True)
        report.link = report.certificate_key = report.media_url = report.sha256 = report.stored_path = None
        report.reason = None



def certificates_past_time(now: datetime) -> list[HeldPastTime]:
    """Retention check: certificate links, IDs and files left on the reports of members who deleted their data."""
    erased = sa.select(Member.id).where(Member.status == ERASED_STATUS).scalar_subquery()
    held = sa.or_(*(column.is_not(None) for column in (Certificate.link, Certificate.certificate_key,
                                                        Certificate.media_url, Certificate.stored_path)))
    left = db.session.scalar(sa.select(sa.func.count()).where(Certificate.member_id.in_(erased), held)) or 0
    return [HeldPastTime("certificate links and files of members who deleted their data", "until DELETE MY DATA",
                         left)]


def unclaimed(certificate: Certificate) -> str:
    """Why a report could not be reviewed: its file is still downloading, or it was reviewed already."""
    return "not_ready" if certificate.status == CertificateStatus.DOWNLOADING else "not_pending"


def review_outcome_line(certificate_id: int, outcome: ReviewOutcome) -> Line:
    """What an approval or rejection did, in words for the officer."""
    status = label_of(REPORT_STATUSES, outcome.certificate.status) if outcome.certificate else Text("")
    return msg(REVIEW_OUTCOMES[outcome.status], id=certificate_id, status=status,
               reason=sending.reason_line(outcome.reason))


def send_voucher_kept_for(member: Member, now: datetime) -> None:
    """After a member's message went through the flows (a STOP or DELETE MY DATA in it is respected): a
    voucher code kept for them because they could not be reached is sent now (`send_reserved_voucher`)."""
    if member.reserved_voucher is not None:
        send_reserved_voucher(member, member.reserved_voucher, now)
