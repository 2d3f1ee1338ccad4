"""Figure builders for the change-of-variables view (plotly only; no streamlit import).

Every builder returns a spec (`figures.spec`); `*_figure` wraps one in a Figure for notebooks and
tests.

- `animation_spec`: samples drawn once and moved through an `AffinePath` (frames, Play/Pause,
  frame slider), with the exact density of every frame and a histogram precomputed per frame.
- `agreement_spec`: KS distance and max density error against n, with 1/√n references.
- `map_spec`: f_X, the pushforward f_Y with a histogram of h(x), and the Jacobian factor |g'(y)|.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reparam_core.checks import histogram_heights
from reparam_core.transforms import AffinePath, TransformedDensity, normal_log_prob
from reparam_ui.figures.spec import figure, spec_of

HIGHLIGHT_COLORS = ["#ff7f0e", "#17bebb", "#ffc914", "#76b041", "#c04cfd", "#2e86ab"]
DENSITY_COLOR = "#d62728"
HIST_COLOR = "rgba(99, 110, 250, 0.35)"


def _r(a) -> np.ndarray:
    """float32 arrays: plotly sends them as compact typed arrays (4 bytes a number)."""
    return np.asarray(a, dtype=np.float32)


def highlight_indices(v: np.ndarray, k: int = 6) -> np.ndarray:
    """Indices of k samples spread over the sample's quantiles (so they fan out when scaled)."""
    v = np.asarray(v, dtype=float)
    k = max(1, min(k, v.size))
    order = np.argsort(v)
    ranks = np.round(np.linspace(0.05, 0.95, k) * (v.size - 1)).astype(int)
    return order[ranks]


def fixed_range(path: AffinePath, n_sd: float = 4.0) -> tuple[float, float]:
    """One x range for all frames: the union of mean ± n_sd·sd over the path."""
    m, s = path.means(), path.sds()
    return float(np.min(m - n_sd * s)), float(np.max(m + n_sd * s))


def animation_spec(
    v: np.ndarray,
    path: AffinePath,
    *,
    duration_ms: int = 80,
    bins: int = 40,
    grid_points: int = 160,
    highlight: int = 6,
    frame_labels: list[str] | None = None,
    target_label: str = "target density",
    x_title: str = "value",
) -> dict:
    """The figure as a plain dict: animate samples `v` (drawn once from N(path.m0, path.s0²)) along
    `path`. The page sends the dict, cheaper to build and encode than a Figure (bench/run.py:
    rerun_latency_ratio; docs/performance.md).

    Traces: 0 histogram (bars, heights precomputed per frame on fixed bins), 1 the exact density of
    the frame, 2 the rug of all samples, 3 highlighted samples, 4 the target density (static, dashed).
    Frames only resend what moves (bar heights, curve heights, dot positions). Axis ranges are
    fixed over all frames so the motion is visible.
    """
    v = np.asarray(v, dtype=float)
    pos = path.positions(v)
    lo, hi = fixed_range(path)
    edges = np.linspace(lo, hi, bins + 1)
    centers = 0.5 * (edges[:-1] + edges[1:])
    grid = np.linspace(lo, hi, grid_points)
    means, sds = path.means(), path.sds()
    curves = np.array(
        [np.exp(normal_log_prob(grid, m, s)) for m, s in zip(means, sds, strict=True)]
    )
    heights = np.array([histogram_heights(p, edges) for p in pos])
    y_max = 1.08 * float(max(curves.max(), heights.max()))
    rug_y = -0.06 * y_max
    hl = highlight_indices(v, highlight)
    hl_colors = [HIGHLIGHT_COLORS[i % len(HIGHLIGHT_COLORS)] for i in range(hl.size)]
    labels = frame_labels or [f"{s} {t:.2f}" for s, t in zip(path.stage, path.t, strict=True)]
    names = [str(k) for k in range(len(path))]
    last = len(path) - 1

    data = [
        {"type": "bar", "x": _r(centers), "y": _r(heights[0]),
         "width": float(edges[1] - edges[0]), "marker": {"color": HIST_COLOR},
         "name": "histogram of the samples"},
        {"type": "scatter", "x": _r(grid), "y": _r(curves[0]), "mode": "lines",
         "name": "exact density of the frame"},
        {"type": "scatter", "x": _r(pos[0]), "y": _r(np.full(v.size, rug_y)), "mode": "markers",
         "marker": {"size": 5, "color": "rgba(120,120,120,0.45)", "symbol": "line-ns-open"},
         "name": "samples", "hoverinfo": "skip"},
        {"type": "scatter", "x": _r(pos[0, hl]), "y": _r(np.full(hl.size, rug_y)),
         "mode": "markers",
         "marker": {"size": 12, "color": hl_colors, "line": {"width": 1, "color": "white"}},
         "name": "a few samples, followed"},
        {"type": "scatter", "x": _r(grid), "y": _r(curves[last]), "mode": "lines",
         "line": {"dash": "dash", "width": 1.5, "color": "gray"}, "name": target_label},
    ]  # fmt: skip
    frames = [
        {
            "name": names[k],
            "traces": [0, 1, 2, 3],
            "data": [
                {"type": "bar", "y": _r(heights[k])},
                {"type": "scatter", "y": _r(curves[k])},
                {"type": "scatter", "x": _r(pos[k])},
                {"type": "scatter", "x": _r(pos[k, hl])},
            ],
        }
        for k in range(len(path))
    ]
    still = {
        "frame": {"duration": 0, "redraw": False},
        "mode": "immediate",
        "transition": {"duration": 0},
    }
    play = {
        "frame": {"duration": int(duration_ms), "redraw": False},
        "fromcurrent": True,
        "mode": "immediate",
        "transition": {"duration": 0},
    }
    layout = {
        "height": 500,
        "margin": {"l": 50, "r": 20, "t": 30, "b": 150},
        "xaxis": {"range": [lo, hi], "autorange": False, "title": {"text": x_title},
                  "zeroline": True},
        "yaxis": {"range": [2 * rug_y, y_max], "autorange": False,
                  "title": {"text": "density"}},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "bargap": 0,
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.24,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 0, "r": 10},
                "showactive": False,
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]},
                ],
            }
        ],
        "sliders": [
            {
                "active": 0,
                "x": 0.0,
                "len": 1.0,
                "y": -0.2,
                "yanchor": "top",
                "currentvalue": {"prefix": "stage: ", "visible": True, "xanchor": "right"},
                # room for the Play/Pause buttons in pixels (a fraction of the width let the
                # buttons overlap the slider's start on a narrow chart)
                "pad": {"t": 0, "l": 150},
                "steps": [
                    {"label": labels[k], "method": "animate", "args": [[names[k]], still]}
                    for k in range(len(path))
                ],
            }
        ],
    }  # fmt: skip
    return {"data": data, "layout": layout, "frames": frames}


