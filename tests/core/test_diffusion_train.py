"""reparam_core.diffusion_train: samplers and the variational bound against the exact Gaussian case,
the parameterizations' conversions, the trainer's contract (chunks, reset, caps, divergence,
probes, LiveSession) and that training learns (tiny models, so the file stays fast).

Exact Gaussian case: data x_0 ~ N(m, s² I) gives q_t = N(a m, (a² s² + b²) I) (a = √ᾱ_t,
b = √(1 − ᾱ_t)), so the exact noise prediction is linear, ε*(x_t) = E[ε | x_t] = b (x_t − a m) /
(a² s² + b²), and every reverse step with it is a linear-Gaussian map whose moments, and whose
KL terms, follow in closed form (computed here from the definitions, not from the module's
formulas).
"""

import math
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from reparam_core import toy_data
from reparam_core.diffusion import noised_score, schedule
from reparam_core.diffusion_train import (
    EVAL_COLUMNS,
    PARAMETERIZATIONS,
    TRAIN_COLUMNS,
    DiffusionConfig,
    DiffusionTrainer,
    fidelity,
    from_eps,
    oracle_eps_fn,
    regression_target,
    sample_trajectory,
    score_error,
    time_embedding,
    to_eps,
    vlb_nats,
)
from reparam_core.live_session import LiveSession

torch.set_num_threads(1)

M, S = np.array([1.0, -0.5]), 0.5  # the Gaussian data N(M, S² I)
D = 2


def gaussian_eps(sched, m=M, s=S):
    """ε*(x_t, t) of N(m, s² I) data."""

    def eps_fn(x, t):
        a2 = sched.alpha_bar[t]
        return math.sqrt(1 - a2) * (x - math.sqrt(a2) * m) / (a2 * s * s + 1 - a2)

    return eps_fn


def gaussian_points(n, seed):
    return M + S * np.random.default_rng(seed).standard_normal((n, D))


def log_normal(x):
    return -math.log(2 * math.pi * S * S) - np.sum((x - M) ** 2, 1) / (2 * S * S)


# --- samplers on the Gaussian ----------------------------------------------------------------


def reverse_moments(sched, ts, sampler, var):
    """Exact per-coordinate mean offset from a_t m … and variance of the sampler's x_t at each ts,
    from x_T ~ N(0, 1): with ε* linear, each step is x' − a' m = k (x − a m) + σ z."""
    ab, beta = sched.alpha_bar, sched.beta
    offset, v = -math.sqrt(ab[ts[0]]) * M, 1.0
    for t, u in zip(ts[:-1], ts[1:], strict=True):
        a, b, q = math.sqrt(ab[t]), math.sqrt(1 - ab[t]), ab[t] * S * S + 1 - ab[t]
        if sampler == "ddpm":
            alpha = 1 - beta[t - 1]
            k = (1 - beta[t - 1] / q) / math.sqrt(alpha)  # μ = (x − (β/b) ε*) / √α
            sigma2 = beta[t - 1] if var == "beta" else beta[t - 1] * (1 - ab[t - 1]) / (1 - ab[t])
            sigma2 = sigma2 if t > 1 else 0.0
        else:  # x' = a' x̂_0 + b' ε*, x̂_0 = (x − b ε*) / a
            a1, b1 = math.sqrt(ab[u]), math.sqrt(1 - ab[u])
            k = a1 / a * (1 - b * b / q) + b1 * b / q
            sigma2 = 0.0
        offset, v = k * offset, k * k * v + sigma2
    return offset, v


