"""The prediction grid over the input plane: decision boundary or regression surface.

May import: stdlib, numpy, torch, engine modules below the trainer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.core.events import Event, GridComputed
from engine.core.run import PreparedRun
from engine.nn.losses import binary_score


def grid_event(run: PreparedRun, strategy: Any, resolution: int | None = None
               ) -> tuple[type[Event], dict[str, Any]] | None:
    """The fields of a `grid_computed` event, or None for data without a plane."""
    data = run.data
    res = resolution or run.spec.training.telemetry.grid_resolution
    points = data.grid(res)
    if points is None or data.extent is None:
        return None
    out = strategy.outputs(points)  # (R*R, out_features) on the CPU
    if not bool(torch.isfinite(out).all()):
        return None  # the divergence check reports this; a grid never carries NaN
    fields: dict[str, Any] = {"type": "grid_computed", "resolution": res,
                              "extent": tuple(float(v) for v in data.extent)}
    if data.n_classes is None:
        fields |= {"mode": "value", "values": plane(out[:, 0], res)}
    elif data.n_classes == 2:
        score = binary_score(out, run.choices.loss.name)
        fields |= {"mode": "binary", "values": plane(score, res)}
    else:
        probs = torch.softmax(out, dim=1)
        conf, cls = probs.max(dim=1)
        fields |= {"mode": "classes", "values": plane(cls, res), "confidence": plane(conf, res)}
    return GridComputed, fields


def plane(t: torch.Tensor, res: int) -> np.ndarray:
    """(R*R,) points, row-major from the top-left, as the event's (R, R) float32 array: a copy,
    as the strategy may reuse its output's memory."""
    return t.detach().cpu().numpy().astype(np.float32).reshape(res, res)  # (R, R)
