"""Pause, single step, resume, stop and learning-rate changes from another thread."""

from __future__ import annotations

import threading
import time

import pytest

from engine import Control, Event, TelemetrySpec, Trainer
from tests.engine.helpers import mlp, opt, run_spec

TIMEOUT = 20.0


def long_spec(**training):
    tel = TelemetrySpec(scalars_every=1, grid_every=0)
    return run_spec(mlp([4]), "circle", loss=opt("mse"), batch_size=10, steps=10_000_000,
                    telemetry=tel, **training)


class Recorder:
    """Collects events and lets the test wait for one of a given type."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait_for(self, kind: str, count: int = 1) -> Event:
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.of(kind)) >= count, timeout=TIMEOUT)
        assert ok, f"no {kind} #{count} within {TIMEOUT}s"
        return self.of(kind)[count - 1]

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.type == kind]


def start(trainer: Trainer) -> tuple[Recorder, threading.Thread]:
    rec = Recorder()
    trainer.subscribe(rec)
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    return rec, thread


def test_start_paused_then_single_steps_then_resume_then_stop() -> None:
    control = Control(paused=True)
    trainer = Trainer(long_spec(), control=control)
    rec, thread = start(trainer)
    rec.wait_for("run_paused")
    time.sleep(0.05)
    assert trainer.step == 0
    control.step()
    first = rec.wait_for("steps_completed")
    assert (first.first_step, first.step) == (1, 1)
    control.step()
    assert rec.wait_for("steps_completed", 2).step == 2
    time.sleep(0.05)
    assert trainer.step == 2  # paused again after exactly one step each
    control.resume()
    rec.wait_for("run_resumed")
    rec.wait_for("steps_completed", 10)
    control.pause()
    paused = rec.wait_for("run_paused", 2)
    frozen = trainer.step
    time.sleep(0.1)
    assert trainer.step == frozen == paused.step
    control.stop()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert rec.events[-1].type == "run_stopped" and rec.events[-1].step == frozen


def test_stop_while_running() -> None:
    trainer = Trainer(long_spec())
    rec, thread = start(trainer)
    rec.wait_for("steps_completed", 3)
    trainer.control.stop()
    thread.join(TIMEOUT)
    assert rec.events[-1].type == "run_stopped"
    assert "test_loss" in rec.events[-1].metrics
    assert rec.events[-1].reason is None  # asked for: no reason to give


def test_a_stop_with_a_reason_says_it_in_run_stopped() -> None:
    trainer = Trainer(long_spec())
    rec, thread = start(trainer)
    rec.wait_for("steps_completed", 1)
    trainer.control.stop("the server's time limit")
    thread.join(TIMEOUT)
    assert rec.events[-1].type == "run_stopped"
    assert rec.events[-1].reason == "the server's time limit"


def test_learning_rate_change_takes_effect_at_the_next_step() -> None:
    control = Control(paused=True)
    trainer = Trainer(long_spec(optimizer=opt("sgd", lr=0.03)), control=control)
    rec, thread = start(trainer)
    rec.wait_for("run_paused")
    control.step()
    assert rec.wait_for("steps_completed").lr == 0.03
    control.set_lr(0.5)
    control.step()
    changed = rec.wait_for("lr_changed")
    assert changed.lr == 0.5 and changed.step == 1
    assert rec.wait_for("steps_completed", 2).lr == 0.5
    control.stop()
    thread.join(TIMEOUT)


def test_control_refuses_nonsense() -> None:
    control = Control()
    for bad in (lambda: control.set_lr(0), lambda: control.step(0)):
        try:
            bad()
        except ValueError:
            continue
        raise AssertionError("accepted a bad command")


def test_step_n_takes_n_steps_across_reporting_periods() -> None:
    # a chunk ends at every 25th step (scalars_every): step(60) must still take 60
    control = Control(paused=True)
    tel = TelemetrySpec(scalars_every=25, grid_every=0)
    trainer = Trainer(run_spec(mlp([4]), "circle", loss=opt("mse"), steps=1000, telemetry=tel),
                      control=control)
    rec, thread = start(trainer)
    rec.wait_for("run_paused")
    control.step(60)
    deadline = time.monotonic() + TIMEOUT
    while trainer.step < 60 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    assert trainer.step == 60
    control.stop()
    thread.join(TIMEOUT)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fused", "autograd"])
@pytest.mark.parametrize("n", [1, 7, 25, 100, 1000])
def test_step_n_takes_exactly_n_steps_on_both_strategies(n: int, fast_path: bool) -> None:
    control = Control(paused=True)
    tel = TelemetrySpec(scalars_every=10, grid_every=0)  # chunks end every 10 steps
    trainer = Trainer(run_spec(mlp([4]), "circle", loss=opt("mse"), steps=100_000,
                               telemetry=tel, fast_path=fast_path), control=control)
    rec, thread = start(trainer)
    rec.wait_for("run_paused")
    control.step(n)
    deadline = time.monotonic() + TIMEOUT
    while trainer.step < n and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.1)  # it would go on past n now if it were going to
    assert trainer.step == n
    assert trainer.strategy.name == ("fused_mlp" if fast_path else "autograd")
    control.stop()
    thread.join(TIMEOUT)
