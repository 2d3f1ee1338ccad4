"""The dimension argument: how each gradient estimator's variance grows with the number of parameters.

x ~ N(μ1, σ²I_D) in D dimensions and a separable cost F(x) = Σ_d f(x_d), f a 1-D test function
(reparam_core.functions). The gradient with respect to the whole vector θ = (μ_1 … μ_D) (or σ's) has
D equal coordinates ∂E[F]/∂θ_d = g, the 1-D gradient. Per coordinate d, with s_d = ∂θ_d log N and
R = Σ_{j≠d} f(x_j) (independent of x_d, mean (D−1)m, variance (D−1)v, m = E f, v = Var f):

    pathwise        ĝ_d = f'(x_d) ∂x_d/∂θ_d              Var = V₁ (the 1-D variance): D-free
    measure-valued  ĝ_d = (F(x⁺) − F(x⁻))/c, x± differ in coordinate d only, so F's other terms
                    cancel: Var = V₁, but 2 evaluations of F per coordinate: 2D per sample
    score           ĝ_d = F(x) s_d = (f(x_d) + R) s_d
                    Var = V₁ + (D−1)(2m E[f s²] + v E[s²]) + (D−1)² m² E[s²]
    score_baseline  ĝ_d = (F(x) − b_d) s_d with the optimal b_d = E[F s_d²]/E[s_d²]
                    Var = V₁ + (D−1) v E[s²]                          (V₁ with the 1-D b*)

(expand E[(f + R − b)² s²] − g², using R ⫫ x_d; E[s_μ²] = 1/σ², E[s_σ²] = 2/σ²). The variances
returned are totals over the coordinates, D × the above: D for pathwise and measure-valued, up to
D² (baseline) and D³ (score, when m ≠ 0) for the score function — Mohamed et al. 2020 §3.4, §5.
The pathwise bound: if |f'| ≤ L then E[ĝ_d²] ≤ L² E[(∂x/∂θ)²] = L² for θ = μ and θ = σ, so the
total variance is at most D L² whatever the dimension does to F's magnitude.
"""

from __future__ import annotations

import math

import numpy as np

from reparam_core import estimators, registry
from reparam_core.functions import Fn
from reparam_core.functions import check as _check_f
from reparam_core.stats import ExactStats
from reparam_core.validate import N_MAX, check_seed, choice, finite, positive, whole

METHODS = registry.methods("gaussian")
D_MAX = 1000
DIMS = np.unique(np.round(np.geomspace(1, D_MAX, 40)).astype(int))  # the page's sweep
MC_BUDGET = 4_000_000  # n · D numbers per Monte Carlo call: a few float64 arrays of 32 MB


def _dims(dims) -> np.ndarray:
    d = np.atleast_1d(np.asarray(dims))
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"dims must be a non-empty 1-D array of dimensions, got {dims!r}")
    return np.array([whole("dims", int(v) if float(v).is_integer() else v, 1, D_MAX) for v in d])


def exact_variance(f: Fn, theta: tuple[float, float], dims, wrt: str = "mu") -> ExactStats:
    """Exact statistics of each estimator of ∇_θ E[Σ_d f(x_d)], x ~ N(μ1, σ²I_D), over `dims`.

    `true` and `mean` are per coordinate (all coordinates are alike), `variance[method]` is the
    total single-sample variance Σ_d Var ĝ_d, an array over `dims` (module docstring).
    """
    choice("wrt", wrt, estimators.WRT)
    d = _dims(dims).astype(float)
    raw = estimators.raw_moments(f, theta)
    sigma = float(theta[1])
    m, v = float(raw["f"][0][0]), float(raw["f"][1][0])
    e_s2 = (1.0 if wrt == "mu" else 2.0) / sigma**2
    a = float(raw["f_s2"][wrt][0])  # E[f s²]
    v1 = {meth: max(float(raw[wrt, meth][1][0]), 0.0) for meth in METHODS}
    per = {
        "pathwise": np.full_like(d, v1["pathwise"]),
        "measure_valued": np.full_like(d, v1["measure_valued"]),
        "score": v1["score"] + (d - 1) * (2 * m * a + v * e_s2) + (d - 1) ** 2 * m**2 * e_s2,
        "score_baseline": v1["score_baseline"] + (d - 1) * v * e_s2,
    }
    g = float(raw["true"][wrt][0])
    mean = {meth: np.full_like(d, float(raw[wrt, meth][0][0])) for meth in METHODS}
    return ExactStats(np.full_like(d, g), mean, {meth: d * per[meth] for meth in METHODS})


def cost(dims) -> dict[str, np.ndarray]:
    """Evaluations of F (or of its gradient, one backward pass) per sample of the whole
    D-dimensional gradient: registry.Estimator.cost per coordinate for the measure-valued
    estimator (its pairs differ in one coordinate), once for the others."""
    d = _dims(dims).astype(float)
    return {
        m: d * registry.GAUSSIAN[m].cost if m == "measure_valued" else np.ones_like(d)
        for m in METHODS
    }


