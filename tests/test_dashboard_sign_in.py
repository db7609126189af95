"""Dashboard sign-in limits under real parallel requests, per address and per account, and with Redis down."""

from __future__ import annotations

import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from bot import create_app
from bot.core.extensions import db
from bot.models import AuditEvent
from tests.helpers.app import app_config, serving
from tests.helpers.dashboard import csrf_token, make_user, sign_in

WRONG = "wrong password!"
PARALLEL = 40


def password_checks(app, email: str) -> int:
    """Failed password checks of an account so far, as the audit log records them."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "staff.sign_in_failed", AuditEvent.subject == email)) or 0


def wrong_passwords_at_once(base: str, email: str, addresses: list[str]) -> list[int]:
    """One browser per address gets the sign-in form (its CSRF token), then all post a wrong password at
    the same moment; returns the status codes."""
    browsers = []
    for address in addresses:
        browser = requests.Session()
        browser.headers["X-Forwarded-For"] = address
        browsers.append((browser, csrf_token(browser.get(f"{base}/admin/login", timeout=10).text)))
    start = threading.Barrier(len(browsers))

    def post(pair: tuple[requests.Session, str]) -> int:
        browser, token = pair
        start.wait()
        response = browser.post(f"{base}/admin/login", data={"email": email, "password": WRONG, "csrf_token": token},
                                allow_redirects=False, timeout=60)
        return response.status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        return list(pool.map(post, browsers))


@pytest.fixture
def proxied_app(app, tmp_path):
    """The app as run behind one proxy (TRUSTED_PROXIES=1, so tests can set the client address), with the
    default limits: 5 failed sign-ins a minute per address, 10 an hour per account."""
    return create_app(app_config(tmp_path, TRUSTED_PROXIES=1, DASHBOARD_LOGIN_LIMIT="5 per minute;20 per hour",
                                 DASHBOARD_ACCOUNT_LOGIN_LIMIT="10 per hour"))


def test_parallel_wrong_passwords_from_one_address_get_five_password_checks(app, proxied_app):
    email = make_user(app, "admin")
    with serving(proxied_app) as base:
        codes = wrong_passwords_at_once(base, email, ["10.1.0.1"] * PARALLEL)
    assert password_checks(app, email) == codes.count(401) == 5, codes
    assert codes.count(429) == PARALLEL - 5


def test_parallel_wrong_passwords_from_many_addresses_hit_the_account_limit(app, proxied_app):
    email, other = make_user(app, "admin"), make_user(app, "officer")
    with serving(proxied_app) as base:
        codes = wrong_passwords_at_once(base, email, [f"10.2.0.{n}" for n in range(1, PARALLEL + 1)])
    assert password_checks(app, email) == codes.count(401) == 10, codes
    assert codes.count(429) == PARALLEL - 10
    behind = proxied_app.test_client()
    behind.environ_base["HTTP_X_FORWARDED_FOR"] = "10.2.1.1"
    refused = sign_in(behind, email)  # the right password too, until the hour is over
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert sign_in(behind, other).status_code == 302  # another account from the same address is not held up


def test_a_successful_sign_in_gives_its_count_back(app, proxied_app):
    email = make_user(app, "organiser")
    behind = proxied_app.test_client()
    behind.environ_base["HTTP_X_FORWARDED_FOR"] = "10.3.0.1"
    assert [sign_in(behind, email).status_code for _ in range(8)] == [302] * 8
    assert [sign_in(behind, email, WRONG).status_code for _ in range(6)] == [401] * 5 + [429]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sign_in_works_while_redis_is_down_with_limits_kept_in_memory(app, tmp_path, caplog):
    email = make_user(app, "admin")
    down = create_app(app_config(tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
                                 DASHBOARD_LOGIN_LIMIT="5 per minute"))
    client = down.test_client()
    with caplog.at_level(logging.WARNING, logger="bot.dashboard.sign_in_limits"):
        assert sign_in(client, email).status_code == 302
        assert [sign_in(down.test_client(), email, WRONG).status_code for _ in range(6)] == [401] * 5 + [429]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per attempt



def test_an_oversized_sign_in_body_is_refused_before_it_is_parsed(app, client):
    many_keys = "&".join(f"k{n}=" for n in range(200_000)).encode()  # about 1.6 MB of distinct fields
    response = client.post("/admin/login", data=many_keys, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert client.post("/admin/login", data={"email": "a@b.org", "password": "x" * 20_000}).status_code == 413
    # A normal sign-in form is far below the cap (this one lacks its CSRF token).
    assert client.post("/admin/login", data={"email": "a@b.org", "password": "x"}).status_code == 400
