"""reparam_core.transforms against torch, scipy closed forms and exact integrals."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from torch.distributions import Normal as TorchNormal
from torch.distributions import TransformedDistribution
from torch.distributions import transforms as TT

from reparam_core import transforms as T

MUS_SIGMAS = [(0.0, 1.0), (1.0, 2.0), (-2.5, 0.3), (0.7, 1.5)]
PROPS = settings(max_examples=100, deadline=None)


def torch_log_prob(mu, sigma, torch_transforms, y):
    dist = TransformedDistribution(
        TorchNormal(
            torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64)
        ),
        torch_transforms,
    )
    return dist.log_prob(torch.as_tensor(y, dtype=torch.float64)).numpy()


# ------------------------------------------------------------------------- against torch


@pytest.mark.parametrize("mu,sigma", MUS_SIGMAS)
@pytest.mark.parametrize(
    "name,ours,theirs,ys",
    [
        (
            "standardize",
            lambda m, s: T.Standardize(m, s),
            lambda m, s: [TT.AffineTransform(-m / s, 1.0 / s)],
            np.linspace(-6, 6, 41),
        ),
        (
            "affine",
            lambda m, s: T.Affine(m, s),
            lambda m, s: [TT.AffineTransform(m, s)],
            np.linspace(-8, 8, 41),
        ),
        ("exp", lambda m, s: T.Exp(), lambda m, s: [TT.ExpTransform()], np.geomspace(1e-4, 50, 41)),
        (
            "sigmoid",
            lambda m, s: T.Sigmoid(),
            lambda m, s: [TT.SigmoidTransform()],
            np.linspace(1e-3, 1 - 1e-3, 41),
        ),
    ],
)
def test_log_prob_matches_torch_transformed_distribution(mu, sigma, name, ours, theirs, ys):
    density = T.TransformedDensity(T.Normal(mu, sigma), ours(mu, sigma))
    expected = torch_log_prob(mu, sigma, theirs(mu, sigma), ys)
    np.testing.assert_allclose(density.log_prob(ys), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "ours,theirs",
    [(T.Exp(), TT.ExpTransform()), (T.Sigmoid(), TT.SigmoidTransform())],
)
def test_forward_inverse_and_jacobian_match_torch(ours, theirs):
    x = np.linspace(-10, 10, 101)
    xt = torch.tensor(x, dtype=torch.float64)
    yt = theirs(xt)
    np.testing.assert_allclose(ours.forward(x), yt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.inverse(yt.numpy()), theirs.inv(yt).numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        ours.log_abs_det_jacobian(x, yt.numpy()),
        theirs.log_abs_det_jacobian(xt, yt).numpy(),
        rtol=1e-9,
        atol=1e-12,
    )


@pytest.mark.parametrize("transform", [T.Exp(), T.Sigmoid(), T.Sinh(), T.Standardize(1.0, 2.0)])
def test_derivative_matches_torch_autograd(transform):
    x = np.linspace(-4, 4, 33)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    funcs = {
        "exp": torch.exp,
        "sigmoid": torch.sigmoid,
        "sinh": torch.sinh,
        "standardize": lambda v: (v - 1.0) / 2.0,
    }
    (grad,) = torch.autograd.grad(funcs[transform.name](xt).sum(), xt)
    np.testing.assert_allclose(transform.derivative(x), grad.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("mu,sigma", MUS_SIGMAS)
def test_exp_pushforward_is_log_normal(mu, sigma):
    y = np.geomspace(1e-3, 40, 60)
    closed = np.exp(-((np.log(y) - mu) ** 2) / (2 * sigma**2)) / (
        y * sigma * math.sqrt(2 * math.pi)
    )
    d = T.TransformedDensity(T.Normal(mu, sigma), T.Exp())
    np.testing.assert_allclose(d.prob(y), closed, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(
        d.prob(y), stats.lognorm(s=sigma, scale=math.exp(mu)).pdf(y), rtol=1e-9
    )
    np.testing.assert_allclose(
        d.cdf(y), stats.lognorm(s=sigma, scale=math.exp(mu)).cdf(y), rtol=1e-9, atol=1e-15
    )


@pytest.mark.parametrize("mu,sigma", MUS_SIGMAS)
def test_sigmoid_pushforward_is_logit_normal(mu, sigma):
    y = np.linspace(1e-3, 1 - 1e-3, 61)
    logit = np.log(y / (1 - y))
    closed = np.exp(-((logit - mu) ** 2) / (2 * sigma**2)) / (
        sigma * math.sqrt(2 * math.pi) * y * (1 - y)
    )
    d = T.TransformedDensity(T.Normal(mu, sigma), T.Sigmoid())
    np.testing.assert_allclose(d.prob(y), closed, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(
        d.cdf(y), stats.norm.cdf((logit - mu) / sigma), rtol=1e-9, atol=1e-15
    )


@pytest.mark.parametrize("mu,sigma", MUS_SIGMAS)
def test_sinh_pushforward_is_johnson_su(mu, sigma):
    # asinh(Y) = X ~ N(μ, σ²)  ⇔  γ + δ asinh(Y) ~ N(0,1) with γ = −μ/σ, δ = 1/σ.
    y = np.linspace(-30, 30, 121)
    ref = stats.johnsonsu(a=-mu / sigma, b=1 / sigma)
    d = T.TransformedDensity(T.Normal(mu, sigma), T.Sinh())
    np.testing.assert_allclose(d.prob(y), ref.pdf(y), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(d.cdf(y), ref.cdf(y), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("mu,sigma", MUS_SIGMAS)
def test_standardize_pushes_any_normal_to_the_standard_normal(mu, sigma):
    y = np.linspace(-7, 7, 57)
    d = T.TransformedDensity(T.Normal(mu, sigma), T.Standardize(mu, sigma))
    np.testing.assert_allclose(d.log_prob(y), -(y**2) / 2 - 0.5 * math.log(2 * math.pi), atol=1e-12)
    np.testing.assert_allclose(d.cdf(y), stats.norm.cdf(y), rtol=1e-12, atol=1e-15)
    e = T.TransformedDensity(T.Normal(0, 1), T.Affine(mu, sigma))
    np.testing.assert_allclose(e.prob(y), stats.norm(mu, sigma).pdf(y), rtol=1e-12)


def test_normal_log_prob_and_cdf_match_scipy_including_far_tails():
    x = np.array([-40.0, -12.0, -3.0, 0.0, 0.5, 3.0, 12.0])
    np.testing.assert_allclose(T.normal_log_prob(x, 0.5, 1.7), stats.norm(0.5, 1.7).logpdf(x))
    np.testing.assert_allclose(T.normal_cdf(x, 0.5, 1.7), stats.norm(0.5, 1.7).cdf(x), rtol=1e-12)


@pytest.mark.parametrize("transform", [T.Exp(), T.Sigmoid(), T.Sinh()])
def test_pushforward_density_integrates_to_one_and_to_the_cdf(transform):
    d = T.TransformedDensity(T.Normal(0.3, 0.8), transform)
    lo, hi = transform.codomain
    total, _ = integrate.quad(lambda v: float(d.prob(v)), lo, hi, limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)
    a = float(transform.forward(0.3 - 0.8))  # one σ below the mean
    b = float(transform.forward(0.3 + 0.5))
    mass, _ = integrate.quad(lambda v: float(d.prob(v)), a, b)
    assert mass == pytest.approx(float(d.cdf(b) - d.cdf(a)), abs=1e-10)
    assert mass == pytest.approx(stats.norm.cdf(0.5 / 0.8) - stats.norm.cdf(-1.0), abs=1e-10)


class _Negate(T.Transform):
    """y = −x, a decreasing map, to exercise the CDF flip."""

    increasing = False

    def _forward(self, x):
        return -x

    def _inverse(self, y):
        return -y

    def _log_derivative(self, x):
        return np.zeros_like(x)


def test_decreasing_map_flips_the_cdf():
    d = T.TransformedDensity(T.Normal(1.0, 2.0), _Negate())
    y = np.linspace(-8, 6, 29)
    np.testing.assert_allclose(d.cdf(y), stats.norm(-1.0, 2.0).cdf(y), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d.prob(y), stats.norm(-1.0, 2.0).pdf(y), rtol=1e-12)
    np.testing.assert_allclose(_Negate().derivative(y), -1.0)


def test_outside_the_codomain_density_is_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = T.TransformedDensity(T.Normal(0, 1), T.Exp())
        assert np.all(e.log_prob([-2.0, 0.0]) == -np.inf)
        assert np.all(e.prob([-2.0, 0.0]) == 0.0)
        np.testing.assert_array_equal(e.cdf([-2.0, 0.0]), [0.0, 0.0])
        s = T.TransformedDensity(T.Normal(0, 1), T.Sigmoid())
        assert np.all(s.log_prob([-0.5, 0.0, 1.0, 1.5]) == -np.inf)
        np.testing.assert_array_equal(s.cdf([-0.5, 0.0, 1.0, 1.5]), [0, 0, 1, 1])
        np.testing.assert_array_equal(s.jacobian_factor([-0.5, 2.0]), [0.0, 0.0])
        assert np.isnan(T.Exp().inverse(-1.0))


# ------------------------------------------------------------------------- samples


def chi_square_statistic(samples, density, edges):
    """Pearson's χ² of a histogram against expected counts n·∫_bin f_Y (by quadrature).

    `edges` span the whole codomain (end bins may reach ±∞), so the probabilities sum to 1.
    """
    bins = np.searchsorted(edges, samples, side="right") - 1
    counts = np.bincount(bins, minlength=len(edges) - 1)
    probs = np.array(
        [
            integrate.quad(lambda v: float(density.prob(v)), a, b)[0]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    expected = len(samples) * probs
    return float(np.sum((counts - expected) ** 2 / expected)), len(edges) - 2


@pytest.mark.parametrize(
    "transform,edges",
    [
        (T.Standardize(1.0, 2.0), np.concatenate([[-np.inf], np.linspace(-3, 3, 23), [np.inf]])),
        (T.Exp(), np.concatenate([[0.0], np.geomspace(0.1, 8, 23), [np.inf]])),
        (T.Sigmoid(), np.linspace(0, 1, 26)),
        (T.Sinh(), np.concatenate([[-np.inf], np.linspace(-6, 8, 23), [np.inf]])),
    ],
)
def test_histogram_of_transformed_samples_matches_density(transform, edges):
    d = T.TransformedDensity(
        T.Normal(1.0, 2.0) if transform.name == "standardize" else T.Normal(0.5, 0.9), transform
    )
    chi2, df = chi_square_statistic(d.sample(20_000, seed=123), d, edges)
    assert chi2 < stats.chi2.ppf(0.999, df), (chi2, df)


def test_chi_square_check_rejects_a_wrong_density():
    """The histogram test has power: samples from exp(N(0.5, 0.9²)) against N(0.5, 1.0²)'s pushforward."""
    good = T.TransformedDensity(T.Normal(0.5, 0.9), T.Exp())
    wrong = T.TransformedDensity(T.Normal(0.5, 1.0), T.Exp())
    edges = np.concatenate([[0.0], np.geomspace(0.1, 8, 23), [np.inf]])
    chi2, df = chi_square_statistic(good.sample(20_000, seed=123), wrong, edges)
    assert chi2 > stats.chi2.ppf(0.999, df)


