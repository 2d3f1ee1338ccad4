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

The noised densities. With a = √ᾱ and b = √(1 − ᾱ), x_t = a x_0 + b ε has the density

    q(x) = ∫ p_data(x_0) N(x; a x_0, b² I) dx_0,   score ∇_x log q(x),

`noised_log_prob` and `noised_score` for the six toy datasets (ᾱ = 0: N(0, I); ᾱ = 1: the data).
Every toy density is a mixture of simple kernels along a curve or over cells (toy_data), and
scaling then blurring a kernel stays in its family, so q is the same mixture with new
parameters, the score its responsibility-weighted kernel scores (all in log-sum-exp, float64):

    8gaussians    N(m_k, s² I) → N(a m_k, (a² s² + b²) I): closed form.
    circles       ring of radius R ⊛ N(0, s²) → ring a R ⊛ N(0, σ²), σ² = a² s² + b²:
                  q = ½ Σ_R (2πσ²)⁻¹ exp(−(ρ² + a²R²)/2σ²) I_0(κ), κ = ρ a R/σ², and
                  ∇ log = (x/σ²)(a²R²/σ² · I_1(κ)/(κ I_0(κ)) − 1): closed form.
    moons         Σ_i w_i N(m_i, s² I) over quadrature nodes of the curve → Σ_i w_i N(a m_i, σ²),
                  σ² = a² s² + b², the nodes rebuilt for the width σ/a relative to the curve
                  (wider kernels need fewer nodes): toy_data's quadrature accuracy (~1e-11
                  near the data, falling off where log q is far below its peak, as there).
    2spirals      box [0, w]² ⊛ N(0, s²) per node → box of side a w ⊛ N(0, σ²), σ² = a² s² + b²;
                  the kernel g(y) = (1/2w)[erfc(a₁) − erfc(a₂)] per axis and its derivative
                  g′(y) = (φ((y + w/2)/σ) − φ((y − w/2)/σ))/(wσ) (w now a w), through erfcx,
                  and where the box is narrow against σ (the erfc terms would cancel) as the
                  box average of N(y; t, σ²) by Gauss–Legendre; per call, log g is tabulated
                  as piecewise Chebyshev interpolants (error ~1e-13), as w and σ are fixed.
    checkerboard  8 uniform cells of side 2 → cells of side 2a ⊛ N(0, b²): per axis the box
                  kernel above (width 2a, scale b); q = ⅛ (E₁E₂ + O₁O₂) with E_j, O_j the sums
                  over the even and odd columns (rows). At b = 0 the indicator; no score there.
    pinwheel      x_0 = 2r u(r) + 2τ v(r), u = (cos A, −sin A), v = (sin A, cos A), A = 2πk/5 +
                  0.25 eʳ, τ ~ N(0, noise²): given (k, r), x_0 is Gaussian along v, so
                  x | (k, r) ~ N(2ar u, c² v vᵀ + b² I), c = 2a·noise, and
                  q = ⅕ Σ_k ∫ N(r; 1, 0.3²) N(x; 2ar u, c² v vᵀ + b² I) dr
                  by Gauss–Legendre in r on |r − 1| ≤ 9·0.3 (the mass left out is 2e-19), on
                  panels of equal length in the kernel's own metric (the mean moves 2a/b
                  kernel widths per unit r across the arm, 2arA′/√(b² + c²) along it, and the
                  kernel turns at rate A′), so the node count grows like 1/b. It is capped:
                  from b = PINWHEEL_B_FULL on (below the smallest b of any schedule here:
                  0.0064 at t = 1 of cosine T = 1000, 0.01 of linear) the panels keep their
                  length; below it they widen and the error grows fast as b shrinks (the score
                  first), so do not use 0 < b < PINWHEEL_B_FULL. Far from the arms, where the
                  integrand in r narrows further, the error grows too: the tests hold it below
                  1e-8 in log q where log q > −30, for every b they try. At b = 0 the data
                  density (toy_data); no score there (its caustics make it singular).

