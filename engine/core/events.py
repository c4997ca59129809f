"""The closed, past-tense event vocabulary of a run, as pydantic models keyed by `type`.

Every event carries `run`, `seq` (monotonic per run), `step` (optimizer steps done),
`epoch` (whole epochs done) and `t` (seconds since the run started). Values are plain
numbers and lists (heavy payloads: NumPy arrays in fields declared with engine.core.arrays.Array),
never tensors, and never NaN: a non-finite value ends the run with `run_failed` instead.
May import: stdlib, numpy, pydantic, engine.core.arrays, engine.nn.graph, engine.core.metrics,
engine.core.specs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from engine.core.arrays import Array
from engine.core.metrics import MetricInfo
from engine.core.specs import RunSpec
from engine.nn.graph import GraphReport

E = TypeVar("E", bound="Event")


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
    device_reason: str = Field(default="", description="Why the run trains on `device`.")
    strategy: str = Field(description="How a step is computed, e.g. 'fused_mlp' (the NumPy "
                          "fast path) or 'autograd'.")
    family: str = Field(default="supervised", description="The run's model family.")
    metrics: list[MetricInfo] = Field(
        default_factory=list, description="What the run reports, by name: steps_completed "
        "carries the 'batch' ones, eval_completed the 'train' and 'test' ones.")
    steps_per_epoch: int
    total_steps: int
    resumed_at: int | None = Field(default=None, description="The step a resumed run went on "
                                   "from (its checkpoint's); None for a fresh run.")


class StepsCompleted(Event):
    """Steps first_step..step: per named metric (the family's 'batch' metrics, listed in
    run_started.metrics), one value per step, in order."""

    type: Literal["steps_completed"] = "steps_completed"
    first_step: int
    metrics: dict[str, list[float]] = Field(
        description="Per metric name, one value per step first_step..step, e.g. "
        "{'loss': [...], 'accuracy': [...]}, or per stride-th step from first_step.")
    lr: float
    stride: int = Field(
        default=1, ge=1,
        description="Steps between consecutive values: 1 from the engine; more in a thinned "
        "stream (the websocket's points parameter), whose values are those of steps "
        "first_step, first_step + stride, ...")


class EvalCompleted(Event):
    """The family's whole-split metrics in evaluation mode (its 'train' and 'test' metrics,
    listed in run_started.metrics), e.g. {'test_loss': 0.3, 'test_accuracy': 0.9}."""

    type: Literal["eval_completed"] = "eval_completed"
    metrics: dict[str, float]


class GridComputed(Event):
    """The model's output over the input plane, row-major from the top-left (x_min, y_max).

    mode 'binary': a score in [-1, 1] for class 1; 'classes': the predicted class, with the
    winning probability in `confidence`; 'value': the regression output.
    """

    type: Literal["grid_computed"] = "grid_computed"
    resolution: int
    extent: tuple[float, float, float, float]
    mode: Literal["binary", "classes", "value"]
    values: Annotated[np.ndarray, Array("float32", ("R", "R"))] = Field(
        description="(R, R): the score, the class index or the output at each point.")
    confidence: Annotated[np.ndarray, Array("float32", ("R", "R"))] | None = None


class Histogram(BaseModel):
    """Counts in `len(counts)` equal bins over [lo, hi] (the last bin includes hi). Tensors
    past the probe's sample size are histogrammed on a fixed index set: `sampled` is then
    true and `size` is the whole tensor's element count."""

    model_config = ConfigDict(frozen=True)

    name: str
    lo: float
    hi: float
    counts: list[int]
    sampled: bool = False
    size: int


class NormsSampled(Event):
    """Per parameter tensor: the gradient's L2 norm (before clipping) at each sampled step
    since the last such event, and at `step`, the weight norm and ‖Δw‖/‖w‖ of that step."""

    type: Literal["norms_sampled"] = "norms_sampled"
    params: list[str] = Field(description="Parameter names, 'node.weight', in forward order.")
    layers: list[str] = Field(description="The node id of each parameter.")
    steps: list[int] = Field(description="The sampled steps, oldest first (past the probe's "
                             "max_points since the last event, an even spread of them).")
    grad_norm: list[list[float]] = Field(
        description="(params, steps): ‖∂L/∂p‖ before clipping; an overflow reads 3.4e38.")
    weight_norm: list[float] | None = Field(default=None, description="‖w‖ after `step`.")
    update_ratio: list[float] | None = Field(
        default=None, description="‖Δw‖/‖w‖ of step `step` (Δw: what the step changed).")


class HistogramsSampled(Event):
    """Weights and gradients (those the last step applied, after clipping) per parameter."""

    type: Literal["histograms_sampled"] = "histograms_sampled"
    weights: list[Histogram]
    grads: list[Histogram]


