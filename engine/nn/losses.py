"""The loss registry: what the network's output must look like, how labels become targets,
and how outputs become predictions and grid values.

Classification labels arrive as class indices; each loss turns them into the targets it
wants (indices, 0/1, ±1 or one-hot), so one data set serves every loss.
May import: stdlib, numpy, torch, pydantic, engine.core.registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field

from engine.core.registry import Params, Registry

Fn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class LossEntry:
    name: str
    description: str
    params: type[Params]
    tasks: tuple[str, ...]
    make: Callable[[Any, int], Fn]  # (params, out_features) -> loss(output, target)
    targets: Callable[[np.ndarray, int, int | None], torch.Tensor]  # labels, out_features, C
    # Output features this loss accepts for a task with C classes (None: regression).
    accepts: Callable[[int, int | None], bool]
    wants: Callable[[int | None], str]

    def catalog_extra(self) -> dict[str, Any]:
        return {"tasks": list(self.tasks)}


LOSSES: Registry[LossEntry] = Registry("loss")


class NoParams(Params):
    pass


class HingeParams(Params):
    margin: float = Field(1.0, gt=0, le=100, description="Margin the correct score must clear.")


def signed(labels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(labels.astype(np.float32) * 2 - 1).unsqueeze(1)  # (N, 1) in ±1


def one_hot_or_signed(labels: np.ndarray, out: int, n_classes: int | None) -> torch.Tensor:
    if out == 1:
        return signed(labels)
    return F.one_hot(torch.from_numpy(labels).long(), out).float()


def real_valued(labels: np.ndarray, out: int, n_classes: int | None) -> torch.Tensor:
    if n_classes is not None:
        return one_hot_or_signed(labels, out, n_classes)
    return torch.from_numpy(labels.astype(np.float32)).reshape(-1, 1)


def binary_or_all(out: int, n_classes: int | None) -> bool:
    return out == 1 if n_classes is None else out == n_classes or (out == 1 and n_classes == 2)


def mean_hinge(margin: float) -> Fn:
    return lambda out, y: torch.clamp(margin - y * out, min=0).mean()


def hinge(p: HingeParams, out: int) -> Fn:
    if out == 1:
        return mean_hinge(p.margin)
    return lambda o, y: F.multi_margin_loss(o, y, margin=p.margin)


REAL = ("classification", "regression", "reconstruction")
LOSSES.register(LossEntry(
    "mse", "Mean squared error; for classes the targets are ±1 (one output) or one-hot.",
    NoParams, REAL, make=lambda p, out: F.mse_loss, targets=real_valued, accepts=binary_or_all,
    wants=lambda c: "(N, 1)" if c is None else f"(N, 1) for two classes or (N, {c})",
))
LOSSES.register(LossEntry(
    "l1", "Mean absolute error; robust to outliers.", NoParams, REAL,
    make=lambda p, out: F.l1_loss, targets=real_valued, accepts=binary_or_all,
    wants=lambda c: "(N, 1)" if c is None else f"(N, 1) for two classes or (N, {c})",
))
LOSSES.register(LossEntry(
    "cross_entropy", "Softmax cross-entropy on raw scores (logits), one per class.", NoParams,
    ("classification",), make=lambda p, out: F.cross_entropy,
    targets=lambda y, out, c: torch.from_numpy(y).long(),
    accepts=lambda out, c: out == c, wants=lambda c: f"(N, {c})",
))
LOSSES.register(LossEntry(
    "binary_cross_entropy", "Sigmoid cross-entropy on one raw score (logit) per sample; for "
    "a reconstruction, per pixel against targets in [0, 1].",
    NoParams, ("classification", "reconstruction"),
    make=lambda p, out: F.binary_cross_entropy_with_logits,
    targets=lambda y, out, c: torch.from_numpy(y.astype(np.float32)).unsqueeze(1),
    accepts=lambda out, c: out == 1 and c == 2, wants=lambda c: "(N, 1) and two classes",
))
LOSSES.register(LossEntry(
    "hinge", "Hinge loss max(0, margin - y·f(x)) with y = ±1; multi-class margin loss for more.",
    HingeParams, ("classification",), make=hinge,
    targets=lambda y, out, c: signed(y) if out == 1 else torch.from_numpy(y).long(),
    accepts=lambda out, c: out == c or (out == 1 and c == 2),
    wants=lambda c: f"(N, 1) for two classes or (N, {c})",
))


def predict_classes(output: torch.Tensor) -> torch.Tensor:
    """Class indices from outputs: sign of a single score, else the arg-max."""
    if output.shape[1] == 1:
        return (output[:, 0] > 0).long()
    return output.argmax(dim=1)


def binary_score(output: torch.Tensor, loss: str) -> torch.Tensor:
    """A score in [-1, 1] for class 1 against class 0, for the decision-boundary heatmap."""
    if output.shape[1] == 2:
        return torch.softmax(output, dim=1)[:, 1] * 2 - 1
    if loss == "binary_cross_entropy":
        return torch.sigmoid(output[:, 0]) * 2 - 1
    return output[:, 0].clamp(-1, 1)