@pytest.mark.parametrize(
    "sampler, steps, var",
    [
        ("ddpm", None, "beta"),
        ("ddpm", None, "beta_tilde"),
        ("ddim", None, "beta"),
        ("ddim", 10, "beta"),
    ],
)
def test_samplers_with_the_exact_eps_match_the_exact_reverse_moments(sampler, steps, var):
    """The final samples' mean and variance agree with the linear-Gaussian recursion within Monte
    Carlo error (4 SE). That recursion gives back the data's (m, s²) up to a discretization bias:
    DDPM with σ_t² = β_t is within 1% of s²; σ_t² = β̃_t lands 7% low; DDIM shrinks the variance
    at every step (Cauchy–Schwarz on a' a s² + b' b): by 3% over all 100 steps, 27% over 10."""
    sched, n = schedule("cosine", 100), 20_000
    ts, traj = sample_trajectory(
        gaussian_eps(sched), sched, n, sampler, steps, seed=3, reverse_var=var
    )
    assert ts[0] == 100 and ts[-1] == 0 and traj.shape == (len(ts), n, 2)
    assert np.all(np.diff(ts) < 0) and len(ts) == (steps or 100) + 1
    np.testing.assert_array_equal(ts, np.round(np.linspace(100, 0, len(ts))))
    offset, v = reverse_moments(sched, ts, sampler, var)
    x = traj[-1]
    se_mean, se_var = math.sqrt(v / n), v * math.sqrt(2 / (n - 1))
    assert np.all(np.abs(x.mean(0) - (M + offset)) < 4 * se_mean)
    assert np.all(np.abs(x.var(0, ddof=1) - v) < 4 * se_var)
    bias = {("ddpm", "beta"): 0.01, ("ddpm", "beta_tilde"): -0.07, ("ddim", "beta"): -0.03}
    expected = -0.27 if steps == 10 else bias[(sampler, var)]
    assert v / S**2 - 1 == pytest.approx(expected, abs=0.01)
    assert np.all(np.abs(offset) < 1e-3)  # the mean is right at every discretization


def test_ddim_converges_to_the_data_with_many_steps_and_is_deterministic():
    sched = schedule("cosine", 1000)
    ts, traj = sample_trajectory(gaussian_eps(sched), sched, 4000, "ddim", seed=1)
    _, v = reverse_moments(sched, ts, "ddim", "beta")
    assert v / S**2 == pytest.approx(1, abs=0.005)  # the bias shrinks with the step size
    assert abs(traj[-1].var(0, ddof=1) / S**2 - 1).max() < 4 * math.sqrt(2 / 4000)
    _, again = sample_trajectory(gaussian_eps(sched), sched, 4000, "ddim", steps=50, seed=1)
    np.testing.assert_array_equal(again[0], traj[0])  # the same x_T …
    _, twice = sample_trajectory(gaussian_eps(sched), sched, 4000, "ddim", steps=50, seed=1)
    np.testing.assert_array_equal(again, twice)  # … and no other randomness


def test_sampler_arguments_are_checked():
    sched = schedule("cosine", 20)
    f = gaussian_eps(sched)
    with pytest.raises(ValueError, match="steps"):
        sample_trajectory(f, sched, 10, "ddpm", steps=5)
    with pytest.raises(ValueError, match="steps"):
        sample_trajectory(f, sched, 10, "ddim", steps=21)
    with pytest.raises(ValueError, match="sampler"):
        sample_trajectory(f, sched, 10, "euler")
    with pytest.raises(ValueError, match="reverse_var"):
        sample_trajectory(f, sched, 10, reverse_var="learned")
    with pytest.raises(ValueError, match="n"):
        sample_trajectory(f, schedule("cosine", 1000), 100_000)  # a 1.6 GB trajectory


# --- the variational bound on the Gaussian -----------------------------------------------------


def expected_gaussian_bound(sched, var):
    """E over x_0 ~ N(m, s² I) of the bound with ε*, from the definitions: with x_0 = m + s z and
    x_t = a x_0 + b ε, the posterior mean μ̃ and the model's μ are linear in (z, ε), so each
    E‖difference‖² = ‖constant‖² + D (coefficient of z² + coefficient of ε²)."""
    ab, beta, T = sched.alpha_bar, sched.beta, sched.T

    def model_mean(t):  # μ(x_t) = (x_t − (β_t/b) ε*(x_t)) / √α_t as (constant, c_z, c_ε)
        a, b, alpha = math.sqrt(ab[t]), math.sqrt(1 - ab[t]), 1 - beta[t - 1]
        k = beta[t - 1] / (ab[t] * S * S + 1 - ab[t])  # (β/b) ε* = k (x_t − a m)
        return (
            a * M / math.sqrt(alpha),
            (1 - k) * a * S / math.sqrt(alpha),
            (1 - k) * b / math.sqrt(alpha),
        )

    def mean_square(const, c_z, c_eps):
        return float(const @ const) + D * (c_z**2 + c_eps**2)

    c, c_z, c_eps = model_mean(
        1
    )  # decoder N(x_0; μ(x_1), β_1 I): x_0 − μ = (m − c) + (s − c_z) z − c_ε ε
    total = 0.5 * D * math.log(2 * math.pi * beta[0]) + mean_square(M - c, S - c_z, -c_eps) / (
        2 * beta[0]
    )
    for t in range(2, T + 1):
        a, b, beta_t = math.sqrt(ab[t]), math.sqrt(1 - ab[t]), beta[t - 1]
        beta_tilde = (1 - ab[t - 1]) / (1 - ab[t]) * beta_t
        c_x0 = math.sqrt(ab[t - 1]) * beta_t / (1 - ab[t])
        c_xt = math.sqrt(1 - beta_t) * (1 - ab[t - 1]) / (1 - ab[t])
        # μ̃ = c_x0 x_0 + c_xt x_t = (c_x0 + c_xt a)(m + s z) + c_xt b ε
        g = c_x0 + c_xt * a
        c, c_z, c_eps = model_mean(t)
        sigma2 = beta_t if var == "beta" else beta_tilde
        r = beta_tilde / sigma2
        total += 0.5 * D * (r - 1 - math.log(r)) + mean_square(
            g * M - c, g * S - c_z, c_xt * b - c_eps
        ) / (2 * sigma2)
    prior = 0.5 * (
        ab[T] * (float(M @ M) + D * S * S) + D * (1 - ab[T]) - D - D * math.log(1 - ab[T])
    )
    return -(total + prior)


