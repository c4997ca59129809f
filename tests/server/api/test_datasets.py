"""POST /datasets/points: a 2-D set's raw points for drawing, capped, with located refusals.

May import: stdlib, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from engine import Choice, load_dataset
from server.api.datasets import MAX_POINTS
from server.api.schemas import DatasetPoints, Problem

URL = "/api/v1/datasets/points"


def test_xor_points_match_the_engine(client: TestClient) -> None:
    body = {"name": "xor", "params": {"n_points": 200, "train_fraction": 0.7, "seed": 3}}
    r = client.post(URL, json=body)
    assert r.status_code == 200, r.text
    pts = DatasetPoints.model_validate(r.json())
    data = load_dataset(Choice.model_validate(body))
    assert pts.total == 200 and len(pts.x) == len(pts.y) == len(pts.split) == 200
    assert pts.split == ["train"] * 140 + ["test"] * 60
    assert pts.extent == data.extent and pts.task == "classification"
    both = np.concatenate([data.points_train, data.points_test])
    assert np.allclose(np.array(pts.x), both, atol=1e-4)
    assert pts.y == [*data.y_train.tolist(), *data.y_test.tolist()]
    assert all(isinstance(v, int) for v in pts.y)  # classes stay integers in the JSON


def test_big_sets_are_thinned_evenly_per_split(client: TestClient) -> None:
    r = client.post(URL, json={"name": "circle", "params": {"n_points": 100_000}})
    pts = DatasetPoints.model_validate(r.json())
    assert pts.total == 100_000 and len(pts.x) <= MAX_POINTS == pts.max_points
    assert len(pts.x) >= MAX_POINTS * 0.9
    assert abs(pts.split.count("train") - pts.split.count("test")) <= 2  # the 50/50 split kept


def test_regression_targets_are_floats(client: TestClient) -> None:
    pts = DatasetPoints.model_validate(client.post(URL, json={"name": "plane"}).json())
    assert pts.task == "regression" and any(not float(v).is_integer() for v in pts.y)


def test_refusals_are_located(client: TestClient) -> None:
    def refused(body: dict, field: str, needle: str) -> None:  # type: ignore[type-arg]
        r = client.post(URL, json=body)
        assert r.status_code == 422, r.text
        problem = Problem.model_validate(r.json())
        assert needle in problem.detail, problem.detail
        assert any(e.field == field for e in problem.errors), problem.errors

    refused({"name": "xor", "params": {"noise": 5}}, "data.params.noise", "noise")
    refused({"name": "xor", "params": {"n_pts": 5}}, "data.params.n_pts", "n_pts")
    refused({"name": "nope"}, "data.name", "nope")
    refused({"name": "digits"}, "data.name", "2-D plane")
    refused({"params": {}}, "name", "name")
