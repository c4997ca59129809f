"""The supervised family: classification and regression of labelled samples by one network.

Its step is `AutogradStep` (any graph, any loss) or, for plain MLPs on the CPU, the fused NumPy
step that accelerates it and declines what it has no twin for. Metrics: the loss on each
step's batch and on the whole train and test splits; for classes, accuracy likewise.
May import: stdlib, numpy, engine modules below the trainer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.core.errors import LocatedError, shown
from engine.core.metrics import MetricInfo, metric_group
from engine.families.base import FAMILIES, Family, finite_metrics
from engine.families.tasks import TASKS

if TYPE_CHECKING:
    from engine.core.run import Choices, PreparedRun
    from engine.core.specs import RunSpec
    from engine.core.steps import StepOutcome, StepStrategy
    from engine.data import Dataset, DataShape
    from engine.nn.graph import GraphReport

LOSS = metric_group("loss", "Loss", "loss", "Loss")
ACCURACY = metric_group("accuracy", "Accuracy", "accuracy", "Accuracy", lower_is_better=False,
                        range=(0.0, 1.0))


class Supervised(Family):
    name = "supervised"
    description = ("Learn labels from samples: classes (classification) or a value "
                   "(regression), with one network trained by a loss on its output.")
    roles = ("model",)

    def catalog_metrics(self) -> list[MetricInfo]:
        return LOSS + ACCURACY

    def metrics(self, data: Dataset) -> list[MetricInfo]:
        return LOSS + (ACCURACY if data.n_classes is not None else [])

    def check(self, spec: RunSpec, data: DataShape, report: GraphReport | None,
              choices: Choices | None, errors: list[LocatedError]) -> None:
        check_task(spec, data, choices, errors)
        if report is not None and report.ok and choices is not None:
            check_output(report, data, choices, errors)

    def cpu_reason(self, run: PreparedRun) -> str | None:
        from engine.families.fused.mlp import fused_unsupported_reason

        if run.spec.training.fast_path and fused_unsupported_reason(run) is None:
            return ("a plain MLP trains faster on the CPU's fused NumPy step than with "
                    "autograd on a GPU (about 10-60x at playground sizes)")
        return None

    def make_step(self, run: PreparedRun) -> StepStrategy:
        from engine.core.steps import AutogradStep
        from engine.families.fused.mlp import FusedMLPStep, fused_unsupported_reason

        if run.spec.training.fast_path and fused_unsupported_reason(run) is None:
            return FusedMLPStep(run)
        return AutogradStep(run)

    def step_metrics(self, outcome: StepOutcome) -> dict[str, np.ndarray]:
        found = {"loss": outcome.losses}
        if outcome.accuracies is not None:
            found["accuracy"] = outcome.accuracies
        return found

    def evaluate(self, step: StepStrategy) -> dict[str, float]:
        train_loss, train_acc = step.evaluate("train")
        test_loss, test_acc = step.evaluate("test")
        return finite_metrics({"train_loss": train_loss, "test_loss": test_loss,
                               "train_accuracy": train_acc, "test_accuracy": test_acc})


def check_task(spec: RunSpec, data: DataShape | None, choices: Choices | None,
               errors: list[LocatedError]) -> None:
    task = spec.training.task
    if task not in TASKS:
        errors.append(LocatedError(None, "training.task", f"unknown task {shown(task)}; known: "
                                   f"{', '.join(TASKS.names())}"))
        return
    if data is not None and data.task != task:
        errors.append(LocatedError(None, "training.task", f"data set {data.name!r} is for "
                                   f"{data.task}, not {task}"))
    if choices is not None and task not in choices.loss.tasks:
        errors.append(LocatedError(None, "training.loss.name", f"loss {choices.loss.name!r} "
                                   f"does not fit {task}; it fits {', '.join(choices.loss.tasks)}"))


def check_output(report: GraphReport, data: DataShape, choices: Choices,
                 errors: list[LocatedError]) -> int:
    """The output's features, or 0 with a located error when the loss cannot take it."""
    out_node = next(n for n in report.nodes if n.id == report.output)
    shape = out_node.output_shape or []
    if data.n_classes is None and data.task not in choices.loss.tasks:
        if not any(e.field == "training.loss.name" for e in errors):  # said once is enough
            errors.append(LocatedError(None, "training.loss.name", f"{choices.loss.name} needs "
                                       f"a {' or '.join(choices.loss.tasks)} task, and data set "
                                       f"{data.name!r} is {data.task} (real-valued targets)"))
        return 0
    wants = choices.loss.wants(data.n_classes)
    what = f"{data.n_classes} classes" if data.n_classes else "a value"
    if len(shape) != 1 or not choices.loss.accepts(shape[0], data.n_classes):
        errors.append(LocatedError(out_node.id, "out_features",
                                   f"{choices.loss.name} on {what} needs output {wants}, "
                                   f"got {out_node.shape_text}"))
        return 0
    return shape[0]


FAMILIES.register(Supervised())
