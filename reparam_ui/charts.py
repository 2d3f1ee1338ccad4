"""Charts: the app's plotly template and the one way a page shows a figure."""

from __future__ import annotations

import functools

# Chart styling for both app themes: this template and `theme=None`, because Streamlit's own
# plotly theme restyles every draw in the browser (bench/run.py: rerun_latency_ratio;
# docs/performance.md). Transparent backgrounds, so the page's background shows through, and text,
# grid and axis colours that read on the light page (#ffffff) and the dark one (#0e1117) alike.
CHART_TEXT = "#72767f"  # contrast 4.55:1 on white, 4.15:1 on #0e1117 (tests/test_common.py)
CHART_GRID = "rgba(128, 128, 128, 0.22)"
CHART_LINE = "rgba(128, 128, 128, 0.5)"
CHART_COLORWAY = (
    "#6236ff",
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#17becf",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
)


@functools.cache  # built once per process: a constant, shared by every session
def chart_template():
    """The app's plotly template (a `go.layout.Template`; assigning it to a figure is free)."""
    import plotly.graph_objects as go

    # ticklabeloverflow "allow": plotly's default ("hide past div") forces a layout per tick label
    # on each draw; automargin keeps ours inside (bench/run.py: rerun_latency_ratio;
    # docs/performance.md)
    axis = {
        "gridcolor": CHART_GRID,
        "zerolinecolor": CHART_LINE,
        "linecolor": CHART_LINE,
        "ticklabeloverflow": "allow",
    }
    return go.layout.Template(
        layout={
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": '"Source Sans", "Source Sans Pro", sans-serif', "color": CHART_TEXT},
            "colorway": list(CHART_COLORWAY),
            "xaxis": axis,
            "yaxis": axis,
            "legend": {"bgcolor": "rgba(0,0,0,0)"},
            # plotly's default mode bar icons are dark grey: invisible on the dark theme
            "modebar": {
                "bgcolor": "rgba(0,0,0,0)",
                "color": CHART_TEXT,
                "activecolor": CHART_COLORWAY[0],
            },
            "hoverlabel": {"font": {"family": '"Source Sans", sans-serif'}},
            "colorscale": {"sequential": "Viridis"},
        }
    )


def show_figure(spec: dict, key: str) -> None:
    """Render a figure spec (a plotly figure as a plain dict, as every builder in
    `reparam_ui.figures` returns) full-width in the app's template (reads in light and dark); a
    later run with the same key updates it in place (`components.plot_element`). The dict is sent
    as it is, never wrapped in a `go.Figure` (a deep copy on every rerun; bench/run.py:
    rerun_latency_ratio; docs/performance.md)."""
    from reparam_ui.components.plot_element import plot

    plot({**spec, "layout": {**spec.get("layout", {}), "template": _template_json()}}, key)


@functools.cache
def _template_json() -> dict:
    """`chart_template()` as plotly JSON, built once."""
    return chart_template().to_plotly_json()
