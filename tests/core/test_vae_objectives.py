"""The VAE objectives' gradient estimators (reparam_core.vae.objective_loss): STL and DReG are
unbiased for the gradients they replace, and the SNR trends of Rainforth et al. 2018."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from reparam_core import toy_data
from reparam_core.vae import VAE, objective_grad_stats, objective_loss

REPEAT, ROUNDS = 2000, 12
torch.set_num_threads(1)  # tiny matrices: more threads only contend


@pytest.fixture(scope="module")
def model_and_x():
    g = torch.Generator().manual_seed(3)
    model = VAE(z_dim=2, hidden=8, depth=1, generator=g)
    with torch.no_grad():  # a model away from its symmetric start, so gradients are not ~0
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
    x = torch.as_tensor(toy_data.sample("moons", 3, seed=5))
    return model, x


def mean_gradient(model, x, objective, k, seed):
    """Mean and standard error of the full gradient (encoder and decoder) over ROUNDS × REPEAT
    independent draws: each round averages REPEAT copies of x (one draw each)."""
    params = list(model.parameters())
    g = torch.Generator().manual_seed(seed)
    xr = x.repeat(REPEAT, 1)
    rounds = []
    for _ in range(ROUNDS):
        surrogate, _ = objective_loss(model, xr, objective, k, g)
        grads = torch.autograd.grad(surrogate, params)
        rounds.append(torch.cat([t.reshape(-1) for t in grads]).numpy())
    r = np.stack(rounds)
    return r.mean(0), r.std(0, ddof=1) / math.sqrt(ROUNDS)


def assert_same_expectation(a, b):
    (ma, sa), (mb, sb) = a, b
    z = np.abs(ma - mb) / np.sqrt(sa**2 + sb**2 + 1e-30)
    assert z.max() < 5.5, f"largest z {z.max():.1f} at coordinate {z.argmax()}"


def test_mc_kl_and_stl_are_unbiased_for_the_elbo_gradient(model_and_x):
    model, x = model_and_x
    analytic = mean_gradient(model, x, "elbo_analytic", 1, 1)
    assert_same_expectation(analytic, mean_gradient(model, x, "elbo_mc", 1, 2))
    assert_same_expectation(analytic, mean_gradient(model, x, "elbo_stl", 1, 3))


def test_dreg_is_unbiased_for_the_iwae_gradient(model_and_x):
    model, x = model_and_x
    plain = mean_gradient(model, x, "iwae", 8, 4)
    assert_same_expectation(plain, mean_gradient(model, x, "iwae_dreg", 8, 5))


def test_the_unbiasedness_check_detects_a_different_gradient(model_and_x):
    """The check above can fail: the K = 8 IWAE gradient is not the ELBO's."""
    model, x = model_and_x
    (ma, sa), (mb, sb) = (
        mean_gradient(model, x, "elbo_mc", 1, 6),
        mean_gradient(model, x, "iwae", 8, 7),
    )
    assert (np.abs(ma - mb) / np.sqrt(sa**2 + sb**2)).max() > 8


@pytest.fixture(scope="module")
def trained():
    """A VAE trained 600 steps on moons (pathwise): the regime Rainforth et al. analyse."""
    from reparam_core.vae_train import TrainConfig, Trainer

    tr = Trainer(
        TrainConfig(hidden=16, depth=2, warmup_steps=200, eval_every=10**6, gradstat_every=0)
    )
    tr.run(max_steps=600)
    return tr.model, tr.x_test[:16]


def test_bounds_order_and_values(trained):
    """E[L_1] ≤ E[L_8] (Burda et al. Thm 1); every objective reports the same bound family."""
    model, x = trained
    g = torch.Generator().manual_seed(9)
    xr = x.repeat(1000, 1)
    elbo = float(objective_loss(model, xr, "elbo_mc", 1, g)[1])
    elbo_a = float(objective_loss(model, xr, "elbo_analytic", 1, g)[1])
    iwae = float(objective_loss(model, xr, "iwae", 8, g)[1])
    dreg = float(objective_loss(model, xr, "iwae_dreg", 8, g)[1])
    assert abs(elbo - elbo_a) < 0.05 * abs(elbo)  # the same ELBO, two KL estimates
    assert iwae > elbo and dreg > elbo
    assert abs(iwae - dreg) < 0.05 * abs(iwae)


def test_snr_of_the_plain_iwae_encoder_gradient_falls_with_k_and_dregs_does_not(trained):
    model, x = trained
    g = torch.Generator().manual_seed(11)
    snr = {
        (o, k): objective_grad_stats(model, x, o, k, 48, g)["snr"]
        for o in ("iwae", "iwae_dreg")
        for k in (1, 64)
    }
    assert snr["iwae", 64] < 0.7 * snr["iwae", 1]
    assert snr["iwae_dreg", 64] > snr["iwae", 64]


def test_stl_has_less_variance_than_the_full_mc_gradient(model_and_x):
    model, x = model_and_x
    g = torch.Generator().manual_seed(12)
    var = {o: objective_grad_stats(model, x, o, 1, 64, g)["var"] for o in ("elbo_mc", "elbo_stl")}
    assert var["elbo_stl"] < var["elbo_mc"]


def test_invalid_objective_and_k_name_the_parameter(model_and_x):
    model, x = model_and_x
    with pytest.raises(ValueError, match="objective"):
        objective_loss(model, x, "wake_sleep")
    with pytest.raises(ValueError, match="k"):
        objective_loss(model, x, "iwae", 0)
