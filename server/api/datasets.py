"""Data sets: the raw 2-D points of a data-set choice, for thumbnails and the boundary plot.

May import: stdlib, fastapi, server modules, engine's public names.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import APIRouter

from engine import Choice, LocatedError, SpecError, load_dataset
from server.api.errors import ERRORS, SpecRefused
from server.api.schemas import DatasetPoints

router = APIRouter(prefix="/datasets", tags=["datasets"])
MAX_POINTS = 5_000  # enough to see any toy set; a 100,000-point set would be ~3 MB of JSON


@router.post("/points", response_model=DatasetPoints, responses=ERRORS)
def dataset_points(body: Choice) -> DatasetPoints:
    """A 2-D data set's train and test points (at most 5,000, thinned evenly per split)."""
    try:
        data = load_dataset(body)
    except SpecError as exc:
        where = "; ".join(f"{e.field}: {e.message}" for e in exc.errors[:3])
        raise SpecRefused(f"the data set cannot be generated: {where}", exc.errors) from exc
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
