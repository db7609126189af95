"""`flask courses …` and `flask vouchers …`: the course catalog and the voucher pool."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

courses = AppGroup("courses", help="The course catalog.")
vouchers = AppGroup("vouchers", help="LinkedIn Premium voucher codes and the waiting list.")


@courses.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keep-missing", is_flag=True, help="Keep courses that are not in the file (default: hide them).")
def courses_load(path: Path | None, keep_missing: bool) -> None:
    """Load or update the catalog from a CSV file (default: the sample catalog in data/courses.csv)."""
    from bot.core.extensions import db
    from bot.courses.service import SAMPLE_CATALOG, load_catalog

    try:
        result = load_catalog(path or SAMPLE_CATALOG, deactivate_missing=not keep_missing)
    except (ValueError, KeyError) as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"courses: {result.added} added, {result.updated} updated, {result.deactivated} hidden")


@courses.command("list")
def courses_list() -> None:
    """List the catalog."""
    from bot.courses.service import catalog

    for course in catalog():
        click.echo(f"{course['id']}\t{course['slug']}\t{course['hours']:g}h\t{course['titles'].get('en', '')}")


@vouchers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def vouchers_import(path: Path) -> None:
    """Add codes from a CSV (a 'code' column, optional 'expires_on' YYYY-MM-DD; or one code per line).
    Codes already known are ignored; the waiting list is served first, in order."""
    from bot.certificates.service import import_vouchers
    from bot.core.extensions import db

    result = import_vouchers(path)
    db.session.commit()
    click.echo(f"vouchers: {result.added} added, {result.duplicates} duplicates ignored, "
               f"{result.invalid} invalid rows, {result.served} sent to the waiting list")
    for line in result.problem_lines(shown=50):
        click.echo(f"  {line}")


@vouchers.command("pool")
def vouchers_pool() -> None:
    """Show how many codes are free and given, and the waiting list in order."""
    from bot.certificates.service import pool_status

    status = pool_status()
    click.echo(f"available: {status.available}\tassigned: {status.assigned}\twaiting: {len(status.waiting)}")
    for certificate_id, phone, since in status.waiting:
        click.echo(f"waiting\treport #{certificate_id}\t{phone}\tsince {since:%Y-%m-%d %H:%M}" if since else
                   f"waiting\treport #{certificate_id}\t{phone}")


certificates = AppGroup("certificates", help="Certificate reports: review, approve, reject.")


@certificates.command("pending")
@click.option("--limit", default=50, show_default=True)
def certificates_pending(limit: int) -> None:
    """List the reports waiting for review, oldest first."""
    from bot.certificates.service import pending_certificates

    for report, member, course in pending_certificates(limit):
        flag = f"\tsame certificate as #{report.duplicate_of_id}" if report.duplicate_of_id else ""
        proof = report.link or report.stored_path or report.media_url or ""
        click.echo(f"#{report.id}\t{member.member_number or '-'}\t{member.phone}\t{course.slug}\t{proof}{flag}")


@certificates.command("approve")
@click.argument("report_id", type=int)
@click.option("--reviewer", default="cli", show_default=True, help="Who approves (recorded with the report).")
def certificates_approve(report_id: int, reviewer: str) -> None:
    """Approve a report: the member receives a voucher, or a place on the waiting list."""
    from bot.certificates.service import approve_certificate, review_outcome_line
    from bot.core.extensions import db
    from bot.core.i18n import SOURCE_LANGUAGE, render_line

    outcome = approve_certificate(report_id, reviewer=reviewer)
    db.session.commit()
    click.echo(f"#{report_id}: {outcome.status}")
    if outcome.status == "reserved":
        click.echo(render_line(SOURCE_LANGUAGE, review_outcome_line(report_id, outcome)))
    if outcome.status in {"not_found", "not_pending", "duplicate"}:
        raise SystemExit(1)


@certificates.command("reject")
@click.argument("report_id", type=int)
@click.argument("reason", nargs=-1, required=True)
@click.option("--reviewer", default="cli", show_default=True, help="Who rejects (recorded with the report).")
def certificates_reject(report_id: int, reason: tuple[str, ...], reviewer: str) -> None:
    """Reject a report with the reason the member will read."""
    from bot.certificates.service import reject_certificate
    from bot.core.extensions import db

    outcome = reject_certificate(report_id, " ".join(reason), reviewer=reviewer)
    db.session.commit()
    click.echo(f"#{report_id}: {outcome.status}")
    if outcome.status != "rejected":
        raise SystemExit(1)
