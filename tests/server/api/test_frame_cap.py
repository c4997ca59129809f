"""A client's cap on binary frames (`frames_hz`, on connect or in a subscribe message): each
heavy kind at most so often, the newest each time, the held one sent when its turn comes;
light events never held.

May import: stdlib, pytest, fastapi.testclient, server, tests.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from fastapi.testclient import TestClient

from server.runs.outbox import Outbox, drain
from tests.server.api.test_subscriptions import live_run, of_type, read_until
from tests.server.conftest import frame, xor_spec

API = "/api/v1"
WINDOW_S = 3.0


def test_a_capped_outbox_holds_each_kind_back_and_sends_its_newest() -> None:
    box = Outbox(max_light=16)
    box.cap_frames(10)  # 100 ms between two frames of one kind
    box.put_event(1, b"grid 1", "grid_computed", "grid_computed")
    assert box.take(now=0.0) == [b"grid 1"]
    box.put_event(2, b"grid 2", "grid_computed", "grid_computed")
    box.put_event(3, "steps", kind="steps_completed")
    box.put_event(4, b"maps 1", "neuron_maps_computed", "neuron_maps_computed")
    box.put_event(5, b"grid 3", "grid_computed", "grid_computed")
    # light events and a kind not sent yet go; the grid waits for its turn
    assert box.take(now=0.05) == ["steps", b"maps 1"]
    assert box.held_until() == 0.1
    assert box.take(now=0.1) == [b"grid 3"]  # the newest: grid 2 was replaced
    assert box.held_until() is None
    box.cap_frames(None)
    box.put_event(6, b"grid 4", "grid_computed", "grid_computed")
    assert box.take(now=0.11) == [b"grid 4"]


def test_the_end_of_the_run_takes_the_held_frames_with_it_and_after_them() -> None:
    # a client closes its stream on the run's end: a frame sent after it would be lost
    box = Outbox(max_light=16)
    box.cap_frames(1)
    box.put_event(1, b"grid 1", "grid_computed", "grid_computed")
    assert box.take(now=0.0) == [b"grid 1"]
    box.put_event(2, b"grid 2", "grid_computed", "grid_computed")
    box.put_event(3, "steps", kind="steps_completed")
    assert box.take(now=0.1) == ["steps"]  # held: its turn is at 1.0
    box.put_event(4, b"grid 3", "grid_computed", "grid_computed")
    box.put_event(5, "failed", kind="run_failed")
    assert box.held_until() is None  # nothing waits for a turn any more
    assert box.take(now=0.2) == [b"grid 3", "failed"]


def test_the_frame_held_last_is_sent_without_another_event_to_wake_the_sender() -> None:
    async def main() -> list[tuple[float, Any]]:
        box = Outbox(max_light=16)
        box.cap_frames(20)
        got: list[tuple[float, Any]] = []

        async def send(f: Any) -> None:
            got.append((time.monotonic(), f))

        sender = asyncio.create_task(drain(send, box, stall_s=5))
        box.put_event(1, b"first", "grid_computed", "grid_computed")
        await asyncio.sleep(0.01)
        box.put_event(2, b"last", "grid_computed", "grid_computed")  # the run's last grid
        for _ in range(200):
            if len(got) == 2:
                break
            await asyncio.sleep(0.01)
        sender.cancel()
        return got

    got = asyncio.run(main())
    assert [f for _, f in got] == [b"first", b"last"]
    assert got[1][0] - got[0][0] >= 0.045  # its turn: 50 ms after the first


def grids_in_window(ws: Any) -> int:
    seen: list[dict[str, Any]] = []
    end = time.monotonic() + WINDOW_S
    while time.monotonic() < end:
        seen.append(frame(ws.receive()))
    return sum(f["type"] == "grid_computed" for f in seen)


def test_frames_hz_caps_grids_on_connect_and_a_subscribe_lifts_it(client: TestClient) -> None:
    spec = xor_spec(epochs=400_000, grid_every=1)
    with live_run(client, spec) as run_id, client.websocket_connect(
            f"{API}/runs/{run_id}/events?frames_hz=2&subscribe=grid_computed") as ws:
        assert frame(ws.receive())["type"] == "hello"
        read_until(ws, of_type("grid_computed"), [])
        capped = grids_in_window(ws)
        assert 1 <= capped <= 2 * WINDOW_S + 2
        ws.send_text(json.dumps({"type": "subscribe", "events": ["grid_computed"],
                                 "frames_hz": None}))
        read_until(ws, of_type("ack", action="subscribe"), [])
        assert grids_in_window(ws) > 2 * WINDOW_S + 2  # the engine's 30 a second, or near
        ws.send_text(json.dumps({"type": "subscribe", "frames_hz": 0}))
        error = read_until(ws, of_type("error"), [])
        assert "frames_hz" in error["message"] and "greater than 0" in error["message"]
        read_until(ws, of_type("grid_computed"), [])  # the connection lives, as it was
