"""Registries: one entry is all it takes, and the catalog carries each entry's schema."""

from __future__ import annotations

import pytest
import torch
from pydantic import Field
from torch import nn

from engine import (
    CLIPPERS,
    DATASETS,
    INITIALIZERS,
    LAYERS,
    LOSSES,
    OPTIMIZERS,
    REGULARIZERS,
    SCHEDULES,
    TASKS,
    LayerEntry,
    NetworkSpec,
    Params,
    SpecError,
    Trainer,
    build_model,
)
from tests.engine.helpers import run_spec


class ScaleParams(Params):
    factor: float = Field(2.0, gt=0, description="Multiplier.")


class Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


@pytest.fixture
def scale_layer():
    entry = LAYERS.register(LayerEntry("scale", "Multiplies by a constant.", ScaleParams,
                                       shape=lambda p, s: s[0],
                                       build=lambda p, s: Scale(p.factor)))
    yield entry
    LAYERS.unregister("scale")


def test_one_entry_adds_a_layer_kind(scale_layer) -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("s", "scale", {"factor": 3.0}),
                                ("out", "linear", {"out_features": 1}))
    model, report = build_model(network, (2,))
    assert report.ok and "scale" in [e["name"] for e in LAYERS.catalog()]
    x = torch.randn(4, 2)
    assert torch.allclose(model.layers["s"](x), 3 * x)
    end = Trainer(run_spec(network, loss={"name": "mse"}, steps=20)).run()
    assert end.type == "run_completed"


def test_duplicate_registration_is_refused(scale_layer) -> None:
    with pytest.raises(ValueError, match="already registered"):
        LAYERS.register(scale_layer)


def test_unknown_entry_lists_known_names() -> None:
    with pytest.raises(SpecError, match="unknown optimizer 'adamax'; known: adagrad, adam"):
        OPTIMIZERS.get("adamax")


@pytest.mark.parametrize("registry", [LAYERS, DATASETS, TASKS, LOSSES, OPTIMIZERS, SCHEDULES,
                                      REGULARIZERS, CLIPPERS, INITIALIZERS])
def test_catalog_has_schema_defaults_and_descriptions(registry) -> None:
    items = registry.catalog()
    assert items
    for item in items:
        assert item["description"]
        for name, prop in item["params"].get("properties", {}).items():
            assert "description" in prop, f"{item['name']}.{name} has no description"


def test_required_kinds_exist() -> None:
    assert {"input", "linear", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu",
            "softmax", "log_softmax", "dropout", "batch_norm1d", "layer_norm", "flatten", "add",
            "concat"} <= set(LAYERS.names())
    assert {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"} \
        <= set(OPTIMIZERS.names())
    assert {"mse", "l1", "cross_entropy", "binary_cross_entropy", "hinge"} <= set(LOSSES.names())
    assert {"constant", "step", "exponential", "cosine", "warmup"} <= set(SCHEDULES.names())
    assert {"none", "l1", "l2", "elastic_net"} <= set(REGULARIZERS.names())
    assert {"zeros", "normal", "uniform", "xavier", "he"} <= set(INITIALIZERS.names())
