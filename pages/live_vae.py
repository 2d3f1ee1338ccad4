"""Live VAE: train a tiny VAE on 2D points while the page updates, and switch the encoder's
gradient estimator between the reparameterization trick and the score function.

Layout and widgets here; the model, bounds and trainer are in reparam_core.vae / vae_train
(imported lazily: they need torch), the figures in reparam_ui.figures.vae (plotly when paused; while
playing, data for the canvas of reparam_ui.components.live_canvas, redrawn in place). Training runs inside an
`st.fragment(run_every=TICK)` that does one time-boxed chunk per tick — never a blocking loop — so
Pause takes effect at once and a closed tab stops training. Every per-visitor object lives in
st.session_state.
"""

from __future__ import annotations

import streamlit as st

from reparam_core import registry, toy_data
from reparam_core.live_session import LiveSession
from reparam_ui.charts import show_figure
from reparam_ui.components.live_canvas import live_canvas
from reparam_ui.components.plot_element import preload as preload_plotly
from reparam_ui.downloads import DOWNLOAD_ICON
from reparam_ui.figures import vae as F
from reparam_ui.figures.line_chart import line_chart_spec
from reparam_ui.figures.vae import GRID, GRID_K, GRID_K_LIVE, GRID_LIVE
from reparam_ui.messages import guarded, literal
from reparam_ui.shell import ensure_app_shell
from reparam_ui.state import Param, init_from_query, sync_query
from reparam_ui.tables import csv_bytes
from reparam_ui.views import vae_text as T
from reparam_ui.views.live_controls import controls, live_panels

ensure_app_shell()

