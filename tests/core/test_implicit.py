"""reparam_core.implicit against scipy special functions, closed forms, torch and z-scores."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from reparam_core import functions as F
from reparam_core import implicit as im


def gf(name):
    """The Gamma-family test function `name`."""
    return F.get(name, family="gamma")


ALPHAS = [0.1, 0.5, 1.0, 2.5, 10.0, 80.0]


def test_digamma_trigamma_against_scipy():
    x = np.array([0.05, 0.3, 1.0, 2.5, 5.99, 6.0, 17.0, 150.0])
    np.testing.assert_allclose(im.digamma(x), special.digamma(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(im.trigamma(x), special.polygamma(1, x), rtol=1e-11)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_cdf_and_log_prob_against_scipy(alpha):
    z = np.array(
        [1e-6, 0.01, 0.3, alpha * 0.5, alpha, alpha * 1.5, alpha + 8 * math.sqrt(alpha) + 5]
    )
    np.testing.assert_allclose(im.cdf(z, alpha), special.gammainc(alpha, z), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(im.log_prob(z, alpha), stats.gamma(alpha).logpdf(z), rtol=1e-12)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_dz_dalpha_is_minus_dF_dalpha_over_q(alpha):
    """Against central differences in α of scipy's regularized incomplete gamma."""
    z = np.array([0.01, 0.3, alpha * 0.5, alpha * 0.999, alpha * 1.001, alpha * 2, alpha + 5])
    h = 1e-5 * alpha
    # difference whichever of P = F and Q = 1 − F is small (the other loses digits): dQ = −dF
    P, Q = special.gammainc, special.gammaincc
    dP = (P(alpha + h, z) - P(alpha - h, z)) / (2 * h)
    dQ = (Q(alpha + h, z) - Q(alpha - h, z)) / (2 * h)
    dF = np.where(P(alpha, z) < 0.5, dP, -dQ)
    expect = -dF / stats.gamma(alpha).pdf(z)
    # FD truncation error is O(h²) and roundoff O(1e-16/h): 1e-6 relative is well above both
    np.testing.assert_allclose(im.dz_dalpha(z, alpha), expect, rtol=2e-5)
    np.testing.assert_allclose(im.dcdf_dalpha(z, alpha), dF, rtol=2e-5, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 4.0, 30.0])
def test_dz_dalpha_equals_torch_rsample_autograd(alpha):
    z, grad = im.torch_rsample_grad(alpha, 300, seed=1)
    ok = z > 1e-300  # torch can return exact zeros for tiny α; ∂z/∂α is then 0 too
    # torch's _standard_gamma_grad uses Figurnov et al.'s approximations (≈1e-4 relative)
    np.testing.assert_allclose(im.dz_dalpha(z[ok], alpha), grad[ok], rtol=1e-3, atol=1e-12)


def test_icdf_inverts_cdf_and_path_slope_is_the_implicit_gradient():
    for alpha in (0.1, 2.0, 50.0):
        u = np.array([1e-9, 0.01, 0.4, 0.9, 0.999])  # icdf near u = 1 is limited by 1 − u
        z = im.icdf(u, alpha)
        np.testing.assert_allclose(special.gammainc(alpha, z), u, rtol=1e-9, atol=1e-15)
        h = 1e-5 * alpha
        slope = (im.icdf(u, alpha + h) - im.icdf(u, alpha - h)) / (2 * h)
        np.testing.assert_allclose(slope, im.dz_dalpha(z, alpha), rtol=1e-5)


# ---------------------------------------------------------------- exact gradients: closed forms


@pytest.mark.parametrize("alpha", [0.2, 1.0, 3.7, 25.0])
def test_exact_gradients_closed_forms(alpha):
    assert im.exact_gradient(gf("z"), alpha) == pytest.approx(1.0, rel=1e-9)
    assert im.exact_gradient(gf("z2"), alpha) == pytest.approx(2 * alpha + 1, rel=1e-9)
    assert im.exact_gradient(gf("log"), alpha) == pytest.approx(
        special.polygamma(1, alpha), rel=1e-9
    )
    sin_grad = 2 ** (-alpha / 2) * (
        math.pi / 4 * math.cos(alpha * math.pi / 4)
        - math.log(2) / 2 * math.sin(alpha * math.pi / 4)
    )
    assert im.exact_gradient(gf("sin"), alpha) == pytest.approx(sin_grad, rel=1e-8, abs=1e-12)
    assert im.exact_mean(gf("z2"), alpha) == pytest.approx(alpha * (alpha + 1), rel=1e-10)
    assert im.exact_mean(gf("sqrt"), alpha) == pytest.approx(
        math.exp(math.lgamma(alpha + 0.5) - math.lgamma(alpha)), rel=1e-10
    )


