"""Diffusion: the forward (noising) process as the reparameterization trick one level up, a small
denoising diffusion model that trains live, and its sampler run back from N(0, I) to data.

Layout and widgets here; the schedules and the exact noised densities are in
reparam_core.diffusion, the model, bounds and samplers in reparam_core.diffusion_train (imported
lazily: it brings torch, which the forward view never needs), the figures in
reparam_ui.figures.diffusion and the sentences about measured numbers in
reparam_ui.views.diffusion_text. Training runs in the live-controls fragments over one
`LiveSession` (reparam_ui.views.live_controls), as on the Live VAE page. Only the open tab runs.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from reparam_core import diffusion as D
from reparam_core import toy_data
from reparam_core.live_session import LiveSession
from reparam_ui.charts import show_figure
from reparam_ui.components.live_canvas import live_canvas
from reparam_ui.components.plot_element import preload as preload_plotly
from reparam_ui.downloads import DOWNLOAD_ICON, download_csv, download_figure_html_deferred
from reparam_ui.figures import diffusion as F
from reparam_ui.figures.line_chart import line_chart_spec
from reparam_ui.messages import guarded
from reparam_ui.shell import ensure_app_shell
from reparam_ui.state import Param, init_from_query, sync_query, warn_invalid_query
from reparam_ui.tables import csv_bytes
from reparam_ui.views import diffusion_text as X
from reparam_ui.views.live_controls import controls, live_panels

ensure_app_shell()
preload_plotly()  # first: the forward view is a plotly animation

STEP_STEPS = 100  # steps per press of "Step"
RUN_CAP = 300.0  # s of training per run
SESSION_CAP = 900.0  # s of training per visitor session, all runs together
T_OPTIONS = (20, 50, 100, 200, 500, 1000)
PARAMETERIZATIONS = {"eps": "ε", "x0": "x₀", "v": "v"}  # reparam_core.diffusion_train's, labelled
SAMPLERS = {"ddpm": "DDPM (ancestral)", "ddim": "DDIM (deterministic)"}
SOURCES = {"model": "trained model", "oracle": "oracle (exact score)"}
WIDTHS = (32, 64, 128, 256)
LRS = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2, 3e-2, 0.1)
BATCHES = (32, 64, 128, 256, 512, 1024)
DDIM_STEPS = (5, 10, 20, 50, 100, 200)
FIELD_FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0)  # the score field's t, as a part of T
TABS = ["Forward process", "Live training", "Reverse (sampling)"]
N_FORWARD = 1000  # points in the forward animation
N_REVERSE = 500  # points the sampler draws for the reverse animation
N_LIVE = 200  # points in each panel of the live view
N_CSV = 2000  # samples in the download
GRID = 40  # the exact density grid behind the animations
FIELD_GRID = 17  # arrows per side of the score field
ORACLE_BUDGET = 10.0  # s: a longer oracle run is not started (the page says what it would cost)
SAMPLE_SHARE = 0.2  # at most this part of the time playing goes to the live view's samples

PARAMS = {
    "dif_dataset": Param("moons", options=toy_data.DATASETS),
    "dif_schedule": Param("cosine", options=D.SCHEDULES),
    "dif_T": Param(100, options=T_OPTIONS),
    "dif_param": Param("v", options=tuple(PARAMETERIZATIONS)),
    "dif_width": Param(128, options=WIDTHS),
    "dif_lr": Param(2e-3, options=LRS),
    "dif_batch": Param(256, options=BATCHES),
    "dif_seed": Param(0, lo=0, hi=2**31 - 1),
    "dif_sampler": Param("ddpm", options=tuple(SAMPLERS)),
    "dif_steps": Param(50, options=DDIM_STEPS),
    "dif_source": Param("model", options=tuple(SOURCES)),
    "dif_field": Param(0.1, options=FIELD_FRACTIONS),
}
TAB_PARAM = {"dif_tab": Param(TABS[0], options=tuple(TABS))}


def core():
    """reparam_core.diffusion_train, imported on first use (it brings torch)."""
    import torch

    from reparam_core import diffusion_train, vae_train

    if torch.get_num_threads() != vae_train.THREADS:
        torch.set_num_threads(vae_train.THREADS)
    return diffusion_train


@st.cache_data(max_entries=16, show_spinner=False)
def ceiling(dataset: str) -> float:
    return toy_data.ceiling(dataset)


@st.cache_data(max_entries=32, show_spinner=False)
def density_frames(dataset: str, name: str, T: int, ts: tuple[int, ...]) -> tuple:
    """(xs, ys, log q_t on the GRID × GRID lattice for each t in ts): the exact noised density."""
    sched = D.schedule(name, T)
    xs, ys, pts = F.grid(GRID)
    log_q = np.stack([D.noised_log_prob(dataset, pts, float(sched.alpha_bar[t])) for t in ts])
    return xs, ys, log_q


@st.cache_data(max_entries=16, show_spinner=False)
def data_density(dataset: str) -> tuple:
    """(xs, ys, p_data) on a grid: the heat behind the live samples."""
    xs, ys, pts = F.grid(GRID)
    return xs, ys, np.exp(toy_data.log_prob(dataset, pts.reshape(-1, 2)).reshape(GRID, GRID))


@st.cache_data(max_entries=16, show_spinner="Noising the data…")
def forward_figure(dataset: str, name: str, T: int, seed: int) -> dict:
    sched = D.schedule(name, T)
    x0 = toy_data.sample(dataset, N_FORWARD, seed=seed)
    eps = np.random.default_rng([seed, 1]).standard_normal(x0.shape)  # one ε per point
    ts = F.frame_times(T)
    return F.forward_spec(x0, eps, sched, ts, density_frames(dataset, name, T, tuple(ts.tolist())))


@st.cache_data(max_entries=32, show_spinner=False)
def oracle_step_seconds(dataset: str, name: str, T: int) -> float:
    """Seconds one exact-ε evaluation takes on N_REVERSE points, averaged over five steps from 1
    to T: the oracle's cost per sampler step (the exact score sums over the data density's
    mixture nodes; some data sets have many, more where q_t is sharp)."""
    sched = D.schedule(name, T)
    eps_fn = core().oracle_eps_fn(dataset, None, sched)
    x = np.random.default_rng(0).standard_normal((N_REVERSE, 2))
    ts = np.unique(np.round(np.linspace(1, T, 5)).astype(int))
    start = time.perf_counter()
    for t in ts:
        eps_fn(x, int(t))
    return (time.perf_counter() - start) / len(ts)


@st.cache_data(max_entries=16, show_spinner="Sampling with the exact score…")
def oracle_run(dataset: str, name: str, T: int, sampler: str, steps: int | None, seed: int):
    """The oracle's trajectory (exact ε from noised_score) and its fidelity: no trainer needed."""
    dt = core()
    sched = D.schedule(name, T)
    eps_fn = dt.oracle_eps_fn(dataset, None, sched)
    ts, traj = dt.sample_trajectory(eps_fn, sched, N_REVERSE, sampler, steps, seed)
    return ts, traj, dt.fidelity(traj[-1], dataset)


