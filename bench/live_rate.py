"""A live-training page in Chromium against a bare torch loop: the measurement bench/vae_bench.py
and bench/diffusion_bench.py share.

The machine's speed drifts in bursts (docs/performance.md, "How to measure"), so each page window is
sandwiched: a bare window before it and one after it (shared with the next round), and the round's
ratio is page / the mean of the two. Chart refreshes are changes of the loss chart's last plotted
step, polled every 20 ms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from tests.support.browser import STEP_JS, wait_idle


def count_updates_js(loss_x_js: str) -> str:
    return f"""() => {{
  window.__rlUpdates = 0;
  let last = null;
  clearInterval(window.__rlPoll);
  window.__rlPoll = setInterval(() => {{
    const v = ({loss_x_js})();
    if (v !== last) {{ if (last !== null) window.__rlUpdates += 1; last = v; }}
  }}, 20);
  return true;
}}"""


def page_vs_bare(
    browser,
    url: str,
    bare: Callable[[], float],
    loss_x_js: str,
    rounds: int = 6,
    seconds: float = 4.0,
) -> dict:
    """Press Play on the page at `url` for `rounds` windows of `seconds`, with `bare()` (steps/s of
    the bare loop) run before, between and after them. Returns the median ratio, the mean refresh
    rate and every round's figures."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.goto(url)
    wait_idle(pg)
    ratios, rates, pages, bares = [], [], [], [bare()]
    try:
        for _ in range(rounds):
            pg.get_by_role("button", name="Play").click()
            pg.wait_for_function(f"() => ({STEP_JS})() > 0", timeout=60_000)
            pg.wait_for_timeout(2000)  # past the first tick's warm-up
            pg.evaluate(count_updates_js(loss_x_js))
            s0, t0 = pg.evaluate(STEP_JS), time.perf_counter()
            pg.wait_for_timeout(seconds * 1000)
            s1, t1 = pg.evaluate(STEP_JS), time.perf_counter()
            updates = pg.evaluate("() => window.__rlUpdates")
            pg.get_by_role("button", name="Pause").click()
            wait_idle(pg)
            bares.append(bare())
            pages.append((s1 - s0) / (t1 - t0))
            ratios.append(pages[-1] / (0.5 * (bares[-2] + bares[-1])))
            rates.append(updates / (t1 - t0))
    finally:
        pg.close()
    return {
        "ratio": statistics.median(ratios),
        "refresh_hz": sum(rates) / rounds,
        "page": statistics.median(pages),
        "bare": statistics.median(bares),
        "rounds": ratios,
    }


def describe(name: str, r: dict) -> str:
    return (
        f"{name}: page {r['page']:.0f} steps/s vs bare {r['bare']:.0f} steps/s (medians), ratio "
        f"{r['ratio']:.2f} (median of {len(r['rounds'])} rounds: "
        f"{', '.join(f'{x:.2f}' for x in r['rounds'])}); loss chart redrawn {r['refresh_hz']:.1f}/s"
    )
