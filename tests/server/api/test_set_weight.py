"""One weight set over the websocket (set_weight {node, row, col, value}, the drawing's click
on a link): a paused run takes it at once and says so (weight_set, then fresh
weights_sampled, neuron_maps_computed and grid_computed); bad ones are refused with the
field named and change nothing, the run going on (the engine's side is in
tests/engine/core/test_set_weight.py).

May import: stdlib, pytest, fastapi.testclient, server, tests.
"""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient

from server.api.schemas import RunPublic
from tests.server.conftest import frame, long_spec, wait_status

REDRAWN = {"weights_sampled", "neuron_maps_computed", "grid_computed"}


def paused_run(c: TestClient) -> RunPublic:
    spec = long_spec()
    spec["training"]["telemetry"]["grid_every"] = 1  # x -> dense1 (4) -> tanh1 -> out (1)
    r = c.post("/api/v1/runs?paused=true", json=spec)
    assert r.status_code == 201, r.text
    run = RunPublic.model_validate(r.json())
    wait_status(c, run.id, {"paused"})
    return run


def set_weight(ws, **fields) -> None:  # type: ignore[no-untyped-def]
    ws.send_text(json.dumps({"type": "control", "action": "set_weight", **fields}))


def until(ws, kind: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    """Frames received up to and including the first of `kind`."""
    got = []
    while not got or got[-1]["type"] != kind:
        got.append(frame(ws.receive()))
    return got


def test_a_paused_run_takes_a_weight_and_redraws(client: TestClient) -> None:
    run = paused_run(client)
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        until(ws, "run_paused")
        set_weight(ws, node="dense1", row=3, col=1, value=-2.5)
        assert until(ws, "ack")[-1] == {"type": "ack", "action": "set_weight",
                                        "status": "paused"}
        event = until(ws, "weight_set")[-1]
        after = {f["type"]: f for f in until(ws, "grid_computed")}
        while not REDRAWN <= after.keys():
            f = frame(ws.receive())
            after[f["type"]] = f
    assert {k: event[k] for k in ("node", "row", "col", "value", "step")} == {
        "node": "dense1", "row": 3, "col": 1, "value": -2.5, "step": 0}
    layers = {w["node"]: w for w in after["weights_sampled"]["layers"]}
    assert layers["dense1"]["values"][3, 1] == -2.5
    assert after["neuron_maps_computed"]["step"] == 0
    assert client.get(f"/api/v1/runs/{run.id}").json()["step"] == 0  # no step ran
    client.post(f"/api/v1/runs/{run.id}/stop")
    wait_status(client, run.id, {"stopped"})


BAD = [
    ({"node": "nope", "row": 0, "col": 0, "value": 1.0}, "node"),
    ({"node": "tanh1", "row": 0, "col": 0, "value": 1.0}, "node"),  # no weight matrix
    ({"node": "dense1", "row": 4, "col": 0, "value": 1.0}, "row"),  # rows 0..3
    ({"node": "dense1", "row": 0, "col": 2, "value": 1.0}, "col"),  # columns 0..1
    ({"node": "dense1", "row": -1, "col": 0, "value": 1.0}, "row"),
    ({"node": "dense1", "row": 0, "col": 0, "value": math.nan}, "value"),
    ({"node": "dense1", "row": 0, "col": 0, "value": 2e6}, "value"),
    ({"node": "dense1", "row": 0, "col": 0}, "value"),  # missing
]


def test_bad_weights_are_refused_by_field_and_change_nothing(client: TestClient) -> None:
    run = paused_run(client)
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        until(ws, "run_paused")
        for fields, field in BAD:
            set_weight(ws, **fields)
            got = until(ws, "error")
            assert field in got[-1]["message"], (fields, got[-1]["message"])
            assert not [f for f in got if f["type"] in {"ack", "weight_set"}]
        set_weight(ws, node="out", row=0, col=2, value=0.5)  # then a good one: it alone
        got = until(ws, "weight_set")
    assert [f["type"] for f in got].count("weight_set") == 1
    assert got[-1]["node"] == "out"
    status = client.get(f"/api/v1/runs/{run.id}").json()
    assert status["status"] == "paused" and status["step"] == 0  # the run as it was
    client.post(f"/api/v1/runs/{run.id}/resume")
    wait_status(client, run.id, {"running"})
    client.post(f"/api/v1/runs/{run.id}/stop")
    wait_status(client, run.id, {"stopped"})


@pytest.mark.parametrize("status", ["stopped"])
def test_a_finished_run_refuses_a_weight(client: TestClient, status: str) -> None:
    run = paused_run(client)
    client.post(f"/api/v1/runs/{run.id}/stop")
    wait_status(client, run.id, {status})
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        set_weight(ws, node="dense1", row=0, col=0, value=1.0)
        assert "cannot set weight a run that is stopped" in until(ws, "error")[-1]["message"]