def test_expected_gaussian_bound_is_below_the_entropy_and_tight_for_large_t():
    """The closed form itself: below E log N(x_0; m, s²) = −(D/2) log(2πe s²); with σ_t² = β_t the
    gap falls like 1/T (1.2e-2 nats at T = 100, 1.2e-3 at T = 1000). With σ_t² = β̃_t it does
    not close: β̃_t ≪ β_t at small t, where x_{t−1} given x_t alone has variance ≈ β_t."""
    entropy = -0.5 * D * math.log(2 * math.pi * math.e * S * S)
    gaps = {
        (T, var): entropy - expected_gaussian_bound(schedule("cosine", T), var)
        for T in (100, 1000)
        for var in ("beta", "beta_tilde")
    }
    assert 0 < gaps[1000, "beta"] < 0.002 and 0 < gaps[100, "beta"] < 0.015
    assert 8 < gaps[100, "beta"] / gaps[1000, "beta"] < 12
    assert gaps[100, "beta_tilde"] > 1.0 and gaps[1000, "beta_tilde"] > 0.5


@pytest.mark.parametrize("var", ["beta", "beta_tilde"])
@pytest.mark.parametrize("t_draws", [None, 20])
def test_vlb_with_the_exact_eps_matches_the_closed_form(var, t_draws):
    """Per point, bound(x_0) − log N(x_0; m, s²): its mean over 20 000 points is the closed-form
    expected gap within 4 standard errors of the paired differences (all t summed, or 20
    stratified draws per point); so it is ≤ log p up to that error, and at T = 100 within 0.015
    nats (+ that error, about 0.01 here: the decoder's and KL terms' draws) for σ_t² = β_t."""
    sched, n = schedule("cosine", 100), 20_000
    x0 = gaussian_points(n, seed=11)
    bound = vlb_nats(
        gaussian_eps(sched), sched, x0, seed=5, t_draws=t_draws, reverse_var=var, per_point=True
    )
    diff = bound - log_normal(x0)
    se = diff.std(ddof=1) / math.sqrt(n)
    entropy = -0.5 * D * math.log(2 * math.pi * math.e * S * S)
    expected = expected_gaussian_bound(sched, var) - entropy
    assert abs(diff.mean() - expected) < 4 * se
    assert diff.mean() < 4 * se
    mean, mean_se = vlb_nats(
        gaussian_eps(sched), sched, x0, seed=5, t_draws=t_draws, reverse_var=var
    )
    assert mean == pytest.approx(bound.mean()) and mean_se == pytest.approx(
        bound.std(ddof=1) / math.sqrt(n)
    )
    if var == "beta" and t_draws is None:
        assert se < 0.015 and diff.mean() > -0.015 - 4 * se


def test_a_wrong_eps_gives_a_strictly_lower_bound():
    """Same points and random numbers: ε̂ = 0.8 ε* + 0.1 loses nats at every t (the bound's KL
    terms grow with ‖ε − ε̂‖²), far beyond the Monte Carlo error."""
    sched = schedule("cosine", 100)
    x0 = gaussian_points(4000, seed=2)
    exact = gaussian_eps(sched)
    good = vlb_nats(exact, sched, x0, seed=9, per_point=True)
    bad = vlb_nats(lambda x, t: 0.8 * exact(x, t) + 0.1, sched, x0, seed=9, per_point=True)
    diff = bad - good
    assert diff.mean() < -10 * diff.std(ddof=1) / math.sqrt(len(diff))
    assert np.mean(bad) < np.mean(good) - 1.0


