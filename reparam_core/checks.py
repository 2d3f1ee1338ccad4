"""Numerical checks of a pushforward density on samples: histogram heights and their agreement.

For samples y₁…y_n of a law with CDF F and density f, on bin edges b₀ < … < b_m:

    histogram height    ĥ_j = #{i : b_j ≤ y_i < b_{j+1}} / (n · (b_{j+1} − b_j))
    bin-average density h̄_j = (F(b_{j+1}) − F(b_j)) / (b_{j+1} − b_j)  = E[ĥ_j]  (no binning bias)
    max density error   max_j |ĥ_j − h̄_j|, of order 1/√n (each ĥ_j has sd √(p_j(1−p_j)/n)/width)
    KS distance         D_n = sup_y |F_n(y) − F(y)|, with E[√n D_n] → 0.8687

Both shrink like 1/√n when the formula is right. The KS distance is invariant under monotone
maps (D_n of h(x) against F_X∘g equals D_n of x against F_X), so it checks the CDF formula; the
density error checks the density formula f_Y = f_X(g(y))·|g'(y)| itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from reparam_core.transforms import KS_MEAN_SQRT_N, TransformedDensity, ks_distance
from reparam_core.validate import N_MAX, fraction, whole

Array = np.ndarray


def histogram_heights(samples: Array, edges: Array) -> Array:
    """ĥ_j: the fraction of *all* samples in bin j, divided by its width (samples outside count in n)."""
    samples = np.asarray(samples, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if samples.size == 0:
        raise ValueError("samples must not be empty")
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be increasing, with at least two of them")
    counts, _ = np.histogram(samples, bins=edges)
    return counts / (samples.size * np.diff(edges))


def bin_average_density(cdf: Callable[[Array], Array], edges: Array) -> Array:
    """h̄_j = (F(b_{j+1}) − F(b_j)) / (b_{j+1} − b_j), the exact mean of the histogram height."""
    edges = np.asarray(edges, dtype=float)
    return np.diff(cdf(edges)) / np.diff(edges)


def central_edges(density: TransformedDensity, bins: int = 30, mass: float = 0.995) -> Array:
    """`bins` equal-width bins spanning the central `mass` of the law (quantiles via the base)."""
    bins = whole("bins", bins, 2, 500)
    mass = fraction("mass", mass)
    base, h = density.base, density.transform
    z = np.sqrt(2.0) * _erfinv(mass)  # ±z base standard deviations hold `mass`
    ends = h.forward(np.array([base.mu - z * base.sigma, base.mu + z * base.sigma]))
    lo, hi = float(np.min(ends)), float(np.max(ends))
    return np.linspace(lo, hi, bins + 1)


def _erfinv(p: float) -> float:
    """erf⁻¹(p) by bisection on math.erf (scalar; numpy has no erfinv)."""
    lo, hi = 0.0, 10.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if math.erf(mid) < p else (lo, mid)
    return 0.5 * (lo + hi)


DEFAULT_NS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)


def agreement_vs_n(
    density: TransformedDensity,
    ns: tuple[int, ...] = DEFAULT_NS,
    seed: int = 0,
    bins: int = 30,
) -> dict[str, Array]:
    """KS distance and max density error of the first n of one sample of `density`, for n in ns.

    Samples are nested (one draw of max(ns), then prefixes), so the curve follows one sequence of
    draws as it grows. Returns arrays "n", "ks", "density_error", the bin "edges" used, and the
    1/√n reference curves "ks_ref" = 0.8687/√n (the mean of √n·D_n) and "density_error_ref" =
    s_max·√(2 log 2m)/√n, a Gaussian bound on the expected max over m bins, with
    s_max = max_j √(p_j(1 − p_j))/width_j the largest single-sample sd of a height.
    """
    ns = tuple(whole("n", n, 1, N_MAX) for n in ns)
    if not ns:
        raise ValueError("ns must not be empty")
    y = density.sample(max(ns), seed)
    edges = central_edges(density, bins)
    expected = bin_average_density(density.cdf, edges)
    ks = np.array([ks_distance(y[:n], density.cdf) for n in ns])
    err = np.array([np.max(np.abs(histogram_heights(y[:n], edges) - expected)) for n in ns])
    n = np.array(ns, dtype=float)
    p = np.diff(density.cdf(edges))
    s_max = float(np.max(np.sqrt(p * (1 - p)) / np.diff(edges)))
    return {
        "n": np.array(ns),
        "ks": ks,
        "density_error": err,
        "edges": edges,
        "ks_ref": KS_MEAN_SQRT_N / np.sqrt(n),
        "density_error_ref": s_max * math.sqrt(2 * math.log(2 * (len(edges) - 1))) / np.sqrt(n),
    }
