"""A chunked VAE trainer: keeps its state and advances by a bounded amount of work per call.

    trainer = Trainer(TrainConfig(dataset="moons"))
    trainer.run(max_steps=500)          # or max_seconds=0.2: one bounded chunk per call
    trainer.history.columns()           # bounded: ≤ `HISTORY_ROWS` rows, downsampled by 2 when full

Per step t (Adam on a minibatch of `batch_size` training points):

    loss_t = recon + beta_t · KL,   beta_t = beta · min(1, t / warmup_steps)     (KL warm-up,
             Bowman et al. 2015) — the reported neg_elbo is recon + KL (beta = 1), an upper bound
             on −log p(x) in expectation;
    lr_t   = lr · (f + (1 − f)·½(1 + cos(π · min(1, t / lr_decay_steps))))        (cosine decay
             to the fraction f = lr_final_fraction, then constant); the encoder's rate is
             lr_t · ENCODER_LR_SCALE[estimator] (a slower encoder for the plain score function).

A run is a function of its config and the number of steps taken, however they are split into
chunks: training draws from one generator seeded by `seed`, and nothing else does — the probes
and the views (`reconstruct`, `sample`, `density_grid`, `evaluate`) seed their own from
(seed, step), and the divergence snapshot holds the training generator's state too.

Every `eval_every` steps the held-out IWAE bound L_K (K = iwae_k) and Burda et al.'s active units
are recorded; every `gradstat_every` steps the encoder gradient's variance and SNR over 16 eps
draws on a fixed minibatch, for all three estimators at the current parameters (and once early,
at step `GRADSTAT_FIRST`). These probes run on a copy of the model with their own random numbers
(seeded by the step), so they never change the training run. With `Trainer(..., background=True)`
they run on a worker thread while training goes on — at most one probe in flight per trainer; their rows land when done (collected by `run`,
or by `sync()`, which waits). Either way the tables end up the same.

Safety: a non-finite or absurd (> `DIVERGED_LOSS` nats) loss, or non-finite parameters, restores
the last finite snapshot (model, optimizer and training generator), sets `diverged` and stops; no
such value enters the history. A total training-time cap (`max_seconds` of the config) bounds each trainer.
"""

from __future__ import annotations

import copy
import io
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from reparam_core import toy_data
from reparam_core.vae import (
    ESTIMATORS,
    VAE,
    active_units,
    encoder_grad_stats,
    estimator_loss,
    iwae_bound,
    neg_elbo,
)
from reparam_core.validate import choice, finite, whole

