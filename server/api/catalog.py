"""Health, the catalog of registries, presets and graph validation.

May import: fastapi, server modules, engine's public names.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

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
    SpecError,
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
    return inspect_graph(body.network, shape)
