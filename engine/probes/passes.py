"""The probe pass: a separate forward in eval mode without gradients on fixed inputs (a small
training batch, or the input plane's grid), so that frames compare over time and never touch
training. Forward hooks record each node's output; they exist only during the pass.

Activations: per node, mean, standard deviation, histogram, dead ReLU units and saturated
sigmoid/tanh outputs. Neuron maps: every hidden unit's output over the plane.
May import: stdlib, numpy, torch, engine.events, engine.prepare and the probes' own modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.events import ActivationsSampled, LayerActivations, NeuronMapsComputed
from engine.prepare import PreparedRun
from engine.probes.registry import ActivationsParams, NeuronMapsParams
from engine.probes.stats import Sampler, finite, histograms

NAN = float("nan")


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
        dead = 1 - alive.float().mean()
    if kind == "sigmoid":
        sat = ((f < tol) | (f > 1 - tol)).float().mean()
    elif kind == "tanh":
        sat = (f.abs() > 1 - tol).float().mean()
    return torch.stack([f.mean(), f.std(correction=0), dead, sat])


class ActivationsProbe:
    def __init__(self, run: PreparedRun, params: ActivationsParams) -> None:
        self.run = run
        self.p = params
        x = run.data.x_train[:params.batch]
        self.x = torch.from_numpy(np.ascontiguousarray(x)).to(run.device)  # (B, F) fixed
        self.sampler = Sampler(params.sample_size)

    def sample(self) -> tuple[type[ActivationsSampled], dict[str, Any]]:
        model = self.run.model
        outputs = probe_forward(model, self.x)
        kinds: dict[str, str] = getattr(model, "kinds", {})
        nodes = [n for n in outputs if kinds.get(n) != "input"]
        scalars = torch.stack([layer_scalars(outputs[n], kinds.get(n, ""), self.p.tolerance)
                               for n in nodes]).double().cpu().numpy() if nodes \
            else np.zeros((0, 4))
        hists = histograms(nodes, [outputs[n] for n in nodes], self.p.bins, self.sampler)
        layers = []
        for node, row, hist in zip(nodes, scalars, hists, strict=True):
            out = outputs[node]
            layers.append(LayerActivations(
                node=node, kind=kinds.get(node, ""), units=int(out.shape[1]) if out.dim() > 1
                else 1, mean=finite(row[0:1])[0], std=finite(row[1:2])[0], hist=hist,
                dead_fraction=None if np.isnan(row[2]) else float(row[2]),
                saturated_fraction=None if np.isnan(row[3]) else float(row[3])))
        return ActivationsSampled, {"type": "activations_sampled", "batch": len(self.x),
                                    "layers": layers}


class NeuronMapsProbe:
    def __init__(self, run: PreparedRun, params: NeuronMapsParams) -> None:
        self.run = run
        self.p = params
        grid = run.data.grid(params.resolution)
        self.points = None if grid is None else torch.from_numpy(grid).to(run.device)

    def sample(self) -> tuple[type[NeuronMapsComputed], dict[str, Any]] | None:
        data, model = self.run.data, self.run.model
        if self.points is None or data.extent is None:
            return None
        outputs = probe_forward(model, self.points)
        kinds: dict[str, str] = getattr(model, "kinds", {})
        out_node = getattr(model, "output", None) or list(outputs)[-1]
        nodes = [n for n, o in outputs.items() if kinds.get(n) != "input" and n != out_node
                 and o.dim() == 2 and o.shape[1] <= self.p.max_units]
        if not nodes:
            return None
        maps = torch.cat([outputs[n].T for n in nodes]).double().cpu().numpy()  # (U, R*R)
        if not np.isfinite(maps).all():
            return None  # a diverging run reports itself; maps never carry NaN
        units = [u for n in nodes for u in range(outputs[n].shape[1])]
        owners = [n for n in nodes for _ in range(outputs[n].shape[1])]
        return NeuronMapsComputed, {
            "type": "neuron_maps_computed", "resolution": self.p.resolution,
            "extent": tuple(float(v) for v in data.extent), "nodes": owners, "units": units,
            "values": maps.tolist()}