Cost per point is a sum over the mixture's components: a handful for 8gaussians, circles and
checkerboard, a few hundred for moons and 2spirals, and for the pinwheel a count that grows like
1/b (the most expensive at the first steps of a schedule).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from reparam_core import quadrature
from reparam_core import toy_data as td
from reparam_core.validate import check_seed, choice, in_range, whole

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
    choice("schedule name", name, SCHEDULES)
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


# --- the noised densities q_t -----------------------------------------------------------------


def noised_log_prob(name: str, x, alpha_bar: float, noise: float | None = None) -> np.ndarray:
    """log q(x) in nats, float64, shape x.shape[:-1]: the density of √ᾱ x_0 + √(1 − ᾱ) ε with
    x_0 from dataset `name` (noise as in toy_data.log_prob) at points x of shape (..., 2)."""
    log_q, _ = _noised(name, x, alpha_bar, noise, want_score=False)
    return log_q


def noised_score(name: str, x, alpha_bar: float, noise: float | None = None) -> np.ndarray:
    """∇_x log q(x), float64, shape x.shape (see `noised_log_prob`). At alpha_bar = 1 this is the
    data's score, which does not exist for the checkerboard and the pinwheel (ValueError)."""
    _, score = _noised(name, x, alpha_bar, noise, want_score=True)
    return score


def _noised(name, x, alpha_bar, noise, want_score):
    name = td._check_name(name)
    noise = td._check_noise(name, noise, density=True)
    alpha_bar = in_range("alpha_bar", alpha_bar, 0.0, 1.0)
    x = td._check_points(x)
    if want_score and alpha_bar == 1 and name in ("checkerboard", "pinwheel"):
        raise ValueError(
            f"alpha_bar must be < 1 for the {name} score: the data density has no score "
            "everywhere (cell edges, caustics)"
        )
    a, b = math.sqrt(alpha_bar), math.sqrt(1.0 - alpha_bar)
    flat = x.reshape(-1, 2)
    log_q, score = _NOISED[name](flat, a, b, noise, want_score)
    log_q = log_q.reshape(x.shape[:-1])
    return log_q, (score.reshape(x.shape) if want_score else None)


_CHUNK = 1 << 16  # pairs (point, component) per block: it stays in cache, any number of points


