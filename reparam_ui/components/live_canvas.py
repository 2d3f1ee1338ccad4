"""A canvas element that redraws in place: the Live VAE's loss chart and model view while training
plays.

`st.plotly_chart` gives a changed figure a new element id, so the browser rebuilds the chart
(`Plotly.newPlot`) on every 5 Hz tick, slower than the tick for the 5-panel model view. This
Streamlit component (components v2) stays mounted and draws `figures.line_chart.line_chart_spec`
and `figures.vae.model_canvas` data on one <canvas> (`live_canvas.js`), one element per tick
(bench/vae_bench.py browser: chart_refresh_hz; docs/performance.md). No zoom or hover: the page
shows the interactive plotly figures when paused.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

_JS = (Path(__file__).with_name("live_canvas.js")).read_text(encoding="utf-8")
_component = st.components.v2.component("reparam_lab.live_canvas", js=_JS, html="")


def live_canvas(loss: dict | None, model: dict | None, key: str) -> None:
    """Mount (first call) or redraw (later calls with the same key) the canvas: the loss chart
    (a `line_chart_spec`) above the model view (a `model_canvas`); either may be None."""
    # sent as JSON bytes: Streamlit hashes bytes for the element's identity, where a dict is
    # JSON-encoded twice (once sorted, for the identity) on every tick (docs/performance.md)
    data = json.dumps({"loss": loss, "model": model}, separators=(",", ":"), allow_nan=False)
    with st.container(key=f"{key}_box"):  # a stable CSS class for tests: .st-key-<key>_box
        _component(data=data.encode(), key=key)
