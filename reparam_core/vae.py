"""A tiny Gaussian VAE on 2D points, its bounds, and three encoder-gradient estimators (torch).

Model (Kingma & Welling 2013, arXiv 1312.6114):

    prior    p(z)   = N(0, I),                  z ∈ R^d, d ∈ {1, 2}
    decoder  p(x|z) = N(m(z), diag s(z)²),      s = s_min + softplus(·)  (floored scale)
    encoder  q(z|x) = N(mu(x), diag sigma(x)²), sigma = sigma_min + softplus(·)

The evidence lower bound, with one reparameterized sample z = mu + sigma ⊙ eps, eps ~ N(0, I):

    ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))
    KL      = ½ Σ_j (mu_j² + sigma_j² − 1 − 2 log sigma_j)          (analytic; AEVB App. B)

`neg_elbo` returns −ELBO split into recon = −log p(x|z) and kl. The importance-weighted bound
(Burda et al. 2015, arXiv 1509.00519) with K samples z_k ~ q(z|x),

    L_K(x) = log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x),   ELBO = E[L_1] ≤ E[L_K] ≤ E[L_{K+1}] ≤ log p(x),

is `iwae_bound` (log-mean-exp, chunked over x so memory stays bounded). The ordering holds for
the expectations over the draws (Burda et al., Thm. 1), not for every draw: one draw of L_K can
exceed one of L_{K+1}, or even log p(x).

Encoder gradient estimators for ∇_phi E_q[log p(x|z)] (the decoder always gets the ordinary
gradient; the analytic KL is differentiated exactly in every case):

    "pathwise"        backpropagate through z = mu + sigma ⊙ eps (the reparameterization trick);
    "score"           REINFORCE: surrogate −stopgrad(log p(x|z)) · log q(z|x), z detached;
    "score_baseline"  REINFORCE with a leave-one-out baseline: S = 4 samples z_1..z_S per x, and
                      sample s uses b_s = mean of log p(x|z_t) over the other t ≠ s (unbiased,
                      since b_s does not depend on z_s; Kool et al. 2019 "RLOO", Mnih & Rezende 2016).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from reparam_core import registry
from reparam_core.validate import choice, whole

LOG_2PI = math.log(2.0 * math.pi)
ESTIMATORS = registry.methods("vae")  # pathwise, score, score_baseline
BASELINE_SAMPLES = 4


def gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, diag scale²) summed over the last axis: −½ Σ [log 2π + 2 log s + ((x−m)/s)²]."""
    return -0.5 * (LOG_2PI + 2.0 * torch.log(scale) + ((x - mean) / scale) ** 2).sum(-1)


