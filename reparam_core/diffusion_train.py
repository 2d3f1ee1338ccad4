"""A denoising diffusion model on 2-D points: the ε-network, its trainer, bounds and samplers.

Forward process (reparam_core.diffusion): x_t = a_t x_0 + b_t ε with a_t = √ᾱ_t, b_t = √(1 − ᾱ_t),
ε ~ N(0, I), t = 1 … T. A network f_θ(x_t, t) — an MLP on [x_t, emb(t)], with the transformer's
time embedding emb(t) = (sin ω_k t, cos ω_k t), ω_k = T^(−k/(K−1)) for k = 0 … K−1 (periods from
2π steps to 2πT) — predicts one of three targets, each a linear reparameterization of the same
regression (Salimans & Ho 2022 for v):

    "eps"  f = ε̂                       ε̂ = f
    "x0"   f = x̂_0                     ε̂ = (x_t − a_t x̂_0) / b_t
    "v"    f = v̂,  v = a_t ε − b_t x_0   ε̂ = a_t v̂ + b_t x_t        (and x̂_0 = a_t x_t − b_t v̂)

and back, x̂_0 = (x_t − b_t ε̂) / a_t, v̂ = a_t ε̂ − b_t x̂_0 (a_t² + b_t² = 1). Each is trained by
the mean squared error of its own target, which weights the steps differently: from the
conversions, ‖x_0 − x̂_0‖² = ‖ε − ε̂‖² / SNR(t) and ‖v − v̂‖² = ‖ε − ε̂‖² / ᾱ_t = (1 + 1/SNR(t))
‖ε − ε̂‖², with SNR = ᾱ/(1 − ᾱ): relative to the ε-MSE (Ho et al.'s L_simple), x0-MSE puts
weight 1/SNR(t) on step t (much more on the noisy steps) and v-MSE 1 + 1/SNR(t) (the same at
small t, more at large t). The history's `loss` is the parameterization's own MSE, ‖·‖² summed
over the two coordinates and averaged over the minibatch.

Training step: a minibatch x_0 of the training set, t ~ U{1 … T}, ε ~ N(0, I), x_t in one shot,
Adam (lr with an optional cosine decay to a fraction of it, as reparam_core.vae_train).

Reverse model, with the score s_θ(x, t) = −ε̂ / b_t:

    p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I),   μ_θ = (x_t − (β_t / b_t) ε̂) / √α_t,
    σ_t² = β_t ("beta", the default)  or  β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) ("beta_tilde",
    the variance of q(x_{t−1} | x_t, x_0)), Ho et al.'s two choices (`reverse_var`).

Variational bound (Ho et al. 2020, eq. 5), per point, in nats (a lower bound on log p_θ(x_0),
the same sign as the VAE's IWAE: higher is better):

    L(x_0) = E_q[log p(x_0 | x_1)] − Σ_{t=2..T} KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t))
             − KL(q(x_T | x_0) ‖ N(0, I)),
    KL_t   = (d/2)(r − 1 − log r) + ‖μ̃_t − μ_θ‖² / (2 σ_t²),   r = β̃_t / σ_t²,
             ‖μ̃_t − μ_θ‖² = β_t² / (α_t (1 − ᾱ_t)) · ‖ε − ε̂‖²,
    p(x_0 | x_1) = N(x_0; μ_θ(x_1, 1), σ_1² I) with σ_1² = β_1, so that
    −log p(x_0 | x_1) = (d/2) log(2π β_1) + ‖ε − ε̂‖² / (2 α_1)  (x_0 − μ_θ = √β_1 (ε̂ − ε) / √α_1),

with d = 2. Why β_t: at small t, x_{t−1} given x_t alone (not x_0) has variance ≈ β_t wherever
the data is smooth on the scale b_t, and β̃_t ≪ β_t there (β̃_1 = 0, β̃_2 = β_2 β_1 / (1 − ᾱ_2)).
With the exact ε of Gaussian data the bound with β_t is 0.012 nats below log p at T = 100
(falling like 1/T), with β̃_t 1.5 nats (tests/core/test_diffusion_train.py computes both in
closed form).

`vlb_nats` computes the decoder and prior terms for every point and sums KL_t over t = 2 … T
(or, with `t_draws`, estimates the sum from stratified draws of t), and returns the mean over
the points with its Monte Carlo standard error.

Samplers (`sample_trajectory`): DDPM ancestral sampling from the p_θ above (the last step returns
μ_θ(x_1, 1) without noise, as Ho et al. display samples); DDIM with η = 0 (Song et al. 2021):
x_{t'} = a_{t'} x̂_0 + b_{t'} ε̂ on `steps` evenly spaced steps, deterministic given x_T.

Evaluation (`DiffusionTrainer`, every `eval_every` steps, on a frozen copy of the model): the
bound on held-out points; the score error E_{x~q_t} ‖s_θ(x, t) − ∇ log q_t(x)‖² against the exact
score of the noised data (reparam_core.diffusion.noised_score) on a fixed set of steps
(`score_ts`), recorded averaged over them in ε units, (1 − ᾱ_t)·E‖s_θ − ∇ log q_t‖² =
E‖ε̂ − ε*‖² with ε* = −b_t ∇ log q_t (column `score_error`; `score_error_raw` is the average in
score units, dominated by the smallest t); and sample fidelity, the mean log p_data over DDPM
samples (`fidelity`; near toy_data.ceiling for a perfect model — blur lowers it, samples
sharper than the data raise it) with its standard error and the fraction of samples off the
data's support (log p_data = −inf: the checkerboard).

The trainer keeps the contract of reparam_core.vae_train.Trainer (chunks, bounded histories,
time cap, divergence snapshot, reset, background probes, views seeded by (seed, step)), so
reparam_core.live_session.LiveSession drives it unchanged.
"""

