"""Implicit reparameterization for Gamma(α, 1) (Figurnov, Mohamed & Mnih 2018).

Gamma(α, 1) has density q(z|α) = z^{α−1} e^{−z} / Γ(α) and CDF F(z|α) (the regularized lower
incomplete gamma function). Its samplers are rejection samplers (Marsaglia–Tsang), so there is no
explicit map z = g(α, ε) to differentiate. Implicit reparameterization differentiates the
standardization F(z|α) = u at fixed u instead:

    ∂z/∂α = −(∂F(z|α)/∂α) / q(z|α)

and ∂F/∂α = ∫₀^z q(t|α) (log t − ψ(α)) dt (differentiate under the integral; ψ = digamma).
Dividing by q(z) and substituting t = z e^{∓s} gives integrals with a concave exponent that
peaks at s = 0, which we do by Gauss–Legendre quadrature:

    z < α:  ∂z/∂α = −z ∫₀^∞ exp(−αs + z(1 − e^{−s})) (log z − s − ψ(α)) ds
    z ≥ α:  ∂z/∂α = +z ∫₀^∞ exp( αs − z(e^{s} − 1)) (log z + s − ψ(α)) ds

(both are exact for every z, since ∫₀^∞ q (log t − ψ) dt = 0; each is used where its exponent
decreases from 0). The same integrals with the last factor set to 1 give F and 1 − F.

Gradient of E[f(z)] w.r.t. α:

    implicit (pathwise)  g = f'(z) ∂z/∂α
    score function       g = f(z) (log z − ψ(α))
    exact                d/dα ∫ f q dz = ∫ f(z) q(z|α) (log z − ψ(α)) dz   (quadrature in log z)

`gradient_samples(f, alpha, method, n, seed)` has the call shape every family shares, with f a
Gamma-family test function (`functions.get(name, family="gamma")`); `exact_stats(f, alpha)`
returns the shared `ExactStats`.

Closed forms used in tests: E[z] = α, E[z²] = α(α+1), E[log z] = ψ(α),
E[sin z] = 2^{−α/2} sin(απ/4).

Finite differences through a re-seeded rejection sampler: the sampler consumes one stream of
proposals and keeps the first n accepted. Moving α moves the acceptance boundary, so some
proposal flips between accept and reject; from there on, sample i is a different proposal at
α + h than at α − h and (f(z⁺) − f(z⁻))/(2h) is O(1/h). The sample path α ↦ z_i(α) is piecewise
smooth with jumps, so its finite differences do not converge to a derivative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reparam_core import quadrature, registry
from reparam_core.functions import GAMMA_NAMES, Fn
from reparam_core.functions import check as _check_f
from reparam_core.stats import ExactStats
from reparam_core.validate import check_n as _check_n
from reparam_core.validate import check_seed as _check_seed
from reparam_core.validate import choice, in_range, whole

Array = np.ndarray

ALPHA_MIN, ALPHA_MAX = 0.05, 200.0
METHODS = registry.methods("gamma")
FUNCTION_NAMES = GAMMA_NAMES


# ---------------------------------------------------------------------------- special functions


def digamma(x: Array) -> Array:
    """ψ(x) for x > 0: recurrence ψ(x) = ψ(x+1) − 1/x up to x ≥ 10, then the asymptotic series."""
    x = np.asarray(x, dtype=float).copy()
    acc = np.zeros_like(x)
    for _ in range(10):
        small = x < 10.0
        acc -= np.where(small, 1.0 / x, 0.0)
        x = np.where(small, x + 1.0, x)
    r = 1.0 / (x * x)
    series = r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * (1 / 240 - r * (1 / 132)))))
    return acc + np.log(x) - 0.5 / x - series


def trigamma(x: Array) -> Array:
    """ψ'(x) for x > 0: recurrence ψ'(x) = ψ'(x+1) + 1/x², then the asymptotic series."""
    x = np.asarray(x, dtype=float).copy()
    acc = np.zeros_like(x)
    for _ in range(10):
        small = x < 10.0
        acc += np.where(small, 1.0 / (x * x), 0.0)
        x = np.where(small, x + 1.0, x)
    r = 1.0 / (x * x)
    series = 1 / x + r / 2 + r / x * (1 / 6 - r * (1 / 30 - r * (1 / 42 - r * (1 / 30))))
    return acc + series


def _check_alpha(alpha: float) -> float:
    return in_range("alpha", alpha, ALPHA_MIN, ALPHA_MAX)


def _check_z(z: Array) -> Array:
    z = np.asarray(z, dtype=float)
    if not np.all(np.isfinite(z)) or np.any(z <= 0):
        raise ValueError("z must be finite and > 0")
    return z


