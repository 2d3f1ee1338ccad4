"""Figures and the summary table of the Gradient estimators view (plotly; no Streamlit here).

Every builder is a plain function of numpy arrays returning a spec (`figures.spec`), so it can be
tested without Streamlit. Labels, colours and costs come from `registry.GAUSSIAN`, so every figure and
page shows an estimator the same way.

Speed: the builders run on every change of the page's controls, so they assemble plain dicts
(traces, and a subplot layout computed once per grid shape by `make_subplots`). `*_spec` returns
that dict, which the page sends as it is; `*_figure` wraps it in a Figure without plotly's
per-property validation (bench/run.py: rerun_latency_ratio; docs/performance.md).
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reparam_core.estimators import METHODS, batch_mean_variance, running_mean
from reparam_core.registry import GAUSSIAN
from reparam_core.stats import ExactStats
from reparam_ui.figures.spec import figure, spec_of

THETA = {"mu": "μ", "sigma": "σ"}
TRUTH = "#7f7f7f"
COSTS = {  # the Fig. 2 costs: label, x-axis type
    "square": ("(x − k)²", "linear"),
    "exp": ("exp(−k x²)", "log"),
    "cos": ("cos(k x)", "log"),
}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _axis(i: int) -> str:
    return "" if i == 1 else str(i)


@functools.lru_cache(maxsize=16)
def _grid_layout(rows: int, cols: int, titled: bool, vertical_spacing: float | None) -> dict:
    """The layout `make_subplots` builds for this grid (axes, domains, title annotations)."""
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[" "] * (rows * cols) if titled else None,
        vertical_spacing=vertical_spacing,
    )
    return fig.layout.to_plotly_json()


def _grid(rows: int, cols: int, titles: Sequence[str] = (), vertical_spacing=None) -> dict:
    """A fresh copy of the grid layout with `titles` (row-major) on the subplots."""
    layout = copy.deepcopy(_grid_layout(rows, cols, bool(titles), vertical_spacing))
    for note, text in zip(layout.get("annotations", []), titles, strict=False):
        note["text"] = text
    return layout


def _axes(layout: dict, prefix: str) -> list[dict]:
    """The layout's axis dicts named `prefix`, `prefix`2, … (e.g. "xaxis"), in subplot order."""
    names = sorted((k for k in layout if k.startswith(prefix)), key=lambda k: int(k[5:] or 1))
    return [layout[k] for k in names]


def _truth_lines(count: int, value: float, vertical: bool) -> list[dict]:
    """Dashed lines at the true gradient in subplots 1..count (one layout update, not add_vline)."""
    line = {"color": TRUTH, "dash": "dash", "width": 1.5}
    shapes = []
    for i in range(1, count + 1):
        a = _axis(i)
        if vertical:
            shapes.append(dict(type="line", x0=value, x1=value, y0=0, y1=1, xref=f"x{a}",
                               yref=f"y{a} domain", line=line))  # fmt: skip
        else:
            shapes.append(dict(type="line", y0=value, y1=value, x0=0, x1=1, yref=f"y{a}",
                               xref=f"x{a} domain", line=line))  # fmt: skip
    return shapes


def _mark_truth(layout: dict, count: int, truth: float, title: str, vertical: bool) -> None:
    """Dashed true-gradient lines in the layout's first `count` panels, and a title saying so."""
    layout["shapes"] = _truth_lines(count, truth, vertical=vertical)
    layout["title"] = {"text": f"{title} (dashed: true gradient {truth:.4g})"}


def _finite_or_nan(y) -> np.ndarray:
    y = np.array(y, dtype=float)
    y[~np.isfinite(y)] = np.nan
    return y


