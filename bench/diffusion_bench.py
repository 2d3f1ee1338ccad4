"""Live diffusion benchmarks: in-page throughput vs a bare torch loop, chart refresh rate, and the
seconds of training until the samples are as likely under p_data as the data itself.

    python bench/diffusion_bench.py             # all parts
    python bench/diffusion_bench.py browser     # steps/s in the real page vs the bare loop; refreshes/s
    python bench/diffusion_bench.py quality     # seconds to fidelity on moons (defaults); bound at 60 s

browser: the Diffusion page's Live training tab in Chromium, defaults, pressed Play; steps/s from
the page's step counter, against the bare loop (Adam on the same model and batch: minibatch, t, ε,
x_t, the parameterization's MSE, backward, step — nothing else) run in this process between the
page windows, as bench/vae_bench.py does for the Live VAE.

quality: the default config trained in 0.2 s chunks with probes on the worker thread (as the page
trains); at each probe (every `eval_every` steps) the samples' mean log p_data is compared with the
data's own, E[log p_data] (toy_data.ceiling); a hit within FIDELITY_BAR nats is confirmed on
CONFIRM_SAMPLES fresh DDPM samples. After BUDGET seconds the held-out bound (all T steps, on
BOUND_POINTS held-out points) is printed with its gap to the ceiling.
"""

from __future__ import annotations

import sys
import time
from functools import partial

import _path  # noqa: F401 (first: puts the repository root on sys.path)
import torch

from tests.support.browser import StreamlitServer, launch_chromium, loss_chart_x_js

from bench.live_rate import describe, page_vs_bare
from reparam_core import toy_data
from reparam_core.diffusion_train import (
    DiffusionConfig,
    DiffusionTrainer,
    fidelity,
    model_eps_fn,
    regression_target,
    sample_trajectory,
    vlb_nats,
)
from reparam_core.vae_train import THREADS

FIDELITY_BAR = 0.10  # nats: |mean log p_data(samples) − E[log p_data]|
BUDGET = 60.0  # s of training
CHUNK = 0.2  # s per chunk: the page's tick
CONFIRM_SAMPLES = 5000
BOUND_POINTS = 2000
URL = "/diffusion?dif_tab=Live+training"
LOSS_X_JS = loss_chart_x_js("dif_live", "dif_loss")


def page_threads() -> None:
    """Torch threads as the page sets them, so the bare loop and the page compare like for like."""
    if torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)


def bare_steps_per_second(config: DiffusionConfig, seconds: float) -> float:
    """Adam on the same model and batch, and the same regression, with nothing else."""
    page_threads()
    tr = DiffusionTrainer(config)
    model, opt, gen, x = tr.model, tr.optimizer, tr.generator, tr.x_train
    n, B, T, p = x.shape[0], config.batch_size, config.T, config.parameterization
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        x0 = x[torch.randint(0, n, (B,), generator=gen)]
        t = torch.randint(1, T + 1, (B,), generator=gen)
        eps = torch.randn((B, 2), generator=gen)
        a, b = tr._a[t].unsqueeze(1), tr._b[t].unsqueeze(1)
        loss = (model(a * x0 + b * eps, t) - regression_target(x0, eps, a, b, p)).square()
        loss = loss.sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
    return steps / (time.perf_counter() - t0)


def bench_diffusion_in_browser(browser, server, rounds: int = 6, seconds: float = 4.0) -> dict:
    """The page's steps/s while playing ÷ the bare loop's, and the loss chart's redraws per second
    (bench/live_rate.py), at the page's defaults."""
    bare = partial(bare_steps_per_second, DiffusionConfig(), 3.0)
    r = page_vs_bare(browser, server.url + URL, bare, LOSS_X_JS, rounds, seconds)
    print(describe("diffusion browser", r))
    return {"diffusion_throughput_ratio": r["ratio"], "diffusion_refresh_hz": r["refresh_hz"]}


