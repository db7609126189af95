"""rq-dashboard at /admin/rq: state changes only by a POST from this site, pages with the dashboard's headers."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tests.dashboard_helpers import BASE_URL, make_user, sign_in

SAMPLES = {"job_id": "job-1", "queue_name": "default", "registry_name": "failed"}


@pytest.fixture
def failed_job(app, drain):
    """A job that failed on the default queue (a real worker ran it): what requeue, delete and empty act on."""
    from bot.core.queues import queue

    with app.app_context():
        queue("default").enqueue("builtins.int", "not a number", job_id="job-1")
    drain()
    assert failed_ids(app) == ["job-1"]


def failed_ids(app) -> list[str]:
    """The ids in the default queue's failed registry."""
    from rq.registry import FailedJobRegistry

    from bot.core.queues import queue

    with app.app_context():
        return FailedJobRegistry(queue=queue("default")).get_job_ids()


def queued_ids(app) -> list[str]:
    """The ids waiting on the default queue."""
    from bot.core.queues import queue

    with app.app_context():
        return queue("default").job_ids


def state_change_urls(app) -> list[str]:
    """The URL of every rq-dashboard route that takes a POST (they all change something)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("rq_dashboard.") and "POST" in rule.methods:
            urls.append(rule.build({arg: SAMPLES[arg] for arg in rule.arguments}, append_unknown=False)[1])
    return urls


def test_every_state_change_refuses_get_and_changes_nothing(app, client, failed_job):
    sign_in(client, make_user(app, "admin"))
    urls = state_change_urls(app)
    assert {"/admin/rq/requeue/default", "/admin/rq/job/job-1/requeue", "/admin/rq/job/job-1/delete",
            "/admin/rq/queue/default/failed/empty", "/admin/rq/queue/default/compact"} <= set(urls)
    for url in urls:
        # As a link followed from another site, and as one on this site: neither may change anything.
        for headers in ({"Referer": "https://evil.example/page"}, {"Referer": f"{BASE_URL}/admin/rq/"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 405, (url, response.status_code)
            allowed = {method.strip() for method in response.headers["Allow"].split(",")}
            assert "POST" in allowed and not allowed & {"GET", "HEAD"}, (url, allowed)
    assert failed_ids(app) == ["job-1"] and queued_ids(app) == []


def test_a_cross_site_post_is_refused_and_a_same_site_post_works(app, client, failed_job):
    sign_in(client, make_user(app, "admin"))
    assert client.post("/admin/rq/requeue/default", headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/admin/rq/requeue/default", headers={"Referer": "https://evil.example/"}).status_code == 403
    assert client.post("/admin/rq/requeue/default").status_code == 403  # no Origin, no Referer
    assert failed_ids(app) == ["job-1"] and queued_ids(app) == []
    response = client.post("/admin/rq/requeue/default", headers={"Origin": BASE_URL})
    assert response.status_code == 200 and response.get_json() == {"status": "OK", "count": 1}
    assert failed_ids(app) == [] and queued_ids(app) == ["job-1"]


def test_state_changes_need_an_admin(app, failed_job):
    for role in ("officer", "organiser"):
        client = app.test_client()
        sign_in(client, make_user(app, role))
        assert client.post("/admin/rq/requeue/default", headers={"Origin": BASE_URL}).status_code == 403
    anonymous = app.test_client().post("/admin/rq/requeue/default", headers={"Origin": BASE_URL})
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    assert failed_ids(app) == ["job-1"]


def test_rq_pages_have_the_dashboards_security_headers(app, client, failed_job):
    sign_in(client, make_user(app, "admin"))
    for url in ("/admin/rq/", "/admin/rq/0/view/jobs/default/failed/8/asc/1", "/admin/rq/0/view/job/job-1",
                "/admin/rq/0/data/queues.json"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
        assert response.headers.get("X-Frame-Options") == "DENY"
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        assert response.headers.get("Cache-Control") == "no-store"
        if response.mimetype == "text/html":
            # The page's own inline script runs (allowed by its hash), nothing from elsewhere does.
            inline = re.search(r'<script type="text/javascript">(.*?)</script>', response.get_data(as_text=True), re.S)
            digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1]
