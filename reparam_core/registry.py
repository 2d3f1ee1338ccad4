"""Every gradient estimator by family: its name, labels, colour and cost, read by core, figures and pages.

A family is a set of estimators of one gradient, drawn by one `gradient_samples` of the same call
shape (f a `functions.Objective`):

    gaussian  ∇_{μ,σ} E_{N(μ,σ²)}[f]   estimators.gradient_samples(f, (mu, sigma), method, n, seed, wrt=)
    discrete  ∇_l E_{Cat(softmax l)}[f] discrete.gradient_samples(f, theta, method, n, seed, tau=)
    gamma     d/dα E_{Gamma(α,1)}[f]    implicit.gradient_samples(f, alpha, method, n, seed)
    vae       the encoder gradient of the ELBO (vae.estimator_loss)

Names repeat across families ("score" is in three): look an estimator up by family and name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Estimator:
    """One estimator: `label` for legends and tables, `short` for panel titles, `colour` for every
    figure (the same estimator has the same colour on every page), `cost` evaluations of f or f′ per
    sample for one scalar parameter, counting one f′ (a backward pass) as one f."""

    name: str
    family: str
    label: str
    short: str
    colour: str
    cost: int
    cost_note: str


BLUE, RED, ORANGE, GREEN, PURPLE = "#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd"


def _family(family: str, *rows: tuple) -> dict[str, Estimator]:
    return {row[0]: Estimator(row[0], family, *row[1:]) for row in rows}


GAUSSIAN = _family(
    "gaussian",
    (
        "pathwise",
        "pathwise (reparam.)",
        "pathwise",
        BLUE,
        1,
        "one backward pass for all parameters",
    ),
    ("score", "score function", "score function", RED, 1, "one f for all parameters"),
    (
        "score_baseline",
        "score + optimal baseline",
        "score + baseline",
        ORANGE,
        1,
        "one f for all parameters",
    ),
    (
        "measure_valued",
        "measure-valued (coupled)",
        "measure-valued",
        GREEN,
        2,
        "two f per parameter (2D for D parameters)",
    ),
)
DISCRETE = _family(
    "discrete",
    ("reinforce", "REINFORCE", "REINFORCE", RED, 1, "one f"),
    (
        "reinforce_loo",
        "REINFORCE + leave-one-out baseline",
        "REINFORCE + LOO",
        ORANGE,
        1,
        "one f; needs a batch of n ≥ 2",
    ),
    (
        "gumbel_softmax",
        "Gumbel-softmax (Concrete)",
        "Gumbel-softmax",
        BLUE,
        1,
        "one backward pass at the relaxed z",
    ),
    (
        "straight_through",
        "Straight-through Gumbel-softmax",
        "Straight-through",
        PURPLE,
        1,
        "one backward pass at the hard b",
    ),
)
GAMMA = _family(
    "gamma",
    (
        "implicit",
        "implicit reparameterization (pathwise)",
        "implicit",
        BLUE,
        1,
        "one backward pass and ∂z/∂α by quadrature",
    ),
    ("score", "score function", "score function", RED, 1, "one f"),
)
VAE = _family(
    "vae",
    (
        "pathwise",
        "pathwise (reparameterization)",
        "pathwise",
        BLUE,
        1,
        "one backward pass",
    ),
    ("score", "score function (REINFORCE)", "score function", RED, 1, "one decoder pass"),
    (
        "score_baseline",
        "score function + baseline",
        "score + baseline",
        ORANGE,
        1,
        "one decoder pass",
    ),
)
FAMILIES: dict[str, dict[str, Estimator]] = {
    "gaussian": GAUSSIAN,
    "discrete": DISCRETE,
    "gamma": GAMMA,
    "vae": VAE,
}


def methods(family: str) -> tuple[str, ...]:
    """The estimator names of `family`, in the order figures and tables show them."""
    return tuple(_members(family))


def get(family: str, name: str) -> Estimator:
    """The estimator `name` of `family`; an unknown one raises ValueError naming the bad argument."""
    members = _members(family)
    if not isinstance(name, str) or name not in members:
        raise ValueError(f"method must be one of {list(members)}, got {name!r}")
    return members[name]


def _members(family: str) -> dict[str, Estimator]:
    if not isinstance(family, str) or family not in FAMILIES:
        raise ValueError(f"family must be one of {list(FAMILIES)}, got {family!r}")
    return FAMILIES[family]
