"""Bad input everywhere: Hypothesis sets every widget of every page to extreme, boundary and random values.

For each page, one AppTest session receives FUZZ_EXAMPLES (default 200) random edits of 1–3 widgets
each; after every rerun there must be no exception element. Widgets are discovered from the rendered
tree, so new controls are covered without editing this file.
"""

from __future__ import annotations

import math
import os

import pytest
from conftest import app_test
from hostile_text import HOSTILE_TEXT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
PAGE_FILES = [
    "pages/home.py",
    "pages/change_of_variables.py",
    "pages/gradient_estimators.py",
    "pages/live_vae.py",
]
# Buttons whose click starts long work in AppTest are still fine to press: run_every never ticks there.
WIDGET_KINDS = (
    "number_input",
    "slider",
    "select_slider",
    "selectbox",
    "radio",
    "multiselect",
    "checkbox",
    "toggle",
    "text_input",
    "text_area",
    "button",
)


def widgets(at) -> list:
    found = []
    for kind in WIDGET_KINDS:
        for w in getattr(at, kind):
            if not getattr(w, "disabled", False):
                found.append((kind, w))
    return found


def _number(data, lo, hi, is_int: bool):
    lo = -1e9 if lo is None or not math.isfinite(lo) else lo
    hi = 1e9 if hi is None or not math.isfinite(hi) else hi
    if is_int:
        lo, hi = math.ceil(lo), math.floor(hi)
        choice = st.one_of(st.sampled_from([lo, hi]), st.integers(lo, hi))
    else:
        choice = st.one_of(
            st.sampled_from([lo, hi]),
            st.floats(lo, hi, allow_nan=False, allow_infinity=False),
        )
    return data.draw(choice)


def _accept_labels(w) -> None:
    """Let AppTest send an option label for a select/radio whose format_func maps values only.

    The browser sends labels and never calls format_func on them; AppTest formats what it is
    given, so a label must format to itself.
    """
    from streamlit.runtime.state.common import TESTING_KEY

    store = w.root.session_state[TESTING_KEY]
    original, labels = store[w.id], set(w.options)
    store[w.id] = lambda v: v if isinstance(v, str) and v in labels else original(v)


def edit(data, kind: str, w) -> None:
    if kind == "number_input":
        is_int = isinstance(w.value, int) and not isinstance(w.value, bool)
        w.set_value(_number(data, w.min, w.max, is_int))
    elif kind == "slider":
        value = w.value
        if isinstance(value, (tuple, list)):
            a = _number(data, w.min, w.max, isinstance(value[0], int))
            b = _number(data, w.min, w.max, isinstance(value[0], int))
            w.set_range(min(a, b), max(a, b))
        else:
            w.set_value(_number(data, w.min, w.max, isinstance(value, int)))
    elif kind in ("select_slider", "selectbox", "radio"):
        # Set by the option's label, as the browser does: the backend maps labels to values.
        if w.options:
            label = data.draw(st.sampled_from(list(w.options)))
            if kind != "select_slider":
                _accept_labels(w)
            w.set_value(label)
    elif kind == "multiselect":
        if w.options:
            w.set_value(data.draw(st.lists(st.sampled_from(list(w.options)), unique=True)))
    elif kind in ("checkbox", "toggle"):
        w.set_value(data.draw(st.booleans()))
    elif kind in ("text_input", "text_area"):
        w.set_value(data.draw(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=60))))
    elif kind == "button":
        w.click()


@pytest.mark.parametrize("path", PAGE_FILES)
def test_no_exception_for_any_widget_values(path):
    at = app_test(path)
    assert not at.exception, [e.value for e in at.exception]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def fuzz(data):
        found = widgets(at)
        if not found:
            return
        for _ in range(data.draw(st.integers(1, 3))):
            # Draw an index: Hypothesis cannot print AppTest widgets in its reports.
            kind, w = found[data.draw(st.integers(0, len(found) - 1), label="widget")]
            edit(data, kind, w)
        at.run()
        assert not at.exception, [e.value for e in at.exception]

    fuzz()
