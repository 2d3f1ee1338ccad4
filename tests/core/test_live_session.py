"""reparam_core.live_session: the Live VAE's session object, with a scripted trainer and clock
(chunk sizing, caps, stored curves, reset), and once with the real Trainer."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from reparam_core.live_session import Cadence, LiveSession, thin


@dataclass(frozen=True)
class Config:
    estimator: str = "pathwise"
    max_seconds: float = 10.0


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class FakeTrainer:
    """Trains 1000 steps per second of the scripted clock; diverges at `diverge_at` steps."""

    def __init__(self, config: Config, clock: Clock, diverge_at: int | None = None):
        self.config, self.clock, self.diverge_at = config, clock, diverge_at
        self.budgets: list[float] = []
        self.reset()

    def reset(self):
        self.step, self.train_seconds, self.diverged, self.message = 0, 0.0, False, ""
        self._rows: list[int] = []

    @property
    def time_left(self) -> float:
        return max(0.0, self.config.max_seconds - self.train_seconds)

    def run(self, max_steps=None, max_seconds=None):
        seconds = min(max_seconds, self.time_left) if max_seconds else max_steps / 1000
        self.budgets.append(seconds)
        steps = round(seconds * 1000)
        self.step += steps
        self.train_seconds += seconds
        self.clock.t += seconds
        self._rows += list(range(self.step - steps + 1, self.step + 1))
        if self.diverge_at is not None and self.step >= self.diverge_at:
            self.diverged, self.message = True, "diverged"

    class _History:
        def __init__(self, rows):
            self.rows = rows

        def columns(self):
            return {"step": self.rows, "neg_elbo": [1.0 / s for s in self.rows]}

    @property
    def history(self):
        return self._History(self._rows)


def session(diverge_at=None, cap=100.0):
    clock = Clock()
    s = LiveSession(
        lambda c: FakeTrainer(c, clock, diverge_at), session_cap=cap, clock=clock, step_steps=100
    )
    s.configure(Config())
    return s, clock


def draw(clock: Clock, seconds: float) -> float:
    """The page drawing for `seconds`; returns when it started."""
    start = clock.t
    clock.t += seconds
    return start


def test_a_chunk_is_what_the_drawing_leaves_of_a_tick():
    c = Cadence()
    assert c.chunk(0.05, 0.0) == pytest.approx(0.15)
    assert c.chunk(0.5, 0.0) == c.chunk_min  # slow drawing: still some training
    assert c.chunk(0.0, 0.0) == c.chunk_max
    assert c.chunk(0.03, 1.0) == c.chunk_slow_max  # a slow client: longer chunks


def test_ticks_train_only_while_playing_and_follow_the_drawing_time():
    s, clock = session()
    assert s.tick(draw(clock, 0.01)) is False and s.trainer.step == 0  # paused: nothing
    s.play()
    for _ in range(20):
        s.tick(draw(clock, 0.09))
        clock.t += 0.005  # the browser's gap between ticks
    # the running average of the render time converges to 0.09 s: chunks to 0.2 − 0.09
    assert s.trainer.budgets[-1] == pytest.approx(0.11, abs=0.005)
    steps_per_s, ticks_per_s = s.rates()
    assert steps_per_s == pytest.approx(1000 * 0.11 / (0.11 + 0.09 + 0.005), rel=0.05)
    assert ticks_per_s == pytest.approx(1 / 0.205, rel=0.05)
    assert len(s.ticks) == 9  # bounded


def test_the_session_cap_pauses_and_says_so():
    s, clock = session(cap=0.5)
    s.play()
    stopped = [s.tick(draw(clock, 0.01)) for _ in range(6)]
    assert stopped == [False, False, False, True, False, False] and not s.playing
    assert s.seconds_used() <= 0.5 + 1e-9
    assert "Session training-time cap" in s.notice
    s.step()  # no training past the cap
    assert s.seconds_used() <= 0.5 + 1e-9


def test_the_run_cap_and_a_divergence_pause():
    s, clock = session()
    s.configure(replace(s.trainer.config, max_seconds=3.0))
    s.play()
    while s.playing:
        s.tick(draw(clock, 0.01))
    assert s.notice == "Training-time cap of this run reached (3 s)."
    assert s.trainer.train_seconds == pytest.approx(3.0)
    s, clock = session(diverge_at=250)
    s.play()
    while s.playing:
        s.tick(draw(clock, 0.01))
    assert s.notice == "diverged" and s.trainer.step >= 250


def test_a_new_config_stores_the_old_curve_and_starts_a_new_run():
    s, clock = session()
    s.step()
    first = s.trainer
    assert s.configure(Config()) is first  # same settings: same run
    run_no = s.run_no
    s.cache["view"] = "stale"
    s.configure(Config(estimator="score"))
    assert s.trainer is not first and s.run_no == run_no + 1 and not s.cache
    assert s.stored["pathwise"]["step"][-1] == 100
    assert s.seconds_used() == pytest.approx(0.1)  # the old run's seconds count


def test_a_rejected_config_keeps_the_current_run():
    s, _ = session()
    first = s.trainer

    def reject(config):
        raise ValueError("lr must be > 0")

    s.build = reject
    with pytest.raises(ValueError, match="lr"):
        s.configure(Config(estimator="score"))
    assert s.trainer is first


def test_reset_restarts_the_run_and_keeps_its_curve():
    s, _ = session()
    s.step()
    s.reset()
    assert s.trainer.step == 0 and s.stored["pathwise"]["step"][-1] == 100


def test_stored_curves_are_thinned():
    cols = {"step": list(range(10_000)), "v": list(range(10_000))}
    out = thin(cols, 250)
    assert len(out["step"]) <= 251 and out["step"][-1] == 9999 and out["step"][0] == 0
    assert thin({"step": [1, 2]}, 250) == {"step": [1, 2]}


def test_the_real_trainer_plugs_in():
    from reparam_core.vae_train import TrainConfig, Trainer

    config = TrainConfig(n_samples=500, hidden=16, batch_size=64, max_seconds=30.0).validate()
    s = LiveSession(Trainer, session_cap=60.0, record=lambda tr: {"label": f"{tr.step} steps"})
    tr = s.configure(config)
    s.step()
    assert tr.step == 100 and s.stored[config.estimator]["step"][-1] == 100
    s.play()
    for _ in range(3):
        s.tick(s.clock())
    assert tr.step > 100 and len(s.ticks) == 3
    s.pause()
    assert s.stored[config.estimator]["label"] == f"{tr.step} steps"
