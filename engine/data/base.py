"""The data-set registry: what a loaded data set looks like, and how a spec's choice loads one.

`Dataset` holds train and test arrays after the feature transform, plus the raw 2-D points and
the plane's extent for the sets that live in the plane, so that a front end can draw both the
points and a prediction grid. `DatasetEntry` names a generator and its parameter model, and says
from the parameters alone what the samples look like (`DataShape`: what a spec check needs, so
that checking never generates); each set module registers its entries in `DATASETS`. Shared
pieces for the plane sets (their common parameters, the stratified split, the assembly of a
`Dataset`) live here too.
May import: stdlib, numpy, pydantic, engine.core.registry, engine.data.features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from engine.core.registry import Params, Registry
from engine.data.features import FEATURES, FeatureName, apply_features

CLASSIFICATION = "classification"
REGRESSION = "regression"

# TensorFlow Playground draws its points within radius 5 and shows the plane out to 6.
EXTENT: tuple[float, float, float, float] = (-6.0, 6.0, -6.0, 6.0)
RADIUS = 5.0


# eq=False: the fields are arrays, whose `==` is elementwise, so a generated __eq__ would raise.
@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded data set: inputs after the feature transform, targets, and plotting context."""

    name: str
    task: str
    x_train: np.ndarray  # (N, F) float32
    y_train: np.ndarray  # (N,) int64 classes or float32 targets
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None
    feature_names: tuple[str, ...]
    points_train: np.ndarray | None  # (N, 2) float32 raw coordinates
    points_test: np.ndarray | None
    extent: tuple[float, float, float, float] | None  # (x_min, x_max, y_min, y_max)
    # (C, H, W) of a flat set whose features are an image's pixels (digits' 64 = 1x8x8)
    image_shape: tuple[int, int, int] | None = None
    class_names: tuple[str, ...] | None = None  # None: the classes are named "0", "1", ...

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def kind(self) -> str:
        """'plane' (points of the 2-D plane, which a grid can cover), 'image' (C, H, W
        samples) or 'vector' (flat features): what the probes and views can show."""
        return kind_of(self.extent is not None, self.input_shape)

    @property
    def sample_image_shape(self) -> tuple[int, int, int] | None:
        """(C, H, W) of one sample shown as an image: an image set's own shape, a flat set's
        declared one; None: the samples are not images (the plane's points, plain features)."""
        shape = self.input_shape
        if len(shape) == 3:
            return (shape[0], shape[1], shape[2])
        if self.image_shape is not None and shape == (int(np.prod(self.image_shape)),):
            return self.image_shape
        return None

    @property
    def named_classes(self) -> list[str] | None:
        """Each class's name (the set's own, else its index); None for real targets."""
        if self.n_classes is None:
            return None
        return list(self.class_names or (str(c) for c in range(self.n_classes)))

    @cached_property
    def pixel_range(self) -> tuple[float, float]:
        """The values that show as black and white: 0 and 1 for pixels in [0, 1] (every
        built-in image set), else the set's smallest and largest value."""
        lo = float(min(self.x_train.min(), self.x_test.min()))
        hi = float(max(self.x_train.max(), self.x_test.max()))
        return (0.0, 1.0) if 0.0 <= lo and hi <= 1.0 else (lo, hi)

    def images(self, x: np.ndarray) -> np.ndarray:
        """Samples x of this set as (N, C, H, W) uint8 images: 0 is the pixel range's low end,
        255 its high end (clipped). Raises ValueError for a set whose samples are not images."""
        shape = self.sample_image_shape
        if shape is None:
            raise ValueError(f"the samples of {self.name!r} are not images")
        lo, hi = self.pixel_range
        scaled = np.asarray(x, dtype=np.float32).reshape(len(x), *shape)  # (N, C, H, W)
        if (lo, hi) != (0.0, 1.0):
            scaled = (scaled - np.float32(lo)) / np.float32(max(hi - lo, 1e-12))
        return np.round(np.clip(scaled, 0.0, 1.0) * np.float32(255)).astype(np.uint8)

    def describe(self) -> DataShape:
        return DataShape(self.name, self.task, self.input_shape, self.n_classes, self.kind)

    def grid(self, resolution: int) -> np.ndarray | None:
        """(R*R, F) inputs at the cell centres of an R x R grid, in image order (top row first)."""
        if self.extent is None:
            return None
        if resolution < 1:
            raise ValueError(f"grid resolution must be at least 1, got {resolution}")
        return apply_features(self.feature_names, grid_points(self.extent, resolution))

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able facts about the set, for events and the API."""
        return {
            "name": self.name,
            "task": self.task,
            "n_train": int(self.x_train.shape[0]),
            "n_test": int(self.x_test.shape[0]),
            "n_classes": self.n_classes,
            "feature_names": list(self.feature_names),
            "input_shape": list(self.input_shape),
            "extent": None if self.extent is None else [float(v) for v in self.extent],
        }


@dataclass(frozen=True)
class DataShape:
    """What a data set's samples look like, known from its parameters without generating one:
    enough to infer the graph's shapes and to check the output against the loss."""

    name: str
    task: str
    input_shape: tuple[int, ...]  # one sample, e.g. (F,) or (C, H, W)
    n_classes: int | None  # None: a real-valued target
    kind: str  # 'plane', 'image' or 'vector', as Dataset.kind


def kind_of(plane: bool, input_shape: tuple[int, ...]) -> str:
    if plane:
        return "plane"
    return "image" if len(input_shape) == 3 else "vector"


