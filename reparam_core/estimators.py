"""Monte Carlo estimators of the gradient ∇θ E_{x~N(μ,σ²)}[f(x)], θ ∈ {μ, σ}, and their exact statistics.

Write x = μ + σε with ε ~ N(0, 1), φ the standard normal density. Four per-sample estimators:

    pathwise        (reparameterization)  ĝ = f'(μ + σε) · ∂x/∂θ,   ∂x/∂μ = 1,  ∂x/∂σ = ε
    score           (REINFORCE)           ĝ = f(x) · s(x),           s = ∂θ log N(x | μ, σ²):
                                                                     s_μ = ε/σ,  s_σ = (ε² − 1)/σ
    score_baseline                        ĝ = (f(x) − b) · s(x),     b* = E[f s²] / E[s²]
    measure_valued  (coupled MVD, Mohamed et al. 2020 §6)
        θ = μ:  ĝ = (f(μ + σW) − f(μ − σW)) / (σ√(2π)),   W ~ Weibull(scale √2, shape 2)
        θ = σ:  ĝ = (f(μ + σM) − f(μ + σ·U·M)) / σ,       M ~ double-sided Maxwell (density m²φ(m)),
                                                           U ~ U(0, 1), so U·M ~ N(0, 1) (the coupling)

All four are unbiased for smooth f. The pathwise estimator uses f' as autograd gives it, so for a
discontinuous f (the step 1[x > k]) it is biased: f' = 0 almost everywhere. For a continuous f with a
kink (|x − k|) it stays unbiased (it is absolutely continuous). Cost per sample: `COST`.

`gradient_samples(f, (mu, sigma), method, n, seed, wrt=)` draws n per-sample estimates (the call
shape every family shares; names, labels and costs in `registry.GAUSSIAN`). In `score_baseline` the baseline for sample i is
estimated leave-one-out from the other samples, b_i = Σ_{j≠i} f_j s_j² / Σ_{j≠i} s_j², which is independent of
sample i, so E[(f_i − b_i) s_i] = E[f s] and the estimate stays unbiased (b = 0 when n = 1).

`exact_stats(f, (mu, sigma))` returns, per θ, an `ExactStats`: the true gradient and E[ĝ], Var[ĝ]
of one sample of each estimator, by numerical integration over ε: composite
Gauss–Legendre panels on [−L, L], split at 0 and at f's kinks, refined until two resolutions agree.
The coupled Maxwell pair needs E[f(μ+σM) f(μ+σUM)] = ∫ m φ(m) f(μ+σm) C(m) dm with
C(m) = ∫₀^m f(μ+σt) dt, a 2-D integral over the triangle 0 < t/m < 1, computed with a panel-wise
spectral integration matrix (a tensor-product rule on each panel pair). Pure numpy, no per-point calls.
"""

from __future__ import annotations

import math

import numpy as np

from reparam_core import quadrature, registry
from reparam_core.functions import Fn, get
from reparam_core.functions import check as _check_f
from reparam_core.stats import ExactStats
from reparam_core.validate import N_MAX, check_seed, choice, finite, positive, whole

METHODS = registry.methods("gaussian")
WRT = ("mu", "sigma")
#: Evaluations of f or f' per sample for one scalar θ (registry.Estimator.cost).
COST = {m: e.cost for m, e in registry.GAUSSIAN.items()}
#: Integration range in ε: [−L, L]. φ(12) ≈ 2e−32, so polynomial-growth integrands are exact to rounding.
L = 12.0

_SQRT2PI = math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------------------- validation


def _normal(theta: object) -> tuple[float, float]:
    """θ = (μ, σ) of N(μ, σ²): μ finite, σ > 0."""
    try:
        mu, sigma = theta
    except (TypeError, ValueError):
        raise ValueError(f"theta must be a pair (mu, sigma), got {theta!r}") from None
    return finite("mu", mu), positive("sigma", sigma)


def _values(fn, x: np.ndarray, what: str) -> np.ndarray:
    """fn(x) as a float array of x's shape; non-finite values raise ValueError naming f."""
    with np.errstate(all="ignore"):
        y = np.broadcast_to(np.asarray(fn(x), dtype=float), x.shape)
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(
            f"f: {what} is not finite at x = {x[bad].flat[0]:.4g} "
            f"({int(bad.sum())} of {y.size} points)"
        )
    return y


