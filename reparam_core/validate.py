"""Shared argument checks of the core: each raises ValueError whose message names the parameter."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection

#: Largest sample count any core sampler accepts (memory: a few float64 arrays of N_MAX ≈ 8 MB each).
N_MAX = 1_000_000


def finite(name: str, value: float) -> float:
    """`value` as a finite float (a bool or a string is not a number here, though float() takes
    them)."""
    if isinstance(value, bool | str | bytes):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def positive(name: str, value: float) -> float:
    """`value` as a finite float > 0."""
    value = finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value:g}")
    return value


def in_range(name: str, value: float, lo: float, hi: float) -> float:
    """`value` as a finite float in the closed interval [lo, hi]."""
    value = finite(name, value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo:g}, {hi:g}], got {value!r}")
    return value


def fraction(name: str, value: float) -> float:
    """`value` as a float in the open interval (0, 1)."""
    value = finite(name, value)
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def choice(name: str, value: str, options: Collection[str], what: str = "") -> str:
    """`value` if it is one of the strings `options`; `what` says what the name stands for."""
    if not isinstance(value, str) or value not in options:
        label = f"{name} ({what})" if what else name
        raise ValueError(f"{label} must be one of {list(options)}, got {value!r}")
    return value


def whole(name: str, value: int, lo: int, hi: int | None = None) -> int:
    """`value` as an int in [lo, hi] (no upper bound if hi is None): a whole number — an int, or
    a float with no fractional part (2.0); not a bool, not a string."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, numbers.Integral):
        value = int(value)
    elif math.isfinite(value) and float(value).is_integer():
        value = int(value)
    else:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"≥ {lo}"
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    return value


def check_n(n: int, lo: int = 1, hi: int = N_MAX) -> int:
    """A sample count: a whole number in [lo, hi]."""
    return whole("n", n, lo, hi)


def check_seed(seed: int) -> int:
    """A random seed: a whole number ≥ 0."""
    return whole("seed", seed, 0)