def log_prob(z: Array, alpha: float) -> Array:
    """log q(z|α) = (α − 1) log z − z − log Γ(α)."""
    alpha = _check_alpha(alpha)
    z = _check_z(z)
    return (alpha - 1.0) * np.log(z) - z - math.lgamma(alpha)


# ---------------------------------------------------------------------------- implicit gradient


def _phi(z: Array, alpha: float, s: Array, lower: bool) -> tuple[Array, Array]:
    """The exponent φ(s) and φ'(s) for one branch (z broadcast against s)."""
    if lower:  # φ = −αs + z(1 − e^{−s})
        e = np.exp(-s)
        return -alpha * s + z * (1.0 - e), -alpha + z * e
    e = np.exp(np.minimum(s, 700.0))  # φ = αs − z(e^s − 1)
    return alpha * s - z * (e - 1.0), alpha - z * e


def _branch(z: Array, alpha: float, lower: bool) -> tuple[Array, Array]:
    """I₀, I₁ for points z that all lie on one branch."""
    # Start right of the root of φ(S) = −45 using φ ≤ z − αs (lower) or φ ≤ −z s²/2 and
    # φ ≤ αs − z(e^s − 1) (upper); Newton on a concave decreasing φ from the right never
    # crosses the root, so every iterate is a valid (and shrinking) integration range.
    if lower:
        S = (z + 45.0) / alpha + 1.0
    else:
        S = np.minimum(np.sqrt(90.0 / z), np.log1p((45.0 + 50.0 * alpha) / z) + 50.0)
        S = np.maximum(S, 1e-12)
    for _ in range(8):
        f, df = _phi(z, alpha, S, lower)
        S = np.where(f < -45.0, S - (f + 45.0) / np.minimum(df, -1e-300), S)
    sign = -1.0 if lower else 1.0
    I0 = np.zeros_like(z)
    I1 = np.zeros_like(z)
    for lo_frac, hi_frac in ((0.0, 0.125), (0.125, 1.0)):
        s, w = quadrature.on_panels(S * (lo_frac + hi_frac) / 2, S * (hi_frac - lo_frac) / 2, 64)
        e = np.exp(_phi(z[:, None], alpha, s, lower)[0]) * w
        I0 += np.sum(e, axis=-1)
        I1 += sign * np.sum(e * s, axis=-1)
    return I0, I1


def _tail_integrals(z: Array, alpha: float) -> tuple[Array, Array, Array]:
    """For each z: (I₀, I₁, lower) with I₀ = ∫₀^S e^{φ(s)} ds, I₁ = ∫₀^S e^{φ(s)} (∓s) ds.

    φ(s) = −αs + z(1 − e^{−s}) for z < α (lower = True), φ(s) = αs − z(e^s − 1) otherwise;
    φ is concave with φ(0) = 0 and decreasing, and S is where φ(S) ≈ −45 (Newton from the
    right). Integration is two Gauss–Legendre panels of 64 nodes on [0, S/8] and [S/8, S],
    in chunks of points to bound memory.
    """
    lower = z < alpha
    I0 = np.empty_like(z)
    I1 = np.empty_like(z)
    for mask, is_lower in ((lower, True), (~lower, False)):
        idx = np.flatnonzero(mask)
        for c in range(0, idx.size, 8192):
            j = idx[c : c + 8192]
            I0[j], I1[j] = _branch(z[j], alpha, is_lower)
    return I0, I1, lower


def _checked_tail_integrals(z: Array, alpha: float) -> tuple:
    """(α, z flattened, z's shape, I₀, I₁, lower) for checked arguments: the start that
    `dz_dalpha` and `cdf` share, on a flat z so `_tail_integrals` can index it by branch."""
    alpha = _check_alpha(alpha)
    z = _check_z(z)
    flat = np.atleast_1d(z).ravel()
    return (alpha, flat, z.shape, *_tail_integrals(flat, alpha))


def dz_dalpha(z: Array, alpha: float) -> Array:
    """The implicit reparameterization gradient ∂z/∂α = −(∂F(z|α)/∂α)/q(z|α), by quadrature."""
    alpha, z, shape, I0, I1, lower = _checked_tail_integrals(z, alpha)
    psi = float(digamma(alpha))
    inner = (np.log(z) - psi) * I0 + I1  # ∫ e^φ (log z ∓ s − ψ) ds
    return (np.where(lower, -1.0, 1.0) * z * inner).reshape(shape)


