"""The fused NumPy step for plain MLPs on the CPU: AutogradStep's semantics at a tenth the cost.

At batch 10, eager PyTorch spends its step in operator dispatch (dozens of tiny ops), not
in arithmetic; a hand-written forward and backward in NumPy on preallocated buffers does the
same step several times faster. `fused_unsupported_reason` says when a run qualifies (a chain
input -> (linear | activation)* on the CPU with a loss, optimizer and clipping that have
twins in ops.py); the trainer's `choose_strategy` picks `FusedMLPStep` then.

The weights stay in the torch model: each parameter is used through a NumPy view of its own
memory and updated in place, so checkpoints, probes and evaluation always see the current
weights. Gradients live in one flat float32 vector (a view per parameter), so that the
optimizer, clipping and the finiteness check are each a few calls over all parameters.
May import: stdlib, numpy, torch, engine modules below the trainer.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import torch

from engine.core.run import PreparedRun
from engine.core.runtime import ensure_threads
from engine.core.steps import Divergence, Recording, StepOutcome
from engine.families.fused.kernel import CompiledChunk, kernel_reason
from engine.families.fused.ops import Activation, FlatOptimizer, Op, clip_coefficient, loss_function
from engine.families.fused.workspace import Dense, Workspace, layer_widths
from engine.probes.flat_norms import FlatNormRecorder

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu")
LOSSES = ("mse", "l1", "cross_entropy", "binary_cross_entropy", "hinge")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "adagrad", "rmsprop")
CLIPS = ("none", "norm", "value")


def fused_unsupported_reason(run: PreparedRun) -> str | None:
    """None when FusedMLPStep can train this run exactly as AutogradStep would, else why not."""
    if run.device.type != "cpu":
        return f"the fused step runs on the CPU only (device is {run.device})"
    reason = chain_reason(run.model)
    if reason is not None:
        return reason
    if any(p.dtype != torch.float32 or not p.requires_grad for p in run.model.parameters()):
        return "parameters must be trainable float32 tensors"
    c = run.choices
    if c.loss.name not in LOSSES:
        return f"loss {c.loss.name!r} has no fused twin"
    if c.loss.name == "hinge" and run.out_features != 1:
        return "multi-class hinge loss has no fused twin"
    if c.optimizer.name not in OPTIMIZERS:
        return f"optimizer {c.optimizer.name!r} has no fused twin"
    if getattr(c.optimizer_params, "amsgrad", False):
        return "amsgrad has no fused twin"
    if c.clip.name not in CLIPS:
        return f"gradient clipping {c.clip.name!r} has no fused twin"
    return None


def chain_reason(model: Any) -> str | None:
    """Why the graph is not a plain chain input -> (linear | activation)*, or None."""
    order = list(model.order)
    if not order or model.kinds[order[0]] != "input" or model.inputs[order[0]]:
        return "the graph does not start at a single input node"
    if (model.output or order[-1]) != order[-1]:
        return "the output is not the last node of a chain"
    for prev, node in zip(order, order[1:], strict=False):
        if list(model.inputs[node]) != [prev]:
            return f"node {node!r} is not fed by {prev!r} alone (not a plain chain)"
        kind = model.kinds[node]
        if kind != "linear" and kind not in ACTIVATIONS:
            return f"layer kind {kind!r} (node {node!r}) has no fused twin"
    if not any(model.kinds[n] == "linear" for n in order):
        return "the chain has no linear layer"
    return None


class FusedMLPStep:
    """Forward, loss, backward, finiteness check, clipping and update, in NumPy."""

    name = "fused_mlp"

    def __init__(self, run: PreparedRun, kernel: str = "auto") -> None:
        """kernel: "auto" (the compiled one where kernel.kernel_reason allows it),
        "compiled" (raises where it cannot run) or "numpy"."""
        ensure_threads()  # its NumPy path makes tiny BLAS calls, which threads only slow
        self.run = run
        c, data, model = run.choices, run.data, run.model
        self.ops: list[Dense | Activation] = []
        self.node_ops = {model.order[0]: -1}  # node id -> the op whose output it is (-1: x)
        for node in model.order[1:]:
            kind = model.kinds[node]
            if kind == "linear":
                self.ops.append(Dense(node, cast(torch.nn.Linear, model.layers[node])))
            elif kind != "identity":
                self.ops.append(Activation(kind, model.layers[node]))
            self.node_ops[node] = len(self.ops) - 1  # an identity passes the last op's on
        self.dense = [op for op in self.ops if isinstance(op, Dense)]
        self.parameters = [p for d in self.dense for p in d.params()]
        self.first_dense = self.ops.index(self.dense[0])
        self.in_features = int(data.x_train.shape[1])
        self.widths = layer_widths(self.ops, self.in_features)
        self.loss = loss_function(c.loss.name, float(getattr(c.loss_params, "margin", 1.0)))
        self.x = {"train": data.x_train, "test": data.x_test}
        self.y = {s: c.loss.targets(labels, run.out_features, data.n_classes).numpy()
                  for s, labels in (("train", data.y_train), ("test", data.y_test))}
        self.x_train, self.y_train = data.x_train, self.y["train"]
        self.labels = {"train": data.y_train, "test": data.y_test}
        self.classify = data.n_classes is not None
        size = sum(p.numel() for d in self.dense for p in d.params())
        self.flat = np.zeros(size, np.float32)  # every gradient, in forward order
        self.optimizer = FlatOptimizer(c.optimizer.name, c.optimizer_params, size)
        self.l1, self.l2 = float(c.l1), float(c.l2)
        self.clip, self.clip_params = c.clip.name, c.clip_params
        self.spaces: dict[int, Workspace] = {}
        self.captured: np.ndarray | None = None  # the last step's applied gradient, when asked
        self.sample = self.capture = False  # what this step records for the probes
        self.bind()
        self.compiled = self.choose_kernel(kernel)
        self.kernel = "compiled" if self.compiled is not None else "numpy"

    def choose_kernel(self, kernel: str) -> CompiledChunk | None:
        if kernel not in ("auto", "compiled", "numpy"):
            raise ValueError(f"unknown fused kernel {kernel!r}")
        reason = "asked for NumPy" if kernel == "numpy" else kernel_reason(self)
        if reason is None:
            return CompiledChunk(self)
        if kernel == "compiled":
            raise RuntimeError(f"the compiled fused kernel cannot run: {reason}")
        return None

    # --- binding to the torch parameters -----------------------------------------------------

    def bind(self) -> None:
        """(Re)take views of the parameters; the model may have been given new tensors."""
        offset = 0
        for d in self.dense:
            offset = d.bind(self.flat, offset)
        self.pairs = [(p.detach().numpy(), g) for d in self.dense
                      for p, g in zip(d.params(), (d.gw, d.gb), strict=False)]
        self.apply: list[Op] = [(np.add, (w, g, w)) for w, g in self.pairs]
        self.weights = [(d.w, d.gw, np.empty_like(d.w)) for d in self.dense]
        self.scratch = [np.empty_like(w) for w, _ in self.pairs]
        self.spaces = {}  # their compiled calls hold the old views
        self.probe_spaces: dict[int, Workspace] = {}
        self.ptrs = self.pointers()
        self.recorder = FlatNormRecorder(self.flat, [g.size for _, g in self.pairs])
        self.total_from_norms = self.recorder.total_ready and self.clip != "norm"

    def pointers(self) -> list[int]:
        # once a chunk: the parameter list is made once (rebuilding it cost 10 µs a chunk)
        return [p.data_ptr() for p in self.parameters]

    def follow_parameters(self) -> None:
        if self.pointers() != self.ptrs:  # e.g. a checkpoint restored into new tensors
            self.bind()

    def space(self, b: int) -> Workspace:
        ws = self.spaces.get(b)
        if ws is None:
            ws = self.spaces[b] = Workspace(self, b)
        return ws

    # --- training ----------------------------------------------------------------------------

    def train(self, batches: list[np.ndarray], lrs: list[float],
              record: Recording | None = None) -> StepOutcome:
        self.follow_parameters()
        if self.compiled is not None:
            return self.compiled.train(batches, lrs, record)
        losses: list[float] = []
        outputs: list[np.ndarray] | None = [] if self.classify else None
        samples = record.sample if record is not None else [False] * len(batches)
        self.recorder.begin(sum(samples))
        capture_at = len(batches) - 1 if record is not None and record.capture else -1
        with np.errstate(all="ignore"):  # overflow becomes inf/NaN, which the checks report
            for i, (idx, lr, sample) in enumerate(zip(batches, lrs, samples, strict=True)):
                self.sample, self.capture = sample, i == capture_at
                loss, bad = self.one_step(idx, lr)
                if bad is not None:
                    last = {"loss": losses[-1]} if losses else {}
                    div = Divergence(i, bad, last)
                    return self.outcome(losses, batches, samples, outputs, div)
                losses.append(loss)
                if outputs is not None:
                    outputs.append(self.spaces[len(idx)].out.copy())
        return self.outcome(losses, batches, samples, outputs, None)

    def captured_grads(self) -> list[np.ndarray] | None:
        if self.captured is None:
            return None
        return [self.captured[a:a + g.size].reshape(g.shape)
                for a, (_, g) in zip(self.recorder.starts, self.pairs, strict=True)]

    def weight_arrays(self) -> list[np.ndarray]:
        # as bound at the last chunk (the probes read them right after one): checking the
        # tensors' pointers here would be torch calls, tens of µs each between NumPy steps
        return [w for w, _ in self.pairs]

    def one_step(self, idx: np.ndarray, lr: float) -> tuple[float, str | None]:
        ws = self.space(len(idx))
        self.x_train.take(idx, 0, ws.x)
        self.y_train.take(idx, 0, ws.y)
        for call, args in ws.forward:
            call(*args)
        loss = self.loss(ws.out, ws.y, ws.dout)
        if not math.isfinite(loss):
            return loss, "loss"
        for call, args in ws.backward:
            call(*args)
        if self.l1 or self.l2:
            self.add_penalty()
        if self.sample and self.total_from_norms:
            sum_sq = self.recorder.record()  # the norms' total serves the finiteness check
        else:  # clipping scales by this very sum, so that probes never change training
            sum_sq = float(np.vdot(self.flat, self.flat))
            if self.sample:
                self.recorder.record()
        if not math.isfinite(sum_sq):
            bad = self.first_nonfinite()
            if bad is not None:
                return loss, bad
        if self.clip != "none":
            self.clip_grads(sum_sq)
        if self.capture:  # into a kept buffer: a fresh one at each flush costs page faults
            if self.captured is None:
                self.captured = np.empty_like(self.flat)
            np.copyto(self.captured, self.flat)
        self.update(lr)
        return loss, None

    def add_penalty(self) -> None:
        """∂/∂w of l1·Σ|w| + l2/2·Σw², on weight matrices only (as regularizers.penalty)."""
        for w, gw, tmp in self.weights:
            if self.l1:
                np.sign(w, out=tmp)
                tmp *= np.float32(self.l1)
                gw += tmp
            if self.l2:
                np.multiply(w, np.float32(self.l2), out=tmp)
                gw += tmp

    def first_nonfinite(self) -> str | None:
        """The first layer, in forward order, with a non-finite gradient component; None
        when only the sum of squares overflowed (as AutogradStep's max-abs check)."""
        for d in self.dense:
            if not (np.isfinite(d.gw).all() and np.isfinite(d.gb).all()):
                return d.node_id
        return None

    def clip_grads(self, sum_sq: float) -> None:
        if self.clip == "norm":
            p = self.clip_params
            coef = clip_coefficient(self.flat, sum_sq, float(p.max_norm), float(p.norm_type))
            self.flat *= np.float32(coef)  # torch multiplies even by 1.0
        elif self.clip == "value":
            v = float(self.clip_params.clip_value)
            np.clip(self.flat, -v, v, out=self.flat)

    def update(self, lr: float) -> None:
        opt = self.optimizer
        if opt.weight_decay:  # torch folds weight_decay into every parameter's gradient
            for (w, g), tmp in zip(self.pairs, self.scratch, strict=True):
                np.multiply(w, opt.weight_decay, tmp)
                g += tmp
        opt.delta(self.flat, lr)  # the update, in place in the flat gradient and its views
        if opt.decoupled_decay:
            keep = 1 - lr * opt.decoupled_decay
            for w, _ in self.pairs:
                w *= keep
        for call, args in self.apply:
            call(*args)

    def outcome(self, losses: list[float], batches: list[np.ndarray], samples: list[bool],
                outputs: list[np.ndarray] | None, div: Divergence | None) -> StepOutcome:
        accs = None
        if outputs is not None:  # batch accuracies, computed once per chunk
            accs = np.zeros(0, np.float64)
            if outputs:
                done = batches[:len(outputs)]
                sizes = np.array([len(b) for b in done])
                right = predict(np.concatenate(outputs)) == self.labels["train"][
                    np.concatenate(done)]
                starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
                accs = np.add.reduceat(right.astype(np.float64), starts) / sizes
        norms, positions = self.recorder.result(samples[:len(losses)])
        return StepOutcome(np.asarray(losses, dtype=np.float64), accs, div, norms, positions,
                           self.recorder.seconds)

    # --- evaluation --------------------------------------------------------------------------

    def forward(self, x: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        """Outputs (N, O) for inputs (N, F), in the given workspace or the cached one for N
        (overwritten by the next call)."""
        self.follow_parameters()
        ws = ws or self.space(len(x))
        np.copyto(ws.x, x)
        with np.errstate(all="ignore"):
            for call, args in ws.forward:
                call(*args)
        return ws.out

    def evaluate(self, split: str) -> tuple[float, float | None]:
        out = self.forward(self.x[split])
        with np.errstate(all="ignore"):
            loss = self.loss(out, self.y[split], None)
        if not self.classify:
            return loss, None
        return loss, float((predict(out) == self.labels[split]).mean())

    def node_outputs(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every node's output for x (N, F) by node id, in the order nodes run: the model's
        node_outputs in eval mode, without torch. Kept buffers, overwritten by the next call
        for the same N (the probes' fixed batch and grid come back a few times a second)."""
        self.follow_parameters()
        ws = self.probe_spaces.get(len(x))
        if ws is None:
            ws = self.probe_spaces[len(x)] = Workspace(self, len(x), train=False, keep=True)
        self.forward(x, ws)
        return {node: ws.x if k < 0 else ws.outs[k] for node, k in self.node_ops.items()}

    def outputs(self, x: np.ndarray) -> torch.Tensor:
        # fresh buffers: a grid can be large and is drawn at a few Hz, so caching it would
        # only hold memory (and it then shares nothing with a training step)
        return torch.from_numpy(self.forward(x, Workspace(self, len(x), train=False)))


def predict(out: np.ndarray) -> np.ndarray:
    """Class indices (N,) as engine.nn.losses.predict_classes: sign of one score, else arg-max."""
    return (out[:, 0] > 0).astype(np.int64) if out.shape[1] == 1 else out.argmax(axis=1)
