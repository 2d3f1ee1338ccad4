"""Figures for the Live VAE page: plain functions of numpy arrays / lists → a spec (`figures.spec`).

Built to be cheap, since the page redraws them several times a second: small figures, few traces,
downsampled inputs (`thin`), and plain dicts — the inputs are built here, so plotly's per-property
validation (most of a figure's build time) is skipped. `*_figure` wraps a spec in a Figure for
notebooks and tests.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Sequence

import numpy as np
import plotly.colors as pc

from reparam_core.live_session import thin
from reparam_core.registry import VAE
from reparam_ui.figures.spec import figure

ESTIMATOR_LABELS = {name: e.label for name, e in VAE.items()}  # the page's options, in order
ESTIMATOR_COLORS = {name: e.colour for name, e in VAE.items()}
SERIES_COLORS = {
    "neg_elbo": "#6236ff",
    "recon": "#2ca02c",
    "kl": "#ff7f0e",
    "iwae": "#d62728",
    "ceiling": "#7f7f7f",
}
POSITION_SCALE = "Turbo"

# The page's view sizes (here, not in the page, so bench/vae_bench.py draws what the page draws
# without running Streamlit code; the tick cadence is reparam_core.live_session.Cadence).
N_SHOWN = 200  # points drawn in each scatter panel of the model view
GRID, GRID_K = 32, 24  # density heatmap resolution and importance samples
# the density drawn while playing: coarser, and recomputed every DENSITY_EVERY-th tick (the points
# on every tick), so it is at most 2 ticks older than the points and training keeps more of each
# tick (bench/vae_bench.py browser; docs/performance.md, "Live VAE")
GRID_LIVE, GRID_K_LIVE = 24, 8
DENSITY_EVERY = 3


def _spec(data: list[dict], layout: dict) -> dict:
    base = {
        "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
        "height": 320,
        "legend": {"orientation": "h", "y": -0.2, "font": {"size": 11}},
    }
    return {"data": data, "layout": {**base, **layout}}


def position_color(x: np.ndarray) -> np.ndarray:
    """A colour value for each data point: its angle around the data's centre, in degrees."""
    finite = np.isfinite(x).all(1)
    c = x - (x[finite].mean(0) if finite.any() else 0.0)
    return np.degrees(np.arctan2(c[:, 1], c[:, 0]))


def loss_spec(
    history: dict[str, Sequence[float]],
    evals: dict[str, Sequence[float]],
    ceiling: float | None,
    stored: dict[str, dict[str, Sequence[float]]] | None = None,
    estimator: str = "pathwise",
) -> dict:
    """Training neg ELBO, recon, KL and held-out −IWAE vs step, with −E[log p_data] as the floor.

    `stored` maps another estimator's name to a stored run's {"step", "neg_elbo"}: drawn dashed.
    """
    h = thin(history)
    e = thin(evals)
    data: list[dict] = []
    label = ESTIMATOR_LABELS.get(estimator, estimator)
    for key, name in (
        ("neg_elbo", f"−ELBO (train, {label})"),
        ("recon", "recon −log p(x|z)"),
        ("kl", "KL(q‖p)"),
    ):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": h.get("step", []),
                "y": h.get(key, []),
                "name": name,
                "line": {"color": SERIES_COLORS[key], "width": 2 if key == "neg_elbo" else 1},
            }
        )
    if e.get("step"):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": e["step"],
                "y": [-v for v in e["iwae"]],
                "name": "−IWAE bound (held-out)",
                "marker": {"size": 4},
                "line": {"color": SERIES_COLORS["iwae"], "width": 2},
            }
        )
    values = [v for tr in data for v in tr["y"]]
    for name, run in (stored or {}).items():
        if name == estimator or not run.get("step"):
            continue
        r = thin({"step": run["step"], "neg_elbo": run["neg_elbo"]})
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": r["step"],
                "y": r["neg_elbo"],
                "name": f"−ELBO, stored run: {ESTIMATOR_LABELS.get(name, name)}"
                + (f" ({run['label']})" if run.get("label") else ""),
                "line": {"color": ESTIMATOR_COLORS.get(name), "dash": "dash", "width": 1.5},
            }
        )
        values += r["neg_elbo"]
    shapes, annotations = [], []
    if ceiling is not None and math.isfinite(ceiling):
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": -ceiling,
                "y1": -ceiling,
                "line": {"color": SERIES_COLORS["ceiling"], "dash": "dot", "width": 2},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "y": -ceiling,
                "xanchor": "right",
                "yanchor": "top",
                "showarrow": False,
                "text": f"−E[log p_data] = {-ceiling:.2f}",
                "font": {"size": 11},
            }
        )
        values.append(-ceiling)
    layout = {
        "title": {"text": "Loss (nats per point) — lower is better", "font": {"size": 14}},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": "nats"}},
        "shapes": shapes,
        "annotations": annotations,
    }
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) > 10:
        # the early transient can be huge: cut the top at the 95th percentile, but always keep
        # the floor line and every curve's latest value in view
        latest = [tr["y"][-1] for tr in data if tr["y"] and math.isfinite(tr["y"][-1])]
        lo = min(finite)
        hi = max([float(np.percentile(finite, 95)), *latest] + ([-ceiling] if shapes else []))
        pad = 0.05 * (hi - lo) + 0.1
        layout["yaxis"]["range"] = [lo - pad, hi + pad]
    return _spec(data, layout)


