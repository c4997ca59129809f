"""The worker's path: a run's grid_computed leaves the worker as a binary frame (its model
declares array fields) and reaches a websocket client in the documented layout, with the values
the engine computes for the same spec and seed.

May import: stdlib, numpy, fastapi.testclient, server, engine's public names, the conftest.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from engine import Event, GridComputed, RunSpec, Trainer, parse_event
from server.api.frames import decode, to_event
from tests.server.conftest import post_run, wait_status, xor_spec

TERMINAL = {"run_completed", "run_stopped", "run_failed"}


def raw_frames(ws: Any) -> tuple[dict[str, bytes], list[str]]:
    """({type: binary frame}, types of the text frames) of a finished run's catch-up, up to its
    end and its latest grid (the heavy frames follow the light events)."""
    binary: dict[str, bytes] = {}
    types: list[str] = []
    while not (TERMINAL & set(types) and "grid_computed" in binary):
        message = ws.receive()
        if message.get("bytes") is not None:
            binary[decode(message["bytes"])[0]["type"]] = message["bytes"]
        else:
            types.append(json.loads(message["text"])["type"])
    return binary, types


def test_grid_travels_as_a_binary_frame_with_the_engines_values(client: TestClient) -> None:
    spec = xor_spec(epochs=3, grid_every=25)
    run = post_run(client, spec)
    done = wait_status(client, run.id, {"completed"})
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        binary, types = raw_frames(ws)
    assert "grid_computed" not in types  # never as JSON text
    frame = binary["grid_computed"]  # the latest grid: the run's last
    (n,) = struct.unpack_from("<Q", frame)
    header = json.loads(frame[8:8 + n])
    assert n % 8 == 0 and set(header) == {"__metadata__", "values"}  # binary: no confidence
    assert header["values"] == {"dtype": "F32", "shape": [8, 8], "data_offsets": [0, 256]}
    grid = parse_event(to_event(frame))
    assert isinstance(grid, GridComputed) and grid.mode == "binary"

    trainer = Trainer(RunSpec.model_validate(spec))  # the engine in-process: the oracle
    grids: list[Event] = []
    trainer.subscribe(grids.append, types={"grid_computed"})
    trainer.run()
    want = grids[-1]
    assert isinstance(want, GridComputed) and grid.step == want.step == done.step
    raw = np.frombuffer(frame, "<f4", 64, 8 + n).reshape(8, 8)  # the bytes, as a client reads
    np.testing.assert_allclose(raw, want.values, atol=1e-4)
    np.testing.assert_array_equal(grid.values, raw)
