"""AppTest of the change-of-variables page: every control, invalid values, URL state, no exception."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apps import APP, app_test
from tests.support.charts import decode, figures

PAGE = "pages/change_of_variables.py"
CHECK_VIEW = "Check and other maps"


@pytest.fixture
def at():
    at = app_test(PAGE)
    assert not at.exception, [e.value for e in at.exception]
    return at


def with_query(query: dict[str, str]) -> AppTest:
    """The page opened with these URL settings (the page's own keys, without their `cov_`)."""
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[f"cov_{k}"] = v
    at.run()
    at.switch_page(PAGE)
    at.run()
    return at


def charts(at) -> list[dict]:
    return figures(at)


def rug(spec: dict, frame: int) -> np.ndarray:
    return decode(spec["frames"][frame]["data"][2]["x"])


def latex(at) -> str:
    """The page's formulas: st.latex blocks and Markdown (the derivation's $$ … $$ and $ … $)."""
    return " ".join(x.value for x in [*at.latex, *at.markdown])


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_default_view_shows_the_animation_and_the_completed_derivation(at):
    (spec,) = charts(at)
    assert len(spec["frames"]) == 31
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][0] is None  # Play
    tex = latex(at)
    assert r"e^{-y^2/2}" in tex and r"\mathcal N(y \mid 0, 1)" in tex
    assert r"2 + 0.6\,y" in tex  # current μ, σ substituted
    assert at.query_params["cov_mu"] == "2.0" and at.query_params["cov_view"] == "Animation"
    assert [b.label for b in at.get("download_button")] == ["Animation (HTML)", "Samples (CSV)"]


def test_mu_and_sigma_update_the_figure_and_the_derivation(at):
    at.slider(key="cov_mu").set_value(-1.5).run()
    at.slider(key="cov_sigma").set_value(2.0).run()
    no_exception(at)
    (spec,) = charts(at)
    x0, x_end = rug(spec, 0), rug(spec, -1)
    np.testing.assert_allclose(x_end, (x0 + 1.5) / 2.0, rtol=1e-5, atol=1e-5)
    assert r"(-1.5) + 2\,y" in latex(at)
    assert at.query_params["cov_mu"] == "-1.5" and at.query_params["cov_sigma"] == "2.0"


def test_mode_switches_to_the_reparameterization_direction(at):
    at.segmented_control(key="cov_mode").set_value("reparameterize").run()
    no_exception(at)
    (spec,) = charts(at)
    eps = np.random.default_rng(0).standard_normal(200)
    np.testing.assert_allclose(rug(spec, 0), eps, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rug(spec, -1), 2.0 + 0.6 * eps, rtol=1e-5, atol=1e-5)
    assert r"\frac{\partial x}{\partial \sigma} = \varepsilon" in latex(at)


def test_n_seed_and_speed(at):
    at.slider(key="cov_n").set_value(60).run()
    at.slider(key="cov_seed").set_value(7).run()
    at.slider(key="cov_speed").set_value(300).run()
    no_exception(at)
    (spec,) = charts(at)
    x = 2.0 + 0.6 * np.random.default_rng(7).standard_normal(60)
    np.testing.assert_allclose(rug(spec, 0), x, rtol=1e-5, atol=1e-5)
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["duration"] == 300


def test_invalid_sigma_from_the_url_gets_a_message():
    for raw in ("-2", "0", "0.001"):  # below the σ slider's minimum, the narrowest drawable σ
        at = with_query({"sigma": raw, "mu": "1"})
        no_exception(at)
        assert any("`cov_sigma`" in w.value and "≥ 0.05" in w.value for w in at.warning), raw
        assert at.session_state["cov_mu"] == 1.0 and at.session_state["cov_sigma"] == 0.6
        assert not at.error and len(charts(at)) == 1


def test_the_sigma_slider_starts_at_the_smallest_valid_sigma(at):
    """σ = 0 is not on the slider (it used to be, under a label saying σ > 0)."""
    slider = at.slider(key="cov_sigma")
    assert slider.min == 0.05 and slider.max == 5.0


