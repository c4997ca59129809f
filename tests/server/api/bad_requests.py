"""A corpus of bad requests, each with what the refusal must say: the status, the node (by id)
and the field it names, and a word of why. Read by test_bad_requests.py.

Every body starts from examples/xor.json (input x -> dense1 -> tanh1 -> out) and changes one
thing, so that the one change is what is refused.
May import: stdlib, engine's public names, tests.server.conftest.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import presets
from tests.server.conftest import xor_spec

RUNS, NETWORKS, VALIDATE = "/api/v1/runs", "/api/v1/networks", "/api/v1/graphs/validate"
JSON = {"content-type": "application/json"}
ID_RULE = "a node id starts with a letter"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    body: Any = None  # sent as JSON (NaN and Infinity as Python's json writes them)
    status: int = 422
    node: str | None = None
    field: str | None = None  # the error names this field (None: any, or none)
    says: str = ""  # a word of why, found in the error's message (case-insensitive)
    raw: bytes | None = None  # sent as it is instead of `body`
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def send(self) -> dict[str, Any]:
        if self.raw is not None:
            return {"content": self.raw, "headers": {**JSON, **self.headers}}
        if self.body is None:
            return {}
        return {"content": json.dumps(self.body).encode(), "headers": {**JSON, **self.headers}}


def run(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """xor.json with one change made by `change` (which edits the spec in place)."""
    spec = xor_spec(epochs=2)
    change(spec)
    return spec


def nodes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec["networks"]["model"]["nodes"]


def edges(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec["networks"]["model"]["edges"]


def node(spec: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in nodes(spec) if n["id"] == node_id)


def param(node_id: str, name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda s: node(s, node_id).setdefault("params", {}).__setitem__(name, value)


def set_kind(node_id: str, kind: str, **params: Any) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        node(s, node_id).update(kind=kind, params=params)
    return change


def training(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda s: s["training"].update(values)


def data(**params: Any) -> Callable[[dict[str, Any]], None]:
    return lambda s: s["data"]["params"].update(params)


def optimizer(name: str = "sgd", **params: Any) -> Callable[[dict[str, Any]], None]:
    return lambda s: s["training"]["optimizers"].update(model={"name": name, "params": params})


def insert(after: str, new: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A node put into the chain right after `after`."""
    def change(s: dict[str, Any]) -> None:
        old = next(e for e in edges(s) if e["source"] == after)
        nodes(s).append(new)
        edges(s).remove(old)
        edges(s).extend([{"source": after, "target": new["id"]},
                         {"source": new["id"], "target": old["target"]}])
    return change


def graph(change: Callable[[dict[str, Any]], Any], **extra: Any) -> dict[str, Any]:
    """A /graphs/validate body: xor's network (changed), over a 2-feature input."""
    spec = run(change)
    return {"network": spec["networks"]["model"], "input_shape": [2], **extra}


def network(change: Callable[[dict[str, Any]], Any], **extra: Any) -> dict[str, Any]:
    """A POST /networks body: xor's network (changed) under a name."""
    return {"name": "net", "network": run(change)["networks"]["model"], **extra}


def nothing(_: dict[str, Any]) -> None:
    pass


