"""The server's limits on what runs may ask of its machine: parameters, steps, queue, wall time.

The engine's check reports a graph's parameter count; the steps a run plans come from its
budget (steps, or epochs over the training split, sized from the data set's parameters). Each
refusal says the limit and the setting that raises it (server.settings, "# limits").
May import: stdlib, server.settings, engine's public names.
"""

from __future__ import annotations

import math

from engine import DATASETS, GraphReport, LocatedError, RunSpec, load_dataset
from server.settings import Settings


def size_errors(spec: RunSpec, report: GraphReport | None,
                settings: Settings) -> list[LocatedError]:
    """What a valid spec asks past this server's limits on parameters and steps."""
    errors: list[LocatedError] = []
    if report is not None and report.total_params > settings.max_params:
        errors.append(LocatedError(None, "networks", f"the networks have "
                                   f"{report.total_params:,} parameters; this server allows at "
                                   f"most {settings.max_params:,} (LIVEGRAD_MAX_PARAMS raises "
                                   "the limit)"))
    steps = planned_steps(spec, settings.max_steps)
    if steps > settings.max_steps:
        field = "training.steps" if spec.training.steps is not None else "training.epochs"
        errors.append(LocatedError(None, field, f"the run plans {steps:,} steps; this server "
                                   f"allows at most {settings.max_steps:,} (LIVEGRAD_MAX_STEPS "
                                   "raises the limit)"))
    return errors


def planned_steps(spec: RunSpec, ceiling: int) -> int:
    """The steps a run's budget comes to; past `ceiling`, any number above it will do."""
    t = spec.training
    if t.steps is not None:
        return t.steps
    epochs = t.epochs or 1
    if epochs > ceiling:  # at least one step an epoch: no need to size the data
        return epochs
    return epochs * math.ceil(train_examples(spec) / t.batch_size)


def train_examples(spec: RunSpec) -> int:
    """The training split's size from the data parameters (every built-in set has n_points and
    train_fraction); a set without them is loaded (cached) and counted."""
    params = DATASETS.get(spec.data.name).params.model_validate(spec.data.params)
    n_points = getattr(params, "n_points", None)
    fraction = getattr(params, "train_fraction", None)
    if isinstance(n_points, int) and isinstance(fraction, float):
        return max(int(round(fraction * n_points)), 1)
    return len(load_dataset(spec.data).x_train)


def queue_refusal(queued: int, running: int, settings: Settings) -> str | None:
    """Why a new run may not wait for a worker, or None when it may (or starts at once)."""
    if running < settings.max_concurrent_runs or queued < settings.max_queued_runs:
        return None
    return (f"the run queue is full: {queued} runs wait for one of "
            f"{settings.max_concurrent_runs} workers, and this server queues at most "
            f"{settings.max_queued_runs}; try again when a run ends (LIVEGRAD_MAX_QUEUED_RUNS "
            "raises the limit)")


def time_up_warning(settings: Settings) -> str:
    return (f"stopped: the run passed this server's wall-time limit of "
            f"{settings.max_run_seconds:g} s (LIVEGRAD_MAX_RUN_SECONDS raises the limit)")
