"""AppTest of the whole app (streamlit.testing.v1), switched to one page."""

from __future__ import annotations

from tests.support import ROOT

APP = str(ROOT / "app.py")
PAGE_FILES = [  # every page, as app_test takes it
    "pages/home.py",
    "pages/change_of_variables.py",
    "pages/gradient_estimators.py",
    "pages/live_vae.py",
    "pages/diffusion.py",
]


def app_test(page_path: str | None = None, timeout: float = 60):
    """An AppTest of the whole app, switched to `page_path` (e.g. "pages/live_vae.py") and run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    if page_path is not None:
        at.switch_page(page_path)
        at.run()
    return at