def function_spec(x, fx, dfx, density, mu: float, sigma: float, title: str = "") -> dict:
    """f and f' (left axis) with the sampling density N(x | μ, σ²) (right axis) on a grid x.

    Non-finite values of f or f' are left out (gaps), never plotted.
    """
    x = np.asarray(x, dtype=float)
    data = [
        dict(type="scatter", x=x, y=np.asarray(density, dtype=float), name="density N(x | μ, σ²)",
             fill="tozeroy", line={"color": _rgba("#9467bd", 0.9), "width": 1},
             fillcolor=_rgba("#9467bd", 0.18), xaxis="x", yaxis="y2"),
        dict(type="scatter", x=x, y=_finite_or_nan(fx), name="f(x)",
             line={"color": "#17becf", "width": 3}, xaxis="x", yaxis="y"),
        dict(type="scatter", x=x, y=_finite_or_nan(dfx), name="f′(x)",
             line={"color": "#e377c2", "dash": "dash"}, xaxis="x", yaxis="y"),
    ]  # fmt: skip
    layout = {
        "xaxis": {"anchor": "y", "domain": [0.0, 0.94], "title": {"text": "x"}},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0], "title": {"text": "f(x), f′(x)"}},
        "yaxis2": {"anchor": "x", "overlaying": "y", "side": "right", "title": {"text": "density"},
                   "rangemode": "tozero", "showgrid": False},
        "shapes": [{"type": "line", "x0": mu, "x1": mu, "xref": "x", "y0": 0, "y1": 1,
                    "yref": "y domain", "line": {"color": TRUTH, "dash": "dot"}}],
        "annotations": [{"text": "μ", "x": mu, "xref": "x", "y": 1, "yref": "y domain",
                         "showarrow": False, "xanchor": "left", "yanchor": "top"}],
        "title": {"text": title or f"f, f′ and the sampling density N({mu:g}, {sigma:g}²)"},
        "height": 360,
        "margin": {"t": 50, "b": 40},
        "legend": {"orientation": "h", "y": -0.2},
    }  # fmt: skip
    return {"data": data, "layout": layout}


def histogram_spec(
    samples: Mapping[str, np.ndarray], truth: float, bins: int = 50, quantile: float = 0.005
) -> dict:
    """One histogram of per-sample estimates per estimator, the true gradient as a vertical line.

    The x-range of each panel is the central 1 − 2·`quantile` of its samples (heavy tails clipped,
    counted in the panel title), widened to include the true gradient.
    """
    methods = [m for m in METHODS if m in samples]
    titles = []
    data = []
    for col, m in enumerate(methods, start=1):
        g = np.asarray(samples[m], dtype=float)
        lo, hi = np.quantile(g, [quantile, 1 - quantile]) if g.size > 1 else (g[0], g[0])
        lo, hi = min(lo, truth), max(hi, truth)
        if hi - lo < 1e-12 * max(1.0, abs(hi)):
            lo, hi = lo - 0.5, hi + 0.5
        counts, edges = np.histogram(g, bins=bins, range=(lo, hi))
        outside = int(g.size - counts.sum())
        titles.append(
            f"{GAUSSIAN[m].short} ĝ"
            + (f"<br><sup>{outside} outside the range</sup>" if outside else "")
        )
        a = _axis(col)
        # one filled step line per panel (y[i] on [edges[i], edges[i+1]), the last count repeated
        # at the right edge) instead of 50 bars: plotly draws one path, not 50 (bench/run.py:
        # rerun_latency_ratio; docs/performance.md)
        data.append(
            dict(type="scatter", mode="lines", x=edges, y=np.append(counts, counts[-1]),
                 line={"shape": "hv", "width": 1, "color": GAUSSIAN[m].colour}, fill="tozeroy",
                 fillcolor=_rgba(GAUSSIAN[m].colour, 0.6), customdata=np.append(edges[1:], edges[-1]),
                 hovertemplate="ĝ in [%{x:.4g}, %{customdata:.4g}): %{y} samples",
                 name=GAUSSIAN[m].label, showlegend=False, xaxis=f"x{a}", yaxis=f"y{a}")
        )  # fmt: skip
    # Each panel is named by its x-axis title, not by a subplot-title annotation: plotly measures
    # each annotation's text on every redraw (docs/performance.md). The count axes
    # stay separate: a degenerate estimator (the step's pathwise ĝ ≡ 0) puts all N in one bin.
    layout = _grid(1, max(len(methods), 1))
    for ax, text in zip(_axes(layout, "xaxis"), titles, strict=False):
        ax["title"] = {"text": text}
    layout["yaxis"]["title"] = {"text": "count"}
    _mark_truth(layout, len(data), truth, "Per-sample estimates ĝ", vertical=True)
    layout.update(height=350, margin={"t": 50, "b": 64})
    return {"data": data, "layout": layout}


