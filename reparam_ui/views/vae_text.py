"""The Live VAE's comparison sentences, computed from the numbers a run stored (no fixed claims).

Plain functions of the trainer's table columns (lists of floats), so the page quotes what it
measured in this run and nothing else; each returns "" when there is nothing measured to quote.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from reparam_ui.figures.vae import ESTIMATOR_LABELS


def settings(config):
    """A run's config without its estimator: runs with equal settings differ by estimator only."""
    return dataclasses.replace(config, estimator="")


def times(ratio: float) -> str:
    """A variance ratio as "1,180×" or "2.1×"."""
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def variance_sentence(grad: Mapping[str, Sequence[float]]) -> str:
    """score ÷ pathwise and score + baseline ÷ pathwise encoder-gradient variance at this run's
    first and latest probe, and the SNRs at the latest (columns of `Trainer.grad_stats`)."""
    steps = list(grad.get("step") or ())
    if not steps:
        return ""
    rows = [i for i in sorted({0, len(steps) - 1}) if grad["var_pathwise"][i] > 0]
    if not rows:
        return ""

    def ratios(estimator: str) -> str:
        return ", ".join(
            f"{times(grad[f'var_{estimator}'][i] / grad['var_pathwise'][i])} at step {steps[i]:,.0f}"
            for i in rows
        )

    last = rows[-1]
    snr = ", ".join(f"{grad[f'snr_{e}'][last]:.2g} {ESTIMATOR_LABELS[e]}" for e in ESTIMATOR_LABELS)
    return (
        f"In this run, on the same weights and minibatch: score ÷ pathwise encoder-gradient "
        f"variance {ratios('score')}; score + baseline ÷ pathwise {ratios('score_baseline')} "
        f"(the baseline averages 4 samples). SNR at step {steps[last]:,.0f}: {snr}."
    )


def iwae_sentence(
    estimator: str,
    evals: Mapping[str, Sequence[float]],
    others: Mapping[str, Mapping[str, Sequence[float]]],
    k: int,
) -> str:
    """This run's held-out IWAE beside each stored run's (same settings and seed, another
    estimator) at the latest step both were evaluated; `evals`/`others` hold "step" and "iwae"."""
    mine = dict(zip(evals.get("step") or (), evals.get("iwae") or (), strict=True))
    parts = []
    for name, run in others.items():
        theirs = dict(zip(run.get("step") or (), run.get("iwae") or (), strict=True))
        common = mine.keys() & theirs.keys()
        if common:
            n = max(common)
            parts.append(
                f"at step {n:,.0f}, {ESTIMATOR_LABELS[estimator]} {mine[n]:.3f} (this run), "
                f"{ESTIMATOR_LABELS[name]} {theirs[n]:.3f} (stored run)"
            )
    if not parts:
        return ""
    return f"Held-out IWAE (K = {k}), same settings and seed: " + "; ".join(parts) + "."
