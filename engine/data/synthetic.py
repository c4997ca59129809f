"""MNIST-sized synthetic images: 28x28 = 784 features in [0, 1], 10 classes, no download.

Each class has a seeded random prototype (a smooth blob pattern); an example is its class's
prototype plus Gaussian pixel noise, clipped to [0, 1]. Big enough to time a 784-256-256-10
MLP as on MNIST, easy enough that such a net learns it in an epoch.
May import: stdlib, numpy, pydantic, engine.core.registry, engine.data.base.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from engine.core.registry import Params
from engine.data.base import CLASSIFICATION, DATASETS, Dataset, DatasetEntry, split_indices

SIDE = 28
N_CLASSES = 10
FEATURE_NAMES = tuple(f"px{i}" for i in range(SIDE * SIDE))


class SyntheticImagesParams(Params):
    n_points: int = Field(default=2000, ge=20, le=70_000,
                          description="Images, train and test together.")
    noise: float = Field(default=0.3, ge=0.0, le=2.0, description="Pixel noise (std).")
    train_fraction: float = Field(default=0.8, ge=0.1, le=0.9,
                                  description="Share of the images used for training.")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Seed of everything.")


def prototypes(rng: np.random.Generator) -> np.ndarray:
    """(10, 784) class patterns: a few Gaussian blobs each, scaled into [0, 1]."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    protos = np.zeros((N_CLASSES, SIDE, SIDE), np.float32)
    for c in range(N_CLASSES):
        for cy, cx, r in zip(*rng.uniform((4, 4, 2), (24, 24, 6), (4, 3)).T, strict=True):
            protos[c] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    protos /= protos.max(axis=(1, 2), keepdims=True)
    return protos.reshape(N_CLASSES, -1)


def make_synthetic_images(p: SyntheticImagesParams) -> Dataset:
    rng = np.random.default_rng(p.seed)
    labels = rng.integers(0, N_CLASSES, p.n_points).astype(np.int64)
    pixels = prototypes(rng)[labels] + rng.normal(0, p.noise, (p.n_points, SIDE * SIDE))
    pixels = np.clip(pixels, 0.0, 1.0).astype(np.float32)  # (N, 784)
    train, test = split_indices(rng, p.n_points, p.train_fraction, labels)
    return Dataset(name="synthetic_images", task=CLASSIFICATION, x_train=pixels[train],
                   y_train=labels[train], x_test=pixels[test], y_test=labels[test],
                   n_classes=N_CLASSES, feature_names=FEATURE_NAMES, points_train=None,
                   points_test=None, extent=None,
                   image_shape=(1, SIDE, SIDE))


DATASETS.register(DatasetEntry(
    "synthetic_images", "MNIST-sized synthetic images: 28x28 pixels in [0, 1], 10 classes "
    "(noisy copies of seeded class prototypes).", CLASSIFICATION, SyntheticImagesParams,
    make_synthetic_images, plane=False, sample_shape=lambda p: (SIDE * SIDE,),
    classes=N_CLASSES, images=True))
