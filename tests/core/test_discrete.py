"""reparam_core.discrete against enumeration, scipy quadrature and z-score bounds."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from reparam_core import discrete as d

REBAR = d.bernoulli_objective("square", 0.45)
TAUS = np.geomspace(0.05, 5, 21)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# ---------------------------------------------------------------- exact gradient


def test_rebar_exact_gradient_is_plus_0_025():
    # E f = p(1-t)² + (1-p)t², dE/dθ = p(1-p)((1-t)² - t²) = 0.25 * 0.1 at θ = 0.
    assert d.exact_gradient(REBAR, 0.0)[0] == pytest.approx(0.025, abs=1e-15)
    assert d.exact_value(REBAR, 0.0) == pytest.approx(0.5 * 0.55**2 + 0.5 * 0.45**2)


@pytest.mark.parametrize("theta", [-2.0, -0.3, 0.7, 3.0])
@pytest.mark.parametrize("shape", d.SHAPE_NAMES)
def test_bernoulli_gradient_by_enumeration(theta, shape):
    fn = d.bernoulli_objective(shape, 0.3)
    phi = {"square": lambda x: x**2, "quartic": lambda x: x**4, "abs": abs}[shape]
    p = sigmoid(theta)
    expect = p * (1 - p) * (phi(1 - 0.3) - phi(0 - 0.3))
    assert d.exact_gradient(fn, theta)[0] == pytest.approx(expect, rel=1e-12)


def test_categorical_gradient_against_finite_differences_of_enumeration():
    fn = d.categorical_objective("square", 0.45, K=4)
    logits = np.array([0.3, -1.0, 0.5, 0.0])
    target = np.array([0.45] + [0.55 / 3] * 3)
    fb = np.array([np.sum((np.eye(4)[k] - target) ** 2) for k in range(4)])

    def value(lg):
        p = np.exp(lg) / np.exp(lg).sum()
        return p @ fb

    h = 1e-6
    fd = [(value(logits + h * e) - value(logits - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(d.exact_gradient(fn, logits), fd, atol=1e-9)


# ---------------------------------------------------------------- unbiased estimators


def _z(samples_mean, expect, var, n):
    return abs(samples_mean - expect) / math.sqrt(var / n)


@pytest.mark.parametrize("theta", [0.0, 1.5])
def test_reinforce_unbiased_z_score(theta):
    p = sigmoid(theta)
    f1, f0 = 0.55**2, 0.45**2
    g1, g0 = f1 * (1 - p), f0 * (0 - p)  # per-outcome estimates, enumerated by hand
    mean = p * g1 + (1 - p) * g0
    var = p * g1**2 + (1 - p) * g0**2 - mean**2
    n = 40_000
    g = d.gradient_samples(REBAR, theta, "reinforce", n, seed=3)[:, 0]
    assert mean == pytest.approx(d.exact_gradient(REBAR, theta)[0])
    assert _z(g.mean(), mean, var, n) < 4.0


def test_loo_variance_matches_brute_force_enumeration():
    for fn, logits in [
        (REBAR, np.array([0.4, 0.0])),
        (d.categorical_objective("quartic", 0.2, K=3), np.array([0.2, -0.5, 1.0])),
    ]:
        p = np.exp(logits) / np.exp(logits).sum()
        for n in (2, 3, 4):
            est, prob = [], []
            for outcome in itertools.product(range(fn.K), repeat=n):
                b = np.eye(fn.K)[list(outcome)]
                fb = fn.f(b)
                base = (fb.sum() - fb) / (n - 1)
                est.append(np.mean((fb - base)[:, None] * (b - p), axis=0))
                prob.append(np.prod(p[list(outcome)]))
            est, prob = np.array(est), np.array(prob)
            mean = prob @ est
            np.testing.assert_allclose(mean, d.exact_gradient(fn, logits), atol=1e-14)
            var = prob @ (est - mean) ** 2
            np.testing.assert_allclose(d.loo_variance(fn, logits, n), var, rtol=1e-10, atol=1e-16)


def test_loo_unbiased_z_score_and_lower_variance_than_reinforce():
    n_batch, reps = 10, 4000
    var = d.loo_variance(REBAR, 0.0, n_batch)[0]
    means = [
        d.gradient_samples(REBAR, 0.0, "reinforce_loo", n_batch, seed=s)[:, 0].mean()
        for s in range(reps)
    ]
    assert _z(np.mean(means), 0.025, var, reps) < 4.0
    _, v_sf = d._score_moments(REBAR, np.array([0.0, 0.0]))
    assert var < v_sf[0] / n_batch / 10  # the baseline removes most of the variance here


# ---------------------------------------------------------------- relaxations


def _scipy_relaxed(fn, theta, tau, straight_through):
    def g(noise):
        u = (theta + noise) / tau
        z = sigmoid(u)
        at = float(u > 0) if straight_through else z
        return fn.dphi(np.array(at - fn.t[0])) * z * (1 - z) / tau

    def dens(x):
        return math.exp(-abs(x)) / (1 + math.exp(-abs(x))) ** 2

    kw = dict(points=[-theta], limit=400)
    m1 = integrate.quad(lambda x: g(x) * dens(x), -60, 60, **kw)[0]
    m2 = integrate.quad(lambda x: g(x) ** 2 * dens(x), -60, 60, **kw)[0]
    return m1, m2 - m1**2


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
@pytest.mark.parametrize("theta", [0.0, 1.3])
@pytest.mark.parametrize("shape", ["square", "quartic"])
def test_binary_concrete_quadrature_against_scipy(tau, theta, shape):
    fn = d.bernoulli_objective(shape, 0.45)
    c = d.tau_curves(fn, theta, [tau])
    for method, st_ in (("gumbel_softmax", False), ("straight_through", True)):
        m1, var = _scipy_relaxed(fn, theta, tau, st_)
        assert c.mean[method][0] == pytest.approx(m1, rel=1e-8, abs=1e-12)
        assert c.variance[method][0] == pytest.approx(var, rel=1e-7)


@pytest.mark.parametrize("shape", d.SHAPE_NAMES)
@pytest.mark.parametrize("theta", [0.0, -0.8])
def test_gumbel_softmax_bias_vanishes_as_tau_to_zero_and_variance_explodes(shape, theta):
    fn = d.bernoulli_objective(shape, 0.45)
    c = d.tau_curves(fn, theta, [0.002, 0.01, 0.05, 1.0, 5.0, 500.0])
    bias = np.abs(c.bias["gumbel_softmax"])
    exact = abs(c.exact)
    assert bias[0] < 0.02 * exact  # τ → 0: unbiased in the limit (O(τ))
    assert bias[0] < bias[1] < bias[3] and bias[2] < bias[3]
    # τ → ∞: |estimate| ≤ max|f'|·z(1−z)/τ ≤ max|f'|/(4τ) → 0, so bias → −exact gradient
    bound = np.max(np.abs(fn.dphi(np.linspace(0, 1, 1001) - 0.45))) / (4 * 500.0)
    assert c.bias["gumbel_softmax"][5] == pytest.approx(-c.exact, abs=bound)
    if shape != "abs":  # |b − t| has f' = ±1 near z = ½, so its bias grows late
        assert bias[4] > 0.2 * exact
    v = c.variance["gumbel_softmax"][:5]
    assert np.all(np.diff(v) < 0)  # variance falls with τ
    assert v[0] > 50 * v[3]  # and grows like 1/τ as τ → 0
    assert v[0] * 0.002 == pytest.approx(v[1] * 0.01, rel=0.3)
    assert c.variance["gumbel_softmax"][5] < v[4]


@pytest.mark.parametrize("shape", ["quartic", "abs"])
def test_straight_through_stays_biased(shape):
    fn = d.bernoulli_objective(shape, 0.45)
    c = d.tau_curves(fn, 0.0, np.geomspace(0.005, 5, 30))
    limit = d.straight_through_limit(fn, 0.0)
    # p(1-p)(f'(0)+f'(1))/2 by hand
    dphi = fn.dphi
    assert limit == pytest.approx(0.25 * (dphi(np.array(-0.45)) + dphi(np.array(0.55))) / 2)
    assert abs(limit - c.exact) > 0.5 * abs(c.exact)
    assert c.mean["straight_through"][0] == pytest.approx(limit, abs=0.01 * abs(c.exact))
    assert np.all(np.abs(c.bias["straight_through"]) > 1e-4)


def test_straight_through_limit_is_exact_for_quadratic_f():
    for theta in (0.0, 1.1):
        assert d.straight_through_limit(REBAR, theta) == pytest.approx(
            d.exact_gradient(REBAR, theta)[0]
        )


@pytest.mark.parametrize("method", ["gumbel_softmax", "straight_through"])
@pytest.mark.parametrize("tau", [0.2, 1.0])
def test_relaxed_monte_carlo_matches_quadrature_z_score(method, tau):
    n = 50_000
    g = d.gradient_samples(REBAR, 0.7, method, n, seed=11, tau=tau)[:, 0]
    c = d.tau_curves(REBAR, 0.7, [tau])
    assert _z(g.mean(), c.mean[method][0], c.variance[method][0], n) < 4.0


def test_two_class_categorical_is_twice_the_bernoulli_for_square():
    # f(z) = (z0 - t)² + (z1 - (1 - t))² = 2 (z0 - t)² on the 2-simplex
    cat = d.categorical_objective("square", 0.45, K=2)
    np.testing.assert_allclose(
        d.exact_gradient(cat, np.array([0.6, 0.0])), 2 * d.exact_gradient(REBAR, 0.6)
    )
    for method in d.METHODS:
        a = d.gradient_samples(cat, np.array([0.6, 0.0]), method, 50, seed=2, tau=0.3)
        b = d.gradient_samples(REBAR, 0.6, method, 50, seed=2, tau=0.3)
        np.testing.assert_allclose(a[:, 0], 2 * b[:, 0], rtol=1e-12, atol=1e-15)


def test_categorical_monte_carlo_curves_agree_with_their_standard_errors():
    fn = d.categorical_objective("square", 0.45, K=3)
    logits = np.zeros(3)
    c = d.tau_curves(fn, logits, [0.1, 1.0], n=4, mc_samples=40_000, seed=5)
    assert "Monte Carlo" in c.how["gumbel_softmax"]
    exact = d.exact_gradient(fn, logits)[0]
    assert exact == pytest.approx(-2 / 3 * (0.45 - 1 / 3))
    # independent MC with another seed within 4 combined standard errors
    for i, tau in enumerate([0.1, 1.0]):
        g = d.gradient_samples(fn, logits, "gumbel_softmax", 40_000, seed=99, tau=tau)[:, 0]
        se = math.hypot(c.mc_se["gumbel_softmax"][i], g.std() / math.sqrt(g.size))
        assert abs(g.mean() - c.mean["gumbel_softmax"][i]) < 4 * se
    # small τ: bias small relative to high τ
    assert abs(c.bias["gumbel_softmax"][0]) < abs(c.bias["gumbel_softmax"][1]) / 3


def test_relaxed_samples_move_to_corners_as_tau_falls():
    z = d.relaxed_samples(np.zeros(3), [5.0, 0.5, 0.05], 2000, seed=0)
    assert z.shape == (3, 2000, 3)
    np.testing.assert_allclose(z.sum(-1), 1.0)
    top = z.max(-1).mean(-1)
    assert top[0] < 0.5 < top[1] < top[2] and top[2] > 0.97


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(theta=float("nan")), "theta"),
        (dict(theta=1e6), "theta"),
        (dict(method="magic"), "method"),
        (dict(n=0), "n"),
        (dict(n=1, method="reinforce_loo"), "n"),
        (dict(tau=0.0), "tau"),
        (dict(tau=-1.0), "tau"),
        (dict(tau=float("inf")), "tau"),
        (dict(seed=-1), "seed"),
        (dict(theta=np.zeros(3)), "theta"),  # the parameter, not "logits"
    ],
)
def test_bad_input_names_the_parameter(kwargs, name):
    args = dict(f=REBAR, theta=0.0, method="reinforce", n=10, seed=0, tau=0.5) | kwargs
    with pytest.raises(ValueError, match=name):
        d.gradient_samples(**args)


def test_objective_validation():
    with pytest.raises(ValueError, match="shape"):
        d.bernoulli_objective("cube")
    with pytest.raises(ValueError, match="t"):
        d.bernoulli_objective("square", float("nan"))
    with pytest.raises(ValueError, match="K"):
        d.categorical_objective("square", 0.45, K=1)


@settings(max_examples=60, deadline=None)
@given(
    tau=st.one_of(st.floats(max_value=1e-4), st.floats(min_value=2e3), st.just(float("nan"))),
)
def test_hypothesis_bad_tau_always_value_error(tau):
    with pytest.raises(ValueError, match="tau"):
        d.tau_curves(REBAR, 0.0, [tau])


@settings(max_examples=40, deadline=None)
@given(
    theta=st.floats(-5, 5),
    tau=st.floats(0.05, 5),
    method=st.sampled_from(d.METHODS),
    n=st.integers(2, 50),
)
def test_hypothesis_valid_inputs_give_finite_estimates(theta, tau, method, n):
    g = d.gradient_samples(REBAR, theta, method, n, seed=1, tau=tau)
    assert g.shape == (n, 2) and np.all(np.isfinite(g))
    np.testing.assert_allclose(g[:, 1], -g[:, 0], atol=1e-12)  # softmax shift invariance
