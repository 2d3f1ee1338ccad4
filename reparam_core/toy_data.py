"""2-D toy datasets (FFJORD's `inf_train_gen` scales) with their exact generating densities.

Each dataset is a generator x = g(u) of simple random variables u; `sample` draws from it.
The geometry and scales follow FFJORD (github rtqichen/ffjord, lib/toy_data.py), re-implemented
in numpy. Where FFJORD/sklearn place points deterministically (make_moons/make_circles use an
evenly spaced curve parameter, the pinwheel uses equal class counts), we draw the curve
parameter and the component at random, so the samples are i.i.d. from the density below.

    moons         k ~ U{0,1}, t ~ U(0, π), e ~ N(0, I)
                  c_0(t) = (cos t, sin t),  c_1(t) = (1 − cos t, 1/2 − sin t)
                  x = 2 (c_k(t) + noise·e) + (−1, −0.2)                         noise = 0.1
    circles       k ~ U{0,1}, t ~ U(0, 2π), R_0 = 1, R_1 = 1/2 (sklearn factor=.5)
                  x = 3 (R_k (cos t, sin t) + noise·e)                           noise = 0.08
    8gaussians    k ~ U{0..7}, m_k = 4 (cos kπ/4, sin kπ/4)
                  x = (m_k + noise·e) / 1.414                                    noise = 0.5
    pinwheel      k ~ U{0..4}, r ~ N(1, 0.3²), τ ~ N(0, noise²), a = 2πk/5 + 0.25 e^r
                  x = 2 (r cos a + τ sin a, −r sin a + τ cos a)                  noise = 0.1
                  (noise is the tangential std; the radial std stays 0.3)
    2spirals      s ~ U{−1,+1}, t = 3π √v with v ~ U(0,1), b ~ U([0, 1/2]²)
                  x = s (−t cos t + b_1, t sin t + b_2) / 3 + noise·e            noise = 0.1
    checkerboard  uniform on 8 of the 16 cells of side 2 in [−4, 4]² (a checkerboard);
                  p(x) = 1/32 on its support, so E[log p] = −ln 32 exactly.      noise: none
                  `noise` has no meaning here: it is validated like the others, then ignored.

Densities (see `log_prob`): moons and 2spirals integrate the Gaussian (for 2spirals, box ⊛
Gaussian) kernel over the curve parameter t with composite Gauss–Legendre quadrature; circles
do the t-integral in closed form, (1/2π)∫ exp(κ cos t) dt = I_0(κ); 8gaussians is a closed-form
mixture; pinwheel uses the change of variables p(x) = Σ_preimages p(r, τ) / |det J| with
|det J| = 4 |1 + 0.25 e^r τ|; checkerboard is 1/32 on its support.

`ceiling(name, noise)` = E_{x~p}[log p(x)] = −H(p), the best expected log-likelihood any model
can reach, in nats.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

DATASETS = ("moons", "circles", "8gaussians", "pinwheel", "2spirals", "checkerboard")

DEFAULT_NOISE: dict[str, float] = {
    "moons": 0.1,
    "circles": 0.08,
    "8gaussians": 0.5,
    "pinwheel": 0.1,
    "2spirals": 0.1,
    "checkerboard": 0.0,
}

NOISE_MEANING: dict[str, str] = {
    "moons": "std of the Gaussian noise on the unit moons (before ×2)",
    "circles": "std of the Gaussian noise on the unit circles (before ×3)",
    "8gaussians": "std of each Gaussian before the ÷1.414 rescale",
    "pinwheel": "tangential std of each arm (radial std fixed at 0.3)",
    "2spirals": "std of the Gaussian noise added after the uniform jitter",
    "checkerboard": "none: the checkerboard has no noise parameter (ignored)",
}

# Allowed noise: sample() accepts [0, hi]; log_prob() and ceiling() need [lo, hi] (a density
# needs noise > 0, and a very peaked one costs more quadrature nodes). 1/4 to 4 × the default.
NOISE_RANGE: dict[str, tuple[float, float]] = {
    name: (0.25 * v, 4.0 * v) if v > 0 else (0.0, 1.0) for name, v in DEFAULT_NOISE.items()
}

MAX_SAMPLES = 1_000_000

PINWHEEL_RADIAL_STD = 0.3
PINWHEEL_RATE = 0.25
PINWHEEL_ARMS = 5
SPIRAL_TURN = 3 * math.pi  # 540°
SPIRAL_JITTER = 0.5


# --- validation -------------------------------------------------------------------------------


def _check_name(name) -> str:
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"name must be one of {', '.join(DATASETS)}; got {name!r}")
    return name


def _check_noise(name: str, noise, density: bool = False) -> float:
    if noise is None:
        return DEFAULT_NOISE[name]
    if isinstance(noise, bool) or not isinstance(noise, Real):
        raise ValueError(f"noise must be a number, got {noise!r}")
    noise = float(noise)
    if not math.isfinite(noise):
        raise ValueError(f"noise must be finite, got {noise!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    lo, hi = NOISE_RANGE[name]
    if noise > hi:
        raise ValueError(f"noise must be <= {hi:g} for {name}, got {noise!r}")
    if density and noise < lo and name != "checkerboard":
        raise ValueError(
            f"noise must be >= {lo:g} for the {name} density (got {noise!r}); "
            "sample() accepts smaller noise"
        )
    return noise


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, Integral | Real):
        raise ValueError(f"n must be an integer, got {n!r}")
    if isinstance(n, Real) and not isinstance(n, Integral):
        if not math.isfinite(n) or n != int(n):
            raise ValueError(f"n must be an integer, got {n!r}")
    n = int(n)
    if n < 1 or n > MAX_SAMPLES:
        raise ValueError(f"n must be between 1 and {MAX_SAMPLES}, got {n}")
    return n


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


# --- sampling ---------------------------------------------------------------------------------


def sample(name: str, n: int, noise: float | None = None, seed: int = 0) -> np.ndarray:
    """Draw n i.i.d. points from dataset `name` (see the module docstring), shape (n, 2) float32.

    Deterministic given (name, n, noise, seed). noise=None means DEFAULT_NOISE[name];
    noise must lie in [0, NOISE_RANGE[name][1]]; n in [1, MAX_SAMPLES].
    """
    name = _check_name(name)
    n = _check_n(n)
    noise = _check_noise(name, noise)
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    x = _SAMPLERS[name](rng, n, noise)
    return np.ascontiguousarray(x, dtype=np.float32)


def _sample_moons(rng, n, noise):
    k = rng.integers(0, 2, n)
    t = rng.uniform(0.0, math.pi, n)
    c = np.where(
        (k == 0)[:, None],
        np.stack([np.cos(t), np.sin(t)], 1),
        np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], 1),
    )
    return 2.0 * (c + noise * rng.standard_normal((n, 2))) + np.array([-1.0, -0.2])


def _sample_circles(rng, n, noise):
    radius = np.where(rng.integers(0, 2, n) == 0, 1.0, 0.5)
    t = rng.uniform(0.0, 2 * math.pi, n)
    c = radius[:, None] * np.stack([np.cos(t), np.sin(t)], 1)
    return 3.0 * (c + noise * rng.standard_normal((n, 2)))


def _gaussian_centres() -> np.ndarray:
    angle = np.arange(8) * (math.pi / 4)
    return 4.0 * np.stack([np.cos(angle), np.sin(angle)], 1)


def _sample_8gaussians(rng, n, noise):
    k = rng.integers(0, 8, n)
    return (_gaussian_centres()[k] + noise * rng.standard_normal((n, 2))) / 1.414


def _sample_pinwheel(rng, n, noise):
    k = rng.integers(0, PINWHEEL_ARMS, n)
    r = 1.0 + PINWHEEL_RADIAL_STD * rng.standard_normal(n)
    tau = noise * rng.standard_normal(n)
    a = 2 * math.pi * k / PINWHEEL_ARMS + PINWHEEL_RATE * np.exp(r)
    ca, sa = np.cos(a), np.sin(a)
    return 2.0 * np.stack([r * ca + tau * sa, -r * sa + tau * ca], 1)


def _sample_2spirals(rng, n, noise):
    sign = np.where(rng.integers(0, 2, n) == 0, 1.0, -1.0)
    t = SPIRAL_TURN * np.sqrt(rng.uniform(0.0, 1.0, n))
    b = SPIRAL_JITTER * rng.uniform(0.0, 1.0, (n, 2))
    d = np.stack([-t * np.cos(t), t * np.sin(t)], 1) + b
    return sign[:, None] * d / 3.0 + noise * rng.standard_normal((n, 2))


def _sample_checkerboard(rng, n, noise):
    x1 = rng.uniform(-2.0, 2.0, n)
    x2 = rng.uniform(0.0, 1.0, n) - 2.0 * rng.integers(0, 2, n) + np.floor(x1) % 2
    return 2.0 * np.stack([x1, x2], 1)


_SAMPLERS = {
    "moons": _sample_moons,
    "circles": _sample_circles,
    "8gaussians": _sample_8gaussians,
    "pinwheel": _sample_pinwheel,
    "2spirals": _sample_2spirals,
    "checkerboard": _sample_checkerboard,
}
