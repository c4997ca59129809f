"""All database access: runs, networks and metric chunks. Routes and the manager call this.

Metrics are stored as chunks (server.runs.series): ChunkWriter turns buffered points into at most
one chunk write per (run, metric) per call; metric_series reads them back decimated.
May import: stdlib, numpy, sqlalchemy, server.storage.db, server.api.errors, server.api.schemas,
server.runs.series, engine's public names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine import NetworkSpec, RunSpec
from server.api.errors import NotFound
from server.api.schemas import (
    ACTIVE,
    Metrics,
    NetworkCreate,
    NetworkPublic,
    RunPublic,
    RunStatus,
    Series,
)
from server.runs.series import (
    CHUNK_POINTS,
    Chunk,
    Key,
    encode,
    finite,
    minmax_indices,
    reduce,
)
from server.storage.db import MetricChunk, NetworkRow, RunRow, now


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def run_public(row: RunRow) -> RunPublic:
    return RunPublic(
        id=row.id, name=row.name, status=RunStatus(row.status),
        spec=RunSpec.model_validate(row.spec), created_at=row.created_at,
        started_at=row.started_at, finished_at=row.finished_at, step=row.step,
        last_seq=row.last_seq, metrics=row.metrics, failure_reason=row.failure_reason,
        has_checkpoint=row.checkpoint is not None, warnings=row.warnings or [],
        resumable=row.status == RunStatus.stopped.value and row.resume_state is not None,
    )


# --- runs ------------------------------------------------------------------------------------

def stored_run(s: Session, run_id: str) -> RunPublic:
    row = get_run(s, run_id)
    if row is None:
        raise NotFound(f"no run with id {run_id!r}")
    return run_public(row)


def checkpoint_file(s: Session, run_id: str) -> str | None:
    row = get_run(s, run_id)
    if row is None:
        raise NotFound(f"no run with id {run_id!r}")
    return row.checkpoint


def resume_state_file(s: Session, run_id: str) -> tuple[RunPublic, str | None]:
    """The run as stored, and where its resumable trainer state is (None: nowhere)."""
    row = get_run(s, run_id)
    if row is None:
        raise NotFound(f"no run with id {run_id!r}")
    return run_public(row), row.resume_state


def add_run(s: Session, run_id: str, spec: RunSpec) -> RunRow:
    row = RunRow(id=run_id, name=spec.name, spec=spec.model_dump(mode="json"),
                 status=RunStatus.queued.value, created_at=now(), step=0, last_seq=-1)
    s.add(row)
    s.commit()
    return row


def get_run(s: Session, run_id: str) -> RunRow | None:
    return s.get(RunRow, run_id)


def list_runs(s: Session, status: RunStatus | None, limit: int,
              offset: int) -> tuple[list[RunRow], int]:
    q = select(RunRow)
    count = select(func.count()).select_from(RunRow)
    if status is not None:
        q = q.where(RunRow.status == status.value)
        count = count.where(RunRow.status == status.value)
    rows = s.scalars(q.order_by(RunRow.created_at.desc(), RunRow.id).limit(limit).offset(offset))
    return list(rows), int(s.scalar(count) or 0)


def list_public(s: Session, status: RunStatus | None, limit: int,
                offset: int) -> tuple[list[RunPublic], int]:
    rows, total = list_runs(s, status, limit, offset)
    return [run_public(r) for r in rows], total


def update_run(s: Session, run_id: str, **fields: Any) -> None:
    s.execute(update(RunRow).where(RunRow.id == run_id).values(**fields))
    s.commit()


def update_progress(s: Session, run_id: str, step: int, last_seq: int) -> None:
    """A live run's progress; never moves a row back (a late write after its end)."""
    s.execute(update(RunRow).where(RunRow.id == run_id, RunRow.last_seq < last_seq)
              .values(step=step, last_seq=last_seq))
    s.commit()


def add_warning(s: Session, run_id: str, message: str) -> None:
    row = s.get(RunRow, run_id)
    if row is not None:
        row.warnings = [*(row.warnings or []), message]  # a new list: JSON columns see it
        s.commit()


def delete_run(s: Session, run_id: str) -> None:
    s.execute(delete(MetricChunk).where(MetricChunk.run_id == run_id))
    s.execute(delete(RunRow).where(RunRow.id == run_id))
    s.commit()


