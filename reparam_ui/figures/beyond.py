"""Figures of the "Beyond the Gaussian" view (plotly; no Streamlit here).

Plain functions of numpy arrays and core results returning a spec (`figures.spec`), testable
without Streamlit; `*_figure` wraps one in a Figure for notebooks and tests. Labels and colours
come from `registry.DISCRETE` and `registry.GAMMA`, so every figure and page shows an estimator
the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reparam_core.discrete import TauCurves
from reparam_core.registry import DISCRETE, GAMMA, GREEN, RED
from reparam_ui.figures.spec import figure, spec_of

TRUTH = "#7f7f7f"
TORCH = GREEN  # torch's autograd through Gamma.rsample: a reference, not an estimator here
REJECTION = RED  # the re-seeded rejection sampler and its finite differences


def _positive_or_nan(y) -> np.ndarray:
    y = np.array(y, dtype=float)
    y[~(np.isfinite(y) & (y > 0))] = np.nan
    return y


def tau_curves_spec(c: TauCurves, tau_mark: float | None = None) -> dict:
    """Three panels against τ (log x): the estimator's mean with the exact gradient line;
    |bias| (log y); variance of the n-sample estimate (log y). Unbiased estimators have no
    |bias| curve (it is 0); Monte Carlo means carry ±2 s.e. error bars."""
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=(
            "mean of the estimate vs exact gradient",
            "|bias| (log scale)",
            f"variance of the {c.n}-sample estimate (log scale)",
        ),
        horizontal_spacing=0.08,
    )
    for method, mean in c.mean.items():
        est = DISCRETE[method]
        color = est.colour
        se = c.mc_se[method]
        err = {"type": "data", "array": 2 * se, "visible": True} if np.any(se > 0) else None
        common = {"legendgroup": method, "line": {"color": color}, "x": c.taus}
        hover = "τ=%{x:.3g}<br>%{y:.5g}<extra>" + est.short + "</extra>"
        fig.add_trace(
            go.Scatter(y=mean, name=est.label, error_y=err, hovertemplate=hover, **common),
            row=1,
            col=1,
        )
        bias = np.abs(c.bias[method])
        if method in ("gumbel_softmax", "straight_through"):
            fig.add_trace(
                go.Scatter(
                    y=_positive_or_nan(bias),
                    name=est.label,
                    showlegend=False,
                    customdata=c.bias[method],
                    hovertemplate="τ=%{x:.3g}<br>bias=%{customdata:.4g}<extra>"
                    + est.short
                    + "</extra>",
                    **common,
                ),
                row=1,
                col=2,
            )
        fig.add_trace(
            go.Scatter(
                y=_positive_or_nan(c.variance[method]),
                name=est.label,
                showlegend=False,
                hovertemplate=hover,
                **common,
            ),
            row=1,
            col=3,
        )
    fig.add_hline(
        y=c.exact,
        line={"color": TRUTH, "dash": "dash"},
        annotation_text=f"exact {c.exact:.4g}",
        row=1,
        col=1,
    )
    if tau_mark is not None:
        for col in (1, 2, 3):
            fig.add_vline(
                x=tau_mark, line={"color": TRUTH, "dash": "dot", "width": 1}, row=1, col=col
            )
    ticks = [0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    fig.update_xaxes(
        type="log", title_text="temperature τ", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks]
    )
    fig.update_yaxes(title_text="∂E[f]/∂θ", row=1, col=1)
    fig.update_yaxes(type="log", title_text="|E[ĝ] − ∇|", row=1, col=2)
    fig.update_yaxes(type="log", title_text="Var[ĝ]", row=1, col=3)
    fig.update_layout(
        height=420, margin={"t": 60, "b": 40}, legend={"orientation": "h", "y": -0.25}
    )
    return spec_of(fig)


def _barycentric(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points on the 2-simplex (…, 3) → x, y in the equilateral triangle with corners
    e₀ = (0, 0), e₁ = (1, 0), e₂ = (½, √3/2)."""
    return z[..., 1] + 0.5 * z[..., 2], (np.sqrt(3) / 2) * z[..., 2]


