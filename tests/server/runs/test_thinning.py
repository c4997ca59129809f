"""Thinned steps_completed (`?points=n`): at most n values per metric, every stride-th step
from first_step, equal to the stored series at those steps; live and in the catch-up; one
thinned text per points value, however many clients ask.

May import: stdlib, numpy, pytest, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from engine import StepsCompleted, parse_event
from server.runs.hub import Hub
from server.runs.outbox import Outbox
from server.runs.thinning import thinned, thinned_text
from tests.server.conftest import frame, post_run, read_until_end, wait_status, xor_spec

API = "/api/v1"


def steps_event(first: int, values: list[float], seq: int = 1) -> dict[str, Any]:
    return {"type": "steps_completed", "run": "r", "seq": seq, "step": first + len(values) - 1,
            "epoch": 0, "t": 0.0, "first_step": first, "lr": 0.1,
            "metrics": {"loss": values, "accuracy": [v / 10 for v in values]}}


def test_an_event_is_thinned_to_every_stride_th_step() -> None:
    ev = steps_event(101, [float(i) for i in range(1000)])
    thin = thinned(ev, 64)
    assert thin is not None
    event = parse_event(json.dumps(thin))  # still a valid event of the protocol
    assert isinstance(event, StepsCompleted)
    assert event.stride == 16 and len(event.metrics["loss"]) == 63  # ceil(1000 / 16)
    assert event.metrics["loss"] == [float(i) for i in range(0, 1000, 16)]
    assert event.metrics["accuracy"] == [i / 10 for i in range(0, 1000, 16)]
    assert (event.first_step, event.step, event.seq) == (101, 1100, 1)
    again = thinned(thin, 8)  # a thinned event thinned again: the strides multiply
    assert again is not None and again["stride"] == 128
    assert again["metrics"]["loss"] == [float(i) for i in range(0, 1000, 128)]


def test_an_event_within_the_points_is_sent_as_it_came() -> None:
    ev = steps_event(1, [1.0, 2.0, 3.0])
    assert thinned(ev, 3) is None and thinned_text(ev, 3, "as it came") == "as it came"


def test_one_thinned_text_per_points_value_and_the_rest_untouched(tmp_path: Any) -> None:
    hub = Hub(tmp_path, history_events=100)
    boxes = {"all": Outbox(100), "a": Outbox(100, points=10), "b": Outbox(100, points=10),
             "c": Outbox(100, points=50)}
    for box in boxes.values():
        hub.subscribe("r", box, since=-1)
    text = json.dumps(steps_event(1, [float(i) for i in range(200)]), separators=(",", ":"))
    hub.publish("r", "steps_completed", 1, text)
    hub.publish("r", "eval_completed", 2, '{"type":"eval_completed","seq":2}')
    sent = {name: box.take() for name, box in boxes.items()}
    assert sent["all"][0] == text and sent["a"][0] is sent["b"][0]  # made once for both
    assert len(json.loads(sent["a"][0])["metrics"]["loss"]) == 10
    assert len(json.loads(sent["c"][0])["metrics"]["loss"]) == 50
    assert all(frames[1] == '{"type":"eval_completed","seq":2}' for frames in sent.values())
    late = Outbox(100, points=10)  # the catch-up is thinned too
    hub.subscribe("r", late, since=-1)
    assert json.loads(late.take()[0])["metrics"]["loss"] == [float(i) for i in range(0, 200, 20)]


def test_a_thinned_stream_equals_the_stored_series_at_its_steps(client: TestClient) -> None:
    spec = xor_spec(epochs=40)
    spec["training"]["telemetry"].update(scalars_every=200, scalars_max_hz=None)
    run = post_run(client, spec)
    with client.websocket_connect(f"{API}/runs/{run.id}/events?points=16") as ws:
        assert frame(ws.receive())["type"] == "hello"
        events = read_until_end(ws)  # live while it trains, then its end
    wait_status(client, run.id, {"completed"})
    stored = client.get(f"{API}/runs/{run.id}/metrics",
                        params={"max_points": 100_000, "names": "loss"}).json()
    loss = dict(zip(stored["series"]["loss"]["steps"], stored["series"]["loss"]["values"],
                    strict=True))
    steps = [e for e in events if e["type"] == "steps_completed"]
    assert steps and all(len(e["metrics"]["loss"]) <= 16 for e in steps)
    assert any(e["stride"] > 1 for e in steps)  # 200 steps an event: thinned to 13 each
    for e in steps:
        at = [e["first_step"] + i * e["stride"] for i in range(len(e["metrics"]["loss"]))]
        assert at[-1] <= e["step"]
        # the store keeps float32: the same values, rounded as it rounds them
        assert np.array_equal(np.float32(e["metrics"]["loss"]), np.float32([loss[s] for s in at]))