THREADS = 1  # torch threads for every caller: tiny matrices, and visitors share the server's cores
HISTORY_ROWS = 2000
EVAL_ROWS = 1000
GRADSTAT_ROWS = 500
GRADSTAT_FIRST = 100  # an early gradient-variance probe, before the regular ones
DIVERGED_LOSS = 1e6
SNAPSHOT_EVERY = 100
# The encoder's learning rate as a fraction of lr, per estimator. The plain score function's
# noise, at the full rate, walks the encoder means far from the prior while the KL warm-up
# still gives the KL little weight, and some seeds diverge; a slower encoder keeps them. Its
# baselined version does not diverge and keeps the full rate. Gradient-norm clipping was tried
# and made divergence more common (bench/vae_divergence.py measures both).
ENCODER_LR_SCALE = {"pathwise": 1.0, "score": 0.2, "score_baseline": 1.0}
VIEW_EVALUATE, VIEW_RECONSTRUCT, VIEW_SAMPLE, VIEW_DENSITY = range(4)  # their random streams
COLLAPSE_KL = 0.05  # nats: a held-out KL below this means q(z|x) ≈ p(z) for every x
# One worker thread for every background trainer's probes. The held-out evaluation is large
# tensor operations that release the GIL, so it runs beside the training steps; the gradient
# probe (small batches) mostly takes turns with them (bench/vae_bench.py browser;
# docs/performance.md). No per-visitor state; the thread starts at the first submit.
_PROBES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reparam-probe")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run. `validate()` raises ValueError naming the bad field."""

    dataset: str = "moons"
    n_samples: int = 10_000
    noise: float | None = None
    hidden: int = 64
    depth: int = 3
    z_dim: int = 2
    lr: float = 5e-3
    lr_decay_steps: int = 10_000
    lr_final_fraction: float = 0.1
    batch_size: int = 256
    beta: float = 1.0
    warmup_steps: int = 1000
    estimator: str = "pathwise"
    seed: int = 0
    n_heldout: int = 2000
    eval_every: int = 1000
    iwae_k: int = 64
    gradstat_every: int = 2000
    gradstat_batch: int = 128
    max_seconds: float = 300.0

    def validate(self) -> TrainConfig:
        if self.dataset not in toy_data.DATASETS:
            raise ValueError(
                f"dataset must be one of {list(toy_data.DATASETS)}, got {self.dataset!r}"
            )
        whole("n_samples", self.n_samples, 10, 1_000_000)
        if self.noise is not None and not (math.isfinite(self.noise) and 0 <= self.noise <= 2):
            raise ValueError(f"noise must be between 0 and 2, got {self.noise!r}")
        whole("hidden", self.hidden, 1, 1024)
        whole("depth", self.depth, 1, 4)
        if self.z_dim not in (1, 2):
            raise ValueError(f"z_dim (latent dimension) must be 1 or 2, got {self.z_dim!r}")
        _float_in("lr", self.lr, 1e-6, 10.0)
        whole("lr_decay_steps", self.lr_decay_steps, 0, 10**9)
        _float_in("lr_final_fraction", self.lr_final_fraction, 0.0, 1.0)
        whole("batch_size", self.batch_size, 1, 8192)
        _float_in("beta", self.beta, 0.0, 100.0)
        whole("warmup_steps", self.warmup_steps, 0, 10**9)
        choice("estimator", self.estimator, ESTIMATORS)
        whole("seed", self.seed, 0, 2**31 - 1)
        whole("n_heldout", self.n_heldout, 2, 100_000)
        whole("eval_every", self.eval_every, 1, 10**9)
        whole("iwae_k", self.iwae_k, 1, 10_000)
        whole("gradstat_every", self.gradstat_every, 0, 10**9)
        whole("gradstat_batch", self.gradstat_batch, 1, 8192)
        _float_in("max_seconds", self.max_seconds, 0.0, 86_400.0)
        return self


def _float_in(name: str, value, lo: float, hi: float) -> None:
    try:
        ok = lo <= finite(name, value) <= hi
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a number between {lo:g} and {hi:g}, got {value!r}")


PRESETS = {
    # Beats the plain VAE by KL warm-up (1000 steps), batch 256, depth 3 and a cosine
    # learning-rate decay (5e-3 → 5e-4 over 10 000 steps).
    "default": TrainConfig(),
    # Learned decoder variance, no warm-up, batch 128, constant lr: the KL term wins early, one
    # latent unit switches off (partial posterior collapse) and the IWAE stalls near −2.97.
    "plain VAE": TrainConfig(warmup_steps=0, lr_decay_steps=0, batch_size=128),
}