def test_ks_distance_matches_scipy_kstest():
    rng = np.random.default_rng(7)
    for n in (1, 5, 100, 5000):
        s = rng.normal(0.2, 1.3, n)
        cdf = lambda v: T.normal_cdf(v, 0.0, 1.0)  # noqa: E731 - deliberately mismatched
        assert T.ks_distance(s, cdf) == pytest.approx(
            stats.kstest(s, stats.norm.cdf).statistic, abs=1e-12
        )
    d = T.TransformedDensity(T.Normal(0.0, 1.0), T.Sigmoid())
    s = d.sample(3000, seed=1)
    ref = stats.kstest(s, lambda v: stats.norm.cdf(np.log(v / (1 - v)))).statistic
    assert T.ks_distance(s, d.cdf) == pytest.approx(ref, abs=1e-12)


def test_ks_distance_hand_checked_cases():
    uniform = lambda v: np.clip(v, 0, 1)  # noqa: E731
    assert T.ks_distance([0.5], uniform) == pytest.approx(0.5)
    assert T.ks_distance([0.25, 0.75], uniform) == pytest.approx(0.25)
    assert T.ks_distance([0.9, 0.9, 0.9], uniform) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="samples"):
        T.ks_distance([], uniform)
    with pytest.raises(ValueError, match="samples"):
        T.ks_distance([0.1, np.nan], uniform)


