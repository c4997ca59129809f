"""The run spec: a network graph, a data set and training settings, as pydantic v2 models.

The same JSON is the REST body, the stored spec, a saved file and a shareable link. Entries
named here (families, layer kinds, data sets, losses, optimizers...) are checked against their
registries when the run is built, so that a new entry needs no change in this file.

Version 2 names the model family, its networks by role and its optimizers by role, and takes a
list of regularizers. A version-1 spec (one `network`, one `optimizer`, one `regularizer`: the
stored runs, saved links, presets and examples of before) is upgraded on read, with no loss:
`upgrade_v1` is the whole mapping.
May import: stdlib, pydantic.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION: Literal[2] = 2
ROLE = r"^[a-z][a-z0-9_]{0,31}$"

NODE_ID = r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$"


class Spec(BaseModel):
    """Strict: unknown fields and wrong types ("10" for an int) are refused, never coerced,
    and numbers must be finite; JSON ints are still taken for float fields."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


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
    grid_max_hz: float | None = Field(  # 30: about 25 a second between chunks of ~20 ms
        default=30.0, gt=0, le=1000,
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
    optimizers: dict[str, Choice] = Field(
        default_factory=lambda: {"model": Choice(name="sgd", params={"lr": 0.03})},
        description="An optimizer per optimizer role of the family (supervised and "
        "autoencoder: 'model'; a GAN: 'generator' and 'discriminator').")
    schedule: Choice = Field(default_factory=lambda: Choice(name="constant"))
    regularizers: list[Choice] = Field(
        default_factory=list, max_length=8,
        description="Weight penalties, each from the catalog; they add up.")
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

    @model_validator(mode="before")
    @classmethod
    def _v1_names(cls, raw: Any) -> Any:
        return upgrade_training_v1(raw) if isinstance(raw, dict) else raw

    @property
    def optimizer(self) -> Choice:
        """The first role's optimizer (the only one of a one-optimizer family)."""
        return next(iter(self.optimizers.values()))

    @model_validator(mode="after")
    def _budget(self) -> TrainingSpec:
        if self.epochs is None and self.steps is None:
            self.epochs = 10
        if self.epochs is not None and self.steps is not None:
            raise ValueError("give either epochs or steps, not both")
        if not self.optimizers:
            raise ValueError("optimizers: name at least one, e.g. {'model': {'name': 'adam'}}")
        return self


class RunSpec(Spec):
    """Everything needed to reproduce a run."""

    schema_version: Literal[2] = SCHEMA_VERSION
    name: str | None = Field(default=None, max_length=200)
    family: Choice = Field(
        default_factory=lambda: Choice(name="supervised"),
        description="Model family from the catalog (what is learnt, by which step, with "
        "which metrics and views) and its parameters; a name alone is read as {name}.")
    networks: dict[str, NetworkSpec] = Field(
        min_length=1, max_length=8, description="The family's networks by role (supervised: "
        "'model'; autoencoder: 'encoder' and 'decoder'). Node ids are unique across them.")
    data: Choice
    training: TrainingSpec = Field(default_factory=TrainingSpec)

    @model_validator(mode="before")
    @classmethod
    def _v1(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        raw = upgrade_v1(raw)
        if isinstance(raw.get("family"), str):
            raw = {**raw, "family": {"name": raw["family"]}}
        return raw

    @property
    def network(self) -> NetworkSpec:
        """The 'model' network, or the only one."""
        return self.networks.get("model") or next(iter(self.networks.values()))


def upgrade_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """A version-1 run spec (or one written without a version, in the version-1 form) as
    version 2; anything else is returned as it is, for validation to judge."""
    version = raw.get("schema_version")
    if version not in (None, 1) or (version is None and "network" not in raw):
        return raw
    out = {k: v for k, v in raw.items() if k not in ("schema_version", "network")}
    out["schema_version"] = 2
    if "network" in raw:
        out["networks"] = {"model": raw["network"]}
    if isinstance(raw.get("training"), dict):
        out["training"] = upgrade_training_v1(raw["training"])
    return out


def upgrade_training_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """Version 1's single `optimizer` and `regularizer` as version 2's lists by role."""
    if "optimizer" not in raw and "regularizer" not in raw:
        return raw
    for old, new in (("optimizer", "optimizers"), ("regularizer", "regularizers")):
        if old in raw and new in raw:  # which one was meant? say so rather than guess
            raise ValueError(f"training: give {new} (version 2) or {old} (version 1), not both")
    out = {k: v for k, v in raw.items() if k not in ("optimizer", "regularizer")}
    if "optimizer" in raw:
        out["optimizers"] = {"model": raw["optimizer"]}
    reg = raw.get("regularizer")
    if reg is not None:
        name = reg.get("name") if isinstance(reg, dict) else getattr(reg, "name", None)
        out["regularizers"] = [] if name == "none" else [reg]
    return out
