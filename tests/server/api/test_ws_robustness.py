"""Websocket robustness: stalled clients dropped on a timer, the Origin check, 413 for chunked
bodies, compacted catch-up and batched frames.

May import: stdlib, pytest, fastapi.testclient, starlette, server, engine's public names, tests.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from engine import StepsCompleted, parse_event
from server.api.events import origin_allowed
from server.runs.hub import Hub, compact
from server.runs.outbox import Outbox, drain
from tests.server.conftest import frame, post_run, read_until_end, wait_status, xor_spec

API = "/api/v1"


def test_a_client_that_takes_nothing_is_dropped_on_a_timer() -> None:
    async def never(_: Any) -> None:
        await asyncio.Event().wait()

    async def scenario() -> Outbox:
        box = Outbox(max_light=100)
        box.put_control("hello")
        box.put_event(0, "event")
        await asyncio.wait_for(drain(never, box, stall_s=0.2), timeout=30)
        return box

    box = asyncio.run(scenario())
    assert box.stalled and not box.overflowed


def test_a_slow_client_that_keeps_reading_is_kept() -> None:
    sent: list[Any] = []

    async def slow(f: Any) -> None:
        await asyncio.sleep(0.005)
        sent.append(f)

    async def scenario() -> Outbox:
        box = Outbox(max_light=100)
        for i in range(40):  # 0.2 s in all, 5 ms each: far below the 5 s stall limit
            box.put_event(i, f"e{i}")
        task = asyncio.create_task(drain(slow, box, stall_s=5.0))
        while len(sent) < 40:
            await asyncio.sleep(0.01)
        task.cancel()
        return box

    box = asyncio.run(asyncio.wait_for(scenario(), timeout=60))
    assert not box.stalled and sent == [f"e{i}" for i in range(40)]


def test_websocket_origin_check(client: TestClient) -> None:
    run = post_run(client, xor_spec(epochs=1))
    url = f"{API}/runs/{run.id}/events"
    for origin in ("http://testserver", "http://localhost:5173", "http://127.0.0.1:8000"):
        with client.websocket_connect(url, headers={"origin": origin}) as ws:
            assert frame(ws.receive())["type"] == "hello"
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect(url, headers={"origin": "https://evil.example"}) as ws:
            ws.receive_text()  # accepted, then closed
    assert info.value.code == 4403
    assert origin_allowed("https://class.example", "10.0.0.5:8000", ["https://class.example"])
    assert origin_allowed("https://any.example", "h:1", ["*"])
    assert origin_allowed(None, "h:1", [])  # not a browser: no Origin header
    assert not origin_allowed("http://localhost.evil.example", "h:1", [])
    wait_status(client, run.id, {"completed"})


def test_chunked_bodies_over_the_limit_get_413(client: TestClient) -> None:
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]

    def chunks(total: int):  # type: ignore[no-untyped-def]
        yield b'{"name": "' + b"x" * (total - 12)
        yield b'"}'

    r = client.post(f"{API}/networks", content=chunks(limit + 10),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"], r.text
    body = json.dumps({"name": "chunked", "network": xor_spec()["networks"]["model"]}).encode()
    ok = client.post(f"{API}/networks", content=iter([body[:50], body[50:]]),
                     headers={"content-type": "application/json"})
    assert ok.status_code == 201, ok.text


def _steps(seq: int, first: int, losses: list[float]) -> str:
    return StepsCompleted(run="r", seq=seq, step=first + len(losses) - 1, epoch=0, t=seq / 10,
                          first_step=first, metrics={"loss": losses}, lr=0.1).model_dump_json()


def test_compact_merges_consecutive_steps_completed() -> None:
    eval_ = '{"type":"eval_completed","run":"r","seq":3}'
    held = [(1, _steps(1, 1, [1.0, 0.9])), (2, _steps(2, 3, [0.8])), (3, eval_),
            (4, _steps(4, 4, [0.7]))]
    out = compact(held)
    assert [s for s, _ in out] == [2, 3, 4] and out[1:] == held[2:]
    merged = parse_event(out[0][1])
    assert isinstance(merged, StepsCompleted)
    assert (merged.seq, merged.first_step, merged.step, merged.metrics["loss"]) == (
        2, 1, 3, [1.0, 0.9, 0.8])
    assert compact([]) == [] and compact(held[3:]) == held[3:]


def test_catch_up_is_compacted_and_batches_carry_every_event(client: TestClient) -> None:
    spec = xor_spec(epochs=3)
    spec["training"]["telemetry"]["scalars_every"] = 2
    run = post_run(client, spec)
    wait_status(client, run.id, {"completed"})
    with client.websocket_connect(f"{API}/runs/{run.id}/events") as ws:
        frame(ws.receive())
        plain = read_until_end(ws)
    steps = [f for f in plain if f["type"] == "steps_completed"]
    assert sum(len(f["metrics"]["loss"]) for f in steps) == plain[-1]["step"]
    assert any(len(f["metrics"]["loss"]) > 2 for f in steps)  # merged: each part held 2 losses
    batched: list[dict[str, Any]] = []
    with client.websocket_connect(f"{API}/runs/{run.id}/events?batch=true") as ws:
        assert frame(ws.receive())["type"] == "hello"
        while not batched or batched[-1]["type"] != "run_completed":
            message = ws.receive()
            if message.get("bytes") is not None:
                batched.append(frame(message))
                continue
            items = json.loads(message["text"])
            assert isinstance(items, list) and items
            batched.extend(frame({"text": json.dumps(item)}) for item in items)
    assert [f["seq"] for f in batched] == [f["seq"] for f in plain]


def test_a_catch_up_longer_than_the_outbox_bound_is_delivered(tmp_path: Any) -> None:
    hub = Hub(tmp_path, history_events=1000)
    for seq in range(300):
        hub.publish("r", "eval_completed", seq, f'{{"type":"eval_completed","seq":{seq}}}')
    box = Outbox(max_light=16)
    assert hub.subscribe("r", box, since=-1) == (0, 299)
    assert not box.overflowed and len(box.light) == 300
    for seq in range(300, 317):  # now 17 live events behind: past the bound of 16
        hub.publish("r", "eval_completed", seq, f'{{"type":"eval_completed","seq":{seq}}}')
    assert box.overflowed


def test_history_is_bounded_in_bytes_as_well_as_in_events(tmp_path: Any) -> None:
    hub = Hub(tmp_path, history_events=1000, history_bytes=1 << 16)
    losses = ",".join(["0.5"] * 2000)  # one fast run's steps_completed: ~8 KB
    for seq in range(100):
        hub.publish("r", "steps_completed", seq,
                    f'{{"type":"steps_completed","seq":{seq},"first_step":{seq * 2000 + 1},'
                    f'"step":{seq * 2000 + 2000},"metrics":{{"loss":[{losses}]}}}}')
    history = hub.channels["r"].history
    held = sum(len(text) for _, text in history)
    assert held <= 1 << 16 and held == hub.channels["r"].history_bytes
    assert [seq for seq, _ in history] == list(range(100 - len(history), 100))  # the newest
    first, last = hub.subscribe("r", Outbox(max_light=16), since=-1)
    assert first == 100 - len(history) and last == 99  # the client sees where its gap is
