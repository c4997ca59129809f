"""A run spec checked as a whole and turned into what the loop needs.

`prepare_run` collects every located error it can find (data, training choices, graph,
output shape against the loss) before raising, so that one answer lists them all.
May import: stdlib, numpy, torch, engine modules (not the trainer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from engine.data import Dataset, load_dataset
from engine.errors import DeviceError, LocatedError, SpecError
from engine.graph import GraphModel, GraphReport, build_model, inspect_graph
from engine.initializers import INITIALIZERS, InitEntry, initialize
from engine.losses import LOSSES, LossEntry
from engine.optimizers import OPTIMIZERS, OptimizerEntry
from engine.registry import parse_params
from engine.regularizers import CLIPPERS, REGULARIZERS, ClipEntry
from engine.schedules import SCHEDULES, ScheduleEntry
from engine.specs import Choice, RunSpec
from engine.tasks import TASKS


@dataclass
class Choices:
    loss: LossEntry
    loss_params: Any
    optimizer: OptimizerEntry
    optimizer_params: Any
    schedule: ScheduleEntry
    schedule_params: Any
    l1: float
    l2: float
    clip: ClipEntry
    clip_params: Any
    init: InitEntry
    init_params: Any


@dataclass
class PreparedRun:
    spec: RunSpec
    data: Dataset
    model: GraphModel
    report: GraphReport
    choices: Choices
    device: torch.device
    out_features: int
    steps_per_epoch: int
    total_steps: int

    @property
    def base_lr(self) -> float:
        return float(self.choices.optimizer_params.lr)


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU; 'cuda' without CUDA is refused."""
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("device 'cuda' was asked for but this machine has no usable CUDA "
                          "device (torch.cuda.is_available() is False); use 'auto' or 'cpu'")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def choose(registry: Any, choice: Choice, where: str, errors: list[LocatedError]) -> Any:
    try:
        entry = registry.get(choice.name, field=f"{where}.name")
        return entry, parse_params(entry, choice.params, node=None, where=f"{where}.params")
    except SpecError as exc:
        errors.extend(exc.errors)
        return None, None


def parse_choices(spec: RunSpec, errors: list[LocatedError]) -> Choices | None:
    t = spec.training
    found = {
        "loss": choose(LOSSES, t.loss, "training.loss", errors),
        "optimizer": choose(OPTIMIZERS, t.optimizer, "training.optimizer", errors),
        "schedule": choose(SCHEDULES, t.schedule, "training.schedule", errors),
        "regularizer": choose(REGULARIZERS, t.regularizer, "training.regularizer", errors),
        "clip": choose(CLIPPERS, t.clip, "training.clip", errors),
        "init": choose(INITIALIZERS, t.init, "training.init", errors),
    }
    if any(entry is None for entry, _ in found.values()):
        return None
    reg, reg_params = found["regularizer"]
    l1, l2 = reg.weights(reg_params)
    (loss, loss_p), (opt, opt_p) = found["loss"], found["optimizer"]
    (sched, sched_p), (clip, clip_p), (init, init_p) = (
        found["schedule"], found["clip"], found["init"])
    return Choices(loss, loss_p, opt, opt_p, sched, sched_p, l1, l2, clip, clip_p, init, init_p)


def check_task(spec: RunSpec, data: Dataset | None, choices: Choices | None,
               errors: list[LocatedError]) -> None:
    task = spec.training.task
    if task not in TASKS:
        errors.append(LocatedError(None, "training.task", f"unknown task {task!r}; known: "
                                   f"{', '.join(TASKS.names())}"))
        return
    if data is not None and data.task != task:
        errors.append(LocatedError(None, "training.task", f"data set {data.name!r} is for "
                                   f"{data.task}, not {task}"))
    if choices is not None and task not in choices.loss.tasks:
        errors.append(LocatedError(None, "training.loss.name", f"loss {choices.loss.name!r} "
                                   f"does not fit {task}; it fits {', '.join(choices.loss.tasks)}"))


def check_output(report: GraphReport, data: Dataset, choices: Choices,
                 errors: list[LocatedError]) -> int:
    out_node = next(n for n in report.nodes if n.id == report.output)
    shape = out_node.output_shape or []
    wants = choices.loss.wants(data.n_classes)
    what = f"{data.n_classes} classes" if data.n_classes else "a value"
    if len(shape) != 1 or not choices.loss.accepts(shape[0], data.n_classes):
        errors.append(LocatedError(out_node.id, "out_features",
                                   f"{choices.loss.name} on {what} needs output {wants}, "
                                   f"got {out_node.shape_text}"))
        return 0
    return shape[0]


def check_probes(spec: RunSpec, errors: list[LocatedError]) -> None:
    from engine.probes.registry import probe_settings  # the probes import this module

    try:
        probe_settings(spec.training.telemetry)
    except SpecError as exc:
        errors.extend(exc.errors)


def check_spec(spec: RunSpec) -> tuple[list[LocatedError], GraphReport | None]:
    """Every located error in a run spec, and the graph report when the data loaded."""
    errors: list[LocatedError] = []
    data = None
    try:
        data = load_dataset(spec.data)
    except SpecError as exc:
        errors.extend(exc.errors)
    choices = parse_choices(spec, errors)
    check_task(spec, data, choices, errors)
    check_probes(spec, errors)
    if data is None:
        return errors, None
    report = inspect_graph(spec.network, data.input_shape)
    errors.extend(report.errors)
    if report.ok and choices is not None:
        check_output(report, data, choices, errors)
    return errors, report


def prepare_run(spec: RunSpec) -> PreparedRun:
    errors, _ = check_spec(spec)
    if errors:
        raise SpecError(errors)
    device = resolve_device(spec.training.device)
    data = load_dataset(spec.data)
    choices = parse_choices(spec, errors)
    assert choices is not None
    torch.manual_seed(spec.training.seed)
    model, report = build_model(spec.network, data.input_shape)
    initialize(model, choices.init, choices.init_params)
    model.to(device)
    out_features = check_output(report, data, choices, errors)
    per_epoch = math.ceil(len(data.x_train) / spec.training.batch_size)
    t = spec.training
    total = t.steps if t.steps is not None else per_epoch * (t.epochs or 1)
    return PreparedRun(spec, data, model, report, choices, device, out_features, per_epoch, total)
