"""Typed messages across the process boundary (server.execution.messages): a bad control op or
argument is refused in the server, before anything crosses to a worker; commands pickle and
round-trip
through a pipe; the worker's checkpoint warning reaches the run (RunPublic.warnings).

May import: stdlib, pytest, fastapi.testclient, sqlalchemy, server, engine's public names,
tests.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from engine import RunSpec
from server.api.errors import Conflict, SpecRefused
from server.api.schemas import RunPublic, RunStatus
from server.app import create_app
from server.execution.executor import LocalProcessExecutor
from server.execution.messages import ControlCommand, Op, RunJob, WarningOut
from server.execution.worker import worker_main
from server.runs.hub import Hub
from server.runs.manager import RunManager
from server.settings import Settings
from server.storage.db import make_engine, migrate
from tests.server.conftest import long_spec, make_settings, post_run, wait_status, xor_spec


@pytest.mark.parametrize(("op", "arg"), [("fly", None), ("getattr", None), ("step", 0),
                                         ("step", 1.5), ("step", True), ("set_lr", -1.0),
                                         ("set_lr", float("nan")), ("set_lr", "fast"),
                                         ("set_probes", [1]), ("pause", 3),
                                         ("set_weight", None), ("set_weight", {"node": "d"}),
                                         ("set_weight", {"node": "d", "row": -1, "col": 0,
                                                         "value": 1.0}),
                                         ("set_weight", {"node": "d", "row": 0, "col": 0,
                                                         "value": float("inf")}),
                                         ("set_weight", {"node": "", "row": 0, "col": 0,
                                                         "value": 1.0})])
def test_a_bad_command_cannot_be_made(op: str, arg: Any) -> None:
    with pytest.raises(ValueError):
        ControlCommand(op, arg)  # type: ignore[arg-type]


def test_a_weight_command_carries_its_four_fields() -> None:
    cmd = ControlCommand(Op.set_weight, {"node": "dense1", "row": 2, "col": 0, "value": 3})
    assert cmd.arg == {"node": "dense1", "row": 2, "col": 0, "value": 3.0}


def test_commands_are_typed_and_cross_a_pipe_intact() -> None:
    assert ControlCommand("step").arg == 1 and ControlCommand(Op.set_lr, 1).arg == 1.0
    assert ControlCommand("pause").op is Op.pause  # type: ignore[arg-type]
    recv, send = mp.get_context("spawn").Pipe(duplex=False)
    sent = [ControlCommand(Op.set_probes, {"norms": {"every": 5}}), RunJob("r", "{}", "/x"),
            WarningOut("r", "checkpoint not saved")]
    for msg in sent:
        send.send(msg)
    assert [recv.recv() for _ in sent] == sent


def test_the_executor_takes_only_typed_commands(tmp_path: Path) -> None:
    ex = LocalProcessExecutor(make_settings(tmp_path, warm_workers=0), sink=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ex.control("a", "stop")  # type: ignore[arg-type]


class Recorder:
    """An executor that records what would cross to workers."""

    def __init__(self, settings: Settings, sink: Any) -> None:
        self.sent: list[tuple[str, Any]] = []

    def start(self) -> None: ...

    def submit(self, run_id: str, spec_json: str, checkpoint_path: str) -> None:
        self.sent.append((run_id, "submit"))

    def control(self, run_id: str, command: ControlCommand) -> None:
        assert isinstance(command, ControlCommand)
        self.sent.append((run_id, command))

    def shutdown(self, grace_s: float) -> None: ...

    def workers(self) -> int:
        return 0

    def workers_ready(self) -> int:
        return 0


def test_the_manager_refuses_a_bad_op_before_it_crosses(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    eng = make_engine(settings.db_url())
    migrate(eng)
    manager = RunManager(settings, sessionmaker(eng, expire_on_commit=False),
                         Hub(tmp_path / "runs", 100), executor=Recorder)

    async def scenario() -> None:
        await manager.start()
        run = await manager.create(RunSpec.model_validate(long_spec()))
        assert run.status is RunStatus.running
        sent = manager.executor.sent  # type: ignore[attr-defined]
        for op, arg in [("fly", None), ("__class__", None), ("step", 0), ("set_lr", 0.0)]:
            with pytest.raises(SpecRefused):
                manager.command(run.id, op, arg)
        with pytest.raises(Conflict):
            manager.command(run.id, "resume")  # running: the state machine refuses it
        assert sent == [(run.id, "submit")]  # nothing crossed
        assert manager.command(run.id, "pause") is RunStatus.paused
        assert await manager.control(run.id, "step", 3) is RunStatus.paused
        assert sent[1:] == [(run.id, ControlCommand(Op.pause)),
                            (run.id, ControlCommand(Op.step, 3))]
        assert (await manager.get(run.id)).status is RunStatus.paused
        manager.command(run.id, "stop")
        manager.on_ended(run.id, None)  # as the worker would, without its terminal event
        await asyncio.sleep(0.2)
        stored = await manager.get(run.id)
        assert stored.status is RunStatus.failed and "without reporting" in str(
            stored.failure_reason)
        await manager.shutdown()

    asyncio.run(scenario())
    eng.dispose()


def failing_checkpoint_worker(cmd: Any, out: Any, threads: int, nice: int = 0,
                              **kw: Any) -> None:
    """The real worker, with a disk that refuses the checkpoint."""
    import engine

    def refuse(*_: Any, **__: Any) -> None:
        raise OSError(28, "No space left on device")

    engine.save_checkpoint = refuse  # type: ignore[assignment]
    worker_main(cmd, out, threads, nice, **kw)


def test_the_checkpoint_warning_reaches_the_run(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, warm_workers=0))) as client:
        client.app.state.manager.executor.target = failing_checkpoint_worker  # type: ignore[attr-defined]
        run = post_run(client, xor_spec(epochs=2))
        done = wait_status(client, run.id, {"completed", "failed"})
        assert done.status == "completed" and not done.has_checkpoint
        assert len(done.warnings) == 1 and done.warnings[0].startswith("checkpoint not saved")
        assert "No space left" in done.warnings[0]
    with TestClient(create_app(make_settings(tmp_path, warm_workers=0))) as client:
        again = RunPublic.model_validate(client.get(f"/api/v1/runs/{run.id}").json())
        assert again.warnings == done.warnings  # stored with the run
