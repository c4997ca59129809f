"""Step strategies: how one optimizer step is computed. The loop in trainer.py calls them.

`AutogradStep` is the general path: any graph, any loss, torch.optim. The fused NumPy path
for plain MLPs lives in mlp.py behind the same protocol. A strategy runs a chunk of
steps (several steps per dispatch from the loop), returns one loss per step, and stops
before applying an update whose loss or gradient is not finite.
May import: stdlib, numpy, torch, engine modules below the trainer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from engine.nn.losses import predict_classes
from engine.nn.regularizers import penalty

if TYPE_CHECKING:  # families import this module while prepare imports the families
    from engine.core.run import PreparedRun

KEEP_LIMIT = 1 << 22  # gradient entries a chunk keeps at most for its norms: 16 MiB in float32


@dataclass
class Divergence:
    """The first non-finite quantity: `where` is 'loss' or the node id of the first layer
    whose gradient went non-finite; `index` is its position in the chunk."""

    index: int
    where: str
    last_finite: dict[str, float] = field(default_factory=dict)


@dataclass
class Recording:
    """What a chunk records for the probes: which of its steps sample the gradient norms,
    and whether the last step keeps its gradients (as applied: after clipping)."""

    sample: list[bool]
    capture: bool = False


@dataclass
class StepOutcome:
    losses: np.ndarray  # (steps done,) float64, all finite
    accuracies: np.ndarray | None  # (steps done,) batch accuracy, classification only
    divergence: Divergence | None = None
    grad_norms: np.ndarray | None = None  # (sampled steps done, P) L2 norms before clipping
    sampled: np.ndarray | None = None  # (sampled steps done,) their positions in the chunk
    record_seconds: float = 0.0  # time spent recording inside the steps


class StepStrategy(Protocol):
    name: str

    def train(self, batches: list[np.ndarray], lrs: list[float],
              record: Recording | None = None) -> StepOutcome: ...

    def captured_grads(self) -> list[torch.Tensor] | list[np.ndarray] | None:
        """The last recorded chunk's last-step gradients, per parameter in forward order."""
        ...

    def weight_arrays(self) -> list[np.ndarray] | None:
        """The trainable parameters as NumPy views in forward order, where the strategy keeps
        them (None: the probes read the tensors)."""
        ...

    def evaluate(self, split: str) -> tuple[float, float | None]: ...

    def outputs(self, x: np.ndarray) -> torch.Tensor: ...

    def node_outputs(self, x: np.ndarray) -> dict[str, np.ndarray] | None:
        """Every node's output for x as NumPy arrays, where the strategy computes its forward
        itself (None: the probe passes run the torch model with hooks)."""
        ...


