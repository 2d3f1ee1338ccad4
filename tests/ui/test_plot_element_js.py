"""plot_element.js in a real Chromium, without Streamlit: the element function is imported as a
module and called the way Streamlit calls it, with a stand-in for plotly.js whose draws take time.

Checks the draw queue: figures that arrive while another draw runs are skipped except the newest,
draws never overlap, data-drawing is set until the last draw ends, and unmounting purges; and a
drawn chart that is off screen keeps only its newest figure until it comes near."""

from __future__ import annotations

import json

import pytest

from reparam_ui.components import plot_element

pytestmark = pytest.mark.browser

# imports plot_element.js as a module and mounts it the way Streamlit does; send(title) hands it
# a figure titled `title` (layout height 321)
MOUNT = """  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const render = (await import(url)).default;
  const host = document.createElement('div');
  host.innerHTML = '<div class="rl-plot"></div>';
  document.body.appendChild(host);
  const gd = host.querySelector('.rl-plot');
  const send = (title) => render({
    data: new TextEncoder().encode(JSON.stringify({ data: [], layout: { title, height: 321 } })),
    parentElement: host,
  });
"""

HARNESS = """async (source) => {
  const calls = [];
  let drawing = 0, overlap = false;
  window.__rlPlotly = Promise.resolve(window.Plotly = {
    react: async (gd, fig) => {
      if (drawing) overlap = true;
      drawing += 1;
      calls.push(fig.layout.title);
      await new Promise((r) => setTimeout(r, 50));
      drawing -= 1;
    },
    purge: (gd) => calls.push('purged'),
    Plots: { resize: () => {} },
  });
  /* MOUNT */
  send('first');
  await new Promise((r) => setTimeout(r, 10));  // 'first' is drawing now
  send('stale'); send('newest');
  const whileDrawing = gd.hasAttribute('data-drawing');
  await new Promise((r) => setTimeout(r, 400));
  const afterDraws = gd.hasAttribute('data-drawing');
  const cleanup = send('last');
  await new Promise((r) => setTimeout(r, 200));
  cleanup();
  return { calls, overlap, whileDrawing, afterDraws, minHeight: gd.style.minHeight };
}""".replace("  /* MOUNT */\n", MOUNT)


def run_in_blank_page(browser, harness: str) -> dict:
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        return page.evaluate(harness, plot_element._JS)
    finally:
        page.close()


def test_the_queue_draws_the_newest_figure_one_at_a_time(browser):
    out = run_in_blank_page(browser, HARNESS)
    assert out["calls"] == ["first", "newest", "last", "purged"], json.dumps(out)
    assert not out["overlap"]
    assert out["whileDrawing"] and not out["afterDraws"]
    assert out["minHeight"] == "321px"


OFF_SCREEN = """async (source) => {
  const calls = [];
  window.__rlPlotly = Promise.resolve(window.Plotly = {
    react: async (gd, fig) => { calls.push(fig.layout.title); gd._fullLayout = {}; },
    purge: () => {},
    Plots: { resize: () => {} },
  });
  let observe = null, margin = null;  // a stand-in IntersectionObserver the test drives
  window.IntersectionObserver = class {
    constructor(cb, options) { observe = cb; margin = options.rootMargin; }
    observe() {}
    disconnect() {}
  };
  /* MOUNT */
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const state = () => [gd.hasAttribute('data-deferred'), gd.hasAttribute('data-drawing')];
  send('first'); await tick();                     // drawn, then it scrolls away
  observe([{ isIntersecting: false }]);
  send('away 1'); send('away 2'); await tick();    // off screen: kept, not drawn
  const away = state();
  observe([{ isIntersecting: true }]); await tick();  // back near the screen: the newest drawn
  const back = state();
  send('on screen'); await tick();                 // on screen: drawn at once
  return { calls, away, back, margin };
}""".replace("  /* MOUNT */\n", MOUNT)


def test_an_off_screen_chart_is_drawn_when_it_comes_near(browser):
    out = run_in_blank_page(browser, OFF_SCREEN)
    assert out["calls"] == ["first", "away 2", "on screen"], json.dumps(out)
    assert out["away"] == [True, False]  # deferred, and not "drawing": the page is idle
    assert out["back"] == [False, False]
    assert out["margin"] == "300px 0px"


# loadPlotly() in a page at http://lab.test/base/change_of_variables/ (a trailing slash), whose
# Streamlit entry script is at /base/static/js/index.*.js (an app served under a base URL path, as
# on Community Cloud).
# Every request is answered by the test: `bundle` and `chunk` are the bodies (None: 404) of the
# cartesian build and of Streamlit's chart chunk; each stand-in sets window.Plotly.
ORIGIN = "http://lab.test"


def load_plotly(
    browser, bundle: str | None, chunk: str | None, bundle_type: str = "text/javascript"
) -> tuple[str, list[str]]:
    page = browser.new_page()
    requested: list[str] = []

    def answer(route):
        path = route.request.url.removeprefix(ORIGIN)
        requested.append(path)
        if path == "/base/change_of_variables/":
            entry = '<script type="module" src="/base/static/js/index.test.js"></script>'
            route.fulfill(content_type="text/html", body=f"<html><head>{entry}</head></html>")
        elif path == "/base/static/js/index.test.js":
            route.fulfill(content_type="text/javascript", body="")
        elif path == f"/base/app/static/{plot_element.BUNDLE}" and bundle is not None:
            route.fulfill(content_type=bundle_type, body=bundle)
        elif path == f"/base/static/js/{plot_element.CHUNK}" and chunk is not None:
            route.fulfill(content_type="text/javascript", body=chunk)
        else:
            route.fulfill(status=404, body="")

    try:
        page.route(f"{ORIGIN}/**", answer)
        page.goto(f"{ORIGIN}/base/change_of_variables/")
        version = page.evaluate(
            f"async () => {{ {plot_element.LOAD_PLOTLY}; return (await loadPlotly()).version; }}"
        )
        return version, requested
    finally:
        page.close()


def test_plotly_is_loaded_from_the_apps_cartesian_build(browser):
    version, requested = load_plotly(
        browser, bundle="window.Plotly = {version: 'cartesian'};", chunk=None
    )
    assert version == "cartesian"
    assert f"/base/app/static/{plot_element.BUNDLE}" in requested
    assert not any("PlotlyChart" in path for path in requested)  # the 4.6 MB chunk is not fetched


def test_without_static_serving_plotly_comes_from_streamlits_chunk(browser):
    version, requested = load_plotly(
        browser, bundle=None, chunk="window.Plotly = {version: 'chunk'};"
    )
    assert version == "chunk"
    assert requested[-1] == f"/base/static/js/{plot_element.CHUNK}"


def test_streamlits_page_at_the_builds_url_falls_back_to_the_chunk(browser):
    """Streamlit without static serving answers any unknown path with its index.html (200,
    text/html): as a script that is a syntax error, and its load event still fires."""
    version, requested = load_plotly(
        browser,
        bundle="<!doctype html><html><head></head><body></body></html>",
        chunk="window.Plotly = {version: 'chunk'};",
        bundle_type="text/html",
    )
    assert version == "chunk"
    assert requested[-1] == f"/base/static/js/{plot_element.CHUNK}"