def running_mean_spec(
    samples: Mapping[str, np.ndarray], truth: float, points: int = 300, start: int = 10
) -> dict:
    """Running mean of each estimator with a ±2 SE band, closing in on the true gradient.

    One panel per estimator (their scales differ by orders of magnitude); x is the sample count on
    a log axis, from `start` (the SE of a handful of samples is itself too noisy to draw).
    """
    methods = [m for m in METHODS if m in samples]
    data = []
    for idx, m in enumerate(methods):
        a = _axis(idx + 1)
        i, mean, se = running_mean(samples[m], points)
        keep = i >= min(start, i[-1])
        i, mean, se = i[keep], mean[keep], se[keep]
        upper, lower = mean + 2 * se, mean - 2 * se
        data.append(
            dict(type="scatter", x=np.concatenate([i, i[::-1]]),
                 y=np.concatenate([upper, lower[::-1]]), fill="toself",
                 fillcolor=_rgba(GAUSSIAN[m].colour, 0.2), line={"width": 0}, hoverinfo="skip",
                 name=f"{GAUSSIAN[m].label} ±2 SE", showlegend=False, xaxis=f"x{a}", yaxis=f"y{a}")
        )  # fmt: skip
        data.append(
            dict(type="scatter", x=i, y=mean, line={"color": GAUSSIAN[m].colour}, name=GAUSSIAN[m].label,
                 showlegend=False, xaxis=f"x{a}", yaxis=f"y{a}")
        )  # fmt: skip
    layout = _grid(2, 2, [GAUSSIAN[m].label for m in methods], vertical_spacing=0.2)
    layout["annotations"] = layout["annotations"][: len(methods)]
    for j, ax in enumerate(_axes(layout, "xaxis")):
        ax["type"] = "log"
        if j >= 2:  # bottom row
            ax["title"] = {"text": "samples N"}
    for ax in _axes(layout, "yaxis"):
        ax["title"] = {"text": "running mean"}
    _mark_truth(layout, len(methods), truth, "Running mean ± 2 standard errors", vertical=False)
    layout.update(height=520, margin={"t": 70, "b": 40})
    return {"data": data, "layout": layout}


def _positive(v, floor_rel: float = 1e-12) -> np.ndarray:
    """Values ≤ floor_rel·max (zeros from exact cancellation) become gaps on a log axis."""
    v = np.array(v, dtype=float)
    top = np.nanmax(v) if np.any(np.isfinite(v)) else 0.0
    v[~(v > floor_rel * top)] = np.nan
    return v


