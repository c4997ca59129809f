"""Scalar metric series: the manager's buffer of new points, the chunk a database row holds,
and the min/max decimation that answers /metrics.

A chunk is one metric of one run over steps first_step..last_step: `count` float32
little-endian values, and their steps: none stored when they are evenly spaced (every step,
or every k-th), else an int32 (int64 if needed) little-endian array. A per-step metric thus
costs 4 bytes a step; a per-event one (lr, evaluations) 4 or 8.
Decimation keeps, per bucket of consecutive points, the minimum and the maximum (plus the
last point), so that a spike survives any `max_points` (anchors: telemetry practice).
Metric names are free: whatever a run reports is stored under its own name.
May import: stdlib, numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CHUNK_POINTS = 4096  # a chunk shorter than this grows by the next writes (rewritten in place)
F32 = np.dtype("<f4")
I32, I64 = np.dtype("<i4"), np.dtype("<i8")
Key = tuple[str, str]  # (run id, metric name)


class SeriesBuffer:
    """New points per (run, metric), in arrival order; the event loop's alone."""

    def __init__(self) -> None:
        self.points: dict[Key, tuple[list[int], list[float]]] = {}

    def _of(self, run_id: str, name: str) -> tuple[list[int], list[float]]:
        found = self.points.get((run_id, name))
        if found is None:
            found = self.points[(run_id, name)] = ([], [])
        return found

    def add(self, run_id: str, name: str, step: int, value: float) -> None:
        steps, values = self._of(run_id, name)
        steps.append(step)
        values.append(value)

    def extend(self, run_id: str, name: str, first_step: int, values: Sequence[float]) -> None:
        """One value per step first_step, first_step + 1, ..."""
        steps, held = self._of(run_id, name)
        steps.extend(range(first_step, first_step + len(values)))
        held.extend(values)

    def take(self) -> dict[Key, tuple[list[int], list[float]]]:
        points, self.points = self.points, {}
        return points

    def __len__(self) -> int:
        return sum(len(steps) for steps, _ in self.points.values())


@dataclass(frozen=True)
class Chunk:
    first_step: int
    last_step: int
    count: int
    values: bytes  # float32 little-endian
    steps: bytes | None  # None: evenly spaced from first_step to last_step

    def value_array(self) -> np.ndarray:
        return np.frombuffer(self.values, dtype=F32)

    def step_array(self) -> np.ndarray:
        if self.steps is not None:
            return np.frombuffer(self.steps, dtype=I64 if len(self.steps) == 8 * self.count
                                 else I32).astype(np.int64)
        return self.first_step + np.arange(self.count, dtype=np.int64) * self.stride()

    def stride(self) -> int:
        """The spacing of evenly spaced steps (0 when the steps are stored)."""
        if self.steps is not None:
            return 0
        return (self.last_step - self.first_step) // (self.count - 1) if self.count > 1 else 1


def finite(steps: Sequence[int], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The points as arrays (int64 steps, float32 values), non-finite ones left out: the
    engine reports a divergence with run_failed, not with the series, and JSON has no NaN."""
    s = np.asarray(steps, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64).astype(F32)
    keep = np.isfinite(v)
    return (s, v) if keep.all() else (s[keep], v[keep])


def encode(steps: np.ndarray, values: np.ndarray) -> Chunk:
    """A chunk of one or more points (steps in order)."""
    first, last, n = int(steps[0]), int(steps[-1]), len(steps)
    even = n == 1 or (last > first and (last - first) % (n - 1) == 0 and np.array_equal(
        steps, first + np.arange(n, dtype=np.int64) * ((last - first) // (n - 1))))
    packed = None
    if not even:
        wide = steps.min() < np.iinfo(I32).min or steps.max() > np.iinfo(I32).max
        packed = steps.astype(I64 if wide else I32).tobytes()
    return Chunk(first, last, n, values.astype(F32).tobytes(), packed)


# --- reading -----------------------------------------------------------------------------------

def minmax_indices(values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices (ascending) of each bucket's minimum and maximum plus the last point: at most
    max_points of them; all of them when there are no more than max_points."""
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    buckets = (max_points - 1) // 2
    if buckets == 0:
        return np.array([0, n - 1][-max_points:])
    m = n - 1  # the last point is kept on its own
    width = -(-m // buckets)
    full = m // width
    body = values[:full * width].reshape(full, width)  # a view: no copy of 10^6 values
    base = np.arange(full) * width
    picks = [base + body.argmin(axis=1), base + body.argmax(axis=1), [n - 1]]
    if full * width < m:
        tail = values[full * width:m]
        picks.append([full * width + int(tail.argmin()), full * width + int(tail.argmax())])
    return np.unique(np.concatenate(picks).astype(np.int64))


def reduce(chunks: Sequence[Chunk], max_points: int) -> tuple[list[int], list[float], int]:
    """One series' chunks (ordered by first_step) decimated to at most max_points points:
    (steps, values, points stored)."""
    if not chunks:
        return [], [], 0
    values = np.concatenate([c.value_array() for c in chunks])
    firsts = np.array([c.first_step for c in chunks])
    lasts = np.array([c.last_step for c in chunks])
    if len(chunks) > 1 and not (firsts[1:] > lasts[:-1]).all():
        steps = np.concatenate([c.step_array() for c in chunks])  # overlapping: sort them
        order = np.argsort(steps, kind="stable")
        steps, values = steps[order], values[order]
        keep = minmax_indices(values, max_points)
        return steps[keep].tolist(), as_floats(values[keep]), len(values)
    keep = minmax_indices(values, max_points)
    return steps_at(chunks, keep).tolist(), as_floats(values[keep]), len(values)


def steps_at(chunks: Sequence[Chunk], index: np.ndarray) -> np.ndarray:
    """The steps of points `index` (into the chunks' values end to end), without building
    the steps of every point."""
    offsets = np.cumsum([0] + [c.count for c in chunks])
    which = np.searchsorted(offsets, index, side="right") - 1
    first = np.array([c.first_step for c in chunks], dtype=np.int64)
    stride = np.array([c.stride() for c in chunks], dtype=np.int64)
    out = first[which] + (index - offsets[which]) * stride[which]
    for ci in np.unique(which[stride[which] == 0]):  # stored steps: sparse series, few chunks
        mine = which == ci
        out[mine] = chunks[ci].step_array()[index[mine] - offsets[ci]]
    return out


def as_floats(values: np.ndarray) -> list[float]:
    """float32 values as the shortest decimals that read back as the same float32 (0.03,
    not 0.029999999329447746), vectorised: the fewest significant digits that round-trip."""
    x = values.astype(np.float64)
    out = x.copy()
    done = (x == 0) | ~np.isfinite(x)
    exp = np.floor(np.log10(np.abs(np.where(done, 1.0, x))))
    with np.errstate(over="ignore", invalid="ignore"):
        for digits in range(1, 10):
            if done.all():
                break
            places = digits - 1 - exp  # exact powers of ten up to 1e22
            scale = 10.0 ** np.minimum(np.abs(places), 22)
            up = places >= 0
            r = np.where(up, np.round(x * scale) / scale, np.round(x / scale) * scale)
            hit = ~done & (np.abs(places) <= 22) & (r.astype(F32) == values)
            out[hit] = r[hit]
            done |= hit
    return out.tolist()
