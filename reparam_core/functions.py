"""Test functions f(x; k) for gradient estimation, each with its value and derivative.

Every family's `gradient_samples(f, theta, method, n, seed, **options)` takes an `Objective`: a
named f with its derivative `df` and LaTeX. `Fn` is the one test-function type, and `get(name, k,
family)` the one way to look one up: family "gaussian" (x ~ N(μ, σ²)) or "gamma" (z ~ Gamma(α, 1)).
The discrete family's objectives on the simplex are built by `discrete.bernoulli_objective` and
`discrete.categorical_objective`.

Gaussian family: the three smooth costs of Mohamed et al. 2020 (Fig. 2) and two non-differentiable ones:

    square  f(x) = (x − k)²          f'(x) = 2(x − k)
    exp     f(x) = exp(−k x²)         f'(x) = −2k x exp(−k x²)
    cos     f(x) = cos(k x)           f'(x) = −k sin(k x)
    step    f(x) = 1[x > k]           f'(x) = 0 everywhere (the jump at k has no derivative;
                                              autograd returns 0 there and everywhere else)
    abs     f(x) = |x − k|            f'(x) = sign(x − k)   (0 at x = k, as autograd gives)

Gamma family (z > 0; no parameter k): z, z², log z, sin z, √z.

All are vectorized over numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from reparam_core.validate import choice, finite

Array = np.ndarray


class Objective(Protocol):
    """What every family's estimators differentiate the expectation of: f and its derivative."""

    name: str
    latex: str

    def f(self, x: Array) -> Array: ...

    def df(self, x: Array) -> Array: ...


@dataclass(frozen=True)
class Fn:
    """A test function: `f(x)` and its derivative `df(x)`, both vectorized over numpy arrays.

    `smooth` is False when f has a jump or a kink. At a jump (step) the pathwise estimator, which
    uses `df` as autograd returns it, is biased: df = 0 almost everywhere. At a kink of a
    continuous f (abs) it stays unbiased, since f is absolutely continuous. `kinks` lists the
    points where f is not differentiable, so exact integration can split there. `k` is 0 for a
    function without a parameter (the Gamma family's).
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


def check(f: object) -> Fn:
    """`f` if it is a test function (an `Fn`)."""
    if not isinstance(f, Fn):
        raise ValueError(f"f must be a reparam_core.functions.Fn, got {type(f).__name__}")
    return f


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


def _gamma(name: str, f, df, latex: str) -> Callable[[float], Fn]:
    return lambda k=0.0: Fn(name, 0.0, f, df, latex)


REGISTRY: dict[str, dict[str, Callable[[float], Fn]]] = {
    "gaussian": {"square": square, "exp": exp, "cos": cos, "step": step, "abs": abs_},
    "gamma": {
        "z": _gamma("z", lambda z: z, np.ones_like, "z"),
        "z2": _gamma("z2", lambda z: z**2, lambda z: 2.0 * z, "z^2"),
        "log": _gamma("log", np.log, lambda z: 1.0 / z, r"\log z"),
        "sin": _gamma("sin", np.sin, np.cos, r"\sin z"),
        "sqrt": _gamma("sqrt", np.sqrt, lambda z: 0.5 / np.sqrt(z), r"\sqrt z"),
    },
}
NAMES = tuple(REGISTRY["gaussian"])
GAMMA_NAMES = tuple(REGISTRY["gamma"])


def get(name: str, k: float = 0.0, family: str = "gaussian") -> Fn:
    """The test function `name` of `family` with parameter k (ignored by the Gamma family)."""
    family = choice("family", family, REGISTRY)
    name = choice("name", name, REGISTRY[family], what="the test function")
    return REGISTRY[family][name](k)
