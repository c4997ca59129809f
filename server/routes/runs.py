"""Runs: create, list, read, control (pause, resume, step, stop, learning rate, probe
settings), delete, metrics history and the checkpoint file.

May import: fastapi, server modules.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from server import repository as repo
from server.deps import RunsDep, SessionDep
from server.errors import ERRORS, NotFound
from server.schemas import Metrics, RunCreate, RunPage, RunPatch, RunPublic, RunStatus, StepRequest

router = APIRouter(prefix="/runs", tags=["runs"])


def _public(session: SessionDep, runs: RunsDep, run_id: str) -> RunPublic:
    row = repo.get_run(session, run_id)
    if row is None:
        raise NotFound(f"no run with id {run_id!r}")
    session.refresh(row)
    public = repo.run_public(row)
    live = runs.live.get(run_id)
    if live is not None:
        public.status, public.step, public.last_seq = live.status, live.step, live.last_seq
    return public


@router.post("", response_model=RunPublic, status_code=201, responses=ERRORS)
async def create_run(body: RunCreate, runs: RunsDep) -> RunPublic:
    """Start a run (or queue it when the concurrent-run limit is reached)."""
    return runs.create(body)


@router.get("", response_model=RunPage)
async def list_runs(session: SessionDep, runs: RunsDep, status: RunStatus | None = None,
                    limit: int = Query(50, ge=1, le=500),
                    offset: int = Query(0, ge=0)) -> RunPage:
    """Runs, newest first, optionally only those with one status."""
    rows, total = repo.list_runs(session, status, limit, offset)
    items = [_public(session, runs, r.id) for r in rows]
    return RunPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{run_id}", response_model=RunPublic, responses=ERRORS)
async def get_run(run_id: str, session: SessionDep, runs: RunsDep) -> RunPublic:
    """One run: spec, status, progress, final metrics or the reason it failed."""
    return _public(session, runs, run_id)


async def _command(run_id: str, op: str, session: SessionDep, runs: RunsDep,
                   arg: object = None) -> RunPublic:
    runs.command(run_id, op, arg)
    return _public(session, runs, run_id)


@router.post("/{run_id}/pause", response_model=RunPublic, responses=ERRORS)
async def pause_run(run_id: str, session: SessionDep, runs: RunsDep) -> RunPublic:
    """Pause a running run at its next chunk boundary."""
    return await _command(run_id, "pause", session, runs)


@router.post("/{run_id}/resume", response_model=RunPublic, responses=ERRORS)
async def resume_run(run_id: str, session: SessionDep, runs: RunsDep) -> RunPublic:
    """Resume a paused run."""
    return await _command(run_id, "resume", session, runs)


@router.post("/{run_id}/step", response_model=RunPublic, responses=ERRORS)
async def step_run(run_id: str, session: SessionDep, runs: RunsDep,
                   body: StepRequest | None = None) -> RunPublic:
    """Take n steps (default 1), then stay paused."""
    return await _command(run_id, "step", session, runs, (body or StepRequest()).n)


@router.post("/{run_id}/stop", response_model=RunPublic, responses=ERRORS)
async def stop_run(run_id: str, session: SessionDep, runs: RunsDep) -> RunPublic:
    """Stop a run for good (it keeps its history and checkpoint)."""
    return await _command(run_id, "stop", session, runs)


@router.patch("/{run_id}", response_model=RunPublic, responses=ERRORS)
async def patch_run(run_id: str, body: RunPatch, session: SessionDep,
                    runs: RunsDep) -> RunPublic:
    """Edit a live run: its base learning rate, its probes' settings, or both."""
    if body.probes is not None:  # first: refused (422, 409), it leaves the rate unchanged too
        runs.command(run_id, "set_probes", body.probes)
    if body.lr is not None:
        runs.command(run_id, "set_lr", body.lr)
    return _public(session, runs, run_id)


@router.delete("/{run_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete_run(run_id: str, runs: RunsDep) -> Response:
    """Delete a finished run with its history and files."""
    runs.delete(run_id)
    return Response(status_code=204)


@router.get("/{run_id}/metrics", response_model=Metrics, responses=ERRORS)
async def run_metrics(run_id: str, session: SessionDep, runs: RunsDep,
                      max_points: int = Query(1000, ge=1, le=100_000),
                      names: Annotated[list[str] | None, Query()] = None) -> Metrics:
    """Scalar history per series, downsampled to max_points, always keeping the last point."""
    _public(session, runs, run_id)
    runs.flush()
    return Metrics(run=run_id, series=repo.metric_series(session, run_id, max_points, names))


@router.get("/{run_id}/checkpoint", response_class=FileResponse, responses={
    200: {"content": {"application/octet-stream": {}},
          "description": "The weights as safetensors."}, **ERRORS})
async def run_checkpoint(run_id: str, session: SessionDep, runs: RunsDep) -> FileResponse:
    """The trained weights as a safetensors file (never pickle)."""
    row = repo.get_run(session, run_id)
    if row is None:
        raise NotFound(f"no run with id {run_id!r}")
    path = runs.settings.data_dir / row.checkpoint if row.checkpoint else None
    if path is None or not path.exists():
        raise NotFound(f"run {run_id!r} has no checkpoint yet: one is written when the run "
                       "completes or is stopped")
    return FileResponse(path, media_type="application/octet-stream",
                        filename=f"{run_id}.safetensors")
