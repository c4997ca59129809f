"""The server's limits, unit by unit: the steps a budget comes to, the parameter and step
refusals (each naming its limit and the variable that raises it), the queue's refusal."""

from __future__ import annotations

import math
from pathlib import Path

from engine import Choice, RunSpec, check_spec, load_dataset
from server.runs.limits import planned_steps, queue_refusal, size_errors, time_up_warning
from server.settings import Settings
from tests.server.conftest import xor_spec


def spec(**training: object) -> RunSpec:
    raw = xor_spec()
    raw["training"].pop("epochs")
    raw["training"].update(training)
    return RunSpec.model_validate(raw)


def test_planned_steps_come_from_steps_or_epochs_over_the_train_split() -> None:
    assert planned_steps(spec(steps=123), 10**7) == 123
    # xor.json: 500 points, half for training, batches of 10: 25 steps an epoch
    assert planned_steps(spec(epochs=4), 10**7) == 100
    assert planned_steps(spec(epochs=4, batch_size=7), 10**7) == 4 * 36
    digits = xor_spec()
    digits["data"] = {"name": "digits"}
    digits["training"]["epochs"] = 2
    n_train = len(load_dataset(Choice(name="digits")).x_train)  # no n_points: counted
    assert planned_steps(RunSpec.model_validate(digits), 10**7) == 2 * math.ceil(n_train / 10)


def test_epochs_past_the_ceiling_need_no_data() -> None:
    assert planned_steps(spec(epochs=1000, batch_size=10), 999) == 1000


def test_refusals_name_the_limit_and_the_variable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_params=10, max_steps=50)
    s = spec(epochs=4)
    _, report = check_spec(s)
    found = {e.field: e.message for e in size_errors(s, report, settings)}
    assert found == {
        "networks": "the networks have 17 parameters; this server allows at most 10 "
                    "(LIVEGRAD_MAX_PARAMS raises the limit)",
        "training.epochs": "the run plans 100 steps; this server allows at most 50 "
                           "(LIVEGRAD_MAX_STEPS raises the limit)"}
    assert size_errors(s, report, Settings(data_dir=tmp_path)) == []


def test_the_queue_refuses_only_when_every_worker_is_busy_and_the_queue_full(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_concurrent_runs=2, max_queued_runs=3)
    assert queue_refusal(queued=9, running=1, settings=settings) is None  # starts at once
    assert queue_refusal(queued=2, running=2, settings=settings) is None  # may wait
    refusal = queue_refusal(queued=3, running=2, settings=settings)
    assert refusal is not None and "LIVEGRAD_MAX_QUEUED_RUNS" in refusal and "3" in refusal
    assert "3600 s" in time_up_warning(Settings(data_dir=tmp_path))
