"""The graph checks a skeptical user broke: cycles that feed on, edges into the input, softmax
dims, merges, input shapes, parameters past a failed node, and a graph without its data."""

from __future__ import annotations

from itertools import permutations

import pytest

from engine import EdgeSpec, NetworkSpec, NodeSpec, SpecError, check_network, inspect_graph
from engine.nn.optimizers import AdamParams


def net(nodes: list[tuple[str, str, dict]], edges: list[tuple[str, str]]) -> NetworkSpec:
    return NetworkSpec(nodes=[NodeSpec(id=i, kind=k, params=p) for i, k, p in nodes],
                       edges=[EdgeSpec(source=a, target=b) for a, b in edges])


CHAIN = [("x", "input", {}), ("a", "linear", {}), ("b", "tanh", {}), ("out", "linear", {})]
LOOP = [("x", "input", {}), ("a", "add", {}), ("b", "tanh", {}), ("out", "linear", {})]


@pytest.mark.parametrize("edges", list(permutations(
    [("x", "a"), ("a", "b"), ("b", "a"), ("b", "out")])))
def test_a_cycle_that_feeds_a_node_downstream_is_found_in_any_edge_order(edges) -> None:
    errors = inspect_graph(net(LOOP, list(edges)), (2,)).errors
    assert [(e.node, e.field, e.message) for e in errors] == [
        (None, "edges", "edge cycle: a -> b -> a")]


def test_a_longer_cycle_entered_from_its_middle_prints_from_its_first_listed_node() -> None:
    nodes = [*LOOP, ("c", "relu", {})]
    edges = [("x", "a"), ("b", "c"), ("c", "a"), ("a", "b"), ("c", "out")]
    messages = [e.message for e in inspect_graph(net(nodes, edges), (2,)).errors]
    assert "edge cycle: a -> b -> c -> a" in messages


def test_an_edge_back_into_the_input_is_refused_on_the_input() -> None:
    errors = inspect_graph(net(CHAIN, [("x", "a"), ("a", "b"), ("b", "out"), ("out", "x")]),
                           (2,)).errors
    assert ("x", "edges") in {(e.node, e.field) for e in errors}
    assert any("cycle" in e.message for e in errors)


@pytest.mark.parametrize(("dim", "ok"), [(-3, False), (-2, True), (-1, True), (1, True),
                                         (2, False), (8, False)])
@pytest.mark.parametrize("kind", ["softmax", "log_softmax"])
def test_softmax_dims_are_checked_against_the_input(kind: str, dim: int, ok: bool) -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("p", kind, {"dim": dim}))
    report = inspect_graph(network, (3,))
    assert report.ok is ok
    if not ok:
        assert [(e.node, e.field) for e in report.errors] == [("p", "dim")]
        assert "takes -2 to 1" in report.errors[0].message


def test_a_merge_of_unequal_shapes_names_its_edges() -> None:
    added = net([("x", "input", {}), ("a", "linear", {"out_features": 4}), ("m", "add", {})],
                [("x", "a"), ("a", "m"), ("x", "m")])
    errors = inspect_graph(added, (2,)).errors
    assert [(e.node, e.field) for e in errors] == [("m", "edges")]
    assert "(N, 4) and (N, 2)" in errors[0].message
    # (N, 2, 3) and (N, 4, 3) joined along dim 2: dim 1 differs
    joined = net([("x", "input", {}), ("twice", "concat", {"dim": 1}),
                  ("m", "concat", {"dim": 2})],
                 [("x", "twice"), ("x", "twice"), ("x", "m"), ("twice", "m")])
    errors = inspect_graph(joined, (2, 3)).errors
    assert [(e.node, e.field) for e in errors] == [("m", "edges")]


@pytest.mark.parametrize("shape", [(), (0,), (-1,), (2, 0), (True,), (10**6,) * 8])
def test_input_shapes_are_whole_numbers_of_at_least_one(shape: tuple) -> None:
    report = inspect_graph(NetworkSpec.mlp([4]), shape)
    assert not report.ok
    assert [(e.node, e.field) for e in report.errors] == [(None, "input_shape")]


def test_parameters_past_a_failed_node_are_still_checked() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("a", "linear", {"out_features": "8"}),
                                ("b", "linear", {"bias": "no"}))
    found = {(e.node, e.field) for e in inspect_graph(network, (2,)).errors}
    assert found == {("a", "params.out_features"), ("b", "params.bias")}


@pytest.mark.parametrize("value", ["8", True, 8.5, None])
def test_parameters_are_strict(value: object) -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("a", "linear", {"out_features": value}))
    errors = inspect_graph(network, (2,)).errors
    assert [(e.node, e.field) for e in errors] == [("a", "params.out_features")]


def test_json_ints_still_fill_float_parameters() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("a", "leaky_relu", {"negative_slope": 1}))
    assert inspect_graph(network, (2,)).ok


def test_adam_betas_take_a_json_list_within_zero_and_one() -> None:
    assert AdamParams.model_validate({"betas": [0.8, 0.9]}).betas == (0.8, 0.9)
    with pytest.raises(ValueError, match="less than 1"):
        AdamParams.model_validate({"betas": [1.0, 0.9]})


def test_a_graph_without_data_is_checked_for_all_but_shapes() -> None:
    assert check_network(NetworkSpec.mlp([4])) == []
    bad = net([("x", "input", {}), ("a", "linar", {}), ("b", "linear", {"out_features": 0}),
               ("b", "relu", {})], [("x", "a"), ("a", "b")])
    found = {(e.node, e.field) for e in check_network(bad)}
    assert {("b", "id"), ("a", "kind"), ("b", "params.out_features")} <= found
    cyclic = net(LOOP, [("x", "a"), ("a", "b"), ("b", "a"), ("b", "out")])
    assert [e.message for e in check_network(cyclic)] == ["edge cycle: a -> b -> a"]


def test_a_valid_graph_still_builds() -> None:
    from engine import build_model

    model, report = build_model(NetworkSpec.mlp([4], out_activation="softmax", out=2), (2,))
    assert report.ok and model is not None
    with pytest.raises(SpecError):
        build_model(NetworkSpec.mlp([4]), (0,))