from __future__ import annotations

import copy
import io
import math
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from torch import nn

from reparam_core import toy_data
from reparam_core.diffusion import SCHEDULES, T_MAX, T_MIN, Schedule, noised_score, schedule
from reparam_core.vae_train import _PROBES, History, _clone_nested
from reparam_core.validate import check_n, check_seed, choice, in_range, whole

PARAMETERIZATIONS = ("eps", "x0", "v")
SAMPLERS = ("ddpm", "ddim")
REVERSE_VARS = ("beta", "beta_tilde")  # σ_t² of the reverse steps
HISTORY_ROWS = 2000
EVAL_ROWS = 1000
DIVERGED_LOSS = 1e6
SNAPSHOT_EVERY = 100
SCORE_T_FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.4, 0.7)  # of T: the score error's fixed steps
MAX_TRAJECTORY = 10_000_000  # points × stored steps of one trajectory: 160 MB of float64
VIEW_SAMPLE, VIEW_PROBE = range(2)  # their random streams

TRAIN_COLUMNS = ("step", "seconds", "loss", "lr")
EVAL_COLUMNS = (
    "step",
    "seconds",
    "bound",
    "bound_se",
    "score_error",
    "score_error_raw",
    "fidelity",
    "fidelity_se",
    "off_support",
)


# --- the network ---------------------------------------------------------------------------------


def time_embedding(T: int, n_freq: int) -> torch.Tensor:
    """(T + 1, 2 n_freq) table: row t is (sin ω_k t, cos ω_k t), ω_k = T^(−k/(n_freq − 1))."""
    k = torch.arange(n_freq, dtype=torch.float64)
    omega = float(T) ** (-k / max(n_freq - 1, 1))
    angle = torch.arange(T + 1, dtype=torch.float64)[:, None] * omega
    return torch.cat([angle.sin(), angle.cos()], 1).float()


