"""The one cadence rule: a period in steps, a ceiling in Hz, a share of wall time."""

from __future__ import annotations

import math

from engine.core.cadence import Cadence


def test_period_alone_is_strict() -> None:
    c = Cadence(every=5)
    assert [s for s in range(1, 21) if c.due(s, 0.0)] == [5, 10, 15, 20]
    assert c.to_next(7) == 3 and Cadence(every=0).to_next(7) is None
    assert not any(Cadence(every=0).due(s, 0.0) for s in range(10))


def test_ceiling_holds_back_until_its_interval_passed() -> None:
    c = Cadence(every=1, max_hz=10)
    assert c.due(1, 0.0)  # never happened: due at once
    c.mark(0.0)
    assert not c.due(2, 0.05) and c.due(3, 0.1)


def test_share_stretches_the_wait_by_the_last_cost() -> None:
    c = Cadence(every=1, max_hz=1000, share=0.05)
    c.mark(1.0, cost_s=0.01)  # 10 ms at a 5% share: wait 200 ms, not the ceiling's 1 ms
    assert not c.allows(1.1) and c.allows(1.2 + 1e-9)
    assert Cadence(every=1).last_t == -math.inf
