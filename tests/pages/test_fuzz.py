"""Bad input everywhere: Hypothesis sets every widget of every page to extreme, boundary and random values.

For each page, one AppTest session receives FUZZ_EXAMPLES (default 200) random edits of 1–3 widgets
each; after every rerun there must be no exception element. Widgets are discovered from the rendered
tree (tests/support/fuzz.py), so new controls are covered without editing this file.
"""

from __future__ import annotations

import pytest

from tests.support.apps import PAGE_FILES, app_test
from tests.support.fuzz import fuzz_app


@pytest.mark.parametrize("path", PAGE_FILES)
def test_no_exception_for_any_widget_values(path):
    at = app_test(path)
    assert not at.exception, [e.value for e in at.exception]
    fuzz_app(at)
