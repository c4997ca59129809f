"""A paced run: at most `pace` steps per second, each step trained and shown, changeable while
it runs; the token bucket itself on a fake clock (no timing in the assertions there)."""

from __future__ import annotations

import threading
import time

import pytest

from engine import Control, PaceChanged, Trainer
from engine.core.control import check_pace
from tests.engine.core.test_control import Recorder, long_spec


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_paced_control_grants_the_steps_its_rate_has_earned():
    clock = FakeClock()
    control = Control(pace=10.0, clock=clock)
    assert control.allowance() == 1  # the first step at once
    clock.t += 0.35  # 3.5 steps earned at 10 steps/s; the bucket holds at most 1 (0.1 s)
    assert control.allowance() == 1
    control.set_pace(1000.0)
    clock.t += 0.05  # 50 steps earned, under the 100-step burst
    assert control.allowance() == 50
    control.refund(20)  # a chunk that ended early gives its steps back
    assert control.allowance() == 20
    control.set_pace(None)
    assert control.allowance() is None


def test_a_pause_keeps_a_paced_refund_from_becoming_single_steps():
    clock = FakeClock()
    control = Control(pace=1000.0, clock=clock)
    clock.t += 0.02
    assert control.allowance() == 21  # the first step's token and 20 earned
    control.pause()
    control.refund(5)  # the paced grant's rest: not credit for a paused run
    control.step(2)
    assert control.allowance() == 2


def test_a_fast_pace_is_granted_a_frame_of_steps_at_a_time():
    clock = FakeClock()
    control = Control(pace=1500.0, clock=clock)
    clock.t += 24 / 1500  # 25 tokens: a frame's worth (1/60 s) at 1500 steps/s
    assert control.allowance() == 25
    waits = []
    control._cond.wait = lambda timeout=None: (waits.append(timeout), control.stop())[-1]
    clock.t += 10 / 1500  # 10 earned: not yet a grant, the trainer waits for 15 more
    assert control.allowance() == 0  # (stopped while waiting)
    assert waits == [pytest.approx(15 / 1500)]


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), 1e9, True, "fast"])
def test_a_bad_pace_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="pace must be steps per second"):
        check_pace(bad)
    with pytest.raises(ValueError, match="pace"):
        Control().set_pace(bad)


def paced_run(pace: float) -> tuple[Control, Trainer, Recorder, threading.Thread]:
    """A long run at `pace`, training in a thread of its own, its events recorded."""
    control = Control(pace=pace)
    trainer = Trainer(long_spec(), control=control)
    seen = Recorder()
    trainer.subscribe(seen)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    return control, trainer, seen, thread


def test_a_paced_run_runs_at_its_pace_and_shows_every_step():
    t0 = time.monotonic()
    control, _, seen, thread = paced_run(20.0)
    seen.wait_for("steps_completed", 10)
    took = time.monotonic() - t0
    control.stop()
    thread.join(20)
    steps = [e.step for e in seen.of("steps_completed")]
    # a step shown as it ran (the default period of 25 steps would have shown none yet)
    assert steps[:10] == list(range(1, 11))
    # 10 steps at 20 steps/s take 0.45 s at least (the first is free); unpaced, milliseconds
    assert took >= 0.4


def test_the_pace_changes_while_running_and_says_so():
    control, trainer, seen, thread = paced_run(5.0)
    assert seen.wait_for("pace_changed").pace == 5.0  # a paced start says its pace
    seen.wait_for("steps_completed", 2)
    control.set_pace(None)
    changed = seen.wait_for("pace_changed", 2)
    assert isinstance(changed, PaceChanged) and changed.pace is None
    at = changed.step
    deadline = time.monotonic() + 20
    while trainer.step < at + 2000 and time.monotonic() < deadline:
        time.sleep(0.01)
    control.stop()
    thread.join(20)
    assert trainer.step >= at + 2000  # as fast as it goes: thousands of steps, not 5 a second