def _measured_and_reference(result: dict, key: str, name: str, ref_name: str, dash: str) -> list:
    """result[key] against n (lines and markers) and its reference result[key + "_ref"] (a line)."""
    n = result["n"]
    return [
        go.Scatter(x=n, y=result[key], mode="lines+markers", name=name),
        go.Scatter(x=n, y=result[key + "_ref"], mode="lines", line={"dash": dash}, name=ref_name),
    ]


def agreement_spec(result: dict) -> dict:
    """KS distance and max density error against n, log–log, with their 1/√n references."""
    fig = go.Figure(
        [
            *_measured_and_reference(
                result, "ks", "KS distance Dₙ", "0.87/√n (mean of Dₙ)", "dash"
            ),
            *_measured_and_reference(
                result,
                "density_error",
                "max density error",
                "c/√n (bound on the expected max error)",
                "dot",
            ),
        ]
    )
    fig.update_layout(
        height=360,
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        xaxis={"type": "log", "title": {"text": "number of samples n"}},
        yaxis={"type": "log", "title": {"text": "distance to the formula"}},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return spec_of(fig)


def y_grid(density: TransformedDensity, points: int = 240, n_sd: float = 2.8) -> np.ndarray:
    """A y grid covering h(μ ± n_sd·σ) (≈ 99.5% of the mass), dense where the mass is."""
    base, h = density.base, density.transform
    xs = np.linspace(base.mu - n_sd * base.sigma, base.mu + n_sd * base.sigma, points)
    ys = h.forward(xs)
    ys = ys[np.isfinite(ys)]
    lo, hi = float(ys.min()), float(ys.max())
    return np.unique(np.concatenate([ys, np.linspace(lo, hi, points)]))


def map_spec(density: TransformedDensity, x_samples: np.ndarray, bins: int = 40) -> dict:
    """Left: f_X with the samples. Right top: f_Y = f_X(g(y))·|g'(y)| with a histogram of h(x).
    Right bottom: the Jacobian factor |g'(y)| on a log axis (above 1: squeezed, below 1: stretched).
    """
    base, h = density.base, density.transform
    xs = np.linspace(base.mu - 4 * base.sigma, base.mu + 4 * base.sigma, 200)
    ys = y_grid(density)
    y_samples = h.forward(x_samples)
    edges = np.linspace(ys[0], ys[-1], bins + 1)
    heights = histogram_heights(y_samples, edges)
    jac = density.jacobian_factor(ys)
    fig = make_subplots(
        rows=2,
        cols=2,
        specs=[[{"rowspan": 2}, {}], [None, {}]],
        shared_xaxes=False,
        vertical_spacing=0.12,
        horizontal_spacing=0.08,
        subplot_titles=(
            "base f_X(x), x ~ N(μ, σ²)",
            f"pushforward f_Y(y), y = {h.name}(x)",
            "Jacobian factor |g′(y)|",
        ),
    )
    fig.add_trace(go.Scatter(x=_r(xs), y=_r(base.prob(xs)), mode="lines", name="f_X(x)"), 1, 1)
    fig.add_trace(
        go.Bar(
            x=_r(0.5 * (edges[:-1] + edges[1:])),
            y=_r(heights),
            width=float(edges[1] - edges[0]),
            marker_color=HIST_COLOR,
            name=f"histogram of h(x), {y_samples.size:,} samples",
        ),
        1,
        2,
    )
    fig.add_trace(
        go.Scatter(
            x=_r(ys), y=_r(density.prob(ys)), mode="lines", name="f_Y(y) = f_X(g(y))·|g′(y)|"
        ),
        1,
        2,
    )
    fig.add_trace(
        go.Scatter(
            x=_r(ys), y=jac.tolist(), mode="lines", name="|g′(y)|", line={"color": "#e4572e"}
        ),
        2,
        2,
    )
    fig.add_hline(y=1.0, line_dash="dot", line_color="gray", row=2, col=2)
    fig.update_yaxes(type="log", title_text="|g′(y)|", row=2, col=2)
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_xaxes(title_text="y", row=2, col=2)
    fig.update_xaxes(matches="x3", row=1, col=2)
    fig.update_yaxes(title_text="density", row=1, col=1)
    fig.update_layout(
        height=520,
        bargap=0,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.12, "x": 0},
    )
    return spec_of(fig)


# the same builders returning a plotly Figure, for notebooks and tests
animation_figure = figure(animation_spec)
agreement_figure = figure(agreement_spec)
map_figure = figure(map_spec)
