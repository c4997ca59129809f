"""Compiled twins of ops.py's layers, activations and losses: numba loops over one step's
buffers, for the whole-chunk kernel in chunk.py (kernel_update.py holds the
gradient side: penalties, clipping, optimizers).

Every array here is a flat float32 buffer and every matrix a row-major block of one at an
offset (x at `xo` is (B, I): element (i, k) at xo + i·I + k), because numba builds a new array
object for each reshaped view (~70 ns here, more than a whole 8 x 8 layer's work at batch 10).
Each loop does ops.py's arithmetic in the same float32 order (scalars cast to float32
where NumPy's weak Python scalars are), so the two paths agree to float32 rounding and torch
stays the oracle of both (tests/engine/families/fused/test_fused_kernel.py). Sums of a loss are
float64, and NaN and inf propagate as in NumPy: no `fastmath` flag that assumes finite values
is used, since
the divergence checks must see them. `error_model="numpy"`: x/0 is inf, not an exception.
May import: stdlib, numpy, numba.
"""

from __future__ import annotations

import math

import numba  # type: ignore[import-untyped]
import numpy as np

F32 = np.float32
jit = numba.njit(cache=True, nogil=True, error_model="numpy")
# Reassociation only, for the dot products of the forward pass (LLVM may then vectorise them);
# the backward pass accumulates in the order NumPy's loop would, and needs no flag.
jit_dot = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})

# op kinds (kernel.KINDS maps the engine's names onto them)
DENSE, TANH, SIGMOID, RELU, LEAKY_RELU, ELU = 0, 1, 2, 3, 4, 5
# losses
MSE, L1, CROSS_ENTROPY, BCE, HINGE = 0, 1, 2, 3, 4


# --- dense layers: w (O, I) row-major, as torch.nn.Linear keeps it --------------------------


@jit_dot
def dense_forward(a, xo, oo, w, wo, bo, b, n_in, n_out):
    """a[oo] (B, O) = a[xo] (B, I) @ w[wo] (O, I).T + w[bo] (O,); bo < 0: no bias."""
    for i in range(b):
        xi, oi = xo + i * n_in, oo + i * n_out
        for o in range(n_out):
            wr = wo + o * n_in
            s = F32(0.0)
            for k in range(n_in):
                s += a[xi + k] * w[wr + k]
            a[oi + o] = s + w[bo + o] if bo >= 0 else s


@jit
def dense_backward(a, xo, d, go, dxo, w, wo, g, gwo, gbo, b, n_in, n_out):
    """From d[go] = ∂L/∂out (B, O): g[gwo] (O, I) = d.T @ a[xo], g[gbo] (O,) = d summed over
    rows (gbo >= 0), and d[dxo] (B, I) = d @ w[wo] (dxo >= 0). Axpys over contiguous rows,
    the first one assigning, in the order NumPy's loops add."""
    for i in range(b):
        xi, di = xo + i * n_in, go + i * n_out
        for o in range(n_out):
            do, gr = d[di + o], gwo + o * n_in
            if i == 0:
                for k in range(n_in):
                    g[gr + k] = do * a[xi + k]
            else:
                for k in range(n_in):
                    g[gr + k] += do * a[xi + k]
            if gbo >= 0:
                g[gbo + o] = do if i == 0 else g[gbo + o] + do
    if dxo >= 0:
        for i in range(b):
            di, xi = go + i * n_out, dxo + i * n_in
            for k in range(n_in):
                d[xi + k] = d[di] * w[wo + k]
            for o in range(1, n_out):
                do, wr = d[di + o], wo + o * n_in
                for k in range(n_in):
                    d[xi + k] += do * w[wr + k]


# --- activations: f, and f' from f's output ------------------------------------------------


@jit
def activation_forward(kind, param, a, xo, oo, n):
    """a[oo + j] = f(a[xo + j]) for n elements; `param` is leaky_relu's slope or elu's alpha.
    One loop per kind: a branch inside the loop would keep it from vectorising."""
    p, one, zero = F32(param), F32(1.0), F32(0.0)
    if kind == TANH:
        for j in range(n):
            a[oo + j] = tanh(a[xo + j])
    elif kind == SIGMOID:  # e^-x may overflow to inf -> 0, as NumPy's
        for j in range(n):
            a[oo + j] = one / (one + np.exp(-a[xo + j]))
    elif kind == RELU:  # NaN stays NaN, as np.maximum's
        for j in range(n):
            v = a[xo + j]
            a[oo + j] = zero if v < zero else v
    elif kind == LEAKY_RELU:
        for j in range(n):
            v = a[xo + j]
            a[oo + j] = v * p if v < zero else v
    else:  # elu: alpha·expm1(min(x, 0)) + max(x, 0)
        for j in range(n):
            v = a[xo + j]
            a[oo + j] = v if v > zero else p * np.expm1(v)