class EpsNet(nn.Module):
    """f_θ(x_t, t): an MLP with `depth` SiLU layers of `width` on [x_t, emb(t)]; 2 outputs."""

    def __init__(
        self,
        T: int,
        width: int = 128,
        depth: int = 3,
        n_freq: int = 16,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.register_buffer("emb", time_embedding(T, n_freq))
        layers: list[nn.Module] = []
        d = 2 + 2 * n_freq
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.SiLU()]
            d = width
        layers.append(nn.Linear(d, 2))
        self.net = nn.Sequential(*layers)
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """He-uniform weights, zero biases, a small last layer (seeded, no global RNG)."""
        linears = [m for m in self.net if isinstance(m, nn.Linear)]
        for i, lin in enumerate(linears):
            bound = math.sqrt(6.0 / lin.in_features) * (0.1 if i == len(linears) - 1 else 1.0)
            lin.weight.uniform_(-bound, bound, generator=generator)
            lin.bias.zero_()

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x_t, self.emb[t]], 1))


def to_eps(out, x_t, a, b, parameterization: str):
    """ε̂ from the network's output (torch or numpy; a, b broadcast against x_t)."""
    if parameterization == "eps":
        return out
    if parameterization == "x0":
        return (x_t - a * out) / b
    return a * out + b * x_t


def from_eps(eps, x_t, a, b, parameterization: str):
    """The network output that means ε̂ = eps: the inverse of `to_eps`."""
    if parameterization == "eps":
        return eps
    x0 = (x_t - b * eps) / a
    if parameterization == "x0":
        return x0
    return a * eps - b * x0


def regression_target(x0, eps, a, b, parameterization: str):
    """What the network regresses on for the pair (x_0, ε): ε, x_0 or v = a ε − b x_0."""
    if parameterization == "eps":
        return eps
    if parameterization == "x0":
        return x0
    return a * eps - b * x0


# --- samplers ------------------------------------------------------------------------------------


def sample_trajectory(
    eps_fn, sched: Schedule, n: int, sampler: str = "ddpm", steps=None, seed=0, reverse_var="beta"
):
    """Reverse trajectory from x_T ~ N(0, I): (ts (K + 1,), traj (K + 1, n, 2)), ts[0] = T … 0.

    `eps_fn(x_t, t)` maps (n, 2) float64 points at step t to ε̂. DDPM takes all T steps
    (`steps` None or T), with σ_t² = β_t (`reverse_var`) and no noise at the last step; DDIM takes
    `steps` (≤ T, default T) evenly spaced ones.
    """
    n = check_n(n, 1, 100_000)
    choice("sampler", sampler, SAMPLERS)
    T = sched.T
    steps = T if steps is None else whole("steps", steps, 1, T)
    if sampler == "ddpm" and steps != T:
        raise ValueError(f"steps must be T = {T} for the DDPM sampler, got {steps!r}")
    rng = np.random.default_rng(check_seed(seed))
    ts = np.unique(np.round(np.linspace(0, T, steps + 1)).astype(np.int64))[::-1]
    if n * len(ts) > MAX_TRAJECTORY:
        raise ValueError(
            f"n × (steps + 1) must be ≤ {MAX_TRAJECTORY}, got n = {n}, steps = {steps}"
        )
    ab, beta, sigma2 = sched.alpha_bar, sched.beta, reverse_variance(sched, reverse_var)
    traj = np.empty((len(ts), n, 2))
    x = traj[0] = rng.standard_normal((n, 2))
    for k, (t, s) in enumerate(zip(ts[:-1], ts[1:], strict=True), start=1):
        eps = np.asarray(eps_fn(x, int(t)), dtype=np.float64)
        if sampler == "ddpm":
            alpha = 1.0 - beta[t - 1]
            mean = (x - beta[t - 1] / math.sqrt(1.0 - ab[t]) * eps) / math.sqrt(alpha)
            x = mean + math.sqrt(sigma2[t - 1]) * rng.standard_normal((n, 2)) if t > 1 else mean
        else:
            x0 = (x - math.sqrt(1.0 - ab[t]) * eps) / math.sqrt(ab[t])
            x = math.sqrt(ab[s]) * x0 + math.sqrt(1.0 - ab[s]) * eps
        traj[k] = x
    return ts, traj


def oracle_eps_fn(dataset: str, noise, sched: Schedule):
    """The exact ε*(x_t, t) = −√(1 − ᾱ_t) ∇ log q_t(x_t) of the noised dataset (Tweedie)."""

    def eps_fn(x_t, t):
        ab = float(sched.alpha_bar[t])
        return -math.sqrt(1.0 - ab) * noised_score(dataset, x_t, ab, noise)

    return eps_fn


