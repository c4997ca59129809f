"""The closed, past-tense event vocabulary of a run, as pydantic models keyed by `type`.

Every event carries `run`, `seq` (monotonic per run), `step` (optimizer steps done),
`epoch` (whole epochs done) and `t` (seconds since the run started). Values are plain
numbers and lists, never tensors, and never NaN: a non-finite value ends the run with
`run_failed` instead.
May import: stdlib, pydantic, engine.graph, engine.specs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from engine.graph import GraphReport
from engine.specs import RunSpec


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str
    run: str
    seq: int
    step: int
    epoch: int
    t: float


class RunStarted(Event):
    type: Literal["run_started"] = "run_started"
    spec: RunSpec
    graph: GraphReport
    data: dict[str, Any]
    device: str
    strategy: str = Field(description="'fused_mlp' (NumPy fast path) or 'autograd'.")
    steps_per_epoch: int
    total_steps: int


class StepsCompleted(Event):
    """Steps first_step..step, one loss (and batch accuracy) per step, in order."""

    type: Literal["steps_completed"] = "steps_completed"
    first_step: int
    loss: list[float]
    accuracy: list[float] | None = None
    lr: float


class EvalCompleted(Event):
    """Loss and accuracy over the whole train and test splits, in evaluation mode."""

    type: Literal["eval_completed"] = "eval_completed"
    train_loss: float
    test_loss: float
    train_accuracy: float | None = None
    test_accuracy: float | None = None


class GridComputed(Event):
    """The model's output over the input plane, row-major from the top-left (x_min, y_max).

    mode 'binary': a score in [-1, 1] for class 1; 'classes': the predicted class, with the
    winning probability in `confidence`; 'value': the regression output.
    """

    type: Literal["grid_computed"] = "grid_computed"
    resolution: int
    extent: tuple[float, float, float, float]
    mode: Literal["binary", "classes", "value"]
    values: list[float]
    confidence: list[float] | None = None


class RunPaused(Event):
    type: Literal["run_paused"] = "run_paused"


class RunResumed(Event):
    type: Literal["run_resumed"] = "run_resumed"


class LrChanged(Event):
    type: Literal["lr_changed"] = "lr_changed"
    lr: float = Field(description="The new base learning rate (the schedule multiplies it).")


class RunCompleted(Event):
    type: Literal["run_completed"] = "run_completed"
    metrics: dict[str, float]


class RunStopped(Event):
    type: Literal["run_stopped"] = "run_stopped"
    metrics: dict[str, float]


class RunFailed(Event):
    """Why the run ended early. For divergence: the step, the first non-finite quantity
    (`where`: 'loss' or 'gradient'), the layer where it began and the last finite values."""

    type: Literal["run_failed"] = "run_failed"
    reason: str
    error: str = Field(description="'divergence', 'spec' or the exception's class name.")
    began_at_step: int | None = None
    where: Literal["loss", "gradient"] | None = None
    layer: str | None = Field(
        default=None, description="Node id: the first layer whose output (for the loss) or "
        "gradient went non-finite; the output node when only the loss overflowed.")
    last_finite: dict[str, float] = Field(default_factory=dict)


AnyEvent = Annotated[
    RunStarted | StepsCompleted | EvalCompleted | GridComputed | RunPaused | RunResumed
    | LrChanged | RunCompleted | RunStopped | RunFailed,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyEvent)
EVENT_TYPES: tuple[str, ...] = (
    "run_started", "steps_completed", "eval_completed", "grid_computed", "run_paused",
    "run_resumed", "lr_changed", "run_completed", "run_stopped", "run_failed",
)
TERMINAL_TYPES = frozenset({"run_completed", "run_stopped", "run_failed"})


def parse_event(data: dict[str, Any] | str | bytes) -> Event:
    """An event from its JSON (a dict or text), validated against its own model."""
    if isinstance(data, str | bytes):
        return EVENT_ADAPTER.validate_json(data)  # type: ignore[no-any-return]
    return EVENT_ADAPTER.validate_python(data)  # type: ignore[no-any-return]
