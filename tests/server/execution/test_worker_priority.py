"""Workers train at a lower scheduling priority than the server, so that the server and the
browser stay responsive while runs use every core."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient

from server.app import create_app
from tests.server.conftest import long_spec, make_settings, post_run, wait_status, wait_step


def niceness(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of stat; the first two are before the ")"


def test_worker_runs_with_the_configured_niceness(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, worker_nice=7))) as client:
        run = post_run(client, long_spec())
        wait_step(client, run.id, 1)
        pid = client.app.state.manager.executor.pid(run.id)  # type: ignore[attr-defined]
        assert pid is not None
        assert niceness(pid) == min(19, niceness(os.getpid()) + 7)
        client.post(f"/api/v1/runs/{run.id}/stop")
        wait_status(client, run.id, {"stopped"})