# ----------------------------------------------------------------------------------- state


def make_config(ss):
    config = core().DiffusionConfig(
        dataset=ss["dif_dataset"],
        schedule=ss["dif_schedule"],
        T=int(ss["dif_T"]),
        parameterization=ss["dif_param"],
        width=int(ss["dif_width"]),
        lr=float(ss["dif_lr"]),
        batch_size=int(ss["dif_batch"]),
        seed=int(ss["dif_seed"]),
        max_seconds=RUN_CAP,
    )
    return config.validate()


def live() -> LiveSession:
    """This visitor's training: trainer, play/pause, caps and cadence, in one key."""
    if "dif_session" not in st.session_state:
        st.session_state.dif_session = LiveSession(
            # background: held-out evaluations run beside the training steps
            lambda config: core().DiffusionTrainer(config, background=True),
            session_cap=SESSION_CAP,
            step_steps=STEP_STEPS,
            curve=("step", "loss"),
            key=lambda tr: tr.config.parameterization,
            record=lambda tr: {"label": f"{tr.config.parameterization}, {tr.step} steps"},
        )
    return st.session_state.dif_session


def trainer_for_settings():
    """The run the settings give (built on first use, kept while they stay the same), or None
    with the error shown if the core rejects them."""
    with st.spinner("Loading PyTorch…"):
        config = guarded(make_config, st.session_state)
    session = live()
    if config is None:
        session.playing = False
        return None
    if session.trainer is not None and session.trainer.config == config:
        return session.trainer
    with st.spinner("Building the model and sampling the data…"):
        trainer = guarded(session.configure, config)
    if trainer is None:
        session.playing = False
    return trainer