# ---------------------------------------------------------------------------- sampling


def draw_eps(n: int, seed: int) -> np.ndarray:
    """The ε ~ N(0, 1) that `gradient_samples` uses for pathwise, score and score_baseline.

    `np.random.default_rng(seed).standard_normal(n)`; x = μ + σε.
    """
    n = whole("n", n, 1, N_MAX)
    seed = check_seed(seed)
    return np.random.default_rng(seed).standard_normal(n)


def gradient_samples(
    f: Fn, theta: tuple[float, float], method: str, n: int, seed: int = 0, *, wrt: str = "mu"
) -> np.ndarray:
    """n independent-draw per-sample estimates ĝ_i of ∂/∂θ E_{x~N(mu, sigma²)}[f(x)], where
    theta = (mu, sigma) and θ = `wrt` ∈ WRT.

    See the module docstring for each `method`. The pathwise/score draws are `draw_eps(n, seed)`;
    the measure-valued ones are W = √2·Weibull(2) (θ = μ) or M = ±√χ²₃, U ~ U(0,1) (θ = σ) from
    `np.random.default_rng(seed)`. Their mean is the Monte Carlo gradient estimate.
    Raises ValueError naming the bad parameter (n must be an integer in [1, N_MAX]).
    """
    f = _check_f(f)
    mu, sigma = _normal(theta)
    wrt = choice("wrt", wrt, WRT)
    method = choice("method", method, METHODS)
    n = whole("n", n, 1, N_MAX)
    seed = check_seed(seed)

    if method == "measure_valued":
        rng = np.random.default_rng(seed)
        if wrt == "mu":
            w = math.sqrt(2.0) * rng.weibull(2.0, n)
            plus = _values(f.f, mu + sigma * w, "f(x)")
            minus = _values(f.f, mu - sigma * w, "f(x)")
            return (plus - minus) / (sigma * _SQRT2PI)
        m = np.sqrt(rng.gamma(1.5, 2.0, n)) * np.where(rng.random(n) < 0.5, -1.0, 1.0)
        u = rng.random(n)
        return (
            _values(f.f, mu + sigma * m, "f(x)") - _values(f.f, mu + sigma * u * m, "f(x)")
        ) / sigma

    eps = draw_eps(n, seed)
    x = mu + sigma * eps
    if method == "pathwise":
        dfx = _values(f.df, x, "f'(x)")
        return dfx if wrt == "mu" else dfx * eps
    fx = _values(f.f, x, "f(x)")
    s = eps / sigma if wrt == "mu" else (eps**2 - 1.0) / sigma
    if method == "score":
        return fx * s
    # score_baseline: leave-one-out estimate of b* = E[f s²]/E[s²] from the other samples
    s2 = s**2
    num = np.sum(fx * s2) - fx * s2
    den = np.sum(s2) - s2
    with np.errstate(all="ignore"):
        b = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return (fx - b) * s


# ---------------------------------------------------------------------------- quadrature

_Q = 20  # Gauss–Legendre nodes per panel
_XI, _WQ = quadrature.rule(_Q)
_S = quadrature.integration_matrix(_Q)


def _half_grid(breaks: np.ndarray, panels: int):
    """Panels on [0, L]: `panels` uniform ones split further at `breaks` (B, r) → nodes u, half-widths."""
    b = breaks.shape[0]
    uniform = np.broadcast_to(np.linspace(0.0, L, panels + 1), (b, panels + 1))
    edges = np.sort(np.concatenate([uniform, np.clip(breaks, 0.0, L)], axis=1), axis=1)
    a = edges[:, :-1]
    half = 0.5 * (edges[:, 1:] - a)  # (B, P)
    u = a[..., None] + half[..., None] * (_XI + 1.0)  # (B, P, Q)
    return u, half


