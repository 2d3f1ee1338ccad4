"""Downloads: a table as CSV, a figure as a standalone HTML page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from reparam_ui.charts import chart_template
from reparam_ui.tables import csv_bytes

# a Material icon, not an emoji: Debian's Chromium has no emoji font and drew 📥 as an empty box
DOWNLOAD_ICON = ":material/download:"


def download_csv(label: str, columns: dict[str, Sequence[Any]], file_name: str, key: str) -> None:
    st.download_button(
        label, csv_bytes(columns), file_name=file_name, mime="text/csv", key=key, icon=DOWNLOAD_ICON
    )


def figure_html(spec: dict) -> bytes:
    """The figure spec as a standalone HTML page (plotly.js inlined, animations
    included), in the app's template (Streamlit's default "streamlit" template carries placeholder
    colours). The inlined plotly.js is the charts' cartesian build, a third of plotly.py's full
    one (sizes: docs/performance.md)."""
    import plotly.graph_objects as go

    from reparam_ui.components.plot_element import BUNDLE_PATH

    fig = go.Figure(spec, _validate=False)
    fig.layout.template = chart_template()
    html = fig.to_html(include_plotlyjs=False, full_html=True, auto_play=False)
    script = "<script>" + BUNDLE_PATH.read_text(encoding="utf-8") + "</script>\n"
    return html.replace("</head>", script + "</head>", 1).encode()


def download_figure_html(label: str, spec: dict, file_name: str, key: str) -> None:
    """The figure as a standalone HTML file (plotly.js inlined, animations included)."""
    st.download_button(
        label, figure_html(spec), file_name=file_name, mime="text/html", key=key, icon=DOWNLOAD_ICON
    )


def download_figure_html_deferred(label: str, spec: dict, file_name: str, key: str) -> None:
    """Like `download_figure_html`, but the HTML (over a megabyte) is built only when the button is clicked.

    Clicking does not rerun the page (so a playing animation keeps playing).
    """
    st.download_button(
        label,
        lambda: figure_html(spec),
        file_name=file_name,
        mime="text/html",
        key=key,
        icon=DOWNLOAD_ICON,
        on_click="ignore",
    )
