"""AppTest of the Gradient estimators page: every control, invalid values, URL state, buttons.

Numbers in the table are checked against closed-form gradients (tests/support/exact.py)."""

from __future__ import annotations

import math
import re

import pytest

from tests.support.apps import APP, app_test
from tests.support.charts import decode, figures
from tests.support.exact import closed_gradient

from reparam_core import functions as F

PAGE = "pages/gradient_estimators.py"


TABS = [
    "Monte Carlo run",
    "Variance curves (Fig. 2)",
    "Where each fails",
    "Beyond the Gaussian",
    "Dimension",
]


@pytest.fixture(scope="module")
def session():
    """One AppTest session shared by the tests that set every control they depend on."""
    return app_test(PAGE)


def open_tab(at, label):
    """Open one of the page's lazy tabs (as a click on it does) and rerun."""
    at.session_state["ge_tab"] = label
    if "ge_tab" in at.query_params:  # AppTest sends its query string on every run
        at.query_params["ge_tab"] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def set_up(at, **values):
    """Set widgets by key (pills fn, segmented control wrt, text expr, select slider n, sliders
    otherwise), then run."""
    for key, value in values.items():
        if key == "fn":
            at.pills(key="ge_fn").set_value(value)
        elif key == "wrt":
            at.segmented_control(key="ge_wrt").set_value(value)
        elif key == "expr":
            at.run()  # the field is shown only once "custom" is chosen
            at.text_input(key="ge_expr").set_value(value)
        elif key == "n":
            at.select_slider(key="ge_n").set_value(value)
        else:
            at.slider(key=f"ge_{key}").set_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


SHOWN = 5e-4  # relative precision of the table's 4 significant digits


def table(at):
    """The page's summary table (a Markdown table) as a DataFrame indexed by estimator: numbers
    as shown (4 significant digits; full precision is in its CSV, and the estimators' exact
    values are checked to 1e-8 in tests/core/test_estimators.py), "—" as NaN."""
    import pandas as pd

    tables = [m.value for m in at.markdown if m.value.startswith("| estimator |")]
    assert len(tables) == 1, [e.value for e in at.error]
    head, align, *rows = tables[0].split("\n")
    names = [c.strip() for c in head.strip("|").split(" | ")]
    assert align.count("---") == len(names)

    def cell(text):
        text = text.strip().replace("\\|", "|")
        if text == "—":
            return math.nan
        try:
            return float(text)
        except ValueError:
            return text

    data = [[cell(c) for c in re.split(r"(?<!\\)\|", r.strip()[1:-1])] for r in rows]
    return pd.DataFrame(data, columns=names).set_index("estimator")


def charts(at):
    return figures(at)


def errors(at):
    return " | ".join(e.value for e in at.error)


def test_default_view_shows_everything():
    at = app_test(PAGE)
    assert not at.exception
    assert not at.error
    t = table(at)
    assert len(t) == 4
    assert t["true ∇"].iloc[0] == pytest.approx(2 * (1.0 - 2.0), rel=SHOWN)  # (x−2)², θ = μ
    assert list(t["f or f′ evals / sample"]) == [1, 1, 1, 2]
    assert "SE at N=2000" in t.columns
    specs = charts(at)
    assert len(specs) == 2  # f/f′/density and one Monte Carlo view (histograms by default)
    assert at.segmented_control(key="ge_mc_view").value == "hist"
    assert len(at.latex) == 2  # f(x) and ∇E[f]; the four formulas sit in a lazy expander
    assert len(at.get("download_button")) == 1
    assert [t.label for t in at.tabs] == TABS
    assert not at.get("number_input")  # sliders only: no number-input code to load
    assert not at.button  # the other tabs are lazy: the case buttons are not built yet
    at = open_tab(at, TABS[1])  # Fig. 2 is built and sent only once its tab is open
    specs = charts(at)
    assert len(specs) == 1 and not at.slider  # Fig. 2 alone: the set-up is lazy
    assert sum(len(d["y"]["bdata"]) > 0 for d in specs[0]["data"]) == 48  # 6 panels × 4 × 2
    assert len(at.get("download_button")) == 1
    at = open_tab(at, TABS[2])
    assert {b.label for b in at.button} == {"Try the step", "Try cos(5x)", "Try (x + 3)²"}
    assert not charts(at)
    text = " ".join(m.value for m in at.markdown)
    assert "0.2420" in text  # φ(1), the step's true gradient, computed live


