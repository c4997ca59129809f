"""The weights probe: every linear layer's weight matrix and bias as float32 arrays, so that a
front end can draw the network's links coloured and sized by weight while it trains
(TensorFlow Playground's picture). Small models only: past `max_params` parameters the
picture is unreadable and the frames heavy, so the probe stays silent.
May import: stdlib, numpy, torch, engine.core.events, engine.core.prepare and the probes' own
modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from engine.core.events import LayerWeights, WeightsSampled
from engine.core.run import PreparedRun
from engine.probes.registry import WeightsParams
from engine.probes.stats import FLOAT32_MAX, ParamTable


class WeightsProbe:
    def __init__(self, run: PreparedRun, params: WeightsParams, table: ParamTable) -> None:
        self.run = run
        self.p = params
        model = run.model
        layers: Any = getattr(model, "layers", {})
        self.linears: list[tuple[str, nn.Linear]] = [
            (node, layers[node]) for node in getattr(model, "order", [])
            if isinstance(layers[node], nn.Linear)]
        names = [f"{node}.{kind}" for node, m in self.linears for kind, t in
                 (("weight", m.weight), ("bias", m.bias)) if t is not None]
        at = {name: i for i, name in enumerate(table.names)}
        self.positions = [at[n] for n in names if n in at]  # in the parameter table
        size = sum(p.numel() for p in model.parameters() if p.requires_grad)
        self.active = bool(self.linears) and len(self.positions) == len(names) \
            and size <= params.max_params

    def sample(self, weights: list[Any]) -> tuple[type[WeightsSampled], dict[str, Any]] | None:
        """`weights`: every parameter in the table's order (see norms.weight_views)."""
        if not self.active:
            return None
        views = [weights[i] for i in self.positions]
        # one fresh float32 array for all (on a GPU, one transfer): the event's arrays are
        # views of it, so that training's next step cannot change them
        if isinstance(views[0], np.ndarray):
            flat = np.concatenate([v.reshape(-1) for v in views]).astype(np.float32)
        else:
            flat = torch.cat([t.detach().reshape(-1) for t in views]).float().cpu().numpy()
        if not np.isfinite(flat).all():  # NaN reads 0 and overflow ±3.4e38, as elsewhere
            flat = np.nan_to_num(flat, nan=0.0, posinf=FLOAT32_MAX, neginf=-FLOAT32_MAX)
        layers, at = [], 0
        for node, m in self.linears:
            out_f, in_f = m.weight.shape  # (out_features, in_features), torch's layout
            values = flat[at:at + out_f * in_f].reshape(out_f, in_f)  # (out, in)
            at += out_f * in_f
            bias = None
            if m.bias is not None:
                bias = flat[at:at + out_f]  # (out,)
                at += out_f
            layers.append(LayerWeights(node=node, shape=(out_f, in_f), values=values, bias=bias))
        return WeightsSampled, {"type": "weights_sampled", "layers": layers}