def confirm_fidelity(tr: DiffusionTrainer, n: int = CONFIRM_SAMPLES) -> float:
    eps_fn = model_eps_fn(tr.model, tr.schedule, tr.config.parameterization)
    _, traj = sample_trajectory(
        eps_fn, tr.schedule, n, "ddpm", seed=123_457, reverse_var=tr.config.reverse_var
    )
    return fidelity(traj[-1], tr.config.dataset, tr.config.noise)[0]


def quality(config: DiffusionConfig | None = None, budget: float = BUDGET) -> dict:
    """Prints the run; returns diffusion_seconds_to_fidelity (inf if missed) and the bound's gap."""
    page_threads()
    config = config or DiffusionConfig(max_seconds=budget + 1.0)
    ceiling = toy_data.ceiling(config.dataset, config.noise)
    tr = DiffusionTrainer(config, background=True)
    hit, seen, wall0 = None, 0, time.perf_counter()
    while tr.train_seconds < budget and not tr.diverged:
        tr.run(max_seconds=min(CHUNK, budget - tr.train_seconds))
        rows = tr.evals.columns()
        for i in range(seen, len(rows["step"])):
            fid, secs, step = rows["fidelity"][i], rows["seconds"][i], rows["step"][i]
            print(
                f"  step {step:6.0f} ({secs:5.1f} s): samples' mean log p_data {fid:.3f} "
                f"(data {ceiling:.3f}), bound {rows['bound'][i]:.3f}"
            )
            if hit is None and abs(fid - ceiling) <= FIDELITY_BAR:
                confirmed = confirm_fidelity(tr)
                if abs(confirmed - ceiling) <= FIDELITY_BAR:
                    hit = (secs, step, confirmed)
        seen = len(rows["step"])
    tr.sync()
    x_test = toy_data.sample(config.dataset, BOUND_POINTS, noise=config.noise, seed=777_777)
    eps_fn = model_eps_fn(tr.model, tr.schedule, config.parameterization)
    bound, bound_se = vlb_nats(eps_fn, tr.schedule, x_test, 5, reverse_var=config.reverse_var)
    final_fid = confirm_fidelity(tr)
    wall = time.perf_counter() - wall0
    print(
        f"diffusion quality ({config.dataset}, T={config.T} {config.schedule}, "
        f"{config.parameterization}): {tr.step} steps in {tr.train_seconds:.1f} s of training "
        f"(wall {wall:.1f} s); at the end samples' mean log p_data {final_fid:.3f} vs data "
        f"{ceiling:.3f}; held-out bound {bound:.3f} ± {bound_se:.3f} nats = ceiling − "
        f"{ceiling - bound:.3f} (goal for the gap ≤ 0.25)"
    )
    if hit:
        print(
            f"  samples within {FIDELITY_BAR} nats of the data after {hit[0]:.1f} s "
            f"({hit[1]:.0f} steps), confirmed on {CONFIRM_SAMPLES} samples: {hit[2]:.3f}"
        )
    else:
        print(f"  samples did NOT come within {FIDELITY_BAR} nats within {budget:.0f} s")
    return {
        "diffusion_seconds_to_fidelity": hit[0] if hit else float("inf"),
        "diffusion_bound_gap_60s": float(ceiling - bound),
    }


def browser_part() -> dict:
    from playwright.sync_api import sync_playwright

    server = StreamlitServer("app.py", "bench-diffusion.log")
    try:
        server.wait_healthy()
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            out = bench_diffusion_in_browser(browser, server)
            browser.close()
    finally:
        server.stop()
    return out


def main(argv: list[str]) -> None:
    torch.set_num_threads(THREADS)
    what = argv[1] if len(argv) > 1 else "all"
    if what in ("all", "browser"):
        browser_part()
    if what in ("all", "quality"):
        quality()


if __name__ == "__main__":
    main(sys.argv)
