"""The run manager: the one owner of run state transitions, the concurrency limit and queue.

It lives on the event loop: executor threads hand their calls over with
call_soon_threadsafe. Every transition is written to the database; scalar metrics are
buffered and written in batches; events go to the hub.
May import: stdlib, sqlalchemy (sessions only), server modules, engine's public names.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engine import RunFailed, RunSpec, RunStopped, SpecError, check_probe_changes, check_spec
from server import repository as repo
from server.db import now
from server.errors import Conflict, NotFound, SpecRefused
from server.executor import Executor, LocalProcessExecutor
from server.hub import Hub
from server.schemas import ACTIVE, RunPublic, RunStatus
from server.settings import Settings

ALLOWED: dict[str, frozenset[RunStatus]] = {
    "pause": frozenset({RunStatus.running}),
    "resume": frozenset({RunStatus.paused}),
    "step": frozenset({RunStatus.running, RunStatus.paused}),
    "set_lr": frozenset({RunStatus.running, RunStatus.paused}),
    "set_probes": frozenset({RunStatus.running, RunStatus.paused}),
    "stop": frozenset(ACTIVE),
}
END_STATUS = {"run_completed": RunStatus.completed, "run_stopped": RunStatus.stopped,
              "run_failed": RunStatus.failed}
FLUSH_S = 0.5


@dataclass
class Live:
    status: RunStatus
    spec_json: str
    step: int = 0
    epoch: int = 0
    last_seq: int = -1
    t0: float = 0.0
    ended: bool = False  # a terminal event arrived


class RunManager:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], hub: Hub,
                 executor: Callable[[Settings, Any], Executor] = LocalProcessExecutor) -> None:
        self.settings = settings
        self.sessions = sessions
        self.hub = hub
        self.executor = executor(settings, self)
        self.live: dict[str, Live] = {}
        self.queue: deque[str] = deque()
        self.points: list[tuple[str, str, int, float]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._flusher: asyncio.Task[None] | None = None

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        with self.sessions() as s:
            repo.interrupt_active(s, "the server stopped while this run was active")
        self.executor.start()
        self._flusher = asyncio.create_task(self._flush_periodically())

    async def shutdown(self) -> None:
        """Stop active runs, give them the grace period to end, record the rest."""
        for run_id in list(self.queue):
            self._finish(run_id, RunStatus.interrupted, reason="the server shut down")
        self.queue.clear()
        for run_id in list(self.live):
            self.executor.control(run_id, "stop")
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        while self.live and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for run_id, live in list(self.live.items()):
            if not live.ended:
                self._finish(run_id, RunStatus.interrupted, reason="the server shut down")
        if self._flusher is not None:
            self._flusher.cancel()
        self.flush()
        await asyncio.to_thread(self.executor.shutdown, 2.0)
        self.loop = None

    # --- commands (event loop) -----------------------------------------------------------

    def create(self, spec: RunSpec) -> RunPublic:
        errors, _ = check_spec(spec)
        if errors:
            raise SpecRefused("the run spec is not valid", errors)
        run_id = repo.new_id()
        with self.sessions() as s:
            row = repo.add_run(s, run_id, spec)
            self.live[run_id] = Live(RunStatus.queued, spec.model_dump_json())
            self.queue.append(run_id)
            self._schedule()
            s.refresh(row)
            return repo.run_public(row)

    def status(self, run_id: str) -> RunStatus:
        live = self.live.get(run_id)
        if live is not None:
            return live.status
        with self.sessions() as s:
            row = repo.get_run(s, run_id)
            if row is None:
                raise NotFound(f"no run with id {run_id!r}")
            return RunStatus(row.status)

    def command(self, run_id: str, op: str, arg: Any = None) -> RunStatus:
        """pause, resume, step, stop, set_lr or set_probes; raises NotFound, SpecRefused (a
        bad probe change) or Conflict."""
        status = self.status(run_id)
        if op == "set_probes":
            refuse_bad_probe_changes(arg)
        if status not in ALLOWED[op]:
            allowed = ", ".join(sorted(s.value for s in ALLOWED[op]))
            raise Conflict(f"cannot {op.replace('_', ' ')} a run that is {status.value}; "
                           f"the run must be {allowed}")
        if op == "stop" and status is RunStatus.queued:
            self.queue.remove(run_id)
            self._synthetic(run_id, RunStopped, metrics={})
            self._finish(run_id, RunStatus.stopped)
            return RunStatus.stopped
        self.executor.control(run_id, op, arg)
        new = {"pause": RunStatus.paused, "step": RunStatus.paused,
               "resume": RunStatus.running}.get(op, status)
        self._set_status(run_id, new)
        return new

    def delete(self, run_id: str) -> None:
        status = self.status(run_id)
        if status in ACTIVE:
            raise Conflict(f"run {run_id!r} is {status.value}; stop it before deleting it")
        with self.sessions() as s:
            repo.delete_run(s, run_id)
        self.hub.forget(run_id)
        folder = self.settings.run_dir(run_id)
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            path.unlink()
        if folder.exists():
            folder.rmdir()

    # --- executor sink (any thread) ------------------------------------------------------

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self.loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass  # the loop closed during shutdown

    def on_event(self, run_id: str, type_: str, seq: int, step: int, payload: str | bytes) -> None:
        self._call(self._event, run_id, type_, seq, step, payload)

    def on_checkpoint(self, run_id: str, path: str) -> None:
        self._call(self._checkpoint, run_id, path)

    def on_ended(self, run_id: str, error: str | None) -> None:
        self._call(self._ended, run_id, error)

    # --- the loop's side -----------------------------------------------------------------

    def _event(self, run_id: str, type_: str, seq: int, step: int, payload: str | bytes) -> None:
        live = self.live.get(run_id)
        if live is None:
            return
        live.step, live.last_seq = step, seq
        self.hub.publish(run_id, type_, seq, payload)
        if isinstance(payload, str) and type_ in ("steps_completed", "eval_completed"):
            self._collect(run_id, type_, json.loads(payload), live)
        elif type_ in END_STATUS:
            live.ended = True
            data = json.loads(payload)
            self._finish(run_id, END_STATUS[type_], metrics=data.get("metrics"),
                         reason=data.get("reason"))

    def _collect(self, run_id: str, type_: str, ev: dict[str, Any], live: Live) -> None:
        live.epoch = ev["epoch"]
        if type_ == "steps_completed":
            first = ev["first_step"]
            self.points.extend((run_id, "loss", first + i, v) for i, v in enumerate(ev["loss"]))
            for i, v in enumerate(ev.get("accuracy") or []):
                self.points.append((run_id, "accuracy", first + i, v))
            self.points.append((run_id, "lr", ev["step"], ev["lr"]))
        else:
            for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
                if ev.get(name) is not None:
                    self.points.append((run_id, name, ev["step"], ev[name]))

    def _checkpoint(self, run_id: str, path: str) -> None:
        rel = str(self.settings.run_dir(run_id).joinpath("checkpoint.safetensors")
                  .relative_to(self.settings.data_dir))
        with self.sessions() as s:
            repo.update_run(s, run_id, checkpoint=rel)

    def _ended(self, run_id: str, error: str | None) -> None:
        live = self.live.get(run_id)
        if live is not None and not live.ended:
            reason = error or "the worker ended the run without reporting its end"
            self._synthetic(run_id, RunFailed, reason=reason, error="WorkerLost")
            self._finish(run_id, RunStatus.failed, reason=reason)
        self.live.pop(run_id, None)
        self._schedule()

    def _synthetic(self, run_id: str, model: Any, **fields: Any) -> None:
        live = self.live[run_id]
        t = time.monotonic() - live.t0 if live.t0 else 0.0
        event = model(run=run_id, seq=live.last_seq + 1, step=live.step, epoch=live.epoch, t=t,
                      **fields)
        live.last_seq += 1
        self.hub.publish(run_id, event.type, event.seq, event.model_dump_json())

    def _schedule(self) -> None:
        running = sum(1 for v in self.live.values() if v.status is not RunStatus.queued)
        while self.queue and running < self.settings.max_concurrent_runs and self.loop:
            run_id = self.queue.popleft()
            live = self.live[run_id]
            live.t0 = time.monotonic()
            self._set_status(run_id, RunStatus.running, started_at=now())
            ckpt = self.settings.run_dir(run_id) / "checkpoint.safetensors"
            self.executor.submit(run_id, live.spec_json, str(ckpt.resolve()))
            running += 1

    def _set_status(self, run_id: str, status: RunStatus, **fields: Any) -> None:
        live = self.live.get(run_id)
        if live is not None:
            live.status = status
        with self.sessions() as s:
            repo.update_run(s, run_id, status=status.value, **fields)

    def _finish(self, run_id: str, status: RunStatus, metrics: dict[str, float] | None = None,
                reason: str | None = None) -> None:
        live = self.live.get(run_id)
        self.flush()
        fields: dict[str, Any] = {"finished_at": now(), "metrics": metrics}
        if reason is not None:
            fields["failure_reason"] = reason
        if live is not None:
            live.ended = True
            fields.update(step=live.step, last_seq=live.last_seq)
            if status is RunStatus.stopped and run_id not in self.queue and live.t0 == 0:
                self.live.pop(run_id, None)
        self._set_status(run_id, status, **fields)
        self.hub.finish(run_id)

    # --- metrics -------------------------------------------------------------------------

    def flush(self) -> None:
        self._write(self.points, {})
        self.points = []

    def _write(self, points: list[tuple[str, str, int, float]],
               progress: dict[str, tuple[int, int]]) -> None:
        with self.sessions() as s:
            if points:
                repo.add_points(s, points)
            for run_id, (step, seq) in progress.items():
                repo.update_progress(s, run_id, step, seq)

    async def _flush_periodically(self) -> None:
        """Every FLUSH_S, write the buffered points and live progress from a thread: a
        fast run makes 10^4 points a second, and the event loop must not wait on them."""
        while True:
            await asyncio.sleep(FLUSH_S)
            points, self.points = self.points, []
            progress = {run_id: (live.step, live.last_seq) for run_id, live in self.live.items()
                        if not live.ended and live.status is not RunStatus.queued}
            await asyncio.to_thread(self._write, points, progress)

    def active_count(self) -> int:
        return len(self.live)


def refuse_bad_probe_changes(changes: Any) -> None:
    """Here, not in the worker: the client hears what was wrong, field by field."""
    try:
        check_probe_changes(changes)
    except SpecError as exc:
        where = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise SpecRefused(f"the probe changes are not valid: {where}", exc.errors) from None
