"""Invertible monotone maps and the densities they push forward (numpy only — no torch here).

A transform is a strictly monotone, differentiable map y = h(x) from its `domain` onto its
`codomain`, with inverse x = g(y) = h⁻¹(y). Following torch.distributions.transforms:

    forward(x)                  y = h(x)
    inverse(y)                  x = g(y)
    derivative(x)               h'(x)
    inverse_derivative(y)       g'(y) = 1 / h'(g(y))
    log_abs_det_jacobian(x, y)  log |h'(x)|            (torch's sign convention)

Change of variables: if X has density f_X and Y = h(X), then

    f_Y(y) = f_X(g(y)) · |g'(y)|,   i.e.   log f_Y(y) = log f_X(x) − log |h'(x)|,  x = g(y),

and its CDF is F_Y(y) = F_X(g(y)) when h increases, 1 − F_X(g(y)) when it decreases.

Maps provided (all increasing):

    Standardize(mu, sigma)  y = (x − μ)/σ          g(y) = μ + σ y         g'(y) = σ
    Affine(mu, sigma)       x = μ + σ ε            (the reparameterization; inverse of Standardize)
    Exp                     y = eˣ     on (0, ∞)   g(y) = log y           g'(y) = 1/y
    Sigmoid                 y = 1/(1+e⁻ˣ) on (0,1) g(y) = log(y/(1−y))   g'(y) = 1/(y(1−y))
    Sinh                    y = sinh x             g(y) = asinh y         g'(y) = 1/√(1+y²)

Why sinh as the extra non-linear map (rather than the cubic y = x + x³/3): its inverse asinh is
closed-form and numerically stable (the cubic needs Cardano's formula, which cancels badly for
large |y|), it is a bijection of ℝ onto ℝ that *squeezes* the tails (|g'(y)| → 0 as |y| → ∞, the
opposite of exp's stretching near 0), and the pushforward of a normal is Johnson's S_U
distribution — a known closed form to test against.

Pushed through these maps, x ~ N(μ, σ²) gives N(0, 1) (Standardize), the log-normal (Exp), the
logit-normal (Sigmoid) and Johnson's S_U (Sinh). A value y outside the codomain has density 0
(log-density −∞); it is not an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from reparam_core.validate import N_MAX, whole  # N_MAX re-exported for checks and tests
from reparam_core.validate import finite as _finite

Array = np.ndarray
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_ERFC = np.frompyfunc(math.erfc, 1, 1)


def check_sigma(sigma: float, name: str = "sigma") -> float:
    """σ as a float; ValueError naming the parameter unless 0 < σ < ∞."""
    sigma = _finite(name, sigma)
    if sigma <= 0:
        raise ValueError(f"{name} must be > 0, got {sigma!r}")
    return sigma


def check_mu(mu: float, name: str = "mu") -> float:
    """μ as a float; ValueError naming the parameter unless finite."""
    return _finite(name, mu)


# ---------------------------------------------------------------------------- the normal base


def normal_log_prob(x: Array, mu: float = 0.0, sigma: float = 1.0) -> Array:
    """log N(x | μ, σ²) = −(x − μ)²/(2σ²) − log σ − ½ log 2π."""
    mu, sigma = check_mu(mu), check_sigma(sigma)
    z = (np.asarray(x, dtype=float) - mu) / sigma
    return -0.5 * z**2 - math.log(sigma) - LOG_SQRT_2PI


def normal_cdf(x: Array, mu: float = 0.0, sigma: float = 1.0) -> Array:
    """Φ((x − μ)/σ) = ½ erfc(−(x − μ)/(σ√2)), accurate in both tails."""
    mu, sigma = check_mu(mu), check_sigma(sigma)
    z = (np.asarray(x, dtype=float) - mu) / (sigma * math.sqrt(2.0))
    return 0.5 * np.asarray(_ERFC(-z), dtype=float)


class Normal:
    """N(μ, σ²) on ℝ: `log_prob`, `prob`, `cdf`, `sample(n, seed)`."""

    domain = (-math.inf, math.inf)

    def __init__(self, mu: float = 0.0, sigma: float = 1.0):
        self.mu = check_mu(mu)
        self.sigma = check_sigma(sigma)

    def log_prob(self, x: Array) -> Array:
        return normal_log_prob(x, self.mu, self.sigma)

    def prob(self, x: Array) -> Array:
        return np.exp(self.log_prob(x))

    def cdf(self, x: Array) -> Array:
        return normal_cdf(x, self.mu, self.sigma)

    def sample(self, n: int, seed: int | None = 0) -> Array:
        """n draws x = μ + σ ε, ε ~ N(0, 1) from numpy's default_rng(seed)."""
        n = whole("n", n, 1, N_MAX)
        eps = np.random.default_rng(seed).standard_normal(n)
        return self.mu + self.sigma * eps

    def __repr__(self) -> str:
        return f"Normal(mu={self.mu!r}, sigma={self.sigma!r})"


