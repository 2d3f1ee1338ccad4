"""Figure builders and the summary table of the Gradient estimators view, without Streamlit."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from reparam_core import estimators as E
from reparam_core import functions as F
from reparam_core.registry import GAUSSIAN
from reparam_ui.figures import grad as G


@pytest.fixture(scope="module")
def run():
    f = F.get("step", 0.0)
    samples = {m: E.gradient_samples(f, (1.0, 1.0), m, 3000, 5, wrt="mu") for m in E.METHODS}
    return f, E.exact_stats(f, (1.0, 1.0))["mu"], samples


def test_function_figure_leaves_non_finite_values_out():
    x = np.linspace(-2, 2, 9)
    with np.errstate(all="ignore"):
        fx, dfx = np.log(x), 1 / x  # nan for x < 0, ±inf at 0
    fig = G.function_figure(x, fx, dfx, np.exp(-(x**2) / 2), 0.0, 1.0)
    names = [t.name for t in fig.data]
    assert names == ["density N(x | μ, σ²)", "f(x)", "f′(x)"]
    fy = np.array(fig.data[1].y, dtype=float)
    assert np.isnan(fy[:5]).all() and np.isfinite(fy[5:]).all()
    dfy = np.array(fig.data[2].y, dtype=float)
    assert np.isnan(dfy[4]) and not np.isinf(dfy).any()
    assert fig.data[0].yaxis == "y2"  # density on its own axis


def test_histograms_count_every_sample_and_mark_the_truth(run):
    f, exact, samples = run
    truth = exact.true
    fig = G.histogram_figure(samples, truth, bins=40)
    assert len(fig.data) == 4
    assert not fig.layout.annotations  # each panel is named by its x-axis title
    for i, (step, m) in enumerate(zip(fig.data, E.METHODS, strict=True)):
        title = fig.layout[f"xaxis{i + 1 if i else ''}"].title.text
        assert title.startswith(GAUSSIAN[m].short) and step.xaxis == f"x{i + 1 if i else ''}"
        found = re.search(r"(\d+) outside", title)
        n_out = int(found.group(1)) if found else 0
        edges, counts = np.asarray(step.x), np.asarray(step.y)[:-1]  # the last count is repeated
        assert len(edges) == 41 and step.y[-1] == step.y[-2] and step.line.shape == "hv"
        assert sum(counts) + n_out == len(samples[m])
        inside = samples[m][(samples[m] >= edges[0]) & (samples[m] <= edges[-1])]
        np.testing.assert_array_equal(counts, np.histogram(inside, bins=edges)[0])
    assert [s.x0 for s in fig.layout.shapes] == [truth] * 4
    # the step's pathwise estimates are all 0: a degenerate range must still give one bin
    assert sum(fig.data[0].y[:-1]) == 3000


def test_running_mean_band_is_two_standard_errors(run):
    _, exact, samples = run
    fig = G.running_mean_figure(samples, exact.true, points=50)
    band, line = fig.data[2], fig.data[3]  # the score function's panel
    g = samples["score"]
    assert line.x[-1] == len(g)
    assert line.y[-1] == pytest.approx(g.mean(), rel=1e-12)
    k = len(line.x)
    upper, lower = band.y[k - 1], band.y[k]  # the band is drawn out along upper, back along lower
    assert upper - lower == pytest.approx(4 * g.std(ddof=1) / math.sqrt(len(g)), rel=1e-9)
    assert len(fig.layout.shapes) == 4


def test_variance_curves_are_log_scale_with_exact_values():
    ks = np.linspace(-3, 3, 25)
    sweep = E.exact_sweep("square", ks)
    var = {wrt: stats.variance for wrt, stats in sweep.items()}
    mc = {
        "square": (
            ks[::6],
            {w: {m: v[::6] * 1.01 for m, v in per.items()} for w, per in var.items()},
        )
    }
    fig = G.variance_curves_figure({"square": (ks, var)}, mc)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    lines = [t for t in fig.data if t.mode == "lines"]
    markers = [t for t in fig.data if t.mode == "markers"]
    assert len(lines) == 8 and len(markers) == 8
    path_mu = lines[0]
    np.testing.assert_allclose(np.array(path_mu.y, dtype=float), 4.0, rtol=1e-9)
    # the exact zero of the measure-valued μ variance at k = μ is a gap, not a spike to 1e-32
    mvd = np.array(lines[3].y, dtype=float)
    assert np.isnan(mvd[ks == 1.0]).all() if (ks == 1.0).any() else np.isfinite(mvd).all()


def test_variance_of_the_mean_has_slope_minus_one(run):
    _, exact, samples = run
    var = exact.variance
    fig = G.variance_of_mean_figure(var, samples, 3000)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 3  # the step's pathwise variance is 0: no line on a log axis
    for t in lines:
        x, y = np.array(t.x), np.array(t.y)
        slope = np.diff(np.log(y)) / np.diff(np.log(x))
        np.testing.assert_allclose(slope, -1.0, rtol=1e-12)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_summary_table_bias_efficiency_and_z(run):
    _, exact, samples = run
    t = G.summary_table(exact, samples, 3000)
    phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
    assert t["true ∇"][0] == pytest.approx(phi1, rel=1e-10)
    assert t["bias"][0] == pytest.approx(-phi1, rel=1e-10)  # pathwise on the step
    assert math.isnan(t["Var ÷ best"][0]) and math.isnan(t["work ÷ best"][0])
    assert t["bias"][1:] == [0.0, 0.0, 0.0]
    ratios = t["Var ÷ best"][1:]
    assert min(ratios) == 1.0 and all(r >= 1.0 for r in ratios)
    assert t[G.COST_COLUMN] == [1, 1, 1, 2]
    for i, m in enumerate(E.METHODS):
        assert t["SE at N=3000"][i] == pytest.approx(math.sqrt(exact.variance[m] / 3000))
    assert all(abs(z) < 5 for z in t["z (MC vs true)"][1:])
    assert t["z (MC vs true)"][0] < -1e6  # zero variance: the SE floor makes the bias show


def test_panels_sit_on_their_own_axes(run):
    """The builders assemble subplot layouts by hand: each trace's axes exist, panels don't overlap,
    and the axis settings (log x, titles) reach every panel."""
    _, exact, samples = run
    truth = exact.true
    for fig, panels, titles in (
        (G.histogram_figure(samples, truth), 4, 0),  # named by their x-axis titles
        (G.running_mean_figure(samples, truth), 4, 4),
        (G.running_mean_figure({m: samples[m] for m in E.METHODS[:3]}, truth), 3, 3),
    ):
        layout = fig.to_dict()["layout"]
        used = {(t["xaxis"], t["yaxis"]) for t in fig.to_dict()["data"]}
        assert len(used) == panels
        boxes = []
        for xa, ya in used:
            x = layout["xaxis" + xa[1:]]
            y = layout["yaxis" + ya[1:]]
            assert x["anchor"] == ya and y["anchor"] == xa
            boxes.append((*x["domain"], *y["domain"]))
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2], (a, b)
        assert len(layout.get("annotations", [])) == titles  # one title per panel, if any
    running = G.running_mean_figure(samples, truth).layout
    assert all(running[f"xaxis{a}"].type == "log" for a in ("", "2", "3", "4"))
    assert running.xaxis3.title.text == "samples N" and running.xaxis.title.text is None
    f = G.function_figure(np.linspace(0, 1, 5), np.ones(5), np.zeros(5), np.ones(5), 0.5, 1.0)
    assert f.layout.yaxis2.overlaying == "y" and f.layout.yaxis2.side == "right"
    assert f.layout.shapes[0].x0 == 0.5 and f.layout.annotations[0].text == "μ"


def test_dimension_spec_panels_bound_and_tolerance():
    from reparam_core import dimension as Dm
    from reparam_core import functions as F

    f = F.get("cos", 2.0)
    ex = Dm.exact_variance(f, (1.0, 1.0), Dm.DIMS, "mu")
    rel = Dm.relative_error(ex, Dm.DIMS, 1000)
    mc = {"score": (np.array([1.0, 10.0]), np.array([1.0, 2.0]))}
    spec = G.dimension_spec(
        Dm.DIMS.astype(float), ex.variance, rel, Dm.pathwise_bound(f, Dm.DIMS), mc, 1000, 0.1, "mu"
    )
    names = [t["name"] for t in spec["data"]]
    assert names.count("pathwise bound D·L²") == 1
    bound = next(t for t in spec["data"] if t["name"] == "pathwise bound D·L²")
    assert np.allclose(bound["y"], 4.0 * Dm.DIMS)  # L = |k| = 2
    right = [t for t in spec["data"] if t.get("xaxis") == "x2"]
    assert len(right) == len(ex.variance)  # one relative-error line per estimator
    assert spec["layout"]["shapes"][0]["y0"] == 0.1
    assert spec["layout"]["xaxis"]["type"] == "log" and spec["layout"]["yaxis2"]["type"] == "log"
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert "Relative error with 1,000 evaluations of F" in titles
