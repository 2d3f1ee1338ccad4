"""Figure builders of the change-of-variables view, tested without Streamlit."""

import json

import numpy as np
import plotly.io as pio
import pytest
from scipy import stats

from reparam_core import checks
from reparam_core import transforms as T
from reparam_ui.figures import cov as cov_figs

MU, SIGMA, K = 2.0, 0.6, 15


@pytest.fixture(scope="module")
def standardize_fig():
    x = T.Normal(MU, SIGMA).sample(200, seed=0)
    return x, cov_figs.animation_figure(x, T.standardize_path(MU, SIGMA, K), duration_ms=120)


def test_frame_count_and_controls(standardize_fig):
    _, fig = standardize_fig
    assert len(fig.frames) == 2 * K + 1
    (menu,) = fig.layout.updatemenus
    labels = [b.label for b in menu.buttons]
    assert any("Play" in s for s in labels) and any("Pause" in s for s in labels)
    play = menu.buttons[0]
    assert play.method == "animate" and play.args[0] is None
    assert play.args[1]["frame"]["duration"] == 120 and play.args[1]["fromcurrent"]
    (slider,) = fig.layout.sliders
    assert [s.args[0][0] for s in slider.steps] == [f.name for f in fig.frames]


def test_axis_ranges_are_fixed_and_cover_every_frame(standardize_fig):
    _, fig = standardize_fig
    path = T.standardize_path(MU, SIGMA, K)
    lo, hi = fig.layout.xaxis.range
    assert fig.layout.xaxis.autorange is False and fig.layout.yaxis.autorange is False
    assert lo <= np.min(path.means() - 3 * path.sds()) and hi >= np.max(
        path.means() + 3 * path.sds()
    )
    # No frame carries its own layout, so the ranges cannot move during playback.
    assert all(f.layout is None or not f.layout.to_plotly_json() for f in fig.frames)
    ymax = fig.layout.yaxis.range[1]
    assert ymax >= max(max(f.data[1].y) for f in fig.frames)  # every density curve fits
    assert ymax >= max(max(f.data[0].y) for f in fig.frames)  # every histogram fits


def test_points_move_from_x_through_x_minus_mu_to_standardized(standardize_fig):
    x, fig = standardize_fig
    rug = [np.asarray(f.data[2].x, dtype=float) for f in fig.frames]
    np.testing.assert_allclose(rug[0], x, rtol=1e-6, atol=1e-6)  # float32 on the wire
    np.testing.assert_allclose(rug[K], x - MU, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(rug[-1], (x - MU) / SIGMA, rtol=1e-6, atol=1e-6)
    hl = cov_figs.highlight_indices(x, 6)
    np.testing.assert_allclose(
        np.asarray(fig.frames[-1].data[3].x), (x[hl] - MU) / SIGMA, rtol=1e-6
    )


def test_density_curves_are_the_exact_laws_of_each_frame(standardize_fig):
    _, fig = standardize_fig
    grid = np.asarray(fig.data[1].x, dtype=float)
    first = np.asarray(fig.frames[0].data[1].y, dtype=float)
    last = np.asarray(fig.frames[-1].data[1].y, dtype=float)
    mid = np.asarray(fig.frames[K].data[1].y, dtype=float)
    np.testing.assert_allclose(first, stats.norm(MU, SIGMA).pdf(grid), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mid, stats.norm(0, SIGMA).pdf(grid), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last, stats.norm(0, 1).pdf(grid), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fig.data[4].y), last, rtol=1e-6)  # the dashed target


def test_histograms_are_precomputed_per_frame(standardize_fig):
    x, fig = standardize_fig
    width = fig.data[0].width
    centers = np.asarray(fig.data[0].x, dtype=float)
    edges = np.append(centers - width / 2, centers[-1] + width / 2)
    for k in (0, K, 2 * K):
        heights = np.asarray(fig.frames[k].data[0].y, dtype=float)
        pos = np.asarray(fig.frames[k].data[2].x, dtype=float)
        counts, _ = np.histogram(pos, bins=edges)
        np.testing.assert_allclose(heights, counts / (x.size * width), rtol=1e-5)