# ---------------------------------------------------------------------------- transforms


class Transform:
    """A strictly monotone bijection h: domain → codomain (open intervals), y = h(x).

    Subclasses define `_forward`, `_inverse` and `_log_derivative` (log |h'(x)|); the public
    methods add the domain bookkeeping, so points outside the codomain never raise.
    """

    name = "transform"
    domain: tuple[float, float] = (-math.inf, math.inf)
    codomain: tuple[float, float] = (-math.inf, math.inf)
    increasing = True
    latex_forward = r"y = h(x)"
    latex_inverse = r"x = g(y)"
    latex_inverse_derivative = r"g'(y)"

    def _forward(self, x: Array) -> Array:
        raise NotImplementedError

    def _inverse(self, y: Array) -> Array:
        raise NotImplementedError

    def _log_derivative(self, x: Array) -> Array:
        raise NotImplementedError

    def forward(self, x: Array) -> Array:
        """y = h(x)."""
        with np.errstate(over="ignore"):
            return self._forward(np.asarray(x, dtype=float))

    def inverse(self, y: Array) -> Array:
        """x = g(y) = h⁻¹(y); NaN where y is outside the codomain."""
        y = np.asarray(y, dtype=float)
        inside = self.in_codomain(y)
        safe = np.where(inside, y, self._codomain_point())
        with np.errstate(over="ignore", divide="ignore"):
            return np.where(inside, self._inverse(safe), np.nan)

    def derivative(self, x: Array) -> Array:
        """h'(x)."""
        return np.exp(self.log_abs_det_jacobian(x, None)) * (1.0 if self.increasing else -1.0)

    def log_abs_det_jacobian(self, x: Array, y: Array | None = None) -> Array:
        """log |h'(x)| (torch's convention: the forward map's Jacobian at x; y is unused)."""
        with np.errstate(over="ignore", divide="ignore"):
            return self._log_derivative(np.asarray(x, dtype=float))

    def inverse_log_abs_det_jacobian(self, y: Array) -> Array:
        """log |g'(y)| = −log |h'(g(y))|; −∞ outside the codomain."""
        y = np.asarray(y, dtype=float)
        inside = self.in_codomain(y)
        x = self.inverse(np.where(inside, y, self._codomain_point()))
        return np.where(inside, -self.log_abs_det_jacobian(x), -np.inf)

    def inverse_derivative(self, y: Array) -> Array:
        """|g'(y)|, the Jacobian factor of the change of variables; 0 outside the codomain."""
        return np.exp(self.inverse_log_abs_det_jacobian(y))

    def in_codomain(self, y: Array) -> Array:
        lo, hi = self.codomain
        y = np.asarray(y, dtype=float)
        return (y > lo) & (y < hi)

    def _codomain_point(self) -> float:
        lo, hi = self.codomain
        if math.isinf(lo) and math.isinf(hi):
            return 0.0
        if math.isinf(lo):
            return hi - 1.0
        if math.isinf(hi):
            return lo + 1.0
        return 0.5 * (lo + hi)

    @property
    def inv(self) -> Transform:
        """The inverse map g as a Transform of its own."""
        return Inverse(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Inverse(Transform):
    """g = h⁻¹ as a transform: forward ↔ inverse swapped, log |g'(y)| = −log |h'(g(y))|."""

    def __init__(self, base: Transform):
        self.base = base
        self.name = f"inverse of {base.name}"
        self.domain, self.codomain = base.codomain, base.domain
        self.increasing = base.increasing

    def _forward(self, x: Array) -> Array:
        return self.base.inverse(x)

    def _inverse(self, y: Array) -> Array:
        return self.base.forward(y)

    def _log_derivative(self, x: Array) -> Array:
        return self.base.inverse_log_abs_det_jacobian(x)

    def forward(self, x: Array) -> Array:
        return self.base.inverse(x)

    @property
    def inv(self) -> Transform:
        return self.base

    def __repr__(self) -> str:
        return f"Inverse({self.base!r})"


class _LocationScale(Transform):
    """h(x) = (x − μ)/σ, σ > 0, with g(y) = μ + σ y: Standardize as it stands, Affine with h and g
    swapped, since the reparameterization x = μ + σ ε is the inverse of standardizing."""

    def __init__(self, mu: float = 0.0, sigma: float = 1.0):
        self.mu = check_mu(mu)
        self.sigma = check_sigma(sigma)

    def _forward(self, x: Array) -> Array:
        return (x - self.mu) / self.sigma

    def _inverse(self, y: Array) -> Array:
        return self.mu + self.sigma * y

    def _log_derivative(self, x: Array) -> Array:
        return np.full_like(x, -math.log(self.sigma))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mu={self.mu!r}, sigma={self.sigma!r})"


