"""The controls of a live-training page, over a `reparam_core.live_session.LiveSession`:
Play / Pause / Step / Reset, the notice of why training stopped, and the two fragments that run
while playing (one per tick, one for the slower views). The Live VAE page uses it; a page with
another trainer plugs in its own panels and keeps the same skeleton."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from reparam_core.live_session import LiveSession


def controls(
    session: LiveSession, trainer: Any, prefix: str, on_play: Callable[[], None] | None = None
) -> None:
    """The transport row and what its presses do (before anything below is drawn).

    `trainer` is the run the current settings give (None while they are invalid: then only
    Pause works); `prefix` keeps the buttons' keys the page's own.
    """
    playing = session.playing
    b1, b2, b3, b4, _ = st.columns([1, 1, 1, 1, 3])
    b1.button(
        "Play",
        key=f"{prefix}play",
        on_click=on_play or session.play,
        disabled=trainer is None or playing,
        type="primary",
        icon=":material/play_arrow:",  # icons, not ⏸/⏭ glyphs: not every system font has those
    )
    b2.button(
        "Pause",
        key=f"{prefix}pause",
        on_click=session.pause,
        disabled=not playing,
        icon=":material/pause:",
    )
    step = b3.button(
        "Step",
        key=f"{prefix}step",
        disabled=trainer is None or playing,
        help=f"{session.step_steps} steps",
        icon=":material/skip_next:",
    )
    reset = b4.button(
        "Reset", key=f"{prefix}reset", disabled=trainer is None, icon=":material/restart_alt:"
    )
    if trainer is None:
        return
    if reset:
        session.reset()
    if step:
        session.step()
    if not session.playing:
        trainer.sync()  # paused: the charts and downloads show every probe row
    if trainer.diverged:
        session.playing = False
        st.error(trainer.message)
    elif session.notice:
        st.info(session.notice)
    if not trainer.diverged and trainer.time_left <= 0:
        cap = trainer.config.max_seconds
        st.info(f"This run reached its training-time cap ({cap:.0f} s). Reset or change a setting.")


def live_panels(
    session: LiveSession, tick_panel: Callable[..., None], slow_panel: Callable[[], None], *args
) -> None:
    """`tick_panel(*args)` on every tick while playing (it draws, then calls `session.tick`),
    `slow_panel()` every `cadence.views` seconds; both once per rerun while paused."""
    cadence, playing = session.cadence, session.playing
    st.fragment(tick_panel, run_every=cadence.tick if playing else None)(*args)
    st.fragment(slow_panel, run_every=cadence.views if playing else None)()
