"""`step(n)` from a pause takes exactly n steps, however many reporting periods n spans, on
both step strategies, over REST and over the websocket (the engine's side is in
tests/engine/core/test_control.py). The run's step is read back from the server, which knows
it from the run's events.

May import: stdlib, pytest, fastapi.testclient, server, tests.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.api.schemas import RunPublic
from tests.server.conftest import frame, long_spec, wait_step

STRATEGIES = {"fused": True, "autograd": False}


def paused_run(c: TestClient, fast_path: bool) -> RunPublic:
    spec = long_spec()
    spec["training"]["fast_path"] = fast_path
    spec["training"]["telemetry"]["scalars_every"] = 10  # chunks end every 10 steps
    r = c.post("/api/v1/runs?paused=true", json=spec)
    assert r.status_code == 201, r.text
    return RunPublic.model_validate(r.json())


def settled_step(c: TestClient, run_id: str, n: int) -> int:
    """The run's step once it reached n and had time to go past it, were it going to."""
    wait_step(c, run_id, n)
    time.sleep(0.3)
    return RunPublic.model_validate(c.get(f"/api/v1/runs/{run_id}").json()).step


def stop(c: TestClient, run_id: str) -> None:
    assert c.post(f"/api/v1/runs/{run_id}/stop").status_code == 200


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n", [1, 7, 25, 100, 1000])
def test_rest_step_n_takes_exactly_n(client: TestClient, n: int, strategy: str) -> None:
    run = paused_run(client, STRATEGIES[strategy])
    r = client.post(f"/api/v1/runs/{run.id}/step", json={"n": n})
    assert r.status_code == 200, r.text
    assert settled_step(client, run.id, n) == n
    stop(client, run.id)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n", [7, 1000])
def test_websocket_step_n_takes_exactly_n(client: TestClient, n: int, strategy: str) -> None:
    run = paused_run(client, STRATEGIES[strategy])
    with client.websocket_connect(f"/api/v1/runs/{run.id}/events") as ws:
        ws.send_text(json.dumps({"type": "control", "action": "step", "n": n}))
        ack: dict[str, Any] = {}
        while ack.get("type") not in ("ack", "error"):
            ack = frame(ws.receive())
        assert ack["type"] == "ack", ack
    assert settled_step(client, run.id, n) == n
    stop(client, run.id)
