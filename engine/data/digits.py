"""The 8x8 handwritten digits scikit-learn bundles (1,797 images, UCI's optdigits test set),
shipped here as a 45 KB array file (files/digits.npz: pixels 0..16 and labels, as uint8), so
that the runtime needs neither scikit-learn nor SciPy for them.

Each image is 64 pixels scaled from 0..16 to [0, 1], flattened to 64 features or kept as one
1x8x8 image (`shape`: what convolutions and image views need), optionally upscaled
(bilinearly) to 16x16 or 28x28, MNIST's size; labels are the digits 0..9. The set is shuffled
with `seed` and split per class, so that train and test both hold every digit in about the
same share.
May import: stdlib, numpy, torch, pydantic, engine.core.registry, engine.data.base.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field

from engine.core.registry import Params
from engine.data.base import CLASSIFICATION, DATASETS, Dataset, DatasetEntry, split_indices

N_DIGITS = 1797
N_CLASSES = 10
FILE = Path(__file__).resolve().parent / "files" / "digits.npz"


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
    size: Literal[8, 16, 28] = Field(
        default=8, description="Side of each image: 8 as drawn, or upscaled bilinearly to 16 or "
        "28 (MNIST's size), e.g. for deeper convolutional nets.")
    n_points: int | None = Field(
        default=None, ge=50, le=N_DIGITS,
        description="Use only this many images, drawn at random (none: all 1,797).",
    )


@cache
def _raw() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 64) float32 pixels in [0, 1] and (1797,) int64 labels, read once per process."""
    with np.load(FILE) as arrays:
        pixels = arrays["pixels"].astype(np.float32) / 16.0
        labels = arrays["labels"].astype(np.int64)
    pixels.setflags(write=False)  # shared by every load: callers get copies via indexing
    labels.setflags(write=False)
    return pixels, labels


def sample_shape(p: DigitsParams) -> tuple[int, ...]:
    return (1, p.size, p.size) if p.shape == "image" else (p.size * p.size,)


@cache
def _scaled(size: int) -> np.ndarray:
    """(1797, size²) pixels: the 8x8 images upscaled bilinearly (still in [0, 1])."""
    pixels, _ = _raw()
    if size == 8:
        return pixels
    images = torch.tensor(pixels.reshape(-1, 1, 8, 8))  # a copy: the cached array is read-only
    up = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    out = up.clamp_(0, 1).reshape(len(pixels), -1).numpy()
    out.setflags(write=False)
    return out


def make_digits(p: DigitsParams) -> Dataset:
    _, labels = _raw()
    pixels = _scaled(p.size)
    rng = np.random.default_rng(p.seed)
    keep = np.arange(len(labels))
    if p.n_points is not None:
        keep = np.sort(rng.choice(len(labels), size=p.n_points, replace=False))
    train, test = split_indices(rng, keep.size, p.train_fraction, labels[keep])
    train, test = keep[train], keep[test]
    if p.shape == "image":
        pixels = pixels.reshape(-1, 1, p.size, p.size)  # (N, C, H, W)
    return Dataset(
        name="digits",
        task=CLASSIFICATION,
        x_train=pixels[train],
        y_train=labels[train],
        x_test=pixels[test],
        y_test=labels[test],
        n_classes=N_CLASSES,
        feature_names=tuple(f"px{i}" for i in range(p.size * p.size)),
        points_train=None,
        points_test=None,
        extent=None,
        image_shape=(1, p.size, p.size),
    )


DATASETS.register(
    DatasetEntry(
        "digits",
        "8x8 handwritten digits (scikit-learn's set): 64 pixels in [0, 1] (flat, or 1x8x8 "
        "images, upscaled to 16x16 or 28x28 on request), 10 classes.",
        CLASSIFICATION,
        DigitsParams,
        make_digits,
        plane=False,
        sample_shape=sample_shape,
        classes=N_CLASSES,
        images=True,
    )
)
