"""The optimizer registry: torch.optim optimizers with their hyper-parameters as models.

Every entry has `lr`; names and fields follow torch (`momentum`, `betas`, `weight_decay`).
May import: stdlib, torch, pydantic, engine.core.registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import torch
from pydantic import Field, field_validator

from engine.core.registry import Params, Registry


@dataclass(frozen=True)
class OptimizerEntry:
    name: str
    description: str
    params: type[Params]
    make: Callable[[Any, Iterable[torch.nn.Parameter]], torch.optim.Optimizer]


OPTIMIZERS: Registry[OptimizerEntry] = Registry("optimizer")


def lr_field(default: float) -> Any:
    return Field(default, gt=0, le=1000, description="Learning rate: the step size.")


def decay_field(default: float = 0.0) -> Any:
    return Field(default, ge=0, le=10, description="L2 penalty folded into the update.")


class SgdParams(Params):
    lr: float = lr_field(0.03)
    weight_decay: float = decay_field()


class MomentumParams(Params):
    lr: float = lr_field(0.03)
    momentum: float = Field(0.9, ge=0, lt=1, description="Fraction of the last step kept.")
    dampening: float = Field(0.0, ge=0, le=1, description="Damps the new gradient's share.")
    weight_decay: float = decay_field()


class NesterovParams(Params):
    lr: float = lr_field(0.03)
    momentum: float = Field(0.9, gt=0, lt=1, description="Fraction of the last step kept.")
    weight_decay: float = decay_field()


class AdagradParams(Params):
    lr: float = lr_field(0.01)
    lr_decay: float = Field(0.0, ge=0, le=1, description="Decay of the learning rate per step.")
    eps: float = Field(1e-10, gt=0, le=1, description="Added to the denominator.")
    weight_decay: float = decay_field()


class RmspropParams(Params):
    lr: float = lr_field(0.01)
    alpha: float = Field(0.99, gt=0, lt=1, description="Decay of the squared-gradient average.")
    eps: float = Field(1e-8, gt=0, le=1, description="Added to the denominator.")
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum on the scaled step.")
    centered: bool = Field(False, description="Divide by the gradient's variance estimate.")
    weight_decay: float = decay_field()


Beta = Annotated[float, Field(ge=0, lt=1)]  # a moment's decay rate: 1 would never forget


class AdamParams(Params):
    lr: float = lr_field(0.001)
    betas: tuple[Beta, Beta] = Field(
        (0.9, 0.999), description="Decay rates of the first and second moment estimates."
    )
    eps: float = Field(1e-8, gt=0, le=1, description="Added to the denominator.")
    weight_decay: float = decay_field()
    amsgrad: bool = Field(False, description="Keep the maximum of the second moment.")

    @field_validator("betas", mode="before")
    @classmethod
    def _json_pair(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value  # JSON has no tuples


class AdamWParams(AdamParams):
    weight_decay: float = Field(0.01, ge=0, le=10, description="Decoupled weight decay.")


def register(name: str, description: str, params: type[Params],
             make: Callable[[Any, Any], torch.optim.Optimizer]) -> None:
    OPTIMIZERS.register(OptimizerEntry(name, description, params, make))


register("sgd", "Plain stochastic gradient descent: w -= lr·g.", SgdParams,
         lambda p, ps: torch.optim.SGD(ps, lr=p.lr, weight_decay=p.weight_decay, foreach=True))
register("momentum", "SGD with momentum: a velocity that accumulates past gradients.",
         MomentumParams,
         lambda p, ps: torch.optim.SGD(ps, lr=p.lr, momentum=p.momentum, dampening=p.dampening,
                                       weight_decay=p.weight_decay, foreach=True))
register("nesterov", "Nesterov momentum: the gradient is taken after the momentum step.",
         NesterovParams,
         lambda p, ps: torch.optim.SGD(ps, lr=p.lr, momentum=p.momentum, nesterov=True,
                                       weight_decay=p.weight_decay, foreach=True))
register("adagrad", "Per-weight rates shrinking with the sum of squared gradients.",
         AdagradParams,
         lambda p, ps: torch.optim.Adagrad(ps, lr=p.lr, lr_decay=p.lr_decay, eps=p.eps,
                                           weight_decay=p.weight_decay, foreach=True))
register("rmsprop", "Per-weight rates from a moving average of squared gradients.",
         RmspropParams,
         lambda p, ps: torch.optim.RMSprop(ps, lr=p.lr, alpha=p.alpha, eps=p.eps,
                                           momentum=p.momentum, centered=p.centered,
                                           weight_decay=p.weight_decay, foreach=True))
register("adam", "Adaptive moments: momentum plus RMSprop-style scaling, bias-corrected.",
         AdamParams,
         lambda p, ps: torch.optim.Adam(ps, lr=p.lr, betas=p.betas, eps=p.eps,
                                        weight_decay=p.weight_decay, amsgrad=p.amsgrad,
                                        foreach=True))
register("adamw", "Adam with weight decay decoupled from the gradient.", AdamWParams,
         lambda p, ps: torch.optim.AdamW(ps, lr=p.lr, betas=p.betas, eps=p.eps,
                                         weight_decay=p.weight_decay, amsgrad=p.amsgrad,
                                         foreach=True))
