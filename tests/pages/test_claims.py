"""What the pages claim (issue 17 §3, and the table's degenerate states of §4): formulas, wording,
and the estimator table's zeros, ratios and z. Widgets are found by label, never by key."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apps import app_test

from reparam_core import checks
from reparam_core import estimators as E
from reparam_core import functions as F
from reparam_core import transforms as T
from reparam_ui.figures import cov as cov_figs
from reparam_ui.figures import grad as G

GRAD = "pages/gradient_estimators.py"
HOME = "pages/home.py"
COV = "pages/change_of_variables.py"
TABS = [
    "Monte Carlo run",
    "Variance curves (Fig. 2)",
    "Where each fails",
    "Beyond the Gaussian",
    "Dimension",
]
CHECK_VIEW = "Check and other maps"


def ok(at) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def text(at) -> str:
    """Everything the page says: Markdown, captions and LaTeX blocks."""
    return "\n".join(x.value for x in [*at.markdown, *at.caption, *at.latex])


def open_tab(at, label: str) -> AppTest:
    """Open one of the gradient page's lazy tabs, as a click on it does."""
    at.session_state["ge_tab"] = label
    if "ge_tab" in at.query_params:  # AppTest sends its query string on every run
        at.query_params["ge_tab"] = label
    at.run()
    return ok(at)


def open_formulas(at) -> AppTest:
    """Open the lazy expander with the four estimators' formulas, as a click on it does."""
    at.session_state["ge_four"] = True
    at.run()
    return ok(at)


def slider(at, start: str):
    return next(s for s in at.slider if s.label.startswith(start))


def page_table(at) -> dict[str, list[str]]:
    """The gradient page's summary table (Markdown) as columns of the cells as shown."""
    (md,) = [m.value for m in at.markdown if m.value.startswith("| estimator |")]
    head, _, *rows = md.split("\n")
    names = [c.strip() for c in head.strip("|").split(" | ")]
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", r.strip()[1:-1])] for r in rows]
    return {name: [row[i] for row in cells] for i, name in enumerate(names)}


def table_for(name: str, k: float, mu: float, wrt: str, n: int = 2000, seed: int = 0) -> dict:
    f = F.get(name, k)
    samples = {m: E.gradient_samples(f, (mu, 1.0), m, n, seed, wrt=wrt) for m in E.METHODS}
    return G.summary_table(E.exact_stats(f, (mu, 1.0))[wrt], samples, n)


# ------------------------------------------------------------ 1. the sign of k in f's LaTeX


@pytest.mark.parametrize(
    "name,k,latex",
    [
        ("square", -3.0, "(x + 3)^2"),
        ("square", 2.0, "(x - 2)^2"),
        ("square", 0.0, "x^2"),
        ("square", -0.0, "x^2"),
        ("square", 2.5, "(x - 2.5)^2"),
        ("exp", -1.0, r"\exp(x^2)"),
        ("exp", 1.0, r"\exp(-x^2)"),
        ("exp", 10.0, r"\exp(-10\,x^2)"),
        ("exp", -3.0, r"\exp(3\,x^2)"),
        ("exp", 0.0, r"\exp(0\cdot x^2) = 1"),
        ("cos", 5.0, r"\cos(5\,x)"),
        ("cos", -2.0, r"\cos(-2\,x)"),
        ("cos", 1.0, r"\cos(x)"),
        ("cos", -1.0, r"\cos(-x)"),
        ("cos", 0.0, r"\cos(0\cdot x) = 1"),
        ("step", -3.0, r"\mathbb 1[x > -3]"),
        ("step", -0.0, r"\mathbb 1[x > 0]"),
        ("abs", -3.0, r"\lvert x + 3\rvert"),
        ("abs", 1.5, r"\lvert x - 1.5\rvert"),
        ("abs", 0.0, r"\lvert x\rvert"),
        ("square", 1e-7, r"(x - 1\times 10^{-7})^2"),
        ("abs", -2.5e-6, r"\lvert x + 2.5\times 10^{-6}\rvert"),
    ],
)
def test_function_latex_formats_the_sign_of_k(name, k, latex):
    assert F.get(name, k).latex == latex


