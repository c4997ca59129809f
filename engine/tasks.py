"""The task registry: what is learned from a data set (classes, a value, later more).

A task decides which losses fit it and which metrics its evaluation reports; model
families that need their own step (autoencoders, GANs, RBMs) plug in here later.
May import: stdlib, pydantic, engine.registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.registry import Params, Registry


class NoParams(Params):
    pass


@dataclass(frozen=True)
class TaskEntry:
    name: str
    description: str
    params: type[Params] = NoParams
    metrics: tuple[str, ...] = field(default=("loss",))


TASKS: Registry[TaskEntry] = Registry("task")
TASKS.register(TaskEntry("classification", "Predict a class for each sample.",
                         metrics=("loss", "accuracy")))
TASKS.register(TaskEntry("regression", "Predict a real value for each sample."))
