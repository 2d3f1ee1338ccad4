"""AppTest of the Diffusion page: defaults, the schedule warning, URL settings, each control
reaching the trainer's config, Step/Reset, the figures' numbers against closed forms (8 Gaussians:
q_t is a Gaussian mixture), the reverse view's measured fidelities, and downloads.

`run_every` never ticks in AppTest, so training is driven with the Step button.
"""

import json
import math
import re

import numpy as np
import pytest

from tests.support import charts
from tests.support.apps import APP, app_test
from tests.support.fuzz import fuzz_app

from reparam_core import toy_data
from reparam_ui.figures import diffusion as F

PAGE = "pages/diffusion.py"
TRAIN, REVERSE = "Live training", "Reverse (sampling)"
SMALL = {"dif_width": 32, "dif_batch": 64}


def no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


def url_app(query: dict[str, str]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.run()
    at.switch_page(PAGE).run()
    no_exception(at)
    return at


def on_tab(tab: str, **settings):
    """The page with small settings (URL values), on `tab`."""
    query = {k: str(v) for k, v in {**SMALL, **settings}.items()}
    at = url_app(query)
    at.session_state["dif_tab"] = tab
    at.run()
    no_exception(at)
    return at


def widget(at, key):
    for kind in ("selectbox", "select_slider", "number_input", "segmented_control"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise KeyError(key)


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def trainer(at):
    return at.session_state["dif_session"].trainer


def by_title(at, start):
    return [
        f
        for f in charts.figures(at)
        if f["layout"].get("title", {}).get("text", "").startswith(start)
    ]


def forward(at):
    (spec,) = [
        f for f in charts.figures(at) if len(f.get("frames", [])) and "xaxis3" in f["layout"]
    ]
    return spec


def page_text(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


# --- 8 Gaussians: q_t in closed form -------------------------------------------------------------


def mixture(alpha_bar: float):
    """Means and variance of q_t for 8gaussians: p_data = ⅛ Σ N(m_k/1.414, (0.5/1.414)² I), so
    q_t = ⅛ Σ N(√ᾱ m_k/1.414, (ᾱ (0.5/1.414)² + 1 − ᾱ) I)."""
    k = np.arange(8) * math.pi / 4
    m = 4 * np.stack([np.cos(k), np.sin(k)], 1) / 1.414
    return math.sqrt(alpha_bar) * m, alpha_bar * (0.5 / 1.414) ** 2 + 1 - alpha_bar


def log_q(x, alpha_bar):
    means, var = mixture(alpha_bar)
    d2 = ((x[..., None, :] - means) ** 2).sum(-1)
    a = -d2 / (2 * var) - math.log(2 * math.pi * var)
    top = a.max(-1, keepdims=True)
    return (top + np.log(np.exp(a - top).mean(-1, keepdims=True)))[..., 0]


def score(x, alpha_bar):
    means, var = mixture(alpha_bar)
    d2 = ((x[..., None, :] - means) ** 2).sum(-1)
    w = np.exp(-(d2 - d2.min(-1, keepdims=True)) / (2 * var))
    w /= w.sum(-1, keepdims=True)
    return ((w[..., None] * (means - x[..., None, :])).sum(-2)) / var


# --- the forward view ----------------------------------------------------------------------------


def test_the_page_renders_with_defaults_and_builds_no_model():
    at = app_test(PAGE)
    no_exception(at)
    assert at.title[0].value == "Diffusion"
    assert at.latex  # the forward process
    assert widget(at, "dif_dataset").value == "moons" and widget(at, "dif_T").value == 100
    spec = forward(at)
    assert len(spec["frames"]) == len(F.frame_times(100)) == 25
    assert "1,000 points of moons (seed 0)" in page_text(at)
    assert "pathwise" in page_text(at) and "Variational Diffusion Models" in page_text(at)
    # the forward view needs no trainer (and no torch): nothing is built until training is opened
    assert "dif_session" not in at.session_state
    assert not at.warning


def test_linear_T50_warns_with_the_measured_sqrt_alpha_bar_and_cosine_does_not():
    at = url_app({"dif_schedule": "linear", "dif_T": "50"})
    (warning,) = [w.value for w in at.warning]
    assert "√ᾱ_T = 0.78" in warning and "N(0, I)" in warning and "still shows the data" in warning
    assert (
        "T = 1,000 is the smallest" in warning
    )  # the only T of the page where linear β ends in noise
    assert any("√ᾱ_T = 0.7765" in c.value for c in at.caption)
    widget(at, "dif_schedule").set_value("cosine").run()
    no_exception(at)
    assert not at.warning
    assert any("√ᾱ_T = 0.0010" in c.value and "is noise" in c.value for c in at.caption)


def test_bad_url_values_are_warned_and_good_ones_read():
    at = url_app({"dif_T": "7", "dif_dataset": "circles", "dif_lr": "nan", "dif_tab": "nope"})
    warnings = " ".join(w.value for w in at.warning)
    for key in ("dif_T", "dif_lr", "dif_tab"):
        assert f"URL parameter `{key}` ignored" in warnings
    assert widget(at, "dif_dataset").value == "circles" and widget(at, "dif_T").value == 100
    assert "1,000 points of circles" in page_text(at)


def test_the_forward_contours_are_the_exact_noised_density():
    """8 Gaussians, linear β, T = 20: each frame's contour grid is log q_t at ᾱ_t (closed form)."""
    from reparam_core.diffusion import schedule

    at = url_app({"dif_dataset": "8gaussians", "dif_schedule": "linear", "dif_T": "20"})
    spec = forward(at)
    sched = schedule("linear", 20)
    xs, ys, pts = F.grid(40)
    contour = spec["data"][0]
    assert contour["type"] == "contour"
    np.testing.assert_allclose(charts.decode(contour["x"]), xs, atol=1e-6)
    for frame, t in zip(spec["frames"], F.frame_times(20), strict=True):
        z = F.decode_grid(frame["data"][0]["z"])
        exact = log_q(pts, sched.alpha_bar[t])
        keep = exact > exact.max() - F.LOG_Q_RANGE + 1e-3
        np.testing.assert_allclose(z[keep], exact[keep], atol=2e-4, rtol=1e-5)


# --- training ------------------------------------------------------------------------------------

CHANGES = {  # widget key → (a new value, the config field it sets)
    "dif_dataset": ("pinwheel", "dataset"),
    "dif_schedule": ("linear", "schedule"),
    "dif_T": (200, "T"),
    "dif_param": ("x0", "parameterization"),
    "dif_width": (64, "width"),
    "dif_lr": (1e-3, "lr"),
    "dif_batch": (128, "batch_size"),
    "dif_seed": (7, "seed"),
}


def test_the_pages_defaults_and_options_are_the_cores():
    from reparam_core import diffusion_train as dt

    at = app_test(PAGE)
    at.session_state["dif_tab"] = TRAIN
    at.run()
    no_exception(at)
    core = dt.DiffusionConfig()
    for field in ("dataset", "schedule", "T", "parameterization", "width", "lr", "batch_size"):
        assert getattr(trainer(at).config, field) == getattr(core, field), field
    assert tuple(widget(at, "dif_param").options) == ("ε", "x₀", "v")  # labels of…
    assert dt.PARAMETERIZATIONS == ("eps", "x0", "v")  # …the core's names, in its order
    at.session_state["dif_tab"] = REVERSE
    at.run()
    assert len(widget(at, "dif_sampler").options) == len(dt.SAMPLERS) == 2


def test_each_control_changes_the_trainers_config():
    at = on_tab(TRAIN)
    first = trainer(at)
    assert first.config.width == 32 and first.config.batch_size == 64
    for key, (value, field) in CHANGES.items():
        before = trainer(at)
        widget(at, key).set_value(value).run()
        no_exception(at)
        after = trainer(at)
        assert after is not before, key
        assert getattr(after.config, field) == value, key
        assert metric(at, "step") == "0"  # a new run


def test_step_trains_reset_restarts_and_the_paused_charts_show_measured_numbers():
    at = on_tab(TRAIN, dif_dataset="8gaussians", dif_T="50")
    assert metric(at, "step") == "0"
    canvases = live_canvases(at)
    assert len(canvases) == 1 and len(canvases[0]["model"]["panels"]) == 3  # before training
    tr = trainer(at)
    tr.run(max_steps=tr.config.eval_every - STEP)  # one Step short of the first evaluation
    at.button(key="dif_step").click().run()
    no_exception(at)
    assert metric(at, "step") == f"{tr.config.eval_every:,}"
    tr.sync()
    at.run()
    assert not live_canvases(at)  # paused after training: plotly charts
    (loss,) = by_title(at, "Training loss")
    assert loss["data"][0]["x"][-1] == tr.step
    evals = tr.evals.columns()
    assert evals["step"][-1] == tr.step
    (bound,) = by_title(at, "Bound and sample fidelity")
    assert bound["data"][0]["y"][-1] == pytest.approx(evals["bound"][-1])
    assert bound["layout"]["shapes"][0]["y0"] == pytest.approx(toy_data.ceiling("8gaussians"))
    text = page_text(at)
    quoted = re.search(r"held-out variational bound is (-?[\d.]+) ± ([\d.]+) nats", text)
    assert float(quoted[1]) == pytest.approx(evals["bound"][-1], abs=5e-4)
    assert float(quoted[2]) == pytest.approx(2 * evals["bound_se"][-1], abs=5e-4)
    assert (
        f"{toy_data.ceiling('8gaussians') - evals['bound'][-1]:.3f} nats under the ceiling" in text
    )
    assert f"{evals['fidelity'][-1]:.3f}" in text
    assert metric(at, "held-out bound (nats)") == f"{evals['bound'][-1]:.3f}"
    at.button(key="dif_step").click().run()
    assert metric(at, "step") == f"{tr.config.eval_every + STEP:,}"
    at.button(key="dif_reset").click().run()
    no_exception(at)
    assert metric(at, "step") == "0" and trainer(at).step == 0


STEP = 100  # the page's steps per Step


def test_the_score_fields_arrows_are_the_learned_and_the_exact_score():
    at = on_tab(TRAIN, dif_dataset="8gaussians", dif_T="50", dif_field="0.2")
    at.button(key="dif_step").click().run()
    no_exception(at)
    tr = trainer(at)
    (field,) = by_title(at, "Score field at t = 10")
    meta = field["layout"]["meta"]
    xs, ys, grid = F.grid(17)
    pts = grid.reshape(-1, 2)
    segs = [tr_ for tr_ in field["data"] if tr_.get("mode") == "lines"]
    exact = score(pts, tr.schedule.alpha_bar[10])
    learned = tr.score(pts, 10)
    for seg, want in zip(segs, (learned, exact), strict=True):
        x, y = charts.decode(seg["x"]).reshape(-1, 3), charts.decode(seg["y"]).reshape(-1, 3)
        d = np.stack([x[:, 1] - x[:, 0], y[:, 1] - y[:, 0]], 1)
        v = meta["arrow_scale"] * want
        short = np.linalg.norm(v, axis=1) < meta["arrow_cap"]
        np.testing.assert_allclose(d[short], v[short], atol=1e-4)
    assert "learned (s_θ = −ε_θ/√(1 − ᾱ_t), left)" in page_text(at)
    widget(at, "dif_field").set_value(0.7).run()
    no_exception(at)
    assert by_title(at, "Score field at t = 35")


def test_leaving_the_training_tab_pauses_training():
    at = on_tab(TRAIN)
    at.session_state["dif_session"].play()
    at.run()
    no_exception(at)
    assert trainer(at).step > 0  # the tick drew, then trained a chunk
    at.session_state["dif_tab"] = "Forward process"
    at.run()
    assert not at.session_state["dif_session"].playing


def test_downloads_are_offered_and_the_history_csv_parses():
    import csv
    import io

    from reparam_ui.tables import csv_bytes

    at = on_tab(TRAIN)
    at.button(key="dif_step").click().run()
    labels = [b.label for b in at.get("download_button")]
    assert labels == [
        "Model state_dict (.pt)",
        "Training history (CSV)",
        "Evaluations (CSV)",
        "Samples (CSV)",
    ]
    tr = trainer(at)  # the run the downloads hold
    rows = list(csv.reader(io.StringIO(csv_bytes(tr.history.columns()).decode())))
    assert rows[0][:3] == ["step", "seconds", "loss"] and float(rows[-1][0]) == STEP
    assert len(tr.state_dict_bytes()) > 1000


def live_canvases(at):
    return [
        json.loads(el.proto.bytes)
        for el in at.get("bidi_component")
        if el.proto.component_name == "reparam_lab.live_canvas"
    ]


# --- the reverse view ----------------------------------------------------------------------------


def test_the_reverse_view_animates_the_sampler_and_quotes_both_fidelities():
    at = on_tab(REVERSE, dif_dataset="8gaussians", dif_T="50", dif_sampler="ddim", dif_steps="10")
    (spec,) = [f for f in charts.figures(at) if f.get("frames")]
    assert len(spec["frames"]) == 11  # DDIM, 10 steps: all 11 states
    assert spec["layout"]["sliders"][0]["steps"][0]["label"] == "t = 50"
    assert spec["layout"]["sliders"][0]["steps"][-1]["label"] == "t = 0"
    model = metric(at, "model, step 0")
    oracle = metric(at, "oracle (exact score)")
    assert float(oracle) > float(model)  # an untrained model against the exact score
    text = page_text(at)
    assert f"the oracle (exact score): {oracle}" in text and "the model trained for 0 steps" in text
    assert f"{toy_data.ceiling('8gaussians'):.3f}" in text
    # the oracle's samples are shown on request, and DDPM runs every step
    widget(at, "dif_source").set_value("oracle").run()
    widget(at, "dif_sampler").set_value("ddpm").run()
    no_exception(at)
    (spec,) = [f for f in charts.figures(at) if f.get("frames")]
    assert len(spec["frames"]) == F.FRAMES
    assert "DDPM over all 50 steps" in page_text(at)
    assert [b.label for b in at.get("download_button")] == ["Final samples (CSV)"]


# --- bad input on the tabs the app-wide fuzz does not open -----------------------------------------


@pytest.mark.parametrize("tab", [TRAIN, REVERSE])
def test_no_exception_for_any_widget_values_on_the_other_tabs(tab):
    """tests/pages/test_fuzz.py drives the page on its first tab; here the same random edits
    (settings, Play/Pause/Step/Reset, sampler, denoiser, score-field t) on the other two."""

    def still_on_the_tab(at):
        assert at.session_state["dif_tab"] == tab

    at = on_tab(tab)
    fuzz_app(at, examples=25, check=still_on_the_tab)
