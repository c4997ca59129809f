"""The messages between the server and its worker processes: frozen dataclasses, pickled
through multiprocessing pipes, dispatched on their type (never positional tuples, never a
method name read off the wire).

In (server -> worker): RunJob, ControlCommand, Exit.
Out (worker -> server): Ready, EventOut, CheckpointOut, WarningOut, ErrorOut, Idle.
A ControlCommand checks its argument when it is made, so that a bad command is refused in
the server, before it crosses to a worker.
May import: stdlib only (the worker imports it before torch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Op(StrEnum):
    pause = "pause"
    resume = "resume"
    step = "step"
    stop = "stop"
    set_lr = "set_lr"
    set_probes = "set_probes"
    set_pace = "set_pace"
    set_weight = "set_weight"


def to_op(name: str | Op) -> Op:
    """The Op named `name`; ValueError naming the known ones otherwise."""
    try:
        return Op(name)
    except ValueError:
        known = ", ".join(o.value for o in Op)
        raise ValueError(f"unknown control op {name!r}; known: {known}") from None


# --- server -> worker --------------------------------------------------------------------------

@dataclass(frozen=True)
class RunJob:
    """Train a run: from its first step, or from `resume` (the bytes of a stopped trainer's
    checkpoint, engine's `Trainer.checkpoint()`); `paused` holds it before its first step
    (until stepped, resumed or stopped)."""

    run_id: str
    spec_json: str
    checkpoint_path: str
    paused: bool = False
    resume: bytes | None = None
    pace: float | None = None  # steps per second at most; None: as fast as it goes


MAX_PACE = 100_000.0  # steps per second (engine.core.control.MAX_PACE)
MAX_REASON = 500  # characters of a stop's reason
MAX_WEIGHT = 1e6  # |value| of a weight set by hand (engine.MAX_WEIGHT)
WEIGHT_FIELDS = ("node", "row", "col", "value")


@dataclass(frozen=True)
class ControlCommand:
    """pause, resume (no argument); stop (optionally why, a short text); step (n >= 1
    steps); set_lr (a rate > 0); set_probes (per probe, the fields to change); set_pace (steps
    per second, or None: as fast as it goes); set_weight ({node, row, col, value}: one weight
    of a linear node, whose existence the caller checked against the run's spec)."""

    op: Op
    arg: int | float | dict[str, dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        op = to_op(self.op)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "arg", _checked(op, self.arg))


def _checked(op: Op, arg: Any) -> Any:
    if op is Op.step:
        n = 1 if arg is None else arg
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"step needs a whole number of steps >= 1, got {arg!r}")
        return n
    if op is Op.set_lr:
        if isinstance(arg, bool) or not isinstance(arg, int | float) or not \
                (math.isfinite(arg) and arg > 0):
            raise ValueError(f"set_lr needs a finite learning rate > 0, got {arg!r}")
        return float(arg)
    if op is Op.set_pace:  # the engine's Control.set_pace checks the same (stdlib only here)
        if arg is not None and (isinstance(arg, bool) or not isinstance(arg, int | float)
                                or not (math.isfinite(arg) and 0 < arg <= MAX_PACE)):
            raise ValueError(f"set_pace needs steps per second in (0, {MAX_PACE:g}] or null "
                             f"(as fast as it goes), got {arg!r}")
        return None if arg is None else float(arg)
    if op is Op.set_weight:
        return _checked_weight(arg)
    if op is Op.set_probes:
        if not isinstance(arg, dict) or not all(isinstance(v, dict) for v in arg.values()):
            raise ValueError(f"set_probes needs {{probe: {{field: value}}}}, got {arg!r}")
        return arg
    if op is Op.stop and arg is not None:
        if not isinstance(arg, str) or len(arg) > MAX_REASON:
            raise ValueError(f"stop takes a reason of at most {MAX_REASON} characters "
                             f"or nothing, got {arg!r}")
        return arg
    if arg is not None:
        raise ValueError(f"{op.value} takes no argument, got {arg!r}")
    return None


def _checked_weight(arg: Any) -> dict[str, Any]:
    """The form of a weight edit (the engine's WeightEdit.checked checks the same)."""
    if not isinstance(arg, dict) or set(arg) != set(WEIGHT_FIELDS):
        raise ValueError(f"set_weight needs {{node, row, col, value}}, got {arg!r}")
    node, row, col, value = (arg[k] for k in WEIGHT_FIELDS)
    if not isinstance(node, str) or not node:
        raise ValueError(f"set_weight: node: a node id (text) is needed, got {node!r}")
    for name, index in (("row", row), ("col", col)):
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(f"set_weight: {name}: a whole number >= 0 is needed, got {index!r}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not \
            (math.isfinite(value) and abs(value) <= MAX_WEIGHT):
        raise ValueError(f"set_weight: value: a finite number within ±{MAX_WEIGHT:g} is "
                         f"needed, got {value!r}")
    return {"node": node, "row": row, "col": col, "value": float(value)}


@dataclass(frozen=True)
class Exit:
    """Finish the current run's loop and end the process."""


# --- worker -> server --------------------------------------------------------------------------

@dataclass(frozen=True)
class Ready:
    """The worker imported the engine and warmed up."""

    pid: int


@dataclass(frozen=True)
class EventOut:
    """An engine event: its JSON text, or for heavy events a binary frame (server.api.frames)."""

    run_id: str
    type: str
    seq: int
    step: int
    payload: str | bytes


STATE_FILE = "state.safetensors"  # beside the weights' file: the trainer to resume from


@dataclass(frozen=True)
class CheckpointOut:
    """The run's weights were saved to `path`, and beside them (STATE_FILE) the whole trainer
    (weights, optimizer, random states, step, seq): the bytes a stopped run resumes from."""

    run_id: str
    path: str


@dataclass(frozen=True)
class WarningOut:
    """Something went wrong beside the training (e.g. the checkpoint was not saved)."""

    run_id: str
    message: str


@dataclass(frozen=True)
class ErrorOut:
    """The run could not start (e.g. a spec the engine refuses at build time)."""

    run_id: str
    reason: str


@dataclass(frozen=True)
class Idle:
    """The worker finished the run and waits for the next."""

    run_id: str


ToWorker = RunJob | ControlCommand | Exit
FromWorker = Ready | EventOut | CheckpointOut | WarningOut | ErrorOut | Idle
