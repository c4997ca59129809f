"""The family seam: what a model family declares, and the registry of families.

A family (supervised, autoencoder, later GAN, RBM...) says which networks it needs by role,
which metrics it reports, which probes apply to it, how its spec is checked beyond form, how
one step is computed (a `StepStrategy`) and how a run is evaluated. The training loop asks the
family for these and names no family itself; a new family is one module that registers one
entry in `FAMILIES`.
May import: stdlib, numpy, pydantic, engine modules below the trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from engine.core.errors import LocatedError
from engine.core.metrics import MetricInfo
from engine.core.registry import Params, Registry

if TYPE_CHECKING:  # the prepared run imports the registry; the types only are needed here
    from engine.core.run import Choices, PreparedRun
    from engine.core.specs import NetworkSpec, RunSpec
    from engine.core.steps import StepOutcome, StepStrategy
    from engine.data import Dataset, DataShape
    from engine.nn.graph import GraphReport


class NoParams(Params):
    pass


class Family:
    """Base of every family; subclasses override what differs. Instances are registered."""

    name: str = ""
    description: str = ""
    params: type[Params] = NoParams
    roles: tuple[str, ...] = ("model",)  # the networks it needs, by role
    optimizer_roles: tuple[str, ...] = ("model",)  # an optimizer for each of these
    # probe names that apply to this family (None: every probe whose data kind fits)
    probes: frozenset[str] | None = None

    def catalog_metrics(self) -> list[MetricInfo]:
        """Every metric this family can report (the run's own list may be shorter)."""
        return []

    def metrics(self, data: Dataset) -> list[MetricInfo]:
        """The metrics a run of this family on `data` reports."""
        return self.catalog_metrics()

    def network(self, spec: RunSpec, errors: list[LocatedError]) -> NetworkSpec | None:
        """The one graph the run trains, made of its networks by role (a family of several
        roles composes them); None, with located errors, when the roles do not fit."""
        check_roles(self, spec, errors)
        if set(spec.networks) != set(self.roles):
            return None
        return spec.networks[self.roles[0]]

    def check(self, spec: RunSpec, data: DataShape, report: GraphReport | None,
              choices: Choices | None, errors: list[LocatedError]) -> None:
        """Add located errors for what this family cannot train (beyond the spec's form)."""

    def cpu_reason(self, run: PreparedRun) -> str | None:
        """Why this run trains faster on the CPU than on a present GPU (None: use the GPU).
        The run is prepared on the CPU when this is asked."""
        return None

    def make_step(self, run: PreparedRun) -> StepStrategy:
        raise NotImplementedError

    def step_metrics(self, outcome: StepOutcome) -> dict[str, np.ndarray]:
        """The per-step metrics of a chunk (each one value per step done)."""
        return {"loss": outcome.losses}

    def evaluate(self, step: StepStrategy) -> dict[str, float]:
        """Whole-split metrics in evaluation mode; empty when a value is not finite (the
        next training step reports the divergence)."""
        return {}

    def applies(self, probe: str) -> bool:
        return self.probes is None or probe in self.probes

    def catalog_extra(self) -> dict[str, Any]:
        return {"roles": list(self.roles), "optimizer_roles": list(self.optimizer_roles),
                "metrics": [m.model_dump(mode="json") for m in self.catalog_metrics()],
                "probes": None if self.probes is None else sorted(self.probes)}


FAMILIES: Registry[Family] = Registry("family")


def check_roles(family: Family, spec: RunSpec, errors: list[LocatedError]) -> None:
    """The spec's networks and optimizers are those the family needs, by role."""
    for where, have, want in (("networks", spec.networks, family.roles),
                              ("training.optimizers", spec.training.optimizers,
                               family.optimizer_roles)):
        if set(have) != set(want):
            errors.append(LocatedError(None, where, f"family {family.name!r} needs "
                                       f"{', '.join(want)}; got {', '.join(have) or 'none'}"))


def finite_metrics(values: dict[str, float | None]) -> dict[str, float]:
    """The values that are numbers, or nothing at all when one of them is not finite."""
    found = {k: float(v) for k, v in values.items() if v is not None}
    return found if all(np.isfinite(v) for v in found.values()) else {}
