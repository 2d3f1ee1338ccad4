"""reparam_core: the computation behind Reparam Lab (numpy, torch). Never imports streamlit.

Modules:
- `transforms`: invertible monotone maps with forward, inverse and log|det J| (change of variables).
- `checks`: numerical checks of a change of variables (KS distance, density error vs n).
- `registry`: every estimator's name, label, colour and cost, by family (gaussian, discrete,
  gamma, vae).
- `functions`: test functions f(x; k) with value and derivative (the `Objective` protocol).
- `stats`: `ExactStats`, the one result type for exact statistics.
- `quadrature`: Gauss–Legendre panels for every exact statistic.
- `expr`: a safe whitelist parser for custom f(x; k) (never eval); derivative by torch autograd.
- `estimators`: Monte Carlo estimators of d/dθ E_{x~N(μ,σ²)}[f(x)] and their exact statistics.
- `discrete`: Bernoulli/categorical gradients: REINFORCE, leave-one-out, Gumbel-softmax,
  straight-through, with exact bias and variance against the temperature τ.
- `implicit`: implicit reparameterization of Gamma(α, 1), ∂z/∂α = −(∂F/∂α)/q.
- `toy_data`: the 2D toy datasets, their exact densities and ceilings E[log p_data].
- `vae`, `vae_train`: a tiny VAE on 2D toy data and a trainer that advances in bounded chunks
  (these import torch).
- `validate`: shared argument checks (finite, positive, ranges, choices, sample counts, seeds).
"""
