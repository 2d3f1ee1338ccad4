"""The one result type for exact statistics, shared by every estimator family."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class ExactStats:
    """Exact statistics of the estimators of one gradient ∂/∂θ E[f]: the true gradient and, per
    method (in registry order), the mean and single-sample variance of its estimate.

    Values are floats at one point, or arrays along a sweep (over k, over τ).
    """

    true: float | Array
    mean: dict[str, float | Array]
    variance: dict[str, float | Array]

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(self.mean)

    @property
    def bias(self) -> dict[str, float | Array]:
        return {m: v - self.true for m, v in self.mean.items()}

    @property
    def mse(self) -> dict[str, float | Array]:
        return {m: (self.mean[m] - self.true) ** 2 + self.variance[m] for m in self.mean}
