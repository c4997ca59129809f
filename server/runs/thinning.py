"""Thinned steps_completed for clients that asked for at most `points` values per metric per
event (the websocket's `points` parameter; the page asks for it): every stride-th step from
first_step, with the event's `stride` saying so. A fast run's event carries every step since
the last one, thousands of values, which a live chart of a few hundred pixels cannot show and
50 viewers would each receive (a 2-4-2-1 net at 170,000 steps/s makes 3 MB/s of JSON a
viewer); /metrics keeps every step, decimated by min/max on request.
May import: stdlib, orjson.
"""

from __future__ import annotations

import math
from typing import Any

import orjson


def thinned(ev: dict[str, Any], points: int) -> dict[str, Any] | None:
    """The event with at most `points` values per metric, or None when it has no more."""
    longest = max((len(v) for v in ev["metrics"].values()), default=0)
    if longest <= points:
        return None
    stride = math.ceil(longest / points)
    return {**ev, "metrics": {name: values[::stride] for name, values in ev["metrics"].items()},
            "stride": stride * int(ev.get("stride", 1))}


def thinned_text(ev: dict[str, Any], points: int, text: str) -> str:
    """`text` (the event's JSON) thinned to `points`, or itself when nothing is to thin."""
    thin = thinned(ev, points)
    return text if thin is None else orjson.dumps(thin).decode()
