"""Figures for the Diffusion page: plain functions of numpy arrays → a spec (`figures.spec`).

- `forward_spec`: data points noised from t = 0 to T, x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε with one ε
  per point drawn once (so each point moves along a path as t grows), the exact log q_t(x) as
  contours behind them, and the schedule beside (ᾱ_t and log SNR(t) = log ᾱ_t/(1 − ᾱ_t)) with
  the frame's t marked. Plotly frames: it plays in the browser.
- `reverse_spec`: a sampler's trajectory from N(0, I) at t = T back to t = 0, the same layout.
- `loss_spec`, `bound_spec`, `score_error_spec`: the training curves.
- `score_field_spec`: the learned and the exact score ∇ₓ log q_t(x) as arrows on a grid.
- `live_view`: the data and the model's samples as points panels for `components.live_canvas`.

Arrays go out as float32 typed arrays (`_r`), a grid as one typed array with its shape, so
an animation of ~1000 points × 25 frames stays a few hundred kB.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np
import plotly.colors as pc

from reparam_core.diffusion import Schedule, forward_sample
from reparam_core.live_session import thin
from reparam_ui.figures.cov import HIGHLIGHT_COLORS
from reparam_ui.figures.spec import figure
from reparam_ui.figures.vae import POSITION_SCALE, color_lut, heat_image, position_color

FRAMES = 25  # frames of an animation: enough to follow a point, light enough to load fast
LIM = 4.5  # half-width of the x-plane shown: the toy data sets and N(0, I) fit inside
PRIOR_RADIUS = 2.0  # the dotted circle: N(0, I)'s 2σ ring (86 % of its mass)
LOG_Q_RANGE = 12.0  # nats below the frame's maximum that the contours span
ARROW_CELLS, ARROW_CAP_CELLS = 0.8, 1.0  # score arrows: typical and longest length, in grid cells
SAMPLE_COLOR = "#6236ff"
ORACLE_COLOR = "#2ca02c"
# colorbrewer's Blues, light to dark, as a list: plotly.js's own "Blues" runs the other way
DENSITY_SCALE = pc.get_colorscale("Blues")
SERIES_COLORS = {"bound": "#d62728", "fidelity": "#6236ff", "ceiling": "#7f7f7f"}


def _r(a) -> np.ndarray:
    """float32: plotly sends it as a compact typed array."""
    return np.asarray(a, dtype=np.float32)


def grid_array(z: np.ndarray) -> dict:
    """A 2D array as plotly's typed-array spec with a shape (one base64 block, rows of x)."""
    z = np.ascontiguousarray(np.asarray(z, dtype="<f4"))
    return {
        "dtype": "f4",
        "bdata": base64.b64encode(z.tobytes()).decode("ascii"),
        "shape": f"{z.shape[0]}, {z.shape[1]}",
    }


def decode_grid(spec: dict) -> np.ndarray:
    """`grid_array`'s inverse (for tests and notebooks)."""
    shape = tuple(int(s) for s in spec["shape"].split(","))
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<f4").reshape(shape)


def frame_times(T: int, frames: int = FRAMES) -> np.ndarray:
    """About `frames` whole steps from 0 to T, evenly spaced, both ends included."""
    return np.unique(np.round(np.linspace(0, T, min(frames, T + 1))).astype(np.int64))


def frame_indices(k: int, frames: int = FRAMES) -> np.ndarray:
    """About `frames` indices into a trajectory of k + 1 states, first and last included."""
    return np.unique(np.round(np.linspace(0, k, min(frames, k + 1))).astype(np.int64))


def highlight_indices(x: np.ndarray, k: int = 6) -> np.ndarray:
    """k points spread around the data: evenly spaced quantiles of their angle about the centre."""
    angle = position_color(x)
    order = np.argsort(angle)
    ranks = np.round((np.arange(k) + 0.5) / k * (len(x) - 1)).astype(int)
    return order[ranks]


