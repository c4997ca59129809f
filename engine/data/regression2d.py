"""The 2-D regression sets: a target surface over the plane, as in TensorFlow Playground.

Points are drawn uniformly in [-5, 5]² from a numpy Generator seeded by `seed`; targets lie in
about [-1, 1], and `noise` adds gaussian noise of that standard deviation to each target.
May import: stdlib, numpy, engine.data.base.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.data.base import (
    DATASETS,
    RADIUS,
    REGRESSION,
    Dataset,
    DatasetEntry,
    PlaneParams,
    feature_columns,
    plane_dataset,
)

# (x1, x2, sign): a fixed pattern of bumps, far enough apart (4+ units against a width of
# 1.25) that their tails barely add up, which keeps the targets within [-1, 1].
BUMPS = np.array(
    [
        (-3.0, 2.5, 1.0),
        (1.0, 3.0, -1.0),
        (3.5, -0.5, 1.0),
        (-1.5, -2.0, -1.0),
        (2.0, -4.0, -1.0),
    ]
)
BUMP_WIDTH = 1.25


def plane_target(points: np.ndarray) -> np.ndarray:
    """A tilted plane, scaled so that the corners of [-5, 5]² reach -1 and 1."""
    return (0.6 * points[:, 0] + 0.4 * points[:, 1]) / RADIUS


def bumps_target(points: np.ndarray) -> np.ndarray:
    """The sum of the signed gaussian bumps in BUMPS."""
    d2 = ((points[:, None, :] - BUMPS[None, :, :2]) ** 2).sum(axis=2)  # (N, B)
    return (np.exp(-d2 / (2 * BUMP_WIDTH**2)) * BUMPS[:, 2]).sum(axis=1)


def _make(name: str, target: Callable[[np.ndarray], np.ndarray]) -> Callable[[Any], Dataset]:
    """A generator for one target surface."""

    def make(p: PlaneParams) -> Dataset:
        rng = np.random.default_rng(p.seed)
        points = rng.uniform(-RADIUS, RADIUS, size=(p.n_points, 2))
        y = target(points) + rng.normal(0.0, 1.0, p.n_points) * p.noise
        return plane_dataset(name, REGRESSION, p, rng, points, y, None)

    return make


DATASETS.register(
    DatasetEntry(
        "plane",
        "A tilted plane: the target grows linearly with x1 and x2.",
        REGRESSION,
        PlaneParams,
        _make("plane", plane_target),
        sample_shape=feature_columns,
    )
)
DATASETS.register(
    DatasetEntry(
        "gaussian_bumps",
        "A few positive and negative gaussian bumps over the plane.",
        REGRESSION,
        PlaneParams,
        _make("gaussian_bumps", bumps_target),
        sample_shape=feature_columns,
    )
)
