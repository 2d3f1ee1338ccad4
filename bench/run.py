"""Reparam Lab benchmarks: `python bench/run.py` measures everything side by side in one run.

Prints a table and writes bench/results.json with the keys below. Ratios compare our pages with a
floor page (bench/floor_app.py: one trivial plotly chart) served by the same Streamlit, or the VAE
in the page with a bare torch loop of the same model and batch — both measured in this run.

    page_load_ratio_max     max over pages of time-to-idle / the floor page's     goal ≤ 1.3
    rerun_latency_ratio     widget change → chart updated, worst page / floor     goal ≤ 2.0
    vae_throughput_ratio    VAE steps/s in the page while playing / bare loop     goal ≥ 0.8
    chart_refresh_hz        chart updates per second in the page while training   goal ≥ 4
    seconds_to_iwae_target  training seconds until held-out IWAE within 0.15 nats goal ≤ 30
    rss_mb_5_sessions       server RSS after 5 sessions visited all pages+trained goal ≤ 690
    fig2_sweep_seconds      exact Fig. 2 variance sweep, uncached                 goal ≤ 0.5
    dimension_sweep_seconds exact variances for D = 1…1000, 4 costs × 2 θ         goal ≤ 0.5
    diffusion_page_load_ratio   the Diffusion page (forward animation) / floor    goal ≤ 1.0
    diffusion_throughput_ratio  diffusion steps/s in the page / bare loop         goal ≥ 0.8
    diffusion_refresh_hz        its loss chart's redraws per second while training goal ≥ 4
    diffusion_seconds_to_fidelity  training s until samples' mean log p_data is
                                within 0.10 nats of the data's own (moons)        goal ≤ 60
    diffusion_bound_gap_60s     ceiling − held-out bound after 60 s (nats)        goal ≤ 0.25
    a11y_serious_violations     axe serious+critical violations, every page, light
                                and dark, 1280 and 390 px (tests/browser/test_a11y) goal 0
    phone_sideways_scroll_pages pages that scroll sideways at 390 px (either theme) goal 0

Idle, as Streamlit's e2e tests wait: script not running, no skeletons; and every chart drawn (a
plotly chart has its svg; a reparam_ui.components.plot_element chart has no draw queued). "Chart updated"
is the first change inside a chart after the widget change, then idle as above.

Usage: python bench/run.py [--loads 3] [--only page_load,rerun,...] [--train-seconds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from _path import ROOT  # first: puts the repository root on sys.path

from tests.support.a11y import VIEWPORTS, serious_violations, sideways_px
from tests.support.browser import (
    LIVE_CANVAS_JS,
    PAGES,
    StreamlitServer,
    launch_chromium,
    wait_for_app,
    wait_idle,
)

TRAINING_PAGES = {"live_vae": "live_vae", "diffusion": "diffusion?dif_tab=Live+training"}
GOALS = {
    "page_load_ratio_max": ("<=", 1.3),
    "rerun_latency_ratio": ("<=", 2.0),
    "vae_throughput_ratio": (">=", 0.8),
    "chart_refresh_hz": (">=", 4.0),
    "seconds_to_iwae_target": ("<=", 30.0),
    "rss_mb_5_sessions": ("<=", 690.0),
    "fig2_sweep_seconds": ("<=", 0.5),
    "dimension_sweep_seconds": ("<=", 0.5),
    "diffusion_page_load_ratio": ("<=", 1.0),
    "diffusion_throughput_ratio": (">=", 0.8),
    "diffusion_refresh_hz": (">=", 4.0),
    "diffusion_seconds_to_fidelity": ("<=", 60.0),
    "diffusion_bound_gap_60s": ("<=", 0.25),
    "a11y_serious_violations": ("<=", 0.0),
    "phone_sideways_scroll_pages": ("<=", 0.0),
}
CHARTS = "[data-testid=stPlotlyChart], .rl-plot"  # st.plotly_chart's and plot_element's charts
CHARTS_DRAWN = f"""() => [...document.querySelectorAll('{CHARTS}')]
    .every(c => c.querySelector('.main-svg'))
  && (!document.querySelector('.st-key-vae_live_box')  // the Live VAE canvas, once drawn
    || !!({LIVE_CANVAS_JS})()?.hasAttribute('aria-label'))"""
OBSERVE_CHARTS = f"""() => {{
    window.__chartMutations = 0;
    const obs = new MutationObserver(() => {{ window.__chartMutations += 1; }});
    document.querySelectorAll('{CHARTS}').forEach(
        c => obs.observe(c, {{subtree: true, childList: true, attributes: true}}));
    window.__chartObserver = obs;
}}"""


def idle_with_charts(page, timeout: float = 60_000) -> None:
    """Idle as Streamlit's e2e tests wait, with the page's title shown and every chart drawn.

    The title check matters: before the first script run the app already reports notRunning.
    """
    page.wait_for_selector("[data-testid=stMain] h1", timeout=timeout)
    wait_idle(page, timeout)
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout)


def time_to_idle(browser, url: str) -> float:
    """Seconds from navigation to idle with every plotly chart drawn, in a fresh context."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    idle_with_charts(page)
    elapsed = time.perf_counter() - t0
    context.close()
    return elapsed


