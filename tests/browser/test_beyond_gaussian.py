"""Browser test of the "Beyond the Gaussian" tab of the Gradient estimators page.

The tab is lazy (only the open tab runs) and bound to the URL (`ge_tab`), so a shared link can
open it directly.
"""

import pytest

from tests.support.browser import exception_count, open_page, wait_for_app

pytestmark = pytest.mark.browser


def test_beyond_tab_in_browser(app_url, page):
    open_page(page, app_url, "gradient_estimators", query="bg_shape=quartic&bg_alpha=2.0")
    page.get_by_role("tab", name="Beyond the Gaussian").click()
    wait_for_app(page)
    panel = page.locator("[data-testid=stTabPanel]:visible, [role=tabpanel]:visible").first
    panel.get_by_text("Beyond the Gaussian").first.wait_for()
    charts = panel.locator(".js-plotly-plot")
    charts.first.wait_for()
    assert charts.count() >= 5
    assert page.get_by_text("biased by").count() >= 1  # quartic f: straight-through stays biased
    # change a control inside the tab and see the view update without an exception
    alpha = panel.get_by_label("shape α")
    alpha.fill("3")
    alpha.press("Enter")
    page.wait_for_function("() => location.search.includes('bg_alpha=3.0')")  # rerun synced
    wait_for_app(page)
    assert exception_count(page) == 0


def test_beyond_tab_opens_from_a_shared_url(app_url, page):
    open_page(page, app_url, "gradient_estimators", query="ge_tab=Beyond+the+Gaussian")
    tab = page.get_by_role("tab", name="Beyond the Gaussian")
    assert tab.get_attribute("aria-selected") == "true"
    page.locator(".js-plotly-plot").first.wait_for()
    assert exception_count(page) == 0