def seq(*changes: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        for c in changes:
            c(s)
    return change


def add_edge(source: str, target: str) -> Callable[[dict[str, Any]], None]:
    return lambda s: edges(s).append({"source": source, "target": target})


def drop(path: list[str]) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        for part in path[:-1]:
            s = s[part]
        del s[path[-1]]
    return change


def put(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(s: Any) -> None:
        for part in path[:-1]:
            s = s[part]
        s[path[-1]] = value
    return change


def cycle_feeding_downstream(source_first: bool) -> Callable[[dict[str, Any]], None]:
    """dense1 <-> tanh1 is a cycle, and tanh1 also feeds out: find_cycle once dead-ended."""
    def change(s: dict[str, Any]) -> None:
        back = {"source": "tanh1", "target": "dense1"}
        edges(s).insert(0 if source_first else len(edges(s)), back)
    return change


GRAPH_STRUCTURE = [
    Case("cycle feeding a node downstream, edge last", "POST", RUNS,
         run(cycle_feeding_downstream(False)), field="edges", says="cycle"),
    Case("cycle feeding a node downstream, edge first", "POST", RUNS,
         run(cycle_feeding_downstream(True)), field="edges", says="cycle"),
    Case("cycle feeding downstream, validated", "POST", VALIDATE,
         graph(cycle_feeding_downstream(True)), status=200, says="cycle"),
    Case("edge back into the input node", "POST", RUNS, run(add_edge("out", "x")),
         node="x", field="edges", says="takes no inputs"),
    Case("edge back into the input node, validated", "POST", VALIDATE,
         graph(add_edge("tanh1", "x")), status=200, node="x", field="edges",
         says="no inputs"),
    Case("self loop", "POST", RUNS, run(add_edge("tanh1", "tanh1")), node="tanh1",
         field="edges", says="takes 1 input"),
    Case("edge from an unknown node", "POST", RUNS, run(add_edge("ghost", "out")),
         field="edges.source", says="no node named 'ghost'"),
    Case("edge to an unknown node", "POST", RUNS, run(add_edge("out", "ghost")),
         field="edges.target", says="no node named 'ghost'"),
    Case("duplicate node ids", "POST", RUNS, run(put(
        ["networks", "model", "nodes", 2, "id"], "dense1")), node="dense1", field="id",
        says="more than one node"),
    Case("no input node", "POST", RUNS, run(set_kind("x", "identity")), field="nodes",
         says="no input node"),
    Case("a node nothing feeds", "POST", RUNS, run(lambda s: nodes(s).append(
        {"id": "lonely", "kind": "relu"})), node="lonely", field="edges",
        says="nothing feeds"),
    Case("two sinks", "POST", RUNS, run(seq(lambda s: nodes(s).append(
        {"id": "extra", "kind": "relu"}), add_edge("tanh1", "extra"))), node="out",
        field="edges", says="nothing reads"),
    Case("output names no node", "POST", RUNS,
         run(put(["networks", "model", "output"], "nowhere")), field="output",
         says="names no node"),
    Case("linear with two inputs", "POST", RUNS, run(add_edge("x", "out")), node="out",
         field="edges", says="takes 1 input, got 2"),
    Case("add with one input", "POST", RUNS, run(set_kind("tanh1", "add")), node="tanh1",
         field="edges", says="at least 2"),
    Case("unknown layer kind", "POST", RUNS, run(set_kind("tanh1", "tanhh")), node="tanh1",
         field="kind", says="unknown layer kind 'tanhh'"),
    Case("a kind of 100,000 letters, shown short", "POST", RUNS, run(set_kind("tanh1",
                                                                           "k" * 100_000)),
         node="tanh1", field="kind", says="unknown layer kind 'kkkk"),
    Case("a data set name of 100,000 letters", "POST", RUNS, run(put(["data", "name"],
                                                                      "d" * 100_000)),
         field="data.name", says="unknown data set 'dddd"),
    Case("unknown layer kind, validated", "POST", VALIDATE, graph(set_kind("tanh1", "conv9")),
         status=200, node="tanh1", field="kind", says="unknown layer kind"),
    Case("no nodes", "POST", RUNS, run(put(["networks", "model", "nodes"], [])),
         field="networks.model.nodes", says="at least 1"),
    Case("node id with a space", "POST", RUNS, run(put(
        ["networks", "model", "nodes", 1, "id"], "dense 1")), node="dense 1", field="id",
        says=ID_RULE),
    Case("node id too long", "POST", RUNS, run(put(
        ["networks", "model", "nodes", 1, "id"], "d" * 65)), node="d" * 65, field="id",
        says=ID_RULE),
    Case("node id a number", "POST", RUNS, run(put(["networks", "model", "nodes", 1, "id"], 7)),
         field="networks.model.nodes.1.id", says="valid string"),
    Case("node without an id", "POST", RUNS, run(drop(["networks", "model", "nodes", 1, "id"])),
         field="networks.model.nodes.1.id", says="required"),
    Case("node without a kind", "POST", RUNS, run(drop(
        ["networks", "model", "nodes", 1, "kind"])), node="dense1", field="kind",
        says="required"),
    Case("node kind a number", "POST", RUNS, run(put(["networks", "model", "nodes", 1, "kind"],
                                                       3)), node="dense1", field="kind",
         says="valid string"),
    Case("node params a list", "POST", RUNS, run(put(["networks", "model", "nodes", 1,
                                                        "params"], [8])),
         node="dense1", field="params", says="valid dictionary"),
    Case("unknown field on a node", "POST", RUNS, run(put(["networks", "model", "nodes", 1,
                                                             "units"], 8)),
         node="dense1", field="units", says="extra"),
    Case("unknown field on an edge", "POST", RUNS, run(put(["networks", "model", "edges", 0,
                                                              "weight"], 1)),
         field="networks.model.edges.0.weight", says="extra"),
    Case("edge without a target", "POST", RUNS, run(drop(["networks", "model", "edges", 0,
                                                            "target"])),
         field="networks.model.edges.0.target", says="required"),
    Case("edge source a number", "POST", RUNS, run(put(["networks", "model", "edges", 0,
                                                          "source"], 0)),
         field="networks.model.edges.0.source", says="valid string"),
    Case("nodes a dict", "POST", RUNS, run(put(["networks", "model", "nodes"], {"x": "input"})),
         field="networks.model.nodes", says="valid list"),
    Case("network's role unknown", "POST", RUNS, run(lambda s: s.update(
        networks={"brain": s["networks"]["model"]})), field="networks", says="needs model"),
    Case("no networks", "POST", RUNS, run(put(["networks"], {})), field="networks",
         says="at least 1"),
    Case("unknown field on the network", "POST", RUNS, run(put(["networks", "model", "layers"],
                                                                 [])),
         field="networks.model.layers", says="extra"),
]

LAYER_PARAMS = [
    Case("out_features as a string", "POST", RUNS, run(param("dense1", "out_features", "8")),
         node="dense1", field="params.out_features", says="valid integer"),
    Case("out_features as true", "POST", RUNS, run(param("dense1", "out_features", True)),
         node="dense1", field="params.out_features", says="valid integer"),
    Case("out_features as 8.5", "POST", RUNS, run(param("dense1", "out_features", 8.5)),
         node="dense1", field="params.out_features", says="valid integer"),
    Case("out_features zero", "POST", RUNS, run(param("dense1", "out_features", 0)),
         node="dense1", field="params.out_features", says="greater than or equal to 1"),
    Case("out_features too many", "POST", RUNS, run(param("dense1", "out_features", 70_000)),
         node="dense1", field="params.out_features", says="less than or equal"),
    Case("out_features null", "POST", RUNS, run(param("dense1", "out_features", None)),
         node="dense1", field="params.out_features", says="valid integer"),
    Case("in_features mismatch", "POST", RUNS, run(param("out", "in_features", 9)),
         node="out", field="in_features", says="in_features is 9"),
    Case("bias as a string", "POST", RUNS, run(param("dense1", "bias", "yes")),
         node="dense1", field="params.bias", says="valid boolean"),
    Case("bias as 1", "POST", RUNS, run(param("dense1", "bias", 1)),
         node="dense1", field="params.bias", says="valid boolean"),
    Case("unknown linear parameter", "POST", RUNS, run(param("dense1", "units", 8)),
         node="dense1", field="params.units", says="extra"),
    Case("parameter on a tanh", "POST", RUNS, run(param("tanh1", "slope", 1)),
         node="tanh1", field="params.slope", says="extra"),
    Case("leaky_relu slope above 1", "POST", RUNS, run(set_kind("tanh1", "leaky_relu",
                                                                 negative_slope=2)),
         node="tanh1", field="params.negative_slope", says="less than or equal to 1"),
    Case("leaky_relu slope as a string", "POST", RUNS,
         run(set_kind("tanh1", "leaky_relu", negative_slope="0.1")), node="tanh1",
         field="params.negative_slope", says="valid number"),
    Case("elu alpha zero", "POST", RUNS, run(set_kind("tanh1", "elu", alpha=0)),
         node="tanh1", field="params.alpha", says="greater than 0"),
    Case("gelu approximate unknown", "POST", RUNS, run(set_kind("tanh1", "gelu",
                                                                 approximate="fast")),
         node="tanh1", field="params.approximate", says="'none' or 'tanh'"),
    Case("softmax dim out of range", "POST", RUNS, run(set_kind("tanh1", "softmax", dim=2)),
         node="tanh1", field="dim", says="out of range"),
    Case("softmax dim out of range, negative", "POST", RUNS,
         run(set_kind("tanh1", "softmax", dim=-3)), node="tanh1", field="dim",
         says="out of range"),
    Case("log_softmax dim out of range", "POST", RUNS,
         run(set_kind("tanh1", "log_softmax", dim=5)), node="tanh1", field="dim",
         says="takes -2 to 1"),
    Case("softmax dim out of range, validated", "POST", VALIDATE,
         graph(set_kind("tanh1", "softmax", dim=3)), status=200, node="tanh1", field="dim",
         says="out of range"),
    Case("softmax dim as a string", "POST", RUNS, run(set_kind("tanh1", "softmax", dim="1")),
         node="tanh1", field="params.dim", says="valid integer"),
    Case("dropout p one", "POST", RUNS, run(set_kind("tanh1", "dropout", p=1.0)),
         node="tanh1", field="params.p", says="less than 1"),
    Case("dropout p negative", "POST", RUNS, run(set_kind("tanh1", "dropout", p=-0.1)),
         node="tanh1", field="params.p", says="greater than or equal to 0"),
    Case("dropout p as a string", "POST", RUNS, run(set_kind("tanh1", "dropout", p="0.5")),
         node="tanh1", field="params.p", says="valid number"),
    Case("batch_norm1d eps zero", "POST", RUNS, run(set_kind("tanh1", "batch_norm1d", eps=0)),
         node="tanh1", field="params.eps", says="greater than 0"),
    Case("batch_norm1d momentum 2", "POST", RUNS,
         run(set_kind("tanh1", "batch_norm1d", momentum=2)), node="tanh1",
         field="params.momentum", says="less than or equal to 1"),
    Case("batch_norm1d affine as a string", "POST", RUNS,
         run(set_kind("tanh1", "batch_norm1d", affine="no")), node="tanh1",
         field="params.affine", says="valid boolean"),
    Case("batch_norm1d with batches of one", "POST", RUNS,
         run(seq(set_kind("tanh1", "batch_norm1d"), training(batch_size=1))), node="tanh1",
         field="training.batch_size", says="at least 2 samples"),
    Case("layer_norm eps negative", "POST", RUNS, run(set_kind("tanh1", "layer_norm", eps=-1)),
         node="tanh1", field="params.eps", says="greater than 0"),
    Case("flatten start_dim 0", "POST", RUNS, run(set_kind("tanh1", "flatten", start_dim=0)),
         node="tanh1", field="params.start_dim", says="greater than or equal to 1"),
    Case("flatten end_dim 9", "POST", RUNS, run(set_kind("tanh1", "flatten", end_dim=9)),
         node="tanh1", field="params.end_dim", says="less than or equal to 8"),
    Case("add of unequal shapes", "POST", RUNS, run(seq(
        set_kind("tanh1", "add"), add_edge("x", "tanh1"))), node="tanh1", field="edges",
        says="needs equal shapes"),
    Case("concat of unequal ranks, dim 2", "POST", RUNS, run(seq(
        set_kind("tanh1", "concat", dim=2), add_edge("x", "tanh1"))), node="tanh1",
        field="dim", says="cannot concatenate"),
    Case("concat dim zero", "POST", RUNS, run(seq(
        set_kind("tanh1", "concat", dim=0), add_edge("x", "tanh1"))), node="tanh1",
        field="params.dim", says="greater than or equal to 1"),
    Case("add of unequal shapes, validated", "POST", VALIDATE, graph(seq(
        set_kind("tanh1", "add"), add_edge("x", "tanh1"))), status=200, node="tanh1",
        field="edges", says="(N, 4) and (N, 2)"),
    Case("two bad parameters, both named", "POST", RUNS, run(seq(
        param("dense1", "out_features", "8"), param("out", "bias", "no"))), node="out",
        field="params.bias", says="valid boolean"),
]

DATA = [
    Case("unknown data set", "POST", RUNS, run(put(["data", "name"], "mnist9")),
         field="data.name", says="unknown data set 'mnist9'"),
    Case("no data", "POST", RUNS, run(drop(["data"])), field="data", says="required"),
    Case("data without a name", "POST", RUNS, run(drop(["data", "name"])), field="data.name",
         says="required"),
    Case("n_points as a string", "POST", RUNS, run(data(n_points="500")),
         field="data.params.n_points", says="valid integer"),
    Case("n_points too few", "POST", RUNS, run(data(n_points=5)),
         field="data.params.n_points", says="greater than or equal to 10"),
    Case("n_points too many", "POST", RUNS, run(data(n_points=10**6)),
         field="data.params.n_points", says="less than or equal"),
    Case("noise above 1", "POST", RUNS, run(data(noise=2)), field="data.params.noise",
         says="less than or equal to 1"),
    Case("noise NaN", "POST", RUNS, run(data(noise=float("nan"))), field="data.params.noise",
         says="finite number"),
    Case("train_fraction 0.95", "POST", RUNS, run(data(train_fraction=0.95)),
         field="data.params.train_fraction", says="less than or equal to 0.9"),
    Case("unknown feature", "POST", RUNS, run(data(features=["x9"])),
         field="data.params.features.0", says="x1"),
    Case("duplicate features", "POST", RUNS, run(data(features=["x1", "x1"])),
         field="data.params.features", says="unique"),
    Case("no features", "POST", RUNS, run(data(features=[])), field="data.params.features",
         says="at least 1"),
    Case("unknown data parameter", "POST", RUNS, run(data(points=500)),
         field="data.params.points", says="extra"),
    Case("data seed negative", "POST", RUNS, run(data(seed=-1)), field="data.params.seed",
         says="greater than or equal to 0"),
    Case("digits n_points too few", "POST", RUNS, run(put(["data"], {
        "name": "digits", "params": {"n_points": 10}})), field="data.params.n_points",
        says="greater than or equal to 50"),
    Case("digits shape unknown", "POST", RUNS, run(put(["data"], {
        "name": "digits", "params": {"shape": "cube"}})), field="data.params.shape",
        says="'flat' or 'image'"),
    Case("data params a list", "POST", RUNS, run(put(["data", "params"], [1])),
         field="data.params", says="valid dictionary"),
    Case("data a string", "POST", RUNS, run(put(["data"], "xor")), field="data",
         says="valid dictionary"),
]


def regression_with(loss: str) -> Callable[[dict[str, Any]], None]:
    return seq(put(["data"], {"name": "plane", "params": {}}), training(
        loss={"name": loss}))


TRAINING = [
    Case("unknown loss", "POST", RUNS, run(training(loss={"name": "mse2"})),
         field="training.loss.name", says="unknown loss 'mse2'"),
    Case("cross_entropy on a regression set", "POST", RUNS, run(regression_with(
        "cross_entropy")), field="training.loss.name", says="needs a classification task"),
    Case("cross_entropy on a regression set, task said", "POST", RUNS, run(seq(
        regression_with("cross_entropy"), training(task="regression"))),
        field="training.loss.name", says="does not fit regression"),
    Case("cross_entropy with one output for two classes", "POST", RUNS,
         run(training(loss={"name": "cross_entropy"})), node="out", field="out_features",
         says="needs output (N, 2)"),
    Case("hinge margin negative", "POST", RUNS, run(training(loss={
        "name": "hinge", "params": {"margin": -1}})), field="training.loss.params.margin",
        says="greater than"),
    Case("unknown optimizer", "POST", RUNS, run(optimizer("adamax")),
         field="training.optimizers.model.name", says="unknown optimizer 'adamax'"),
    Case("lr NaN", "POST", RUNS, run(optimizer(lr=float("nan"))),
         field="training.optimizers.model.params.lr", says="must be a finite number"),
    Case("lr Infinity", "POST", RUNS, run(optimizer(lr=float("inf"))),
         field="training.optimizers.model.params.lr", says="must be a finite number"),
    Case("lr zero", "POST", RUNS, run(optimizer(lr=0)),
         field="training.optimizers.model.params.lr", says="greater than 0"),
    Case("lr a billion", "POST", RUNS, run(optimizer(lr=1e9)),
         field="training.optimizers.model.params.lr", says="less than or equal"),
    Case("lr as a string", "POST", RUNS, run(optimizer(lr="0.1")),
         field="training.optimizers.model.params.lr", says="valid number"),
    Case("momentum 1.5", "POST", RUNS, run(optimizer("momentum", momentum=1.5)),
         field="training.optimizers.model.params.momentum", says="less than"),
    Case("adam betas out of range", "POST", RUNS, run(optimizer("adam", betas=[1.5, 0.9])),
         field="training.optimizers.model.params.betas.0", says="less than 1"),
    Case("adam betas a string", "POST", RUNS, run(optimizer("adam", betas="0.9,0.99")),
         field="training.optimizers.model.params.betas", says="valid tuple"),
    Case("adam betas of strings", "POST", RUNS, run(optimizer("adam", betas=["0.9", "0.99"])),
         field="training.optimizers.model.params.betas.0", says="valid number"),
    Case("rmsprop centered as a string", "POST", RUNS, run(optimizer("rmsprop",
                                                                     centered="true")),
         field="training.optimizers.model.params.centered", says="valid boolean"),
    Case("unknown optimizer parameter", "POST", RUNS, run(optimizer(learning_rate=0.1)),
         field="training.optimizers.model.params.learning_rate", says="extra"),
    Case("no optimizers", "POST", RUNS, run(training(optimizers={})),
         field="training", says="at least one"),
    Case("optimizer for an unknown role", "POST", RUNS, run(training(optimizers={
        "critic": {"name": "sgd"}})), field="training.optimizers", says="needs model"),
    Case("optimizer and optimizers both (v1 and v2)", "POST", RUNS, run(training(
        optimizer={"name": "sgd"})), field="training", says="not both"),
    Case("unknown schedule", "POST", RUNS, run(training(schedule={"name": "sawtooth"})),
         field="training.schedule.name", says="unknown schedule"),
    Case("step schedule gamma as a string", "POST", RUNS, run(training(schedule={
        "name": "step", "params": {"gamma": "0.5"}})), field="training.schedule.params.gamma",
        says="valid number"),
    Case("unknown regularizer", "POST", RUNS, run(training(regularizers=[{"name": "l3"}])),
         field="training.regularizers.0.name", says="unknown regularizer"),
    Case("l2 alpha negative", "POST", RUNS, run(training(regularizers=[{
        "name": "l2", "params": {"alpha": -1}}])), field="training.regularizers.0.params.alpha",
        says="greater than or equal to 0"),
    Case("nine regularizers", "POST", RUNS, run(training(regularizers=[{"name": "l2"}] * 9)),
         field="training.regularizers", says="at most 8"),
    Case("unknown clipping", "POST", RUNS, run(training(clip={"name": "soft"})),
         field="training.clip.name", says="unknown gradient clipping"),
    Case("unknown initializer", "POST", RUNS, run(training(init={"name": "orthogonal"})),
         field="training.init.name", says="unknown initializer"),
    Case("he distribution unknown", "POST", RUNS, run(training(init={
        "name": "he", "params": {"distribution": "cauchy"}})),
        field="training.init.params.distribution", says="'uniform' or 'normal'"),
    Case("batch_size as a string", "POST", RUNS, run(training(batch_size="10")),
         field="training.batch_size", says="valid integer"),
    Case("batch_size as true", "POST", RUNS, run(training(batch_size=True)),
         field="training.batch_size", says="valid integer"),
    Case("batch_size 10.5", "POST", RUNS, run(training(batch_size=10.5)),
         field="training.batch_size", says="valid integer"),
    Case("batch_size zero", "POST", RUNS, run(training(batch_size=0)),
         field="training.batch_size", says="greater than or equal to 1"),
    Case("batch_size a million", "POST", RUNS, run(training(batch_size=10**6)),
         field="training.batch_size", says="less than or equal"),
    Case("epochs zero", "POST", RUNS, run(training(epochs=0)), field="training.epochs",
         says="greater than or equal to 1"),
    Case("epochs as a string", "POST", RUNS, run(training(epochs="5")),
         field="training.epochs", says="valid integer"),
    Case("epochs and steps both", "POST", RUNS, run(training(steps=10)), field="training",
         says="not both"),
    Case("steps zero", "POST", RUNS, run(seq(drop(["training", "epochs"]), training(steps=0))),
         field="training.steps", says="greater than or equal to 1"),
    Case("seed negative", "POST", RUNS, run(training(seed=-1)), field="training.seed",
         says="greater than or equal to 0"),
    Case("seed past 2^32", "POST", RUNS, run(training(seed=2**40)), field="training.seed",
         says="less than or equal"),
    Case("device unknown", "POST", RUNS, run(training(device="tpu")),
         field="training.device", says="'auto', 'cpu' or 'cuda'"),
    Case("eval_every zero", "POST", RUNS, run(training(eval_every=0)),
         field="training.eval_every", says="greater than or equal to 1"),
    Case("fast_path as a string", "POST", RUNS, run(training(fast_path="yes")),
         field="training.fast_path", says="valid boolean"),
    Case("unknown task", "POST", RUNS, run(training(task="ranking")), field="training.task",
         says="unknown task 'ranking'"),
    Case("task does not fit the data", "POST", RUNS, run(training(task="regression")),
         field="training.task", says="is for classification"),
    Case("unknown training field", "POST", RUNS, run(training(learning_rate=0.1)),
         field="training.learning_rate", says="extra"),
    Case("telemetry scalars_every zero", "POST", RUNS, run(training(telemetry={
        "scalars_every": 0})), field="training.telemetry.scalars_every",
        says="greater than or equal to 1"),
    Case("telemetry grid_resolution 1000", "POST", RUNS, run(training(telemetry={
        "grid_resolution": 1000})), field="training.telemetry.grid_resolution",
        says="less than or equal to 256"),
    Case("telemetry budget 2", "POST", RUNS, run(training(telemetry={"budget": 2})),
         field="training.telemetry.budget", says="less than or equal to 1"),
    Case("telemetry unknown field", "POST", RUNS, run(training(telemetry={"fps": 60})),
         field="training.telemetry.fps", says="extra"),
    Case("unknown probe", "POST", RUNS, run(training(telemetry={"probes": {"nrms": {}}})),
         field="training.telemetry.probes.nrms", says="unknown probe"),
    Case("probe every as a string", "POST", RUNS, run(training(telemetry={
        "probes": {"histograms": {"every": "10"}}})),
        field="training.telemetry.probes.histograms.every", says="valid integer"),
    Case("training a list", "POST", RUNS, run(put(["training"], [])), field="training",
         says="valid dictionary"),
]

RUN_SPEC = [
    Case("unknown family", "POST", RUNS, run(put(["family"], "gan9")), field="family.name",
         says="unknown family 'gan9'"),
    Case("unknown family parameter", "POST", RUNS, run(put(["family"], {
        "name": "supervised", "params": {"beta": 1}})), field="family.params.beta",
        says="extra"),
    Case("schema_version 3", "POST", RUNS, run(put(["schema_version"], 3)),
         field="schema_version", says="2"),
    Case("schema_version as a string", "POST", RUNS, run(put(["schema_version"], "2")),
         field="schema_version", says="2"),
    Case("name too long", "POST", RUNS, run(put(["name"], "n" * 201)), field="name",
         says="at most 200"),
    Case("a very long name, shown short", "POST", RUNS, run(put(["name"], "n" * 5000)),
         field="name", says="(got 'nnnnnnnn"),
    Case("name a number", "POST", RUNS, run(put(["name"], 5)), field="name",
         says="valid string"),
    Case("unknown top-level field", "POST", RUNS, run(put(["priority"], "high")),
         field="priority", says="extra"),
    Case("body a list", "POST", RUNS, [xor_spec()], field="body", says="valid dictionary"),
    Case("body a string", "POST", RUNS, "xor", field="body", says="valid dictionary"),
    Case("body empty", "POST", RUNS, raw=b"", field="body", says="required"),
    Case("version-1 body with a bad node", "POST", RUNS, {
        "network": run(param("dense1", "out_features", "8"))["networks"]["model"],
        "data": {"name": "xor"}}, node="dense1", field="params.out_features",
        says="valid integer"),
    Case("version-1 body with a badly named node", "POST", RUNS, {
        "network": run(put(["networks", "model", "nodes", 2, "id"], "tanh 1"))["networks"][
            "model"], "data": {"name": "xor"}}, node="tanh 1", field="id", says=ID_RULE),
]

def autoencoder(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The digits autoencoder preset (encoder and decoder networks), changed."""
    spec = json.loads(next(p["spec"].model_dump_json() for p in presets()
                           if p["name"] == "ae_digits_2d"))
    spec["training"]["epochs"] = 1
    change(spec)
    return spec


def role_node(role: str, node_id: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        found = next(n for n in s["networks"][role]["nodes"] if n["id"] == node_id)
        found.update(values)
    return change


AUTOENCODER = [
    Case("decoder node parameter as a string", "POST", RUNS, autoencoder(role_node(
        "decoder", "dec1", params={"out_features": "128"})), node="dec1",
        field="params.out_features", says="valid integer"),
    Case("decoder node with a bad id", "POST", RUNS, autoencoder(role_node(
        "decoder", "dec1", id="dec 1")), node="dec 1", field="id", says=ID_RULE),
    Case("encoder node of an unknown kind", "POST", RUNS, autoencoder(role_node(
        "encoder", "enc_act1", kind="relu6")), node="enc_act1", field="kind",
        says="unknown layer kind"),
    Case("a node id in both networks", "POST", RUNS, autoencoder(role_node(
        "encoder", "enc1", id="dec1")), node="dec1", field="networks.decoder.nodes.1.id",
        says="unique across both"),
    Case("encoder softmax dim past an image's rank", "POST", RUNS, autoencoder(role_node(
        "encoder", "flat", kind="softmax", params={"dim": 5})), node="flat", field="dim",
        says="takes -4 to 3"),
    Case("autoencoder without a decoder", "POST", RUNS, autoencoder(drop(
        ["networks", "decoder"])), field="networks", says="needs encoder, decoder"),
    Case("autoencoder sparsity unknown", "POST", RUNS, autoencoder(put(
        ["family"], {"name": "autoencoder", "params": {"sparsity": "l3"}})),
        field="family.params.sparsity", says="'none', 'l1' or 'kl'"),
    Case("supervised family on two networks", "POST", RUNS, autoencoder(put(
        ["family"], {"name": "supervised"})), field="networks", says="needs model"),
]

LIMITS = [
    Case("parameters past the limit", "POST", RUNS, run(seq(
        param("dense1", "out_features", 65_536), param("out", "in_features", None),
        insert("tanh1", {"id": "wide", "kind": "linear", "params": {"out_features": 65_536}}))),
        field="networks", says="LIVEGRAD_MAX_PARAMS"),
    Case("steps past the limit", "POST", RUNS, run(seq(drop(["training", "epochs"]), training(
        steps=10_000_001))), field="training.steps", says="at most 10,000,000"),
    Case("epochs past the step limit", "POST", RUNS, run(training(epochs=500_000)),
         field="training.epochs", says="LIVEGRAD_MAX_STEPS"),
    Case("steps past the spec's own bound", "POST", RUNS, run(seq(drop(
        ["training", "epochs"]), training(steps=10**9))), field="training.steps",
        says="less than or equal"),
]

VALIDATE_CASES = [
    Case("input_shape -1", "POST", VALIDATE, graph(nothing, input_shape=[-1]),
         field="input_shape.0", says="greater than or equal to 1"),
    Case("input_shape 0", "POST", VALIDATE, graph(nothing, input_shape=[0]),
         field="input_shape.0", says="greater than or equal to 1"),
    Case("input_shape false", "POST", VALIDATE, graph(nothing, input_shape=[False]),
         field="input_shape.0", says="valid integer"),
    Case("input_shape a string", "POST", VALIDATE, graph(nothing, input_shape=["2"]),
         field="input_shape.0", says="valid integer"),
    Case("input_shape 2.5", "POST", VALIDATE, graph(nothing, input_shape=[2.5]),
         field="input_shape.0", says="valid integer"),
    Case("input_shape empty", "POST", VALIDATE, graph(nothing, input_shape=[]),
         field="input_shape", says="at least 1"),
    Case("input_shape of nine dimensions", "POST", VALIDATE, graph(nothing, input_shape=[1] * 9),
         field="input_shape", says="at most 8"),
    Case("input_shape a number", "POST", VALIDATE, graph(nothing, input_shape=2),
         field="input_shape", says="valid list"),
    Case("input_shape of 10^48 numbers", "POST", VALIDATE, graph(nothing,
                                                                 input_shape=[10**6] * 8),
         status=200, field="input_shape", says="past the"),
    Case("one output for ten digit classes", "POST", RUNS, run(seq(
        put(["data"], {"name": "digits", "params": {"shape": "image"}}),
        set_kind("dense1", "layer_norm"), set_kind("tanh1", "flatten"))), node="out",
        field="out_features", says="needs output"),
    Case("neither data nor input shape", "POST", VALIDATE, graph(nothing, input_shape=None),
         field="input_shape", says="give `data`"),
    Case("unknown data set to validate over", "POST", VALIDATE, graph(
        nothing, input_shape=None, data={"name": "nope"}), field="data.name",
        says="unknown data set"),
    Case("bad data params to validate over", "POST", VALIDATE, graph(
        nothing, input_shape=None, data={"name": "xor", "params": {"n_points": "5"}}),
        field="data.params.n_points", says="valid integer"),
    Case("unknown field in validate", "POST", VALIDATE, graph(nothing, shape=[2]),
         field="shape", says="extra"),
    Case("validate without a network", "POST", VALIDATE, {"input_shape": [2]},
         field="network", says="required"),
    Case("validate a node with a bad parameter type", "POST", VALIDATE, graph(
        param("dense1", "out_features", "8")), status=200, node="dense1",
        field="params.out_features", says="valid integer"),
    Case("validate a node with a bad id", "POST", VALIDATE, graph(put(
        ["networks", "model", "nodes", 3, "id"], "out!")), node="out!", field="id",
        says=ID_RULE),
]

NETWORKS_CASES = [
    Case("network of an unknown kind", "POST", NETWORKS, network(set_kind("tanh1", "tanhh")),
         node="tanh1", field="kind", says="unknown layer kind"),
    Case("network with duplicate ids", "POST", NETWORKS, network(put(
        ["networks", "model", "nodes", 2, "id"], "dense1")), node="dense1", field="id",
        says="more than one node"),
    Case("network with a cycle", "POST", NETWORKS, network(cycle_feeding_downstream(True)),
         field="edges", says="cycle"),
    Case("network with an edge to nowhere", "POST", NETWORKS, network(add_edge("out", "nope")),
         field="edges.target", says="no node named"),
    Case("network with a bad parameter", "POST", NETWORKS, network(param(
        "dense1", "out_features", "8")), node="dense1", field="params.out_features",
        says="valid integer"),
    Case("network with an unknown parameter", "POST", NETWORKS, network(param(
        "dense1", "units", 8)), node="dense1", field="params.units", says="extra"),
    Case("network without an input", "POST", NETWORKS, network(set_kind("x", "relu")),
         field="nodes", says="no input node"),
    Case("network with an unknown field", "POST", NETWORKS, network(nothing, owner="me"),
         field="owner", says="extra"),
    Case("network with an unknown node field", "POST", NETWORKS, network(put(
        ["networks", "model", "nodes", 1, "size"], 4)), node="dense1", field="size",
        says="extra"),
    Case("network with an empty name", "POST", NETWORKS, network(nothing, name=""),
         field="name", says="at least 1"),
    Case("network without a name", "POST", NETWORKS, {"network": network(nothing)["network"]},
         field="name", says="required"),
    Case("network named by a number", "POST", NETWORKS, network(nothing, name=7),
         field="name", says="valid string"),
    Case("network with a node id of bad form", "POST", NETWORKS, network(put(
        ["networks", "model", "nodes", 1, "id"], "-d")), node="-d", field="id",
        says=ID_RULE),
    Case("network with a two-input linear", "POST", NETWORKS, network(add_edge("x", "out")),
         node="out", field="edges", says="takes 1 input"),
]

QUERIES = [
    Case("runs offset past 2^63", "GET", f"{RUNS}?offset={2**63}", field="offset",
         says="less than or equal"),
    Case("runs offset past 2^64", "GET", f"{RUNS}?offset={2**64 + 5}", field="offset",
         says="less than or equal"),
    Case("runs offset negative", "GET", f"{RUNS}?offset=-1", field="offset",
         says="greater than or equal to 0"),
    Case("runs offset a word", "GET", f"{RUNS}?offset=abc", field="offset",
         says="valid integer"),
    Case("runs limit zero", "GET", f"{RUNS}?limit=0", field="limit",
         says="greater than or equal to 1"),
    Case("runs limit 10000", "GET", f"{RUNS}?limit=10000", field="limit",
         says="less than or equal to 500"),
    Case("runs status unknown", "GET", f"{RUNS}?status=sleeping", field="status",
         says="queued"),
    Case("networks offset past 2^63", "GET", f"{NETWORKS}?offset={2**63}", field="offset",
         says="less than or equal"),
    Case("networks limit zero", "GET", f"{NETWORKS}?limit=0", field="limit",
         says="greater than or equal to 1"),
    Case("networks offset 1.5", "GET", f"{NETWORKS}?offset=1.5", field="offset",
         says="valid integer"),
    Case("unknown run", "GET", f"{RUNS}/nope", status=404, says="no run"),
    Case("unknown network", "GET", f"{NETWORKS}/nope", status=404, says="no network"),
    Case("unknown route", "GET", "/api/v1/nowhere", status=404, says="not found"),
    Case("method not allowed", "PUT", RUNS, status=405, says="method not allowed"),
    Case("metrics max_points zero", "GET", f"{RUNS}/nope/metrics?max_points=0",
         field="max_points", says="greater than or equal to 1"),
    Case("step n zero", "POST", f"{RUNS}/nope/step", {"n": 0}, field="n",
         says="greater than or equal to 1"),
    Case("step n as a string", "POST", f"{RUNS}/nope/step", {"n": "5"}, field="n",
         says="valid integer"),
    Case("patch lr NaN", "PATCH", f"{RUNS}/nope", {"lr": float("nan")}, field="lr",
         says="must be a finite number"),
    Case("patch with nothing", "PATCH", f"{RUNS}/nope", {}, field="body",
         says="give 'lr', 'probes', 'pace' or several"),
    Case("patch an unknown field", "PATCH", f"{RUNS}/nope", {"momentum": 0.9},
         field="momentum", says="extra"),
    Case("patch lr as a string", "PATCH", f"{RUNS}/nope", {"lr": "0.1"}, field="lr",
         says="valid number"),
    Case("patch lr past its bound", "PATCH", f"{RUNS}/nope", {"lr": 1000}, field="lr",
         says="less than or equal to 100"),
    Case("patch probes a list", "PATCH", f"{RUNS}/nope", {"probes": ["norms"]}, field="probes",
         says="valid dictionary"),
    Case("step with an unknown field", "POST", f"{RUNS}/nope/step", {"n": 1, "m": 2},
         field="m", says="extra"),
    Case("paused not a boolean", "POST", f"{RUNS}?paused=maybe", run(nothing),
         field="paused", says="valid boolean"),
    Case("pause an unknown run", "POST", f"{RUNS}/nope/pause", status=404, says="no run"),
    Case("delete an unknown run", "DELETE", f"{RUNS}/nope", status=404, says="no run"),
    Case("delete an unknown network", "DELETE", f"{NETWORKS}/nope", status=404,
         says="no network"),
    Case("replace an unknown network", "PUT", f"{NETWORKS}/nope", network(nothing),
         status=404, says="no network"),
    Case("checkpoint of an unknown run", "GET", f"{RUNS}/nope/checkpoint", status=404,
         says="no run"),
    Case("data points of an unknown set", "POST", "/api/v1/datasets/points", {"name": "nope"},
         field="data.name", says="unknown data set"),
    Case("data points with a string count", "POST", "/api/v1/datasets/points", {
        "name": "xor", "params": {"n_points": "50"}}, field="data.params.n_points",
        says="valid integer"),
    Case("data points with an unknown field", "POST", "/api/v1/datasets/points", {
        "name": "xor", "extra": 1}, field="extra", says="extra"),
]

BAD_JSON = [
    Case("invalid UTF-8", "POST", RUNS, raw=b'{"name": "\xff\xfe"}', status=400,
         field="body", says="UTF-8"),
    Case("3,000-deep JSON", "POST", RUNS, raw=b"[" * 3000 + b"]" * 3000, status=400,
         field="body", says="nest"),
    Case("3,000-deep JSON to validate", "POST", VALIDATE, raw=b'{"a":' * 3000 + b"1" +
         b"}" * 3000, status=400, field="body", says="nest"),
    Case("truncated JSON", "POST", RUNS, raw=b'{"networks": {', field="body",
         says="not valid JSON"),
    Case("not JSON at all", "POST", NETWORKS, raw=b"name=net", field="body",
         says="not valid JSON"),
    Case("a trailing comma", "POST", VALIDATE, raw=b'{"input_shape": [2],}', field="body",
         says="not valid JSON"),
    Case("a body past the size limit", "POST", RUNS, raw=b" " * 1_000_001, status=413,
         says="too large"),
]

CASES = (GRAPH_STRUCTURE + LAYER_PARAMS + DATA + TRAINING + RUN_SPEC + AUTOENCODER + LIMITS
         + VALIDATE_CASES + NETWORKS_CASES + QUERIES + BAD_JSON)


def cases_copy() -> list[Case]:
    """The corpus, each body a fresh copy (a test must not change another's)."""
    return [copy.deepcopy(c) for c in CASES]