def grad_spec(grad: dict[str, Sequence[float]], first: int = 100, every: int = 2000) -> dict:
    """Encoder-gradient variance (tr Cov) and SNR of each estimator vs step, log scales."""
    data: list[dict] = []
    steps = list(grad.get("step", []))
    for est, label in ESTIMATOR_LABELS.items():
        color = ESTIMATOR_COLORS[est]
        for stat, axis in (("var", "1"), ("snr", "2")):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": steps,
                    "y": list(grad.get(f"{stat}_{est}", [])),
                    "name": label,
                    "legendgroup": est,
                    "showlegend": stat == "var",
                    "marker": {"size": 5},
                    "line": {"color": color},
                    "xaxis": "x" if axis == "1" else "x2",
                    "yaxis": "y" if axis == "1" else "y2",
                }
            )
    layout = {
        "title": {
            "text": "Encoder gradient over 16 ε draws (same minibatch, same weights)",
            "font": {"size": 14},
        },
        "xaxis": {"domain": [0, 0.45], "title": {"text": "step"}},
        "xaxis2": {"domain": [0.55, 1], "title": {"text": "step"}},
        "yaxis": {"type": "log", "title": {"text": "variance tr Cov[ĝ]"}},
        "yaxis2": {"type": "log", "anchor": "x2", "title": {"text": "SNR ‖E ĝ‖/√tr Cov"}},
    }
    if not steps:
        layout["annotations"] = [
            {
                "text": f"measured at step {first}, then every {every:,} steps",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
                "font": {"size": 13},
            }
        ]
    return _spec(data, layout)


def _scatter(
    x: np.ndarray, color, name: str, axis: str, scale: bool = False, size: int = 4
) -> dict:
    marker: dict = {"size": size, "opacity": 0.7}
    if scale:
        # the scale as a list: plotly.js has no "Turbo" (figures here skip the validation that
        # would expand the name), and an unknown name silently becomes its default scale
        marker.update(
            color=np.asarray(color).tolist(),
            colorscale=pc.get_colorscale(POSITION_SCALE),
            cmin=-180,
            cmax=180,
        )
    else:
        marker["color"] = color
    return {
        "type": "scatter",
        "mode": "markers",
        "x": x[:, 0].tolist(),
        "y": x[:, 1].tolist(),
        "name": name,
        "marker": marker,
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        "showlegend": False,
    }


def latent_points(mu: np.ndarray, seed: int = 0) -> np.ndarray:
    """Encoded means as 2D points: a 1D latent gets a uniform(−1, 1) jitter as its second axis."""
    if mu.shape[1] == 1:
        jitter = np.random.default_rng(seed).uniform(-1, 1, mu.shape[0])
        return np.stack([mu[:, 0], jitter], 1)
    return mu


def latent_limit(mu: np.ndarray) -> float:
    """Axis half-range of the latent panel: at least 3 (the prior's ±3σ), else 1.1 × max |μ|."""
    finite = np.abs(mu[np.isfinite(mu)])
    return max(3.0, float(finite.max()) * 1.1) if finite.size else 3.0


PANELS = (  # (title, space): short titles, the panels are ~1/5 of the page wide
    ("data x", "x"),
    ("reconstructions m(z)", "x"),
    ("prior samples x ~ p(x|z)", "x"),
    ("latent means μ(x)", "z"),
    ("model density exp L_K(x)", "x"),
)