def schedule_of(ss) -> D.Schedule | None:
    return guarded(D.schedule, ss["dif_schedule"], int(ss["dif_T"]))


def field_t(T: int) -> int:
    return max(1, round(float(st.session_state["dif_field"]) * T))


def sampler_steps(T: int) -> int | None:
    """DDIM's steps (at most T), None for DDPM (every step)."""
    if st.session_state["dif_sampler"] != "ddim":
        return None
    return min(int(st.session_state["dif_steps"]), T)


# ----------------------------------------------------------------------------------- forward


def forward_view(ss) -> None:
    sched = schedule_of(ss)
    if sched is None:
        return
    dataset, seed = ss["dif_dataset"], int(ss["dif_seed"])
    spec = guarded(forward_figure, dataset, sched.name, sched.T, seed)
    if spec is None:
        return
    show_figure(spec, key="dif_forward")
    download_figure_html_deferred(
        "Animation (HTML)", spec, "diffusion_forward.html", key="dif_dl_forward"
    )
    ts = spec["layout"]["meta"]["ts"]
    mu, sigma = sched.mu_sigma(sched.T)
    st.caption(
        f"{N_FORWARD:,} points of {dataset} (seed {seed}), each with one ε ~ N(0, I) drawn once: "
        f"frame t shows x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, so each point slides along its own path "
        f"from its x₀ to its ε ({len(ts)} frames, t = 0 … {sched.T}). Colours: where each point "
        "started. Blue shading and contours: the exact log q_t(x), the data density convolved with "
        f"N(0, (1 − ᾱ_t) I) after scaling by √ᾱ_t. Dotted circle: radius 2 of N(0, I). At t = T: "
        f"x_T = {float(mu):.4f}·x₀ + {float(sigma):.4f}·ε."
    )
    st.markdown(WHERE_THE_TRICK_SITS)


WHERE_THE_TRICK_SITS = (
    "**Where the trick sits.** Twice. Drawing $x_t$ needs no chain of $t$ noising steps: "
    "$q(x_t\\mid x_0)$ is Gaussian, so $x_t$ is one location–scale map of one $\\varepsilon$, "
    "for any $t$. And that $\\varepsilon$ sets the regression target: the network learns "
    "$\\min_\\theta \\mathbb E\\,\\lVert \\varepsilon - \\varepsilon_\\theta(x_t, t)\\rVert^2$ "
    "(or the same regression for $x_0$, or for $v = \\sqrt{\\bar\\alpha_t}\\,\\varepsilon - "
    "\\sqrt{1-\\bar\\alpha_t}\\,x_0$: given $x_t$ each is linear in $\\varepsilon$), which makes "
    "$-\\varepsilon_\\theta/\\sqrt{1-\\bar\\alpha_t}$ an estimate of the score "
    "$\\nabla_x \\log q_t(x)$ (the score field on the training tab).\n\n"
    "**Where a gradient flows.** With a fixed schedule, as here, none flows into the noising "
    "distribution's parameters: $\\mu$ and $\\sigma$ are constants, and the trick only samples "
    "and sets the target. With a learned schedule (Kingma et al. 2021, *Variational Diffusion "
    "Models*) it does: the schedule's parameters $\\eta$ get their gradient through "
    "$x_t = \\sqrt{\\bar\\alpha_\\eta(t)}\\,x_0 + \\sqrt{1-\\bar\\alpha_\\eta(t)}\\,\\varepsilon$, "
    "pathwise, as a VAE's encoder gets its gradient through $z = \\mu + \\sigma\\varepsilon$."
)


