"""reparam_core.diffusion: schedules against their closed forms, the forward sample against its
moments, and the noised densities q_t against the data (ᾱ = 1), N(0, I) (ᾱ = 0), their own
integral, Monte Carlo histograms of x_t = a x_0 + b ε, finite differences and Stein/Tweedie
identities of the score, finer quadrature, and a Gauss–Hermite blur of toy_data's density."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import special, stats

from reparam_core import diffusion as D
from reparam_core import toy_data as td

ALL = td.DATASETS
LOG_2PI = math.log(2 * math.pi)


def _ab(a_bar):
    return math.sqrt(a_bar), math.sqrt(1 - a_bar)


def _noised_samples(name, a_bar, n, seed):
    """(x_0, ε, x_t = a x_0 + b ε): the Monte Carlo side, from toy_data's sampler."""
    a, b = _ab(a_bar)
    x0 = td.sample(name, n, seed=seed).astype(np.float64)
    eps = np.random.default_rng(seed + 1000).standard_normal(x0.shape)
    return x0, eps, a * x0 + b * eps


def _width(name, a_bar):
    """The narrowest feature of q (what a grid or a finite difference must resolve)."""
    a, b = _ab(a_bar)
    s = {"moons": 0.2, "circles": 0.24, "8gaussians": 0.5 / 1.414, "2spirals": 0.1}.get(name)
    return b if s is None else math.sqrt(a * a * s * s + b * b)


# --- schedules ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", D.SCHEDULES)
@pytest.mark.parametrize("T", [10, 50, 100, 1000])
def test_alpha_bar_starts_at_one_and_decreases(name, T):
    s = D.schedule(name, T)
    assert s.alpha_bar.shape == (T + 1,) and s.beta.shape == (T,)
    assert s.alpha_bar[0] == 1.0
    assert np.all(np.diff(s.alpha_bar) < 0)
    assert np.all((s.beta > 0) & (s.beta <= D.COSINE_BETA_MAX))


@pytest.mark.parametrize("T", [10, 100, 1000])
def test_linear_schedule_closed_forms(T):
    s = D.schedule("linear", T)
    beta = [1e-4 + (0.02 - 1e-4) * (t - 1) / (T - 1) for t in range(1, T + 1)]
    assert s.alpha_bar[1] == pytest.approx(1 - 1e-4, abs=1e-15)
    assert s.alpha_bar[T] == pytest.approx(math.prod(1 - bt for bt in beta), rel=1e-12)
    mu, sigma = s.mu_sigma(T)
    assert mu == pytest.approx(math.sqrt(s.alpha_bar[T])) and mu**2 + sigma**2 == pytest.approx(1)


@pytest.mark.parametrize("T", [10, 100, 1000])
def test_cosine_alpha_bar_is_f_ratio_where_beta_is_not_clipped(T):
    s = D.schedule("cosine", T)

    def f(t):
        return math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2

    clipped = [t for t in range(1, T + 1) if 1 - f(t) / f(t - 1) > D.COSINE_BETA_MAX]
    first = clipped[0] if clipped else T + 1
    assert first > T // 2  # the clip only touches the last steps
    for t in range(first):
        assert s.alpha_bar[t] == pytest.approx(f(t) / f(0), rel=1e-12, abs=1e-15)


def test_ends_in_noise_flags_the_short_linear_schedule():
    short = D.schedule("linear", 50)
    beta = np.linspace(1e-4, 0.02, 50)
    assert short.sqrt_alpha_bar_T == pytest.approx(math.exp(0.5 * np.log1p(-beta).sum()))
    assert short.sqrt_alpha_bar_T == pytest.approx(0.78, abs=0.01)
    assert not short.ends_in_noise
    for name, T in [("cosine", 10), ("cosine", 100), ("cosine", 1000), ("linear", 1000)]:
        s = D.schedule(name, T)
        assert s.ends_in_noise and s.sqrt_alpha_bar_T <= D.END_NOISE_TOL, (name, T)


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: D.schedule("quadratic", 100), "schedule"),
        (lambda: D.schedule(None, 100), "schedule"),
        (lambda: D.schedule("cosine", 5), "T"),
        (lambda: D.schedule("cosine", 2000), "T"),
        (lambda: D.schedule("cosine", 10.5), "T"),
        (lambda: D.schedule("cosine", 100).mu_sigma(-1), "t"),
        (lambda: D.schedule("cosine", 100).mu_sigma(101), "t"),
        (lambda: D.schedule("cosine", 100).snr(1.5), "t"),
    ],
)
def test_schedule_arguments_are_checked(call, param):
    with pytest.raises(ValueError, match=rf"^{param}\b"):
        call()


