"""Closed forms the tests compare against: the standard normal density and CDF, and the exact
gradients of E_{N(mu, sigma²)}[f] for the test functions of reparam_core.functions."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

SQ2PI = math.sqrt(2 * math.pi)


def phi(z):
    return np.exp(-0.5 * np.asarray(z) ** 2) / SQ2PI


def Phi(z):
    return 0.5 * (1 + special.erf(np.asarray(z) / math.sqrt(2)))


def closed_gradient(name, k, mu, sigma):
    """(∂μ, ∂σ) of E_{N(mu, sigma²)}[f] in closed form."""
    if name == "square":  # E = (mu-k)² + σ²
        return 2 * (mu - k), 2 * sigma
    if name == "exp":  # E = a^{-1/2} exp(-k mu²/a), a = 1 + 2kσ²
        a = 1 + 2 * k * sigma**2
        g = a**-0.5 * math.exp(-k * mu**2 / a)
        return g * (-2 * k * mu / a), g * (-2 * k * sigma / a + 4 * k**2 * mu**2 * sigma / a**2)
    if name == "cos":  # E = cos(k mu) exp(-k²σ²/2)
        d = math.exp(-(k**2) * sigma**2 / 2)
        return -k * math.sin(k * mu) * d, -(k**2) * sigma * math.cos(k * mu) * d
    z = (mu - k) / sigma
    if name == "step":  # E = Φ(z)
        return float(phi(z)) / sigma, -float(phi(z)) * z / sigma
    if name == "abs":  # E = σ√(2/π) e^{-z²/2} + (mu-k)(2Φ(z) - 1)
        return 2 * float(Phi(z)) - 1, 2 * float(phi(z))
    raise AssertionError(name)
