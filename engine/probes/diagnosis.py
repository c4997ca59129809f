"""The divergence diagnosis: where a run broke, the recent per-layer gradient norms, and a
plain-language reading ("the gradient norm of dense1 grew 10⁴× in 20 steps before the loss
became infinite; the learning rate 3 is above 2/λ_max ≈ 0.4"), read as cliffs and
exploding gradients, or an ill-conditioned Hessian.
May import: stdlib, numpy, engine.core.events and the probes' own modules.
"""

from __future__ import annotations

import numpy as np

from engine.core.events import Diagnosis
from engine.probes.stats import finite_rows, fmt

GROWTH_WORTH_TELLING = 10.0


def growth_sentence(layers: list[str], steps: list[int], norms: np.ndarray) -> str | None:
    """The layer whose gradient norm grew the most over the kept samples, as a clause."""
    if norms.shape[1] < 2:
        return None
    last = norms[:, -1]
    low_at = np.argmin(norms[:, :-1], axis=1)  # (L,)
    low = norms[np.arange(len(layers)), low_at]
    growth = last / np.maximum(low, 1e-30)
    i = int(np.argmax(growth))
    if not growth[i] >= GROWTH_WORTH_TELLING:
        return (f"gradient norms stayed within {fmt(float(max(growth[i], 1.0)))}× over the "
                f"last {steps[-1] - steps[0]} steps (largest: {layers[i]})")
    span = steps[-1] - steps[int(low_at[i])]
    return (f"the gradient norm of {layers[i]} grew {fmt(float(growth[i]))}× in {span} "
            f"step{'s' if span != 1 else ''} (from {fmt(float(low[i]))} to "
            f"{fmt(float(last[i]))})")


def lr_sentence(lr: float, lam: float | None, optimizer: str) -> str:
    if lam is None or lam <= 0:
        return (f"the learning rate is {fmt(lr)}; turn on the curvature probe to compare it "
                "with 2/λ_max, or try a smaller one or gradient clipping")
    bound = 2 / lam
    side = "above" if lr > bound else "below"
    text = f"the learning rate {fmt(lr)} is {side} 2/λ_max ≈ {fmt(bound)}"
    if lr > bound and optimizer == "sgd":
        text += ", so each step overshoots along the sharpest direction of the loss"
    elif optimizer != "sgd":
        text += f" (the bound is plain gradient descent's; {optimizer} differs)"
    return text


def diagnose(step: int, quantity: str, lr: float, layers: list[str], steps: list[int],
             norms: np.ndarray, lam: float | None, optimizer: str) -> Diagnosis:
    """`norms`: (L, S) per-layer gradient norms at `steps`, the last finite ones."""
    what = "the loss became non-finite" if quantity == "loss" \
        else f"the {quantity} became non-finite"
    parts = [f"at step {step} {what}"]
    grew = growth_sentence(layers, steps, norms)
    if grew is not None:
        parts = [f"{grew} before {what} at step {step}"]
    parts.append(lr_sentence(lr, lam, optimizer))
    reading = "; ".join(parts)
    return Diagnosis(step=step, quantity=quantity, lr=lr, layers=layers, steps=steps,
                     grad_norm=finite_rows(norms) if norms.size else [[] for _ in layers],
                     lambda_max=lam, stable_lr=2 / lam if lam is not None and lam > 0 else None,
                     reading=reading[0].upper() + reading[1:] + ".")
