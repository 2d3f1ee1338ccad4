"""Shared fixtures: AppTest helpers and a real browser against `streamlit run app.py`.

Browser tests drive Debian's /usr/bin/chromium through Playwright (never `playwright install`).
With no Chromium they skip with a message, unless CI=true, where they fail.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import StreamlitServer, find_chromium, launch_chromium, wait_idle  # noqa: E402

APP = str(ROOT / "app.py")
PAGES = {
    "home": "",
    "change_of_variables": "change_of_variables",
    "gradient_estimators": "gradient_estimators",
    "live_vae": "live_vae",
}


def _need_browser() -> str:
    path = find_chromium()
    if path is None:
        msg = "no Chromium found (/usr/bin/chromium); install Debian's `chromium` to run browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " — CI=true, so this is a failure")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def app_url():
    """Start `streamlit run app.py` on a free localhost port; yield its base URL."""
    _need_browser()
    server = StreamlitServer("app.py")
    try:
        server.wait_healthy()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser():
    path = _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw, path)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def app_test(page_path: str | None = None, timeout: float = 60):
    """An AppTest of the whole app, switched to `page_path` (e.g. "pages/live_vae.py") and run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    if page_path is not None:
        at.switch_page(page_path)
        at.run()
    return at


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until idle; settle once more, since a rerun may follow the first idle (URL sync)."""
    wait_idle(page, timeout)
    page.wait_for_timeout(300)
    wait_idle(page, timeout)


def open_page(page, base_url: str, name: str, query: str = "") -> None:
    url = f"{base_url}/{PAGES[name]}"
    if query:
        url += "?" + query
    page.goto(url)
    wait_for_app(page)


def show_chart(page, selector: str) -> None:
    """Scroll a chart (reparam_ui.components.plot_element) into view and wait for its newest figure: a drawn
    chart that is off screen draws a new figure only when it comes near (plot_element.js)."""
    page.locator(selector).scroll_into_view_if_needed()
    page.wait_for_function(
        f"""() => {{ const g = document.querySelector('{selector}');
          return g && !g.hasAttribute('data-deferred') && !g.hasAttribute('data-drawing'); }}"""
    )


def exception_count(page) -> int:
    return page.locator("[data-testid=stException]").count()