def _chunks(n: int, m: int):
    step = max(1, _CHUNK // max(m, 1))
    return (slice(i, min(i + step, n)) for i in range(0, n, step))


def _weights(ll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max_j ll_ij, exp(ll_ij − max)) along axis 1, in place of ll. Arguments below −700 are
    raised to −700 first: numpy's exp is several times slower where it underflows."""
    mx = ll.max(1, keepdims=True)
    ll -= mx
    np.maximum(ll, -700.0, out=ll)
    return mx[:, 0], np.exp(ll, out=ll)


def _gauss_mixture(x, m, log_w, var, want_score):
    """log Σ_i w_i N(x; m_i, var I) and its score Σ_i r_i (m_i − x)/var (r: responsibilities)."""
    log_q = np.empty(len(x))
    score = np.empty_like(x) if want_score else None
    m2 = (m**2).sum(1)
    for sl in _chunks(len(x), len(m)):
        xc = x[sl]
        d2 = (xc**2).sum(1)[:, None] - 2 * xc @ m.T + m2[None]
        mx, p = _weights(log_w - np.maximum(d2, 0.0) / (2 * var))
        total = p.sum(1)
        log_q[sl] = mx + np.log(total)
        if want_score:
            score[sl] = ((p @ m) / total[:, None] - xc) / var
    return log_q - math.log(2 * math.pi * var), score


def _noised_8gaussians(x, a, b, noise, want_score):
    s = noise / 1.414
    m = a * td._gaussian_centres() / 1.414
    return _gauss_mixture(x, m, np.full(8, -math.log(8)), a * a * s * s + b * b, want_score)


def _bessel_ratio(z: np.ndarray) -> np.ndarray:
    """I_1(z)/(z I_0(z)) for z >= 0 (½ at 0): the power series below 30 (positive terms), the
    asymptotic series of I_0 and I_1 above (its terms still fall there; relative error ~1e-15)."""
    out = np.empty_like(z)
    small = z < 30
    q = z[small] ** 2 / 4
    t0, t1 = np.ones_like(q), np.full_like(q, 0.5)
    s0, s1 = t0.copy(), t1.copy()
    for k in range(1, 51):
        t0 = t0 * q / (k * k)
        t1 = t1 * q / (k * (k + 1))
        s0 += t0
        s1 += t1
    out[small] = s1 / s0
    zl = z[~small]
    t0, t1 = np.ones_like(zl), np.ones_like(zl)
    s0, s1 = t0.copy(), t1.copy()
    for k in range(1, 21):
        t0 = t0 * (2 * k - 1) ** 2 / (8 * k * zl)
        t1 = t1 * ((2 * k - 1) ** 2 - 4) / (8 * k * zl)
        s0 += t0
        s1 += t1
    out[~small] = s1 / (s0 * zl)
    return out


def _noised_circles(x, a, b, noise, want_score):
    var = a * a * (3.0 * noise) ** 2 + b * b
    rho = np.hypot(x[:, 0], x[:, 1])
    terms, slopes = [], []
    for radius in (3.0, 1.5):
        ar = a * radius
        kappa = rho * ar / var
        terms.append(
            -math.log(2 * 2 * math.pi * var) - (rho**2 + ar * ar) / (2 * var) + td._log_i0(kappa)
        )
        if want_score:
            slopes.append((ar * ar / var * _bessel_ratio(kappa) - 1.0) / var)
    log_q = np.logaddexp(*terms)
    if not want_score:
        return log_q, None
    r0 = np.exp(terms[0] - log_q)  # the responsibility of the outer circle
    return log_q, x * (r0 * slopes[0] + (1 - r0) * slopes[1])[:, None]


# Near its centre the spiral turns within a few kernel widths (radius of curvature ≈ t/3): the
# panels that start where t/3 < _SPIRAL_TIGHT·σ/a are halved (tests: against 4× finer panels).
_SPIRAL_TIGHT = 4.0


def _curve_nodes(name, a, sigma):
    """The curve's nodes for a kernel of width sigma around the scaled curve a·c(t)."""
    width = sigma / a if a > 0 else math.inf  # the kernel width relative to the curve
    panels = td._curve_panels(name, width)
    split = 0
    if name == "2spirals":
        tight = td._spiral_arc(min(3 * _SPIRAL_TIGHT * width, td.SPIRAL_TURN))
        split = math.ceil(tight / td._spiral_arc(td.SPIRAL_TURN) * panels)
    m, w = td._curve_nodes(name, panels, split)
    return a * m, w


def _noised_moons(x, a, b, noise, want_score):
    var = a * a * (2.0 * noise) ** 2 + b * b
    m, w = _curve_nodes("moons", a, math.sqrt(var))
    return _gauss_mixture(x, m, np.log(w), var, want_score)


def _erfcx_reference(y: np.ndarray) -> np.ndarray:
    """e^{y²} erfc(y) for y >= 0 to rounding (~4e-15), slowly: below 1, e^{y²} − e^{y²} erf(y)
    with e^{y²} erf(y) = (2/√π) Σ_n 2ⁿ y^{2n+1}/(2n+1)!! (positive terms, and erfc(1) = 0.16
    keeps the difference well conditioned); from 1 on, Laplace's continued fraction
    erfcx(y) = (1/√π) / (y + (1/2)/(y + 1/(y + (3/2)/(y + …)))), cut deep enough for y = 1."""
    out = np.empty_like(y)
    low = y < 1
    yl = y[low]
    term, total = yl.copy(), yl.copy()
    for n in range(1, 40):
        term = term * (2 * yl * yl) / (2 * n + 1)
        total += term
    out[low] = np.exp(yl * yl) - 2 / math.sqrt(math.pi) * total
    out[~low] = _erfcx_fraction(y[~low], 500)
    return out


def _erfcx_fraction(y: np.ndarray, depth: int) -> np.ndarray:
    frac = np.zeros_like(y)
    for k in range(depth, 0, -1):
        frac = (k / 2) / (y + frac)
    return 1 / (math.sqrt(math.pi) * (y + frac))


_ERFCX_STEP, _ERFCX_TOP, _ERFCX_DEGREE = 0.25, 8.0, 10


@functools.cache
def _erfcx_table() -> np.ndarray:
    """Per interval [kh, (k+1)h) of [0, 8): the degree-10 polynomial in u ∈ [−1, 1] that
    interpolates `_erfcx_reference` at the Chebyshev points (relative error ~1e-13); shape
    (degree + 1, intervals), so that each Horner step gathers one contiguous row."""
    n = round(_ERFCX_TOP / _ERFCX_STEP)
    k = np.arange(_ERFCX_DEGREE + 1)
    u = np.cos(math.pi * (k + 0.5) / (_ERFCX_DEGREE + 1))
    centres = _ERFCX_STEP * (np.arange(n) + 0.5)
    values = _erfcx_reference((centres[:, None] + _ERFCX_STEP / 2 * u).ravel())
    vander = np.polynomial.polynomial.polyvander(u, _ERFCX_DEGREE)
    table = np.linalg.solve(vander, values.reshape(n, -1).T)
    table.setflags(write=False)
    return table


def _erfcx(y: np.ndarray) -> np.ndarray:
    """e^{y²} erfc(y) for y >= 0, relative error ~1e-13: the interpolating polynomials of
    `_erfcx_table` below 8 (a few operations per value), the continued fraction above (depth
    10 has converged to rounding there)."""
    out = np.empty_like(y)
    low = y < _ERFCX_TOP
    yl = y[low]
    table = _erfcx_table()
    k = np.minimum((yl / _ERFCX_STEP).astype(np.intp), table.shape[1] - 1)
    u = (yl - _ERFCX_STEP * (k + 0.5)) * (2 / _ERFCX_STEP)
    acc = table[-1][k]
    for row in table[-2::-1]:
        acc *= u
        acc += row[k]
    out[low] = acc
    out[~low] = _erfcx_fraction(y[~low], 10)
    return out


# A box is narrow against the Gaussian where δ(1 + y/s) ≤ _BOX_NARROW, δ = w/2s: there the erfc
# difference would cancel, and 5 Gauss–Legendre nodes across the box are exact to rounding.
_BOX_NARROW, _BOX_ORDER = 0.2, 5


def _log_box_gauss(y: np.ndarray, w: float, s: float) -> tuple[np.ndarray, np.ndarray]:
    """log g(y) and d log g/dy for g = U[−w/2, w/2] ⊛ N(0, s²) at distances y >= 0:

        g(y) = (1/2w)[erfc(a₁) − erfc(a₂)],  a₁ = (y − w/2)/(s√2), a₂ = (y + w/2)/(s√2),
        g′(y) = (φ((y + w/2)/s) − φ((y − w/2)/s))/(w s),

    in terms of erfcx and scaled by e^{max(a₁, 0)²}, so that far tails neither underflow nor
    cancel. Where δ(1 + y/s) ≤ 1, δ = w/2s, the box is narrow against the Gaussian and the two
    erfc terms nearly cancel; there g is the box average (1/w)∫ N(y; t, s²) dt by Gauss–Legendre
    instead (its integrand is entire and varies by at most a factor e² across the box).
    """
    log_g, dlog = np.empty_like(y), np.empty_like(y)
    near = w / (2 * s) * (1 + y / s) <= _BOX_NARROW
    if near.any():
        xi, weight = quadrature.rule(_BOX_ORDER)
        d = y[near, None] - (w / 2) * xi
        ll = np.log(weight / 2) - 0.5 * (d / s) ** 2
        mx, p = _weights(ll)
        total = p.sum(1)
        log_g[near] = mx + np.log(total) - math.log(s * math.sqrt(2 * math.pi))
        dlog[near] = -(p * d).sum(1) / (total * s * s)
    far = ~near
    if far.any():
        yf = y[far]
        a1 = (yf - w / 2) / (s * math.sqrt(2))
        a2 = (yf + w / 2) / (s * math.sqrt(2))
        pos = a1 >= 0
        e = np.where(pos, a1 * a1, 0.0)
        x1 = _erfcx(np.abs(a1))
        tail1 = np.where(pos, 1.0, np.exp(-a1 * a1))  # e^{E − a₁²}
        tail2 = np.exp(e - a2 * a2)  # e^{E − a₂²}
        bracket = np.where(pos, x1, 2.0 - x1 * tail1) - _erfcx(a2) * tail2
        log_g[far] = np.log(bracket) - e - math.log(2 * w)
        dlog[far] = 2 * (tail2 - tail1) / (s * math.sqrt(2 * math.pi) * bracket)
    return log_g, dlog


_TABLE_STEP, _TABLE_DEGREE, _TABLE_REACH = 0.5, 10, 14.0  # step in units of s; reach w/2 + 14s


@functools.lru_cache(maxsize=16)
def _box_table(w: float, s: float) -> tuple[np.ndarray, np.ndarray, float]:
    """log g of `_log_box_gauss` for one (w, s) as piecewise polynomials: on each interval of
    length s/2 up to w/2 + 14s, the degree-10 interpolant at the Chebyshev points (log g is
    smooth on the scale s: error ~1e-13 in log g, ~1e-12 relative in its slope), in the local
    u ∈ [−1, 1]; rows are coefficients (and the slope's), columns intervals."""
    h = _TABLE_STEP * s
    n = math.ceil((w / 2 + _TABLE_REACH * s) / h)
    k = np.arange(_TABLE_DEGREE + 1)
    u = np.cos(math.pi * (k + 0.5) / (_TABLE_DEGREE + 1))
    log_g, _ = _log_box_gauss((h * (np.arange(n)[:, None] + 0.5) + h / 2 * u).ravel(), w, s)
    vander = np.polynomial.polynomial.polyvander(u, _TABLE_DEGREE)
    coef = np.linalg.solve(vander, log_g.reshape(n, -1).T)
    slope = k[1:, None] * coef[1:] * (2 / h)
    coef.setflags(write=False)
    slope.setflags(write=False)
    return coef, slope, h


def _log_box_gauss_fast(y: np.ndarray, w: float, s: float) -> tuple[np.ndarray, np.ndarray]:
    """`_log_box_gauss` by `_box_table` where it reaches (a few operations per value), directly
    beyond (only points far from all the data get there)."""
    coef, slope, h = _box_table(w, s)
    inside = y < coef.shape[1] * h
    if not inside.all():
        log_g, dlog = np.empty_like(y), np.empty_like(y)
        log_g[inside], dlog[inside] = _log_box_gauss_fast(y[inside], w, s)
        log_g[~inside], dlog[~inside] = _log_box_gauss(y[~inside], w, s)
        return log_g, dlog
    k = (y / h).astype(np.intp)
    u = (y - h * (k + 0.5)) * (2 / h)
    log_g, dlog = coef[-1][k], slope[-1][k]
    for row in coef[-2::-1]:
        log_g *= u
        log_g += row[k]
    for row in slope[-2::-1]:
        dlog *= u
        dlog += row[k]
    return log_g, dlog


def _noised_2spirals(x, a, b, noise, want_score):
    """Σ_i w_i g(|x_1 − a m_i1|) g(|x_2 − a m_i2|), g the box (a w) ⊛ N(0, σ²) kernel from
    `_box_table` (w and σ are fixed for the call).

    Only nodes that can matter are evaluated, those with |d_i| ≤ |d|_min + 7√2σ + aw/√2
    (d_i = x − a m_i): each node left out has √E_i > √E_min + 7, E_i the Gaussian part of its
    exponent (the distance from x to its box, squared, over 2σ²), so it weighs < e^−49 of the
    nearest, as in toy_data.
    """
    sigma = math.sqrt(a * a * noise * noise + b * b)
    m, w = _curve_nodes("2spirals", a, sigma)
    box = a * td._SPIRAL_BOX
    log_w, m2 = np.log(w), (m**2).sum(1)
    reach = 7 * math.sqrt(2) * sigma + box / math.sqrt(2)
    log_q = np.empty(len(x))
    score = np.empty_like(x) if want_score else None
    for sl in _chunks(len(x), len(m)):
        xc = x[sl]
        dist2 = (xc**2).sum(1)[:, None] - 2 * xc @ m.T + m2
        keep = np.sqrt(np.maximum(dist2.min(1), 0.0)) + reach
        pt, node = np.nonzero(dist2 <= (keep * keep)[:, None])
        y1, y2 = xc[pt, 0] - m[node, 0], xc[pt, 1] - m[node, 1]
        lg, dl = _log_box_gauss_fast(np.abs(np.concatenate([y1, y2])), box, sigma)
        k = len(pt)
        ll = log_w[node] + lg[:k] + lg[k:]
        starts = np.searchsorted(pt, np.arange(len(xc)))  # pt is sorted: one run per point
        mx = np.maximum.reduceat(ll, starts)
        p = np.exp(np.maximum(ll - mx[pt], -700.0))
        total = np.add.reduceat(p, starts)
        log_q[sl] = mx + np.log(total)
        if want_score:
            score[sl, 0] = np.add.reduceat(p * np.sign(y1) * dl[:k], starts) / total
            score[sl, 1] = np.add.reduceat(p * np.sign(y2) * dl[k:], starts) / total
    return log_q, score


def _noised_checkerboard(x, a, b, noise, want_score):
    if b == 0:
        return td._log_prob_checkerboard(x), None
    centres = 2 * a * (np.arange(-2, 2) + 0.5)  # columns (rows) i = −2 … 1 of side 2a
    parts = []  # per axis: log and slope of the even and the odd columns' sums
    for j in range(2):
        d = x[:, j, None] - centres
        lg, dl = _log_box_gauss(np.abs(d), 2 * a, b)
        dl = dl * np.sign(d)
        axis = []
        for cols in ((0, 2), (1, 3)):  # even i = −2, 0; odd i = −1, 1
            tot = np.logaddexp(lg[:, cols[0]], lg[:, cols[1]])
            r = np.exp(lg[:, cols[0]] - tot)
            axis.append((tot, r * dl[:, cols[0]] + (1 - r) * dl[:, cols[1]]))
        parts.append(axis)
    (e1, de1), (o1, do1) = parts[0]
    (e2, de2), (o2, do2) = parts[1]
    log_q = np.logaddexp(e1 + e2, o1 + o2)
    if not want_score:
        return log_q - math.log(8), None
    r_even = np.exp(e1 + e2 - log_q)
    score = np.stack([r_even * de1 + (1 - r_even) * do1, r_even * de2 + (1 - r_even) * do2], 1)
    return log_q - math.log(8), score


PINWHEEL_SPAN = 9.0  # |r − 1| ≤ 9·0.3: the radial mass left out is 2e-19
_PIN_ORDER = 12  # Gauss–Legendre nodes per panel in r
_PIN_PANEL = 4.0  # panel length in kernel widths (checked against finer panels in the tests)
_PIN_REACH = 3.0  # offsets across the arm up to this many widths still resolved as the arm turns
_PIN_MAX_PANELS = 1000  # caps the node count (5 × 12 × 1000) for b below PINWHEEL_B_FULL
PINWHEEL_B_FULL = 0.006  # from this b on the panels meet _PIN_PANEL under the cap, any noise


@functools.lru_cache(maxsize=8)
def _pinwheel_nodes(noise: float, a: float, b: float):
    """(C, 6 × M): the log-integrand of every node as a quadratic form in (x_1², x_1x_2, x_2²,
    x_1, x_2, 1), so that a block of points costs one matrix product."""
    sr = td.PINWHEEL_RADIAL_STD
    c2 = (2 * a * noise) ** 2
    wide = math.sqrt(b * b + c2)
    rt = np.linspace(1 - PINWHEEL_SPAN * sr, 1 + PINWHEEL_SPAN * sr, 4001)
    turn = td.PINWHEEL_RATE * np.exp(rt)  # A′(r)
    # kernel widths per unit r: the mean 2ar·u moves 2a across the arm and 2arA′ along it; the
    # kernel turns at rate A′, which moves points up to _PIN_REACH widths off its axes
    speed = np.sqrt(
        (2 * a / b + _PIN_REACH * turn * c2 / (b * wide)) ** 2
        + (2 * a * np.abs(rt) * turn / wide) ** 2
        + 1 / sr**2
    )
    arc = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) / 2 * np.diff(rt))])
    panels = min(_PIN_MAX_PANELS, max(4, math.ceil(arc[-1] / _PIN_PANEL)))
    edges = np.interp(np.linspace(0.0, arc[-1], panels + 1), arc, rt)
    r, wr = td._gauss_legendre_panels(edges[:-1], edges[1:], _PIN_ORDER)
    log_w = (
        np.log(wr)
        - 0.5 * ((r - 1) / sr) ** 2
        - math.log(sr * math.sqrt(2 * math.pi) * td.PINWHEEL_ARMS)
        - math.log(2 * math.pi * b * wide)
    )
    k = np.arange(td.PINWHEEL_ARMS)[:, None]
    ang = (2 * math.pi / td.PINWHEEL_ARMS) * k + td.PINWHEEL_RATE * np.exp(r)
    u1, u2, v1, v2 = np.cos(ang), -np.sin(ang), np.sin(ang), np.cos(ang)
    alpha, beta = 1 / (b * b), 1 / (b * b + c2)
    rr = np.broadcast_to(r, ang.shape)
    # −½ (x − 2ar u)ᵀ (α u uᵀ + β v vᵀ) (x − 2ar u), using u ⟂ v
    coef = np.stack(
        [
            -0.5 * (alpha * u1 * u1 + beta * v1 * v1),
            -(alpha * u1 * u2 + beta * v1 * v2),
            -0.5 * (alpha * u2 * u2 + beta * v2 * v2),
            2 * alpha * a * rr * u1,
            2 * alpha * a * rr * u2,
            np.broadcast_to(log_w - 2 * alpha * a * a * r * r, ang.shape),
        ]
    ).reshape(6, -1)
    coef.setflags(write=False)
    return coef


