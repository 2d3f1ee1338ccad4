"""One sweep over the public functions of reparam_core: every invalid argument raises ValueError,
and the message names the parameter (issue: "bad input everywhere"). Each row is a call with valid
arguments and the kind of each checked parameter; Hypothesis picks a parameter and one of its
kind's invalid values (or draws one: NaN, ±inf, negatives, fractions, wrong types)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reparam_core import (
    checks,
    diffusion,
    discrete,
    estimators,
    expr,
    implicit,
    toy_data,
    transforms,
)
from reparam_core import functions as F

NOT_NUMBERS = ["1.0", None, True, [1.0], {"x": 1}, 1 + 2j]
BAD = {
    "real": [math.nan, math.inf, -math.inf, *NOT_NUMBERS],
    "optional_real": [math.nan, math.inf, -math.inf, *NOT_NUMBERS[:1], *NOT_NUMBERS[2:]],
    "positive": [0.0, -1.0, -1e-300, math.nan, math.inf, *NOT_NUMBERS],
    "count": [0, -1, 1.5, math.nan, math.inf, "3", None, True],
    "n": [0, -1, 1.5, math.nan, math.inf, "3", None, True, 10**12],  # a sample count: capped
    "seed": [-1, 1.5, math.nan, "0", None, True],
    "choice": ["no such option", "", None, 3, True],
    "unit": [0.0, 1.0, -0.5, 1.5, math.nan, *NOT_NUMBERS],  # inside (0, 1)
}
DRAWN = {  # what Hypothesis adds to each kind's fixed list
    "real": st.sampled_from([math.nan, math.inf, -math.inf]),
    "optional_real": st.sampled_from([math.nan, math.inf, -math.inf]),
    "positive": st.floats(max_value=0.0, allow_nan=False) | st.just(math.nan),
    "count": st.integers(max_value=0) | st.floats(0.01, 1e6).filter(lambda v: v != int(v)),
    "n": st.integers(max_value=0) | st.integers(min_value=10**9),
    "seed": st.integers(max_value=-1),
    "choice": st.text(max_size=8).filter(lambda s: s not in KNOWN_CHOICES),
    "unit": st.floats(min_value=1.0) | st.floats(max_value=0.0),
}
KNOWN_CHOICES = {
    *F.NAMES,
    *F.REGISTRY,  # the families
    *estimators.WRT,
    *estimators.METHODS,
    *toy_data.DATASETS,
    *F.GAMMA_NAMES,
    *implicit.METHODS,
    *discrete.METHODS,
    *discrete.SHAPE_NAMES,
    *transforms.NONLINEAR,
    *diffusion.SCHEDULES,
    "eps",
    "x0",
    "v",  # the diffusion network's parameterizations
}


def _vae():
    from reparam_core import vae  # torch: imported by the rows that need it

    return vae


def _vae_train():
    from reparam_core import vae_train

    return vae_train


def _diffusion_train():
    from reparam_core import diffusion_train

    return diffusion_train


SQUARE = F.get("square", 1.0)
DENSITY = transforms.TransformedDensity(transforms.Normal(0.0, 1.0), transforms.get("exp"))
BERN = discrete.bernoulli_objective()
G = np.random.default_rng(0).standard_normal(200)

# (label, function, valid keyword arguments, {parameter: kind})
CALLS = [
    ("functions.get", F.get, {"name": "square", "k": 1.0}, {"name": "choice", "k": "real"}),
    ("functions.cos", F.cos, {"k": 1.0}, {"k": "real"}),
    (
        "functions.get (gamma)",
        F.get,
        {"name": "log", "family": "gamma"},
        {"name": "choice", "family": "choice"},
    ),
    (
        "estimators.exact_stats",
        lambda f, mu, sigma: estimators.exact_stats(f, (mu, sigma)),
        {"f": SQUARE, "mu": 1.0, "sigma": 1.0},
        {"mu": "real", "sigma": "positive"},
    ),
    (
        "estimators.gradient_samples",
        lambda f, mu, sigma, **kw: estimators.gradient_samples(f, (mu, sigma), **kw),
        {
            "f": SQUARE,
            "mu": 1.0,
            "sigma": 1.0,
            "wrt": "sigma",
            "method": "score",
            "n": 10,
            "seed": 0,
        },
        {
            "mu": "real",
            "sigma": "positive",
            "wrt": "choice",
            "method": "choice",
            "n": "n",
            "seed": "seed",
        },
    ),
    (
        "estimators.exact_sweep",
        lambda mu, sigma, **kw: estimators.exact_sweep(theta=(mu, sigma), **kw),
        {"name": "square", "ks": np.linspace(-1, 1, 3), "mu": 1.0, "sigma": 1.0},
        {"name": "choice", "mu": "real", "sigma": "positive"},
    ),
    (
        "estimators.draw_eps",
        estimators.draw_eps,
        {"n": 5, "seed": 0},
        {"n": "n", "seed": "seed"},
    ),
    (
        "estimators.running_mean",
        estimators.running_mean,
        {"g": G, "points": 10},
        {"points": "count"},
    ),
    (
        "estimators.batch_mean_variance",
        estimators.batch_mean_variance,
        {"g": G, "min_batches": 10},
        {"min_batches": "count"},
    ),
    (
        "transforms.Affine",
        transforms.Affine,
        {"mu": 0.0, "sigma": 1.0},
        {"mu": "real", "sigma": "positive"},
    ),
    (
        "transforms.Normal",
        transforms.Normal,
        {"mu": 0.0, "sigma": 1.0},
        {"mu": "real", "sigma": "positive"},
    ),
    ("transforms.get", transforms.get, {"name": "exp"}, {"name": "choice"}),
    (
        "transforms.standardize_path",
        transforms.standardize_path,
        {"mu": 1.0, "sigma": 2.0, "frames_per_stage": 5},
        {"mu": "real", "sigma": "positive", "frames_per_stage": "count"},
    ),
    (
        "checks.central_edges",
        checks.central_edges,
        {"density": DENSITY, "bins": 10, "mass": 0.99},
        {"bins": "count", "mass": "unit"},
    ),
    ("expr.parse_function", expr.parse_function, {"source": "x**2 + k", "k": 1.0}, {"k": "real"}),
    (
        "discrete.bernoulli_objective",
        discrete.bernoulli_objective,
        {"shape": "square", "t": 0.45},
        {"shape": "choice", "t": "real"},
    ),
    (
        "discrete.gradient_samples",
        discrete.gradient_samples,
        {"f": BERN, "theta": 0.3, "method": discrete.METHODS[0], "n": 10, "seed": 0, "tau": 0.5},
        {"theta": "real", "method": "choice", "n": "n", "seed": "seed", "tau": "positive"},
    ),
    (
        "implicit.gradient_samples",
        implicit.gradient_samples,
        {
            "f": F.get(F.GAMMA_NAMES[0], family="gamma"),
            "alpha": 2.0,
            "method": implicit.METHODS[0],
            "n": 10,
            "seed": 0,
        },
        {"alpha": "positive", "method": "choice", "n": "n", "seed": "seed"},
    ),
    (
        "implicit.samples",
        implicit.samples,
        {"alpha": 2.0, "n": 10, "seed": 0},
        {"alpha": "positive", "n": "n", "seed": "seed"},
    ),
    (
        "toy_data.sample",
        toy_data.sample,
        {"name": "moons", "n": 10, "noise": 0.1, "seed": 0},
        {"name": "choice", "n": "n", "noise": "optional_real", "seed": "seed"},
    ),
    (
        "vae.VAE",
        lambda **kw: _vae().VAE(**kw),
        {"x_dim": 2, "z_dim": 2, "hidden": 8, "depth": 2},
        {"x_dim": "count", "z_dim": "count", "hidden": "count", "depth": "count"},
    ),
    (
        "vae_train.TrainConfig",
        lambda **kw: _vae_train().TrainConfig(**kw).validate(),
        {"dataset": "moons", "lr": 0.005, "batch_size": 64, "beta": 1.0, "seed": 0},
        {"dataset": "choice", "lr": "positive", "batch_size": "count", "seed": "seed"},
    ),
    (
        "diffusion.schedule",
        diffusion.schedule,
        {"name": "cosine", "T": 100},
        {"name": "choice", "T": "count"},
    ),
    (
        "diffusion.forward_sample",
        diffusion.forward_sample,
        {"x0": np.zeros((3, 2)), "t": 5, "sched": diffusion.schedule("cosine", 10), "seed": 0},
        {"seed": "seed"},
    ),
    (
        "diffusion.noised_log_prob",
        diffusion.noised_log_prob,
        {"name": "moons", "x": np.zeros((3, 2)), "alpha_bar": 0.5, "noise": 0.1},
        {"name": "choice", "alpha_bar": "real", "noise": "optional_real"},
    ),
    (
        "diffusion.noised_score",
        diffusion.noised_score,
        {"name": "8gaussians", "x": np.zeros((3, 2)), "alpha_bar": 0.5},
        {"name": "choice", "alpha_bar": "real"},
    ),
    (
        "diffusion_train.DiffusionConfig",
        lambda **kw: _diffusion_train().DiffusionConfig(**kw).validate(),
        {
            "dataset": "moons",
            "schedule": "cosine",
            "T": 100,
            "parameterization": "v",
            "width": 64,
            "lr": 0.002,
            "batch_size": 128,
            "seed": 0,
        },
        {
            "dataset": "choice",
            "schedule": "choice",
            "T": "count",
            "parameterization": "choice",
            "width": "count",
            "lr": "positive",
            "batch_size": "count",
            "seed": "seed",
        },
    ),
    (
        "toy_data.ceiling",
        toy_data.ceiling,
        {"name": "moons", "noise": 0.1},
        {"name": "choice", "noise": "optional_real"},
    ),
]


def _cases():
    return [(label, param) for label, _, _, kinds in CALLS for param in kinds]


@pytest.mark.parametrize(
    ("label", "fn", "kwargs"), [c[:3] for c in CALLS], ids=[c[0] for c in CALLS]
)
def test_the_valid_call_works(label, fn, kwargs):
    fn(**kwargs)  # the baseline: only the one argument below makes a call invalid


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_invalid_argument_raises_value_error_naming_it(data):
    label, param = data.draw(st.sampled_from(_cases()), label="call, parameter")
    _, fn, kwargs, kinds = next(c for c in CALLS if c[0] == label)
    kind = kinds[param]
    bad = data.draw(st.sampled_from(BAD[kind]) | DRAWN[kind], label=f"{param} ({kind})")
    with pytest.raises(ValueError, match=rf"\b{re.escape(param)}\b"):
        fn(**{**kwargs, param: bad})


def test_whole_numbers_may_come_as_integral_floats():
    """One integer check for the whole core (validate.whole): 2.0 is the whole number 2, 2.5 and
    True are not, and the message names the parameter and the bound."""
    from reparam_core import toy_data, validate

    assert validate.whole("n", 2.0, 1, 5) == 2 and type(validate.whole("n", np.int64(3), 1)) is int
    assert toy_data.sample("moons", 4.0, seed=1.0).shape == (4, 2)
    for bad in (2.5, True, "2", math.nan):
        with pytest.raises(ValueError, match=r"^n must be a whole number, got"):
            validate.whole("n", bad, 1, 5)
    with pytest.raises(ValueError, match=r"^seed must be a whole number ≥ 0, got -1$"):
        validate.check_seed(-1)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: implicit.sample_paths(np.array([1.0, 2.0]), n_paths=v), "n_paths"),
        (lambda v: implicit.sample_paths(np.array([1.0, 2.0]), sample_index=v), "sample_index"),
        (
            lambda v: discrete.tau_curves(discrete.bernoulli_objective(), 0.0, [0.5], mc_samples=v),
            "mc_samples",
        ),
        (lambda v: discrete.categorical_objective(K=v), "K"),
    ],
)
def test_counts_other_than_n_are_named(call, name):
    """These were checked as "n" (or, for K, took the string "3"): the message now names them."""
    for bad in (-1, 2.5, "3", None, 10**9):
        with pytest.raises(ValueError, match=rf"^{name} must be a whole number"):
            call(bad)
