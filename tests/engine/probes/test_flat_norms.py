"""The fused step's gradient-norm recorder against torch.linalg.vector_norm of each parameter's
slice, in both of its ways (a dot per tensor; copies reduced a block at a time), across block
boundaries and from chunk to chunk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.probes import flat_norms
from engine.probes.flat_norms import FlatNormRecorder


def recorded(sizes: list[int], chunks: list[int], seed: int = 0
             ) -> tuple[FlatNormRecorder, list[np.ndarray], list[np.ndarray]]:
    """Record `chunks[i]` random gradients in chunk i; the norms per chunk, and the oracle's."""
    rng = np.random.default_rng(seed)
    flat = np.zeros(sum(sizes), np.float32)
    rec = FlatNormRecorder(flat, sizes)
    got, want = [], []
    for n in chunks:
        rec.begin(n)
        expected = []
        for _ in range(n):
            flat[:] = rng.normal(0, rng.uniform(0.01, 100), flat.size)
            totals = rec.record()
            parts = torch.from_numpy(flat.copy()).split(sizes)
            expected.append([float(torch.linalg.vector_norm(p.double())) for p in parts])
            if rec.total_ready:
                assert totals == pytest.approx(sum(v * v for v in expected[-1]), rel=1e-5)
        got.append(rec.norms())
        want.append(np.array(expected).reshape(n, len(sizes)))
    return rec, got, want


@pytest.mark.parametrize("chunks", [[1], [63, 64, 65], [200, 3, 0, 130]])
def test_copied_norms_equal_torch_across_blocks_and_chunks(chunks: list[int]) -> None:
    rec, got, want = recorded([16, 8, 64, 8, 9], chunks)
    assert not rec.total_ready and len(rec.block_rows) == flat_norms.BLOCK_ROWS
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-5)


@pytest.mark.parametrize(("floats", "rows"), [(120 * 17, 16), (250, 8)])
def test_a_block_shrinks_to_whole_timing_periods_that_fit(
        monkeypatch: pytest.MonkeyPatch, floats: int, rows: int) -> None:
    monkeypatch.setattr(flat_norms, "BLOCK_FLOATS", floats)
    rec, got, want = recorded([60, 40, 20], [37, 2, 16])
    assert len(rec.block_rows) == rows and rows % flat_norms.TIME_EVERY == 0
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5)


def test_one_copy_in_time_every_is_timed_and_counts_for_all(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter(range(10_000))
    monkeypatch.setattr(flat_norms, "perf_counter", lambda: float(next(ticks)))
    rec = FlatNormRecorder(np.ones(10, np.float32), [4, 6])
    rec.begin(20)
    for _ in range(20):  # copies 0, 8 and 16 read the clock: 1 s each, counted 8 times
        rec.record()
    assert rec.seconds == 1 + 3 * flat_norms.TIME_EVERY  # begin read the clock twice too
    np.testing.assert_allclose(rec.norms(), np.sqrt([[4, 6]] * 20))


def test_big_tensors_take_a_dot_each_and_give_the_total() -> None:
    rec, got, want = recorded([3000, 50, 2000], [5, 1])
    assert rec.total_ready
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5)
