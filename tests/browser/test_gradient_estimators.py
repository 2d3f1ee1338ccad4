"""Gradient estimators in a real Chromium: changing the function updates the table and the curves;
extreme and invalid settings (from the URL) show messages, never an exception element."""

from __future__ import annotations

import math
import re

import pytest

from tests.support.browser import exception_count, open_page, show_chart, wait_for_app
from tests.support.exact import closed_gradient

pytestmark = pytest.mark.browser

TRUE_GRADIENT = re.compile(r"True gradient (-?[0-9.e+-]+)\.")
CHART_STATE = """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => ({
    n: g.data.length,
    y: JSON.stringify(g.data[1] ? g.data[1].y : null),
    shapes: (g.layout.shapes || []).map(s => [s.x0, s.y0]),
}))"""


def true_gradient_caption(page) -> float:
    text = page.locator("[data-testid=stCaptionContainer]").filter(has_text="True gradient")
    return float(TRUE_GRADIENT.search(text.first.inner_text()).group(1))


def table_text(page) -> str:
    cells = page.locator("[data-testid=stMarkdownContainer] table td")
    return " ".join(cells.all_inner_texts())


def test_changing_the_function_updates_table_and_curves(app_url, page):
    open_page(page, app_url, "gradient_estimators")
    assert exception_count(page) == 0
    assert true_gradient_caption(page) == pytest.approx(-2.0, abs=1e-6)  # (x − 2)², θ = μ
    before_table = table_text(page)
    before = page.evaluate(CHART_STATE)
    assert len(before) == 2  # f and one Monte Carlo view; Fig. 2 is lazy: its tab is closed

    page.locator("[data-testid=stButtonGroup] button").filter(has_text="cos(k x)").click()
    wait_for_app(page)
    assert exception_count(page) == 0

    truth = closed_gradient("cos", 2.0, 1.0, 1.0)[0]
    assert true_gradient_caption(page) == pytest.approx(truth, rel=1e-5)
    assert table_text(page) != before_table
    after = page.evaluate(CHART_STATE)
    assert after[0]["y"] != before[0]["y"]  # f(x) redrawn
    # the histograms are below the fold (1000 px): redrawn when they come near (plot_element.js)
    assert page.locator(".st-key-ge_fig_hist .rl-plot[data-deferred]").count() == 1
    assert page.evaluate(CHART_STATE)[1] == before[1]
    # the histograms, then the running means (the other Monte Carlo view), mark the new truth
    for view, key in (("Histograms", "ge_fig_hist"), ("Running means", "ge_fig_running")):
        if view != "Histograms":
            page.locator("[data-testid=stButtonGroup] button").filter(has_text=view).click()
            wait_for_app(page)
            assert "ge_mc_view=running" in page.url
        show_chart(page, f".st-key-{key} .rl-plot")
        chart = page.evaluate(CHART_STATE)[1]
        marks = {round(v, 9) for pair in chart["shapes"] for v in pair if v is not None}
        assert any(math.isclose(v, truth, rel_tol=1e-6) for v in marks), marks
    assert "ge_fn=cos" in page.url  # written by the set-up fragment's rerun

    page.get_by_role("tab", name="Variance curves (Fig. 2)").click()
    wait_for_app(page)
    assert exception_count(page) == 0
    assert len(page.evaluate(CHART_STATE)) == 1  # Fig. 2; the Monte Carlo tab no longer runs
    assert "ge_tab=" in page.url and "ge_fn=cos" in page.url
    page.get_by_role("tab", name="Monte Carlo run").click()  # and back: the set-up was kept
    wait_for_app(page)
    assert true_gradient_caption(page) == pytest.approx(truth, rel=1e-5)


@pytest.mark.parametrize(
    "query",
    [
        "ge_fn=cos&ge_k=20&ge_mu=-10&ge_sigma=10&ge_wrt=sigma&ge_n=100000&ge_seed=2147483647",
        "ge_fn=step&ge_k=-20&ge_mu=10&ge_sigma=0.01&ge_wrt=mu&ge_n=1&ge_seed=0",
        "ge_fn=square&ge_sigma=0&ge_k=nan&ge_n=-3&ge_wrt=tau",
        "ge_fn=custom&ge_expr=__import__('os')",
    ],
)
def test_extreme_and_invalid_settings_never_raise(app_url, page, query):
    open_page(page, app_url, "gradient_estimators", query=query)
    assert exception_count(page) == 0
    assert page.locator("h1").first.inner_text().strip() == "Gradient estimators"
    # a chart, or a message saying what to fix
    assert page.locator(".rl-plot, [data-testid=stAlert]").count() >= 1


MARK_F = """() => { const gd = document.querySelector('.st-key-ge_fig_f .rl-plot');
    gd.__mark = 'same node'; return gd._fullLayout.width; }"""
