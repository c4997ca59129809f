"""Fixtures for the server tests: a live app on a temporary data folder, specs, helpers.

May import: stdlib, pytest, fastapi.testclient, server, engine's public names.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from engine import parse_event
from server.api.frames import to_event
from server.api.protocol import Ack, ErrorFrame, Hello
from server.api.schemas import RunPublic
from server.app import create_app
from server.settings import Settings
from tests.server import pg

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
    return xor_spec(epochs=400_000)  # 10 M steps: the default limit


def make_settings(data_dir: Path, **kw: Any) -> Settings:
    kw.setdefault("warm_workers", 1)
    kw.setdefault("max_concurrent_runs", 2)
    kw.setdefault("allowed_hosts", ["testserver"])  # TestClient's Host
    return Settings(data_dir=data_dir, **kw)


@pytest.fixture(scope="session")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path_factory.mktemp("data")))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.Cluster | pg.Unavailable]:
    """A throwaway PostgreSQL cluster for the session, or why there is none."""
    try:
        cluster = pg.start()
    except pg.Unavailable as exc:
        POSTGRES_NOTE.append(f"PostgreSQL tests skipped: {exc}")
        yield exc
        return
    POSTGRES_NOTE.append(f"PostgreSQL tests ran against {cluster.url}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """Each persistence test runs twice: on the default SQLite file (None) and on a fresh
    PostgreSQL database."""
    if request.param == "sqlite":
        return None
    cluster = request.getfixturevalue("postgres")
    if isinstance(cluster, pg.Unavailable):
        pytest.skip(str(cluster))
    name = "t_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]
    return cluster.create_database(name)


POSTGRES_NOTE: list[str] = []


@contextlib.contextmanager
def serving(folder: Path, env: dict[str, str] | None = None,
            token: str | None = None) -> Iterator[str]:
    """`livegrad serve` on a free loopback port, as a user starts it (its log in
    folder/server.log, its data in folder/data; `env` added to this process's); yields its
    base URL once /health answers (with the token, when the server has one)."""
    port = pg.free_port()
    script = Path(sys.executable).with_name("livegrad")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--data-dir",
                             str(folder / "data")], cwd=ROOT, stdout=log, stderr=log,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, folder / "server.log", token)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`livegrad serve` on a free loopback port, as a user starts it; yields its base URL."""
    with serving(tmp_path_factory.mktemp("live")) as url:
        yield url


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path,
                  token: str | None = None) -> None:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2, trust_env=False,
                         headers=headers).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not come up: {log.read_text(errors='replace')}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in POSTGRES_NOTE:
        terminalreporter.write_line(line)


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
