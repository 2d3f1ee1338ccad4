"""The forward (noising) process of a diffusion model, as the reparameterization trick.

    q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),   so   x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,  ε ~ N(0, I)

in one shot for any t (Ho et al. 2020, eq. 4): the same location–scale map x = μ + σε as the
change-of-variables page, with μ = √ᾱ_t x_0 and σ = √(1 − ᾱ_t). A schedule fixes
β_1 … β_T, α_t = 1 − β_t and ᾱ_t = Π_{s ≤ t} α_s; index 0 of `alpha_bar` is t = 0 (ᾱ_0 = 1).

    linear  β_t from 1e-4 to 0.02, evenly spaced over t = 1 … T (DDPM's, tuned for T = 1000)
    cosine  ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008, with β_t
            clipped to 0.999 (Nichol & Dhariwal 2021)

A schedule must end in noise: sampling starts from N(0, I), which is q(x_T) only if √ᾱ_T ≈ 0.
`Schedule.ends_in_noise` is False when √ᾱ_T > `END_NOISE_TOL` (DDPM's linear β over T = 50
leaves √ᾱ_T ≈ 0.78: the data is still visible at T).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from reparam_core.validate import check_seed, choice, whole

SCHEDULES = ("cosine", "linear")
SCHEDULE_LABELS = {"cosine": "cosine (Nichol & Dhariwal)", "linear": "linear β (DDPM)"}
T_MIN, T_MAX = 10, 1000
END_NOISE_TOL = (
    0.05  # √ᾱ_T above this: x_T still carries the data, yet sampling starts from N(0, I)
)
LINEAR_BETA = (1e-4, 0.02)
COSINE_S = 0.008
COSINE_BETA_MAX = 0.999


@dataclass(frozen=True, eq=False)
class Schedule:
    """β_t for t = 1 … T (`beta[t − 1]`) and ᾱ_t for t = 0 … T (`alpha_bar[t]`), float64."""

    name: str
    T: int
    beta: np.ndarray
    alpha_bar: np.ndarray

    def mu_sigma(self, t) -> tuple[np.ndarray, np.ndarray]:
        """(√ᾱ_t, √(1 − ᾱ_t)): the location scale and the noise scale of q(x_t | x_0)."""
        ab = self.alpha_bar[self._t(t)]
        return np.sqrt(ab), np.sqrt(1.0 - ab)

    def snr(self, t) -> np.ndarray:
        """SNR(t) = ᾱ_t / (1 − ᾱ_t) (inf at t = 0)."""
        ab = self.alpha_bar[self._t(t)]
        with np.errstate(divide="ignore"):
            return ab / (1.0 - ab)

    def log_snr(self, t) -> np.ndarray:
        """log SNR(t) in nats (inf at t = 0, −inf where ᾱ_t = 0)."""
        ab = self.alpha_bar[self._t(t)]
        with np.errstate(divide="ignore"):
            return np.log(ab) - np.log1p(-ab)

    @property
    def sqrt_alpha_bar_T(self) -> float:
        return float(math.sqrt(self.alpha_bar[-1]))

    @property
    def ends_in_noise(self) -> bool:
        return self.sqrt_alpha_bar_T <= END_NOISE_TOL

    def _t(self, t):
        t = np.asarray(t)
        if not np.issubdtype(t.dtype, np.integer):
            if not (np.issubdtype(t.dtype, np.floating) and np.all(t == np.round(t))):
                raise ValueError(f"t must be whole steps in 0…{self.T}, got {t!r}")
            t = t.astype(np.int64)
        if t.size and (t.min() < 0 or t.max() > self.T):
            raise ValueError(f"t must be in 0…{self.T}, got {t!r}")
        return t


def schedule(name: str = "cosine", T: int = 100) -> Schedule:
    """The noise schedule `name` (one of SCHEDULES) with T steps (T_MIN ≤ T ≤ T_MAX)."""
    choice("schedule", name, SCHEDULES)
    T = whole("T", T, T_MIN, T_MAX)
    return _schedule(name, T)


@functools.lru_cache(maxsize=32)
def _schedule(name: str, T: int) -> Schedule:
    if name == "linear":
        beta = np.linspace(*LINEAR_BETA, T)
    else:
        t = np.arange(T + 1) / T
        f = np.cos((t + COSINE_S) / (1 + COSINE_S) * math.pi / 2) ** 2
        beta = np.minimum(1.0 - f[1:] / f[:-1], COSINE_BETA_MAX)
    alpha_bar = np.concatenate([[1.0], np.cumprod(1.0 - beta)])
    beta.setflags(write=False)
    alpha_bar.setflags(write=False)
    return Schedule(name, T, beta, alpha_bar)


def forward_sample(x0, t, sched: Schedule, seed: int = 0, eps=None):
    """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε in one shot: returns (x_t, ε), float64 arrays like x0.

    `t` is one step for all points or one per point (shape x0.shape[:-1]); ε is drawn from
    N(0, I) with `seed` unless given.
    """
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim < 1 or not np.isfinite(x0).all():
        raise ValueError("x0 must be a finite array of points, shape (..., d)")
    mu, sigma = sched.mu_sigma(t)
    mu, sigma = np.asarray(mu)[..., None], np.asarray(sigma)[..., None]
    if eps is None:
        eps = np.random.default_rng(check_seed(seed)).standard_normal(x0.shape)
    else:
        eps = np.asarray(eps, dtype=np.float64)
        if eps.shape != x0.shape:
            raise ValueError(f"eps must have the shape of x0 {x0.shape}, got {eps.shape}")
    return mu * x0 + sigma * eps, eps
