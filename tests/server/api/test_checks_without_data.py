"""The server's spec checks (POST /runs, POST /graphs/validate on every edit) read the data
set's shape from its parameters: with the generator forbidden they answer as before.

May import: stdlib, pytest, fastapi.testclient, server, engine's public names, tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import DATASETS, GraphReport
from server.api.schemas import Problem
from tests.server.conftest import xor_spec

API = "/api/v1"
SEED = 424_242  # a choice no other test loads, so that no cached copy hides a generation


@pytest.fixture
def no_generation() -> Iterator[None]:
    """Every data set's generator raises (in this process, where the server checks)."""
    originals = list(DATASETS)

    def refuse(*_: Any) -> None:
        raise AssertionError("the server generated data to check a spec")

    for entry in originals:
        DATASETS.unregister(entry.name)
        DATASETS.register(replace(entry, make=refuse))
    yield
    for entry in originals:
        DATASETS.unregister(entry.name)
        DATASETS.register(entry)


def wide_input(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its first linear layer expecting 3 inputs (xor gives 2)."""
    net = spec["networks"]["model"]
    first = next(n for n in net["nodes"] if n["kind"] == "linear")
    first["params"] = dict(first.get("params", {}), in_features=3)
    spec["data"] = {"name": "xor", "params": {"seed": SEED}}
    return spec


def test_graph_validation_makes_no_sample(client: TestClient, no_generation: None) -> None:
    net = xor_spec()["networks"]["model"]

    def validate(name: str, **params: Any) -> GraphReport:
        r = client.post(f"{API}/graphs/validate", json={
            "network": net, "data": {"name": name, "params": {"seed": SEED, **params}}})
        assert r.status_code == 200, r.text
        return GraphReport.model_validate(r.json())

    assert validate("xor").total_params == 2 * 4 + 4 + 4 + 1
    assert validate("digits").total_params == 64 * 4 + 4 + 4 + 1
    assert not validate("digits", shape="image").ok  # a linear layer on (N, 1, 8, 8)
    bad = wide_input(xor_spec())["networks"]["model"]
    report = GraphReport.model_validate(client.post(f"{API}/graphs/validate", json={
        "network": bad, "data": {"name": "xor", "params": {"seed": SEED}}}).json())
    assert [(e.node, e.field) for e in report.errors] == [(bad["nodes"][1]["id"],
                                                           "in_features")]


def test_a_run_with_a_wrong_input_width_is_refused_without_data(
        client: TestClient, no_generation: None) -> None:
    r = client.post(f"{API}/runs", json=wide_input(xor_spec()))
    assert r.status_code == 422, r.text
    problem = Problem.model_validate(r.json())
    assert [(e.field, e.message) for e in problem.errors] == [
        ("in_features", "in_features is 3 but the incoming tensor is (N, 2)")]
