"""The dashboard's pages."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import phonenumbers
import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import selectinload

from bot.audit import service as audit
from bot.core import i18n
from bot.core.extensions import db
from bot.core.local_time import to_local
from bot.courses import stats as course_stats
from bot.dashboard import timeline
from bot.dashboard import users as dashboard_users
from bot.dashboard.date_range import BadRange, DateRange
from bot.dashboard.forms import (
    AccountActionForm,
    DataExportForm,
    ExportForm,
    NewAccountForm,
    NoteForm,
    SignInForm,
    SignOutForm,
)
from bot.dashboard.nav import ALL_ROLES, nav_for, role_required
from bot.dashboard.sign_in_limits import Refusal, sign_in_limits
from bot.dashboard.users import authenticate
from bot.members.service import is_user_id
from bot.models import AuditEvent, Member, MemberWork, utcnow
from bot.privacy import masking
from bot.privacy.masking import mask_phone
from bot.stats import service as stats
from bot.support import notes
from flows.counties import COUNTIES
from flows.signup import COMMUNITY_LABELS, GENDER_LABELS, WORK_KINDS, WORK_LABELS

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
MAX_CHART_MONTHS = 36
STATUSES = ("active", "opted_out", "prospect")
PHONE_QUERY = re.compile(r"\+?[\d\s().-]{6,24}")


@bp.app_context_processor
def dashboard_globals() -> dict[str, Any]:
    """The navigation and the sign-out form, for every dashboard page."""
    on_dashboard = request.blueprint == "admin" or (  # an error page for an address that matched no route
        request.path.startswith("/admin") and not request.path.startswith("/admin/rq"))
    if not on_dashboard or not current_user.is_authenticated:
        return {}
    return {"nav": nav_for(current_user.role), "sign_out_form": SignOutForm(), "language_labels": i18n.LANGUAGE_LABELS}


CONTENT_SECURITY_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"


@bp.app_template_filter("local")
def local_when(value: datetime | date | None, with_time: bool = True) -> str:
    """A stored (naive UTC) time in TIMEZONE with the zone named ('2026-12-03 16:05 EAT'), to the minute;
    a date as it is."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    moment = to_local(value)
    return moment.strftime("%Y-%m-%d %H:%M %Z" if with_time else "%Y-%m-%d")


@bp.after_request
def security_headers(response: Response, policy: str = CONTENT_SECURITY_POLICY) -> Response:
    """Dashboard pages load nothing from elsewhere and are never framed or cached."""
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


# The largest request body a dashboard page takes (werkzeug answers 413 beyond it, before the form is read):
# the sign-in form, which anyone can post, far less; a page taking a file says its own (`takes_body`).
FORM_MAX_BYTES = 256 * 1024
SIGN_IN_MAX_BYTES = 16 * 1024

F = TypeVar("F", bound=Callable[..., Any])


def takes_body(max_bytes: int) -> Callable[[F], F]:
    """Mark a view that takes a larger body than FORM_MAX_BYTES (an upload)."""
    def mark(view: F) -> F:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        return view
    return mark


@bp.before_request
def cap_the_body() -> None:
    """Refuse an oversized body before anything parses it."""
    view = current_app.view_functions.get(request.endpoint or "")
    request.max_content_length = getattr(view, "max_body_bytes", FORM_MAX_BYTES)