def kl_to_standard_normal(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag sigma²) ‖ N(0, I)) = ½ Σ_j (mu_j² + sigma_j² − 1 − 2 log sigma_j)."""
    return 0.5 * (mu**2 + sigma**2 - 1.0 - 2.0 * torch.log(sigma)).sum(-1)


def _mlp(d_in: int, hidden: int, depth: int, d_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    d = d_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.SiLU()]
        d = hidden
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Encoder x → (mu, sigma) and decoder z → (m, s), each an MLP with `depth` hidden layers."""

    def __init__(
        self,
        x_dim: int = 2,
        z_dim: int = 2,
        hidden: int = 64,
        depth: int = 2,
        s_min: float = 0.01,
        sigma_min: float = 1e-4,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        x_dim = whole("x_dim", x_dim, 1, 64)
        z_dim = whole("z_dim (latent dimension)", z_dim, 1, 2)
        hidden = whole("hidden (width)", hidden, 1, 1024)
        depth = whole("depth", depth, 1, 4)
        if not s_min > 0:
            raise ValueError(f"s_min (decoder scale floor) must be > 0, got {s_min!r}")
        self.x_dim, self.z_dim, self.s_min, self.sigma_min = x_dim, z_dim, s_min, sigma_min
        self.encoder = _mlp(x_dim, int(hidden), int(depth), 2 * z_dim)
        self.decoder = _mlp(z_dim, int(hidden), int(depth), 2 * x_dim)
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """He-uniform weights, zero biases (seeded by `generator`, no global RNG touched).

        The last layers start small, so at step 0 q(z|x) ≈ N(0, softplus(0)² I) and p(x|z) has
        m ≈ 0, s ≈ s_min + softplus(0) ≈ 0.7 — close to the data's scale, with no huge first
        gradients.
        """
        for net in (self.encoder, self.decoder):
            linears = [m for m in net if isinstance(m, nn.Linear)]
            for i, lin in enumerate(linears):
                bound = math.sqrt(6.0 / lin.in_features)
                if i == len(linears) - 1:
                    bound *= 0.1
                lin.weight.uniform_(-bound, bound, generator=generator)
                lin.bias.zero_()

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x → (mu, sigma) of q(z|x)."""
        h = self.encoder(x)
        mu, raw = h[..., : self.z_dim], h[..., self.z_dim :]
        return mu, self.sigma_min + nn.functional.softplus(raw)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z → (m, s) of p(x|z)."""
        h = self.decoder(z)
        m, raw = h[..., : self.x_dim], h[..., self.x_dim :]
        return m, self.s_min + nn.functional.softplus(raw)

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        m, s = self.decode(z)
        return gaussian_log_prob(x, m, s)


def neg_elbo(
    model: VAE, x: torch.Tensor, beta: float = 1.0, eps: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-point (loss, recon, kl): recon = −log p(x|mu+sigma⊙eps), loss = recon + beta·kl.

    With beta = 1, −loss is a one-sample estimate of the ELBO (and exact in expectation).
    """
    mu, sigma = model.encode(x)
    if eps is None:
        eps = torch.randn_like(mu)
    z = mu + sigma * eps
    recon = -model.log_px_given_z(x, z)
    kl = kl_to_standard_normal(mu, sigma)
    return recon + beta * kl, recon, kl


def estimator_loss(
    model: VAE,
    x: torch.Tensor,
    estimator: str = "pathwise",
    beta: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A scalar surrogate whose gradient is the chosen estimator of ∇(mean negative ELBO).

    Returns (surrogate, recon, kl) with recon and kl the minibatch means (detached). The
    surrogate's value is not the loss for the score estimators; its gradient is:
    decoder ← −∇_theta log p(x|z); encoder ← the estimator of −∇_phi E_q log p(x|z) plus
    beta·∇_phi KL (analytic).
    """
    choice("estimator", estimator, ESTIMATORS)
    mu, sigma = model.encode(x)
    kl = kl_to_standard_normal(mu, sigma)
    if estimator == "pathwise":
        eps = torch.randn(mu.shape, generator=generator)
        log_px = model.log_px_given_z(x, mu + sigma * eps)
        surrogate = (-log_px + beta * kl).mean()
    else:
        n = 1 if estimator == "score" else BASELINE_SAMPLES
        eps = torch.randn((n, *mu.shape), generator=generator)
        z = (mu + sigma * eps).detach()
        log_px = model.log_px_given_z(x, z)  # (n, B): gradient to the decoder only
        log_q = gaussian_log_prob(z, mu, sigma)  # (n, B): gradient to the encoder only
        f = log_px.detach()
        if n > 1:
            f = f - (f.sum(0, keepdim=True) - f) / (n - 1)  # leave-one-out baseline
        surrogate = (-log_px - f * log_q).mean() + beta * kl.mean()
    return surrogate, -log_px.detach().mean(), kl.detach().mean()


@torch.no_grad()
def iwae_bound(
    model: VAE,
    x: torch.Tensor,
    k: int = 64,
    generator: torch.Generator | None = None,
    max_rows: int = 16384,
) -> torch.Tensor:
    """Per-point L_K(x) = logsumexp_k [log p(x|z_k) + log p(z_k) − log q(z_k|x)] − log K.

    Processes at most `max_rows` (point, sample) pairs at a time, so the activations stay in the
    CPU's cache; the default is the fastest chunk for a 2000-point, K = 64 evaluation on one
    torch thread (docs/performance.md).
    """
    k = int(k)
    if k < 1:
        raise ValueError(f"k (importance samples) must be ≥ 1, got {k!r}")
    chunk = max(1, max_rows // k)
    out = []
    for i in range(0, x.shape[0], chunk):
        xb = x[i : i + chunk]
        mu, sigma = model.encode(xb)
        eps = torch.randn((k, *mu.shape), generator=generator)
        z = mu + sigma * eps
        log_w = (
            model.log_px_given_z(xb, z)
            + gaussian_log_prob(z, torch.zeros_like(z), torch.ones_like(z))
            - gaussian_log_prob(z, mu, sigma)
        )
        out.append(torch.logsumexp(log_w, 0) - math.log(k))
    return torch.cat(out) if out else torch.zeros(0)


@torch.no_grad()
def active_units(model: VAE, x: torch.Tensor, threshold: float = 0.01) -> int:
    """Burda et al.'s activity: unit u is active if Cov_x(E_q[z_u]) = Var_x(mu_u(x)) > threshold."""
    mu, _ = model.encode(x)
    if mu.shape[0] < 2:
        return 0
    return int((mu.var(0) > threshold).sum())


def encoder_grad_stats(
    model: VAE,
    x: torch.Tensor,
    estimator: str,
    beta: float = 1.0,
    n_draws: int = 16,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """Spread of one estimator's encoder gradient over `n_draws` independent eps draws on a fixed x.

    With g_r the flattened encoder gradient of draw r, ḡ their mean and v_i the per-coordinate
    sample variance: `var` = Σ_i v_i (trace of the covariance), `snr` = ‖ḡ‖ / √var.
    """
    return _encoder_spread(
        model, lambda: estimator_loss(model, x, estimator, beta, generator)[0], n_draws
    )


def _encoder_spread(model: VAE, surrogate, n_draws: int) -> dict[str, float]:
    """Total variance and SNR of the encoder gradient of `surrogate()` over `n_draws` calls."""
    if n_draws < 2:
        raise ValueError(f"n_draws must be ≥ 2, got {n_draws!r}")
    params = list(model.encoder.parameters())
    grads = []
    for _ in range(n_draws):
        g = torch.autograd.grad(surrogate(), params)
        grads.append(torch.cat([t.reshape(-1) for t in g]))
    gs = torch.stack(grads)
    var = float(gs.var(0).sum())
    mean_norm = float(gs.mean(0).norm())
    return {"var": var, "snr": mean_norm / math.sqrt(var) if var > 0 else math.inf}


# --- the estimators people use for VAEs: sticking the landing, IWAE, DReG --------------------
#
# With the KL estimated by Monte Carlo, the ELBO is E_q[log w], log w = log p(x|z) + log p(z) −
# log q(z|x), z = mu + sigma ⊙ eps. Its full pathwise gradient has a score term E[∂_phi log q(z|x)]
# (z fixed) whose mean is 0 but whose noise is not; "sticking the landing" (Roeder et al. 2017)
# drops it by evaluating log q at stopgrad(mu, sigma): still unbiased, and zero variance once
# q equals the true posterior. The IWAE objective L_K = log (1/K) Σ_k w_k (Burda et al. 2015)
# has the plain pathwise gradient Σ_k w̃_k ∇ log w_k (w̃ = normalized weights); its encoder
# part's SNR falls like 1/√K (Rainforth et al. 2018). The doubly reparameterized gradient
# (Tucker et al. 2019) rewrites the encoder part as Σ_k w̃_k² ∂log w_k/∂z_k · ∂z_k/∂phi with
# log q at stopgrad parameters — the same expectation, and an SNR that grows with K.

OBJECTIVES = ("elbo_analytic", "elbo_mc", "elbo_stl", "iwae", "iwae_dreg")


def _log_w(model: VAE, x, z, mu, sigma, decoder_params=None):
    """log p(x|z) + log p(z) − log q(z; mu, sigma), per (sample, point); the decoder with
    `decoder_params` (detached ones: no decoder gradient) if given."""
    if decoder_params is None:
        m, s = model.decode(z)
    else:
        h = torch.func.functional_call(model.decoder, decoder_params, (z,))
        m, raw = h[..., : model.x_dim], h[..., model.x_dim :]
        s = model.s_min + nn.functional.softplus(raw)
    log_pz = gaussian_log_prob(z, torch.zeros_like(z), torch.ones_like(z))
    return gaussian_log_prob(x, m, s) + log_pz - gaussian_log_prob(z, mu, sigma)


def objective_loss(
    model: VAE,
    x: torch.Tensor,
    objective: str = "elbo_analytic",
    k: int = 1,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(surrogate, bound): a scalar whose gradient is the chosen estimator of −∇ E[bound], and
    the minibatch mean of the bound itself (detached), all pathwise through z = mu + sigma ⊙ eps.

        elbo_analytic  one sample, analytic KL (the Live VAE's "pathwise")
        elbo_mc        one sample, Monte Carlo KL: the full gradient of log w
        elbo_stl       one sample, sticking the landing: log q at stopgrad(mu, sigma)
        iwae           L_K with its plain gradient
        iwae_dreg      L_K; decoder: its plain gradient; encoder: the doubly reparameterized one
    """
    choice("objective", objective, OBJECTIVES)
    k = whole("k (importance samples)", k, 1, 10_000)
    if objective.startswith("elbo"):
        k = 1
    mu, sigma = model.encode(x)
    eps = torch.randn((k, *mu.shape), generator=generator)
    z = mu + sigma * eps
    if objective == "elbo_analytic":
        log_px = model.log_px_given_z(x, z[0])
        bound = log_px - kl_to_standard_normal(mu, sigma)
        return -bound.mean(), bound.detach().mean()
    if objective in ("elbo_mc", "iwae"):
        log_w = _log_w(model, x, z, mu, sigma)
        bound = torch.logsumexp(log_w, 0) - math.log(k)
        return -bound.mean(), bound.detach().mean()
    stopped = _log_w(model, x, z, mu.detach(), sigma.detach())
    if objective == "elbo_stl":
        return -stopped[0].mean(), stopped[0].detach().mean()
    # iwae_dreg: the encoder's part through z with fixed decoder weights, the decoder's plain
    frozen = {name: p.detach() for name, p in model.decoder.named_parameters()}
    enc_part = _log_w(model, x, z, mu.detach(), sigma.detach(), frozen)
    w_norm = torch.softmax(stopped.detach(), 0)
    dec_part = _log_w(model, x, z.detach(), mu.detach(), sigma.detach())
    surrogate = -((w_norm**2 * enc_part).sum(0) + (w_norm * dec_part).sum(0)).mean()
    bound = torch.logsumexp(stopped.detach(), 0) - math.log(k)
    return surrogate, bound.mean()


def objective_grad_stats(
    model: VAE,
    x: torch.Tensor,
    objective: str,
    k: int = 1,
    n_draws: int = 16,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """`encoder_grad_stats` for an objective's estimator: the encoder gradient's total
    variance over `n_draws` eps draws on a fixed x, and its SNR ‖ḡ‖ / √var."""
    return _encoder_spread(
        model, lambda: objective_loss(model, x, objective, k, generator)[0], n_draws
    )