def _moments(fp, fn_, dp, dn, u, half, sigma):
    """All (wrt, method) → (E ĝ, Var ĝ) from f, f' at the nodes ±u (arrays (B, P, Q), batch axis B).

    Plus "true" → {wrt: ∂θ E[f]} from the score identity ∂θ E[f] = E[f s] (valid for any f with
    E[f²] < ∞), which is the true gradient even where the pathwise estimator is biased.
    """
    b = u.shape[0]
    fp, fn_, dp, dn, uu = (a.reshape(b, -1) for a in (fp, fn_, dp, dn, u))
    w = (half[..., None] * _WQ).reshape(b, -1) * np.exp(-0.5 * uu**2) / _SQRT2PI  # weight × φ(u)

    def expect(hp, hn):  # E over ε ~ N(0, 1): ∫_{−L}^{L} h φ ≈ Σ w (h(u) + h(−u))
        return np.einsum("bn,bn->b", w, hp) + np.einsum("bn,bn->b", w, hn)

    def stats(gp, gn):  # (mean, centred variance) of ĝ(ε)
        m = expect(gp, gn)
        mb = m[:, None]
        return m, expect((gp - mb) ** 2, (gn - mb) ** 2)

    u2m1 = uu**2 - 1.0
    out = {
        ("mu", "pathwise"): stats(dp, dn),
        ("sigma", "pathwise"): stats(dp * uu, -dn * uu),
    }
    scores = {"mu": (uu / sigma, -uu / sigma), "sigma": (u2m1 / sigma, u2m1 / sigma)}
    for wrt, (sp, sn) in scores.items():
        out[wrt, "score"] = stats(fp * sp, fn_ * sn)
        bstar = (expect(fp * sp**2, fn_ * sn**2) / expect(sp**2, sn**2))[:, None]
        out[wrt, "score_baseline"] = stats((fp - bstar) * sp, (fn_ - bstar) * sn)
    out["true"] = {wrt: out[wrt, "score"][0] for wrt in WRT}
    # the moments of f itself that the D-dimensional variances need (reparam_core.dimension)
    out["f"] = stats(fp, fn_)
    out["f_s2"] = {wrt: expect(fp * sp**2, fn_ * sn**2) for wrt, (sp, sn) in scores.items()}

    # θ = μ: W has density √(2π) w φ(w) on w > 0 (the half line only).
    g = (fp - fn_) / (sigma * _SQRT2PI)
    ww = w * (_SQRT2PI * uu)
    m = np.einsum("bn,bn->b", ww, g)
    out["mu", "measure_valued"] = (m, np.einsum("bn,bn->b", ww, (g - m[:, None]) ** 2))

    # θ = σ: ĝ = (G(M) − G(UM))/σ with G = f − E_N[f] (the shift reduces cancellation).
    shift = expect(fp, fn_)[:, None]
    gp, gn = fp - shift, fn_ - shift
    cp = _cumulative(gp.reshape(u.shape), half).reshape(b, -1)  # C(u) = ∫_0^u G(t) dt
    cn = -_cumulative(gn.reshape(u.shape), half).reshape(b, -1)  # C(−u) = −∫_0^u G(−t) dt
    m = expect(u2m1 * gp, u2m1 * gn) / sigma  # (E[G(M)] − E[G(N)])/σ
    e_mm = expect(uu**2 * gp**2, uu**2 * gn**2)  # E[G(M)²]
    e_nn = expect(gp**2, gn**2)  # E[G(N)²], N ~ N(0, 1)
    e_mn = expect(uu * gp * cp, -uu * gn * cn)  # E[G(M) G(UM)] = ∫ m φ(m) G(m) C(m) dm
    out["sigma", "measure_valued"] = (m, (e_mm - 2.0 * e_mn + e_nn) / sigma**2 - m**2)
    return out


def _cumulative(g: np.ndarray, half: np.ndarray) -> np.ndarray:
    """∫_0^{u} g at every node u (B, P, Q): panel totals before u plus the in-panel matrix rule."""
    partial = half[..., None] * (g @ _S.T)
    total = half * (g @ _WQ)
    before = np.cumsum(total, axis=-1) - total
    return before[..., None] + partial


_P0 = 16  # uniform panels on [0, L] at the first resolution (h = 0.75, 20 nodes each)
_P_MAX = 2048
_P_MAX_UNSPLIT = 512  # non-smooth f with unknown kinks converges only like 1/P: cap the effort
_RTOL = 1e-10