def simplex_spec(z: np.ndarray, taus: Sequence[float], probs: Sequence[float]) -> dict:
    """Relaxed samples z = softmax((l + G)/τ) on the 3-class simplex, one frame per τ.

    `z` has shape (T, n, 3): the same Gumbel draws at every τ, so each point moves. A slider
    and Play button (plotly frames, no reruns) step τ; the category probabilities p are
    marked, and the corners are the one-hot samples the points approach as τ → 0.
    """
    z = np.asarray(z, dtype=float)
    taus = list(taus)
    x, y = _barycentric(z)
    px, py = _barycentric(np.asarray(probs, dtype=float))
    corners = np.array([[0, 0], [1, 0], [0.5, np.sqrt(3) / 2], [0, 0]])
    colour = np.argmax(z[-1], axis=-1)  # the hard sample each point belongs to

    def pts(i: int) -> go.Scatter:
        return go.Scatter(
            x=x[i],
            y=y[i],
            mode="markers",
            name="relaxed samples z",
            marker={"size": 6, "color": colour, "colorscale": "Viridis", "opacity": 0.7},
            hovertemplate="z=(%{customdata[0]:.3f}, %{customdata[1]:.3f}, %{customdata[2]:.3f})<extra></extra>",
            customdata=z[i],
        )

    fig = go.Figure(
        data=[
            go.Scatter(
                x=corners[:, 0],
                y=corners[:, 1],
                mode="lines+text",
                line={"color": TRUTH},
                text=["one-hot e₀", "one-hot e₁", "one-hot e₂", ""],
                textposition=["bottom left", "bottom right", "top center", "top center"],
                name="simplex",
                hoverinfo="skip",
            ),
            go.Scatter(
                x=[px],
                y=[py],
                mode="markers",
                name="probabilities p",
                marker={"symbol": "x", "size": 14, "color": "#d62728"},
            ),
            pts(0),
        ],
        frames=[go.Frame(data=[pts(i)], traces=[2], name=f"{t:.3g}") for i, t in enumerate(taus)],
    )
    steps = [
        {
            "label": f"{t:.3g}",
            "method": "animate",
            "args": [
                [f"{t:.3g}"],
                {"mode": "immediate", "frame": {"duration": 0, "redraw": False}},
            ],
        }
        for t in taus
    ]
    fig.update_layout(
        title="Relaxed samples move to the corners as τ → 0",
        height=520,
        xaxis={"visible": False, "range": [-0.12, 1.12]},
        yaxis={"visible": False, "range": [-0.12, 1.0], "scaleanchor": "x"},
        margin={"t": 50, "b": 10},
        legend={"orientation": "h", "y": 1.02, "x": 0.5, "xanchor": "center"},
        sliders=[
            {"active": 0, "currentvalue": {"prefix": "τ = "}, "steps": steps, "pad": {"t": 30}}
        ],
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0.0,
                "y": 0.0,
                "xanchor": "right",
                "buttons": [
                    {
                        "label": "▶ Play",
                        "method": "animate",
                        "args": [
                            None,
                            {"frame": {"duration": 250, "redraw": False}, "fromcurrent": True},
                        ],
                    },
                    {
                        "label": "Pause",
                        "method": "animate",
                        "args": [[None], {"mode": "immediate", "frame": {"duration": 0}}],
                    },
                ],
            }
        ],
    )
    return spec_of(fig)


def implicit_gradient_spec(
    alpha: float,
    z: np.ndarray,
    dz: np.ndarray,
    torch_z: np.ndarray | None = None,
    torch_dz: np.ndarray | None = None,
) -> dict:
    """∂z/∂α against z for Gamma(α, 1): the quadrature curve, with torch's autograd through
    `Gamma.rsample` as points when given."""
    fig = go.Figure(
        go.Scatter(
            x=z,
            y=dz,
            name="−(∂F/∂α)/q  (quadrature)",
            line={"color": GAMMA["implicit"].colour, "width": 3},
        )
    )
    if torch_z is not None and torch_dz is not None:
        fig.add_trace(
            go.Scatter(
                x=torch_z,
                y=torch_dz,
                mode="markers",
                name="torch Gamma.rsample + autograd",
                marker={"color": TORCH, "size": 6, "symbol": "circle-open"},
            )
        )
    fig.update_layout(
        title=f"Implicit reparameterization gradient ∂z/∂α for Gamma({alpha:g}, 1)",
        xaxis_title="sample z",
        yaxis_title="∂z/∂α",
        height=380,
        margin={"t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return spec_of(fig)


def sample_paths_spec(alphas: np.ndarray, rejection: np.ndarray, implicit: np.ndarray) -> dict:
    """z(α) at a fixed seed: the re-seeded rejection sampler (jumps where the accept/reject
    pattern changes) and the implicit path F⁻¹(u|α) at fixed u (smooth)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "re-seeded Marsaglia–Tsang: z(α) jumps",
            "implicit path F⁻¹(u | α), u fixed: smooth",
        ),
        shared_yaxes=True,
    )
    for p in range(rejection.shape[0]):
        fig.add_trace(
            go.Scatter(
                x=alphas,
                y=rejection[p],
                mode="lines+markers",
                marker={"size": 3},
                line={"color": REJECTION, "width": 1.5},
                name=f"seed +{p}",
                legendgroup=str(p),
                showlegend=False,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=alphas,
                y=implicit[p],
                mode="lines",
                line={"color": GAMMA["implicit"].colour, "width": 1.5},
                name=f"seed +{p}",
                legendgroup=str(p),
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="α")
    fig.update_yaxes(title_text="sample z", row=1, col=1)
    fig.update_layout(height=380, margin={"t": 60, "b": 40})
    return spec_of(fig)


def fd_spec(hs: Sequence[float], estimates, std_errors, exact: float, smooth: float | None) -> dict:
    """Finite-difference estimates through the re-seeded sampler against the step h (log x),
    ±2 s.e. bars, with the exact gradient and the proposal-path (no flips) limit."""
    fig = go.Figure(
        go.Scatter(
            x=list(hs),
            y=list(estimates),
            mode="markers+lines",
            error_y={"type": "data", "array": 2 * np.asarray(std_errors), "visible": True},
            name="finite difference (n samples)",
            line={"color": REJECTION},
        )
    )
    fig.add_hline(
        y=exact, line={"color": TRUTH, "dash": "dash"}, annotation_text=f"exact {exact:.4g}"
    )
    if smooth is not None:
        fig.add_hline(
            y=smooth,
            line={"color": TORCH, "dash": "dot"},
            annotation_text=f"no-flip limit {smooth:.4g}",
            annotation_position="bottom right",
        )
    fig.update_xaxes(type="log", title_text="step h")
    fig.update_yaxes(title_text="(f(z(α+h)) − f(z(α−h)))/(2h), mean")
    fig.update_layout(
        title="Finite differences through a re-seeded rejection sampler",
        height=380,
        margin={"t": 50, "b": 40},
    )
    return spec_of(fig)


# the same builders returning a plotly Figure, for notebooks and tests
tau_curves_figure = figure(tau_curves_spec)
simplex_figure = figure(simplex_spec)
implicit_gradient_figure = figure(implicit_gradient_spec)
sample_paths_figure = figure(sample_paths_spec)
fd_figure = figure(fd_spec)