def cdf(z: Array, alpha: float) -> Array:
    """F(z|α), the regularized lower incomplete gamma P(α, z), by the same quadrature."""
    alpha, z, shape, I0, _, lower = _checked_tail_integrals(z, alpha)
    mass = z * np.exp(log_prob(z, alpha)) * I0  # ∫₀^z q (lower) or ∫_z^∞ q (upper)
    return np.where(lower, mass, 1.0 - mass).reshape(shape)


def dcdf_dalpha(z: Array, alpha: float) -> Array:
    """∂F(z|α)/∂α = −q(z|α) ∂z/∂α."""
    return -np.exp(log_prob(z, alpha)) * dz_dalpha(z, alpha)


def icdf(u: Array, alpha: float, z0: Array | None = None, iters: int = 100) -> Array:
    """F⁻¹(u|α) for u ∈ (0, 1): Newton on y = log z (steps clipped to ±1), from z0 if given.

    Stops when every |Δy| < 1e-13 (usually 4–8 steps from a nearby z0).
    """
    alpha = _check_alpha(alpha)
    u = np.asarray(u, dtype=float)
    if not np.all((u > 0) & (u < 1)):
        raise ValueError("u must be in (0, 1)")
    if z0 is None:  # lower tail: F ≈ z^α/Γ(α+1)
        y = np.minimum(math.log(alpha), (np.log(u) + math.lgamma(alpha + 1.0)) / alpha)
    else:
        y = np.log(_check_z(z0))
    for _ in range(iters):
        z = np.exp(y)
        # dF/dy = q(z) z; work with log to avoid underflow in the tails
        step = (cdf(z, alpha) - u) / np.exp(log_prob(z, alpha) + y)
        step = np.clip(step, -1.0, 1.0)
        y = y - step
        if np.all(np.abs(step) < 1e-13):
            break
    return np.exp(y)


def torch_rsample_grad(alpha: float, n: int, seed: int = 0) -> tuple[Array, Array]:
    """z ~ Gamma(α, 1) by torch's `Gamma.rsample` and ∂z/∂α by autograd through it (float64)."""
    import torch

    alpha = _check_alpha(alpha)
    n = _check_n(n)
    torch.manual_seed(_check_seed(seed))
    a = torch.tensor([alpha] * n, dtype=torch.float64, requires_grad=True)
    z = torch.distributions.Gamma(a, torch.ones_like(a)).rsample()
    (grad,) = torch.autograd.grad(z.sum(), a)
    return z.detach().numpy(), grad.numpy()


# ---------------------------------------------------------------------------- exact values


def _grid(alpha: float) -> tuple[Array, Array]:
    """Nodes z and weights w with Σ w·h(z) ≈ ∫₀^∞ h(z) q(z|α) dz (smooth h).

    In y = log z the weight q(z)dz = exp(αy − e^y − log Γ(α)) dy is log-concave with mode
    log α; composite 16-point Gauss–Legendre on panels ≤ min(0.25, 1/√α) wide out to where
    the exponent is 45 below its maximum.
    """
    ym = math.log(alpha)
    top = alpha * ym - alpha

    def expo(y: float) -> float:
        return alpha * y - math.exp(y)

    lo, hi = ym - 1.0, ym + 1.0
    while expo(lo) > top - 45.0:
        lo -= max(1.0, ym - lo)
    while expo(hi) > top - 45.0:
        hi += 0.5
    y, w = quadrature.uniform(lo, hi, min(0.25, 1.0 / math.sqrt(alpha)), 16)
    w = w * np.exp(alpha * y - np.exp(y) - math.lgamma(alpha))
    return np.exp(y), w


def exact_mean(f: Fn, alpha: float) -> float:
    """E[f(z)] by quadrature."""
    fn, alpha = _check_f(f), _check_alpha(alpha)
    z, w = _grid(alpha)
    return float(np.sum(w * fn.f(z)))


def exact_gradient(f: Fn, alpha: float) -> float:
    """d/dα E[f(z)] = ∫ f(z) q(z|α) (log z − ψ(α)) dz, by quadrature."""
    fn, alpha = _check_f(f), _check_alpha(alpha)
    z, w = _grid(alpha)
    return float(np.sum(w * fn.f(z) * (np.log(z) - digamma(alpha))))


