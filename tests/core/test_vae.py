"""reparam_core.vae against closed forms: a linear-Gaussian VAE where log p(x) and the posterior
are exact, the Gaussian KL and log-density against scipy/torch.distributions, and the encoder
gradient estimators against the exact gradient of E_q[log p(x|z)] (z-score bounds)."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from reparam_core.vae import (
    ESTIMATORS,
    VAE,
    active_units,
    encoder_grad_stats,
    estimator_loss,
    gaussian_log_prob,
    iwae_bound,
    kl_to_standard_normal,
    neg_elbo,
)

torch.set_num_threads(1)

# p(z) = N(0, I2), p(x|z) = N(W z + b, s² I2) with W = R·diag(a): orthogonal columns, so the
# exact posterior N(Σ Wᵀ(x − b)/s², Σ), Σ = (I + WᵀW/s²)⁻¹ = diag(1/(1 + a²/s²)), is diagonal.
A = np.array([1.5, 0.7])
THETA = 0.6
R = np.array([[math.cos(THETA), -math.sin(THETA)], [math.sin(THETA), math.cos(THETA)]])
W = R @ np.diag(A)
B = np.array([0.3, -0.2])
S = 0.5


def exact_log_px(x: np.ndarray) -> np.ndarray:
    return stats.multivariate_normal(B, W @ W.T + S**2 * np.eye(2)).logpdf(x)


class LinearGaussianVAE(VAE):
    """Decoder m(z) = W z + b, s = S; encoder = exact posterior, optionally distorted."""

    def __init__(self, mean_shift: float = 0.0, sigma_scale: float = 1.0):
        super().__init__(z_dim=2, hidden=4, depth=1)
        self.W = torch.tensor(W, dtype=torch.float64)
        self.b = torch.tensor(B, dtype=torch.float64)
        var = 1.0 / (1.0 + A**2 / S**2)
        self.post_var = torch.tensor(var, dtype=torch.float64)
        self.mean_shift, self.sigma_scale = mean_shift, sigma_scale

    def encode(self, x):
        mu = ((x - self.b) @ self.W) / S**2 * self.post_var + self.mean_shift
        sigma = torch.sqrt(self.post_var).expand_as(mu) * self.sigma_scale
        return mu, sigma

    def decode(self, z):
        m = z @ self.W.T + self.b
        return m, torch.full_like(m, S)


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    return torch.tensor(z @ W.T + B + S * rng.standard_normal((n, 2)))


def test_gaussian_log_prob_and_kl_match_scipy_and_torch():
    rng = np.random.default_rng(1)
    x, m = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    s = rng.uniform(0.2, 2.0, (5, 2))
    got = gaussian_log_prob(torch.tensor(x), torch.tensor(m), torch.tensor(s)).numpy()
    want = stats.norm(m, s).logpdf(x).sum(1)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    mu, sigma = torch.tensor(m), torch.tensor(s)
    want_kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(mu, sigma), want_kl)


def test_iwae_with_exact_posterior_equals_log_px_for_every_k():
    """With q = p(z|x) every weight p(x,z)/q(z|x) equals p(x): L_K = log p(x) exactly."""
    model, x = LinearGaussianVAE(), data(50)
    want = exact_log_px(x.numpy())
    for k in (1, 3, 64):
        got = iwae_bound(model, x, k, torch.Generator().manual_seed(k)).numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_elbo_with_exact_posterior_is_log_px_in_expectation():
    """−neg_elbo (one-sample recon + analytic KL) is unbiased for log p(x) when q is exact."""
    model, x = LinearGaussianVAE(), data(400)
    torch.manual_seed(0)
    loss, recon, kl = neg_elbo(model, x.repeat(50, 1))
    diff = (-loss - torch.tensor(exact_log_px(x.numpy())).repeat(50)).numpy()
    z = diff.mean() / (diff.std(ddof=1) / math.sqrt(diff.size))
    assert abs(z) < 4, z
    assert torch.allclose(loss, recon + kl)


def test_iwae_is_below_log_px_and_increases_with_k():
    """With a wrong q: E[L_1] < E[L_4] < E[L_16] < E[L_256] ≤ log p(x), each gap ≫ its noise."""
    model, x = LinearGaussianVAE(mean_shift=0.8, sigma_scale=1.6), data(300)
    log_px = torch.tensor(exact_log_px(x.numpy()))
    gen = torch.Generator().manual_seed(3)
    gaps = []
    for k in (1, 4, 16, 256):
        reps = torch.stack([iwae_bound(model, x, k, gen) - log_px for _ in range(8)])
        d = reps.flatten().numpy()
        gaps.append((d.mean(), d.std(ddof=1) / math.sqrt(d.size)))
    for mean, se in gaps:
        assert mean < 4 * se, (mean, se)  # never above log p(x) beyond noise
    for (m1, se1), (m2, se2) in zip(gaps, gaps[1:], strict=False):
        assert (m2 - m1) / math.hypot(se1, se2) > 4, gaps  # strictly tighter as K grows
    assert gaps[0][0] < -0.3 and gaps[-1][0] > gaps[0][0] / 4  # L_1 clearly loose, L_256 close


def test_iwae_chunking_does_not_change_the_bound():
    model, x = LinearGaussianVAE(mean_shift=0.5), data(37)
    a = iwae_bound(model, x, 16, torch.Generator().manual_seed(0), max_rows=10_000)
    b = iwae_bound(model, x, 16, torch.Generator().manual_seed(0), max_rows=16 * 37)
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="k"):
        iwae_bound(model, x, 0)


class LinearDecoderVAE(VAE):
    """MLP encoder, linear decoder with fixed scale: E_q[log p(x|z)] has a closed form."""

    def __init__(self):
        super().__init__(z_dim=2, hidden=8, depth=1, generator=torch.Generator().manual_seed(5))
        with torch.no_grad():  # a non-trivial encoder
            for p in self.encoder.parameters():
                p.mul_(4.0)
        self.W = torch.tensor(W, dtype=torch.float32)
        self.b = torch.tensor(B, dtype=torch.float32)

    def decode(self, z):
        m = z @ self.W.T + self.b
        return m, torch.full_like(m, S)


def exact_encoder_grad(model, x, beta):
    """∇_phi mean[−E_q log p(x|z) + beta KL] from the closed form
    E_q[−log p(x|z)] = Σ_d ½[log 2π + 2 log S + ((x − Wmu − b)_d² + Σ_j W_dj² sigma_j²)/S²]."""
    mu, sigma = model.encode(x)
    m = mu @ model.W.T + model.b
    e_recon = 0.5 * (
        2 * (math.log(2 * math.pi) / 2 + math.log(S))
        + (((x - m) ** 2).sum(-1) + (sigma**2 @ (model.W**2).T).sum(-1)) / S**2
    )
    loss = (e_recon + beta * kl_to_standard_normal(mu, sigma)).mean()
    g = torch.autograd.grad(loss, list(model.encoder.parameters()))
    return torch.cat([t.reshape(-1) for t in g])


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_encoder_gradient_estimators_are_unbiased(estimator):
    """Each estimator's mean over N = M·G draws matches the exact gradient.

    A minibatch of G copies of x gives the average of G independent draws in one backward pass;
    the M such group means are iid, so every coordinate's t-score (from the groups' own spread)
    stays under a Bonferroni bound for ~100 coordinates (family-wise error 0.1 %)."""
    model = LinearDecoderVAE()
    x = data(6, seed=7).float()
    beta = 0.7
    exact = exact_encoder_grad(model, x, beta).double()
    gen = torch.Generator().manual_seed(11)
    params = list(model.encoder.parameters())
    m_groups, g_copies = 120, 100
    xs = x.repeat(g_copies, 1)
    draws = []
    for _ in range(m_groups):
        surrogate, _, _ = estimator_loss(model, xs, estimator, beta, gen)
        draws.append(torch.cat([t.reshape(-1) for t in torch.autograd.grad(surrogate, params)]))
    g = torch.stack(draws).double()
    se = g.std(0) / math.sqrt(m_groups)
    informative = se > 1e-9
    t = ((g.mean(0) - exact) / se)[informative]
    bound = stats.t.isf(0.001 / (2 * t.numel()), df=m_groups - 1)
    assert t.abs().max() < bound, (estimator, t.abs().max(), bound)
    # the test has power: dropping the KL's gradient (a bias of beta·∇KL) is caught
    biased = exact_encoder_grad(model, x, 0.0).double()
    assert ((g.mean(0) - biased) / se)[informative].abs().max() > bound


def test_grad_stats_rank_the_estimators():
    """On a fixed minibatch the pathwise gradient has the smallest variance and largest SNR."""
    model = LinearDecoderVAE()
    x = data(64, seed=2).float()
    gen = torch.Generator().manual_seed(0)
    st = {e: encoder_grad_stats(model, x, e, 1.0, 16, gen) for e in ESTIMATORS}
    assert st["pathwise"]["var"] < st["score_baseline"]["var"] < st["score"]["var"]
    assert st["pathwise"]["snr"] > st["score"]["snr"]
    with pytest.raises(ValueError, match="n_draws"):
        encoder_grad_stats(model, x, "pathwise", n_draws=1)


def test_estimator_and_model_arguments_are_validated():
    model = VAE()
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="estimator"):
        estimator_loss(model, x, "magic")
    with pytest.raises(ValueError, match="z_dim"):
        VAE(z_dim=3)
    with pytest.raises(ValueError, match="hidden"):
        VAE(hidden=0)


def test_active_units_counts_latent_dimensions_that_vary_with_x():
    """The exact posterior mean uses both latent units; a constant-mean encoder uses none."""
    x = data(500)
    assert active_units(LinearGaussianVAE(), x) == 2
    model = VAE(z_dim=2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.encoder[-1].weight.zero_()
    assert active_units(model, x.float()) == 0