def test_frames_only_resend_what_moves_and_stay_light():
    x = T.Normal(-5.0, 5.0).sample(400, seed=1)  # the largest n the page allows
    fig = cov_figs.animation_figure(x, T.standardize_path(-5.0, 5.0, K))
    for f in fig.frames:
        keys = [set(k for k, v in d.to_plotly_json().items() if k != "type") for d in f.data]
        assert keys == [{"y"}, {"y"}, {"x"}, {"x"}]
    assert len(fig.frames) * x.size <= 40 * 400
    assert len(pio.to_json(fig)) < 300_000  # bytes sent to the browser


def test_reparameterize_mode_ends_at_mu_plus_sigma_eps():
    eps = np.random.default_rng(4).standard_normal(100)
    fig = cov_figs.animation_figure(eps, T.reparameterize_path(-1.5, 2.0, 5))
    np.testing.assert_allclose(np.asarray(fig.frames[0].data[2].x), eps, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fig.frames[-1].data[2].x), -1.5 + 2.0 * eps, rtol=1e-6)
    grid = np.asarray(fig.data[4].x, dtype=float)
    np.testing.assert_allclose(
        np.asarray(fig.data[4].y), stats.norm(-1.5, 2.0).pdf(grid), rtol=1e-5, atol=1e-6
    )


def test_highlight_indices_are_distinct_and_spread():
    v = np.random.default_rng(0).standard_normal(300)
    idx = cov_figs.highlight_indices(v, 6)
    assert len(set(idx.tolist())) == 6
    assert np.all(np.diff(v[idx]) > 0)  # ordered by value: they fan out
    assert (
        stats.percentileofscore(v, v[idx[0]]) < 10 and stats.percentileofscore(v, v[idx[-1]]) > 90
    )


@pytest.mark.parametrize(
    "name,ref",
    [
        ("exp", stats.lognorm(s=0.5, scale=np.exp(0.2))),
        ("sigmoid", None),
        ("sinh", stats.johnsonsu(a=-0.2 / 0.5, b=1 / 0.5)),
    ],
)
def test_map_figure_draws_fx_fy_and_the_jacobian_factor(name, ref):
    d = T.TransformedDensity(T.Normal(0.2, 0.5), T.get(name))
    fig = cov_figs.map_figure(d, T.Normal(0.2, 0.5).sample(5000, seed=0))
    fx, hist, fy, jac = fig.data
    xs = np.asarray(fx.x, dtype=float)
    np.testing.assert_allclose(np.asarray(fx.y), stats.norm(0.2, 0.5).pdf(xs), rtol=1e-5, atol=1e-7)
    ys = np.asarray(fy.x, dtype=float)
    if ref is not None:
        np.testing.assert_allclose(np.asarray(fy.y), ref.pdf(ys), rtol=1e-4, atol=1e-6)
    jac_closed = {"exp": 1 / ys, "sigmoid": 1 / (ys * (1 - ys)), "sinh": 1 / np.sqrt(1 + ys**2)}
    np.testing.assert_allclose(np.asarray(jac.y), jac_closed[name], rtol=1e-4)
    assert fig.layout.yaxis3.type == "log"  # |g'| on a log axis: stretch vs squeeze around 1
    assert hist.type == "bar"


def test_agreement_figure_is_log_log_with_references():
    d = T.TransformedDensity(T.Normal(0, 1), T.Sigmoid())
    fig = cov_figs.agreement_figure(checks.agreement_vs_n(d, (10, 100, 1000), seed=0))
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    names = [t.name for t in fig.data]
    assert any("√n" in s for s in names) and any("KS" in s for s in names)
    ref = fig.data[1]
    np.testing.assert_allclose(
        np.asarray(ref.y) * np.sqrt(np.asarray(ref.x, dtype=float)), 0.8687, rtol=1e-4
    )


def test_figures_serialize_for_streamlit(standardize_fig):
    _, fig = standardize_fig
    spec = json.loads(pio.to_json(fig, validate=False))
    assert len(spec["frames"]) == 2 * K + 1
