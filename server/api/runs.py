"""Runs: create, list, read, control (pause, resume, step, stop, learning rate, probe
settings, pace), resume a stopped run, delete, metrics history and the checkpoint file.

Nothing here blocks the event loop: reads are plain `def` routes (FastAPI's threadpool);
routes that change a run are `async` and await the manager, which does its database work
and spec checks in threads.
May import: fastapi, server modules.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from server.api.deps import RunsDep
from server.api.errors import ERRORS
from server.api.schemas import (
    MAX_OFFSET,
    Metrics,
    RunCreate,
    RunPage,
    RunPatch,
    RunPublic,
    RunStatus,
    StepRequest,
)

router = APIRouter(prefix="/runs", tags=["runs"])


@router.post("", response_model=RunPublic, status_code=201, responses=ERRORS)
async def create_run(body: RunCreate, runs: RunsDep, paused: bool = Query(
        False, description="Hold the run before its first step: step it, or resume it."),
        pace: float | None = Query(None, gt=0, le=100_000, description="At most this many "
                                   "steps a second (to watch it learn); none: as fast as it goes.")
        ) -> RunPublic:
    """Start a run (or queue it when the concurrent-run limit is reached)."""
    return await runs.create(body, paused=paused, pace=pace)


@router.get("", response_model=RunPage, responses=ERRORS)
def list_runs(runs: RunsDep, status: RunStatus | None = None,
              limit: int = Query(50, ge=1, le=500),
              offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> RunPage:
    """Runs, newest first, optionally only those with one status."""
    return runs.page(status, limit, offset)


@router.get("/{run_id}", response_model=RunPublic, responses=ERRORS)
def get_run(run_id: str, runs: RunsDep) -> RunPublic:
    """One run: spec, status, progress, final metrics or the reason it failed, warnings."""
    return runs.public(run_id)


async def _command(run_id: str, op: str, runs: RunsDep, arg: object = None) -> RunPublic:
    await runs.control(run_id, op, arg)
    return await runs.get(run_id)


@router.post("/{run_id}/pause", response_model=RunPublic, responses=ERRORS)
async def pause_run(run_id: str, runs: RunsDep) -> RunPublic:
    """Pause a running run at its next chunk boundary."""
    return await _command(run_id, "pause", runs)


@router.post("/{run_id}/resume", response_model=RunPublic, responses=ERRORS)
async def resume_run(run_id: str, runs: RunsDep) -> RunPublic:
    """Resume a paused run; or a stopped one from its saved state (`resumable`): it is
    queued again under its id, and its events, steps and metrics go on where it stopped,
    as an uninterrupted run's would."""
    return await runs.resume(run_id)


@router.post("/{run_id}/step", response_model=RunPublic, responses=ERRORS)
async def step_run(run_id: str, runs: RunsDep, body: StepRequest | None = None) -> RunPublic:
    """Take n steps (default 1), then stay paused."""
    return await _command(run_id, "step", runs, (body or StepRequest()).n)


@router.post("/{run_id}/stop", response_model=RunPublic, responses=ERRORS)
async def stop_run(run_id: str, runs: RunsDep) -> RunPublic:
    """Stop a run for good (it keeps its history and checkpoint)."""
    return await _command(run_id, "stop", runs)


@router.patch("/{run_id}", response_model=RunPublic, responses=ERRORS)
async def patch_run(run_id: str, body: RunPatch, runs: RunsDep) -> RunPublic:
    """Edit a live run: its base learning rate, its probes' settings, its pace."""
    if body.probes is not None:  # first: refused (422, 409), it leaves the rate unchanged too
        await runs.control(run_id, "set_probes", body.probes)
    if "pace" in body.model_fields_set:  # null is a pace too: as fast as it goes
        await runs.control(run_id, "set_pace", body.pace)
    if body.lr is not None:
        await runs.control(run_id, "set_lr", body.lr)
    return await runs.get(run_id)


@router.delete("/{run_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete_run(run_id: str, runs: RunsDep) -> Response:
    """Delete a finished run with its history and files."""
    await runs.delete(run_id)
    return Response(status_code=204)


@router.get("/{run_id}/metrics", response_model=Metrics, responses=ERRORS)
def run_metrics(run_id: str, runs: RunsDep, max_points: int = Query(1000, ge=1, le=100_000),
                names: Annotated[list[str] | None, Query()] = None) -> Response:
    """Scalar history per series in step order. Past max_points a series is decimated to
    each bucket's minimum and maximum plus the last point (spikes survive)."""
    # serialised here, in the threadpool: 10^4-10^5 numbers are not encoded on the loop
    return Response(runs.metrics(run_id, max_points, names).model_dump_json(),
                    media_type="application/json")


@router.get("/{run_id}/checkpoint", response_class=FileResponse, responses={
    200: {"content": {"application/octet-stream": {}},
          "description": "The weights as safetensors."}, **ERRORS})
def run_checkpoint(run_id: str, runs: RunsDep) -> FileResponse:
    """The trained weights as a safetensors file (never pickle)."""
    return FileResponse(runs.checkpoint(run_id), media_type="application/octet-stream",
                        filename=f"{run_id}.safetensors")
