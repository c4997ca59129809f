"""The run manager: the one owner of run state transitions, the concurrency limit and queue.

It lives on the event loop: executor threads hand their calls over with
call_soon_threadsafe, and nothing here blocks the loop. Database work goes to the store's
writer thread in order (server.storage.store): every transition is written there; scalar metrics
are buffered per (run, metric) and written as chunks, at most one per series per flush;
events go to the hub. Spec checks run in a thread before the state changes on the loop.
Which command a state takes is server.runs.commands' table. A stopped run is resumed by queueing
it again with its saved trainer state (server.storage.run_files), its hub channel reopened: every
check and read is done first, so that a refusal changes nothing.
Methods under "reads" run in other threads (FastAPI's threadpool), never on the loop.
May import: stdlib, orjson, sqlalchemy (sessions only), server modules, engine's public names.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session, sessionmaker

from engine import RunFailed, RunSpec, RunStopped, check_spec
from server.api.errors import Conflict, NotFound, SpecRefused, TooMany
from server.api.schemas import ACTIVE, Metrics, RunPage, RunPublic, RunStatus
from server.execution.executor import Executor, LocalProcessExecutor
from server.execution.messages import ControlCommand, Op
from server.runs import limits
from server.runs.commands import AFTER, ALLOWED, typed_command
from server.runs.hub import Hub
from server.runs.series import Key, SeriesBuffer
from server.settings import Settings
from server.storage import repository as repo
from server.storage.db import now
from server.storage.run_files import CHECKPOINT_FILE, STATE_FILE, saved_state
from server.storage.store import Store

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
    paused: bool = False  # held before its first step
    pace: float | None = None  # steps per second at most from its first step; None: unpaced
    resume: bytes | None = None  # the trainer state it goes on from, until handed over
    spec: RunSpec | None = None  # spec_json parsed, once a client asked (spec_of)


class RunManager:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], hub: Hub,
                 executor: Callable[[Settings, Any], Executor] = LocalProcessExecutor) -> None:
        self.settings = settings
        self.sessions = sessions
        self.store = Store(sessions)
        self.hub = hub
        self.executor = executor(settings, self)
        self.live: dict[str, Live] = {}
        self.queue: deque[str] = deque()
        self.claimed: set[str] = set()  # runs a resume or a delete is changing (awaits)
        self.series = SeriesBuffer()  # new points, until the next flush
        self.chunks = repo.ChunkWriter()  # the writer thread's alone
        self.loop: asyncio.AbstractEventLoop | None = None
        self._flusher: asyncio.Task[None] | None = None

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.store.written(repo.interrupt_active,
                                 "the server stopped while this run was active")
        self._retain()
        self.executor.start()
        self._flusher = asyncio.create_task(self._flush_periodically())

    async def shutdown(self) -> None:
        """Stop active runs, give them the grace period to end, record the rest."""
        for run_id in list(self.queue):
            self._unqueue(run_id, RunStatus.interrupted, reason="the server shut down")
            self.live.pop(run_id, None)  # it never ran: no worker will report its end
        for run_id in list(self.live):
            self.executor.control(run_id, ControlCommand(Op.stop))
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        while self.live and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for run_id, live in list(self.live.items()):
            if not live.ended:
                self._finish(run_id, RunStatus.interrupted, reason="the server shut down")
        if self._flusher is not None:
            self._flusher.cancel()
        with contextlib.suppress(Exception):  # a failed write is logged by the store
            await asyncio.wrap_future(self.flush())
        self.loop = None
        await asyncio.to_thread(self.executor.shutdown, 2.0)
        await asyncio.to_thread(self.store.close)
        await asyncio.to_thread(self.hub.close)

    # --- commands (event loop) -----------------------------------------------------------

    async def create(self, spec: RunSpec, paused: bool = False, pace: float | None = None
                     ) -> RunPublic:
        """Queue a run; `paused`: it waits before its first step (for step or resume); `pace`:
        at most that many steps a second (set_pace changes it)."""
        pace = typed_command(Op.set_pace, pace).arg  # refused before anything is made
        self._refuse_when_queue_full()
        errors, report = await asyncio.to_thread(check_spec, spec)  # builds the graph: a thread
        if not errors:
            errors = await asyncio.to_thread(limits.size_errors, spec, report, self.settings)
        if errors:
            raise SpecRefused("the run spec is not valid", errors)
        self._refuse_when_queue_full()  # again: other runs may have come in during the check
        run_id = repo.new_id()
        await self.store.written(repo.add_run, run_id, spec)
        self.hub.open(run_id)
        self.live[run_id] = Live(RunStatus.queued, spec.model_dump_json(), paused=paused,
                                  pace=pace)
        self.queue.append(run_id)
        self._schedule()
        return await self.get(run_id)

    def _refuse_when_queue_full(self) -> None:
        running = sum(1 for v in self.live.values() if v.status is not RunStatus.queued)
        refusal = limits.queue_refusal(len(self.queue), running, self.settings)
        if refusal is not None:
            raise TooMany(refusal)

    async def resume(self, run_id: str) -> RunPublic:
        """A paused run goes on; a stopped one is queued again, to go on from its trainer's
        saved state (same id, its events' seq and its metrics continuing)."""
        status = await self.run_status(run_id)
        if status is RunStatus.paused:
            self._command(run_id, status, Op.resume, None)
        elif status is RunStatus.stopped:
            self._refuse_when_queue_full()  # a resumed run queues like a new one
            await self._requeue(run_id)
        else:
            raise Conflict(f"cannot resume a run that is {status.value}; the run must be "
                           "paused (it goes on) or stopped (it goes on from its saved state)")
        return await self.get(run_id)

    async def _requeue(self, run_id: str) -> None:
        self._claim(run_id)
        try:
            await self._ended_for_good(run_id)
            public, rel = await asyncio.to_thread(self.store.read, repo.resume_state_file,
                                                  run_id)
            state = await asyncio.to_thread(saved_state, self.settings.data_dir, public, rel)
            await self.hub.reopen(run_id)  # nothing has changed yet: a refusal leaves none
        finally:
            self.claimed.discard(run_id)
        self.live[run_id] = Live(RunStatus.queued, public.spec.model_dump_json(),
                                 step=public.step, last_seq=public.last_seq, resume=state)
        self._set_status(run_id, RunStatus.queued, finished_at=None, metrics=None,
                         failure_reason=None)
        self.queue.append(run_id)
        self._schedule()

    def _claim(self, run_id: str) -> None:
        if run_id in self.claimed:
            raise Conflict(f"run {run_id!r} is being resumed or deleted; try again")
        self.claimed.add(run_id)

    async def _ended_for_good(self, run_id: str, timeout_s: float = 30.0) -> None:
        """Wait until a stopped run's worker has let it go (its last messages, its writes)."""
        deadline = time.monotonic() + timeout_s
        while run_id in self.live:
            if time.monotonic() > deadline:
                raise Conflict(f"run {run_id!r} is still ending; try again")
            await asyncio.sleep(0.02)

    def status(self, run_id: str) -> RunStatus:
        """A live run's from memory, another's read here (on the loop: await run_status)."""
        live = self.live.get(run_id)
        if live is not None:
            return live.status
        return self.store.read_now(repo.stored_run, run_id).status

    async def run_status(self, run_id: str) -> RunStatus:
        """status() off the loop's thread (a run not live never is again: no stale answer)."""
        live = self.live.get(run_id)
        if live is not None:
            return live.status
        return (await asyncio.to_thread(self.store.read_now, repo.stored_run, run_id)).status

    async def spec_of(self, run_id: str) -> RunSpec | None:
        """A run's spec (None: no such run): a live one's parsed once from memory, so that a
        class opening the page at once costs no database read per student; another's read
        off the loop's thread."""
        live = self.live.get(run_id)
        if live is None:
            return await asyncio.to_thread(self._stored_spec, run_id)
        if live.spec is None:
            live.spec = RunSpec.model_validate_json(live.spec_json)
        return live.spec

    def _stored_spec(self, run_id: str) -> RunSpec | None:
        with self.sessions() as s:
            row = repo.get_run(s, run_id)
            return RunSpec.model_validate(row.spec) if row is not None else None

    def command(self, run_id: str, op: str | Op, arg: Any = None) -> RunStatus:
        """pause, resume, step, stop, set_lr, set_probes or set_pace (the websocket's, on the
        loop);
        raises NotFound, SpecRefused (an unknown op, a bad argument) or Conflict."""
        return self._command(run_id, self.status(run_id), op, arg)

    async def control(self, run_id: str, op: str | Op, arg: Any = None) -> RunStatus:
        """command() for routes: the status of a run that is not live is read off the loop."""
        return self._command(run_id, await self.run_status(run_id), op, arg)

    def _command(self, run_id: str, status: RunStatus, op: str | Op, arg: Any) -> RunStatus:
        command = typed_command(op, arg)
        if status not in ALLOWED[command.op]:
            allowed = ", ".join(sorted(s.value for s in ALLOWED[command.op]))
            raise Conflict(f"cannot {command.op.replace('_', ' ')} a run that is "
                           f"{status.value}; the run must be {allowed}")
        if command.op is Op.stop and status is RunStatus.queued:
            self._unqueue(run_id, RunStatus.stopped)
            return RunStatus.stopped
        self.executor.control(run_id, command)
        new = AFTER.get(command.op, status)
        self._set_status(run_id, new)
        return new

    async def delete(self, run_id: str) -> None:
        status = await self.run_status(run_id)
        if status in ACTIVE:
            raise Conflict(f"run {run_id!r} is {status.value}; stop it before deleting it")
        self._claim(run_id)
        try:
            await self.store.written(repo.delete_run, run_id)
            self.hub.forget(run_id)
            await self.hub.drained()  # its history written: nothing comes back to the folder
            await asyncio.to_thread(shutil.rmtree, self.settings.run_dir(run_id), True)
        finally:
            self.claimed.discard(run_id)

    async def get(self, run_id: str) -> RunPublic:
        return await asyncio.to_thread(self.public, run_id)

    # --- reads (a thread other than the loop's: FastAPI's threadpool) --------------------

    def public(self, run_id: str) -> RunPublic:
        """A run as stored after the writes queued so far, with a live run's progress."""
        return self._overlay(self.store.read(repo.stored_run, run_id))

    def page(self, status: RunStatus | None, limit: int, offset: int) -> RunPage:
        rows, total = self.store.read(repo.list_public, status, limit, offset)
        return RunPage(items=[self._overlay(r) for r in rows], total=total, limit=limit,
                       offset=offset)

    def metrics(self, run_id: str, max_points: int, names: list[str] | None) -> Metrics:
        """The stored series, the points buffered on the loop included, decimated."""
        loop = self.loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing is buffered
                asyncio.run_coroutine_threadsafe(self._flushed(), loop).result(timeout=60)
        return self.store.read(repo.run_metrics, run_id, max_points, names)

    def checkpoint(self, run_id: str) -> Path:
        rel = self.store.read(repo.checkpoint_file, run_id)
        path = self.settings.data_dir / rel if rel else None
        if path is None or not path.exists():
            raise NotFound(f"run {run_id!r} has no checkpoint yet: one is written when the "
                           "run completes or is stopped")
        return path

    def _overlay(self, public: RunPublic) -> RunPublic:
        """A live run's progress (written every FLUSH_S). Not its status: the loop queues a
        status write as it changes one, so the read after synced() has it or a newer one
        (and an overlaid status could run ahead of its row: completed without metrics)."""
        live = self.live.get(public.id)
        if live is not None:
            public.step, public.last_seq = max(public.step, live.step), \
                max(public.last_seq, live.last_seq)
        return public

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

    def on_warning(self, run_id: str, message: str) -> None:
        self._call(self._warning, run_id, message)

    def on_ended(self, run_id: str, error: str | None) -> None:
        self._call(self._ended, run_id, error)

    # --- the loop's side -----------------------------------------------------------------

    def _event(self, run_id: str, type_: str, seq: int, step: int, payload: str | bytes) -> None:
        live = self.live.get(run_id)
        if live is None:
            return
        live.step, live.last_seq = step, seq
        parsed = orjson.loads(payload) if isinstance(payload, str) \
            and type_ in ("steps_completed", "eval_completed") else None
        self.hub.publish(run_id, type_, seq, payload, parsed)
        if parsed is not None:
            self._collect(run_id, type_, parsed, live)
        elif type_ in END_STATUS:
            live.ended = True
            data = json.loads(payload)
            self._finish(run_id, END_STATUS[type_], metrics=data.get("metrics"),
                         reason=data.get("reason"))

    def _collect(self, run_id: str, type_: str, ev: dict[str, Any], live: Live) -> None:
        """Whatever metrics the run's family names, stored by name (none is known here)."""
        live.epoch = ev["epoch"]
        if type_ == "steps_completed":
            first = ev["first_step"]
            for name, values in ev["metrics"].items():
                self.series.extend(run_id, name, first, values)
            self.series.add(run_id, "lr", ev["step"], ev["lr"])
        else:
            for name, v in ev["metrics"].items():
                self.series.add(run_id, name, ev["step"], v)

    def _checkpoint(self, run_id: str, path: str) -> None:
        """The weights' file (download) and the trainer state beside it (resume)."""
        folder = self.settings.run_dir(run_id).relative_to(self.settings.data_dir)
        self.store.write(repo.update_run, run_id, checkpoint=str(folder / CHECKPOINT_FILE),
                         resume_state=str(folder / STATE_FILE))

    def _warning(self, run_id: str, message: str) -> None:
        """Kept on the run (RunPublic.warnings): engine's RunWarning has no kind for it."""
        self.store.write(repo.add_warning, run_id, message)

    def _ended(self, run_id: str, error: str | None) -> None:
        live = self.live.get(run_id)
        if live is not None and not live.ended:
            reason = error or "the worker ended the run without reporting its end"
            self._synthetic(run_id, RunFailed, reason=reason, error="WorkerLost")
            self._finish(run_id, RunStatus.failed, reason=reason)
        self._forget_after_writes(run_id)

    def _forget_after_writes(self, run_id: str) -> None:
        """Drop the run from memory once its last writes are done: until then reads overlay
        its status, after that the database has it."""
        self.store.after_writes(lambda: self._call(self._forget, run_id))

    def _forget(self, run_id: str) -> None:
        self.live.pop(run_id, None)
        self._schedule()

    def _unqueue(self, run_id: str, status: RunStatus, reason: str | None = None) -> None:
        """A queued run ends before it starts. A resumed one is stopped again as it was, its
        state untouched (resumable), and sends no event: the seq after its last is the
        trainer's to emit, and its stream had nothing new."""
        self.queue.remove(run_id)
        if self.live[run_id].resume is not None:
            self._finish(run_id, RunStatus.stopped)
            return
        if status is RunStatus.stopped:
            self._synthetic(run_id, RunStopped, metrics={})
        self._finish(run_id, status, reason=reason)

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
            status = RunStatus.paused if live.paused else RunStatus.running
            # a first start is dated; a resumed run's state is spent once handed over (its
            # next end saves the next one: a stale state would repeat steps and seqs)
            fields = {"resume_state": None} if live.resume is not None else \
                {"started_at": now()}
            self._set_status(run_id, status, **fields)
            self._submit(run_id, live)
            self.loop.call_later(self.settings.max_run_seconds, self._time_up, run_id, live)
            running += 1

    def _time_up(self, run_id: str, live: Live) -> None:
        """Past the wall-time limit a run is stopped (the same run: not one resumed since)."""
        if self.live.get(run_id) is not live or live.ended:
            return
        why = limits.time_up_warning(self.settings)
        with contextlib.suppress(Conflict):  # it is ending already
            self._command(run_id, live.status, Op.stop, why)  # run_stopped says why
            self._warning(run_id, why)

    def _submit(self, run_id: str, live: Live) -> None:
        ckpt = self.settings.run_dir(run_id) / CHECKPOINT_FILE
        # the options only when used: an executor written before them takes the rest
        options: dict[str, Any] = {"paused": True} if live.paused else {}
        if live.resume is not None:
            options["resume"], live.resume = live.resume, None  # handed over: not kept here
        if live.pace is not None:
            options["pace"] = live.pace
        self.executor.submit(run_id, live.spec_json, str(ckpt.resolve()), **options)

    def _set_status(self, run_id: str, status: RunStatus, **fields: Any) -> None:
        live = self.live.get(run_id)
        if live is not None:
            live.status = status
        self.store.write(repo.update_run, run_id, status=status.value, **fields)

    def _finish(self, run_id: str, status: RunStatus, metrics: dict[str, float] | None = None,
                reason: str | None = None) -> None:
        live = self.live.get(run_id)
        self.flush()
        self.store.run(self.chunks.close, run_id)
        fields: dict[str, Any] = {"finished_at": now(), "metrics": metrics}
        if reason is not None:
            fields["failure_reason"] = reason
        never_ran = False
        if live is not None:
            live.ended = True
            fields.update(step=live.step, last_seq=live.last_seq)
            never_ran = status is RunStatus.stopped and run_id not in self.queue and live.t0 == 0
        self._set_status(run_id, status, **fields)
        if never_ran:
            self._forget_after_writes(run_id)
        self.hub.finish(run_id)
        self._retain()

    def _retain(self) -> None:
        """Compact finished runs' series past the retention settings (the writer thread, in
        order after this run's last points); runs still active here are left alone."""
        busy = frozenset(rid for rid, live in self.live.items() if not live.ended)
        st = self.settings
        self.store.write(repo.apply_retention, st.retain_raw_runs, st.retain_compacted_points,
                         st.retain_max_points, busy)

    # --- metrics -------------------------------------------------------------------------

    def flush(self) -> Future[None]:
        """Hand the buffered points to the writer thread (one chunk per series)."""
        return self.store.write(self._store_points, self.series.take(), {})

    async def _flushed(self) -> None:
        await asyncio.wrap_future(self.flush())

    def _store_points(self, s: Session, points: dict[Key, tuple[list[int], list[float]]],
                      progress: dict[str, tuple[int, int]]) -> None:
        if points:
            self.chunks.write(s, points)
        for run_id, (step, seq) in progress.items():
            repo.update_progress(s, run_id, step, seq)

    async def _flush_periodically(self) -> None:
        """Every FLUSH_S, the buffered points and live progress go to the writer thread (a
        fast run makes 10^4 points a second, and the event loop must not wait on them), and
        the events published meanwhile to the history thread."""
        loop = asyncio.get_running_loop()
        tick = loop.time()
        while True:  # on a fixed beat: a slow write does not push the next flush back
            tick = max(tick + FLUSH_S, loop.time())
            await asyncio.sleep(tick - loop.time())
            self.hub.append_pending()  # the events too: a crash loses at most FLUSH_S of both
            progress = {run_id: (live.step, live.last_seq) for run_id, live in self.live.items()
                        if not live.ended and live.status is not RunStatus.queued}
            fut = self.store.write(self._store_points, self.series.take(), progress)
            with contextlib.suppress(Exception):  # logged by the store; the next flush tries
                await asyncio.wrap_future(fut)

    def active_count(self) -> int:
        return len(self.live)

