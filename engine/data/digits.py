"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download) as a data set.

Each image is 64 pixels scaled from 0..16 to [0, 1], flattened to 64 features or kept as one
1x8x8 image (`shape`: what convolutions and image views need); labels are the digits 0..9.
The set is shuffled with `seed` and split per class, so that train and test both hold every
digit in about the same share.
May import: stdlib, numpy, pydantic, scikit-learn, engine.core.registry, engine.data.base.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np
from pydantic import Field
from sklearn.datasets import load_digits

from engine.core.registry import Params
from engine.data.base import CLASSIFICATION, DATASETS, Dataset, DatasetEntry, split_indices

N_DIGITS = 1797
N_CLASSES = 10
FEATURE_NAMES = tuple(f"px{i}" for i in range(64))


class DigitsParams(Params):
    train_fraction: float = Field(
        default=0.8, ge=0.1, le=0.9, description="Share of the images used for training."
    )
    seed: int = Field(
        default=0, ge=0, le=2**32 - 1, description="Seed of the shuffle before the split."
    )
    shape: Literal["flat", "image"] = Field(
        default="flat", description="'flat': 64 features; 'image': one 1x8x8 image per sample "
        "(channels, height, width).")
    n_points: int | None = Field(
        default=None, ge=50, le=N_DIGITS,
        description="Use only this many images, drawn at random (none: all 1,797).",
    )


@cache
def _raw() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 64) float32 pixels in [0, 1] and (1797,) int64 labels, read once per process."""
    bunch = load_digits()
    pixels = np.asarray(bunch.data, dtype=np.float32) / 16.0
    labels = np.asarray(bunch.target, dtype=np.int64)
    pixels.setflags(write=False)  # shared by every load: callers get copies via indexing
    labels.setflags(write=False)
    return pixels, labels


def sample_shape(p: DigitsParams) -> tuple[int, ...]:
    return (1, 8, 8) if p.shape == "image" else (64,)


def make_digits(p: DigitsParams) -> Dataset:
    pixels, labels = _raw()
    rng = np.random.default_rng(p.seed)
    keep = np.arange(len(labels))
    if p.n_points is not None:
        keep = np.sort(rng.choice(len(labels), size=p.n_points, replace=False))
    train, test = split_indices(rng, keep.size, p.train_fraction, labels[keep])
    train, test = keep[train], keep[test]
    if p.shape == "image":
        pixels = pixels.reshape(-1, 1, 8, 8)  # (N, C, H, W)
    return Dataset(
        name="digits",
        task=CLASSIFICATION,
        x_train=pixels[train],
        y_train=labels[train],
        x_test=pixels[test],
        y_test=labels[test],
        n_classes=N_CLASSES,
        feature_names=FEATURE_NAMES,
        points_train=None,
        points_test=None,
        extent=None,
        image_shape=(1, 8, 8),
    )


DATASETS.register(
    DatasetEntry(
        "digits",
        "scikit-learn's 8x8 handwritten digits: 64 pixels in [0, 1] (flat, or 1x8x8 "
        "images), 10 classes.",
        CLASSIFICATION,
        DigitsParams,
        make_digits,
        plane=False,
        sample_shape=sample_shape,
        classes=N_CLASSES,
        images=True,
    )
)