# --- forward_sample -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "t"), [("cosine", 1), ("cosine", 40), ("linear", 70)])
def test_forward_sample_has_the_moments_of_q_xt_given_x0(name, t):
    s = D.schedule(name, 100)
    n = 200_000
    x0 = np.tile([1.5, -2.0], (n, 1))
    xt, eps = D.forward_sample(x0, t, s, seed=3)
    ab = s.alpha_bar[t]
    mean, var = math.sqrt(ab) * x0[0], 1 - ab
    assert np.allclose(xt, math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps, rtol=0, atol=1e-14)
    se_mean, se_var = math.sqrt(var / n), var * math.sqrt(2 / n)
    assert np.all(np.abs(xt.mean(0) - mean) < 5 * se_mean)
    assert np.all(np.abs(xt.var(0) - var) < 5 * se_var)


def test_forward_sample_per_point_steps_and_given_eps():
    s = D.schedule("linear", 100)
    x0 = np.ones((3, 2))
    eps = np.full((3, 2), 0.5)
    xt, e = D.forward_sample(x0, np.array([0, 50, 100]), s, eps=eps)
    mu, sigma = s.mu_sigma(np.array([0, 50, 100]))
    assert np.array_equal(e, eps)
    assert np.allclose(xt, mu[:, None] + 0.5 * sigma[:, None], rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="^eps"):
        D.forward_sample(x0, 1, s, eps=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="^x0"):
        D.forward_sample(np.array([[np.nan, 0.0]]), 1, s)


# --- the ends: ᾱ = 1 is the data, ᾱ = 0 is N(0, I) -----------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_alpha_bar_one_is_the_data_density(name):
    rng = np.random.default_rng(0)
    x = td.sample(name, 400, seed=5).astype(np.float64) + 0.1 * rng.standard_normal((400, 2))
    x = np.concatenate([x, rng.uniform(-6, 6, (200, 2))])
    ref = td.log_prob(name, x)
    got = D.noised_log_prob(name, x, 1.0)
    assert np.array_equal(np.isfinite(got), np.isfinite(ref))
    fin = np.isfinite(ref) & (ref > -20)  # beyond, toy_data's curve quadrature loses digits
    # 2spirals: toy_data's erfc has relative error 1.2e-7 (Numerical Recipes); ours ~1e-13
    tol = 5e-7 if name == "2spirals" else 1e-12
    assert np.abs(got[fin] - ref[fin]).max() < tol


@pytest.mark.parametrize("name", ["moons", "circles", "8gaussians", "2spirals", "checkerboard"])
def test_alpha_bar_near_one_tends_to_the_data_density(name):
    b = 1e-5  # q(x) = p(x/a)/a² (1 + O(b²/s²)): where p is smooth on its scale s
    x = td.sample(name, 300, seed=6).astype(np.float64)
    if name == "checkerboard":  # away from the cell edges
        u = x / 2
        x = x[np.min(np.abs(u - np.round(u)), axis=1) > 0.01]
    a_bar = 1 - b * b
    ref = td.log_prob(name, x / math.sqrt(a_bar)) - math.log(a_bar)
    got = D.noised_log_prob(name, x, a_bar)
    assert np.abs(got - ref).max() < (5e-7 if name == "2spirals" else 1e-7)


