"""Where runs execute: the Executor interface and LocalProcessExecutor (warm worker processes).

An executor calls its sink from its own threads; the sink (the run manager) must hand the
calls over to its event loop. A cluster executor can replace the local one without touching
the routes or the manager.

The local pool (measured on 2 cores: `import torch` plus the engine's warm-up take 3-4 s of
CPU, and two of them side by side slow both):
- processes start on a background thread, never in the caller's (a POST answers at once);
- a run goes to a ready idle worker, else to the idle worker that will be ready first
  (the oldest), else to a new one started for it;
- replacements (top-up to `warm_workers` idle ones) start one at a time: only while every
  worker has finished importing and every taken worker has started its run, and only while
  at most `top_up_max_active` runs are active, so that an import never competes with a
  starting run or with training that already uses every core.
Messages to and from workers are server.execution.messages' dataclasses, dispatched on their type.
May import: stdlib, server.execution.messages, server.settings, server.execution.worker.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from server.execution.messages import (
    CheckpointOut,
    ControlCommand,
    ErrorOut,
    EventOut,
    Exit,
    FromWorker,
    Idle,
    Ready,
    RunJob,
    ToWorker,
    WarningOut,
)
from server.execution.worker import worker_main
from server.settings import Settings

MAX_FAILED_IMPORTS = 3  # workers in a row that died before ready: stop topping up


class ExecutorSink(Protocol):
    def on_event(self, run_id: str, type_: str, seq: int, step: int, payload: str | bytes) -> None:
        ...

    def on_checkpoint(self, run_id: str, path: str) -> None: ...

    def on_warning(self, run_id: str, message: str) -> None:
        """Something went wrong beside the training (the run itself goes on or ends)."""

    def on_ended(self, run_id: str, error: str | None) -> None:
        """The run's execution ended; `error` says why if it did not end on its own."""


class Executor(Protocol):
    def start(self) -> None: ...

    def submit(self, run_id: str, spec_json: str, checkpoint_path: str, *,
               paused: bool = False, resume: bytes | None = None,
               pace: float | None = None) -> None:
        """Train the run (server.execution.messages.RunJob): `paused` before its first step, from
        `resume` (a stopped trainer's checkpoint bytes) if given, at most `pace` steps a second."""

    def control(self, run_id: str, command: ControlCommand) -> None: ...

    def shutdown(self, grace_s: float) -> None: ...

    def workers(self) -> int:
        """Worker processes started or starting (busy, idle or still importing)."""

    def workers_ready(self) -> int:
        """Idle workers that have imported the engine and warmed up: a run starts at once."""


@dataclass(eq=False)
class _Worker:
    proc: Any
    cmd: Connection
    out: Connection
    child_ends: tuple[Connection, Connection]  # closed here once the process has started
    born: float
    run_id: str | None = None
    pid: int | None = None
    launched: bool = False  # the process was started
    running: bool = False  # its current run has sent its first event
    retiring: bool = False  # told to exit: never given a run
    ready: threading.Event = field(default_factory=threading.Event)
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    outbox: list[ToWorker] = field(default_factory=list)  # held until ready

    def settled(self) -> bool:
        """Imported, and either idle or past its run's start: no start-up CPU to come."""
        return self.ready.is_set() and (self.run_id is None or self.running)


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