def test_vlb_arguments_are_checked():
    sched = schedule("cosine", 20)
    with pytest.raises(ValueError, match="x0"):
        vlb_nats(gaussian_eps(sched), sched, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="t_draws"):
        vlb_nats(gaussian_eps(sched), sched, np.zeros((5, 2)), t_draws=20)


# --- parameterizations --------------------------------------------------------------------------


def test_parameterization_conversions_are_identities_and_the_losses_are_reweightings():
    """For each parameterization the regression target of (x_0, ε) converts back to ε exactly, and
    from_eps inverts to_eps; for any prediction, the x0- and v-MSE are the ε-MSE times 1/SNR(t)
    and 1/ᾱ_t (the weights the module docstring states)."""
    rng = np.random.default_rng(0)
    sched = schedule("cosine", 100)
    t = rng.integers(
        1, 100, size=(500, 1)
    )  # t < T: there ᾱ_T ≈ 2e-7 and x̂_0 = (x − bε)/a is ill-posed
    ab = sched.alpha_bar[t]
    a, b = np.sqrt(ab), np.sqrt(1 - ab)
    x0, eps = rng.standard_normal((500, 2)), rng.standard_normal((500, 2))
    x_t = a * x0 + b * eps
    eps_hat = eps + 0.3 * rng.standard_normal((500, 2))  # some prediction
    mse = {}
    for p in PARAMETERIZATIONS:
        target = regression_target(x0, eps, a, b, p)
        np.testing.assert_allclose(to_eps(target, x_t, a, b, p), eps, atol=1e-9)
        out = from_eps(eps_hat, x_t, a, b, p)
        np.testing.assert_allclose(to_eps(out, x_t, a, b, p), eps_hat, atol=1e-9)
        mse[p] = np.sum((out - target) ** 2, 1)
    np.testing.assert_allclose(regression_target(x0, eps, a, b, "v"), a * eps - b * x0)
    np.testing.assert_allclose(a * x_t - b * regression_target(x0, eps, a, b, "v"), x0, atol=1e-12)
    snr = (ab / (1 - ab)).ravel()
    np.testing.assert_allclose(mse["x0"], mse["eps"] / snr, rtol=1e-9)
    np.testing.assert_allclose(mse["v"], mse["eps"] * (1 + 1 / snr), rtol=1e-9)
    # eps → x0 → eps through the x0-parameterization's output
    x0_hat = from_eps(eps_hat, x_t, a, b, "x0")
    np.testing.assert_allclose((x_t - b * eps_hat) / a, x0_hat, atol=1e-12)


def test_time_embedding_spans_one_radian_per_step_to_one_per_run():
    emb = time_embedding(100, 8).double()
    t = np.arange(101)[:, None]
    omega = 100.0 ** (-np.arange(8) / 7)
    np.testing.assert_allclose(emb[:, :8], np.sin(t * omega), atol=1e-6)
    np.testing.assert_allclose(emb[:, 8:], np.cos(t * omega), atol=1e-6)
    assert omega[0] == 1 and omega[-1] == pytest.approx(1 / 100)


# --- score error and fidelity -----------------------------------------------------------------