def interrupt_active(s: Session, reason: str) -> list[str]:
    """Mark runs a dead server left active as interrupted; returns their ids."""
    active = [st.value for st in ACTIVE]
    ids = list(s.scalars(select(RunRow.id).where(RunRow.status.in_(active))))
    if ids:
        s.execute(update(RunRow).where(RunRow.id.in_(ids)).values(
            status=RunStatus.interrupted.value, failure_reason=reason, finished_at=now()))
        s.commit()
    return ids


# --- metrics ---------------------------------------------------------------------------------

@dataclass
class _Open:
    """A chunk short of CHUNK_POINTS: its row and its points, to append the next ones to."""

    id: int
    steps: np.ndarray
    values: np.ndarray


class ChunkWriter:
    """Writes buffered points as chunks, at most one chunk per (run, metric) per call. A
    chunk short of CHUNK_POINTS is rewritten with the next points appended, so that a slow
    run (a few steps a flush) pays for its values, not for a row per flush. Not thread-safe:
    one writer thread owns it."""

    def __init__(self) -> None:
        self.open: dict[Key, _Open] = {}

    def write(self, s: Session, points: dict[Key, tuple[list[int], list[float]]]) -> int:
        """Store the points (non-finite ones left out); returns the points written."""
        made: list[tuple[Key, MetricChunk, np.ndarray, np.ndarray]] = []
        written = 0
        try:
            for key, (steps, values) in points.items():
                st, va = finite(steps, values)
                if len(st) == 0:
                    continue
                written += len(st)
                if len(st) > 1 and (np.diff(st) < 0).any():
                    order = np.argsort(st, kind="stable")
                    st, va = st[order], va[order]
                held = self.open.pop(key, None)
                if held is not None and st[0] > held.steps[-1]:
                    st, va = np.concatenate([held.steps, st]), np.concatenate([held.values, va])
                    s.execute(update(MetricChunk).where(MetricChunk.id == held.id)
                              .values(**_columns(encode(st, va))))
                    self._keep(key, held.id, st, va)
                else:
                    row = MetricChunk(run_id=key[0], name=key[1], **_columns(encode(st, va)))
                    s.add(row)
                    made.append((key, row, st, va))
            s.flush()
            for key, row, st, va in made:
                self._keep(key, row.id, st, va)
            s.commit()
        except BaseException:
            self.open.clear()  # rows that may not exist: the next points start new chunks
            raise
        return written

    def _keep(self, key: Key, row_id: int, steps: np.ndarray, values: np.ndarray) -> None:
        if len(steps) < CHUNK_POINTS:
            self.open[key] = _Open(row_id, steps, values)

    def close(self, run_id: str) -> None:
        """A run ended: its chunks grow no more."""
        for key in [k for k in self.open if k[0] == run_id]:
            del self.open[key]


def _columns(chunk: Chunk) -> dict[str, Any]:
    return {"first_step": chunk.first_step, "last_step": chunk.last_step, "count": chunk.count,
            "values_f32": chunk.values, "steps_int": chunk.steps}


def add_points(s: Session, points: list[tuple[str, str, int, float]]) -> None:
    """(run, metric, step, value) points as new chunks (tests and tools; the manager buffers
    and uses a long-lived ChunkWriter)."""
    grouped: dict[Key, tuple[list[int], list[float]]] = {}
    for run_id, name, step, value in points:
        steps, values = grouped.setdefault((run_id, name), ([], []))
        steps.append(step)
        values.append(value)
    ChunkWriter().write(s, grouped)


def metric_chunks(s: Session, run_id: str, names: list[str] | None) -> dict[str, list[Chunk]]:
    """A run's chunks per metric name, each list ordered by first step."""
    c = MetricChunk
    q = select(c.name, c.first_step, c.last_step, c.count, c.values_f32, c.steps_int).where(
        c.run_id == run_id)
    if names:
        q = q.where(c.name.in_(names))
    out: dict[str, list[Chunk]] = {}
    for name, first, last, count, values, steps in s.execute(q.order_by(c.name, c.first_step,
                                                                        c.id)):
        out.setdefault(name, []).append(Chunk(first, last, count, values, steps))
    return out


def metric_series(s: Session, run_id: str, max_points: int,
                  names: list[str] | None) -> dict[str, Series]:
    """Per metric: at most max_points points, each bucket's minimum and maximum plus the
    last point, in step order."""
    out = {}
    for name, chunks in metric_chunks(s, run_id, names).items():
        steps, values, total = reduce(chunks, max_points)
        out[name] = Series(steps=steps, values=values, total=total)
    return out


