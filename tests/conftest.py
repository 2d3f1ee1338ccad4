"""Shared fixtures: a real browser against `streamlit run app.py` (helpers are in tests/support/).

Browser tests drive Debian's /usr/bin/chromium through Playwright (never `playwright install`).
With no Chromium they skip with a message, unless CI=true, where they fail.
"""

from __future__ import annotations

import os

import pytest

from tests.support.browser import StreamlitServer, find_chromium, launch_chromium


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
