"""What an image classifier shows while it learns: fixed test images with their predicted and
true labels and the prediction's confidence, the confusion matrix over the whole test split,
and the test split's most confident mistakes.

One probe (`predictions`) and its event, registered from here: the event union, the hub and
the server know nothing of them. It applies to supervised classification of images, or of
flat sets whose features are an image's pixels (digits' 64 = 1x8x8: the set says its image
shape); anywhere else (regression, plain features) it has nothing to show and stays off.
By default it samples with each evaluation (the evaluation's period: `training.eval_every`,
else one epoch), and, as a view, on single steps and at the end. Images travel as uint8.
May import: stdlib, numpy, torch, pydantic, engine modules below the trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import torch
from pydantic import Field

from engine.core.arrays import Array
from engine.core.events import Event, register_event
from engine.nn.losses import predict_classes
from engine.probes.registry import PROBES, ProbeEntry, ProbeParams

if TYPE_CHECKING:  # prepare imports the families
    from engine.core.run import PreparedRun
    from engine.core.steps import StepStrategy

EventFields = tuple[type[Event], dict[str, Any]]
FAMILY = frozenset({"supervised"})
KINDS = frozenset({"image", "vector"})  # 'vector' sets apply when they say their image shape
IMAGES = ("K", "C", "H", "W")
MISTAKES = ("M", "C", "H", "W")


@register_event
class PredictionsSampled(Event):
    """The classifier on the test split: its first K samples (the same ones each time) with
    their true and predicted class and the predicted class's softmax probability; the
    confusion matrix and accuracy over the whole split; its M most confident mistakes, most
    confident first (M may be 0). Images as uint8: 0 and 255 are the set's pixel range's
    ends (0.0 and 1.0 for every built-in set), clipped."""

    type: Literal["predictions_sampled"] = "predictions_sampled"
    sample_shape: list[int] = Field(description="One image's shape (C, H, W), e.g. [1, 8, 8].")
    class_names: list[str] = Field(description="Each class's name, by index (e.g. '0'..'9').")
    images: Annotated[np.ndarray, Array("uint8", IMAGES)]
    labels: Annotated[np.ndarray, Array("int32", ("K",))]
    predicted: Annotated[np.ndarray, Array("int32", ("K",))]
    confidence: Annotated[np.ndarray, Array("float32", ("K",))] = Field(
        description="The softmax probability of the predicted class (one output s: of the "
        "two-class softmax of (0, s), i.e. sigmoid(s) for class 1).")
    confusion: Annotated[np.ndarray, Array("int32", ("classes", "classes"))] = Field(
        description="Test samples per (true class: row, predicted class: column).")
    mistake_images: Annotated[np.ndarray, Array("uint8", MISTAKES)]
    mistake_labels: Annotated[np.ndarray, Array("int32", ("M",))]
    mistake_predicted: Annotated[np.ndarray, Array("int32", ("M",))]
    mistake_confidence: Annotated[np.ndarray, Array("float32", ("M",))]
    accuracy: float = Field(description="Share of the test split classified right: the "
                            "confusion matrix's trace over its sum.")


class PredictionsParams(ProbeParams):
    # None widens the base's int: the hub reads it as the evaluation's period (Telemetry.period)
    every: int | None = Field(  # type: ignore[assignment]
        None, ge=0, le=1_000_000, description="Steps between samples (0: off; none: with each "
        "evaluation, i.e. every training.eval_every steps, else once per epoch).")
    max_hz: float | None = Field(2.0, gt=0, le=1000, description="Ceiling on samples per second.")
    samples: int = Field(32, ge=1, le=256, description="Test images shown with their "
                         "prediction (the first ones of the test split).")
    mistakes: int = Field(8, ge=0, le=64, description="Most confident mistakes shown.")


def classify(out: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(N,) predicted classes, by the rule the accuracy uses (predict_classes), and (N,)
    float32 softmax probabilities of them."""
    out = out.double()
    predicted = predict_classes(out)
    if out.shape[1] == 1:  # one score s: the softmax of (0, s)
        p1 = torch.sigmoid(out[:, 0])
        confidence = torch.where(predicted == 1, p1, 1 - p1)
    else:
        confidence = torch.softmax(out, dim=1).gather(1, predicted[:, None])[:, 0]
    return predicted.cpu().numpy().astype(np.int32), confidence.float().cpu().numpy()


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, C) int32 counts, rows the true class, columns the predicted one."""
    flat = labels.astype(np.int64) * n_classes + predicted
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes).astype(np.int32)


def most_confident_mistakes(labels: np.ndarray, predicted: np.ndarray,
                            confidence: np.ndarray, m: int) -> np.ndarray:
    """Indices of at most m mistakes, most confident first (a non-finite confidence last)."""
    wrong = np.flatnonzero(predicted != labels)
    rank = np.nan_to_num(confidence[wrong], nan=-1.0)
    return wrong[np.argsort(-rank, kind="stable")[:m]]


class Predictions:
    """The probe on one run; `active` is False where it has nothing to show."""

    def __init__(self, run: PreparedRun, strategy: StepStrategy, p: PredictionsParams) -> None:
        data = run.data
        self.shape = data.sample_image_shape
        self.active = self.shape is not None and data.n_classes is not None
        self.data, self.strategy, self.p = data, strategy, p
        if not self.active:
            return
        self.labels = data.y_test.astype(np.int32)  # (N,)
        k = min(p.samples, len(self.labels))
        self.images = data.images(data.x_test[:k])  # (K, C, H, W): the same ones each time

    @torch.no_grad()
    def sample(self, _ctx: Any) -> EventFields | None:
        if not self.active:
            return None
        data, labels, k = self.data, self.labels, len(self.images)
        predicted, confidence = classify(self.strategy.outputs(data.x_test))
        confusion = confusion_matrix(labels, predicted, int(data.n_classes or 0))
        worst = most_confident_mistakes(labels, predicted, confidence, self.p.mistakes)
        return PredictionsSampled, {
            "type": "predictions_sampled", "sample_shape": list(self.shape or ()),
            "class_names": data.named_classes, "images": self.images, "labels": labels[:k],
            "predicted": predicted[:k], "confidence": confidence[:k], "confusion": confusion,
            "mistake_images": data.images(data.x_test[worst]),
            "mistake_labels": labels[worst], "mistake_predicted": predicted[worst],
            "mistake_confidence": confidence[worst],
            "accuracy": float(np.trace(confusion) / max(len(labels), 1))}


PROBES.register(ProbeEntry(
    "predictions", "An image classifier's test images with their predicted and true labels "
    "and confidence, the confusion matrix over the test split and its most confident "
    "mistakes; by default with each evaluation.", PredictionsParams,
    ("predictions_sampled",), factory=lambda ctx, p, old: Predictions(ctx.run, ctx.strategy, p),
    data_kinds=KINDS, families=FAMILY, view=True))