class LayerActivations(BaseModel):
    """One node's output on the probe batch (eval mode, no grad)."""

    model_config = ConfigDict(frozen=True)

    node: str
    kind: str
    units: int = Field(description="Features (dim 1) of the output.")
    mean: float
    std: float = Field(description="Population standard deviation over all elements.")
    hist: Histogram
    dead_fraction: float | None = Field(
        default=None, description="ReLU: share of units that are zero on every probe example.")
    saturated_fraction: float | None = Field(
        default=None, description="sigmoid/tanh: share of outputs within the tolerance of an "
        "asymptote (sigmoid 0 or 1, tanh ±1).")


class ActivationsSampled(Event):
    type: Literal["activations_sampled"] = "activations_sampled"
    batch: int = Field(description="Examples in the fixed probe batch.")
    layers: list[LayerActivations]


class NeuronMapsComputed(Event):
    """Every node's units over the input plane, as grid_computed lays out its values:
    `values[i]` is the (R, R) map of unit `units[i]` of node `nodes[i]`. The nodes come in
    the order they run: the input node (each feature it receives, e.g. x1, x2, x1_sq, in
    the data set's feature order), every hidden node (linear layers before their activation
    and the activations alike) and the output node (its raw outputs, before any softmax or
    sigmoid); a node with more units than the probe's max_units, or whose output is not
    (N, units), is left out."""

    type: Literal["neuron_maps_computed"] = "neuron_maps_computed"
    resolution: int
    extent: tuple[float, float, float, float]
    nodes: list[str]
    units: list[int]
    values: Annotated[np.ndarray, Array("float32", ("U", "R", "R"))] = Field(
        description="(units, R, R): one map per entry of `units`.")


class LayerWeights(BaseModel):
    """One linear layer's parameters, in torch's layout."""

    model_config = ConfigDict(frozen=True)

    node: str
    shape: tuple[int, int] = Field(description="(out_features, in_features), as values.shape.")
    values: Annotated[np.ndarray, Array("float32", ("out", "in"))] = Field(
        description="The weight matrix: values[o, i] is the weight from input i to output o.")
    bias: Annotated[np.ndarray, Array("float32", ("out",))] | None = Field(
        default=None, description="(out_features,), if any.")

    @model_validator(mode="after")
    def _shape_is_the_matrix(self) -> LayerWeights:
        if tuple(self.values.shape) != tuple(self.shape):
            raise ValueError(f"values have shape {list(self.values.shape)}, not {list(self.shape)}")
        return self


class WeightsSampled(Event):
    """Every linear layer's weights and biases after `step`, in forward order (small models
    only: the probe's size cap keeps the frames small)."""

    type: Literal["weights_sampled"] = "weights_sampled"
    layers: list[LayerWeights]


class CurvatureEstimated(Event):
    """The largest Hessian eigenvalue of the loss on the probe batch (power iteration on
    Hessian-vector products); plain gradient descent is stable for lr < 2/λ_max."""

    type: Literal["curvature_estimated"] = "curvature_estimated"
    lambda_max: float
    stable_lr: float | None = Field(description="2/λ_max, when λ_max > 0.")
    lr: float
    iterations: int
    converged: bool
    batch: int


class TelemetryShare(Event):
    """The share of wall time the probes took over the last window, and the periods the
    auto-throttle set (steps; 0: off)."""

    type: Literal["telemetry_share"] = "telemetry_share"
    share: float
    budget: float
    window: float = Field(description="Seconds the share was measured over.")
    periods: dict[str, int]
    costs: dict[str, float] = Field(description="Each probe's share of the window.")
    throttled: list[str] = Field(description="Probes whose periods are wider than asked.")


class RunWarning(Event):
    """A sign of trouble before failure: 'exploding' (a layer's gradient norm grew past
    `threshold`× within the window), 'vanishing' (the first layer's gradient norm below
    `threshold`× the last's) or 'unstable_lr' (plain SGD with lr above 2/λ_max)."""

    type: Literal["warning"] = "warning"
    kind: Literal["exploding", "vanishing", "unstable_lr"]
    layer: str | None = None
    value: float
    threshold: float
    message: str


class Diagnosis(BaseModel):
    """Why a run diverged: where it broke, the recent per-layer gradient norms, a reading."""

    model_config = ConfigDict(frozen=True)

    step: int
    quantity: str = Field(description="The first non-finite quantity, e.g. 'loss' or "
                          "'gradient of dense1'.")
    lr: float
    layers: list[str] = Field(default_factory=list)
    steps: list[int] = Field(default_factory=list)
    grad_norm: list[list[float]] = Field(
        default_factory=list, description="(layers, steps): each layer's gradient norm.")
    lambda_max: float | None = None
    stable_lr: float | None = None
    reading: str


class RunPaused(Event):
    type: Literal["run_paused"] = "run_paused"


