"""POST /runs/{id}/resume on a stopped run: the same run goes on from its saved trainer state,
and its losses are those of an uninterrupted run of the same spec (CPU, same seed); its events'
seq goes on, its stream reopens, its metrics are appended. Refusals (unknown run, wrong state,
no saved state) change nothing; a resumed run waits in the queue like any other.

May import: stdlib, pytest, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from engine import load_weights
from server.api.schemas import Metrics, Problem, RunPublic
from server.app import create_app
from server.runs.hub import EVENTS_FILE, Hub
from server.runs.outbox import Outbox
from tests.server.conftest import (
    frame,
    long_spec,
    make_settings,
    post_run,
    wait_status,
    wait_step,
    xor_spec,
)

API = "/api/v1"
STEPS, STOP_AT = 300, 37


def budget_spec() -> dict[str, Any]:
    spec = xor_spec()
    spec["training"].update(epochs=None, steps=STEPS, seed=11)
    return spec


def losses(c: TestClient, run_id: str) -> tuple[list[int], list[float]]:
    got = Metrics.model_validate(c.get(f"{API}/runs/{run_id}/metrics",
                                       params={"max_points": 100_000}).json())
    loss = got.series["loss"]
    return loss.steps, loss.values


def refused(r: Any, status: int, *needles: str) -> None:
    assert r.status_code == status, r.text
    detail = Problem.model_validate(r.json()).detail
    assert all(n in detail for n in needles), detail


def stopped_at(c: TestClient, spec: dict[str, Any], k: int) -> RunPublic:
    """Created paused, stepped to exactly k steps, stopped (the page's step and stop)."""
    r = c.post(f"{API}/runs", params={"paused": "true"}, json=spec)
    assert r.status_code == 201, r.text
    run = RunPublic.model_validate(r.json())
    assert run.status == "paused"
    assert c.post(f"{API}/runs/{run.id}/step", json={"n": k}).status_code == 200
    assert wait_step(c, run.id, k).step == k
    assert c.post(f"{API}/runs/{run.id}/stop").status_code == 200
    stopped = wait_status(c, run.id, {"stopped"})
    assert stopped.step == k
    return stopped


def events_of(c: TestClient, run_id: str) -> list[dict[str, Any]]:
    """The run's history as a client catching up gets it, up to its run_completed."""
    frames = []
    with c.websocket_connect(f"{API}/runs/{run_id}/events") as ws:
        while not frames or frames[-1]["type"] != "run_completed":
            frames.append(frame(ws.receive()))
    return frames


def test_a_stopped_run_resumed_has_the_losses_of_an_uninterrupted_one(
        client: TestClient) -> None:
    whole = post_run(client, budget_spec())
    wait_status(client, whole.id, {"completed"})
    want = losses(client, whole.id)
    assert want[0] == list(range(1, STEPS + 1))

    stopped = stopped_at(client, budget_spec(), STOP_AT)
    assert stopped.resumable and stopped.has_checkpoint
    assert losses(client, stopped.id)[0] == list(range(1, STOP_AT + 1))
    with client.websocket_connect(f"{API}/runs/{stopped.id}/events") as ws:
        seen = [frame(ws.receive())]  # the hello, then the history caught up
        while seen[-1]["type"] != "run_stopped":
            seen.append(frame(ws.receive()))
        r = client.post(f"{API}/runs/{stopped.id}/resume")
        assert r.status_code == 200, r.text
        again = RunPublic.model_validate(r.json())
        assert again.id == stopped.id and again.status in ("queued", "running")
        assert not again.resumable
        while seen[-1]["type"] != "run_completed":  # the same socket: its stream reopened
            seen.append(frame(ws.receive()))
    assert seen[0]["type"] == "hello" and seen[0]["status"] == "stopped"
    live_seqs = [f["seq"] for f in seen[1:]]
    assert live_seqs == sorted(set(live_seqs))
    done = wait_status(client, stopped.id, {"completed"})
    assert done.step == STEPS and done.started_at == stopped.started_at
    assert done.metrics and done.last_seq > stopped.last_seq
    assert losses(client, stopped.id) == want  # exactly: the same floats at the same steps

    frames = events_of(client, stopped.id)
    events = [f for f in frames if "seq" in f and f["type"] != "hello"]
    seqs = [f["seq"] for f in events]
    assert seqs == sorted(set(seqs))  # one history, seq increasing across the resume
    starts = [f for f in events if f["type"] == "run_started"]
    assert [s.get("resumed_at") for s in starts] == [None, STOP_AT]
    stop = next(f for f in events if f["type"] == "run_stopped")
    assert stop["seq"] < starts[1]["seq"]

    ckpt = client.get(f"{API}/runs/{stopped.id}/checkpoint")  # the weights, as before
    assert ckpt.status_code == 200 and len(ckpt.content) > 100
    refused(client.post(f"{API}/runs/{stopped.id}/resume"), 409, "completed")


def test_resume_is_refused_without_a_change(client: TestClient) -> None:
    refused(client.post(f"{API}/runs/nope/resume"), 404, "nope")
    run = post_run(client, long_spec())
    wait_status(client, run.id, {"running"})
    refused(client.post(f"{API}/runs/{run.id}/resume"), 409, "running", "stopped")
    client.post(f"{API}/runs/{run.id}/stop")
    wait_status(client, run.id, {"stopped"})

    refused(client.post(f"{API}/runs/{run.id}/step"), 409, "stopped")  # control stays shut
    after = RunPublic.model_validate(client.get(f"{API}/runs/{run.id}").json())
    assert after.status == "stopped" and after.resumable


def test_a_resumed_run_waits_in_the_queue_and_can_be_stopped_there(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_concurrent_runs=1)
    with TestClient(create_app(settings)) as c:
        stopped = stopped_at(c, budget_spec(), 5)
        busy = post_run(c, long_spec())
        wait_status(c, busy.id, {"running"})
        never = post_run(c, xor_spec())  # queued behind it, stopped there: no state saved
        assert never.status == "queued"
        c.post(f"{API}/runs/{never.id}/stop")
        never = wait_status(c, never.id, {"stopped"})
        assert not never.resumable
        refused(c.post(f"{API}/runs/{never.id}/resume"), 409, "no saved state")
        after = RunPublic.model_validate(c.get(f"{API}/runs/{never.id}").json())
        assert after.status == "stopped" and after.finished_at == never.finished_at
        queued = RunPublic.model_validate(c.post(f"{API}/runs/{stopped.id}/resume").json())
        assert queued.status == "queued"  # the limit holds: one run at a time
        assert c.post(f"{API}/runs/{stopped.id}/stop").json()["status"] == "stopped"
        again = wait_status(c, stopped.id, {"stopped"})
        assert again.resumable and again.step == 5 and again.last_seq == stopped.last_seq
        c.post(f"{API}/runs/{busy.id}/stop")
        wait_status(c, busy.id, {"stopped"})
        assert c.post(f"{API}/runs/{stopped.id}/resume").status_code == 200
        done = wait_status(c, stopped.id, {"completed"})
        assert done.step == STEPS
        state = load_weights(settings.run_dir(stopped.id) / "checkpoint.safetensors")
        assert state and not any(k.startswith("__") for k in state)


def test_the_hub_reopens_a_finished_stream_and_writes_it_off_the_loop(tmp_path: Path) -> None:
    def text(seq: int) -> str:
        return json.dumps({"type": "eval_completed", "seq": seq}, separators=(",", ":"))

    async def scenario() -> None:
        hub = Hub(tmp_path, history_events=100)
        hub.open("r")
        for seq in range(3):
            hub.publish("r", "eval_completed", seq, text(seq))
        hub.finish("r")
        assert "r" in hub.channels  # held until its file is written: none reads it half done
        await hub.drained()
        await asyncio.sleep(0.05)  # the eviction comes back to the loop
        assert "r" not in hub.channels
        await hub.reopen("r")  # read off the loop; the stream goes on
        box = Outbox(max_light=16)
        assert hub.subscribe("r", box, since=-1) == (0, 2)
        hub.publish("r", "eval_completed", 3, text(3))
        assert [seq for seq, _ in hub.channels["r"].history] == [0, 1, 2, 3]
        hub.finish("r")
        hub.unsubscribe("r", box)
        await hub.drained()
        lines = (tmp_path / "r" / EVENTS_FILE).read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["seq"] for line in lines] == [0, 1, 2, 3]
        hub.close()

    asyncio.run(scenario())
