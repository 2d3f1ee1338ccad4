"""reparam_ui.figures.vae: figures are valid plotly, bounded in size, finite, and show what they claim."""

import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from reparam_core.live_session import MAX_POINTS
from reparam_ui.figures import vae as F


def valid(fig: go.Figure) -> dict:
    """Round-trip through plotly's validating constructor: the unvalidated build is legal."""
    spec = fig.to_plotly_json()
    go.Figure(spec)  # raises on any invalid property
    return spec


def history(n: int) -> dict:
    step = np.arange(1, n + 1) * 10.0
    recon = 3.0 / np.sqrt(step)
    kl = np.full(n, 0.5)
    return {
        "step": step.tolist(),
        "seconds": (step / 100).tolist(),
        "neg_elbo": (recon + kl).tolist(),
        "recon": recon.tolist(),
        "kl": kl.tolist(),
        "beta": [1.0] * n,
        "lr": [1e-3] * n,
    }


@pytest.mark.parametrize("n", [0, 1, 7, 250, 251, 2000])
def test_thin_keeps_the_last_row_and_bounds_the_length(n):
    cols = {"step": list(range(n)), "v": [float(i) for i in range(n)]}
    out = F.thin(cols, 250)
    assert len(out["step"]) == len(out["v"]) <= 251
    if n:
        assert out["step"][-1] == n - 1 and out["step"][0] == 0
        assert out["step"] == sorted(set(out["step"]))
    if n <= 250:
        assert out == cols


def test_loss_figure_has_the_ceiling_floor_and_the_stored_curve():
    evals = {"step": [500.0, 1000.0], "iwae": [-2.9, -2.6]}
    n = 300  # more than thin keeps: the label must not be "thinned"
    stored = {
        "score": {"step": list(range(n)), "neg_elbo": [4.0] * n, "label": "lr 0.005"},
        "pathwise": {"step": [1.0], "neg_elbo": [9.0]},
    }
    spec = valid(F.loss_figure(history(2000), evals, -2.39, stored, "pathwise"))
    names = [t["name"] for t in spec["data"]]
    assert sum("stored run" in n for n in names) == 1  # only the other estimator's run
    assert any("score function (REINFORCE) (lr 0.005)" in n for n in names)
    iwae = next(t for t in spec["data"] if "IWAE" in t["name"])
    assert iwae["y"] == [2.9, 2.6]  # plotted as −IWAE, in nats like the loss
    line = spec["layout"]["shapes"][0]
    assert line["y0"] == line["y1"] == pytest.approx(2.39)
    for t in spec["data"]:
        assert len(t["x"]) <= MAX_POINTS + 1
        assert all(math.isfinite(v) for v in t["y"])
    lo, hi = spec["layout"]["yaxis"]["range"]
    assert lo < 2.39 < hi


def test_loss_figure_without_data_or_ceiling():
    spec = valid(
        F.loss_figure({"step": [], "neg_elbo": [], "recon": [], "kl": []}, {"step": []}, None)
    )
    assert spec["layout"]["shapes"] == [] and len(spec["data"]) == 3


def test_grad_figure_has_both_panels_on_log_axes():
    grad = {"step": [2000.0, 4000.0]}
    for e in F.ESTIMATOR_LABELS:
        grad[f"var_{e}"] = [1.0, 2.0]
        grad[f"snr_{e}"] = [0.5, 0.4]
    spec = valid(F.grad_figure(grad))
    assert spec["layout"]["yaxis"]["type"] == spec["layout"]["yaxis2"]["type"] == "log"
    assert len(spec["data"]) == 6
    assert valid(F.grad_figure({}))["data"][0]["x"] == []


@pytest.mark.parametrize("z_dim", [1, 2])
def test_model_figure_has_five_panels_with_shared_colours(z_dim):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 2)).astype(np.float32)
    mu = rng.standard_normal((100, z_dim))
    xs = np.linspace(-4, 4, 5)
    spec = valid(F.model_figure(x, x + 0.1, x * 2, mu, (xs, xs, np.ones((5, 5)) * 0.01), 8))
    scatters = [t for t in spec["data"] if t.get("mode") == "markers"]
    assert [t["xaxis"] for t in scatters] == ["x", "x2", "x3", "x4"]
    assert all(len(t["x"]) == 100 for t in scatters)
    colors = scatters[0]["marker"]["color"]
    assert colors == scatters[1]["marker"]["color"]  # reconstructions keep their point's colour
    assert colors == scatters[3]["marker"]["color"]  # and so do the latent means
    assert min(colors) >= -180 and max(colors) <= 180
    heat = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert len(heat) == 1 and np.array(heat[0]["z"]).shape == (5, 5) and heat[0]["xaxis"] == "x5"
    circle = [t for t in spec["data"] if t.get("name") == "prior 2σ"]
    assert len(circle) == (1 if z_dim == 2 else 0)
    assert len(spec["layout"]["annotations"]) == 5
    domains = [spec["layout"][f"xaxis{s}"]["domain"] for s in ("", "2", "3", "4", "5")]
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:], strict=False))  # no overlap
    assert domains[0][0] >= 0 and domains[-1][1] <= 1


def test_figures_serialize_small():
    """What the page sends per tick stays small (the loss chart is downsampled)."""
    spec = F.loss_figure(history(2000), {"step": [1.0], "iwae": [-3.0]}, -2.39)
    assert len(pio.to_json(spec, validate=False)) < 40_000


def test_position_colour_is_the_angle_about_the_centre():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    np.testing.assert_allclose(F.position_color(x), [0, 90, 180, -90])