@pytest.mark.parametrize("transform", [T.Exp(), T.Sigmoid(), T.Sinh(), T.Standardize(-1.0, 3.0)])
def test_ks_of_true_samples_stays_below_kolmogorov_quantile(transform):
    d = T.TransformedDensity(
        T.Normal(-1.0, 3.0 if transform.name == "standardize" else 0.7), transform
    )
    bound = stats.kstwobign.ppf(0.999)
    for n, seed in [(200, 1), (5000, 2)]:
        assert math.sqrt(n) * T.ks_distance(d.sample(n, seed), d.cdf) < bound


def test_kolmogorov_mean_constant():
    assert stats.kstwobign.mean() == pytest.approx(T.KS_MEAN_SQRT_N, rel=1e-9)


# ------------------------------------------------------------------------- properties


@PROPS
@given(
    mu=st.floats(-100, 100),
    sigma=st.floats(1e-3, 1e3),
    x=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20),
)
def test_affine_maps_round_trip(mu, sigma, x):
    x = np.array(x)
    for t in (T.Standardize(mu, sigma), T.Affine(mu, sigma)):
        np.testing.assert_allclose(
            t.inverse(t.forward(x)), x, rtol=1e-9, atol=1e-9 * (abs(mu) + sigma)
        )
        np.testing.assert_allclose(
            t.inv.forward(t.forward(x)), x, rtol=1e-9, atol=1e-9 * (abs(mu) + sigma)
        )


