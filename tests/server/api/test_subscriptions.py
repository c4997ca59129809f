"""Per-client subscriptions (the subscribe message and parameter, catch-up included) and
changing probe settings mid-run over the websocket and PATCH.

May import: stdlib, pytest, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from engine import EVENT_TYPES
from server.api.protocol import ALWAYS_SENT, subscription
from server.runs.outbox import Outbox
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

API = "/api/v1"
Frame = dict[str, Any]


def with_probes(spec: dict[str, Any], **probes: Any) -> dict[str, Any]:
    spec["training"]["telemetry"]["probes"] = probes
    return spec


def events_of(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f["type"] not in ("hello", "ack", "error")]


def read_until(ws: Any, done: Callable[[Frame], bool], into: list[Frame]) -> Frame:
    """Validated frames into `into` until one satisfies `done` (the run keeps sending)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        f = frame(ws.receive())
        into.append(f)
        if done(f):
            return f
    raise AssertionError(f"no such frame within {DEADLINE_S}s; got {[f['type'] for f in into]}")


def of_type(kind: str, **fields: Any) -> Callable[[Frame], bool]:
    return lambda f: f["type"] == kind and all(f.get(k) == v for k, v in fields.items())


@contextmanager
def live_run(client: TestClient, spec: dict[str, Any]) -> Iterator[str]:
    run = post_run(client, spec)
    try:
        yield run.id
    finally:
        client.post(f"{API}/runs/{run.id}/stop")
        wait_status(client, run.id, {"stopped", "completed", "failed"})


def stream(client: TestClient, run_id: str, query: str = "") -> list[Frame]:
    with client.websocket_connect(f"{API}/runs/{run_id}/events{query}") as ws:
        assert frame(ws.receive())["type"] == "hello"
        return events_of(read_until_end(ws))


def test_the_subscribe_parameter_filters_the_catch_up(client: TestClient) -> None:
    every_10 = {"every": 10, "max_hz": None}
    run = post_run(client, with_probes(xor_spec(epochs=2, grid_every=10), histograms=every_10,
                                       norms={"flush_every": 10, "max_hz": None}))
    wait_status(client, run.id, {"completed"})
    full = stream(client, run.id)
    wanted = ALWAYS_SENT | {"histograms_sampled"}
    part = stream(client, run.id, "?subscribe=histograms_sampled")
    assert {"histograms_sampled", "norms_sampled", "grid_computed"} <= {e["type"] for e in full}
    assert {e["type"] for e in part} <= wanted
    # the same events but those left out; merged steps_completed still carry every loss
    assert [e["seq"] for e in part if e["type"] != "steps_completed"] == [
        e["seq"] for e in full if e["type"] in wanted - {"steps_completed"}]
    losses = [[v for e in es if e["type"] == "steps_completed" for v in e["metrics"]["loss"]]
              for es in (full, part)]
    assert losses[0] == losses[1] and losses[0]
    only_always = stream(client, run.id, "?subscribe=")
    assert {e["type"] for e in only_always} <= ALWAYS_SENT


def test_subscribe_filters_live_frames_and_unknown_types_are_refused(
        client: TestClient) -> None:
    spec = with_probes(long_spec(), histograms={"every": 20, "max_hz": 20})
    with live_run(client, spec) as run_id, client.websocket_connect(
            f"{API}/runs/{run_id}/events?subscribe=nope,norms_sampled") as ws:
        seen: list[Frame] = []
        assert frame(ws.receive())["type"] == "hello"
        refused = read_until(ws, of_type("error"), seen)
        assert "'nope'" in refused["message"] and ", ".join(EVENT_TYPES) in refused["message"]
        read_until(ws, of_type("norms_sampled"), seen)  # refused: the client gets everything
        ws.send_text(json.dumps({"type": "subscribe", "events": ["histograms_sampled"]}))
        read_until(ws, of_type("ack", action="subscribe"), seen)
        after: list[Frame] = []
        read_until(ws, lambda f: len(of(after, "histograms_sampled")) >= 2, after)
        assert {f["type"] for f in events_of(after)} <= ALWAYS_SENT | {"histograms_sampled"}
        ws.send_text(json.dumps({"type": "subscribe", "events": ["bogus"]}))
        error = read_until(ws, of_type("error"), seen)
        assert "'bogus'" in error["message"] and "known: run_started" in error["message"]
        ws.send_text(json.dumps({"type": "subscribe", "events": None}))  # the connection lives
        read_until(ws, of_type("ack", action="subscribe"), seen)
        read_until(ws, of_type("norms_sampled"), seen)


