"""The fused step's whole chunk as one compiled call: for each step, gather the batch, forward,
loss, backward, penalty, per-parameter sums of squares, finiteness check, clipping, capture
and update, exactly in FusedMLPStep.one_step's order, without returning to Python between
steps (at batch 10 the NumPy step spent ~26 µs in ~30 calls; this one a few µs).

Tables and buffers (packed by kernel.CompiledChunk; matrices are row-major blocks of
flat float32 buffers, as in kernel_ops.py):
- `net` = (ops (K, 3): kind, dense index, output width; opf (K,): activation parameter;
  dense (D, 4): out, in, weight offset, bias offset (-1: none), in `w` and `g` alike;
  poff (P + 1,): parameter offsets; aoff (K + 1,): where region r starts in `acts` and
  `grads` (region 0 is the batch x, region k + 1 op k's output, or ∂L/∂ it in `grads`);
  rw (K + 1,): region widths; the first dense op; cfg (see kernel_update)).
- `bufs` = (w flat parameters, g flat gradient, acts, grads, st (3, P) optimizer buffers,
  ti (1,) optimizer step count).
- `plan` = (idx: the chunk's batches concatenated, their sizes (S,), lrs (S,), sample (S,),
  the step that captures its gradients (-1: none)).
- `out` = (losses (S,), correct (S,), rows (sampled + 1, P): sums of squares of the sampled
  steps, the last row scratch; captured (P,)).
Returns (steps done, fault): fault -1 is none, -2 a non-finite loss, d >= 0 dense layer d's
non-finite gradient; the faulty step applied nothing.
May import: stdlib, numpy, numba, engine.families.fused.kernel_ops,
engine.families.fused.kernel_update.
"""

from __future__ import annotations

import numpy as np

from engine.families.fused.kernel_ops import (
    DENSE,
    activation_backward,
    activation_forward,
    correct_count,
    dense_backward,
    dense_forward,
    jit,
    loss_and_gradient,
)
from engine.families.fused.kernel_update import (
    L1,
    L2,
    LOSS,
    MARGIN,
    add_penalty,
    clip,
    first_nonfinite,
    sums_of_squares,
    update,
)

NO_FAULT, LOSS_FAULT = -1, -2


@jit
def run_chunk(data, net, bufs, plan, out):
    idx, sizes, lrs, sample, capture_at = plan
    losses, correct, rows, captured = out
    labels, aoff, rw = data[3], net[4], net[5]
    acts, last = bufs[2], len(aoff) - 1
    sampled = at = 0
    for s in range(len(lrs)):
        batch = idx[at:at + sizes[s]]
        at += sizes[s]
        row = rows[sampled] if sample[s] else rows[rows.shape[0] - 1]
        sampled += 1 if sample[s] else 0
        loss, fault = one_step(data, net, bufs, batch, lrs[s], row, s == capture_at, captured)
        if fault != NO_FAULT:
            return s, fault
        losses[s] = loss
        if labels.size:  # the forward's output is still in its region
            correct[s] = correct_count(acts, aoff[last], rw[last], labels, batch)
    return len(lrs), NO_FAULT


@jit
def one_step(data, net, bufs, batch, lr, row, capture, captured):
    x_all, yf, yi = data[0], data[1], data[2]
    dense, poff, aoff, rw, cfg = net[2], net[3], net[4], net[5], net[7]
    w, g, acts, grads, st, ti = bufs
    b, last, n_in = len(batch), len(aoff) - 1, x_all.shape[1]
    for i in range(b):  # region 0: the batch
        for j in range(n_in):
            acts[i * n_in + j] = x_all[batch[i], j]
    forward(net, w, acts, b)
    loss = loss_and_gradient(int(cfg[LOSS]), cfg[MARGIN], acts, aoff[last], yf, yi, batch,
                             grads, aoff[last], rw[last])
    if not np.isfinite(loss):
        return loss, LOSS_FAULT
    backward(net, w, g, acts, grads, b)
    if cfg[L1] != 0.0 or cfg[L2] != 0.0:
        add_penalty(cfg, dense, w, g)
    sum_sq = sums_of_squares(g, poff, row)  # the probes' norms and the finiteness check
    if not np.isfinite(sum_sq):
        bad = first_nonfinite(dense, g)
        if bad >= 0:
            return loss, bad
    clip(cfg, g, sum_sq)
    if capture:
        for j in range(g.size):
            captured[j] = g[j]
    update(cfg, w, g, st, ti, lr)
    return loss, NO_FAULT


@jit
def forward(net, w, acts, b):
    ops, opf, dense, aoff, rw = net[0], net[1], net[2], net[4], net[5]
    for k in range(len(ops)):
        if ops[k, 0] == DENSE:
            d = ops[k, 1]
            dense_forward(acts, aoff[k], aoff[k + 1], w, dense[d, 2], dense[d, 3], b,
                          dense[d, 1], dense[d, 0])
        else:
            activation_forward(ops[k, 0], opf[k], acts, aoff[k], aoff[k + 1], b * rw[k + 1])


@jit
def backward(net, w, g, acts, grads, b):
    """From ∂L/∂output (grads' last region) back to the first dense layer's gradients."""
    ops, opf, dense, aoff, rw, first = net[0], net[1], net[2], net[4], net[5], net[6]
    k = len(ops) - 1
    while k >= first:
        go, dxo = aoff[k + 1], aoff[k] if k > first else -1
        if ops[k, 0] == DENSE:
            d = ops[k, 1]
            wo, bo = dense[d, 2], dense[d, 3]  # the gradient's layout is the parameters'
            dense_backward(acts, aoff[k], grads, go, dxo, w, wo, g, wo, bo, b, dense[d, 1],
                           dense[d, 0])
        else:
            activation_backward(ops[k, 0], opf[k], acts, aoff[k + 1], grads, go, dxo,
                                b * rw[k + 1])
        k -= 1
