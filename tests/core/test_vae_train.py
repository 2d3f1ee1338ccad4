"""reparam_core.vae_train: chunked training, bounded history, reset, time cap, divergence recovery,
collapse detection and config validation (tiny models, so the whole file stays fast)."""

import io
import math
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from reparam_core.vae_train import (
    EVAL_COLUMNS,
    GRAD_COLUMNS,
    PRESETS,
    TRAIN_COLUMNS,
    History,
    TrainConfig,
    Trainer,
)

torch.set_num_threads(1)

TINY = TrainConfig(
    n_samples=400,
    hidden=16,
    batch_size=32,
    warmup_steps=20,
    n_heldout=100,
    eval_every=25,
    iwae_k=8,
    gradstat_every=0,
    gradstat_batch=16,
)


def finite_tables(tr: Trainer) -> bool:
    return all(
        math.isfinite(v) for t in (tr.history, tr.evals, tr.grad_stats) for r in t.rows for v in r
    )


def test_run_advances_by_the_requested_steps_and_records_history():
    tr = Trainer(replace(TINY, gradstat_every=50))
    assert tr.run(max_steps=7) == 7 and tr.step == 7
    assert tr.run(max_steps=103) == 103 and tr.step == 110
    cols = tr.history.columns()
    assert tuple(cols) == TRAIN_COLUMNS
    assert cols["step"] == [10.0 * (i + 1) for i in range(11)]  # one row per 10 steps
    assert all(b > a for a, b in zip(cols["seconds"], cols["seconds"][1:], strict=False))
    np.testing.assert_allclose(cols["neg_elbo"], np.add(cols["recon"], cols["kl"]), rtol=1e-6)
    assert cols["beta"][-1] == 1.0 and cols["beta"][0] == pytest.approx(np.mean(np.arange(10) / 20))
    assert tr.evals.columns()["step"] == [25.0, 50.0, 75.0, 100.0]
    assert tr.grad_stats.columns()["step"] == [50.0, 100.0]  # every 50, and the early probe at 100
    assert (
        tuple(tr.evals.columns()) == EVAL_COLUMNS and tuple(tr.grad_stats.columns()) == GRAD_COLUMNS
    )
    assert finite_tables(tr)
    assert tr.run(max_steps=0) == 0 and tr.step == 110


def test_same_seed_same_run_and_reset_starts_over():
    a, b = Trainer(TINY), Trainer(TINY)
    a.run(max_steps=30)
    b.run(max_steps=30)
    assert a.history.rows and [r[2:] for r in a.history.rows] == [r[2:] for r in b.history.rows]
    first = [r[2:] for r in a.history.rows]
    a.reset()
    assert a.step == 0 and len(a.history) == 0 and len(a.evals) == 0 and not a.diverged
    a.run(max_steps=30)
    assert [r[2:] for r in a.history.rows] == first


def test_history_stays_bounded_and_downsamples_uniformly():
    h = History(("step", "seconds", "v"), cap=10)
    for t in range(1, 1001):
        h.add([t, t / 100, float(t)])
    assert len(h) < 10
    steps, v = h.columns()["step"], h.columns()["v"]
    strides = np.diff(steps)
    assert np.all(strides == h.stride) and h.stride == 128
    # each row's value is the mean of the step values it covers: (first + last) / 2
    np.testing.assert_allclose(v, np.array(steps) - (h.stride - 1) / 2)
    with pytest.raises(ValueError, match="cap"):
        History(("step",), cap=1)


def test_trainer_history_is_capped(monkeypatch):
    import reparam_core.vae_train as vt

    monkeypatch.setattr(vt, "HISTORY_ROWS", 8)
    monkeypatch.setattr(vt, "EVAL_ROWS", 4)
    tr = Trainer(replace(TINY, eval_every=5, gradstat_every=0))
    tr.run(max_steps=400)
    assert len(tr.history) < 8 and len(tr.evals) < 4
    assert tr.history.last("step") <= 400


