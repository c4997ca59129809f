"""Generated shapes for the convolution lessons: circles, squares and triangles drawn at a
random position, size and rotation, with pixel noise, in grey or in colour. Deterministic
from `seed`.

A shape can sit anywhere on the image, so a dense layer must learn it once per position
while a convolution's filters find its edges wherever they are: the set where "why
convolution beats dense layers" shows, at equal parameter counts. Each shape is drawn
supersampled (4 points per pixel) and averaged, so that its edges are smooth at any angle.
May import: stdlib, numpy, pydantic, engine.core.registry, engine.data.base.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from engine.core.registry import Params
from engine.data.base import CLASSIFICATION, DATASETS, Dataset, DatasetEntry, split_indices

CLASSES = ("circle", "square", "triangle")
SUPER = 2  # supersampling per axis
# the triangle's corners at 90°, 210° and 330°: each edge's outward normal lies between two
EDGE_NORMALS = np.pi / 2 + 2 * np.pi * np.arange(3) / 3 + np.pi / 3


class ShapesParams(Params):
    n_points: int = Field(default=1500, ge=30, le=20_000,
                          description="Images, train and test together.")
    size: Literal[16, 28, 32] = Field(default=28, description="Side of each image in pixels.")
    color: Literal["grey", "rgb"] = Field(
        default="grey", description="'grey': one channel; 'rgb': three, each shape in a random "
        "colour on a dark background (colour says nothing of the class).")
    noise: float = Field(default=0.1, ge=0.0, le=1.0, description="Pixel noise (std).")
    min_scale: float = Field(default=0.2, ge=0.1, le=0.45,
                             description="Smallest shape radius, as a share of the side.")
    max_scale: float = Field(default=0.4, ge=0.1, le=0.45,
                             description="Largest shape radius, as a share of the side.")
    train_fraction: float = Field(default=0.8, ge=0.1, le=0.9,
                                  description="Share of the images used for training.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Seed of everything.")


def inside(kind: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether the points (u, v), in the shape's own frame (unit circumradius), are inside."""
    if kind == 0:
        return u * u + v * v <= 1.0
    if kind == 1:  # a square inscribed in the unit circle
        half = 1 / np.sqrt(2)
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    # an equilateral triangle inscribed in the unit circle: three half-planes
    inner = np.ones_like(u, dtype=bool)
    for a in EDGE_NORMALS:
        inner &= u * np.cos(a) + v * np.sin(a) <= 0.5
    return inner


def draw(labels: np.ndarray, rng: np.random.Generator, p: ShapesParams) -> np.ndarray:
    """(N, side, side) coverage in [0, 1] of each label's shape, placed at random."""
    n, side = len(labels), p.size
    lo, hi = sorted((p.min_scale, p.max_scale))
    radius = rng.uniform(lo, hi, n) * side
    # the centre keeps the whole circumcircle on the image
    cx, cy = (rng.uniform(radius + 0.5, side - radius - 0.5) for _ in range(2))
    theta = rng.uniform(0, 2 * np.pi, n)
    ticks = (np.arange(side * SUPER) + 0.5) / SUPER
    yy, xx = np.meshgrid(ticks, ticks, indexing="ij")
    out = np.empty((n, side, side), np.float32)
    for i in range(n):
        dx, dy = (xx - cx[i]) / radius[i], (yy - cy[i]) / radius[i]
        c, s = np.cos(theta[i]), np.sin(theta[i])
        hit = inside(int(labels[i]), c * dx + s * dy, -s * dx + c * dy).astype(np.float32)
        out[i] = hit.reshape(side, SUPER, side, SUPER).mean(axis=(1, 3))
    return out


def make_shapes(p: ShapesParams) -> Dataset:
    rng = np.random.default_rng(p.seed)
    labels = rng.integers(0, len(CLASSES), p.n_points).astype(np.int64)
    cover = draw(labels, rng, p)[:, None]  # (N, 1, S, S)
    if p.color == "rgb":
        tint = rng.uniform(0.35, 1.0, (p.n_points, 3, 1, 1)).astype(np.float32)
        pixels = cover * tint + 0.05
    else:
        pixels = cover
    pixels = pixels + rng.normal(0, p.noise, pixels.shape).astype(np.float32)
    pixels = np.clip(pixels, 0.0, 1.0).astype(np.float32)
    train, test = split_indices(rng, p.n_points, p.train_fraction, labels)
    channels = 3 if p.color == "rgb" else 1
    return Dataset(name="shapes", task=CLASSIFICATION, x_train=pixels[train],
                   y_train=labels[train], x_test=pixels[test], y_test=labels[test],
                   n_classes=len(CLASSES), feature_names=tuple(
                       f"px{i}" for i in range(channels * p.size * p.size)),
                   points_train=None, points_test=None, extent=None,
                   image_shape=(channels, p.size, p.size), class_names=CLASSES)


DATASETS.register(DatasetEntry(
    "shapes", "Circles, squares and triangles at random positions, sizes and rotations, with "
    "noise, in grey or colour: where convolution beats dense layers.", CLASSIFICATION,
    ShapesParams, make_shapes, plane=False,
    sample_shape=lambda p: (3 if p.color == "rgb" else 1, p.size, p.size),
    classes=len(CLASSES), images=True))
