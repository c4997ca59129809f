"""Every bad request in the corpus (bad_requests.py) is refused with a 4xx in the one error
shape, naming the node (by id) and the field where there is one and saying why; none leaves a
run or a network behind, none is a 5xx. /graphs/validate reports a graph's errors in its
answer (200, ok false): those cases check the report instead.

The limits on queued runs and on wall time need workers: they are tested at the end, on a
server of their own with small limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from server.api.schemas import Problem
from server.app import create_app
from tests.server.api.bad_requests import CASES, NETWORKS, RUNS, Case, run, training
from tests.server.conftest import (
    frame,
    long_spec,
    make_settings,
    post_run,
    read_until_end,
    wait_status,
)

CUDA_ABSENT = [] if torch.cuda.is_available() else [
    Case("cuda where there is none", "POST", RUNS, run(training(device="cuda")),
         field="training.device", says="no usable CUDA device")]
ALL = CASES + CUDA_ABSENT


def test_the_corpus_is_large_and_refusals_are_most_of_it() -> None:
    names = [c.name for c in ALL]
    assert len(set(names)) == len(names), "case names are unique"
    assert sum(1 for c in ALL if c.status >= 400) >= 120


def counts(client: TestClient) -> tuple[int, int]:
    runs = client.get(RUNS).json()["total"]
    networks = len(client.get(NETWORKS, params={"limit": 500}).json())
    return runs, networks


def located(items: list[dict[str, Any]], case: Case) -> list[dict[str, Any]]:
    """The error items that name the case's node and field and say its word of why."""
    return [e for e in items if e.get("node") == case.node
            and (case.field is None or e.get("field") == case.field)
            and case.says.lower() in (e.get("message") or "").lower()]


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_refused_with_a_located_reason_and_nothing_left_behind(client: TestClient,
                                                               case: Case) -> None:
    before = counts(client)
    r = client.request(case.method, case.path, **case.send())
    assert r.status_code == case.status, r.text
    assert counts(client) == before, "a refused request left a run or a network behind"
    if case.status == 200:  # a graph report: ok false, the error pinned on its node
        report = r.json()
        assert report["ok"] is False
        assert located(report["errors"], case), report["errors"]
        return
    problem = Problem.model_validate(r.json())
    assert problem.detail
    if case.status == 413:
        assert case.says in problem.detail
        return
    items = [e.model_dump() for e in problem.errors]
    assert items, "a refusal lists at least one error"
    assert located(items, case), items
    assert all(len(e["message"]) < 600 for e in items), "messages stay readable"


def test_a_server_error_keeps_the_error_shape(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/boom", boom)
    app.router.routes.insert(0, app.router.routes.pop())  # before the web page's mount

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/boom")
    assert r.status_code == 500
    problem = Problem.model_validate(r.json())
    assert "RuntimeError" in problem.detail and problem.errors


def test_a_valid_network_is_saved_and_a_bad_replacement_changes_nothing(
        client: TestClient) -> None:
    body = {"name": "ok", "network": run(lambda s: None)["networks"]["model"]}
    r = client.post(NETWORKS, json=body)
    assert r.status_code == 201, r.text
    net_id = r.json()["id"]
    bad = {"name": "bad", "network": {**body["network"], "nodes": [
        *body["network"]["nodes"], {"id": "x", "kind": "relu"}]}}
    r = client.put(f"{NETWORKS}/{net_id}", json=bad)
    assert r.status_code == 422 and r.json()["errors"][0]["node"] == "x"
    assert client.get(f"{NETWORKS}/{net_id}").json()["name"] == "ok"
    assert client.delete(f"{NETWORKS}/{net_id}").status_code == 204


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A server that runs one run at a time, queues none, and stops a run after 3 s."""
    settings = make_settings(tmp_path_factory.mktemp("tight"), max_concurrent_runs=1,
                             max_queued_runs=0, max_run_seconds=3.0)
    with TestClient(create_app(settings)) as c:
        yield c


def test_a_full_queue_refuses_a_run_with_429_and_wall_time_stops_a_run(
        tight: TestClient) -> None:
    first = post_run(tight, long_spec())
    r = tight.post(RUNS, json=long_spec())
    assert r.status_code == 429, r.text
    problem = Problem.model_validate(r.json())
    assert "LIVEGRAD_MAX_QUEUED_RUNS" in problem.detail
    assert tight.get(RUNS).json()["total"] == 1
    stopped = wait_status(tight, first.id, {"stopped"})
    assert any("wall-time limit of 3 s" in w for w in stopped.warnings), stopped.warnings
    with tight.websocket_connect(f"{RUNS}/{first.id}/events") as ws:
        assert frame(ws.receive())["type"] == "hello"
        end = read_until_end(ws)[-1]
    assert end["type"] == "run_stopped" and "wall-time limit of 3 s" in end["reason"], end
    second = post_run(tight, long_spec())  # the one run this server runs at a time
    r = tight.post(f"{RUNS}/{first.id}/resume")  # would queue behind it: the queue holds 0
    assert r.status_code == 429 and "LIVEGRAD_MAX_QUEUED_RUNS" in r.json()["detail"], r.text
    assert tight.get(f"{RUNS}/{first.id}").json()["status"] == "stopped"  # nothing changed
    tight.post(f"{RUNS}/{second.id}/control", json={"op": "stop"})
    wait_status(tight, second.id, {"stopped"})
