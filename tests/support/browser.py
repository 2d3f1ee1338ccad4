"""Start `streamlit run` on a free localhost port and drive Debian's Chromium with Playwright.

Shared by the browser tests (tests/conftest.py, tests/browser/) and the benchmarks (bench/run.py,
bench/soak.py, bench/vae_bench.py, bench/screenshots.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support import ROOT

PAGES = {
    "home": "",
    "change_of_variables": "change_of_variables",
    "gradient_estimators": "gradient_estimators",
    "live_vae": "live_vae",
    "diffusion": "diffusion",
}
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY = "[data-testid=stApp][data-test-script-state=notRunning]"
# no skeletons, and no reparam_ui.components.plot_element chart with a draw queued or running
SETTLED = """() => document.querySelectorAll('[data-testid=stSkeleton]').length === 0
  && !document.querySelector('.rl-plot[data-drawing]')"""


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run <script>` headless on a free port, with the flags Streamlit's e2e tests use."""

    def __init__(self, script: str = "app.py", log_name: str = "streamlit-test-server.log"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / log_name
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.headless=true",
            "--server.fileWatcherType=none",
            "--server.runOnSave=false",
            "--browser.gatherUsageStats=false",
            "--server.address=127.0.0.1",
            f"--server.port={self.port}",
        ]
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("streamlit did not become healthy:\n" + self.log_tail())
            time.sleep(0.2)

    def log_tail(self, n: int = 2000) -> str:
        return self.log_path.read_text()[-n:] if self.log_path.exists() else ""

    def rss_mb(self) -> float:
        """Resident memory of the server process (MB)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


def launch_chromium(playwright, path: str | None = None):
    return playwright.chromium.launch(
        executable_path=path or find_chromium(), headless=True, args=CHROMIUM_FLAGS
    )


def wait_idle(page, timeout: float = 60_000) -> None:
    """Idle the way Streamlit's e2e tests wait (script not running, no skeletons), and no chart
    draw pending."""
    page.wait_for_selector(READY, timeout=timeout)
    page.wait_for_function(SETTLED, timeout=timeout)


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until idle; settle once more, since a rerun may follow the first idle (URL sync)."""
    wait_idle(page, timeout)
    page.wait_for_timeout(300)
    wait_idle(page, timeout)


def open_page(page, base_url: str, name: str, query: str = "") -> None:
    url = f"{base_url}/{PAGES[name]}"
    if query:
        url += "?" + query
    page.goto(url)
    wait_for_app(page)


def show_chart(page, selector: str) -> None:
    """Scroll a chart (reparam_ui.components.plot_element) into view and wait for its newest figure: a drawn
    chart that is off screen draws a new figure only when it comes near (plot_element.js)."""
    page.locator(selector).scroll_into_view_if_needed()
    page.wait_for_function(
        f"""() => {{ const g = document.querySelector('{selector}');
          return g && !g.hasAttribute('data-deferred') && !g.hasAttribute('data-drawing'); }}"""
    )


def exception_count(page) -> int:
    return page.locator("[data-testid=stException]").count()


# Live VAE page probes (JavaScript for page.evaluate), shared by the browser tests and the benches.
STEP_JS = """() => {
  const m = [...document.querySelectorAll('[data-testid=stMetric]')].find(
    (e) => e.querySelector('[data-testid=stMetricLabel]')?.innerText.trim() === 'step');
  return m ? parseInt(m.querySelector('[data-testid=stMetricValue]').innerText.replace(/,/g, '')) : -1;
}"""


def live_canvas_js(key: str) -> str:
    """JS: the canvas of the live_canvas component with this key (loss chart, + model view while
    playing), or null."""
    return f"""() => {{
  for (const el of document.querySelectorAll('.st-key-{key}_box *')) {{
    const canvas = el.shadowRoot?.querySelector('canvas');
    if (canvas) return canvas;
  }}
  return null;
}}"""


def loss_chart_x_js(canvas_key: str, plot_key: str) -> str:
    """JS: the last step the loss chart shows, on the canvas while playing, else on the plotly
    chart with key `plot_key` (0: none yet)."""
    return f"""() => {{
  const canvas = ({live_canvas_js(canvas_key)})();  // while playing
  if (canvas) return parseFloat(canvas.dataset.lastX);
  const el = document.querySelector('.st-key-{plot_key} .js-plotly-plot');  // paused
  if (!el || !el.data || !el.data.length || !el.data[0].x.length) return 0;
  const x = el.data[0].x;
  return x[x.length - 1];
}}"""


LIVE_CANVAS_JS = live_canvas_js("vae_live")
LOSS_CHART_X_JS = loss_chart_x_js("vae_live", "vae_loss")
MODEL_CANVAS_STEP_JS = f"""() => {{  // the step the live model view shows (-1: none)
  const canvas = ({LIVE_CANVAS_JS})();
  return canvas && canvas.dataset.step !== undefined ? parseInt(canvas.dataset.step) : -1;
}}"""
