"""Changing probe settings mid-run (Control.set_probes): periods, switching off, merging,
refusals located at the field, the probes_changed event, the throttle's new baseline."""

from __future__ import annotations

from typing import Any

import pytest

from engine import Control, Event, SpecError, TelemetrySpec, Trainer, check_probe_changes
from tests.engine.helpers import mlp, opt, run_spec


def spec(fast_path: bool, steps: int = 80, **histograms: Any):
    # no wall-clock ceiling and no throttle: the steps a histogram comes at are exact
    tel = TelemetrySpec(grid_every=0, auto_throttle=False, scalars_every=10,
                        scalars_max_hz=None, probes={
        "histograms": {"every": 20, "bins": 8, **histograms}})
    return run_spec(mlp([4]), "xor", loss=opt("mse"), batch_size=10, steps=steps,
                    telemetry=tel, fast_path=fast_path)


class ChangeAt:
    """Subscribed to histograms_sampled: at the n-th one, ask for the n-th change (the
    handler runs in the trainer's thread, so the change lands at a known step)."""

    def __init__(self, control: Control, changes: dict[int, dict[str, Any]]) -> None:
        self.control, self.changes = control, changes
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        seen = sum(e.type == "histograms_sampled" for e in self.events)
        if event.type == "histograms_sampled" and seen in self.changes:
            self.control.set_probes(self.changes[seen])

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]


@pytest.mark.parametrize(("fast_path", "strategy"), [(True, "fused_mlp"), (False, "autograd")])
def test_a_new_period_changes_the_spacing_and_zero_stops_the_probe(
        fast_path: bool, strategy: str) -> None:
    control = Control()
    trainer = Trainer(spec(fast_path, max_hz=None), control=control)
    assert trainer.strategy.name == strategy
    watch = ChangeAt(control, {1: {"histograms": {"every": 5}}, 6: {"histograms": {"every": 0}}})
    trainer.subscribe(watch)
    trainer.run()
    steps = [e.step for e in watch.of("histograms_sampled")]
    # every 20 until the first; every 5 after it; none after the sixth
    assert steps == [20, 25, 30, 35, 40, 45]
    assert all(len(h.counts) == 8 for e in watch.of("histograms_sampled")[1:]
               for h in e.weights)  # a changed period keeps the bins
    changed = watch.of("probes_changed")
    assert [e.step for e in changed] == [20, 45]
    assert changed[0].probes["histograms"] == {**changed[0].probes["histograms"], "every": 5,
                                               "bins": 8, "max_hz": None}
    assert changed[-1].probes["histograms"]["every"] == 0
    assert set(changed[0].probes) == {"norms", "histograms", "activations", "neuron_maps",
                                      "weights", "curvature", "grid"}


@pytest.mark.parametrize("fast_path", [True, False])
def test_removing_the_hz_ceiling_and_new_bins_take_effect(fast_path: bool) -> None:
    control = Control()
    trainer = Trainer(spec(fast_path, steps=60, max_hz=0.001), control=control)  # one per run
    watch = ChangeAt(control, {1: {"histograms": {"every": 10, "max_hz": None, "bins": 4}}})
    trainer.subscribe(watch)
    trainer.run()
    hists = watch.of("histograms_sampled")
    assert [e.step for e in hists] == [20, 30, 40, 50, 60]
    assert [len(e.weights[0].counts) for e in hists] == [8, 4, 4, 4, 4]


def test_turning_a_probe_on_and_the_norms_off() -> None:
    control = Control()
    trainer = Trainer(spec(False, steps=40, every=0, max_hz=None), control=control)
    events: list[Event] = []
    trainer.subscribe(events.append)

    def on_steps(event: Event) -> None:  # at step 10: histograms on, norms off
        if event.step == 10:
            control.set_probes({"histograms": {"every": 10}, "norms": {"every": 0}})

    trainer.subscribe(on_steps, types={"steps_completed"})
    trainer.run()
    assert [e.step for e in events if e.type == "histograms_sampled"] == [20, 30, 40]
    norms = [s for e in events if e.type == "norms_sampled" for s in e.steps]  # type: ignore
    assert norms and max(norms) <= 10


def test_changes_merge_until_the_trainer_takes_them() -> None:
    control = Control()
    control.set_probes({"histograms": {"every": 5}, "norms": {"every": 3}})
    control.set_probes({"histograms": {"bins": 4}, "norms": {"every": 0}})
    assert control.take_probes() == {"histograms": {"every": 5, "bins": 4},
                                     "norms": {"every": 0}}
    assert control.take_probes() == {}


@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"histograms": {"every": -1}}, "training.telemetry.probes.histograms.every",
     "greater than or equal to 0"),
    ({"histograms": {"max_hz": 0}}, "training.telemetry.probes.histograms.max_hz",
     "greater than 0"),
    ({"histograms": {"binz": 3}}, "training.telemetry.probes.histograms.binz",
     "Extra inputs are not permitted"),
    ({"histo": {"every": 1}}, "training.telemetry.probes.histo", "known: norms, histograms"),
    ({}, "training.telemetry.probes", "at least one probe"),
])
def test_a_bad_change_is_refused_at_once_with_its_field(
        changes: dict[str, Any], field: str, says: str) -> None:
    for refuse in (check_probe_changes, Control().set_probes):
        with pytest.raises(SpecError) as info:
            refuse(changes)
        assert [e.field for e in info.value.errors] == [field]
        assert says in info.value.errors[0].message
    control = Control()
    with pytest.raises(SpecError):
        control.set_probes(changes)
    assert control.take_probes() == {}  # nothing of a refused change reaches the trainer


def test_a_users_period_is_the_throttles_new_baseline() -> None:
    trainer = Trainer(spec(False))
    tel = trainer.telemetry
    tel.set_every("histograms", 640)  # as the throttle widens a costly probe
    tel.reconfigure({"histograms": {"every": 5}})
    assert tel.every["histograms"] == tel.asked["histograms"] == 5
    tel.costs = {"histograms": 0.0}
    tel.throttle(0.0, 100)  # well under budget: relaxing never goes below the new baseline
    assert tel.every["histograms"] == 5
    tel.costs, tel.samples = {"histograms": 1.0}, {"histograms": 20}  # one every 5 steps
    tel.throttle(1.0, 100)  # over budget: it may still widen the new period
    assert tel.every["histograms"] == 10 and tel.asked["histograms"] == 5
