"""Campaign results in a real browser, at a phone's width (390 px) and a desktop's (1366 px): nothing wider
than the screen, tables as cards on the phone, the funnel chart drawn (no script error under the CSP), and an
organiser's page source without a phone number or a voucher code. Screenshots are kept under pytest's
temporary folder."""

from __future__ import annotations

import re

from tests.helpers.browser import canvas_has_pixels, pytestmark, signed_in_tab, widths  # noqa: F401  (the skip)
from tests.helpers.dashboard import make_user
from tests.test_dashboard_campaigns import CODE, seed

WIDTHS = (390, 1366)


def test_results_and_comparison_fit_a_phone_and_a_desktop(app, browser, live_server, tmp_path_factory):
    ids = seed(app)
    email = make_user(app, "organiser")
    shots = tmp_path_factory.mktemp("screenshots-campaigns")
    errors: list[str] = []
    paths = [f"/admin/broadcasts/{ids['broadcast']}/results", "/admin/broadcasts/compare"]
    for width in WIDTHS:
        context, tab = signed_in_tab(browser, live_server, email, width, errors)
        tab.on("response", lambda response: errors.append(f"{response.status} {response.url}")
               if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
        for path in paths:
            assert tab.goto(path).status == 200
            tab.wait_for_load_state("load")
            name = path.strip("/").replace("/", "_")
            tab.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            scroll, inner = widths(tab)
            assert scroll <= inner, (width, path, scroll, inner)
            display = tab.evaluate("() => getComputedStyle(document.querySelector('main table tbody tr')).display")
            assert (display == "block") is (width == 390), (width, path, display)
            source = tab.content()
            assert CODE not in source and "712345678" not in source and not re.search(r"\+2547\d{8}", source)
            if path.endswith("results"):
                tab.wait_for_selector("#chart-funnel[data-drawn=true]")
                assert canvas_has_pixels(tab, "#chart-funnel")
        context.close()
    assert errors == []
    assert len(list(shots.glob("*.png"))) == 2 * len(paths)