@bp.route("/login", methods=["GET", "POST"])
@takes_body(SIGN_IN_MAX_BYTES)
def login() -> ResponseReturnValue:
    """Sign in with email and password; failed attempts are limited per address and per account, counted
    before the password is checked."""
    form = SignInForm()
    if form.validate_on_submit():
        email = dashboard_users.normalize_email(form.email.data or "")
        address = request.remote_addr or ""
        attempt = sign_in_limits().attempt(address, email)
        if isinstance(attempt, Refusal):
            return render_template("admin/login.html", form=form, error="Too many failed sign-ins. Please wait "
                                   "and try again."), 429, {"Retry-After": str(attempt.retry_after)}
        user = authenticate(email, form.password.data or "", address=address)
        db.session.commit()
        if user is not None:
            attempt.release()
            login_user(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/admin") and "//" not in target else url_for("admin.overview"))
        return render_template("admin/login.html", form=form, error="Wrong email or password."), 401
    if request.method == "POST":
        return render_template("admin/login.html", form=form, error="Please sign in again."), 400
    return render_template("admin/login.html", form=form, error=None)


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out, ending every session of the account (a copy of the session cookie stops working too)."""
    if not SignOutForm().validate_on_submit():
        abort(400)
    dashboard_users.end_sessions(current_user)
    db.session.commit()
    logout_user()
    return redirect(url_for("admin.login"))


def chart_data(scope: stats.StatsFilter, period: DateRange | None, now: datetime) -> dict[str, Any]:
    """Every chart's labels and values, from the stats service, for the members in scope."""
    months, until = chart_months(period, now)
    over_time = stats.members_over_time(scope, months, until)
    return {
        "joined": {"labels": [m for m, _ in over_time], "values": [n for _, n in over_time],
                   "table": [[m, f"{n:,}"] for m, n in over_time], "hidden": 0},
        "county": labelled_counts(stats.counts_by(Member.county, scope), {}),
        "work": labelled_counts(stats.counts_by_work(scope), WORK_LABELS),
        "gender": labelled_counts(stats.counts_by(Member.gender, scope), GENDER_LABELS),
        "community": labelled_counts(stats.counts_by(Member.community, scope), COMMUNITY_LABELS),
        "funnel": labelled_counts(course_stats.funnel(scope), {}, groups=False),
    }


def chart_months(period: DateRange | None, now: datetime) -> tuple[int, datetime]:
    """How many months 'members over time' shows and the moment its last month ends at: the last 12 up to
    now, or the months of the range (at most MAX_CHART_MONTHS, the latest), up to its end or now."""
    if period is None:
        return 12, now
    until = min(now, period.bounds()[1] - timedelta(microseconds=1))
    if period.start is None:
        return 12, until
    last = to_local(until).date()
    months = (last.year - period.start.year) * 12 + last.month - period.start.month + 1
    return max(1, min(months, MAX_CHART_MONTHS)), until


def labelled_counts(rows: Sequence[tuple[str | None, int]], labels: dict[str, str], *,
                    groups: bool = True) -> dict[str, Any]:
    """Chart labels (English option labels, 'not given' for none), values and the table beside the chart.

    For a breakdown of members (`groups`), a group under `stats.SMALL_GROUP` is drawn nowhere: the chart
    leaves it out, the table shows "<5" and `hidden` says how many groups were left out of the chart."""
    named = [(labels.get(v, v) if v is not None else "not given", n) for v, n in rows]
    drawn = [(label, n) for label, n in named if not groups or n >= stats.SMALL_GROUP]
    return {
        "labels": [label for label, _ in drawn],
        "values": [n for _, n in drawn],
        "table": [[label, stats.group_count(n) if groups else f"{n:,}"] for label, n in named],
        "hidden": len(named) - len(drawn),
    }


@bp.get("/")
@role_required(*ALL_ROLES)
def overview() -> ResponseReturnValue:
    """Headline numbers and charts for a county and/or kind of work (from one reading of the running counts),
    and for the members who joined between two dates (counted from the members table)."""
    scope = MemberQuery.of(request.args)  # its county and kind of work: the same filter as STATS
    try:
        period = DateRange.of(request.args)
    except BadRange as problem:
        return render_template("admin/overview.html", problem=str(problem), typed=request.args, **overview_context(
            scope, None)), 400
    start, end = period.bounds() if period else (None, None)
    chosen = stats.StatsFilter(county=scope.county or None, work=scope.work or None, joined_from=start,
                               joined_before=end)
    now = utcnow()
    with stats.one_reading():
        totals = stats.totals(chosen, now)
        charts = chart_data(chosen, period, now)
    return render_template("admin/overview.html", totals=totals, charts=charts, problem=None,
                           **overview_context(scope, period))


def overview_context(scope: MemberQuery, period: DateRange | None) -> dict[str, Any]:
    """What the overview's heading, filter form and links need: the filters chosen and their title."""
    named = [part for part in (scope.county, WORK_LABELS.get(scope.work, "")) if part]
    if period:
        named.append(f"joined {period.label()}")
    return {"scope": scope, "period": period, "heading": ", ".join(named), "counties": COUNTIES,
            "work_kinds": WORK_KINDS, "small_group": stats.SMALL_GROUP,
            "filters": scope.args() | (period.args() if period else {})}


@dataclass(frozen=True)
class MemberQuery:
    """The members list's search and filters, from the query string or the export form."""

    q: str = ""
    county: str = ""
    work: str = ""
    status: str = ""

    @classmethod
    def of(cls, source: Any) -> MemberQuery:
        """Read and clean the filters."""
        county = source.get("county", "").strip()
        work = source.get("work", "").strip()
        status = source.get("status", "").strip()
        return cls(
            q=source.get("q", "").strip()[:80],
            county=county if county in COUNTIES else "",
            work=work if work in WORK_LABELS else "",
            status=status if status in STATUSES else "",
        )

    def conditions(self, *, whole_phones: bool = True) -> list[sa.ColumnElement[bool]]:
        """SQL conditions for the filters. Without `whole_phones` (a role that sees phones masked) a phone
        number matches only when written in full (any format), so typing it digit by digit finds nothing."""
        found: list[sa.ColumnElement[bool]] = []
        if self.q:
            matches = [Member.name.icontains(self.q, autoescape=True),
                       Member.member_number.icontains(self.q, autoescape=True)]
            phone = whole_phone(self.q)
            if phone:
                matches.append(Member.phone == phone)
            if is_user_id(self.q.strip()):  # a WhatsApp user id, written whole
                matches.append(Member.wa_user_id == self.q.strip())
            if whole_phones:
                written = re.sub(r"[\s().-]", "", self.q)
                matches.append(Member.phone.contains(written, autoescape=True))
                matches.append(Member.wa_user_id.contains(self.q.strip(), autoescape=True))
                if re.fullmatch(r"(0|254)\d{2,}", written):  # the start of a Kenyan number, '07…' or '2547…'
                    matches.append(Member.phone.startswith("+254" + written.removeprefix("0").removeprefix("254"),
                                                           autoescape=True))
            found.append(sa.or_(*matches))
        if self.county:
            found.append(Member.county == self.county)
        if self.work:
            found.append(sa.exists().where(MemberWork.member_id == Member.id, MemberWork.kind == self.work))
        if self.status == "opted_out":
            found.append(Member.opted_out_at.is_not(None))
        elif self.status:
            found.append(Member.status == self.status)
            found.append(Member.opted_out_at.is_(None))
        return found

    def args(self) -> dict[str, str]:
        """The filters that are set, for links."""
        return {k: v for k, v in vars(self).items() if v}

    def audited(self, member_ids: list[int]) -> dict[str, Any]:
        """The filters as the audit log keeps them: the search string may be a phone number or a name, so
        only what kind of search it was and the ids of the members it matched are kept."""
        details: dict[str, Any] = {k: v for k, v in self.args().items() if k != "q"}
        if self.q:
            details["search"] = search_kind(self.q)
            details["member_ids"] = member_ids
        return details


def search_kind(text: str) -> str:
    """What a members search looks for: 'phone', 'member number' or 'name'."""
    if re.fullmatch(r"[\d\s+()\-]+", text):
        return "phone"
    if is_user_id(text.strip()):
        return "whatsapp user id"
    if text.upper().startswith(current_app.config["MEMBER_NUMBER_PREFIX"].upper()):
        return "member number"
    return "name"


def whole_phone(text: str) -> str | None:
    """A phone number written in full in any format ('0712 345 678', '254712…', '+254 712…') as E.164."""
    if not PHONE_QUERY.fullmatch(text):
        return None
    try:
        number = phonenumbers.parse(text, "KE")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shows_phones() -> bool:
    """Organisers see phone numbers and voucher codes masked; officers and admins see them whole."""
    return masking.sees_full_data(current_user.role)


@bp.get("/members")
@role_required(*ALL_ROLES)
def members() -> ResponseReturnValue:
    """The members list: search by name, member number or phone; filter by county, work and status; paged."""
    query = MemberQuery.of(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    conditions = query.conditions(whole_phones=shows_phones())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Member).where(*conditions)) or 0
    rows = list(db.session.scalars(
        sa.select(Member).where(*conditions).options(selectinload(Member.work_kinds))
        .order_by(Member.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ))
    # A WhatsApp profile name is free text too (some people put their number in it).
    names = masking.shown_texts([m.name or m.profile_name for m in rows], current_user.role)
    return render_template(
        "admin/members.html", members=list(zip(rows, names, strict=True)), query=query, page=page, total=total,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), counties=COUNTIES, work_kinds=WORK_KINDS,
        statuses=STATUSES, phone=(lambda p: p) if shows_phones() else mask_phone, work_labels=WORK_LABELS,
        export_form=ExportForm(data=query.args()) if current_user.role == "admin" else None,
    )


