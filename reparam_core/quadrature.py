"""Gauss–Legendre quadrature on panels: the one rule every exact statistic in the core integrates with.

On [−1, 1] the q-point rule Σ_j w_j g(ξ_j) is exact for polynomials of degree < 2q. A panel with
centre c and half-width h maps it to nodes c + hξ_j with weights h w_j; a composite rule is one
panel after another. `integration_matrix` gives the running integral ∫_{−1}^{ξ_i} g at the nodes.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.polynomial import legendre

Array = np.ndarray


@functools.cache
def rule(q: int) -> tuple[Array, Array]:
    """Nodes ξ and weights w of the q-point rule on [−1, 1] (read-only: shared by every caller)."""
    xi, w = legendre.leggauss(q)
    xi.flags.writeable = w.flags.writeable = False
    return xi, w


def on_panels(centre, half, q: int) -> tuple[Array, Array]:
    """Nodes c + hξ and weights h·w on panels of centres `centre` and half-widths `half`: shape
    (*panels, q)."""
    xi, w = rule(q)
    centre, half = np.asarray(centre), np.asarray(half)
    return centre[..., None] + half[..., None] * xi, half[..., None] * w


def composite(edges, q: int) -> tuple[Array, Array]:
    """The composite rule on consecutive panels [e_i, e_{i+1}]: flat nodes and weights."""
    edges = np.asarray(edges, dtype=float)
    centre, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    x, w = on_panels(centre, half, q)
    return x.ravel(), w.ravel()


def uniform(a: float, b: float, width: float, q: int) -> tuple[Array, Array]:
    """The composite rule on [a, b] cut into equal panels at most `width` wide."""
    m = max(1, int(math.ceil((b - a) / width)))
    return composite(np.linspace(a, b, m + 1), q)


@functools.cache
def integration_matrix(q: int) -> Array:
    """S with Σ_j S_ij g(ξ_j) ≈ ∫_{−1}^{ξ_i} g(t) dt (exact for polynomials of degree < q)."""
    xi, _ = rule(q)
    eye = np.eye(q)
    v = legendre.legvander(xi, q - 1)
    vint = np.stack([legendre.legval(xi, legendre.legint(eye[j], lbnd=-1)) for j in range(q)], 1)
    s = vint @ np.linalg.inv(v)
    s.flags.writeable = False
    return s