def exact_8gaussians_score(name, x, alpha_bar, noise=None):
    """∇ log q_t of 8gaussians in closed form: a mixture of N(a m_k, (a² s² + b²) I) (written
    here from toy_data's definition, independently of reparam_core.diffusion)."""
    assert name == "8gaussians"
    s = (toy_data.DEFAULT_NOISE[name] if noise is None else noise) / 1.414
    angles = np.arange(8) * np.pi / 4
    centres = 4 * np.stack([np.cos(angles), np.sin(angles)], 1) / 1.414 * math.sqrt(alpha_bar)
    v = alpha_bar * s * s + 1 - alpha_bar
    d = np.asarray(x, dtype=np.float64)[..., None, :] - centres
    logw = -np.sum(d**2, -1) / (2 * v)
    w = np.exp(logw - logw.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return -np.sum(w[..., None] * d, -2) / v


def test_score_error_of_a_shifted_score_is_the_shift_squared():
    """ε̂ = ε* + c, with ε* from the closed-form 8gaussians score: the error against
    reparam_core.diffusion's noised score is ‖c‖² in ε units and ‖c‖²/(1 − ᾱ_t) in score units."""
    sched = schedule("cosine", 50)
    c = np.array([0.3, -0.4])

    def eps_fn(x, t):
        ab = sched.alpha_bar[t]
        return -math.sqrt(1 - ab) * exact_8gaussians_score("8gaussians", x, ab) + c

    x0 = toy_data.sample("8gaussians", 300, seed=1)
    ts = np.array([1, 5, 25, 50])
    err_eps = score_error(eps_fn, "8gaussians", None, sched, x0, ts, units="eps")
    err = score_error(eps_fn, "8gaussians", None, sched, x0, ts)
    np.testing.assert_allclose(err_eps, 0.25, rtol=1e-9)
    np.testing.assert_allclose(err, 0.25 / (1 - sched.alpha_bar[ts]), rtol=1e-9)


def test_fidelity_of_data_samples_is_the_ceiling_and_counts_off_support_points():
    x = toy_data.sample("8gaussians", 20_000, seed=4)
    mean, se, off = fidelity(x, "8gaussians")
    assert abs(mean - toy_data.ceiling("8gaussians")) < 4 * se and off == 0
    u = np.random.default_rng(0).uniform(-4, 4, (20_000, 2))  # half the square is the board
    mean, se, off = fidelity(np.vstack([u, [[np.nan, 0.0]]]), "checkerboard")
    assert mean == pytest.approx(-math.log(32)) and se == pytest.approx(0, abs=1e-12)
    assert abs(off - 0.5) < 4 * math.sqrt(0.25 / 20_000)


# --- the exact score on the toy data -------------------------------------------------------


@pytest.mark.parametrize("dataset", ["moons", "8gaussians"])
def test_samplers_with_the_exact_score_reach_the_data(dataset):
    """The exact ε* (reparam_core.diffusion.noised_score) through DDPM and DDIM at T = 100: the
    samples' mean log p_data is within the bench's bar (0.10 nats) of the ceiling. DDPM with
    σ_t² = β_t blurs a little (the Gaussian of the kernel width s: (d/2)·4.5% ≈ 0.045 nats for
    moons' s = 0.2, from the recursion above); DDIM sharpens a little."""
    sched = schedule("cosine", 100)
    ceiling = toy_data.ceiling(dataset)
    eps_fn = oracle_eps_fn(dataset, None, sched)
    for sampler in ("ddpm", "ddim"):
        _, traj = sample_trajectory(eps_fn, sched, 4000, sampler, seed=1)
        mean, se, off = fidelity(traj[-1], dataset)
        assert off == 0 and se < 0.02
        assert abs(mean - ceiling) < 0.10, (sampler, ceiling - mean)
    x = toy_data.sample(dataset, 50, seed=3).astype(np.float64)
    ab = sched.alpha_bar[7]
    assert np.array_equal(eps_fn(x, 7), -math.sqrt(1 - ab) * noised_score(dataset, x, ab))


@pytest.mark.parametrize("dataset", ["moons", "8gaussians"])
def test_the_bound_with_the_exact_score_is_below_and_near_log_p(dataset):
    """Per held-out point, bound − log p_data(x_0) with the exact ε* at T = 100: below 0 up to the
    Monte Carlo error (a bound), and within 0.2 nats (the Gaussian of the same kernel width has a
    gap of 0.08 nats for moons, 0.03 for 8gaussians, in closed form as above; the mixtures add a
    few hundredths)."""
    sched = schedule("cosine", 100)
    x0 = toy_data.sample(dataset, 2000, seed=8).astype(np.float64)
    bound = vlb_nats(oracle_eps_fn(dataset, None, sched), sched, x0, seed=4, per_point=True)
    gap = toy_data.log_prob(dataset, x0) - bound
    se = gap.std(ddof=1) / math.sqrt(len(gap))
    assert -4 * se < gap.mean() < 0.2 and se < 0.04


def test_training_learns_moons():
    """A couple of seconds on moons with the default (v) parameterization: the loss falls, and
    the score error against the exact score by more than half."""
    config = DiffusionConfig(
        width=64,
        n_samples=2000,
        n_heldout=500,
        eval_every=750,
        n_bound=100,
        n_score=200,
        n_fidelity=200,
    )
    tr = DiffusionTrainer(config)
    first = tr.evaluate()
    tr.run(max_steps=1500)
    loss = tr.history.columns()["loss"]
    assert np.mean(loss[-10:]) < loss[0] - 0.3  # v-MSE keeps a large floor: E‖ε − E[ε|x_t]‖²/ᾱ_t
    ev = tr.evals.columns()
    assert ev["step"] == [750.0, 1500.0]
    assert ev["score_error"][-1] < 0.5 * first["score_error"]
    assert ev["score_error_raw"][-1] < first["score_error_raw"]
    assert ev["fidelity"][-1] > first["fidelity"] and ev["bound"][-1] > first["bound"]


# --- the trainer's contract -------------------------------------------------------------------

TINY = DiffusionConfig(
    dataset="8gaussians",
    parameterization="eps",
    n_samples=400,
    T=20,
    width=16,
    depth=2,
    time_freqs=4,
    batch_size=32,
    n_heldout=100,
    eval_every=25,
    n_bound=20,
    n_score=20,
    n_fidelity=50,
)


def finite_tables(tr) -> bool:
    return all(math.isfinite(v) for t in (tr.history, tr.evals) for r in t.rows for v in r)


def without_seconds(tr) -> dict[str, list[list[float]]]:
    return {
        name: [r[:1] + r[2:] for r in t.rows] for name, t in (("h", tr.history), ("e", tr.evals))
    }


def same_weights(a, b) -> bool:
    return all(
        torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True)
    )


