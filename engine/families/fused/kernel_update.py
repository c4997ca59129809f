"""Compiled twins of the fused step's gradient side (ops.py's FlatOptimizer and
clipping, mlp.py's penalty and finiteness check): numba loops over the flat parameter
vector `w` and the flat gradient `g`, which share one layout (`poff`: parameter p is
[poff[p], poff[p + 1]), in forward order). The whole-chunk kernel in kernel.py calls them.

The scalars of a run travel in one float64 vector `cfg` (the indices below), so that a single
compiled signature serves every loss, optimizer and clipping choice (a compile is seconds);
`cfg` is packed by kernel.settings().
May import: stdlib, numpy, numba, engine.families.fused.kernel_ops.
"""

from __future__ import annotations

import math

import numba  # type: ignore[import-untyped]
import numpy as np

from engine.families.fused.kernel_ops import F32, jit

# cfg indices
(LOSS, MARGIN, L1, L2, CLIP, MAX_NORM, NORM_TYPE, CLIP_VALUE, OPT, MOMENTUM, DAMPENING,
 BETA1, BETA2, EPS, LR_DECAY, ALPHA, CENTERED, WEIGHT_DECAY, DECOUPLED) = range(19)
CFG_SIZE = 19
CLIP_NONE, CLIP_NORM, CLIP_VALUE_CODE = 0, 1, 2
SGD, MOMENTUM_SGD, NESTEROV, ADAM, ADAMW, ADAGRAD, RMSPROP = 0, 1, 2, 3, 4, 5, 6

jit_sum = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})


@jit
def add_penalty(cfg, dense, w, g):
    """g += l1·sign(w) + l2·w on the weight matrices (layer d's: dense[d] = out, in, weight
    offset, bias offset)."""
    l1, l2 = F32(cfg[L1]), F32(cfg[L2])
    for d in range(dense.shape[0]):
        wo = dense[d, 2]
        for j in range(wo, wo + dense[d, 0] * dense[d, 1]):
            if cfg[L1] != 0.0:
                g[j] += np.sign(w[j]) * l1
            if cfg[L2] != 0.0:
                g[j] += w[j] * l2


@jit_sum
def sums_of_squares(g, poff, row):
    """row[p] = Σ g² over parameter p, in float64 (no overflow); returns their total."""
    total = 0.0
    for p in range(len(poff) - 1):
        s = 0.0
        for j in range(poff[p], poff[p + 1]):
            v = float(g[j])
            s += v * v
        row[p] = s
        total += s
    return total


@jit
def first_nonfinite(dense, g):
    """The first dense layer (forward order) with a non-finite gradient component, or -1."""
    for d in range(dense.shape[0]):
        n_out, wo, bo = dense[d, 0], dense[d, 2], dense[d, 3]
        end = bo + n_out if bo >= 0 else wo + n_out * dense[d, 1]
        for j in range(wo, end):
            if not np.isfinite(g[j]):
                return d
    return -1


@jit
def clip(cfg, g, sum_sq):
    """clip_grad_norm_ (by min(1, max_norm / (norm + 1e-6))) or clip_grad_value_, in place."""
    code = int(cfg[CLIP])
    if code == CLIP_NORM:
        p = cfg[NORM_TYPE]
        if p == 2.0 and np.isfinite(sum_sq):
            total = math.sqrt(sum_sq)
        elif np.isinf(p):
            total = 0.0
            for j in range(g.size):
                total = max(total, abs(float(g[j])))
        else:
            acc = 0.0
            for j in range(g.size):
                acc += abs(float(g[j])) ** p
            total = acc ** (1.0 / p)
        coef = F32(min(cfg[MAX_NORM] / (total + 1e-6), 1.0))
        for j in range(g.size):  # torch multiplies even by 1.0
            g[j] *= coef
    elif code == CLIP_VALUE_CODE:
        v = F32(cfg[CLIP_VALUE])
        for j in range(g.size):
            if g[j] > v:
                g[j] = v
            elif g[j] < -v:
                g[j] = -v


