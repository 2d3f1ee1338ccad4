"""A plotly chart element that updates in place (components v2 + `plot_element.js`).

`st.plotly_chart` gives a changed figure a new element id, so the browser rebuilds the whole chart
(`Plotly.newPlot`) on every change of a widget. This element keeps its identity (its key) and calls
`Plotly.react`, which redraws only what changed; hover, zoom and the mode bar are plotly's own.

It draws with plotly.js's "cartesian" build (static/plotly-cartesian.min.js: scatter, bar,
heatmap and the other 2D traces), served by Streamlit's static file serving
(.streamlit/config.toml), because running the full plotly.js in Streamlit's own chart chunk
(maps, 3D, …) was most of a page load's gap to the floor page (bench/run.py: page_load_ratio_max;
docs/performance.md). If the file cannot be loaded (static serving off), the element imports
Streamlit's chunk, which sets `window.Plotly` too; if that chunk is not found either (another
Streamlit build), `plot` falls back to `st.plotly_chart`. `preload()` starts the load with the
page's first messages instead of when the first chart mounts.
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
BUNDLE = "plotly-cartesian.min.js"  # in static/, next to app.py; served at app/static/
BUNDLE_PATH = Path(__file__).resolve().parents[2] / "static" / BUNDLE  # parents[2]: the root
# loads plotly.js once per page, shared by preload() and the element (a promise of Plotly): the
# cartesian build from the app's static files, else Streamlit's chart chunk. Both URLs are
# relative to Streamlit's own entry script, so they hold under a base URL path (Community Cloud).
LOAD_PLOTLY = f"""function loadPlotly() {{
  window.__rlPlotly = window.__rlPlotly || new Promise((resolve, reject) => {{
    const entry = document.querySelector('script[type="module"][src*="static/js/index."]');
    const at = (path) => new URL(path, entry ? new URL("../../", entry.src) : document.baseURI);
    const chunk = () =>
      import(at("static/js/{CHUNK}").href).then(() => resolve(window.Plotly), reject);
    const script = document.createElement("script");
    script.src = at("app/static/{BUNDLE}").href;
    // without static serving the URL answers 404, or 200 with Streamlit's index.html, which
    // "loads" as a script with a syntax error: either way no window.Plotly
    script.onload = () => (window.Plotly ? resolve(window.Plotly) : chunk());
    script.onerror = chunk;
    document.head.appendChild(script);
  }});
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
    through narwhals, an order of magnitude slower on the animation (bench/run.py:
    rerun_latency_ratio; docs/performance.md).
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
