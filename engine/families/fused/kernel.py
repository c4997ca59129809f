"""The compiled kernel of the fused MLP step: when numba is importable and a net is small enough
that NumPy's per-call cost dominates its step, FusedMLPStep hands each chunk to one compiled
call (chunk.py) instead of ~30 NumPy calls a step; otherwise it keeps its NumPy code.

`CompiledChunk` packs a FusedMLPStep's layers, choices and buffers into the kernel's tables
once, and per chunk copies the parameters in and out of one flat vector (the weights stay in
the torch model between chunks, where probes, checkpoints and evaluation read them), runs the
chunk and builds the StepOutcome. numba compiles with `cache=True`: once per machine, then
each process loads the cached code (`ensure_compiled`, which warmup.warm_up calls, pays that
while a worker is idle). `LIVEGRAD_FUSED_KERNEL=numpy` turns the kernel off.
May import: stdlib, numpy, engine.families.fused.ops, engine.families.fused.workspace,
engine.core.steps, and numba with the kernel_*/chunk modules lazily (the engine works without them).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.core.steps import Divergence, Recording, StepOutcome
from engine.families.fused.ops import Activation
from engine.families.fused.workspace import Dense

if TYPE_CHECKING:
    from engine.families.fused.mlp import FusedMLPStep

log = logging.getLogger(__name__)
KINDS = {"tanh": 1, "sigmoid": 2, "relu": 3, "leaky_relu": 4, "elu": 5}  # kernel_ops'
LOSSES = {"mse": 0, "l1": 1, "cross_entropy": 2, "binary_cross_entropy": 3, "hinge": 4}
OPTIMIZERS = {"sgd": 0, "momentum": 1, "nesterov": 2, "adam": 3, "adamw": 4, "adagrad": 5,
              "rmsprop": 6}
CLIPS = {"none": 0, "norm": 1, "value": 2}
# Above this many multiply-adds a step (batch x Σ in·out), BLAS through NumPy beats the
# kernel's plain loops (~0.25 ns each): measured on a 784-h-10 ReLU MLP, compiled against
# NumPy, 2.7x at 64k (h 8, batch 10), 1.4x at 0.8M, 1.0x at 1.6M, 0.64x at 3.5M, 0.45x at
# 17M (784-256-256-10, batch 64). TensorFlow Playground's nets take a few thousand.
MAX_MACS = 1_000_000
SOURCES = ("kernel_ops.py", "kernel_update.py", "chunk.py")  # compiled
_state: dict[str, Any] = {}  # "chunk": the compiled run_chunk, or "error": why there is none
_lock = threading.Lock()


def kernel_reason(step: FusedMLPStep) -> str | None:
    """None when the compiled kernel should run this step's chunks, else why not."""
    if os.environ.get("LIVEGRAD_FUSED_KERNEL", "").lower() in ("numpy", "0", "off"):
        return "turned off by LIVEGRAD_FUSED_KERNEL"
    widths = [step.in_features, *(d.out_features for d in step.dense)]
    pairs = zip(widths, widths[1:], strict=False)
    macs = step.run.spec.training.batch_size * sum(a * b for a, b in pairs)
    if macs > MAX_MACS:
        return f"{macs:,} multiply-adds a step: NumPy's BLAS is faster"
    return None if ensure_compiled() else _state["error"]


def ensure_compiled() -> bool:
    """Import (and on a machine's first use compile) the kernel; False where it cannot be."""
    with _lock:  # runs may start in threads: one compile, and no half-set state
        if "chunk" in _state or "error" in _state:
            return "chunk" in _state
        try:
            _state["chunk"] = _import_kernel()
            _self_test()
        except Exception as exc:  # numba missing or failing: the NumPy path serves
            _state.pop("chunk", None)
            _state["error"] = f"the compiled kernel is unavailable ({type(exc).__name__}: {exc})"
            log.warning("%s; the fused step uses NumPy", _state["error"])
            return False
        return True


def _import_kernel() -> Any:
    """chunk.run_chunk, its numba cache in a folder named by a hash of the kernel's
    sources: numba checks only the caller's own file, so a change to a module it calls would
    otherwise load stale machine code. The cache folder is bound as each function is
    decorated, so numba's setting is restored right after (other numba users keep theirs)."""
    import numba  # type: ignore[import-untyped]

    config: Any = numba.config  # its settings are set at run time: not typed
    previous = config.CACHE_DIR
    config.CACHE_DIR = cache_dir(previous) or previous
    try:
        from engine.families.fused.chunk import run_chunk
    finally:
        config.CACHE_DIR = previous
    return run_chunk


