"""The probe pass: a separate forward in eval mode without gradients on fixed inputs (a small
training batch, or the input plane's grid), so that frames compare over time and never touch
training. Forward hooks record each node's output; they exist only during the pass. A step
strategy that computes its forward itself (the fused NumPy path) hands over its own outputs
instead, and their statistics are taken in NumPy: torch calls between its NumPy steps would
slow the steps after them (cold caches) by more than they cost themselves.

Activations: per node, mean, standard deviation, histogram, dead ReLU units and saturated
sigmoid/tanh outputs. Neuron maps: every node's units over the plane (the input's features,
the hidden units and the output's raw values), as TensorFlow Playground draws one on each.
May import: stdlib, numpy, torch, engine.core.events, engine.core.prepare and the probes' own
modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.core.events import ActivationsSampled, LayerActivations, NeuronMapsComputed
from engine.core.run import PreparedRun
from engine.probes.registry import ActivationsParams, NeuronMapsParams
from engine.probes.stats import Sampler, finite, histograms

NAN = float("nan")
NodeForward = Callable[[np.ndarray], "dict[str, np.ndarray] | None"]
Outputs = dict[str, torch.Tensor] | dict[str, np.ndarray]


@contextmanager
def recorded_outputs(model: nn.Module) -> Iterator[dict[str, torch.Tensor]]:
    """Each node's output by node id while the block runs; the hooks go when it ends."""
    outputs: dict[str, torch.Tensor] = {}
    handles = []
    layers: Any = getattr(model, "layers", {})
    for node, module in layers.items():
        def keep(_m: nn.Module, _args: Any, out: Any, node: str = node) -> None:
            if isinstance(out, torch.Tensor):
                outputs[node] = out.detach()
        handles.append(module.register_forward_hook(keep))
    try:
        yield outputs
    finally:
        for h in handles:
            h.remove()