@pytest.mark.parametrize("name", F.NAMES)
def test_function_latex_has_no_doubled_or_python_signs(name):
    for k in (-20.0, -3.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 3.0, 20.0, -1e-7, 1e-7):
        tex = F.get(name, k).latex
        assert not re.search(r"-\s*-|\+\s*-|-\s*\+|\+\s*\+|-0(?![.\d])|\de[-+]?\d", tex), (k, tex)


def test_the_worked_square_case_shows_x_plus_3():
    at = open_tab(ok(app_test(GRAD)), TABS[2])
    next(b for b in at.button if b.label == "Try (x + 3)²").click().run()
    ok(at)
    tex = " ".join(x.value for x in at.latex)
    assert "(x + 3)^2" in tex and "- -3" not in tex


# ------------------------------------------------------------ 2, 5, 6, 9. the gradient page's text


def test_the_kink_claim_names_absolute_continuity():
    at = open_tab(ok(app_test(GRAD)), TABS[2])
    said = text(at)
    assert "absolutely continuous" in said
    assert "because $f$ is continuous" not in said
    assert "Cantor" in said  # why continuity alone is not enough


def test_the_intro_does_not_draw_every_estimator_from_mu_plus_sigma_eps():
    at = ok(app_test(GRAD))
    (intro,) = [m.value for m in at.markdown if m.value.startswith("Four ways")]
    assert "Weibull" in intro and "Maxwell" in intro
    assert "measure-valued" in intro


def test_the_cost_column_and_the_formulas_say_what_a_cost_is():
    at = ok(app_test(GRAD))
    t = page_table(at)
    (cost_col,) = [c for c in t if "/ sample" in c]
    assert "eval" in cost_col and t[cost_col] == ["1", "1", "1", "2"]
    caption = " ".join(c.value for c in at.caption)
    assert "backward pass" in caption and "per parameter" in caption
    said = text(open_formulas(at))
    assert "per parameter" in said and "backward pass" in said


def test_the_weibull_parameters_are_named():
    said = " ".join(x.value for x in open_formulas(ok(app_test(GRAD))).latex)
    assert (
        r"\text{scale }\sqrt2" in said
        and r"\text{shape }2" in said
        and r"\mathrm{Rayleigh}(1)" in said
    )
    assert r"\mathrm{Weibull}(\sqrt2,2)" not in said


# ------------------------------------------------------------ 7, 8. the estimator table


def test_zero_variance_bias_shows_in_z():
    """Pathwise on the step: every sample is 0, Var = SE = 0, so z needs a floor to show the bias."""
    t = table_for("step", 0.0, 1.0, "mu")
    z = t["z (MC vs true)"]
    assert t["Var[ĝ]"][0] == 0.0 and t["bias"][0] < -0.2
    assert math.isfinite(z[0]) and z[0] < -1e6
    assert all(abs(v) < 5 for v in z[1:])


def test_the_page_flags_the_biased_estimator():
    at = open_tab(ok(app_test(GRAD)), TABS[2])
    next(b for b in at.button if b.label == "Try the step").click().run()
    ok(at)
    t = page_table(at)
    assert t["z (MC vs true)"][0] != "—"
    caption = " ".join(c.value for c in at.caption)
    assert re.search(r"[Bb]iased here: pathwise", caption), caption


CASES = [  # μ = k (or a symmetric f at μ = 0): exact zeros next to noise-level round-off
    ("square", 1.0, 1.0, "mu"),
    ("abs", 1.0, 1.0, "mu"),
    ("step", 1.0, 1.0, "mu"),
    ("step", 1.0, 1.0, "sigma"),
    ("cos", 2.0, 0.0, "mu"),
    ("exp", 1.0, 0.0, "mu"),
]


@pytest.mark.parametrize("name,k,mu,wrt", CASES)
def test_exact_zeros_are_zero_and_no_ratio_to_zero_is_shown(name, k, mu, wrt):
    t = table_for(name, k, mu, wrt)
    ex = E.exact_stats(F.get(name, k), (mu, 1.0))[wrt]
    scale = max([abs(ex.true)] + [math.sqrt(ex.variance[m]) for m in E.METHODS])
    for col in ("true ∇", "E[ĝ]", "bias", "MC mean"):
        for v in t[col]:
            assert v == 0.0 or abs(v) > 1e-6 * scale, (col, t[col])
    for col in ("Var[ĝ]", "MC variance"):
        for v in t[col]:
            assert v == 0.0 or v > 1e-6 * scale**2, (col, t[col])
    for col in ("Var ÷ best", "work ÷ best"):
        assert all(math.isnan(r) or r <= 1e6 for r in t[col]), (col, t[col])
    unbiased_zero = [
        i for i, (b, v) in enumerate(zip(t["bias"], t["Var[ĝ]"], strict=True)) if b == v == 0.0
    ]
    if unbiased_zero:  # the best variance is 0: no ratio to it
        assert all(math.isnan(r) for r in t["Var ÷ best"] + t["work ÷ best"])
    for i, z in enumerate(t["z (MC vs true)"]):
        if t["bias"][i] == 0.0:
            assert abs(z) < 5, (i, t["z (MC vs true)"])