def grid_points(extent: tuple[float, float, float, float], resolution: int) -> np.ndarray:
    """(R*R, 2) float32 cell centres, rows from y_max down to y_min, columns x_min -> x_max."""
    x_min, x_max, y_min, y_max = extent
    offsets = (np.arange(resolution, dtype=np.float64) + 0.5) / resolution
    xs = x_min + offsets * (x_max - x_min)
    ys = y_max - offsets * (y_max - y_min)
    xx, yy = np.meshgrid(xs, ys, indexing="xy")  # (R, R): row i is ys[i], column j is xs[j]
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


@dataclass(frozen=True)
class DatasetEntry:
    """One registered data set: its name, task, parameter model and generator, and what its
    samples look like from the parameters alone (`sample_shape`, `classes`)."""

    name: str
    description: str
    task: str
    params: type[Params]
    make: Callable[[Any], Dataset]
    plane: bool = True  # whether points lie in the 2-D plane (and a prediction grid exists)
    # One sample's shape from the parameters; None: learnt by generating the set (a plugin's
    # set may leave it out, and then its spec checks generate it, once, through the cache).
    sample_shape: Callable[[Any], tuple[int, ...]] | None = None
    # The number of classes: a number, or one from the parameters; None for real targets.
    classes: int | Callable[[Any], int] | None = None
    images: bool = False  # whether its samples are images (flat or not): thumbnails, image views

    def catalog_extra(self) -> dict[str, Any]:
        return {"task": self.task, "plane": self.plane, "images": self.images}

    def known_without_samples(self) -> bool:
        return self.sample_shape is not None and (
            self.task != CLASSIFICATION or self.classes is not None)

    def describe(self, params: Any) -> DataShape:
        """The shape of the samples `make(params)` would give, without generating them."""
        assert self.sample_shape is not None, f"{self.name} does not know its shape"
        shape = tuple(int(d) for d in self.sample_shape(params))
        n_classes = self.classes(params) if callable(self.classes) else self.classes
        return DataShape(self.name, self.task, shape, n_classes, kind_of(self.plane, shape))


DATASETS: Registry[DatasetEntry] = Registry("data set")


class PlaneParams(Params):
    """Parameters shared by every 2-D set."""

    n_points: int = Field(
        default=500, ge=10, le=100_000, description="Number of points, train and test together."
    )
    noise: float = Field(
        default=0.0, ge=0.0, le=1.0,
        description="Noise as a fraction of the set's scale (0: clean, 1: heavily blurred).",
    )
    train_fraction: float = Field(
        default=0.5, ge=0.1, le=0.9, description="Share of the points used for training."
    )
    seed: int = Field(
        default=0, ge=0, le=2**32 - 1, description="Seed of the generator and of the split."
    )
    features: list[FeatureName] = Field(
        # A plain default (pydantic copies it per instance) so that the JSON Schema shows it.
        default=["x1", "x2"],
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="Input features derived from (x1, x2), e.g. x1_sq for x1 squared.",
    )

    @field_validator("features")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("feature names must be unique")
        return value


def feature_columns(params: PlaneParams) -> tuple[int, ...]:
    """A plane set's sample: one column per chosen feature (see features.py)."""
    return (len(params.features),)


def split_indices(
    rng: np.random.Generator, n: int, train_fraction: float, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and test indices; with labels, every class is split in proportion."""
    n_train = min(max(int(round(train_fraction * n)), 1), n - 1)
    order = rng.permutation(n)
    if labels is not None:
        # Rank each point within its class (in shuffled order) and sort by rank / class size:
        # any prefix of that order then holds each class in about its overall share.
        shuffled = labels[order]
        rank = np.empty(n, dtype=np.float64)
        for c in np.unique(shuffled):
            members = np.flatnonzero(shuffled == c)
            rank[members] = (np.arange(members.size) + 0.5) / members.size
        order = order[np.argsort(rank, kind="stable")]
    train, test = order[:n_train], order[n_train:]
    # The stratified order cycles through the classes; shuffle again so batches do not.
    return rng.permutation(train), rng.permutation(test)


def plane_dataset(
    name: str,
    task: str,
    params: PlaneParams,
    rng: np.random.Generator,
    points: np.ndarray,
    targets: np.ndarray,
    n_classes: int | None,
) -> Dataset:
    """Split generated points, apply the chosen features and assemble the `Dataset`."""
    points = np.asarray(points, dtype=np.float32)
    classification = task == CLASSIFICATION
    targets = np.asarray(targets, dtype=np.int64 if classification else np.float32)
    train, test = split_indices(
        rng, points.shape[0], params.train_fraction, targets if classification else None
    )
    names = tuple(params.features)
    return Dataset(
        name=name,
        task=task,
        x_train=apply_features(names, points[train]),
        y_train=targets[train],
        x_test=apply_features(names, points[test]),
        y_test=targets[test],
        n_classes=n_classes,
        feature_names=names,
        points_train=np.ascontiguousarray(points[train]),
        points_test=np.ascontiguousarray(points[test]),
        extent=EXTENT,
    )


def class_sizes(n: int, n_classes: int) -> list[int]:
    """Balanced class sizes summing to n (the first classes take the remainder)."""
    base, extra = divmod(n, n_classes)
    return [base + (1 if c < extra else 0) for c in range(n_classes)]


def uniform_noise(rng: np.random.Generator, n: int, noise: float) -> np.ndarray:
    """(n, 2) shifts of up to noise * RADIUS per axis, as TensorFlow Playground blurs its sets."""
    return rng.uniform(-RADIUS, RADIUS, size=(n, 2)) * noise


__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "EXTENT",
    "FEATURES",
    "RADIUS",
    "REGRESSION",
    "DataShape",
    "Dataset",
    "DatasetEntry",
    "PlaneParams",
    "class_sizes",
    "feature_columns",
    "grid_points",
    "kind_of",
    "plane_dataset",
    "split_indices",
    "uniform_noise",
]
