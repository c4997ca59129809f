"""A run's pace over the API: started paced (POST /runs?pace=), changed over the websocket
(set_pace, null: as fast as it goes) and by PATCH, each change told as pace_changed; bad
paces refused with the field named, the run left as it was (the engine's side is in
tests/engine/core/test_pace.py).

May import: stdlib, pytest, fastapi.testclient, server, tests.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from server.api.schemas import RunPublic
from tests.server.conftest import frame, long_spec, wait_status, wait_step


def paced_run(c: TestClient, pace: float) -> RunPublic:
    r = c.post(f"/api/v1/runs?pace={pace}", json=long_spec())
    assert r.status_code == 201, r.text
    return RunPublic.model_validate(r.json())


def next_of(ws, kind: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    while True:
        f = frame(ws.receive())
        if f["type"] == kind:
            return f


def test_a_paced_run_goes_slowly_until_told_to_go_fast(client: TestClient) -> None:
    run = paced_run(client, 2)
    wait_step(client, run.id, 1)
    slow = client.get(f"/api/v1/runs/{run.id}").json()["step"]
    assert slow < 10  # 2 steps a second; unpaced this net takes thousands a second
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        ws.send_text(json.dumps({"type": "control", "action": "set_pace"}))
        assert next_of(ws, "ack")["action"] == "set_pace"
        assert next_of(ws, "pace_changed")["pace"] is None
    wait_step(client, run.id, 2000)
    r = client.patch(f"/api/v1/runs/{run.id}", json={"pace": 5})
    assert r.status_code == 200, r.text
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events?subscribe=pace_changed") as ws:
        paces = []
        while len(paces) < 3:
            paces.append(next_of(ws, "pace_changed")["pace"])
    assert paces == [2.0, None, 5.0]  # the start's and the websocket's (catch-up), PATCH's
    client.post(f"/api/v1/runs/{run.id}/stop")
    wait_status(client, run.id, {"stopped"})


@pytest.mark.parametrize("pace", [0, -3, 1e9, "fast"])
def test_a_bad_pace_is_refused_and_nothing_is_made(client: TestClient, pace: object) -> None:
    before = client.get("/api/v1/runs").json()["total"]
    r = client.post(f"/api/v1/runs?pace={pace}", json=long_spec())
    assert r.status_code == 422 and "pace" in r.text
    assert client.get("/api/v1/runs").json()["total"] == before


def test_a_bad_pace_change_names_the_field(client: TestClient) -> None:
    run = paced_run(client, 50)
    wait_step(client, run.id, 1)
    r = client.patch(f"/api/v1/runs/{run.id}", json={"pace": -1})
    assert r.status_code == 422 and "pace" in r.text
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        ws.send_text(json.dumps({"type": "control", "action": "set_pace", "pace": 0}))
        error = next_of(ws, "error")
    assert "pace" in error["message"]
    client.post(f"/api/v1/runs/{run.id}/stop")
    wait_status(client, run.id, {"stopped"})
