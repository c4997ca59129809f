"""The fused step's parts: `Dense`, a linear layer as views of its torch parameters, and
`Workspace`, the buffers for one batch size with the step compiled against them into flat
lists of NumPy calls. mlp.py drives them.
May import: stdlib, numpy, torch, engine.families.fused.ops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from engine.families.fused.ops import Activation, Op

if TYPE_CHECKING:
    from engine.families.fused.mlp import FusedMLPStep


class Dense:
    """One linear layer: views of its torch parameters and of its slices of the flat gradient."""

    def __init__(self, node_id: str, module: torch.nn.Linear) -> None:
        self.node_id = node_id
        self.module = module
        self.has_bias = module.bias is not None
        self.out_features = int(module.out_features)
        empty: np.ndarray = np.zeros(0, np.float32)
        self.w, self.w_t, self.b, self.gw, self.gb = empty, empty, empty, empty, empty

    def params(self) -> list[torch.Tensor]:
        return [self.module.weight] + ([self.module.bias] if self.module.bias is not None else [])

    def bind(self, flat: np.ndarray, offset: int) -> int:
        """Views of the parameters' memory, and gradient slices from `offset` on."""
        views = [p.detach().numpy() for p in self.params()]
        self.w, self.w_t = views[0], views[0].T  # (O, I), (I, O)
        grads = []
        for v in views:
            grads.append(flat[offset:offset + v.size].reshape(v.shape))
            offset += v.size
        self.gw = grads[0]
        if self.has_bias:
            self.b, self.gb = views[1], grads[1]
        return offset

    def forward_ops(self, x: np.ndarray, out: np.ndarray) -> list[Op]:
        ops: list[Op] = [(np.dot, (x, self.w_t, out))]  # (B, I) @ (I, O)
        if self.has_bias:
            ops.append((np.add, (out, self.b, out)))
        return ops

    def backward_ops(self, g: np.ndarray, x: np.ndarray, dx: np.ndarray | None) -> list[Op]:
        """Weight and bias gradients from g = ∂L/∂out (B, O); dx = ∂L/∂x unless None."""
        ops: list[Op] = [(np.dot, (g.T, x, self.gw))]  # (O, B) @ (B, I)
        if self.has_bias:
            ops.append((np.add.reduce, (g, 0, None, self.gb)))
        if dx is not None:
            ops.append((np.dot, (g, self.w, dx)))  # (B, O) @ (O, I)
        return ops


class Workspace:
    """Buffers for one batch size, and the step compiled against them into flat lists of
    NumPy calls (no per-layer Python in the loop). An epoch's last batch may be shorter;
    `train=False` leaves out what only the backward pass needs, and `keep=True` gives every
    op an output buffer of its own (the probes read each layer's output)."""

    def __init__(self, step: FusedMLPStep, b: int, train: bool = True, keep: bool = False
                 ) -> None:
        f32, ops, widths = np.float32, step.ops, step.widths
        self.x = np.empty((b, step.in_features), f32)
        self.y = np.empty((b, *step.y_train.shape[1:]), step.y_train.dtype)
        self.outs: list[np.ndarray] = []
        for k, op in enumerate(ops):
            # f' comes from f's output, so an activation may overwrite the linear output
            # before it (nothing else reads that); after another activation it may not.
            in_place = not keep and k > 0 and isinstance(op, Activation) \
                and isinstance(ops[k - 1], Dense)
            self.outs.append(self.outs[-1] if in_place else np.empty((b, widths[k]), f32))
        self.ins = [self.x, *self.outs[:-1]]
        self.out = self.outs[-1]  # (B, O)
        self.dout = np.empty((b, widths[-1]) if train else (0, 0), f32)
        self.tmps = [np.empty((b, w) if isinstance(op, Activation) else (0, 0), f32)
                     for op, w in zip(ops, widths, strict=True)]  # activations' scratch
        self.forward = [call for k, op in enumerate(ops) for call in (
            op.forward_ops(self.ins[k], self.outs[k]) if isinstance(op, Dense)
            else op.forward_ops(self.ins[k], self.outs[k], self.tmps[k]))]
        self.backward = self.compile_backward(step, b) if train else []

    def compile_backward(self, step: FusedMLPStep, b: int) -> list[Op]:
        calls: list[Op] = []
        g = self.dout  # ∂L/∂(op k's output), walking back to the first linear layer
        for k in range(len(step.ops) - 1, step.first_dense - 1, -1):
            op = step.ops[k]
            if isinstance(op, Dense):
                dx = np.empty(self.ins[k].shape, np.float32) if k > step.first_dense else None
                calls += op.backward_ops(g, self.ins[k], dx)
                g = dx if dx is not None else g
            else:
                calls += op.backward_ops(g, self.outs[k], self.tmps[k])
        return calls


def layer_widths(ops: list[Dense | Activation], in_features: int) -> list[int]:
    widths, width = [], in_features
    for op in ops:
        if isinstance(op, Dense):
            width = op.out_features
        widths.append(width)
    return widths