def test_model_figure_sends_turbo_as_a_list_plotly_js_can_draw():
    """plotly.js has no "Turbo": sent by name (validation skipped), it fell back to another scale."""
    x = np.random.default_rng(0).standard_normal((20, 2))
    xs = np.linspace(-4, 4, 3)
    spec = valid(F.model_figure(x, x, x, x, (xs, xs, np.ones((3, 3))), 8))
    scale = spec["data"][0]["marker"]["colorscale"]
    assert isinstance(scale, list | tuple) and len(scale) > 2
    assert scale[0][0] == 0.0 and scale[-1][0] == 1.0
    assert _hex_rgb(scale[0][1]) == (48, 18, 59)  # Turbo's ends, #30123b and #7a0402
    assert _hex_rgb(scale[-1][1]) == (122, 4, 2)


def _rgb(text):
    """'rgb(48, 18, 59)' or 'rgb(48.2, 18.0, 59.1)' → (48, 18, 59)"""
    return tuple(round(float(v)) for v in text[4:-1].split(","))


def _hex_rgb(h):
    return tuple(int(h[i : i + 2], 16) for i in (1, 3, 5))


@pytest.mark.parametrize("z_dim", [1, 2])
def test_model_canvas_matches_the_plotly_view(z_dim):
    import json

    import plotly.colors as pc

    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 2)).astype(np.float32)
    mu = rng.standard_normal((50, z_dim))
    xs = np.linspace(-4, 4, 5)
    d = F.model_canvas(x, x + 0.1, x * 2, mu, (xs, xs, rng.random((5, 5))), 8, 1234)
    json.dumps(d, allow_nan=False)  # plain JSON, no NaN
    assert d["step"] == 1234 and "step 1,234" in d["title"] and "K = 8" in d["title"]
    panels = d["panels"]
    assert [p["title"] for p in panels][:3] == [t for t, _ in F.PANELS][:3]
    assert all(len(p["x"]) == len(p["y"]) == 50 for p in panels[:4])
    assert panels[0]["x"][0] == round(float(x[0, 0]), 3)
    assert panels[0]["colors"] == panels[1]["colors"] == panels[3]["colors"]
    assert panels[2]["color"] == "#6236ff"
    # each point's colour is plotly's Turbo at its angle around the centre (to 1/255 of the scale)
    angle = F.position_color(x)
    for i in range(0, 50, 7):
        t = (angle[i] + 180) / 360
        expected = _rgb(pc.sample_colorscale("Turbo", [t])[0])
        assert (
            max(abs(a - b) for a, b in zip(_hex_rgb(panels[0]["colors"][i]), expected, strict=True))
            <= 8
        )
    assert panels[4]["range"] == 4.0 and "heat" in panels[4]
    if z_dim == 1:
        assert panels[3]["circle"] is None and "1D" in panels[3]["title"]
        assert all(-1 <= v <= 1 for v in panels[3]["y"])  # jitter
    else:
        assert panels[3]["circle"] == 2.0 and panels[3]["y"][0] == round(float(mu[0, 1]), 3)
    assert panels[3]["range"] == F.latent_limit(F.latent_points(mu)) >= 3.0


def test_heat_image_rows_run_top_down_in_viridis():
    import base64

    xs = np.array([-1.0, 0.0, 1.0, 2.0])
    ys = np.array([-2.0, 0.0, 2.0])
    p = np.full((3, 4), 0.5)
    p[2, 0] = 1.0  # largest y, smallest x: the image's top-left pixel
    p[0, 3] = 0.0  # smallest y, largest x: bottom-right
    h = F.heat_image(xs, ys, p)
    assert (h["nx"], h["ny"]) == (4, 3)
    img = np.frombuffer(base64.b64decode(h["rgb"]), np.uint8).reshape(3, 4, 3)
    assert tuple(img[0, 0]) == (253, 231, 37)  # Viridis top, #fde725
    assert tuple(img[2, 3]) == (68, 1, 84)  # Viridis bottom, #440154
    assert h["extent"] == [-1.5, 2.5, -3.0, 3.0]  # cells centred on the grid points
    flat = F.heat_image(xs, ys, np.full((3, 4), 0.3))  # constant: the bottom colour, no 0/0
    assert set(base64.b64decode(flat["rgb"])) == {68, 1, 84}


def test_model_canvas_leaves_out_non_finite_values():
    x = np.array([[0.0, 1.0], [np.nan, 0.0], [2.0, np.inf], [1.0, -1.0]])
    xs = np.linspace(-4, 4, 2)
    p = np.array([[np.nan, 1.0], [np.inf, 0.5]])
    d = F.model_canvas(x, x, x, x, (xs, xs, p), 8, 0)
    assert d["panels"][0]["x"] == [0.0, 1.0] and len(d["panels"][0]["colors"]) == 2
    assert d["panels"][3]["range"] == 3.0
    import json

    json.dumps(d, allow_nan=False)


def test_live_density_is_recomputed_every_nth_tick_and_for_a_new_run():
    class Counting:
        calls = 0

        def density_grid(self, lo, hi, n, k):
            self.calls += 1
            assert (lo, hi, n, k) == (-4.0, 4.0, F.GRID_LIVE, F.GRID_K_LIVE)
            return ("grid", self.calls)

    tr, state, grids = Counting(), None, []
    for _ in range(7):
        state = F.live_density(tr, state, run=1, every=3)
        grids.append(state["grid"][1])
    assert grids == [1, 1, 1, 2, 2, 2, 3]  # computed on ticks 1, 4 and 7
    state = F.live_density(tr, state, run=2, every=3)  # a new run: at once
    assert state["grid"] == ("grid", 4) and state["age"] == 0
    assert F.live_density(tr, state, run=2, every=1)["grid"] == ("grid", 5)