def test_time_cap_stops_training_and_says_so():
    tr = Trainer(replace(TINY, max_seconds=0.3))
    done = tr.run()  # no limits: runs until the trainer's cap
    assert done > 0 and tr.train_seconds >= 0.3
    assert tr.run(max_steps=10) == 0
    assert "cap" in tr.message
    assert tr.time_left == 0.0


def test_max_seconds_bounds_a_chunk():
    tr = Trainer(TINY)
    tr.run(max_seconds=0.05)
    assert 0 < tr.train_seconds
    assert tr.run(max_seconds=0.0) == 0


@pytest.mark.parametrize("background", [False, True])
def test_injected_nan_is_caught_and_the_last_finite_state_restored(background):
    tr = Trainer(TINY, background=background)
    tr.run(max_steps=250)
    with torch.no_grad():
        next(tr.model.decoder.parameters())[0, 0] = float("nan")
    tr.run(max_steps=50)
    assert tr.diverged and "diverged" in tr.message
    assert tr.step == 200  # the snapshot every 100 steps, taken while finite
    assert all(torch.isfinite(p).all() for p in tr.model.parameters())
    assert tr.history.last("step") <= 200 and finite_tables(tr)
    assert tr.evals.columns()["step"] == [25.0 * i for i in range(1, 9)]  # none past the snapshot
    assert tr.run(max_steps=10) == 0  # stays paused until cleared
    tr.clear_divergence()
    assert tr.run(max_steps=10) == 10 and tr.step == 210
    tr.sync()
    assert tr.evals.columns()["step"] == [25.0 * i for i in range(1, 9)]


def without_seconds(tr: Trainer) -> dict[str, list[list[float]]]:
    """Every table's rows without the wall-clock column (the one thing a rerun may change)."""
    return {
        name: [r[:1] + r[2:] if "seconds" in t.names else r for r in t.rows]
        for name, t in (("history", tr.history), ("evals", tr.evals), ("grads", tr.grad_stats))
    }


def draw_views(tr: Trainer) -> None:
    """What the Live VAE page draws between two chunks (every tick, as often as time allows)."""
    x = tr.x_test.numpy()[:20]
    tr.reconstruct(x), tr.sample(20), tr.encode_means(x), tr.density_grid(n=6, k=4), tr.evaluate()


def test_a_seed_reproduces_the_run_however_it_is_chunked_viewed_and_probed():
    """Same settings and seed → the same curves and weights, whether the 600 steps come as one
    chunk or as uneven ones (fixed or time-boxed, as the page's ticks are) with the views drawn
    between chunks and the probes on the worker thread."""
    config = replace(TINY, eval_every=50, gradstat_every=150)
    whole = Trainer(config, background=True)
    whole.run(max_steps=600)
    chunked, timed = Trainer(config, background=True), Trainer(config, background=True)
    for n in (1, 99, 3, 150, 47, 200, 100):
        draw_views(chunked)
        chunked.run(max_steps=n)
    while timed.step < 600:
        draw_views(timed)
        timed.run(max_steps=600 - timed.step, max_seconds=0.01)
    for tr in (whole, chunked, timed):
        tr.sync()
    assert chunked.step == timed.step == 600 and len(whole.evals) == 12
    assert len(whole.grad_stats) == 5  # steps 100 (the early probe), 150, 300, 450, 600
    for other in (chunked, timed):
        assert without_seconds(other) == without_seconds(whole)
        for p, q in zip(other.model.parameters(), whole.model.parameters(), strict=True):
            assert torch.equal(p, q)