def panel_titles(one_d: bool) -> list[tuple[str, str]]:
    """PANELS, with the latent panel's title for a 1D latent (its vertical axis is jitter)."""
    return [
        ("latent μ(x), 1D (+ jitter)" if space == "z" and one_d else title, space)
        for title, space in PANELS
    ]


def model_arrays(trainer, grid: int, k: int, density: tuple | None = None) -> tuple:
    """What the model view shows, from a `reparam_core.vae_train.Trainer`: N_SHOWN held-out
    points, their reconstructions, prior samples, latent means, the density exp L_K on a
    grid × grid lattice over [−4, 4]² (or `density`, computed before), and K — the arguments of
    `model_spec`/`model_canvas`."""
    x = trainer.x_test.numpy()[:N_SHOWN]
    return (
        x,
        trainer.reconstruct(x),
        trainer.sample(N_SHOWN),
        trainer.encode_means(x),
        trainer.density_grid(-4.0, 4.0, grid, k) if density is None else density,
        k,
    )


def live_density(trainer, previous: dict | None, run: int, every: int = DENSITY_EVERY) -> dict:
    """The live view's density grid (GRID_LIVE, GRID_K_LIVE) for this tick: computed on the first
    tick of a run and on every `every`-th tick after, else `previous` (this function's last
    return value) again. Returns {"run", "age" (ticks since computed), "grid"}."""
    if previous is None or previous["run"] != run or previous["age"] + 1 >= every:
        grid = trainer.density_grid(-4.0, 4.0, GRID_LIVE, GRID_K_LIVE)
        return {"run": run, "age": 0, "grid": grid}
    return {**previous, "age": previous["age"] + 1}


