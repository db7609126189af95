"""Dashboard sessions end for real: a copied session cookie stops working after sign-out or a new password."""

from __future__ import annotations

import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import AuditEvent
from tests.dashboard_helpers import PASSWORD, csrf_token, make_user, sign_in

NEW_PASSWORD = "a brand new passphrase"


def copy_session(source, app):
    """Another client holding a copy of `source`'s session cookie (as someone who copied it would)."""
    cookie = source.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
    return copy


def signed_in(client) -> bool:
    """Whether the client's session opens the overview (else it is sent to the sign-in page)."""
    response = client.get("/admin/members")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def test_a_copied_session_cookie_is_refused_after_sign_out(app, client):
    email = make_user(app, "officer")
    assert sign_in(client, email).status_code == 302
    copy = copy_session(client, app)
    assert signed_in(copy)
    token = csrf_token(client.get("/admin/members").get_data(as_text=True))
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert not signed_in(client)
    assert not signed_in(copy)
    assert sign_in(client, email).status_code == 302 and signed_in(client)  # signing in again works


def test_a_new_password_ends_every_session_of_the_account(app, client):
    email = make_user(app, "admin")
    other_email = make_user(app, "officer")
    laptop, phone, colleague = app.test_client(), app.test_client(), app.test_client()
    for some_client, address in ((laptop, email), (phone, email), (colleague, other_email)):
        assert sign_in(some_client, address).status_code == 302
    copy = copy_session(laptop, app)
    result = app.test_cli_runner().invoke(args=["admin", "set-password", email.upper()],
                                          input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert not signed_in(laptop) and not signed_in(phone) and not signed_in(copy)
    assert signed_in(colleague)  # another account's sessions go on
    assert sign_in(client, email).status_code == 401
    assert sign_in(client, email, NEW_PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.subject).where(AuditEvent.action == "staff.password")) == email


def test_set_password_refuses_unknown_accounts_and_short_passwords(app):
    email = make_user(app, "organiser")
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["admin", "set-password", "nobody@example.org", "--password", NEW_PASSWORD])
    assert unknown.exit_code != 0 and "no dashboard account" in unknown.output
    short = runner.invoke(args=["admin", "set-password", email, "--password", "short"])
    assert short.exit_code != 0 and "10 characters" in short.output
    assert sign_in(app.test_client(), email, PASSWORD).status_code == 302
