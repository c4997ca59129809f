"""What an autoencoder shows while it learns: test samples beside their reconstructions (for
denoising: noisy, reconstructed, clean), the code of the test set as a 2-D scatter coloured by
label (a principal-component projection of a wider code), and how sparse the code is.

Two probes and their events, registered from here: the event union, the hub and the server
know nothing of them. Images travel as uint8, other samples as float32.
May import: stdlib, numpy, torch, pydantic, engine modules below the trainer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import Field

from engine.core.arrays import Array
from engine.core.events import Event, register_event
from engine.families.autoencoder import AutoencoderStep, hoyer
from engine.probes.registry import PROBES, ProbeEntry, ProbeParams

EventFields = tuple[type[Event], dict[str, Any]]
FAMILY = frozenset({"autoencoder"})


@register_event
class ReconstructionsSampled(Event):
    """Fixed test samples, one row each of `rows` ('clean', then 'noisy' when denoising,
    then 'reconstructed'): images as uint8 (0: 0.0, 255: 1.0, clipped), others as float32."""

    type: Literal["reconstructions_sampled"] = "reconstructions_sampled"
    rows: list[str]
    sample_shape: list[int] = Field(description="One sample's shape, e.g. [1, 8, 8].")
    images: Annotated[np.ndarray, Array("uint8", ("rows", "K", "C", "H", "W"))] | None = None
    values: Annotated[np.ndarray, Array("float32", ("rows", "K", "F"))] | None = None
    labels: Annotated[np.ndarray, Array("int32", ("K",))] | None = None
    error: list[float] = Field(description="Each sample's reconstruction error (the loss).")


@register_event
class CodeSampled(Event):
    """The code of the test set: 2-D points (the code itself, or its first two principal
    components), each sample's label, and per code unit its mean |h| and active share."""

    type: Literal["code_sampled"] = "code_sampled"
    units: int
    projection: Literal["identity", "pca"]
    explained: list[float] = Field(description="PCA: the share of the code's variance along "
                                   "each shown axis; identity: [1, 1] or [1].")
    points: Annotated[np.ndarray, Array("float32", ("N", "D"))]
    labels: Annotated[np.ndarray, Array("int32", ("N",))] | None = None
    mean_abs: Annotated[np.ndarray, Array("float32", ("U",))]
    active: Annotated[np.ndarray, Array("float32", ("U",))] = Field(
        description="Per unit, the share of samples where |h| exceeds a tenth of the code's "
        "largest |h|.")
    sparsity: float = Field(description="Mean Hoyer sparsity (0: dense, 1: one unit).")


class ReconstructionsParams(ProbeParams):
    every: int = Field(50, ge=0, le=1_000_000, description="Steps between samples (0: off).")
    max_hz: float | None = Field(2.0, gt=0, le=1000, description="Ceiling on samples per second.")


class CodeParams(ProbeParams):
    every: int = Field(100, ge=0, le=1_000_000, description="Steps between samples (0: off).")
    max_hz: float | None = Field(1.0, gt=0, le=1000, description="Ceiling on samples per second.")
    max_points: int = Field(500, ge=10, le=5000, description="Test samples in the scatter.")


def as_images(x: torch.Tensor, shape: tuple[int, ...]) -> np.ndarray:
    """(K, F) values in [0, 1] as (K, C, H, W) uint8."""
    img = x.reshape(len(x), *shape).clamp(0, 1).mul(255).round()
    return img.to(torch.uint8).cpu().numpy()


class Reconstructions:
    def __init__(self, step: AutoencoderStep) -> None:
        k = step.p.probe_samples
        self.step, self.shape = step, tuple(step.run.data.input_shape)
        self.clean, self.noisy = step.x["test"][:k], step.noisy["test"][:k]
        self.labels = step.run.data.y_test[:k]

    @torch.no_grad()
    def sample(self, _ctx: Any) -> EventFields:
        step, denoise = self.step, self.step.p.noise != "none"
        _, recon = step.codes(self.noisy)
        flat = self.clean.reshape(len(self.clean), -1)
        rows = [("clean", flat)] + ([("noisy", self.noisy.reshape(len(flat), -1))]
                                    if denoise else []) + [("reconstructed", recon)]
        error = [float(step.loss_fn(step.forward(self.noisy[i:i + 1])[1], flat[i:i + 1]))
                 for i in range(len(flat))]
        fields: dict[str, Any] = {"type": "reconstructions_sampled", "rows": [r[0] for r in rows],
                                  "sample_shape": list(self.shape), "error": error}
        if len(self.shape) == 3:
            fields["images"] = np.stack([as_images(v, self.shape) for _, v in rows])
        else:
            fields["values"] = torch.stack([v for _, v in rows]).float().cpu().numpy()
        if step.run.data.n_classes is not None:
            fields["labels"] = self.labels.astype(np.int32)
        return ReconstructionsSampled, fields


def project(code: torch.Tensor) -> tuple[np.ndarray, str, list[float]]:
    """(N, 2) points of the code (or (N, 1) for a one-unit code), the projection, the share of
    variance along each axis."""
    if code.shape[1] <= 2:
        return code.float().cpu().numpy(), "identity", [1.0] * code.shape[1]
    centred = code.double() - code.double().mean(0)
    _, s, v = torch.linalg.svd(centred, full_matrices=False)
    var = s ** 2
    share = (var[:2] / var.sum().clamp_min(1e-30)).tolist()
    return (centred @ v[:2].T).float().cpu().numpy(), "pca", share


class Code:
    def __init__(self, step: AutoencoderStep, p: CodeParams) -> None:
        self.step, self.x = step, step.x["test"][:p.max_points]
        data = step.run.data
        self.labels = data.y_test[:p.max_points].astype(np.int32) \
            if data.n_classes is not None else None

    def sample(self, _ctx: Any) -> EventFields:
        code, _ = self.step.codes(self.x)
        points, how, explained = project(code)
        mag = code.abs()
        active = (mag > 0.1 * mag.max().clamp_min(1e-12)).float().mean(0)
        return CodeSampled, {
            "type": "code_sampled", "units": int(code.shape[1]), "projection": how,
            "explained": explained, "points": points, "labels": self.labels,
            "mean_abs": mag.mean(0).float().cpu().numpy(),
            "active": active.cpu().numpy(), "sparsity": hoyer(code)}


PROBES.register(ProbeEntry(
    "reconstructions", "Test samples beside their reconstructions (denoising: noisy, "
    "reconstructed, clean), with each one's error.", ReconstructionsParams,
    ("reconstructions_sampled",), factory=lambda ctx, p, old: Reconstructions(ctx.strategy),
    families=FAMILY, view=True))
PROBES.register(ProbeEntry(
    "code", "The test set's code as a 2-D scatter coloured by label (PCA of a wider code), "
    "and each code unit's mean |h| and active share: how sparse the code is.", CodeParams,
    ("code_sampled",), factory=lambda ctx, p, old: Code(ctx.strategy, p), families=FAMILY,
    view=True))
