"""The Diffusion page's sentences about results, built from the numbers this run measured.

Plain functions of a `Schedule`, the trainer's eval columns (lists of floats) and measured
fidelities, so the page quotes what it measured and nothing canned; each returns "" when there is
nothing measured to quote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reparam_core.diffusion import END_NOISE_TOL, SCHEDULE_LABELS, Schedule, schedule


def schedule_caption(sched: Schedule) -> str:
    """√ᾱ_T of this schedule and what it means for sampling."""
    s = sched.sqrt_alpha_bar_T
    where = "x_T is noise, as the sampler assumes" if sched.ends_in_noise else "x_T is not noise"
    return (
        f"{SCHEDULE_LABELS[sched.name]}, T = {sched.T}: √ᾱ_T = {s:.4f}, so "
        f"x_T = {s:.4f}·x₀ + {(1 - s * s) ** 0.5:.4f}·ε — {where} "
        f"(this page calls √ᾱ_T ≤ {END_NOISE_TOL:g} noise)."
    )


def not_noise_warning(sched: Schedule, options: Sequence[int]) -> str:
    """For a schedule that does not end in noise: its √ᾱ_T, what goes wrong, and which of the
    page's T (`options`) would end in noise with the same schedule ("" if it does end in noise)."""
    if sched.ends_in_noise:
        return ""
    s = sched.sqrt_alpha_bar_T
    fine = [T for T in options if schedule(sched.name, T).ends_in_noise]
    fix = (
        f"With {SCHEDULE_LABELS[sched.name]}, T = {fine[0]:,} is the smallest of this page's T "
        f"that ends in noise (√ᾱ_T = {schedule(sched.name, fine[0]).sqrt_alpha_bar_T:.4f}); "
        "the cosine schedule ends in noise for every T."
        if fine
        else "The cosine schedule ends in noise for every T."
    )
    return (
        f"**This schedule does not end in noise:** √ᾱ_T = {s:.2f} at T = {sched.T}, so "
        f"x_T = {s:.2f}·x₀ + {(1 - s * s) ** 0.5:.2f}·ε still shows the data. Sampling starts "
        "from N(0, I) nonetheless, a distribution the model never saw at t = T in training: the "
        f"samples come out distorted. {fix}"
    )


def _rows(evals: Mapping[str, Sequence[float]], key: str) -> list[tuple[float, float]]:
    return [
        (s, v)
        for s, v in zip(evals.get("step") or (), evals.get(key) or (), strict=False)
        if v == v  # not NaN
    ]


def bound_sentence(evals: Mapping[str, Sequence[float]], ceiling: float | None) -> str:
    """The latest held-out bound, ± 2 standard errors, and its gap to the ceiling."""
    rows = _rows(evals, "bound")
    if not rows:
        return ""
    step, bound = rows[-1]
    se = (evals.get("bound_se") or [float("nan")])[-1]
    text = (
        f"At step {step:,.0f} the held-out variational bound is {bound:.3f} ± {2 * se:.3f} nats "
        "per point (± 2 standard errors)"
    )
    if ceiling is not None:
        gap = ceiling - bound
        text += (
            f", {gap:.3f} nats under the ceiling E[log p_data] = {ceiling:.3f}: the bound is "
            "≤ E[log p_θ] ≤ E[log p_data], so this gap is an upper bound on KL(p_data ‖ p_θ)"
        )
    if len(rows) > 1:
        text += f"; at step {rows[0][0]:,.0f} it was {rows[0][1]:.3f}"
    return text + "."


def fidelity_sentence(evals: Mapping[str, Sequence[float]], ceiling: float | None) -> str:
    """The latest samples' mean log p_data (the exact data density at the model's samples)."""
    rows = _rows(evals, "fidelity")
    if not rows:
        return ""
    step, fid = rows[-1]
    se = (evals.get("fidelity_se") or [float("nan")])[-1]
    text = (
        f"The model's samples at step {step:,.0f} have mean log p_data = {fid:.3f} ± {2 * se:.3f} "
        "nats"
    )
    if ceiling is not None:
        text += f" (data drawn from p_data itself: {ceiling:.3f} on average)"
    return text + "."


def score_error_sentence(evals: Mapping[str, Sequence[float]]) -> str:
    """How the measured score error (the trainer's `score_error`: ε units, averaged over its
    fixed steps) changed between the first and the latest evaluation."""
    rows = _rows(evals, "score_error")
    if not rows:
        return ""
    what = (
        "The learned score's error against the exact ∇ log q_t, in ε units "
        "(E‖ε_θ − ε*‖², ε* = −√(1 − ᾱ_t)·∇ log q_t, averaged over a fixed set of t),"
    )
    (s0, e0), (s1, e1) = rows[0], rows[-1]
    if len(rows) == 1:
        return f"{what} is {e1:.3g} at step {s1:,.0f}."
    return f"{what} went from {e0:.3g} at step {s0:,.0f} to {e1:.3g} at step {s1:,.0f}."


def reverse_sentence(
    model: tuple[float, float, float] | None,
    oracle: tuple[float, float, float] | None,
    ceiling: float | None,
    step: int,
    sampler: str,
) -> str:
    """The measured fidelity of the trained model's and the oracle's samples, same sampler and
    noise; each is (mean log p_data, its standard error, the fraction off the data's support)."""
    parts = []
    if model is not None:
        parts.append(f"the model trained for {step:,} steps: {model[0]:.3f} ± {2 * model[1]:.3f}")
    if oracle is not None:
        parts.append(f"the oracle (exact score): {oracle[0]:.3f} ± {2 * oracle[1]:.3f}")
    if not parts:
        return ""
    text = f"Mean log p_data of the final samples ({sampler}, same seed) — " + "; ".join(parts)
    if ceiling is not None:
        text += f". The ceiling, E[log p_data] under the data itself, is {ceiling:.3f}"
    off = [(name, f[2]) for name, f in (("model", model), ("oracle", oracle)) if f is not None]
    off = [f"{name} {frac:.1%}" for name, frac in off if frac > 0]
    if off:
        text += f"; samples where p_data = 0: {', '.join(off)}"
    return text + "."