def _evaluate(fns: list[Fn], mu: float, sigma: float, panels: int):
    """f, f' at the nodes ±u for each function of the batch (each with its own kink breakpoints)."""
    r = max(len(fn.kinks) for fn in fns)
    breaks = np.full((len(fns), r), L)
    for i, fn in enumerate(fns):
        for j, kink in enumerate(fn.kinks):
            breaks[i, j] = abs((kink - mu) / sigma)
    u, half = _half_grid(breaks, panels)
    flat = u.reshape(len(fns), -1)
    x = mu + sigma * np.concatenate([flat, -flat], axis=1)  # (B, 2N): f at +u then at −u
    fx, dfx = np.empty_like(x), np.empty_like(x)
    with np.errstate(all="ignore"):
        for i, fn in enumerate(fns):
            fx[i] = fn.f(x[i])  # assignment broadcasts a constant f
            dfx[i] = fn.df(x[i])
    for y, what in ((fx, "f(x)"), (dfx, "f'(x)")):
        bad = ~np.isfinite(y)
        if bad.any():
            raise ValueError(
                f"f: {what} is not finite at x = {x[bad][0]:.4g} "
                f"({int(bad.sum())} of {y.size} integration nodes)"
            )
    n = flat.shape[1]
    fp, fn_ = fx[:, :n].reshape(u.shape), fx[:, n:].reshape(u.shape)
    dp, dn = dfx[:, :n].reshape(u.shape), dfx[:, n:].reshape(u.shape)
    return fp, fn_, dp, dn, u, half


def _tail_check(fns, fp, fn_, dp, dn, u, half):
    """The integrands must have decayed at |ε| = L, otherwise E[f²] may not exist."""
    weight = half[..., None] * _WQ * np.exp(-0.5 * u**2) / _SQRT2PI * (u**2 + 1) ** 2
    mass = np.sum(weight * (fp**2 + fn_**2 + dp**2 + dn**2), axis=(-2, -1))
    edge = math.exp(-0.5 * L**2) / _SQRT2PI * (L**2 + 1) ** 2
    edge = edge * (
        fp[..., -1, -1] ** 2 + fn_[..., -1, -1] ** 2 + dp[..., -1, -1] ** 2 + dn[..., -1, -1] ** 2
    )
    bad = edge > 1e-12 * mass
    if bad.any():
        raise ValueError(
            f"f: {fns[int(np.argmax(bad))].name} grows too fast for N(mu, sigma²) — the integrands "
            f"have not decayed at |eps| = {L:g}, so E[f²] may be infinite; exact statistics unavailable"
        )


def _converged(fns: list[Fn], mu: float, sigma: float):
    """Moments at P and 2P panels, doubling P until they agree to _RTOL (or P reaches the cap).

    A non-smooth f that does not list its kinks (a custom expression with abs/step) cannot be
    split at them; it stops at _P_MAX_UNSPLIT panels, accurate to ≈ 1e−3 relative.
    """
    unsplit = any(not fn.smooth and not fn.kinks for fn in fns)
    p_max = _P_MAX_UNSPLIT if unsplit else _P_MAX
    panels = _P0
    prev = None
    while True:
        fp, fn_, dp, dn, u, half = _evaluate(fns, mu, sigma, panels)
        if prev is None:
            _tail_check(fns, fp, fn_, dp, dn, u, half)
        cur = _moments(fp, fn_, dp, dn, u, half, sigma)
        if (prev is not None and _agree(prev, cur)) or panels >= p_max:
            return cur
        prev, panels = cur, panels * 2


def _agree(a, b) -> bool:
    """Means within _RTOL·rms and variances within _RTOL·second moment, the scale floored per row."""
    keys = [key for key in b if isinstance(key, tuple)]  # the (wrt, method) statistics
    second = np.stack([b[key][1] + b[key][0] ** 2 for key in keys])  # (keys, B)
    floor = 1e-6 * second.max(axis=0)
    for key, s2 in zip(keys, second, strict=True):
        scale = np.maximum(s2, floor)
        if np.any(np.abs(a[key][0] - b[key][0]) > _RTOL * np.sqrt(scale)):
            return False
        if np.any(np.abs(a[key][1] - b[key][1]) > _RTOL * scale):
            return False
    return True