@pytest.mark.parametrize("name", F.NAMES)
@pytest.mark.parametrize("wrt", ["mu", "sigma"])
def test_function_and_theta_select_update_the_table(session, name, wrt):
    k, mu, sigma = 0.5, 0.25, 1.5
    at = set_up(session, fn=name, k=k, mu=mu, sigma=sigma, wrt=wrt, n=1000, seed=3)
    t = table(at)
    truth = closed_gradient(name, k, mu, sigma)[0 if wrt == "mu" else 1]
    assert t["true ∇"].iloc[0] == pytest.approx(truth, rel=SHOWN, abs=1e-12)
    for est, row in t.iterrows():
        if name == "step" and est.startswith("pathwise"):
            assert row["E[ĝ]"] == 0.0 and row["bias"] == pytest.approx(-truth, rel=SHOWN)
            assert math.isnan(row["Var ÷ best"])
        else:
            assert row["bias"] == 0.0
            assert row["E[ĝ]"] == pytest.approx(truth, rel=SHOWN, abs=1e-12)
            assert row["SE at N=1000"] == pytest.approx(
                math.sqrt(row["Var[ĝ]"] / 1000), rel=2 * SHOWN
            )
            assert abs(row["z (MC vs true)"]) < 5  # Monte Carlo within 5 exact SE
    assert (t["Var ÷ best"].dropna() >= 1 - 1e-12).all()
    assert (t["Var ÷ best"] == 1.0).sum() == 1


def test_n_and_seed_change_the_monte_carlo_run(session):
    at = set_up(session, fn="cos", k=2.0, mu=1.0, sigma=1.0, wrt="mu", n=500, seed=1)
    first = table(at)["MC mean"].copy()
    assert "SE at N=500" in table(at).columns
    at = set_up(session, seed=2)
    assert (table(at)["MC mean"] != first).all()
    at = set_up(session, seed=1)
    assert (table(at)["MC mean"] == first).all()
    at = set_up(session, n=1)
    assert "SE at N=1" in table(at).columns


def test_the_sigma_slider_starts_at_the_smallest_valid_sigma():
    """σ = 0 is not on the slider (it used to be, under a label saying σ > 0); from the URL it is
    ignored with a warning naming the parameter, and the defaults' numbers are shown."""
    at = url_app(ge_sigma="0")
    slider = at.slider(key="ge_sigma")
    assert slider.min == 0.25 and slider.value == 1.0
    assert any("`ge_sigma`" in w.value and "≥ 0.25" in w.value for w in at.warning)
    assert not at.error
    assert table(at)["true ∇"].iloc[0] == pytest.approx(-2.0)  # (x − 2)², μ = 1: 2(μ − k)


def test_divergent_expectation_is_reported(session):
    at = set_up(session, fn="exp", k=-20.0, mu=0.0, sigma=1.0)
    assert "not finite" in errors(at)
    at = set_up(session, fn="exp", k=-0.3, mu=0.0, sigma=1.0)  # E[f²s²] = ∞ for 2|k|σ² ≥ ½
    assert "grows too fast" in errors(at)


def test_custom_expression_uses_the_parser(session):
    pytest.importorskip("reparam_core.expr")
    at = set_up(session, fn="custom", expr="sin(3*x) + x**2", k=1.0, mu=0.5, sigma=0.8, wrt="mu")
    assert not at.error
    # d/dμ E[sin(3x) + x²] = 3 cos(3μ) e^{−9σ²/2} + 2μ
    truth = 3 * math.cos(1.5) * math.exp(-9 * 0.8**2 / 2) + 1.0
    t = table(at)
    assert t["true ∇"].iloc[0] == pytest.approx(truth, rel=SHOWN)
    assert t["E[ĝ]"].iloc[0] == pytest.approx(truth, rel=SHOWN)  # f′ from torch autograd
    at = set_up(session, expr="k*x**3", k=2.0, wrt="sigma")  # d/dσ E[k x³] = 6kμσ
    assert table(at)["true ∇"].iloc[0] == pytest.approx(6 * 2.0 * 0.5 * 0.8, rel=SHOWN)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("__import__('os')", "not allowed"),
        ("x.__class__", "not allowed"),
        ("log(x)", "not finite"),
    ],
)
def test_bad_custom_expressions_are_messages(session, source, fragment):
    pytest.importorskip("reparam_core.expr")
    at = set_up(session, fn="custom", expr=source, k=1.0, mu=0.0, sigma=1.0)
    assert at.error, source
    assert fragment in errors(at)
    assert not any(m.value.startswith("| estimator |") for m in at.markdown)  # no table


