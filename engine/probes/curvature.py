"""The curvature probe: the largest eigenvalue of the loss's Hessian by power iteration on
Hessian-vector products (Pearlmutter's trick: differentiate g·v), on a fixed training batch in
eval mode. For plain gradient descent on a quadratic the step is stable when lr < 2/λ_max;
past it the iterates grow along the sharpest direction (ill-conditioning).
May import: stdlib, numpy, torch, engine.core.events, engine.core.prepare, engine.nn.regularizers
and the probes' own modules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from engine.core.events import CurvatureEstimated
from engine.core.run import PreparedRun
from engine.nn.regularizers import penalty
from engine.probes.registry import CurvatureParams


class CurvatureProbe:
    def __init__(self, run: PreparedRun, params: CurvatureParams) -> None:
        self.run = run
        self.p = params
        c, data = run.choices, run.data
        n = min(params.batch, len(data.x_train))
        self.x = torch.from_numpy(np.ascontiguousarray(data.x_train[:n])).to(run.device)
        targets = c.loss.targets(data.y_train[:n], run.out_features, data.n_classes)
        self.y = targets.to(run.device)
        self.loss_fn = c.loss.make(c.loss_params, run.out_features)
        self.last: float | None = None  # the latest λ_max, for warnings and the diagnosis

    def estimate(self) -> tuple[float, int, bool]:
        """(λ_max, iterations, converged) at the current weights."""
        model = self.run.model
        params: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
        was_training = model.training
        model.eval()  # deterministic: no dropout noise in the curvature
        try:
            return self.power_iteration(model, params)
        finally:
            model.train(was_training)

    def power_iteration(self, model: Any, params: list[torch.Tensor]) -> tuple[float, int, bool]:
        c = self.run.choices
        loss = self.loss_fn(model(self.x), self.y)
        extra = penalty([p for p in params if p.dim() >= 2], c.l1, c.l2)
        if extra is not None:
            loss = loss + extra
        grads = torch.autograd.grad(loss, params, create_graph=True)
        gen = torch.Generator().manual_seed(0)  # the same start every time
        v = [torch.randn(p.shape, generator=gen).to(p.device) for p in params]
        v = normalized(v)
        lam, prev = 0.0, math.inf
        for i in range(1, self.p.iterations + 1):
            hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
            lam = float(sum((h * u).sum() for h, u in zip(hv, v, strict=True)))  # vᵀHv
            if not math.isfinite(lam):
                return lam, i, False
            if abs(lam - prev) <= self.p.tol * abs(lam):
                return lam, i, True
            prev = lam
            v = normalized(list(hv))
        return lam, self.p.iterations, False

    def sample(self, lr: float) -> tuple[type[CurvatureEstimated], dict[str, Any]] | None:
        lam, iterations, converged = self.estimate()
        if not math.isfinite(lam):
            return None
        self.last = lam
        return CurvatureEstimated, {
            "type": "curvature_estimated", "lambda_max": lam,
            "stable_lr": 2 / lam if lam > 0 else None, "lr": lr, "iterations": iterations,
            "converged": converged, "batch": len(self.x)}


def normalized(v: list[torch.Tensor]) -> list[torch.Tensor]:
    norm = torch.sqrt(sum((t * t).sum() for t in v))  # type: ignore[arg-type]
    return [t / norm.clamp_min(1e-30) for t in v]
