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


def test_no_exception_for_any_widget_values_on_the_dimension_tab():
    """The gradient page's tabs are lazy: its Dimension tab's widgets exist only once it is open."""
    at = app_test("pages/gradient_estimators.py")
    at.session_state["ge_tab"] = "Dimension"
    at.run()
    assert any(w.key == "ge_dim_fn" for w in at.selectbox)
    fuzz_app(at, examples=60)
