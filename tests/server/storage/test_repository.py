"""The database layer on SQLite and PostgreSQL: Alembic migrates up, down and up again; runs,
networks, warnings and metric points round-trip (non-finite points are left out); saved
networks survive a new app. Chunks themselves: test_metric_chunks.py.

May import: stdlib, pytest, fastapi.testclient, sqlalchemy, alembic, server, engine's public
names, tests.
"""

from __future__ import annotations

import math
from pathlib import Path

from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import sessionmaker

from engine import RunSpec
from server.api.schemas import NetworkPublic
from server.app import create_app
from server.storage import repository as repo
from server.storage.db import MIGRATIONS, make_engine, migrate
from tests.server.conftest import make_settings, xor_spec

TABLES = {"runs", "networks", "metric_chunks", "alembic_version"}


def _engine(tmp_path: Path, database_url: str | None) -> Engine:
    return make_engine(make_settings(tmp_path, database_url=database_url).db_url())


def test_migrations_go_up_down_and_up(tmp_path: Path, database_url: str | None) -> None:
    eng = _engine(tmp_path, database_url)
    tmp_path.mkdir(exist_ok=True)
    migrate(eng)
    migrate(eng)  # a second start finds the schema current
    assert TABLES <= set(inspect(eng).get_table_names())
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not {"runs", "networks", "metric_chunks", "metric_points"} & \
        set(inspect(eng).get_table_names())
    migrate(eng)
    assert TABLES <= set(inspect(eng).get_table_names())
    eng.dispose()


def test_rows_round_trip(tmp_path: Path, database_url: str | None) -> None:
    eng = _engine(tmp_path, database_url)
    migrate(eng)
    sessions = sessionmaker(eng, expire_on_commit=False)
    with sessions() as s:
        repo.add_run(s, "r1", RunSpec.model_validate(xor_spec()))
        repo.update_run(s, "r1", status="failed", metrics={"loss": 0.25, "accuracy": 0.5},
                        failure_reason="diverged at step 3")
        repo.add_points(s, [("r1", "loss", i, v) for i, v in
                            enumerate([1.0, 0.5, math.inf, math.nan])])
        repo.add_warning(s, "r1", "checkpoint not saved: disk full")
    with sessions() as s:
        run = repo.run_public(repo.get_run(s, "r1"))  # type: ignore[arg-type]
        assert run.status == "failed" and run.failure_reason == "diverged at step 3"
        assert run.metrics == {"loss": 0.25, "accuracy": 0.5}
        assert run.warnings == ["checkpoint not saved: disk full"]
        assert run.created_at.tzinfo is not None
        loss = repo.metric_series(s, "r1", 1000, ["loss"])["loss"]
        assert loss.steps == [0, 1] and loss.values == [1.0, 0.5]  # non-finite: left out
        assert repo.interrupt_active(s, "gone") == []
        repo.delete_run(s, "r1")
        assert repo.get_run(s, "r1") is None and not repo.metric_series(s, "r1", 10, None)
    eng.dispose()


def test_saved_networks_survive_a_new_app(tmp_path: Path, database_url: str | None) -> None:
    settings = make_settings(tmp_path, warm_workers=0, database_url=database_url)
    body = {"name": "xor net", "network": xor_spec()["networks"]["model"]}
    with TestClient(create_app(settings)) as c:
        made = NetworkPublic.model_validate(c.post("/api/v1/networks", json=body).json())
    with TestClient(create_app(settings)) as c:
        again = NetworkPublic.model_validate(c.get(f"/api/v1/networks/{made.id}").json())
    assert again == made