def variance_curves_spec(
    sweeps: Mapping[str, tuple[np.ndarray, Mapping[str, Mapping[str, np.ndarray]]]],
    mc: Mapping[str, tuple[np.ndarray, Mapping[str, Mapping[str, np.ndarray]]]] | None = None,
    wrts: Sequence[str] = ("mu", "sigma"),
) -> dict:
    """Mohamed et al. 2020 Fig. 2: single-sample variance against k, log y, θ by row, cost by column.

    `sweeps[name] = (ks, {wrt: {method: variances}})` for the exact curves;
    `mc[name] = (ks, {wrt: {method: sample variances}})` for Monte Carlo points (optional).
    """
    names = [n for n in COSTS if n in sweeps]
    titles = [f"{COSTS[n][0]}, θ = {THETA[w]}" for w in wrts for n in names]
    fig = make_subplots(
        rows=len(wrts), cols=len(names), subplot_titles=titles, vertical_spacing=0.2
    )
    for r, wrt in enumerate(wrts, start=1):
        for c, name in enumerate(names, start=1):
            ks, var = sweeps[name]
            for m in METHODS:
                first = r == 1 and c == 1
                fig.add_trace(
                    go.Scatter(
                        x=ks,
                        y=_positive(var[wrt][m]),
                        mode="lines",
                        line={"color": GAUSSIAN[m].colour},
                        name=GAUSSIAN[m].label,
                        legendgroup=m,
                        showlegend=first,
                    ),
                    row=r,
                    col=c,
                )
                if mc and name in mc:
                    mks, mvar = mc[name]
                    fig.add_trace(
                        go.Scatter(
                            x=mks,
                            y=_positive(mvar[wrt][m]),
                            mode="markers",
                            marker={
                                "color": GAUSSIAN[m].colour,
                                "symbol": "circle-open",
                                "size": 8,
                            },
                            name="Monte Carlo",
                            legendgroup=m,
                            showlegend=False,
                        ),
                        row=r,
                        col=c,
                    )
            fig.update_xaxes(type=COSTS[name][1], row=r, col=c)
            if r == len(wrts):
                fig.update_xaxes(title_text="k", row=r, col=c)
            fig.update_yaxes(type="log", row=r, col=c)
    fig.update_yaxes(title_text="Var[ĝ] (one sample)", col=1)
    fig.update_layout(
        title="Single-sample variance vs k at μ = σ = 1 (lines: exact; circles: Monte Carlo)",
        height=620,
        margin={"t": 80, "b": 40},
        legend={"orientation": "h", "y": -0.12},
    )
    return spec_of(fig)


def variance_of_mean_spec(
    exact_var: Mapping[str, float], samples: Mapping[str, np.ndarray], n: int
) -> dict:
    """Var[mean of N estimates] against N, log–log: exact Var[ĝ]/N lines (slope −1) and points
    from disjoint batches of the Monte Carlo run. Zero-variance estimators are left out."""
    data = []
    grid = np.geomspace(1, max(n, 2), 50)
    for m in METHODS:
        if m not in exact_var:
            continue
        v = exact_var[m]
        if v > 0 and math.isfinite(v):
            data.append(
                dict(type="scatter", x=grid, y=v / grid, mode="lines", line={"color": GAUSSIAN[m].colour},
                     name=GAUSSIAN[m].label, legendgroup=m)
            )  # fmt: skip
        if m in samples:
            sizes, bvar = batch_mean_variance(samples[m])
            if sizes.size:
                data.append(
                    dict(type="scatter", x=np.asarray(sizes, dtype=float), y=_positive(bvar, 0.0),
                         mode="markers",
                         marker={"color": GAUSSIAN[m].colour, "symbol": "circle-open", "size": 8},
                         name=f"{GAUSSIAN[m].label} (batches)", legendgroup=m, showlegend=False)
                )  # fmt: skip
    layout = {
        "xaxis": {"type": "log", "title": {"text": "samples N"}},
        "yaxis": {"type": "log", "title": {"text": "Var[mean of N]"}},
        "title": {"text": "Variance of the mean falls as 1/N (slope −1); the level is Var[ĝ]"},
        "height": 380,
        "margin": {"t": 50, "b": 40},
    }
    return {"data": data, "layout": layout}


