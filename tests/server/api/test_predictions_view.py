"""The `predictions` view through the real server: the catalog lists it (a supervised view
for image and flat sets, its parameters' defaults) and names which data sets are images; a
digits run streams `predictions_sampled` as binary frames that decode to the declared dtypes
and shapes, its accuracy that of the run's evaluation at the same step.

May import: stdlib, numpy, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from engine import presets
from server.api.frames import encode, to_event
from tests.server.conftest import frame, post_run, read_until_end, wait_status

API = "/api/v1"


def test_the_catalog_lists_the_view_and_the_image_sets(client: TestClient) -> None:
    catalog = client.get(f"{API}/catalog").json()
    probe = next(p for p in catalog["probes"] if p["name"] == "predictions")
    assert probe["view"] and probe["events"] == ["predictions_sampled"]
    assert probe["families"] == ["supervised"] and probe["data_kinds"] == ["image", "vector"]
    defaults = {k: v.get("default") for k, v in probe["params"]["properties"].items()}
    assert defaults == {"every": None, "max_hz": 2.0, "samples": 32, "mistakes": 8}
    images = {d["name"]: d["images"] for d in catalog["datasets"]}
    assert images["digits"] and images["synthetic_images"] and not images["spiral"]


def test_a_digits_run_streams_predictions_as_binary_frames(client: TestClient) -> None:
    spec = next(p["spec"] for p in presets() if p["name"] == "digits_mlp")
    raw = spec.model_dump(mode="json")
    raw["training"]["epochs"] = 2
    run = post_run(client, raw)
    done = wait_status(client, run.id, {"completed", "failed"})
    assert done.status == "completed", done.failure_reason
    with client.websocket_connect(f"{API}/runs/{run.id}/events") as ws:
        assert frame(ws.receive())["type"] == "hello"
        frames = read_until_end(ws)
    found = [f for f in frames if f["type"] == "predictions_sampled"]
    assert found, [f["type"] for f in frames]
    last = found[-1]
    assert last["images"].dtype == np.uint8 and last["images"].shape == (32, 1, 8, 8)
    assert last["labels"].dtype == last["predicted"].dtype == np.int32
    assert last["confidence"].dtype == np.float32 and last["confidence"].shape == (32,)
    assert last["confusion"].dtype == np.int32 and last["confusion"].shape == (10, 10)
    assert last["confusion"].sum() == 359  # the whole test split (20% of 1,797)
    m = len(last["mistake_labels"])
    assert last["mistake_images"].shape == (m, 1, 8, 8) and 0 < m <= 8
    assert abs(last["accuracy"] - done.metrics["test_accuracy"]) < 1e-6
    assert last["class_names"] == [str(c) for c in range(10)]


def test_no_mistakes_travel_as_empty_arrays() -> None:
    fields = {"type": "predictions_sampled", "run": "r", "seq": 1, "step": 1, "epoch": 0,
              "t": 0.0, "sample_shape": [1, 2, 2], "class_names": ["0", "1"],
              "images": np.zeros((1, 1, 2, 2), np.uint8), "labels": np.zeros(1, np.int32),
              "predicted": np.zeros(1, np.int32), "confidence": np.ones(1, np.float32),
              "confusion": np.array([[1, 0], [0, 0]], np.int32),
              "mistake_images": np.zeros((0, 1, 2, 2), np.uint8),
              "mistake_labels": np.zeros(0, np.int32), "mistake_predicted": np.zeros(0, np.int32),
              "mistake_confidence": np.zeros(0, np.float32), "accuracy": 1.0}
    back = to_event(encode(fields))
    assert back["mistake_images"].shape == (0, 1, 2, 2) and back["accuracy"] == 1.0
    assert back["mistake_confidence"].dtype == np.float32
