"""Shape inference, parameter counts and every located error of the graph builder."""

from __future__ import annotations

import pytest
import torch

from engine import EdgeSpec, NetworkSpec, NodeSpec, SpecError, build_model, inspect_graph
from tests.engine.helpers import mlp


def net(nodes: list[tuple[str, str, dict]], edges: list[tuple[str, str]]) -> NetworkSpec:
    return NetworkSpec(nodes=[NodeSpec(id=i, kind=k, params=p) for i, k, p in nodes],
                       edges=[EdgeSpec(source=a, target=b) for a, b in edges])


def messages(network: NetworkSpec, shape: tuple[int, ...] = (2,)) -> list[str]:
    return [str(e) for e in inspect_graph(network, shape).errors]


def test_stack_reports_shapes_and_parameter_counts() -> None:
    report = inspect_graph(mlp([4, 2]), (2,))
    assert report.ok
    shapes = {n.id: n.shape_text for n in report.nodes}
    counts = {n.id: n.params for n in report.nodes}
    assert shapes == {"x": "(N, 2)", "dense1": "(N, 4)", "act1": "(N, 4)", "dense2": "(N, 2)",
                      "act2": "(N, 2)", "out": "(N, 1)"}
    assert counts == {"x": 0, "dense1": 12, "act1": 0, "dense2": 10, "act2": 0, "out": 3}
    model, _ = build_model(mlp([4, 2]), (2,))
    assert report.total_params == sum(p.numel() for p in model.parameters()) == 25


def test_in_features_mismatch_names_node_and_field() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("dense1", "linear", {"out_features": 4}),
                                ("dense2", "linear", {"out_features": 1, "in_features": 8}))
    errors = inspect_graph(network, (2,)).errors
    assert [(e.node, e.field) for e in errors] == [("dense2", "in_features")]
    assert str(errors[0]) == 'node "dense2": in_features is 8 but the incoming tensor is (N, 4)'


def test_cycle_is_reported_as_a_path() -> None:
    network = net([("x", "input", {}), ("a", "linear", {}), ("b", "relu", {})],
                  [("a", "b"), ("b", "a")])
    assert "edge cycle: a -> b -> a" in messages(network)


def test_merge_of_unequal_shapes() -> None:
    network = net([("x", "input", {}), ("a", "linear", {"out_features": 4}),
                   ("b", "linear", {"out_features": 8}), ("add1", "add", {})],
                  [("x", "a"), ("x", "b"), ("a", "add1"), ("b", "add1")])
    errors = inspect_graph(network, (2,)).errors
    assert str(errors[0]) == 'merge "add1" needs equal shapes, got (N, 4) and (N, 8)'
    assert errors[0].node == "add1"


def test_skip_connection_and_concat_build_and_run() -> None:
    network = net([("x", "input", {}), ("a", "linear", {"out_features": 4}), ("t", "tanh", {}),
                   ("b", "linear", {"out_features": 4}), ("add1", "add", {}),
                   ("cat", "concat", {}), ("out", "linear", {"out_features": 3})],
                  [("x", "a"), ("a", "t"), ("t", "b"), ("b", "add1"), ("a", "add1"),
                   ("add1", "cat"), ("x", "cat"), ("cat", "out")])
    model, report = build_model(network, (2,))
    assert {n.id: n.shape_text for n in report.nodes}["cat"] == "(N, 6)"
    assert model(torch.randn(5, 2)).shape == (5, 3)


def test_unknown_kind_lists_the_known_ones() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("c", "conv9d", {}))
    (error,) = inspect_graph(network, (2,)).errors
    assert error.node == "c" and error.field == "kind"
    assert "unknown layer kind 'conv9d'" in error.message and "linear" in error.message


def test_node_nothing_feeds() -> None:
    network = net([("x", "input", {}), ("a", "linear", {}), ("lonely", "tanh", {})],
                  [("x", "a")])
    assert 'node "lonely": nothing feeds this node' in messages(network)


def test_a_dangling_layer_blanks_only_itself_and_what_it_feeds() -> None:
    network = net([("x", "input", {}), ("a", "linear", {"out_features": 3}),
                   ("lonely", "linear", {}), ("after", "tanh", {}), ("b", "tanh", {})],
                  [("x", "a"), ("lonely", "after"), ("a", "b")])
    report = inspect_graph(network, (2,))
    shapes = {n.id: n.shape_text for n in report.nodes}
    assert not report.ok
    assert shapes == {"x": "(N, 2)", "a": "(N, 3)", "lonely": None, "after": None,
                      "b": "(N, 3)"}


def test_output_nothing_reads() -> None:
    network = net([("x", "input", {}), ("a", "linear", {}), ("b", "linear", {}),
                   ("c", "tanh", {})], [("x", "a"), ("a", "b"), ("x", "c")])
    found = messages(network)
    assert any(m.startswith('node "b": nothing reads this node') or
               m.startswith('node "c": nothing reads this node') for m in found)


def test_bad_parameter_names_node_and_field() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("d", "linear", {"out_features": 0}))
    (error,) = inspect_graph(network, (2,)).errors
    assert (error.node, error.field) == ("d", "params.out_features")
    assert "greater than or equal to 1" in error.message


def test_unknown_parameter_is_refused() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("d", "linear", {"units": 3}))
    (error,) = inspect_graph(network, (2,)).errors
    assert (error.node, error.field) == ("d", "params.units")


def test_edge_to_missing_node_and_duplicate_ids() -> None:
    network = net([("x", "input", {}), ("a", "linear", {}), ("a", "tanh", {})],
                  [("x", "a"), ("a", "ghost")])
    found = messages(network)
    assert 'node "a": id is used by more than one node' in found
    assert "edge a -> ghost: no node named 'ghost'" in found


def test_flatten_and_norm_layers_infer_shapes() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("f", "flatten", {}),
                                ("bn", "batch_norm1d", {}), ("ln", "layer_norm", {}),
                                ("drop", "dropout", {"p": 0.2}),
                                ("out", "linear", {"out_features": 10}), ("sm", "log_softmax", {}))
    model, report = build_model(network, (8, 8))
    assert report.nodes[1].shape_text == "(N, 64)"
    assert report.nodes[2].params == 128 and report.nodes[3].params == 128
    assert model(torch.randn(3, 8, 8)).shape == (3, 10)


def test_build_model_raises_with_every_error() -> None:
    network = NetworkSpec.stack(("x", "input", {}), ("d", "linear", {"in_features": 3}))
    with pytest.raises(SpecError) as info:
        build_model(network, (2,))
    assert info.value.errors[0].field == "in_features"
