"""Network specs to shape reports and to `nn.Module`s.

`inspect_graph` checks the structure (ids, edges, cycles, unfed nodes, unread outputs) and
infers every node's output shape and parameter count before any weight is made (parameters
are counted on the meta device). `build_model` turns a valid graph into a `GraphModel`.
May import: stdlib, torch, pydantic, engine.nn.layers, engine.core.registry, engine.core.errors,
engine.core.specs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

import torch
from pydantic import BaseModel
from torch import nn

from engine.core.errors import LocatedError, SpecError, shown
from engine.core.registry import parse_params
from engine.core.specs import NetworkSpec, NodeSpec
from engine.nn.layers import LAYERS, Shape, ShapeError, fmt_shape


class NodeReport(BaseModel):
    id: str
    kind: str
    inputs: list[str]
    output_shape: list[int] | None = None
    shape_text: str | None = None
    arithmetic: str | None = None  # how the output size follows (convolutions, pooling)
    params: int | None = None
    error: str | None = None


class GraphReport(BaseModel):
    """Per node: output shape and parameter count, or the located errors."""

    ok: bool
    nodes: list[NodeReport]
    errors: list[LocatedError]
    order: list[str]
    output: str | None
    total_params: int


def inspect_graph(network: NetworkSpec, input_shape: Shape) -> GraphReport:
    errors = structure_errors(network) + input_shape_errors(input_shape)
    inputs = incoming(network)
    dangling = any(e.field and e.field.startswith("edges.") for e in errors)
    order = topological_order(network) if not dangling else []
    if not dangling:
        errors.extend(find_cycle(network, order))
    nodes = {n.id: NodeReport(id=n.id, kind=n.kind, inputs=inputs[n.id]) for n in network.nodes}
    output = output_node(network, errors) if not errors else None
    if not any(e.field == "input_shape" for e in errors):
        # every node that can have a shape gets one: a dangling layer elsewhere, or a node in
        # a cycle, blanks only itself and what it feeds, never the input
        blocked = {e.node for e in errors if e.node is not None}
        infer_shapes(network, order, inputs, input_shape, nodes, errors, blocked)
    for err in errors:
        if err.node in nodes and nodes[err.node].error is None:
            nodes[err.node].error = err.message
    total = sum(r.params or 0 for r in nodes.values())
    return GraphReport(ok=not errors, nodes=[nodes[n.id] for n in network.nodes], errors=errors,
                       order=order, output=output, total_params=total)


MAX_SAMPLE = 10**8  # numbers in one sample: past it, even shape arithmetic overflows torch's


def input_shape_errors(input_shape: Shape) -> list[LocatedError]:
    """A sample's dimensions are whole numbers of at least one (a bool is no size)."""
    if not (len(input_shape) >= 1 and all(type(d) is int and d >= 1 for d in input_shape)):
        return [LocatedError(None, "input_shape", "an input shape is one or more whole numbers,"
                             f" each at least 1, e.g. [2]; got {list(input_shape)}")]
    if math.prod(input_shape) > MAX_SAMPLE:
        return [LocatedError(None, "input_shape", f"a sample of {math.prod(input_shape):,} "
                             f"numbers is past the {MAX_SAMPLE:,} a network here takes")]
    return []


def check_network(network: NetworkSpec) -> list[LocatedError]:
    """What can be checked of a graph with no input shape (a saved network): ids, edges,
    cycles, kinds, arity, the output, and every node's parameters. Shapes need the data."""
    errors = structure_errors(network)
    if not any(e.field and e.field.startswith("edges.") for e in errors):
        errors.extend(find_cycle(network, topological_order(network)))
    if not errors:
        output_node(network, errors)
    for node in network.nodes:
        if node.kind in LAYERS:
            errors.extend(param_errors(node))
    return errors


def incoming(network: NetworkSpec) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {n.id: [] for n in network.nodes}
    for e in network.edges:
        if e.target in result:
            result[e.target].append(e.source)
    return result


def structure_errors(network: NetworkSpec) -> list[LocatedError]:
    errors: list[LocatedError] = []
    ids = [n.id for n in network.nodes]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(LocatedError(dup, "id", "id is used by more than one node"))
    for e in network.edges:
        for end, name in (("source", e.source), ("target", e.target)):
            if name not in ids:
                errors.append(LocatedError(None, f"edges.{end}", f"edge {e.source[:40]} -> "
                                           f"{e.target[:40]}: no node named {shown(name)}"))
    inputs_of = incoming(network)
    for node in network.nodes:
        if node.kind not in LAYERS:
            known = ", ".join(sorted(LAYERS.names()))
            errors.append(LocatedError(node.id, "kind",
                                       f"unknown layer kind {shown(node.kind)}; known: {known}"))
            continue
        errors.extend(arity_errors(node, inputs_of[node.id]))
    if not any(n.kind == "input" for n in network.nodes):
        errors.append(LocatedError(None, "nodes", "the network has no input node"))
    return errors