def test_a_restored_divergence_continues_as_the_clean_run_would():
    """The snapshot holds the training RNG with the weights: after a restore to step 200 the next
    steps are those of a run that never diverged."""
    clean, hit = Trainer(TINY), Trainer(TINY)
    clean.run(max_steps=300)
    hit.run(max_steps=250)
    with torch.no_grad():
        next(hit.model.decoder.parameters())[0, 0] = float("nan")
    hit.run(max_steps=50)
    assert hit.diverged and hit.step == 200
    hit.clear_divergence()
    hit.run(max_steps=100)
    assert without_seconds(hit)["history"] == without_seconds(clean)["history"]
    for p, q in zip(hit.model.parameters(), clean.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_probes_do_not_change_the_training_run():
    """Evaluations and gradient probes draw their own random numbers from a copy of the model:
    the training losses are the same with them as without them."""
    probed = Trainer(replace(TINY, eval_every=10, gradstat_every=20))
    bare = Trainer(replace(TINY, eval_every=10**9, gradstat_every=0))
    probed.run(max_steps=60)
    bare.run(max_steps=60)
    assert len(probed.evals) == 6 and len(probed.grad_stats) == 3 and len(bare.evals) == 0
    assert [r[2:] for r in probed.history.rows] == [r[2:] for r in bare.history.rows]


def test_background_probes_run_on_the_worker_thread_and_give_the_same_tables(monkeypatch):
    import threading

    import reparam_core.vae_train as vt

    config = replace(TINY, eval_every=10, gradstat_every=20)
    threads = []
    real = vt.held_out_metrics

    def slow_metrics(*args):
        threads.append(threading.current_thread().name)
        time.sleep(0.02)  # longer than the 10 steps between probes
        return real(*args)

    class Recording:  # the worker pool, checking that a probe is submitted only after the last
        def __init__(self, pool):
            self.pool, self.futures = pool, []

        def submit(self, fn):
            assert all(f.done() for f in self.futures), "a second probe while one is in flight"
            self.futures.append(self.pool.submit(fn))
            return self.futures[-1]

    monkeypatch.setattr(vt, "held_out_metrics", slow_metrics)
    monkeypatch.setattr(vt, "_PROBES", Recording(vt._PROBES))
    fg, bg = Trainer(config), Trainer(config, background=True)
    for trainer in (fg, bg):
        for _ in range(6):
            trainer.run(max_steps=10)
    assert threads[:6] == ["MainThread"] * 6
    assert threads[6:] and all(t.startswith("reparam-probe") for t in threads[6:])
    assert len(vt._PROBES.futures) == 6  # at most one probe in flight per trainer, none lost
    bg.sync()
    for table in ("history", "evals", "grad_stats"):
        a, b = getattr(fg, table).rows, getattr(bg, table).rows
        assert len(a) > 0 and [r[:1] + r[2:] for r in a] == [r[:1] + r[2:] for r in b], table
    bg.sync()  # nothing in flight: a no-op
    assert len(bg.evals) == 6


@pytest.mark.parametrize("seed", [8, 22, 33])
def test_the_score_function_on_the_defaults_does_not_diverge(seed):
    """The page's defaults (moons, TrainConfig()) with the plain score function, through the KL
    warm-up. These seeds are three of those in 0–39 that diverged in their first 500 steps with
    the encoder at the full learning rate (bench/vae_divergence.py)."""
    tr = Trainer(replace(TrainConfig(), seed=seed, estimator="score", gradstat_every=0))
    tr.run(max_steps=1000)
    tr.sync()
    assert not tr.diverged, tr.message
    assert tr.step == 1000 and tr.history.last("neg_elbo") < 10  # near the data, not wandering
    assert tr.evals.last("iwae") > -4


@pytest.mark.parametrize("estimator", ["pathwise", "score"])
def test_huge_learning_rate_diverges_cleanly(estimator):
    tr = Trainer(replace(TINY, lr=1.0, estimator=estimator))
    tr.run(max_steps=500)
    assert tr.diverged and "learning rate" in tr.message
    assert all(torch.isfinite(p).all() for p in tr.model.parameters())
    assert finite_tables(tr)
    # the restored model still evaluates to finite numbers
    assert all(math.isfinite(v) for v in tr.evaluate().values())


def test_plain_vae_preset_switches_a_latent_unit_off():
    """Burda et al.'s activity metric on moons: the plain VAE (no warm-up) loses one of its two
    latent units within a few hundred steps (partial posterior collapse); the default keeps both."""
    small = dict(n_samples=2000, n_heldout=500, eval_every=300, iwae_k=8, gradstat_every=0)
    plain = Trainer(replace(PRESETS["plain VAE"], **small))
    plain.run(max_steps=300)
    assert plain.evals.last("active_units") == 1 and plain.collapse == "partial"
    default = Trainer(replace(PRESETS["default"], **small))
    default.run(max_steps=300)
    assert default.evals.last("active_units") == 2


def test_a_heavy_kl_weight_collapses_the_posterior_fully():
    tr = Trainer(replace(TINY, beta=8.0, warmup_steps=0, eval_every=200, batch_size=128))
    tr.run(max_steps=200)
    assert tr.evals.last("kl") < 0.05 and tr.collapse == "full"


def test_collapse_flag_for_a_dead_encoder():
    tr = Trainer(replace(TINY, warmup_steps=0))
    with torch.no_grad():
        tr.model.encoder[-1].weight.zero_()
        tr.model.encoder[-1].bias.zero_()
    tr._start_probe(evaluate=True, grad_stats=False, seconds=0.0)
    assert tr.evals.last("active_units") == 0 and tr.collapse == "full"


def test_lr_schedule_and_warmup():
    tr = Trainer(replace(TINY, lr=0.01, lr_decay_steps=100, lr_final_fraction=0.1, warmup_steps=50))
    assert tr.lr_at(0) == pytest.approx(0.01)
    assert tr.lr_at(50) == pytest.approx(0.01 * (0.1 + 0.9 * 0.5))
    assert tr.lr_at(100) == tr.lr_at(10_000) == pytest.approx(0.001)
    assert tr.beta_at(0) == 0 and tr.beta_at(25) == 0.5 and tr.beta_at(80) == 1.0


def test_views_have_the_right_shapes_and_the_density_is_finite():
    tr = Trainer(TINY)
    tr.run(max_steps=20)
    x = tr.x_test.numpy()[:30]
    assert tr.encode_means(x).shape == (30, 2)
    assert tr.reconstruct(x).shape == (30, 2)
    assert tr.sample(40).shape == (40, 2)
    xs, ys, p = tr.density_grid(n=12, k=4)
    assert p.shape == (12, 12) and np.isfinite(p).all() and (p >= 0).all()
    state = torch.load(io.BytesIO(tr.state_dict_bytes()), weights_only=True)
    assert state["step"] == 20 and state["config"]["hidden"] == 16
    assert set(state["model"]) == set(tr.model.state_dict())


@pytest.mark.parametrize(
    "field,value",
    [
        ("dataset", "nope"),
        ("lr", -1.0),
        ("lr", float("nan")),
        ("batch_size", 0),
        ("z_dim", 3),
        ("hidden", 0),
        ("beta", -0.5),
        ("estimator", "magic"),
        ("n_samples", 5),
        ("noise", -0.1),
        ("seed", -1),
        ("warmup_steps", 1.5),
    ],
)
def test_bad_config_raises_value_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        Trainer(replace(TINY, **{field: value}))


def test_presets_are_valid_and_differ_by_warmup():
    for cfg in PRESETS.values():
        cfg.validate()
    assert PRESETS["plain VAE"].warmup_steps == 0 < PRESETS["default"].warmup_steps


def test_run_arguments_are_validated():
    tr = Trainer(TINY)
    with pytest.raises(ValueError, match="max_steps"):
        tr.run(max_steps=-1)
    with pytest.raises(ValueError, match="max_seconds"):
        tr.run(max_seconds=float("nan"))


def test_untrained_model_outputs_are_a_function_of_the_config():
    """Reset means "as new": a fresh trainer and a reset one give the same reconstructions,
    samples, latents and density (the Live VAE's Reset and its URL-shared settings rely on it)."""

    def outputs(tr):
        x = tr.x_test.numpy()[:50]
        return [
            tr.reconstruct(x),
            tr.sample(50),
            tr.encode_means(x),
            tr.density_grid(-4, 4, 8, 4)[2],
        ]

    a = outputs(Trainer(TINY))
    tr = Trainer(TINY)
    tr.run(max_steps=30)
    tr.reset()
    for u, v in zip(a, outputs(tr), strict=True):
        np.testing.assert_array_equal(u, v)
    other = outputs(Trainer(replace(TINY, seed=TINY.seed + 1)))
    assert not np.array_equal(a[0], other[0])
