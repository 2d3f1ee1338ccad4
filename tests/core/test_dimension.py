"""The D-dimensional variances (reparam_core.dimension) against Monte Carlo and a 2-D quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reparam_core import dimension as Dm
from reparam_core import estimators as E
from reparam_core import functions as F

THETA = (1.0, 1.0)
CASES = [("square", 1.0), ("cos", 2.0), ("exp", 1.0)]


def mc_total_variance(f, dim, method, wrt, n=40_000, batches=20, seed=3):
    """Total variance from `batches` independent runs: the mean and its standard error."""
    runs = [
        Dm.mc_variance(f, THETA, dim, method, n // batches, seed + i, wrt) for i in range(batches)
    ]
    return float(np.mean(runs)), float(np.std(runs, ddof=1) / math.sqrt(batches))


@pytest.mark.parametrize("name, k", CASES)
@pytest.mark.parametrize("wrt", ["mu", "sigma"])
@pytest.mark.parametrize("dim", [1, 10, 100])
def test_exact_total_variance_matches_monte_carlo(name, k, wrt, dim):
    f = F.get(name, k)
    exact = Dm.exact_variance(f, THETA, [dim], wrt)
    for method in Dm.METHODS:
        want = float(exact.variance[method][0])
        got, se = mc_total_variance(f, dim, method, wrt)
        assert abs(got - want) <= 5 * se + 1e-9 * max(want, 1.0), (method, got, want, se)


def test_one_dimension_is_the_one_dimensional_estimator():
    f = F.get("cos", 1.5)
    for wrt in ("mu", "sigma"):
        one = E.exact_stats(f, THETA)[wrt]
        d = Dm.exact_variance(f, THETA, [1], wrt)
        for m in Dm.METHODS:
            assert d.variance[m][0] == pytest.approx(one.variance[m], rel=1e-12)


def test_two_dimensions_against_a_tensor_quadrature():
    """Var of the score estimators of ∂/∂μ_1 E[f(x_1) + f(x_2)] by 2-D Gauss–Hermite, which
    knows nothing of the expansion in the module docstring."""
    f = F.get("cos", 1.0)
    t, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / math.sqrt(2 * math.pi)
    e1, e2 = np.meshgrid(t, t, indexing="ij")
    ww = np.outer(w, w)
    x1, x2 = THETA[0] + e1, THETA[0] + e2
    big = f.f(x1) + f.f(x2)
    s1 = e1  # ∂μ_1 log N at σ = 1
    g_true = np.sum(ww * big * s1)
    var_score = np.sum(ww * (big * s1) ** 2) - g_true**2
    b = np.sum(ww * big * s1**2) / np.sum(ww * s1**2)
    var_base = np.sum(ww * ((big - b) * s1) ** 2) - g_true**2
    d = Dm.exact_variance(f, THETA, [2], "mu")
    assert d.variance["score"][0] == pytest.approx(2 * var_score, rel=1e-10)
    assert d.variance["score_baseline"][0] == pytest.approx(2 * var_base, rel=1e-10)
    assert d.true[0] == pytest.approx(g_true, rel=1e-10)


def test_growth_orders():
    """Pathwise and measure-valued grow like D; the score function like D³ when E f ≠ 0, and
    like D² with the optimal baseline."""
    f = F.get("square", 1.0)  # E f = 1 + 0 = 1 at μ = k
    dims = [100, 1000]
    ex = Dm.exact_variance(f, THETA, dims, "mu")
    growth = {m: ex.variance[m][1] / ex.variance[m][0] for m in Dm.METHODS if m != "measure_valued"}
    assert growth["pathwise"] == pytest.approx(10.0)
    assert 900 < growth["score"] < 1000
    assert 90 < growth["score_baseline"] < 100


@pytest.mark.parametrize("name, k", [("cos", 3.0), ("exp", 0.5), ("abs", 0.2)])
def test_pathwise_bound(name, k):
    f = F.get(name, k)
    x = np.linspace(-20, 20, 400_001)
    assert Dm.lipschitz(f) == pytest.approx(np.max(np.abs(f.df(x))), rel=1e-6)
    for wrt in ("mu", "sigma"):
        ex = Dm.exact_variance(f, THETA, Dm.DIMS, wrt)
        assert np.all(ex.variance["pathwise"] <= Dm.pathwise_bound(f, Dm.DIMS) * (1 + 1e-12))
    assert Dm.lipschitz(F.get("square", 0.0)) is None


def test_cost_per_sample():
    c = Dm.cost([1, 10, 1000])
    assert list(c["measure_valued"]) == [2, 20, 2000]
    assert list(c["pathwise"]) == [1, 1, 1] and list(c["score"]) == [1, 1, 1]


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: Dm.exact_variance(F.get("cos", 1.0), THETA, [0]), "dims"),
        (lambda: Dm.exact_variance(F.get("cos", 1.0), THETA, [2000]), "dims"),
        (lambda: Dm.exact_variance(F.get("cos", 1.0), THETA, [1.5]), "dims"),
        (lambda: Dm.exact_variance(F.get("cos", 1.0), THETA, [1], "tau"), "wrt"),
        (lambda: Dm.exact_variance(F.get("cos", 1.0), (1.0, 0.0), [1]), "sigma"),
        (lambda: Dm.mc_variance(F.get("cos", 1.0), THETA, 1000, "score", 10**6), "n"),
        (lambda: Dm.mc_variance(F.get("cos", 1.0), THETA, 10, "nope", 100), "method"),
        (lambda: Dm.lipschitz("cos"), "f"),
    ],
)
def test_invalid_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_relative_error_scaling_and_usable_dimension():
    f = F.get("square", 2.0)  # g_μ = 2(μ − k) = −2, E f = 2: the score function grows like D³
    dims = Dm.DIMS
    ex = Dm.exact_variance(f, THETA, dims, "mu")
    rel = Dm.relative_error(ex, dims, 1000)
    # pathwise: Var = 4D at σ = 1 (f' = 2(x − k)), ‖∇‖² = 4D → sqrt(4D / 1000) / (2√D)
    assert np.allclose(rel["pathwise"], math.sqrt(1 / 1000))
    # measure-valued: 2D evaluations per sample, Var ∝ D → relative error ∝ √D
    assert rel["measure_valued"][-1] / rel["measure_valued"][0] == pytest.approx(
        math.sqrt(dims[-1] / dims[0]), rel=1e-9
    )
    up_to = Dm.usable_up_to(dims, rel["score"], 0.1)
    i = list(dims).index(up_to)
    assert rel["score"][i] <= 0.1 < rel["score"][i + 1]
    assert Dm.usable_up_to(dims, rel["pathwise"], 0.1) == dims[-1]
    assert Dm.usable_up_to(dims, rel["score"], 1e-6) is None
    zero = Dm.exact_variance(F.get("square", 1.0), THETA, dims, "mu")  # g_μ = 0 at μ = k
    assert np.all(np.isinf(Dm.relative_error(zero, dims, 1000)["score"]))
