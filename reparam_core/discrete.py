"""Gradients of expectations over discrete variables: REINFORCE, leave-one-out, Gumbel-softmax, ST.

Target: ∇_l E_{b~Cat(softmax(l))}[f(b)] for logits l ∈ R^K, b a one-hot vector. The Bernoulli case
b ~ Bernoulli(σ(θ)) is K = 2 with logits (θ, 0), so ∂/∂θ = ∂/∂l₀ and b = z₀.

Exact gradient by enumeration, with p = softmax(l):

    E[f(b)] = Σ_k p_k f(e_k),       ∂E/∂l_j = Σ_k f(e_k) p_k (δ_kj − p_j)

Per-sample estimators (g is a K-vector, one entry per logit):

    reinforce        g = f(b) (b − p)                              (score ∇_l log p_b = b − p)
    reinforce_loo    g_i = (f(b_i) − mean_{j≠i} f(b_j)) (b_i − p)   over a batch of n ≥ 2 samples
    gumbel_softmax   z = softmax((l + G)/τ), G_k ~ Gumbel(0, 1) i.i.d.  (Concrete, Maddison et al.;
                     Jang et al.); g = J(z)ᵀ ∇f(z), J_kj = ∂z_k/∂l_j = z_k (δ_kj − z_j)/τ.
                     f is evaluated at the relaxed z, so f must extend to the simplex.
    straight_through forward b = onehot(argmax(l + G)) (an exact sample), backward through z:
                     g = J(z)ᵀ ∇f(b).

For K = 2, z₀ = σ((θ + L)/τ) with L = G₀ − G₁ ~ Logistic(0, 1) (Binary Concrete), so the mean and
variance of the relaxed estimators are 1-D integrals over L, done here by quadrature. For K > 2
they are Monte Carlo averages with a fixed seed (said in the result's `how`). `gradient_samples(f,
theta, method, n, seed, tau=)` has the call shape every family shares; `tau_curves` returns a
`TauCurves`, the shared `ExactStats` along τ.

As τ → 0 the Gumbel-softmax mean → the exact gradient (bias → 0) while its variance grows like 1/τ;
as τ grows z → uniform and both the gradient and its variance → 0 (bias → −exact gradient). The
straight-through limit τ → 0 is p(1−p)(f'(0) + f'(1))/2 for Bernoulli, equal to the exact gradient
only when f is quadratic; at every τ > 0 it is biased.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reparam_core import quadrature, registry
from reparam_core.stats import ExactStats
from reparam_core.validate import check_n as _check_n
from reparam_core.validate import check_seed as _check_seed
from reparam_core.validate import choice, in_range, whole
from reparam_core.validate import finite as _finite

Array = np.ndarray

METHODS = registry.methods("discrete")
RELAXED = ("gumbel_softmax", "straight_through")


# ---------------------------------------------------------------------------- objectives


@dataclass(frozen=True)
class Objective:
    """f on the simplex (a `functions.Objective`): `f(z)` maps (..., K) → (...), its gradient
    `df(z)` maps (..., K) → (..., K).

    `phi`/`dphi` are the scalar shape φ with f(z) = Σ_k w_k φ(z_k − t_k) (w = (1, 0, …) for
    Bernoulli: f depends on b = z₀ only).
    """

    name: str
    t: tuple[float, ...]
    weights: tuple[float, ...]
    phi: Callable[[Array], Array]
    dphi: Callable[[Array], Array]
    latex: str

    @property
    def K(self) -> int:
        return len(self.t)

    def f(self, z: Array) -> Array:
        z = np.asarray(z, dtype=float)
        return np.sum(np.asarray(self.weights) * self.phi(z - np.asarray(self.t)), axis=-1)

    def df(self, z: Array) -> Array:
        z = np.asarray(z, dtype=float)
        return np.asarray(self.weights) * self.dphi(z - np.asarray(self.t))


SHAPES: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array], str]] = {
    "square": (lambda x: x**2, lambda x: 2.0 * x, "({b} - {t})^2"),
    "quartic": (lambda x: x**4, lambda x: 4.0 * x**3, "({b} - {t})^4"),
    "abs": (np.abs, np.sign, r"\lvert {b} - {t}\rvert"),
}
SHAPE_NAMES = tuple(SHAPES)


def bernoulli_objective(shape: str = "square", t: float = 0.45) -> Objective:
    """f(b) = φ(b − t) on b ∈ [0, 1]; default the REBAR toy (b − 0.45)² (Tucker et al. 2017)."""
    shape = choice("shape", shape, SHAPE_NAMES)
    t = _finite("t", t)
    phi, dphi, tex = SHAPES[shape]
    return Objective(shape, (t, 0.0), (1.0, 0.0), phi, dphi, tex.format(b="b", t=f"{t:g}"))


def categorical_objective(shape: str = "square", t: float = 0.45, K: int = 3) -> Objective:
    """f(z) = Σ_k φ(z_k − t_k) with target t = (t, (1−t)/(K−1), …) on the simplex."""
    shape = choice("shape", shape, SHAPE_NAMES)
    t = _finite("t", t)
    K = whole("K", K, 2, 10)
    target = (t,) + ((1.0 - t) / (K - 1),) * (K - 1)
    phi, dphi, tex = SHAPES[shape]
    latex = r"\sum_k " + tex.format(b="z_k", t="t_k")
    return Objective(shape, target, (1.0,) * K, phi, dphi, latex)


# ---------------------------------------------------------------------------- validation


def _logits(fn: Objective, theta: float | Array) -> Array:
    """θ (a number: Bernoulli, logits (θ, 0)) or a logit vector of length K."""
    if np.ndim(theta) == 0:
        th = _finite("theta", theta)
        if fn.K != 2:
            raise ValueError(f"theta must be a logit vector of length {fn.K} for this objective")
        th = in_range("theta", th, -50, 50)
        return np.array([th, 0.0])
    try:
        logits = np.asarray(theta, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"theta must be a number or a logit vector, got {theta!r}") from None
    if logits.ndim != 1 or logits.size != fn.K:
        raise ValueError(f"theta must be a logit vector of length {fn.K}, got shape {logits.shape}")
    if not np.all(np.isfinite(logits)) or np.max(np.abs(logits)) > 50:
        raise ValueError("theta (logits) must be finite and in [-50, 50]")
    return logits


def _check_tau(tau: float) -> float:
    return in_range("tau", tau, 1e-3, 1e3)


# ---------------------------------------------------------------------------- exact


def softmax(logits: Array, axis: int = -1) -> Array:
    a = np.asarray(logits, dtype=float)
    a = a - np.max(a, axis=axis, keepdims=True)
    e = np.exp(a)
    return e / np.sum(e, axis=axis, keepdims=True)


def probs(fn: Objective, theta: float | Array) -> Array:
    return softmax(_logits(fn, theta))


def exact_value(fn: Objective, theta: float | Array) -> float:
    """E[f(b)] = Σ_k p_k f(e_k)."""
    p = probs(fn, theta)
    return float(p @ fn.f(np.eye(fn.K)))


def exact_gradient(fn: Objective, theta: float | Array) -> Array:
    """∂E[f(b)]/∂l_j = Σ_k f(e_k) p_k (δ_kj − p_j), by enumeration of the K outcomes."""
    p = probs(fn, theta)
    fk = fn.f(np.eye(fn.K))
    return p * fk - p * (p @ fk)


# ---------------------------------------------------------------------------- sampling


def _relaxed(logits: Array, G: Array, tau: float) -> tuple[Array, Array]:
    """Relaxed z = softmax((l + G)/τ) and the hard b = onehot(argmax(l + G))."""
    a = logits + G
    z = softmax(a / tau)
    b = np.eye(logits.size)[np.argmax(a, axis=-1)]
    return z, b


def _through(z: Array, df: Array, tau: float) -> Array:
    """J(z)ᵀ df with J_kj = z_k (δ_kj − z_j)/τ: the gradient w.r.t. the logits through softmax."""
    return z * (df - np.sum(z * df, axis=-1, keepdims=True)) / tau


def _per_sample(fn: Objective, logits: Array, method: str, G: Array, tau: float) -> Array:
    p = softmax(logits)
    z, b = _relaxed(logits, G, tau)
    if method == "reinforce":
        return fn.f(b)[..., None] * (b - p)
    if method == "reinforce_loo":
        fb = fn.f(b)
        n = fb.shape[0]
        baseline = (np.sum(fb) - fb) / (n - 1)
        return (fb - baseline)[..., None] * (b - p)
    if method == "gumbel_softmax":
        return _through(z, fn.df(z), tau)
    return _through(z, fn.df(b), tau)  # straight_through


def gradient_samples(
    f: Objective,
    theta: float | Array,
    method: str,
    n: int,
    seed: int = 0,
    *,
    tau: float = 0.5,
) -> Array:
    """n per-sample estimates of ∇_l E[f(b)], shape (n, K); their mean is the estimator.

    θ a number means Bernoulli(σ(θ)) (logits (θ, 0); column 0 is ∂/∂θ). For "reinforce_loo"
    sample i's baseline is the mean of f over the other n − 1 samples (needs n ≥ 2), so the rows
    are not independent; their mean is still unbiased.
    """
    logits = _logits(f, theta)
    method = choice("method", method, METHODS)
    n = _check_n(n, 2 if method == "reinforce_loo" else 1)
    tau = _check_tau(tau)
    seed = _check_seed(seed)
    G = np.random.default_rng(seed).gumbel(size=(n, f.K))
    return _per_sample(f, logits, method, G, tau)


def relaxed_samples(logits: Array, taus: Array, n: int, seed: int = 0) -> Array:
    """Relaxed z = softmax((l + G)/τ) for the same n Gumbel draws at each τ: shape (T, n, K)."""
    logits = np.asarray(logits, dtype=float)
    if logits.ndim != 1 or logits.size < 2 or not np.all(np.isfinite(logits)):
        raise ValueError("logits must be a finite vector of length ≥ 2")
    n = _check_n(n, 1, 100_000)
    taus = np.array([_check_tau(t) for t in np.atleast_1d(taus)])
    G = np.random.default_rng(_check_seed(seed)).gumbel(size=(n, logits.size))
    return softmax((logits + G)[None] / taus[:, None, None])


# ---------------------------------------------------------------------------- exact statistics


def _score_moments(fn: Objective, logits: Array) -> tuple[Array, Array]:
    """Mean and single-sample variance (per logit) of REINFORCE, by enumeration."""
    p = softmax(logits)
    E = np.eye(fn.K)
    g = fn.f(E)[:, None] * (E - p)  # (outcome k, logit j)
    mean = p @ g
    return mean, p @ g**2 - mean**2


def loo_variance(fn: Objective, theta: float | Array, n: int) -> Array:
    """Exact variance (per logit) of the n-sample leave-one-out REINFORCE estimator.

    The estimator equals the order-2 U-statistic (1/(n(n−1))) Σ_{i≠j} h(b_i, b_j) with kernel
    h(x, y) = ½ (f(x) − f(y)) (s(x) − s(y)), s(b) = b − p, so (Hoeffding)
    Var = 2/(n(n−1)) · (2(n−2) ζ₁ + ζ₂), ζ₁ = Var_x E_y h(x, y), ζ₂ = Var h(x, y).
    """
    logits = _logits(fn, theta)
    n = _check_n(n, 2)
    p = softmax(logits)
    E = np.eye(fn.K)
    fk, s = fn.f(E), E - p
    h = 0.5 * (fk[:, None] - fk[None, :])[..., None] * (s[:, None, :] - s[None, :, :])  # (K,K,K)
    mean = np.einsum("x,y,xyj->j", p, p, h)
    h1 = np.einsum("y,xyj->xj", p, h)
    zeta1 = p @ h1**2 - mean**2
    zeta2 = np.einsum("x,y,xyj->j", p, p, h**2) - mean**2
    return 2.0 / (n * (n - 1)) * (2.0 * (n - 2) * zeta1 + zeta2)


def _binary_relaxed_moments(fn: Objective, theta: float, tau: float) -> dict[str, tuple]:
    """Mean and single-sample variance of ∂/∂θ for the two relaxed estimators, K = 2.

    With u = (θ + L)/τ, z₀ = σ(u), L ~ Logistic: E[g] = ∫ g(u) ℓ(τu − θ) τ du, ℓ the logistic
    density. Composite Gauss–Legendre (panels ≤ min(1, 1/τ)/2 wide) split at u = 0, where the
    hard sample flips, and at the kinks of f (z₀ = t₀), out to where ℓ and σ'(u) are below e⁻⁴⁵.
    """
    half = max(45.0, (45.0 + abs(theta)) / tau)
    breaks = {-half, 0.0, half}
    for tk in (fn.t[0], 1.0 - fn.t[1]):
        if 0.0 < tk < 1.0 and fn.name == "abs":
            breaks.add(math.log(tk / (1.0 - tk)))
    edges = sorted(b for b in breaks if -half <= b <= half)
    width = min(1.0, 1.0 / tau) / 2.0
    parts = [quadrature.uniform(a, b, width, 8) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    u = np.concatenate([p[0] for p in parts])
    w = np.concatenate([p[1] for p in parts])
    lv = np.abs(tau * u - theta)
    dens = np.exp(-lv) / (1.0 + np.exp(-lv)) ** 2 * tau
    z0 = 0.5 * (1.0 + np.tanh(0.5 * u))  # σ(u) without overflow
    z = np.stack([z0, 1.0 - z0], axis=-1)
    b = np.stack([(u > 0).astype(float), (u <= 0).astype(float)], axis=-1)
    out: dict[str, tuple] = {}
    for method, df in (("gumbel_softmax", fn.df(z)), ("straight_through", fn.df(b))):
        g = _through(z, df, tau)[:, 0]
        m1, m2 = float(np.sum(w * dens * g)), float(np.sum(w * dens * g**2))
        out[method] = (m1, max(m2 - m1**2, 0.0))
    return out


@dataclass(frozen=True)
class TauCurves(ExactStats):
    """`ExactStats` of the n-sample estimate of ∂/∂l₀ along τ: `true` the exact gradient, per method
    `mean` (and `bias`, `mse`) and `variance` arrays over `taus`.

    `variance[method]` is the variance of the mean of n samples (single-sample variance / n,
    or the exact LOO variance); `mc_se[method]` is the Monte Carlo standard error of `mean`
    (0 when exact); `how[method]` says how it was computed.
    """

    taus: Array
    n: int
    mc_se: dict[str, Array]
    how: dict[str, str]

    @property
    def exact(self) -> float:
        return self.true


def tau_curves(
    fn: Objective,
    theta: float | Array,
    taus: Array,
    n: int = 1,
    mc_samples: int = 100_000,
    seed: int = 0,
) -> TauCurves:
    """Bias and variance of every estimator of ∂E[f]/∂l₀ against τ (REINFORCE ones are flat).

    K = 2: exact (enumeration and quadrature over the logistic noise). K > 2: REINFORCE exact,
    relaxed estimators by Monte Carlo over `mc_samples` Gumbel draws (fixed `seed`, the same
    draws at every τ).
    """
    logits = _logits(fn, theta)
    taus = np.array([_check_tau(t) for t in np.atleast_1d(taus)])
    n = _check_n(n, 1, 100_000)
    mc_samples = whole("mc_samples", mc_samples, 100, 2_000_000)
    exact = float(exact_gradient(fn, logits)[0])
    T = taus.size
    mean: dict[str, Array] = {}
    var: dict[str, Array] = {}
    se: dict[str, Array] = {}
    how: dict[str, str] = {}
    m_sf, v_sf = _score_moments(fn, logits)
    mean["reinforce"], var["reinforce"] = np.full(T, m_sf[0]), np.full(T, v_sf[0] / n)
    se["reinforce"], how["reinforce"] = np.zeros(T), "exact (enumeration)"
    if n >= 2:
        mean["reinforce_loo"] = np.full(T, exact)
        var["reinforce_loo"] = np.full(T, loo_variance(fn, logits, n)[0])
        se["reinforce_loo"], how["reinforce_loo"] = np.zeros(T), "exact (U-statistic variance)"
    for method in RELAXED:
        mean[method], var[method], se[method] = np.zeros(T), np.zeros(T), np.zeros(T)
    if fn.K == 2:
        theta0 = float(logits[0] - logits[1])
        for i, tau in enumerate(taus):
            mom = _binary_relaxed_moments(fn, theta0, float(tau))
            for method in RELAXED:
                mean[method][i], var[method][i] = mom[method][0], mom[method][1] / n
        for method in RELAXED:
            how[method] = "exact (quadrature over the logistic noise)"
    else:
        a = logits + np.random.default_rng(seed).gumbel(size=(mc_samples, fn.K))
        df_hard = fn.df(np.eye(fn.K)[np.argmax(a, axis=-1)])
        for i, tau in enumerate(taus):
            z = softmax(a / tau)
            for method, df in (("gumbel_softmax", fn.df(z)), ("straight_through", df_hard)):
                g = _through(z, df, float(tau))[:, 0]
                v1 = float(np.var(g, ddof=1))
                mean[method][i], var[method][i] = float(np.mean(g)), v1 / n
                se[method][i] = math.sqrt(v1 / mc_samples)
        for method in RELAXED:
            how[method] = f"Monte Carlo ({mc_samples:,} Gumbel draws, seed {seed})"
    return TauCurves(exact, mean, var, taus, n, se, how)


def straight_through_limit(fn: Objective, theta: float) -> float:
    """lim_{τ→0} E[ST estimate of ∂/∂θ] = p(1−p)(f'(0) + f'(1))/2 for Bernoulli (K = 2).

    The exact gradient is p(1−p)(f(1) − f(0)); the two agree iff the mean of f' at the
    endpoints equals the secant slope (true for quadratic f).
    """
    logits = _logits(fn, theta)
    if fn.K != 2:
        raise ValueError("theta: the straight-through limit is for Bernoulli (K = 2) only")
    p = softmax(logits)[0]
    d0 = fn.df(np.array([0.0, 1.0]))[0]
    d1 = fn.df(np.array([1.0, 0.0]))[0]
    return float(p * (1 - p) * (d0 + d1) / 2)
