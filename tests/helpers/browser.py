"""The dashboard in a real browser: the skip when Chromium is missing, signing in through the form, drawn charts.
The `browser` and `page` fixtures are in `tests/conftest.py`."""

from __future__ import annotations

import os

import pytest

from tests.helpers.dashboard import PASSWORD

CHROMIUM = "/usr/bin/chromium"


pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)")


def sign_in(page, email: str) -> None:
    """Sign in through the form."""
    page.goto("/admin/")
    assert "/admin/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def canvas_has_pixels(page, selector: str) -> bool:
    """Whether a canvas has anything drawn on it."""
    return page.eval_on_selector(selector, """canvas => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
        return false;
    }""")
