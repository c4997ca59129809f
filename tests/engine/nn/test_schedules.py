"""Schedules and penalties against torch as the oracle."""

from __future__ import annotations

import pytest
import torch

from engine import SCHEDULES
from engine.core.registry import parse_params


def torch_lrs(make, steps: int) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


CASES = [
    ("constant", {}, lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda s: 1.0)),
    ("step", {"step_size": 7, "gamma": 0.5},
     lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.5)),
    ("exponential", {"gamma": 0.9}, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    ("cosine", {"T_max": 30}, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 30)),
    ("warmup", {"warmup_steps": 10, "start_factor": 0.1},
     lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, total_iters=10)),
]


@pytest.mark.parametrize(("name", "params", "make"), CASES)
def test_schedule_matches_torch(name, params, make) -> None:
    entry = SCHEDULES.get(name)
    parsed = parse_params(entry, params, node=None, where="schedule.params")
    ours = [entry.factor(parsed, s, 30) for s in range(30)]
    assert ours == pytest.approx(torch_lrs(make, 30), rel=1e-6, abs=1e-9)
