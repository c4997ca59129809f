"""A worker killed with SIGKILL fails only its run; a new app on the same data folder still
has every finished run's history and checkpoint; runs a dead server left are interrupted.
The persistence tests run on SQLite and on PostgreSQL (`database_url`, see conftest).

May import: stdlib, pytest, fastapi.testclient, sqlalchemy, server, tests.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from engine import RunSpec, parse_event
from server.api.schemas import Metrics, RunPublic
from server.app import create_app
from server.storage import repository as repo
from server.storage.db import make_engine, migrate
from tests.server.conftest import (
    frame,
    long_spec,
    make_settings,
    post_run,
    read_until_end,
    wait_status,
    wait_step,
    xor_spec,
)

API = "/api/v1"


def test_sigkill_fails_one_run_and_spares_the_rest(client: TestClient) -> None:
    victim = post_run(client, long_spec())
    other = post_run(client, long_spec())
    wait_step(client, victim.id, 1)
    before = wait_step(client, other.id, 1).step
    pid = client.app.state.manager.executor.pid(victim.id)  # type: ignore[attr-defined]
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    failed = wait_status(client, victim.id, {"failed"})
    assert failed.failure_reason and "SIGKILL" in failed.failure_reason
    assert client.get(f"{API}/health").status_code == 200
    wait_step(client, other.id, before + 50)
    client.post(f"{API}/runs/{other.id}/stop")
    assert wait_status(client, other.id, {"stopped"}).has_checkpoint
    with client.websocket_connect(f"{API}/runs/{victim.id}/events") as ws:
        assert frame(ws.receive())["status"] == "failed"
        assert read_until_end(ws)[-1]["type"] == "run_failed"


def test_history_survives_a_new_app(tmp_path: Path, database_url: str | None) -> None:
    settings = make_settings(tmp_path, warm_workers=0, database_url=database_url)
    with TestClient(create_app(settings)) as c:
        run = post_run(c, xor_spec(epochs=3, grid_every=1))
        done = wait_status(c, run.id, {"completed"})
        metrics = c.get(f"{API}/runs/{run.id}/metrics").json()
        weights = c.get(f"{API}/runs/{run.id}/checkpoint").content
        with c.websocket_connect(f"{API}/runs/{run.id}/events") as ws:
            frame(ws.receive())
            grid = last_grid(ws)
    with TestClient(create_app(settings)) as c:
        again = RunPublic.model_validate(c.get(f"{API}/runs/{run.id}").json())
        assert again.status == "completed" and again.metrics == done.metrics
        assert Metrics.model_validate(c.get(f"{API}/runs/{run.id}/metrics").json()) == \
            Metrics.model_validate(metrics)
        assert c.get(f"{API}/runs/{run.id}/checkpoint").content == weights
        with c.websocket_connect(f"{API}/runs/{run.id}/events") as ws:
            assert frame(ws.receive())["status"] == "completed"
            assert last_grid(ws) == grid  # heavy frames too: the boundary as the run ended


def last_grid(ws: object) -> dict:
    """The grid_computed frame of a finished run's catch-up (heavy frames follow the light
    ones, up to run_completed)."""
    frames = read_until_end(ws)
    assert frames[-1]["type"] == "run_completed"
    while not any(f["type"] == "grid_computed" for f in frames):
        frames.append(frame(ws.receive()))  # type: ignore[attr-defined]
    grid = next(f for f in frames if f["type"] == "grid_computed")
    return parse_event(grid).model_dump()


def test_runs_left_running_are_marked_interrupted(tmp_path: Path,
                                                  database_url: str | None) -> None:
    settings = make_settings(tmp_path, warm_workers=0, database_url=database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url())
    migrate(engine)
    with sessionmaker(engine)() as s:
        repo.add_run(s, "deadbeef", RunSpec.model_validate(xor_spec()))
        repo.update_run(s, "deadbeef", status="running")
    engine.dispose()
    with TestClient(create_app(settings)) as c:
        run = RunPublic.model_validate(c.get(f"{API}/runs/deadbeef").json())
        assert run.status == "interrupted" and run.failure_reason
        assert c.post(f"{API}/runs/deadbeef/resume").status_code == 409
