"""reparam_ui.figures.diffusion: the animations' frames are the process at the marked t (checked
against x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε and ᾱ_t = Π(1 − β_s) written out here), the contours carry
the density they are given, the arrows are the score, and every figure is valid plotly."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from tests.support.charts import decode

from reparam_core import diffusion as D
from reparam_core import toy_data
from reparam_ui.components.plot_element import figure_bytes
from reparam_ui.figures import diffusion as F
from reparam_ui.figures.line_chart import line_chart_spec


def valid(spec: dict) -> dict:
    go.Figure(spec)  # plotly's validating constructor raises on any invalid property
    return spec


def alpha_bar(name: str, T: int) -> np.ndarray:
    """ᾱ_0 … ᾱ_T from the schedules' definitions, independently of reparam_core.diffusion."""
    if name == "linear":
        beta = np.linspace(1e-4, 0.02, T)
    else:
        f = np.cos((np.arange(T + 1) / T + 0.008) / 1.008 * math.pi / 2) ** 2
        beta = np.minimum(1 - f[1:] / f[:-1], 0.999)
    return np.concatenate([[1.0], np.cumprod(1 - beta)])


def points(n=300, seed=0):
    x0 = toy_data.sample("moons", n, seed=seed)
    return x0, np.random.default_rng(seed + 1).standard_normal(x0.shape)


def traces_by_name(spec):
    return {tr.get("name"): i for i, tr in enumerate(spec["data"])}


@pytest.mark.parametrize("T", [10, 20, 24, 100, 1000])
def test_frame_times_span_0_to_T_evenly(T):
    ts = F.frame_times(T)
    assert ts[0] == 0 and ts[-1] == T
    assert len(ts) == min(F.FRAMES, T + 1) and np.all(np.diff(ts) > 0)
    assert np.diff(ts).max() - np.diff(ts).min() <= 1  # even, up to rounding


@pytest.mark.parametrize(("name", "T"), [("cosine", 100), ("linear", 50), ("cosine", 20)])
def test_forward_frames_are_the_one_shot_sample_at_the_marked_t(name, T):
    sched = D.schedule(name, T)
    x0, eps = points()
    spec = valid(F.forward_spec(x0, eps, sched))
    ab = alpha_bar(name, T)
    ts = F.frame_times(T)
    assert len(spec["frames"]) == len(ts) == len(spec["layout"]["sliders"][0]["steps"])
    idx = traces_by_name(spec)
    pts, hl = idx["x_t (coloured by where x₀ was)"], idx["a few points, followed"]
    marks = [i for i, tr in enumerate(spec["data"]) if tr.get("name") == "this frame's t"]
    assert spec["frames"][0]["traces"] == [pts, hl, *marks]
    hl_index = F.highlight_indices(x0)
    for k, (frame, t) in enumerate(zip(spec["frames"], ts, strict=True)):
        assert spec["layout"]["sliders"][0]["steps"][k]["label"] == f"t = {t}"
        moved, followed, a_mark, snr_mark = frame["data"]
        x_t = math.sqrt(ab[t]) * x0 + math.sqrt(1 - ab[t]) * eps
        np.testing.assert_allclose(decode(moved["x"]), x_t[:, 0], atol=1e-5)
        np.testing.assert_allclose(decode(moved["y"]), x_t[:, 1], atol=1e-5)
        np.testing.assert_allclose(decode(followed["x"]), x_t[hl_index, 0], atol=1e-5)
        assert a_mark["x"] == [t] and a_mark["y"] == [pytest.approx(ab[t], rel=1e-12)]
        if t == 0:
            assert snr_mark["y"] == [None]  # log SNR = +∞: no marker
        else:
            assert snr_mark["y"] == [pytest.approx(math.log(ab[t] / (1 - ab[t])), rel=1e-9)]
    # the static schedule curves are the schedule's values, t = 0 … T
    np.testing.assert_allclose(decode(spec["data"][idx["ᾱ_t"]]["y"]), ab, rtol=1e-6)
    assert spec["layout"]["sliders"][0]["steps"][-1]["label"] == f"t = {T}"


