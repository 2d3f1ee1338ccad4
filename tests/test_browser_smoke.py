"""Every page renders in a real Chromium against `streamlit run app.py`, with no exception."""

import pytest
from conftest import PAGES, exception_count, open_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_in_browser(app_url, page, name):
    open_page(page, app_url, name)
    heading = page.locator("h1").first
    assert heading.is_visible()
    assert heading.inner_text().strip()
    assert exception_count(page) == 0


def test_sidebar_lists_every_view(app_url, page):
    open_page(page, app_url, "home")
    nav = page.locator("[data-testid=stSidebarNav]")
    for title in ("Home", "Change of variables", "Gradient estimators", "Live VAE"):
        assert nav.get_by_text(title, exact=True).count() >= 1
