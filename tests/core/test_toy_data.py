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


# --- log_prob against independent references (scipy) ------------------------------------------

from scipy import integrate, special, stats  # noqa: E402


def _moon_centre(t, k):
    c = (math.cos(t), math.sin(t)) if k == 0 else (1 - math.cos(t), 0.5 - math.sin(t))
    return np.array([2 * c[0] - 1, 2 * c[1] - 0.2])


def _ref_moons(x, noise):
    """(1/2π) Σ_k ∫_0^π N(x; c_k(t), (2 noise)² I) dt by adaptive quadrature."""
    s = 2 * noise

    def f(t, k):
        d2 = ((x - _moon_centre(t, k)) ** 2).sum()
        return math.exp(-d2 / (2 * s * s)) / (2 * math.pi * s * s) / (2 * math.pi)

    pts = np.linspace(0, math.pi, 40)[1:-1]
    return math.log(
        sum(
            integrate.quad(f, 0, math.pi, args=(k,), points=pts, limit=500, epsrel=1e-12)[0]
            for k in (0, 1)
        )
    )


def _ref_2spirals(x, noise):
    """½ Σ_± ∫_0^{3π} (2t/9π²) g(x_1 ∓ c_1(t)/3) g(x_2 ∓ c_2(t)/3) dt, g the U[0,w] ⊛ N(0, noise²)
    density (reflected for the − spiral), by adaptive quadrature with scipy's ndtr."""
    w = 0.5 / 3
    big_t = 3 * math.pi

    def g(z):
        return (special.ndtr(z / noise) - special.ndtr((z - w) / noise)) / w

    def f(t, sign):
        c = np.array([-t * math.cos(t), t * math.sin(t)]) / 3
        z = sign * x - c
        return g(z[0]) * g(z[1]) * 2 * t / big_t**2 / 2

    pts = np.linspace(0, big_t, 300)[1:-1]
    return math.log(
        sum(
            integrate.quad(f, 0, big_t, args=(sg,), points=pts, limit=3000, epsrel=1e-11)[0]
            for sg in (1, -1)
        )
    )


def _ref_circles(x, noise):
    s = 3 * noise

    def f(t, radius):
        d2 = (x[0] - radius * math.cos(t)) ** 2 + (x[1] - radius * math.sin(t)) ** 2
        return math.exp(-d2 / (2 * s * s)) / (2 * math.pi * s * s) / (4 * math.pi)

    return math.log(
        sum(
            integrate.quad(f, 0, 2 * math.pi, args=(R,), limit=500, epsrel=1e-12)[0]
            for R in (3.0, 1.5)
        )
    )


def _ref_8gaussians(x, noise):
    s = noise / 1.414
    angle = np.arange(8) * math.pi / 4
    centres = 4 / 1.414 * np.stack([np.cos(angle), np.sin(angle)], 1)
    comps = [stats.multivariate_normal(c, s * s * np.eye(2)).logpdf(x) for c in centres]
    return special.logsumexp(comps, axis=0) - math.log(8)


REFS = {
    "moons": _ref_moons,
    "2spirals": _ref_2spirals,
    "circles": _ref_circles,
    "8gaussians": _ref_8gaussians,
}


@pytest.mark.parametrize("name", sorted(REFS))
@pytest.mark.parametrize("scale", [0.25, 1.0, 4.0])
def test_log_prob_matches_adaptive_quadrature(name, scale):
    noise = td.DEFAULT_NOISE[name] * scale
    x = np.concatenate([td.sample(name, 4, noise=noise, seed=11), [[0.3, -0.4]]]).astype(np.float64)
    ours = td.log_prob(name, x, noise=noise)
    ref = np.array([REFS[name](p, noise) for p in x])
    keep = ref > -50  # scipy's quad underflows far from the data; compare where it is exact
    # NR erfc in the spirals kernel is good to 1.2e-7 relative; everything else to ~1e-12.
    tol = 1e-6 if name == "2spirals" else 1e-9
    np.testing.assert_allclose(ours[keep], ref[keep], rtol=0, atol=tol)
    assert keep.sum() >= 4


