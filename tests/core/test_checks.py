"""Animation paths (reparam_core.transforms) and sample checks (reparam_core.checks)."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from reparam_core import checks
from reparam_core import transforms as T

# ------------------------------------------------------------------------- affine paths


@pytest.mark.parametrize("mu,sigma", [(2.0, 0.6), (-1.5, 2.0), (0.0, 1.0)])
def test_standardize_path_moves_x_to_standardized_y_in_two_stages(mu, sigma):
    k = 5
    path = T.standardize_path(mu, sigma, k)
    x = T.Normal(mu, sigma).sample(50, seed=3)
    pos = path.positions(x)
    assert len(path) == pos.shape[0] == 2 * k + 1
    np.testing.assert_allclose(pos[0], x, atol=1e-12)
    np.testing.assert_allclose(pos[k], x - mu, atol=1e-12)  # end of the shift stage
    np.testing.assert_allclose(pos[-1], (x - mu) / sigma, rtol=1e-12, atol=1e-12)
    t = np.linspace(0, 1, k + 1)
    # Closed-form laws: shift stage N((1 − t)μ, σ²), scale stage N(0, σ^(2(1 − t))).
    np.testing.assert_allclose(path.means()[: k + 1], (1 - t) * mu, atol=1e-12)
    np.testing.assert_allclose(path.sds()[: k + 1], sigma)
    np.testing.assert_allclose(path.means()[k:], 0.0, atol=1e-12)
    np.testing.assert_allclose(path.sds()[k:], sigma ** (1 - t), rtol=1e-12)
    assert path.stage == ["shift"] * (k + 1) + ["scale"] * k


@pytest.mark.parametrize("mu,sigma", [(2.0, 0.6), (-1.5, 2.0)])
def test_reparameterize_path_moves_eps_to_mu_plus_sigma_eps(mu, sigma):
    k = 4
    path = T.reparameterize_path(mu, sigma, k)
    eps = np.random.default_rng(0).standard_normal(40)
    pos = path.positions(eps)
    np.testing.assert_allclose(pos[0], eps)
    np.testing.assert_allclose(pos[k], sigma * eps, rtol=1e-12)
    np.testing.assert_allclose(pos[-1], mu + sigma * eps, rtol=1e-12)
    t = np.linspace(0, 1, k + 1)
    np.testing.assert_allclose(path.sds()[: k + 1], sigma**t, rtol=1e-12)
    np.testing.assert_allclose(path.means()[k:], t * mu, atol=1e-12)


def test_frame_laws_match_the_moved_samples_statistically():
    """Each frame's stated law N(m_k, s_k²) is the law of the moved samples: z-scores of the mean
    (sd s_k/√n) and of the variance (sd s_k²·√(2/(n−1))) stay below 4.5 (Bonferroni over frames)."""
    mu, sigma, n = 1.2, 1.7, 40_000
    path = T.standardize_path(mu, sigma, 6)
    pos = path.positions(T.Normal(mu, sigma).sample(n, seed=11))
    m, s = path.means(), path.sds()
    z_mean = (pos.mean(axis=1) - m) / (s / math.sqrt(n))
    z_var = (pos.var(axis=1, ddof=1) - s**2) / (s**2 * math.sqrt(2 / (n - 1)))
    assert np.all(np.abs(z_mean) < 4.5) and np.all(np.abs(z_var) < 4.5)


@pytest.mark.parametrize("bad", [0, -1, 101, 2.5, True, "3"])
def test_frames_per_stage_validated(bad):
    with pytest.raises(ValueError, match="frames_per_stage"):
        T.standardize_path(0.0, 1.0, bad)


@pytest.mark.parametrize("sigma", [0.0, -1.0, math.nan, math.inf])
def test_paths_reject_bad_sigma(sigma):
    for make in (T.standardize_path, T.reparameterize_path):
        with pytest.raises(ValueError, match="sigma"):
            make(0.0, sigma)


# ------------------------------------------------------------------------- checks


def test_histogram_heights_hand_checked():
    h = checks.histogram_heights([0.1, 0.2, 0.6, 5.0], [0.0, 0.5, 1.0])
    # 2 of 4 samples in [0, 0.5): 0.5 / 0.5 = 1; 1 of 4 in [0.5, 1): 0.25 / 0.5 = 0.5.
    np.testing.assert_allclose(h, [1.0, 0.5])
    with pytest.raises(ValueError, match="samples"):
        checks.histogram_heights([], [0, 1])
    with pytest.raises(ValueError, match="edges"):
        checks.histogram_heights([0.5], [1, 0])


def test_bin_average_density_is_the_integral_of_the_density():
    d = T.TransformedDensity(T.Normal(0.3, 0.8), T.Sinh())
    edges = np.linspace(-2, 3, 11)
    avg = checks.bin_average_density(d.cdf, edges)
    ref = stats.johnsonsu(a=-0.3 / 0.8, b=1 / 0.8)
    for j, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        assert avg[j] == pytest.approx(integrate.quad(ref.pdf, a, b)[0] / (b - a), rel=1e-9)


@pytest.mark.parametrize("name", ["standardize", "exp", "sigmoid", "sinh"])
def test_central_edges_hold_the_stated_mass(name):
    h = T.Standardize(0.5, 1.5) if name == "standardize" else T.get(name)
    d = T.TransformedDensity(T.Normal(0.5, 1.5), h)
    edges = checks.central_edges(d, bins=20, mass=0.99)
    assert len(edges) == 21
    z = stats.norm.ppf(0.995)
    lo, hi = sorted(h.forward(np.array([0.5 - z * 1.5, 0.5 + z * 1.5])))
    assert edges[0] == pytest.approx(lo, rel=1e-9) and edges[-1] == pytest.approx(hi, rel=1e-9)


@pytest.mark.parametrize("name", ["standardize", "exp", "sigmoid", "sinh"])
def test_agreement_vs_n_matches_scipy_and_its_error_bounds(name):
    mu, sigma, seed = 0.4, 0.9, 5
    h = T.Standardize(mu, sigma) if name == "standardize" else T.get(name)
    d = T.TransformedDensity(T.Normal(mu, sigma), h)
    ns = (10, 100, 1000, 10_000, 100_000)
    r = checks.agreement_vs_n(d, ns, seed=seed, bins=20)
    y = d.sample(max(ns), seed)
    # KS: same numbers as scipy, and √n·D_n below the Kolmogorov 0.999 quantile at every n.
    for n, ks in zip(ns, r["ks"], strict=True):
        ref = stats.kstest(y[:n], lambda v: stats.norm.cdf(h.inverse(v), mu, sigma)).statistic
        assert ks == pytest.approx(ref, abs=1e-12)
    assert np.all(np.sqrt(r["n"]) * r["ks"] < stats.kstwobign.ppf(0.999))
    # Density error: each bin count is Binomial(n, p_j) with p_j from scipy's CDF; every count stays
    # inside its exact two-sided binomial quantiles (Bonferroni over bins and n, 0.1% in total).
    edges = r["edges"]
    p = np.diff(stats.norm.cdf(h.inverse(edges), mu, sigma))
    alpha = 0.001 / (len(p) * len(ns))
    for n, err in zip(ns, r["density_error"], strict=True):
        heights = checks.histogram_heights(y[:n], edges)
        expected = p / np.diff(edges)
        assert err == pytest.approx(np.max(np.abs(heights - expected)), rel=1e-9, abs=1e-15)
        counts = np.round(heights * n * np.diff(edges))
        assert np.all(counts >= stats.binom.ppf(alpha / 2, n, p))
        assert np.all(counts <= stats.binom.isf(alpha / 2, n, p))
    np.testing.assert_allclose(r["ks_ref"], 0.8687 / np.sqrt(r["n"]), rtol=1e-4)


def test_agreement_detects_a_wrong_density():
    """Power: draws of exp(N(0, 1)) checked against exp(N(0.1, 1)) fail the KS bound at n = 10⁵."""
    right = T.TransformedDensity(T.Normal(0.0, 1.0), T.Exp())
    wrong = T.TransformedDensity(T.Normal(0.1, 1.0), T.Exp())
    y = right.sample(100_000, seed=2)
    assert math.sqrt(y.size) * T.ks_distance(y, wrong.cdf) > stats.kstwobign.ppf(0.999)


def test_agreement_validates_n():
    d = T.TransformedDensity(T.Normal(), T.Exp())
    with pytest.raises(ValueError, match="n must"):
        checks.agreement_vs_n(d, (10, 0))
    with pytest.raises(ValueError, match="ns"):
        checks.agreement_vs_n(d, ())
