"""A plotly chart element that updates in place (components v2 + `plot_element.js`).

`st.plotly_chart` gives a changed figure a new element id, so the browser rebuilds the whole chart
(`Plotly.newPlot`) on every change of a widget. This element keeps its identity (its key) and calls
`Plotly.react`, which redraws only what changed; hover, zoom and the mode bar are plotly's own.
It draws with the plotly.js that Streamlit ships: Streamlit's chart chunk, found here by name, sets
`window.Plotly` when imported, so nothing is downloaded twice. `preload()` starts that import with
the page's first message instead of when the first chart mounts (gradient page: plotly requested
at 1.36 instead of 1.7 s, load 2.80 instead of 2.85 s, medians of 7). If the chunk is not found
(another Streamlit build), `plot` falls back to `st.plotly_chart`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import plotly.io as pio
import streamlit as st

_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"
CHUNK = next((p.name for p in sorted(_STATIC_JS.glob("PlotlyChart.*.js"))), None)
# the import of Streamlit's plotly chunk, shared by preload() and the element (a promise of Plotly)
LOAD_PLOTLY = f"""function loadPlotly() {{
  window.__rlPlotly = window.__rlPlotly || (() => {{
    const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
    const url = entry ? new URL("{CHUNK}", entry.src) : new URL("static/js/{CHUNK}", document.baseURI);
    return import(url.href).then(() => window.Plotly);
  }})();
  return window.__rlPlotly;
}}
"""
_JS = LOAD_PLOTLY + Path(__file__).with_name("plot_element.js").read_text(encoding="utf-8")
# light DOM (isolate_styles=False): plotly.js styles its hover labels and mode bar in the document
NAME = "reparam_lab.plot"
_component = st.components.v2.component(
    NAME, js=_JS, html='<div class="rl-plot"></div>', isolate_styles=False
)


def preload() -> None:
    """Start loading plotly.js now (call first thing on a page with charts)."""
    if CHUNK is not None:
        with st.sidebar:
            st.html(f"<script>{LOAD_PLOTLY}loadPlotly();</script>", unsafe_allow_javascript=True)


def figure_bytes(fig) -> bytes:
    """The element's data: the figure as UTF-8 plotly JSON, numpy arrays as typed arrays.

    A plain dict (the pages' hot path) is encoded directly: numpy arrays become plotly's
    {"dtype", "bdata"} typed arrays. plotly's own encoder (used for Figures, and for dicts this
    path cannot take: NaN outside arrays, other types) inspects every nested value and array
    through narwhals, ≈ 15 ms for the 31-frame animation instead of ≈ 1 ms.
    """
    if isinstance(fig, dict):
        try:
            return json.dumps(fig, default=_typed_array, allow_nan=False).encode()
        except (TypeError, ValueError):
            pass
    return pio.to_json(fig, validate=False, remove_uids=True).encode()


_DTYPES = {"f8", "f4", "i4", "u4", "i2", "u2", "i1", "u1"}  # the typed arrays plotly.js reads


def _typed_array(a):
    """`json.dumps` default: a numpy array as a plotly typed array; anything else is an error."""
    if isinstance(a, np.ndarray) and a.ndim == 1:
        if a.dtype.kind == "i" and a.dtype.itemsize == 8 and a.size:
            if np.iinfo(np.int32).min <= a.min() and a.max() <= np.iinfo(np.int32).max:
                a = a.astype(np.int32)
        code = a.dtype.str[1:]
        if code in _DTYPES:
            data = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
            return {"dtype": code, "bdata": base64.b64encode(data.tobytes()).decode()}
    raise TypeError(f"not encoded here: {type(a).__name__}")


def plot(fig, key: str) -> None:
    """Show `fig` (a plotly Figure or its dict) full-width; a later call with the same key updates
    it in place."""
    if CHUNK is None:
        st.plotly_chart(fig, width="stretch", theme=None, key=key)
        return
    _component(data=figure_bytes(fig), key=key)  # its element has the CSS class .st-key-<key>