class RunResumed(Event):
    type: Literal["run_resumed"] = "run_resumed"


class LrChanged(Event):
    type: Literal["lr_changed"] = "lr_changed"
    lr: float = Field(description="The new base learning rate (the schedule multiplies it).")


class PaceChanged(Event):
    """The run's pace changed (`Control.set_pace`), from `step` on."""

    type: Literal["pace_changed"] = "pace_changed"
    pace: float | None = Field(description="Steps per second at most; null: as fast as it goes.")


class WeightSet(Event):
    """One weight of a linear layer was set (`Control.set_weight`, the drawing's click on a
    link), between steps, after `step`: values[row, col] of `node`'s weight, as
    weights_sampled lays it out. The optimizer's state (momenta, Adam's moments) is kept."""

    type: Literal["weight_set"] = "weight_set"
    node: str
    row: int = Field(description="The output unit (the weight matrix's row).")
    col: int = Field(description="The input unit (the weight matrix's column).")
    value: float


class ProbesChanged(Event):
    """Probe settings changed mid-run (`Control.set_probes`), applied from `step` on: every
    probe's full parameters as the run now asks for them (the auto-throttle may still widen a
    period; `telemetry_share.periods` says by how much)."""

    type: Literal["probes_changed"] = "probes_changed"
    probes: dict[str, dict[str, Any]] = Field(
        description="Per probe name, its parameters (every, max_hz and the probe's own).")


class RunCompleted(Event):
    type: Literal["run_completed"] = "run_completed"
    metrics: dict[str, float]


class RunStopped(Event):
    type: Literal["run_stopped"] = "run_stopped"
    metrics: dict[str, float]
    reason: str | None = Field(
        default=None, description="Why, when no one asked for the stop (e.g. the server's "
        "wall-time limit); none for a stop someone asked for.")


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
    diagnosis: Diagnosis | None = None


AnyEvent = Annotated[
    RunStarted | StepsCompleted | EvalCompleted | GridComputed | RunPaused | RunResumed
    | LrChanged | PaceChanged | RunCompleted | RunStopped | RunFailed | NormsSampled
    | HistogramsSampled | ActivationsSampled | NeuronMapsComputed | CurvatureEstimated
    | TelemetryShare | RunWarning | WeightsSampled | ProbesChanged | WeightSet,
    Field(discriminator="type"),
]
# The built-in vocabulary, as one discriminated union (the JSON Schema of docs/schemas).
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(AnyEvent)
# Every event model by its type: the built-ins, read off the union, and those a family or a
# probe registers (`register_event`), so that a new event model is one entry in one place.
EVENT_MODELS: dict[str, type[Event]] = {
    model.model_fields["type"].default: model for model in get_args(get_args(AnyEvent)[0])}
BUILT_IN_TYPES = frozenset(EVENT_MODELS)
TERMINAL_TYPES = frozenset({"run_completed", "run_stopped", "run_failed"})


class EventTypes(Sequence[str]):
    """The known event types, as a live sequence: it includes types registered after it was
    imported (`from engine import EVENT_TYPES` stays current)."""

    def __getitem__(self, index: Any) -> Any:
        return tuple(EVENT_MODELS)[index]

    def __len__(self) -> int:
        return len(EVENT_MODELS)

    def __contains__(self, name: object) -> bool:
        return name in EVENT_MODELS

    def __repr__(self) -> str:
        return f"EventTypes({tuple(EVENT_MODELS)!r})"


EVENT_TYPES = EventTypes()


def register_event(model: type[E]) -> type[E]:
    """Add an event model to the vocabulary (usable as a class decorator). Its `type` field
    must be a Literal with a default, unique among the known types."""
    field = model.model_fields.get("type")
    name = field.default if field is not None else None
    if not isinstance(name, str) or not issubclass(model, Event):
        raise ValueError(f"{model.__name__} needs a `type` field with a default, on Event")
    if EVENT_MODELS.get(name, model) is not model:
        raise ValueError(f"event type {name!r} is already registered")
    EVENT_MODELS[name] = model
    return model


def parse_event(data: dict[str, Any] | str | bytes) -> Event:
    """An event from its JSON (a dict or text), validated against its own model."""
    text = data if isinstance(data, str | bytes) else None
    if text is not None:
        try:
            return EVENT_ADAPTER.validate_json(text)  # type: ignore[no-any-return]
        except ValidationError:
            data = json.loads(text)  # perhaps a registered type: found by name below
    kind = data.get("type") if isinstance(data, dict) else None
    model = EVENT_MODELS.get(kind) if isinstance(kind, str) and kind not in BUILT_IN_TYPES \
        else None
    if model is None:
        return EVENT_ADAPTER.validate_python(data)  # type: ignore[no-any-return]
    return model.model_validate_json(text) if text is not None else model.model_validate(data)
