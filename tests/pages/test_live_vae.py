"""AppTest of the Live VAE page: controls, Step/Reset, the estimator switch with a stored curve,
divergence and bad input shown as messages (never exceptions), presets and URL settings.

`run_every` never ticks in AppTest, so training is driven with the Step button.
"""

import json
import math
import re

import pytest

from tests.support import charts
from tests.support.apps import APP, app_test

SMALL = {"n": 1000, "hidden": 16, "batch": 64}


def small_app(**settings):
    at = app_test("pages/live_vae.py")
    for key, value in {**SMALL, **settings}.items():
        set_widget(at, key, value)
    return at.run()


def set_widget(at, key, value):
    """Set the page's widget for setting `key` (its session key is `vae_` + key)."""
    for kind in ("selectbox", "select_slider", "number_input", "radio", "checkbox"):
        widgets = [w for w in getattr(at, kind) if w.key == f"vae_{key}"]
        if widgets:
            widgets[0].set_value(value)
            return
    raise KeyError(key)


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _title(spec):
    return spec.get("layout", {}).get("title", {}).get("text", "") or "samples"


def figures(at):
    return {_title(spec): spec for spec in charts.figures(at)}


def no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


def test_page_renders_with_defaults_and_all_charts():
    at = app_test("pages/live_vae.py")
    no_exception(at)
    assert at.title[0].value == "Live VAE"
    assert at.selectbox(key="vae_dataset").value == "moons"
    assert at.radio(key="vae_est").value == "pathwise"
    assert metric(at, "step") == "0"
    # before any training: no plotly chart at all (a first visit loads no plotly). The empty
    # loss chart (with the ceiling line) and the untrained model view share one canvas; the
    # gradient chart is a note on when it is measured
    assert figures(at) == {}
    (canvas,) = live_canvases(at)
    loss, model = canvas["loss"], canvas["model"]
    assert loss["empty"] and loss["title"].startswith("Loss")
    assert [h["y"] for h in loss["hlines"]] == [pytest.approx(2.394, abs=0.01)]  # −E[log p]
    assert model["step"] == 0 and len(model["panels"]) == 5
    assert len(model["panels"][0]["x"]) == 200  # the data is shown already
    assert any("measured on the same minibatch" in i.value for i in at.info)
    at.button(key="vae_step").click().run()  # 100 steps: all become interactive charts
    figs = figures(at)
    assert not live_canvases(at)
    for title in ("Loss", "Encoder gradient", "What the model has learned"):
        assert any(t.startswith(title) for t in figs), title
    assert at.latex  # the ELBO
    labels = [b.label for b in at.button]
    for name in ("Play", "Pause", "Step", "Reset"):
        assert name in labels


def test_estimator_names_match_the_core():
    """The page offers the registry's VAE estimators, in its order, with its labels."""
    from reparam_core import registry
    from reparam_core.vae import ESTIMATORS

    at = app_test("pages/live_vae.py")
    radio = at.radio(key="vae_est")
    assert tuple(radio.options) == tuple(registry.VAE[e].label for e in ESTIMATORS)
    assert ESTIMATORS == ("pathwise", "score", "score_baseline")


def test_step_trains_and_charts_the_loss_with_the_ceiling_line():
    at = small_app()
    at.button(key="vae_step").click().run()
    no_exception(at)
    assert metric(at, "step") == "100"
    loss = next(s for t, s in figures(at).items() if t.startswith("Loss"))
    train = loss["data"][0]
    assert train["x"][-1] == 100 and all(math.isfinite(v) for v in train["y"])
    ceiling_line = loss["layout"]["shapes"][0]
    assert abs(ceiling_line["y0"] - 2.3939) < 1e-3  # −E[log p_data] for the moons
    at.button(key="vae_step").click().run()
    assert metric(at, "step") == "200"
    at.button(key="vae_reset").click().run()
    no_exception(at)
    assert metric(at, "step") == "0"