def cache_dir(base: str | None) -> str | None:
    """A writable folder for this version of the kernel's compiled code (None: numba's)."""
    here = Path(__file__).parent
    digest = hashlib.sha256(b"".join((here / name).read_bytes() for name in SOURCES))
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "livegrad"
    for parent in ([Path(base)] if base else []) + [here / "__pycache__", home]:
        folder = parent / f"fused-kernel-{digest.hexdigest()[:16]}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return str(folder)
    return None


def _self_test() -> None:
    """One tiny chunk: compiles (or loads) the one signature every run uses."""
    from engine.families.fused.kernel_update import CFG_SIZE

    f32, i64 = np.float32, np.int64
    net = (np.array([[0, 0, 1]], i64), np.zeros(1), np.array([[1, 1, 0, 1]], i64),
           np.array([0, 1, 2], i64), np.array([0, 1], i64), np.array([1, 1], i64), 0,
           np.zeros(CFG_SIZE))
    w = np.zeros(2, f32)
    bufs = (w, np.zeros(2, f32), np.zeros(2, f32), np.zeros(2, f32), np.zeros((3, 2), f32),
            np.zeros(1, i64))
    data = (np.ones((1, 1), f32), np.ones((1, 1), f32), np.zeros(0, i64), np.zeros(0, i64))
    plan = (np.zeros(1, i64), np.ones(1, i64), np.array([0.5]), np.ones(1, np.bool_), 0)
    out = (np.zeros(1), np.zeros(1), np.zeros((2, 2)), np.zeros(2, f32))
    done, fault = _state["chunk"](data, net, bufs, plan, out)
    if (done, fault) != (1, -1) or not np.allclose(w, [1.0, 1.0]):  # mse: w += 2·0.5·(1 - 0)
        raise RuntimeError(f"self-test gave {(done, fault)} and w = {w}")


def settings(step: FusedMLPStep) -> np.ndarray:
    """The run's scalars as kernel_update's cfg vector."""
    from engine.families.fused import kernel_update as u

    c, opt = step.run.choices, step.optimizer
    p, cp = opt.p, step.clip_params
    cfg = np.zeros(u.CFG_SIZE)
    values = {
        u.LOSS: LOSSES[c.loss.name], u.MARGIN: getattr(c.loss_params, "margin", 1.0),
        u.L1: step.l1, u.L2: step.l2, u.CLIP: CLIPS[step.clip],
        u.MAX_NORM: getattr(cp, "max_norm", 0.0), u.NORM_TYPE: getattr(cp, "norm_type", 2.0),
        u.CLIP_VALUE: getattr(cp, "clip_value", 0.0), u.OPT: OPTIMIZERS[opt.name],
        u.MOMENTUM: getattr(p, "momentum", 0.0), u.DAMPENING: getattr(p, "dampening", 0.0),
        u.EPS: getattr(p, "eps", 0.0), u.LR_DECAY: getattr(p, "lr_decay", 0.0),
        u.ALPHA: getattr(p, "alpha", 0.0), u.CENTERED: bool(getattr(p, "centered", False)),
        u.WEIGHT_DECAY: opt.weight_decay, u.DECOUPLED: opt.decoupled_decay,
    }
    betas = getattr(p, "betas", (0.9, 0.999))
    values[u.BETA1], values[u.BETA2] = float(betas[0]), float(betas[1])
    for index, value in values.items():
        cfg[index] = float(value)
    return cfg