def closed_form_gradient(name: str, alpha: float) -> float:
    """d/dα E[f(z)], z ~ Gamma(α, 1), in closed form for the test functions (`FUNCTION_NAMES`):
    E z = α, E z² = α(α + 1), E log z = ψ(α), E sin z = 2^{−α/2} sin(απ/4) (the real part of
    the characteristic function), E √z = Γ(α + ½)/Γ(α); a check on the quadrature."""
    name, alpha = choice("name", name, FUNCTION_NAMES, "the test function"), _check_alpha(alpha)
    if name == "z":
        return 1.0
    if name == "z2":
        return 2 * alpha + 1
    if name == "log":
        return float(trigamma(alpha))
    if name == "sin":
        c, s = math.cos(alpha * math.pi / 4), math.sin(alpha * math.pi / 4)
        return 2 ** (-alpha / 2) * (math.pi / 4 * c - math.log(2) / 2 * s)
    ratio = math.exp(math.lgamma(alpha + 0.5) - math.lgamma(alpha))  # sqrt
    return ratio * float(digamma(alpha + 0.5) - digamma(alpha))


def per_sample(f: Fn, alpha: float, method: str, z: Array, dz: Array | None = None) -> Array:
    """The single-sample estimate at samples z: f'(z)∂z/∂α (implicit) or f(z)(log z − ψ(α)).

    Pass `dz = dz_dalpha(z, alpha)` to reuse it across several f (it is the costly part).
    """
    fn, alpha = _check_f(f), _check_alpha(alpha)
    method = choice("method", method, METHODS)
    if method == "implicit":
        return fn.df(z) * (dz_dalpha(z, alpha) if dz is None else dz)
    return fn.f(z) * (np.log(z) - digamma(alpha))


def exact_stats(f: Fn, alpha: float) -> ExactStats:
    """The exact gradient d/dα E[f(z)] and, per method, the mean (both estimators are unbiased)
    and single-sample variance E[g²] − (d/dα E f)², by quadrature."""
    z, w = _grid(_check_alpha(alpha))
    true = exact_gradient(f, alpha)
    var = {}
    for method in METHODS:
        g = per_sample(f, alpha, method, z)
        var[method] = float(max(np.sum(w * g**2) - true**2, 0.0))
    return ExactStats(true, dict.fromkeys(METHODS, true), var)


def samples(
    alpha: float, n: int, seed: int = 0, with_grad: bool = True
) -> tuple[Array, Array | None]:
    """n draws z ~ Gamma(α, 1) by numpy (a rejection sampler) and, if asked, ∂z/∂α at each."""
    alpha, n, seed = _check_alpha(alpha), _check_n(n), _check_seed(seed)
    z = np.random.default_rng(seed).gamma(alpha, size=n)
    z = np.maximum(z, np.finfo(float).tiny)
    return z, (dz_dalpha(z, alpha) if with_grad else None)


def gradient_samples(f: Fn, alpha: float, method: str, n: int, seed: int = 0) -> Array:
    """n single-sample estimates of d/dα E[f(z)], z ~ Gamma(α, 1) drawn by numpy."""
    f = _check_f(f)
    method = choice("method", method, METHODS)
    z, dz = samples(alpha, n, seed, with_grad=method == "implicit")
    return per_sample(f, alpha, method, z, dz)


# ---------------------------------------------------------------------------- rejection sampling


def _mt_accept(alpha: float, x: Array, log_u: Array) -> tuple[Array, Array]:
    """Marsaglia–Tsang for Gamma(α ≥ 1): d = α − 1/3, c = 1/√(9d), v = (1 + cx)³;
    accept iff v > 0 and log U < x²/2 + d − dv + d log v. Returns (accepted, z = d·v)."""
    d = alpha - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    v = (1.0 + c * x) ** 3
    ok = v > 0
    vs = np.where(ok, v, 1.0)
    accepted = ok & (log_u < 0.5 * x**2 + d - d * vs + d * np.log(vs))
    return accepted, d * vs


def rejection_sample(alpha: float, n: int, seed: int = 0) -> tuple[Array, Array]:
    """n Gamma(α, 1) samples by Marsaglia–Tsang from one re-seeded stream; also the index of
    the proposal each sample came from.

    The stream holds 2n + 64 normal proposals, then 2n + 64 uniforms, then n boost uniforms; the
    first n accepted proposals are the samples. For α < 1 it samples Gamma(α + 1) and
    multiplies by U^{1/α} (the boost). The same seed gives the same stream at every α.
    """
    alpha, n, seed = _check_alpha(alpha), _check_n(n, 1, 200_000), _check_seed(seed)
    rng = np.random.default_rng(seed)
    m = 2 * n + 64
    x, log_u = rng.standard_normal(m), np.log(rng.random(m))
    boost_u = rng.random(n)
    a = alpha if alpha >= 1.0 else alpha + 1.0
    accepted, z = _mt_accept(a, x, log_u)
    idx = np.flatnonzero(accepted)[:n]
    if idx.size < n:  # acceptance ≥ 0.95 for α ≥ 1; never happens in practice
        raise ValueError("n: too few accepted proposals; use a smaller n")
    z = z[idx]
    if alpha < 1.0:
        z = z * boost_u ** (1.0 / alpha)
    return np.maximum(z, np.finfo(float).tiny), idx