# ----------------------------------------------------------------------------------- training


def status_line(trainer, ceil: float | None) -> None:
    sps, rate = live().rates()
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("step", f"{trainer.step:,}")
    c2.metric("steps/s", f"{sps:,.0f}")
    c3.metric("chart refreshes/s", f"{rate:.1f}")
    bound, fid = trainer.evals.last("bound"), trainer.evals.last("fidelity")
    gap = None if bound is None or ceil is None else f"{ceil - bound:.2f} below the ceiling"
    c4.metric(
        "held-out bound (nats)", "—" if bound is None else f"{bound:.3f}", gap, delta_color="off"
    )
    c5.metric("samples: mean log p_data", "—" if fid is None else f"{fid:.3f}")
    st.caption(
        f"Trained {trainer.train_seconds:.1f} s of this run (cap {RUN_CAP:.0f} s) · "
        f"{live().seconds_used():.0f} s of {SESSION_CAP:.0f} s this session · evaluated every "
        f"{trainer.config.eval_every:,} steps"
        + ("" if ceil is None else f" · ceiling E[log p_data] = {ceil:.3f}")
    )


def live_samples(trainer) -> np.ndarray:
    """The model's DDPM samples for the live view (the same noise each time, so they move only as
    the model does), redrawn while the model changes as often as keeps their cost under
    SAMPLE_SHARE of the time: every tick or two at T = 100, every few seconds at T = 1000."""
    session = live()
    cached, now = session.cache.get("live_samples"), session.clock()
    stale = cached is None or cached["run"] != session.run_no
    if stale or (
        cached["step"] != trainer.step and now - cached["at"] >= cached["cost"] / SAMPLE_SHARE
    ):
        _, traj = trainer.sample(N_LIVE, "ddpm", seed=trainer.config.seed)
        cost = session.clock() - now
        cached = {"run": session.run_no, "step": trainer.step, "at": now, "cost": cost}
        cached["x"] = traj[-1]
        session.cache["live_samples"] = cached
    return cached["x"]


def x_test(trainer) -> np.ndarray:
    x = trainer.x_test
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=float)


def denoised(trainer, x0: np.ndarray, t: int) -> np.ndarray:
    """The model's one-step estimate x̂₀ = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t from x_t of each x0."""
    sched = trainer.schedule
    x_t, _ = D.forward_sample(x0, t, sched, seed=trainer.config.seed)
    mu, sigma = sched.mu_sigma(t)
    return (x_t - float(sigma) * trainer.eps(x_t, t)) / float(mu)