def test_square_at_mu_equals_k_has_an_exact_zero_gradient():
    t = table_for("square", 1.0, 1.0, "mu")
    assert t["true ∇"] == [0.0] * 4 and t["E[ĝ]"] == [0.0] * 4
    assert t["Var[ĝ]"][3] == 0.0 and t["MC mean"][3] == 0.0 and t["MC variance"][3] == 0.0
    assert t["z (MC vs true)"][3] == 0.0


def test_the_page_at_mu_equals_k_shows_no_round_off():
    at = ok(app_test(GRAD))  # square, θ = μ by default
    slider(at, "k").set_value(1.0)
    slider(at, "μ").set_value(1.0)
    at.run()
    ok(at)
    md = next(m.value for m in at.markdown if m.value.startswith("| estimator |"))
    assert not re.search(r"e[-+](1[5-9]|[2-9]\d)", md), md  # no 1e-16 or 6e+31
    caption = " ".join(c.value for c in at.caption)
    assert "True gradient 0." in caption, caption


# ------------------------------------------------------------ 3, 4. home


@pytest.fixture(scope="module")
def home():
    return ok(app_test(HOME))


def test_home_states_the_condition_of_the_pathwise_gradient(home):
    said = text(home)
    assert "absolutely continuous" in said and "almost everywhere" in said
    assert "needs **$f$ differentiable**" not in said


def test_home_states_the_condition_of_the_change_of_variables(home):
    said = text(home)
    assert r"h'(x) \neq 0" in said and "x^3" in said


# ------------------------------------------------------------ 10, 11. beyond the Gaussian


def _beyond():
    from reparam_ui.views.beyond_gaussian import render

    render()


@pytest.fixture(scope="module")
def beyond():
    at = AppTest.from_function(_beyond, default_timeout=120)
    at.run()
    return ok(at)


def test_a_discrete_sample_has_a_piecewise_constant_map(beyond):
    said = text(beyond)
    assert "has none" not in said
    assert r"\operatorname{onehot}(\arg\max(\ell + G))" in said and "almost everywhere" in said


def test_a_gamma_sample_has_a_map_without_closed_form(beyond):
    said = text(beyond)
    assert "no explicit" not in said
    assert r"F^{-1}(u\mid\alpha)" in said and "closed form" in said


def test_the_finite_difference_paragraph_says_it_converges_to_a_biased_limit(beyond):
    said = text(beyond)
    assert "no derivative to converge to" not in said
    para = next(m.value for m in beyond.markdown if m.value.startswith("Marsaglia–Tsang"))
    assert "converge" in para and "biased" in para and "Naesseth" in para


# ------------------------------------------------------------ 12, 13, 14. change of variables


def test_the_derivation_says_what_the_seed_skips():
    said = text(ok(app_test(COV)))
    assert "The seed stops here" not in said
    assert r"skips the substitution $g(y) - \mu = \sigma y$" in said


def test_the_ks_caption_distinguishes_increasing_and_decreasing_maps():
    at = ok(app_test(COV))
    next(s for s in at.segmented_control if CHECK_VIEW in s.options).set_value(CHECK_VIEW).run()
    caption = " ".join(c.value for c in ok(at).caption)
    assert "1 − F_X∘g" in caption and "decreasing" in caption


def test_the_density_error_reference_is_a_bound():
    d = T.TransformedDensity(T.Normal(0, 1), T.Sigmoid())
    result = checks.agreement_vs_n(d, (10, 100, 1000), seed=0)
    fig = cov_figs.agreement_figure(result)
    (ref,) = [t for t in fig.data if np.allclose(t.y, result["density_error_ref"])]
    assert "bound" in ref.name, ref.name
