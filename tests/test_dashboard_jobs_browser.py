"""rq-dashboard in a real browser under the dashboard's Content-Security-Policy: it renders and its buttons work."""

from __future__ import annotations

import time

from tests.helpers.browser import pytestmark, sign_in  # noqa: F401  (the skip)
from tests.helpers.dashboard import failed_ids, make_user, queued_ids


def test_rq_dashboard_renders_and_requeues_under_the_policy(app, page, failed_job):  # noqa: F811
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, make_user(app, "admin"))
    page.goto("/admin/rq/")
    page.wait_for_selector("#queues tr[data-role=queue]:has-text('default')")
    page.goto("/admin/rq/0/view/jobs/default/failed/8/asc/1")
    page.wait_for_selector("text=job-1")
    page.click("#requeue-all-btn")
    page.click("#confirmation-modal-yes")
    # rq takes the job out of the failed registry and then puts it on the queue, in two steps: wait for both.
    deadline = time.monotonic() + 10
    while (failed_ids(app) or queued_ids(app) != ["job-1"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert failed_ids(app) == [] and queued_ids(app) == ["job-1"]
    assert blocked == []
