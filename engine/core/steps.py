"""Step strategies: how one optimizer step is computed. The loop in trainer.py calls them.

`AutogradStep` is the general path: any graph, any loss, torch.optim. The fused NumPy path
for plain MLPs lives in mlp.py behind the same protocol. A strategy runs a chunk of
steps (several steps per dispatch from the loop), returns one loss per step, and stops
before applying an update whose loss or gradient is not finite.
May import: stdlib, numpy, torch, engine modules below the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from engine.nn.losses import predict_classes
from engine.nn.regularizers import penalty

if TYPE_CHECKING:  # families import this module while prepare imports the families
    from engine.core.run import PreparedRun


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
    """Forward, loss (+ penalty), backward, finiteness check, clipping, optimizer step."""

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
        self.optimizer = c.optimizer.make(c.optimizer_params, self.params)
        self.classify = data.n_classes is not None
        self.owners = parameter_owners(run)
        self.zero = torch.zeros(1, device=run.device)  # the norm of a missing gradient
        self.rows: list[torch.Tensor] = []  # (P,) norms of the sampled steps, on the device
        self.sampled: list[int] = []

    def train(self, batches: list[np.ndarray], lrs: list[float],
              record: Recording | None = None) -> StepOutcome:
        self.model.train()
        # losses and correct counts stay on the device until the chunk ends: one transfer
        # per chunk, and one synchronisation per step (the finiteness check)
        losses: list[torch.Tensor] = []
        correct: list[torch.Tensor] = []
        self.rows, self.sampled = [], []
        for i, (idx, lr) in enumerate(zip(batches, lrs, strict=True)):
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            sample = record is not None and record.sample[i]
            loss, right, bad = self.one_step(torch.from_numpy(idx).to(self.run.device), sample)
            if bad is not None:
                done = self.outcome(losses, correct, batches, None)
                last = {"loss": float(done.losses[-1])} if losses else {}
                done.divergence = Divergence(i, bad, last)
                return done
            if sample:
                self.sampled.append(i)
            losses.append(loss)
            if right is not None:
                correct.append(right)
        return self.outcome(losses, correct, batches, None)

    def targets(self, split: str) -> torch.Tensor:
        """What the loss compares the output with, for every sample of a split."""
        c, data = self.run.choices, self.run.data
        labels = data.y_train if split == "train" else data.y_test
        return c.loss.targets(labels, self.run.out_features, data.n_classes).to(self.run.device)

    def captured_grads(self) -> list[torch.Tensor] | None:
        # the gradients stay in p.grad until the next step's zero_grad
        return [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]

    def one_step(self, idx: torch.Tensor, sample: bool = False
                 ) -> tuple[torch.Tensor, torch.Tensor | None, str | None]:
        self.optimizer.zero_grad(set_to_none=True)
        loss, right = self.objective(idx)
        extra = penalty(self.weights, self.run.choices.l1, self.run.choices.l2)
        (loss + extra if extra is not None else loss).backward()
        norms = self.grad_norms()  # (P,) the probes' gradient norms too: no extra kernel
        bad = self.nonfinite(loss.detach(), norms)
        if bad is not None:
            return loss.detach(), None, bad  # stop before the update
        if sample:
            self.rows.append(norms)
        c = self.run.choices
        c.clip.apply(c.clip_params, self.params)
        self.optimizer.step()
        return loss.detach(), right, None

    def objective(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The batch's loss (before the weight penalty) and, for classes, its correct count:
        what a family's own step overrides."""
        x, y = self.x["train"][idx], self.y["train"][idx]  # (B, F), targets
        out = self.model(x)
        right = (predict_classes(out) == self.labels[idx]).sum() if self.classify else None
        return self.loss_fn(out, y), right

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

    def outcome(self, losses: list[torch.Tensor], correct: list[torch.Tensor],
                batches: list[np.ndarray], div: Divergence | None) -> StepOutcome:
        norms = sampled = None
        if self.sampled:  # one device-to-host transfer per chunk
            norms = torch.stack(self.rows[:len(self.sampled)]).double().cpu().numpy()
            sampled = np.asarray(self.sampled, dtype=np.int64)
        loss_values = torch.stack(losses).double().cpu().numpy() if losses else np.zeros(0)
        accs = None
        if self.classify:
            counts = torch.stack(correct).cpu().numpy() if correct else np.zeros(0)
            sizes = np.asarray([len(b) for b in batches[:len(counts)]], dtype=np.float64)
            accs = counts / sizes  # exact fractions, as the fused path reports them
        return StepOutcome(loss_values, accs, div, norms, sampled)

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


def parameter_owners(run: PreparedRun) -> dict[int, str]:
    """Parameter identity -> node id, for naming the layer whose gradient broke."""
    owners: dict[int, str] = {}
    for node_id in run.model.order:
        for p in run.model.layers[node_id].parameters():
            owners[id(p)] = node_id
    return owners
