"""A worker process: imports the engine once (warm), then trains the runs it is sent.

Messages in (cmd pipe): ("run", run_id, spec_json, checkpoint_path), ("control", op, arg),
("exit",). Messages out (event pipe): ("ready", pid), ("event", run_id, type, seq, step, payload)
where payload is the event's JSON text or, for heavy events, a binary frame,
("checkpoint", run_id, path), ("error", run_id, reason) when the run
cannot start, ("warning", run_id, message), ("idle", run_id).
torch's thread count is set (OMP_NUM_THREADS and engine.set_threads) before any run.
May import: stdlib, server.frames, engine's public names (inside the process only).
"""

from __future__ import annotations

import json
import os
import queue
import threading
from multiprocessing.connection import Connection
from typing import Any

from server.frames import HEAVY_FIELDS, encode


def worker_main(cmd: Connection, out: Connection, threads: int, nice: int = 0) -> None:
    if nice:
        os.nice(nice)  # training is the batch job here; the server and the page come first
    os.environ["OMP_NUM_THREADS"] = str(threads)  # before torch loads, for its thread pools
    os.environ["MKL_NUM_THREADS"] = str(threads)
    from engine import set_threads, warm_up  # the slow import, paid while idle

    set_threads(threads)
    warm_up()  # torch's first-use costs, paid before any run waits for them

    jobs: queue.Queue[tuple[Any, ...]] = queue.Queue()
    current: dict[str, Any] = {}
    threading.Thread(target=_read_commands, args=(cmd, jobs, current), daemon=True).start()
    out.send(("ready", os.getpid()))
    while True:
        job = jobs.get()
        if job[0] == "exit":
            return
        _run(job[1], job[2], job[3], out, job[4])
        if current.get("control") is job[4]:
            del current["control"]
        out.send(("idle", job[1]))


def _read_commands(cmd: Connection, jobs: queue.Queue[tuple[Any, ...]],
                   current: dict[str, Any]) -> None:
    """Commands as they come; a run's Control exists from the moment the run is received,
    so that a command sent right behind it (stop before the first step) is not lost."""
    from engine import Control

    while True:
        try:
            msg = cmd.recv()
        except (EOFError, OSError):
            jobs.put(("exit",))
            return
        if msg[0] == "control":
            control = current.get("control")
            if control is not None:
                _apply(control, msg[1], msg[2])
        elif msg[0] == "run":
            current["control"] = Control()
            jobs.put((*msg, current["control"]))
        else:
            jobs.put(msg)


def _apply(control: Any, op: str, arg: Any) -> None:
    try:
        if op == "set_lr":
            control.set_lr(float(arg))
        elif op == "set_probes":
            control.set_probes(arg)
        elif op == "step":
            control.step(int(arg or 1))
        else:
            getattr(control, op)()
    except ValueError:  # SpecError too
        pass  # the server validated it; a stale command is dropped


def _forward(out: Connection, event: Any) -> None:
    if event.type in HEAVY_FIELDS:
        payload: str | bytes = encode(json.loads(event.model_dump_json()))
    else:
        payload = event.model_dump_json()
    out.send(("event", event.run, event.type, event.seq, event.step, payload))


def _run(run_id: str, spec_json: str, ckpt: str, out: Connection, control: Any) -> None:
    from engine import TERMINAL_TYPES, RunSpec, Trainer, save_checkpoint

    try:
        trainer = Trainer(RunSpec.model_validate_json(spec_json), run_id=run_id, control=control)
    except Exception as exc:  # a spec the engine refuses at build time
        out.send(("error", run_id, f"{type(exc).__name__}: {exc}"))
        return
    trainer.subscribe(lambda ev: _forward(out, ev),
                      types=[t for t in _event_types() if t not in TERMINAL_TYPES])
    end = trainer.run()
    if end.type != "run_failed":
        try:
            save_checkpoint(trainer.model, trainer.spec, ckpt, step=end.step)
            out.send(("checkpoint", run_id, ckpt))
        except Exception as exc:  # noqa: BLE001  (weights that cannot be saved: say so)
            out.send(("warning", run_id, f"checkpoint not saved: {exc}"))
    _forward(out, end)


def _event_types() -> tuple[str, ...]:
    from engine import EVENT_TYPES

    return EVENT_TYPES
