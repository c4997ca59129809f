"""A run's files in its folder (data_dir/runs/<id>/), beside its event history (server.runs.hub):
the weights a download serves and the trainer state a stopped run resumes from, both
safetensors that the worker writes when a run completes or stops.

May import: stdlib, server.api.errors, server.execution.messages, server.api.schemas.
"""

from __future__ import annotations

from pathlib import Path

from server.api.errors import Conflict
from server.api.schemas import RunPublic, RunStatus
from server.execution.messages import STATE_FILE

CHECKPOINT_FILE = "checkpoint.safetensors"  # the weights, for download
__all__ = ["CHECKPOINT_FILE", "STATE_FILE", "saved_state"]


def saved_state(data_dir: Path, run: RunPublic, rel: str | None) -> bytes:
    """A stopped run's saved trainer state (read in a thread), or Conflict saying why there
    is none."""
    if run.status is not RunStatus.stopped:
        raise Conflict(f"cannot resume a run that is {run.status.value}; it changed meanwhile")
    try:
        if rel is None:
            raise FileNotFoundError(rel)
        return (data_dir / rel).read_bytes()
    except OSError:
        raise Conflict(f"run {run.id!r} has no saved state to resume from (it is saved when "
                       "a run completes or stops; this one was stopped while queued, or its "
                       "state was not saved: see its warnings)") from None