def test_switching_the_estimator_keeps_the_other_curve_for_comparison():
    at = small_app()
    at.button(key="vae_step").click().run()
    at.radio(key="vae_est").set_value("score").run()
    no_exception(at)
    assert metric(at, "step") == "0"  # a new run
    at.button(key="vae_step").click().run()
    loss = next(s for t, s in figures(at).items() if t.startswith("Loss"))
    names = [tr.get("name", "") for tr in loss["data"]]
    assert any("stored run" in n and "pathwise" in n for n in names), names
    assert any("REINFORCE" in n for n in names)
    text = " ".join(m.value for m in at.markdown)
    assert "REINFORCE" in text and "What you see" in text


def test_learning_rate_one_diverges_into_a_message_not_a_crash():
    at = small_app(lr=1.0)
    at.button(key="vae_step").click().run()
    no_exception(at)
    assert any("diverged" in e.value for e in at.error)
    for spec in figures(at).values():
        for tr in spec["data"]:
            for v in tr.get("y", []) or []:
                assert (
                    v is None
                    or (isinstance(v, (int, float)) and math.isfinite(v))
                    or isinstance(v, str)
                )
    # the restored model still draws finite charts; changing lr starts a clean run
    at.select_slider(key="vae_lr").set_value(0.003).run()
    at.button(key="vae_step").click().run()
    no_exception(at)
    assert not at.error and metric(at, "step") == "100"


def test_bad_noise_is_an_error_message_and_the_page_keeps_working():
    at = small_app(noise=2.0)  # moons accept noise ≤ 0.4
    no_exception(at)
    assert any("noise" in e.value for e in at.error)
    assert not figures(at) and not at.metric  # no run is shown or trained with invalid settings
    at.number_input(key="vae_noise").set_value(0.1).run()
    no_exception(at)
    assert not at.error
    at.button(key="vae_step").click().run()
    assert metric(at, "step") == "100"


def test_dataset_change_resets_noise_and_every_dataset_trains():
    at = small_app()
    for name, noise in (("circles", 0.08), ("checkerboard", 0.0), ("8gaussians", 0.5)):
        at.selectbox(key="vae_dataset").set_value(name).run()
        no_exception(at)
        assert at.number_input(key="vae_noise").value == noise
        at.button(key="vae_step").click().run()
        no_exception(at)
        assert metric(at, "step") == "100"


def test_extreme_settings_and_a_1d_latent():
    at = small_app(zdim=1, hidden=8, batch=16, beta=10.0, warmup=0, n=500)
    at.button(key="vae_step").click().run()
    no_exception(at)
    assert metric(at, "step") == "100"
    model = next(s for t, s in figures(at).items() if t.startswith("What the model"))
    assert "jitter" in model["layout"]["annotations"][3]["text"]
    assert not any(t.get("name") == "prior 2σ" for t in model["data"])


def test_presets_set_the_widgets():
    at = app_test("pages/live_vae.py")
    at.button(key="vae_preset_plain").click().run()
    no_exception(at)
    assert at.number_input(key="vae_warmup").value == 0
    assert at.select_slider(key="vae_batch").value == 128
    assert at.checkbox(key="vae_decay").value is False
    at.button(key="vae_preset_default").click().run()
    assert at.number_input(key="vae_warmup").value == 1000 and at.checkbox(key="vae_decay").value
    assert at.select_slider(key="vae_batch").value == 256


def test_url_settings_are_read_and_bad_ones_warned():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"vae_lr": "5", "vae_hidden": "32", "vae_est": "score_baseline"})
    at.run()
    at.switch_page("pages/live_vae.py").run()
    no_exception(at)
    assert at.select_slider(key="vae_hidden").value == 32
    assert at.radio(key="vae_est").value == "score_baseline"
    assert at.select_slider(key="vae_lr").value == 0.005  # the default
    assert any("lr" in w.value for w in at.warning)