@bp.get("/members/<int:member_id>")
@role_required(*ALL_ROLES)
def member_detail(member_id: int) -> ResponseReturnValue:
    """One member: details and the timeline of everything held about them, as the reader's role may read it."""
    member = db.session.get(Member, member_id) or abort(404)
    return member_page(member, NoteForm(), None, 200)


def member_page(member: Member, note_form: NoteForm, error: str | None, status: int) -> ResponseReturnValue:
    """The member page with its timeline and the note form."""
    name, work_other = masking.shown_texts([member.name or member.profile_name, member.work_other], current_user.role)
    return render_template(
        "admin/member.html", member=member, timeline=timeline.build(member, current_user.role),
        name=name, work_other=work_other, phone=member.phone if shows_phones() else mask_phone(member.phone),
        work_labels=WORK_LABELS, gender_labels=GENDER_LABELS, community_labels=COMMUNITY_LABELS,
        note_form=note_form, note_error=error,
        data_export_form=DataExportForm() if current_user.role == "admin" else None,
    ), status


@bp.post("/members/<int:member_id>/notes")
@role_required(*ALL_ROLES)
def add_member_note(member_id: int) -> ResponseReturnValue:
    """Add an internal note about a member (audited; never shown to the member)."""
    member = db.session.get(Member, member_id) or abort(404)
    form = NoteForm()
    if not form.validate_on_submit():
        problem = ("This form had expired, so the note was not saved: it is below, send it again."
                   if "csrf_token" in form.errors else "The note needs some text (at most 2000 characters).")
        return member_page(member, form, problem, 400)
    notes.add_note(member, form.body.data or "", author=current_user.email)
    db.session.commit()
    return redirect(url_for("admin.member_detail", member_id=member.id) + "#notes")


