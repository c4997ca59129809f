"""A run spec checked as a whole and turned into what the loop needs.

`check_spec` collects every located error it can find (data, training choices, graph,
output shape against the loss), so that one answer lists them all; it reads the data set's
shape from its parameters and never generates samples, so checking a spec on every edit costs
shape inference only. `prepare_run` checks, then loads the data (once per choice: the loads are
cached) and builds the model.
May import: stdlib, numpy, torch, engine modules (not the trainer).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from engine.core.errors import DeviceError, LocatedError, SpecError
from engine.core.registry import parse_params
from engine.core.run import Choices, PreparedRun
from engine.core.specs import Choice, NetworkSpec, RunSpec
from engine.data import DataShape, describe_dataset, load_dataset, writable_copy
from engine.families import FAMILIES, Family
from engine.nn.graph import GraphReport, build_model, inspect_graph
from engine.nn.initializers import INITIALIZERS, initialize
from engine.nn.losses import LOSSES
from engine.nn.optimizers import OPTIMIZERS
from engine.nn.regularizers import CLIPPERS, REGULARIZERS
from engine.nn.schedules import SCHEDULES


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when present, else the CPU; 'cuda' without CUDA is refused."""
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("device 'cuda' was asked for but this machine has no usable CUDA "
                          "device (torch.cuda.is_available() is False); use 'auto' or 'cpu'")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def place(run: PreparedRun) -> None:
    """Move the run's model where it trains fastest. 'auto' asks the family first: a plain
    MLP on the fused NumPy path outruns autograd on a GPU by 10-60x at this size (measured:
    400-1,300 steps/s on an H200 against 11,000-80,000 on the CPU)."""
    asked = run.spec.training.device
    target = resolve_device(asked)
    if asked != "auto":
        run.device_reason = f"device {asked!r} was asked for"
    elif target.type == "cpu":
        run.device_reason = "auto: this machine has no usable CUDA device"
    else:
        cpu_reason = run.family.cpu_reason(run)
        if cpu_reason is not None:
            target = torch.device("cpu")
        run.device_reason = "auto: " + (cpu_reason or "a CUDA device is present")
    run.device = target
    run.model.to(target)


def choose(registry: Any, choice: Choice, where: str, errors: list[LocatedError]) -> Any:
    try:
        entry = registry.get(choice.name, field=f"{where}.name")
        return entry, parse_params(entry, choice.params, node=None, where=f"{where}.params")
    except SpecError as exc:
        errors.extend(exc.errors)
        return None, None


def parse_choices(spec: RunSpec, errors: list[LocatedError]) -> Choices | None:
    t = spec.training
    role = next(iter(t.optimizers))
    found = {
        "loss": choose(LOSSES, t.loss, "training.loss", errors),
        "optimizer": choose(OPTIMIZERS, t.optimizer, f"training.optimizers.{role}", errors),
        "schedule": choose(SCHEDULES, t.schedule, "training.schedule", errors),
        "clip": choose(CLIPPERS, t.clip, "training.clip", errors),
        "init": choose(INITIALIZERS, t.init, "training.init", errors),
    }
    regs = [choose(REGULARIZERS, r, f"training.regularizers.{i}", errors)
            for i, r in enumerate(t.regularizers)]
    if any(entry is None for entry, _ in [*found.values(), *regs]):
        return None
    weights = [reg.weights(params) for reg, params in regs]
    l1, l2 = sum(w[0] for w in weights), sum(w[1] for w in weights)
    (loss, loss_p), (opt, opt_p) = found["loss"], found["optimizer"]
    (sched, sched_p), (clip, clip_p), (init, init_p) = (
        found["schedule"], found["clip"], found["init"])
    return Choices(loss, loss_p, opt, opt_p, sched, sched_p, l1, l2, clip, clip_p, init, init_p)


def check_probes(spec: RunSpec, errors: list[LocatedError]) -> None:
    from engine.probes.registry import probe_settings  # the probes import this module

    try:
        probe_settings(spec.training.telemetry)
    except SpecError as exc:
        errors.extend(exc.errors)