# --- evaluation ----------------------------------------------------------------------------------


def _by_step(eps_fn, x, t: np.ndarray) -> np.ndarray:
    """eps_fn on points x with one step t[i] each: one call per distinct step."""
    out = np.empty_like(x)
    order = np.argsort(t, kind="stable")
    steps, starts = np.unique(t[order], return_index=True)
    for s, lo, hi in zip(steps, starts, list(starts[1:]) + [len(t)], strict=True):
        idx = order[lo:hi]
        out[idx] = eps_fn(x[idx], int(s))
    return out


def reverse_variance(sched: Schedule, reverse_var: str = "beta") -> np.ndarray:
    """σ_t² of p_θ(x_{t−1} | x_t) for t = 1 … T (index t − 1): β_t or β̃_t (β̃_1 = 0)."""
    choice("reverse_var", reverse_var, REVERSE_VARS)
    if reverse_var == "beta":
        return np.asarray(sched.beta)
    ab = sched.alpha_bar
    return sched.beta * (1.0 - ab[:-1]) / (1.0 - ab[1:])


def vlb_nats(
    eps_fn, sched: Schedule, x0, seed: int = 0, t_draws=None, reverse_var="beta", per_point=False
):
    """(mean, standard error) over the points x0 of the variational bound L(x_0), nats per point
    (`per_point`: the array of the points' one-draw bounds instead).

    The decoder (t = 1) and prior (t = T) terms are computed for every point. Σ_{t=2..T} KL_t is
    summed over every t (`t_draws` None), or estimated from `t_draws` draws per point,
    stratified: the steps 2 … T in `t_draws` contiguous blocks, one uniform draw in each, weighted
    by the block's size (unbiased; the KL terms fall like 1/t, so plain uniform draws are noisy).
    E[mean] ≤ E log p_θ(x_0).
    """
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim != 2 or x0.shape[1] != 2 or len(x0) < 2 or not np.isfinite(x0).all():
        raise ValueError(f"x0 must be a finite (n ≥ 2, 2) array, got shape {x0.shape}")
    n, T, ab, beta = len(x0), sched.T, sched.alpha_bar, sched.beta
    t_draws = T - 1 if t_draws is None else whole("t_draws", t_draws, 1, T - 1)
    sigma2 = reverse_variance(sched, reverse_var)
    rng = np.random.default_rng(check_seed(seed))
    d = x0.shape[1]

    # −log p(x_0 | x_1) with σ_1² = β_1: (d/2) log(2π β_1) + ‖ε − ε̂‖² / (2 α_1)
    eps = rng.standard_normal(x0.shape)
    x1 = math.sqrt(ab[1]) * x0 + math.sqrt(1.0 - ab[1]) * eps
    err = np.sum((eps - eps_fn(x1, 1)) ** 2, 1)
    decoder = 0.5 * d * math.log(2 * math.pi * beta[0]) + err / (2.0 * (1.0 - beta[0]))

    # KL(N(a_T x_0, b_T² I) ‖ N(0, I))
    prior = 0.5 * np.sum(ab[T] * x0**2 + (1.0 - ab[T]) - 1.0 - math.log(1.0 - ab[T]), 1)

    blocks = np.array_split(np.arange(2, T + 1), t_draws)
    lo = np.array([b[0] for b in blocks])
    size = np.array([len(b) for b in blocks])
    if t_draws == T - 1:
        t = np.tile(lo, n)
    else:
        t = (lo + np.floor(rng.random((n, t_draws)) * size).astype(np.int64)).ravel()
    xr = np.repeat(x0, t_draws, 0)
    eps = rng.standard_normal(xr.shape)
    x_t = np.sqrt(ab[t])[:, None] * xr + np.sqrt(1.0 - ab[t])[:, None] * eps
    err = np.sum((eps - _by_step(eps_fn, x_t, t)) ** 2, 1)
    b_t, s2 = beta[t - 1], sigma2[t - 1]
    r = b_t * (1.0 - ab[t - 1]) / (1.0 - ab[t]) / s2  # β̃_t / σ_t²
    kl = 0.5 * d * (r - 1.0 - np.log(r)) + b_t**2 / (2.0 * s2 * (1.0 - b_t) * (1.0 - ab[t])) * err
    kl_sum = (kl.reshape(n, t_draws) * size).sum(1)

    bound = -(decoder + kl_sum + prior)
    if per_point:
        return bound
    return float(bound.mean()), float(bound.std(ddof=1) / math.sqrt(n))