EXPORT_COLUMNS = ("member_number", "name", "phone", "county", "work", "gender", "community", "status",
                  "language", "joined_at", "opted_out_at", "whatsapp_user_id")


PHONE = re.compile(r"\+\d{6,15}")


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if PHONE.fullmatch(text):
        return text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.post("/members/export")
@role_required("admin")
def export_members() -> ResponseReturnValue:
    """The filtered members as CSV, recorded in the audit log (who, which filters, how many rows, when)."""
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    query = MemberQuery.of(request.form)
    rows = list(db.session.scalars(
        sa.select(Member).where(*query.conditions()).order_by(Member.id).options(selectinload(Member.work_kinds))
    ))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for m in rows:
        writer.writerow([csv_cell(v) for v in (
            m.member_number, m.name, None if is_user_id(m.phone) else m.phone, m.county,
            " ".join(sorted(w.kind for w in m.work_kinds)), m.gender, m.community,
            "opted_out" if m.opted_out else m.status, m.language, m.joined_at, m.opted_out_at, m.wa_user_id,
        )])
    audit.record(current_user.email, "members.export", "members", filters=query.audited([m.id for m in rows]),
                 rows=len(rows))
    db.session.commit()
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=members-{stamp}.csv"})


@bp.route("/accounts", methods=["GET", "POST"])
@role_required("admin")
def accounts() -> ResponseReturnValue:
    """Dashboard accounts: add one, disable or enable one; every change goes to the audit log."""
    form = NewAccountForm()
    error = None
    if form.validate_on_submit():
        try:
            dashboard_users.create_user(form.email.data or "", form.password.data or "", form.role.data or "",
                                        name=form.name.data or None, actor=current_user.email)
        except ValueError as problem:
            db.session.rollback()
            error = str(problem)
        else:
            return redirect(url_for("admin.accounts"))
    elif request.method == "POST":
        error = "; ".join(f"{field}: {', '.join(problems)}" for field, problems in form.errors.items())
    return render_template("admin/accounts.html", form=form, error=error, users=dashboard_users.list_users(),
                           action_form=AccountActionForm()), 400 if error else 200


@bp.post("/accounts/<int:user_id>/<any(disable, enable):action>")
@role_required("admin")
def account_action(user_id: int, action: str) -> ResponseReturnValue:
    """Disable or enable an account (not one's own)."""
    if not AccountActionForm().validate_on_submit():
        abort(400)
    if user_id == current_user.id:
        abort(400)
    if dashboard_users.set_active(user_id, action == "enable", actor=current_user.email) is None:
        abort(404)
    return redirect(url_for("admin.accounts"))