@pytest.mark.parametrize("alpha", [0.2, 1.0, 3.7, 25.0])
def test_the_closed_form_gradients_are_scipys_and_the_quadratures(alpha):
    """closed_form_gradient (shown beside the quadrature on the Beyond view) against scipy's
    special functions, and against exact_gradient's quadrature for every test function."""
    g = im.closed_form_gradient
    assert g("log", alpha) == pytest.approx(special.polygamma(1, alpha), rel=1e-12)
    sqrt_grad = math.exp(special.gammaln(alpha + 0.5) - special.gammaln(alpha)) * (
        special.digamma(alpha + 0.5) - special.digamma(alpha)
    )
    assert g("sqrt", alpha) == pytest.approx(sqrt_grad, rel=1e-12)
    for name in im.FUNCTION_NAMES:
        assert g(name, alpha) == pytest.approx(
            im.exact_gradient(gf(name), alpha), rel=1e-8, abs=1e-12
        ), name
    with pytest.raises(ValueError, match="name"):
        g("cube", alpha)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
@pytest.mark.parametrize("name", ["z", "sin"])
def test_implicit_pathwise_mean_is_the_exact_gradient(alpha, name):
    """E[f'(z) ∂z/∂α] = d/dα E f, the implicit estimator's mean, by scipy quadrature."""
    fn = gf(name)
    dist = stats.gamma(alpha)

    def g(z):
        return fn.df(z) * im.dz_dalpha(np.array([z]), alpha)[0] * dist.pdf(z)

    val = integrate.quad(g, 0, 1, limit=200)[0] + integrate.quad(g, 1, np.inf, limit=200)[0]
    assert val == pytest.approx(im.exact_gradient(gf(name), alpha), rel=1e-6)


@pytest.mark.parametrize("alpha", [0.7, 3.0])
@pytest.mark.parametrize("name", im.FUNCTION_NAMES)
@pytest.mark.parametrize("method", im.METHODS)
def test_estimators_unbiased_z_score(alpha, name, method):
    n = 20_000
    g = im.gradient_samples(gf(name), alpha, method, n, seed=7)
    var = im.exact_stats(gf(name), alpha).variance[method]
    z = abs(g.mean() - im.exact_gradient(gf(name), alpha)) / math.sqrt(var / n)
    assert z < 4.0


def test_exact_variance_against_scipy_and_implicit_beats_score_for_z():
    alpha = 2.0
    psi = special.digamma(alpha)
    dist = stats.gamma(alpha)
    m2 = integrate.quad(lambda z: (z * (math.log(z) - psi)) ** 2 * dist.pdf(z), 0, np.inf)[0]
    assert im.exact_stats(gf("z"), alpha).variance["score"] == pytest.approx(m2 - 1.0, rel=1e-8)
    assert (
        im.exact_stats(gf("z"), alpha).variance["implicit"]
        < im.exact_stats(gf("z"), alpha).variance["score"] / 10
    )


# ---------------------------------------------------------------- rejection sampler


@pytest.mark.parametrize("alpha", [0.4, 1.0, 3.0])
def test_marsaglia_tsang_samples_gamma_chi_square(alpha):
    z, idx = im.rejection_sample(alpha, 20_000, seed=4)
    assert np.all(np.diff(idx) > 0)
    edges = stats.gamma(alpha).ppf(np.linspace(0, 1, 21))
    counts = np.histogram(z, edges)[0]
    chi2 = np.sum((counts - 1000) ** 2 / 1000)
    assert chi2 < stats.chi2(19).ppf(0.999)