def check_spec(spec: RunSpec) -> tuple[list[LocatedError], GraphReport | None]:
    """Every located error in a run spec, and the graph report when the data choice is valid.
    No sample is generated: the data set's shape comes from its parameters."""
    errors: list[LocatedError] = []
    data: DataShape | None = None
    try:
        data = describe_dataset(spec.data)
    except SpecError as exc:
        errors.extend(exc.errors)
    family = choose_family(spec, errors)
    choices = parse_choices(spec, errors)
    check_probes(spec, errors)
    check_device(spec, errors)
    if data is None:
        return errors, None
    network = family.network(spec, errors) if family is not None else None
    if network is None:
        return errors, None
    check_batch_norm(spec, network, errors)
    report = inspect_graph(network, data.input_shape)
    errors.extend(report.errors)
    if family is not None:
        family.check(spec, data, report, choices, errors)
    return errors, report


def check_device(spec: RunSpec, errors: list[LocatedError]) -> None:
    """A device this machine lacks is refused now, not when a worker tries to use it."""
    try:
        resolve_device(spec.training.device)
    except DeviceError as exc:
        errors.append(LocatedError(None, "training.device", str(exc)))


def check_batch_norm(spec: RunSpec, network: NetworkSpec, errors: list[LocatedError]) -> None:
    """Batch normalisation in training mode divides by the batch's variance: torch refuses a
    batch of one sample, so the run would fail at its first step."""
    if spec.training.batch_size > 1:
        return
    for node in network.nodes:
        if node.kind == "batch_norm1d":
            errors.append(LocatedError(node.id, "training.batch_size", f'batch_norm1d "{node.id}"'
                                       " needs batches of at least 2 samples; batch_size is 1"))


def choose_family(spec: RunSpec, errors: list[LocatedError]) -> Family | None:
    try:
        family = FAMILIES.get(spec.family.name, field="family.name")
        parse_params(family, spec.family.params, node=None, where="family.params")
        return family
    except SpecError as exc:
        errors.extend(exc.errors)
        return None


def output_features(report: GraphReport) -> int:
    """The output node's feature count (dim 1), 0 when its output is not (N, F)."""
    out_node = next(n for n in report.nodes if n.id == report.output)
    shape = out_node.output_shape or []
    return int(shape[0]) if len(shape) == 1 else 0


def prepare_run(spec: RunSpec, checked: bool = False) -> PreparedRun:
    """The run ready to train. `checked`: the caller has had `check_spec` pass on this very
    spec (the server does, before it queues a run), so it is not checked again; building
    the model still refuses a graph it cannot build."""
    errors: list[LocatedError] = []
    if not checked:
        errors, _ = check_spec(spec)
        if errors:
            raise SpecError(errors)
    resolve_device(spec.training.device)  # refuse an impossible device before any work
    # The run's own writable arrays: the steps may share memory with them (torch.from_numpy on
    # the CPU) and the compiled kernel has one signature, for writable arrays. A copy costs a
    # memcpy; the cached set it comes from costs a generation.
    data = writable_copy(load_dataset(spec.data))
    choices = parse_choices(spec, errors)
    torch.manual_seed(spec.training.seed)
    family = FAMILIES.get(spec.family.name)
    network = family.network(spec, errors)
    if choices is None or network is None:  # only when a spec said checked was not
        raise SpecError(errors)
    model, report = build_model(network, data.input_shape)
    initialize(model, choices.init, choices.init_params)
    out_features = output_features(report)
    per_epoch = math.ceil(len(data.x_train) / spec.training.batch_size)
    t = spec.training
    total = t.steps if t.steps is not None else per_epoch * (t.epochs or 1)
    run = PreparedRun(spec, data, model, report, choices, torch.device("cpu"), out_features,
                      per_epoch, total, family)
    place(run)
    run.family_params = parse_params(family, spec.family.params, node=None,
                                     where="family.params")
    return run
