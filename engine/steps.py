"""Step strategies: how one optimizer step is computed. The loop in trainer.py calls them.

`AutogradStep` is the general path: any graph, any loss, torch.optim. The fused NumPy path
for plain MLPs lives in fused_mlp.py behind the same protocol. A strategy runs a chunk of
steps (several steps per dispatch from the loop), returns one loss per step, and stops
before applying an update whose loss or gradient is not finite.
May import: stdlib, numpy, torch, engine modules below the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from engine.losses import predict_classes
from engine.prepare import PreparedRun
from engine.regularizers import penalty


@dataclass
class Divergence:
    """The first non-finite quantity: `where` is 'loss' or the node id of the first layer
    whose gradient went non-finite; `index` is its position in the chunk."""

    index: int
    where: str
    last_finite: dict[str, float] = field(default_factory=dict)


@dataclass
class StepOutcome:
    losses: np.ndarray  # (steps done,) float64, all finite
    accuracies: np.ndarray | None  # (steps done,) batch accuracy, classification only
    divergence: Divergence | None = None


class StepStrategy(Protocol):
    name: str

    def train(self, batches: list[np.ndarray], lrs: list[float]) -> StepOutcome: ...

    def evaluate(self, split: str) -> tuple[float, float | None]: ...

    def outputs(self, x: np.ndarray) -> torch.Tensor: ...


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
        self.y = {s: c.loss.targets(labels, run.out_features, data.n_classes).to(dev)
                  for s, labels in (("train", data.y_train), ("test", data.y_test))}
        self.labels = torch.from_numpy(data.y_train).to(dev)
        # in the order nodes run, so that the first non-finite gradient names the first layer
        self.params = [p for node in self.model.order
                       for p in self.model.layers[node].parameters() if p.requires_grad]
        self.weights = [p for p in self.params if p.dim() >= 2]
        self.optimizer = c.optimizer.make(c.optimizer_params, self.params)
        self.classify = data.n_classes is not None
        self.owners = parameter_owners(run)

    def train(self, batches: list[np.ndarray], lrs: list[float]) -> StepOutcome:
        self.model.train()
        losses: list[float] = []
        accs: list[float] = []
        for i, (idx, lr) in enumerate(zip(batches, lrs, strict=True)):
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            loss, acc, bad = self.one_step(torch.from_numpy(idx).to(self.run.device))
            if bad is not None:
                last = {"loss": losses[-1]} if losses else {}
                return self.outcome(losses, accs, Divergence(i, bad, last))
            losses.append(loss)
            accs.append(acc)
        return self.outcome(losses, accs, None)

    def one_step(self, idx: torch.Tensor) -> tuple[float, float, str | None]:
        x, y = self.x["train"][idx], self.y["train"][idx]  # (B, F), targets
        self.optimizer.zero_grad(set_to_none=True)
        out = self.model(x)
        loss = self.loss_fn(out, y)
        value = float(loss.detach())
        if not np.isfinite(value):
            return value, 0.0, "loss"
        extra = penalty(self.weights, self.run.choices.l1, self.run.choices.l2)
        (loss + extra if extra is not None else loss).backward()
        bad = self.first_nonfinite_grad()
        if bad is not None:
            return value, 0.0, bad
        c = self.run.choices
        c.clip.apply(c.clip_params, self.params)
        self.optimizer.step()
        # an exact fraction, as the fused path reports it
        acc = int((predict_classes(out) == self.labels[idx]).sum()) / len(idx) \
            if self.classify else 0.0
        return value, acc, None

    def first_nonfinite_grad(self) -> str | None:
        grads = [p.grad for p in self.params if p.grad is not None]
        # the max-abs norm is finite exactly when every component is (an L2 norm of large,
        # finite gradients can overflow float32 and would blame no layer)
        norms = torch.stack(torch._foreach_norm(grads, float("inf"))) if grads \
            else torch.zeros(0)
        if bool(torch.isfinite(norms).all()):
            return None
        for p in self.params:  # parameters are listed in the order nodes run
            if p.grad is not None and not bool(torch.isfinite(p.grad).all()):
                return self.owners[id(p)]
        return "gradient"

    def outcome(self, losses: list[float], accs: list[float], div: Divergence | None
                ) -> StepOutcome:
        return StepOutcome(np.asarray(losses, dtype=np.float64),
                           np.asarray(accs, dtype=np.float64) if self.classify else None, div)

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


def parameter_owners(run: PreparedRun) -> dict[int, str]:
    """Parameter identity -> node id, for naming the layer whose gradient broke."""
    owners: dict[int, str] = {}
    for node_id in run.model.order:
        for p in run.model.layers[node_id].parameters():
            owners[id(p)] = node_id
    return owners