@pytest.mark.parametrize("name", ALL)
def test_alpha_bar_zero_is_the_standard_normal(name):
    x = np.random.default_rng(1).normal(0, 2.5, (500, 2))
    ref = -LOG_2PI - 0.5 * (x**2).sum(1)
    assert np.abs(D.noised_log_prob(name, x, 0.0) - ref).max() < 1e-12
    assert np.abs(D.noised_score(name, x, 0.0) + x).max() < 1e-12


@pytest.mark.parametrize("name", ALL)
def test_shapes_dtype_and_points_far_from_the_data(name):
    x = np.array([[[40.0, -40.0], [0.0, 0.0]], [[-3.0, 1.0], [1e3, 2e3]]])
    for a_bar in (0.999, 0.5):
        lq = D.noised_log_prob(name, x, a_bar)
        s = D.noised_score(name, x, a_bar)
        assert lq.shape == (2, 2) and s.shape == (2, 2, 2) and lq.dtype == np.float64
        assert np.isfinite(lq).all() and np.isfinite(s).all()  # log-sum-exp: no underflow
        far = x[[0, 1], [0, 1]]
        assert np.all((far * s[[0, 1], [0, 1]]).sum(-1) < 0)  # pointing back to the data
    assert D.noised_log_prob(name, np.zeros((0, 2)), 0.5).shape == (0,)
    assert D.noised_score(name, np.zeros((0, 2)), 0.5).shape == (0, 2)


# --- q integrates to 1 and matches a Monte Carlo histogram ------------------------------------------

A_BARS = (0.999, 0.9, 0.5, 0.1, 0.0)
# the pinwheel's narrowest feature is b wide: 0.97 is the sharpest grid this file can afford;
# smaller b is covered by the Gauss–Hermite check and finer panels below
PIN_A_BARS = (0.97, 0.9, 0.5, 0.1, 0.0)
BINS = 12  # per axis
# half-width of a square holding all but < 1e-7 of each dataset (its support + ~5 of its widths)
REACH = {
    "moons": 4.0,
    "circles": 4.3,
    "8gaussians": 4.7,
    "pinwheel": 5.6,
    "2spirals": 3.9,
    "checkerboard": 4.0,
}


@functools.lru_cache(maxsize=32)  # one per (dataset, ᾱ) case
def _binned(name, a_bar):
    """Bin edges on [−L, L]² and ∫_bin q for each bin: Gauss–Legendre panels = bins, ≥ 2.5 nodes
    per feature width (the composite rule then integrates a Gaussian feature to ~1e-9)."""
    a, b = _ab(a_bar)
    half = REACH[name] * a + 7 * b  # the data scaled by a, and 7 widths of the added noise
    edges = np.linspace(-half, half, BINS + 1)
    m = max(6, math.ceil(2.5 * (edges[1] - edges[0]) / _width(name, a_bar)))
    xi, w = np.polynomial.legendre.leggauss(m)
    h = (edges[1] - edges[0]) / 2
    nodes = ((edges[:-1] + h)[:, None] + h * xi).ravel()
    weights = np.tile(h * w, BINS)
    pts = np.stack(np.meshgrid(nodes, nodes, indexing="ij"), -1).reshape(-1, 2)
    q = np.exp(D.noised_log_prob(name, pts, a_bar)).reshape(len(nodes), len(nodes))
    mass = (weights[:, None] * weights[None] * q).reshape(BINS, m, BINS, m).sum((1, 3))
    return edges, mass


def _cases():
    return [(n, ab) for n in ALL for ab in (PIN_A_BARS if n == "pinwheel" else A_BARS)]


@pytest.mark.parametrize(("name", "a_bar"), _cases())
def test_q_integrates_to_one(name, a_bar):
    _, mass = _binned(name, a_bar)
    assert abs(mass.sum() - 1) < 1e-6  # the domain leaves out < 1e-7; the rule errs < 1e-8