def grid(n: int, lim: float = LIM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs, ys (n each) over [−lim, lim] and the (n, n, 2) points, rows of constant y."""
    xs = np.linspace(-lim, lim, n)
    gx, gy = np.meshgrid(xs, xs)
    return xs, xs.copy(), np.stack([gx, gy], -1)


def contour_levels(log_q: np.ndarray) -> np.ndarray:
    """log q clipped from below at its maximum − LOG_Q_RANGE (−inf off a bounded support too), so
    the contours spread over where the mass is."""
    finite = log_q[np.isfinite(log_q)]
    top = float(finite.max()) if finite.size else 0.0
    return np.clip(np.nan_to_num(log_q, nan=-np.inf), top - LOG_Q_RANGE, None)


# ------------------------------------------------------------------ the two processes


def _play_controls(names: list[str], labels: list[str], duration_ms: int, redraw: bool) -> dict:
    still = {
        "frame": {"duration": 0, "redraw": redraw},
        "mode": "immediate",
        "transition": {"duration": 0},
    }
    play = {
        "frame": {"duration": int(duration_ms), "redraw": redraw},
        "fromcurrent": True,
        "mode": "immediate",
        "transition": {"duration": 0},
    }
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.14,
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
                "y": -0.1,
                "yanchor": "top",
                "currentvalue": {"visible": True, "xanchor": "right"},
                "pad": {"t": 0, "l": 150},  # px: room for the buttons on a narrow chart
                "steps": [
                    {"label": lab, "method": "animate", "args": [[name], still]}
                    for name, lab in zip(names, labels, strict=True)
                ],
            }
        ],
    }


def _log_snr(sched: Schedule, t: int) -> float | None:
    v = float(sched.log_snr(t))
    return v if np.isfinite(v) else None  # +inf at t = 0: no marker


def process_spec(
    positions: np.ndarray,
    ts: Sequence[int],
    sched: Schedule,
    color: np.ndarray,
    highlight: np.ndarray,
    density: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    *,
    points_name: str = "points",
    duration_ms: int = 150,
    lim: float = LIM,
    height: int = 480,
) -> dict:
    """Points at `positions[k]` (K, n, 2) in frame k, at step `ts[k]`, coloured by `color`
    (an angle in degrees, Turbo), the `highlight` indices large and with their whole path; left,
    an equal-aspect x-plane; right, ᾱ_t and log SNR(t) against t with ts[k] marked.

    `density` = (xs, ys, log_q) with log_q (K, len(ys), len(xs)): the exact log q_t of each
    frame, drawn as contours (plotly redraws each frame then, so it is only sent with them).

    Traces: [contour], points, followed points, their paths, ᾱ_t, ᾱ marker, log SNR, its marker.
    Frames resend what moves: the contour z, the two point sets and the two markers.
    """
    positions = np.asarray(positions, dtype=float)
    ts = [int(t) for t in ts]
    if positions.shape[0] != len(ts):
        raise ValueError("positions and ts must have one entry per frame")
    T, t_all = sched.T, np.arange(sched.T + 1)
    log_snr = np.asarray(sched.log_snr(t_all[1:]), dtype=float)
    finite = log_snr[np.isfinite(log_snr)]
    snr_lo, snr_hi = float(finite.min()) - 1.0, float(finite.max()) + 1.0
    hl_colors = [HIGHLIGHT_COLORS[i % len(HIGHLIGHT_COLORS)] for i in range(len(highlight))]
    paths = np.full((len(highlight), len(ts) + 1, 2), np.nan)  # a NaN row breaks each path
    paths[:, :-1] = positions[:, highlight].transpose(1, 0, 2)
    paths = paths.reshape(-1, 2)

    data: list[dict] = []
    if density is not None:
        xs, ys, log_q = density
        data.append(
            {
                "type": "contour",
                "x": _r(xs),
                "y": _r(ys),
                "z": grid_array(contour_levels(log_q[0])),
                "colorscale": DENSITY_SCALE,
                "showscale": False,
                "ncontours": 10,
                # shaded as a heatmap under the lines: the first draw costs less than filled
                # contour polygons (bench/run.py: page_load_ratio_max)
                "contours": {"coloring": "heatmap", "showlines": True},
                "line": {"width": 0.5, "color": "rgba(31, 119, 180, 0.6)"},
                "opacity": 0.6,
                "name": "exact log q_t(x)",
                "hovertemplate": "log q_t = %{z:.2f}<extra></extra>",
            }
        )
    first = len(data)
    data += [
        {
            "type": "scatter",
            "mode": "markers",
            "x": _r(positions[0, :, 0]),
            "y": _r(positions[0, :, 1]),
            "name": points_name,
            "marker": {
                "size": 4,
                "opacity": 0.65,
                "color": _r(color),
                "colorscale": pc.get_colorscale(POSITION_SCALE),  # plotly.js has no "Turbo"
                "cmin": -180,
                "cmax": 180,
            },
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": _r(positions[0, highlight, 0]),
            "y": _r(positions[0, highlight, 1]),
            "name": "a few points, followed",
            "marker": {"size": 11, "color": hl_colors, "line": {"width": 1, "color": "white"}},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": _r(paths[:, 0]),
            "y": _r(paths[:, 1]),
            "name": "their paths",
            "line": {"width": 1, "color": "rgba(120, 120, 120, 0.6)"},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": _r(t_all),
            "y": _r(sched.alpha_bar),
            "name": "ᾱ_t",
            "line": {"color": "#1f77b4"},
            "xaxis": "x2",
            "yaxis": "y2",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": [ts[0]],
            "y": [float(sched.alpha_bar[ts[0]])],
            "name": "this frame's t",
            "marker": {"size": 10, "color": "#d62728"},
            "xaxis": "x2",
            "yaxis": "y2",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": _r(t_all[1:]),
            "y": _r(log_snr),
            "name": "log SNR(t)",
            "line": {"color": "#ff7f0e"},
            "xaxis": "x3",
            "yaxis": "y3",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": [ts[0]],
            "y": [_log_snr(sched, ts[0])],
            "name": "this frame's t",
            "marker": {"size": 10, "color": "#d62728"},
            "xaxis": "x3",
            "yaxis": "y3",
            "showlegend": False,
        },
    ]
    moving = ([0] if density is not None else []) + [first, first + 1, first + 4, first + 6]
    names = [str(k) for k in range(len(ts))]
    frames = []
    for k, t in enumerate(ts):
        fd: list[dict] = []
        if density is not None:
            fd.append({"type": "contour", "z": grid_array(contour_levels(density[2][k]))})
        fd += [
            {"type": "scatter", "x": _r(positions[k, :, 0]), "y": _r(positions[k, :, 1])},
            {
                "type": "scatter",
                "x": _r(positions[k, highlight, 0]),
                "y": _r(positions[k, highlight, 1]),
            },
            {"type": "scatter", "x": [t], "y": [float(sched.alpha_bar[t])]},
            {"type": "scatter", "x": [t], "y": [_log_snr(sched, t)]},
        ]
        frames.append({"name": names[k], "traces": moving, "data": fd})

    labels = [f"t = {t}" for t in ts]
    axis_t = {"range": [0, T], "autorange": False}
    layout = {
        "height": height,
        "margin": {"l": 45, "r": 10, "t": 10, "b": 120},
        "xaxis": {
            "domain": [0, 0.6],
            "range": [-lim, lim],
            "autorange": False,
            "title": {"text": "x₁"},
            "constrain": "domain",
        },
        "yaxis": {
            "range": [-lim, lim],
            "autorange": False,
            "scaleanchor": "x",
            "title": {"text": "x₂"},
            "constrain": "domain",
        },
        "xaxis2": {**axis_t, "domain": [0.7, 1], "anchor": "y2", "showticklabels": False},
        "yaxis2": {
            "domain": [0.56, 1],
            "anchor": "x2",
            "range": [-0.05, 1.05],
            "autorange": False,
            "title": {"text": "ᾱ_t"},
        },
        "xaxis3": {**axis_t, "domain": [0.7, 1], "anchor": "y3", "title": {"text": "t"}},
        "yaxis3": {
            "domain": [0, 0.44],
            "anchor": "x3",
            "range": [snr_lo, snr_hi],
            "autorange": False,
            "title": {"text": "log SNR"},
        },
        "shapes": [
            {
                "type": "circle",
                "xref": "x",
                "yref": "y",
                "x0": -PRIOR_RADIUS,
                "x1": PRIOR_RADIUS,
                "y0": -PRIOR_RADIUS,
                "y1": PRIOR_RADIUS,
                "line": {"dash": "dot", "width": 1, "color": "#7f7f7f"},
            }
        ],
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        "meta": {"ts": ts},
        **_play_controls(names, labels, duration_ms, redraw=density is not None),
    }
    return {"data": data, "layout": layout, "frames": frames}


def forward_positions(x0: np.ndarray, eps: np.ndarray, sched: Schedule, ts) -> np.ndarray:
    """(K, n, 2): each x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, the same ε for every t."""
    return np.stack([forward_sample(x0, int(t), sched, eps=eps)[0] for t in ts])


def forward_spec(
    x0: np.ndarray,
    eps: np.ndarray,
    sched: Schedule,
    ts: Sequence[int] | None = None,
    density: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    highlight: int = 6,
    duration_ms: int = 150,
) -> dict:
    """The forward process q(x_t | x_0) on the points x0 with noises eps (one per point), at the
    steps `ts` (default: `frame_times(T)`); points coloured by where they started."""
    ts = frame_times(sched.T) if ts is None else np.asarray(ts, dtype=np.int64)
    pos = forward_positions(x0, eps, sched, ts)
    return process_spec(
        pos,
        ts,
        sched,
        position_color(np.asarray(x0, dtype=float)),
        highlight_indices(np.asarray(x0, dtype=float), highlight),
        density,
        points_name="x_t (coloured by where x₀ was)",
        duration_ms=duration_ms,
    )


def reverse_spec(
    ts: np.ndarray,
    traj: np.ndarray,
    sched: Schedule,
    density: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    highlight: int = 6,
    duration_ms: int = 150,
    frames: int = FRAMES,
) -> dict:
    """A sampler's trajectory (ts[0] = T … ts[-1] = 0, traj (K + 1, n, 2)) in about `frames`
    frames (`frame_indices`); points coloured by where they end. `density`, if given, holds
    log q_t for the chosen frames (`reverse_frames(ts)`)."""
    traj = np.asarray(traj, dtype=float)
    idx = frame_indices(len(ts) - 1, frames)
    end = traj[-1]
    end = np.where(np.isfinite(end), end, 0.0)
    return process_spec(
        traj[idx],
        np.asarray(ts)[idx],
        sched,
        position_color(end),
        highlight_indices(end, highlight),
        density,
        points_name="x_t (coloured by where it ends)",
        duration_ms=duration_ms,
    )


def reverse_frames(ts: np.ndarray, frames: int = FRAMES) -> np.ndarray:
    """The steps `reverse_spec` shows as frames, for computing their densities beforehand."""
    return np.asarray(ts)[frame_indices(len(ts) - 1, frames)]


# ------------------------------------------------------------------ training curves


def _spec(data: list[dict], layout: dict) -> dict:
    base = {
        "margin": {"l": 55, "r": 10, "t": 40, "b": 40},
        "height": 320,
        "legend": {"orientation": "h", "y": -0.25, "font": {"size": 11}},
    }
    return {"data": data, "layout": {**base, **layout}}


def loss_spec(history: dict[str, Sequence[float]], parameterization: str = "eps") -> dict:
    """The training loss (per minibatch) against step; the canvas draws the same dict."""
    h = thin(history)
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": list(h.get("step", [])),
            "y": list(h.get("loss", [])),
            "name": f"training loss ({parameterization} target)",
            "line": {"color": SAMPLE_COLOR, "width": 1.5},
        }
    ]
    layout = {
        "title": {"text": "Training loss (denoising MSE, per minibatch)", "font": {"size": 14}},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": "loss"}},
        "showlegend": True,
    }
    return _spec(data, layout)


def _ceiling_line(ceiling: float | None) -> dict:
    if ceiling is None:
        return {}
    return {
        "shapes": [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": ceiling,
                "y1": ceiling,
                "line": {"dash": "dot", "color": SERIES_COLORS["ceiling"], "width": 1.5},
            }
        ],
        "annotations": [
            {
                "text": f"ceiling E[log p_data] = {ceiling:.3f}",
                "xref": "paper",
                "x": 1,
                "y": ceiling,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        ],
    }


def bound_spec(evals: dict[str, Sequence[float]], ceiling: float | None) -> dict:
    """Held-out variational bound (nats per point, ≤ log p_θ) and the samples' mean log p_data
    against step, each ± 2 standard errors, with the ceiling E[log p_data] as a dotted line."""
    e = thin(evals)
    step = list(e.get("step", []))
    data = []
    for key, name in (
        ("bound", "held-out bound (ELBO of the diffusion)"),
        ("fidelity", "samples: mean log p_data"),
    ):
        y = list(e.get(key, []))
        se = list(e.get(f"{key}_se", [0.0] * len(y)))
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": step,
                "y": y,
                "error_y": {"type": "data", "array": [2 * s for s in se], "visible": True},
                "name": name,
                "line": {"color": SERIES_COLORS[key]},
                "marker": {"size": 5},
            }
        )
    layout = {
        "title": {"text": "Bound and sample fidelity (nats per point)", "font": {"size": 14}},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": "nats (higher is better)"}},
        **_ceiling_line(ceiling),
    }
    return _spec(data, layout)


def score_error_spec(evals: dict[str, Sequence[float]]) -> dict:
    """The learned score's error in ε units, E‖ε_θ − ε*‖² with ε* = −√(1 − ᾱ_t) ∇ log q_t (the
    trainer's `score_error`, averaged over its fixed steps), against step (log scale)."""
    e = thin(evals)
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": list(e.get("step", [])),
            "y": list(e.get("score_error", [])),
            "name": "score error",
            "line": {"color": "#ff7f0e"},
            "marker": {"size": 5},
        }
    ]
    layout = {
        "title": {
            "text": "Score error against the exact ∇ log q_t (ε units)",
            "font": {"size": 14},
        },
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"type": "log", "title": {"text": "E‖ε_θ − ε*‖²"}},
    }
    return _spec(data, layout)