@dataclass(frozen=True)
class FiniteDifference:
    """Central differences (f(z(α+h)) − f(z(α−h)))/(2h) through the re-seeded sampler."""

    h: float
    estimate: float  # mean over the n samples
    std_error: float
    desynced: int  # samples whose proposal index differs between α − h and α + h
    n: int


def rejection_fd(f: Fn, alpha: float, h: float, n: int, seed: int = 0) -> FiniteDifference:
    """Finite-difference "gradient" through the re-seeded Marsaglia–Tsang sampler.

    Wrong because the accept/reject pattern depends on α: once one proposal flips, every later
    sample is a different proposal at α ± h, so its difference quotient is O(1/h).
    """
    fn = _check_f(f)
    alpha = _check_alpha(alpha)
    try:
        h = float(h)
    except (TypeError, ValueError):
        raise ValueError(f"h must be a number, got {h!r}") from None
    if not math.isfinite(h) or not 0 < h <= 0.5 * (alpha - ALPHA_MIN) + 1e-12 or h > 1.0:
        raise ValueError(f"h must be in (0, min(1, (alpha − {ALPHA_MIN})/2)], got {h!r}")
    zp, ip = rejection_sample(alpha + h, n, seed)
    zm, im = rejection_sample(alpha - h, n, seed)
    g = (fn.f(zp) - fn.f(zm)) / (2.0 * h)
    se = float(np.std(g, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return FiniteDifference(h, float(np.mean(g)), se, int(np.sum(ip != im)), n)


def sample_paths(
    alphas: Array, n_paths: int = 5, seed: int = 0, sample_index: int = 0
) -> tuple[Array, Array]:
    """z(α) over a grid of α for `n_paths` streams (seeds seed, seed+1, …):

    rejection: sample number `sample_index` of the re-seeded Marsaglia–Tsang sampler (jumps);
    implicit: F⁻¹(u|α) with u = F(z(α₀)|α₀) fixed at the first α (smooth; its slope is ∂z/∂α).
    Shapes (n_paths, len(alphas)).
    """
    alphas = np.array([_check_alpha(a) for a in np.atleast_1d(alphas)])
    n_paths = whole("n_paths", n_paths, 1, 50)
    sample_index = whole("sample_index", sample_index, 0, 9_999)
    rej = np.array(
        [
            [rejection_sample(a, sample_index + 1, seed + p)[0][sample_index] for a in alphas]
            for p in range(n_paths)
        ]
    )
    u = cdf(rej[:, 0], alphas[0])
    u = np.clip(u, 1e-300, 1 - 1e-16)
    imp = np.empty_like(rej)
    z = rej[:, 0]
    for j, a in enumerate(alphas):
        z = imp[:, j] = icdf(u, a, z0=z)
    return rej, imp


def proposal_dz_dalpha(z: Array, alpha: float) -> Array:
    """∂z/∂α along Marsaglia–Tsang's proposal map z = d(1 + cx)³ at fixed x (α ≥ 1):

    d = α − 1/3, c = 1/(3√d), dc/dα = −c/(2d), so ∂z/∂α = (1 + cx)³ − (3/2) c x (1 + cx)².
    This is what finite differences see when no proposal flips between α − h and α + h.
    """
    alpha = _check_alpha(alpha)
    if alpha < 1.0:
        raise ValueError(f"alpha must be ≥ 1 for the Marsaglia–Tsang proposal map, got {alpha!r}")
    z = _check_z(z)
    d = alpha - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    w = np.cbrt(z / d)  # 1 + cx
    x = (w - 1.0) / c
    return w**3 - 1.5 * c * x * w**2


def smooth_path_gradient(f: Fn, alpha: float) -> float:
    """E[f'(z) ∂z/∂α|_x], the h → 0 limit of the finite difference when no proposal flips
    (α ≥ 1). It differs from d/dα E[f] by the term from the α-dependence of the acceptance
    probability (the "correction" of Naesseth et al. 2017, rejection-sampling VI), which
    finite differences only pick up through the rare O(1/h) jumps."""
    fn, alpha = _check_f(f), _check_alpha(alpha)
    z, w = _grid(alpha)
    return float(np.sum(w * fn.df(z) * proposal_dz_dalpha(z, alpha)))
