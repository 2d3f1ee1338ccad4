"""reparam_core.toy_data: samplers, exact densities and the ceilings E[log p_data]."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reparam_core import toy_data as td

ALL = td.DATASETS


# --- sample -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_sample_shape_dtype_and_determinism(name):
    x = td.sample(name, 257, seed=3)
    assert x.shape == (257, 2) and x.dtype == np.float32
    assert np.isfinite(x).all()
    assert np.array_equal(x, td.sample(name, 257, seed=3))
    assert not np.array_equal(x, td.sample(name, 257, seed=4))
    assert td.sample(name, 1).shape == (1, 2)


@pytest.mark.parametrize("name", ALL)
def test_default_noise_is_none(name):
    a = td.sample(name, 100, noise=None, seed=1)
    b = td.sample(name, 100, noise=td.DEFAULT_NOISE[name], seed=1)
    assert np.array_equal(a, b)


def test_checkerboard_ignores_noise_and_lies_on_its_cells():
    a = td.sample("checkerboard", 5000, noise=0.0, seed=2)
    b = td.sample("checkerboard", 5000, noise=0.5, seed=2)
    assert np.array_equal(a, b)
    u = a / 2
    assert (np.abs(u) <= 2).all()
    assert ((np.floor(u[:, 0]) + np.floor(u[:, 1])) % 2 == 0).all()


def test_8gaussians_moments_match_closed_form():
    # x = (m_k + noise e)/1.414 with m_k on the radius-4 circle: E x = 0,
    # E|x|^2 = (16 + 2 noise^2)/1.414^2; check within 5 standard errors.
    n, noise = 20000, 0.5
    x = td.sample("8gaussians", n, seed=0).astype(np.float64)
    r2 = (x**2).sum(1)
    mean_r2 = (16 + 2 * noise**2) / 1.414**2
    # Var|x|^2 = Var over the noise only (|m_k| fixed): |m+ne|^2 = 16 + 2n m.e + n^2|e|^2
    var_r2 = (4 * noise**2 * 16 + noise**4 * 4) / 1.414**4
    assert abs(r2.mean() - mean_r2) < 5 * math.sqrt(var_r2 / n)
    assert np.all(np.abs(x.mean(0)) < 5 * math.sqrt(mean_r2 / 2 / n))


# --- validation (Hypothesis) --------------------------------------------------------------------

names = st.sampled_from(ALL)


@settings(max_examples=50, deadline=None)
@given(name=st.text(max_size=12).filter(lambda s: s not in ALL))
def test_unknown_name_raises(name):
    with pytest.raises(ValueError, match="name"):
        td.sample(name, 10)


@settings(max_examples=50, deadline=None)
@given(name=names, n=st.one_of(st.integers(max_value=0), st.integers(min_value=td.MAX_SAMPLES + 1)))
def test_bad_n_raises(name, n):
    with pytest.raises(ValueError, match="n must"):
        td.sample(name, n)


@settings(max_examples=50, deadline=None)
@given(
    name=names,
    noise=st.one_of(
        st.floats(max_value=-1e-12),
        st.sampled_from([math.nan, math.inf, -math.inf]),
        st.floats(min_value=4.01, max_value=1e300),
    ),
)
def test_bad_noise_raises(name, noise):
    with pytest.raises(ValueError, match="noise"):
        td.sample(name, 10, noise=noise)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None])
def test_bad_seed_raises(bad):
    with pytest.raises(ValueError, match="seed"):
        td.sample("moons", 10, seed=bad)