class History:
    """Rows of float columns, at most `cap` of them.

    Values added between rows are averaged into one row of `stride` observations (`step` and
    `seconds` keep the last value); when the table is full, adjacent rows are merged pairwise
    (averaged; `step` and `seconds` keep the later value) and the stride doubles — a uniform, bounded downsampling of the whole run.
    """

    def __init__(self, names: tuple[str, ...], cap: int = HISTORY_ROWS, stride: int = 1):
        if cap < 2:
            raise ValueError(f"cap must be ≥ 2, got {cap!r}")
        self.names, self.cap, self.stride = names, cap, stride
        self.rows: list[list[float]] = []
        self._sum = [0.0] * len(names)
        self._count = 0
        self._keep = [i for i, n in enumerate(names) if n in ("step", "seconds")]

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, values: list[float]) -> None:
        """Accumulate one observation (in `names` order); emit a row every `stride` calls."""
        s = self._sum
        for i, v in enumerate(values):
            s[i] += v
        self._count += 1
        if self._count >= self.stride:
            c = self._count
            row = [v / c for v in s]
            for i in self._keep:
                row[i] = values[i]
            self._sum = [0.0] * len(self.names)
            self._count = 0
            self._append(row)

    def add_row(self, values: list[float]) -> None:
        """Append one finished row (no averaging with neighbours until the table halves)."""
        self._append([float(v) for v in values])

    def _append(self, row: list[float]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.cap:
            self._halve()

    def _halve(self) -> None:
        keep = set(self._keep)
        merged = []
        for a, b in zip(self.rows[0::2], self.rows[1::2], strict=False):
            merged.append([b[i] if i in keep else 0.5 * (a[i] + b[i]) for i in range(len(a))])
        if len(self.rows) % 2:
            merged.append(self.rows[-1])
        self.rows = merged
        self.stride *= 2

    def truncate(self, step: float) -> None:
        """Drop rows after `step` and any partly accumulated row."""
        i = self.names.index("step")
        self.rows = [r for r in self.rows if r[i] <= step]
        self._sum = [0.0] * len(self.names)
        self._count = 0

    def columns(self) -> dict[str, list[float]]:
        return {n: [r[i] for r in self.rows] for i, n in enumerate(self.names)}

    def last(self, name: str) -> float | None:
        return self.rows[-1][self.names.index(name)] if self.rows else None


TRAIN_COLUMNS = ("step", "seconds", "neg_elbo", "recon", "kl", "beta", "lr")
EVAL_COLUMNS = ("step", "seconds", "iwae", "neg_elbo", "kl", "active_units")
GRAD_COLUMNS = ("step",) + tuple(f"{s}_{e}" for e in ESTIMATORS for s in ("var", "snr"))


class Trainer:
    """A VAE, its optimizer and data, advanced in chunks by `run`; see the module docstring."""

    def __init__(
        self,
        config: TrainConfig | None = None,
        x_train: np.ndarray | None = None,
        x_test: np.ndarray | None = None,
        background: bool = False,
    ):
        self.config = (config or TrainConfig()).validate()
        self.background = bool(background)
        c = self.config
        if x_train is None:
            x_train = toy_data.sample(c.dataset, c.n_samples, noise=c.noise, seed=2 * c.seed)
        if x_test is None:
            x_test = toy_data.sample(c.dataset, c.n_heldout, noise=c.noise, seed=2 * c.seed + 1)
        self.x_train = torch.as_tensor(np.asarray(x_train, dtype=np.float32))
        self.x_test = torch.as_tensor(np.asarray(x_test, dtype=np.float32))
        for name, x in (("x_train", self.x_train), ("x_test", self.x_test)):
            if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < 2 or not torch.isfinite(x).all():
                raise ValueError(
                    f"{name} must be a finite (n ≥ 2, 2) array, got shape {tuple(x.shape)}"
                )
        self.reset()

    # --- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Fresh model, optimizer, RNG and history from the config (same seed → same run)."""
        c = self.config
        self.generator = torch.Generator().manual_seed(c.seed)
        self.model = VAE(z_dim=c.z_dim, hidden=c.hidden, depth=c.depth, generator=self.generator)
        # fused: one kernel per group instead of a Python loop over tensors (bench/vae_bench.py
        # speed; docs/performance.md)
        groups = [{"params": m.parameters()} for m in (self.model.encoder, self.model.decoder)]
        self.optimizer = torch.optim.Adam(groups, lr=c.lr, fused=True)
        self.step = 0
        self.train_seconds = 0.0
        self.diverged = False
        self.message = ""
        self._probe: Future | None = None  # one of the previous run still in flight is dropped
        self.history = History(TRAIN_COLUMNS, HISTORY_ROWS, stride=10)
        self.evals = History(EVAL_COLUMNS, EVAL_ROWS)
        self.grad_stats = History(GRAD_COLUMNS, GRADSTAT_ROWS)
        idx = torch.randperm(self.x_train.shape[0], generator=self.generator)
        self.x_gradstat = self.x_train[idx[: c.gradstat_batch]]
        self._snapshot = None
        self._take_snapshot()

    def _take_snapshot(self) -> None:
        if all(torch.isfinite(p).all() for p in self.model.parameters()):
            self._snapshot = (
                self.step,
                {k: v.clone() for k, v in self.model.state_dict().items()},
                _clone_nested(self.optimizer.state_dict()),
                self.generator.get_state(),
            )

    def _restore_snapshot(self, why: str) -> None:
        bad_step = self.step + 1
        self.sync()  # a probe row past the snapshot must land before the tables are truncated
        step, model_state, opt_state, rng_state = self._snapshot
        self.model.load_state_dict(model_state)
        self.optimizer.load_state_dict(_clone_nested(opt_state))
        self.generator.set_state(rng_state)  # the state at `step` is the one a clean run had
        self.step = step
        for table in (self.history, self.evals, self.grad_stats):
            table.truncate(step)
        self.diverged = True
        self.message = (
            f"Training diverged at step {bad_step} ({why}); the model is back at its last finite "
            f"state (step {step}). Lower the learning rate (now {self.config.lr:g}) and reset."
        )

    def clear_divergence(self) -> None:
        """Allow `run` to continue from the restored state (e.g. after changing nothing)."""
        self.diverged = False
        self.message = ""

    @property
    def time_left(self) -> float:
        return max(0.0, self.config.max_seconds - self.train_seconds)

    def beta_at(self, step: int) -> float:
        c = self.config
        return c.beta * (min(1.0, step / c.warmup_steps) if c.warmup_steps else 1.0)

    def lr_at(self, step: int) -> float:
        c = self.config
        if not c.lr_decay_steps:
            return c.lr
        f = min(1.0, step / c.lr_decay_steps)
        return c.lr * (
            c.lr_final_fraction + (1 - c.lr_final_fraction) * 0.5 * (1 + math.cos(math.pi * f))
        )

    # --- training ----------------------------------------------------------------------------
    def run(self, max_steps: int | None = None, max_seconds: float | None = None) -> int:
        """Advance at most `max_steps` steps and `max_seconds` of wall time; return steps done.

        With neither given, runs until the trainer's total time cap. Returns 0 when diverged
        or when the cap is already reached.
        """
        if max_steps is not None and (isinstance(max_steps, bool) or int(max_steps) < 0):
            raise ValueError(f"max_steps must be ≥ 0, got {max_steps!r}")
        if max_seconds is not None and not (max_seconds >= 0):
            raise ValueError(f"max_seconds must be ≥ 0, got {max_seconds!r}")
        if self.diverged:
            return 0
        budget = self.time_left if max_seconds is None else min(max_seconds, self.time_left)
        if budget <= 0:
            self.message = f"Training-time cap reached ({self.config.max_seconds:g} s)."
            return 0
        c = self.config
        model, opt, gen, x = self.model, self.optimizer, self.generator, self.x_train
        n, done = x.shape[0], 0
        t0 = time.perf_counter()
        elapsed = 0.0
        while (max_steps is None or done < max_steps) and elapsed < budget:
            t = self.step
            beta, lr = self.beta_at(t), self.lr_at(t)
            encoder, decoder = opt.param_groups
            encoder["lr"], decoder["lr"] = lr * ENCODER_LR_SCALE[c.estimator], lr
            xb = x[torch.randint(0, n, (c.batch_size,), generator=gen)]
            surrogate, recon, kl = estimator_loss(model, xb, c.estimator, beta, gen)
            s, r, k = torch.stack([surrogate.detach(), recon, kl]).tolist()
            if not (math.isfinite(s) and math.isfinite(r + k)) or abs(r + k) > DIVERGED_LOSS:
                self.train_seconds += time.perf_counter() - t0 - elapsed
                self._restore_snapshot(
                    "non-finite loss" if not math.isfinite(r + k + s) else f"loss {r + k:.3g} nats"
                )
                return done
            opt.zero_grad(set_to_none=True)
            surrogate.backward()
            opt.step()
            self.step += 1
            done += 1
            elapsed = time.perf_counter() - t0
            self.history.add([self.step, self.train_seconds + elapsed, r + k, r, k, beta, lr])
            if self.step % SNAPSHOT_EVERY == 0:
                if not all(torch.isfinite(p).all() for p in model.parameters()):
                    self.train_seconds += elapsed
                    self._restore_snapshot("non-finite parameters")
                    return done
                self._take_snapshot()
            due_eval = self.step % c.eval_every == 0
            due_grad = bool(c.gradstat_every) and (
                self.step % c.gradstat_every == 0 or self.step == GRADSTAT_FIRST
            )
            if due_eval or due_grad:
                self._start_probe(due_eval, due_grad, self.train_seconds + elapsed)
            elapsed = time.perf_counter() - t0
        self.train_seconds += elapsed
        self._collect(wait=False)
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            self._restore_snapshot("non-finite parameters")
        return done

    # --- probes: held-out evaluation and gradient variance ------------------------------------
    def _start_probe(self, evaluate: bool, grad_stats: bool, seconds: float) -> None:
        """Measure the current parameters: now, or (background) on the worker thread."""
        self._collect(wait=True)  # at most one probe in flight
        job = self._probe_job(evaluate, grad_stats, seconds)
        if self.background:
            self._probe = _PROBES.submit(job)
        else:
            self._add_rows(job())

    def _probe_job(self, evaluate: bool, grad_stats: bool, seconds: float):
        """A function of a frozen copy of the model (nothing of `self`): the rows to add."""
        c, step = self.config, self.step
        model, beta = copy.deepcopy(self.model), self.beta_at(step)
        x_test, x_grad = self.x_test, self.x_gradstat
        generator = torch.Generator().manual_seed(c.seed * 2**32 + step)

        def job() -> dict[str, list[float]]:
            rows = {}
            if evaluate:
                ev = held_out_metrics(model, x_test, c.iwae_k, generator)
                rows["evals"] = [step, seconds] + [ev[name] for name in EVAL_COLUMNS[2:]]
            if grad_stats:
                row = [float(step)]
                for e in ESTIMATORS:
                    st = encoder_grad_stats(model, x_grad, e, beta, 16, generator)
                    row += [st["var"], st["snr"]]
                if all(math.isfinite(v) for v in row):
                    rows["grad_stats"] = row
            return rows

        return job

    def _collect(self, wait: bool) -> None:
        probe = self._probe
        if probe is not None and (wait or probe.done()):
            self._probe = None
            self._add_rows(probe.result())

    def _add_rows(self, rows: dict[str, list[float]]) -> None:
        for table, row in rows.items():
            getattr(self, table).add_row(row)

    def sync(self) -> None:
        """Wait for a background probe and add its rows (a no-op when none is in flight)."""
        self._collect(wait=True)

    # --- evaluation --------------------------------------------------------------------------
    def evaluate(self, x: torch.Tensor | None = None, k: int | None = None) -> dict[str, float]:
        """Held-out means: IWAE bound L_K, one-sample neg ELBO, KL, and active units."""
        x = self.x_test if x is None else x
        k = self.config.iwae_k if k is None else k
        return held_out_metrics(self.model, x, k, self._view_generator(VIEW_EVALUATE))

    @property
    def collapse(self) -> str:
        """ "" if fine, "partial" if some latent units are inactive, "full" if all are (or KL ≈ 0).

        Judged on the latest held-out evaluation, and only once the KL warm-up is over.
        """
        if not len(self.evals) or self.step < self.config.warmup_steps:
            return ""
        au, kl = self.evals.last("active_units"), self.evals.last("kl")
        if au == 0 or kl < COLLAPSE_KL:
            return "full"
        if au < self.config.z_dim:
            return "partial"
        return ""

    # --- views (numpy out) -------------------------------------------------------------------
    def _view_generator(self, view: int) -> torch.Generator:
        """Random numbers for one view of the current state, a function of (seed, step, view).

        Never the training stream: a caller draws views between chunks, as often as the wall
        clock lets it, and each draw taken from the training RNG would shift every later step.
        """
        words = np.random.SeedSequence([self.config.seed, self.step, view]).generate_state(2)
        return torch.Generator().manual_seed(int(words[0]) << 32 | int(words[1]))

    @torch.no_grad()
    def encode_means(self, x: np.ndarray) -> np.ndarray:
        mu, _ = self.model.encode(torch.as_tensor(np.asarray(x, dtype=np.float32)))
        return mu.numpy()

    @torch.no_grad()
    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """m(z) with z = mu(x) + sigma(x)·eps: one stochastic reconstruction per point."""
        mu, sigma = self.model.encode(torch.as_tensor(np.asarray(x, dtype=np.float32)))
        eps = torch.randn(mu.shape, generator=self._view_generator(VIEW_RECONSTRUCT))
        m, _ = self.model.decode(mu + sigma * eps)
        return m.numpy()

    @torch.no_grad()
    def sample(self, n: int) -> np.ndarray:
        """x ~ p(x|z), z ~ N(0, I): samples from the model."""
        generator = self._view_generator(VIEW_SAMPLE)
        z = torch.randn((int(n), self.config.z_dim), generator=generator)
        m, s = self.model.decode(z)
        return (m + s * torch.randn(m.shape, generator=generator)).numpy()

    @torch.no_grad()
    def density_grid(
        self, lo: float = -3.0, hi: float = 3.0, n: int = 50, k: int = 32
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xs, ys, p) with p[i, j] = exp L_K((xs[j], ys[i])), the model density's estimate.

        exp L_K = (1/K) Σ_k w_k with E[w_k] = p_θ(x) is an unbiased estimate of p_θ(x); only its
        log, L_K, is biased low (Jensen: E[L_K] ≤ log p_θ(x)).
        """
        xs = np.linspace(lo, hi, n, dtype=np.float32)
        gx, gy = np.meshgrid(xs, xs)
        pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))
        generator = self._view_generator(VIEW_DENSITY)
        lp = iwae_bound(self.model, pts, k, generator).numpy().reshape(n, n)
        return xs, xs, np.exp(np.clip(lp, -50, 10))

    def state_dict_bytes(self) -> bytes:
        """torch.save of {"model": state_dict, "config": asdict(config), "step": step}."""
        buf = io.BytesIO()
        torch.save(
            {"model": self.model.state_dict(), "config": asdict(self.config), "step": self.step},
            buf,
        )
        return buf.getvalue()

    def with_config(self, **changes) -> Trainer:
        """A fresh trainer with some config fields changed (validated)."""
        return Trainer(replace(self.config, **changes), background=self.background)


def held_out_metrics(
    model: VAE, x: torch.Tensor, k: int, generator: torch.Generator
) -> dict[str, float]:
    """Means over x: the IWAE bound L_K, the one-sample neg ELBO, the KL, and active units."""
    model.train(False)
    with torch.no_grad():
        iw = iwae_bound(model, x, k, generator)
        eps = torch.randn((x.shape[0], model.z_dim), generator=generator)
        loss, _, kl = neg_elbo(model, x, 1.0, eps)
        au = active_units(model, x)
    model.train(True)
    return {
        "iwae": float(iw.mean()),
        "neg_elbo": float(loss.mean()),
        "kl": float(kl.mean()),
        "active_units": float(au),
    }


def _clone_nested(obj):
    if isinstance(obj, torch.Tensor):
        return obj.clone()
    if isinstance(obj, dict):
        return {k: _clone_nested(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone_nested(v) for v in obj]
    return obj
