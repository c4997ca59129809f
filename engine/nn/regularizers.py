"""Weight penalties (L1, L2, elastic net) and gradient clipping, as registries.

Penalties apply to weight matrices only (parameters with two or more dimensions), not to
biases or normalisation scales, as in TensorFlow Playground. L2 is alpha/2·Σw², so its
gradient is alpha·w, the same as `weight_decay`.
May import: stdlib, torch, pydantic, engine.core.registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from pydantic import Field

from engine.core.registry import Params, Registry


@dataclass(frozen=True)
class RegularizerEntry:
    name: str
    description: str
    params: type[Params]
    # (params) -> (l1 weight, l2 weight): penalty = a1·Σ|w| + a2/2·Σw²
    weights: Callable[[Any], tuple[float, float]]


REGULARIZERS: Registry[RegularizerEntry] = Registry("regularizer")


class NoParams(Params):
    pass


class AlphaParams(Params):
    alpha: float = Field(0.001, ge=0, le=10, description="Strength of the penalty.")


class ElasticParams(AlphaParams):
    l1_ratio: float = Field(0.5, ge=0, le=1, description="Share of L1 in the penalty.")


REGULARIZERS.register(RegularizerEntry("none", "No penalty.", NoParams, lambda p: (0.0, 0.0)))
REGULARIZERS.register(RegularizerEntry(
    "l1", "alpha·Σ|w|: pushes weights to exactly zero (sparse).", AlphaParams,
    lambda p: (p.alpha, 0.0)))
REGULARIZERS.register(RegularizerEntry(
    "l2", "alpha/2·Σw²: shrinks all weights towards zero (weight decay).", AlphaParams,
    lambda p: (0.0, p.alpha)))
REGULARIZERS.register(RegularizerEntry(
    "elastic_net", "A mix of L1 and L2: alpha·(r·Σ|w| + (1-r)/2·Σw²).", ElasticParams,
    lambda p: (p.alpha * p.l1_ratio, p.alpha * (1 - p.l1_ratio))))


def penalty(weights: Sequence[torch.Tensor], l1: float, l2: float) -> torch.Tensor | None:
    """The penalty term to add to the loss, or None when there is none."""
    if not weights or (l1 == 0 and l2 == 0):
        return None
    total = torch.zeros((), device=weights[0].device)
    if l1:
        total = total + l1 * sum(w.abs().sum() for w in weights)
    if l2:
        total = total + (l2 / 2) * sum((w * w).sum() for w in weights)
    return total


@dataclass(frozen=True)
class ClipEntry:
    name: str
    description: str
    params: type[Params]
    apply: Callable[[Any, list[torch.nn.Parameter]], object]


CLIPPERS: Registry[ClipEntry] = Registry("gradient clipping")


class NormParams(Params):
    max_norm: float = Field(1.0, gt=0, le=1e6, description="Largest allowed gradient norm.")
    norm_type: float = Field(2.0, ge=1, le=1e6, description="Which p-norm (2: Euclidean).")


class ValueParams(Params):
    clip_value: float = Field(1.0, gt=0, le=1e6, description="Largest allowed |gradient|.")


CLIPPERS.register(ClipEntry("none", "Gradients are used as they are.", NoParams,
                            lambda p, ps: None))
CLIPPERS.register(ClipEntry(
    "norm", "Rescale all gradients together when their norm exceeds max_norm.", NormParams,
    lambda p, ps: torch.nn.utils.clip_grad_norm_(ps, p.max_norm, p.norm_type, foreach=True)))
CLIPPERS.register(ClipEntry(
    "value", "Clamp each gradient component into [-clip_value, clip_value].", ValueParams,
    lambda p, ps: torch.nn.utils.clip_grad_value_(ps, p.clip_value, foreach=True)))
