"""A live training session: one visitor's trainer, play/pause, stored curves, caps and tick cadence.

No Streamlit here. A page keeps one `LiveSession` under one session key, and a fragment with
`run_every=session.cadence.tick` draws, then calls `tick(drawn_at)`, which trains one time-boxed
chunk; `bench/vae_bench.py` drives the same object. Any trainer with the Trainer contract of
`reparam_core.vae_train` plugs in: `config` (with `max_seconds`), `run(max_steps=,
max_seconds=)`, `reset()`, `sync()`, `step`, `train_seconds`, `time_left`, `diverged`,
`message`, `history.columns()`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 250  # rows of a stored curve: enough for a chart, bounded per session
MAX_TICKS = 9  # the rates average over the last few ticks: recent, and bounded per session


@dataclass(frozen=True)
class Cadence:
    """When the page ticks and how much of each tick trains."""

    tick: float = 0.2  # s between ticks (the fragment's run_every): ≥ 4 chart refreshes a second
    chunk_min: float = 0.08  # s of training per tick, at least
    chunk_max: float = 0.19  # … and at most: the tick minus the drawing
    chunk_slow_max: float = 0.3  # s: the longest chunk, for a browser slow to ask for the next tick
    views: float = 2.0  # s between redraws of the views whose data changes every few thousand steps
    smooth: float = 0.3  # weight of the newest measurement in the running averages

    def chunk(self, render_s: float, gap_s: float) -> float:
        """Seconds of training for the next tick: what the drawing (`render_s`) leaves of a tick;
        a slow client (long gaps between ticks, `gap_s`) gets longer chunks, so training keeps
        most of the wall time at the cost of fewer refreshes."""
        chunk = min(self.chunk_max, max(self.chunk_min, self.tick - render_s))
        return max(chunk, min(4.0 * gap_s, self.chunk_slow_max))


def thin(columns: dict[str, Sequence[float]], max_points: int = MAX_POINTS) -> dict[str, list]:
    """Every k-th row (and always the last), so at most about `max_points` rows remain."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if n <= max_points:
        return {k: list(v) for k, v in columns.items()}
    idx = list(range(0, n, math.ceil(n / max_points)))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return {k: [v[i] for i in idx] for k, v in columns.items()}


class LiveSession:
    """One visitor's live training.

    `build(config)` makes a trainer (it raises ValueError for settings the core rejects).
    Each run's curve (`curve` columns of its history, thinned, plus what `record(trainer)` adds)
    is stored under `key(trainer)` when the run pauses or is replaced, so the next run can be
    drawn beside it. Training time
    is capped per run (the trainer's own `time_left`) and per session (`session_cap` seconds,
    all runs together).
    """

    def __init__(
        self,
        build: Callable[[Any], Any],
        *,
        session_cap: float,
        step_steps: int = 100,
        curve: Sequence[str] = ("step", "neg_elbo"),
        key: Callable[[Any], str] = lambda tr: tr.config.estimator,
        record: Callable[[Any], dict] = lambda tr: {"label": f"{tr.step} steps"},
        cadence: Cadence = Cadence(),
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.build, self.session_cap, self.step_steps = build, session_cap, step_steps
        self.curve, self.key, self.record = tuple(curve), key, record
        self.cadence, self.clock = cadence, clock
        self.trainer: Any = None
        self.playing = False
        self.stored: dict[str, dict] = {}  # one curve per key: bounded by the number of keys
        self.session_s = 0.0  # training seconds of the runs before this one
        self.run_no = 0  # counts new runs and resets: a view cached for one run is stale after
        self.notice = ""  # why training last stopped, for the page to say
        self.ticks: deque[tuple[float, int]] = deque(maxlen=MAX_TICKS)  # (time, step)
        self.cache: dict[str, Any] = {}  # the page's views of this run, rebuilt when stale
        self.render_s, self.gap_s, self.tick_end = 0.03, 0.0, None

    # ------------------------------------------------------------------------- runs

    def configure(self, config) -> Any:
        """The trainer for `config`: the current one if its config is the same, else a new run
        (the old run's curve is stored). Raises ValueError if the core rejects `config`; the
        current run is then kept."""
        if self.trainer is not None and self.trainer.config == config:
            return self.trainer
        fresh = self.build(config)
        self._retire()
        self.trainer = fresh
        self._new_run()
        return fresh

    def reset(self) -> None:
        """Start the current run again from its initial weights (its curve is stored)."""
        if self.trainer is None:
            return
        self._retire()
        self.trainer.reset()
        self._new_run()
        self.notice = ""

    def _retire(self) -> None:
        if self.trainer is not None:
            self.store_curve()
            self.session_s += self.trainer.train_seconds

    def _new_run(self) -> None:
        self.run_no += 1
        self.ticks.clear()
        self.cache.clear()

    def store_curve(self) -> None:
        tr = self.trainer
        if tr is None or tr.step == 0:
            return
        h = tr.history.columns()
        self.stored[self.key(tr)] = {**thin({c: h[c] for c in self.curve}), **self.record(tr)}

    # ------------------------------------------------------------------------- caps

    def seconds_used(self) -> float:
        """Training seconds this session, all runs together."""
        return self.session_s + (self.trainer.train_seconds if self.trainer is not None else 0.0)

    def session_left(self) -> float:
        return self.session_cap - self.seconds_used()

    # ------------------------------------------------------------------------- controls

    def play(self) -> None:
        self.playing = True
        self.ticks.clear()
        self.notice = ""
        self.tick_end = None

    def pause(self, message: str = "") -> None:
        self.playing = False
        self.store_curve()
        if message:
            self.notice = message

    def step(self) -> None:
        """`step_steps` steps at once (paused), within the session's cap."""
        if self.trainer is None:
            return
        if self.session_left() <= 0:
            self.notice = f"Session training-time cap reached ({self.session_cap:.0f} s)."
            return
        self.trainer.run(max_steps=self.step_steps)
        self.store_curve()

    def tick(self, drawn_at: float) -> bool:
        """After the page drew (it started at `drawn_at`, a `clock()` reading): one time-boxed
        chunk of training while playing. Returns True if training stopped in it (a cap reached or
        a divergence: `notice` says which), so the page can redraw its controls."""
        tr = self.trainer
        if not self.playing or tr is None:
            self.tick_end = None
            return False
        a = self.cadence.smooth
        self.render_s = (1 - a) * self.render_s + a * (self.clock() - drawn_at)
        if self.tick_end is not None:  # time the browser and server took between two ticks
            self.gap_s = (1 - a) * self.gap_s + a * (drawn_at - self.tick_end)
        budget = min(self.cadence.chunk(self.render_s, self.gap_s), self.session_left())
        if budget <= 0:
            self.pause(f"Session training-time cap reached ({self.session_cap:.0f} s).")
            return True
        tr.run(max_seconds=budget)
        self.ticks.append((self.clock(), tr.step))
        if tr.diverged:
            self.pause(tr.message)
            return True
        if tr.time_left <= 0:
            cap = tr.config.max_seconds
            self.pause(tr.message or f"Training-time cap of this run reached ({cap:.0f} s).")
            return True
        self.tick_end = self.clock()
        return False

    def rates(self) -> tuple[float, float]:
        """(training steps per second, ticks per second) over the last few ticks."""
        if len(self.ticks) < 2:
            return 0.0, 0.0
        (t0, s0), (t1, s1) = self.ticks[0], self.ticks[-1]
        dt = t1 - t0
        return ((s1 - s0) / dt, (len(self.ticks) - 1) / dt) if dt > 0 else (0.0, 0.0)
