"""The built-in probes that record inside the steps, as registry entries with factories: the
gradient norms and the histograms (whose gradients are those a step applied).

Their objects have the recording hook (recording.py). They register before every other probe
(engine/probes/__init__.py imports this module first): the hub samples the probes of a chunk
in registry order, the norms and their warnings first, and the catalog lists them first.
May import: stdlib, the probes' own modules below the hub (not engine.core.prepare: the families,
which register their views, import the probes' registry while prepare loads).
"""

from __future__ import annotations

from typing import Any

from engine.probes.histograms import HistogramsProbe
from engine.probes.norms import NormsProbe
from engine.probes.registry import PROBES, HistogramsParams, NormsParams, ProbeEntry


def norms(ctx: Any, p: NormsParams, old: NormsProbe | None) -> NormsProbe:
    return NormsProbe(p, ctx.table) if old is None else old.changed(p)


def histogram_probe(ctx: Any, p: HistogramsParams, _old: Any) -> HistogramsProbe:
    return HistogramsProbe(p, ctx.table)


PROBES.register(ProbeEntry(
    "norms", "Per parameter: the gradient's L2 norm every step (before clipping), and at each "
    "flush the weight norm and the update-to-weight ratio ‖Δw‖/‖w‖. Feeds the exploding and "
    "vanishing warnings and the divergence diagnosis.", NormsParams, ("norms_sampled", "warning"),
    factory=norms))
PROBES.register(ProbeEntry(
    "histograms", "Histograms of every weight and gradient tensor (big ones on a fixed sample).",
    HistogramsParams, ("histograms_sampled",), factory=histogram_probe))
