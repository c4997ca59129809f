"""The run state machine's table (which command a run of each state takes, and the state it
leaves) and the checking of a command before it crosses to a worker. The run manager applies
them; nothing here changes a run.

May import: stdlib, server.api.errors, server.execution.messages, server.api.schemas, engine's
public names.
"""

from __future__ import annotations

from typing import Any

from engine import LocatedError, SpecError, check_probe_changes
from server.api.errors import SpecRefused
from server.api.schemas import ACTIVE, RunStatus
from server.execution.messages import ControlCommand, Op, to_op

# resume here is a paused run's; a stopped run's goes through RunManager.resume (its state)
ALLOWED: dict[Op, frozenset[RunStatus]] = {
    Op.pause: frozenset({RunStatus.running}),
    Op.resume: frozenset({RunStatus.paused}),
    Op.step: frozenset({RunStatus.running, RunStatus.paused}),
    Op.set_lr: frozenset({RunStatus.running, RunStatus.paused}),
    Op.set_probes: frozenset({RunStatus.running, RunStatus.paused}),
    Op.set_pace: frozenset({RunStatus.running, RunStatus.paused}),
    Op.set_weight: frozenset({RunStatus.running, RunStatus.paused}),
    Op.stop: frozenset(ACTIVE),
}
AFTER = {Op.pause: RunStatus.paused, Op.step: RunStatus.paused, Op.resume: RunStatus.running}


def typed_command(op: str | Op, arg: Any) -> ControlCommand:
    """The ControlCommand for op and arg, or SpecRefused: nothing malformed crosses to a
    worker. Probe changes are checked here, not in the worker: the client hears what was
    wrong, field by field."""
    try:
        kind = to_op(op)
    except ValueError as exc:
        raise SpecRefused(str(exc), [LocatedError(None, "op", str(exc))]) from None
    if kind is Op.set_probes:
        refuse_bad_probe_changes(arg)
    try:
        return ControlCommand(kind, arg)
    except ValueError as exc:
        raise SpecRefused(str(exc), [LocatedError(None, kind.value, str(exc))]) from None


def refuse_bad_probe_changes(changes: Any) -> None:
    try:
        check_probe_changes(changes)
    except SpecError as exc:
        where = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise SpecRefused(f"the probe changes are not valid: {where}", exc.errors) from None