class CompiledChunk:
    """A FusedMLPStep's tables and buffers for the kernel; `train` runs one chunk."""

    def __init__(self, step: FusedMLPStep) -> None:
        self.step = step
        self.run_chunk = _state["chunk"]
        sizes = [g.size for _, g in step.pairs]
        self.poff = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self.w = np.zeros(int(self.poff[-1]), np.float32)  # the parameters, as step.flat
        self.segments = [self.w[a:a + g.size].reshape(g.shape)
                         for a, (_, g) in zip(self.poff, step.pairs, strict=False)]
        self.net = self.tables(step)
        x = np.ascontiguousarray(step.x_train, np.float32)
        self.data = (x.reshape(len(x), -1), *self.targets(step))  # (N, F): one signature
        self.capacity = 0
        self.rows = np.zeros((1, len(sizes)))
        self.ti = np.zeros(1, np.int64)

    def tables(self, step: FusedMLPStep) -> tuple[Any, ...]:
        ops, opf, dense, index = [], [], [], 0
        for op, width in zip(step.ops, step.widths, strict=True):
            if isinstance(op, Dense):
                wo = int(self.poff[index])
                bo = int(self.poff[index + 1]) if op.has_bias else -1
                dense.append([op.out_features, op.w.shape[1], wo, bo])
                ops.append([0, len(dense) - 1, width])
                index += 2 if op.has_bias else 1
                opf.append(0.0)
            else:
                assert isinstance(op, Activation)
                ops.append([KINDS[op.kind], -1, width])
                opf.append(op.slope if op.kind == "leaky_relu" else op.alpha)
        self.rw = np.array([step.in_features, *step.widths], np.int64)  # region widths
        self.aoff = np.concatenate(([0], np.cumsum(self.rw)[:-1])).astype(np.int64)
        return (np.array(ops, np.int64), np.array(opf), np.array(dense, np.int64), self.poff,
                self.aoff, self.rw, step.first_dense, settings(step))

    @staticmethod
    def targets(step: FusedMLPStep) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = step.y_train
        empty = np.zeros(0, np.int64)
        yf = np.ascontiguousarray(y, np.float32).reshape(len(y), -1) \
            if y.dtype.kind == "f" else np.zeros((0, 0), np.float32)
        yi = np.ascontiguousarray(y, np.int64) if y.dtype.kind in "iu" else empty
        labels = np.ascontiguousarray(step.labels["train"], np.int64) \
            if step.classify else empty
        return yf, yi, labels

    def buffers(self, b: int) -> None:
        """Room for batches of b rows (an epoch's last may be shorter)."""
        if b > self.capacity:
            self.capacity = b
            self.net = (*self.net[:4], self.aoff * b, *self.net[5:])
            self.acts = np.zeros(b * int(self.rw.sum()), np.float32)
            self.grads = np.zeros_like(self.acts)

    def train(self, batches: list[np.ndarray], lrs: list[float],
              record: Recording | None) -> StepOutcome:
        """One chunk. Its Python costs a few µs, paid once a chunk (the telemetry's flushes
        make one-step chunks: each call counts)."""
        step, n = self.step, len(batches)
        if n == 0:
            return StepOutcome(np.zeros(0), np.zeros(0) if step.classify else None)
        sizes = np.fromiter(map(len, batches), np.int64, n)
        self.buffers(int(sizes.max()))
        wanted = record.sample if record is not None else None
        samples = np.array(wanted, np.bool_) if wanted and any(wanted) else np.zeros(n, np.bool_)
        n_sampled = int(np.count_nonzero(samples))
        if len(self.rows) <= n_sampled:
            self.rows = np.zeros((2 * n_sampled + 1, self.rows.shape[1]))
        capture = n - 1 if record is not None and record.capture else -1
        if capture >= 0 and step.captured is None:
            step.captured = np.empty_like(step.flat)
        idx = batches[0] if n == 1 else np.concatenate(batches)
        if idx.dtype != np.int64:  # one compiled signature: another dtype would compile anew
            idx = idx.astype(np.int64)
        results = np.empty((2, n))  # losses, right predictions
        opt = step.optimizer
        for seg, (p, _) in zip(self.segments, step.pairs, strict=True):
            np.copyto(seg, p)
        self.ti[0] = opt.t
        bufs = (self.w, step.flat, self.acts, self.grads, opt.state, self.ti)
        plan = (idx, sizes, np.asarray(lrs, np.float64), samples, capture)
        captured = step.captured if step.captured is not None else step.flat[:0]
        done, fault = self.run_chunk(self.data, self.net, bufs, plan,
                                     (results[0], results[1], self.rows, captured))
        opt.t = int(self.ti[0])
        for seg, (p, _) in zip(self.segments, step.pairs, strict=True):
            np.copyto(p, seg)
        accs = results[1, :done] / sizes[:done] if step.classify else None
        return self.outcome(results[0, :done], accs, samples[:done] if n_sampled else None,
                            fault)

    def outcome(self, losses: np.ndarray, accs: np.ndarray | None, samples: np.ndarray | None,
                fault: int) -> StepOutcome:
        div = None
        if fault != -1:
            where = "loss" if fault == -2 else self.step.dense[fault].node_id
            div = Divergence(len(losses), where, {"loss": float(losses[-1])} if len(losses)
                             else {})
        norms = positions = None
        if samples is not None and samples.any():
            positions = np.flatnonzero(samples)
            norms = np.sqrt(self.rows[:len(positions)])
        return StepOutcome(losses, accs, div, norms, positions, 0.0)