def test_pinwheel_log_prob_is_the_change_of_variables():
    # In the bulk of an arm the map (r, tau) -> x is one-to-one, so
    # log p(x) = log N(r; 1, .3²) + log N(tau; 0, noise²) − log|det ∂x/∂(r, tau)| − log 5,
    # with the Jacobian here by central finite differences of the forward map.
    noise = 0.1
    rng = np.random.default_rng(0)
    r = rng.uniform(0.7, 1.4, 20)
    tau = rng.uniform(-0.15, 0.15, 20)
    k = rng.integers(0, 5, 20)

    def fwd(r, tau, k):
        a = 2 * np.pi * k / 5 + 0.25 * np.exp(r)
        return 2 * np.stack([r * np.cos(a) + tau * np.sin(a), -r * np.sin(a) + tau * np.cos(a)], -1)

    h = 1e-6
    jr = (fwd(r + h, tau, k) - fwd(r - h, tau, k)) / (2 * h)
    jt = (fwd(r, tau + h, k) - fwd(r, tau - h, k)) / (2 * h)
    det = jr[:, 0] * jt[:, 1] - jr[:, 1] * jt[:, 0]
    expected = (
        stats.norm(1, 0.3).logpdf(r)
        + stats.norm(0, noise).logpdf(tau)
        - np.log(np.abs(det))
        - math.log(5)
    )
    np.testing.assert_allclose(
        td.log_prob("pinwheel", fwd(r, tau, k), noise), expected, rtol=0, atol=1e-7
    )
    # Out in the tails, where the arms fold (|det| → 0 at tau = −4 e^−r), a point can have
    # several preimages, so log p(x) ≥ the one-preimage term — never less (no root is lost).
    r = rng.uniform(1.5, 3.2, 3000)
    tau = rng.normal(0, 2 * noise, 3000)
    k = rng.integers(0, 5, 3000)
    det = 4 * (1 + 0.25 * np.exp(r) * tau)
    one = stats.norm(1, 0.3).logpdf(r) + stats.norm(0, noise).logpdf(tau)
    one = one - np.log(np.abs(det)) - math.log(5)
    lp = td.log_prob("pinwheel", fwd(r, tau, k), noise)
    assert np.all(lp >= one - 1e-9)
    assert np.any(lp > one + 0.1)  # the folds are really there


def test_checkerboard_log_prob_is_uniform_on_its_cells():
    x = np.array([[0.5, 0.5], [2.5, 0.5], [-3.9, -3.9], [4.5, 0.0], [-0.5, 0.5]])
    lp = td.log_prob("checkerboard", x)
    assert lp[0] == lp[2] == -math.log(32)
    assert np.isneginf(lp[[1, 3, 4]]).all()


def test_log_prob_keeps_leading_shape():
    x = td.sample("moons", 12).reshape(3, 4, 2)
    lp = td.log_prob("moons", x)
    assert lp.shape == (3, 4) and lp.dtype == np.float64
    np.testing.assert_array_equal(lp.ravel(), td.log_prob("moons", x.reshape(-1, 2)))


# --- log_prob integrates to one -------------------------------------------------------------------


def _width(name, noise):
    """The smallest length scale of the density (its Gaussian kernel width in final coordinates)."""
    return {
        "moons": 2 * noise,
        "circles": 3 * noise,
        "8gaussians": noise / 1.414,
        "pinwheel": noise,  # arms thin to ~2·noise/4 across at r ≈ 2
        "2spirals": noise,
        "checkerboard": 0.25,
    }[name]