def arity_errors(node: NodeSpec, sources: list[str]) -> list[LocatedError]:
    entry = LAYERS.get(node.kind)
    n = len(sources)
    if entry.max_inputs == 0 and n:
        return [LocatedError(node.id, "edges", f"an input node takes no inputs, got {n}")]
    if n == 0 and entry.min_inputs > 0:
        return [LocatedError(node.id, "edges", "nothing feeds this node")]
    if n < entry.min_inputs:
        return [LocatedError(node.id, "edges", f"{node.kind} needs at least "
                             f"{entry.min_inputs} inputs, got {n}")]
    if n > entry.max_inputs:
        return [LocatedError(node.id, "edges", f"{node.kind} takes {entry.max_inputs} input"
                             f"{'s' if entry.max_inputs > 1 else ''}, got {n}")]
    return []


def topological_order(network: NetworkSpec) -> list[str]:
    """Kahn's algorithm, stable in the order nodes are listed; cyclic nodes are left out."""
    indegree = dict.fromkeys((n.id for n in network.nodes), 0)
    children: dict[str, list[str]] = defaultdict(list)
    for e in network.edges:
        indegree[e.target] += 1
        children[e.source].append(e.target)
    ready = [n.id for n in network.nodes if indegree[n.id] == 0]
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order


def find_cycle(network: NetworkSpec, order: list[str]) -> list[LocatedError]:
    """The first cycle among the nodes Kahn's order left out, as a path.

    It walks parents, not children: every node left out has a parent left out (else its
    indegree would have reached zero), while a cycle's node may also feed a node downstream
    that has no child at all, so a walk along children can dead-end before it closes."""
    left = {n.id for n in network.nodes} - set(order)
    if not left:
        return []
    parents: dict[str, list[str]] = defaultdict(list)
    for e in network.edges:
        if e.source in left and e.target in left:
            parents[e.target].append(e.source)
    start = next(n.id for n in network.nodes if n.id in left)
    path, node = [start], start
    while True:
        node = parents[node][0]
        if node in path:
            return [LocatedError(None, "edges", "edge cycle: " + " -> ".join(
                listed_first(network, list(reversed(path[path.index(node):])))))]
        path.append(node)


def listed_first(network: NetworkSpec, cycle: list[str]) -> list[str]:
    """A cycle's path from its first-listed node back to it, e.g. a -> b -> a."""
    rank = {n.id: i for i, n in enumerate(network.nodes)}
    first = min(range(len(cycle)), key=lambda i: rank[cycle[i]])
    turned = cycle[first:] + cycle[:first]
    return [*turned, turned[0]]


def output_node(network: NetworkSpec, errors: list[LocatedError]) -> str | None:
    read = {e.source for e in network.edges}
    sinks = [n.id for n in network.nodes if n.id not in read]
    wanted = network.output or (sinks[-1] if sinks else None)
    if network.output is not None and network.output not in {n.id for n in network.nodes}:
        errors.append(LocatedError(None, "output",
                                   f"output names no node: {shown(network.output)}"))
        return None
    for sink in sinks:
        if sink != wanted:
            errors.append(LocatedError(sink, "edges", f"nothing reads this node's output (the "
                                       f"network's output is {wanted!r})"))
    return wanted


def infer_shapes(network: NetworkSpec, order: list[str], inputs: dict[str, list[str]],
                 input_shape: Shape, reports: dict[str, NodeReport],
                 errors: list[LocatedError], blocked: frozenset[str] | set[str] = frozenset()
                 ) -> None:
    """Shapes in topological order; a node `blocked` by a structural error (nothing feeds
    it, an unknown kind, a duplicate id) gets none, nor what it feeds."""
    specs = {n.id: n for n in network.nodes}
    shapes: dict[str, Shape] = {}
    for node_id in order:
        node = specs[node_id]
        if node_id in blocked:
            continue
        if any(src not in shapes for src in inputs[node_id]):
            errors.extend(param_errors(node))  # an upstream node failed: no shape to infer
            continue
        in_shapes = [shapes[s] for s in inputs[node_id]] or [tuple(input_shape)]
        try:
            shape, count, arithmetic = node_shape(node, in_shapes)
        except SpecError as exc:
            errors.extend(exc.errors)
            continue
        shapes[node_id] = shape
        reports[node_id].output_shape = list(shape)
        reports[node_id].shape_text = fmt_shape(shape)
        reports[node_id].params = count
        reports[node_id].arithmetic = arithmetic