STEP_STEPS = 100  # steps per press of "Step"
RUN_CAP = 300.0  # s of training per run
SESSION_CAP = 900.0  # s of training per visitor session, all runs together
ESTIMATORS = registry.methods("vae")  # reparam_core.vae reads the same registry
LRS = (1e-4, 3e-4, 1e-3, 3e-3, 5e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
SAMPLE_SIZES = (500, 1000, 2000, 5000, 10_000, 20_000)
WIDTHS = (8, 16, 32, 64, 128, 256)
BATCHES = (16, 32, 64, 128, 256, 512, 1024)
PRESET_BUTTONS = (  # reparam_core.vae_train.PRESETS: name, widget key, what it shows
    ("default", "vae_preset_default", "KL warm-up, batch 256, cosine lr decay: gets within 0.15 "
     "nats of the ceiling."),
    ("plain VAE", "vae_preset_plain", "No warm-up, batch 128, constant lr: a latent unit "
     "collapses (posterior collapse)."),
)  # fmt: skip

PARAMS = {
    "vae_dataset": Param("moons", options=toy_data.DATASETS),
    "vae_n": Param(10_000, options=SAMPLE_SIZES),
    "vae_noise": Param(toy_data.DEFAULT_NOISE["moons"], lo=0.0, hi=2.0),
    "vae_hidden": Param(64, options=WIDTHS),
    "vae_zdim": Param(2, options=(1, 2)),
    "vae_lr": Param(5e-3, options=LRS),
    "vae_batch": Param(256, options=BATCHES),
    "vae_beta": Param(1.0, lo=0.0, hi=10.0),
    "vae_warmup": Param(1000, lo=0, hi=50_000),
    "vae_decay": Param(True),
    "vae_seed": Param(0, lo=0, hi=2**31 - 1),
    "vae_est": Param("pathwise", options=ESTIMATORS),
}


def core():
    """reparam_core.vae_train, imported on first use (it brings torch: docs/performance.md)."""
    import torch

    from reparam_core import vae_train

    if torch.get_num_threads() != vae_train.THREADS:
        torch.set_num_threads(vae_train.THREADS)
    return vae_train


@st.cache_data(max_entries=64, show_spinner=False)
def ceiling(dataset: str, noise: float) -> float:
    return toy_data.ceiling(dataset, noise)


# ----------------------------------------------------------------------------------- state


def make_config(ss):
    vt = core()
    return vt.TrainConfig(
        dataset=ss["vae_dataset"],
        n_samples=int(ss["vae_n"]),
        noise=float(ss["vae_noise"]),
        hidden=int(ss["vae_hidden"]),
        z_dim=int(ss["vae_zdim"]),
        lr=float(ss["vae_lr"]),
        lr_decay_steps=vt.TrainConfig.lr_decay_steps if ss["vae_decay"] else 0,
        batch_size=int(ss["vae_batch"]),
        beta=float(ss["vae_beta"]),
        warmup_steps=int(ss["vae_warmup"]),
        estimator=ss["vae_est"],
        seed=int(ss["vae_seed"]),
        max_seconds=RUN_CAP,
    ).validate()


def run_record(trainer) -> dict:
    """What a stored run keeps beside its −ELBO curve: its label, its held-out IWAE and its
    settings (only runs with equal settings are compared in numbers)."""
    c, ev = trainer.config, trainer.evals.columns()
    return {
        "label": f"lr {c.lr:g}, batch {c.batch_size}, {trainer.step} steps",
        "evals": {"step": ev["step"], "iwae": ev["iwae"]},
        "settings": T.settings(c),
    }


def live() -> LiveSession:
    """This visitor's training: trainer, play/pause, stored runs, caps and cadence, in one key."""
    if "vae_session" not in st.session_state:
        st.session_state.vae_session = LiveSession(
            # background: held-out evaluations and gradient probes run beside the training steps
            lambda config: core().Trainer(config, background=True),
            session_cap=SESSION_CAP,
            step_steps=STEP_STEPS,
            record=run_record,
        )
    return st.session_state.vae_session


def on_play() -> None:
    live().play()
    live().cache.pop("live_density", None)  # from before the pause: the model has moved


def on_dataset_change() -> None:
    st.session_state.vae_noise = toy_data.DEFAULT_NOISE[st.session_state.vae_dataset]


def on_preset(name: str) -> None:
    """Set the widgets to a core preset (reparam_core.vae_train.PRESETS)."""
    c = core().PRESETS[name]
    widgets = {"warmup": c.warmup_steps, "batch": c.batch_size, "decay": c.lr_decay_steps > 0}
    widgets.update(lr=c.lr, beta=c.beta, hidden=c.hidden, zdim=c.z_dim)
    widgets = {f"vae_{k}": v for k, v in widgets.items()}
    st.session_state.update(widgets)


# ----------------------------------------------------------------------------------- views


def status_line(trainer, ceil: float | None) -> None:
    sps, rate = live().rates()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("step", f"{trainer.step:,}")
    c2.metric("steps/s", f"{sps:,.0f}")
    c3.metric("chart refreshes/s", f"{rate:.1f}")
    iwae = trainer.evals.last("iwae")
    gap = (
        f"{ceil - iwae:.2f} nats under the ceiling"
        if (iwae is not None and ceil is not None)
        else None
    )
    c4.metric(
        f"held-out IWAE (K = {trainer.config.iwae_k})",
        "—" if iwae is None else f"{iwae:.3f}",
        gap,
        delta_color="off",
    )
    beta, scale = trainer.beta_at(trainer.step), core().ENCODER_LR_SCALE[trainer.config.estimator]
    st.caption(
        f"Trained {trainer.train_seconds:.1f} s of this run (cap {RUN_CAP:.0f} s) · "
        f"{live().seconds_used():.0f} s of {SESSION_CAP:.0f} s this session · "
        f"KL weight β = {beta:.2f}"
        + (" (below 1: the objective is not a bound on log p_θ(x))" if beta < 1 else "")
        + f" · lr = {trainer.lr_at(trainer.step):.2g}"
        + (f" (encoder {scale:g} × lr)" if scale != 1 else "")
    )


def collapse_notice(trainer) -> None:
    kind = trainer.collapse
    if not kind:
        return
    au, kl, d = trainer.evals.last("active_units"), trainer.evals.last("kl"), trainer.config.z_dim
    if kind == "full":
        st.warning(
            f"**Posterior collapse:** q(z|x) ≈ p(z) for every x (held-out KL = {kl:.3f} nats, "
            f"{au:.0f} of {d} latent units active) — the decoder ignores z and models the data "
            "as one blob. Try the KL warm-up, a smaller β, or the default preset."
        )
    else:
        st.warning(
            f"**Partial posterior collapse:** only {au:.0f} of {d} latent units are active "
            "(Var_x μ_u(x) > 0.01, Burda et al. 2016); the unused unit's q(z_u|x) is the prior. "
            + partial_collapse_cause(trainer.config)
        )


def partial_collapse_cause(config) -> str:
    """What often leads there, for these settings: the missing warm-up only when it is off."""
    heavy = (
        f" β = {config.beta:g} weighs the KL term more than the ELBO does, which also pushes "
        "units to the prior."
        if config.beta > 1
        else ""
    )
    if not config.warmup_steps:
        return (
            "Often the plain VAE's failure: without KL warm-up the KL term can switch a unit off "
            f"early and the bound stalls.{heavy} Try the default preset (KL warm-up) to compare."
        )
    return (
        f"The KL warm-up is on (β rises over {config.warmup_steps:,} steps), and the KL term "
        f"still switched a unit off.{heavy} Try a smaller β, a longer warm-up or another seed."
    )


def comparison_sentence(trainer) -> str:
    """Held-out IWAE beside the stored runs with the same settings, or how to get one."""
    c = trainer.config
    others = {
        name: run["evals"]
        for name, run in live().stored.items()
        if name != c.estimator and run.get("settings") == T.settings(c)
    }
    measured = T.iwae_sentence(c.estimator, trainer.evals.columns(), others, c.iwae_k)
    if measured:
        return measured
    return (
        f"Held-out IWAE is measured every {c.eval_every:,} steps: to compare estimators in "
        "numbers, train each to a common multiple of it with these settings and seed (switch the "
        "estimator; each one's latest run is kept)."
    )


def explain(trainer) -> None:
    est = trainer.config.estimator
    if est == "pathwise":
        text = (
            "**What you see:** the encoder learns through z = μ + σ⊙ε — the gradient of "
            "log p(x|z) flows back through z (the reparameterization trick); the KL term's "
            "gradient is exact (analytic KL). Switch the estimator to compare: a new run starts "
            "from the same seed, its curve beside this one (dashed)."
        )
    elif est == "score":
        scale = core().ENCODER_LR_SCALE[est]
        text = (
            "**What you see:** for the reconstruction term the encoder gets "
            "log p(x|z)·∇ log q(z|x) (REINFORCE, unbiased), with z treated as a constant; for the "
            "KL term, the exact gradient of the analytic KL, as with the other estimators. Its "
            f"encoder learns at {scale:g} × the learning rate: at the full rate its noise can "
            "carry the encoder's means far from the prior while the warm-up keeps β small."
        )
    else:
        text = (
            "**What you see:** REINFORCE with 4 samples per point, each baselined by the mean "
            "log p(x|z) of the other 3 (leave-one-out), at 4× the decoder work per step; the KL "
            "term's gradient is exact, as with the other estimators."
        )
    variance = T.variance_sentence(trainer.grad_stats.columns())
    st.markdown(" ".join(p for p in (text, variance, comparison_sentence(trainer)) if p))


def train_panel(ceil: float | None) -> None:
    """One tick: the counters and the charts, then (while playing) a time-boxed chunk of training.

    Drawing comes first on purpose. Streamlit drops a fragment's deltas that are still queued
    when the fragment's next run starts (`ForwardMsgQueue.clear` on SCRIPT_STARTED), and ticks
    run back to back: a chart sent at the end of a tick was usually lost (docs/performance.md).
    Sent at the start, it leaves during the chunk. The chart therefore shows the state after the previous
    chunk — one tick (0.2 s) behind the trainer.
    """
    session = live()
    trainer = session.trainer
    if trainer is None:
        return
    drawn_at = session.clock()
    status_line(trainer, ceil)
    collapse_notice(trainer)
    loss = F.loss_spec(  # a figure dict: the canvas draws it as is, plotly when paused
        trainer.history.columns(),
        trainer.evals.columns(),
        ceil,
        session.stored,
        trainer.config.estimator,
    )
    # a canvas, redrawn in place, while playing (5 redraws a second) and before any training (a
    # first visit then needs no plotly at all); paused with something to explore: plotly charts
    canvas_loss = session.playing or (
        trainer.step == 0 and not any(name != trainer.config.estimator for name in session.stored)
    )
    canvas_model = session.playing or trainer.step == 0  # else views_panel shows it in plotly
    if not canvas_loss:  # the interactive chart (zoom, hover)
        show_figure(loss, key="vae_loss")
    if canvas_loss or canvas_model:
        live_canvas(
            line_chart_spec(loss) if canvas_loss else None,
            live_view(trainer) if canvas_model else None,
            key="vae_live",
        )
    if session.tick(drawn_at):  # trained a chunk, and it stopped: a cap or a divergence
        st.rerun(scope="app")


def model_view(trainer):
    """The interactive 5-panel figure (the density grid dominates its cost)."""
    return F.model_spec(*F.model_arrays(trainer, GRID, GRID_K))


def live_view(trainer) -> dict:
    """The same as canvas data, cheap enough for every tick (a coarser density). While playing,
    the density grid, most of its cost, is recomputed on every DENSITY_EVERY-th tick."""
    session, grid = live(), None
    if session.playing:
        density = F.live_density(trainer, session.cache.get("live_density"), session.run_no)
        session.cache["live_density"] = density
        grid = density["grid"]
    return F.model_canvas(*F.model_arrays(trainer, GRID_LIVE, GRID_K_LIVE, grid), trainer.step)


def views_panel() -> None:
    """Paused after training: the interactive model view (data, reconstructions, prior samples,
    latent means, density); while playing and at step 0 it is the canvas in `train_panel`.
    Always: the encoder-gradient chart with the explanation, every `cadence.views` s while playing
    (it changes every few thousand steps).
    A figure is rebuilt only when the model changed; an unchanged one keeps its element id and
    the browser skips it."""
    session = live()
    trainer = session.trainer
    if trainer is None:
        return
    interactive = not session.playing and trainer.step > 0  # else the canvas in train_panel
    views = session.cache.get("views") or {"step": None}  # the cache is emptied for a new run
    if interactive and views["step"] != trainer.step:
        views = {"step": trainer.step, "model": model_view(trainer)}
    session.cache["views"] = views
    grad_rows = len(trainer.grad_stats)
    if grad_rows and views.get("grad_rows") != grad_rows:
        views["grad_rows"] = grad_rows
        views["grad"] = F.grad_spec(
            trainer.grad_stats.columns(), core().GRADSTAT_FIRST, trainer.config.gradstat_every
        )
    if interactive:
        show_figure(views["model"], key="vae_model")
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        if grad_rows:
            show_figure(views["grad"], key="vae_grad")
        else:  # an empty chart would only say this, at the cost of a chart
            st.info(
                "**Encoder gradient variance and SNR** of the three estimators, measured on the "
                f"same minibatch and weights over 16 ε draws: first at step "
                f"{core().GRADSTAT_FIRST}, then every {trainer.config.gradstat_every:,} steps.",
                icon=":material/query_stats:",
            )
    with right:
        explain(trainer)


def downloads(trainer) -> None:
    """Built when clicked (so they hold the state at that moment, even while playing)."""
    items = (
        (
            "Model state_dict (.pt)",
            trainer.state_dict_bytes,
            "live_vae_state_dict.pt",
            "application/octet-stream",
        ),
        (
            "Training history (CSV)",
            lambda: csv_bytes(trainer.history.columns()),
            "live_vae_history.csv",
            "text/csv",
        ),
        (
            "Held-out evaluations (CSV)",
            lambda: csv_bytes(trainer.evals.columns()),
            "live_vae_evals.csv",
            "text/csv",
        ),
    )
    for col, (label, data, name, mime) in zip(st.columns(3), items, strict=True):
        col.download_button(
            label,
            data,
            file_name=name,
            mime=mime,
            key=f"vae_dl_{name}",
            icon=DOWNLOAD_ICON,
            on_click="ignore",
        )


# ----------------------------------------------------------------------------------- page

st.title("Live VAE")
st.markdown(
    "A tiny variational autoencoder learns a 2D data set while you watch. The encoder "
    "$q_\\phi(z\\mid x) = \\mathcal N(\\mu(x), \\operatorname{diag}\\sigma^2(x))$ and the decoder "
    "$p_\\theta(x\\mid z) = \\mathcal N(m(z), \\operatorname{diag} s^2(z))$ are MLPs with three hidden layers; training "
    "maximizes, with a KL weight $\\beta$,"
)
st.latex(
    r"\begin{aligned}\mathcal L(x) &= \mathbb E_{\varepsilon\sim\mathcal N(0,I)}"
    r"\big[\log p_\theta(x\mid \mu(x)+\sigma(x)\odot\varepsilon)\big]\\"
    r"&\quad - \beta\,\mathrm{KL}\big(q_\phi(z\mid x)\,\|\,\mathcal N(0, I)\big)"
    r"\end{aligned}"
)
st.markdown(
    "At $\\beta = 1$ this is the ELBO, a lower bound on $\\log p_\\theta(x)$; for $\\beta \\ge 1$ "
    "it is a bound too (the KL term is never negative), but for $\\beta < 1$ it is not a bound: "
    "it can exceed $\\log p_\\theta(x)$. The KL warm-up raises the weight from 0, so while it is "
    "below 1 the objective is not a bound either; the charts' −ELBO is always the one at $\\beta = 1$. "
    "The held-out score is the importance-weighted bound $\\mathcal L_K$ (Burda et al. 2016), "
    "and the dotted line is the best any model can do: $\\mathbb E[\\log p_{\\text{data}}]$ under the "
    "true generating density."
)

init_from_query(PARAMS)
with st.expander("Settings — changing one starts a new run", expanded=True):
    r1 = st.columns([1.2, 1.4, 1, 1, 1.4])
    r1[0].selectbox("Dataset", toy_data.DATASETS, key="vae_dataset", on_change=on_dataset_change)
    r1[1].select_slider("Training samples", SAMPLE_SIZES, key="vae_n")
    r1[2].number_input(
        "Noise",
        min_value=0.0,
        max_value=2.0,
        step=0.01,
        key="vae_noise",
        format="%.3f",
        help=toy_data.NOISE_MEANING.get(st.session_state.vae_dataset, ""),
    )
    r1[3].number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="vae_seed")
    r1[4].radio(
        "Encoder gradient", ESTIMATORS, key="vae_est", format_func=lambda e: registry.VAE[e].label
    )
    r2 = st.columns([1.2, 0.8, 1.4, 1.2, 1, 1, 1])
    r2[0].select_slider("Hidden width", WIDTHS, key="vae_hidden")
    r2[1].radio("Latent dim", (1, 2), key="vae_zdim", horizontal=True)
    r2[2].select_slider("Learning rate", LRS, key="vae_lr", format_func=lambda v: f"{v:g}")
    r2[3].select_slider("Batch size", BATCHES, key="vae_batch")
    r2[4].number_input("KL weight β", min_value=0.0, max_value=10.0, step=0.1, key="vae_beta")
    warmup_help = "β rises linearly from 0 over this many steps (0 = no warm-up)."
    r2[5].number_input("Warm-up steps", 0, 50_000, step=500, key="vae_warmup", help=warmup_help)
    r2[6].checkbox(
        "Cosine lr decay",
        key="vae_decay",
        help="Cosine decay of the learning rate to lr/10 over the first 10,000 steps.",
    )
    for col, (name, key, why) in zip(st.columns([1, 1, 4]), PRESET_BUTTONS, strict=False):
        col.button(f"Preset: {name}", on_click=on_preset, args=(name,), key=key, help=why)
sync_query(PARAMS)

with st.spinner("Loading PyTorch…"):
    config = guarded(make_config, st.session_state)
session = live()
trainer = None  # settings invalid or rejected: the old run stays stored but is not trained
if config is not None:
    if session.trainer is not None and session.trainer.config == config:
        trainer = session.trainer
    else:
        with st.spinner("Building the model and sampling the data…"):
            trainer = guarded(session.configure, config)
if trainer is None:
    session.playing = False

ceil = None
if config is not None:
    try:
        ceil = ceiling(config.dataset, config.noise)
    except ValueError as exc:
        st.warning(f"No ceiling line for this noise: {literal(exc, quote=False)}")

controls(session, trainer, "vae_", on_play=on_play)
if trainer is not None:
    if session.playing:
        # plotly.js loads as training starts, not when the first gradient chart appears: running
        # it holds the browser, and the next tick waits for the browser (bench/vae_bench.py
        # browser; docs/performance.md). A first visit that never plays loads no plotly.
        preload_plotly()
    live_panels(session, train_panel, views_panel, ceil)
    downloads(trainer)