def _noised_pinwheel(x, a, b, noise, want_score):
    if b == 0:
        return td._log_prob_pinwheel(x, noise), None
    coef = _pinwheel_nodes(noise, a, b)
    log_q = np.empty(len(x))
    score = np.empty_like(x) if want_score else None
    for sl in _chunks(len(x), coef.shape[1]):
        x1, x2 = x[sl, 0], x[sl, 1]
        feats = np.stack([x1 * x1, x1 * x2, x2 * x2, x1, x2, np.ones_like(x1)], 1)
        mx, p = _weights(feats @ coef)
        total = p.sum(1)
        log_q[sl] = mx + np.log(total)
        if want_score:
            cm = (p @ coef.T) / total[:, None]  # the responsibility-weighted coefficients
            score[sl, 0] = 2 * x1 * cm[:, 0] + x2 * cm[:, 1] + cm[:, 3]
            score[sl, 1] = x1 * cm[:, 1] + 2 * x2 * cm[:, 2] + cm[:, 4]
    return log_q, score


_NOISED = {
    "moons": _noised_moons,
    "circles": _noised_circles,
    "8gaussians": _noised_8gaussians,
    "pinwheel": _noised_pinwheel,
    "2spirals": _noised_2spirals,
    "checkerboard": _noised_checkerboard,
}
