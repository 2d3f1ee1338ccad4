"""Bad input everywhere: Hypothesis drives random edits of every widget of an AppTest session.

Widgets are discovered from the rendered tree, so new controls are covered without editing this
module. FUZZ_EXAMPLES (default 200) sets how many examples a call runs.
"""

from __future__ import annotations

import math
import os
import random

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.hostile import HOSTILE_TEXT

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
# Buttons whose click starts long work in AppTest are still fine to press: run_every never ticks there.
WIDGET_KINDS = (
    "number_input",
    "slider",
    "select_slider",
    "selectbox",
    "radio",
    "segmented_control",
    "pills",
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


def _number(rng: random.Random, lo, hi, is_int: bool):
    lo = -1e9 if lo is None or not math.isfinite(lo) else lo
    hi = 1e9 if hi is None or not math.isfinite(hi) else hi
    if is_int:
        lo, hi = math.ceil(lo), math.floor(hi)
        return rng.choice([lo, hi, rng.randint(lo, hi)])
    tiny = min(hi, max(lo, 1e-12))
    return rng.choice([lo, hi, tiny, rng.uniform(lo, hi)])


def _accept_labels(w) -> None:
    """Let AppTest send an option label for a select/radio whose format_func maps values only.

    The browser sends labels and never calls format_func on them; AppTest formats what it is
    given, so a label must format to itself.
    """
    from streamlit.runtime.state.common import TESTING_KEY

    store = w.root.session_state[TESTING_KEY]
    original, labels = store[w.id], set(w.options)
    store[w.id] = lambda v: v if isinstance(v, str) and v in labels else original(v)


def _text(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(HOSTILE_TEXT)
    alphabet = "x k0123456789+-*/().e_abcdefghijklmnopqrstuvwxyz[]{}'\"\n;:💥"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))


def edit(rng: random.Random, kind: str, w) -> None:
    """Set widget `w` to a boundary, random or hostile value (clicks a button)."""
    if kind == "number_input":
        is_int = isinstance(w.value, int) and not isinstance(w.value, bool)
        w.set_value(_number(rng, w.min, w.max, is_int))
    elif kind == "slider":
        value = w.value
        if isinstance(value, (tuple, list)):
            is_int = isinstance(value[0], int)
            a, b = _number(rng, w.min, w.max, is_int), _number(rng, w.min, w.max, is_int)
            w.set_range(min(a, b), max(a, b))
        else:
            w.set_value(_number(rng, w.min, w.max, isinstance(value, int)))
    elif kind in ("select_slider", "selectbox", "radio"):
        # Set by the option's label, as the browser does: the backend maps labels to values.
        if w.options:
            _accept_labels(w)
            if kind == "select_slider" and isinstance(w.value, (tuple, list)):
                i, j = sorted(rng.randrange(len(w.options)) for _ in range(2))
                w.set_value((w.options[i], w.options[j]))
            else:
                w.set_value(rng.choice(list(w.options)))
    elif kind in ("segmented_control", "pills"):
        if w.options:  # by label, as for a select
            _accept_labels(w)
            w.set_value(rng.choice(list(w.options)))
    elif kind == "multiselect":
        if w.options:
            w.set_value(rng.sample(list(w.options), rng.randint(0, len(w.options))))
    elif kind in ("checkbox", "toggle"):
        w.set_value(rng.random() < 0.5)
    elif kind in ("text_input", "text_area"):
        w.set_value(_text(rng))
    elif kind == "button":
        w.click()


def fuzz_app(at, examples: int = EXAMPLES, check=None) -> None:
    """Hypothesis drives `examples` random edits of 1–3 widgets on one AppTest session.

    The session carries its state from one example to the next (as a visitor's does), so the
    widgets on offer change as the page changes. Hypothesis therefore draws one seed per example
    and the edits follow from it: a fixed strategy shape, whatever the page shows.
    After every rerun: no exception element, plus `check(at)` if given.
    """

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.integers(0, 2**63 - 1))
    def fuzz(seed):
        rng = random.Random(seed)
        edits = []
        for _ in range(rng.randint(1, 3)):
            found = widgets(at)
            if not found:
                break
            kind, w = rng.choice(found)
            edits.append(f"{kind}:{w.key or w.label}")
            edit(rng, kind, w)
        at.run()
        assert not at.exception, (edits, [e.value for e in at.exception])
        if check is not None:
            check(at)

    fuzz()
