"""The dashboard at /admin: sign-in, roles on every route, CSRF, escaping, masking, export and audit."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent, DashboardUser
from tests.helpers.dashboard import PASSWORD, add_member, csrf_token, make_user, sign_in, statements_run

ROLES = ("officer", "organiser", "admin")
EVERY_ROLE = frozenset(ROLES)
ADMIN = frozenset({"admin"})
ORGANISERS = frozenset({"organiser", "admin"})
# Who may open each dashboard route; a new route fails the matrix until it is listed here.
EXPECTED = {
    "admin.overview": EVERY_ROLE,
    "admin.members": EVERY_ROLE,
    "admin.member_detail": EVERY_ROLE,
    "admin.add_member_note": EVERY_ROLE,
    "admin.reports": EVERY_ROLE,
    "admin.report_export": EVERY_ROLE,
    "admin.languages": frozenset({"officer", "admin"}),
    "admin.message_templates": EVERY_ROLE,
    "admin.export_members": ADMIN,
    "admin.member_data_export": ADMIN,
    "admin.audit_log": ADMIN,
    "admin.jobs": ADMIN,
    "admin.logout": EVERY_ROLE,
    "admin.accounts": ADMIN,
    "admin.account_action": ADMIN,
    "admin.certificates_queue": frozenset({"officer", "admin"}),
    "admin.certificate_file": frozenset({"officer", "admin"}),
    "admin.approve_certificate": frozenset({"officer", "admin"}),
    "admin.reject_certificate": frozenset({"officer", "admin"}),
    "admin.vouchers": frozenset({"officer", "admin"}),
    "admin.upload_vouchers": ADMIN,
    "admin.tickets_page": frozenset({"organiser", "admin"}),
    "admin.reply_ticket": frozenset({"organiser", "admin"}),
    "admin.close_ticket": frozenset({"organiser", "admin"}),
    "admin.ticket_detail": ORGANISERS,
    "admin.assign_ticket": ORGANISERS,
    "admin.saved_answers_page": ORGANISERS,
    "admin.saved_answer_edit": ORGANISERS,
    "admin.add_saved_answer": ORGANISERS,
    "admin.change_saved_answer": ORGANISERS,
    "admin.delete_saved_answer": ORGANISERS,
    "admin.broadcasts_list": ORGANISERS,
    "admin.broadcast_compose": ORGANISERS,
    "admin.broadcast_count": ORGANISERS,
    "admin.broadcast_preview": ORGANISERS,
    "admin.broadcast_send": ORGANISERS,
    "admin.broadcast_progress": ORGANISERS,
    "admin.broadcast_figures": ORGANISERS,
    "admin.broadcast_control": ORGANISERS,
    "admin.broadcast_results": ORGANISERS,
    "admin.broadcasts_compare": ORGANISERS,
    "admin.broadcasts_compare_export": ORGANISERS,
}
PUBLIC = {"admin.login", "admin.static"}


def routes(app, member_id: int) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every dashboard and rq-dashboard route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not (rule.endpoint.startswith("admin.") or rule.endpoint.startswith("rq_dashboard.")):
            continue
        if rule.endpoint in PUBLIC or rule.endpoint == "rq_dashboard.static":
            continue
        numeric = set(re.findall(r"<int:(\w+)>", rule.rule))
        samples = {"member_id": member_id, "user_id": 999, "action": "disable", "page": "1", "per_page": "8", "order": "asc", "registry_name": "queued",
                   "name": "membership", "fmt": "csv"}
        values = {arg: samples.get(arg, 0 if arg in numeric else "default") for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        if rule.endpoint.startswith("rq_dashboard.") and "GET" not in methods:
            methods = ["POST"]
        found.append((rule.endpoint, methods[0], url))
    return found


@pytest.mark.parametrize("role", [None, *ROLES])
def test_role_matrix_over_every_route(app, role):
    member_id = add_member(app, "Amina")
    with app.app_context():
        from bot.core.queues import queue

        queue("default").enqueue("builtins.print", job_id="default")
    client = app.test_client()
    token = None
    if role:
        email = make_user(app, role)
        assert sign_in(client, email).status_code == 302
        token = csrf_token(client.get("/admin/").get_data(as_text=True))
    checked = 0
    for endpoint, method, url in routes(app, member_id):
        if endpoint == "admin.logout":
            continue  # checked last, it ends the session
        if role == "admin" and endpoint.startswith("rq_dashboard.") and method == "POST":
            continue  # rq-dashboard's own actions (delete, requeue, empty) on a real job
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        if response.status_code == 308:  # rq-dashboard's routes with a default instance number
            response = client.open(response.headers["Location"], method=method)
        allowed = ADMIN if endpoint.startswith("rq_dashboard.") else EXPECTED.get(endpoint)
        assert allowed is not None, f"{endpoint} is missing from the role matrix"
        if role is None:
            assert response.status_code == 302 and "/admin/login" in response.headers["Location"], (endpoint, url)
        elif role in allowed:
            assert response.status_code not in (302, 401, 403), (role, endpoint, url, response.status_code)
        else:
            assert response.status_code == 403, (role, endpoint, url, response.status_code)
        checked += 1
    assert checked >= len(EXPECTED) + 3
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert client.get("/admin/").status_code == 302


def test_sign_in_rejects_wrong_passwords_and_disabled_users(app, client):
    email = make_user(app, "officer")
    assert sign_in(client, email, "wrong password!").status_code == 401
    assert sign_in(client, "nobody@example.org").status_code == 401
    with app.app_context():
        db.session.execute(sa.update(DashboardUser).values(active=False))
        db.session.commit()
    assert sign_in(client, email).status_code == 401
    with app.app_context():
        stored = db.session.scalar(sa.select(DashboardUser.password_hash))
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_sign_in_attempts_are_rate_limited(app, client):
    email = make_user(app, "admin")
    assert sign_in(client, email).status_code == 302  # a successful sign-in does not count
    client.post("/admin/logout", data={"csrf_token": csrf_token(client.get("/admin/").get_data(as_text=True))})
    codes = [sign_in(client, email, "wrong password!").status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    assert sign_in(client, email).status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_sign_in_limit(app, client, tmp_path):
    """TRUSTED_PROXIES=1: the limit counts the address the proxy forwarded. Without it the header is not
    trusted (anyone could send it), so every client behind the proxy shares one limit."""
    from bot import create_app
    from tests.helpers.app import app_config

    email, other_email = make_user(app, "admin"), make_user(app, "officer")

    def attempts(some_client, address: str, count: int, account: str) -> list[int]:
        some_client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        return [sign_in(some_client, account, "wrong password!").status_code for _ in range(count)]

    assert attempts(client, "10.0.0.1", 6, email) == [401] * 5 + [429]
    assert attempts(client, "10.0.0.2", 1, email) == [429]  # the header is ignored: one shared limit
    behind = create_app(app_config(tmp_path, TRUSTED_PROXIES=1)).test_client()
    assert attempts(behind, "10.0.1.1", 6, other_email) == [401] * 5 + [429]
    assert attempts(behind, "10.0.1.2", 1, other_email) == [401]


def test_csrf_is_required_on_every_form(app, client):
    email = make_user(app, "admin")
    page = client.get("/admin/login")
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    assert client.post("/admin/login", data={"email": email, "password": PASSWORD}).status_code == 400
    assert client.post("/admin/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"}).status_code == 400
    assert sign_in(client, email).status_code == 302
    assert client.post("/admin/members/export", data={}).status_code == 400
    assert client.post("/admin/logout", data={}).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "members.export")) == 0


def test_session_cookie_is_secure_httponly_and_samesite(app, client):
    email = make_user(app, "officer")
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = sign_in(client, email)
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_script_name_is_shown_escaped(app, client):
    member_id = add_member(app, "<script>alert(1)</script>")
    sign_in(client, make_user(app, "officer"))
    for url in ("/admin/members", f"/admin/members/{member_id}", "/admin/members?q=script"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)" not in html


def test_phones_are_masked_for_organisers_only(app, client):
    member_id = add_member(app, "Amina", phone="+254711223344")
    sign_in(client, make_user(app, "organiser"))
    for url in ("/admin/members", f"/admin/members/{member_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "+254711223344" not in html and "+2547•••••344" in html
    officer = app.test_client()
    sign_in(officer, make_user(app, "officer"))
    assert "+254711223344" in officer.get(f"/admin/members/{member_id}").get_data(as_text=True)


def test_members_search_filter_and_pages(app, client):
    for i in range(55):
        add_member(app, f"Member {i:02d}", phone=f"+2547110{i:05d}", county="Kisumu" if i % 5 == 0 else "Nairobi",
                   kinds=("ride_delivery",) if i == 7 else ("transcription",))
    sign_in(client, make_user(app, "officer"))
    page1 = client.get("/admin/members").get_data(as_text=True)
    assert "(55)" in page1 and "Page 1 of 2" in page1 and page1.count('class="name"') == 50
    assert client.get("/admin/members?page=2").get_data(as_text=True).count('class="name"') == 5
    kisumu = client.get("/admin/members?county=Kisumu").get_data(as_text=True)
    assert "(11)" in kisumu
    found = client.get("/admin/members?q=member+07").get_data(as_text=True)
    assert "(1)" in found and "Member 07" in found
    ride = client.get("/admin/members?work=ride_delivery").get_data(as_text=True)
    assert "(1)" in ride and "<td>Ride-hailing or delivery</td>" in ride and "Member 07" in ride
    assert "(55)" in client.get("/admin/members?county=Atlantis&work=nope").get_data(as_text=True)


def test_member_detail_shows_conversation_and_consent(app, client, whatsapp):
    whatsapp.send("Hi")
    whatsapp.send("1")
    with app.app_context():
        from bot.models import Member

        member_id = db.session.scalar(sa.select(Member.id))
    sign_in(client, make_user(app, "officer"))
    html = client.get(f"/admin/members/{member_id}").get_data(as_text=True)
    assert "What is your full name?" in html and "consent" in html and "whatsapp" in html
    assert client.get("/admin/members/999999").status_code == 404


def test_csv_export_for_admins_with_an_audit_record(app, client):
    add_member(app, "Amina", phone="+254711000001", county="Nairobi")
    add_member(app, "=HYPERLINK(\"x\")", phone="+254711000002", county="Kisumu")
    email = make_user(app, "admin")
    sign_in(client, email)
    page = client.get("/admin/members?county=Kisumu").get_data(as_text=True)
    form = dict(re.findall(r'<input id="(\w+)" name="\w+" type="hidden" value="([^"]*)"', page))
    response = client.post("/admin/members/export", data=form)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["phone"] for r in rows] == ["+254711000002"]
    assert rows[0]["name"].startswith("'=")
    with app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "members.export")).one()
        assert event.actor == email and event.details == {"filters": {"county": "Kisumu"}, "rows": 1}
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "members.export" in audit_page and email in audit_page


def test_export_refused_for_organisers_and_officers(app):
    add_member(app, "Amina")
    for role in ("organiser", "officer"):
        client = app.test_client()
        sign_in(client, make_user(app, role))
        page = client.get("/admin/members").get_data(as_text=True)
        assert "Export CSV" not in page
        assert client.post("/admin/members/export", data={"csrf_token": csrf_token(page)}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "members.export")) == 0


def overview_charts(html: str) -> dict:
    """The chart data an overview page carries."""
    import json

    return json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S).group(1))


def test_overview_carries_the_chart_data(app, client):
    for i in range(5):
        add_member(app, f"Amina {i}", phone=f"+25471100000{i}", county="Nairobi")
    add_member(app, "Baraka", phone="+254711000009", county="Turkana", kinds=("ride_delivery", "transcription"),
               gender="man")
    sign_in(client, make_user(app, "organiser"))
    html = client.get("/admin/").get_data(as_text=True)
    charts = overview_charts(html)
    # A group under five is drawn nowhere: left out of the chart, "<5" in the table beside it.
    assert dict(zip(charts["county"]["labels"], charts["county"]["values"], strict=True)) == {"Nairobi": 5}
    assert charts["county"]["table"] == [["Nairobi", "5"], ["Turkana", "<5"]] and charts["county"]["hidden"] == 1
    assert dict(zip(charts["work"]["labels"], charts["work"]["values"], strict=True)) == {"Transcription": 6}
    assert charts["gender"]["labels"] == ["Woman"] and ["Man", "<5"] in charts["gender"]["table"]
    assert charts["joined"]["values"][-1] == 6
    assert '<td>Turkana</td><td>&lt;5</td>' in html and "1 group under 5 not drawn" in html
    assert 'data-axis="y"' in html  # the long category lists are horizontal bars
    assert "vendor/chart.umd.js" in html and "cdn" not in html.lower()


def test_overview_filters_by_county_and_kind_of_work(app, client):
    for i in range(5):
        add_member(app, f"Amina {i}", phone=f"+25471100000{i}", county="Nairobi")
    for i in range(3):
        add_member(app, f"Baraka {i}", phone=f"+25471100001{i}", county="Turkana", kinds=("ride_delivery",))
    sign_in(client, make_user(app, "officer"))
    turkana = client.get("/admin/?county=Turkana").get_data(as_text=True)
    assert "<h1>Overview: Turkana</h1>" in turkana and "<b>3</b> members" in turkana
    assert overview_charts(turkana)["county"]["table"] == [["Turkana", "<5"]]
    assert '<option selected>Turkana</option>' in turkana
    both = client.get("/admin/?county=Nairobi&work=transcription").get_data(as_text=True)
    assert "<h1>Overview: Nairobi, Transcription</h1>" in both and "<b>5</b> members" in both
    assert client.get("/admin/?work=ride_delivery").get_data(as_text=True).count("<b>3</b> members") == 1
    unknown = client.get("/admin/?county=Atlantis&work=nothing").get_data(as_text=True)
    assert "<h1>Overview</h1>" in unknown and "<b>8</b> members" in unknown  # unknown values are not filters


def test_overview_reads_the_running_counts_once(app, client):
    add_member(app, "Amina", phone="+254711000001", county="Nairobi")
    sign_in(client, make_user(app, "organiser"))
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the running counts are kept on PostgreSQL only")
    with statements_run(app) as statements:
        html = client.get("/admin/").get_data(as_text=True)
    assert "Nairobi" in html
    assert len([s for s in statements if "GROUPING SETS" in s.upper() and "member_tallies" in s]) == 1


def test_create_user_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["admin", "create-user", "Boss@Example.org", "--name", "Boss"],
                           input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "created admin boss@example.org" in result.output
    again = runner.invoke(args=["admin", "create-user", "boss@example.org", "--password", "another password"])
    assert again.exit_code != 0 and "already" in again.output
    short = runner.invoke(args=["admin", "create-user", "x@example.org", "--role", "officer", "--password", "short"])
    assert short.exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(DashboardUser.role)) == "admin"
        assert db.session.scalar(sa.select(AuditEvent.subject).where(AuditEvent.action == "staff.create")) == "boss@example.org"
    assert sign_in(app.test_client(), "boss@example.org", "a long password").status_code == 302


def test_rq_dashboard_actions_only_from_this_site(app, client):
    from bot.core.queues import queue

    with app.app_context():
        queue("default").enqueue("builtins.print", job_id="job-1")
    sign_in(client, make_user(app, "admin"))
    assert client.post("/admin/rq/job/job-1/delete").status_code == 403
    assert client.post("/admin/rq/job/job-1/delete", headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/admin/rq/job/job-1/delete", headers={"Origin": "http://localhost"}).status_code == 200
    with app.app_context():
        assert queue("default").fetch_job("job-1") is None


def test_admins_add_disable_and_enable_accounts_with_audit(app, client):
    admin = make_user(app, "admin")
    sign_in(client, admin)
    page = client.get("/admin/accounts").get_data(as_text=True)
    token = csrf_token(page)
    new = {"email": "Wanjiru@Example.org", "name": "Wanjiru", "role": "organiser", "password": "long enough pass",
           "csrf_token": token}
    assert client.post("/admin/accounts", data=new).status_code == 302
    assert client.post("/admin/accounts", data=new).status_code == 400  # already there
    assert client.post("/admin/accounts", data={**new, "email": "x@example.org", "password": "short"}).status_code == 400
    assert client.post("/admin/accounts", data={**new, "email": "y@example.org", "csrf_token": "forged"}).status_code == 400
    organiser = app.test_client()
    assert sign_in(organiser, "wanjiru@example.org", "long enough pass").status_code == 302
    with app.app_context():
        user_id = db.session.scalar(sa.select(DashboardUser.id).where(DashboardUser.email == "wanjiru@example.org"))
        own_id = db.session.scalar(sa.select(DashboardUser.id).where(DashboardUser.email == admin))
    assert client.post(f"/admin/accounts/{user_id}/disable", data={"csrf_token": token}).status_code == 302
    assert organiser.get("/admin/").status_code == 302  # the session ends with the account
    assert sign_in(app.test_client(), "wanjiru@example.org", "long enough pass").status_code == 401
    assert client.post(f"/admin/accounts/{user_id}/enable", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/accounts/{own_id}/disable", data={"csrf_token": token}).status_code == 400
    assert client.post(f"/admin/accounts/{user_id}/disable", data={}).status_code == 400
    with app.app_context():
        actions = list(db.session.execute(sa.select(AuditEvent.actor, AuditEvent.action, AuditEvent.subject)
                                          .order_by(AuditEvent.id)))
    assert actions[1:] == [(admin, "staff.create", "wanjiru@example.org"), (admin, "staff.disable", "wanjiru@example.org"),
                           ("sign-in from 127.0.0.1", "staff.sign_in_failed", "wanjiru@example.org"),
                           (admin, "staff.enable", "wanjiru@example.org")]


def test_session_cookies_are_secure_by_default_behind_https(monkeypatch, tmp_path):
    from bot.core.config import load_settings

    monkeypatch.setenv("PUBLIC_URL", "https://umoja.example.org")
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    settings = load_settings(tmp_path)
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    assert settings["SESSION_COOKIE_HTTPONLY"] and settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:5000")
    assert not load_settings(tmp_path)["SESSION_COOKIE_SECURE"]


def test_languages_page_counts_members_and_catalog_completeness_per_language(app):
    from bot.models import Member, utcnow

    with app.app_context():
        for i, lang in enumerate(["sw"] * 5 + ["so"] * 2 + ["ar"]):
            db.session.add(Member(phone=f"+2547300{i:05d}", status="active", language=lang, joined_at=utcnow()))
        db.session.add(Member(phone="+254730099999", status="prospect", language="fr"))  # not counted
        db.session.commit()
    organiser = app.test_client()
    sign_in(organiser, make_user(app, "organiser"))
    assert organiser.get("/admin/languages").status_code == 403
    assert "/admin/languages" not in organiser.get("/admin/").get_data(as_text=True)
    client = app.test_client()
    sign_in(client, make_user(app, "officer"))
    assert 'href="/admin/languages"' in client.get("/admin/").get_data(as_text=True)
    page = client.get("/admin/languages").get_data(as_text=True)
    rows = {code: re.sub(r"\s+", " ", html) for code, html in
            re.findall(r'<tr id="language-(\w+)">(.*?)</tr>', page, re.S)}
    assert list(rows) == ["en", "sw", "fr", "so", "ar"]
    assert '<td class="members">5</td>' in rows["sw"] and '<td class="members">&lt;5</td>' in rows["so"]
    assert '<td class="members">&lt;5</td>' in rows["en"]  # nobody: a count of 0 tells as much as a small one
    assert '<td dir="rtl" lang="ar">العربية</td>' in rows["ar"]
    assert rows["en"].count("<td>source</td>") == 7 and rows["sw"].count(">100%<") == 7
    assert rows["fr"].count(">100%<") >= 4  # every domain members read