def live_view(trainer) -> dict:
    x0 = x_test(trainer)[:N_LIVE]
    t = max(1, trainer.config.T // 2)
    return F.live_view(
        x0,
        live_samples(trainer),
        denoised(trainer, x0, t),
        trainer.step,
        f"DDPM, {trainer.config.T} steps",
        t,
        data_density(trainer.config.dataset),
    )


def train_panel(ceil: float | None) -> None:
    """One tick: the counters and the charts, then (while playing) a time-boxed chunk of training.
    Drawing comes first, as on the Live VAE page: a fragment's deltas still queued when its next
    run starts are dropped."""
    session = live()
    trainer = session.trainer
    if trainer is None:
        return
    drawn_at = session.clock()
    status_line(trainer, ceil)
    loss = F.loss_spec(trainer.history.columns(), trainer.config.parameterization)
    canvas = session.playing or trainer.step == 0  # paused after training: plotly charts
    if canvas:
        live_canvas(line_chart_spec(loss), live_view(trainer), key="dif_live")
    else:
        show_figure(loss, key="dif_loss")
    if session.tick(drawn_at):  # trained a chunk, and it stopped: a cap or a divergence
        st.rerun(scope="app")


def score_field(trainer) -> dict:
    sched, name = trainer.schedule, trainer.config.dataset
    t = field_t(sched.T)
    xs, ys, pts = F.grid(FIELD_GRID)
    pts = pts.reshape(-1, 2)
    ab = float(sched.alpha_bar[t])
    exact = D.noised_score(name, pts, ab)
    heat = density_frames(name, sched.name, sched.T, (t,))
    return F.score_field_spec(pts, trainer.score(pts, t), exact, t, heat=heat[:2] + (heat[2][0],))


def views_panel() -> None:
    """The bound and score-error charts (redrawn when a new evaluation lands), the measured
    sentences, and, paused, the learned score field beside the exact one."""
    session = live()
    trainer = session.trainer
    if trainer is None:
        return
    ceil = session.cache.get("ceiling")
    evals = trainer.evals.columns()
    rows = len(trainer.evals)
    views = session.cache.get("views") or {"rows": None}
    if rows and views["rows"] != rows:
        views = {
            "rows": rows,
            "bound": F.bound_spec(evals, ceil),
            "score": F.score_error_spec(evals),
        }
    session.cache["views"] = views
    if rows:
        left, right = st.columns(2)
        with left:
            show_figure(views["bound"], key="dif_bound")
        with right:
            show_figure(views["score"], key="dif_score_error")
        text = " ".join(
            s
            for s in (
                X.bound_sentence(evals, ceil),
                X.fidelity_sentence(evals, ceil),
                X.score_error_sentence(evals),
            )
            if s
        )
        st.markdown(text)
    else:
        st.info(
            f"The held-out bound, the sample fidelity and the score error are measured every "
            f"{trainer.config.eval_every:,} steps.",
            icon=":material/query_stats:",
        )
    if not session.playing and trainer.step > 0:
        st.select_slider(
            "Score field at t = (fraction of T)",
            FIELD_FRACTIONS,
            key="dif_field",
            format_func=lambda f: f"{f:g} T = {max(1, round(f * trainer.config.T))}",
        )
        spec = guarded(score_field, trainer)
        if spec is not None:
            show_figure(spec, key="dif_field_fig")
            t = spec["layout"]["meta"]["t"]
            st.caption(
                f"Arrows: the score ∇ₓ log q_t at t = {t} on a {FIELD_GRID} × {FIELD_GRID} grid, "
                "learned (s_θ = −ε_θ/√(1 − ᾱ_t), left) and exact (from the data density, right), "
                "on one length scale (long arrows are cut, keeping their direction). Shading: the "
                "exact log q_t."
            )


def downloads(trainer) -> None:
    """Built when clicked (so they hold the state at that moment, even while playing)."""

    def samples_csv() -> bytes:
        _, traj = trainer.sample(N_CSV, "ddpm", seed=trainer.config.seed)
        x = traj[-1]
        return csv_bytes({"x1": x[:, 0].tolist(), "x2": x[:, 1].tolist()})

    items = (
        ("Model state_dict (.pt)", trainer.state_dict_bytes, "diffusion_state_dict.pt", "application/octet-stream"),
        ("Training history (CSV)", lambda: csv_bytes(trainer.history.columns()), "diffusion_history.csv", "text/csv"),
        ("Evaluations (CSV)", lambda: csv_bytes(trainer.evals.columns()), "diffusion_evals.csv", "text/csv"),
        ("Samples (CSV)", samples_csv, "diffusion_samples.csv", "text/csv"),
    )  # fmt: skip
    for col, (label, data, name, mime) in zip(st.columns(4), items, strict=True):
        col.download_button(
            label,
            data,
            file_name=name,
            mime=mime,
            key=f"dif_dl_{name}",
            icon=DOWNLOAD_ICON,
            on_click="ignore",
        )


def training_view(ss) -> None:
    trainer = trainer_for_settings()
    session = live()
    ceil = guarded(ceiling, ss["dif_dataset"])
    controls(session, trainer, "dif_")
    session.cache["ceiling"] = ceil  # for the views fragment (after Reset, which empties the cache)
    if trainer is None:
        return
    live_panels(session, train_panel, views_panel, ceil)
    st.markdown(
        f"**What trains:** an MLP ε_θ(x_t, t) (width {trainer.config.width}) on minibatches of "
        f"{trainer.config.batch_size}: t ~ U{{1…{trainer.config.T}}}, ε ~ N(0, I), x_t in one "
        f"shot, and the squared error of its {PARAMETERIZATIONS[trainer.config.parameterization]} "
        "prediction (ε, x₀ and v are linear in each other given x_t, so every target gives an ε̂; "
        "they weight the steps differently). The held-out bound is the diffusion's ELBO "
        "(Ho et al. 2020, eq. 5), a lower bound on log p_θ(x₀)."
    )
    downloads(trainer)


# ----------------------------------------------------------------------------------- reverse


def model_run(trainer, sampler: str, steps: int | None) -> tuple:
    """The trained model's trajectory and fidelity, kept while the model and settings stay."""
    session = live()
    key = (session.run_no, trainer.step, sampler, steps)
    cached = session.cache.get("reverse")
    if cached is None or cached["key"] != key:
        seed = trainer.config.seed
        ts, traj = trainer.sample(N_REVERSE, sampler, steps=steps, seed=seed)
        fid = core().fidelity(traj[-1], trainer.config.dataset)
        cached = {"key": key, "run": (ts, traj, fid)}
        session.cache["reverse"] = cached
    return cached["run"]


def reverse_view(ss) -> None:
    with st.container(horizontal=True, gap="medium"):
        st.segmented_control(
            "Sampler", list(SAMPLERS), format_func=SAMPLERS.get, key="dif_sampler", required=True
        )
        if ss["dif_sampler"] == "ddim":
            st.select_slider("DDIM steps", DDIM_STEPS, key="dif_steps")
        st.segmented_control(
            "Denoiser", list(SOURCES), format_func=SOURCES.get, key="dif_source", required=True
        )
    trainer = trainer_for_settings()
    if trainer is None:
        return
    sched, dataset = trainer.schedule, trainer.config.dataset
    sampler, steps = ss["dif_sampler"], sampler_steps(sched.T)
    how = f"DDIM with {steps} of the {sched.T} steps" if steps else f"DDPM over all {sched.T} steps"
    with st.spinner("Sampling…"):
        model = guarded(model_run, trainer, sampler, steps)
        per_step = guarded(oracle_step_seconds, dataset, sched.name, sched.T)
    oracle, cost = None, None if per_step is None else per_step * (steps or sched.T)
    if cost is not None and cost <= ORACLE_BUDGET:
        oracle = guarded(
            oracle_run, dataset, sched.name, sched.T, sampler, steps, trainer.config.seed
        )
    elif cost is not None:
        st.info(
            f"The oracle's run ({how}) would take about {cost:.0f} s here: the exact score of "
            f"{dataset} costs {1000 * per_step:.0f} ms per step for {N_REVERSE} points. It runs "
            f"when that is under {ORACLE_BUDGET:.0f} s: DDIM with fewer steps, or a smaller T.",
            icon=":material/timer:",
        )
    chosen = oracle if ss["dif_source"] == "oracle" else model
    if chosen is None:
        return
    ts, traj, _ = chosen
    frame_ts = tuple(F.reverse_frames(ts).tolist())
    density = guarded(density_frames, trainer.config.dataset, sched.name, sched.T, frame_ts)
    show_figure(F.reverse_spec(ts, traj, sched, density), key="dif_reverse")
    ceil = guarded(ceiling, trainer.config.dataset)
    c1, c2, c3 = st.columns(3)
    for col, label, run in (
        (c1, f"model, step {trainer.step:,}", model),
        (c2, "oracle (exact score)", oracle),
    ):
        col.metric(
            label,
            "—" if run is None else f"{run[2][0]:.3f}",
            help="Mean log p_data of the final samples, in nats: the exact data density at them.",
        )
    c3.metric("ceiling E[log p_data]", "—" if ceil is None else f"{ceil:.3f}")
    st.caption(
        f"{N_REVERSE} points from N(0, I) at t = {sched.T}, run back to t = 0 by {how} "
        f"({len(frame_ts)} frames shown), coloured by where they end; the {SOURCES[ss['dif_source']]} "
        "supplies ε̂. Shading and contours: the exact log q_t at each frame's t — a perfect denoiser's points "
        "follow them back to the data."
    )
    final = traj[-1]
    download_csv(
        "Final samples (CSV)",
        {"x1": final[:, 0].tolist(), "x2": final[:, 1].tolist()},
        f"diffusion_{ss['dif_source']}_samples.csv",
        key="dif_dl_reverse",
    )
    st.markdown(
        X.reverse_sentence(
            None if model is None else model[2],
            None if oracle is None else oracle[2],
            ceil,
            trainer.step,
            how,
        )
    )


# ----------------------------------------------------------------------------------- page

st.title("Diffusion")
st.markdown(
    "A diffusion model learns to undo a fixed noising process, and each noising is the "
    "reparameterization trick:"
)
st.latex(  # two lines: it fits a phone's width
    r"\begin{aligned}x_t &= \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,"
    r"\quad \varepsilon \sim \mathcal N(0, I),\\"
    r"x_t &\sim q(x_t\mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t)\,I\big),"
    r"\end{aligned}"
)
st.markdown(
    "the location–scale map $x = \\mu + \\sigma\\varepsilon$ of the Change of variables page with "
    "$\\mu = \\sqrt{\\bar\\alpha_t}\\,x_0$, $\\sigma = \\sqrt{1-\\bar\\alpha_t}$ and "
    "$\\bar\\alpha_t = \\prod_{s \\le t}(1 - \\beta_s)$ for a noise schedule "
    "$\\beta_1, \\dots, \\beta_T$. Where the trick sits, and where a gradient flows through it: "
    "under the animation."
)

init_from_query(PARAMS)
warn_invalid_query(TAB_PARAM)
# widgets of a closed tab or of a paused-only view keep their values across runs without them
for _key in ("dif_sampler", "dif_steps", "dif_source", "dif_field"):
    st.session_state[_key] = st.session_state[_key]
with st.expander("Settings — changing one starts a new training run"):
    r1 = st.columns([1.3, 1.2, 1.6, 1.2])
    r1[0].selectbox("Dataset", toy_data.DATASETS, key="dif_dataset")
    r1[1].segmented_control(
        "Schedule",
        D.SCHEDULES,
        format_func={"cosine": "cosine", "linear": "linear β"}.get,
        key="dif_schedule",
        required=True,
        help="; ".join(D.SCHEDULE_LABELS.values()),
    )
    r1[2].select_slider("Steps T", T_OPTIONS, key="dif_T")
    r1[3].segmented_control(
        "Network predicts",
        list(PARAMETERIZATIONS),
        format_func=PARAMETERIZATIONS.get,
        key="dif_param",
        required=True,
    )
    r2 = st.columns([1.3, 1.2, 1.6, 1.2])
    r2[0].select_slider("Hidden width", WIDTHS, key="dif_width")
    r2[1].select_slider("Learning rate", LRS, key="dif_lr", format_func=lambda v: f"{v:g}")
    r2[2].select_slider("Batch size", BATCHES, key="dif_batch")
    r2[3].number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="dif_seed")
sync_query(PARAMS)

_sched = schedule_of(st.session_state)
if _sched is not None:
    st.caption(X.schedule_caption(_sched))
    if not _sched.ends_in_noise:
        st.warning(X.not_noise_warning(_sched, T_OPTIONS), icon=":material/warning:")

tab_fwd, tab_train, tab_rev = st.tabs(
    TABS,
    key="dif_tab",
    on_change="rerun",  # lazy: only the open tab runs (no torch for the forward view)
    bind="query-params",  # the open tab is part of a shared URL
)
if not tab_train.open and "dif_session" in st.session_state:
    live().playing = False  # training ticks only on its own tab
with tab_fwd:
    if tab_fwd.open:
        forward_view(st.session_state)
with tab_train:
    if tab_train.open:
        training_view(st.session_state)
with tab_rev:
    if tab_rev.open:
        reverse_view(st.session_state)
