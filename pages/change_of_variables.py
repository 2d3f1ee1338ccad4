"""Change of variables: watch N(μ, σ²) become N(0, 1) under y = (x − μ)/σ, and back (x = μ + σε).

Layout and widgets here; the math is in reparam_core.transforms / reparam_core.checks, the figures
in reparam_ui.figures.cov. Never imports torch (cold start).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from reparam_core import checks
from reparam_core import transforms as T
from reparam_ui.charts import show_figure
from reparam_ui.components.plot_element import preload as preload_plotly
from reparam_ui.downloads import download_csv, download_figure_html_deferred
from reparam_ui.figures import cov as cov_figs
from reparam_ui.messages import guarded
from reparam_ui.shell import ensure_app_shell
from reparam_ui.state import Param, init_from_query, sync_query

ensure_app_shell()
preload_plotly()  # first: plotly.js loads while the widgets render

MODES = {
    "standardize": "x → y = (x − μ)/σ",
    "reparameterize": "ε → x = μ + σε",
}
MAPS = {
    "standardize": "standardize: y = (x − μ)/σ",
    "exp": "exp: y = eˣ (log-normal)",
    "sigmoid": "sigmoid: y = 1/(1 + e⁻ˣ) (logit-normal)",
    "sinh": "sinh: y = sinh x (Johnson S_U)",
}
VIEWS = ("Animation", "Check and other maps")
SIGMA_MAX = 5.0
SEED_MAX = 1000
SIGMA_MIN_VIEW = 0.05  # the σ slider's minimum: narrower is valid (σ > 0) but not drawable here
N_CHECK = 10_000  # samples in the map histogram
PARAMS = {
    "cov_mode": Param("standardize", options=tuple(MODES)),
    "cov_mu": Param(2.0, lo=-5.0, hi=5.0),
    "cov_sigma": Param(0.6, lo=SIGMA_MIN_VIEW, hi=SIGMA_MAX),
    "cov_n": Param(200, lo=20, hi=400),
    "cov_seed": Param(0, lo=0, hi=SEED_MAX),
    "cov_speed": Param(80, lo=20, hi=500),
    "cov_map": Param("exp", options=tuple(MAPS)),
    "cov_view": Param(VIEWS[0], options=VIEWS),
}
FRAMES_PER_STAGE = 15


def view_params(mu: float, sigma: float) -> tuple[float, float]:
    """μ, σ checked by the core (σ > 0, finite); the σ slider and the URL keep σ ≥ SIGMA_MIN_VIEW."""
    return T.check_mu(mu), T.check_sigma(sigma)


@st.cache_data(max_entries=32, show_spinner=False)
def agreement(map_name: str, mu: float, sigma: float, seed: int) -> dict:
    return checks.agreement_vs_n(density_for(map_name, mu, sigma), seed=seed)


def density_for(map_name: str, mu: float, sigma: float) -> T.TransformedDensity:
    h = T.Standardize(mu, sigma) if map_name == "standardize" else T.get(map_name)
    return T.TransformedDensity(T.Normal(mu, sigma), h)


def num(v: float) -> str:
    """A number for LaTeX: 3 significant digits, negatives in parentheses."""
    s = f"{v:.3g}"
    return f"({s})" if v < 0 else s


# ----------------------------------------------------------------------------------- views


def render_animation(mu: float, sigma: float, mode: str, n: int, seed: int, speed: int) -> None:
    """The animated figure, its downloads, and the derivation with μ, σ substituted."""
    eps = np.random.default_rng(seed).standard_normal(int(n))
    x = mu + sigma * eps
    if mode == "standardize":
        path, start = T.standardize_path(mu, sigma, FRAMES_PER_STAGE), x
        labels = [
            f"{'shift x − t·μ' if s == 'shift' else 'scale (x − μ)·σ^−t'}, t = {t:.2f}"
            for s, t in zip(path.stage, path.t, strict=True)
        ]
        target, x_title = "target N(0, 1)", "x → y = (x − μ)/σ"
    else:
        path, start = T.reparameterize_path(mu, sigma, FRAMES_PER_STAGE), eps
        labels = [
            f"{'scale σ^t·ε' if s == 'scale' else 'shift σε + t·μ'}, t = {t:.2f}"
            for s, t in zip(path.stage, path.t, strict=True)
        ]
        target, x_title = f"target N({mu:g}, {sigma:g}²)", "ε → x = μ + σε"
    spec = cov_figs.animation_spec(
        start,
        path,
        duration_ms=int(speed),
        frame_labels=labels,
        target_label=target,
        x_title=x_title,
    )

    left, right = st.columns([3, 2], gap="large")
    with left:
        show_figure(spec, key="cov_animation")
        st.caption(
            f"{n} samples, drawn once (seed {seed}) and moved; the coloured dots are followed "
            f"individually. The solid curve is the exact density of each frame (an affine map of "
            f"a normal is normal); the bars are the samples' histogram. {len(path)} frames."
        )
        with st.container(horizontal=True):
            download_figure_html_deferred(
                "Animation (HTML)", spec, "change_of_variables.html", key="cov_download_html"
            )
            download_csv(
                "Samples (CSV)",
                {
                    "i": list(range(int(n))),
                    "eps": eps.tolist(),
                    "x": x.tolist(),
                    "y": ((x - mu) / sigma).tolist(),
                },
                "samples.csv",
                key="cov_download_csv",
            )

    with right:
        # The derivation is symbolic, and the numbers are in a short block of their own: an
        # element whose content did not change is not drawn again, so a μ or σ change re-typesets
        # two inline formulas, not the whole derivation. One Markdown element ($$ … $$ display
        # math) each, not one per formula: fewer elements to send on each change (bench/run.py:
        # rerun_latency_ratio; docs/performance.md).
        m, s = num(mu), num(sigma)
        if mode == "standardize":
            here = f"Here $\\mu = {m}$, $\\sigma = {s}$: $y = (x - {m})/{s}$, $x = {m} + {s}\\,y$."
        else:
            here = (
                f"Here $\\mu = {m}$, $\\sigma = {s}$: "
                f"$x = {m} + {s}\\,\\varepsilon \\sim \\mathcal N({m}, {s}^2)$."
            )
        st.markdown("### The derivation\n\n" + here)
        st.markdown(DERIVATION[mode])
        if mode == "standardize":
            st.caption(
                "Corrections to the seed: |g′| (not g′) in general; the stray '1 σ' is σ; and the "
                "result is the density N(y | 0, 1) evaluated at y, for every μ and σ > 0."
            )


def display(tex: str) -> str:
    """A displayed formula in Markdown (KaTeX, as st.latex draws it)."""
    return f"$$\n{tex}\n$$"


DERIVATION = {  # Markdown, with displayed formulas
    "standardize": "\n\n".join(
        [
            "With $x \\sim \\mathcal N(\\mu, \\sigma^2)$ and the strictly increasing map",
            display(r"y = h(x) = \frac{x-\mu}{\sigma},"),
            display(r"x = g(y) = \mu + \sigma y,"),
            display(r"g'(y) = \sigma."),
            "Change of variables (the absolute value matters for decreasing maps):",
            display(r"f_Y(y) = f_X\big(g(y)\big)\,\lvert g'(y)\rvert"),
            display(
                r"= \frac{1}{\sqrt{2\pi\sigma^2}}"
                r"\exp\!\Big(-\frac{(g(y)-\mu)^2}{2\sigma^2}\Big)\cdot\sigma"
            ),
            # two lines, the exponent inline: the column is ≈ 200 px on a 1024 px screen
            display(
                r"\begin{aligned}&= \frac{\sigma}{\sqrt{2\pi\sigma^2}}\\"
                r"&\quad\times e^{-(\mu + \sigma y - \mu)^2 / (2\sigma^2)}\end{aligned}"
            ),
            "The seed goes on to the result but skips the substitution $g(y) - \\mu = \\sigma y$. "
            "With it the exponent is "
            "$-\\sigma^2 y^2 / (2\\sigma^2) = -y^2/2$, and $\\sigma/\\sqrt{\\sigma^2} = 1$ "
            "because $\\sigma > 0$:",
            display(
                r"\begin{aligned}f_Y(y) &= \frac{1}{\sqrt{2\pi}}\, e^{-y^2/2}\\"
                r"&= \mathcal N(y \mid 0, 1).\end{aligned}"
            ),
        ]
    ),
    "reparameterize": "\n\n".join(
        [
            "Start from $\\varepsilon \\sim \\mathcal N(0, 1)$ and push it through "
            "$x = h(\\varepsilon) = \\mu + \\sigma\\varepsilon$. Its inverse is "
            "$g(x) = (x - \\mu)/\\sigma$, $g'(x) = 1/\\sigma$:",
            display(r"f_X(x) = f_\varepsilon\big(g(x)\big)\,\lvert g'(x)\rvert"),
            display(
                r"= \frac{1}{\sqrt{2\pi}} e^{-\frac{1}{2}\left(\frac{x - \mu}{\sigma}\right)^2}"
                r"\cdot\frac{1}{\sigma}"
            ),
            display(r"= \frac{1}{\sqrt{2\pi\sigma^2}}\, e^{-(x-\mu)^2/(2\sigma^2)}"),
            display(r"= \mathcal N(x \mid \mu, \sigma^2)."),
            "This is the reparameterization: a sample of $\\mathcal N(\\mu, \\sigma^2)$ is "
            "a deterministic, differentiable function of $(\\mu, \\sigma)$ and a noise "
            "$\\varepsilon$ that does not depend on them, so",
            display(
                r"\frac{\partial x}{\partial \mu} = 1,\qquad "
                r"\frac{\partial x}{\partial \sigma} = \varepsilon,"
            ),
            display(
                r"\begin{aligned}&\nabla_\theta\,\mathbb E[f(x)]\\"
                r"&\quad= \mathbb E_\varepsilon\big[\nabla_\theta f(\mu+\sigma\varepsilon)\big]\\"
                r"&\quad= \mathbb E_\varepsilon\big[f'(x)\,\nabla_\theta x\big].\end{aligned}"
            ),
        ]
    ),
}


def render_check(mu: float, sigma: float, seed: int) -> None:
    """The chosen map: f_X, f_Y over a histogram of h(x), |g'(y)|, and agreement against n."""
    m, s = num(mu), num(sigma)
    st.subheader("The formula on samples — for this map and others")
    map_name = st.selectbox("Map h", list(MAPS), format_func=MAPS.get, key="cov_map")
    density = density_for(map_name, mu, sigma)
    h = density.transform
    x_check = T.Normal(mu, sigma).sample(N_CHECK, seed)
    with st.spinner("Checking the formula on up to 100,000 samples…"):
        result = agreement(map_name, mu, sigma, seed)

    st.latex(
        rf"\begin{{gathered}}{h.latex_forward},\qquad {h.latex_inverse},\qquad "
        rf"\lvert g'(y)\rvert = {h.latex_inverse_derivative},\\"
        rf"f_Y(y) = \mathcal N\big(g(y)\,\big|\,{m}, {s}^2\big)\,\lvert g'(y)\rvert"
        r"\end{gathered}"
    )
    show_figure(cov_figs.map_spec(density, x_check), key="cov_map_fig")
    st.caption(
        f"Left: the base density of x ~ N({mu:g}, {sigma:g}²). Right: the pushforward "
        f"f_Y(y) = f_X(g(y))·|g′(y)| over a histogram of h(x) for {N_CHECK:,} samples, and the "
        "Jacobian factor |g′(y)| (log axis): above 1 the map squeezes an x-interval into a "
        "shorter y-interval, so density piles up; below 1 it stretches it and density thins."
    )

    a_left, a_right = st.columns([3, 2], gap="large")
    with a_left:
        show_figure(cov_figs.agreement_spec(result), key="cov_agreement")
    with a_right:
        ks_last, err_last = float(result["ks"][-1]), float(result["density_error"][-1])
        st.markdown(
            f"**Agreement against n.** For the first n of one sequence of draws (seed {seed}), "
            f"the Kolmogorov–Smirnov distance $D_n = \\sup_y |F_n(y) - F_Y(y)|$ and the largest "
            f"gap between histogram heights and the exact bin-averaged density both fall like "
            f"$1/\\sqrt n$. At n = {int(result['n'][-1]):,}: "
            f"$D_n$ = {ks_last:.4f}, max density error = {err_last:.4f}."
        )
        st.caption(
            "The KS distance is the same for every monotone map of the same draws (it only "
            "sees ranks), so it checks the CDF: F_Y = F_X∘g for an increasing map, "
            "F_Y = 1 − F_X∘g for a decreasing one; the density error checks "
            "f_Y = f_X(g)·|g′| itself."
        )

    st.markdown(
        "**Non-monotone maps need a sum over branches.** If $h$ is not one-to-one, several "
        "$x$ land on the same $y$ and each contributes its own mass. For $y = x^2$ the inverse "
        "has two branches $g_\\pm(y) = \\pm\\sqrt y$, each with $\\lvert g_\\pm'(y)\\rvert = "
        "1/(2\\sqrt y)$:"
    )
    st.latex(
        r"f_Y(y) = \sum_{k} f_X\big(g_k(y)\big)\,\lvert g_k'(y)\rvert"
        r"= \frac{f_X(\sqrt y) + f_X(-\sqrt y)}{2\sqrt y},\quad y > 0,"
    )
    st.markdown(
        "which for $x \\sim \\mathcal N(0, 1)$ is the $\\chi^2_1$ density "
        "$e^{-y/2}/\\sqrt{2\\pi y}$. Using one branch alone would lose half the mass."
    )


