"""The one kind of figure every builder in `reparam_ui.figures` returns: a spec, a plotly figure as
a plain dict ({"data", "layout", "frames"?}), arrays kept as numpy. A page shows it with
`reparam_ui.charts.show_figure`; `figure` wraps a builder for notebooks and tests."""

from __future__ import annotations

import functools
from collections.abc import Callable

import plotly.graph_objects as go


def spec_of(fig: go.Figure) -> dict:
    """A Figure assembled with plotly's helpers (`make_subplots`, `add_trace`) as a spec: its
    traces, layout and frames as dicts, without plotly's default template (`show_figure` and
    `figure_html` set the app's) and without re-encoding its arrays."""
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    spec = {"data": [trace.to_plotly_json() for trace in fig.data], "layout": layout}
    if fig.frames:
        spec["frames"] = [frame.to_plotly_json() for frame in fig.frames]
    return spec


def figure(builder: Callable[..., dict]) -> Callable[..., go.Figure]:
    """`builder` (a `*_spec` function) returning a plotly Figure instead, for notebooks and tests;
    the spec is valid by construction, so it is not re-validated."""

    @functools.wraps(builder)
    def build(*args, **kwargs) -> go.Figure:
        return go.Figure(builder(*args, **kwargs), _validate=False)

    build.__name__ = build.__qualname__ = builder.__name__.removesuffix("_spec") + "_figure"
    build.__doc__ = f"`{builder.__name__}` as a plotly Figure (for notebooks and tests)."
    return build
