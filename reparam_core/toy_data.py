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

import functools
import math
from numbers import Real

import numpy as np

from reparam_core.validate import check_seed, whole

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
# needs noise > 0, and a very peaked one costs more quadrature nodes). 1/4 to 4 × the default,
# except the pinwheel (below).
NOISE_RANGE: dict[str, tuple[float, float]] = {
    name: (0.25 * v, 4.0 * v) if v > 0 else (0.0, 1.0) for name, v in DEFAULT_NOISE.items()
}
# Above 0.2 the pinwheel's arms fold over themselves within the bulk (|det J| = 0 at
# τ = −4e^−r: caustics) and the ceiling quadrature converges only to ~1e-4: cap at 2 × default.
NOISE_RANGE["pinwheel"] = (0.025, 0.2)

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


# --- sampling ---------------------------------------------------------------------------------


def sample(name: str, n: int, noise: float | None = None, seed: int = 0) -> np.ndarray:
    """Draw n i.i.d. points from dataset `name` (see the module docstring), shape (n, 2) float32.

    Deterministic given (name, n, noise, seed). noise=None means DEFAULT_NOISE[name];
    noise must lie in [0, NOISE_RANGE[name][1]]; n in [1, MAX_SAMPLES].
    """
    name = _check_name(name)
    n = whole("n", n, 1, MAX_SAMPLES)
    noise = _check_noise(name, noise)
    seed = check_seed(seed)
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


# --- exact densities --------------------------------------------------------------------------