def score_error(eps_fn, dataset: str, noise, sched: Schedule, x0, ts, seed: int = 0, units="score"):
    """E_{x~q_t} ‖s_θ(x, t) − ∇ log q_t(x)‖² for each t in ts, s_θ = −ε̂ / √(1 − ᾱ_t).

    x ~ q_t as √ᾱ_t x_0 + √(1 − ᾱ_t) ε over the data points x0 (one ε each). `units="eps"`
    returns (1 − ᾱ_t) times it, E‖ε̂ − ε*‖², which stays bounded as t → 0.
    """
    choice("units", units, ("score", "eps"))
    x0 = np.asarray(x0, dtype=np.float64)
    rng = np.random.default_rng(check_seed(seed))
    out = []
    for t in np.asarray(ts).ravel():
        t = whole("t", int(t), 1, sched.T)
        ab = float(sched.alpha_bar[t])
        x = math.sqrt(ab) * x0 + math.sqrt(1.0 - ab) * rng.standard_normal(x0.shape)
        eps_exact = -math.sqrt(1.0 - ab) * noised_score(dataset, x, ab, noise)
        err = float(np.mean(np.sum((eps_fn(x, t) - eps_exact) ** 2, 1)))
        out.append(err if units == "eps" else err / (1.0 - ab))
    return np.array(out)


