"""AppTest of the change-of-variables page: every control, invalid values, URL state, no exception."""

from __future__ import annotations

import numpy as np
import pytest
from charts import decode, figures
from conftest import APP, app_test
from streamlit.testing.v1 import AppTest

PAGE = "pages/change_of_variables.py"
CHECK_VIEW = "Check and other maps"


@pytest.fixture
def at():
    at = app_test(PAGE)
    assert not at.exception, [e.value for e in at.exception]
    return at


def with_query(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
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
    assert at.query_params["mu"] == "2.0" and at.query_params["view"] == "Animation"
    assert [b.label for b in at.get("download_button")] == ["Animation (HTML)", "Samples (CSV)"]


def test_mu_and_sigma_update_the_figure_and_the_derivation(at):
    at.slider(key="mu").set_value(-1.5).run()
    at.slider(key="sigma").set_value(2.0).run()
    no_exception(at)
    (spec,) = charts(at)
    x0, x_end = rug(spec, 0), rug(spec, -1)
    np.testing.assert_allclose(x_end, (x0 + 1.5) / 2.0, rtol=1e-5, atol=1e-5)
    assert r"(-1.5) + 2\,y" in latex(at)
    assert at.query_params["mu"] == "-1.5" and at.query_params["sigma"] == "2.0"


def test_mode_switches_to_the_reparameterization_direction(at):
    at.segmented_control(key="mode").set_value("reparameterize").run()
    no_exception(at)
    (spec,) = charts(at)
    eps = np.random.default_rng(0).standard_normal(200)
    np.testing.assert_allclose(rug(spec, 0), eps, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rug(spec, -1), 2.0 + 0.6 * eps, rtol=1e-5, atol=1e-5)
    assert r"\frac{\partial x}{\partial \sigma} = \varepsilon" in latex(at)


def test_n_seed_and_speed(at):
    at.slider(key="n").set_value(60).run()
    at.slider(key="seed").set_value(7).run()
    at.slider(key="speed").set_value(300).run()
    no_exception(at)
    (spec,) = charts(at)
    x = 2.0 + 0.6 * np.random.default_rng(7).standard_normal(60)
    np.testing.assert_allclose(rug(spec, 0), x, rtol=1e-5, atol=1e-5)
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["duration"] == 300


@pytest.mark.parametrize("sigma", [0.0, -1.0, -1e9])
def test_non_positive_sigma_gets_a_message_naming_sigma(at, sigma):
    at.slider(key="sigma").set_value(sigma).run()
    no_exception(at)
    assert any("sigma must be > 0" in e.value for e in at.error)
    assert not charts(at)
    at.slider(key="sigma").set_value(1.0).run()  # and the page recovers
    no_exception(at)
    assert not at.error and len(charts(at)) == 1


def test_too_narrow_sigma_gets_a_message(at):
    at.slider(key="sigma").set_value(0.001).run()
    no_exception(at)
    assert any("too narrow" in e.value and "sigma" in e.value for e in at.error)


def test_invalid_sigma_from_the_url_gets_a_message():
    at = with_query({"sigma": "-2", "mu": "1"})  # below the σ slider: ignored, with a warning
    no_exception(at)
    assert any("`sigma`" in w.value and "≥ 0" in w.value for w in at.warning)
    assert at.session_state["mu"] == 1.0 and at.session_state["sigma"] == 0.6
    at = with_query({"sigma": "0"})  # on the slider, but not a valid σ: the core says why
    no_exception(at)
    assert any("sigma must be > 0" in e.value for e in at.error)


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
    assert any(f"`{warned}`" in w.value for w in at.warning)
    assert len(charts(at)) == 1


def test_url_restores_the_view():
    at = with_query(
        {"mode": "reparameterize", "mu": "-1.5", "sigma": "2", "n": "100", "seed": "3"}
        | {"speed": "200", "map": "sigmoid", "view": CHECK_VIEW}
    )
    no_exception(at)
    state = {k: at.session_state[k] for k in ("mode", "mu", "sigma", "n", "seed", "speed", "map")}
    assert state == {
        "mode": "reparameterize",
        "mu": -1.5,
        "sigma": 2.0,
        "n": 100,
        "seed": 3,
        "speed": 200,
        "map": "sigmoid",
    }
    assert at.session_state["view"] == CHECK_VIEW
    assert len(charts(at)) == 2  # the check view: map figure + agreement figure
    assert r"\log\frac{y}{1-y}" in latex(at)


def test_check_view_and_map_selector(at):
    at.segmented_control(key="view").set_value(CHECK_VIEW).run()
    no_exception(at)
    for name, tex in [("sinh", "asinh"), ("sigmoid", r"\log\frac{y}{1-y}"), ("standardize", "")]:
        at.selectbox(key="map").set_value(name).run()
        no_exception(at)
        assert tex in latex(at)
        fig_map, fig_agree = charts(at)
        assert fig_agree["layout"]["xaxis"]["type"] == "log"
    # The map choice survives a visit to the other view (its widget is not drawn there).
    at.segmented_control(key="view").set_value("Animation").run()
    assert len(charts(at)) == 1
    at.segmented_control(key="view").set_value(CHECK_VIEW).run()
    assert at.selectbox(key="map").value == "standardize"
    assert at.query_params["map"] == "standardize"


@pytest.mark.parametrize(
    "values",
    [
        {"mode": "standardize", "mu": 5.0, "sigma": 5.0, "n": 400, "seed": 1000, "speed": 20},
        {"mode": "reparameterize", "mu": -5.0, "sigma": 0.05, "n": 20, "seed": 0, "speed": 500},
        {"mode": "standardize", "mu": 5.0, "sigma": 0.05, "n": 400, "seed": 999, "speed": 20},
    ],
)
def test_extreme_values_in_both_views_raise_nothing(at, values):
    at.segmented_control(key="mode").set_value(values["mode"])
    at.slider(key="mu").set_value(values["mu"])
    at.slider(key="sigma").set_value(values["sigma"])
    at.slider(key="n").set_value(values["n"])
    at.slider(key="seed").set_value(values["seed"])
    at.slider(key="speed").set_value(values["speed"]).run()
    no_exception(at)
    assert not at.error and len(charts(at)) == 1
    at.segmented_control(key="view").set_value(CHECK_VIEW).run()
    for name in ("standardize", "exp", "sigmoid", "sinh"):
        at.selectbox(key="map").set_value(name).run()
        no_exception(at)
        assert len(charts(at)) == 2


def test_page_modules_never_import_torch():
    """Cold start: the page's imports (core, figures, shared helpers) must not pull torch in."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys; import reparam_core.transforms, reparam_core.checks, reparam_ui.cov_figs, "
        "reparam_ui.common; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    src = (root / "pages/change_of_variables.py").read_text()
    assert not re.search(r"^\s*(import|from)\s+torch", src, re.M)