# ------------------------------------------------------------------ score fields


def arrows(points: np.ndarray, vectors: np.ndarray, scale: float, cap: float) -> np.ndarray:
    """Segments from each point along scale × its vector, at most `cap` long (same direction),
    as (3m, 2) rows: tail, head, NaN (a break between segments)."""
    v = scale * np.asarray(vectors, dtype=float)
    length = np.linalg.norm(v, axis=-1, keepdims=True)
    v = np.where(length > cap, v * (cap / np.maximum(length, 1e-300)), v)
    out = np.full((len(points), 3, 2), np.nan)
    out[:, 0], out[:, 1] = points, points + v
    return out.reshape(-1, 2)


def arrow_scale(exact: np.ndarray, step: float) -> float:
    """Arrow length per unit of score: the 90th percentile of the exact |score| spans ARROW_CELLS
    grid cells."""
    norm = np.linalg.norm(exact, axis=-1)
    ref = float(np.percentile(norm[np.isfinite(norm)], 90)) if np.isfinite(norm).any() else 0.0
    return ARROW_CELLS * step / ref if ref > 0 else 1.0


def head_angles(segments: np.ndarray) -> np.ndarray:
    """Each segment's direction (rows tail, head, NaN) as a marker angle: degrees clockwise from
    up, plotly's convention (the axes have equal scales, so data and screen angles agree)."""
    d = segments[1::3] - segments[0::3]
    return np.degrees(np.arctan2(d[:, 0], d[:, 1]))