def test_custom_text_input_is_shown_only_for_custom(session):
    at = set_up(session, fn="cos")
    assert not at.text_input
    at = set_up(session, fn="custom", expr="x")
    assert at.text_input(key="ge_expr").value == "x"
    at = set_up(session, fn="square")
    assert not at.text_input
    at = set_up(session, fn="custom")  # the expression is kept while it is hidden
    assert at.text_input(key="ge_expr").value == "x"


@pytest.mark.parametrize(
    ("label", "fn", "k"), [("Try the step", "step", 0.0), ("Try cos(5x)", "cos", 5.0)]
)
def test_case_buttons_load_the_set_up(label, fn, k):
    at = open_tab(app_test(PAGE), TABS[2])
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    assert at.session_state["ge_tab"] == TABS[0]  # back on the Monte Carlo tab, with the case
    assert at.pills(key="ge_fn").value == fn and at.slider(key="ge_k").value == k
    t = table(at)
    if fn == "step":
        assert t["bias"].iloc[0] == pytest.approx(-0.24197072451914337, rel=SHOWN)  # −φ(1)
    else:
        assert t["Var[ĝ]"].iloc[0] == pytest.approx(12.5, rel=SHOWN)  # Fig. 2, pathwise
        assert t["Var[ĝ]"].iloc[1] == pytest.approx(0.5, rel=SHOWN)  # score


def url_app(**query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_fig2_opens_from_the_url_and_follows_the_seed():
    at = url_app(ge_tab=TABS[1], ge_seed="7")
    text = " ".join(m.value for m in at.markdown)
    assert "(seed 7)" in text
    assert len(charts(at)) == 1 and len(at.get("download_button")) == 1
    first = charts(at)[0]["data"][1]["y"]  # Monte Carlo points of the first panel
    open_tab(at, TABS[0])
    at.slider(key="ge_seed").set_value(8).run()
    open_tab(at, TABS[1])
    assert "(seed 8)" in " ".join(m.value for m in at.markdown)
    assert charts(at)[0]["data"][1]["y"] != first


def test_url_state_is_applied():
    at = url_app(
        ge_fn="cos", ge_k="3", ge_mu="0.5", ge_sigma="2", ge_wrt="sigma", ge_n="200", ge_seed="9"
    )
    assert (
        at.pills(key="ge_fn").value == "cos" and at.segmented_control(key="ge_wrt").value == "sigma"
    )
    assert at.slider(key="ge_k").value == 3.0 and at.slider(key="ge_sigma").value == 2.0
    assert at.slider(key="ge_seed").value == 9 and at.select_slider(key="ge_n").value == 200
    truth = closed_gradient("cos", 3.0, 0.5, 2.0)[1]
    assert table(at)["true ∇"].iloc[0] == pytest.approx(truth, rel=SHOWN, abs=1e-14)
    assert "SE at N=200" in table(at).columns


def test_invalid_url_values_warn_and_fall_back():
    at = url_app(ge_fn="nope", ge_k="abc", ge_sigma="-1", ge_n="300", ge_wrt="tau", ge_seed="1001")
    warnings = " ".join(w.value for w in at.warning)
    for key in ("fn", "k", "sigma", "n", "wrt", "seed"):  # N off its grid, seed past 1000
        assert f"`ge_{key}`" in warnings
    assert table(at)["true ∇"].iloc[0] == pytest.approx(-2.0)  # the defaults


def test_controls_are_written_to_the_url(session):
    at = set_up(session, fn="abs", k=1.5, mu=0.0, sigma=2.0, wrt="mu", n=500, seed=4)
    assert at.query_params["ge_fn"] == ["abs"] or at.query_params["ge_fn"] == "abs"
    got = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert got["ge_k"] == "1.5" and got["ge_sigma"] == "2.0" and got["ge_n"] == "500"


EXTREMES = [
    dict(fn="cos", k=20.0, mu=-10.0, sigma=10.0, wrt="sigma", n=100_000, seed=1000),
    dict(fn="exp", k=20.0, mu=10.0, sigma=0.25, wrt="mu", n=1, seed=0),
    dict(fn="exp", k=20.0, mu=10.0, sigma=10.0, wrt="mu", n=1, seed=0),
    dict(fn="step", k=20.0, mu=-10.0, sigma=0.25, wrt="sigma", n=2, seed=0),
    dict(fn="square", k=-20.0, mu=10.0, sigma=10.0, wrt="sigma", n=100_000, seed=5),
    dict(fn="abs", k=-20.0, mu=10.0, sigma=0.25, wrt="mu", n=3, seed=1),
]


@pytest.mark.parametrize("values", EXTREMES)
def test_extreme_control_values_never_raise(session, values):
    at = set_up(session, **values)
    assert not at.error, errors(at)
    assert len(table(at)) == 4


def test_monte_carlo_view_switches_figures_and_is_in_the_url():
    at = app_test(PAGE)
    titles = []
    for view in ("running", "var_n", "hist"):
        at.segmented_control(key="ge_mc_view").set_value(view).run()
        assert not at.exception
        specs = charts(at)
        assert len(specs) == 2
        titles.append(specs[1]["layout"]["title"]["text"])
        assert at.query_params["ge_mc_view"] == view
    assert len(set(titles)) == 3  # three different figures


def test_the_four_formulas_render_when_their_expander_opens():
    at = app_test(PAGE)
    assert len(at.latex) == 2
    assert any(e.label.startswith("The four estimators") for e in at.expander)
    at.session_state["ge_four"] = True  # as a click on the lazy expander does
    at.run()
    assert len(at.latex) == 6


# ------------------------------------------------------------------ the Dimension tab


def dimension_text(at) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)


