"""The 2-D classification sets of TensorFlow Playground, and a few more, within radius 5 or so.

Each generator draws balanced classes from a numpy Generator seeded by `seed`, so the same
parameters always give the same points; labels are class indices 0..C-1. Noise follows the
Playground: a shift of up to `noise` times the radius (5) per axis, unless stated otherwise.
May import: stdlib, numpy, pydantic, engine.core.registry, engine.data.base.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import Field

from engine.data.base import (
    CLASSIFICATION,
    DATASETS,
    RADIUS,
    Dataset,
    DatasetEntry,
    PlaneParams,
    class_sizes,
    feature_columns,
    plane_dataset,
    uniform_noise,
)


def _labels(sizes: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _polar(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)


def make_circle(p: PlaneParams) -> Dataset:
    """Class 1 inside radius 2.5, class 0 on the ring 3.5..5; labels come from the clean point."""
    rng = np.random.default_rng(p.seed)
    n_out, n_in = class_sizes(p.n_points, 2)
    # Radii drawn as sqrt of uniform squares so that points spread evenly over the area.
    r_in = np.sqrt(rng.uniform(0.0, (0.5 * RADIUS) ** 2, n_in))
    r_out = np.sqrt(rng.uniform((0.7 * RADIUS) ** 2, RADIUS**2, n_out))
    angle = rng.uniform(0.0, 2 * np.pi, n_out + n_in)
    points = _polar(np.concatenate([r_out, r_in]), angle)
    points += uniform_noise(rng, len(points), p.noise)
    return plane_dataset("circle", CLASSIFICATION, p, rng, points, _labels([n_out, n_in]), 2)


def make_xor(p: PlaneParams) -> Dataset:
    """Class 1 where x1 and x2 share a sign, class 0 where they differ (away from the axes)."""
    rng = np.random.default_rng(p.seed)
    sizes = class_sizes(p.n_points, 2)
    labels = _labels(sizes)
    n = len(labels)
    padding = 0.3  # keeps clean points off the axes, where the label flips
    magnitude = rng.uniform(padding, RADIUS, size=(n, 2))
    sign_x1 = rng.choice([-1.0, 1.0], size=n)
    sign_x2 = np.where(labels == 1, sign_x1, -sign_x1)
    points = magnitude * np.stack([sign_x1, sign_x2], axis=1)
    points += uniform_noise(rng, n, p.noise)
    return plane_dataset("xor", CLASSIFICATION, p, rng, points, labels, 2)


class GaussianParams(PlaneParams):
    n_classes: int = Field(default=2, ge=2, le=8, description="Number of clusters (classes).")


def make_gaussian(p: GaussianParams) -> Dataset:
    """One gaussian cluster per class, centres evenly on a circle; spread grows with noise."""
    rng = np.random.default_rng(p.seed)
    labels = _labels(class_sizes(p.n_points, p.n_classes))
    # Start at 45 degrees so that two classes sit at (2, 2) and (-2, -2), as in the Playground.
    angles = np.pi / 4 + 2 * np.pi * np.arange(p.n_classes) / p.n_classes
    centres = _polar(np.full(p.n_classes, 2 * np.sqrt(2)), angles)
    std = 0.5 + 1.5 * p.noise
    points = centres[labels] + rng.normal(0.0, std, size=(len(labels), 2))
    return plane_dataset("gaussian", CLASSIFICATION, p, rng, points, labels, p.n_classes)


def make_spiral(p: PlaneParams) -> Dataset:
    """Two interleaved spiral arms, half a turn apart, growing out to radius 5."""
    rng = np.random.default_rng(p.seed)
    sizes = class_sizes(p.n_points, 2)
    arms = []
    for c, size in enumerate(sizes):
        t = np.arange(size) / size
        arms.append(_polar(RADIUS * t, 1.75 * 2 * np.pi * t + np.pi * c))
    points = np.concatenate(arms)
    # The arms are close together, so the Playground scales this set's noise to one unit.
    points += rng.uniform(-1.0, 1.0, size=points.shape) * p.noise
    return plane_dataset("spiral", CLASSIFICATION, p, rng, points, _labels(sizes), 2)


def make_two_moons(p: PlaneParams) -> Dataset:
    """Two interlocking half circles of radius 2.5; noise is gaussian with std noise * 2.5."""
    rng = np.random.default_rng(p.seed)
    n_upper, n_lower = class_sizes(p.n_points, 2)
    radius = 0.5 * RADIUS
    upper = _polar(np.full(n_upper, radius), rng.uniform(0.0, np.pi, n_upper))
    lower = _polar(np.full(n_lower, radius), rng.uniform(np.pi, 2 * np.pi, n_lower))
    # Shift the moons so that each reaches into the other's hollow, centred on the origin.
    upper += [-0.5 * radius, -0.25 * radius]
    lower += [0.5 * radius, 0.25 * radius]
    points = np.concatenate([upper, lower])
    points += rng.normal(0.0, p.noise * radius, size=points.shape)
    labels = _labels([n_upper, n_lower])
    return plane_dataset("two_moons", CLASSIFICATION, p, rng, points, labels, 2)


class BandParams(PlaneParams):
    width: float = Field(default=2.0, ge=0.5, le=5.0, description="Half-width of the band.")


def make_band(p: BandParams) -> Dataset:
    """Class 1 inside a diagonal band |x2 - x1| < width, class 0 outside it: a
    boundary with two parallel edges, which one sigmoid neuron cannot draw and two can."""
    rng = np.random.default_rng(p.seed)
    n_out, n_in = class_sizes(p.n_points, 2)
    margin = 0.15 * p.width  # keeps clean points off the two edges, where the label flips
    # Uniform candidates in the square, kept by side of the band: enough for both classes
    # because each side covers a fixed share of the square whatever the width.
    candidates = rng.uniform(-RADIUS, RADIUS, size=(40 * (n_in + n_out), 2))
    offset = np.abs(candidates[:, 1] - candidates[:, 0])
    inside = candidates[offset < p.width - margin][:n_in]
    outside = candidates[offset > p.width + margin][:n_out]
    points = np.concatenate([outside, inside])
    points += uniform_noise(rng, len(points), p.noise)
    return plane_dataset("band", CLASSIFICATION, p, rng, points, _labels([n_out, n_in]), 2)


class CheckerboardParams(PlaneParams):
    cells: int = Field(default=4, ge=2, le=16, description="Board cells per side.")


def make_checkerboard(p: CheckerboardParams) -> Dataset:
    """Alternating square cells over [-5, 5]², class = parity of the cell's row plus column."""
    rng = np.random.default_rng(p.seed)
    labels = _labels(class_sizes(p.n_points, 2))
    n = len(labels)
    # Each point takes a cell, uniformly among the cells of its class's colour, and a uniform
    # spot inside that cell.
    row, col = np.divmod(np.arange(p.cells * p.cells), p.cells)
    row_col = np.empty((n, 2), dtype=np.int64)
    for c in (0, 1):
        members = np.flatnonzero(labels == c)
        cells = np.flatnonzero((row + col) % 2 == c)
        pick = rng.choice(cells, size=members.size)
        row_col[members] = np.stack([row[pick], col[pick]], axis=1)
    size = 2 * RADIUS / p.cells
    spot = rng.uniform(0.0, size, size=(n, 2))
    points = row_col[:, ::-1] * size + spot - RADIUS  # (n, 2) as (x1, x2) = (col, row)
    points += uniform_noise(rng, n, p.noise)
    return plane_dataset("checkerboard", CLASSIFICATION, p, rng, points, labels, 2)


def _register(
    name: str, description: str, params: type[PlaneParams], make: Callable[[Any], Dataset],
    classes: int | Callable[[Any], int] = 2,
) -> None:
    DATASETS.register(DatasetEntry(name, description, CLASSIFICATION, params, make,
                                   sample_shape=feature_columns, classes=classes))


_register("circle", "A disc of one class inside a ring of the other.", PlaneParams, make_circle)
_register("xor", "Class by whether x1 and x2 share a sign.", PlaneParams, make_xor)
_register("gaussian", "Gaussian clusters, one per class.", GaussianParams, make_gaussian,
          classes=lambda p: p.n_classes)
_register("spiral", "Two interleaved spirals.", PlaneParams, make_spiral)
_register("two_moons", "Two interlocking half circles.", PlaneParams, make_two_moons)
_register("band", "A diagonal band of one class between two regions of the other.",
          BandParams, make_band)
_register("checkerboard", "Alternating square cells.", CheckerboardParams, make_checkerboard)
