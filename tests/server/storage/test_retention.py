"""Disk retention (repository.compact_series, apply_retention; the retention settings): a
compacted series keeps its first and last points and a lone spike; the newest finished runs
keep their raw steps up to the per-run cap, older ones are compacted; a run that is active
(or that the manager still writes) is never compacted; a live server applies the cap when a
run finishes.

May import: stdlib, numpy, sqlalchemy, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import RunSpec
from server.app import create_app
from server.storage import repository as repo
from server.storage.db import MetricChunk, make_engine, migrate, now
from tests.server.conftest import make_settings, post_run, wait_status, xor_spec

API = "/api/v1"
N = 50_000
SPIKE = 31_337


def _sessions(tmp_path: Path) -> sessionmaker[Session]:
    eng = make_engine(make_settings(tmp_path).db_url())
    migrate(eng)
    return sessionmaker(eng, expire_on_commit=False)


def _run_with_points(s: Session, run_id: str, status: str, age_s: float = 0) -> None:
    repo.add_run(s, run_id, RunSpec.model_validate(xor_spec()))
    repo.update_run(s, run_id, status=status, finished_at=now() - timedelta(seconds=age_s))
    rng = np.random.default_rng(0)
    values = 1.0 + 0.01 * rng.standard_normal(N)
    values[SPIKE] = 50.0  # one spike among 50,000 points
    steps = np.arange(1, N + 1)
    writer = repo.ChunkWriter()
    for lo in range(0, N, 4096):  # chunks as a live run writes them
        writer.write(s, {(run_id, "loss"): (steps[lo:lo + 4096].tolist(),
                                             values[lo:lo + 4096].tolist())})


def _points(s: Session, run_id: str) -> int:
    return int(s.scalar(select(func.sum(MetricChunk.count))
                        .where(MetricChunk.run_id == run_id)) or 0)


def test_compaction_keeps_the_first_and_last_points_and_a_spike(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    with sessions() as s:
        _run_with_points(s, "r1", "completed")
        removed = repo.compact_series(s, "r1", 500)
        assert removed == N - _points(s, "r1") and _points(s, "r1") <= 500
        series = repo.metric_series(s, "r1", 100_000, None)["loss"]
    assert series.steps[0] == 1 and series.steps[-1] == N
    assert series.steps == sorted(series.steps)
    assert SPIKE + 1 in series.steps and max(series.values) == 50.0
    assert series.total == len(series.steps) <= 500


def test_retention_spares_active_runs_and_the_newest_finished_ones(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    with sessions() as s:
        _run_with_points(s, "new", "completed", age_s=1)
        _run_with_points(s, "old", "stopped", age_s=100)
        _run_with_points(s, "oldest", "interrupted", age_s=200)
        _run_with_points(s, "training", "running")
        _run_with_points(s, "paused", "paused")
        _run_with_points(s, "ending", "completed", age_s=300)  # its manager still writes it
        removed = repo.apply_retention(s, raw_runs=2, compacted_points=1000,
                                       max_points=N, busy=frozenset({"ending"}))
        assert set(removed) == {"oldest"}  # "new" and "old" are the newest two finished
        assert _points(s, "oldest") <= 1000
        for run_id in ("new", "old", "training", "paused", "ending"):
            assert _points(s, run_id) == N, run_id
        removed = repo.apply_retention(s, raw_runs=2, compacted_points=1000,
                                       max_points=2000)  # the per-run cap: the new ones too
        assert set(removed) == {"new", "old", "ending"}
        for run_id in ("training", "paused"):
            assert _points(s, run_id) == N, run_id  # never a running (or paused) run
        assert repo.apply_retention(s, 2, 1000, 2000) == {}  # done: nothing more to do


def test_a_finished_run_is_capped_by_the_server(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, warm_workers=0, retain_max_points=64)
    with TestClient(create_app(settings)) as c:
        run = post_run(c, xor_spec(epochs=40))
        wait_status(c, run.id, {"completed"})
        loss = c.get(f"{API}/runs/{run.id}/metrics",
                     params={"names": "loss", "max_points": 100_000}).json()["series"]["loss"]
        done = c.get(f"{API}/runs/{run.id}").json()
        assert done["step"] > 64  # more steps than the cap
        assert loss["total"] <= 64 and loss["steps"][0] == 1 and loss["steps"][-1] == done["step"]
