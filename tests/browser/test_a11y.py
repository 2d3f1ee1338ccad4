"""Accessibility in a real browser: an axe-core audit (WCAG 2.0/2.1 A and AA rules) of every page in
the light and dark themes at 1280 px and at phone width (390 px), and no sideways scroll on a phone.

The audit sees what a page shows at first load (open tab, default settings). Serious and critical
violations fail the test; the rule, the element and axe's summary are in the message.
"""

from __future__ import annotations

import pytest

from tests.support.a11y import VIEWPORTS, serious_violations, sideways_px
from tests.support.browser import PAGES, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=[(s, v) for s in ("light", "dark") for v in VIEWPORTS])
def themed_page(request, browser):
    scheme, viewport = request.param
    w, h = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": w, "height": h}, color_scheme=scheme)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg, viewport
    context.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violations(app_url, themed_page, name):
    page, viewport = themed_page
    page.goto(f"{app_url}/{PAGES[name]}")
    wait_for_app(page)
    assert serious_violations(page) == []
    if viewport == "phone":
        wide = sideways_px(page)
        assert wide <= 0, f"{name} scrolls sideways by {wide} px at 390 px"
