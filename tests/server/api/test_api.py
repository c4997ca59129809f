"""REST routes: every response validated against its model, bad input per route; /metrics
decimates by min and max; a slow database read never holds up /health.

May import: stdlib, pytest, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine import GraphReport, RunSpec
from server.api.schemas import (
    Catalog,
    Health,
    Metrics,
    NetworkPublic,
    Preset,
    Problem,
    RunPage,
    RunPublic,
)
from server.app import create_app
from server.storage import repository as repo
from tests.server.conftest import long_spec, make_settings, post_run, wait_status, xor_spec

API = "/api/v1"


def problem(r, status: int, needle: str) -> Problem:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    body = Problem.model_validate(r.json())
    assert needle in body.detail, body.detail
    return body


def test_health_and_catalog(client: TestClient) -> None:
    assert Health.model_validate(client.get(f"{API}/health").json()).status == "ok"
    cat = Catalog.model_validate(client.get(f"{API}/catalog").json())
    assert {"linear", "tanh"} <= {e["name"] for e in cat.layers}
    assert all("properties" in e["params"] or "type" in e["params"] for e in cat.optimizers)
    probes = {p["name"] for p in cat.probes}
    assert probes >= {"norms", "histograms", "activations", "neuron_maps", "curvature"}
    presets = [Preset.model_validate(p) for p in client.get(f"{API}/catalog/presets").json()]
    assert len(presets) >= 4


def test_graph_validation(client: TestClient) -> None:
    net = xor_spec()["networks"]["model"]
    ok = GraphReport.model_validate(client.post(f"{API}/graphs/validate", json={
        "network": net, "data": {"name": "xor"}}).json())
    assert ok.ok and ok.total_params == 2 * 4 + 4 + 4 + 1
    bad = dict(net, nodes=[*net["nodes"][:3], {"id": "out", "kind": "nope"}])
    report = GraphReport.model_validate(client.post(f"{API}/graphs/validate", json={
        "network": bad, "input_shape": [2]}).json())
    assert not report.ok and report.errors
    problem(client.post(f"{API}/graphs/validate", json={"network": net}), 422, "input_shape")
    problem(client.post(f"{API}/graphs/validate", json={"network": net,
                                                        "data": {"name": "nope"}}), 422, "data")
    problem(client.post(f"{API}/graphs/validate", json={"network": {}}), 422, "network")


def test_networks_crud(client: TestClient) -> None:
    net = xor_spec()["networks"]["model"]
    made = NetworkPublic.model_validate(
        client.post(f"{API}/networks", json={"name": "xor", "network": net}).json())
    got = NetworkPublic.model_validate(client.get(f"{API}/networks/{made.id}").json())
    assert got == made
    page = client.get(f"{API}/networks").json()
    listed = [NetworkPublic.model_validate(n) for n in page["items"]]
    assert made.id in {n.id for n in listed}
    put = client.put(f"{API}/networks/{made.id}", json={"name": "renamed", "network": net})
    assert NetworkPublic.model_validate(put.json()).name == "renamed"
    assert client.delete(f"{API}/networks/{made.id}").status_code == 204
    problem(client.get(f"{API}/networks/{made.id}"), 404, made.id)
    problem(client.put(f"{API}/networks/nope", json={"name": "x", "network": net}), 404, "nope")
    problem(client.delete(f"{API}/networks/nope"), 404, "nope")
    problem(client.post(f"{API}/networks", json={"name": "", "network": net}), 422, "name")


def test_bad_runs_are_refused(client: TestClient) -> None:
    spec = xor_spec()
    spec["networks"]["model"]["nodes"][1]["kind"] = "no_such_layer"
    body = problem(client.post(f"{API}/runs", json=spec), 422, "not valid")
    assert any(e.node == "dense1" for e in body.errors), body
    problem(client.post(f"{API}/runs", json={"network": 1}), 422, "schema")
    huge = xor_spec()
    huge["name"] = "x" * 2_000_000
    problem(client.post(f"{API}/runs", json=huge), 413, "too large")
    for method, path in [("get", "/runs/nope"), ("post", "/runs/nope/pause"),
                         ("post", "/runs/nope/resume"), ("post", "/runs/nope/step"),
                         ("post", "/runs/nope/stop"), ("delete", "/runs/nope"),
                         ("get", "/runs/nope/metrics"), ("get", "/runs/nope/checkpoint")]:
        problem(getattr(client, method)(f"{API}{path}"), 404, "nope")
    problem(client.patch(f"{API}/runs/nope", json={"lr": 0.1}), 404, "nope")
    problem(client.get(f"{API}/runs?status=bogus"), 422, "status")


def test_completed_run_history(client: TestClient) -> None:
    run = post_run(client, xor_spec(epochs=4))
    done = wait_status(client, run.id, {"completed"})
    assert done.metrics and "test_loss" in done.metrics and done.has_checkpoint
    problem(client.post(f"{API}/runs/{run.id}/resume"), 409, "completed")
    problem(client.patch(f"{API}/runs/{run.id}", json={"lr": 0.1}), 409, "completed")
    metrics = Metrics.model_validate(
        client.get(f"{API}/runs/{run.id}/metrics", params={"max_points": 7}).json())
    loss = metrics.series["loss"]
    assert loss.total == done.step and len(loss.steps) <= 7 and loss.steps[-1] == done.step
    assert loss.steps == sorted(loss.steps)
    full = Metrics.model_validate(client.get(f"{API}/runs/{run.id}/metrics").json())
    every = full.series["loss"]
    assert every.steps == list(range(1, done.step + 1))  # one point per step, in order
    assert max(every.values) in loss.values and min(every.values) in loss.values
    assert {"accuracy", "lr", "test_loss", "test_accuracy"} <= set(full.series)
    ckpt = client.get(f"{API}/runs/{run.id}/checkpoint")
    assert ckpt.status_code == 200 and len(ckpt.content) > 100
    page = RunPage.model_validate(client.get(f"{API}/runs", params={"status": "completed"}).json())
    assert run.id in {r.id for r in page.items} and all(r.status == "completed" for r in page.items)
    assert client.delete(f"{API}/runs/{run.id}").status_code == 204
    problem(client.get(f"{API}/runs/{run.id}"), 404, run.id)


def test_control_over_rest(client: TestClient) -> None:
    run = post_run(client, long_spec())
    wait_status(client, run.id, {"running"})
    problem(client.post(f"{API}/runs/{run.id}/resume"), 409, "running")
    problem(client.delete(f"{API}/runs/{run.id}"), 409, "stop it")
    paused = RunPublic.model_validate(client.post(f"{API}/runs/{run.id}/pause").json())
    assert paused.status == "paused"
    stepped = client.post(f"{API}/runs/{run.id}/step", json={"n": 3})
    assert RunPublic.model_validate(stepped.json()).status == "paused"
    problem(client.post(f"{API}/runs/{run.id}/step", json={"n": 0}), 422, "n")
    problem(client.patch(f"{API}/runs/{run.id}", json={"lr": -1}), 422, "lr")
    assert client.patch(f"{API}/runs/{run.id}", json={"lr": 0.01}).status_code == 200
    assert client.post(f"{API}/runs/{run.id}/resume").json()["status"] == "running"
    assert client.post(f"{API}/runs/{run.id}/stop").status_code == 200
    stopped = wait_status(client, run.id, {"stopped"})
    assert stopped.finished_at is not None
    problem(client.post(f"{API}/runs/{run.id}/stop"), 409, "stopped")


def test_index_page(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "livegrad" in r.text
    assert client.get("/openapi.json").status_code == 200


def _stored_run(client: TestClient, points: int) -> str:
    """A finished run with `points` loss values (a spike among them), written as the
    manager writes: straight into the app's database."""
    run_id = repo.new_id()
    with client.app.state.sessions() as s:  # type: ignore[attr-defined]
        repo.add_run(s, run_id, RunSpec.model_validate(xor_spec()))
        repo.update_run(s, run_id, status="completed", step=points)
        values = [1.0 + (i % 7) / 100 for i in range(points)]
        values[points // 3] = 50.0
        repo.add_points(s, [(run_id, "loss", i + 1, v) for i, v in enumerate(values)])
    return run_id


def test_metrics_keep_each_buckets_min_and_max(client: TestClient) -> None:
    run_id = _stored_run(client, 100_000)
    got = Metrics.model_validate(client.get(f"{API}/runs/{run_id}/metrics",
                                            params={"max_points": 100}).json())
    loss = got.series["loss"]
    assert loss.total == 100_000 and len(loss.steps) <= 100 and loss.steps[-1] == 100_000
    assert loss.steps[loss.values.index(50.0)] == 100_000 // 3 + 1  # the spike survives
    assert min(loss.values) == 1.0 and loss.steps == sorted(loss.steps)
    assert client.get(f"{API}/runs/{run_id}/metrics", params={"names": "nothing"}).json() == \
        {"run": run_id, "series": {}}


@pytest.mark.parametrize("path", ["/metrics", ""])
def test_a_slow_read_never_holds_up_health(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           path: str) -> None:
    entered, release = threading.Event(), threading.Event()
    slow = {"/metrics": "run_metrics", "": "stored_run"}[path]
    real = getattr(repo, slow)

    def held(*args: object) -> object:
        entered.set()
        release.wait(30)
        return real(*args)

    with TestClient(create_app(make_settings(tmp_path, warm_workers=0))) as c:
        run_id = _stored_run(c, 10)
        monkeypatch.setattr(repo, slow, held)
        answers: list[int] = []
        reader = threading.Thread(target=lambda: answers.append(
            c.get(f"{API}/runs/{run_id}{path}").status_code))
        reader.start()
        assert entered.wait(30)
        t0 = time.perf_counter()
        assert c.get(f"{API}/health").status_code == 200
        waited = time.perf_counter() - t0
        release.set()
        reader.join(30)
        assert answers == [200] and waited < 1.0, waited  # not the 30 s the read is held
