"""The histograms probe: every weight and gradient tensor as a histogram, on its period.

The gradients are those the step applied (after clipping): the probe asks the chunk that
ends on a due step to capture its last step's gradients (the recording hook, recording.py)
and is sampled right after it. Big tensors are histogrammed on a fixed sample (stats.Sampler).
May import: stdlib, engine.core.events and the probes' own modules.
"""

from __future__ import annotations

from typing import Any

from engine.core.events import Event, HistogramsSampled
from engine.probes.recording import Needs, NextChunk, RecordedChunk
from engine.probes.registry import HistogramsParams
from engine.probes.stats import ParamTable, Sampler, histograms

EventFields = tuple[type[Event], dict[str, Any]]


class HistogramsProbe:
    active = True

    def __init__(self, params: HistogramsParams, table: ParamTable) -> None:
        self.p, self.table = params, table
        self.sampler = Sampler(params.sample_size)

    def needs(self, chunk: NextChunk) -> Needs | None:
        return Needs(capture=True, sample=True) if chunk.due else None

    def consume(self, chunk: RecordedChunk) -> None:
        """Nothing to keep: the captured gradients stay with the strategy until sampled."""

    def sample(self, ctx: Any) -> EventFields:
        grads = ctx.strategy.captured_grads() or []
        names = self.table.names
        return HistogramsSampled, {
            "type": "histograms_sampled",
            "weights": histograms(names, ctx.weights_now(), self.p.bins, self.sampler),
            "grads": histograms(names[:len(grads)], grads, self.p.bins, self.sampler)}
