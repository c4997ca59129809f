"""Data sets: the raw 2-D points of a data-set choice, for thumbnails and the boundary plot,
and an image set's first training images, for its thumbnails.

May import: stdlib, fastapi, server modules, engine's public names.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from engine import Choice, Dataset, LocatedError, SpecError, load_dataset
from server.api.errors import ERRORS, SpecRefused
from server.api.schemas import DatasetPoints, DatasetSamples

router = APIRouter(prefix="/datasets", tags=["datasets"])
MAX_POINTS = 5_000  # enough to see any toy set; a 100,000-point set would be ~3 MB of JSON
MAX_SAMPLES = 64  # a panel's thumbnails; 64 of 28x28 pixels are about 200 KB of JSON


def loaded(body: Choice) -> Dataset:
    """The chosen set, or a refusal that names the wrong field."""
    try:
        return load_dataset(body)
    except SpecError as exc:
        where = "; ".join(f"{e.field}: {e.message}" for e in exc.errors[:3])
        raise SpecRefused(f"the data set cannot be generated: {where}", exc.errors) from exc


@router.post("/points", response_model=DatasetPoints, responses=ERRORS)
def dataset_points(body: Choice) -> DatasetPoints:
    """A 2-D data set's train and test points (at most 5,000, thinned evenly per split)."""
    data = loaded(body)
    if data.points_train is None or data.points_test is None or data.extent is None:
        why = f"{body.name!r} does not lie in the 2-D plane; it has no points to draw"
        raise SpecRefused(why, [LocatedError(None, "data.name", why)])
    total = len(data.points_train) + len(data.points_test)
    stride = max(1, math.ceil(total / MAX_POINTS))  # the same stride keeps the split's share
    x: list[Any] = []
    y: list[Any] = []
    split: list[Literal["train", "test"]] = []
    for name, pts, targets in (("train", data.points_train, data.y_train),
                               ("test", data.points_test, data.y_test)):
        kept = pts[::stride].astype(float).round(4).tolist()  # finer than a pixel, half the JSON
        x += kept
        y += targets[::stride].tolist()
        split += [name] * len(kept)  # type: ignore[list-item]
    return DatasetPoints(name=data.name, task=data.task, x=x, y=y, split=split,
                         extent=data.extent, total=total, max_points=MAX_POINTS)


@router.post("/samples", response_model=DatasetSamples, responses=ERRORS)
def dataset_samples(body: Choice, count: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = 16
                    ) -> DatasetSamples:
    """An image set's first `count` training images as uint8 pixels, with their labels."""
    data = loaded(body)
    shape = data.sample_image_shape
    if shape is None:
        what = "lie in the 2-D plane" if data.extent is not None else \
            f"have shape {list(data.input_shape)} and the set names no image shape"
        why = f"the samples of {body.name!r} are not images: they {what}"
        raise SpecRefused(why, [LocatedError(None, "data.name", why)])
    n = min(count, len(data.x_train))
    images = data.images(data.x_train[:n]).reshape(n, -1)  # (n, C*H*W)
    labels = data.y_train[:n].tolist() if data.n_classes is not None else [None] * n
    return DatasetSamples(sample_shape=shape, class_names=data.named_classes,
                          images=images.tolist(), labels=labels)