def exact_stats(f: Fn, theta: tuple[float, float]) -> dict[str, ExactStats]:
    """Exact single-sample statistics of every estimator for θ = μ and θ = σ, one integration pass.

    Returns {wrt: ExactStats} for wrt ∈ WRT. `true` is ∂θ E[f] from the score identity E[f s]
    (the true gradient even where pathwise is biased); `mean[method]` is E[ĝ], which differs from it
    for `pathwise` on a discontinuous f (E[f'(x) ∂x/∂θ]); `variance[method]` = E[ĝ²] − E[ĝ]², by
    numerical integration over ε (module docstring), relative accuracy ≈ 1e−9 for the registry
    functions. For score_baseline the variance is that of (f − b*) s with the exact optimal
    b* = E[f s²]/E[s²] (the leave-one-out samples of `gradient_samples` approach it as n grows).
    """
    f = _check_f(f)
    mu, sigma = _normal(theta)
    res = _converged([f], mu, sigma)
    return {
        wrt: ExactStats(
            float(res["true"][wrt][0]),
            {m: float(res[wrt, m][0][0]) for m in METHODS},
            {m: max(float(res[wrt, m][1][0]), 0.0) for m in METHODS},
        )
        for wrt in WRT
    }


def raw_moments(f: Fn, theta: tuple[float, float]) -> dict:
    """The converged integrals behind `exact_stats`, as arrays of length 1: (wrt, method) →
    (E ĝ, Var ĝ); "true" → {wrt: ∂θ E[f]}; "f" → (E f, Var f); "f_s2" → {wrt: E[f s²]}."""
    f = _check_f(f)
    mu, sigma = _normal(theta)
    return _converged([f], mu, sigma)


def exact_sweep(name: str, ks, theta: tuple[float, float] = (1.0, 1.0)) -> dict[str, ExactStats]:
    """`exact_stats` for f = functions.get(name, k) over an array of k, vectorized over k.

    Returns {wrt: ExactStats} whose values are arrays of len(ks). The Mohamed et al. 2020 Fig. 2
    curves are exact_sweep("square", linspace(−3, 3, 100)), ("exp", logspace(−1, 1, 100)),
    ("cos", logspace(log10 0.5, log10 5, 100)) at mu = sigma = 1.
    """
    mu, sigma = _normal(theta)
    ks = np.atleast_1d(np.asarray(ks, dtype=float))
    if ks.ndim != 1 or ks.size == 0:
        raise ValueError(f"ks must be a non-empty 1-D array of numbers, got shape {ks.shape}")
    fns = [get(name, k) for k in ks]
    res = _converged(fns, mu, sigma)
    return {
        wrt: ExactStats(
            res["true"][wrt],
            {m: res[wrt, m][0] for m in METHODS},
            {m: np.maximum(res[wrt, m][1], 0.0) for m in METHODS},
        )
        for wrt in WRT
    }


# ---------------------------------------------------------------------------- Monte Carlo summaries


def running_mean(g, points: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Running mean ḡ_i = (1/i) Σ_{j≤i} ĝ_j and its standard error s_i/√i at ≈`points` counts i.

    s_i is the sample standard deviation of the first i estimates (ddof = 1; nan at i = 1).
    The counts are log-spaced from 1 to n (all of them if n ≤ points). Returns (i, ḡ_i, SE_i).
    """
    g = np.asarray(g, dtype=float).ravel()
    if g.size == 0:
        raise ValueError("g must hold at least one sample")
    points = whole("points", points, 2)
    n = g.size
    i = np.unique(np.geomspace(1, n, min(points, n)).round().astype(int))
    centred = g - g[0]  # shift for a stable running variance
    s1 = np.cumsum(centred)[i - 1]
    s2 = np.cumsum(centred**2)[i - 1]
    mean = g[0] + s1 / i
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(i > 1, (s2 - s1**2 / i) / (i - 1), np.nan)
    return i, mean, np.sqrt(np.maximum(var, 0.0) / i)


def batch_mean_variance(g, min_batches: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Var[mean of m estimates] from disjoint batches, for m = 1, 2, 4, … ≤ n / min_batches.

    For i.i.d. estimates it is Var[ĝ]/m (slope −1 on log–log axes). Returns (m, variances).
    """
    g = np.asarray(g, dtype=float).ravel()
    min_batches = whole("min_batches", min_batches, 2)
    sizes = []
    out = []
    m = 1
    while g.size // m >= min_batches:
        b = g.size // m
        means = g[: b * m].reshape(b, m).mean(axis=1)
        sizes.append(m)
        out.append(means.var(ddof=1))
        m *= 2
    return np.array(sizes, dtype=int), np.array(out)