def test_downloads_are_offered_and_the_history_csv_parses():
    import csv
    import io

    from reparam_core.vae_train import Trainer
    from reparam_ui.tables import csv_bytes

    at = small_app()
    at.button(key="vae_step").click().run()
    labels = [b.label for b in at.get("download_button")]
    assert labels == [
        "Model state_dict (.pt)",
        "Training history (CSV)",
        "Held-out evaluations (CSV)",
    ]
    tr = at.session_state["vae_session"].trainer
    assert isinstance(tr, Trainer)
    rows = list(csv.reader(io.StringIO(csv_bytes(tr.history.columns()).decode())))
    assert rows[0][:3] == ["step", "seconds", "neg_elbo"] and len(rows) == len(tr.history) + 1
    assert float(rows[-1][0]) == 100


def test_while_playing_the_charts_are_one_canvas_and_paused_they_are_plotly():
    at = small_app()
    at.session_state["vae_session"].play()  # as if Play was pressed (run_every never ticks here)
    at.run()
    no_exception(at)
    assert at.session_state["vae_session"].trainer.step > 0  # the tick drew, then trained a chunk
    # loss chart and model view are one canvas component (redrawn in place every tick)
    (canvas,) = live_canvases(at)
    assert canvas["loss"]["title"].startswith("Loss (nats per point)")
    assert canvas["model"]["step"] == 0 and len(canvas["model"]["panels"]) == 5  # before the chunk
    assert not any(t.startswith(("Loss", "What the model has learned")) for t in figures(at))
    at.button(key="vae_pause").click().run()
    no_exception(at)
    assert not live_canvases(at)
    assert any(t.startswith("Loss") for t in figures(at))
    (model,) = [f for t, f in figures(at).items() if t.startswith("What the model has learned")]
    assert len(model["data"]) == 6  # paused: the interactive plotly view (4 scatters, circle, map)


def live_canvases(at):
    return [
        json.loads(el.proto.bytes)
        for el in at.get("bidi_component")
        if el.proto.component_name == "reparam_lab.live_canvas"
    ]


# --- what the page says: claims that hold for the settings, numbers from this run ----------------


def by_label(at, kind, label):
    """The widget of `kind` with this label (labels stay when session keys are renamed)."""
    (widget,) = [w for w in getattr(at, kind) if w.label == label]
    return widget


def labelled_app(**values):
    """The page with small data, then each {label: value} set (number inputs, radios)."""
    at = app_test("pages/live_vae.py")
    by_label(at, "select_slider", "Training samples").set_value(1000)
    by_label(at, "select_slider", "Hidden width").set_value(16)
    by_label(at, "select_slider", "Batch size").set_value(64)
    for label, value in values.items():
        kind = "radio" if label == "Encoder gradient" else "number_input"
        by_label(at, kind, label).set_value(value)
    return at.run()


def page_text(at) -> str:
    return " ".join(
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [w.value for w in at.warning]
    )


def step(at):
    by_label(at, "button", "Step").click().run()
    no_exception(at)
    return at


@pytest.mark.parametrize("beta,bound", [(0.5, False), (2.0, True)])
def test_the_objective_is_called_a_bound_only_where_it_is_one(beta, bound):
    at = step(labelled_app(**{"KL weight β": beta, "Warm-up steps": 0}))
    assert not any(r"\le" in x.value for x in at.latex)  # no "≤ log p_θ(x)" for every β
    text = page_text(at)
    assert (
        "for $\\beta < 1$ it is not a bound" in text and "At $\\beta = 1$ this is the ELBO" in text
    )
    caption = next(c.value for c in at.caption if "KL weight" in c.value)
    assert f"β = {beta:.2f}" in caption
    assert ("not a bound" in caption) is not bound