def param_errors(node: NodeSpec) -> list[LocatedError]:
    """A node's parameter errors, found without its input shape."""
    try:
        parse_params(LAYERS.get(node.kind, node=node.id), node.params, node=node.id,
                     where="params")
    except SpecError as exc:
        return exc.errors
    return []


def node_shape(node: NodeSpec, in_shapes: list[Shape]) -> tuple[Shape, int, str | None]:
    entry = LAYERS.get(node.kind, node=node.id)
    params = parse_params(entry, node.params, node=node.id, where="params")
    try:
        shape = tuple(entry.shape(params, in_shapes))
    except ShapeError as exc:
        if entry.category == "merge":
            raise SpecError([LocatedError(node.id, exc.field, f'merge "{node.id}" {exc}')]) \
                from None
        raise SpecError([LocatedError(node.id, exc.field, str(exc))]) from None
    try:
        with torch.device("meta"):  # count weights without allocating them
            module = entry.build(params, in_shapes)
    except (RuntimeError, ValueError) as exc:  # torch's own refusal, e.g. a size overflow
        raise SpecError([LocatedError(node.id, None, f"{node.kind} cannot be built for "
                                      f"input {fmt_shape(in_shapes[0])}: {exc}")]) from None
    arithmetic = entry.explain(params, in_shapes) if entry.explain else None
    return shape, sum(p.numel() for p in module.parameters()), arithmetic


class GraphModel(nn.Module):
    """Runs the nodes in topological order; each node's module lives in `layers[id]`."""

    def __init__(self, report: GraphReport, modules: dict[str, nn.Module],
                 inputs: dict[str, list[str]]) -> None:
        super().__init__()
        self.layers = nn.ModuleDict(modules)
        self.order = list(report.order)
        self.inputs = inputs
        self.output = report.output
        self.kinds = {n.id: n.kind for n in report.nodes}
        # (node id, module, source ids) in the order the nodes run (the layers are fixed
        # once built): the forward looks nothing up
        self.plan = [(node_id, self.layers[node_id], tuple(inputs[node_id]))
                     for node_id in self.order]
        # every layer's hook dicts in one tuple: hooks are added to these dicts in place, so
        # `any` over it tells at C speed whether a call would run one (see plain_calls)
        self.hook_dicts = tuple(d for m in self.layers.values() for d in (
            m._forward_hooks, m._forward_pre_hooks, m._backward_hooks, m._backward_pre_hooks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.node_outputs(x)[self.output or self.order[-1]]

    def node_outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every node's output for input x, by node id, in the order the nodes ran."""
        values: dict[str, torch.Tensor] = {}
        # Calling each module's forward directly skips nn.Module.__call__, whose dispatch
        # costs as much as a small layer's own work; it is only an equivalent while nothing
        # hooks into the calls (the probes do), traces or compiles them.
        direct = plain_calls(self.layers.values(), self.hook_dicts)
        for node_id, module, sources in self.plan:
            call = module.forward if direct else module
            if len(sources) == 1:
                values[node_id] = call(values[sources[0]])
            else:
                values[node_id] = call(*[values[s] for s in sources] if sources else [x])
        return values


def plain_calls(modules: Iterable[nn.Module], hook_dicts: tuple[dict, ...] | None = None
                ) -> bool:
    """Whether calling these modules is just calling their forward: no global or module
    hooks, no tracing, no compiled call (the conditions of nn.Module._call_impl's fast
    path). `hook_dicts`: the modules' four hook dicts each, when the caller holds them."""
    hooks = nn.modules.module
    if torch._C._get_tracing_state() or hooks._global_forward_hooks \
            or hooks._global_forward_pre_hooks or hooks._global_backward_hooks \
            or hooks._global_backward_pre_hooks:
        return False
    if hook_dicts is None:
        hook_dicts = tuple(d for m in modules for d in (
            m._forward_hooks, m._forward_pre_hooks, m._backward_hooks, m._backward_pre_hooks))
    return not any(hook_dicts) and all(m._compiled_call_impl is None for m in modules)


def build_model(network: NetworkSpec, input_shape: Shape) -> tuple[GraphModel, GraphReport]:
    """A valid graph's model and its report; an invalid one raises `SpecError`."""
    report = inspect_graph(network, input_shape)
    if not report.ok:
        raise SpecError(report.errors)
    inputs = incoming(network)
    shapes = {r.id: tuple(r.output_shape or ()) for r in report.nodes}
    modules: dict[str, nn.Module] = {}
    for node in network.nodes:
        entry = LAYERS.get(node.kind)
        params = parse_params(entry, node.params, node=node.id, where="params")
        in_shapes = [shapes[s] for s in inputs[node.id]] or [tuple(input_shape)]
        modules[node.id] = entry.build(params, in_shapes)
    return GraphModel(report, modules, inputs), report