def test_first_frame_is_the_data_and_the_paths_follow_the_highlighted_points():
    sched = D.schedule("cosine", 100)
    x0, eps = points()
    spec = F.forward_spec(x0, eps, sched)
    idx = traces_by_name(spec)
    first = spec["data"][idx["x_t (coloured by where x₀ was)"]]
    np.testing.assert_allclose(decode(first["x"]), x0[:, 0], atol=1e-6)
    paths = spec["data"][idx["their paths"]]
    px, py = decode(paths["x"]), decode(paths["y"])
    hl = F.highlight_indices(x0)
    k = len(F.frame_times(100))
    assert len(px) == len(hl) * (k + 1)
    ab = alpha_bar("cosine", 100)[F.frame_times(100)]
    for j, i in enumerate(hl):  # each path: that point's x_t at every frame, then a break
        seg = slice(j * (k + 1), (j + 1) * (k + 1) - 1)
        np.testing.assert_allclose(
            px[seg], np.sqrt(ab) * x0[i, 0] + np.sqrt(1 - ab) * eps[i, 0], atol=1e-5
        )
        np.testing.assert_allclose(
            py[seg], np.sqrt(ab) * x0[i, 1] + np.sqrt(1 - ab) * eps[i, 1], atol=1e-5
        )
        assert math.isnan(px[(j + 1) * (k + 1) - 1])
    # highlighted points spread around the data: distinct, one per sixth of the angles
    assert len(set(hl.tolist())) == 6


def test_contours_carry_the_given_density_clipped_to_the_frames_range():
    sched = D.schedule("cosine", 20)
    x0, eps = points()
    ts = F.frame_times(20)
    xs, ys, pts = F.grid(12)
    rng = np.random.default_rng(3)
    log_q = rng.normal(-5, 4, (len(ts), 12, 12))
    log_q[0, 0, 0] = -np.inf  # off a bounded support
    spec = valid(F.forward_spec(x0, eps, sched, ts, (xs, ys, log_q)))
    assert spec["data"][0]["type"] == "contour" and spec["frames"][0]["traces"][0] == 0
    # frames redraw (contours cannot move without it)
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["redraw"]
    for k, frame in enumerate(spec["frames"]):
        z = F.decode_grid(frame["data"][0]["z"])
        floor = log_q[k][np.isfinite(log_q[k])].max() - F.LOG_Q_RANGE
        keep = log_q[k] > floor
        np.testing.assert_allclose(z[keep], log_q[k][keep], rtol=1e-6)
        assert np.all(z[~keep] == np.float32(floor))
    np.testing.assert_array_equal(
        F.decode_grid(spec["data"][0]["z"]), F.decode_grid(spec["frames"][0]["data"][0]["z"])
    )
    # rows are y, columns x: the grid the density was computed on
    assert pts[3, 5, 0] == xs[5] and pts[3, 5, 1] == ys[3]


def test_a_forward_animation_of_1000_points_stays_small():
    sched = D.schedule("cosine", 1000)
    x0, eps = points(1000)
    ts = F.frame_times(1000)
    xs, ys, _ = F.grid(40)
    spec = F.forward_spec(x0, eps, sched, ts, (xs, ys, np.zeros((len(ts), 40, 40))))
    assert len(figure_bytes(spec)) < 700_000


def test_reverse_frames_run_from_T_to_0_with_the_first_and_last_states():
    sched = D.schedule("cosine", 100)
    K, n = 50, 40
    ts = np.round(np.linspace(100, 0, K + 1)).astype(int)
    traj = (
        np.random.default_rng(0).standard_normal((K + 1, n, 2))
        * np.linspace(1, 0.2, K + 1)[:, None, None]
    )
    spec = valid(F.reverse_spec(ts, traj, sched))
    shown = F.reverse_frames(ts)
    assert len(spec["frames"]) == len(shown) == F.FRAMES
    assert shown[0] == 100 and shown[-1] == 0
    idx = traces_by_name(spec)
    pts = idx["x_t (coloured by where it ends)"]
    np.testing.assert_allclose(decode(spec["data"][pts]["x"]), traj[0, :, 0], atol=1e-6)
    last = spec["frames"][-1]["data"]
    np.testing.assert_allclose(decode(last[0]["x"]), traj[-1, :, 0], atol=1e-6)
    ab = alpha_bar("cosine", 100)
    for frame, t in zip(spec["frames"], shown, strict=True):
        assert frame["data"][2]["x"] == [t] and frame["data"][2]["y"][0] == pytest.approx(ab[t])
    # every trajectory state of a short DDIM run is a frame
    short = F.reverse_frames(np.array([100, 75, 50, 25, 0]))
    assert short.tolist() == [100, 75, 50, 25, 0]


