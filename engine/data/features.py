"""Derived input features of the 2-D data sets, as TensorFlow Playground offers them.

A feature maps the raw plane coordinates (x1, x2) to one input column; a data set's inputs
are the chosen features side by side. The same transform serves the training points and the
prediction grid, so that what the network sees over the plane matches what it learned on.
May import: stdlib, numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, get_args

import numpy as np

FeatureFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

# Spelled out (not derived from FEATURES) so that type checkers and the JSON Schema both see
# the closed list; the assertion below keeps the two in step.
FeatureName = Literal["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"]

FEATURES: dict[str, tuple[str, FeatureFn]] = {
    "x1": ("X₁", lambda x1, x2: x1),
    "x2": ("X₂", lambda x1, x2: x2),
    "x1_sq": ("X₁²", lambda x1, x2: x1 * x1),
    "x2_sq": ("X₂²", lambda x1, x2: x2 * x2),
    "x1_x2": ("X₁X₂", lambda x1, x2: x1 * x2),
    "sin_x1": ("sin(X₁)", lambda x1, x2: np.sin(x1)),
    "sin_x2": ("sin(X₂)", lambda x1, x2: np.sin(x2)),
}

assert tuple(FEATURES) == get_args(FeatureName), "FeatureName and FEATURES disagree"


def apply_features(names: Sequence[str], points: np.ndarray) -> np.ndarray:
    """(N, 2) raw coordinates -> (N, F) float32 inputs, one column per name, in order."""
    pts = np.asarray(points, dtype=np.float32)
    x1, x2 = pts[:, 0], pts[:, 1]
    if not names:
        raise ValueError("at least one feature is needed")
    columns = [FEATURES[name][1](x1, x2) for name in names]
    return np.ascontiguousarray(np.stack(columns, axis=1), dtype=np.float32)
