"""The local worker pool: readiness in /health, which worker a run gets, when replacements
start, and that starting a process never happens in the caller's thread.

Timing-free: workers are held before their import by a gate file (`gated_worker`), so
"still importing" lasts exactly as long as a test wants; waits have generous deadlines.
May import: stdlib, pytest, fastapi.testclient, server, tests.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from server.api.schemas import Health
from server.app import create_app
from server.execution.executor import LocalProcessExecutor
from server.execution.messages import ControlCommand, Op
from server.execution.worker import worker_main
from tests.server.conftest import DEADLINE_S, TERMINAL, long_spec, make_settings, xor_spec

GATE_ENV = "LIVEGRAD_TEST_WORKER_GATE"
STOP = ControlCommand(Op.stop)


def gated_worker(cmd: Any, out: Any, threads: int, nice: int = 0, **kw: Any) -> None:
    """A worker that waits for the gate file before importing the engine."""
    gate = Path(os.environ[GATE_ENV])
    while not gate.exists():
        time.sleep(0.02)
    worker_main(cmd, out, threads, nice, **kw)


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.ended: dict[str, str | None] = {}
        self.cond = threading.Condition()

    def on_event(self, run_id: str, type_: str, seq: int, step: int,
                 payload: str | bytes) -> None:
        with self.cond:
            self.events.append((run_id, type_))
            self.cond.notify_all()

    def on_checkpoint(self, run_id: str, path: str) -> None:
        pass

    def on_warning(self, run_id: str, message: str) -> None:
        pass

    def on_ended(self, run_id: str, error: str | None) -> None:
        with self.cond:
            self.ended[run_id] = error
            self.cond.notify_all()

    def types(self, run_id: str) -> list[str]:
        with self.cond:
            return [t for r, t in self.events if r == run_id]


def until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def spec_json(spec: dict[str, Any]) -> str:
    return json.dumps(spec)


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "gate"
    monkeypatch.setenv(GATE_ENV, str(path))
    return path


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[Callable[..., tuple[LocalProcessExecutor, Sink]]]:
    made: list[LocalProcessExecutor] = []

    def make(gated: bool = True, **kw: Any) -> tuple[LocalProcessExecutor, Sink]:
        sink = Sink()
        ex = LocalProcessExecutor(make_settings(tmp_path, **kw), sink)
        if gated:
            ex.target = gated_worker
        made.append(ex)
        ex.start()
        return ex, sink

    yield make
    for ex in made:
        ex.shutdown(2.0)


def ckpt(tmp_path: Path, run_id: str) -> str:
    return str(tmp_path / f"{run_id}.safetensors")


def test_health_counts_ready_workers(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, warm_workers=1))) as client:
        def health() -> Health:
            return Health.model_validate(client.get("/api/v1/health").json())

        until(lambda: health().workers_ready == 1, "a ready worker")
        h = health()
        assert h.workers == 1 and h.workers_ready == 1


def test_cold_run_takes_the_importing_worker_and_waits_to_top_up(
        pool: Callable[..., tuple[LocalProcessExecutor, Sink]], gate: Path,
        tmp_path: Path) -> None:
    ex, sink = pool(warm_workers=1, top_up_max_active=4)
    assert ex.workers() == 1 and ex.workers_ready() == 0
    ex.submit("a", spec_json(xor_spec(5)), ckpt(tmp_path, "a"))
    time.sleep(0.5)  # a replacement started now would import beside the taken worker
    assert ex.workers() == 1
    gate.touch()
    until(lambda: "a" in sink.ended, "the run's end")
    assert sink.ended["a"] is None and sink.types("a")[-1] == "run_completed"
    until(lambda: ex.workers_ready() >= 1, "the pool back to a ready worker")
    assert ex.workers() <= 2


def test_a_run_prefers_a_ready_worker(
        pool: Callable[..., tuple[LocalProcessExecutor, Sink]], gate: Path,
        tmp_path: Path) -> None:
    gate.touch()
    ex, sink = pool(warm_workers=1, top_up_max_active=4)
    until(lambda: ex.workers_ready() == 1, "a ready worker")
    ready = ex._workers[0]
    gate.unlink()  # the next worker to start stays importing
    ex.submit("a", spec_json(long_spec()), ckpt(tmp_path, "a"))
    until(lambda: ex.workers() == 2, "a replacement once the run started")
    assert ex._find("a") is ready
    ex.control("a", STOP)
    until(lambda: "a" in sink.ended, "the stopped run's end")
    ex.submit("b", spec_json(xor_spec(2)), ckpt(tmp_path, "b"))  # ready one, not importing
    assert ex._find("b") is ready
    until(lambda: "b" in sink.ended, "the second run's end")


def test_replacements_start_one_at_a_time_and_wait_for_spare_cores(
        pool: Callable[..., tuple[LocalProcessExecutor, Sink]], gate: Path,
        tmp_path: Path) -> None:
    ex, sink = pool(warm_workers=2, top_up_max_active=0)
    time.sleep(0.5)
    assert ex.workers() == 1  # the second waits for the first's import
    gate.touch()
    until(lambda: ex.workers_ready() == 2, "two ready workers, one after the other")
    ex.submit("a", spec_json(long_spec()), ckpt(tmp_path, "a"))
    until(lambda: "run_started" in sink.types("a"), "the run's start")
    time.sleep(0.5)
    assert ex.workers() == 2  # one run active > top_up_max_active: no import beside it
    ex.control("a", STOP)
    until(lambda: "a" in sink.ended, "the stopped run's end")
    until(lambda: ex.workers_ready() == 2, "both workers idle again")


def test_spawning_happens_off_the_callers_thread(
        pool: Callable[..., tuple[LocalProcessExecutor, Sink]], tmp_path: Path) -> None:
    ex, sink = pool(gated=False, warm_workers=0)
    release = threading.Event()
    launch = ex._launch

    def held_launch(w: Any) -> None:
        release.wait(DEADLINE_S)
        launch(w)

    ex._launch = held_launch  # type: ignore[method-assign]
    ex.submit("a", spec_json(xor_spec(2)), ckpt(tmp_path, "a"))  # returns while held
    assert ex.workers() == 1 and not ex._workers[0].launched
    release.set()
    until(lambda: "a" in sink.ended, "the run's end")
    assert sink.ended["a"] is None and sink.types("a")[-1] in TERMINAL


def test_a_stop_sent_before_the_worker_is_ready_is_kept(
        pool: Callable[..., tuple[LocalProcessExecutor, Sink]], gate: Path,
        tmp_path: Path) -> None:
    ex, sink = pool(warm_workers=1)
    ex.submit("a", spec_json(long_spec()), ckpt(tmp_path, "a"))
    ex.control("a", STOP)
    gate.touch()
    until(lambda: "a" in sink.ended, "the stopped run's end")
    assert sink.types("a")[-1] == "run_stopped"