class Standardize(_LocationScale):
    """y = h(x) = (x − μ)/σ, σ > 0; g(y) = μ + σ y, g'(y) = σ, log |h'(x)| = −log σ."""

    name = "standardize"
    latex_forward = r"y = \frac{x-\mu}{\sigma}"
    latex_inverse = r"x = \mu + \sigma y"
    latex_inverse_derivative = r"\sigma"

    @property
    def inv(self) -> Transform:
        return Affine(self.mu, self.sigma)


class Affine(_LocationScale):
    """x = h(ε) = μ + σ ε, σ > 0 (the reparameterization); g(x) = (x − μ)/σ, log |h'| = log σ."""

    name = "affine"
    latex_forward = r"x = \mu + \sigma\varepsilon"
    latex_inverse = r"\varepsilon = \frac{x-\mu}{\sigma}"
    latex_inverse_derivative = r"\frac{1}{\sigma}"
    _forward, _inverse = _LocationScale._inverse, _LocationScale._forward

    def _log_derivative(self, x: Array) -> Array:
        return -super()._log_derivative(x)

    @property
    def inv(self) -> Transform:
        return Standardize(self.mu, self.sigma)


class Exp(Transform):
    """y = eˣ onto (0, ∞); g(y) = log y, g'(y) = 1/y, log |h'(x)| = x."""

    name = "exp"
    codomain = (0.0, math.inf)
    latex_forward = r"y = e^{x}"
    latex_inverse = r"x = \log y"
    latex_inverse_derivative = r"\frac{1}{y}"

    _forward = staticmethod(np.exp)  # numpy's own elementwise maps
    _inverse = staticmethod(np.log)

    def _log_derivative(self, x: Array) -> Array:
        return x.copy()


class Sigmoid(Transform):
    """y = σ(x) = 1/(1 + e⁻ˣ) onto (0, 1); g(y) = log(y/(1 − y)), g'(y) = 1/(y(1 − y)).

    log |h'(x)| = log σ(x) + log(1 − σ(x)) = −softplus(−x) − softplus(x).
    """

    name = "sigmoid"
    codomain = (0.0, 1.0)
    latex_forward = r"y = \frac{1}{1+e^{-x}}"
    latex_inverse = r"x = \log\frac{y}{1-y}"
    latex_inverse_derivative = r"\frac{1}{y(1-y)}"

    def _forward(self, x: Array) -> Array:
        # Stable in both tails: e^{min(x,0)} / (1 + e^{−|x|}).
        return np.exp(np.minimum(x, 0.0)) / (1.0 + np.exp(-np.abs(x)))

    def _inverse(self, y: Array) -> Array:
        return np.log(y) - np.log1p(-y)

    def _log_derivative(self, x: Array) -> Array:
        return -np.logaddexp(0.0, -x) - np.logaddexp(0.0, x)