def test_run_advances_by_the_requested_steps_and_records_history():
    tr = DiffusionTrainer(TINY)
    assert tr.run(max_steps=7) == 7 and tr.step == 7
    assert tr.run(max_steps=103) == 103 and tr.step == 110
    cols = tr.history.columns()
    assert tuple(cols) == TRAIN_COLUMNS and tuple(tr.evals.columns()) == EVAL_COLUMNS
    assert cols["step"] == [10.0 * (i + 1) for i in range(11)]  # one row per 10 steps
    assert cols["lr"][0] == pytest.approx(np.mean([tr.lr_at(s) for s in range(10)]))
    assert tr.evals.columns()["step"] == [25.0, 50.0, 75.0, 100.0]
    assert finite_tables(tr)
    assert tr.run(max_steps=0) == 0 and tr.step == 110
    ev = tr.evals.columns()
    assert all(0 <= v <= 1 for v in ev["off_support"]) and all(v > 0 for v in ev["bound_se"])


def draw_views(tr) -> None:
    """What a page draws between two chunks."""
    x = tr.x_test[:20]
    tr.sample(20), tr.sample(10, "ddim", steps=5), tr.eps(x, 3), tr.score(x, 20)


def test_a_seed_reproduces_the_run_however_it_is_chunked_viewed_and_probed():
    """3 × 100 steps, uneven time-boxed chunks with views drawn between them and background probes,
    and 1 × 300 steps: the same weights and tables."""
    config = replace(TINY, eval_every=50)  # a probe on the worker thread waits for the GIL
    whole = DiffusionTrainer(config)
    whole.run(max_steps=300)
    chunked = DiffusionTrainer(config, background=True)
    timed = DiffusionTrainer(config, background=True)
    for _ in range(3):
        draw_views(chunked)
        chunked.run(max_steps=100)
    while timed.step < 300:
        draw_views(timed)
        timed.run(max_steps=300 - timed.step, max_seconds=0.01)
    for tr in (chunked, timed):
        tr.sync()
        assert tr.step == 300 and same_weights(tr, whole)
        assert without_seconds(tr) == without_seconds(whole)
    assert len(whole.evals) == 6


def test_reset_restores_the_initial_weights_and_the_same_run():
    tr = DiffusionTrainer(TINY)
    initial = {k: v.clone() for k, v in tr.model.state_dict().items()}
    tr.run(max_steps=60)
    first = without_seconds(tr)
    tr.reset()
    assert tr.step == 0 and len(tr.history) == 0 and len(tr.evals) == 0 and not tr.diverged
    assert all(torch.equal(v, initial[k]) for k, v in tr.model.state_dict().items())
    tr.run(max_steps=60)
    assert without_seconds(tr) == first
    other = DiffusionTrainer(replace(TINY, seed=1))
    assert not torch.equal(other.model.net[0].weight, tr.model.net[0].weight)


def test_history_is_capped(monkeypatch):
    import reparam_core.diffusion_train as dt

    monkeypatch.setattr(dt, "HISTORY_ROWS", 8)
    monkeypatch.setattr(dt, "EVAL_ROWS", 4)
    tr = DiffusionTrainer(replace(TINY, eval_every=5, n_fidelity=10))
    tr.run(max_steps=500)
    assert len(tr.history) < 8 and len(tr.evals) < 4
    assert tr.history.last("step") <= 500 and tr.evals.last("step") <= 500


