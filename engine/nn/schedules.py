"""The learning-rate schedule registry: a pure factor of the step, times the base rate.

Pure functions keep a mid-run learning-rate change simple (it replaces the base rate) and
let the fused fast path and the autograd path share them. tests/engine checks each against
its torch.optim.lr_scheduler twin.
May import: stdlib, math, pydantic, engine.core.registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from engine.core.registry import Params, Registry


@dataclass(frozen=True)
class ScheduleEntry:
    name: str
    description: str
    params: type[Params]
    factor: Callable[[Any, int, int], float]  # (params, step, total_steps) -> multiplier


SCHEDULES: Registry[ScheduleEntry] = Registry("schedule")


class NoParams(Params):
    pass


class StepParams(Params):
    step_size: int = Field(100, ge=1, le=10_000_000, description="Steps between decays.")
    gamma: float = Field(0.5, gt=0, le=1, description="Factor applied at each decay.")


class ExponentialParams(Params):
    gamma: float = Field(0.999, gt=0, le=1, description="Factor applied every step.")


class CosineParams(Params):
    T_max: int | None = Field(None, ge=1, description="Steps of one half-cosine; default: all.")
    eta_min: float = Field(0.0, ge=0, le=1, description="Final rate as a fraction of the base.")


class WarmupParams(Params):
    warmup_steps: int = Field(100, ge=1, le=10_000_000, description="Steps of linear warm-up.")
    start_factor: float = Field(0.01, gt=0, le=1, description="Fraction of the rate at step 0.")


def cosine(p: CosineParams, step: int, total: int) -> float:
    t_max = p.T_max or max(total, 1)
    return p.eta_min + (1 - p.eta_min) * (1 + math.cos(math.pi * min(step, t_max) / t_max)) / 2


def warmup(p: WarmupParams, step: int, total: int) -> float:
    if step >= p.warmup_steps:
        return 1.0
    return p.start_factor + (1 - p.start_factor) * step / p.warmup_steps


SCHEDULES.register(ScheduleEntry("constant", "The same rate at every step.", NoParams,
                                 lambda p, s, t: 1.0))
SCHEDULES.register(ScheduleEntry("step", "Multiply the rate by gamma every step_size steps.",
                                 StepParams, lambda p, s, t: p.gamma ** (s // p.step_size)))
SCHEDULES.register(ScheduleEntry("exponential", "Multiply the rate by gamma every step.",
                                 ExponentialParams, lambda p, s, t: p.gamma**s))
SCHEDULES.register(ScheduleEntry("cosine", "Half a cosine from the base rate to eta_min.",
                                 CosineParams, cosine))
SCHEDULES.register(ScheduleEntry("warmup", "Linear warm-up from start_factor, then constant.",
                                 WarmupParams, warmup))
