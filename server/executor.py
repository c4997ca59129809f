"""Where runs execute: the Executor interface and LocalProcessExecutor (warm worker processes).

An executor calls its sink from its own threads; the sink (the run manager) must hand the
calls over to its event loop. A cluster executor can replace the local one without touching
the routes or the manager.
May import: stdlib, server.settings, server.worker.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from server.settings import Settings
from server.worker import worker_main


class ExecutorSink(Protocol):
    def on_event(self, run_id: str, type_: str, seq: int, step: int, payload: str | bytes) -> None:
        ...

    def on_checkpoint(self, run_id: str, path: str) -> None: ...

    def on_ended(self, run_id: str, error: str | None) -> None:
        """The run's execution ended; `error` says why if it did not end on its own."""


class Executor(Protocol):
    def start(self) -> None: ...

    def submit(self, run_id: str, spec_json: str, checkpoint_path: str) -> None: ...

    def control(self, run_id: str, op: str, arg: Any = None) -> None: ...

    def shutdown(self, grace_s: float) -> None: ...

    def workers(self) -> int: ...


@dataclass(eq=False)
class _Worker:
    proc: Any
    cmd: Connection
    out: Connection
    run_id: str | None = None
    pid: int | None = None
    ready: threading.Event = field(default_factory=threading.Event)


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process was killed by {name}"
    if code is None:
        return "the worker process stopped answering"
    return f"the worker process exited with code {code}"


class LocalProcessExecutor:
    """Runs each run in a worker process; keeps `warm_workers` idle ones that have imported
    the engine, so that a new run starts without paying torch's import."""

    def __init__(self, settings: Settings, sink: ExecutorSink) -> None:
        self.settings = settings
        self.sink = sink
        self.ctx = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._closing = False

    def start(self) -> None:
        for _ in range(self.settings.warm_workers):
            self._spawn()

    def workers(self) -> int:
        with self._lock:
            return len(self._workers)

    def pid(self, run_id: str) -> int | None:
        """The worker's process id (waits for it to be up); None if the run has none."""
        w = self._find(run_id)
        if w is None or not w.ready.wait(timeout=60):
            return None
        return w.pid

    def _spawn(self) -> _Worker:
        cmd_recv, cmd_send = self.ctx.Pipe(duplex=False)
        out_recv, out_send = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=worker_main, name="livegrad-worker", daemon=True,
                                args=(cmd_recv, out_send, self.settings.worker_threads,
                                      self.settings.worker_nice))
        proc.start()
        cmd_recv.close()
        out_send.close()
        w = _Worker(proc=proc, cmd=cmd_send, out=out_recv)
        with self._lock:
            self._workers.append(w)
        threading.Thread(target=self._read, args=(w,), name="livegrad-worker-reader",
                         daemon=True).start()
        return w

    def _find(self, run_id: str) -> _Worker | None:
        with self._lock:
            return next((w for w in self._workers if w.run_id == run_id), None)

    def submit(self, run_id: str, spec_json: str, checkpoint_path: str) -> None:
        with self._lock:
            idle = [w for w in self._workers if w.run_id is None]
            idle.sort(key=lambda w: not w.ready.is_set())
            w = idle[0] if idle else None
            if w is not None:
                w.run_id = run_id
        if w is None:
            w = self._spawn()
            w.run_id = run_id
        w.cmd.send(("run", run_id, spec_json, checkpoint_path))
        self._top_up()

    def _top_up(self) -> None:
        with self._lock:
            idle = sum(1 for w in self._workers if w.run_id is None)
        for _ in range(self.settings.warm_workers - idle):
            if not self._closing:
                self._spawn()

    def control(self, run_id: str, op: str, arg: Any = None) -> None:
        w = self._find(run_id)
        if w is not None:
            try:
                w.cmd.send(("control", op, arg))
            except OSError:
                pass  # the worker is gone; its reader reports the end

    def _read(self, w: _Worker) -> None:
        while True:
            try:
                msg = w.out.recv()
            except (EOFError, OSError):
                break
            self._dispatch(w, msg)
        w.proc.join(timeout=5)
        with self._lock:
            if w in self._workers:
                self._workers.remove(w)
            run_id, w.run_id = w.run_id, None
        if run_id is not None:
            self.sink.on_ended(run_id, _exit_reason(w.proc.exitcode))
        if not self._closing:
            self._top_up()

    def _dispatch(self, w: _Worker, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "event":
            self.sink.on_event(msg[1], msg[2], msg[3], msg[4], msg[5])
        elif kind == "ready":
            w.pid = msg[1]
            w.ready.set()
        elif kind == "checkpoint":
            self.sink.on_checkpoint(msg[1], msg[2])
        elif kind in ("error", "idle"):
            with self._lock:
                w.run_id = None
            self.sink.on_ended(msg[1], msg[2] if kind == "error" else None)
            self._retire_extra()

    def _retire_extra(self) -> None:
        keep = max(self.settings.warm_workers, self.settings.max_concurrent_runs)
        with self._lock:
            idle = [w for w in self._workers if w.run_id is None]
        for w in idle[keep:]:
            self._send_exit(w)

    @staticmethod
    def _send_exit(w: _Worker) -> None:
        try:
            w.cmd.send(("exit",))
        except OSError:
            pass

    def shutdown(self, grace_s: float) -> None:
        self._closing = True
        with self._lock:
            workers = list(self._workers)
        for w in workers:
            self._send_exit(w)
        for w in workers:
            w.proc.join(timeout=grace_s)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=5)