def fidelity(samples, dataset: str, noise=None) -> tuple[float, float, float]:
    """(mean log p_data, its standard error, off-support fraction) over `samples`.

    The mean and its error are over the samples where log p_data is finite; the fraction counts
    those where it is −inf (off the checkerboard's support) or that are not finite points.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    ok = np.isfinite(x).all(1)
    lp = np.full(len(x), -np.inf)
    if ok.any():
        lp[ok] = toy_data.log_prob(dataset, x[ok], noise)
    on = np.isfinite(lp)
    off = 1.0 - on.mean()
    if on.sum() < 2:
        return -math.inf, math.nan, float(off)
    return float(lp[on].mean()), float(lp[on].std(ddof=1) / math.sqrt(on.sum())), float(off)


# --- the trainer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusionConfig:
    """Everything that defines a run. `validate()` raises ValueError naming the bad field.

    The defaults were chosen by measurement on moons (bench target diffusion_seconds_to_fidelity).
    The v-parameterization is the default because ε̂ = a_T v̂ + b_T x_T is right at t = T whatever
    v̂ (a_T ≈ 5e-4 for the cosine schedule), where the bound weights an ε error by
    β_T / (2 α_T) ≈ 500 (β_T clipped to 0.999): the ε-network's small errors there cost it the
    bound, not the samples.
    """

    dataset: str = "moons"
    noise: float | None = None
    n_samples: int = 10_000
    schedule: str = "cosine"
    T: int = 100
    parameterization: str = "v"
    width: int = 128
    depth: int = 3
    time_freqs: int = 16  # K of the time embedding (2K features)
    lr: float = 2e-3
    lr_decay_steps: int = 20_000
    lr_final_fraction: float = 0.05
    batch_size: int = 256
    reverse_var: str = "beta"
    seed: int = 0
    n_heldout: int = 2000
    eval_every: int = 2000
    n_bound: int = 500  # held-out points of the bound (each summed over all T steps)
    n_score: int = 500  # held-out points per step of the score error
    n_fidelity: int = 1000  # DDPM samples of the fidelity
    max_seconds: float = 300.0

    def validate(self) -> DiffusionConfig:
        choice("dataset", self.dataset, toy_data.DATASETS)
        if self.noise is not None:
            lo, hi = toy_data.NOISE_RANGE[self.dataset]
            if isinstance(self.noise, bool) or not (
                isinstance(self.noise, int | float) and lo <= self.noise <= hi
            ):
                raise ValueError(f"noise must be between {lo:g} and {hi:g}, got {self.noise!r}")
        whole("n_samples", self.n_samples, 10, 1_000_000)
        choice("schedule", self.schedule, SCHEDULES)
        whole("T", self.T, T_MIN, T_MAX)
        choice("parameterization", self.parameterization, PARAMETERIZATIONS)
        whole("width", self.width, 1, 1024)
        whole("depth", self.depth, 1, 6)
        whole("time_freqs", self.time_freqs, 1, 128)
        in_range("lr", self.lr, 1e-6, 10.0)
        whole("lr_decay_steps", self.lr_decay_steps, 0, 10**9)
        in_range("lr_final_fraction", self.lr_final_fraction, 0.0, 1.0)
        whole("batch_size", self.batch_size, 1, 8192)
        choice("reverse_var", self.reverse_var, REVERSE_VARS)
        whole("seed", self.seed, 0, 2**31 - 1)
        whole("n_heldout", self.n_heldout, 2, 100_000)
        whole("eval_every", self.eval_every, 1, 10**9)
        whole("n_bound", self.n_bound, 2, self.n_heldout)
        whole("n_score", self.n_score, 2, self.n_heldout)
        whole("n_fidelity", self.n_fidelity, 2, 100_000)
        in_range("max_seconds", self.max_seconds, 0.0, 86_400.0)
        return self


def model_eps_fn(model: EpsNet, sched: Schedule, parameterization: str):
    """eps_fn(x_t, t) of a network: float64 numpy points in, ε̂ (float64 numpy) out."""
    a, b = np.sqrt(sched.alpha_bar), np.sqrt(1.0 - sched.alpha_bar)

    @torch.no_grad()
    def eps_fn(x_t, t):
        x = torch.as_tensor(np.asarray(x_t, dtype=np.float32))
        out = model(x, torch.full((x.shape[0],), int(t), dtype=torch.long)).double().numpy()
        return to_eps(out, np.asarray(x_t, dtype=np.float64), a[t], b[t], parameterization)

    return eps_fn


class DiffusionTrainer:
    """An ε-network, its optimizer and data, advanced in chunks by `run`; see the module docstring.

    A run is a function of its config and the number of steps taken, however they are split into
    chunks: training draws from one generator seeded by `seed`, and nothing else does — the probes
    and the views seed their own from (seed, step), and the divergence snapshot holds the training
    generator's state too.
    """

    def __init__(
        self,
        config: DiffusionConfig | None = None,
        background: bool = False,
        *,
        x_train: np.ndarray | None = None,
        x_test: np.ndarray | None = None,
    ):
        self.config = (config or DiffusionConfig()).validate()
        self.background = bool(background)
        c = self.config
        self.schedule = schedule(c.schedule, c.T)
        if x_train is None:
            x_train = toy_data.sample(c.dataset, c.n_samples, noise=c.noise, seed=2 * c.seed)
        if x_test is None:
            x_test = toy_data.sample(c.dataset, c.n_heldout, noise=c.noise, seed=2 * c.seed + 1)
        self.x_train = torch.as_tensor(np.asarray(x_train, dtype=np.float32))
        self.x_test = np.asarray(x_test, dtype=np.float64)
        for name, x in (("x_train", self.x_train.numpy()), ("x_test", self.x_test)):
            if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < 2 or not np.isfinite(x).all():
                raise ValueError(f"{name} must be a finite (n ≥ 2, 2) array, got shape {x.shape}")
        # float32 tables indexed by t: the step's a_t = √ᾱ_t and b_t = √(1 − ᾱ_t)
        self._a = torch.tensor(np.sqrt(self.schedule.alpha_bar), dtype=torch.float32)
        self._b = torch.tensor(np.sqrt(1.0 - self.schedule.alpha_bar), dtype=torch.float32)
        self.score_ts = np.unique([max(1, round(f * c.T)) for f in SCORE_T_FRACTIONS])
        self.reset()

    # --- state -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Fresh model, optimizer, RNG and history from the config (same seed → same run)."""
        c = self.config
        self.generator = torch.Generator().manual_seed(c.seed)
        self.model = EpsNet(c.T, c.width, c.depth, c.time_freqs, generator=self.generator)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=c.lr, fused=True)
        self.step = 0
        self.train_seconds = 0.0
        self.diverged = False
        self.message = ""
        self._probe: Future | None = None  # one of the previous run still in flight is dropped
        self.history = History(TRAIN_COLUMNS, HISTORY_ROWS, stride=10)
        self.evals = History(EVAL_COLUMNS, EVAL_ROWS)
        self._snapshot = None
        self._take_snapshot()

    def _finite(self) -> bool:
        return all(torch.isfinite(p).all() for p in self.model.parameters())

    def _take_snapshot(self) -> None:
        if self._finite():
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
        self.history.truncate(step)
        self.evals.truncate(step)
        self.diverged = True
        self.message = (
            f"Training diverged at step {bad_step} ({why}); the model is back at its last finite "
            f"state (step {step}). Lower the learning rate (now {self.config.lr:g}) and reset."
        )

    def clear_divergence(self) -> None:
        """Allow `run` to continue from the restored state."""
        self.diverged = False
        self.message = ""

    @property
    def time_left(self) -> float:
        return max(0.0, self.config.max_seconds - self.train_seconds)

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
        group = opt.param_groups[0]
        sa, sb, p = self._a, self._b, c.parameterization
        n, B, T, done = x.shape[0], c.batch_size, c.T, 0
        t0 = time.perf_counter()
        elapsed = 0.0
        while (max_steps is None or done < max_steps) and elapsed < budget:
            lr = group["lr"] = self.lr_at(self.step)
            x0 = x[torch.randint(0, n, (B,), generator=gen)]
            t = torch.randint(1, T + 1, (B,), generator=gen)
            eps = torch.randn((B, 2), generator=gen)
            a, b = sa[t].unsqueeze(1), sb[t].unsqueeze(1)
            out = model(a * x0 + b * eps, t)
            loss = (out - regression_target(x0, eps, a, b, p)).square().sum(1).mean()
            value = loss.item()
            if not math.isfinite(value) or value > DIVERGED_LOSS:
                self.train_seconds += time.perf_counter() - t0 - elapsed
                self._restore_snapshot(
                    "non-finite loss" if not math.isfinite(value) else f"loss {value:.3g}"
                )
                return done
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            self.step += 1
            done += 1
            elapsed = time.perf_counter() - t0
            self.history.add([self.step, self.train_seconds + elapsed, value, lr])
            if self.step % SNAPSHOT_EVERY == 0:
                if not self._finite():
                    self.train_seconds += elapsed
                    self._restore_snapshot("non-finite parameters")
                    return done
                self._take_snapshot()
            if self.step % c.eval_every == 0:
                self._start_probe(self.train_seconds + elapsed)
                elapsed = time.perf_counter() - t0
        self.train_seconds += elapsed
        self._collect(wait=False)
        if not self._finite():
            self._restore_snapshot("non-finite parameters")
        return done

    # --- probes: held-out evaluation ---------------------------------------------------------
    def _start_probe(self, seconds: float) -> None:
        """Evaluate the current parameters: now, or (background) on the worker thread."""
        self._collect(wait=True)  # at most one probe in flight
        job = self._probe_job(seconds)
        if self.background:
            self._probe = _PROBES.submit(job)
        else:
            self._add_row(job())

    def _probe_job(self, seconds: float):
        """A function of a frozen copy of the model (nothing of `self`): the row to add."""
        c, step, sched, ts = self.config, self.step, self.schedule, self.score_ts
        eps_fn = model_eps_fn(copy.deepcopy(self.model), sched, c.parameterization)
        x_test = self.x_test
        seeds = self._view_seeds(VIEW_PROBE, 3)

        def job() -> list[float]:
            bound, bound_se = vlb_nats(
                eps_fn, sched, x_test[: c.n_bound], seeds[0], reverse_var=c.reverse_var
            )
            err = score_error(
                eps_fn, c.dataset, c.noise, sched, x_test[: c.n_score], ts, seeds[1], units="eps"
            )
            raw = err / (1.0 - sched.alpha_bar[ts])
            _, traj = sample_trajectory(
                eps_fn, sched, c.n_fidelity, "ddpm", seed=seeds[2], reverse_var=c.reverse_var
            )
            fid, fid_se, off = fidelity(traj[-1], c.dataset, c.noise)
            return [step, seconds, bound, bound_se, err.mean(), raw.mean(), fid, fid_se, off]

        return job

    def _collect(self, wait: bool) -> None:
        probe = self._probe
        if probe is not None and (wait or probe.done()):
            self._probe = None
            self._add_row(probe.result())

    def _add_row(self, row: list[float]) -> None:
        self.evals.add_row(row)

    def sync(self) -> None:
        """Wait for a background probe and add its row (a no-op when none is in flight)."""
        self._collect(wait=True)

    def evaluate(self) -> dict[str, float]:
        """The probe's numbers for the current parameters, now (seeded by (seed, step))."""
        row = self._probe_job(self.train_seconds)()
        return dict(zip(EVAL_COLUMNS, row, strict=True))

    # --- views (numpy in, numpy out) ---------------------------------------------------------
    def _view_seeds(self, view: int, k: int = 1, *extra: int, step: bool = True) -> list[int]:
        """k seeds for one view of the current state, a function of (seed, step, view, extra).

        Never the training stream: a caller draws views between chunks, as often as the wall
        clock lets it, and each draw taken from the training RNG would shift every later step.
        """
        key = [self.config.seed, self.step if step else 0, view, *extra]
        return [int(w) for w in np.random.SeedSequence(key).generate_state(k, np.uint64) >> 1]

    def eps(self, x_t: np.ndarray, t: int) -> np.ndarray:
        """The model's ε̂(x_t, t), whatever its parameterization: (n, 2) float64."""
        t = whole("t", t, 1, self.config.T)
        return model_eps_fn(self.model, self.schedule, self.config.parameterization)(x_t, t)

    def score(self, x_t: np.ndarray, t: int) -> np.ndarray:
        """s_θ(x_t, t) = −ε̂ / √(1 − ᾱ_t)."""
        t = whole("t", t, 1, self.config.T)
        return -self.eps(x_t, t) / math.sqrt(1.0 - self.schedule.alpha_bar[t])

    def sample(self, n: int, sampler: str = "ddpm", steps=None, seed: int = 0, oracle=False):
        """(ts, traj) of `sample_trajectory` with the model's ε̂ (or the exact one, `oracle`).

        Seeded by (config seed, step, seed) — by (config seed, seed) for the oracle, which does
        not change with training — so a view drawn between chunks never touches the training RNG.
        """
        c = self.config
        if oracle:
            eps_fn = oracle_eps_fn(c.dataset, c.noise, self.schedule)
        else:
            eps_fn = model_eps_fn(self.model, self.schedule, c.parameterization)
        (s,) = self._view_seeds(VIEW_SAMPLE, 1, check_seed(seed), step=not oracle)
        return sample_trajectory(
            eps_fn, self.schedule, n, sampler, steps, seed=s, reverse_var=c.reverse_var
        )

    def state_dict_bytes(self) -> bytes:
        """torch.save of {"model": state_dict, "config": asdict(config), "step": step}."""
        buf = io.BytesIO()
        torch.save(
            {"model": self.model.state_dict(), "config": asdict(self.config), "step": self.step},
            buf,
        )
        return buf.getvalue()

    def with_config(self, **changes) -> DiffusionTrainer:
        """A fresh trainer with some config fields changed (validated)."""
        return DiffusionTrainer(replace(self.config, **changes), background=self.background)
