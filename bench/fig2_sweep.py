"""Time the exact Mohamed et al. 2020 Fig. 2 sweep (3 costs × 100 k × 2 θ × 4 estimators), uncached.

    python bench/fig2_sweep.py [--repeats 5] [--quad-cases 1]

Prints our vectorized quadrature's wall time next to the 0.5 s target, and next to a
scipy.integrate.quad baseline (one quad per mean and per variance, a nested quad for the coupled
Maxwell pair) timed on a small subset in the same run and scaled to the full sweep's 2400 cells.
`sweep_seconds()` is what bench/run.py records as fig2_sweep_seconds.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import _path  # noqa: F401 (first: puts the repository root on sys.path)
import numpy as np

from reparam_core import estimators as E
from reparam_core import functions as F

TARGET_SECONDS = 0.5
SWEEP = {
    "square": np.linspace(-3.0, 3.0, 100),
    "exp": np.logspace(-1.0, 1.0, 100),
    "cos": np.logspace(math.log10(0.5), math.log10(5.0), 100),
}
CELLS = sum(len(ks) for ks in SWEEP.values()) * len(E.WRT) * len(E.METHODS)


def full_sweep() -> dict:
    return {name: E.exact_sweep(name, ks, (1.0, 1.0)) for name, ks in SWEEP.items()}


def sweep_seconds(repeats: int = 5) -> float:
    """Median wall time of the full exact sweep (nothing is cached between calls)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        full_sweep()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def quad_cell(f, wrt: str, method: str) -> tuple[float, float]:
    """(mean, variance) of one estimator at mu = sigma = 1 with scipy.integrate.quad."""
    from scipy import integrate

    def quad(h, lo, hi):
        return integrate.quad(h, lo, hi, limit=200, epsrel=1e-10)[0]

    def phi(e):
        return math.exp(-0.5 * e * e) / math.sqrt(2 * math.pi)

    if method == "measure_valued" and wrt == "sigma":

        def g2(m, power, c):
            return quad(lambda u: ((f.f(1 + m) - f.f(1 + u * m)) - c) ** power, 0.0, 1.0)

        mean = quad(lambda m: g2(m, 1, 0.0) * m * m * phi(m), -10, 10)
        return mean, quad(lambda m: g2(m, 2, mean) * m * m * phi(m), -10, 10)
    if method == "measure_valued":

        def g(w):
            return (f.f(1 + w) - f.f(1 - w)) / math.sqrt(2 * math.pi)

        def dens(w):
            return w * math.exp(-0.5 * w * w)

        mean = quad(lambda w: g(w) * dens(w), 0, 10)
        return mean, quad(lambda w: (g(w) - mean) ** 2 * dens(w), 0, 10)

    def s(e):
        return e if wrt == "mu" else e * e - 1

    b = 0.0
    if method == "score_baseline":
        b = quad(lambda e: f.f(1 + e) * s(e) ** 2 * phi(e), -10, 10) / (1 if wrt == "mu" else 2)

    def g(e):
        if method == "pathwise":
            return f.df(1 + e) * (1 if wrt == "mu" else e)
        return (f.f(1 + e) - b) * s(e)

    mean = quad(lambda e: g(e) * phi(e), -10, 10)
    return mean, quad(lambda e: (g(e) - mean) ** 2 * phi(e), -10, 10)


def quad_seconds_per_cell(cases_per_cost: int = 1) -> tuple[float, int, float]:
    """Seconds per cell of the scipy.quad baseline on a subset; also its max relative deviation."""
    cells, worst = 0, 0.0
    t = time.perf_counter()
    for name, ks in SWEEP.items():
        for k in ks[np.linspace(10, 89, cases_per_cost).astype(int)]:
            ours = E.exact_sweep(name, [k], (1.0, 1.0))
            for wrt in E.WRT:
                for method in E.METHODS:
                    mean, var = quad_cell(F.get(name, float(k)), wrt, method)
                    cells += 1
                    worst = max(worst, abs(ours[wrt].variance[method][0] - var) / var)
    return (time.perf_counter() - t) / cells, cells, worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quad-cases", type=int, default=1, help="k values per cost for scipy.quad")
    args = ap.parse_args()

    ours = sweep_seconds(args.repeats)
    per_cell, cells, worst = quad_seconds_per_cell(args.quad_cases)
    quad_full = per_cell * CELLS
    print(f"Fig. 2 exact sweep: {CELLS} cells (3 costs × 100 k × 2 θ × 4 estimators), uncached")
    print(f"  {'vectorized quadrature (ours)':34s} {ours:9.3f} s   target {TARGET_SECONDS} s   "
          f"{'OK' if ours <= TARGET_SECONDS else 'OVER'} ({ours / TARGET_SECONDS:.2f}× target)")  # fmt: skip
    print(f"  {'scipy.integrate.quad, scaled':34s} {quad_full:9.1f} s   "
          f"(measured {cells} cells: {per_cell * 1e3:.0f} ms/cell)")  # fmt: skip
    print(f"  speed-up ours vs quad               {quad_full / ours:9.0f}×")
    print(f"  max relative variance difference on the subset: {worst:.1e}")


if __name__ == "__main__":
    main()
