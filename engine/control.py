"""One thread-safe control object for a run: pause, resume, single step, stop, learning rate.

The trainer asks `allowance()` before each chunk of steps: it blocks while paused (until
resumed, stepped or stopped) and says how many steps may run now. Commands from any thread
take effect at the next chunk boundary.
May import: stdlib.
"""

from __future__ import annotations

import threading


class Control:
    def __init__(self, *, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._paused = paused
        self._stopped = False
        self._credit = 0
        self._lr: float | None = None

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

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def set_lr(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        with self._cond:
            self._lr = lr

    # --- the trainer's side ----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def take_lr(self) -> float | None:
        with self._cond:
            lr, self._lr = self._lr, None
            return lr

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