@pytest.mark.parametrize(("name", "a_bar"), _cases())
def test_q_matches_a_monte_carlo_histogram_of_xt(name, a_bar):
    edges, mass = _binned(name, a_bar)
    n = 100_000
    _, _, xt = _noised_samples(name, a_bar, n, seed=11)
    counts, _, _ = np.histogram2d(xt[:, 0], xt[:, 1], bins=[edges, edges])
    observed = np.append(counts.ravel(), n - counts.sum())
    expected = n * np.append(mass.ravel(), max(1 - mass.sum(), 0.0))
    big = expected >= 5  # Pearson's χ², the sparse bins pooled (into the last big one if few)
    obs, exp = observed[big], expected[big]
    rest = (observed[~big].sum(), expected[~big].sum())
    if rest[1] >= 5:
        obs, exp = np.append(obs, rest[0]), np.append(exp, rest[1])
    else:
        obs[-1] += rest[0]
        exp[-1] += rest[1]
    chi2 = ((obs - exp) ** 2 / exp).sum()
    assert len(exp) > 10
    assert stats.chi2.sf(chi2, len(exp) - 1) > 1e-4, (chi2, len(exp))


# --- the score ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("a_bar", [0.9999, 0.999, 0.9, 0.5, 0.1])
def test_score_matches_central_differences_of_log_q(name, a_bar):
    _, _, xt = _noised_samples(name, a_bar, 150, seed=21)
    x = np.concatenate([xt, np.random.default_rng(2).uniform(-4, 4, (50, 2))])
    lq = D.noised_log_prob(name, x, a_bar)
    x = x[lq > lq.max() - 30]  # far out, |log q| in the hundreds, the differences lose digits
    w = _width(name, a_bar)
    h = 1e-4 * w  # truncation error ~(h/w)² of the score
    fd = np.stack(
        [
            (D.noised_log_prob(name, x + h * e, a_bar) - D.noised_log_prob(name, x - h * e, a_bar))
            / (2 * h)
            for e in np.eye(2)
        ],
        1,
    )
    s = D.noised_score(name, x, a_bar)
    err = np.linalg.norm(s - fd, axis=1) / (np.linalg.norm(fd, axis=1) + 1 / w)
    assert err.max() < 1e-7, err.max()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("a_bar", [0.99, 0.9, 0.5, 0.1])
def test_score_has_the_stein_and_denoising_identities(name, a_bar):
    """Integration by parts under q: E[s] = 0 and E[x·s] = −2 (d = 2). Denoising: s(x_t) =
    E[−ε/b | x_t], so E[s·ε/b + |s|²] = 0 — the score of the law of x_t itself."""
    n = 10_000
    _, eps, xt = _noised_samples(name, a_bar, n, seed=31)
    _, b = _ab(a_bar)
    s = D.noised_score(name, xt, a_bar)
    for vals, target in [
        (s[:, 0], 0.0),
        (s[:, 1], 0.0),
        ((xt * s).sum(1), -2.0),
        ((s * eps).sum(1) / b + (s * s).sum(1), 0.0),
    ]:
        se = vals.std() / math.sqrt(n)
        assert abs(vals.mean() - target) < 5 * se, (vals.mean(), target, se)


@pytest.mark.parametrize("a_bar", [0.999, 0.9, 0.5, 0.1])
def test_tweedie_posterior_mean_of_8gaussians(a_bar):
    """E[x_0 | x_t] = (x_t + b² s)/a against the posterior of the mixture: component k has
    responsibility ∝ N(x_t; a m_k, a²s² + b²) and mean (m_k/s² + a x_t/b²)/(1/s² + a²/b²)."""
    a, b = _ab(a_bar)
    s2 = (0.5 / 1.414) ** 2
    m = 4 * np.stack([np.cos(np.arange(8) * math.pi / 4), np.sin(np.arange(8) * math.pi / 4)], 1)
    m = m / 1.414
    _, _, xt = _noised_samples("8gaussians", a_bar, 500, seed=41)
    var = a * a * s2 + b * b
    logr = -((xt[:, None, :] - a * m[None]) ** 2).sum(-1) / (2 * var)
    r = special.softmax(logr, axis=1)
    post = (m[None] / s2 + a * xt[:, None, :] / (b * b)) / (1 / s2 + a * a / (b * b))
    ref = (r[:, :, None] * post).sum(1)
    got = (xt + b * b * D.noised_score("8gaussians", xt, a_bar)) / a
    assert np.abs(got - ref).max() < 1e-10


