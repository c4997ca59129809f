"""A toy family and a toy probe, registered from outside the engine as any plugin would: the
proof that a new model family, a probe with an array payload and metrics nobody has heard of
need no edit to the loop, the event union, the server or the page's run code.

`least_squares` fits a linear model in closed form: each step adds its batch to the normal
equations (XᵀX, Xᵀy) and solves them, so after one epoch the weights are the exact least
squares fit of the training set. It reports `residual` (the batch's mean squared residual
before the solve) and `test_residual`. The `coefficients` probe sends the weights as a float32
array and the normal matrix's diagonal as a float16 one.
May import: numpy, torch, pydantic, engine's public names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import Field

from engine import (
    FAMILIES,
    PROBES,
    Array,
    Event,
    Family,
    LocatedError,
    MetricInfo,
    PreparedRun,
    ProbeContext,
    ProbeEntry,
    ProbeParams,
    Recording,
    StepOutcome,
    register_event,
)

CHART = {"chart": "residual", "chart_title": "Squared residual"}
METRICS = [MetricInfo(name="residual", title="Residual (batch)", split="batch", **CHART),
           MetricInfo(name="test_residual", title="Test residual", split="test", **CHART)]


class LeastSquaresStep:
    """The closed-form step: the normal equations, accumulated batch by batch."""

    name = "least_squares"

    def __init__(self, run: PreparedRun) -> None:
        self.run = run
        self.linear = run.model.layers[run.model.order[-1]]
        self.x = {"train": with_ones(run.data.x_train), "test": with_ones(run.data.x_test)}
        self.y = {"train": run.data.y_train.astype(np.float64),
                  "test": run.data.y_test.astype(np.float64)}
        f = self.x["train"].shape[1]
        self.xtx, self.xty = np.zeros((f, f)), np.zeros(f)
        self.coef = np.zeros(f)  # (F + 1,): weights, then the bias

    def train(self, batches: list[np.ndarray], lrs: list[float],
              record: Recording | None = None) -> StepOutcome:
        losses = []
        for idx in batches:
            x, y = self.x["train"][idx], self.y["train"][idx]
            losses.append(float(np.mean((x @ self.coef - y) ** 2)))
            self.xtx += x.T @ x
            self.xty += x.T @ y
            self.coef = np.linalg.lstsq(self.xtx, self.xty, rcond=None)[0]
        with torch.no_grad():  # the model holds the fit, so that its other views work
            self.linear.weight.copy_(torch.from_numpy(self.coef[:-1]).reshape(1, -1))
            self.linear.bias.copy_(torch.from_numpy(self.coef[-1:]))
        return StepOutcome(np.asarray(losses), None)

    def residual(self, split: str) -> float:
        return float(np.mean((self.x[split] @ self.coef - self.y[split]) ** 2))

    def evaluate(self, split: str) -> tuple[float, None]:
        return self.residual(split), None

    def captured_grads(self) -> None:
        return None

    def weight_arrays(self) -> None:
        return None

    def outputs(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(with_ones(x) @ self.coef).float().unsqueeze(1)

    def node_outputs(self, x: np.ndarray) -> None:
        return None


def with_ones(x: np.ndarray) -> np.ndarray:
    return np.hstack([x.astype(np.float64), np.ones((len(x), 1))])  # (N, F + 1)


class LeastSquares(Family):
    name = "least_squares"
    description = "A linear model fitted in closed form from the normal equations."
    probes = frozenset({"coefficients"})

    def catalog_metrics(self) -> list[MetricInfo]:
        return METRICS

    def check(self, spec: Any, data: Any, report: Any, choices: Any,
              errors: list[LocatedError]) -> None:
        kinds = [n.kind for n in spec.network.nodes]
        if kinds != ["input", "linear"]:
            errors.append(LocatedError(None, "network", "least squares fits one linear layer "
                                       f"after the input; the network has {kinds}"))
        if data.n_classes is not None:
            errors.append(LocatedError(None, "data", "least squares needs a real target"))

    def make_step(self, run: PreparedRun) -> LeastSquaresStep:
        return LeastSquaresStep(run)

    def step_metrics(self, outcome: StepOutcome) -> dict[str, np.ndarray]:
        return {"residual": outcome.losses}

    def evaluate(self, step: Any) -> dict[str, float]:
        return {"test_residual": step.residual("test")}


@register_event
class CoefficientsSampled(Event):
    """The fitted weights (float32) and the normal matrix's diagonal (float16)."""

    type: Literal["coefficients_sampled"] = "coefficients_sampled"
    weights: Annotated[np.ndarray, Array("float32", ("F",))]
    diagonal: Annotated[np.ndarray, Array("float16", ("F1",))]
    bias: float


class CoefficientsParams(ProbeParams):
    every: int = Field(5, ge=0, le=1_000_000, description="Steps between samples (0: off).")


class CoefficientsProbe:
    active = True

    def sample(self, ctx: ProbeContext) -> tuple[type[Event], dict[str, Any]]:
        step = ctx.strategy
        return CoefficientsSampled, {
            "type": "coefficients_sampled", "weights": step.coef[:-1].astype(np.float32),
            "diagonal": np.diag(step.xtx).astype(np.float16), "bias": float(step.coef[-1])}


FAMILIES.register(LeastSquares())
PROBES.register(ProbeEntry(
    "coefficients", "The least-squares fit's weights as they are solved.", CoefficientsParams,
    ("coefficients_sampled",), factory=lambda ctx, p, old: CoefficientsProbe(),
    families=frozenset({"least_squares"})))


def spec(epochs: int = 2) -> dict[str, Any]:
    """A run of the toy family on the tilted plane (x1, x2 -> a value)."""
    return {"family": "least_squares",
            "network": {"nodes": [{"id": "x", "kind": "input"},
                                  {"id": "fit", "kind": "linear", "params": {"out_features": 1}}],
                        "edges": [{"source": "x", "target": "fit"}]},
            "data": {"name": "plane", "params": {"noise": 0.1}},
            "training": {"task": "regression", "loss": {"name": "mse"}, "batch_size": 25,
                         "epochs": epochs, "seed": 3}}