class Sinh(Transform):
    """y = sinh x onto ℝ; g(y) = asinh y, g'(y) = 1/√(1 + y²), log |h'(x)| = log cosh x."""

    name = "sinh"
    latex_forward = r"y = \sinh x"
    latex_inverse = r"x = \operatorname{asinh} y"
    latex_inverse_derivative = r"\frac{1}{\sqrt{1+y^2}}"

    _forward = staticmethod(np.sinh)
    _inverse = staticmethod(np.arcsinh)

    def _log_derivative(self, x: Array) -> Array:
        return np.logaddexp(x, -x) - math.log(2.0)  # log cosh x without overflow


NONLINEAR = {"exp": Exp, "sigmoid": Sigmoid, "sinh": Sinh}


def get(name: str) -> Transform:
    """One of the parameter-free maps by name: "exp", "sigmoid" or "sinh"."""
    if not isinstance(name, str) or name not in NONLINEAR:
        raise ValueError(f"name (the map) must be one of {list(NONLINEAR)}, got {name!r}")
    return NONLINEAR[name]()


# ---------------------------------------------------------------------------- pushforwards


def pushforward_log_prob(
    base_log_prob: Callable[[Array], Array], transform: Transform
) -> Callable[[Array], Array]:
    """y ↦ log f_Y(y) = log f_X(g(y)) + log |g'(y)|, with −∞ outside the codomain."""

    def log_prob(y: Array) -> Array:
        y = np.asarray(y, dtype=float)
        inside = transform.in_codomain(y)
        x = transform.inverse(y)
        with np.errstate(invalid="ignore"):
            out = base_log_prob(np.where(inside, x, 0.0)) + transform.inverse_log_abs_det_jacobian(
                y
            )
        return np.where(inside, out, -np.inf)

    return log_prob


class TransformedDensity:
    """The law of Y = h(X), X ~ base: density f_Y(y) = f_X(g(y))·|g'(y)|, CDF, samples.

    `base` is any object with `log_prob`, `cdf` and `sample(n, seed)` (e.g. `Normal`).
    """

    def __init__(self, base: Normal, transform: Transform):
        self.base = base
        self.transform = transform
        self._log_prob = pushforward_log_prob(base.log_prob, transform)

    def log_prob(self, y: Array) -> Array:
        """log f_Y(y); −∞ outside the codomain."""
        return self._log_prob(y)

    def prob(self, y: Array) -> Array:
        """f_Y(y) = f_X(g(y))·|g'(y)|; 0 outside the codomain."""
        return np.exp(self.log_prob(y))

    def jacobian_factor(self, y: Array) -> Array:
        """|g'(y)|: how much the map stretches (< 1) or squeezes (> 1) mass near y."""
        return self.transform.inverse_derivative(y)

    def cdf(self, y: Array) -> Array:
        """F_Y(y) = F_X(g(y)) if h increases, 1 − F_X(g(y)) if it decreases; 0/1 off the codomain."""
        y = np.asarray(y, dtype=float)
        hi = self.transform.codomain[1]
        inside = self.transform.in_codomain(y)
        x = np.where(inside, self.transform.inverse(y), 0.0)
        fx = self.base.cdf(x)
        inner = fx if self.transform.increasing else 1.0 - fx
        outside = np.where(y >= hi, 1.0, 0.0)  # below the codomain: 0, above: 1
        return np.where(inside, inner, outside)

    def sample(self, n: int, seed: int | None = 0) -> Array:
        """y = h(x) for n draws x from the base."""
        return self.transform.forward(self.base.sample(n, seed))

    def __repr__(self) -> str:
        return f"TransformedDensity({self.base!r}, {self.transform!r})"


# ---------------------------------------------------------------------------- checks


def ks_distance(samples: Array, cdf: Callable[[Array], Array]) -> float:
    """Kolmogorov–Smirnov distance D_n = sup_y |F_n(y) − F(y)| of samples from a continuous CDF.

    With the sorted sample y₍₁₎ ≤ … ≤ y₍ₙ₎: D_n = max_i max(i/n − F(y₍ᵢ₎), F(y₍ᵢ₎) − (i−1)/n).
    For samples truly drawn from F, √n·D_n → Kolmogorov's law (mean ≈ 0.8687), so D_n ∝ 1/√n.
    """
    y = np.sort(np.asarray(samples, dtype=float).ravel())
    if y.size == 0:
        raise ValueError("samples must not be empty")
    if not np.all(np.isfinite(y)):
        raise ValueError("samples must be finite")
    n = y.size
    f = np.asarray(cdf(y), dtype=float)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


