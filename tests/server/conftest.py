"""Fixtures for the server tests: a live app on a temporary data folder, specs, helpers.

May import: stdlib, pytest, fastapi.testclient, server, engine's public names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import parse_event
from server.app import create_app
from server.frames import to_event
from server.protocol import Ack, ErrorFrame, Hello
from server.schemas import RunPublic
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 90.0  # generous: a loaded 2-core machine spawns workers slowly
TERMINAL = {"run_completed", "run_stopped", "run_failed"}


def xor_spec(epochs: int = 5, grid_every: int = 0, **training: Any) -> dict[str, Any]:
    spec = json.loads((ROOT / "examples" / "xor.json").read_text(encoding="utf-8"))
    spec["training"].update(epochs=epochs, **training)
    spec["training"]["telemetry"] = {"grid_every": grid_every, "grid_resolution": 8}
    return spec


def long_spec() -> dict[str, Any]:
    """A run that would take hours: tests pause, step and stop it."""
    return xor_spec(epochs=1_000_000)


def make_settings(data_dir: Path, **kw: Any) -> Settings:
    kw.setdefault("warm_workers", 1)
    kw.setdefault("max_concurrent_runs", 2)
    return Settings(data_dir=data_dir, **kw)


@pytest.fixture(scope="session")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path_factory.mktemp("data")))
    with TestClient(app) as c:
        yield c


def wait_status(c: TestClient, run_id: str, statuses: set[str]) -> RunPublic:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        run = RunPublic.model_validate(c.get(f"/api/v1/runs/{run_id}").json())
        if run.status in statuses or time.monotonic() > deadline:
            assert run.status in statuses, f"run stayed {run.status}, wanted {statuses}"
            return run
        time.sleep(0.05)


def wait_step(c: TestClient, run_id: str, at_least: int) -> RunPublic:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        run = RunPublic.model_validate(c.get(f"/api/v1/runs/{run_id}").json())
        if run.step >= at_least or time.monotonic() > deadline:
            assert run.step >= at_least, f"run reached step {run.step} only"
            return run
        time.sleep(0.05)


def post_run(c: TestClient, spec: dict[str, Any]) -> RunPublic:
    r = c.post("/api/v1/runs", json=spec)
    assert r.status_code == 201, r.text
    return RunPublic.model_validate(r.json())


def frame(message: dict[str, Any]) -> dict[str, Any]:
    """A received websocket message as a validated dict (event, hello, ack or error)."""
    if message.get("bytes") is not None:
        data = to_event(message["bytes"])
        parse_event(data)
        return data
    data = json.loads(message["text"])
    model = {"hello": Hello, "ack": Ack, "error": ErrorFrame}.get(data["type"])
    if model is not None:
        model.model_validate(data)
    else:
        parse_event(message["text"])
    return data


def read_until_end(ws: Any) -> list[dict[str, Any]]:
    frames = []
    while True:
        f = frame(ws.receive())
        frames.append(f)
        if f["type"] in TERMINAL:
            return frames
