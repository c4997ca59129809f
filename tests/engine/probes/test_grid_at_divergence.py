"""A diverged run's last boundary is the last finite step's, not an old throttled one: at full
speed the grid's Hz ceiling left the lr_too_high lesson's boundary at step 25 of 64 before
the trainer sampled its views on divergence."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Event, RunSpec, Trainer, presets
from tests.engine.helpers import mlp, opt, run_spec


def lesson(name: str) -> RunSpec:
    return RunSpec.model_validate(next(p for p in presets() if p["name"] == name)["spec"])


def run(spec: RunSpec) -> tuple[Event, list[Event]]:
    trainer = Trainer(spec)
    events: list[Event] = []
    trainer.subscribe(events.append)
    return trainer.run(), events


def test_the_lesson_that_diverges_shows_the_boundary_of_its_last_finite_step() -> None:
    end, events = run(lesson("lr_too_high"))
    assert end.type == "run_failed" and end.error == "divergence"
    grids = [e for e in events if e.type == "grid_computed"]
    assert grids, "no boundary at all"
    last = grids[-1]
    assert last.step == end.began_at_step - 1  # the weights just before the failing step
    assert np.isfinite(last.values).all()
    assert events.index(last) < events.index(end)  # before the terminal event


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_view_that_cannot_summarise_the_weights_costs_only_the_views(
        fast_path: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.probes.telemetry import Telemetry

    def broken(self: Telemetry, lr: float) -> list[object]:
        raise FloatingPointError("overflow")

    monkeypatch.setattr(Telemetry, "closing_views", broken)
    spec = run_spec(mlp([8, 8]), "spiral", loss=opt("mse"), optimizer=opt("sgd", lr=1e3),
                    epochs=50, fast_path=fast_path)
    end, _ = run(spec)
    assert end.type == "run_failed" and end.error == "divergence"
    assert end.diagnosis is not None
