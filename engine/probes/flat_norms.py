"""Per-parameter gradient norms from the fused step's flat gradient vector, at the least cost
per step (at batch 10 a step is ~40 µs and each NumPy call ~0.1-0.5 µs, so calls are what
count, and so do clock reads).

Two ways, picked by size: big vectors take one BLAS dot per parameter, whose total also
serves the step's finiteness check (so the norms cost little extra); small ones are copied
once per sampled step into a small block of rows, reduced a block at a time (a square and a
segment sum for up to BLOCK_ROWS steps, in place). Measured in the spiral net's loop, a
sampled step cost 1.7 µs more than an unsampled one with a row per sampled step of the chunk
and two clock reads a step; ~0.9 µs (±0.2) with the kept block, `[...] =` copies and one read
in TIME_EVERY steps.
May import: stdlib, numpy.
"""

from __future__ import annotations

from time import perf_counter

import numpy as np

BLOCK_ROWS = 64  # sampled steps reduced together ...
BLOCK_FLOATS = 65_536  # ... in a block of at most this many floats (256 KB, in L2)
# One copy in this many is timed, and counts for all: reading the clock waits for the
# pipeline to drain, which in the training loop cost more (~0.2 µs a read) than the copy
TIME_EVERY = 8
NAN = float("nan")


class FlatNormRecorder:
    def __init__(self, flat: np.ndarray, sizes: list[int]) -> None:
        self.flat = flat
        self.starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        self.slices = [flat[a:a + n] for a, n in zip(self.starts, sizes, strict=True)]
        # one dot per tensor reads the gradient once; for many small tensors a call per
        # tensor costs more than the arithmetic
        self.dots = flat.size > 1000 * len(sizes)
        self.rows = np.empty((0, len(sizes)), np.float32)  # (capacity, P) sums of squares
        rows = min(BLOCK_ROWS, max(BLOCK_FLOATS // flat.size, 1))
        block = 0 if self.dots else max(rows // TIME_EVERY, 1) * TIME_EVERY  # whole periods
        self.block = np.empty((block, flat.size), np.float32)  # copies not yet reduced
        self.block_rows = list(self.block)  # views made once, not once a step
        self.begin(0)

    def begin(self, n: int) -> None:
        """Room for n sampled steps, in buffers kept from chunk to chunk (a chunk of a tiny
        net is a millisecond: fresh buffers and views each time cost a µs a step)."""
        t0 = perf_counter()
        if n > len(self.rows):
            self.rows = np.empty((max(n, 2 * len(self.rows), 16), self.rows.shape[1]),
                                 np.float32)
        self.n = self.k = 0  # steps recorded; of which copied and not yet reduced
        self.seconds = perf_counter() - t0

    @property
    def total_ready(self) -> bool:
        """Whether `record` returns the sum of squares of the whole vector."""
        return self.dots

    def record(self) -> float:
        """Keep this step's norms; returns the total sum of squares when `total_ready`.
        On a tiny net this runs every step of ~40 µs: each attribute lookup counts."""
        if self.dots:
            return self.record_dots()
        k = self.k
        if k % TIME_EVERY:
            self.block_rows[k][...] = self.flat  # a third of np.copyto's cost at this size
        else:
            t0 = perf_counter()
            self.block_rows[k][...] = self.flat
            self.seconds += TIME_EVERY * (perf_counter() - t0)
        self.k = k + 1
        if k + 1 == len(self.block_rows):
            t0 = perf_counter()
            self.reduce_block()
            self.seconds += perf_counter() - t0
        return NAN

    def record_dots(self) -> float:
        # all of it counts: measured in place (784-256-256-10) the dots cost the step 22 µs
        # more than the one dot of the finiteness check they replace, not 0
        t0 = perf_counter()
        row = self.rows[self.n]
        for j, g in enumerate(self.slices):
            row[j] = np.vdot(g, g)
        self.n += 1
        self.seconds += perf_counter() - t0
        return float(row.sum(dtype=np.float64))

    def reduce_block(self) -> None:
        """The copied rows' per-parameter sums of squares, into `rows`."""
        k, n = self.k, self.n
        if k:
            sq = np.square(self.block[:k], out=self.block[:k])  # in place: half the cache
            np.add.reduceat(sq, self.starts, axis=1, out=self.rows[n:n + k])
            self.n, self.k = n + k, 0

    def norms(self) -> np.ndarray:
        """(n, P) float64 L2 norms of the recorded steps."""
        self.reduce_block()
        return np.sqrt(self.rows[:self.n].astype(np.float64))

    def result(self, sampled: list[bool]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The norms of the sampled steps among those done, (S, P), and their positions (S,);
        None and None when there are none. A failed step may have been recorded: its norms
        are dropped."""
        if not self.n and not self.k:
            return None, None
        t0 = perf_counter()
        positions = np.flatnonzero(sampled)
        norms = self.norms()[:len(positions)]
        self.seconds += perf_counter() - t0
        return (norms, positions) if len(positions) else (None, None)