# --- the quadratures: finer nodes change nothing; an independent blur agrees ----------------------


@pytest.mark.parametrize("name", ["moons", "2spirals"])
@pytest.mark.parametrize("a_bar", [0.99, 0.8, 0.5])
def test_curve_nodes_rebuilt_for_the_wider_kernel_are_converged(name, a_bar, monkeypatch):
    _, _, xt = _noised_samples(name, a_bar, 300, seed=51)
    x = np.concatenate([xt, np.random.default_rng(3).uniform(-4, 4, (100, 2))])
    lq, s = D.noised_log_prob(name, x, a_bar), D.noised_score(name, x, a_bar)
    panels = td._curve_panels
    monkeypatch.setattr(td, "_curve_panels", lambda n, w: 4 * panels(n, w))
    fine, fine_s = D.noised_log_prob(name, x, a_bar), D.noised_score(name, x, a_bar)
    near = fine > -20  # beyond, the integrand along the curve narrows (as in toy_data)
    assert near.sum() > 300
    assert np.abs(lq - fine)[near].max() < 1e-9
    rel = np.linalg.norm(s - fine_s, axis=1) / (
        np.linalg.norm(fine_s, axis=1) + 1 / _width(name, a_bar)
    )
    assert rel[near].max() < 1e-9


@pytest.mark.parametrize(("noise", "b"), [(0.2, 0.0064), (0.1, 0.01), (0.025, 0.03), (0.1, 0.3)])
def test_pinwheel_panels_are_converged(noise, b, monkeypatch):
    a_bar = 1 - b * b
    a = math.sqrt(a_bar)
    x0 = td.sample("pinwheel", 100, noise=noise, seed=61).astype(np.float64)
    x = a * x0 + b * np.random.default_rng(4).standard_normal(x0.shape)
    x = np.concatenate([x, np.random.default_rng(5).uniform(-6, 6, (60, 2))])
    lq = D.noised_log_prob("pinwheel", x, a_bar, noise)
    s = D.noised_score("pinwheel", x, a_bar, noise)
    D._pinwheel_nodes.cache_clear()
    monkeypatch.setattr(D, "_PIN_PANEL", 1.5)  # nodes ~2.7× closer, cap lifted
    monkeypatch.setattr(D, "_PIN_MAX_PANELS", 10**6)
    fine = D.noised_log_prob("pinwheel", x, a_bar, noise)
    fine_s = D.noised_score("pinwheel", x, a_bar, noise)
    D._pinwheel_nodes.cache_clear()
    near = fine > -30  # the documented range; beyond, the integrand in r narrows further
    assert near.sum() > 100
    assert np.abs(lq - fine)[near].max() < 1e-8
    rel = np.linalg.norm(s - fine_s, axis=1) / np.linalg.norm(fine_s, axis=1)
    assert rel[near].max() < 1e-7


@pytest.mark.parametrize(("noise", "b"), [(0.1, 0.0064), (0.1, 0.0316), (0.2, 0.01)])
def test_pinwheel_matches_a_gauss_hermite_blur_of_the_data_density(noise, b):
    """q(x) = E_ε[p((x − bε)/a)]/a², with toy_data's exact p (its own root-finding route):
    12×12 Gauss–Hermite nodes resolve a blur of width b ≤ 0.03 over p's scale ≥ 0.2·noise/0.1."""
    a_bar = 1 - b * b
    a = math.sqrt(a_bar)
    x0 = td.sample("pinwheel", 60, noise=noise, seed=71).astype(np.float64)
    x = a * x0 + b * np.random.default_rng(6).standard_normal(x0.shape)
    z, wz = np.polynomial.hermite_e.hermegauss(12)
    wz = wz / wz.sum()
    eps = np.stack(np.meshgrid(z, z, indexing="ij"), -1).reshape(-1, 2)
    w2 = np.outer(wz, wz).ravel()
    pts = (x[:, None, :] - b * eps[None]) / a
    lp = td.log_prob("pinwheel", pts.reshape(-1, 2), noise).reshape(len(x), -1)
    ref = special.logsumexp(lp, b=w2[None], axis=1) - math.log(a_bar)
    got = D.noised_log_prob("pinwheel", x, a_bar, noise)
    assert np.abs(got - ref).max() < 1e-6