def bench_page_load(browser, app: StreamlitServer, floor: StreamlitServer, loads: int) -> dict:
    """Median time-to-idle per page. Loads are interleaved (floor, home, …, floor, home, …), so a
    slow spell of the machine weighs on every page alike instead of on whichever was measured
    then (docs/performance.md, "How to measure")."""
    urls = {
        name: floor.url if path is None else f"{app.url}/{path}"
        for name, path in [("floor", None), *PAGES.items()]
    }
    for url in urls.values():
        time_to_idle(browser, url)  # warm-up: server-side imports and caches
    times: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(loads):
        for name, url in urls.items():
            times[name].append(time_to_idle(browser, url))
    rows = {name: statistics.median(t) for name, t in times.items()}
    ratios = {k: v / rows["floor"] for k, v in rows.items() if k != "floor"}
    for k, v in rows.items():
        print(f"  load {k:22s} {v:6.2f} s" + (f"  ratio {ratios[k]:.2f}" if k in ratios else ""))
    return {
        "page_load_ratio_max": max(ratios.values()),
        "diffusion_page_load_ratio": ratios["diffusion"],
        "page_load_seconds": rows,
    }


def nudge_first_widget(page) -> None:
    """Change the first slider (→ key) or, failing that, the first number input (+ button)."""
    slider = page.locator("[data-testid=stMain] [data-testid=stSlider] input[type=range]").first
    if slider.count():
        slider.focus()
        page.keyboard.press("ArrowRight")
        return
    page.locator("[data-testid=stMain] [data-testid=stNumberInputStepUp]").first.click()


def rerun_once(page, action: Callable) -> float:
    """Seconds from `action` (a widget change) to the first change inside a chart, then idle."""
    page.bring_to_front()
    page.evaluate(OBSERVE_CHARTS)
    t0 = time.perf_counter()
    action(page)
    page.wait_for_function("() => window.__chartMutations > 0", timeout=60_000)
    idle_with_charts(page)
    elapsed = time.perf_counter() - t0
    page.evaluate("() => window.__chartObserver.disconnect()")
    page.wait_for_timeout(200)
    return elapsed


def bench_rerun(browser, app: StreamlitServer, floor: StreamlitServer, repeats: int) -> dict:
    """Median rerun latency per page over `repeats` × 3 reruns. The pages stay open and take
    turns (floor, change of variables, gradient, floor, …), so a slow spell of the machine weighs
    on every page alike (docs/performance.md, "How to measure")."""
    # home has no chart, and the Live VAE's charts tick on their own
    targets = {  # name: (url, window height)
        "floor": (floor.url, 1000),
        "change_of_variables": (f"{app.url}/change_of_variables", 1000),
        "gradient_estimators": (f"{app.url}/gradient_estimators", 1000),
        # for the record, not a goal: a chart far below the window is redrawn only when it comes
        # near (reparam_ui/components/plot_element.js), as the gradient page's Monte Carlo chart is at
        # 1000 px; in a window tall enough for both of its charts a change redraws both
        "gradient, 2400 px tall": (f"{app.url}/gradient_estimators", 2400),
    }
    pages = {}
    for name, (url, height) in targets.items():
        context = browser.new_context(viewport={"width": 1400, "height": height})
        pages[name] = context.new_page()
        pages[name].goto(url)
        idle_with_charts(pages[name])
    times: dict[str, list[float]] = {name: [] for name in targets}
    for i in range(3 * repeats + 1):
        for name, page in pages.items():
            t = rerun_once(page, nudge_first_widget)
            if i:  # the first round warms up
                times[name].append(t)
    for page in pages.values():
        page.context.close()
    rows = {name: statistics.median(t) for name, t in times.items()}
    for name, t in rows.items():
        ratio = "" if name == "floor" else f"  ratio {t / rows['floor']:.2f}"
        print(f"  rerun {name:22s} {t:6.2f} s{ratio}")
    worst = max(rows["change_of_variables"], rows["gradient_estimators"])
    return {"rerun_latency_ratio": worst / rows["floor"]}


def bench_rss_sessions(browser, app: StreamlitServer, train_seconds: float, n: int = 5) -> dict:
    """Server RSS after `n` concurrent sessions each visited every page and trained on each
    training page (the Live VAE, then the Diffusion page, the first run kept in the session)."""
    print(f"  rss at start                 {app.rss_mb():6.0f} MB")
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    for name, path in PAGES.items():
        for pg in pages:
            pg.goto(f"{app.url}/{path}")
        for pg in pages:
            idle_with_charts(pg)
        print(f"  rss after {n} × {name:18s} {app.rss_mb():6.0f} MB")
    peak = 0.0
    for name, path in TRAINING_PAGES.items():
        for pg in pages:
            pg.goto(f"{app.url}/{path}")
        for pg in pages:
            wait_idle(pg)
            pg.get_by_role("button", name="Play").click()
        time.sleep(train_seconds)
        peak = max(peak, app.rss_mb())
        for pg in pages:
            pg.get_by_role("button", name="Pause").click()
        for pg in pages:
            wait_idle(pg)
        now = app.rss_mb()
        peak = max(peak, now)
        print(f"  rss after {n} × {train_seconds:.0f} s training on {name:9s} {now:6.0f} MB")
    for c in contexts:
        c.close()
    return {"rss_mb_5_sessions": peak}


