"""A plotly chart element that updates in place (components v2 + `plot_element.js`).

`st.plotly_chart` gives a changed figure a new element id, so the browser rebuilds the whole chart
(`Plotly.newPlot`) on every change of a widget. This element keeps its identity (its key) and calls
`Plotly.react`, which redraws only what changed; hover, zoom and the mode bar are plotly's own.
It draws with the plotly.js that Streamlit ships: Streamlit's chart chunk, found here by name, sets
`window.Plotly` when imported, so nothing is downloaded twice. `preload()` starts that import with
the page's first message instead of when the first chart mounts. If the chunk is not found (another
Streamlit build), `plot` falls back to `st.plotly_chart`.
"""

from __future__ import annotations

from pathlib import Path

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
    """The element's data: the figure as UTF-8 plotly JSON (numpy arrays as plotly encodes them)."""
    return pio.to_json(fig, validate=False, remove_uids=True).encode()


def plot(fig, key: str) -> None:
    """Show `fig` (a plotly Figure or its dict) full-width; a later call with the same key updates
    it in place."""
    if CHUNK is None:
        st.plotly_chart(fig, width="stretch", theme=None, key=key)
        return
    _component(data=figure_bytes(fig), key=key)  # its element has the CSS class .st-key-<key>
