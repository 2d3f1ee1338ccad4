"""Screenshots of every view for the README: `python bench/screenshots.py [--out docs/screenshots]`.

Starts `streamlit run app.py`, opens each page in headless Chromium, waits until idle with every
plotly chart drawn, and saves a PNG (1280×860 viewport, light theme; `--dark` for the dark one).
The Live VAE is shot while it trains: Play, 12 s, its live charts scrolled into view.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _path import ROOT  # first: puts the repository root on sys.path

from tests.support.browser import STEP_JS, StreamlitServer, launch_chromium

from bench.run import PAGES, idle_with_charts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--dark", action="store_true")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--full", action="store_true", help="full-page screenshots")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    server = StreamlitServer("app.py", "bench-screenshots.log")
    try:
        server.wait_healthy()
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            context = browser.new_context(
                viewport={"width": 1280, "height": 860},
                color_scheme="dark" if args.dark else "light",
            )
            page = context.new_page()
            for name in args.pages.split(","):
                page.goto(f"{server.url}/{PAGES[name]}")
                idle_with_charts(page)
                page.wait_for_timeout(800)  # let plotly finish its transitions
                if name == "live_vae":
                    page.get_by_role("button", name="Play").click()
                    page.wait_for_function(f"() => ({STEP_JS})() > 0")
                    page.wait_for_timeout(12_000)
                    page.evaluate(  # the status row at the top, the live charts below it
                        "() => document.querySelector('[data-testid=stMetric]')"
                        ".scrollIntoView({block: 'start'})"
                    )
                    page.mouse.move(700, 300)
                    page.mouse.wheel(0, -90)  # below the app's header bar
                    page.mouse.move(5, 5)  # no hover toolbar over a chart
                    page.wait_for_timeout(400)
                suffix = "-dark" if args.dark else ""
                path = out / f"{name}{suffix}.png"
                page.screenshot(path=str(path), full_page=args.full)
                print(f"wrote {path}")
                if name == "live_vae":
                    page.get_by_role("button", name="Pause").click()
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