def bench_a11y(browser, app: StreamlitServer) -> dict:
    """The browser tests' audit (tests.support.a11y), counted: violations over every page, theme
    and width; pages that scroll sideways at phone width."""
    violations, sideways = 0, set()
    for scheme in ("light", "dark"):
        for viewport, (w, h) in VIEWPORTS.items():
            context = browser.new_context(viewport={"width": w, "height": h}, color_scheme=scheme)
            pg = context.new_page()
            for name, path in PAGES.items():
                pg.goto(f"{app.url}/{path}")
                wait_for_app(pg)  # as tests/browser/test_a11y.py waits
                found = serious_violations(pg)
                violations += len(found)
                for line in found:
                    print(f"  a11y {name} {scheme} {viewport}: {line}")
                if viewport == "phone" and sideways_px(pg) > 0:
                    sideways.add(name)
            context.close()
    print(
        f"  a11y serious violations {violations}; sideways at 390 px: {sorted(sideways) or 'none'}"
    )
    return {"a11y_serious_violations": violations, "phone_sideways_scroll_pages": len(sideways)}


def bench_fig2() -> dict:
    from bench.fig2_sweep import sweep_seconds

    t = sweep_seconds()
    print(f"  fig2 exact sweep             {t:6.3f} s")
    return {"fig2_sweep_seconds": t}


def bench_dimension(repeats: int = 5) -> dict:
    """Median wall time of every exact curve the Dimension tab can draw at one k: the four costs,
    θ = μ and σ, D = 1…1000, all estimators (uncached)."""
    from reparam_core import dimension, functions

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for name in ("square", "exp", "cos", "abs"):
            for wrt in ("mu", "sigma"):
                dimension.exact_variance(functions.get(name, 2.0), (1.0, 1.0), range(1, 1001), wrt)
        times.append(time.perf_counter() - t0)
    t = statistics.median(times)
    print(f"  dimension exact sweep        {t:6.3f} s")
    return {"dimension_sweep_seconds": t}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--loads", type=int, default=3)
    ap.add_argument(
        "--only", default="fig2,dimension,quality,page_load,rerun,vae,diffusion,a11y,rss"
    )
    ap.add_argument("--train-seconds", type=float, default=20.0)
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    results: dict = {}

    if "fig2" in only:
        results.update(bench_fig2())
    if "dimension" in only:
        results.update(bench_dimension())
    if "quality" in only:
        from bench.vae_bench import quality
        from reparam_core.vae_train import PRESETS

        q = quality(PRESETS["default"], "default")
        results["seconds_to_iwae_target"] = q["seconds_to_iwae_target"]
        from bench.diffusion_bench import quality as diffusion_quality

        results.update(diffusion_quality())
    if only & {"page_load", "rerun", "vae", "diffusion", "a11y", "rss"}:
        from playwright.sync_api import sync_playwright

        app = StreamlitServer("app.py", "bench-app.log")
        floor = StreamlitServer("bench/floor_app.py", "bench-floor.log")
        try:
            app.wait_healthy()
            floor.wait_healthy()
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                if "page_load" in only:
                    results.update(bench_page_load(browser, app, floor, args.loads))
                if "rerun" in only:
                    results.update(bench_rerun(browser, app, floor, args.loads))
                if "vae" in only:
                    from bench.vae_bench import bench_vae_in_browser

                    results.update(bench_vae_in_browser(browser, app))
                if "diffusion" in only:
                    from bench.diffusion_bench import bench_diffusion_in_browser

                    results.update(bench_diffusion_in_browser(browser, app))
                if "a11y" in only:
                    results.update(bench_a11y(browser, app))
                if "rss" in only:
                    # a fresh server: the sessions of the benches above linger for Streamlit's
                    # server.disconnectedSessionTTL (120 s) after their contexts close, and
                    # would be counted as if they were 5 more visitors
                    app.stop()
                    app = StreamlitServer("app.py", "bench-app-rss.log")
                    app.wait_healthy()
                    results.update(bench_rss_sessions(browser, app, args.train_seconds))
                browser.close()
        finally:
            app.stop()
            floor.stop()

    print()
    print(f"{'key':30s} {'value':>10s}   goal")
    for key, (op, goal) in GOALS.items():
        if key in results:
            v = results[key]
            ok = v <= goal if op == "<=" else v >= goal
            print(f"{key:30s} {v:10.3f}   {op} {goal:g}  {'ok' if ok else 'MISSED'}")
    out = {k: float(results[k]) for k in GOALS if k in results}
    path = ROOT / "bench" / "results.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old.update(out)
    path.write_text(json.dumps(old, indent=2) + "\n")
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
