"""POST /datasets/samples: an image set's first training images as uint8 rows for thumbnails,
scaled as the `predictions` view scales them, with located refusals.

May import: stdlib, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engine import Choice, load_dataset
from server.api.schemas import DatasetSamples, Problem

URL = "/api/v1/datasets/samples"


@pytest.mark.parametrize("shape", ["flat", "image"])
def test_digits_samples_are_the_first_training_images(client: TestClient, shape: str) -> None:
    body = {"name": "digits", "params": {"shape": shape}}
    r = client.post(URL, json=body)
    assert r.status_code == 200, r.text
    got = DatasetSamples.model_validate(r.json())
    data = load_dataset(Choice.model_validate(body))
    assert got.sample_shape == (1, 8, 8) and got.class_names == [str(c) for c in range(10)]
    assert len(got.images) == len(got.labels) == 16  # the default count
    assert got.labels == data.y_train[:16].tolist()
    pixels = (np.array(data.x_train[:16]).reshape(16, 64) * 255).round()
    np.testing.assert_array_equal(np.array(got.images), pixels)
    assert max(max(row) for row in got.images) == 255  # digits' 16/16 is white


def test_count_is_bounded(client: TestClient) -> None:
    body = {"name": "synthetic_images", "params": {"n_points": 100}}
    got = DatasetSamples.model_validate(client.post(f"{URL}?count=64", json=body).json())
    assert got.sample_shape == (1, 28, 28) and len(got.images) == 64
    assert {len(row) for row in got.images} == {784}
    one = client.post(f"{URL}?count=1", json={"name": "digits"}).json()
    assert len(one["images"]) == 1
    for bad in (0, 65):
        r = client.post(f"{URL}?count={bad}", json={"name": "digits"})
        assert r.status_code == 422, r.text
        assert any(e.field == "count" for e in Problem.model_validate(r.json()).errors), r.text


def test_sets_that_are_not_images_are_refused_at_data_name(client: TestClient) -> None:
    for body, needle in (({"name": "spiral"}, "2-D plane"),
                         ({"name": "digits", "params": {"shape": "round"}}, "shape")):
        r = client.post(URL, json=body)
        assert r.status_code == 422, r.text
        problem = Problem.model_validate(r.json())
        assert needle in problem.detail, problem.detail
        field = "data.name" if body["name"] == "spiral" else "data.params.shape"
        assert any(e.field == field for e in problem.errors), problem.errors
