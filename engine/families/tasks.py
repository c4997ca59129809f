"""The task registry: what is learned from a data set (classes, a value, later more).

A task decides which losses fit it; what is reported and how a step is computed belong to
the model family (engine/families).
May import: stdlib, pydantic, engine.core.registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core.registry import Params, Registry


class NoParams(Params):
    pass


@dataclass(frozen=True)
class TaskEntry:
    name: str
    description: str
    params: type[Params] = NoParams


TASKS: Registry[TaskEntry] = Registry("task")
TASKS.register(TaskEntry("classification", "Predict a class for each sample."))
TASKS.register(TaskEntry("regression", "Predict a real value for each sample."))
TASKS.register(TaskEntry("reconstruction", "Reproduce each sample from a code of it (an "
                         "autoencoder): the targets are the inputs."))
