"""A worker process: imports the engine once (warm), then trains the runs it is sent.

Messages (server.execution.messages, typed dataclasses) in on the cmd pipe: RunJob,
ControlCommand, Exit (and the pipe's EOF: the server died, and the worker exits at once, as
it does when its parent dies: `die_with_parent`); out on the event pipe: Ready, EventOut
(the event's JSON text or, for heavy events, a binary frame), CheckpointOut (the weights
and the resumable trainer state, saved when a run completes or stops), WarningOut (e.g. the
checkpoint was not saved), ErrorOut (the run cannot start), Idle.
torch's thread count is set (OMP_NUM_THREADS and engine.set_threads) before any run.
May import: stdlib, server.api.frames, server.execution.messages, engine's public names (inside the
process only).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from server.execution.messages import (
    STATE_FILE,
    CheckpointOut,
    ControlCommand,
    ErrorOut,
    EventOut,
    Exit,
    Idle,
    Op,
    Ready,
    RunJob,
    WarningOut,
)

PR_SET_PDEATHSIG = 1  # linux/prctl.h: the signal this process gets when its parent dies


def worker_main(cmd: Connection, out: Connection, threads: int, nice: int = 0,
                plugins: tuple[str, ...] = (), parent: int | None = None) -> None:
    # first of all: the import below takes seconds, and a server dead meanwhile must not
    # leave an orphan behind (later, the command pipe's EOF says it too: _read_commands)
    die_with_parent(parent)
    if nice:
        os.nice(nice)  # training is the batch job here; the server and the page come first
    os.environ["OMP_NUM_THREADS"] = str(threads)  # before torch loads, for its thread pools
    os.environ["MKL_NUM_THREADS"] = str(threads)
    from engine import load_plugins, set_threads, warm_up  # the slow import, paid while idle

    set_threads(threads)
    load_plugins(plugins)  # the server's plugins: their families and probes exist here too
    warm_up()  # torch's first-use costs, paid before any run waits for them

    jobs: queue.Queue[tuple[RunJob, Any] | Exit] = queue.Queue()
    current: dict[str, Any] = {}
    threading.Thread(target=_read_commands, args=(cmd, jobs, current), daemon=True).start()
    out.send(Ready(os.getpid()))
    while not isinstance(item := jobs.get(), Exit):
        job, control = item
        _run(job, out, control)
        if current.get("control") is control:
            del current["control"]
        out.send(Idle(job.run_id))


def _read_commands(cmd: Connection, jobs: queue.Queue[tuple[RunJob, Any] | Exit],
                   current: dict[str, Any]) -> None:
    """Commands as they come; a run's Control exists from the moment the run is received,
    so that a command sent right behind it (stop before the first step) is not lost."""
    from engine import Control

    while True:
        try:
            msg = cmd.recv()
        except (EOFError, OSError):
            _orphaned()  # the server's end closed: it died (it never closes it while alive)
        if isinstance(msg, ControlCommand):
            control = current.get("control")
            if control is not None:
                _apply(control, msg)
        elif isinstance(msg, RunJob):
            current["control"] = Control(paused=msg.paused, pace=msg.pace)
            jobs.put((msg, current["control"]))
        elif isinstance(msg, Exit):
            jobs.put(msg)
            return
        # anything else is not a message of ours: dropped


def die_with_parent(parent: int | None) -> None:
    """Have this process end when the server does (`parent`: its pid, None: the current
    parent): on Linux the kernel kills it with the thread that started it (the executor's
    spawner thread lives as long as the server), even while it imports torch (which holds
    the GIL for seconds); elsewhere a thread watches the parent's pid."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    expected = os.getppid() if parent is None else parent
    if os.getppid() != expected:
        _orphaned()  # the server died before the signal was asked for
    threading.Thread(target=_watch_parent, args=(expected,), daemon=True,
                     name="livegrad-parent-watch").start()


def _watch_parent(parent: int, every_s: float = 0.25) -> None:
    """The fallback to the pipe's EOF: once the server is gone (this process was handed to
    another parent), nobody reads the run's events or will ever stop it."""
    while os.getppid() == parent:
        time.sleep(every_s)
    _orphaned()


def _orphaned() -> None:
    """Exit at once, whatever the run is doing (paused, mid-step): the server that owned it
    is dead, and a run it cannot report is only memory held (a paused run waits forever)."""
    os._exit(0)


def _apply(control: Any, cmd: ControlCommand) -> None:
    try:
        match cmd.op:
            case Op.pause:
                control.pause()
            case Op.resume:
                control.resume()
            case Op.stop:
                control.stop(cmd.arg)
            case Op.step:
                control.step(cmd.arg)
            case Op.set_lr:
                control.set_lr(cmd.arg)
            case Op.set_probes:
                control.set_probes(cmd.arg)
            case Op.set_pace:
                control.set_pace(cmd.arg)
            case Op.set_weight:  # the server checked it against the run's spec
                control.set_weight(**cmd.arg)
    except ValueError:  # SpecError too
        pass  # the server validated it; a stale command is dropped


def _forward(out: Connection, event: Any) -> None:
    # imported here, not at the top: server.api.frames loads the engine (torch), which must wait
    # for worker_main's thread settings; once loaded, the import is a dict look-up
    from server.api.frames import to_frame

    # a binary frame exactly when the event holds arrays that its model declares, else JSON
    payload = to_frame(event)
    out.send(EventOut(event.run, event.type, event.seq, event.step, payload))


def _run(job: RunJob, out: Connection, control: Any) -> None:
    from engine import TERMINAL_TYPES, RunSpec, Trainer

    try:
        # checked: the server checked the spec before it queued the run (RunManager.create)
        trainer = Trainer(RunSpec.model_validate_json(job.spec_json), run_id=job.run_id,
                          control=control, resume=job.resume, checked=True)
    except Exception as exc:  # a spec (or a checkpoint) the engine refuses at build time
        out.send(ErrorOut(job.run_id, f"{type(exc).__name__}: {exc}"))
        return
    trainer.subscribe(lambda ev: _forward(out, ev),
                      types=[t for t in _event_types() if t not in TERMINAL_TYPES])
    end = trainer.run()
    if end.type != "run_failed":  # a failed trainer may be mid-step: nothing to go on from
        _save(trainer, job, end.step, out)
    _forward(out, end)  # after the checkpoint: a run is stopped only once it can resume


def _save(trainer: Any, job: RunJob, step: int, out: Connection) -> None:
    """The weights (what a download wants) and the whole trainer (what a resume needs)."""
    from engine import save_checkpoint

    state = Path(job.checkpoint_path).with_name(STATE_FILE)
    try:
        save_checkpoint(trainer.model, trainer.spec, job.checkpoint_path, step=step)
        partial = state.with_suffix(".partial")
        partial.write_bytes(trainer.checkpoint())
        partial.replace(state)  # never half a state where a resume would read one
        out.send(CheckpointOut(job.run_id, job.checkpoint_path))
    except Exception as exc:  # noqa: BLE001  (weights that cannot be saved: say so)
        out.send(WarningOut(job.run_id, f"checkpoint not saved: {exc}"))


def _event_types() -> tuple[str, ...]:
    from engine import EVENT_TYPES

    return tuple(EVENT_TYPES)  # a live view of the registered types: this run's, as of now
