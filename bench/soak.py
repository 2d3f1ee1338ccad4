"""Load, soak and isolation: `python bench/soak.py [--contexts 10] [--seconds 60] [--reruns 500]`.

Kept out of the default test run (it takes minutes). Against one `streamlit run app.py` on
localhost it:
1. opens N concurrent browser contexts on the Live VAE page, each pressing Play and moving a
   setting (a new run) while training for `--seconds`, then pausing;
2. asserts the server stays healthy, no exception element appears anywhere, and every context
   sees only its own run: each context gets its own seed (kept in its URL) and a fresh context
   opened afterwards starts at step 0;
3. reruns one page `--reruns` times and asserts server RSS grows by less than 10 %.
Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request

import _path  # noqa: F401 (first: puts the repository root on sys.path)

from tests.support.browser import STEP_JS, StreamlitServer, launch_chromium, wait_idle


def healthy(server: StreamlitServer) -> bool:
    try:
        with urllib.request.urlopen(server.url + "/_stcore/health", timeout=5) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


def exceptions(page) -> int:
    return page.locator("[data-testid=stException]").count()


def start(pg, tries: int = 3) -> bool:
    """Press Play until the page reports it is training (a click can land during a rerun)."""
    for _ in range(tries):
        pg.get_by_role("button", name="Play").click(no_wait_after=True)
        try:
            pg.get_by_role("button", name="Pause").wait_for(state="visible", timeout=20_000)
            pg.wait_for_function(
                "() => [...document.querySelectorAll('button')].some("
                "b => b.innerText.includes('Pause') && !b.disabled)",
                timeout=20_000,
            )
            return True
        except Exception:  # noqa: BLE001 - retry the click
            continue
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contexts", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--reruns", type=int, default=500)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    failures: list[str] = []
    server = StreamlitServer("app.py", "bench-soak.log")
    try:
        server.wait_healthy()
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            contexts = [browser.new_context() for _ in range(args.contexts)]
            pages = [c.new_page() for c in contexts]
            for pg in pages:  # many pages drawing live charts can starve the browser of CPU
                pg.set_default_timeout(120_000)
            for i, pg in enumerate(pages):
                pg.goto(f"{server.url}/live_vae?vae_seed={i + 1}")
            for pg in pages:
                wait_idle(pg)
            for i, pg in enumerate(pages):
                if not start(pg):
                    failures.append(f"context {i}: Play did not start training")
            t_end = time.monotonic() + args.seconds
            while time.monotonic() < t_end:
                time.sleep(min(10.0, max(0.0, t_end - time.monotonic())))
                if not healthy(server):
                    failures.append("server unhealthy while training")
                    break
            steps = [pg.evaluate(STEP_JS) for pg in pages]
            for pg in pages:
                pause = pg.get_by_role("button", name="Pause")
                if pause.is_enabled():
                    pause.click(no_wait_after=True)
            for i, pg in enumerate(pages):
                wait_idle(pg, timeout=120_000)
                if exceptions(pg):
                    failures.append(f"context {i}: exception element")
                if f"seed={i + 1}" not in pg.url:
                    failures.append(f"context {i}: URL lost its own seed: {pg.url}")
            print(f"steps per context after {args.seconds:.0f} s: {steps}")
            # Isolation: a new visitor starts from scratch, whatever the others trained.
            fresh = browser.new_context().new_page()
            fresh.goto(f"{server.url}/live_vae")
            wait_idle(fresh)
            if fresh.evaluate(STEP_JS) not in (0, -1):
                failures.append(f"a fresh context sees step {fresh.evaluate(STEP_JS)}")
            for c in contexts:
                c.close()
            # Memory: RSS over many reruns of one page.
            pg = browser.new_context().new_page()
            pg.goto(f"{server.url}/change_of_variables")
            wait_idle(pg)
            rss0 = server.rss_mb()
            seed = pg.locator("[data-testid=stSlider]").filter(has_text="Seed")
            seed.locator("input[type=range]").focus()
            for i in range(args.reruns):  # seeds 0 → 50 → 0 → …: new samples on every rerun
                pg.keyboard.press("ArrowRight" if (i // 50) % 2 == 0 else "ArrowLeft")
                wait_idle(pg)
            rss1 = server.rss_mb()
            growth = (rss1 - rss0) / rss0
            print(f"RSS over {args.reruns} reruns: {rss0:.0f} → {rss1:.0f} MB ({growth:+.1%})")
            if growth >= 0.10:
                failures.append(f"RSS grew {growth:.1%} over {args.reruns} reruns")
            if exceptions(pg):
                failures.append("exception after reruns")
            browser.close()
    finally:
        server.stop()
    for f in failures:
        print("FAIL:", f)
    print("soak:", "ok" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
