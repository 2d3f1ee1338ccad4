"""The browser-test gate: skip without Chromium unless CI=true, where it must fail."""

import pytest

from tests import conftest


def test_no_chromium_skips_outside_ci(monkeypatch):
    monkeypatch.setattr(conftest, "find_chromium", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        conftest._need_browser()


def test_no_chromium_fails_under_ci(monkeypatch):
    monkeypatch.setattr(conftest, "find_chromium", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        conftest._need_browser()


def test_chromium_found_is_returned(monkeypatch):
    monkeypatch.setattr(conftest, "find_chromium", lambda: "/usr/bin/chromium")
    monkeypatch.setenv("CI", "true")
    assert conftest._need_browser() == "/usr/bin/chromium"
