"""What the loop needs of a run, once its spec is checked: the data, the model, the parsed
choices, the device and the family. `engine.core.prepare` makes it; the families, the step
strategies, the probes and the loop read it.
May import: stdlib, torch, engine.core, engine.data, engine.nn (the family's type only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from engine.core.specs import RunSpec
from engine.data import Dataset
from engine.nn.graph import GraphModel, GraphReport
from engine.nn.initializers import InitEntry
from engine.nn.losses import LossEntry
from engine.nn.optimizers import OptimizerEntry
from engine.nn.regularizers import ClipEntry
from engine.nn.schedules import ScheduleEntry

if TYPE_CHECKING:
    from engine.families.base import Family


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
    family: Family
    device_reason: str = ""
    family_params: Any = None  # the family's own parameters, validated

    @property
    def base_lr(self) -> float:
        return float(self.choices.optimizer_params.lr)