def lipschitz(f: Fn) -> float | None:
    """sup |f'| of the 1-D test function, or None where f' is unbounded or f is not continuous
    (the bound then says nothing)."""
    f = _check_f(f)
    k = f.k
    if f.name == "cos":
        return abs(k)
    if f.name == "abs":
        return 1.0
    if f.name == "exp":  # |2kx e^{−kx²}| peaks at x = 1/√(2k)
        return math.sqrt(2 * k) * math.exp(-0.5) if k > 0 else (0.0 if k == 0 else None)
    return None  # square: f' = 2(x − k) is unbounded; step: not continuous


def pathwise_bound(f: Fn, dims) -> np.ndarray | None:
    """D L²: a bound on the pathwise estimator's total variance (θ = μ or σ), or None."""
    lip = lipschitz(f)
    return None if lip is None else _dims(dims).astype(float) * lip**2


def mc_variance(
    f: Fn, theta: tuple[float, float], dim: int, method: str, n: int, seed: int = 0, wrt="mu"
) -> float:
    """Monte Carlo estimate of the total single-sample variance Σ_d Var ĝ_d at one D, from n
    draws of the whole gradient. The estimators are evaluated as written in the module
    docstring; the measure-valued pairs use F's cancellation in the other coordinates, which is
    exact."""
    f = _check_f(f)
    mu, sigma = finite("mu", theta[0]), positive("sigma", theta[1])
    dim = whole("dim", dim, 1, D_MAX)
    choice("method", method, METHODS)
    choice("wrt", wrt, estimators.WRT)
    n = whole("n", n, 2, min(N_MAX, MC_BUDGET // dim))
    rng = np.random.default_rng(check_seed(seed))
    eps = rng.standard_normal((n, dim))
    x = mu + sigma * eps
    if method == "pathwise":
        g = f.df(x) * (1.0 if wrt == "mu" else eps)
    elif method == "measure_valued":
        g = _measure_valued(f, mu, sigma, rng, (n, dim), wrt)
    else:
        big_f = f.f(x).sum(axis=1, keepdims=True)  # F(x), one per draw
        s = eps / sigma if wrt == "mu" else (eps**2 - 1) / sigma
        if method == "score":
            g = big_f * s
        else:  # leave-one-out estimate of b_d = E[F s_d²]/E[s_d²], as the 1-D estimator does
            fs2, s2 = big_f * s**2, s**2
            b = (fs2.sum(0) - fs2) / (s2.sum(0) - s2)
            g = (big_f - b) * s
    return float(g.var(axis=0, ddof=1).sum())


def _measure_valued(f, mu, sigma, rng, shape, wrt):
    if wrt == "mu":
        w = np.sqrt(2.0) * np.sqrt(-np.log1p(-rng.random(shape)))  # Weibull(√2, 2)
        return (f.f(mu + sigma * w) - f.f(mu - sigma * w)) / (sigma * math.sqrt(2 * math.pi))
    # double-sided Maxwell: |M| ~ chi(3), random sign; coupled with U·M ~ N(0, 1)
    m = np.sqrt((rng.standard_normal((*shape, 3)) ** 2).sum(-1)) * rng.choice([-1.0, 1.0], shape)
    u = rng.random(shape)
    return (f.f(mu + sigma * m) - f.f(mu + sigma * u * m)) / sigma


def relative_error(exact: ExactStats, dims, budget: int) -> dict[str, np.ndarray]:
    """Relative standard error ‖sd‖/‖∇‖ of each estimator's mean when `budget` evaluations of F
    are spent on it: n = budget / cost samples, so sqrt(Var_total · cost / budget) / (√D |g|).
    inf where the true gradient is 0 (no relative error exists)."""
    d = _dims(dims).astype(float)
    budget = whole("budget", budget, 1)
    c = cost(d)
    g = np.abs(np.asarray(exact.true, dtype=float))
    spread = max(float(np.max(v / d)) for v in exact.variance.values())  # per-coordinate scale
    g = np.where(g > 1e-9 * math.sqrt(spread), g, 0.0)  # a quadrature zero is a zero
    norm = np.sqrt(d) * g
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            m: np.where(norm > 0, np.sqrt(exact.variance[m] * c[m] / budget) / norm, np.inf)
            for m in exact.variance
        }


def usable_up_to(dims, rel_error: np.ndarray, tol: float) -> int | None:
    """The largest D of the sweep up to which the relative error stays ≤ tol (None: not even
    at the first D; the last D of the sweep: at every D)."""
    d = _dims(dims)
    ok = np.asarray(rel_error) <= positive("tol", tol)
    if not ok[0]:
        return None
    bad = np.nonzero(~ok)[0]
    return int(d[-1] if bad.size == 0 else d[bad[0] - 1])