def dimension_spec(
    dims: np.ndarray,
    variance: Mapping[str, np.ndarray],
    rel_error: Mapping[str, np.ndarray],
    bound: np.ndarray | None,
    mc: Mapping[str, tuple[np.ndarray, np.ndarray]],
    budget: int,
    tol: float,
    wrt: str,
) -> dict:
    """Two log–log panels against the dimension D: the total single-sample variance Σ_d Var ĝ_d
    (exact lines, Monte Carlo circles, the pathwise Lipschitz bound dashed), and the relative
    error of the gradient when `budget` evaluations of F are spent on each estimator (the line
    `tol` marks "usable")."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"Total variance of one sample of ∇_{THETA[wrt]}",
            f"Relative error with {budget:,} evaluations of F",
        ),
        horizontal_spacing=0.12,
    )
    for m in METHODS:
        e = GAUSSIAN[m]
        line = {"color": e.colour}
        fig.add_trace(
            go.Scatter(x=dims, y=_positive(variance[m]), mode="lines", line=line, name=e.label,
                       legendgroup=m), row=1, col=1,
        )  # fmt: skip
        if m in mc:
            md, mv = mc[m]
            fig.add_trace(
                go.Scatter(x=md, y=_positive(mv, 0.0), mode="markers",
                           marker={"color": e.colour, "symbol": "circle-open", "size": 9},
                           name=f"{e.label} (Monte Carlo)", legendgroup=m, showlegend=False),
                row=1, col=1,
            )  # fmt: skip
        y = np.where(np.isfinite(rel_error[m]), rel_error[m], np.nan)
        fig.add_trace(
            go.Scatter(x=dims, y=_positive(y), mode="lines", line=line, name=e.label,
                       legendgroup=m, showlegend=False), row=1, col=2,
        )  # fmt: skip
    if bound is not None:
        fig.add_trace(
            go.Scatter(x=dims, y=bound, mode="lines", line={"color": TRUTH, "dash": "dot"},
                       name="pathwise bound D·L²"), row=1, col=1,
        )  # fmt: skip
    fig.add_hline(y=tol, line={"color": TRUTH, "dash": "dash"}, row=1, col=2)
    fig.update_xaxes(type="log", title_text="dimension D")
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text="Σ_d Var[ĝ_d]", row=1, col=1)
    fig.update_yaxes(title_text="‖sd of the mean‖ / ‖∇‖", row=1, col=2)
    fig.update_layout(height=420, margin={"t": 60, "b": 40}, legend={"orientation": "h", "y": -0.2})
    return spec_of(fig)


#: Relative tolerance below which an exact or Monte Carlo value is shown as 0. The quadrature of
#: estimators.exact_stats is accurate to ≈ 1e−9 relative (two resolutions agree to 1e−10 of each
#: estimator's second moment, floored at 1e−6 of the largest), and a variance E[(ĝ − E ĝ)²] of an
#: estimator that is constant cancels to round-off of that order: 1e−9 is above both and far below
#: any value the sliders make. Means are compared with ZERO_RTOL × the scale of the problem (the
#: largest of |∇| and the estimators' standard deviations), variances with ZERO_RTOL × its square.
ZERO_RTOL = 1e-9
#: The cost column: evaluations of f or f′ per sample, for one scalar θ (see `summary_caption`).
COST_COLUMN = "f or f′ evals / sample"


def summary_table(exact: ExactStats, samples: Mapping[str, np.ndarray], n: int) -> dict[str, list]:
    """Columns of the per-estimator table for one θ.

    `exact` is estimators.exact_stats(...)[θ]. Bias = E[ĝ] − true gradient. "Var ÷ best" is the
    variance ratio to the smallest variance among the unbiased estimators; "work ÷ best" the same
    for Var·cost (variance per evaluation of f or f′, counting one f′ as one f). When the smallest
    variance is 0 no ratio is shown (NaN). The z column is (MC mean − true)/SE with the exact SE
    floored at ZERO_RTOL × scale, the accuracy of the exact mean: an estimator with zero variance
    and a bias (pathwise on a step) then shows a huge |z|, not NaN. Values within ZERO_RTOL of the
    scale of the problem (its square for variances) are exact zeros and shown as 0.
    """
    truth = exact.true
    scale = max([abs(truth)] + [math.sqrt(exact.variance[m]) for m in METHODS])
    tol = ZERO_RTOL * scale

    def zero_mean(v: float) -> float:
        return 0.0 if abs(v) <= tol else v

    def zero_var(v: float) -> float:
        return 0.0 if v <= ZERO_RTOL * scale**2 else v

    rows = []
    for m in METHODS:
        mean, var = exact.mean[m], exact.variance[m]
        rows.append((m, zero_mean(mean), zero_var(var), zero_mean(mean - truth)))
    unbiased = {m for m, _, _, bias in rows if bias == 0.0}
    best = min((var for m, _, var, _ in rows if m in unbiased), default=math.nan)
    best_work = min(
        (var * GAUSSIAN[m].cost for m, _, var, _ in rows if m in unbiased), default=math.nan
    )
    cols: dict[str, list] = {
        "estimator": [],
        COST_COLUMN: [],
        "true ∇": [],
        "E[ĝ]": [],
        "bias": [],
        "Var[ĝ]": [],
        f"SE at N={n}": [],
        "Var ÷ best": [],
        "work ÷ best": [],
        "MC mean": [],
        "MC variance": [],
        "z (MC vs true)": [],
    }
    for m, mean, var, bias in rows:
        ratios = m in unbiased and best > 0  # no ratio to a zero variance (nor to NaN)
        se = math.sqrt(var / n)
        g = samples.get(m)
        mc_mean = float(np.mean(g)) if g is not None else math.nan
        mc_var = float(np.var(g, ddof=1)) if g is not None and len(g) > 1 else math.nan
        diff = zero_mean(mc_mean - truth)
        floor = max(se, tol)
        cols["estimator"].append(GAUSSIAN[m].label)
        cols[COST_COLUMN].append(GAUSSIAN[m].cost)
        cols["true ∇"].append(zero_mean(truth))
        cols["E[ĝ]"].append(mean)
        cols["bias"].append(bias)
        cols["Var[ĝ]"].append(var)
        cols[f"SE at N={n}"].append(se)
        cols["Var ÷ best"].append(var / best if ratios else math.nan)
        cols["work ÷ best"].append(var * GAUSSIAN[m].cost / best_work if ratios else math.nan)
        cols["MC mean"].append(zero_mean(mc_mean))
        cols["MC variance"].append(zero_var(mc_var))
        cols["z (MC vs true)"].append(
            diff / floor if floor > 0 else (0.0 if diff == 0 else math.nan)
        )
    return cols


def summary_caption(table: Mapping[str, Sequence]) -> str:
    """The caption under `summary_table`: what each column means, and which estimator is best,
    has zero variance or is biased in this table."""
    names = list(table["estimator"])
    truth = table["true ∇"][0]
    unbiased = [i for i, b in enumerate(table["bias"]) if b == 0.0]
    zero = [names[i] for i in unbiased if table["Var[ĝ]"][i] == 0.0]
    best = [names[i] for i, r in enumerate(table["Var ÷ best"]) if r == 1.0]
    text = (
        f"True gradient {truth:.6g}. Var[ĝ]: exact single-sample variance (score + baseline with "
        "the exact b*). SE at N = √(Var/N). "
    )
    if zero:
        best_here = f" (best here: {' and '.join(zero)}, with zero variance: no ratio is shown)"
    else:
        best_here = f" (best here: {best[0]})" if best else ""
    text += (
        f"Var ÷ best compares unbiased estimators{best_here}. The column “{COST_COLUMN}” is for "
        "one scalar θ and counts one f′ (a backward pass, in practice a small multiple of one f) "
        "as one f; work ÷ best multiplies Var by it. The measure-valued estimator needs 2 "
        "evaluations of f per parameter (2D for D parameters), pathwise one backward pass and the "
        "score function one f for all of them. z = (MC mean − true)/SE, the SE floored at "
        "10⁻⁹ × the scale of the problem (the accuracy of the exact values): |z| ≲ 2 "
        "is Monte Carlo noise, a large |z| is bias."
    )
    for i, name in enumerate(names):
        if i in unbiased:
            continue
        text += (
            f" Biased here: {name}, E[ĝ] = {table['E[ĝ]'][i]:.4g} against the true {truth:.4g}"
            + (
                " with zero variance: every sample is the same wrong value, so only the bias "
                "column and z show it."
                if table["Var[ĝ]"][i] == 0.0
                else "."
            )
        )
    return text


# the same builders returning a plotly Figure, for notebooks and tests
function_figure = figure(function_spec)
histogram_figure = figure(histogram_spec)
running_mean_figure = figure(running_mean_spec)
variance_curves_figure = figure(variance_curves_spec)
variance_of_mean_figure = figure(variance_of_mean_spec)
dimension_figure = figure(dimension_spec)
