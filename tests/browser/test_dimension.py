"""Browser test of the "Dimension" tab of the Gradient estimators page."""

import pytest

from tests.support.browser import exception_count, open_page, wait_for_app

pytestmark = pytest.mark.browser


def test_dimension_tab_in_browser(app_url, page):
    open_page(page, app_url, "gradient_estimators", query="ge_tab=Dimension")
    assert page.get_by_role("tab", name="Dimension").get_attribute("aria-selected") == "true"
    panel = page.locator("[data-testid=stTabPanel]:visible, [role=tabpanel]:visible").first
    panel.locator(".js-plotly-plot").first.wait_for()
    panel.get_by_text("Usable (relative error ≤ 10%)").wait_for()
    assert panel.get_by_text("at every D up to 1,000").count() >= 1  # the pathwise estimator
    # switch θ and see the URL and the sentence follow
    panel.get_by_role("radiogroup", name="Gradient w.r.t.").get_by_text("σ", exact=True).click()
    page.wait_for_function("() => location.search.includes('ge_dim_wrt=sigma')")
    wait_for_app(page)
    panel.get_by_text("Usable (relative error ≤ 10%)").wait_for()
    assert exception_count(page) == 0
