"""POST /graphs/validate with the training settings: the loss, the task and the output are
checked as creating the run would, located on the node; bad settings themselves are left to
the run's creation (the graph's report comes back as without them).

May import: stdlib, pytest, fastapi.testclient, server, tests.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import xor_spec


def validate(c: TestClient, loss: dict[str, Any] | None, **training: Any) -> dict[str, Any]:
    spec = xor_spec()
    body: dict[str, Any] = {"network": spec["networks"]["model"], "data": spec["data"]}
    if loss is not None:
        body["training"] = {**spec["training"], "loss": loss, **training}
    r = c.post("/api/v1/graphs/validate", json=body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_loss_that_does_not_fit_the_output_is_located_on_it(client: TestClient) -> None:
    report = validate(client, {"name": "cross_entropy"})
    assert report["ok"] is False
    [error] = report["errors"]
    assert error["node"] == "out" and error["field"] == "out_features"
    assert "cross_entropy on 2 classes needs output (N, 2), got (N, 1)" in error["message"]


def test_a_fitting_loss_and_no_training_both_pass(client: TestClient) -> None:
    assert validate(client, {"name": "binary_cross_entropy"})["ok"] is True
    assert validate(client, None)["ok"] is True  # the graph alone, as before


def test_a_task_the_data_set_is_not_for_is_named(client: TestClient) -> None:
    report = validate(client, {"name": "mse"}, task="regression")
    assert report["ok"] is False
    assert any(e["field"] == "training.task" and "classification" in e["message"]
               for e in report["errors"]), report["errors"]


def test_invalid_settings_leave_the_graph_report_as_it_is(client: TestClient) -> None:
    report = validate(client, {"name": "binary_cross_entropy"}, batch_size=0)
    assert report["ok"] is True  # batch size 0: the run's creation names it
