"""Metrics in chunks (server.runs.series, repository.ChunkWriter): encoding round trips, the
min/max decimation keeps every bucket's extremes (a lone spike among 10^6 points survives
max_points=100), a supervised run costs at most 16 bytes a step on SQLite, and old point
rows move into chunks (and back) with the migration.

May import: stdlib, pytest, numpy, sqlalchemy, alembic, server, engine's public names, tests.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from engine import RunSpec
from server.runs.series import CHUNK_POINTS, as_floats, encode, minmax_indices, reduce
from server.storage import repository as repo
from server.storage.db import MIGRATIONS, MetricChunk, make_engine, migrate
from tests.server.conftest import make_settings, xor_spec


def _sessions(tmp_path: Path, database_url: str | None = None) -> tuple[Engine, sessionmaker]:
    eng = make_engine(make_settings(tmp_path, database_url=database_url).db_url())
    migrate(eng)
    return eng, sessionmaker(eng, expire_on_commit=False)


def _run(s: Session, run_id: str = "r1") -> None:
    repo.add_run(s, run_id, RunSpec.model_validate(xor_spec()))


@pytest.mark.parametrize("steps", [[5], [3, 4, 5, 6], [0, 25, 50, 75], [1, 2, 4, 9],
                                   [7, 7, 8], [0, 1, 2**40]])
def test_a_chunk_round_trips_its_steps_and_float32_values(steps: list[int]) -> None:
    st = np.array(steps, dtype=np.int64)
    va = np.linspace(-1, 1, len(steps)).astype(np.float32)
    chunk = encode(st, va)
    assert (chunk.steps is None) == (steps in ([5], [3, 4, 5, 6], [0, 25, 50, 75]))
    assert chunk.step_array().tolist() == steps
    assert chunk.value_array().tolist() == va.tolist()
    assert len(chunk.values) == 4 * len(steps)


def test_values_read_back_as_their_shortest_decimals() -> None:
    f32 = np.array([0.03, 0.1, 1 / 3, 1e-8, 12345.678, -2.5e30, 0.0], dtype=np.float32)
    out = as_floats(f32)
    assert out[:2] == [0.03, 0.1] and out[-1] == 0.0
    assert np.array_equal(np.array(out, dtype=np.float32), f32)  # the same float32 values


def test_decimation_keeps_the_min_and_max_of_every_bucket() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=10_001).astype(np.float32)
    keep = minmax_indices(values, 101)
    assert len(keep) <= 101 and keep[-1] == 10_000 and (np.diff(keep) > 0).all()
    width = -(-10_000 // 50)
    for b in range(0, 10_000, width):
        bucket = values[b:min(b + width, 10_000)]
        assert {b + int(bucket.argmin()), b + int(bucket.argmax())} <= set(keep.tolist())
    assert minmax_indices(values[:50], 100).tolist() == list(range(50))
    assert minmax_indices(values, 1).tolist() == [10_000]


def test_a_lone_spike_among_a_million_points_survives_max_points_100() -> None:
    n = 1_000_000
    values = (1 + 0.01 * np.sin(np.arange(n) / 50.0)).astype(np.float32)
    values[612_345] = 1e4
    values[77_777] = -5.0
    chunks = [encode(np.arange(i, min(i + 5000, n)), values[i:i + 5000])
              for i in range(0, n, 5000)]
    steps, out, total = reduce(chunks, 100)
    assert total == n and len(steps) <= 100 and steps == sorted(steps) and steps[-1] == n - 1
    assert 1e4 in out and steps[out.index(1e4)] == 612_345
    assert -5.0 in out and steps[out.index(-5.0)] == 77_777


def test_chunks_round_trip_through_the_database(tmp_path: Path,
                                                database_url: str | None) -> None:
    eng, sessions = _sessions(tmp_path, database_url)
    writer = repo.ChunkWriter()
    with sessions() as s:
        _run(s)
        writer.write(s, {("r1", "loss"): ([0, 1, 2], [1.0, math.nan, 0.5]),
                         ("r1", "lr"): ([0], [0.03]),
                         ("r1", "made_up.metric/42"): ([10, 20], [math.inf, 7.0])})
        writer.write(s, {("r1", "loss"): ([3, 4], [0.25, 0.125]), ("r1", "lr"): ([25], [0.03])})
        series = repo.metric_series(s, "r1", 1000, None)
        assert series["loss"].steps == [0, 2, 3, 4]  # non-finite points are left out
        assert series["loss"].values == [1.0, 0.5, 0.25, 0.125] and series["loss"].total == 4
        assert series["lr"].steps == [0, 25] and series["lr"].values == [0.03, 0.03]
        assert series["made_up.metric/42"].steps == [20]  # any name is stored as given
        assert set(repo.metric_series(s, "r1", 10, ["lr"])) == {"lr"}
        rows = s.scalar(select(func.count()).select_from(MetricChunk))
        assert rows == 3  # the second write grew the open chunks: one row per series
        repo.delete_run(s, "r1")
        assert s.scalar(select(func.count()).select_from(MetricChunk)) == 0
    eng.dispose()


def test_a_write_makes_at_most_one_chunk_per_series_and_chunks_close_when_full(
        tmp_path: Path) -> None:
    eng, sessions = _sessions(tmp_path)
    writer = repo.ChunkWriter()
    with sessions() as s:
        _run(s)
        first = 0
        for n in (CHUNK_POINTS + 10, 3, 3):  # the first is full at once; the rest share one
            writer.write(s, {("r1", "loss"): (list(range(first, first + n)), [1.0] * n)})
            first += n
        counts = list(s.scalars(select(MetricChunk.count).order_by(MetricChunk.first_step)))
        assert counts == [CHUNK_POINTS + 10, 6]
        writer.write(s, {("r1", "loss"): ([2], [9.0])})  # a step back: a new chunk, read sorted
        series = repo.metric_series(s, "r1", 100_000, None)["loss"]
        assert series.steps == sorted(series.steps) and series.total == first + 1
    eng.dispose()


def _file_bytes(tmp_path: Path) -> int:
    return sum(p.stat().st_size for p in tmp_path.glob("livegrad.db*"))


@pytest.mark.parametrize("steps_per_flush", [2, 5000])
def test_a_supervised_run_costs_at_most_16_bytes_a_step(tmp_path: Path,
                                                        steps_per_flush: int) -> None:
    """loss and accuracy every step, lr every event (25 steps), four evaluation metrics
    every 250 steps; a slow run (2 steps a flush) and a fast one (5000)."""
    eng, sessions = _sessions(tmp_path)
    writer = repo.ChunkWriter()
    total = 200_000 if steps_per_flush > 100 else 40_000
    rng = np.random.default_rng(1)
    with sessions() as s:
        _run(s)
        s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        before = _file_bytes(tmp_path)
        for first in range(0, total, steps_per_flush):
            steps = list(range(first, first + steps_per_flush))
            batch = {("r1", "loss"): (steps, rng.random(len(steps)).tolist()),
                     ("r1", "accuracy"): (steps, rng.random(len(steps)).tolist())}
            for name, every in (("lr", 25), ("train_loss", 250), ("test_loss", 250),
                                ("train_accuracy", 250), ("test_accuracy", 250)):
                at = [t for t in steps if t % every == every - 1]
                if at:
                    batch[("r1", name)] = (at, rng.random(len(at)).tolist())
            writer.write(s, batch)
        s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    per_step = (_file_bytes(tmp_path) - before) / total
    print(f"{steps_per_flush} steps a flush: {per_step:.2f} bytes a step")
    assert per_step <= 16, f"{per_step:.1f} bytes a step"
    eng.dispose()


def _at_0001(eng: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    return cfg


def test_the_migration_moves_old_point_rows_into_chunks_and_back(
        tmp_path: Path, database_url: str | None) -> None:
    eng = make_engine(make_settings(tmp_path, database_url=database_url).db_url())
    cfg = _at_0001(eng)
    loss = [(i, 1.0 / (i + 1)) for i in range(10_000)]
    lr = [(i, 0.03) for i in range(24, 10_000, 25)]
    evals = [(3, 0.5), (9, 0.25), (9, 0.2), (40, 0.125)]  # uneven, a step twice
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO runs (id, name, spec, status, created_at, step, "
                          "last_seq) VALUES ('old', 'old', :spec, 'completed', "
                          "CURRENT_TIMESTAMP, 10000, 5)"),
                     {"spec": RunSpec.model_validate(xor_spec()).model_dump_json()})
        points = [{"run_id": "old", "name": n, "step": st, "value": v}
                  for n, pts in (("loss", loss), ("lr", lr), ("test_loss", evals))
                  for st, v in pts]
        conn.execute(insert(_legacy_points()), points)
    migrate(eng)
    sessions = sessionmaker(eng, expire_on_commit=False)
    with sessions() as s:
        series = repo.metric_series(s, "old", 100_000, None)
        assert series["loss"].steps == [st for st, _ in loss]
        assert series["loss"].values == as_floats(np.array([v for _, v in loss], np.float32))
        assert series["lr"].steps == [st for st, _ in lr] and set(series["lr"].values) == {0.03}
        assert series["test_loss"].steps == [3, 9, 9, 40]
        assert series["test_loss"].values == [0.5, 0.25, 0.2, 0.125]
        chunks = list(s.execute(select(MetricChunk.name, MetricChunk.steps_int)))
        assert len([c for c in chunks if c.name == "loss"]) == -(-10_000 // 4096)
        assert all(c.steps_int is None for c in chunks if c.name != "test_loss")
        assert repo.run_public(repo.get_run(s, "old")).warnings == []  # type: ignore[arg-type]
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    with eng.connect() as conn:
        back = conn.execute(text("SELECT name, step, value FROM metric_points WHERE "
                                 "name = 'test_loss' ORDER BY step, id")).all()
        assert [(n, st) for n, st, _ in back] == [("test_loss", st) for st, _ in evals]
        n = conn.execute(text("SELECT count(*) FROM metric_points")).scalar()
        assert n == len(loss) + len(lr) + len(evals)
    eng.dispose()


def _legacy_points():  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.table("metric_points", sa.column("run_id"), sa.column("name"),
                    sa.column("step"), sa.column("value"))