def default_top_up_max_active(settings: Settings) -> int:
    """Active runs up to which a replacement may import: while a core is left over."""
    if settings.top_up_max_active is not None:
        return settings.top_up_max_active
    return max(0, (os.cpu_count() or 1) // settings.worker_threads - 1)


class LocalProcessExecutor:
    """Runs each run in a worker process; keeps up to `warm_workers` idle ones that have
    imported the engine, so that a new run starts without paying torch's import."""

    def __init__(self, settings: Settings, sink: ExecutorSink) -> None:
        self.settings = settings
        self.sink = sink
        self.ctx = mp.get_context("spawn")
        self.target: Callable[..., None] = worker_main  # the worker's entry point
        self.max_active = default_top_up_max_active(settings)
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._closing = False
        self._failed_imports = 0
        self._spawns: queue.Queue[_Worker | None] = queue.Queue()
        self._spawner: threading.Thread | None = None

    def start(self) -> None:
        self._top_up()

    def workers(self) -> int:
        with self._lock:
            return len(self._workers)

    def workers_ready(self) -> int:
        with self._lock:
            return sum(1 for w in self._workers
                       if w.run_id is None and not w.retiring and w.ready.is_set())

    def pid(self, run_id: str) -> int | None:
        """The worker's process id (waits for it to be up); None if the run has none."""
        w = self._find(run_id)
        if w is None or not w.ready.wait(timeout=60):
            return None
        return w.pid

    # --- starting processes (the spawner thread) -------------------------------------------

    def _new_worker(self) -> _Worker:
        """A worker whose process the spawner thread will start; the caller holds the lock."""
        cmd_recv, cmd_send = self.ctx.Pipe(duplex=False)
        out_recv, out_send = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=self.target, name="livegrad-worker", daemon=True,
                                args=(cmd_recv, out_send, self.settings.worker_threads,
                                      self.settings.worker_nice),
                                kwargs={"plugins": tuple(self.settings.plugins),
                                        "parent": os.getpid()})
        w = _Worker(proc=proc, cmd=cmd_send, out=out_recv, child_ends=(cmd_recv, out_send),
                    born=time.monotonic())
        self._workers.append(w)
        if self._spawner is None:
            self._spawner = threading.Thread(target=self._spawn_loop, daemon=True,
                                             name="livegrad-worker-spawner")
            self._spawner.start()
        return w

    def _spawn_loop(self) -> None:
        while (w := self._spawns.get()) is not None:
            self._launch(w)

    def _launch(self, w: _Worker) -> None:
        error = "the server shut down before the worker started" if self._closing else None
        if error is None:
            try:
                w.proc.start()
                w.launched = True
            except Exception as exc:  # noqa: BLE001  (no process: the run fails, said why)
                error = f"the worker process could not start: {exc}"
        for end in w.child_ends:
            end.close()
        if error is not None:
            self._drop(w, error)
            return
        threading.Thread(target=self._read, args=(w,), name="livegrad-worker-reader",
                         daemon=True).start()

    def _drop(self, w: _Worker, reason: str) -> None:
        with self._lock:
            if w in self._workers:
                self._workers.remove(w)
            run_id, w.run_id = w.run_id, None
        if run_id is not None:
            self.sink.on_ended(run_id, reason)

    # --- runs ------------------------------------------------------------------------------

    def _find(self, run_id: str) -> _Worker | None:
        with self._lock:
            return next((w for w in self._workers if w.run_id == run_id), None)

    def _pick(self) -> _Worker | None:
        """A ready idle worker, else the idle one that will be ready first; lock held."""
        idle = [w for w in self._workers if w.run_id is None and not w.retiring]
        if not idle:
            return None
        return min(idle, key=lambda w: (not w.ready.is_set(), w.born))

    def submit(self, run_id: str, spec_json: str, checkpoint_path: str, *,
               paused: bool = False, resume: bytes | None = None,
               pace: float | None = None) -> None:
        if self._closing:
            self.sink.on_ended(run_id, "the server is shutting down")
            return
        with self._lock:
            w = self._pick()
            fresh = w is None
            if w is None:
                w = self._new_worker()
            w.run_id, w.running = run_id, False
        if fresh:
            self._spawns.put(w)
        self._post(w, RunJob(run_id, spec_json, checkpoint_path, paused, resume, pace))
        self._top_up()

    def _post(self, w: _Worker, msg: ToWorker) -> None:
        """Send now to a ready worker; hold for one still importing (its pipe is not read
        yet, and a long message must not block the caller)."""
        with w.send_lock:
            if not w.ready.is_set():
                w.outbox.append(msg)
                return
            try:
                w.cmd.send(msg)
            except OSError:
                pass  # the worker is gone; its reader reports the end

    def control(self, run_id: str, command: ControlCommand) -> None:
        if not isinstance(command, ControlCommand):  # typed, and checked when it was made
            raise TypeError(f"a ControlCommand is needed, not {type(command).__name__}")
        w = self._find(run_id)
        if w is not None:
            self._post(w, command)

    # --- the pool --------------------------------------------------------------------------

    def _may_top_up(self) -> bool:
        """Whether to start one replacement now; the caller holds the lock."""
        if self._closing or self._failed_imports >= MAX_FAILED_IMPORTS:
            return False
        live = [w for w in self._workers if not w.retiring]
        if not all(w.settled() for w in live):
            return False  # one start-up at a time, and none beside a starting run
        idle = sum(1 for w in live if w.run_id is None)
        return idle < self.settings.warm_workers and len(live) - idle <= self.max_active

    def _top_up(self) -> None:
        with self._lock:
            if not self._may_top_up():
                return
            w = self._new_worker()
        self._spawns.put(w)

    def _retire_extra(self) -> None:
        keep = max(self.settings.warm_workers, self.settings.max_concurrent_runs)
        with self._lock:
            idle = [w for w in self._workers if w.run_id is None and not w.retiring]
            idle.sort(key=lambda w: (not w.ready.is_set(), w.born))
            extra = idle[keep:]
            for w in extra:
                w.retiring = True
        for w in extra:
            self._send_exit(w)

    @staticmethod
    def _send_exit(w: _Worker) -> None:
        try:
            w.cmd.send(Exit())
        except OSError:
            pass

    # --- messages from a worker (its reader thread) ----------------------------------------

    def _read(self, w: _Worker) -> None:
        while True:
            try:
                msg = w.out.recv()
            except (EOFError, OSError):
                break
            self._dispatch(w, msg)
        w.proc.join(timeout=5)
        if not w.ready.is_set() and not self._closing:
            self._failed_imports += 1
        self._drop(w, _exit_reason(w.proc.exitcode))
        self._top_up()

    def _ready(self, w: _Worker, pid: int) -> None:
        with w.send_lock:
            w.pid = pid
            for msg in w.outbox:
                try:
                    w.cmd.send(msg)
                except OSError:
                    break
            w.outbox.clear()
            w.ready.set()
        self._failed_imports = 0
        self._top_up()

    def _dispatch(self, w: _Worker, msg: FromWorker) -> None:
        match msg:
            case EventOut():
                self.sink.on_event(msg.run_id, msg.type, msg.seq, msg.step, msg.payload)
                if not w.running:
                    w.running = True
                    self._top_up()
            case Ready():
                self._ready(w, msg.pid)
            case CheckpointOut():
                self.sink.on_checkpoint(msg.run_id, msg.path)
            case WarningOut():
                self.sink.on_warning(msg.run_id, msg.message)
            case ErrorOut() | Idle():
                with self._lock:
                    w.run_id, w.running = None, False
                self.sink.on_ended(msg.run_id, msg.reason if isinstance(msg, ErrorOut) else None)
                self._retire_extra()
                self._top_up()

    def shutdown(self, grace_s: float) -> None:
        with self._lock:
            self._closing = True
            workers = list(self._workers)
            spawner = self._spawner
        for w in workers:
            self._send_exit(w)
        for w in (w for w in workers if w.launched):
            w.proc.join(timeout=grace_s)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(timeout=5)
        # the spawner goes last: the workers it started die with it (PR_SET_PDEATHSIG), and
        # any it started meanwhile do (the rest of its queue is dropped, not started)
        self._spawns.put(None)
        if spawner is not None:
            spawner.join(timeout=10)
