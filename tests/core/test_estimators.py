"""reparam_core.estimators: published variances, closed-form gradients, scipy quadrature, Monte
Carlo agreement (z-scores from exact moments), torch autograd, and input validation."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from tests.support.exact import SQ2PI, closed_gradient, phi

from reparam_core import estimators as E
from reparam_core import functions as F
from reparam_core.functions import Fn

pytestmark = pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")


def moments(f, mu, sigma, wrt, method):
    """(E ĝ, Var ĝ) of one estimator, from the ExactStats of θ = wrt."""
    stats = E.exact_stats(f, (mu, sigma))[wrt]
    return stats.mean[method], stats.variance[method]


# --------------------------------------------------------------------- published values (Fig. 2)

PUBLISHED = [  # Mohamed et al. 2020, Fig. 2, mu = sigma = 1, single-sample variances
    ("square", 0.0, "mu", "pathwise", 4.0),
    ("square", 0.0, "sigma", "pathwise", 12.0),
    ("square", 0.0, "mu", "score", 30.0),
    ("square", 0.0, "sigma", "score", 136.0),
    ("square", 0.0, "mu", "measure_valued", 16 / math.pi - 4),  # = 1.0930 (printed 1.093)
    ("square", 0.0, "sigma", "measure_valued", 8.0),
    ("cos", 5.0, "mu", "pathwise", 12.5),
    ("cos", 5.0, "mu", "score", 0.5),
]


@pytest.mark.parametrize(("name", "k", "wrt", "method", "var"), PUBLISHED)
def test_published_variances(name, k, wrt, method, var):
    mean, v = moments(F.get(name, k), 1.0, 1.0, wrt, method)
    # cos(5x) values are printed rounded: the exact ones differ by e^{-50}-sized terms
    assert v == pytest.approx(var, rel=1e-6)


def test_published_mvd_mu_rounds_to_1_093():
    _, v = moments(F.get("square", 0.0), 1.0, 1.0, "mu", "measure_valued")
    assert round(v, 3) == 1.093


# --------------------------------------------------------------------- means vs closed forms


CASES = [
    ("square", 0.0, 1.0, 1.0),
    ("square", 2.5, -0.4, 0.7),
    ("exp", 10.0, 1.0, 1.0),
    ("exp", 0.3, -1.2, 2.0),
    ("cos", 5.0, 1.0, 1.0),
    ("cos", 12.0, 0.3, 1.5),
    ("step", 0.3, 1.0, 1.0),
    ("step", -2.0, 0.5, 0.6),
    ("abs", 0.3, 1.0, 1.0),
    ("abs", 4.0, 0.0, 2.0),
]


@pytest.mark.parametrize(("name", "k", "mu", "sigma"), CASES)
def test_means_equal_closed_form_gradients(name, k, mu, sigma):
    stats = E.exact_stats(F.get(name, k), (mu, sigma))
    for i, wrt in enumerate(E.WRT):
        truth = closed_gradient(name, k, mu, sigma)[i]
        scale = abs(truth) + 1e-12
        assert stats[wrt].true == pytest.approx(truth, rel=1e-8, abs=1e-10 * scale + 1e-13)
        for method in E.METHODS:
            mean = stats[wrt].mean[method]
            if name == "step" and method == "pathwise":
                assert mean == 0.0  # autograd's f' = 0: silently biased
            else:
                assert mean == pytest.approx(truth, rel=1e-8, abs=1e-12), (wrt, method)


def test_pathwise_bias_on_the_step_is_the_whole_gradient():
    f = F.get("step", 0.0)
    true = E.exact_stats(f, (1.0, 1.0))["mu"].true
    assert true == pytest.approx(float(phi(1.0)), rel=1e-10)
    assert moments(f, 1.0, 1.0, "mu", "pathwise") == (0.0, 0.0)


# --------------------------------------------------------------------- scipy reference moments


def ref_moment(f, mu, sigma, wrt, method, power, centre=0.0):
    """E[(ĝ − centre)^power] by scipy.integrate.quad, written independently of the module."""
    kinks = [(kk - mu) / sigma for kk in f.kinks]
    opts = {"limit": 800, "epsabs": 0.0, "epsrel": 1e-11}  # roundoff warnings are expected

    def quad(h, lo, hi, pts):
        pts = sorted(p for p in pts if lo < p < hi)
        return integrate.quad(h, lo, hi, points=pts or None, **opts)[0]

    def x(e):
        return mu + sigma * e

    def s(e):
        return e / sigma if wrt == "mu" else (e * e - 1) / sigma

    if method in ("pathwise", "score", "score_baseline"):
        b = 0.0
        if method == "score_baseline":
            num = quad(lambda e: f.f(x(e)) * s(e) ** 2 * phi(e), -14, 14, kinks)
            b = num / quad(lambda e: s(e) ** 2 * phi(e), -14, 14, [])

        def g(e):
            if method == "pathwise":
                return f.df(x(e)) * (1.0 if wrt == "mu" else e)
            return (f.f(x(e)) - b) * s(e)

        return quad(lambda e: (g(e) - centre) ** power * phi(e), -14, 14, kinks)
    if wrt == "mu":  # W ~ Weibull(√2, 2): density w e^{-w²/2}, w > 0

        def g(w):
            return (f.f(x(w)) - f.f(x(-w))) / (sigma * SQ2PI)

        pts = [abs(p) for p in kinks]
        return quad(lambda w: (g(w) - centre) ** power * w * math.exp(-w * w / 2), 0, 14, pts)

    # sigma: (M, U) with density m² φ(m) on ℝ × [0, 1]; nested quad split at kinks
    def inner(m):
        pts = [p / m for p in kinks if m != 0]

        def h(u):
            return ((f.f(x(m)) - f.f(x(u * m))) / sigma - centre) ** power

        return quad(h, 0.0, 1.0, pts)

    return quad(lambda m: inner(m) * m * m * float(phi(m)), -12, 12, [0.0, *kinks])


QUAD_CASES = [
    ("exp", 10.0, 1.0, 1.0),
    ("cos", 5.0, 1.0, 1.0),
    ("cos", 12.0, 0.3, 1.5),
    ("step", 0.3, 1.0, 1.0),
    ("abs", 0.3, 1.0, 1.0),
    ("square", 2.5, -0.4, 0.7),
]


@pytest.mark.parametrize(("name", "k", "mu", "sigma"), QUAD_CASES)
@pytest.mark.parametrize("wrt", E.WRT)
@pytest.mark.parametrize("method", E.METHODS)
def test_exact_stats_match_scipy_quad(name, k, mu, sigma, wrt, method):
    f = F.get(name, k)
    mean, var = moments(f, mu, sigma, wrt, method)
    ref_mean = ref_moment(f, mu, sigma, wrt, method, 1)
    ref_var = ref_moment(f, mu, sigma, wrt, method, 2, centre=ref_mean)
    rms = math.sqrt(ref_var + ref_mean**2)
    assert mean == pytest.approx(ref_mean, rel=1e-6, abs=1e-9 * rms)
    assert var == pytest.approx(ref_var, rel=1e-6, abs=1e-12 * rms**2)


def test_exact_sweep_equals_pointwise_exact_stats():
    ks = np.array([-2.0, 0.0, 0.7, 3.0])
    sweep = E.exact_sweep("abs", ks, theta=(0.5, 1.3))
    for i, k in enumerate(ks):
        single = E.exact_stats(F.get("abs", k), (0.5, 1.3))
        for wrt, one in single.items():
            got = sweep[wrt]
            assert got.true[i] == pytest.approx(one.true, rel=1e-9, abs=1e-12)
            assert got.methods == one.methods == E.METHODS
            for m in one.methods:
                assert got.mean[m][i] == pytest.approx(one.mean[m], rel=1e-9, abs=1e-12)
                assert got.variance[m][i] == pytest.approx(one.variance[m], rel=1e-9, abs=1e-12)


def test_fig2_sweep_shapes_and_score_explodes_far_from_mu():
    ks = np.linspace(-3, 3, 100)
    sweep = E.exact_sweep("square", ks)
    path_mu = sweep["mu"].variance["pathwise"]
    np.testing.assert_allclose(path_mu, 4.0, rtol=1e-9)  # 4σ², independent of k
    score_mu = sweep["mu"].variance["score"]
    # score variance for (x−k)², θ = μ, μ = σ = 1: E[(x−k)⁴ ε²] − 4(1−k)²
    m = 1 - ks
    closed = (m**4 + 18 * m**2 + 15) - 4 * m**2  # E[(m+ε)⁴ε²] = m⁴ + 6m²·3 + 15
    np.testing.assert_allclose(score_mu, closed, rtol=1e-9)


# --------------------------------------------------------------------- Monte Carlo vs exact

MC_CASES = [
    ("square", 0.0, 1.0, 1.0),
    ("cos", 2.0, 0.5, 1.0),
    ("exp", 3.0, 1.0, 0.8),
    ("step", 0.5, 1.0, 1.0),
    ("abs", 0.5, 1.0, 1.0),
]
N_MC = 200_000
Z_MAX = 5.0


@pytest.mark.parametrize(("name", "k", "mu", "sigma"), MC_CASES)
@pytest.mark.parametrize("wrt", E.WRT)
@pytest.mark.parametrize("method", E.METHODS)
def test_samples_agree_with_exact_stats(name, k, mu, sigma, wrt, method):
    """z-scores from the exact variance (mean) and the exact 4th central moment (variance).

    For score_baseline the leave-one-out baseline adds O(1/n) variance over the exact-b* value,
    ≈ 1e−5 relative here, far below the ≈ 1e−2 standard error of the sample variance.
    """
    f = F.get(name, k)
    mean, var = moments(f, mu, sigma, wrt, method)
    g = E.gradient_samples(f, (mu, sigma), method, N_MC, seed=20240611, wrt=wrt)
    assert g.shape == (N_MC,)
    if var == 0.0:  # the step's pathwise estimate is identically 0
        assert np.all(g == 0.0)
        return
    z_mean = (g.mean() - mean) / math.sqrt(var / N_MC)
    assert abs(z_mean) < Z_MAX, z_mean
    mu4 = ref_moment(f, mu, sigma, wrt, method, 4, centre=mean)
    se_var = math.sqrt((mu4 - var**2) / N_MC)
    z_var = (g.var(ddof=1) - var) / se_var
    assert abs(z_var) < Z_MAX, (z_var, g.var(ddof=1), var)


def test_variance_check_has_power():
    """A 3 % error in the variance of a bounded case is caught by the same z bound."""
    f = F.get("cos", 2.0)
    _, var = moments(f, 0.5, 1.0, "mu", "pathwise")
    g = E.gradient_samples(f, (0.5, 1.0), "pathwise", N_MC, seed=20240611, wrt="mu")
    mu4 = ref_moment(f, 0.5, 1.0, "mu", "pathwise", 4, centre=g.mean())
    assert abs(g.var(ddof=1) - 1.03 * var) / math.sqrt((mu4 - var**2) / N_MC) > Z_MAX


def test_seed_reproduces_and_n_one_works():
    f = F.get("cos", 3.0)
    for method in E.METHODS:
        a = E.gradient_samples(f, (0.2, 1.1), method, 50, seed=7, wrt="sigma")
        b = E.gradient_samples(f, (0.2, 1.1), method, 50, seed=7, wrt="sigma")
        np.testing.assert_array_equal(a, b)
        assert E.gradient_samples(f, (0.2, 1.1), method, 1, seed=7, wrt="mu").shape == (1,)
    one = E.gradient_samples(f, (0.2, 1.1), "score_baseline", 1, seed=7, wrt="mu")
    np.testing.assert_array_equal(
        one, E.gradient_samples(f, (0.2, 1.1), "score", 1, seed=7, wrt="mu")
    )


def test_score_and_pathwise_use_draw_eps():
    f = F.get("square", 0.0)
    eps = E.draw_eps(1000, 3)
    np.testing.assert_allclose(
        E.gradient_samples(f, (0.5, 2.0), "score", 1000, 3, wrt="mu"),
        (0.5 + 2 * eps) ** 2 * eps / 2,
    )


# --------------------------------------------------------------------- torch autograd


def torch_f(name, k):
    def square(x):
        return (x - k) ** 2

    def exp(x):
        return (-k * x**2).exp()

    def cos(x):
        return (k * x).cos()

    def step(x):  # 1[x > k]; autograd: d sign = 0
        return (x - k).sign().clamp(min=0)

    def abs_(x):
        return (x - k).abs()

    return {"square": square, "exp": exp, "cos": cos, "step": step, "abs": abs_}[name]


@pytest.mark.parametrize(("name", "k", "mu", "sigma"), CASES)
def test_pathwise_equals_torch_autograd_through_rsample(name, k, mu, sigma, monkeypatch):
    torch = pytest.importorskip("torch")
    import torch.distributions.normal as normal_mod

    n, seed = 500, 11
    eps = torch.from_numpy(E.draw_eps(n, seed))
    monkeypatch.setattr(normal_mod, "_standard_normal", lambda shape, dtype, device: eps.clone())
    mu_t = torch.full((n,), mu, dtype=torch.float64, requires_grad=True)
    sigma_t = torch.full((n,), sigma, dtype=torch.float64, requires_grad=True)
    x = torch.distributions.Normal(mu_t, sigma_t).rsample()
    np.testing.assert_allclose(x.detach().numpy(), mu + sigma * eps.numpy(), rtol=0, atol=0)
    torch_f(name, k)(x).sum().backward()
    f = F.get(name, k)
    for wrt, grad in (("mu", mu_t.grad), ("sigma", sigma_t.grad)):
        ours = E.gradient_samples(f, (mu, sigma), "pathwise", n, seed, wrt=wrt)
        np.testing.assert_allclose(ours, grad.numpy(), rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------- validation

VALID = {"f": F.get("cos", 1.0), "mu": 0.0, "sigma": 1.0, "wrt": "mu", "method": "score", "n": 10}
VALID_SAMPLES = {**VALID, "seed": 0}

BAD = {
    "f": st.one_of(st.none(), st.integers(), st.text(max_size=5), st.just(np.cos), st.just("cos")),
    "mu": st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, "1", None, True, [1.0]]),
        st.text(max_size=3),
    ),
    "sigma": st.one_of(
        st.floats(max_value=0.0, allow_nan=False),
        st.sampled_from([math.nan, math.inf, "1", None, False]),
        st.integers(max_value=0),
    ),
    "wrt": st.text(max_size=8).filter(lambda s: s not in E.WRT),
    "method": st.one_of(
        st.text(max_size=15).filter(lambda s: s not in E.METHODS), st.none(), st.integers()
    ),
    "n": st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=E.N_MAX + 1),
        st.floats().filter(lambda v: not (math.isfinite(v) and v.is_integer())),
        st.sampled_from([None, "10", True, 2.5]),
    ),
    "seed": st.one_of(st.integers(max_value=-1), st.sampled_from([0.5, math.nan, "1", None, True])),
}


def _samples(f, mu, sigma, wrt, method, n, seed):
    return E.gradient_samples(f, (mu, sigma), method, n, seed, wrt=wrt)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_invalid_gradient_samples_arguments_name_the_parameter(data):
    name = data.draw(st.sampled_from(sorted(VALID_SAMPLES)))
    kwargs = {**VALID_SAMPLES, name: data.draw(BAD[name])}
    with pytest.raises(ValueError) as info:
        _samples(**kwargs)
    assert re.match(rf"{name}\b", str(info.value)), str(info.value)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_invalid_exact_stats_arguments_name_the_parameter(data):
    name = data.draw(st.sampled_from(["f", "mu", "sigma"]))
    kwargs = {key: VALID[key] for key in ("f", "mu", "sigma")}
    kwargs[name] = data.draw(BAD[name])
    with pytest.raises(ValueError) as info:
        E.exact_stats(kwargs["f"], (kwargs["mu"], kwargs["sigma"]))
    assert re.match(rf"{name}\b", str(info.value)), str(info.value)


@pytest.mark.parametrize("theta", [1.0, (1.0,), (1.0, 1.0, 1.0), None, "ab c"])
def test_theta_must_be_a_pair(theta):
    for call in (
        lambda: E.exact_stats(VALID["f"], theta),
        lambda: E.gradient_samples(VALID["f"], theta, "score", 10, 0),
    ):
        with pytest.raises(ValueError, match=r"^theta must be a pair \(mu, sigma\)"):
            call()


def test_specific_messages():
    f = VALID["f"]
    with pytest.raises(ValueError, match=r"^sigma must be > 0, got -1$"):
        moments(f, 0.0, -1, "mu", "score")
    with pytest.raises(
        ValueError, match=r"^n must be a whole number between 1 and 1000000, got 1000001$"
    ):
        E.gradient_samples(f, (0.0, 1.0), "score", E.N_MAX + 1, 0, wrt="mu")
    assert E.N_MAX >= 10**6


def test_non_finite_and_too_fast_growing_f_are_refused():
    nan_f = Fn("custom", 0.0, lambda x: np.log(x), lambda x: 1 / x, "log x")
    with pytest.raises(ValueError, match=r"^f: f\(x\) is not finite"):
        moments(nan_f, 0.0, 1.0, "mu", "score")
    with pytest.raises(ValueError, match=r"^f: "):
        E.gradient_samples(nan_f, (0.0, 1.0), "score", 100, 0, wrt="mu")
    huge = Fn("custom", 0.0, lambda x: np.exp(x**2 / 3), lambda x: np.exp(x**2 / 3), "e^{x²/3}")
    with pytest.raises(ValueError, match=r"^f: .*grows too fast"):
        moments(huge, 0.0, 1.0, "mu", "score")
    with pytest.raises(ValueError, match=r"^ks "):
        E.exact_sweep("cos", [], (1.0, 1.0))
    with pytest.raises(ValueError, match=r"^name \(the test function\) must be one of"):
        E.exact_sweep("nope", [1.0])


# --------------------------------------------------------------------- Monte Carlo summaries


def test_running_mean_and_standard_error_match_direct_formulas():
    g = np.random.default_rng(1).standard_exponential(5000) * 3 + 100
    i, mean, se = E.running_mean(g, points=40)
    assert i[0] == 1 and i[-1] == g.size and np.all(np.diff(i) > 0)
    for j, m, s in zip(i, mean, se, strict=True):
        assert m == pytest.approx(g[:j].mean(), rel=1e-12)
        if j > 1:
            assert s == pytest.approx(g[:j].std(ddof=1) / math.sqrt(j), rel=1e-9)
    assert math.isnan(se[0])


def test_batch_mean_variance_matches_reshaped_means():
    g = np.random.default_rng(2).normal(size=1000)
    sizes, var = E.batch_mean_variance(g, min_batches=10)
    assert list(sizes) == [1, 2, 4, 8, 16, 32, 64]
    for m, v in zip(sizes, var, strict=True):
        b = 1000 // m
        assert v == pytest.approx(g[: b * m].reshape(b, m).mean(1).var(ddof=1), rel=1e-12)


def test_unsplit_non_smooth_f_is_still_close():
    """A non-smooth f that does not list its kink (as a custom abs would) is integrated without
    the split, at bounded effort: within 1e−3 of the split result."""
    split = F.get("abs", 0.3)
    unsplit = Fn("custom", 0.3, split.f, split.df, split.latex, smooth=False)
    a, b = E.exact_stats(split, (1.0, 1.0)), E.exact_stats(unsplit, (1.0, 1.0))
    for wrt in E.WRT:
        for m in E.METHODS:
            assert b[wrt].variance[m] == pytest.approx(a[wrt].variance[m], rel=1e-3)
