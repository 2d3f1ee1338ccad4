"""Shared fixtures: AppTest helpers and a real browser against `streamlit run app.py`.

Browser tests drive Debian's /usr/bin/chromium through Playwright (never `playwright install`).
With no Chromium they skip with a message, unless CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
APP = str(ROOT / "app.py")
READY = "[data-testid=stApp][data-test-script-state=notRunning]"
PAGES = {
    "home": "",
    "change_of_variables": "change_of_variables",
    "gradient_estimators": "gradient_estimators",
    "live_vae": "live_vae",
}


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
    ]
    log = open(ROOT / "streamlit-test-server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(
                "streamlit did not become healthy: "
                + (ROOT / "streamlit-test-server.log").read_text()[-2000:]
            )
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    path = _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
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
    """Wait the way Streamlit's e2e tests do: script not running and no skeletons."""
    page.wait_for_selector(READY, timeout=timeout)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=stSkeleton]').length === 0",
        timeout=timeout,
    )
    # A rerun may start right after the first idle (e.g. query-param sync): settle once more.
    page.wait_for_timeout(300)
    page.wait_for_selector(READY, timeout=timeout)


def open_page(page, base_url: str, name: str, query: str = "") -> None:
    url = f"{base_url}/{PAGES[name]}"
    if query:
        url += "?" + query
    page.goto(url)
    wait_for_app(page)


def exception_count(page) -> int:
    return page.locator("[data-testid=stException]").count()