def probe_forward(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every node's output for x, in eval mode and without gradients; the mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), recorded_outputs(model) as outputs:
            model(x)
    finally:
        model.train(was_training)
    return outputs


def unit_dims(t: torch.Tensor) -> list[int]:
    """The dims to reduce over for per-unit statistics: all but dim 1 (features/channels)."""
    return [d for d in range(t.dim()) if d != 1]


def layer_scalars(t: torch.Tensor, kind: str, tol: float) -> torch.Tensor:
    """(4,) mean, std, dead fraction, saturated fraction (NaN where they do not apply)."""
    f = t.float()
    nan = torch.full((), NAN, device=t.device)
    dead = sat = nan
    if kind == "relu" and f.dim() >= 2:
        alive = (f > 0).any(dim=0) if f.dim() == 2 else (f > 0).flatten(2).any(2).any(0)
        dead = (~alive).float().mean()
    if kind == "sigmoid":
        sat = ((f < tol) | (f > 1 - tol)).float().mean()
    elif kind == "tanh":
        sat = (f.abs() > 1 - tol).float().mean()
    return torch.stack([f.mean(), f.std(correction=0), dead, sat])


def array_scalars(a: np.ndarray, kind: str, tol: float) -> np.ndarray:
    """`layer_scalars` in NumPy (fractions in float32, as torch takes them)."""
    f = a.astype(np.float32, copy=False)
    dead = sat = NAN
    if kind == "relu" and f.ndim >= 2:
        alive = (f > 0).reshape(f.shape[0], f.shape[1], -1).any(axis=(0, 2))
        dead = float((~alive).mean(dtype=np.float32))
    if kind == "sigmoid":
        sat = float(((f < tol) | (f > 1 - tol)).mean(dtype=np.float32))
    elif kind == "tanh":
        sat = float((np.abs(f) > 1 - tol).mean(dtype=np.float32))
    return np.array([f.mean(dtype=np.float64), f.std(dtype=np.float64), dead, sat])


def pass_outputs(model: nn.Module, x: np.ndarray, x_device: torch.Tensor,
                 forward: NodeForward | None) -> Outputs:
    """Each node's output for the probe inputs: the strategy's own, else the hooked model's."""
    outputs = forward(x) if forward is not None else None
    return outputs if outputs is not None else probe_forward(model, x_device)


def width(out: torch.Tensor | np.ndarray) -> int:
    return int(out.shape[1]) if len(out.shape) > 1 else 1


class ActivationsProbe:
    def __init__(self, run: PreparedRun, params: ActivationsParams,
                 forward: NodeForward | None = None) -> None:
        self.run = run
        self.p = params
        self.x = np.ascontiguousarray(run.data.x_train[:params.batch])  # (B, F) fixed
        self.x_device = torch.from_numpy(self.x).to(run.device)
        self.forward = forward
        self.sampler = Sampler(params.sample_size)

    def sample(self) -> tuple[type[ActivationsSampled], dict[str, Any]]:
        model = self.run.model
        outputs = pass_outputs(model, self.x, self.x_device, self.forward)
        kinds: dict[str, str] = getattr(model, "kinds", {})
        nodes = [n for n in outputs if kinds.get(n) != "input"]
        scalars = self.scalars([(outputs[n], kinds.get(n, "")) for n in nodes])
        hists = histograms(nodes, [outputs[n] for n in nodes], self.p.bins, self.sampler)
        layers = []
        for node, row, hist in zip(nodes, scalars, hists, strict=True):
            layers.append(LayerActivations(
                node=node, kind=kinds.get(node, ""), units=width(outputs[node]),
                mean=finite(row[0:1])[0], std=finite(row[1:2])[0], hist=hist,
                dead_fraction=None if np.isnan(row[2]) else float(row[2]),
                saturated_fraction=None if np.isnan(row[3]) else float(row[3])))
        return ActivationsSampled, {"type": "activations_sampled", "batch": len(self.x),
                                    "layers": layers}

    def scalars(self, outs: list[tuple[Any, str]]) -> np.ndarray:
        """(nodes, 4) per `layer_scalars`, with one device-to-host transfer for torch's."""
        tol = self.p.tolerance
        if not outs:
            return np.zeros((0, 4))
        if isinstance(outs[0][0], np.ndarray):
            return np.stack([array_scalars(out, kind, tol) for out, kind in outs])
        return torch.stack([layer_scalars(out, kind, tol) for out, kind in outs]
                           ).double().cpu().numpy()


class NeuronMapsProbe:
    def __init__(self, run: PreparedRun, params: NeuronMapsParams,
                 forward: NodeForward | None = None) -> None:
        self.run = run
        self.p = params
        self.grid = run.data.grid(params.resolution)
        self.points = None if self.grid is None else torch.from_numpy(self.grid).to(run.device)
        self.forward = forward

    def sample(self) -> tuple[type[NeuronMapsComputed], dict[str, Any]] | None:
        data, model = self.run.data, self.run.model
        if self.grid is None or self.points is None or data.extent is None:
            return None
        outputs = pass_outputs(model, self.grid, self.points, self.forward)
        # every node the drawing shows a unit of: input, hidden and output alike
        nodes = [n for n, o in outputs.items()
                 if len(o.shape) == 2 and o.shape[1] <= self.p.max_units]
        if not nodes:
            return None
        maps = unit_rows([outputs[n] for n in nodes])  # (U, R*R)
        if not np.isfinite(maps).all():
            return None  # a diverging run reports itself; maps never carry NaN
        units = [u for n in nodes for u in range(width(outputs[n]))]
        owners = [n for n in nodes for _ in range(width(outputs[n]))]
        res = self.p.resolution
        return NeuronMapsComputed, {
            "type": "neuron_maps_computed", "resolution": res,
            "extent": tuple(float(v) for v in data.extent), "nodes": owners, "units": units,
            "values": maps.reshape(len(units), res, res)}  # (U, R, R), as the grid's rows


def unit_rows(outs: list[Any]) -> np.ndarray:
    """(units, points) float32, a fresh array: each node's (points, units) output, transposed
    and stacked (an overflow past float32 reads inf, and the maps are then not sent)."""
    if isinstance(outs[0], np.ndarray):
        return np.concatenate([o.T for o in outs], dtype=np.float32)  # one copy, not two
    return torch.cat([o.T for o in outs]).float().cpu().numpy()  # type: ignore[no-any-return]
