"""Shared argument checks: each raises ValueError whose message names the parameter."""

from __future__ import annotations

import math

import numpy as np


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


def whole(name: str, value: int, lo: int, hi: int) -> int:
    """`value` as an int in [lo, hi]: a whole number (an int, not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a whole number between {lo} and {hi}, got {value!r}")
    return int(value)


def check_n(n: int, lo: int = 1, hi: int = 1_000_000) -> int:
    """A sample count: a whole number (not a bool) in [lo, hi]."""
    return whole("n", n, lo, hi)


def check_seed(seed: int) -> int:
    """A random seed: a whole number ≥ 0."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0, got {seed!r}")
    return int(seed)