def test_the_score_function_text_names_the_exact_kl_gradient():
    at = labelled_app(**{"Encoder gradient": "score"})
    text = page_text(at)
    assert "exact gradient of the analytic KL" in text and "only gets" not in text


@pytest.mark.parametrize("warmup", [0, 100])
def test_the_partial_collapse_notice_blames_the_warmup_only_when_it_is_off(warmup):
    at = step(labelled_app(**{"Warm-up steps": warmup}))
    tr = at.session_state["vae_session"].trainer
    tr.sync()
    tr.evals.add_row([tr.step, tr.train_seconds, -3.0, 3.0, 0.5, 1.0])  # one of 2 units active
    assert tr.collapse == "partial"
    at.run()
    (notice,) = [w.value for w in at.warning if "Partial posterior collapse" in w.value]
    if warmup:
        assert "without KL warm-up" not in notice and "warm-up is on" in notice
    else:
        assert "Often" in notice and "without KL warm-up" in notice


def quoted(pattern: str, text: str) -> list[float]:
    match = re.search(pattern, text)
    assert match, (pattern, text)
    return [float(g.replace(",", "")) for g in match.groups()]


def test_the_comparison_quotes_this_runs_measurements():
    """The variance ratios and held-out IWAEs in the text are the trainer's stored numbers; before
    anything is measured the text says how to measure it, and no fixed claim remains."""
    at = labelled_app()
    assert "to compare estimators in numbers, train each" in page_text(at)
    pathwise = at.session_state["vae_session"].trainer
    pathwise.run(max_steps=2000)  # probes at steps 100 and 2000, evaluations at 1000 and 2000
    pathwise.sync()
    at.run()
    text = page_text(at)
    g = pathwise.grad_stats.columns()
    assert g["step"] == [100.0, 2000.0]
    for name in ("score", "score_baseline"):
        ratios = [g[f"var_{name}"][i] / g["var_pathwise"][i] for i in (0, 1)]
        label = {"score": "score", "score_baseline": "score \\+ baseline"}[name]
        pattern = label + r" ÷ pathwise[^;]*? ([\d,.]+)× at step 100, ([\d,.]+)× at step 2,000"
        assert quoted(pattern, text) == pytest.approx(ratios, rel=0.05, abs=0.05)
    by_label(at, "radio", "Encoder gradient").set_value("score").run()
    score = at.session_state["vae_session"].trainer
    assert score is not pathwise and score.step == 0
    score.run(max_steps=1000)
    score.sync()
    at.run()
    text = page_text(at)
    this, stored = quoted(
        r"at step 1,000, score function \(REINFORCE\) (-?[\d.]+) \(this run\), "
        r"pathwise \(reparameterization\) (-?[\d.]+) \(stored run\)",
        text,
    )
    evals = pathwise.evals.columns()
    iwae = dict(zip(evals["step"], evals["iwae"], strict=True))
    assert this == pytest.approx(score.evals.last("iwae"), abs=5e-4)
    assert stored == pytest.approx(iwae[1000.0], abs=5e-4)
    for claim in ("orders of magnitude", "far noisier", "cancels most", "falls more slowly"):
        assert claim not in text


def test_the_training_state_is_one_session_object():
    """Trainer, play state, stored runs, caps, cadence and cached views live in one LiveSession
    under one key (they were twelve loose keys), the same object bench/vae_bench.py drives."""
    from reparam_core.live_session import LiveSession

    at = small_app()
    at.button(key="vae_step").click().run()
    at.session_state["vae_session"].play()
    at.run()
    no_exception(at)
    session = at.session_state["vae_session"]
    assert isinstance(session, LiveSession) and session.trainer.step > 100
    loose = {"trainer", "playing", "stored", "ticks", "run_no", "session_s", "notice", "views"}
    loose |= {"live_density", "render_s", "gap_s", "tick_end"}
    keys = set(at.session_state._state.filtered_state)
    assert not keys & {f"vae_{k}" for k in loose}, sorted(keys)
