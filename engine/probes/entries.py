"""The built-in probes that sample between chunks, as registry entries with factories: the
activation pass, per-neuron maps, the network's weights, curvature and the prediction grid
(those that record inside the steps register in in_step.py).

Each factory makes an object with `sample(context) -> (event model, fields) | None` and an
`active` flag (False: nothing to show on this run, e.g. a model too big to draw). One that
records inside the steps also has the recording hook (`needs`, `consume`: recording.py). A new
probe is one `PROBES.register(ProbeEntry(..., factory=...))`, here or in a module of its own.
May import: stdlib, engine modules below the trainer, the probes' own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.core.events import Event
from engine.core.run import PreparedRun
from engine.probes.curvature import CurvatureProbe
from engine.probes.grid import grid_event
from engine.probes.passes import ActivationsProbe, NeuronMapsProbe
from engine.probes.registry import (
    PLANE,
    PROBES,
    ActivationsParams,
    CurvatureParams,
    GridParams,
    NeuronMapsParams,
    ProbeEntry,
    WeightsParams,
)
from engine.probes.stats import ParamTable
from engine.probes.weights import WeightsProbe

EventFields = tuple[type[Event], dict[str, Any]]


@dataclass
class ProbeContext:
    """What a probe may read when it samples. `readings` are values probes share with the
    hub and each other (e.g. 'lambda_max' for the learning-rate warning and the diagnosis)."""

    run: PreparedRun
    strategy: Any  # the run's StepStrategy
    table: ParamTable
    weights_now: Callable[[], list[Any]]
    readings: dict[str, float] = field(default_factory=dict)
    lr: float = 0.0  # the learning rate at the sampled step
    step: int = 0  # ... the step count there
    now: float = 0.0  # ... and perf_counter() as the probes after that chunk began


class Sampler:
    """A probe object and how the hub's `sample(context)` calls it."""

    def __init__(self, probe: Any, call: Callable[[Any, ProbeContext], EventFields | None]):
        self.probe, self.call = probe, call
        self.active = bool(getattr(probe, "active", True))

    def sample(self, ctx: ProbeContext) -> EventFields | None:
        return self.call(self.probe, ctx)


def activations(ctx: ProbeContext, p: ActivationsParams, _old: Any) -> Sampler:
    return Sampler(ActivationsProbe(ctx.run, p, ctx.strategy.node_outputs),
                   lambda probe, _c: probe.sample())


def neuron_maps(ctx: ProbeContext, p: NeuronMapsParams, _old: Any) -> Sampler:
    return Sampler(NeuronMapsProbe(ctx.run, p, ctx.strategy.node_outputs),
                   lambda probe, _c: probe.sample())


def weights(ctx: ProbeContext, p: WeightsParams, _old: Any) -> Sampler:
    return Sampler(WeightsProbe(ctx.run, p, ctx.table),
                   lambda probe, c: probe.sample(c.weights_now()))


def curvature(ctx: ProbeContext, p: CurvatureParams, old: Sampler | None) -> Sampler:
    probe = CurvatureProbe(ctx.run, p)
    if old is not None:
        probe.last = old.probe.last  # the last λ_max outlives a settings change

    def call(pr: CurvatureProbe, c: ProbeContext) -> EventFields | None:
        fields = pr.sample(c.lr)
        if pr.last is not None:
            c.readings["lambda_max"] = pr.last
        return fields

    return Sampler(probe, call)


def grid(ctx: ProbeContext, p: GridParams, _old: Any) -> Sampler:
    return Sampler(p, lambda params, c: grid_event(c.run, c.strategy, params.resolution))


PROBES.register(ProbeEntry(
    "activations", "A separate eval-mode pass on a fixed batch: each layer output's mean, "
    "standard deviation and histogram, dead ReLU units and saturated sigmoid/tanh outputs.",
    ActivationsParams, ("activations_sampled",), factory=activations))
# a view, as the grid: the network drawing's heatmaps are what the page shows of a plane run
# (run with probes off, never throttled, sampled on a single step), not an internal
PROBES.register(ProbeEntry(
    "neuron_maps", "Every node's units over the input plane (the input's features, each "
    "hidden unit, the raw outputs), as TensorFlow Playground draws one on each neuron.",
    NeuronMapsParams, ("neuron_maps_computed",), factory=neuron_maps, data_kinds=PLANE,
    view=True))
PROBES.register(ProbeEntry(
    "weights", "Every linear layer's weight matrix and bias, for small models: the network "
    "drawing's links, coloured and sized by weight, as training moves them.", WeightsParams,
    ("weights_sampled",), factory=weights, redraws=True))
PROBES.register(ProbeEntry(
    "curvature", "The largest eigenvalue λ_max of the loss's Hessian by power iteration on "
    "Hessian-vector products; plain gradient descent diverges for lr > 2/λ_max.",
    CurvatureParams, ("curvature_estimated", "warning"), factory=curvature,
    families=frozenset({"supervised"})))
PROBES.register(ProbeEntry(
    "grid", "The model's output over the input plane: the decision boundary (classes) or the "
    "regression surface.", GridParams, ("grid_computed",), factory=grid, data_kinds=PLANE,
    families=frozenset({"supervised"}), view=True))
