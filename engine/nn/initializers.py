"""Weight initialisation schemes, so that a student can see why zeros fail and He helps ReLU.

Schemes set the weights of linear layers (and any parameter with two or more dimensions);
`bias` sets every bias to a constant (a large negative one kills ReLUs). `default` keeps
torch's own initialisation.
May import: stdlib, torch, pydantic, engine.core.registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from engine.core.registry import Params, Registry


@dataclass(frozen=True)
class InitEntry:
    name: str
    description: str
    params: type[Params]
    weight: Callable[[Any, torch.Tensor], object]


INITIALIZERS: Registry[InitEntry] = Registry("initializer")


class BiasParams(Params):
    bias: float | None = Field(
        0.0, ge=-100, le=100, description="Constant for every bias (none: leave torch's)."
    )


class DefaultParams(Params):
    bias: float | None = Field(None, ge=-100, le=100, description="Optional constant bias.")


class NormalParams(BiasParams):
    mean: float = Field(0.0, ge=-10, le=10, description="Mean of the weights.")
    std: float = Field(0.1, ge=0, le=10, description="Standard deviation of the weights.")


class UniformParams(BiasParams):
    a: float = Field(-0.1, ge=-10, le=10, description="Lower bound.")
    b: float = Field(0.1, ge=-10, le=10, description="Upper bound.")


class XavierParams(BiasParams):
    distribution: Literal["uniform", "normal"] = Field("uniform", description="Shape.")
    gain: float = Field(1.0, gt=0, le=10, description="Scale; 5/3 suits tanh.")


class HeParams(BiasParams):
    distribution: Literal["uniform", "normal"] = Field("normal", description="Shape.")
    mode: Literal["fan_in", "fan_out"] = Field("fan_in", description="Preserve forward or "
                                               "backward variance.")
    nonlinearity: Literal["relu", "leaky_relu"] = Field("relu", description="Following unit.")


def xavier(p: XavierParams, w: torch.Tensor) -> None:
    if p.distribution == "uniform":
        nn.init.xavier_uniform_(w, gain=p.gain)
    else:
        nn.init.xavier_normal_(w, gain=p.gain)


def he(p: HeParams, w: torch.Tensor) -> None:
    init = nn.init.kaiming_uniform_ if p.distribution == "uniform" else nn.init.kaiming_normal_
    init(w, mode=p.mode, nonlinearity=p.nonlinearity)


INITIALIZERS.register(InitEntry("default", "torch's own scheme for each layer.", DefaultParams,
                                lambda p, w: None))
INITIALIZERS.register(InitEntry(
    "zeros", "Every weight zero: all units stay identical (symmetry is never broken).",
    BiasParams, lambda p, w: nn.init.zeros_(w)))
INITIALIZERS.register(InitEntry("normal", "Weights from N(mean, std²).", NormalParams,
                                lambda p, w: nn.init.normal_(w, p.mean, p.std)))
INITIALIZERS.register(InitEntry("uniform", "Weights from U(a, b).", UniformParams,
                                lambda p, w: nn.init.uniform_(w, p.a, p.b)))
INITIALIZERS.register(InitEntry("xavier", "Glorot: variance 2/(fan_in+fan_out), for tanh.",
                                XavierParams, xavier))
INITIALIZERS.register(InitEntry("he", "Kaiming: variance 2/fan_in, for ReLU.", HeParams, he))


@torch.no_grad()
def initialize(model: nn.Module, entry: InitEntry, params: Any) -> None:
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
            entry.weight(params, weight)
        bias = getattr(module, "bias", None)
        if isinstance(bias, torch.Tensor) and params.bias is not None and weight is not None \
                and weight.dim() >= 2:
            bias.fill_(params.bias)
