"""The probe registry: one entry per probe, with its parameter model (a period in steps, a
ceiling in Hz and the probe's own settings), the events it emits, a factory and where it
applies. The built-in probes register in engine/probes/entries.py (their modules import the
parameter models defined here).

A run's `training.telemetry.probes` names entries here and overrides their defaults;
`probe_settings` validates them, and the catalog carries each entry's JSON Schema.
May import: stdlib, pydantic, engine.core.registry, engine.core.errors, engine.core.specs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from engine.core.errors import LocatedError, SpecError
from engine.core.registry import Params, Registry, parse_params
from engine.core.specs import TelemetrySpec


class ProbeParams(Params):
    every: int = Field(1, ge=0, le=1_000_000, description="Steps between samples (0: off).")
    max_hz: float | None = Field(
        None, gt=0, le=1000, description="Wall-clock ceiling on samples per second (none: "
        "strictly every `every` steps).")


class NormsParams(ProbeParams):
    every: int = Field(1, ge=0, le=1_000_000, description="Steps between gradient-norm samples "
                       "(0: off; warnings and the diagnosis trajectory need them).")
    max_hz: float | None = Field(10.0, gt=0, le=1000, description="Ceiling on norms_sampled "
                                 "events per second (the buffer's flush rate).")
    flush_every: int = Field(25, ge=1, le=1_000_000,
                             description="Steps the buffer holds at least before a flush.")
    max_points: int = Field(64, ge=1, le=100_000, description="Most sampled steps one event "
                            "carries: past it, an even spread from the oldest to the newest. "
                            "Every sampled step still feeds the warnings and the diagnosis.")
    window: int = Field(20, ge=2, le=10_000,
                        description="Samples over which growth counts as exploding.")
    explode_factor: float = Field(100.0, gt=1, le=1e30, description="Growth of a layer's "
                                  "gradient norm within the window that warns 'exploding'.")
    explode_floor: float = Field(1.0, ge=0, le=1e30, description="Norms below this never warn "
                                 "'exploding' (growth from near zero is not an explosion).")
    vanish_ratio: float = Field(1e-4, gt=0, lt=1, description="First layer's gradient norm "
                                "below this times the last's warns 'vanishing'.")
    keep: int = Field(64, ge=2, le=10_000,
                      description="Samples kept for the divergence diagnosis.")


class HistogramsParams(ProbeParams):
    every: int = Field(100, ge=0, le=1_000_000, description="Steps between histograms (0: off).")
    max_hz: float | None = Field(1.0, gt=0, le=1000, description="Ceiling on events per second.")
    bins: int = Field(32, ge=2, le=1024, description="Bins per histogram.")
    sample_size: int = Field(4096, ge=16, le=10_000_000, description="Tensors with more "
                             "elements are histogrammed on a fixed sample of this many.")


class ActivationsParams(ProbeParams):
    every: int = Field(50, ge=0, le=1_000_000, description="Steps between probe passes (0: off).")
    max_hz: float | None = Field(2.0, gt=0, le=1000, description="Ceiling on passes per second.")
    batch: int = Field(256, ge=1, le=65_536,
                       description="Training examples in the fixed probe batch (the first ones).")
    bins: int = Field(32, ge=2, le=1024, description="Bins per histogram.")
    sample_size: int = Field(4096, ge=16, le=10_000_000,
                             description="Outputs with more elements are histogrammed on a "
                             "fixed sample of this many.")
    tolerance: float = Field(0.02, gt=0, lt=0.5, description="Distance to an asymptote that "
                             "counts as saturated (sigmoid 0/1, tanh ±1).")


class NeuronMapsParams(ProbeParams):
    # every chunk may sample, and the ceiling paces it: above 20 Hz as the page draws it
    # (chunks of about 20 ms make a 30 Hz ceiling about 25 maps a second)
    every: int = Field(1, ge=0, le=1_000_000, description="Steps between maps (0: off).")
    max_hz: float | None = Field(30.0, gt=0, le=1000, description="Ceiling on maps per second.")
    resolution: int = Field(16, ge=2, le=128, description="Grid cells per side of each map.")
    max_units: int = Field(64, ge=1, le=4096,
                           description="Nodes wider than this are left out.")


class CurvatureParams(ProbeParams):
    every: int = Field(0, ge=0, le=1_000_000,
                       description="Steps between estimates (0: off; turn on to compare the "
                       "learning rate with 2/λ_max).")
    max_hz: float | None = Field(1.0, gt=0, le=1000, description="Ceiling on estimates per "
                                 "second.")
    batch: int = Field(256, ge=1, le=65_536,
                       description="Training examples the loss is taken over (the first ones).")
    iterations: int = Field(50, ge=1, le=1000, description="Most power-iteration steps.")
    tol: float = Field(1e-4, gt=0, lt=1, description="Relative change of λ that ends the "
                       "iteration early.")


class WeightsParams(ProbeParams):
    every: int = Field(25, ge=0, le=1_000_000, description="Steps between samples (0: off).")
    max_hz: float | None = Field(4.0, gt=0, le=1000, description="Ceiling on samples per "
                                 "second.")
    max_params: int = Field(20_000, ge=1, le=10_000_000, description="Models with more "
                            "parameters are not sampled (the frames would be too big to draw).")


class GridParams(ProbeParams):
    every: int = Field(1, ge=0, le=1_000_000, description="Steps between prediction grids over "
                       "the input plane (0: never). Default: training.telemetry.grid_every.")
    max_hz: float | None = Field(30.0, gt=0, le=1000, description="Ceiling on grids per second. "
                                 "Default: training.telemetry.grid_max_hz.")
    resolution: int = Field(64, ge=4, le=256, description="Grid cells per side. Default: "
                            "training.telemetry.grid_resolution.")


@dataclass(frozen=True)
class ProbeEntry:
    """One probe. `factory(context, params, previous)` makes the object that samples it (see
    engine/probes/telemetry.py: `sample(context)` returns one event's fields or None);
    `previous` is the probe it replaces after a mid-run change, so that what it learnt is kept.
    An object that records inside the steps (the gradient norms, the histograms' gradients)
    also has the recording hook (engine/probes/recording.py); a probe without a factory is
    never made. `data_kinds` and `families` say where it applies (None: everywhere);
    a `view` is part of what a family shows rather than an internal: it runs with probes
    off, is never throttled, and also samples on a single step and at the end; one that
    `redraws` (the weights, the neuron maps) samples again, as the views do, when a weight
    was set by hand, so that a paused page shows the edit."""

    name: str
    description: str
    params: type[ProbeParams]
    events: tuple[str, ...]
    factory: Callable[..., Any] | None = None
    data_kinds: frozenset[str] | None = None
    families: frozenset[str] | None = None
    view: bool = False
    redraws: bool = False

    @property
    def plane_only(self) -> bool:
        return self.data_kinds == frozenset({"plane"})

    def applies(self, family: str, data_kind: str) -> bool:
        return (self.families is None or family in self.families) \
            and (self.data_kinds is None or data_kind in self.data_kinds)

    def catalog_extra(self) -> dict[str, Any]:
        return {"events": list(self.events), "plane_only": self.plane_only, "view": self.view,
                "data_kinds": None if self.data_kinds is None else sorted(self.data_kinds),
                "families": None if self.families is None else sorted(self.families)}


PROBES: Registry[ProbeEntry] = Registry("probe")
PLANE = frozenset({"plane"})


WHERE = "training.telemetry.probes"  # where a probe's settings live in a run spec


def unknown_probes(names: list[str]) -> list[LocatedError]:
    return [LocatedError(None, f"{WHERE}.{name}", f"unknown probe {name!r}; known: "
                         f"{', '.join(PROBES.names())}") for name in names if name not in PROBES]


def probe_settings(tel: TelemetrySpec) -> dict[str, Any]:
    """Every probe's validated parameters (defaults where the spec names none); raises a
    located SpecError for unknown probes or bad values."""
    errors = unknown_probes(list(tel.probes))
    settings: dict[str, Any] = {}
    for entry in PROBES:
        asked = tel.probes.get(entry.name, {})
        if entry.name == "grid":  # version-1 specs set the grid in the telemetry itself
            asked = {"every": tel.grid_every, "max_hz": tel.grid_max_hz,
                     "resolution": tel.grid_resolution, **asked}
        try:
            settings[entry.name] = parse_params(entry, asked, node=None,
                                                where=f"{WHERE}.{entry.name}")
        except SpecError as exc:
            errors.extend(exc.errors)
    if errors:
        raise SpecError(errors)
    return settings


def changed_settings(current: dict[str, Any], changes: dict[str, dict[str, Any]]
                     ) -> dict[str, Any]:
    """The settings after a mid-run change: each named probe's fields merged onto its current
    parameters and validated as `probe_settings` validates them at the start (so that
    {"histograms": {"every": 10}} keeps the bins). Raises a located SpecError."""
    if not changes:
        raise SpecError([LocatedError(None, WHERE, "name at least one probe to change; "
                                      f"known: {', '.join(PROBES.names())}")])
    errors = unknown_probes(list(changes))
    settings = dict(current)
    for name, fields in changes.items():
        if name not in PROBES:
            continue
        if not isinstance(fields, dict):
            errors.append(LocatedError(None, f"{WHERE}.{name}", "expected an object of the "
                                       f"probe's fields, got {fields!r}"))
            continue
        merged = {**current[name].model_dump(), **fields}
        try:
            settings[name] = parse_params(PROBES.get(name), merged, node=None,
                                          where=f"{WHERE}.{name}")
        except SpecError as exc:
            errors.extend(exc.errors)
    if errors:
        raise SpecError(errors)
    return settings


def check_probe_changes(changes: dict[str, dict[str, Any]]) -> None:
    """Refuse, before it travels to a trainer, a change that no run can take: an unknown
    probe, field or bad value (located, e.g. `training.telemetry.probes.histograms.every`).
    Each field is checked on its own, so what passes here passes on any run's settings."""
    changed_settings(probe_settings(TelemetrySpec()), changes)
