"""Live VAE benchmarks: in-page throughput vs a bare torch loop, and time to the IWAE quality bar.

    python bench/vae_bench.py                 # both parts
    python bench/vae_bench.py speed           # steps/s: page-equivalent loop vs bare loop (ratio)
    python bench/vae_bench.py browser         # the same, in the real page in Chromium
    python bench/vae_bench.py browser --pinned   # … with Chromium on its own CPU (taskset)
    python bench/vae_bench.py quality         # seconds to IWAE ≥ ceiling − 0.15 on moons; plain VAE

speed: the bare loop is Adam on the same model and batch with nothing else; the page-equivalent
loop is what one playing fragment tick does: build the loss chart and the model view (canvas
data), then `Trainer.run(max_seconds=chunk)` (with its held-out IWAE evaluations,
gradient-variance probes, divergence checks and bounded history). Both run side by
side in alternation so machine load affects them alike; the ratio is what matters.

quality: trains the DEFAULT config in 0.25 s chunks (as the page does) and reports the training
seconds and steps until the in-training held-out IWAE (K = 64) first reaches ceiling − 0.15,
confirmed on 10 000 fresh held-out points with K = 256; then the bound after 30 s of training,
and the same for the "plain VAE" preset (no warm-up), which collapses.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import replace
from functools import partial

import _path  # noqa: F401 (first: puts the repository root on sys.path)
import torch

from tests.support.browser import LOSS_CHART_X_JS, StreamlitServer, find_chromium, launch_chromium

from bench.live_rate import describe, page_vs_bare
from reparam_core import toy_data
from reparam_core.live_session import LiveSession
from reparam_core.vae import estimator_loss
from reparam_core.vae_train import PRESETS, THREADS, TrainConfig, Trainer
from reparam_ui.figures import vae as vae_figs
from reparam_ui.figures.line_chart import line_chart_spec


def page_threads() -> None:
    """Torch threads as the page sets them (vae_train.THREADS), whoever calls, so the bare loop
    and the page compare like for like (docs/performance.md, "How to measure")."""
    if torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)


BAR = 0.15
CHUNK = 0.25


def big_eval(tr: Trainer, n: int = 10_000, k: int = 256) -> float:
    x = torch.as_tensor(toy_data.sample(tr.config.dataset, n, noise=tr.config.noise, seed=999_999))
    return tr.evaluate(x, k)["iwae"]


def quality(config: TrainConfig, label: str, budget: float = 30.0, find_bar: bool = True) -> dict:
    """Prints the run; returns {"seconds_to_iwae_target": s (inf if missed), "final_iwae_gap": nats}."""
    page_threads()
    ceiling = toy_data.ceiling(config.dataset, config.noise)
    tr = Trainer(config)
    hit = None
    wall0 = time.perf_counter()
    while tr.train_seconds < budget and not tr.diverged:
        tr.run(max_seconds=min(CHUNK, budget - tr.train_seconds))
        last = tr.evals.last("iwae")
        if find_bar and hit is None and last is not None and last >= ceiling - BAR:
            confirmed = big_eval(tr)
            if confirmed >= ceiling - BAR:
                hit = (tr.train_seconds, tr.step, confirmed)
    final = big_eval(tr)
    wall = time.perf_counter() - wall0
    sps = tr.step / max(tr.train_seconds, 1e-9)
    print(
        f"{label}: ceiling {ceiling:.3f}; after {tr.train_seconds:.1f} s training "
        f"({tr.step} steps, {sps:.0f} steps/s, wall {wall:.1f} s) held-out IWAE(K=256) "
        f"{final:.3f} = ceiling − {ceiling - final:.3f}; collapse: {tr.collapse or 'none'}; "
        f"active units {tr.evals.last('active_units'):.0f}/{config.z_dim}"
    )
    if len(tr.grad_stats):
        g = {k: v[-1] for k, v in tr.grad_stats.columns().items()}
        print(
            f"  encoder gradient at step {g['step']:.0f}: variance score/pathwise "
            f"{g['var_score'] / g['var_pathwise']:.0f}×, score+baseline/pathwise "
            f"{g['var_score_baseline'] / g['var_pathwise']:.0f}×; SNR pathwise {g['snr_pathwise']:.2f}, "
            f"score {g['snr_score']:.3f}, score+baseline {g['snr_score_baseline']:.3f}"
        )
    if find_bar:
        if hit:
            print(
                f"  reached ceiling − {BAR} after {hit[0]:.1f} s of training ({hit[1]} steps), "
                f"confirmed IWAE(K=256) {hit[2]:.3f}"
            )
        else:
            print(f"  did NOT reach ceiling − {BAR} within {budget:.0f} s")
    return {
        "seconds_to_iwae_target": hit[0] if hit else float("inf"),
        "final_iwae_gap": ceiling - final,
    }


def bare_steps_per_second(config: TrainConfig, seconds: float) -> float:
    """Adam on the same model and batch: sample a minibatch, pathwise loss, backward, step."""
    page_threads()
    tr = Trainer(config)
    model, opt, x, gen = tr.model, tr.optimizer, tr.x_train, tr.generator
    n = x.shape[0]
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        xb = x[torch.randint(0, n, (config.batch_size,), generator=gen)]
        loss, _, _ = estimator_loss(model, xb, config.estimator, 1.0, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
    return steps / (time.perf_counter() - t0)


def page_tick_figures(session: LiveSession, ceiling: float) -> None:
    """Build and serialize what one playing tick draws: the loss chart and the model view as
    canvas data (sent as JSON), the density grid on every DENSITY_EVERY-th tick."""
    tr = session.trainer
    loss = vae_figs.loss_spec(
        tr.history.columns(), tr.evals.columns(), ceiling, session.stored, tr.config.estimator
    )
    density = vae_figs.live_density(tr, session.cache.get("live_density"), session.run_no)
    session.cache["live_density"] = density
    arrays = vae_figs.model_arrays(tr, vae_figs.GRID_LIVE, vae_figs.GRID_K_LIVE, density["grid"])
    view = vae_figs.model_canvas(*arrays, tr.step)
    json.dumps({"loss": line_chart_spec(loss), "model": view})  # as sent: its cost is the page's


def page_steps_per_second(config: TrainConfig, seconds: float) -> tuple[float, float]:
    """The page's loop without the browser: the page's own LiveSession, driven as its fragment
    drives it (draw, then `tick`, which sizes and trains the chunk). Returns (steps/s, chart
    refreshes/s)."""
    page_threads()
    # as the page: probes on the worker thread; no session cap in a benchmark
    session = LiveSession(lambda c: Trainer(c, background=True), session_cap=math.inf)
    session.configure(config)
    session.stored = {"score": {"step": [0.0, 1.0], "neg_elbo": [3.0, 2.9]}}
    ceiling = toy_data.ceiling(config.dataset, config.noise)
    session.play()
    ticks, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        drawn_at = session.clock()
        page_tick_figures(session, ceiling)
        session.tick(drawn_at)
        ticks += 1
    wall = time.perf_counter() - t0
    return session.trainer.step / wall, ticks / wall


def speed(config: TrainConfig, rounds: int = 3, seconds: float = 5.0) -> None:
    bare, paged, rate = [], [], []
    for _ in range(rounds):  # alternate so that machine load hits both alike
        bare.append(bare_steps_per_second(config, seconds))
        s, r = page_steps_per_second(config, seconds)
        paged.append(s)
        rate.append(r)
    b, p_ = sum(bare) / rounds, sum(paged) / rounds
    print(
        f"speed (batch {config.batch_size}, width {config.hidden}): bare loop {b:.0f} steps/s, "
        f"page-equivalent loop {p_:.0f} steps/s, ratio {p_ / b:.2f}; "
        f"chart refreshes {sum(rate) / rounds:.1f}/s  (rounds: "
        + ", ".join(f"{x:.0f}/{y:.0f}" for x, y in zip(paged, bare, strict=True))
        + ")"
    )


def bench_vae_in_browser(browser, server, rounds: int = 6, seconds: float = 4.0) -> dict:
    """The real page in Chromium: steps/s while playing (from the page's step counter) vs the bare
    loop run in this process, and chart refreshes/s (bench/live_rate.py). Browser, server and bare
    loop share the machine. The result is the median of the rounds' ratios; every round is
    printed."""
    bare = partial(bare_steps_per_second, PRESETS["default"], 3.0)
    r = page_vs_bare(browser, server.url + "/live_vae", bare, LOSS_CHART_X_JS, rounds, seconds)
    print(describe("browser", r))
    return {"vae_throughput_ratio": r["ratio"], "chart_refresh_hz": r["refresh_hz"]}


def browser_part(pinned: bool = False) -> None:
    """`pinned`: the server (and the bare loop) on CPU 0, Chromium on CPU 1 — a visitor's browser
    runs on their own machine, not on the server's cores. Needs `taskset` and 2 CPUs."""
    import os
    import shutil
    import subprocess
    import tempfile

    from playwright.sync_api import sync_playwright

    server = StreamlitServer("app.py", "bench-vae.log")
    wrapper = None
    try:
        server.wait_healthy()
        chromium = None
        if pinned:
            if not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
                raise SystemExit("--pinned needs taskset and at least 2 CPUs")
            subprocess.run(
                ["taskset", "-a", "-p", "-c", "0", str(server.proc.pid)],
                check=True,
                capture_output=True,
            )
            os.sched_setaffinity(0, {0})  # the bare loop runs in this process
            with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
                f.write(f'#!/bin/sh\nexec taskset -c 1 {find_chromium()} "$@"\n')
                wrapper = f.name
            os.chmod(wrapper, 0o755)
            chromium = wrapper
            print("pinned: server and bare loop on CPU 0, Chromium on CPU 1")
        with sync_playwright() as pw:
            browser = launch_chromium(pw, chromium)
            bench_vae_in_browser(browser, server)
            browser.close()
    finally:
        server.stop()
        if wrapper:
            os.unlink(wrapper)


def main(argv: list[str]) -> None:
    torch.set_num_threads(THREADS)
    what = argv[1] if len(argv) > 1 else "all"
    print(f"torch threads: {torch.get_num_threads()}")
    if what in ("all", "speed"):
        speed(PRESETS["default"])
    if what in ("all", "browser"):
        browser_part(pinned="--pinned" in argv)
    if what in ("all", "quality"):
        quality(PRESETS["default"], "default (moons)")
        quality(PRESETS["plain VAE"], "plain VAE (moons)", find_bar=False)
    if what == "config":  # e.g. `config lr=0.01 batch_size=256` — try a variant of the default
        fields = TrainConfig.__dataclass_fields__
        changes = {}
        for arg in argv[2:]:
            key, raw = arg.split("=", 1)
            changes[key] = type(getattr(PRESETS["default"], key))(raw) if key in fields else raw
        quality(replace(PRESETS["default"], **changes), str(changes), budget=40)


if __name__ == "__main__":
    main(sys.argv)
