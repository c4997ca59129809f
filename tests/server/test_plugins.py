"""A family, a probe with array payloads and metrics the server and the page have never heard
of, registered by a plugin module from outside the engine (tests/plugins/least_squares.py),
run through the real server, worker process and websocket: no module outside the test knows
them. The catalog lists them for charting, /metrics returns the new series, and the probe's
float32 and float16 arrays arrive as a binary frame and decode to the exact fit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engine import RunSpec, load_dataset
from server.app import create_app
from tests.plugins import least_squares
from tests.server.conftest import frame, make_settings, post_run, read_until_end, wait_status

API = "/api/v1"
PLUGIN = "tests.plugins.least_squares"


@pytest.fixture(scope="module")
def plugged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(Path(tmp_path_factory.mktemp("plugged")), plugins=[PLUGIN])
    with TestClient(create_app(settings)) as c:
        yield c


def exact_fit() -> np.ndarray:
    data = load_dataset(RunSpec.model_validate(least_squares.spec()).data)
    x = np.hstack([data.x_train, np.ones((len(data.x_train), 1))]).astype(np.float64)
    return np.linalg.lstsq(x, data.y_train.astype(np.float64), rcond=None)[0]


def test_the_catalog_lists_the_plugins_family_metrics_and_probe(plugged: TestClient) -> None:
    catalog = plugged.get(f"{API}/catalog").json()
    family = next(f for f in catalog["families"] if f["name"] == "least_squares")
    assert [(m["name"], m["split"], m["chart"]) for m in family["metrics"]] == [
        ("residual", "batch", "residual"), ("test_residual", "test", "residual")]
    assert family["probes"] == ["coefficients"]
    probe = next(p for p in catalog["probes"] if p["name"] == "coefficients")
    assert probe["events"] == ["coefficients_sampled"] and probe["families"] == ["least_squares"]


def test_a_plugin_run_streams_stores_and_decodes(plugged: TestClient) -> None:
    run = post_run(plugged, least_squares.spec(epochs=2))
    done = wait_status(plugged, run.id, {"completed", "failed"})
    assert done.status == "completed", done.failure_reason
    assert done.metrics and done.metrics["test_residual"] < 0.05
    with plugged.websocket_connect(f"{API}/runs/{run.id}/events") as ws:
        assert frame(ws.receive())["type"] == "hello"
        frames = read_until_end(ws)
        started = next(f for f in frames if f["type"] == "run_started")
        assert started["family"] == "least_squares"
        assert [m["name"] for m in started["metrics"]] == ["residual", "test_residual"]
        steps = [f for f in frames if f["type"] == "steps_completed"]
        assert sum(len(f["metrics"]["residual"]) for f in steps) == done.step
        while not any(f["type"] == "coefficients_sampled" for f in frames):
            message = ws.receive()  # the last heavy frame of each type follows the end
            assert message.get("bytes") is not None, "array events travel as binary frames"
            frames.append(frame(message))
    coef = next(f for f in frames if f["type"] == "coefficients_sampled")
    assert coef["weights"].dtype == np.float32 and coef["diagonal"].dtype == np.float16
    want = exact_fit()
    np.testing.assert_allclose(coef["weights"], want[:-1], rtol=1e-5, atol=1e-6)
    assert coef["bias"] == pytest.approx(want[-1], abs=1e-6)
    series = plugged.get(f"{API}/runs/{run.id}/metrics", params={"max_points": 4000}).json()
    assert series["series"]["residual"]["total"] == done.step
    assert len(series["series"]["test_residual"]["values"]) >= 1
    assert "loss" not in series["series"]  # nothing supervised was made up along the way


def test_a_spec_naming_a_family_that_is_not_loaded_is_refused(plugged: TestClient) -> None:
    spec = least_squares.spec() | {"family": "kmeans"}
    r = plugged.post(f"{API}/runs", json=spec)
    assert r.status_code == 422
    assert any(e["field"] == "family.name" and "unknown family 'kmeans'" in e["message"]
               for e in r.json()["errors"])