def test_finite_differences_through_rejection_sampler_desync_and_blow_up():
    alpha, n = 2.0, 2000
    coarse = im.rejection_fd(gf("z"), alpha, 0.1, n, seed=0)
    assert coarse.desynced > n / 4  # a flipped proposal shifts every later sample
    fine = im.rejection_fd(gf("z"), alpha, 1e-4, n, seed=0)
    # desynced samples give O(1/h) quotients; their standard error dwarfs the correct one
    exact_se = math.sqrt(im.exact_stats(gf("z"), alpha).variance["implicit"] / n)
    if fine.desynced:
        assert fine.std_error > 100 * exact_se
    else:  # no flip: the quotient is the proposal-map derivative, not ∂z/∂α
        assert fine.estimate == pytest.approx(
            np.mean(im.proposal_dz_dalpha(im.rejection_sample(alpha, n, 0)[0], alpha)), rel=1e-4
        )
    assert coarse.std_error > 10 * exact_se


def test_proposal_path_derivative_is_biased():
    """Without flips, FD → E[f'(z) ∂z/∂α|_x] ≠ d/dα E f (it misses the acceptance term)."""
    for alpha, name in [(1.0, "log"), (1.0, "z"), (2.0, "z2")]:
        smooth = im.smooth_path_gradient(gf(name), alpha)
        exact = im.exact_gradient(gf(name), alpha)
        assert abs(smooth - exact) > 0.005 * abs(exact), (alpha, name, smooth, exact)
    # The largest gap: α = 1, f = log z: 1.9116 vs ψ'(1) = π²/6
    assert im.smooth_path_gradient(gf("log"), 1.0) == pytest.approx(1.9116, abs=1e-3)


def test_rejection_path_jumps_implicit_path_is_smooth():
    alphas = np.linspace(1.5, 2.5, 41)
    rej, imp = im.sample_paths(alphas, n_paths=4, seed=0, sample_index=40)
    step = alphas[1] - alphas[0]
    slope_bound = np.max(np.abs(im.dz_dalpha(imp.ravel(), 2.5))) * 3  # generous smooth bound
    assert np.max(np.abs(np.diff(rej, axis=1))) > 20 * slope_bound * step  # a jump
    assert np.max(np.abs(np.diff(imp, axis=1))) < slope_bound * step


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: im.exact_gradient(gf("z"), 0.0), "alpha"),
        (lambda: im.exact_gradient(gf("z"), float("nan")), "alpha"),
        (lambda: im.exact_gradient("cube", 1.0), "f"),
        (lambda: F.get("cube", family="gamma"), "name"),
        (lambda: im.gradient_samples(gf("z"), 1.0, "magic", 10), "method"),
        (lambda: im.gradient_samples(gf("z"), 1.0, "score", 0), "n"),
        (lambda: im.gradient_samples(gf("z"), 1.0, "score", 10, seed=-2), "seed"),
        (lambda: im.rejection_fd(gf("z"), 1.0, 0.0, 10), "h"),
        (lambda: im.rejection_fd(gf("z"), 1.0, float("inf"), 10), "h"),
        (lambda: im.dz_dalpha(np.array([-1.0]), 1.0), "z"),
        (lambda: im.icdf(np.array([1.0]), 1.0), "u"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@settings(max_examples=50, deadline=None)
@given(alpha=st.one_of(st.floats(max_value=0.049), st.floats(min_value=200.1), st.just(math.nan)))
def test_hypothesis_bad_alpha_always_value_error(alpha):
    with pytest.raises(ValueError, match="alpha"):
        im.exact_gradient(gf("z"), alpha)


@settings(max_examples=50, deadline=None)
@given(alpha=st.floats(0.05, 200.0), u=st.floats(1e-6, 1 - 1e-6))
def test_hypothesis_dz_dalpha_finite_and_matches_scipy(alpha, u):
    z = np.array([special.gammaincinv(alpha, u)])
    g = im.dz_dalpha(z, alpha)
    assert np.all(np.isfinite(g))
    h = 1e-5 * alpha
    zp, zm = special.gammaincinv(alpha + h, u), special.gammaincinv(alpha - h, u)
    assert g[0] == pytest.approx((zp - zm) / (2 * h), rel=1e-4, abs=1e-12)
