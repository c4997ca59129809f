"""NumPy twins of the engine's activations, losses, gradient clipping and optimizers.

mlp.py strings them into a whole training step. Each twin follows its torch
counterpart's arithmetic (torch.nn.functional, torch.nn.utils.clip_grad_*_, torch.optim's
foreach kernels), so that the fused path and AutogradStep agree to float32 rounding;
tests/engine/families/fused/test_fused_mlp.py holds torch as the oracle. Everything works in place
on preallocated float32 buffers, because at batch 10 each NumPy call costs about as much as
the arithmetic it does.
May import: stdlib, numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

# --- activations --------------------------------------------------------------------------


Op = tuple[Callable[..., Any], tuple[Any, ...]]  # one NumPy call and its arguments


def where_positive(dst: np.ndarray, a: np.ndarray, value: float) -> Callable[[], None]:
    return lambda: np.copyto(dst, value, where=a > 0)


class Activation:
    """f and f' for one kind, as lists of NumPy calls on fixed buffers (see `Op`).

    f' is computed from f's output `a`, so that forward may overwrite its input. Backward
    scales g = ∂L/∂a in place into ∂L/∂x; `tmp` is scratch of g's shape.
    """

    def __init__(self, kind: str, module: Any) -> None:
        self.kind = kind
        self.slope = float(getattr(module, "negative_slope", 0.01))
        self.alpha = float(getattr(module, "alpha", 1.0))

    def forward_ops(self, x: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> list[Op]:
        k = self.kind
        if k == "tanh":
            return [(np.tanh, (x, out))]
        if k == "sigmoid":  # 1 / (1 + e^-x), as torch; e^-x may overflow to inf -> 0
            return [(np.negative, (x, out)), (np.exp, (out, out)), (np.add, (out, 1.0, out)),
                    (np.reciprocal, (out, out))]
        if k == "relu":
            return [(partial(np.maximum, out=out), (x, 0.0))]
        if k == "leaky_relu":  # max(x, s·x) is exactly x or s·x, for 0 <= s <= 1
            return [(np.multiply, (x, self.slope, tmp)), (partial(np.maximum, out=out), (x, tmp))]
        # elu: alpha·expm1(min(x, 0)) + max(x, 0), which cannot overflow
        return [(partial(np.minimum, out=tmp), (x, 0.0)), (np.expm1, (tmp, tmp)),
                (np.multiply, (tmp, self.alpha, tmp)), (partial(np.maximum, out=out), (x, 0.0)),
                (np.add, (out, tmp, out))]

    def backward_ops(self, g: np.ndarray, a: np.ndarray, tmp: np.ndarray) -> list[Op]:
        k = self.kind
        if k == "tanh":  # 1 - a²
            return [(np.multiply, (a, a, tmp)), (np.subtract, (1.0, tmp, tmp)),
                    (np.multiply, (g, tmp, g))]
        if k == "sigmoid":  # a·(1 - a)
            return [(np.subtract, (1.0, a, tmp)), (np.multiply, (tmp, a, tmp)),
                    (np.multiply, (g, tmp, g))]
        if k == "relu":  # torch passes the gradient where the output is > 0
            return [(np.greater, (a, 0.0, tmp)), (np.multiply, (g, tmp, g))]
        if k == "leaky_relu":  # a > 0 exactly where x > 0 (slope >= 0)
            return [(np.copyto, (tmp, self.slope)), (where_positive(tmp, a, 1.0), ()),
                    (np.multiply, (g, tmp, g))]
        # elu: torch's alpha·e^x equals a + alpha where x <= 0
        return [(np.add, (a, self.alpha, tmp)), (where_positive(tmp, a, 1.0), ()),
                (np.multiply, (g, tmp, g))]


# --- losses: the batch mean, and its gradient written into `d` when given ----------------------

LossFn = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], float]


def loss_function(name: str, margin: float) -> LossFn:
    """fn(out (B, O), targets, d) -> mean loss; d = ∂loss/∂out unless d is None."""
    if name == "hinge":
        return lambda out, y, d: hinge(margin, out, y, d)
    return {"mse": mse, "l1": l1, "cross_entropy": cross_entropy,
            "binary_cross_entropy": bce_with_logits}[name]


def mse(out: np.ndarray, y: np.ndarray, d: np.ndarray | None) -> float:
    diff = np.subtract(out, y, out=d) if d is not None else out - y  # (B, O)
    n = diff.size
    value = float(np.vdot(diff, diff)) / n
    if d is not None:
        np.multiply(d, 2.0 / n, d)
    return value


def l1(out: np.ndarray, y: np.ndarray, d: np.ndarray | None) -> float:
    diff = np.subtract(out, y, out=d) if d is not None else out - y  # (B, O)
    n = diff.size
    value = float(np.abs(diff).sum()) / n
    if d is not None:  # sign(0) = 0, as torch
        np.sign(d, out=d)
        np.multiply(d, 1.0 / n, d)
    return value


def hinge(margin: float, out: np.ndarray, y: np.ndarray, d: np.ndarray | None) -> float:
    """mean(max(0, margin - y·out)) with y = ±1 (one output)."""
    m = margin - y * out  # (B, 1)
    n = m.size
    value = float(np.maximum(m, 0.0).sum()) / n
    if d is not None:  # torch's clamp passes the gradient where m >= 0, the edge included
        np.multiply(y, -1.0 / n, out=d)
        d *= m >= 0
    return value


def cross_entropy(logits: np.ndarray, labels: np.ndarray, d: np.ndarray | None) -> float:
    """Softmax cross-entropy on (B, C) logits and (B,) class indices, shifted by the max."""
    b = logits.shape[0]
    rows = np.arange(b)
    shifted = logits - logits.max(axis=1, keepdims=True)  # (B, C)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)  # (B, 1)
    value = float((np.log(total[:, 0]) - shifted[rows, labels]).sum()) / b
    if d is not None:
        np.divide(e, total, out=d)
        d[rows, labels] -= 1.0
        d *= 1.0 / b
    return value


def bce_with_logits(x: np.ndarray, y: np.ndarray, d: np.ndarray | None) -> float:
    """max(x, 0) - x·y + log1p(e^-|x|), the stable form torch uses; y in {0, 1}."""
    n = x.size
    terms = np.maximum(x, 0.0) - x * y + np.log1p(np.exp(-np.abs(x)))
    value = float(terms.sum()) / n
    if d is not None:  # sigmoid(x) - y, over the mean's count
        np.negative(x, out=d)
        np.exp(d, out=d)
        d += 1.0
        np.reciprocal(d, out=d)
        d -= y
        d *= 1.0 / n
    return value


# --- gradient clipping, over all parameters together --------------------------------------


def clip_coefficient(flat: np.ndarray, sum_sq: float, max_norm: float, norm_type: float
                     ) -> float:
    """clip_grad_norm_'s factor min(1, max_norm / (total_norm + 1e-6))."""
    if norm_type == 2.0 and math.isfinite(sum_sq):
        total = math.sqrt(sum_sq)
    elif math.isinf(norm_type):
        total = float(np.abs(flat).max(initial=0.0))
    else:  # float64 keeps |g|^p from overflowing where torch's float32 norm would not
        total = float(np.sum(np.abs(flat, dtype=np.float64) ** norm_type) ** (1 / norm_type))
    return min(max_norm / (total + 1e-6), 1.0)


