"""check_spec collects every located error of a run spec in one answer."""

from __future__ import annotations

import pytest

from engine import Choice, RunSpec, SpecError, TelemetrySpec, Trainer, TrainingSpec, check_spec
from engine.core import prepare
from tests.engine.helpers import mlp


def errors_of(spec: RunSpec) -> dict[tuple[str | None, str | None], str]:
    return {(e.node, e.field): e.message for e in check_spec(spec)[0]}


def test_every_part_is_checked_at_once() -> None:
    spec = RunSpec(network=mlp([4], out=3), data=Choice(name="xor", params={"noise": 7}),
                   training=TrainingSpec(optimizer=Choice(name="adamax"),
                                         loss=Choice(name="cross_entropy"),
                                         telemetry=TelemetrySpec(probes={"nrms": {}})))
    found = errors_of(spec)
    assert (None, "data.params.noise") in found
    assert "unknown optimizer 'adamax'" in found[(None, "training.optimizers.model.name")]
    assert "unknown probe 'nrms'" in found[(None, "training.telemetry.probes.nrms")]


def test_output_shape_must_fit_the_loss() -> None:
    spec = RunSpec(network=mlp([4], out=3), data=Choice(name="xor"),
                   training=TrainingSpec(loss=Choice(name="cross_entropy")))
    assert errors_of(spec) == {
        ("out", "out_features"): "cross_entropy on 2 classes needs output (N, 2), got (N, 3)"}


def test_task_must_fit_the_data_and_the_loss() -> None:
    spec = RunSpec(network=mlp([4]), data=Choice(name="plane"),
                   training=TrainingSpec(task="classification", loss=Choice(name="hinge")))
    found = errors_of(spec)
    assert "is for regression, not classification" in found[(None, "training.task")]


def test_a_valid_spec_has_no_errors_and_a_report() -> None:
    errors, report = check_spec(RunSpec(network=mlp([4], out=2), data=Choice(name="circle")))
    assert errors == [] and report is not None and report.total_params == 22


def test_a_checked_spec_is_not_checked_again_and_trains_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the server's worker does: the server checked the spec before it queued it."""
    spec = RunSpec(network=mlp([4], out=2), data=Choice(name="xor"),
                   training=TrainingSpec(loss=Choice(name="cross_entropy"), steps=30,
                                         device="cpu"))
    want = Trainer(spec).run()

    def refuse(_: RunSpec) -> None:
        raise AssertionError("checked again")

    monkeypatch.setattr(prepare, "check_spec", refuse)
    got = Trainer(spec, checked=True).run()
    assert got.type == want.type == "run_completed" and got.metrics == want.metrics
    with pytest.raises(AssertionError, match="checked again"):
        Trainer(spec)


def test_a_spec_wrongly_said_checked_is_still_refused_with_its_errors() -> None:
    spec = RunSpec(network=mlp([4]), data=Choice(name="xor"),
                   training=TrainingSpec(optimizer=Choice(name="adamax"), device="cpu"))
    with pytest.raises(SpecError, match="adamax"):
        Trainer(spec, checked=True)
