"""The change-of-variables page in a real Chromium: Play advances the frame slider in the browser,
URL parameters are applied, invalid and extreme values show messages, never an exception."""

import numpy as np
import pytest

from tests.support.browser import exception_count, open_page, wait_for_app

pytestmark = pytest.mark.browser

NAME = "change_of_variables"
PLOT = ".rl-plot.js-plotly-plot"  # reparam_ui.components.plot_element, once drawn
SLIDER_ACTIVE = f"""() => {{
    const gd = document.querySelector('{PLOT}');
    return gd && gd._fullLayout && gd._fullLayout.sliders ? gd._fullLayout.sliders[0].active : null;
}}"""
RUG_LENGTH = f"() => document.querySelector('{PLOT}')._fullData[2].x.length"
SCRIPT_STATE = "() => document.querySelector('[data-testid=stApp]').dataset.testScriptState"


def wait_for_chart(page, count: int = 1) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('{PLOT} .main-svg').length >= {count}", timeout=60_000
    )


def test_play_advances_the_frame_slider_without_a_rerun(app_url, page):
    open_page(page, app_url, NAME)
    wait_for_chart(page)
    assert page.evaluate(SLIDER_ACTIVE) == 0
    page.locator(f"{PLOT} .updatemenu-button").filter(has_text="Play").click()
    page.wait_for_function(f"() => ({SLIDER_ACTIVE})() >= 3", timeout=30_000)
    assert page.evaluate(SCRIPT_STATE) == "notRunning"  # playback is in the browser
    page.wait_for_function(f"() => ({SLIDER_ACTIVE})() === 30", timeout=60_000)  # the last frame
    assert exception_count(page) == 0


def test_url_parameters_are_applied(app_url, page):
    query = "cov_mode=reparameterize&cov_mu=-1.5&cov_sigma=2&cov_n=100&cov_seed=3&cov_speed=200"
    open_page(page, app_url, NAME, query=query)
    wait_for_chart(page)
    for label, value in (("μ (mean)", -1.5), ("σ (std. dev., > 0)", 2.0), ("Seed", 3.0)):
        slider = page.locator("[data-testid=stSlider]").filter(has_text=label)
        assert float(slider.locator("input[type=range]").input_value()) == value, label
    assert page.get_by_role("radio", name="ε → x = μ + σε").is_checked()
    assert page.evaluate(RUG_LENGTH) == 100
    assert "cov_mu=-1.5" in page.url and "cov_mode=reparameterize" in page.url
    assert exception_count(page) == 0


def test_check_view_renders_and_is_shareable(app_url, page):
    open_page(page, app_url, NAME, query="cov_map=sigmoid")
    page.get_by_text("Check and other maps", exact=True).click()
    wait_for_app(page)
    wait_for_chart(page, 2)
    assert "cov_view=Check" in page.url and "cov_map=sigmoid" in page.url
    assert exception_count(page) == 0


@pytest.mark.parametrize("sigma", ["-1", "0.001"])
def test_invalid_sigma_in_the_url_shows_a_message(app_url, page, sigma):
    open_page(page, app_url, NAME, query=f"cov_sigma={sigma}")
    alert = page.locator("[data-testid=stAlert]").filter(has_text="sigma")
    assert alert.count() == 1 and alert.first.is_visible()
    assert exception_count(page) == 0


@pytest.mark.parametrize(
    "query",
    [
        "cov_mode=reparameterize&cov_mu=-5&cov_sigma=5&cov_n=400&cov_seed=1000000&cov_speed=20",
        "cov_mu=5&cov_sigma=0.05&cov_n=20&cov_speed=500&cov_view=Check+and+other+maps&cov_map=exp",
        "cov_mu=abc&cov_sigma=inf&cov_n=-3&cov_seed=1e99&cov_mode=zzz&cov_view=nope",
    ],
)
def test_extreme_values_raise_no_exception(app_url, page, query):
    open_page(page, app_url, NAME, query=query)
    wait_for_chart(page)
    assert exception_count(page) == 0


def test_the_html_download_plays_offline(page, tmp_path):
    """The animation's HTML download (downloads.figure_html, plotly.js inlined) opened from disk, with
    every request blocked: the chart draws, has its 31 frames, and Play moves the frame slider."""
    from reparam_core import transforms as T
    from reparam_ui import downloads
    from reparam_ui.figures import cov as cov_figs

    path = T.standardize_path(2.0, 0.6, 15)
    spec = cov_figs.animation_spec(np.random.default_rng(0).standard_normal(200) * 0.6 + 2.0, path)
    file = tmp_path / "change_of_variables.html"
    file.write_bytes(downloads.figure_html(spec))
    page.route("http*://**", lambda route: route.abort())  # offline: nothing may be fetched
    page.goto(file.as_uri())
    page.wait_for_selector(".plotly-graph-div .main-svg")
    gd = "document.querySelector('.plotly-graph-div')"
    assert page.evaluate(f"() => {gd}._transitionData._frames.length") == len(path) == 31
    page.get_by_text("▶ Play").click()
    page.wait_for_function(f"() => {gd}._fullLayout.sliders[0].active > 3", timeout=30_000)