# --- optimizers: the flat update to add to the flat parameters --------------------------------


class FlatOptimizer:
    """torch.optim's arithmetic over one flat gradient vector (every parameter together).

    `weight_decay` (folded into the gradient, torch's L2 form) and `decoupled_decay`
    (AdamW: w *= 1 - lr·decay) need the parameters, so the caller applies them.
    """

    weight_decay = 0.0
    decoupled_decay = 0.0

    def __init__(self, name: str, p: Any, size: int) -> None:
        self.name = name
        self.p = p
        self.t = 0
        self.tmp = np.zeros(size, np.float32)
        # one block, so that the compiled kernel (kernel.py) takes them in one argument
        self.state = np.zeros((3, size), np.float32)
        self.s1 = self.state[0]  # momentum buffer / first moment / sum of g²
        self.s2 = self.state[1]  # second moment / RMSprop's mean gradient
        self.s3 = self.state[2]  # RMSprop's momentum buffer
        decay = float(getattr(p, "weight_decay", 0.0))
        if name == "adamw":
            self.decoupled_decay = decay
        else:
            self.weight_decay = decay
        self.delta = {"sgd": self.sgd, "momentum": self.momentum, "nesterov": self.momentum,
                      "adam": self.adam, "adamw": self.adam, "adagrad": self.adagrad,
                      "rmsprop": self.rmsprop}[name]

    def sgd(self, g: np.ndarray, lr: float) -> np.ndarray:
        g *= -lr
        return g

    def momentum(self, g: np.ndarray, lr: float) -> np.ndarray:
        m = float(self.p.momentum)
        if m == 0:
            return self.sgd(g, lr)
        buf, self.t = self.s1, self.t + 1
        if self.t == 1:  # torch starts the buffer at the first gradient
            np.copyto(buf, g)
        else:
            buf *= m
            damp = float(getattr(self.p, "dampening", 0.0))
            if damp:
                np.multiply(g, 1 - damp, out=self.tmp)
                buf += self.tmp
            else:
                buf += g
        if self.name == "nesterov":
            np.multiply(buf, m, out=self.tmp)
            g += self.tmp
        else:
            np.copyto(g, buf)
        g *= -lr
        return g

    def adam(self, g: np.ndarray, lr: float) -> np.ndarray:
        b1, b2 = (float(b) for b in self.p.betas)
        m, v, tmp = self.s1, self.s2, self.tmp
        self.t += 1
        np.subtract(g, m, out=tmp)  # lerp: m += (1 - b1)·(g - m)
        tmp *= 1 - b1
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        step_size = lr / (1 - b1**self.t)
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1 - b2**self.t)
        tmp += self.p.eps
        np.divide(m, tmp, out=g)
        g *= -step_size
        return g

    def adagrad(self, g: np.ndarray, lr: float) -> np.ndarray:
        total, tmp = self.s1, self.tmp
        self.t += 1
        clr = lr / (1 + (self.t - 1) * float(self.p.lr_decay))
        np.multiply(g, g, out=tmp)
        total += tmp
        np.sqrt(total, out=tmp)
        tmp += self.p.eps
        g /= tmp
        g *= -clr
        return g

    def rmsprop(self, g: np.ndarray, lr: float) -> np.ndarray:
        p, sq, avg, buf, tmp = self.p, self.s1, self.s2, self.s3, self.tmp
        alpha = float(p.alpha)
        sq *= alpha
        np.multiply(g, g, out=tmp)
        tmp *= 1 - alpha
        sq += tmp
        if p.centered:  # avg = lerp(avg, g, 1 - alpha); denominator from sq - avg²
            np.subtract(g, avg, out=tmp)
            tmp *= 1 - alpha
            avg += tmp
            np.multiply(avg, avg, out=tmp)
            np.subtract(sq, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(sq, out=tmp)
        tmp += p.eps
        if p.momentum > 0:
            g /= tmp
            buf *= p.momentum
            buf += g
            np.multiply(buf, -lr, out=g)
        else:
            g /= tmp
            g *= -lr
        return g
