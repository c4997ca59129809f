"""Health, the catalog of registries, presets and graph validation.

May import: fastapi, server modules, engine's public names.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from engine import (
    CLIPPERS,
    DATASETS,
    FAMILIES,
    INITIALIZERS,
    LAYERS,
    LOSSES,
    OPTIMIZERS,
    PROBES,
    REGULARIZERS,
    SCHEDULES,
    TASKS,
    GraphReport,
    LocatedError,
    RunSpec,
    SpecError,
    check_spec,
    describe_dataset,
    inspect_graph,
    presets,
)
from server.api.deps import RunsDep
from server.api.errors import ERRORS, SpecRefused
from server.api.schemas import Catalog, GraphValidate, Health, Preset

router = APIRouter(tags=["catalog"])


@router.get("/health", response_model=Health)
async def health(runs: RunsDep, request: Request) -> Health:
    """Whether the server is up, with its active runs and worker processes (ready ones)."""
    return Health(version=request.app.version, runs_active=runs.active_count(),
                  workers=runs.executor.workers(), workers_ready=runs.executor.workers_ready())


@router.get("/catalog", response_model=Catalog)
def catalog() -> Catalog:
    """Every model family, layer kind, data set, task, loss, optimizer, schedule, regularizer,
    initializer and probe, each with its parameters' JSON Schema."""
    return Catalog(
        families=FAMILIES.catalog(), layers=LAYERS.catalog(), datasets=DATASETS.catalog(),
        tasks=TASKS.catalog(),
        losses=LOSSES.catalog(), optimizers=OPTIMIZERS.catalog(), schedules=SCHEDULES.catalog(),
        regularizers=REGULARIZERS.catalog(), clippers=CLIPPERS.catalog(),
        initializers=INITIALIZERS.catalog(), probes=PROBES.catalog(),
    )


@router.get("/catalog/presets", response_model=list[Preset])
def list_presets() -> list[Preset]:
    """Ready-made run specs (xor, spiral, regression, digits...), each with what to look for."""
    return [Preset.model_validate(p) for p in presets()]


@router.post("/graphs/validate", response_model=GraphReport, responses=ERRORS)
def validate_graph(body: GraphValidate) -> GraphReport:
    """Shape inference over a graph: per node its output shape and parameters, or errors.
    Called on every edit: the data set's shape comes from its parameters, no sample is made."""
    if body.input_shape is not None:
        shape = tuple(body.input_shape)
    elif body.data is not None:
        try:
            shape = describe_dataset(body.data).input_shape
        except SpecError as exc:
            raise SpecRefused("the data set cannot be loaded", exc.errors) from exc
    else:
        why = "give `data` (a data set) or `input_shape` (e.g. [2]) to infer shapes from"
        raise SpecRefused(why, [LocatedError(None, "input_shape", why)])
    report = inspect_graph(body.network, shape)
    return with_training_errors(report, body) if body.training is not None else report


def with_training_errors(report: GraphReport, body: GraphValidate) -> GraphReport:
    """The report plus what the whole run spec's check finds beyond the graph (a loss that
    does not fit the output or the task): a run refused on Play is found while editing."""
    # version 1 names its one network `network`; version 2 names networks by role
    nets = {"network": body.network} if body.schema_version == 1 else \
        {"networks": {"model": body.network}}
    fields: dict[str, Any] = {"schema_version": body.schema_version, **nets,
                              "data": body.data, "training": body.training}
    if body.family is not None:
        fields["family"] = body.family
    try:
        spec = RunSpec.model_validate(fields)
    except ValidationError:
        return report  # a bad setting: its form names it, and creating the run refuses it
    errors, _ = check_spec(spec)
    extra = [e for e in errors if e not in report.errors]
    if not extra:
        return report
    return report.model_copy(update={"ok": False, "errors": [*report.errors, *extra]})