F_STATE = """() => { const gd = document.querySelector('.st-key-ge_fig_f .rl-plot');
    return {mark: gd.__mark, width: gd._fullLayout.width, title: gd.layout.title.text,
            svgs: gd.querySelectorAll('.main-svg').length}; }"""


def test_charts_update_in_place_and_follow_the_column_width(app_url, page):
    """reparam_ui.components.plot_element: a new figure goes to Plotly.react on the mounted chart (the same
    DOM node, no second plot), and the chart resizes with its column."""
    open_page(page, app_url, "gradient_estimators")
    width = page.evaluate(MARK_F)
    before = page.evaluate(F_STATE)
    page.locator("[data-testid=stMain] [data-testid=stSlider] input[type=range]").nth(
        1
    ).focus()  # μ
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    after = page.evaluate(F_STATE)
    assert after["title"] != before["title"] and "N(1.25, 1²)" in after["title"]
    assert after["mark"] == "same node" and after["svgs"] == before["svgs"]
    assert exception_count(page) == 0
    # closing the sidebar widens the main column: the chart follows without a rerun
    page.locator("[data-testid=stSidebar]").hover()  # the collapse button shows on hover
    page.locator("[data-testid=stSidebarCollapseButton] button").click()
    page.wait_for_function(
        f"() => document.querySelector('.st-key-ge_fig_f .rl-plot')._fullLayout.width > {width} + 100"
    )
    assert page.evaluate(F_STATE)["mark"] == "same node"


COUNT_TRANSITIONS = """() => {
  window.__transitions = 0;
  document.addEventListener('transitionrun', (e) => {
    if (e.target.hasAttribute('data-stale')) window.__transitions += 1;  // element containers
  }, true);
}"""


def test_a_rerun_starts_no_stale_transitions(app_url, page):
    """common.APP_CSS: elements being recomputed are not faded (Streamlit starts and cancels one
    opacity transition per element on every rerun, which a fast rerun pays for and never shows).
    The style element takes no room (Streamlit puts a style-only st.html in its event container)."""
    open_page(page, app_url, "gradient_estimators", "ge_n=100000")  # a rerun of ≈ 0.1 s
    page.evaluate(COUNT_TRANSITIONS)
    page.evaluate(
        """() => { window.__stale = 0; new MutationObserver(ms => ms.forEach(m => {
          if (m.target.getAttribute('data-stale') === 'true') window.__stale += 1; }))
          .observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-stale']});
        }"""
    )
    page.locator("[data-testid=stMain] [data-testid=stSlider] input[type=range]").first.focus()
    page.keyboard.press("ArrowRight")  # k: reruns the Monte Carlo fragment
    wait_for_app(page)
    stale_seen = page.evaluate("window.__stale")
    transitions = page.evaluate("window.__transitions")
    # Streamlit did mark the fragment's elements stale, and none of them started a transition
    assert stale_seen >= 10 and transitions == 0, (stale_seen, transitions)
    assert exception_count(page) == 0
    style_box = page.evaluate(
        """() => { const s = [...document.querySelectorAll('style')]
          .find(el => el.textContent.includes('data-stale'));
          const box = s && s.closest('[data-testid=stElementContainer]');
          return box ? box.getBoundingClientRect().height : (s ? 0 : -1); }"""
    )
    assert style_box == 0, style_box


COUNT_DRAWS = """() => {
  window.__draws = {};
  const react = window.Plotly.react;
  window.Plotly.react = function (gd, ...rest) {
    const key = gd.closest('[class*=st-key-ge_fig]').className.match(/st-key-(ge_fig\\w+)/)[1];
    window.__draws[key] = (window.__draws[key] || 0) + 1;
    return react.call(this, gd, ...rest);
  };
}"""


def test_a_chart_whose_figure_did_not_change_is_not_redrawn(app_url, page):
    """A new seed changes the Monte Carlo histograms, not f's chart: that element's data is the
    same bytes, Streamlit does not call it again, and its ≈ 40 ms Plotly.react is saved (a
    seed-dependent detail in the f chart's figure would cost that on every seed change). Both
    charts are on screen here (a tall window): an off-screen one would wait (plot_element.js)."""
    page.set_viewport_size({"width": 1400, "height": 2400})
    open_page(page, app_url, "gradient_estimators")
    page.evaluate(COUNT_DRAWS)
    sliders = page.locator("[data-testid=stMain] [data-testid=stSlider] input[type=range]")
    sliders.nth(4).focus()  # seed
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    assert page.evaluate("window.__draws") == {"ge_fig_hist": 1}
    sliders.nth(0).focus()  # k: both change
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    assert page.evaluate("window.__draws") == {"ge_fig_hist": 2, "ge_fig_f": 1}
    assert exception_count(page) == 0