@pytest.mark.parametrize(
    "query,warned",
    [
        ({"mu": "100"}, "mu"),
        ({"n": "abc"}, "n"),
        ({"mode": "sideways"}, "mode"),
        ({"sigma": "nan"}, "sigma"),
        ({"map": "tanh"}, "map"),
    ],
)
def test_unusable_url_values_fall_back_with_a_warning(query, warned):
    at = with_query(query)
    no_exception(at)
    assert any(f"`cov_{warned}`" in w.value for w in at.warning)
    assert len(charts(at)) == 1


def test_url_restores_the_view():
    at = with_query(
        {"mode": "reparameterize", "mu": "-1.5", "sigma": "2", "n": "100", "seed": "3"}
        | {"speed": "200", "map": "sigmoid", "view": CHECK_VIEW}
    )
    no_exception(at)
    keys = ("mode", "mu", "sigma", "n", "seed", "speed", "map")
    state = {k: at.session_state[f"cov_{k}"] for k in keys}
    assert state == {
        "mode": "reparameterize",
        "mu": -1.5,
        "sigma": 2.0,
        "n": 100,
        "seed": 3,
        "speed": 200,
        "map": "sigmoid",
    }
    assert at.session_state["cov_view"] == CHECK_VIEW
    assert len(charts(at)) == 2  # the check view: map figure + agreement figure
    assert r"\log\frac{y}{1-y}" in latex(at)


def test_check_view_and_map_selector(at):
    at.segmented_control(key="cov_view").set_value(CHECK_VIEW).run()
    no_exception(at)
    for name, tex in [("sinh", "asinh"), ("sigmoid", r"\log\frac{y}{1-y}"), ("standardize", "")]:
        at.selectbox(key="cov_map").set_value(name).run()
        no_exception(at)
        assert tex in latex(at)
        fig_map, fig_agree = charts(at)
        assert fig_agree["layout"]["xaxis"]["type"] == "log"
    # The map choice survives a visit to the other view (its widget is not drawn there).
    at.segmented_control(key="cov_view").set_value("Animation").run()
    assert len(charts(at)) == 1
    at.segmented_control(key="cov_view").set_value(CHECK_VIEW).run()
    assert at.selectbox(key="cov_map").value == "standardize"
    assert at.query_params["cov_map"] == "standardize"


@pytest.mark.parametrize(
    "values",
    [
        {"mode": "standardize", "mu": 5.0, "sigma": 5.0, "n": 400, "seed": 1000, "speed": 20},
        {"mode": "reparameterize", "mu": -5.0, "sigma": 0.05, "n": 20, "seed": 0, "speed": 500},
        {"mode": "standardize", "mu": 5.0, "sigma": 0.05, "n": 400, "seed": 999, "speed": 20},
    ],
)
def test_extreme_values_in_both_views_raise_nothing(at, values):
    at.segmented_control(key="cov_mode").set_value(values["mode"])
    at.slider(key="cov_mu").set_value(values["mu"])
    at.slider(key="cov_sigma").set_value(values["sigma"])
    at.slider(key="cov_n").set_value(values["n"])
    at.slider(key="cov_seed").set_value(values["seed"])
    at.slider(key="cov_speed").set_value(values["speed"]).run()
    no_exception(at)
    assert not at.error and len(charts(at)) == 1
    at.segmented_control(key="cov_view").set_value(CHECK_VIEW).run()
    for name in ("standardize", "exp", "sigmoid", "sinh"):
        at.selectbox(key="cov_map").set_value(name).run()
        no_exception(at)
        assert len(charts(at)) == 2


def test_page_modules_never_import_torch():
    """Cold start: the page's imports (core, figures, shared helpers) must not pull torch in."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; import reparam_core.transforms, reparam_core.checks, reparam_ui.figures.cov, "
        "reparam_ui.charts, reparam_ui.downloads, reparam_ui.state; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    src = (root / "pages/change_of_variables.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+torch", src, re.M)