# --- special functions against scipy --------------------------------------------------------------


def test_erfcx_and_the_bessel_ratio_against_scipy():
    y = np.concatenate([np.linspace(0, 30, 30001), np.geomspace(30, 1e12, 200)])
    assert np.abs(D._erfcx(y) / special.erfcx(y) - 1).max() < 1e-13
    z = np.concatenate([np.linspace(1e-6, 60, 30001), np.geomspace(60, 1e9, 200)])
    ref = special.i1e(z) / (z * special.i0e(z))
    assert np.abs(D._bessel_ratio(z) / ref - 1).max() < 1e-14
    assert D._bessel_ratio(np.zeros(1))[0] == 0.5


@pytest.mark.parametrize(("w", "s"), [(1 / 6, 0.1), (0.05, 0.7), (2.0, 0.01), (1e-9, 1.0)])
def test_box_kernel_against_scipy(w, s):
    y = np.linspace(0, w / 2 + 10 * s, 2001)
    lo, hi = special.log_ndtr(-(y - w / 2) / s), special.log_ndtr(-(y + w / 2) / s)
    ref = lo + np.log(-np.expm1(hi - lo)) - math.log(w)
    slope = (
        np.exp(-0.5 * ((y + w / 2) / s) ** 2 - ref) - np.exp(-0.5 * ((y - w / 2) / s) ** 2 - ref)
    ) / (w * s * math.sqrt(2 * math.pi))
    if w < 1e-6:  # scipy's difference cancels; the box is a point: N(0, s²)
        ref = -0.5 * (y / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
        slope = -y / s**2
    for fn in (D._log_box_gauss, D._log_box_gauss_fast):
        lg, dl = fn(y, w, s)
        assert np.abs(lg - ref).max() < 1e-11
        assert np.abs(dl - slope).max() < 1e-10 / s


# --- invalid arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [D.noised_log_prob, D.noised_score])
@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"name": "swiss roll"}, "name"),
        ({"name": None}, "name"),
        ({"x": np.zeros((3, 3))}, "x"),
        ({"x": np.array([[np.nan, 0.0]])}, "x"),
        ({"x": "points"}, "x"),
        ({"alpha_bar": -0.1}, "alpha_bar"),
        ({"alpha_bar": 1.5}, "alpha_bar"),
        ({"alpha_bar": math.nan}, "alpha_bar"),
        ({"alpha_bar": "0.5"}, "alpha_bar"),
        ({"alpha_bar": None}, "alpha_bar"),
        ({"alpha_bar": True}, "alpha_bar"),
        ({"noise": -0.1}, "noise"),
        ({"noise": 5.0}, "noise"),
        ({"noise": 0.001}, "noise"),  # below the density's range
        ({"noise": math.inf}, "noise"),
    ],
)
def test_invalid_arguments_raise_naming_the_parameter(fn, kwargs, param):
    call = {"name": "moons", "x": np.zeros((2, 2)), "alpha_bar": 0.5, "noise": None} | kwargs
    with pytest.raises(ValueError, match=rf"^{param}\b"):
        fn(**call)


@pytest.mark.parametrize("name", ["checkerboard", "pinwheel"])
def test_no_score_at_alpha_bar_one_where_the_data_has_none(name):
    with pytest.raises(ValueError, match=r"^alpha_bar\b"):
        D.noised_score(name, np.zeros((2, 2)), 1.0)
    assert np.isfinite(D.noised_score(name, np.ones((2, 2)), 1 - 1e-6)).all()
