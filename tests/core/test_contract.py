"""The estimator contract: one registry, one `gradient_samples` call shape, one `ExactStats`, one
quadrature module and the shared argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reparam_core import discrete as D
from reparam_core import estimators as E
from reparam_core import functions as F
from reparam_core import implicit as IM
from reparam_core import quadrature, registry, validate
from reparam_core.stats import ExactStats

# family → (module, objective, theta, options): what a view needs to loop over any family
FAMILIES = {
    "gaussian": (E, F.get("cos", 2.0), (0.5, 1.2), {"wrt": "sigma"}),
    "discrete": (D, D.bernoulli_objective(), 0.3, {"tau": 0.5}),
    "gamma": (IM, F.get("log", family="gamma"), 2.0, {}),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_draws_with_one_call_shape(family):
    module, f, theta, options = FAMILIES[family]
    assert module.METHODS == registry.methods(family)
    for method in registry.methods(family):
        g = module.gradient_samples(f, theta, method, 40, 3, **options)
        again = module.gradient_samples(f, theta, method, 40, 3, **options)
        assert g.shape[0] == 40 and np.all(np.isfinite(g))
        np.testing.assert_array_equal(g, again)  # the seed fixes the draws


def test_exact_statistics_share_one_type():
    gaussian = E.exact_stats(F.get("square", 0.0), (1.0, 1.0))
    gamma = IM.exact_stats(F.get("z", family="gamma"), 2.0)
    tau = D.tau_curves(D.bernoulli_objective(), 0.0, [0.5], n=4)
    for stats, family in ((gaussian["mu"], "gaussian"), (gaussian["sigma"], "gaussian"),
                          (gamma, "gamma")):  # fmt: skip
        assert isinstance(stats, ExactStats) and stats.methods == registry.methods(family)
    assert isinstance(tau, ExactStats) and tau.exact == tau.true == pytest.approx(0.025)
    assert gaussian["mu"].variance["pathwise"] == pytest.approx(4.0, rel=1e-9)  # Fig. 2: 4σ²
    assert gaussian["mu"].bias["pathwise"] == pytest.approx(0.0, abs=1e-12)
    assert gamma.true == pytest.approx(1.0, rel=1e-9) and gamma.bias == {
        "implicit": 0.0,
        "score": 0.0,
    }
    np.testing.assert_allclose(tau.mse["reinforce"], tau.variance["reinforce"])  # unbiased


def test_objectives_follow_one_protocol():
    for f in (F.get("abs", 1.0), F.get("sqrt", family="gamma"), D.categorical_objective(K=3)):
        assert isinstance(f.name, str) and isinstance(f.latex, str)
        x = np.full((2, 3), 0.4)
        assert np.shape(f.f(x))[0] == 2 and np.shape(f.df(x))[0] == 2


def test_registry_labels_and_lookup():
    for family, members in registry.FAMILIES.items():
        for name, e in members.items():
            assert registry.get(family, name) is e and e.family == family and e.name == name
            assert e.colour.startswith("#") and len(e.colour) == 7 and e.cost >= 1
        assert len({e.label for e in members.values()}) == len(members)
    assert registry.GAUSSIAN["measure_valued"].cost == 2  # two f per parameter
    assert E.COST == {"pathwise": 1, "score": 1, "score_baseline": 1, "measure_valued": 2}
    assert registry.methods("vae") == ("pathwise", "score", "score_baseline")
    with pytest.raises(ValueError, match=r"^family must be one of"):
        registry.get("poisson", "score")
    with pytest.raises(ValueError, match=r"^method must be one of"):
        registry.get("gamma", "pathwise")


@pytest.mark.parametrize("q", [1, 8, 16, 20, 64])
def test_quadrature_is_exact_for_polynomials(q):
    x, w = quadrature.uniform(-1.0, 2.0, 0.7, q)
    for degree in range(2 * q):
        assert np.sum(w * x**degree) == pytest.approx(
            (2.0 ** (degree + 1) - (-1.0) ** (degree + 1)) / (degree + 1), rel=1e-12, abs=1e-12
        )
    xi, wi = quadrature.rule(q)
    s = quadrature.integration_matrix(q)
    np.testing.assert_allclose(s @ xi ** (q - 1), (xi**q - (-1.0) ** q) / q, atol=1e-12)
    assert not xi.flags.writeable and not s.flags.writeable  # shared by every caller
    centre, half = quadrature.on_panels(np.array([0.0, 1.0]), np.array([0.5, 0.25]), q)
    assert centre.shape == half.shape == (2, q) and half.sum() == pytest.approx(1.5)


def test_shared_checks_name_the_parameter():
    assert validate.positive("sigma", 2) == 2.0
    assert validate.in_range("tau", 1e-3, 1e-3, 1e3) == 1e-3
    assert validate.fraction("mass", 0.5) == 0.5
    assert validate.choice("wrt", "mu", ("mu", "sigma")) == "mu"
    for call, message in (
        (lambda: validate.positive("sigma", -1), r"^sigma must be > 0, got -1$"),
        (lambda: validate.positive("sigma", math.nan), r"^sigma must be finite"),
        (lambda: validate.in_range("tau", 2e3, 1e-3, 1e3), r"^tau must be in \[0.001, 1000\]"),
        (lambda: validate.fraction("mass", 1.0), r"^mass must be in \(0, 1\), got 1.0$"),
        (lambda: validate.choice("wrt", None, ("mu",)), r"^wrt must be one of \['mu'\], got None$"),
        (lambda: validate.choice("name", "x", ("a",), "the map"), r"^name \(the map\) must be"),
    ):
        with pytest.raises(ValueError, match=message):
            call()
    assert E.N_MAX == validate.N_MAX == validate.check_n.__defaults__[1]
