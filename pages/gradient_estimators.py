"""Gradient estimators: ∇θ E_{x~N(μ,σ²)}[f(x)] by pathwise, score-function, baseline and
measure-valued estimators — exact statistics, Monte Carlo runs, Fig. 2 variance curves, failures,
other families, and how each scales with dimension."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from reparam_core import dimension as DIM
from reparam_core import estimators as E
from reparam_core import functions as F
from reparam_core import registry
from reparam_core import transforms as T
from reparam_ui.charts import show_figure
from reparam_ui.components.plot_element import preload as preload_plotly
from reparam_ui.downloads import download_csv
from reparam_ui.figures import grad as G
from reparam_ui.messages import attempt, guarded
from reparam_ui.shell import ensure_app_shell
from reparam_ui.state import Param, init_from_query, sync_query_keys, warn_invalid_query
from reparam_ui.tables import markdown_table
from reparam_ui.views.beyond_gaussian import render as render_beyond

ensure_app_shell()
preload_plotly()  # first: plotly.js loads while the widgets render

N_PAGE_MAX = 100_000  # samples per estimator on the page (the core allows up to validate.N_MAX)
# N on a roughly logarithmic grid (a slider, not a number box: the page then loads no number-input
# code; bench/run.py: page_load_ratio_max), seeds 0–1000 (drag it to watch the Monte Carlo noise)
N_OPTIONS = (1, 2, 3, 5, *(m * 10**e for e in range(1, 5) for m in (1, 2, 5)), N_PAGE_MAX)
SEED_MAX = 1000
SIGMA_MIN = 0.25  # the σ slider's first step: the smallest valid σ (> 0) it can reach
FIG2_MC_N = 4000  # Monte Carlo samples per point on the Fig. 2 curves
FIG2_MC_POINTS = 7  # k values per curve with a Monte Carlo point
CUSTOM_DEFAULT = "sin(3*x) + x**2"
FN_OPTIONS = (*F.NAMES, "custom")
FN_LABELS = {
    "square": "(x − k)²",
    "exp": "exp(−k x²)",
    "cos": "cos(k x)",
    "step": "step 1[x > k]",
    "abs": "|x − k|",
    "custom": "custom f(x; k)",
}
DIM_FNS = ("square", "exp", "cos", "abs")  # continuous costs: the pathwise estimator is unbiased
DIM_BUDGETS = (100, 1000, 10_000, 100_000)
DIM_TOL = 0.1  # "usable": the gradient's relative error at most 10 %
DIM_MC_DIMS = (1, 10, 100, 1000)
DIM_MC_N = 20_000
DIM_PARAMS = {  # the Dimension tab's
    "ge_dim_fn": Param("square", options=DIM_FNS),
    "ge_dim_k": Param(2.0, lo=-20.0, hi=20.0),
    "ge_dim_wrt": Param("mu", options=E.WRT),
    "ge_dim_budget": Param(1000, options=DIM_BUDGETS),
}
PARAMS = {
    "ge_fn": Param("square", options=FN_OPTIONS),
    "ge_expr": Param(CUSTOM_DEFAULT),
    "ge_k": Param(2.0, lo=-20.0, hi=20.0),
    "ge_mu": Param(1.0, lo=-10.0, hi=10.0),
    "ge_sigma": Param(1.0, lo=SIGMA_MIN, hi=10.0),
    "ge_wrt": Param("mu", options=E.WRT),
    "ge_n": Param(2000, options=N_OPTIONS),
    "ge_seed": Param(0, lo=0, hi=SEED_MAX),
    "ge_mc_view": Param("hist", options=("hist", "running", "var_n")),
    **DIM_PARAMS,
}
TABS = [
    "Monte Carlo run",
    "Variance curves (Fig. 2)",
    "Where each fails",
    "Beyond the Gaussian",
    "Dimension",
]
MC_VIEWS = {"hist": "Histograms", "running": "Running means", "var_n": "Var(mean) vs N"}
FIG2_KS = {
    "square": np.linspace(-3.0, 3.0, 100),
    "exp": np.logspace(-1.0, 1.0, 100),
    "cos": np.logspace(math.log10(0.5), math.log10(5.0), 100),
}


# ------------------------------------------------------------------------- cached computations


def make_fn(name: str, k: float, source: str) -> F.Fn:
    """The test function; "custom" parses `source` with the safe expression parser."""
    if name != "custom":
        return F.get(name, k)
    from reparam_core.expr import parse_function  # lazy: pulls in torch for f′ only when used

    return parse_function(source, k)


@st.cache_data(max_entries=64, show_spinner=False)
def exact_stats(name: str, k: float, mu: float, sigma: float, source: str) -> dict:
    """{θ: ExactStats} for θ ∈ {μ, σ}."""
    return E.exact_stats(make_fn(name, k, source), (mu, sigma))


@st.cache_data(max_entries=2, show_spinner=False)
def fig2_exact() -> dict:
    """{cost: (ks, {θ: {method: single-sample variances}})}."""
    out = {}
    for name, ks in FIG2_KS.items():
        sweep = E.exact_sweep(name, ks, (1.0, 1.0))
        out[name] = (ks, {wrt: stats.variance for wrt, stats in sweep.items()})
    return out


@st.cache_data(max_entries=8, show_spinner=False)
def fig2_monte_carlo(seed: int) -> dict:
    out = {}
    for name, ks in FIG2_KS.items():
        picks = ks[np.linspace(4, len(ks) - 5, FIG2_MC_POINTS).round().astype(int)]
        var = {
            wrt: {
                m: np.array([mc_variance(F.get(name, kk), m, seed, wrt) for kk in picks])
                for m in E.METHODS
            }
            for wrt in E.WRT
        }
        out[name] = (picks, var)
    return out


@st.cache_data(max_entries=8, show_spinner=False)
def fig2_figure(seed: int) -> dict:
    """The Fig. 2 figure (as a dict) depends only on the seed of its Monte Carlo points."""
    return G.variance_curves_spec(fig2_exact(), fig2_monte_carlo(seed))


def mc_variance(f: F.Fn, method: str, seed: int, wrt: str) -> float:
    """Sample variance of FIG2_MC_N single-sample estimates at μ = σ = 1."""
    return E.gradient_samples(f, (1.0, 1.0), method, FIG2_MC_N, seed, wrt=wrt).var(ddof=1)


def monte_carlo(f: F.Fn, mu: float, sigma: float, wrt: str, n: int, seed: int) -> dict:
    return {m: E.gradient_samples(f, (mu, sigma), m, n, seed, wrt=wrt) for m in E.METHODS}


# Figures are cached as plain dicts per input (built once, sent as they are on each rerun); the
# Monte Carlo run is cached through what it produces (table and figure), so the ≤ 100 k samples
# per estimator are not kept.


@st.cache_data(max_entries=32, show_spinner=False)
def function_view(name: str, k: float, mu: float, sigma: float, source: str) -> dict:
    """f, f′ and the density on a grid of ±4σ around μ: the figure and the non-finite points."""
    f = make_fn(name, k, source)
    width = sigma if sigma > 0 else 1.0
    xs = np.linspace(mu - 4 * width, mu + 4 * width, 401)
    with np.errstate(all="ignore"):
        fx = np.broadcast_to(np.asarray(f.f(xs), dtype=float), xs.shape)
        dfx = np.broadcast_to(np.asarray(f.df(xs), dtype=float), xs.shape)
    bad = ~np.isfinite(fx) | ~np.isfinite(dfx)
    density = np.exp(T.normal_log_prob(xs, mu, sigma)) if sigma > 0 else np.zeros_like(xs)
    return {
        "spec": G.function_spec(xs, fx, dfx, density, mu, width),
        "bad": int(bad.sum()),
        "first_bad": float(xs[bad][0]) if bad.any() else None,
        "size": xs.size,
    }


MC_FIGURES = {  # (ExactStats of θ, samples, n) → figure spec
    "hist": lambda exact, samples, n: G.histogram_spec(samples, exact.true),
    "running": lambda exact, samples, n: G.running_mean_spec(samples, exact.true),
    "var_n": lambda exact, samples, n: G.variance_of_mean_spec(exact.variance, samples, n),
}


@st.cache_data(max_entries=16, show_spinner=False)
def mc_view(
    name: str,
    k: float,
    mu: float,
    sigma: float,
    source: str,
    wrt: str,
    n: int,
    seed: int,
    view: str,
) -> dict:
    """One Monte Carlo run of n samples per estimator → the summary table and the figure of the
    chosen view (only that one is built: a control change rebuilds one figure, not three)."""
    exact = exact_stats(name, k, mu, sigma, source)[wrt]
    samples = monte_carlo(make_fn(name, k, source), mu, sigma, wrt, n, seed)
    return {
        "table": G.summary_table(exact, samples, n),
        "figure": MC_FIGURES[view](exact, samples, n),
    }


# ------------------------------------------------------------------------- callbacks


def load_case(**values) -> None:
    """Button callback: put a worked case into the set-up widgets and open the Monte Carlo tab
    (runs before the rerun)."""
    for key, value in values.items():
        st.session_state[f"ge_{key}"] = value
    st.session_state["ge_tab"] = TABS[0]


# ------------------------------------------------------------------------- page

st.title("Gradient estimators")
st.markdown(
    "Four ways to estimate $\\nabla_\\theta\\, \\mathbb E_{x\\sim\\mathcal N(\\mu,\\sigma^2)}[f(x)]$, "
    "$\\theta\\in\\{\\mu,\\sigma\\}$: three from samples $x = \\mu + \\sigma\\varepsilon$, "
    "$\\varepsilon\\sim\\mathcal N(0,1)$ (pathwise, score function, score + baseline), the "
    "measure-valued one from Weibull and Maxwell samples instead. Each is measured exactly "
    "(numerical integration) and "
    "by Monte Carlo. Numbers and Fig. 2 follow Mohamed et al. 2020 (JMLR), *Monte Carlo Gradient "
    "Estimation in Machine Learning*."
)
init_from_query(PARAMS)  # before the tabs: the Fig. 2 tab reads the seed too
warn_invalid_query({"ge_tab": Param(TABS[0], options=tuple(TABS))})
# One tab per section, and only the open tab runs: the first view stays light (page load) and a
# shared URL names its tab.
tab_mc, tab_fig2, tab_fail, tab_beyond, tab_dim = st.tabs(
    TABS,
    key="ge_tab",
    on_change="rerun",  # lazy: only the open tab runs
    bind="query-params",  # the open tab is part of a shared URL
)


@st.fragment
def setup_and_run() -> None:
    """Sections 1 and 2 of the Monte Carlo tab: a control change reruns only this fragment."""
    # Everything is computed first, from the controls' values in the session, and drawn after:
    # the set-up and the results then reach the browser in one burst of messages (one render
    # there, instead of one per burst between computations).
    ss = st.session_state
    ss["ge_expr"] = ss.get("ge_expr", CUSTOM_DEFAULT)  # its box is drawn only for "custom"
    fn_name, wrt, k, mu, sigma = ss["ge_fn"], ss["ge_wrt"], ss["ge_k"], ss["ge_mu"], ss["ge_sigma"]
    n, seed = int(ss["ge_n"]), int(ss["ge_seed"])
    source = ss["ge_expr"] if fn_name == "custom" else ""
    errors: list[str] = []

    def call(fn, *args):
        result, error = attempt(fn, *args)
        if error is not None:
            errors.append(error)
        return result

    if fn_name == "custom":
        with st.spinner("Parsing f and loading torch for f′ (first use only)…"):
            f = call(make_fn, "custom", k, source)
    else:
        f = call(make_fn, fn_name, k, "")
    exact = call(exact_stats, fn_name, k, mu, sigma, source) if f is not None else None
    view = call(function_view, fn_name, k, mu, sigma, source) if f is not None else None
    shown = ss.get("ge_mc_view") or "hist"  # the view control below, as of this run
    run = (
        call(mc_view, fn_name, k, mu, sigma, source, wrt, n, seed, shown)
        if exact is not None
        else None
    )

    # ---- 1. set-up (its header is drawn outside: one element less to redraw per change) --------
    with st.container(border=True):
        # pills and segmented controls, not a select box and radios: every choice is visible,
        # and the page loads one widget family instead of three (README, Benchmarks)
        # rows are horizontal containers, not columns: one layout block per row instead of one
        # per column, and each block is a message the browser processes on every change
        with st.container(horizontal=True, gap="medium"):
            st.pills(
                "test function f(x; k)",
                FN_OPTIONS,
                key="ge_fn",
                required=True,
                format_func=lambda v: FN_LABELS.get(v, v),
                help="The three costs of Mohamed et al. Fig. 2, two non-differentiable ones, or your own.",
            )
            st.segmented_control(
                "parameter θ",
                E.WRT,
                key="ge_wrt",
                required=True,
                format_func=lambda w: G.THETA.get(w, w),
            )
        if fn_name == "custom":
            st.text_input(
                "custom f(x; k)",
                key="ge_expr",
                help="An expression in x and k, e.g. sin(3*x) + x**2 — parsed safely, never executed; "
                "f′ by torch autograd.",
            )
        with st.container(horizontal=True, gap="medium"):
            st.slider("k", min_value=-20.0, max_value=20.0, step=0.5, key="ge_k")
            st.slider("μ (mean)", min_value=-10.0, max_value=10.0, step=0.25, key="ge_mu")
            st.slider(
                "σ (std. dev., > 0)", min_value=SIGMA_MIN, max_value=10.0, step=0.25, key="ge_sigma"
            )
            st.select_slider("N per estimator", N_OPTIONS, key="ge_n", format_func="{:,}".format)
            st.slider("seed", min_value=0, max_value=SEED_MAX, step=1, key="ge_seed")
    sync_query_keys(PARAMS)  # leaves other views' URL keys (e.g. bg_*) alone
    for error in errors:
        st.error(error)

    if f is not None:
        if view is not None and view["bad"]:
            st.warning(
                f"f or f′ is not finite at {view['bad']} of {view['size']} plotted points "
                f"(first at x = {view['first_bad']:.4g}); those points are left out of the plot."
            )
        left, right = st.columns([3, 1])
        with left:
            if view is not None:
                show_figure(view["spec"], key="ge_fig_f")
        with right:
            st.latex(f"f(x) = {f.latex}")
            st.latex(  # two lines: the column is ≈ 130 px wide on a 1024 px screen
                r"\begin{gathered}\nabla_{" + ("\\mu" if wrt == "mu" else "\\sigma") + r"}\,"
                r"\mathbb E[f(x)],\\ x\sim\mathcal N(" + f"{mu:g}, {sigma:g}" + r"^2)\end{gathered}"
            )
            if not f.smooth:
                st.caption(
                    "f has a kink or a jump: autograd's f′ ignores it. A jump (step) biases the "
                    "pathwise estimator; a kink (|x − k|) does not."
                )
            if fn_name == "custom" and not f.smooth:
                st.caption(
                    "For custom non-smooth f the integration does not know where the kinks are: "
                    "exact values are accurate to about 1e−3 (relative) instead of 1e−9."
                )

    # ---- 2. per estimator ------------------------------------------------------------------------
    st.header("2 · Exact statistics and a Monte Carlo run")

    if exact is not None and run is not None:
        table = run["table"]
        # a Markdown table: static, and no Arrow code to load in the browser (bench/run.py:
        # page_load_ratio_max); full precision in the CSV
        st.markdown(markdown_table(table), width="stretch")
        st.caption(G.summary_caption(table))  # true ∇, best, zero variance, bias, costs, z
        download_csv(
            "Download the table (CSV)",
            table,
            file_name=f"estimators_{fn_name}_{wrt}.csv",
            key="ge_dl_table",
        )
        st.segmented_control(
            "Monte Carlo view",
            list(MC_VIEWS),
            key="ge_mc_view",
            format_func=MC_VIEWS.get,
            required=True,
            help="One figure at a time: each redraw of the page stays light.",
        )
        show_figure(run["figure"], key=f"ge_fig_{shown}")
    else:
        st.info("Fix the set-up above (see the message there) to see the estimators.")


def fig2_section() -> None:
    """Fig. 2 (its own tab: computed and drawn only while that tab is open)."""
    seed = int(st.session_state["ge_seed"])
    st.header("Variance curves (Mohamed et al. 2020, Fig. 2)")
    st.markdown(
        "Single-sample variance of each estimator against the cost parameter $k$, at "
        "$\\mu=\\sigma=1$: lines are exact (vectorized quadrature, 2400 values), circles are "
        f"sample variances of {FIG2_MC_N} Monte Carlo estimates (seed {seed})."
    )
    with st.spinner("Integrating the Fig. 2 sweep…"):
        sweeps = fig2_exact()
        spec = fig2_figure(seed)
    show_figure(spec, key="ge_fig_fig2")
    curve_rows: dict[str, list] = {
        "cost": [],
        "k": [],
        "theta": [],
        "estimator": [],
        "variance": [],
    }
    for name, (ks, var) in sweeps.items():
        for w, per_method in var.items():
            for m, v in per_method.items():
                curve_rows["cost"] += [name] * len(ks)
                curve_rows["k"] += [float(x) for x in ks]
                curve_rows["theta"] += [w] * len(ks)
                curve_rows["estimator"] += [m] * len(ks)
                curve_rows["variance"] += [float(x) for x in v]
    download_csv(
        "Download the curves (CSV)", curve_rows, file_name="fig2_variance.csv", key="ge_dl_fig2"
    )


@st.cache_data(max_entries=32, show_spinner=False)
def dimension_data(name: str, k: float, wrt: str, seed: int) -> dict:
    """Exact curves over D = 1…1000 and Monte Carlo totals at DIM_MC_DIMS, at μ = σ = 1."""
    f = F.get(name, k)
    exact = DIM.exact_variance(f, (1.0, 1.0), DIM.DIMS, wrt)
    mc = {
        m: (
            np.array(DIM_MC_DIMS, dtype=float),
            np.array(
                [
                    DIM.mc_variance(
                        f, (1.0, 1.0), d, m, min(DIM_MC_N, DIM.MC_BUDGET // d), seed, wrt
                    )
                    for d in DIM_MC_DIMS
                ]
            ),
        )
        for m in E.METHODS
    }
    return {"exact": exact, "mc": mc, "bound": DIM.pathwise_bound(f, DIM.DIMS)}


def dimension_sentence(rel: dict, budget: int) -> str:
    """Where each estimator stops being usable, read off the exact curves just computed."""
    top = int(DIM.DIMS[-1])
    parts = []
    for m in E.METHODS:
        up = DIM.usable_up_to(DIM.DIMS, rel[m], DIM_TOL)
        label = registry.GAUSSIAN[m].label
        if up is None:
            parts.append(f"{label}: not even at D = 1")
        elif up == top:
            parts.append(f"{label}: at every D up to {top:,}")
        else:
            parts.append(f"{label}: up to D = {up:,}")
    return (
        f"**Usable (relative error ≤ {DIM_TOL:.0%}) with {budget:,} evaluations of F:** "
        + "; ".join(parts)
        + "."
    )


def dimension_section() -> None:
    """How each estimator scales with the number of parameters (its own tab), exactly."""
    st.header("Where the trick decides everything: dimension")
    st.markdown(
        r"Now $x \sim \mathcal N(\mu\mathbf 1, \sigma^2 I_D)$ in $D$ dimensions, a separable cost "
        r"$F(x) = \sum_d f(x_d)$, and the gradient with respect to the whole vector $\mu$ (or "
        r"$\sigma$), at $\mu = \sigma = 1$. Each pathwise coordinate $f'(x_d)$ ignores the other "
        r"$D-1$ terms of $F$; each score-function coordinate $F(x)\,s_d$ carries all of them as noise."
    )
    st.latex(
        r"\operatorname{Var}\big[F(x)\,s_d\big] = V_1 + (D-1)\big(2m\,\mathbb E[f s^2]"
        r" + v\,\mathbb E[s^2]\big) + (D-1)^2 m^2\,\mathbb E[s^2],\quad m = \mathbb E f,\ v = \operatorname{Var} f"
    )
    c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1.2])
    c1.selectbox("Cost f", DIM_FNS, key="ge_dim_fn", format_func=lambda n: FN_LABELS[n])
    c2.number_input("k", min_value=-20.0, max_value=20.0, step=0.5, key="ge_dim_k")
    c3.radio(
        "Gradient w.r.t.", E.WRT, key="ge_dim_wrt", horizontal=True,
        format_func=lambda w: G.THETA[w],
    )  # fmt: skip
    c4.select_slider(
        "Budget: evaluations of F", DIM_BUDGETS, key="ge_dim_budget",
        format_func=lambda b: f"{b:,}",
    )  # fmt: skip
    sync_query_keys(DIM_PARAMS)
    ss = st.session_state
    name, k, wrt = ss["ge_dim_fn"], float(ss["ge_dim_k"]), ss["ge_dim_wrt"]
    budget, seed = int(ss["ge_dim_budget"]), int(ss["ge_seed"])
    with st.spinner("Integrating and sampling in up to 1,000 dimensions…"):
        data = guarded(dimension_data, name, k, wrt, seed)
    if data is None:
        return
    exact = data["exact"]
    rel = DIM.relative_error(exact, DIM.DIMS, budget)
    spec = G.dimension_spec(
        DIM.DIMS.astype(float), exact.variance, rel, data["bound"], data["mc"], budget, DIM_TOL, wrt
    )
    show_figure(spec, key="ge_fig_dim")
    if np.all(np.isinf(rel["pathwise"])):
        st.markdown(
            f"The true gradient is 0 here ({FN_LABELS[name]} at k = {k:g}): no relative error "
            "exists. Pick another k to read off the usable dimensions."
        )
    else:
        st.markdown(dimension_sentence(rel, budget))
    gaps = []
    for m, (dims, values) in data["mc"].items():
        for d, v in zip(dims, values, strict=True):
            want = float(exact.variance[m][list(DIM.DIMS).index(int(d))])
            if want > 0:
                gaps.append(abs(v - want) / want)
    bound = data["bound"]
    st.caption(
        "Lines: exact (one-dimensional integrals, module reparam_core.dimension); circles: sample "
        f"variances of up to {DIM_MC_N:,} draws of the whole gradient at D = "
        + ", ".join(f"{d:,}" for d in DIM_MC_DIMS)
        + f" (seed {seed}), largest relative gap to the exact value {max(gaps):.1%}. "
        + (
            f"Dotted: the pathwise bound D·L² with L = sup|f′| = {DIM.lipschitz(F.get(name, k)):.3g}. "
            if bound is not None
            else "No pathwise bound: f′ is unbounded for this cost. "
        )
        + "The measure-valued estimator has the pathwise scaling of its variance but costs 2 "
        "evaluations of F per coordinate, 2D per sample."
    )
    download_csv(
        "Download the curves (CSV)",
        {
            "D": [int(d) for d in DIM.DIMS],
            **{f"var_{m}": [float(v) for v in exact.variance[m]] for m in E.METHODS},
            **{f"rel_error_{m}_budget{budget}": [float(v) for v in rel[m]] for m in E.METHODS},
        },
        file_name="dimension_variance.csv",
        key="ge_dl_dim",
    )


def exact_mu(name: str, k: float):
    """ExactStats of θ = μ at μ = σ = 1 (the failures tab's cases)."""
    return exact_stats(name, k, 1.0, 1.0, "")["mu"]


def case_card(column, title: str, text: str, case: tuple[str, str, dict]) -> None:
    """One failure case: its title, what the numbers say, and a button that loads it into the
    Monte Carlo tab at μ = σ = 1, θ = μ (the numbers above are for that set-up)."""
    label, name, values = case
    with column, st.container(border=True):
        st.subheader(title)
        st.markdown(text)
        st.button(
            label,
            key=f"ge_case_{name}",
            on_click=load_case,
            kwargs={"mu": 1.0, "sigma": 1.0, "wrt": "mu", **values},
        )


def failures_section() -> None:
    """The cases where each estimator fails (its own tab), computed exactly (cached)."""
    sweeps = fig2_exact()
    st.header("Where each estimator fails or loses")
    st.caption("All numbers below are computed now, exactly, at μ = σ = 1 and θ = μ.")

    step, absf = exact_mu("step", 0.0), exact_mu("abs", 0.0)
    cos5, exp10 = exact_mu("cos", 5.0), exact_mu("exp", 10.0)
    sq_far = exact_mu("square", -3.0)
    sq_mu = sweeps["square"][1]["mu"]

    def crossing(name: str) -> str:
        """First k of the Fig. 2 sweep where the pathwise variance exceeds the score function's."""
        ks, var = sweeps[name]
        above = np.nonzero(var["mu"]["pathwise"] > var["mu"]["score"])[0]
        return f"{ks[above[0]]:.3g}" if above.size else "never in the range"

    c1, c2, c3 = st.columns(3)
    case_card(
        c1,
        "Jumps: pathwise is silently biased",
        f"For the step $\\mathbb 1[x>0]$ the true gradient is "
        f"$\\varphi(1) = {step.true:.4f}$, but autograd's $f'=0$ makes every pathwise "
        f"sample exactly **{step.mean['pathwise']:.0f}** (variance "
        f"{step.variance['pathwise']:.0f}: confidently wrong). The score function is unbiased: "
        f"mean {step.mean['score']:.4f}, variance {step.variance['score']:.3f}; "
        f"measure-valued: variance {step.variance['measure_valued']:.4f}.\n\n"
        f"A kink is harmless: for $|x|$ the pathwise mean {absf.mean['pathwise']:.4f} equals "
        f"the true gradient $2\\Phi(1)-1 = {absf.true:.4f}$, because $f$ is "
        "absolutely continuous (here Lipschitz, $|f'| \\le 1$): differentiating inside the "
        "expectation is still valid. Continuity alone is not enough: the Cantor function is "
        "continuous, yet its derivative is 0 almost everywhere.",
        ("Try the step", "step", {"fn": "step", "k": 0.0}),
    )
    case_card(
        c2,
        "Sharp or wiggly f: pathwise loses",
        f"$\\cos(5x)$: pathwise variance **{cos5.variance['pathwise']:.2f}** against the score "
        f"function's **{cos5.variance['score']:.3f}** ({cos5.variance['pathwise'] / cos5.variance['score']:.0f}×). "
        f"$\\exp(-10x^2)$: {exp10.variance['pathwise']:.3f} against {exp10.variance['score']:.3f}. "
        f"f′ grows with k while |f| stays ≤ 1. On the Fig. 2 sweep the pathwise variance exceeds "
        f"the score function's from k = {crossing('cos')} for cos(kx) and k = {crossing('exp')} "
        "for exp(−kx²).",
        ("Try cos(5x)", "cos", {"fn": "cos", "k": 5.0}),
    )
    case_card(
        c3,
        "f far from μ: the score function explodes",
        f"$(x-k)^2$ with $k=-3$: score-function variance **{sq_far.variance['score']:.0f}**, "
        f"pathwise **{sq_far.variance['pathwise']:.0f}** $=4\\sigma^2$ for every $k$. Over "
        f"$k\\in[-3,3]$ the score variance ranges {sq_mu['score'].min():.0f}–"
        f"{sq_mu['score'].max():.0f} (it grows like $(\\mu-k)^4$); the optimal baseline cuts it "
        f"to {sq_far.variance['score_baseline']:.0f} at k = −3, still "
        f"{sq_far.variance['score_baseline'] / sq_far.variance['pathwise']:.0f}× the pathwise one.",
        ("Try (x + 3)²", "square", {"fn": "square", "k": -3.0}),
    )


def estimator_formulas() -> None:
    """The four estimators' one-sample formulas (inside a lazy expander)."""
    st.latex(
        r"\text{pathwise: } \hat g = f'(\mu+\sigma\varepsilon)\,\frac{\partial x}{\partial\theta},"
        r"\quad \frac{\partial x}{\partial\mu}=1,\ \frac{\partial x}{\partial\sigma}=\varepsilon"
    )
    st.latex(
        r"\text{score: } \hat g = f(x)\,\partial_\theta \log\mathcal N(x\mid\mu,\sigma^2),"
        r"\quad s_\mu=\frac{\varepsilon}{\sigma},\ s_\sigma=\frac{\varepsilon^2-1}{\sigma}"
    )
    st.latex(
        r"\text{score + baseline: } \hat g = (f(x)-b)\,s,"
        r"\quad b^\star=\frac{\mathbb E[f s^2]}{\mathbb E[s^2]}\ \text{(leave-one-out estimate)}"
    )
    st.latex(
        r"\text{measure-valued: } \hat g_\mu=\frac{f(\mu+\sigma W)-f(\mu-\sigma W)}{\sigma\sqrt{2\pi}},"
        r"\ W\sim\mathrm{Weibull}(\text{scale }\sqrt2,\ \text{shape }2)"
        r"=\mathrm{Rayleigh}(1);\quad "
        r"\hat g_\sigma=\frac{f(\mu+\sigma M)-f(\mu+\sigma U M)}{\sigma},\ "
        r"M\sim\text{dbl-Maxwell},\ U\sim\mathcal U(0,1)"
    )
    st.markdown(
        "The pathwise estimator needs $f$ absolutely continuous (differentiable almost "
        "everywhere, no jumps) and moves $\\theta$ into the deterministic map "
        "$x = \\mu+\\sigma\\varepsilon$; one backward pass gives $f'$ for every parameter. The "
        "score function only needs $f(x)$. The measure-valued one costs **two** evaluations of "
        "$f$ per sample *per parameter*: 2 here, where $\\theta$ is one scalar, and $2D$ for $D$ "
        "parameters. (A backward pass costs a small multiple of one $f$, not one $f$.)"
    )


def gaussian_view() -> None:
    """The Monte Carlo tab: the four formulas (lazy), the set-up, exact and Monte Carlo statistics."""
    four = st.expander(
        "The four estimators (one sample each)",
        key="ge_four",
        on_change="rerun",  # lazy: its four LaTeX blocks are rendered only when open
    )
    with four:
        if four.open:
            estimator_formulas()

    st.header("1 · Set-up")
    setup_and_run()


with tab_mc:
    if tab_mc.open:
        gaussian_view()
with tab_fig2:
    if tab_fig2.open:
        fig2_section()
with tab_fail:
    if tab_fail.open:
        failures_section()
with tab_beyond:
    if tab_beyond.open:
        render_beyond()
with tab_dim:
    if tab_dim.open:
        dimension_section()