@bp.get("/audit")
@role_required("admin")
def audit_log() -> ResponseReturnValue:
    """Staff actions, newest first."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    action = request.args.get("action", "").strip()[:64]
    events = audit.recent(PAGE_SIZE, (page - 1) * PAGE_SIZE, action or None)
    actions = list(db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    return render_template("admin/audit.html", events=events, page=page, action=action, actions=actions,
                           more=len(events) == PAGE_SIZE)


@bp.get("/jobs")
@role_required("admin")
def jobs() -> ResponseReturnValue:
    """Queue lengths and failed jobs, with a link to rq-dashboard."""
    from rq.registry import FailedJobRegistry

    from bot.core.queues import QUEUES, queue

    rows = []
    for name in QUEUES:
        q = queue(name)
        rows.append({"name": name, "queued": q.count, "failed": FailedJobRegistry(queue=q).count})
    return render_template("admin/jobs.html", queues=rows)


def same_origin_posts() -> None:
    """rq-dashboard's actions are scripted POSTs without a CSRF token: accept them only from this site."""
    if request.method != "POST":
        return
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if urlsplit(source).netloc != request.host:
        abort(403)


def rq_state_changes(app: Flask) -> frozenset[str]:
    """rq-dashboard's endpoints that change something (delete, requeue, requeue all, empty, compact): the
    ones that take a POST."""
    return frozenset(rule.endpoint for rule in app.url_map.iter_rules()
                     if rule.endpoint.startswith("rq_dashboard.") and "POST" in (rule.methods or ()))


def state_changes_by_post_only() -> None:
    """A state change under /admin/rq only by a POST from this site: rq-dashboard also answers GET on some
    (requeue all), which a link or a navigation from another site could trigger."""
    if request.endpoint in current_app.extensions["umoja_rq_state_changes"] and request.method != "POST":
        abort(405, valid_methods=["POST"])
    same_origin_posts()


INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL | re.IGNORECASE)


def rq_page_headers(response: Response) -> Response:
    """The dashboard's headers on rq-dashboard's pages. Its pages run one inline script and compile their
    row templates with underscore (which needs eval): the policy allows exactly the inline scripts of this
    page, by their hashes, and eval, and nothing from elsewhere."""
    scripts = ""
    if response.mimetype == "text/html" and not response.direct_passthrough:
        bodies = [m["body"] for m in INLINE_SCRIPT.finditer(response.get_data(as_text=True))
                  if "src=" not in m["attrs"] and "text/template" not in m["attrs"]]
        scripts = "".join(f" 'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'"
                          for b in bodies)
    return security_headers(response, CONTENT_SECURITY_POLICY + f"; script-src 'self' 'unsafe-eval'{scripts}")


def mount_jobs(app: Flask) -> None:
    """rq-dashboard at /admin/rq, on the app's Redis, for signed-in admins only; its state changes by a POST
    from this site only, its pages with the dashboard's security headers."""
    import rq_dashboard

    from bot.core.redis_conn import connect

    for key, value in vars(rq_dashboard.default_settings).items():
        if key.isupper():
            app.config.setdefault(key, value)

    @app.before_request
    def connect_rq_dashboard() -> None:
        """Point rq-dashboard at the app's Redis (the embedded one starts on first use)."""
        if not request.path.startswith("/admin/rq") or getattr(app, "redis_conn", None) is not None:
            return
        redis = connect(app)
        url = app.config.get("REDIS_URL") or f"unix://{redis.socket_file}"
        app.config["RQ_DASHBOARD_REDIS_URL"] = [url]
        app.redis_conn = redis  # type: ignore[attr-defined]

    blueprint = rq_dashboard.blueprint
    if not getattr(blueprint, "umoja_admins_only", False):
        blueprint.before_request_funcs.setdefault(None, []).insert(0, role_required("admin")(state_changes_by_post_only))
        blueprint.after_request_funcs.setdefault(None, []).append(rq_page_headers)
        blueprint.umoja_admins_only = True
    app.register_blueprint(blueprint, url_prefix="/admin/rq")
    app.extensions["umoja_rq_state_changes"] = rq_state_changes(app)
