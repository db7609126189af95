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


def signed_in_tab(browser, base_url: str, email: str, width: int, errors: list[str]):
    """A new browser context `width` pixels wide, signed in as `email`, whose page errors go to `errors`;
    returns the context (close it) and its tab."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 800})
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(tab, email)
    return context, tab


def widths(tab) -> tuple[int, int]:
    """The page's scroll width and the window's inner width (the page overflows when the first is larger)."""
    scroll, inner = tab.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return scroll, inner


def canvas_has_pixels(page, selector: str) -> bool:
    """Whether a canvas has anything drawn on it."""
    return page.eval_on_selector(selector, """canvas => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
        return false;
    }""")
