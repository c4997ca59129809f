"""One thread-safe control object for a run: pause, resume, single step, stop, learning rate,
probe settings.

The trainer asks `allowance()` before each chunk of steps: it blocks while paused (until
resumed, stepped or stopped) and says how many steps may run now. Commands from any thread
take effect at the next chunk boundary.
May import: stdlib, engine.probes.registry (to refuse a bad probe change in the caller's
thread, not the trainer's).
"""

from __future__ import annotations

import threading
from typing import Any

from engine.probes.registry import check_probe_changes


class Control:
    def __init__(self, *, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._paused = paused
        self._stopped = False
        self.stop_reason: str | None = None  # why, when the stop was not a person's
        self._credit = 0
        self._lr: float | None = None
        self._probes: dict[str, dict[str, Any]] = {}

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

    def set_probes(self, changes: dict[str, dict[str, Any]]) -> None:
        """Change probes' settings, e.g. {"histograms": {"every": 10}}: per probe, the fields to
        change (the others keep their current values). Raises a located SpecError at once for
        an unknown probe or a bad value; changes not yet picked up merge, the later winning."""
        check_probe_changes(changes)
        with self._cond:
            for name, fields in changes.items():
                self._probes.setdefault(name, {}).update(fields)

    # --- the trainer's side ----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    def take_lr(self) -> float | None:
        with self._cond:
            lr, self._lr = self._lr, None
            return lr

    def take_probes(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            changes, self._probes = self._probes, {}
            return changes

    def refund(self, n: int) -> None:
        """Give back single-step credit a chunk did not use (it ended at a reporting period
        before its allowance), so that step(n) takes n steps however the chunks fall."""
        with self._cond:
            if self._paused and not self._stopped and n > 0:
                self._credit += n

    def allowance(self) -> int | None:
        """Steps that may run now: None for no limit, 0 when stopped. Blocks while paused."""
        with self._cond:
            while self._paused and self._credit == 0 and not self._stopped:
                self._cond.wait()
            if self._stopped:
                return 0
            if self._paused:
                credit, self._credit = self._credit, 0
                return credit
            return None
