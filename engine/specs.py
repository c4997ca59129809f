"""The run spec: a network graph, a data set and training settings, as pydantic v2 models.

The same JSON is the REST body, the stored spec, a saved file and a shareable link. Entries
named here (layer kinds, data sets, losses, optimizers...) are checked against their
registries when the run is built, so that a new entry needs no change in this file.
May import: stdlib, pydantic.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION: Literal[1] = 1

NODE_ID = r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$"


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Choice(Spec):
    """A registry entry by name, with its parameters (validated by the entry's own model)."""

    name: str = Field(description="Entry name in its registry, e.g. 'adam' or 'spiral'.")
    params: dict[str, Any] = Field(default_factory=dict, description="Entry parameters.")


class NodeSpec(Spec):
    """One layer of the network graph. `params` follow torch's argument names."""

    id: str = Field(pattern=NODE_ID, description="Unique node name, e.g. 'dense1'.")
    kind: str = Field(description="Layer kind from the catalog, e.g. 'linear' or 'tanh'.")
    params: dict[str, Any] = Field(default_factory=dict)


class EdgeSpec(Spec):
    """Tensor flow from one node's output into another node's input (in listed order)."""

    source: str
    target: str


class NetworkSpec(Spec):
    """A graph of layers. A plain stack lists its edges in order; merges take several."""

    nodes: list[NodeSpec] = Field(min_length=1)
    edges: list[EdgeSpec] = Field(default_factory=list)
    output: str | None = Field(
        default=None, description="The node whose output is the model's; default: the only sink."
    )

    @classmethod
    def stack(cls, *nodes: NodeSpec | tuple[str, str, dict[str, Any]]) -> NetworkSpec:
        """A plain chain: each node feeds the next."""
        specs = [n if isinstance(n, NodeSpec) else NodeSpec(id=n[0], kind=n[1], params=n[2])
                 for n in nodes]
        edges = [EdgeSpec(source=a.id, target=b.id) for a, b in zip(specs, specs[1:], strict=False)]
        return cls(nodes=specs, edges=edges)

    @classmethod
    def mlp(cls, hidden: list[int], activation: str = "tanh", out: int = 1, *,
            inputs: str = "x", out_activation: str | None = None) -> NetworkSpec:
        """input -> (dense{i} -> act{i})* -> out [-> prob]: a plain multi-layer perceptron."""
        nodes: list[tuple[str, str, dict[str, Any]]] = [(inputs, "input", {})]
        for i, width in enumerate(hidden, start=1):
            nodes += [(f"dense{i}", "linear", {"out_features": width}),
                      (f"act{i}", activation, {})]
        nodes.append(("out", "linear", {"out_features": out}))
        if out_activation:
            nodes.append(("prob", out_activation, {}))
        return cls.stack(*nodes)


class TelemetrySpec(Spec):
    """How often the trainer reports. Periods count optimizer steps; ceilings are per second."""

    scalars_every: int = Field(
        default=25, ge=1, le=100_000,
        description="Steps per steps_completed event (each carries every step's loss).",
    )
    scalars_max_hz: float | None = Field(
        default=20.0, gt=0, le=100_000,
        description="Wall-clock ceiling on steps_completed events: steps in between travel in "
        "the next one, so no step's loss is lost; none: strictly every scalars_every steps.",
    )
    eval_max_hz: float | None = Field(
        default=20.0, gt=0, le=100_000,
        description="Wall-clock ceiling on evaluations (eval_completed): a tiny net finishes "
        "an epoch in under a millisecond. Under a ceiling, evaluations also take at most 5% "
        "of wall time. None: strictly every eval_every steps.",
    )
    grid_every: int = Field(
        default=1, ge=0, le=1_000_000,
        description="Steps between prediction grids over the input plane (0: never).",
    )
    grid_max_hz: float | None = Field(
        default=20.0, gt=0, le=1000,
        description="Wall-clock ceiling on grid events; none: strictly every grid_every steps.",
    )
    grid_resolution: int = Field(default=64, ge=4, le=256, description="Grid cells per side.")
    probes_enabled: bool = Field(
        default=True,
        description="False: no probes, no warnings and no gradient-norm trajectory in a "
        "divergence diagnosis (the bare loop).",
    )
    probes: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Settings per probe by name (see the probes catalog: every, max_hz and "
        "the probe's own), e.g. {'curvature': {'every': 50}}; probes not named keep their "
        "defaults. Checked against the probe registry when the run is built.",
    )
    budget: float = Field(
        default=0.05, gt=0, le=1,
        description="Largest share of training time the probes may take. The auto-throttle "
        "widens probe periods when the share it measures passes 40% of it (the rest is "
        "headroom for what no clock sees: chunk ends, caches).",
    )
    auto_throttle: bool = Field(
        default=True, description="Widen probe periods when telemetry passes the budget."
    )


class TrainingSpec(Spec):
    """How to train: loss, optimizer, schedule, regularization, budget, seed and device."""

    task: str = Field(default="classification", description="Task from the catalog.")
    loss: Choice = Field(default_factory=lambda: Choice(name="cross_entropy"))
    optimizer: Choice = Field(default_factory=lambda: Choice(name="sgd", params={"lr": 0.03}))
    schedule: Choice = Field(default_factory=lambda: Choice(name="constant"))
    regularizer: Choice = Field(default_factory=lambda: Choice(name="none"))
    clip: Choice = Field(default_factory=lambda: Choice(name="none"))
    init: Choice = Field(default_factory=lambda: Choice(name="default"))
    batch_size: int = Field(default=10, ge=1, le=65_536)
    epochs: int | None = Field(default=None, ge=1, le=1_000_000)
    steps: int | None = Field(default=None, ge=1, le=100_000_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    eval_every: int | None = Field(
        default=None, ge=1, description="Steps between evaluations; default: once per epoch."
    )
    fast_path: bool = Field(
        default=True, description="Use the fused NumPy step for plain MLPs on the CPU."
    )
    telemetry: TelemetrySpec = Field(default_factory=TelemetrySpec)

    @model_validator(mode="after")
    def _budget(self) -> TrainingSpec:
        if self.epochs is None and self.steps is None:
            self.epochs = 10
        if self.epochs is not None and self.steps is not None:
            raise ValueError("give either epochs or steps, not both")
        return self


class RunSpec(Spec):
    """Everything needed to reproduce a run."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: str | None = Field(default=None, max_length=200)
    network: NetworkSpec
    data: Choice
    training: TrainingSpec = Field(default_factory=TrainingSpec)