def of(frames: list[Frame], kind: str) -> list[Frame]:
    return [f for f in frames if f["type"] == kind]


def test_set_probes_over_the_websocket_and_patch_change_what_arrives(
        client: TestClient) -> None:
    spec = with_probes(long_spec(), histograms={"every": 0})
    with live_run(client, spec) as run_id, client.websocket_connect(
            f"{API}/runs/{run_id}/events?subscribe=histograms_sampled") as ws:
        seen: list[Frame] = []
        bad = {"type": "control", "action": "set_probes", "probes": {"histograms": {"every": -1}}}
        ws.send_text(json.dumps(bad))
        error = read_until(ws, of_type("error"), seen)
        assert "training.telemetry.probes.histograms.every" in error["message"]
        ws.send_text(json.dumps({"type": "control", "action": "set_probes"}))
        assert "needs 'probes'" in read_until(ws, of_type("error"), seen)["message"]
        good = {"histograms": {"every": 10, "max_hz": None}}
        ws.send_text(json.dumps({"type": "control", "action": "set_probes", "probes": good}))
        read_until(ws, of_type("ack", action="set_probes"), seen)
        changed = read_until(ws, of_type("probes_changed"), seen)
        assert changed["probes"]["histograms"]["every"] == 10
        assert changed["probes"]["histograms"]["bins"] == 32  # the rest kept their values
        assert not of(seen, "histograms_sampled")  # off until the change
        hist = read_until(ws, of_type("histograms_sampled"), seen)
        assert hist["step"] % 10 == 0 and hist["step"] >= changed["step"]

        r = client.patch(f"{API}/runs/{run_id}", json={"probes": {"histograms": {"every": 0}},
                                                       "lr": 0.05})
        assert r.status_code == 200, r.text
        start = len(seen)  # both changes land at the same chunk boundary, in either order
        read_until(ws, lambda _: {"probes_changed", "lr_changed"} <= {
            g["type"] for g in seen[start:]}, seen)
        off = of(seen[start:], "probes_changed")[0]
        assert off["probes"]["histograms"]["every"] == 0
        assert of(seen[start:], "lr_changed")[0]["lr"] == 0.05
        later: list[Frame] = []
        read_until(ws, lambda f: f["type"] == "steps_completed"
                   and f["step"] >= off["step"] + 100, later)
        assert not [f for f in of(later, "histograms_sampled") if f["step"] > off["step"]]


def test_patch_refuses_bad_probe_changes_with_located_errors(client: TestClient) -> None:
    with live_run(client, long_spec()) as run_id:
        url = f"{API}/runs/{run_id}"
        cases = [
            ({"probes": {"histo": {"every": 1}}}, "training.telemetry.probes.histo",
             "known: norms, histograms"),
            ({"probes": {"histograms": {"every": "often"}}, "lr": 0.5},
             "training.telemetry.probes.histograms.every", "valid integer"),
            ({"probes": {"curvature": {"tol": 2}}}, "training.telemetry.probes.curvature.tol",
             "less than 1"),
            ({}, "body", "give 'lr', 'probes', 'pace' or several"),
            ({"probes": {"norms": {"every": 1}}, "colour": 1}, "colour", "Extra inputs"),
        ]
        for body, field, says in cases:
            r = client.patch(url, json=body)
            assert r.status_code == 422, (body, r.text)
            problem = r.json()
            assert [e["field"] for e in problem["errors"]] == [field], problem
            assert says in problem["detail"] and says in problem["errors"][0]["message"]
        # refused as a whole: the valid rate beside a bad probe change was not applied
        wait_step(client, run_id, client.get(url).json()["step"] + 100)
        lrs = client.get(f"{url}/metrics", params={"names": "lr"}).json()["series"]["lr"]
        assert set(lrs["values"]) == {0.03}
    r = client.patch(url, json={"probes": {"histograms": {"every": 5}}})
    assert r.status_code == 409 and "stopped" in r.json()["detail"], r.text


def test_a_subscribe_drops_queued_frames_of_unwanted_types() -> None:
    box = Outbox(max_light=16)
    box.put_event(1, "norms", kind="norms_sampled")
    box.put_event(2, "steps", kind="steps_completed")
    box.put_event(3, b"grid", "grid_computed", "grid_computed")
    box.put_event(4, b"weights", "weights_sampled", "weights_sampled")
    box.subscribe(subscription(["grid_computed"]))
    box.put_event(5, "more norms", kind="norms_sampled")
    assert box.take() == ["steps", b"grid"]
    box.subscribe(subscription(None))
    box.put_event(6, "norms again", kind="norms_sampled")
    assert box.take() == ["norms again"]