@PROPS
@given(
    name=st.sampled_from(["exp", "sigmoid", "sinh"]),
    x=st.lists(st.floats(-30, 30), min_size=1, max_size=20),
)
def test_nonlinear_maps_round_trip(name, x):
    x = np.array(x)
    t = T.get(name)
    back = t.inverse(t.forward(x))
    # sigmoid's inverse loses digits where y ≈ 1 (1 − y rounds): error ≈ ε / (1 − σ(x)).
    tol = 1e-12 * (1 + np.abs(x)) * (np.exp(np.maximum(x, 0)) if name == "sigmoid" else 1)
    assert np.all(np.abs(back - x) <= tol + 1e-12)


@PROPS
@given(name=st.sampled_from(["exp", "sigmoid", "sinh"]), x=st.floats(-8, 8))
def test_inverse_derivative_is_reciprocal_of_derivative(name, x):
    t = T.get(name)
    y = t.forward(x)
    assert float(t.inverse_derivative(y)) == pytest.approx(1.0 / float(t.derivative(x)), rel=1e-9)


BAD_SIGMAS = st.one_of(
    st.floats(max_value=0.0, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf, "abc", None]),
)


@PROPS
@given(sigma=BAD_SIGMAS)
def test_invalid_sigma_raises_value_error_naming_sigma(sigma):
    for make in (T.Standardize, T.Affine, T.Normal):
        with pytest.raises(ValueError, match="sigma"):
            make(0.0, sigma)
    with pytest.raises(ValueError, match="sigma"):
        T.normal_log_prob(0.0, 0.0, sigma)


@PROPS
@given(mu=st.sampled_from([math.nan, math.inf, -math.inf, "x", None]))
def test_invalid_mu_raises_value_error_naming_mu(mu):
    for make in (T.Standardize, T.Affine, T.Normal):
        with pytest.raises(ValueError, match="mu"):
            make(mu, 1.0)


@pytest.mark.parametrize("n", [0, -3, 1.5, T.N_MAX + 1, "10", True])
def test_invalid_n_raises_value_error_naming_n(n):
    with pytest.raises(ValueError, match="n must"):
        T.Normal().sample(n)


def test_unknown_transform_name():
    with pytest.raises(ValueError, match=r"^name \(the map\) must be one of"):
        T.get("tanh")