def score_field_spec(
    points: np.ndarray,
    learned: np.ndarray,
    exact: np.ndarray,
    t: int,
    lim: float = LIM,
    heat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Two panels of arrows on the grid `points` (m, 2): the learned score −ε_θ/√(1 − ᾱ_t) and the
    exact ∇ log q_t at step t, on one scale (layout.meta: arrow_scale, arrow_cap), over the
    exact log q_t as a heatmap if `heat` = (xs, ys, log_q) is given."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    learned = np.asarray(learned, dtype=float).reshape(-1, 2)
    exact = np.asarray(exact, dtype=float).reshape(-1, 2)
    side = int(round(np.sqrt(len(points))))
    step = 2 * lim / max(side - 1, 1)
    scale, cap = arrow_scale(exact, step), ARROW_CAP_CELLS * step
    data: list[dict] = []
    for i, (vectors, name, color) in enumerate(
        ((learned, "learned score s_θ", SAMPLE_COLOR), (exact, "exact ∇ log q_t", ORACLE_COLOR))
    ):
        axis = "" if i == 0 else "2"
        if heat is not None:
            xs, ys, log_q = heat
            data.append(
                {
                    "type": "heatmap",
                    "x": _r(xs),
                    "y": _r(ys),
                    "z": grid_array(contour_levels(log_q)),
                    "colorscale": DENSITY_SCALE,
                    "showscale": False,
                    "opacity": 0.5,
                    "hoverinfo": "skip",
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                }
            )
        seg = arrows(points, vectors, scale, cap)
        data += [
            {
                "type": "scatter",
                "mode": "lines",
                "x": _r(seg[:, 0]),
                "y": _r(seg[:, 1]),
                "name": name,
                "line": {"color": color, "width": 1.5},
                "hoverinfo": "skip",
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": _r(seg[1::3, 0]),
                "y": _r(seg[1::3, 1]),
                "marker": {
                    "symbol": "triangle-up",
                    "size": 6,
                    "angle": _r(head_angles(seg)),
                    "color": color,
                },
                "showlegend": False,
                "customdata": np.round(np.concatenate([points, vectors], 1), 3).tolist(),
                "hovertemplate": "x = (%{customdata[0]}, %{customdata[1]})<br>"
                "s = (%{customdata[2]}, %{customdata[3]})<extra></extra>",
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            },
        ]
    square = {"range": [-lim, lim], "autorange": False, "constrain": "domain"}
    layout = {
        "title": {"text": f"Score field at t = {t}: learned (left), exact (right)"},
        "height": 430,
        "xaxis": {**square, "domain": [0, 0.48]},
        "yaxis": {**square, "scaleanchor": "x"},
        "xaxis2": {**square, "domain": [0.52, 1]},
        "yaxis2": {**square, "scaleanchor": "x2", "anchor": "x2", "showticklabels": False},
        "meta": {"arrow_scale": scale, "arrow_cap": cap, "t": int(t)},
    }
    return _spec(data, layout)


# ------------------------------------------------------------------ the live canvas


def _points(x: np.ndarray, colors: list[str] | str) -> dict:
    """x, y (3 decimals) of the finite rows, with their colours (a list, or one for all)."""
    x = np.asarray(x, dtype=float)
    keep = np.isfinite(x).all(1)
    out: dict = {"x": np.round(x[keep, 0], 3).tolist(), "y": np.round(x[keep, 1], 3).tolist()}
    if isinstance(colors, list):
        out["colors"] = [c for c, k in zip(colors, keep, strict=True) if k]
    else:
        out["color"] = colors
    return out


def live_view(
    data: np.ndarray,
    samples: np.ndarray,
    denoised: np.ndarray,
    step: int,
    sampler: str,
    t_denoise: int,
    density: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    lim: float = LIM,
) -> dict:
    """Three panels for `components.live_canvas`: held-out data (Turbo by position), the model's
    samples over the data density (if `density` = (xs, ys, p)), and the model's one-step estimate
    x̂₀ of the data from x_t at t_denoise (same colours as the data: each point's x̂₀)."""
    lut = color_lut(POSITION_SCALE)
    t = np.rint(np.clip(np.nan_to_num((position_color(data) + 180.0) / 360.0), 0, 1) * 255)
    color = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in lut[t.astype(np.intp)].tolist()]
    panels = [
        {**_points(data, color), "title": "held-out data x₀"},
        {**_points(samples, SAMPLE_COLOR), "title": f"model samples ({sampler})"},
        {**_points(denoised, color), "title": f"x̂₀ from x_t, t = {t_denoise}"},
    ]
    if density is not None:
        panels[1]["heat"] = heat_image(*density, scale="Blues")
    for p in panels:
        p["range"] = lim
    return {"title": f"What the model does at step {step:,}", "step": int(step), "panels": panels}


# the same builders returning a plotly Figure, for notebooks and tests
forward_figure = figure(forward_spec)
reverse_figure = figure(reverse_spec)
loss_figure = figure(loss_spec)
bound_figure = figure(bound_spec)
score_error_figure = figure(score_error_spec)
score_field_figure = figure(score_field_spec)