KS_MEAN_SQRT_N = math.sqrt(math.pi / 2.0) * math.log(2.0)  # E[√n D_n] → 0.8687 (Kolmogorov)


# ---------------------------------------------------------------------------- animation paths


class AffinePath:
    """A sequence of affine maps p_k(v) = loc[k] + scale[k]·v of starting samples v ~ N(m0, s0²).

    Frame k shows the samples at p_k(v), whose exact law is N(loc[k] + scale[k]·m0,
    (scale[k]·s0)²) — an affine map of a normal is normal — so every frame has a closed-form
    density to draw. `stage[k]` names the stage and `t[k]` ∈ [0, 1] is the progress in it.
    """

    def __init__(self, loc, scale, stage, t, m0: float, s0: float):
        self.loc = np.asarray(loc, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.stage = list(stage)
        self.t = np.asarray(t, dtype=float)
        self.m0, self.s0 = m0, s0

    def __len__(self) -> int:
        return len(self.loc)

    def positions(self, v: Array) -> Array:
        """Array (frames, len(v)): the samples' position in every frame."""
        return self.loc[:, None] + self.scale[:, None] * np.asarray(v, dtype=float)[None, :]

    def means(self) -> Array:
        return self.loc + self.scale * self.m0

    def sds(self) -> Array:
        return self.scale * self.s0


def standardize_path(mu: float, sigma: float, frames_per_stage: int = 15) -> AffinePath:
    """x ~ N(μ, σ²) → y = (x − μ)/σ ~ N(0, 1) in two stages, starting from the samples x.

    Stage "shift":  x − tμ,              t: 0 → 1   (law N((1 − t)μ, σ²))
    Stage "scale":  (x − μ)·σ^(−t),      t: 0 → 1   (law N(0, σ^(2(1−t))); geometric in t so the
                                                    zoom runs at a constant rate)
    The first frame is x itself, the last is y = (x − μ)/σ. 2·frames_per_stage + 1 frames.
    """
    mu, sigma = check_mu(mu), check_sigma(sigma)
    k = _frames(frames_per_stage)
    t = np.linspace(0.0, 1.0, k + 1)
    s = sigma ** (-t[1:])
    loc = np.concatenate([-t * mu, -mu * s])
    scale = np.concatenate([np.ones(k + 1), s])
    stage = ["shift"] * (k + 1) + ["scale"] * k
    return AffinePath(loc, scale, stage, np.concatenate([t, t[1:]]), mu, sigma)


def reparameterize_path(mu: float, sigma: float, frames_per_stage: int = 15) -> AffinePath:
    """ε ~ N(0, 1) → x = μ + σε ~ N(μ, σ²) in two stages, starting from the samples ε.

    Stage "scale":  σ^t·ε,          t: 0 → 1   (law N(0, σ^(2t)))
    Stage "shift":  σε + tμ,        t: 0 → 1   (law N(tμ, σ²))
    """
    mu, sigma = check_mu(mu), check_sigma(sigma)
    k = _frames(frames_per_stage)
    t = np.linspace(0.0, 1.0, k + 1)
    loc = np.concatenate([np.zeros(k + 1), t[1:] * mu])
    scale = np.concatenate([sigma**t, np.full(k, sigma)])
    stage = ["scale"] * (k + 1) + ["shift"] * k
    return AffinePath(loc, scale, stage, np.concatenate([t, t[1:]]), 0.0, 1.0)


def _frames(frames_per_stage: int) -> int:
    if isinstance(frames_per_stage, bool) or not isinstance(frames_per_stage, int | np.integer):
        raise ValueError(f"frames_per_stage must be a whole number, got {frames_per_stage!r}")
    if not 1 <= frames_per_stage <= 100:
        raise ValueError(f"frames_per_stage must be between 1 and 100, got {frames_per_stage!r}")
    return int(frames_per_stage)