def model_spec(
    data: np.ndarray,
    recon: np.ndarray,
    samples: np.ndarray,
    mu: np.ndarray,
    density: tuple[np.ndarray, np.ndarray, np.ndarray],
    k: int,
    lim: float = 4.0,
    seed: int = 0,
) -> dict:
    """What the model has learned, in one row of five square panels (one figure, so the browser
    lays out and redraws one chart, not five): the data (coloured by position), their
    reconstructions (same colours), samples from the prior, the encoded means μ(x) (same colours;
    for a 1D latent the vertical axis is jitter), and the density exp L_K(x) on a grid.

    `density` is (xs, ys, p) from `Trainer.density_grid`.
    """
    color = position_color(data)
    one_d = mu.shape[1] == 1
    mu = latent_points(mu, seed)
    xs, ys, p = density
    t = np.linspace(0, 2 * np.pi, 49)
    traces = [
        _scatter(data, color, "data", "", scale=True),
        _scatter(recon, color, "reconstructions", "2", scale=True),
        _scatter(samples, "#6236ff", "samples from the prior", "3"),
        _scatter(mu, color, "μ(x)", "4", scale=True),
        {
            "type": "heatmap",
            "x": xs.tolist(),
            "y": ys.tolist(),
            "z": np.round(p, 4).tolist(),
            "colorscale": "Viridis",
            "showscale": False,
            "name": "density",
            "hovertemplate": "x=%{x:.2f}, y=%{y:.2f}<br>p≈%{z:.3f}<extra></extra>",
            "xaxis": "x5",
            "yaxis": "y5",
        },
    ]
    if not one_d:  # the prior's 2σ circle behind the encoded means
        traces.insert(
            3,
            {
                "type": "scatter",
                "mode": "lines",
                "x": (2 * np.cos(t)).round(3).tolist(),
                "y": (2 * np.sin(t)).round(3).tolist(),
                "name": "prior 2σ",
                "hoverinfo": "skip",
                "line": {"color": "#7f7f7f", "dash": "dot", "width": 1},
                "showlegend": False,
                "xaxis": "x4",
                "yaxis": "y4",
            },
        )
    latent_lim = latent_limit(mu)
    layout: dict = {
        "title": {
            "text": f"What the model has learned (density: K = {k} importance samples)",
            "font": {"size": 14},
        },
        "height": 300,
        "margin": {"l": 30, "r": 10, "t": 60, "b": 30},
        "annotations": [],
    }
    width, gap = 0.184, 0.02
    for i, (title, space) in enumerate(panel_titles(one_d)):
        sfx = "" if i == 0 else str(i + 1)
        lo = i * (width + gap)
        rng = latent_lim if space == "z" else lim
        axis = {"range": [-rng, rng], "showgrid": False, "zeroline": False}
        layout[f"xaxis{sfx}"] = {**axis, "domain": [lo, lo + width]}
        layout[f"yaxis{sfx}"] = {**axis, "anchor": f"x{sfx}", "scaleanchor": f"x{sfx}"}
        layout["annotations"].append(
            {
                "text": title,
                "xref": "paper",
                "yref": "paper",
                "x": lo + width / 2,
                "y": 1.02,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    return _spec(traces, layout)


# ------------------------------------------------------------- the same view for a live canvas


@functools.cache  # a constant: 256 colours of a plotly colour scale as uint8 RGB rows
def color_lut(name: str) -> np.ndarray:
    scale = pc.get_colorscale(name)
    rgb = pc.sample_colorscale(scale, np.linspace(0.0, 1.0, 256).tolist(), colortype="tuple")
    return np.rint(np.asarray(rgb, dtype=float) * 255).astype(np.uint8)


def _lut_index(t: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(np.nan_to_num(t), 0.0, 1.0) * 255).astype(np.intp)


def _hex(rows: np.ndarray) -> list[str]:
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rows.tolist()]


def _points(x: np.ndarray, colors: list[str] | str) -> dict:
    """x, y (rounded to 3 decimals) of the finite rows, with their colours."""
    x = np.asarray(x, dtype=float)  # float64: float32 values would print as 0.8019999861717224
    keep = np.isfinite(x).all(1)
    out: dict = {"x": np.round(x[keep, 0], 3).tolist(), "y": np.round(x[keep, 1], 3).tolist()}
    out["colors" if isinstance(colors, list) else "color"] = (
        [c for c, k in zip(colors, keep, strict=True) if k] if isinstance(colors, list) else colors
    )
    return out


def heat_image(xs: np.ndarray, ys: np.ndarray, p: np.ndarray, scale: str = "Viridis") -> dict:
    """A density grid as a small RGB image for a canvas: rows top (largest y) to bottom, each
    cell coloured like plotly's heatmap (the scale spans min..max of p), base64 bytes, and the
    image's extent in data units (cells are centred on xs, ys)."""
    p = np.nan_to_num(np.asarray(p, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(p.min()), float(p.max())
    t = (p - lo) / (hi - lo) if hi > lo else np.zeros_like(p)
    rgb = color_lut(scale)[_lut_index(t[::-1])]  # canvas row 0 is the top: largest y
    hx = (xs[-1] - xs[0]) / (len(xs) - 1) / 2 if len(xs) > 1 else 0.5
    hy = (ys[-1] - ys[0]) / (len(ys) - 1) / 2 if len(ys) > 1 else 0.5
    return {
        "nx": int(p.shape[1]),
        "ny": int(p.shape[0]),
        "rgb": base64.b64encode(rgb.tobytes()).decode("ascii"),
        "extent": [float(xs[0] - hx), float(xs[-1] + hx), float(ys[0] - hy), float(ys[-1] + hy)],
    }


def model_canvas(data, recon, samples, mu, density, k: int, step: int, lim=4.0, seed=0) -> dict:
    """`model_spec`'s five panels, from its arguments and the training `step`, as plain data for
    `components.live_canvas` (drawn on a canvas, so the page can redraw it on every training
    tick): same panels, titles, colours (Turbo by position, Viridis density), ranges and 1D-latent
    jitter. Non-finite points are left out, a non-finite density cell is drawn as 0."""
    turbo = color_lut(POSITION_SCALE)
    color = _hex(turbo[_lut_index((position_color(data) + 180.0) / 360.0)])
    one_d = mu.shape[1] == 1
    mu = latent_points(mu, seed)
    xs, ys, p = density
    panels = [
        _points(data, color),
        _points(recon, color),
        _points(samples, "#6236ff"),
        {**_points(mu, color), "circle": None if one_d else 2.0},
        {"heat": heat_image(xs, ys, p)},
    ]
    for panel, (title, space) in zip(panels, panel_titles(one_d), strict=True):
        panel.update(title=title, range=latent_limit(mu) if space == "z" else lim)
    return {
        "title": f"What the model has learned at step {step:,} (density: K = {k} importance samples)",
        "step": int(step),
        "panels": panels,
    }


# the same builders returning a plotly Figure, for notebooks and tests
loss_figure = figure(loss_spec)
grad_figure = figure(grad_spec)
model_figure = figure(model_spec)
