"""The plane's extent is fitted to its points: every point inside it with a margin, a square
with readable edges, no larger than needed (the old fixed [-6, 6]² left a tight cluster
small)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.specs import Choice
from engine.data import DATASETS, load_dataset
from engine.data.base import EXTENT_STEP, MARGIN, fitted_extent

PLANE = [e.name for e in DATASETS if e.plane]


def all_points(name: str, **params: object) -> tuple[np.ndarray, tuple[float, ...]]:
    d = load_dataset(Choice(name=name, params=params))
    assert d.points_train is not None and d.points_test is not None and d.extent is not None
    return np.concatenate([d.points_train, d.points_test]), d.extent


@pytest.mark.parametrize("name", PLANE)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_every_point_lies_inside_with_a_margin_and_the_plane_is_tight(
        name: str, noise: float) -> None:
    pts, (x0, x1, y0, y1) = all_points(name, noise=noise)
    half = (x1 - x0) / 2
    assert x1 - x0 == y1 - y0  # square: a circle stays round
    assert all(v / EXTENT_STEP == round(v / EXTENT_STEP) for v in (x0, x1, y0, y1))
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    reach = np.abs(pts - centre).max()
    assert reach * (1 + MARGIN) <= half + 1e-6  # the margin holds on every side
    assert half <= reach * (1 + MARGIN) + 2 * EXTENT_STEP  # and no more than rounding adds


def test_the_playground_sets_get_the_plane_of_their_radius() -> None:
    assert all_points("spiral", noise=0.0)[1] == (-5.5, 5.5, -5.5, 5.5)
    assert all_points("plane", noise=0.0)[1] == (-5.5, 5.5, -5.5, 5.5)


def test_a_tight_cluster_gets_a_small_plane_and_an_offset_one_its_centre() -> None:
    assert all_points("gaussian", noise=0.0)[1][1] < 5.0  # clusters around (±2, ±2)
    shifted = np.array([[10.0, 1.0], [12.0, 3.0]])
    assert fitted_extent(shifted) == (9.5, 12.5, 0.5, 3.5)
    assert fitted_extent(np.zeros((3, 2))) == (-0.5, 0.5, -0.5, 0.5)  # never empty
