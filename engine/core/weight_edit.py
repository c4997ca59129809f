"""Setting one weight of a run by hand (TensorFlow Playground's click on a link): the edit, its
checks and how it is applied between steps.

An edit names a linear node, a row (the output unit) and a column (the input unit) of its
(out_features, in_features) weight, and a finite value. Its form is checked where it is made
(`WeightEdit.checked`); whether the node and the indices exist, against the spec's graph
(`check_weight_edit`, for a caller that has no model, e.g. the server) or the model itself
(`apply_weight_edit`, which changes nothing when it refuses). The optimizer's state is left
as it is: only the weight moves.
May import: stdlib, torch, engine.core.errors, engine.core.specs, engine.core.prepare,
engine.nn.graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from engine.core.errors import LocatedError, SpecError
from engine.core.specs import RunSpec
from engine.nn.graph import GraphReport

MAX_WEIGHT = 1e6  # |value| at most: a weight past it is a typo, and float32 stays exact-ish
WEIGHTED = "linear"  # the layer kind whose 2-D weight an edit may set


@dataclass(frozen=True)
class WeightEdit:
    node: str
    row: int
    col: int
    value: float

    @classmethod
    def checked(cls, node: Any, row: Any, col: Any, value: Any) -> WeightEdit:
        """The edit, its form checked (a node id, whole indices >= 0, a finite value within
        ±MAX_WEIGHT); raises a SpecError located at the bad field."""
        errors = []
        if not isinstance(node, str) or not node:
            errors.append(("node", f"a node id (text) is needed, got {node!r}"))
        for name, index in (("row", row), ("col", col)):
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                errors.append((name, f"a whole number >= 0 is needed, got {index!r}"))
        if isinstance(value, bool) or not isinstance(value, int | float) or not \
                (math.isfinite(value) and abs(value) <= MAX_WEIGHT):
            errors.append(("value", f"a finite number within ±{MAX_WEIGHT:g} is needed, "
                                    f"got {value!r}"))
        if errors:
            raise refusal(None if errors[0][0] == "node" else node, errors)
        return cls(node, row, col, float(value))


def refusal(node: str | None, errors: list[tuple[str, str]]) -> SpecError:
    return SpecError([LocatedError(node, field, f"set_weight: {field}: {message}")
                      for field, message in errors])


def shape_errors(edit: WeightEdit, kind: str | None, shape: tuple[int, int] | None
                 ) -> list[tuple[str, str]]:
    """What is wrong with the edit on a node of `kind` whose weight has `shape` (None: no
    such node); nothing when it fits."""
    if kind is None:
        return [("node", f"no node {edit.node!r} in the network")]
    if kind != WEIGHTED or shape is None:
        return [("node", f"{edit.node!r} is a {kind} layer, which has no weight matrix; "
                         "only linear layers' weights can be set")]
    rows, cols = shape
    errors = []
    if edit.row >= rows:
        errors.append(("row", f"{edit.node!r} has {rows} output units (rows 0 to {rows - 1}), "
                              f"got {edit.row}"))
    if edit.col >= cols:
        errors.append(("col", f"{edit.node!r} has {cols} input units (columns 0 to "
                              f"{cols - 1}), got {edit.col}"))
    return errors


def report_shape(report: GraphReport, node: str) -> tuple[str | None, tuple[int, int] | None]:
    """A node's kind and its weight's (out, in) shape, from the graph's inferred shapes."""
    nodes = {n.id: n for n in report.nodes}
    found = nodes.get(node)
    if found is None:
        return None, None
    if found.kind != WEIGHTED or not found.output_shape or len(found.inputs) != 1:
        return found.kind, None
    source = nodes.get(found.inputs[0])
    if source is None or not source.output_shape:
        return found.kind, None
    return found.kind, (found.output_shape[-1], source.output_shape[-1])


def check_weight_edit(spec: RunSpec, edit: WeightEdit) -> None:
    """Refuse (a located SpecError) an edit that the run of `spec` cannot take."""
    from engine.core.prepare import check_spec  # the graph's shapes, without building it

    _, report = check_spec(spec)
    kind, shape = report_shape(report, edit.node) if report is not None else (None, None)
    errors = shape_errors(edit, kind, shape)
    if errors:
        raise refusal(edit.node, errors)


def model_weight(model: Any, node: str) -> torch.Tensor | None:
    """The node's 2-D weight tensor in the model, if it has one."""
    layers = getattr(model, "layers", {})
    weight = getattr(layers[node], "weight", None) if node in layers else None
    return weight if isinstance(weight, torch.Tensor) and weight.dim() == 2 else None


def check_model_edit(model: Any, edit: WeightEdit) -> torch.Tensor:
    """The weight the edit sets, or a located SpecError when the model cannot take it."""
    weight = model_weight(model, edit.node)
    kind = getattr(model, "kinds", {}).get(edit.node)
    shape = None if weight is None else (int(weight.shape[0]), int(weight.shape[1]))
    errors = shape_errors(edit, kind, shape)
    if errors or weight is None:
        raise refusal(edit.node, errors)
    return weight


def apply_weight_edit(model: Any, edit: WeightEdit) -> None:
    """Set the weight in place (its tensor's memory: the fused step's views see it too), or
    raise a located SpecError and change nothing."""
    weight = check_model_edit(model, edit)
    with torch.no_grad():
        weight[edit.row, edit.col] = edit.value