# ----------------------------------------------------------------------------------- controls

st.title("Change of variables")
st.markdown(
    "Draw samples once from $x \\sim \\mathcal N(\\mu, \\sigma^2)$ and move them: first shift by "
    "$-\\mu$, then scale by $1/\\sigma$. They land on $\\mathcal N(0, 1)$, as the change-of-variables "
    "formula $f_Y(y) = f_X(g(y))\\,\\lvert g'(y)\\rvert$ predicts. The second direction, "
    "$\\varepsilon \\to x = \\mu + \\sigma\\varepsilon$, is the one the reparameterization trick uses. "
    "Press **▶ Play** under the chart — it plays in your browser."
)
init_from_query(PARAMS)


@st.fragment
def controls_and_view() -> None:
    """Everything below the introduction: a control change reruns only this part of the page."""
    # "map" lives in the second view, which does not run while the first is shown, and the view
    # switch is not drawn while μ, σ are invalid; re-assigning keeps their values across runs
    # without a widget.
    for key in ("cov_map", "cov_view"):
        st.session_state[key] = st.session_state[key]
    # segmented controls, not radios: the page loads one widget family less (bench/run.py:
    # page_load_ratio_max; docs/performance.md)
    mode = st.segmented_control(
        "Direction", list(MODES), format_func=MODES.get, key="cov_mode", required=True
    )
    # sliders only (no number boxes): the page loads one widget family less, and the samples
    # move while μ or σ is dragged; one horizontal row, not columns: one layout element instead
    # of six (as on the gradient page; bench/run.py: page_load_ratio_max, rerun_latency_ratio)
    with st.container(horizontal=True, gap="medium"):
        st.slider("μ (mean)", min_value=-5.0, max_value=5.0, step=0.1, key="cov_mu")
        st.slider(
            "σ (std. dev., > 0)",
            min_value=SIGMA_MIN_VIEW,
            max_value=SIGMA_MAX,
            step=0.05,
            key="cov_sigma",
            help=f"Must be positive; from {SIGMA_MIN_VIEW}, the narrowest this view can draw.",
        )
        n = st.slider("Samples shown", 20, 400, step=10, key="cov_n")
        seed = st.slider("Seed", min_value=0, max_value=SEED_MAX, step=1, key="cov_seed")
        speed = st.slider(
            "Frame duration (ms)", 20, 500, step=10, key="cov_speed", help="Lower is faster."
        )

    sync_query(PARAMS)

    checked = guarded(view_params, st.session_state["cov_mu"], st.session_state["cov_sigma"])
    if checked is not None:
        mu, sigma = checked
        # Only the chosen view runs (not st.tabs: a chart inside a tab panel loaded slower;
        # bench/run.py: page_load_ratio_max).
        view = st.segmented_control(
            "View", VIEWS, key="cov_view", required=True, label_visibility="collapsed"
        )
        if view == VIEWS[0]:
            render_animation(mu, sigma, mode, int(n), int(seed), int(speed))
        else:
            render_check(mu, sigma, int(seed))


controls_and_view()
