"""One thread-safe control object for a run: pause, resume, single step, stop, pace, learning
rate, probe settings, one weight set by hand.

The trainer asks `allowance()` before each chunk of steps: it blocks while paused (until
resumed, stepped or stopped), and under a pace (steps per second) until the next step is due,
and says how many steps may run now. Commands from any thread take effect at the next chunk
boundary. A weight set while paused wakes the trainer, which applies it and waits again
(`allowance` then says EDITS).
May import: stdlib, engine.probes.registry (to refuse a bad probe change in the caller's
thread, not the trainer's), engine.core.weight_edit (the same, for a weight).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.core.weight_edit import WeightEdit
from engine.probes.registry import check_probe_changes

MAX_PACE = 100_000.0  # steps per second; above it a pace is "as fast as it goes" in effect
EPS = 1e-9  # clock arithmetic's rounding: 0.05 s at 1000 steps/s is 50 steps
BURST_S = 0.1  # a paced run catches up at most this many seconds of steps after a slow chunk
# a fast pace is granted a frame's worth of steps at a time (1500 steps/s: 25 steps 60 times a
# second), not one step per wake-up: each grant costs a wake-up and a chunk (~50 µs and more),
# which at one step per grant took four paced runs' workers a core between them
GRANT_S = 1 / 60
EDITS = -1  # allowance(): no steps now, but weights to set (then ask again)


def check_pace(pace: float | None) -> float | None:
    """A pace is None (as fast as it goes) or steps per second in (0, MAX_PACE]."""
    if pace is None:
        return None
    if isinstance(pace, bool) or not isinstance(pace, int | float) or not \
            (math.isfinite(pace) and 0 < pace <= MAX_PACE):
        raise ValueError(f"pace must be steps per second in (0, {MAX_PACE:g}] or null "
                         f"(as fast as it goes), got {pace!r}")
    return float(pace)


class Control:
    def __init__(self, *, paused: bool = False, pace: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._cond = threading.Condition()
        self._paused = paused
        self._stopped = False
        self.stop_reason: str | None = None  # why, when the stop was not a person's
        self._credit = 0
        self._lr: float | None = None
        self._probes: dict[str, dict[str, Any]] = {}
        self._weights: list[WeightEdit] = []
        self._clock = clock
        self._pace = check_pace(pace)
        self._pace_changed = self._pace is not None  # a paced start is said, as a change
        self._tokens = 1.0  # paced steps that may run now (a token bucket): the first at once
        self._filled_at = clock()
        self._granted: str | None = None  # what the last allowance gave: "credit" or "pace"

    # --- commands (any thread) -------------------------------------------------------------

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._credit = 0

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        """While paused, allow exactly n more steps; then stay paused."""
        if n < 1:
            raise ValueError(f"step count must be at least 1, got {n}")
        with self._cond:
            self._paused = True
            self._credit += n
            self._cond.notify_all()

    def stop(self, reason: str | None = None) -> None:
        """Stop at the next chunk boundary; `reason` travels in run_stopped (e.g. a server's
        time limit)."""
        with self._cond:
            self._stopped = True
            self.stop_reason = reason
            self._cond.notify_all()

    def set_lr(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        with self._cond:
            self._lr = lr

    def set_pace(self, pace: float | None) -> None:
        """Run at most `pace` steps per second from now on (None: as fast as it goes); a
        paused run stays paused. The steps are the run's own: each is trained and counted."""
        pace = check_pace(pace)
        with self._cond:
            if pace != self._pace:
                self._pace, self._pace_changed = pace, True
                self._tokens, self._filled_at = min(self._tokens, 1.0), self._clock()
                self._cond.notify_all()

    def set_probes(self, changes: dict[str, dict[str, Any]]) -> None:
        """Change probes' settings, e.g. {"histograms": {"every": 10}}: per probe, the fields to
        change (the others keep their current values). Raises a located SpecError at once for
        an unknown probe or a bad value; changes not yet picked up merge, the later winning."""
        check_probe_changes(changes)
        with self._cond:
            for name, fields in changes.items():
                self._probes.setdefault(name, {}).update(fields)

    def set_weight(self, node: str, row: int, col: int, value: float) -> WeightEdit:
        """Set `node`'s weight[row, col] to `value` at the next chunk boundary, also while
        paused. Its form is checked here (a located SpecError); whether the node and indices
        exist, when the trainer applies it (engine.core.weight_edit)."""
        edit = WeightEdit.checked(node, row, col, value)
        with self._cond:
            self._weights.append(edit)
            self._cond.notify_all()
        return edit

    # --- the trainer's side ----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def pace(self) -> float | None:
        return self._pace

    def take_pace_change(self) -> bool:
        """Whether the pace changed since last asked (the trainer says so in an event)."""
        with self._cond:
            changed, self._pace_changed = self._pace_changed, False
            return changed

    def take_lr(self) -> float | None:
        with self._cond:
            lr, self._lr = self._lr, None
            return lr

    def take_probes(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            changes, self._probes = self._probes, {}
            return changes

    def take_weights(self) -> list[WeightEdit]:
        """The weights set since last asked, oldest first."""
        with self._cond:
            edits, self._weights = self._weights, []
            return edits

    def refund(self, n: int) -> None:
        """Give back single-step credit a chunk did not use (it ended at a reporting period
        before its allowance), so that step(n) takes n steps however the chunks fall."""
        with self._cond:
            if n <= 0 or self._stopped:
                return
            if self._granted == "credit" and self._paused:
                self._credit += n
            elif self._granted == "pace" and not self._paused and self._pace is not None:
                self._tokens += n

    def allowance(self) -> int | None:
        """Steps that may run now: None for no limit, 0 when stopped, EDITS when paused with
        weights to set. Blocks while paused, and under a pace until a step is due."""
        with self._cond:
            while not self._stopped:
                if self._paused and self._weights and not self._credit:
                    self._granted = None
                    return EDITS
                if self._paused:
                    if self._credit:
                        credit, self._credit, self._granted = self._credit, 0, "credit"
                        return credit
                    self._cond.wait()
                elif self._pace is None:
                    self._granted = None
                    return None
                else:
                    wait = self._fill()
                    if wait <= EPS:
                        n = int(self._tokens + EPS)
                        self._tokens -= n
                        self._granted = "pace"
                        return n
                    self._cond.wait(wait)
            return 0

    def _fill(self) -> float:
        """Adds the tokens earned since the last fill (at most BURST_S worth, and one);
        returns the seconds until a grant is due (<= 0: now): one step, or GRANT_S worth
        of steps at a fast pace. Holds the lock."""
        assert self._pace is not None
        now = self._clock()
        cap = max(1.0, self._pace * BURST_S)
        self._tokens = min(cap, self._tokens + (now - self._filled_at) * self._pace)
        self._filled_at = now
        need = max(1.0, math.floor(self._pace * GRANT_S))
        return (need - self._tokens) / self._pace if self._tokens < need else 0.0
