"""The websocket: hello, validated frames in seq order, reconnect with `since`, control.

May import: stdlib, pytest, fastapi.testclient, server, tests.
"""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from server.api.frames import decode
from tests.server.conftest import (
    DEADLINE_S,
    frame,
    long_spec,
    post_run,
    read_until_end,
    wait_status,
    wait_step,
    xor_spec,
)


def events_of(frames: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [f for f in frames if f["type"] not in ("hello", "ack", "error")]


def test_stream_of_a_run_validates_and_has_no_gaps(client: TestClient) -> None:
    run = post_run(client, xor_spec(epochs=3, grid_every=10))
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        hello = frame(ws.receive())
        assert hello["type"] == "hello" and hello["run"] == run.id
        frames = read_until_end(ws)
    events = events_of(frames)
    types = {e["type"] for e in events}
    assert {"run_started", "steps_completed", "run_completed"} <= types
    seqs = [e["seq"] for e in events if e["type"] != "grid_computed"]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_reconnect_with_since_resumes_without_loss(client: TestClient) -> None:
    run = post_run(client, xor_spec(epochs=6))
    wait_status(client, run.id, {"completed"})
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        frame(ws.receive())
        full = events_of(read_until_end(ws))
    cut = full[len(full) // 2]["seq"]
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events?since={cut}") as ws:
        hello = frame(ws.receive())
        assert hello["since"] == cut
        rest = events_of(read_until_end(ws))
    assert [e["seq"] for e in rest] == [e["seq"] for e in full if e["seq"] > cut]


def test_control_messages_and_malformed_input(client: TestClient) -> None:
    run = post_run(client, long_spec())
    wait_step(client, run.id, 1)
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        ws.send_text("not json")
        ws.send_text(json.dumps({"type": "control", "action": "fly"}))
        ws.send_bytes(b"\x00")
        ws.send_text(json.dumps({"type": "control", "action": "set_lr"}))
        ws.send_text(json.dumps({"type": "control", "action": "pause"}))
        ws.send_text(json.dumps({"type": "control", "action": "set_lr", "lr": 0.01}))
        ws.send_text(json.dumps({"type": "control", "action": "resume"}))
        ws.send_text(json.dumps({"type": "control", "action": "resume"}))
        ws.send_text(json.dumps({"type": "control", "action": "stop"}))
        replies = []
        while len(replies) < 9:
            f = frame(ws.receive())
            if f["type"] in ("ack", "error"):
                replies.append(f)
    kinds = [(r["type"], r.get("action")) for r in replies]
    assert kinds == [("error", None)] * 4 + [("ack", "pause"), ("ack", "set_lr"),
                                             ("ack", "resume"), ("error", None), ("ack", "stop")]
    assert "running" in replies[7]["message"]
    wait_status(client, run.id, {"stopped"})


def test_unknown_run_is_refused(client: TestClient) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/api/v1/runs/nope/events") as ws:
            ws.receive_text()  # accepted, then closed
    assert info.value.code == 4404


def test_weights_and_neuron_maps_stream_as_binary_frames(client: TestClient) -> None:
    spec = long_spec()
    spec["training"]["telemetry"]["probes"] = {
        "weights": {"every": 5, "max_hz": 20}, "neuron_maps": {"every": 5, "max_hz": 20}}
    run = post_run(client, spec)
    binary: dict[str, dict] = {}  # type: ignore[type-arg]
    arrays = 0
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events?batch=true") as ws:
        assert frame(ws.receive())["type"] == "hello"
        deadline = time.monotonic() + DEADLINE_S  # frames keep coming while the run trains
        while (len(binary) < 2 or arrays < 2) and time.monotonic() < deadline:
            message = ws.receive()
            if message.get("bytes") is not None:
                event, buffers = decode(message["bytes"])
                binary[event["type"]] = frame(message)  # validated against its model
                binary[event["type"]]["shapes"] = [list(a.shape) for a in buffers.values()]
            else:
                batch = json.loads(message["text"])
                assert isinstance(batch, list)  # batched light events: JSON arrays
                arrays += 1
        client.post(f"/api/v1/runs/{run.id}/stop")
    wait_status(client, run.id, {"stopped"})
    assert set(binary) == {"weights_sampled", "neuron_maps_computed"}
    weights = binary["weights_sampled"]
    assert [w["node"] for w in weights["layers"]] == ["dense1", "out"]
    assert [w["values"].shape for w in weights["layers"]] == [(4, 2), (1, 4)]
    assert sorted(weights["shapes"]) == [[1], [1, 4], [4], [4, 2]]
    maps = binary["neuron_maps_computed"]
    # the input's 2 features, 8 hidden units and the output's 1, as the drawing shows them
    assert maps["nodes"] == ["x"] * 2 + ["dense1"] * 4 + ["tanh1"] * 4 + ["out"]
    assert maps["shapes"] == [[11, 16, 16]]  # 11 units at the probe's default resolution