def run_metrics(s: Session, run_id: str, max_points: int, names: list[str] | None) -> Metrics:
    stored_run(s, run_id)
    return Metrics(run=run_id, series=metric_series(s, run_id, max_points, names))


# --- retention -------------------------------------------------------------------------------

def compact_series(s: Session, run_id: str, max_points: int) -> int:
    """Each of the run's series stored with more than max_points points becomes one chunk of
    at most max_points: its first point, its last, and each bucket's minimum and maximum
    (a spike survives). Returns the points removed. Only for a run whose chunks no writer
    holds open (a finished one: ChunkWriter.close)."""
    c = MetricChunk
    counts = s.execute(select(c.name, func.sum(c.count)).where(c.run_id == run_id)
                       .group_by(c.name)).all()
    over = [name for name, total in counts if int(total) > max_points]
    if not over:
        return 0  # (metric_chunks reads every series when given no names)
    removed = 0
    for name, chunks in metric_chunks(s, run_id, over).items():
        steps = np.concatenate([ch.step_array() for ch in chunks])
        values = np.concatenate([ch.value_array() for ch in chunks])
        order = np.argsort(steps, kind="stable")
        steps, values = steps[order], values[order]
        keep = np.union1d([0], minmax_indices(values, max(1, max_points - 1)))  # and the last
        s.execute(delete(c).where(c.run_id == run_id, c.name == name))
        s.add(MetricChunk(run_id=run_id, name=name,
                          **_columns(encode(steps[keep], values[keep]))))
        removed += len(values) - len(keep)
    s.commit()
    return removed


def apply_retention(s: Session, raw_runs: int, compacted_points: int, max_points: int,
                    busy: frozenset[str] = frozenset()) -> dict[str, int]:
    """Finished runs' series past their cap compacted (compact_series): the newest
    `raw_runs` finished ones (by finished_at) to max_points per series, older ones to
    compacted_points. Active runs, and those in `busy` (still being written), are never
    touched. Returns the points removed per run compacted."""
    c = MetricChunk
    over = set(s.scalars(select(c.run_id).group_by(c.run_id, c.name)
                         .having(func.sum(c.count) > min(max_points, compacted_points))))
    if not over:
        return {}  # the usual case: one query
    active = [st.value for st in ACTIVE]
    ids = list(s.scalars(select(RunRow.id).where(RunRow.status.not_in(active))
                         .order_by(RunRow.finished_at.desc(), RunRow.created_at.desc())))
    removed = {}
    for i, run_id in enumerate(ids):
        if run_id in busy or run_id not in over:
            continue
        cap = max_points if i < raw_runs else min(max_points, compacted_points)
        if (n := compact_series(s, run_id, cap)) > 0:
            removed[run_id] = n
    return removed


# --- networks --------------------------------------------------------------------------------

def network_public(row: NetworkRow) -> NetworkPublic:
    return NetworkPublic(id=row.id, name=row.name, network=NetworkSpec.model_validate(row.network),
                         created_at=row.created_at, updated_at=row.updated_at)


def add_network(s: Session, body: NetworkCreate) -> NetworkRow:
    t = now()
    row = NetworkRow(id=new_id(), name=body.name, network=body.network.model_dump(mode="json"),
                     created_at=t, updated_at=t)
    s.add(row)
    s.commit()
    return row


def list_networks(s: Session, limit: int, offset: int) -> tuple[list[NetworkRow], int]:
    """A page of saved networks, newest first, and how many there are in all."""
    q = select(NetworkRow).order_by(NetworkRow.created_at.desc(), NetworkRow.id)
    total = s.scalar(select(func.count()).select_from(NetworkRow))
    return list(s.scalars(q.limit(limit).offset(offset))), int(total or 0)


def get_network(s: Session, net_id: str) -> NetworkRow | None:
    return s.get(NetworkRow, net_id)


def replace_network(s: Session, row: NetworkRow, body: NetworkCreate) -> NetworkRow:
    row.name = body.name
    row.network = body.network.model_dump(mode="json")
    row.updated_at = now()
    s.commit()
    return row


def delete_network(s: Session, row: NetworkRow) -> None:
    s.delete(row)
    s.commit()