def test_arrows_are_the_score_on_one_scale_and_capped_in_length_only():
    xs, ys, grid = F.grid(9)
    pts = grid.reshape(-1, 2)
    exact = -pts / 0.7  # the score of N(0, 0.7 I)
    learned = exact + np.random.default_rng(0).normal(0, 0.3, exact.shape)
    spec = valid(F.score_field_spec(pts, learned, exact, t=7))
    meta = spec["layout"]["meta"]
    scale, cap = meta["arrow_scale"], meta["arrow_cap"]
    step = xs[1] - xs[0]
    # the 90th percentile of the exact |score| is drawn ARROW_CELLS cells long, cut at the cap
    norm90 = np.percentile(np.linalg.norm(exact, axis=1), 90)
    assert scale * norm90 == pytest.approx(F.ARROW_CELLS * step)
    assert cap == pytest.approx(F.ARROW_CAP_CELLS * step)
    segs = [tr for tr in spec["data"] if tr.get("mode") == "lines"]
    assert [s["name"] for s in segs] == ["learned score s_θ", "exact ∇ log q_t"]
    for seg, vectors in zip(segs, (learned, exact), strict=True):
        x, y = decode(seg["x"]).reshape(-1, 3), decode(seg["y"]).reshape(-1, 3)
        assert np.isnan(x[:, 2]).all()
        np.testing.assert_allclose(x[:, 0], pts[:, 0], atol=1e-6)
        d = np.stack([x[:, 1] - x[:, 0], y[:, 1] - y[:, 0]], 1)
        want = scale * vectors
        long = np.linalg.norm(want, axis=1) > cap
        np.testing.assert_allclose(d[~long], want[~long], atol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(d[long], axis=1), cap, rtol=1e-5)
        moving = np.linalg.norm(want, axis=1) > 0
        d, want = d[moving], want[moving]
        cos = np.sum(d * want, 1) / np.linalg.norm(d, axis=1) / np.linalg.norm(want, axis=1)
        np.testing.assert_allclose(cos, 1.0, atol=1e-5)
    # arrow heads sit on the segments' ends, turned along them (clockwise from up)
    heads = [tr for tr in spec["data"] if tr.get("marker", {}).get("symbol") == "triangle-up"]
    assert len(heads) == 2
    x, y = decode(segs[1]["x"]).reshape(-1, 3), decode(segs[1]["y"]).reshape(-1, 3)
    np.testing.assert_allclose(decode(heads[1]["x"]), x[:, 1], atol=1e-6)
    right = np.flatnonzero((np.abs(pts[:, 1]) < 1e-9) & (pts[:, 0] < -1))  # left of 0: points right
    np.testing.assert_allclose(decode(heads[1]["marker"]["angle"])[right], 90.0, atol=1e-4)
    above = np.flatnonzero((np.abs(pts[:, 0]) < 1e-9) & (pts[:, 1] > 1))  # above 0: points down
    np.testing.assert_allclose(np.abs(decode(heads[1]["marker"]["angle"])[above]), 180.0, atol=1e-4)
    assert spec["layout"]["title"]["text"].startswith("Score field at t = 7")


def test_bound_chart_has_the_ceiling_and_two_standard_error_bars():
    evals = {
        "step": [500.0, 1000.0],
        "bound": [-3.1, -2.7],
        "bound_se": [0.02, 0.01],
        "fidelity": [-2.9, -2.5],
        "fidelity_se": [0.05, 0.04],
        "score_error": [0.4, 0.2],
    }
    spec = valid(F.bound_spec(evals, -2.394))
    assert spec["layout"]["shapes"][0]["y0"] == -2.394
    bound, fid = spec["data"]
    assert bound["y"] == [-3.1, -2.7] and bound["error_y"]["array"] == [0.04, 0.02]
    assert fid["y"] == [-2.9, -2.5]
    canvas = line_chart_spec(F.loss_spec({"step": [1.0, 2.0], "loss": [1.2, 0.9]}))
    assert canvas["lines"][0]["y"] == [1.2, 0.9] and not canvas["empty"]
    err = valid(F.score_error_spec(evals))
    assert err["data"][0]["y"] == [0.4, 0.2] and err["layout"]["yaxis"]["type"] == "log"
    empty = valid(F.bound_spec({}, None))
    assert "shapes" not in empty["layout"]


def test_live_view_panels():
    data = toy_data.sample("moons", 50, seed=0)
    samples = data + 0.1
    samples[0] = np.nan  # a diverged sample is left out
    xs, ys, _ = F.grid(8)
    view = F.live_view(
        data, samples, data * 0.9, 1200, "DDIM, 20 steps", 50, (xs, ys, np.ones((8, 8)))
    )
    assert view["step"] == 1200 and len(view["panels"]) == 3
    d, s, x0 = view["panels"]
    assert len(d["x"]) == 50 and len(d["colors"]) == 50 and len(s["x"]) == 49
    assert s["heat"]["nx"] == 8 and "heat" not in d
    assert x0["colors"] == d["colors"]  # each x̂₀ in its own x₀'s colour
    assert all(p["range"] == F.LIM for p in view["panels"])