def _grid_probabilities(name, noise, lim=6.0, bins=24, sub=None):
    """Probabilities of a bins×bins partition of [−lim, lim]², each bin integrated by the midpoint
    rule on sub×sub cells of side ≤ width/2 (exact for the checkerboard, whose cells align)."""
    bw = 2 * lim / bins
    noise = td.DEFAULT_NOISE[name] if noise is None else noise
    sub = sub or max(1, math.ceil(bw / (0.5 * _width(name, noise))))
    h = bw / sub
    c = -lim + h * (np.arange(bins * sub) + 0.5)
    xx, yy = np.meshgrid(c, c, indexing="ij")
    p = np.exp(td.log_prob(name, np.stack([xx, yy], -1), noise=noise)) * h * h
    return p.reshape(bins, sub, bins, sub).sum((1, 3))


@pytest.mark.parametrize("name", ALL)
def test_log_prob_integrates_to_one(name):
    # The trapezoid rule on a grid of step ≤ width/2 converges like exp(−2π²(width/h)²) ≈ e^-79
    # for these smooth densities (checkerboard: the midpoint rule on aligned cells is exact), and
    # every curve lies within |x| < 4 (the pinwheel's radius 2r, r ~ N(1, .3²), within 6.5 up to
    # 7.5 sd), so the mass outside the box is < 1e-12.
    # (pinwheel: default only — at high noise its caustics make the grid rule only O(h^1.5),
    # and at low noise the grid gets large)
    top = td.DEFAULT_NOISE[name] if name == "pinwheel" else td.NOISE_RANGE[name][1]
    for noise in {td.DEFAULT_NOISE[name], top}:
        if name == "checkerboard":
            noise = None
        lim = 6.5 if name == "pinwheel" else 4.0 + 10 * _width(name, noise or 0.0)
        mass = _grid_probabilities(name, noise, lim=lim, bins=8).sum()
        assert abs(mass - 1) < 1e-7, (name, noise, mass)


# --- samples follow the density: binned chi-square ----------------------------------------------


def _chi2_pvalue(name, noise_sample, noise_density, n=20000, seed=123):
    x = td.sample(name, n, noise=noise_sample, seed=seed)
    lim, bins = 5.0, 20
    prob = _grid_probabilities(name, noise_density, lim, bins).ravel()
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=bins, range=[[-lim, lim], [-lim, lim]])
    counts = counts.ravel()
    expected = n * prob
    big = expected >= 5
    obs = np.append(counts[big], n - counts[big].sum())
    exp = np.append(expected[big], n - expected[big].sum())
    if exp[-1] < 5:  # fold a tiny remainder into the largest bin
        obs[np.argmax(exp[:-1])] += obs[-1]
        exp[np.argmax(exp[:-1])] += exp[-1]
        obs, exp = obs[:-1], exp[:-1]
    chi2 = float(((obs - exp) ** 2 / exp).sum())
    return stats.chi2.sf(chi2, len(obs) - 1)


@pytest.mark.parametrize("name", ALL)
def test_samples_follow_the_density(name):
    assert _chi2_pvalue(name, None, None) > 1e-4


@pytest.mark.parametrize("name", ["moons", "circles", "pinwheel"])
def test_chi_square_detects_a_wrong_noise(name):
    # the same test has power: samples with 1.3 × the noise are rejected
    noise = td.DEFAULT_NOISE[name]
    assert _chi2_pvalue(name, 1.3 * noise, noise) < 1e-6


# --- the ceiling ---------------------------------------------------------------------------------


def test_checkerboard_ceiling_is_minus_log_32():
    assert td.ceiling("checkerboard") == pytest.approx(-math.log(32), abs=1e-15)
    assert td.ceiling("checkerboard", noise=0.3) == td.ceiling("checkerboard")


