"""Per-parameter gradient norms from the fused step's flat gradient vector, at the least cost
per step (at batch 10 a step is ~50 µs and each NumPy call ~1 µs, so calls are what count).

Three ways, picked by size: big vectors take one BLAS dot per parameter, whose total also
serves the step's finiteness check (so the norms cost little extra); small ones are copied
once per sampled step and reduced for the whole chunk at its end (one call per step); when a
chunk's copies would be too big, a square and a segment sum per step.
May import: stdlib, numpy.
"""

from __future__ import annotations

from time import perf_counter

import numpy as np

COPY_BUDGET = 4_000_000  # floats a chunk may copy (16 MB)
NAN = float("nan")


class FlatNormRecorder:
    def __init__(self, flat: np.ndarray, sizes: list[int]) -> None:
        self.flat = flat
        self.starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        self.slices = [flat[a:a + n] for a, n in zip(self.starts, sizes, strict=True)]
        self.sq = np.empty(0, np.float32)
        # one dot per tensor reads the gradient once; for many small tensors a call per
        # tensor costs more than the arithmetic
        self.dots = flat.size > 1000 * len(sizes)
        self.rows = np.empty((0, len(sizes)), np.float32)  # (capacity, P) sums of squares
        self.copies = self.squares = np.empty((0, flat.size), np.float32)
        self.copy_rows: list[np.ndarray] = []
        self.begin(0)

    def begin(self, n: int) -> None:
        """Room for n sampled steps, in buffers kept from chunk to chunk (a chunk of a tiny
        net is a millisecond: fresh buffers and views each time cost a µs a step)."""
        t0 = perf_counter()
        size = self.flat.size
        if n > len(self.rows):
            self.rows = np.empty((max(n, 2 * len(self.rows), 16), self.rows.shape[1]),
                                 np.float32)
        self.copying = not self.dots and n * size <= COPY_BUDGET
        if self.copying and n > len(self.copy_rows):
            cap = min(max(n, 2 * len(self.copy_rows), 16), COPY_BUDGET // size)
            self.copies = np.empty((cap, size), np.float32)
            self.squares = np.empty_like(self.copies)
            self.copy_rows = list(self.copies)  # views made once, not once a step
        if not self.copying and self.sq.size != size:
            self.sq = np.empty_like(self.flat)
        self.n, self.seconds = 0, perf_counter() - t0

    @property
    def total_ready(self) -> bool:
        """Whether `record` returns the sum of squares of the whole vector."""
        return self.dots

    def record(self) -> float:
        """Keep this step's norms; returns the total sum of squares when `total_ready`.
        On a tiny net this runs every step of ~50 µs: each attribute lookup counts."""
        t0 = perf_counter()
        n = self.n
        self.n = n + 1
        total = NAN
        if self.copying:
            np.copyto(self.copy_rows[n], self.flat)
        elif self.dots:
            row = self.rows[n]
            for j, g in enumerate(self.slices):
                row[j] = np.vdot(g, g)
            total = float(row.sum(dtype=np.float64))
        else:
            np.multiply(self.flat, self.flat, out=self.sq)
            np.add.reduceat(self.sq, self.starts, out=self.rows[n])
        # all of it counts, the dots too: measured in place (784-256-256-10) they cost the
        # step 22 µs more than the one dot of the finiteness check they replace, not 0
        self.seconds += perf_counter() - t0
        return total

    def norms(self) -> np.ndarray:
        """(n, P) float64 L2 norms of the recorded steps."""
        t0 = perf_counter()
        if self.copying and self.n:
            sq = np.square(self.copies[:self.n], out=self.squares[:self.n])
            np.add.reduceat(sq, self.starts, axis=1, out=self.rows[:self.n])
        out = np.sqrt(self.rows[:self.n].astype(np.float64))
        self.seconds += perf_counter() - t0
        return out