def test_time_cap_stops_training_and_says_so():
    tr = DiffusionTrainer(replace(TINY, max_seconds=0.3))
    done = tr.run()  # no limits: runs until the trainer's cap
    assert done > 0 and tr.train_seconds >= 0.3 and tr.time_left == 0.0
    assert tr.run(max_steps=10) == 0 and "cap" in tr.message
    fresh = DiffusionTrainer(TINY)
    fresh.run(max_seconds=0.05)
    assert 0 < fresh.train_seconds and fresh.run(max_seconds=0.0) == 0


@pytest.mark.parametrize("background", [False, True])
def test_injected_nan_restores_the_last_finite_state_and_continues_as_the_clean_run(background):
    config = replace(TINY, eval_every=50)
    clean, hit = DiffusionTrainer(config), DiffusionTrainer(config, background=background)
    clean.run(max_steps=300)
    hit.run(max_steps=250)
    with torch.no_grad():
        hit.model.net[0].weight[0, 0] = float("nan")
    hit.run(max_steps=50)
    assert hit.diverged and "diverged at step 251" in hit.message and "learning rate" in hit.message
    assert hit.step == 200 and hit.history.last("step") <= 200 and finite_tables(hit)
    assert hit.evals.columns()["step"] == [50.0, 100.0, 150.0, 200.0]
    assert hit.run(max_steps=10) == 0  # stays paused until cleared
    hit.clear_divergence()
    hit.run(max_steps=100)
    hit.sync()
    assert same_weights(hit, clean) and without_seconds(hit) == without_seconds(clean)


def test_huge_learning_rate_diverges_cleanly():
    tr = DiffusionTrainer(replace(TINY, lr=10.0, width=64, lr_decay_steps=0))
    tr.run(max_steps=2000)
    assert tr.diverged and "Lower the learning rate (now 10)" in tr.message
    assert all(torch.isfinite(p).all() for p in tr.model.parameters()) and finite_tables(tr)
    assert np.isfinite(tr.sample(10)[1]).all()


def test_background_probes_give_the_foreground_tables_and_never_two_in_flight(monkeypatch):
    import threading

    import reparam_core.diffusion_train as dt

    threads, real = [], dt.vlb_nats

    def slow_vlb(*args, **kwargs):
        threads.append(threading.current_thread().name)
        time.sleep(0.02)  # longer than the 10 steps between probes
        return real(*args, **kwargs)

    class Recording:  # the worker pool, checking that a probe is submitted only after the last
        def __init__(self, pool):
            self.pool, self.futures = pool, []

        def submit(self, fn):
            assert all(f.done() for f in self.futures), "a second probe while one is in flight"
            self.futures.append(self.pool.submit(fn))
            return self.futures[-1]

    monkeypatch.setattr(dt, "vlb_nats", slow_vlb)
    monkeypatch.setattr(dt, "_PROBES", Recording(dt._PROBES))
    config = replace(TINY, eval_every=10)
    fg, bg = DiffusionTrainer(config), DiffusionTrainer(config, background=True)
    for tr in (fg, bg):
        for _ in range(6):
            tr.run(max_steps=10)
    assert threads[:6] == ["MainThread"] * 6
    assert threads[6:] and all(t.startswith("reparam-probe") for t in threads[6:])
    bg.sync()
    assert len(dt._PROBES.futures) == 6 and len(bg.evals) == 6
    assert without_seconds(fg) == without_seconds(bg)
    bare = DiffusionTrainer(replace(TINY, eval_every=10**9))
    bare.run(max_steps=60)
    assert without_seconds(bare)["h"] == without_seconds(fg)["h"]  # probes never touch training