def test_moons_ceiling_is_about_minus_2_39():
    assert abs(td.ceiling("moons") - (-2.39)) < 0.01


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("which", ["default", "low", "high"])
def test_ceiling_matches_monte_carlo(name, which):
    lo, hi = td.NOISE_RANGE[name]
    noise = {"default": td.DEFAULT_NOISE[name], "low": lo, "high": hi}[which]
    if name == "checkerboard":
        noise = None
    n = 20000
    lp = td.log_prob(name, td.sample(name, n, noise=noise, seed=7), noise=noise)
    c = td.ceiling(name, noise)
    se = lp.std(ddof=1) / math.sqrt(n)
    if name == "checkerboard":
        assert np.all(lp == c)
    else:
        assert abs(lp.mean() - c) < 4 * se, (lp.mean(), c, se)


def test_circles_ceiling_matches_a_radial_integral():
    # p is radial: E log p = ∫ 2πρ p(ρ) log p(ρ) dρ with p from scipy's exponentially scaled I0.
    noise = 0.08
    s2 = (3 * noise) ** 2

    def logp(rho):
        t = [
            -((rho - R) ** 2) / (2 * s2)
            + np.log(special.i0e(rho * R / s2))
            - math.log(4 * math.pi * s2)
            for R in (3.0, 1.5)
        ]
        return np.logaddexp(*t)

    ref, _ = integrate.quad(
        lambda r: 2 * math.pi * r * math.exp(logp(r)) * logp(r), 0, 8, limit=500, epsabs=1e-12
    )
    assert td.ceiling("circles", noise) == pytest.approx(ref, abs=1e-8)


def test_8gaussians_ceiling_matches_gauss_hermite():
    # By symmetry E log p = E_{x~N(m_0, s²I)} log p(x); 2-D Gauss–Hermite with scipy's log p.
    noise = 0.5
    s = noise / 1.414
    z, w = special.roots_hermitenorm(60)
    w = w / w.sum()
    pts = np.stack(np.meshgrid(4 / 1.414 + s * z, s * z, indexing="ij"), -1).reshape(-1, 2)
    lp = _ref_8gaussians(pts, noise).reshape(60, 60)
    # the ceiling's trapezoid grid (step 0.75 s) is good to ~1e-7
    assert td.ceiling("8gaussians", noise) == pytest.approx(float(w @ lp @ w), abs=1e-6)


def test_ceiling_is_cached_and_float():
    c = td.ceiling("2spirals")
    assert isinstance(c, float) and td.ceiling("2spirals", None) == c


# --- validation of log_prob / ceiling ----------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(name=st.text(max_size=12).filter(lambda s: s not in ALL))
def test_density_unknown_name_raises(name):
    with pytest.raises(ValueError, match="name"):
        td.log_prob(name, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="name"):
        td.ceiling(name)


@settings(max_examples=60, deadline=None)
@given(name=names.filter(lambda s: s != "checkerboard"), frac=st.floats(0.0, 0.99))
def test_density_rejects_too_small_noise(name, frac):
    noise = frac * td.NOISE_RANGE[name][0]
    with pytest.raises(ValueError, match="noise"):
        td.log_prob(name, np.zeros((1, 2)), noise=noise)
    with pytest.raises(ValueError, match="noise"):
        td.ceiling(name, noise=noise)


@settings(max_examples=60, deadline=None)
@given(
    name=names,
    noise=st.one_of(
        st.floats(max_value=-1e-12),
        st.sampled_from([math.nan, math.inf, -math.inf, "0.1", True]),
        st.floats(min_value=4.01, max_value=1e300),
    ),
)
def test_density_rejects_bad_noise(name, noise):
    with pytest.raises(ValueError, match="noise"):
        td.log_prob(name, np.zeros((1, 2)), noise=noise)
    with pytest.raises(ValueError, match="noise"):
        td.ceiling(name, noise=noise)


@pytest.mark.parametrize(
    "x", [np.zeros(3), np.zeros((4, 3)), [[0.0, math.nan]], [[math.inf, 0.0]], "ab", np.zeros((0,))]
)
def test_log_prob_rejects_bad_points(x):
    with pytest.raises(ValueError, match="x must"):
        td.log_prob("moons", x)
