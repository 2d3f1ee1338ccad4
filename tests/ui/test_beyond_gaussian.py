"""The "Beyond the Gaussian" view: AppTest of render() for every control, and its figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.support.charts import chart_elements, figure_of
from tests.support.tables import markdown_tables

from reparam_core import discrete as D
from reparam_core import functions as F
from reparam_core import implicit as IM
from reparam_core.registry import DISCRETE
from reparam_ui.figures import beyond as B


def _script():
    from reparam_ui.views.beyond_gaussian import render

    render()


def run_view(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    return at


def charts(at) -> dict[str, dict]:
    """Plotly figures by element id suffix (bg_fig_*) → figure JSON."""
    out = {}
    for el in chart_elements(at):
        out[el.proto.id] = figure_of(el)
    return out


def text(at) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)


def ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(scope="module")
def at0():
    return run_view()


def test_default_view_renders_everything(at0):
    ok(at0)
    assert not at0.error, [e.value for e in at0.error]
    assert len(chart_elements(at0)) == 5
    assert "exact $\\partial\\,\\mathbb E[f]/\\partial\\theta = 0.025$" in text(at0)
    assert len(at0.latex) >= 5
    assert len(markdown_tables(at0)) == 3
    assert not at0.dataframe  # one table policy: static Markdown tables
    keys = {b.proto.id for b in at0.get("download_button")}
    assert len(keys) == 5
    assert at0.query_params["bg_shape"] == "square"
    assert at0.query_params["bg_theta"] == "0.0" and at0.query_params["bg_alpha"] == "1.0"


def test_default_tau_figure_has_log_axes_and_exact_line(at0):
    figs = [f for f in charts(at0).values() if "temperature" in json.dumps(f["layout"])]
    assert len(figs) == 1
    lay = figs[0]["layout"]
    assert all(lay[f"xaxis{s}"]["type"] == "log" for s in ("", "2", "3"))
    assert lay["yaxis2"]["type"] == "log" and lay["yaxis3"]["type"] == "log"
    lines = [s for s in lay["shapes"] if s.get("y0") == s.get("y1") and s.get("y0") is not None]
    assert any(abs(s["y0"] - 0.025) < 1e-12 for s in lines)


def test_url_keeps_other_keys_and_restores_state():
    at = run_view(
        {"other_view": "7", "bg_shape": "abs", "bg_alpha": "2.5", "bg_dist": "categorical"}
    )
    ok(at)
    assert at.selectbox(key="bg_shape").value == "abs"
    assert at.number_input(key="bg_alpha").value == 2.5
    assert at.radio(key="bg_dist").value == "categorical"
    assert at.query_params["other_view"] == "7"  # sync_query_keys leaves foreign keys alone
    at.number_input(key="bg_theta").set_value(1.5).run()
    ok(at)
    assert at.query_params["other_view"] == "7"
    assert at.query_params["bg_theta"] == "1.5"


@pytest.mark.parametrize(
    "key, raw",
    [
        ("bg_theta", "abc"),
        ("bg_tau", "0"),
        ("bg_alpha", "1e9"),
        ("bg_shape", "cube"),
        ("bg_n", "1.5"),
    ],
)
def test_invalid_url_values_warn_and_fall_back(key, raw):
    at = run_view({key: raw})
    ok(at)
    assert any(key in w.value for w in at.warning), [w.value for w in at.warning]


def test_bernoulli_controls(at0):
    at = run_view()
    at.number_input(key="bg_t").set_value(0.2).run()
    ok(at)
    # p(1−p)((1−t)² − t²) = 0.25 · (1 − 2t) = 0.15
    assert "= 0.15$" in text(at)
    at.number_input(key="bg_theta").set_value(1.0).run()
    p = 1 / (1 + math.exp(-1.0))
    assert f"= {p * (1 - p) * 0.6:.6g}$" in text(at)
    at.selectbox(key="bg_shape").set_value("quartic").run()
    ok(at)
    assert "biased by" in text(at)
    at.number_input(key="bg_tau").set_value(0.1).run()
    assert "At τ = 0.1" in text(at)
    before = list(markdown_tables(at)[0].values())[5]
    at.number_input(key="bg_seed").set_value(12).run()
    after = list(markdown_tables(at)[0].values())[5]
    assert before != after  # the Monte Carlo run uses the seed
    at.number_input(key="bg_n").set_value(2).run()
    ok(at)
    assert "n = 2 samples" in text(at)
    assert not at.error


def test_table_matches_core_exact_values(at0):
    table = markdown_tables(at0)[0]
    fn = D.bernoulli_objective()
    c = D.tau_curves(fn, 0.0, [0.5], n=10)
    names = {e.label: name for name, e in DISCRETE.items()}
    assert len(table["estimator"]) == len(c.mean)
    for label, mean, var in zip(
        table["estimator"], table["E[estimate]"], table["variance (n=10)"], strict=True
    ):
        method = names[label]
        # shown to 6 significant digits: a rounding, so within half a unit of the 6th digit
        assert mean == pytest.approx(c.mean[method][0], rel=5e-6)
        assert var == pytest.approx(c.variance[method][0], rel=5e-6)


def test_categorical_controls():
    at = run_view()
    at.radio(key="bg_dist").set_value("categorical").run()
    ok(at)
    assert "Monte Carlo" in text(at)
    at.slider(key="bg_K").set_value(5).run()
    ok(at)
    # exact ∂/∂l₀ for uniform logits, f = Σ (z_k − t_k)²: −2 p₀ (t₀ − Σ p t) with t = (.45, .1375 …)
    t = np.array([0.45] + [0.55 / 4] * 4)
    expect = -2 * 0.2 * (0.45 - t.mean())
    assert f"= {expect:.6g}$" in text(at)


def test_simplex_animation_has_frames(at0):
    figs = [f for f in charts(at0).values() if f.get("frames")]
    assert len(figs) == 1
    assert len(figs[0]["frames"]) == 25
    assert figs[0]["layout"]["sliders"][0]["steps"][0]["label"] == "5"


def test_implicit_controls():
    at = run_view()
    at.number_input(key="bg_alpha").set_value(3.0).run()
    ok(at)
    gamma = markdown_tables(at)[1]
    i = gamma["f"].index("z²")
    assert gamma["d/dα E[f] exact"][i] == 7.0  # 2α + 1, shown to 6 digits
    assert gamma["closed form"][i] == 7.0
    at.number_input(key="bg_gn").set_value(500).run()
    ok(at)
    assert "N = 500" in text(at)
    at.selectbox(key="bg_fd_f").set_value("z").run()
    ok(at)
    assert "E[z]" in text(at)
    at.toggle(key="bg_torch").set_value(True).run()
    ok(at)
    assert "Largest relative gap to torch" in text(at)
    gap = float(text(at).split("samples: ")[1].split(" ")[0])
    assert gap < 1e-3


def test_fd_table_shows_desync_and_exact(at0):
    fd = markdown_tables(at0)[2]
    exact = IM.exact_gradient(F.get("log", family="gamma"), 1.0)
    assert np.allclose(fd["exact gradient"], exact, rtol=5e-6)
    assert fd["desynced samples"][0] > 0  # h = 0.3 flips proposals
    assert "With no flip the finite difference tends to" in text(at0)


INVALID = [
    ("bg_theta", 1e9),
    ("bg_theta", -7.0),
    ("bg_t", 50.0),
    ("bg_tau", 0.0),
    ("bg_tau", -3.0),
    ("bg_n", 1),
    ("bg_n", 10**9),
    ("bg_seed", -5),
    ("bg_alpha", 0.0),
    ("bg_alpha", 1e6),
    ("bg_gn", 0),
]


def test_invalid_control_values_never_raise():
    at = run_view()
    for key, value in INVALID:
        w = at.number_input(key=key)
        lo, hi = w.min, w.max
        w.set_value(value).run()
        ok(at)
        # Streamlit refuses the out-of-range value; the view keeps working with a valid one
        assert lo <= at.number_input(key=key).value <= hi, key
        assert len(chart_elements(at)) == 5, key


def test_extreme_valid_values():
    at = run_view()
    for key, value in [("bg_theta", 6.0), ("bg_tau", 0.05), ("bg_alpha", 0.1), ("bg_t", -1.0)]:
        at.number_input(key=key).set_value(value).run()
        ok(at)
        assert not at.error, (key, [e.value for e in at.error])
    at.number_input(key="bg_alpha").set_value(50.0).run()
    ok(at)
    assert not at.error


# ---------------------------------------------------------------- figure builders


def test_tau_figure_builder_leaves_unbiased_out_of_bias_panel():
    c = D.tau_curves(D.bernoulli_objective("abs"), 0.0, np.geomspace(0.05, 5, 9), n=4)
    fig = B.tau_curves_figure(c, tau_mark=1.0)
    in_bias = [t.name for t in fig.data if t.xaxis == "x2"]
    assert sorted(in_bias) == sorted(
        [DISCRETE["gumbel_softmax"].label, DISCRETE["straight_through"].label]
    )
    assert len([t for t in fig.data if t.xaxis == "x3"]) == 4


def test_simplex_builder_points_on_the_triangle():
    z = D.relaxed_samples(np.zeros(3), [2.0, 0.1], 50, seed=0)
    fig = B.simplex_figure(z, [2.0, 0.1], [1 / 3] * 3)
    pts = fig.frames[1].data[0]
    x, y = np.asarray(pts.x), np.asarray(pts.y)
    # inside the triangle (0,0), (1,0), (½, √3/2)
    assert np.all(y >= -1e-12) and np.all(y <= np.sqrt(3) * x + 1e-9)
    assert np.all(y <= np.sqrt(3) * (1 - x) + 1e-9)


def test_paths_and_fd_builders():
    alphas = np.linspace(1.5, 2.5, 11)
    rej, imp = IM.sample_paths(alphas, n_paths=2, seed=0, sample_index=5)
    fig = B.sample_paths_figure(alphas, rej, imp)
    assert len(fig.data) == 4
    f2 = B.fd_figure([0.1, 0.01], [1.0, 2.0], [0.1, 0.2], 1.0, 1.2)
    assert f2.layout.xaxis.type == "log"
    f3 = B.implicit_gradient_figure(2.0, np.array([1.0, 2.0]), np.array([0.5, 1.0]))
    assert len(f3.data) == 1


def test_fuzz_every_control_no_exception():
    """Hypothesis sets 1–3 of the view's widgets at a time to boundary or random values."""
    from tests.support.fuzz import fuzz_app

    at = run_view()
    ok(at)

    def no_error(at):
        ok(at)
        assert not at.error, [e.value for e in at.error]

    fuzz_app(at, examples=15, check=no_error)