def test_views_are_seeded_by_seed_and_step():
    tr = DiffusionTrainer(TINY)
    ts, a = tr.sample(30, seed=1)
    _, b = tr.sample(30, seed=1)
    _, c = tr.sample(30, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and ts[0] == 20 and a.shape == (21, 30, 2)
    tr.run(max_steps=5)
    assert not np.array_equal(tr.sample(30, seed=1)[1][0], a[0])  # a new step, new draws
    x = tr.x_test[:7]
    b_t = math.sqrt(1 - tr.schedule.alpha_bar[4])
    np.testing.assert_allclose(tr.score(x, 4), -tr.eps(x, 4) / b_t)
    oracle = tr.sample(40, seed=3, oracle=True)[1][-1]
    tr.run(max_steps=5)
    np.testing.assert_array_equal(tr.sample(40, seed=3, oracle=True)[1][-1], oracle)


@pytest.mark.parametrize("p", PARAMETERIZATIONS)
def test_eps_converts_each_parameterization_of_the_network(p):
    tr = DiffusionTrainer(replace(TINY, parameterization=p))
    tr.run(max_steps=20)
    x, t = tr.x_test[:9], 7
    a, b = math.sqrt(tr.schedule.alpha_bar[t]), math.sqrt(1 - tr.schedule.alpha_bar[t])
    with torch.no_grad():
        out = (
            tr.model(torch.as_tensor(x, dtype=torch.float32), torch.full((9,), t)).double().numpy()
        )
    by_hand = {"eps": out, "x0": (x - a * out) / b, "v": a * out + b * x}[p]
    np.testing.assert_allclose(tr.eps(x, t), by_hand, rtol=1e-6, atol=1e-9)


def test_state_dict_bytes_and_with_config():
    import io

    tr = DiffusionTrainer(TINY)
    tr.run(max_steps=10)
    saved = torch.load(io.BytesIO(tr.state_dict_bytes()), weights_only=True)
    assert saved["step"] == 10 and saved["config"]["T"] == 20
    assert all(torch.equal(v, tr.model.state_dict()[k]) for k, v in saved["model"].items())
    other = tr.with_config(parameterization="v")
    assert other.config.parameterization == "v" and other.step == 0
    with pytest.raises(ValueError, match="parameterization"):
        tr.with_config(parameterization="score")


def test_live_session_drives_the_trainer():
    session = LiveSession(
        lambda c: DiffusionTrainer(c, background=True),
        session_cap=5.0,
        curve=("step", "loss"),
        key=lambda tr: tr.config.parameterization,
    )
    tr = session.configure(TINY)
    assert session.configure(TINY) is tr
    session.play()
    for _ in range(4):
        assert session.tick(session.clock()) is False
    assert tr.step > 0 and session.seconds_used() > 0
    session.pause()
    assert session.stored["eps"]["step"][-1] == tr.history.last("step")
    session.step()
    assert tr.step % 100 == 0 or tr.step > 100
    session.configure(replace(TINY, parameterization="v"))
    assert session.trainer is not tr and "eps" in session.stored


def test_training_learns_8gaussians():
    """A few seconds: the loss falls from its start (ε̂ ≈ 0: E‖ε‖² = 2) towards the
    irreducible E‖ε − E[ε|x_t]‖², and the score error falls."""
    config = DiffusionConfig(
        dataset="8gaussians",
        parameterization="eps",
        n_samples=2000,
        width=64,
        T=50,
        eval_every=500,
        n_bound=100,
        n_score=200,
        n_fidelity=200,
        n_heldout=500,
    )
    tr = DiffusionTrainer(config)
    first = tr.evaluate()
    tr.run(max_steps=1500)
    loss = tr.history.columns()["loss"]
    assert loss[0] > 1.6 and np.mean(loss[-10:]) < 1.2
    ev = tr.evals.columns()
    assert ev["score_error"][-1] < 0.5 * first["score_error"]
    assert ev["bound"][-1] > first["bound"] + 5
    assert ev["fidelity"][-1] > first["fidelity"]


BAD_CONFIGS = [
    ("dataset", "spiral"),
    ("noise", -0.1),
    ("n_samples", 5),
    ("schedule", "sigmoid"),
    ("T", 5),
    ("T", 50.5),
    ("parameterization", "score"),
    ("width", 0),
    ("depth", 0),
    ("time_freqs", 0),
    ("lr", 0.0),
    ("lr", float("nan")),
    ("lr_decay_steps", -1),
    ("lr_final_fraction", 1.5),
    ("batch_size", 0),
    ("reverse_var", "learned"),
    ("seed", -1),
    ("n_heldout", 1),
    ("eval_every", 0),
    ("n_bound", 3000),
    ("n_score", 1),
    ("n_fidelity", 1),
    ("max_seconds", -1.0),
]


@pytest.mark.parametrize("field, value", BAD_CONFIGS)
def test_invalid_config_values_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DiffusionConfig(**{field: value}).validate()
    with pytest.raises(ValueError, match=field):
        DiffusionTrainer(DiffusionConfig(**{field: value}))


def test_run_arguments_and_data_are_checked():
    tr = DiffusionTrainer(replace(TINY, eval_every=10**9))
    with pytest.raises(ValueError, match="max_steps"):
        tr.run(max_steps=-1)
    with pytest.raises(ValueError, match="max_seconds"):
        tr.run(max_seconds=float("nan"))
    with pytest.raises(ValueError, match="t"):
        tr.eps(tr.x_test[:3], 0)
    with pytest.raises(ValueError, match="x_train"):
        DiffusionTrainer(TINY, x_train=np.zeros((10, 3)))
