"""Test functions f(x; k) for gradient estimation, each with its value and derivative.

The three smooth costs of Mohamed et al. 2020 (Fig. 2) and two non-differentiable ones:

    square  f(x) = (x − k)²          f'(x) = 2(x − k)
    exp     f(x) = exp(−k x²)         f'(x) = −2k x exp(−k x²)
    cos     f(x) = cos(k x)           f'(x) = −k sin(k x)
    step    f(x) = 1[x > k]           f'(x) = 0 everywhere (the jump at k has no derivative;
                                              autograd returns 0 there and everywhere else)
    abs     f(x) = |x − k|            f'(x) = sign(x − k)   (0 at x = k, as autograd gives)

All are vectorized over numpy arrays. `get(name, k)` returns an `Fn`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reparam_core.validate import finite

Array = np.ndarray


@dataclass(frozen=True)
class Fn:
    """A test function: `f(x)` and its derivative `df(x)`, both vectorized over numpy arrays.

    `smooth` is False when f has a jump or a kink. At a jump (step) the pathwise estimator, which
    uses `df` as autograd returns it, is biased: df = 0 almost everywhere. At a kink of a
    continuous f (abs) it stays unbiased, since f is absolutely continuous. `kinks` lists the
    points where f is not differentiable, so exact integration can split there.
    """

    name: str
    k: float
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    latex: str
    smooth: bool = True
    kinks: tuple[float, ...] = ()

    def __call__(self, x: Array) -> Array:
        return self.f(x)


def _check_k(k: float) -> float:
    return finite("k", k)


def _num(v: float) -> str:
    """|v| in LaTeX, as `:g` formats it but a power of ten as ×10^{n} (never Python's 1e-07)."""
    text = f"{abs(v):g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return rf"{mantissa}\times 10^{{{int(exponent)}}}"


def _minus(k: float) -> str:
    """ "x − k" with the sign of k folded in: x - 3, x + 3, and x alone for k = 0."""
    if k == 0:
        return "x"
    return f"x {'-' if k > 0 else '+'} {_num(k)}"


def _times(c: float, x: str) -> str:
    """The product c·x with the sign of c in front: -2\\,x^2, x^2, -x^2 (c ≠ 0)."""
    sign = "-" if c < 0 else ""
    return sign + (x if abs(c) == 1 else rf"{_num(c)}\,{x}")


def _signed(v: float) -> str:
    """v in LaTeX with its own sign, −0 as 0: -3, 0, 2.5."""
    return ("-" if v < 0 else "") + _num(v)


def square(k: float = 0.0) -> Fn:
    k = _check_k(k)
    return Fn(
        "square",
        k,
        lambda x: (x - k) ** 2,
        lambda x: 2.0 * (x - k),
        "x^2" if k == 0 else f"({_minus(k)})^2",
    )


def exp(k: float = 1.0) -> Fn:
    k = _check_k(k)
    return Fn(
        "exp",
        k,
        lambda x: np.exp(-k * x**2),
        lambda x: -2.0 * k * x * np.exp(-k * x**2),
        r"\exp(0\cdot x^2) = 1" if k == 0 else rf"\exp({_times(-k, 'x^2')})",
    )


def _cos_latex(k: float) -> str:
    return r"\cos(0\cdot x) = 1" if k == 0 else rf"\cos({_times(k, 'x')})"


def cos(k: float = 1.0) -> Fn:
    k = _check_k(k)
    return Fn("cos", k, lambda x: np.cos(k * x), lambda x: -k * np.sin(k * x), _cos_latex(k))


def step(k: float = 0.0) -> Fn:
    k = _check_k(k)
    return Fn(
        "step",
        k,
        lambda x: (np.asarray(x) > k).astype(float),
        lambda x: np.zeros_like(np.asarray(x, dtype=float)),
        rf"\mathbb 1[x > {_signed(k)}]",
        smooth=False,
        kinks=(k,),
    )


def abs_(k: float = 0.0) -> Fn:
    k = _check_k(k)
    return Fn(
        "abs",
        k,
        lambda x: np.abs(x - k),
        lambda x: np.sign(x - k),
        rf"\lvert {_minus(k)}\rvert",
        smooth=False,
        kinks=(k,),
    )


REGISTRY: dict[str, Callable[[float], Fn]] = {
    "square": square,
    "exp": exp,
    "cos": cos,
    "step": step,
    "abs": abs_,
}
NAMES = tuple(REGISTRY)


def get(name: str, k: float) -> Fn:
    """The test function `name` ∈ NAMES with parameter k; unknown names raise ValueError."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"name (the test function) must be one of {list(NAMES)}, got {name!r}")
    return REGISTRY[name](k)
