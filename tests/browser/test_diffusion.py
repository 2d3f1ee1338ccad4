"""The Diffusion page in a real Chromium: the forward animation plays in the browser, Play trains
(the step counter and the loss chart advance) and Pause stops it, the reverse animation renders,
and a phone-wide window has no sideways scroll."""

import pytest

from tests.support.browser import (
    STEP_JS,
    exception_count,
    live_canvas_js,
    loss_chart_x_js,
    open_page,
    wait_for_app,
)

pytestmark = pytest.mark.browser

NAME = "diffusion"
SMALL = "dif_width=64&dif_batch=128"
SCRIPT_STATE = "() => document.querySelector('[data-testid=stApp]').dataset.testScriptState"
CANVAS_JS = live_canvas_js("dif_live")
LOSS_X_JS = loss_chart_x_js("dif_live", "dif_loss")
PLAY_ENABLED_JS = """() => {
  const b = [...document.querySelectorAll('button')].find((b) => b.innerText.includes('Play'));
  return !!b && !b.disabled;
}"""
SIDEWAYS_JS = (
    """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""
)


def plot(key: str) -> str:
    return f".st-key-{key} .js-plotly-plot"


def slider_active(key: str) -> str:
    return f"""() => {{
    const gd = document.querySelector('{plot(key)}');
    return gd && gd._fullLayout && gd._fullLayout.sliders ? gd._fullLayout.sliders[0].active : null;
}}"""


def frame_count(key: str) -> str:
    return f"() => document.querySelector('{plot(key)}')._transitionData._frames.length"


def wait_for_chart(page, key: str) -> None:
    page.wait_for_function(
        f"() => !!document.querySelector('{plot(key)} .main-svg')", timeout=60_000
    )


def open_tab(page, label: str) -> None:
    page.get_by_role("tab", name=label).click()
    wait_for_app(page)


def test_the_forward_animation_plays_in_the_browser(app_url, page):
    open_page(page, app_url, NAME)
    wait_for_chart(page, "dif_forward")
    assert page.evaluate(slider_active("dif_forward")) == 0
    frames = page.evaluate(frame_count("dif_forward"))
    assert frames == 25  # T = 100: t = 0, 4, …, 100
    page.locator(f"{plot('dif_forward')} .updatemenu-button").filter(has_text="Play").click()
    page.wait_for_function(f"() => ({slider_active('dif_forward')})() >= 3", timeout=30_000)
    assert page.evaluate(SCRIPT_STATE) == "notRunning"  # playback is in the browser
    page.wait_for_function(
        f"() => ({slider_active('dif_forward')})() === {frames - 1}", timeout=60_000
    )
    shown = f"""() => {{ const s = document.querySelector('{plot("dif_forward")}')._fullLayout.sliders[0];
      return s.steps[s.active].label; }}"""
    assert page.evaluate(shown) == "t = 100"
    assert page.locator(f"{plot('dif_forward')} .slider-group").get_by_text("t = 100").count() >= 1
    # the density contours are drawn behind the points
    assert page.locator(f"{plot('dif_forward')} .contourlayer path").count() > 0
    assert exception_count(page) == 0


def test_play_trains_and_pause_stops(app_url, page):
    open_page(page, app_url, NAME, SMALL + "&dif_tab=Live+training")
    assert page.evaluate(STEP_JS) == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => ({STEP_JS})() > 0")
    first_step, first_x = page.evaluate(STEP_JS), page.evaluate(LOSS_X_JS)
    page.wait_for_function(f"(s) => ({STEP_JS})() > s + 100", arg=first_step)
    page.wait_for_function(f"(x) => ({LOSS_X_JS})() > x", arg=first_x)
    assert page.evaluate(f"() => !!({CANVAS_JS})()")  # the live canvas while playing
    assert exception_count(page) == 0

    page.get_by_role("button", name="Pause").click()
    page.wait_for_function(PLAY_ENABLED_JS)
    wait_for_app(page)
    paused_step, paused_x = page.evaluate(STEP_JS), page.evaluate(LOSS_X_JS)
    assert paused_step > first_step and paused_x > 0
    page.wait_for_timeout(2000)  # several ticks' worth: nothing may move while paused
    assert page.evaluate(STEP_JS) == paused_step
    assert page.evaluate(LOSS_X_JS) == paused_x
    # paused: interactive plotly charts, with the score fields
    wait_for_chart(page, "dif_loss")
    wait_for_chart(page, "dif_field_fig")
    assert exception_count(page) == 0


def test_the_reverse_animation_renders_and_plays(app_url, page):
    open_page(
        page,
        app_url,
        NAME,
        "dif_tab=Reverse+%28sampling%29&dif_source=oracle&dif_sampler=ddim&dif_steps=20",
    )
    wait_for_chart(page, "dif_reverse")
    assert page.evaluate(frame_count("dif_reverse")) == 21  # DDIM, 20 steps: every state
    page.locator(f"{plot('dif_reverse')} .updatemenu-button").filter(has_text="Play").click()
    page.wait_for_function(f"() => ({slider_active('dif_reverse')})() >= 3", timeout=30_000)
    oracle = page.locator("[data-testid=stMetric]").filter(has_text="oracle (exact score)")
    value = float(oracle.locator("[data-testid=stMetricValue]").inner_text())
    assert -3.0 < value < -2.0  # moons: the ceiling E[log p_data] is −2.394
    assert exception_count(page) == 0


@pytest.mark.parametrize("tab", ["", "Live+training", "Reverse+%28sampling%29"])
def test_a_phone_wide_window_has_no_sideways_scroll(app_url, browser, tab):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, app_url, NAME, f"dif_tab={tab}" if tab else "")
        assert exception_count(page) == 0
        assert page.evaluate(SIDEWAYS_JS) <= 0
    finally:
        context.close()