@jit
def update(cfg, w, g, st, ti, lr):
    """torch.optim's step: the delta into g (as FlatOptimizer), then w += g. st (3, P) holds
    the optimizer's buffers (FlatOptimizer's s1, s2, s3) and ti[0] its step count."""
    if cfg[WEIGHT_DECAY] != 0.0:  # torch folds weight_decay into every gradient
        wd = F32(cfg[WEIGHT_DECAY])
        for j in range(g.size):
            g[j] += w[j] * wd
    opt = int(cfg[OPT])
    if opt == SGD or (opt in (MOMENTUM_SGD, NESTEROV) and cfg[MOMENTUM] == 0.0):
        scale(g, -lr)
    elif opt in (MOMENTUM_SGD, NESTEROV):
        momentum(cfg, g, st[0], ti, lr, opt == NESTEROV)
    elif opt in (ADAM, ADAMW):
        adam(cfg, g, st[0], st[1], ti, lr)
    elif opt == ADAGRAD:
        adagrad(cfg, g, st[0], ti, lr)
    else:
        rmsprop(cfg, g, st[0], st[1], st[2], lr)
    if cfg[DECOUPLED] != 0.0:  # AdamW: w *= 1 - lr·decay
        keep = F32(1.0 - lr * cfg[DECOUPLED])
        for j in range(w.size):
            w[j] *= keep
    for j in range(w.size):
        w[j] += g[j]


@jit
def scale(g, factor):
    f = F32(factor)
    for j in range(g.size):
        g[j] *= f


@jit
def momentum(cfg, g, buf, ti, lr, nesterov):
    m = F32(cfg[MOMENTUM])
    ti[0] += 1
    if ti[0] == 1:  # torch starts the buffer at the first gradient
        for j in range(g.size):
            buf[j] = g[j]
    else:
        damp = cfg[DAMPENING]
        keep = F32(1.0 - damp)
        for j in range(g.size):
            buf[j] *= m
            buf[j] += g[j] * keep if damp != 0.0 else g[j]
    for j in range(g.size):
        g[j] = g[j] + buf[j] * m if nesterov else buf[j]
    scale(g, -lr)


@jit
def adam(cfg, g, m, v, ti, lr):
    b1, b2 = cfg[BETA1], cfg[BETA2]
    ti[0] += 1
    t = ti[0]
    c1, c2, fb2 = F32(1.0 - b1), F32(1.0 - b2), F32(b2)
    corr2, eps = F32(math.sqrt(1.0 - b2**t)), F32(cfg[EPS])
    step = F32(-(lr / (1.0 - b1**t)))
    for j in range(g.size):
        gj = g[j]
        m[j] += (gj - m[j]) * c1  # lerp, as torch
        v[j] *= fb2
        v[j] += (gj * gj) * c2
        g[j] = (m[j] / (np.sqrt(v[j]) / corr2 + eps)) * step


@jit
def adagrad(cfg, g, total, ti, lr):
    ti[0] += 1
    clr = F32(-(lr / (1.0 + (ti[0] - 1) * cfg[LR_DECAY])))
    eps = F32(cfg[EPS])
    for j in range(g.size):
        total[j] += g[j] * g[j]
        g[j] = (g[j] / (np.sqrt(total[j]) + eps)) * clr


@jit
def rmsprop(cfg, g, sq, avg, buf, lr):
    fa, ca = F32(cfg[ALPHA]), F32(1.0 - cfg[ALPHA])
    eps, mom, nlr = F32(cfg[EPS]), F32(cfg[MOMENTUM]), F32(-lr)
    centered = cfg[CENTERED] != 0.0
    for j in range(g.size):
        gj = g[j]
        sq[j] *= fa
        sq[j] += (gj * gj) * ca
        if centered:  # avg = lerp(avg, g, 1 - alpha); denominator from sq - avg²
            avg[j] += (gj - avg[j]) * ca
            den = np.sqrt(sq[j] - avg[j] * avg[j]) + eps
        else:
            den = np.sqrt(sq[j]) + eps
        if cfg[MOMENTUM] > 0.0:
            buf[j] = buf[j] * mom + gj / den
            g[j] = buf[j] * nlr
        else:
            g[j] = (gj / den) * nlr
