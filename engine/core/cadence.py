"""One rule for when something periodic happens: a period in steps, a ceiling in Hz, and a
share of wall time. Scalars, evaluations and every probe use it.

`due(step, now)`: the step is a multiple of the period (0: never), and since the last time
at least 1/max_hz seconds passed and, under a share, the last cost divided by the share
(what took 10 ms with a 5% share waits 200 ms). A held-back period is not lost: the next due
multiple takes its turn, and whatever accumulates in between travels then.
May import: stdlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Cadence:
    every: int  # steps between occurrences; 0: never
    max_hz: float | None = None  # wall-clock ceiling; None: strictly every `every` steps
    share: float | None = None  # most share of wall time (with a ceiling only)
    last_t: float = -math.inf
    cost_s: float = 0.0  # how long the last occurrence took

    def on_period(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def allows(self, now: float) -> bool:
        """The wall-clock part alone: the ceiling (and share) would let it happen now."""
        if self.max_hz is None:
            return True
        wait = 1 / self.max_hz
        if self.share is not None:
            wait = max(wait, self.cost_s / self.share)
        return now - self.last_t >= wait

    def due(self, step: int, now: float) -> bool:
        return self.on_period(step) and self.allows(now)

    def to_next(self, step: int) -> int | None:
        """Steps from `step` to the next period, None when off."""
        return self.every - step % self.every if self.every > 0 else None

    def mark(self, now: float, cost_s: float = 0.0) -> None:
        self.last_t, self.cost_s = now, cost_s