@jit
def tanh(v):
    """tanh in float64 through expm1, rounded once: within half a float32 ulp as measured,
    and a third cheaper than np.tanh's float32 call here."""
    x = float(v)
    if abs(x) > 20.0:  # expm1 would overflow; tanh is ±1 in float32 well before
        return F32(1.0) if x > 0.0 else F32(-1.0)
    e = math.expm1(2.0 * x)
    return F32(e / (e + 2.0))


@jit
def activation_backward(kind, param, a, ao, d, go, dxo, n):
    """d[dxo + j] = d[go + j] · f'(x), with f' from the output a[ao + j]."""
    p, one, zero = F32(param), F32(1.0), F32(0.0)
    if kind == TANH:  # 1 - a²
        for j in range(n):
            v = a[ao + j]
            d[dxo + j] = d[go + j] * (one - v * v)
    elif kind == SIGMOID:  # a·(1 - a)
        for j in range(n):
            v = a[ao + j]
            d[dxo + j] = d[go + j] * ((one - v) * v)
    elif kind == RELU:  # torch passes the gradient where the output is > 0
        for j in range(n):
            d[dxo + j] = d[go + j] * (one if a[ao + j] > zero else zero)
    elif kind == LEAKY_RELU:
        for j in range(n):
            d[dxo + j] = d[go + j] * (one if a[ao + j] > zero else p)
    else:  # elu: torch's alpha·e^x equals a + alpha where x <= 0
        for j in range(n):
            v = a[ao + j]
            d[dxo + j] = d[go + j] * (one if v > zero else v + p)


# --- losses: the batch mean (float64), its gradient into d[go] (B, O) ----------------------


@jit
def loss_and_gradient(code, margin, a, oo, yf, yi, rows, d, go, o):
    """Outputs a[oo] (B, O); targets: rows `rows` of yf (N, O) or, for cross-entropy, yi (N,)."""
    b = len(rows)
    if code == CROSS_ENTROPY:
        return cross_entropy(a, oo, yi, rows, d, go, o)
    n = b * o
    total = 0.0
    mse_c, l1_c, hinge_c, bce_c = F32(2.0 / n), F32(1.0 / n), F32(-1.0 / n), F32(1.0 / n)
    m0, one, zero = F32(margin), F32(1.0), F32(0.0)
    for i in range(b):
        for j in range(o):
            x, y, at = a[oo + i * o + j], yf[rows[i], j], go + i * o + j
            if code == MSE:
                diff = x - y
                total += float(diff) * float(diff)
                d[at] = diff * mse_c
            elif code == L1:  # sign(0) = 0, as torch
                diff = x - y
                total += abs(float(diff))
                d[at] = np.sign(diff) * l1_c
            elif code == HINGE:  # torch's clamp passes the gradient where m >= 0
                m = m0 - y * x
                if not m <= zero:  # NaN too, as np.maximum
                    total += float(m)
                d[at] = y * hinge_c if m >= zero else zero
            else:  # BCE on logits: max(x, 0) - x·y + log1p(e^-|x|); d = sigmoid(x) - y
                pos = x if x > zero else zero
                total += float(pos - x * y + np.log1p(np.exp(-abs(x))))
                d[at] = (one / (one + np.exp(-x)) - y) * bce_c
    return total / n


@jit
def cross_entropy(a, oo, labels, rows, d, go, c):
    """Softmax cross-entropy over (B, C) logits at a[oo], shifted by each row's max."""
    b = len(rows)
    scale = F32(1.0 / b)
    total = 0.0
    for i in range(b):
        li, di = oo + i * c, go + i * c
        top = a[li]
        for j in range(1, c):
            if a[li + j] > top:
                top = a[li + j]
        s = F32(0.0)
        for j in range(c):
            e = np.exp(a[li + j] - top)
            d[di + j] = e
            s += e
        label = labels[rows[i]]
        total += float(np.log(s) - (a[li + label] - top))
        for j in range(c):
            d[di + j] = d[di + j] / s
        d[di + label] -= F32(1.0)
        for j in range(c):
            d[di + j] *= scale
    return total / b


@jit
def correct_count(a, oo, o, labels, rows):
    """Right predictions among outputs a[oo] (B, O): sign of one score, else the first
    arg-max."""
    right = 0
    for i in range(len(rows)):
        at = oo + i * o
        pred = 1 if a[at] > 0 else 0
        if o > 1:
            pred = 0
            for j in range(1, o):
                if a[at + j] > a[at + pred]:
                    pred = j
        if pred == labels[rows[i]]:
            right += 1
    return right
