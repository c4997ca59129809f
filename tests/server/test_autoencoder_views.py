"""An autoencoder run through the real server: its views (reconstructions as uint8 images,
the code as float32 points with int32 labels) stream as binary frames and decode to arrays of
the declared dtypes and shapes; its named metrics are stored and served by /metrics."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from engine import presets
from tests.server.conftest import frame, post_run, read_until_end, wait_status

API = "/api/v1"


def ae_spec() -> dict:
    spec = next(p["spec"] for p in presets() if p["name"] == "ae_digits_denoising")
    raw = spec.model_dump(mode="json")
    raw["training"]["epochs"] = 2
    return raw


def test_autoencoder_views_travel_as_binary_frames(client: TestClient) -> None:
    run = post_run(client, ae_spec())
    done = wait_status(client, run.id, {"completed", "failed"})
    assert done.status == "completed", done.failure_reason
    assert done.metrics["test_loss"] < done.metrics["test_noisy_error"]
    with client.websocket_connect(f"{API}/runs/{run.id}/events") as ws:
        assert frame(ws.receive())["type"] == "hello"
        frames = read_until_end(ws)
        kinds = {"reconstructions_sampled", "code_sampled"}
        while not kinds <= {f["type"] for f in frames}:
            message = ws.receive()
            assert message.get("bytes") is not None, "views with arrays travel as binary frames"
            frames.append(frame(message))
    rec = next(f for f in frames if f["type"] == "reconstructions_sampled")
    assert rec["rows"] == ["clean", "noisy", "reconstructed"]
    assert rec["images"].dtype == np.uint8 and rec["images"].shape == (3, 16, 1, 8, 8)
    assert rec["labels"].dtype == np.int32 and len(rec["error"]) == 16
    code = next(f for f in frames if f["type"] == "code_sampled")
    assert code["projection"] == "pca" and code["points"].dtype == np.float32
    assert code["points"].shape[1] == 2 and code["labels"].shape == code["points"].shape[:1]
    assert code["mean_abs"].shape == (32,) and 0 <= code["sparsity"] <= 1
    series = client.get(f"{API}/runs/{run.id}/metrics").json()["series"]
    assert {"loss", "test_loss", "test_noisy_error", "test_code_sparsity"} <= set(series)