class AutogradStep:
    """Forward, loss (+ penalty), backward, finiteness check, clipping, optimizer step.

    Hooks a family's own step overrides: `objective(idx)` (the batch's loss) and
    `targets(split)`; `one_step` is the whole step."""

    name = "autograd"

    def __init__(self, run: PreparedRun) -> None:
        self.run = run
        c = run.choices
        data, dev = run.data, run.device
        self.model = run.model
        self.loss_fn = c.loss.make(c.loss_params, run.out_features)
        self.x = {"train": torch.from_numpy(data.x_train).to(dev),
                  "test": torch.from_numpy(data.x_test).to(dev)}
        self.y = {split: self.targets(split) for split in ("train", "test")}
        self.labels = torch.from_numpy(data.y_train).to(dev)
        # in the order nodes run, so that the first non-finite gradient names the first layer
        self.params = [p for node in self.model.order
                       for p in self.model.layers[node].parameters() if p.requires_grad]
        self.weights = [p for p in self.params if p.dim() >= 2]
        self.flat_param = flatten_parameters(self.params)
        self.optimizer = c.optimizer.make(
            c.optimizer_params, self.params if self.flat_param is None else [self.flat_param])
        self.classify = data.n_classes is not None
        self.owners = parameter_owners(run)
        self.zero = torch.zeros(1, device=run.device)  # the norm of a missing gradient
        self.rows: list[torch.Tensor] = []  # (P,) norms of the sampled steps, on the device
        self.sampled: list[int] = []
        self.flat: torch.Tensor | None = None  # every gradient in one buffer (adopt_grads)
        self.views: list[torch.Tensor] = []  # ... each parameter's .grad, a view of it
        # sampled steps' gradients, kept for their norms until the chunk ends (keep_for_norms)
        self.kept = torch.zeros(0, 0)
        self.kept_rows: list[torch.Tensor] = []
        self.n_kept = 0
        self.chunk_steps = 0
        self.captured: list[torch.Tensor] | None = None  # the capture step's applied gradients
        self.lr: float | None = None  # the learning rate the param groups hold
        if self.flat_param is not None:
            self.adopt_grads()

    def train(self, batches: list[np.ndarray], lrs: list[float],
              record: Recording | None = None) -> StepOutcome:
        if not self.model.training:
            self.model.train()
        self.check_views()
        self.lr = None  # set the first step's, whatever the groups hold (a restore sets them)
        # losses and outputs stay on the device until the chunk ends: one transfer per
        # chunk, and one synchronisation per step (the finiteness check)
        losses: list[torch.Tensor] = []
        outs: list[torch.Tensor] = []
        self.rows, self.sampled, self.captured = [], [], None
        self.n_kept, self.chunk_steps = 0, len(batches)
        if not batches:
            return self.outcome(losses, outs, None, [0], None)
        bounds = list(accumulate((len(b) for b in batches), initial=0))
        idx = torch.from_numpy(np.concatenate(batches)).to(self.run.device)  # one transfer
        capture_at = len(batches) - 1 if record is not None and record.capture else -1
        for i, lr in enumerate(lrs):
            if lr != self.lr:
                self.set_lr(lr)
            sample = record is not None and record.sample[i]
            loss, out, bad = self.one_step(idx[bounds[i]:bounds[i + 1]], sample,
                                           i == capture_at)
            if bad is not None:
                done = self.outcome(losses, outs, idx, bounds, None)
                last = {"loss": float(done.losses[-1])} if losses else {}
                done.divergence = Divergence(i, bad, last)
                return done
            if sample:
                self.sampled.append(i)
            losses.append(loss)
            if out is not None:
                outs.append(out)
        return self.outcome(losses, outs, idx, bounds, None)

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.lr = lr

    def targets(self, split: str) -> torch.Tensor:
        """What the loss compares the output with, for every sample of a split."""
        c, data = self.run.choices, self.run.data
        labels = data.y_train if split == "train" else data.y_test
        return c.loss.targets(labels, self.run.out_features, data.n_classes).to(self.run.device)

    def captured_grads(self) -> list[torch.Tensor] | None:
        if self.captured is not None:
            return self.captured
        # no capture asked: the gradients left in p.grad (after the step, as the optimizer
        # left them) until the next step clears them
        return self.grads()

    def one_step(self, idx: torch.Tensor, sample: bool = False, capture: bool = False
                 ) -> tuple[torch.Tensor, torch.Tensor | None, str | None]:
        """One update on the batch idx: (loss, outputs for the accuracy or None, None), or
        (loss, None, where) without the update when the loss or a gradient is not finite."""
        self.clear_grads()
        loss, out = self.objective(idx)
        extra = penalty(self.weights, self.run.choices.l1, self.run.choices.l2)
        (loss + extra if extra is not None else loss).backward()
        loss = loss.detach()
        bad = self.check(loss, sample)
        if bad is not None:
            return loss, None, bad  # stop before the update
        c = self.run.choices
        c.clip.apply(c.clip_params, self.params)
        if capture:  # a copy: foreach SGD with Nesterov adds the momentum into p.grad in place
            self.captured = [g.detach().clone() for g in self.grads()]
        self.optimizer.step()
        return loss, out, None

    def objective(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The batch's loss (before the weight penalty) and, for classes, the batch's outputs
        (detached; the chunk counts the correct ones at its end): what a family's own step
        overrides."""
        x = self.x["train"].index_select(0, idx)  # (B, F)
        out = self.model(x)
        loss = self.loss_fn(out, self.y["train"].index_select(0, idx))
        return loss, out.detach() if self.classify else None

    # --- gradients: one buffer, one check ------------------------------------------------

    def clear_grads(self) -> None:
        if self.flat is not None:
            self.flat.zero_()  # one kernel, and backward accumulates into the views in place
        else:
            self.optimizer.zero_grad(set_to_none=True)

    def adopt_grads(self) -> None:
        """Make the flat parameter's gradient one buffer and each p.grad a view of it:
        clearing them is then one kernel, and so is the finiteness check."""
        assert self.flat_param is not None
        self.flat = self.flat_param.grad = torch.zeros_like(self.flat_param)
        self.views = [self.flat[a:b].view_as(p)
                      for p, (a, b) in zip(self.params, spans(self.params), strict=True)]
        for p, view in zip(self.params, self.views, strict=True):
            p.grad = view

    def check_views(self) -> None:
        """Between chunks: if anything replaced a p.grad or the flat gradient (a zero_grad
        elsewhere), the buffer no longer holds the gradients: point them at it again (the
        step clears it before its backward)."""
        if self.flat is None or self.flat_param is None:
            return
        if self.flat_param.grad is not self.flat or any(
                p.grad is not v for p, v in zip(self.params, self.views, strict=True)):
            for p, view in zip(self.params, self.views, strict=True):
                p.grad = view
            self.flat_param.grad = self.flat

    def grads(self) -> list[torch.Tensor]:
        return [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]

    def check(self, loss: torch.Tensor, sample: bool) -> str | None:
        """The finiteness check ('loss', the first layer with a non-finite gradient, or None),
        with a sampled step's gradient norms recorded (or their gradients kept for them)."""
        if self.flat is not None:
            return self.flat_check(self.flat, loss, sample)
        norms = self.grad_norms()
        bad = self.nonfinite(loss, norms)
        if sample and bad is None:
            self.rows.append(norms)
        return bad

    def flat_check(self, flat: torch.Tensor, loss: torch.Tensor, sample: bool) -> str | None:
        # any non-finite component makes the sum non-finite; a sum that overflowed from
        # finite gradients is told apart by the exact check
        if not math.isfinite(float(flat.sum() + loss)):
            bad = self.nonfinite(loss, torch.full((1,), math.inf, device=loss.device))
            if bad is not None:
                return bad
        if sample:
            self.keep_for_norms(flat)
        return None

    def keep_for_norms(self, flat: torch.Tensor) -> None:
        """A sampled step's gradients, copied into a row kept until the chunk ends, where one
        pass takes every kept step's norms (sampled_norms): per step, foreach_norm is a loop
        of P norms on the CPU, about 30 µs for a dozen small tensors, a tenth of a small
        net's step. A chunk too big to keep (KEEP_LIMIT) takes them at once."""
        if self.chunk_steps * flat.numel() > KEEP_LIMIT:
            self.rows.append(self.grad_norms())
            return
        if self.n_kept == 0 and (len(self.kept_rows) < self.chunk_steps
                                 or self.kept.shape[1] != flat.numel()
                                 or self.kept.dtype != flat.dtype
                                 or self.kept.device != flat.device):
            # room for every step of the chunk, so that it never grows within one
            self.kept = flat.new_empty((max(self.chunk_steps, 2 * len(self.kept_rows)),
                                        flat.numel()))
            self.kept_rows = list(self.kept.unbind(0))
        self.kept_rows[self.n_kept].copy_(flat)
        self.n_kept += 1

    def sampled_norms(self) -> torch.Tensor:
        """(sampled steps done, P) the gradient norms of the chunk's sampled steps."""
        if not self.n_kept:
            return torch.stack(self.rows[:len(self.sampled)])
        kept = self.kept[:self.n_kept]  # (S, N): each parameter's gradients side by side
        parts = kept.split([p.numel() for p in self.params], dim=1)
        return torch.stack([torch.linalg.vector_norm(part, dim=1, dtype=torch.float64)
                            for part in parts], dim=1)

    def grad_norms(self) -> torch.Tensor:
        grads = [p.grad if p.grad is not None else self.zero for p in self.params]
        return torch.stack(torch._foreach_norm(grads)) if grads else self.zero

    def nonfinite(self, loss: torch.Tensor, norms: torch.Tensor) -> str | None:
        """'loss', the first layer with a non-finite gradient component, or None."""
        if bool(torch.isfinite(torch.cat([loss.reshape(1), norms])).all()):
            return None
        if not bool(torch.isfinite(loss)):
            return "loss"
        # an L2 norm of large, finite gradients can overflow float32: blame only a layer
        # with a non-finite component
        for p in self.params:  # parameters are listed in the order nodes run
            if p.grad is not None and not bool(torch.isfinite(p.grad).all()):
                return self.owners[id(p)]
        return None

    def outcome(self, losses: list[torch.Tensor], outs: list[torch.Tensor],
                idx: torch.Tensor | None, bounds: list[int], div: Divergence | None
                ) -> StepOutcome:
        """The chunk's steps done, as arrays: one device-to-host transfer each."""
        norms = sampled = None
        if self.sampled:
            norms = self.sampled_norms().double().cpu().numpy()
            sampled = np.asarray(self.sampled, dtype=np.int64)
        loss_values = torch.stack(losses).double().cpu().numpy() if losses else np.zeros(0)
        accs = None
        if self.classify:
            accs = self.accuracies(outs, idx, bounds[:len(outs) + 1])
        return StepOutcome(loss_values, accs, div, norms, sampled)

    def accuracies(self, outs: list[torch.Tensor], idx: torch.Tensor | None,
                   bounds: list[int]) -> np.ndarray:
        """Each step's batch accuracy, from the chunk's outputs at once; exact fractions, as
        the fused path reports them."""
        if not outs or idx is None:
            return np.zeros(0)
        labels = self.labels.index_select(0, idx[:bounds[-1]])
        hits = (predict_classes(torch.cat(outs)) == labels).cpu().numpy().astype(np.int64)
        counts = np.add.reduceat(hits, bounds[:-1])
        return counts / np.diff(np.asarray(bounds, dtype=np.float64))

    @torch.no_grad()
    def evaluate(self, split: str) -> tuple[float, float | None]:
        self.model.eval()
        out = self.model(self.x[split])
        loss = float(self.loss_fn(out, self.y[split]))
        if not self.classify:
            return loss, None
        labels = self.run.data.y_train if split == "train" else self.run.data.y_test
        acc = (predict_classes(out).cpu() == torch.from_numpy(labels)).float().mean()
        return loss, float(acc)

    @torch.no_grad()
    def outputs(self, x: np.ndarray) -> torch.Tensor:
        self.model.eval()
        return self.model(torch.from_numpy(x).to(self.run.device)).float().cpu()

    def node_outputs(self, x: np.ndarray) -> None:
        return None  # the model itself, hooked by the probe pass

    def weight_arrays(self) -> None:
        return None


def spans(params: Sequence[torch.Tensor]) -> list[tuple[int, int]]:
    """Each parameter's [start, end) in a flat buffer of them all, in order."""
    ends = list(accumulate(p.numel() for p in params))
    return list(zip([0, *ends[:-1]], ends, strict=True))


def flatten_parameters(params: list[torch.nn.Parameter]) -> torch.nn.Parameter | None:
    """One parameter holding every parameter's values, each p.data becoming a view of it,
    for the optimizer to step as one tensor: torch.optim's cost per step is mostly per
    tensor (on the 6x8 skip net, SGD 80 -> 50 us, Adam 610 -> 170 us), and every optimizer
    in the registry is elementwise, so the update is the same. None (each parameter stepped
    on its own) when they are not all dense, of one dtype and on one device."""
    if not params or any(p.layout != torch.strided for p in params) \
            or len({(p.dtype, p.device) for p in params}) > 1:
        return None
    with torch.no_grad():
        flat = torch.nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
        for p, (a, b) in zip(params, spans(params), strict=True):
            p.data = flat.data[a:b].view_as(p)
    return flat


def parameter_owners(run: PreparedRun) -> dict[int, str]:
    """Parameter identity -> node id, for naming the layer whose gradient broke."""
    owners: dict[int, str] = {}
    for node_id in run.model.order:
        for p in run.model.layers[node_id].parameters():
            owners[id(p)] = node_id
    return owners
