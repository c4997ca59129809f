"""The REST API's request and response models (RunCreate, RunPublic, ...) and run states.

May import: stdlib, pydantic, engine's public names.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine import Choice, NetworkSpec, RunSpec


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    paused = "paused"
    completed = "completed"
    stopped = "stopped"
    failed = "failed"
    interrupted = "interrupted"


ACTIVE = frozenset({RunStatus.queued, RunStatus.running, RunStatus.paused})
MAX_OFFSET = 1_000_000_000  # past SQLite's 64-bit integers an offset is an overflow, not a page


class Body(BaseModel):
    """A request body as the specs are: unknown fields and wrong types refused, numbers
    finite."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ErrorItem(BaseModel):
    """One located refusal: the node (if any), the field (if any) and why."""

    node: str | None = None
    field: str | None = None
    message: str


class Problem(BaseModel):
    """Every error response: what was wrong and what is expected, plus located errors."""

    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    runs_active: int
    workers: int = Field(description="Worker processes started or starting: busy, idle, or "
                         "still importing the engine.")
    workers_ready: int = Field(description="Idle workers that have imported the engine and "
                               "warmed up: a run posted now starts at once. Wait for it to "
                               "be >= 1 before timing a run.")


class Catalog(BaseModel):
    """Every registry's entries, each with its parameters' JSON Schema."""

    families: list[dict[str, Any]] = Field(
        default_factory=list, description="Model families, each with its network roles, the "
        "metrics it reports (name, title, split, chart, lower_is_better) and its probes.")
    layers: list[dict[str, Any]]
    datasets: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    losses: list[dict[str, Any]]
    optimizers: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    regularizers: list[dict[str, Any]]
    clippers: list[dict[str, Any]]
    initializers: list[dict[str, Any]]
    probes: list[dict[str, Any]]


class Preset(BaseModel):
    name: str
    title: str
    description: str
    spec: RunSpec


class GraphValidate(Body):
    """A graph to check, over a data set's input shape or an explicit one."""

    network: NetworkSpec
    data: Choice | None = None
    input_shape: list[Annotated[int, Field(ge=1, le=1_000_000)]] | None = Field(
        default=None, min_length=1, max_length=8,
        description="Per-example input shape, e.g. [2]; default: from `data`.")
    training: dict[str, Any] | None = Field(
        default=None, description="A run spec's training settings (of `schema_version`): "
        "with `data`, the loss, the task and the output width are checked too, located on "
        "the node they concern (e.g. binary cross-entropy on 4 outputs, on the output node). "
        "Settings that are themselves invalid are left to the run's creation to name.")
    family: Choice | None = None
    schema_version: Literal[1, 2] = Field(
        default=2, description="The version of the spec `training` comes from.")


class DatasetPoints(BaseModel):
    """A 2-D data set's raw points (before the feature transform), for drawing: train first,
    then test. Sets past `max_points` are thinned evenly within each split."""

    name: str
    task: str
    x: list[tuple[float, float]] = Field(description="(x1, x2) of each point.")
    y: list[int] | list[float] = Field(description="Class (classification) or target.")
    split: list[Literal["train", "test"]]
    extent: tuple[float, float, float, float] = Field(
        description="The plane drawn: (x_min, x_max, y_min, y_max).")
    total: int = Field(description="Points in the set before thinning.")
    max_points: int = Field(description="Most points an answer carries.")


class DatasetSamples(BaseModel):
    """The first training samples of an image set, for thumbnails: one row of C*H*W uint8
    pixels per image (0: the set's darkest value, 255: its brightest; 0.0 and 1.0 for every
    built-in set), as the `predictions` view sends its images."""

    sample_shape: tuple[int, int, int] = Field(description="One image's shape (C, H, W).")
    class_names: list[str] | None = Field(description="Each class's name by index; null for "
                                          "real-valued targets.")
    images: list[list[Annotated[int, Field(ge=0, le=255)]]] = Field(
        description="One row per image: its C*H*W pixels, channel by channel, row by row.")
    labels: list[int | None] = Field(description="Each image's class (null: not a class).")


class NetworkCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    network: NetworkSpec


class NetworkPublic(NetworkCreate):
    model_config = ConfigDict(strict=False)  # read back from the database

    id: str
    created_at: datetime
    updated_at: datetime


class NetworkPage(BaseModel):
    items: list[NetworkPublic]
    total: int
    limit: int
    offset: int


class RunCreate(RunSpec):
    """The body of POST /runs: a run spec, exactly as saved and shared."""


class RunPublic(BaseModel):
    id: str
    name: str | None
    status: RunStatus
    spec: RunSpec
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    step: int
    last_seq: int
    metrics: dict[str, float] | None
    failure_reason: str | None
    has_checkpoint: bool
    resumable: bool = Field(
        default=False, description="A stopped run with its trainer's state saved: POST "
        "/runs/{id}/resume goes on from where it stopped, with the losses an uninterrupted "
        "run would have had.")
    warnings: list[str] = Field(
        default_factory=list, description="What went wrong beside the training, oldest "
        "first, e.g. 'checkpoint not saved: ...' (the run's outcome is in `status`).")


class RunPage(BaseModel):
    items: list[RunPublic]
    total: int
    limit: int
    offset: int


class RunPatch(Body):
    """Mid-run edits: the base learning rate, probe settings, the pace (at least one)."""

    lr: float | None = Field(default=None, gt=0, le=100,
                             description="New base learning rate (schedules scale it).")
    probes: dict[str, dict[str, Any]] | None = Field(
        default=None, description="Per probe (see the catalog's probes), the fields to change; "
        "the others keep their current values. E.g. {\"histograms\": {\"every\": 10}}, "
        "{\"curvature\": {\"every\": 0}} (off), {\"weights\": {\"max_hz\": null}} "
        "(no ceiling).")
    pace: float | None = Field(default=None, gt=0, le=100_000, description="Steps per second "
                               "at most from now on; null: as fast as it goes.")

    @model_validator(mode="after")
    def _at_least_one(self) -> RunPatch:
        if self.lr is None and self.probes is None and "pace" not in self.model_fields_set:
            raise ValueError("give 'lr', 'probes', 'pace' or several")
        return self


class StepRequest(Body):
    n: int = Field(default=1, ge=1, le=100_000, description="Steps to take, then stay paused.")


class Series(BaseModel):
    """One metric's points in step order. Past max_points the series is decimated: per
    bucket of consecutive points its minimum and its maximum, plus the last point, so that
    spikes survive. Values are stored as float32."""

    steps: list[int]
    values: list[float]
    total: int = Field(description="Points stored before downsampling.")


class Metrics(BaseModel):
    run: str
    series: dict[str, Series]