_LOG_2PI = math.log(2 * math.pi)
_SPIRAL_BOX = SPIRAL_JITTER / 3.0  # the uniform jitter, in final coordinates: U[0, w]^2
_NR_ERFC = (  # Numerical Recipes erfcc: Chebyshev fit, relative error < 1.2e-7 everywhere
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def _erfc_scaled(y: np.ndarray) -> np.ndarray:
    """erfc(y)·exp(y²) for y >= 0 (relative error < 1.2e-7; never under- or overflows)."""
    t = 1.0 / (1.0 + 0.5 * y)
    poly = np.full_like(y, _NR_ERFC[-1])
    for c in _NR_ERFC[-2::-1]:
        poly = c + t * poly
    return t * np.exp(poly)


def _box_gauss(y: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The density of b + e at distance y >= 0 from the box centre, b ~ U[−w/2, w/2], e ~ N(0, s²):

        g(y) = (1/w)[Φ((y + w/2)/s) − Φ((y − w/2)/s)] = (1/2w)[erfc(a₁) − erfc(a₂)],
        a₁ = (y − w/2)/(s√2), a₂ = (y + w/2)/(s√2),

    returned as (g·e^E, E) with E = max(a₁, 0)², so that far tails do not underflow.
    """
    w = _SPIRAL_BOX
    a1 = (y - w / 2) / (s * math.sqrt(2))
    a2 = (y + w / 2) / (s * math.sqrt(2))
    pos = a1 >= 0
    a1p = np.abs(a1)
    e1 = _erfc_scaled(a1p)
    # a1 >= 0: erfc(a1) e^{a1²} − erfc(a2) e^{a2²} e^{a1² − a2²};  a1 < 0: erfc(a1) = 2 − erfc(|a1|)
    first = np.where(pos, e1, 2.0 - e1 * np.exp(-(a1p**2)))
    second = _erfc_scaled(a2) * np.exp(np.where(pos, a1p**2, 0.0) - a2**2)
    return (first - second) / (2 * w), np.where(pos, a1p**2, 0.0)


def _log_i0(z: np.ndarray) -> np.ndarray:
    """log I_0(z) for z >= 0: numpy's i0 below 500, the asymptotic series above (error < 1e-13)."""
    small = z < 500
    out = np.empty_like(z)
    out[small] = np.log(np.i0(z[small]))
    zl = z[~small]
    u = 1.0 / (8.0 * zl)
    series = 1 + u * (1 + u * (9 / 2 + u * (225 / 6 + u * 11025 / 24)))
    out[~small] = zl - 0.5 * np.log(2 * math.pi * zl) + np.log(series)
    return out


def _gauss_legendre_panels(a: np.ndarray, b: np.ndarray, order: int = 8):
    """Nodes and weights of composite Gauss–Legendre on panels [a_i, b_i]."""
    x, w = np.polynomial.legendre.leggauss(order)
    half = (b - a)[:, None] / 2
    nodes = (a[:, None] + b[:, None]) / 2 + half * x
    return nodes.ravel(), (half * w).ravel()


# Quadrature resolution, in units of the kernel width s (checked by halving in the tests):
_PANEL_WIDTH = 2.0  # arc length of one 8-node Gauss–Legendre panel over the curve parameter
_GRID_STEP = 0.75  # step of the 2-D trapezoid grid used by ceiling()


def _curve(name: str, noise: float):
    """The curve mixture as quadrature nodes: centres m_i (M, 2), weights w_i (M,), width s.

    p(x) = Σ_i w_i K(x − m_i), Σ_i w_i = 1, with K = N(0, s² I) for moons and, for 2spirals,
    K(d) = g(|d_1|) g(|d_2|) the box ⊛ Gaussian density of `_box_gauss` (m_i is then the centre
    of the jitter box: the curve point + ±(w/2, w/2)). The nodes are composite 8-point
    Gauss–Legendre over the curve parameter t, panels of equal arc length _PANEL_WIDTH·s.
    """
    s = 2.0 * noise if name == "moons" else noise
    return (*_curve_nodes(name, _curve_panels(name, s)), s)


def _curve_panels(name: str, s: float) -> int:
    """How many panels of arc length _PANEL_WIDTH·s cover the curve (s may be inf)."""
    if name == "moons":
        return max(8, math.ceil(2 * math.pi / (_PANEL_WIDTH * s)))  # arc length 2π per moon
    if name == "2spirals":
        return max(16, math.ceil(_spiral_arc(SPIRAL_TURN) / (_PANEL_WIDTH * s)))
    raise AssertionError(name)


def _spiral_arc(t):
    """Arc length S(t) = (1/3)∫_0^t √(1+u²) du of the final spiral."""
    return (t * np.sqrt(1 + t**2) + np.arcsinh(t)) / 6


@functools.lru_cache(maxsize=64)
def _curve_nodes(name: str, panels: int, split: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The centres and weights of `_curve` on `panels` panels of equal arc length; for 2spirals
    the first `split` of them (the tight inner turns) are halved."""
    if name == "moons":
        edges = np.linspace(0.0, math.pi, panels + 1)
        t, w = _gauss_legendre_panels(edges[:-1], edges[1:])
        outer = np.stack([np.cos(t), np.sin(t)], 1)
        inner = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], 1)
        m = 2.0 * np.concatenate([outer, inner]) + np.array([-1.0, -0.2])
        return m, np.concatenate([w, w]) / (2 * math.pi)
    if name == "2spirals":
        tt = np.linspace(0.0, SPIRAL_TURN, 4001)
        arc = _spiral_arc(tt)
        edges = np.interp(np.linspace(0.0, arc[-1], panels + 1), arc, tt)
        halves = (edges[:split] + edges[1 : split + 1]) / 2
        edges = np.sort(np.concatenate([edges, halves]))
        t, w = _gauss_legendre_panels(edges[:-1], edges[1:])
        w = w * 2 * t / SPIRAL_TURN**2  # the density of t = 3π√v
        c = np.stack([-t * np.cos(t), t * np.sin(t)], 1) / 3 + _SPIRAL_BOX / 2
        return np.concatenate([c, -c]), np.concatenate([w, w]) / 2
    raise AssertionError(name)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    mx = np.max(a, axis=axis, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    return np.squeeze(mx, axis) + np.log(np.sum(np.exp(a - mx), axis=axis))


def _log_prob_moons(x: np.ndarray, noise: float) -> np.ndarray:
    """log p(x) = log Σ_i w_i N(x; m_i, s² I), s = 2·noise (the t-integral by quadrature)."""
    m, w, s = _curve("moons", noise)
    out = np.empty(len(x))
    chunk = max(1, 500_000 // len(m))
    for i in range(0, len(x), chunk):
        xc = x[i : i + chunk]
        d2 = (xc**2).sum(1)[:, None] - 2 * xc @ m.T + (m**2).sum(1)[None]
        out[i : i + chunk] = _logsumexp(np.log(w) - np.maximum(d2, 0.0) / (2 * s * s), axis=1)
    return out - _LOG_2PI - 2 * math.log(s)


def _log_prob_2spirals(x: np.ndarray, noise: float) -> np.ndarray:
    """log p(x) = log Σ_i w_i g(|x_1 − m_i1|) g(|x_2 − m_i2|) (see `_curve`, `_box_gauss`).

    Only nodes that can matter are evaluated: with E_i = Σ_j max(|x_j − m_ij| − w/2, 0)²/2s²
    (the Gaussian part of the exponent), node i is kept when √E_i ≤ √E_min + 7; the dropped
    ones weigh < e^−49 relative to the nearest one.
    """
    m, w, s = _curve("2spirals", noise)
    half = _SPIRAL_BOX / 2
    out = np.empty(len(x))
    chunk = max(1, 1_000_000 // len(m))
    for i in range(0, len(x), chunk):
        xc = x[i : i + chunk]
        d1 = np.abs(xc[:, None, 0] - m[None, :, 0])
        d2 = np.abs(xc[:, None, 1] - m[None, :, 1])
        e = (np.maximum(d1 - half, 0.0) ** 2 + np.maximum(d2 - half, 0.0) ** 2) / (2 * s * s)
        root = np.sqrt(e)
        ref = root.min(1)
        pt, node = np.nonzero(root <= ref[:, None] + 7.0)
        g1, e1 = _box_gauss(d1[pt, node], s)
        g2, e2 = _box_gauss(d2[pt, node], s)
        terms = w[node] * g1 * g2 * np.exp(ref[pt] ** 2 - e1 - e2)
        out[i : i + chunk] = np.log(np.bincount(pt, terms, minlength=len(xc))) - ref**2
    return out


def _log_prob_circles(x: np.ndarray, noise: float) -> np.ndarray:
    """p(x) = ½ Σ_R (1/2πs²) exp(−(ρ² + R²)/2s²) I_0(ρR/s²), s = 3·noise, R ∈ {3, 1.5}."""
    s2 = (3.0 * noise) ** 2
    rho = np.hypot(x[:, 0], x[:, 1])
    terms = [
        -math.log(2) - _LOG_2PI - math.log(s2) - (rho**2 + R**2) / (2 * s2) + _log_i0(rho * R / s2)
        for R in (3.0, 1.5)
    ]
    return np.logaddexp(*terms)


def _log_prob_8gaussians(x: np.ndarray, noise: float) -> np.ndarray:
    """p(x) = (1/8) Σ_k N(x; m_k/1.414, (noise/1.414)² I)."""
    s = noise / 1.414
    m = _gaussian_centres() / 1.414
    d2 = ((x[:, None, :] - m[None]) ** 2).sum(-1)
    return _logsumexp(-math.log(8) - _LOG_2PI - 2 * math.log(s) - d2 / (2 * s * s), axis=1)


def _log_prob_checkerboard(x: np.ndarray) -> np.ndarray:
    u = x / 2
    inside = (np.abs(u) < 2).all(1) & ((np.floor(u[:, 0]) + np.floor(u[:, 1])) % 2 == 0)
    return np.where(inside, -math.log(32), -np.inf)


_PINWHEEL_RHO_MAX = 10.0  # |x| > 20: the density is below e^-450 and returned as 0 (log −inf)


def _log_prob_pinwheel(x: np.ndarray, noise: float) -> np.ndarray:
    """Change of variables. Write u = x/2 in polar form (ρ, ψ) and (r, τ) = ρ(cos β, sin β):
    the map (r, τ) → u keeps the norm and sends the angle β to ψ = β − a(ρ cos β), a(r) =
    2πk/5 + 0.25 e^r. So the preimages are the roots β of φ(β) − ψ ∈ (2π/5)ℤ with
    φ(β) = β − 0.25 e^{ρ cos β} (all five arms at once), and

        p(x) = (1/5)(1/4) Σ_roots N(r; 1, 0.3²) N(τ; 0, noise²) / |φ'(β)|,
        φ'(β) = 1 + 0.25 ρ sin β e^{ρ cos β} = 1 + 0.25 e^r τ  (the Jacobian of (r, τ) → u).

    All roots are found: sin β e^{ρ cos β} has one minimum on (π, 2π), at cos β = c with
    ρc² + c − ρ = 0, so φ has at most two critical points and is monotone between them; on
    each monotone piece every level of ψ + (2π/5)ℤ in its range has one root, found by bisection.
    (Near a fold, φ' → 0, two preimages merge and p has an integrable singularity — a caustic.)
    """
    u = x / 2
    rho = np.hypot(u[:, 0], u[:, 1])
    psi = np.arctan2(u[:, 1], u[:, 0])
    out = np.full(len(x), -np.inf)
    ok = rho <= _PINWHEEL_RHO_MAX
    rho, psi, where = rho[ok], psi[ok], np.nonzero(ok)[0]
    rate, delta, two_pi = PINWHEEL_RATE, 2 * math.pi / PINWHEEL_ARMS, 2 * math.pi

    def phi(b, r_):
        return b - rate * np.exp(r_ * np.cos(b))

    def dphi(b, r_):
        return 1 + rate * r_ * np.sin(b) * np.exp(r_ * np.cos(b))

    # the minimum of φ' and, when it is negative, the two critical points around it
    safe = np.maximum(rho, 1e-12)
    c = (np.sqrt(1 + 4 * safe**2) - 1) / (2 * safe)
    b_min = two_pi - np.arccos(c)
    fold = dphi(b_min, rho) < 0
    b1, b2 = b_min.copy(), b_min.copy()
    rf = rho[fold]
    b1[fold] = _bisect(lambda b: -dphi(b, rf), np.full_like(rf, math.pi), b_min[fold])
    b2[fold] = _bisect(lambda b: dphi(b, rf), b_min[fold], np.full_like(rf, two_pi))
    ends = np.stack([np.zeros_like(rho), b1, b2, np.full_like(rho, two_pi)], 1)
    f_ends = phi(ends, rho[:, None])
    lo = np.minimum(f_ends[:, :-1], f_ends[:, 1:])
    hi = np.maximum(f_ends[:, :-1], f_ends[:, 1:])
    m_lo = np.ceil((lo - psi[:, None]) / delta)
    counts = np.maximum(np.ceil((hi - psi[:, None]) / delta) - m_lo, 0).astype(np.int64)
    per_point = counts.sum(1)
    start = 0
    while start < len(rho):  # chunks of at most ~10⁶ roots
        stop = start + max(1, int(np.searchsorted(np.cumsum(per_point[start:]), 1_000_000)))
        sl = slice(start, stop)
        cnt = counts[sl].ravel()
        n_roots = int(cnt.sum())
        piece = np.repeat(np.arange(cnt.size), cnt)
        rank = np.arange(n_roots) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        pt, j = piece // 3, piece % 3
        r_ = rho[sl][pt]
        target = psi[sl][pt] + delta * (m_lo[sl].ravel()[piece] + rank)
        a, b = ends[sl][pt, j], ends[sl][pt, j + 1]
        rising = f_ends[sl][pt, j + 1] >= f_ends[sl][pt, j]
        sign = np.where(rising, 1.0, -1.0)
        beta = _bisect(
            lambda t, s=sign, r=r_, v=target: s * (phi(t, r) - v),
            a,
            b,
            steps=16,
            dg=lambda t, s=sign, r=r_: s * dphi(t, r),
        )
        r, tau = r_ * np.cos(beta), r_ * np.sin(beta)
        lw = (
            -0.5 * ((r - 1) / PINWHEEL_RADIAL_STD) ** 2
            - 0.5 * (tau / noise) ** 2
            - np.log(np.abs(dphi(beta, r_)))
        )
        mx = np.full(stop - start, -np.inf)
        np.maximum.at(mx, pt, lw)
        acc = np.zeros(stop - start)
        np.add.at(acc, pt, np.exp(lw - mx[pt]))
        out[where[sl]] = mx + np.log(acc)
        start = stop
    const = _LOG_2PI + math.log(PINWHEEL_RADIAL_STD * noise) + math.log(PINWHEEL_ARMS * 4)
    return out - const


def _bisect(g, a, b, steps: int = 52, dg=None):
    """Vectorized root of an increasing g on [a, b] (elementwise): bisection, then, if the
    derivative dg is given, safeguarded Newton steps (a step leaving the bracket bisects)."""
    a, b = a.copy(), b.copy()
    for _ in range(steps):
        mid = 0.5 * (a + b)
        up = g(mid) > 0
        b = np.where(up, mid, b)
        a = np.where(up, a, mid)
    t = 0.5 * (a + b)
    if dg is not None:
        for _ in range(6):
            gt = g(t)
            b = np.where(gt > 0, t, b)
            a = np.where(gt > 0, a, t)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = t - gt / dg(t)
            t = np.where((step >= a) & (step <= b), step, 0.5 * (a + b))
    return t


def _check_points(x) -> np.ndarray:
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("x must be an array of 2-D points, shape (..., 2)") from None
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"x must have shape (..., 2), got {x.shape}")
    if x.size // 2 > MAX_SAMPLES:
        raise ValueError(f"x must hold at most {MAX_SAMPLES} points, got {x.size // 2}")
    if not np.isfinite(x).all():
        raise ValueError("x must be finite (no NaN or inf)")
    return x


def log_prob(name: str, x, noise: float | None = None) -> np.ndarray:
    """Exact log density log p(x) of dataset `name` at points x of shape (..., 2) → shape (...).

    float64, in nats; −inf off the checkerboard's support (and for the pinwheel beyond
    |x| = 20, where p < e^-450). noise=None means the default; noise must lie in
    NOISE_RANGE[name] (> 0, except checkerboard where it is ignored); at most MAX_SAMPLES points.
    Error in log p near the data: ~1e-12 (moons, circles, 8gaussians, pinwheel), ~1e-7
    (2spirals, limited by the erfc approximation). Cost follows the quadrature: 2spirals is the
    most expensive, then moons and pinwheel; the others are far cheaper (timings:
    docs/performance.md).
    """
    name = _check_name(name)
    noise = _check_noise(name, noise, density=True)
    x = _check_points(x)
    flat = x.reshape(-1, 2)
    if name == "moons":
        out = _log_prob_moons(flat, noise)
    elif name == "2spirals":
        out = _log_prob_2spirals(flat, noise)
    elif name == "circles":
        out = _log_prob_circles(flat, noise)
    elif name == "8gaussians":
        out = _log_prob_8gaussians(flat, noise)
    elif name == "pinwheel":
        out = _log_prob_pinwheel(flat, noise)
    else:
        out = _log_prob_checkerboard(flat)
    return out.reshape(x.shape[:-1])


# --- the ceiling E_p[log p] -------------------------------------------------------------------


def ceiling(name: str, noise: float | None = None) -> float:
    """E_{x~p}[log p(x)] = −H(p) in nats: the best expected log-likelihood any model can reach.

    Deterministic quadrature, cached per (name, noise):
      checkerboard  −ln 32 exactly;
      circles       a 1-D integral over the radius ρ (p is radial): ∫ 2πρ p log p dρ;
      pinwheel      E over the generating (r, τ) of one arm (the arms are rotations of each
                    other) of log p(x(r, τ)), by Gauss–Hermite quadrature;
      moons, 2spirals, 8gaussians   the 2-D trapezoid rule Σ h² p log p on a grid with step
                    h = 0.75 s (p is smooth at scale s: the rule converges like e^{−2π²s²/h²});
                    p is formed as K₁ diag(w) K₂ᵀ since each kernel factorizes over the axes.
    """
    name = _check_name(name)
    noise = _check_noise(name, noise, density=True)
    if name == "checkerboard":
        return -math.log(32)
    return _ceiling(name, noise)


@functools.lru_cache(maxsize=64)
def _ceiling(name: str, noise: float) -> float:
    if name == "circles":
        return _ceiling_circles(noise)
    if name == "pinwheel":
        return _ceiling_pinwheel(noise)
    p, h1, h2 = _density_grid(name, noise)
    pos = p[p > 1e-300]
    return float(h1 * h2 * np.sum(pos * np.log(pos)))


def _mixture_nodes(name: str, noise: float):
    """(centres, weights, s, pad) of a mixture whose kernel factorizes over the two axes."""
    if name == "8gaussians":
        s = noise / 1.414
        return _gaussian_centres() / 1.414, np.full(8, 1 / 8), s, 13 * s
    m, w, s = _curve(name, noise)
    return m, w, s, 13 * s + (_SPIRAL_BOX / 2 if name == "2spirals" else 0.0)


def _kernel_1d(name: str, z: np.ndarray, s: float) -> np.ndarray:
    if name == "2spirals":
        z = np.abs(z)
        near = z < _SPIRAL_BOX / 2 + 12 * s  # beyond: < e^-72 of the peak, set to 0
        g, e = _box_gauss(z[near], s)
        out = np.zeros_like(z)
        out[near] = g * np.exp(-e)
        return out
    return np.exp(-0.5 * (z / s) ** 2) / (s * math.sqrt(2 * math.pi))


def _density_grid(name: str, noise: float, step: float | None = None):
    """p on a grid covering the support (moons, 2spirals, 8gaussians): (p[a, b], h1, h2) with
    p[a, b] = p(x1_a, x2_b) = Σ_i w_i K(x1_a − m_i1) K(x2_b − m_i2)."""
    m, w, s, pad = _mixture_nodes(name, noise)
    h = (_GRID_STEP if step is None else step) * s
    axes = []
    for j in range(2):
        lo, hi = m[:, j].min() - pad, m[:, j].max() + pad
        k = math.ceil((hi - lo) / h)
        axes.append(lo + h * np.arange(k + 1))
    k1 = _kernel_1d(name, axes[0][:, None] - m[None, :, 0], s)
    k2 = _kernel_1d(name, axes[1][:, None] - m[None, :, 1], s)
    return (k1 * w) @ k2.T, h, h


def _ceiling_circles(noise: float) -> float:
    s = 3.0 * noise
    hi = 3.0 + 14 * s
    edges = np.linspace(0.0, hi, math.ceil(hi / (0.5 * s)) + 1)
    rho, w = _gauss_legendre_panels(edges[:-1], edges[1:])
    lp = _log_prob_circles(np.stack([rho, np.zeros_like(rho)], 1), noise)
    p = np.exp(lp)
    return float(np.sum(w * 2 * math.pi * rho * p * lp))


def _ceiling_pinwheel(noise: float) -> float:
    """E over arm 0's (r, τ) of log p(x(r, τ)): the trapezoid rule in z = (r − 1)/0.3 on
    [−9, 9] with step 0.1 (it resolves where the five arms meet, r ≈ 0, at any noise) times
    32-node Gauss–Hermite in τ. Refining either changes the result by < 2e-6 for noise ≤ 0.2."""
    dz = 0.1
    z = np.arange(-9.0, 9.0 + dz / 2, dz)
    wz = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) * dz
    y, wy = np.polynomial.hermite_e.hermegauss(32)
    wy = wy / math.sqrt(2 * math.pi)
    r = 1.0 + PINWHEEL_RADIAL_STD * z[:, None]
    tau = noise * y[None, :]
    a = PINWHEEL_RATE * np.exp(r)  # arm k = 0
    x = 2.0 * np.stack([r * np.cos(a) + tau * np.sin(a), -r * np.sin(a) + tau * np.cos(a)], -1)
    lp = _log_prob_pinwheel(x.reshape(-1, 2), noise).reshape(r.shape[0], -1)
    return float(np.sum(wz[:, None] * wy[None, :] * lp))