def test_dimension_tab_draws_exact_curves_and_reads_off_the_usable_dimensions():
    from reparam_core import dimension as Dm
    from reparam_core import registry

    at = open_tab(app_test(PAGE), TABS[4])
    (fig,) = [f for f in figures(at) if "dimension D" in str(f["layout"])]
    names = {t["name"] for t in fig["data"]}
    assert "pathwise bound D·L²" not in names  # square: f′ is unbounded, no bound is drawn
    exact = Dm.exact_variance(F.get("square", 2.0), (1.0, 1.0), Dm.DIMS, "mu")
    rel = Dm.relative_error(exact, Dm.DIMS, 1000)
    lines = [t for t in fig["data"] if t["mode"] == "lines" and t.get("xaxis") in (None, "x")]
    label = registry.GAUSSIAN["pathwise"].label
    pathwise = next(t for t in lines if t["name"] == label)
    # Var of the pathwise total: D · Var f′ = D · 4σ² for (x − k)²
    assert list(decode(pathwise["y"])) == pytest.approx([4.0 * d for d in Dm.DIMS])
    text = dimension_text(at)
    up = Dm.usable_up_to(Dm.DIMS, rel["score"], 0.1)
    assert f"up to D = {up:,}" in text
    assert "at every D up to 1,000" in text  # the pathwise estimator's relative error is flat
    gap = float(re.search(r"largest relative gap to the exact value ([\d.]+)%", text).group(1))
    assert gap < 15  # Monte Carlo circles sit on the exact lines
    assert at.query_params["ge_dim_fn"] == "square"


def test_dimension_tab_controls_and_zero_gradient():
    at = open_tab(app_test(PAGE), TABS[4])
    at.selectbox(key="ge_dim_fn").set_value("cos").run()
    assert not at.exception
    assert "Dotted: the pathwise bound D·L² with L = sup|f′| = 2" in dimension_text(at)
    at.radio(key="ge_dim_wrt").set_value("sigma").run()
    at.select_slider(key="ge_dim_budget").set_value(100_000).run()
    assert not at.exception
    assert "with 100,000 evaluations of F" in dimension_text(at)
    assert at.query_params["ge_dim_budget"] == "100000"
    at.selectbox(key="ge_dim_fn").set_value("square").run()
    at.number_input(key="ge_dim_k").set_value(1.0).run()  # ∂/∂σ of E(x − 1)² = 2σ ≠ 0
    assert "Usable" in dimension_text(at)
    at.radio(key="ge_dim_wrt").set_value("mu").run()  # ∂/∂μ = 2(μ − k) = 0 at μ = k = 1
    assert "The true gradient is 0 here" in dimension_text(at)
    assert not at.exception
