"""The event stream: types and order, determinism, subscriptions, strategies."""

from __future__ import annotations

from engine import EVENT_ADAPTER, Event, TelemetrySpec, Trainer, parse_event, resolve_device
from tests.engine.helpers import collect, mlp, opt, run_spec


def two_epochs(**telemetry):
    tel = TelemetrySpec(scalars_every=10, grid_every=25, grid_max_hz=None, scalars_max_hz=None,
                        eval_max_hz=None, **telemetry)
    return run_spec(mlp([4]), "circle", {"n_points": 100}, loss=opt("mse"), batch_size=10,
                    epochs=2, telemetry=tel)  # 50 train points: 5 steps per epoch


def test_two_epoch_run_types_and_order() -> None:
    _, events = collect(two_epochs())
    # the neuron maps are a view on plane data (the network drawing's): the first chunk's
    # end samples them (nothing held them back yet), and the end samples every view, in the
    # registry's order
    assert [e.type for e in events] == [
        "run_started", "steps_completed", "eval_completed", "neuron_maps_computed",
        "steps_completed", "eval_completed", "neuron_maps_computed", "grid_computed",
        "run_completed",
    ]
    steps = [e for e in events if e.type == "steps_completed"]
    assert [(e.first_step, e.step, len(e.metrics["loss"])) for e in steps] == [
        (1, 5, 5), (6, 10, 5)]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].epoch == 2 and events[-1].step == 10


def test_every_event_validates_against_its_model() -> None:
    _, events = collect(two_epochs())
    for event in events:
        again = parse_event(event.model_dump_json())
        assert again.model_dump() == EVENT_ADAPTER.validate_python(event.model_dump()).model_dump()


def values(events: list[Event]) -> list[dict]:
    return [e.model_dump(exclude={"t"}) for e in events]


def test_same_spec_and_seed_give_identical_events() -> None:
    _, first = collect(two_epochs())
    _, second = collect(two_epochs())
    assert values(first) == values(second)


def test_same_values_with_the_autograd_path() -> None:
    spec = two_epochs()
    spec.training.fast_path = False
    trainer, first = collect(spec)
    assert trainer.strategy.name == "autograd"
    _, second = collect(spec)
    assert values(first) == values(second)


def test_subscription_filters_thin_and_remove() -> None:
    trainer = Trainer(two_epochs())
    evals, every_other, removed = [], [], []
    trainer.subscribe(evals.append, types={"eval_completed"})
    trainer.subscribe(every_other.append, types={"steps_completed"}, every=2)
    handle = trainer.subscribe(removed.append)
    handle.remove()
    trainer.run()
    assert len(evals) == 2 and not removed
    assert [e.first_step for e in every_other] == [1]


def test_wall_clock_ceilings_thin_reports_but_lose_no_step() -> None:
    # circle 2-4-1, 50 train points, batch 10: 5 steps per epoch, 4,000 steps in well under
    # a second on the fused path; uncapped that is 800 evaluations and 800 scalar events.
    tel = TelemetrySpec(scalars_every=5, grid_every=0, scalars_max_hz=10, eval_max_hz=10)
    spec = run_spec(mlp([4]), "circle", {"n_points": 100}, loss=opt("mse"), batch_size=10,
                    epochs=800, telemetry=tel)
    _, events = collect(spec)
    seconds = events[-1].t
    steps = [e for e in events if e.type == "steps_completed"]
    evals = [e for e in events if e.type == "eval_completed"]
    assert len(steps) <= 10 * seconds + 3 and len(evals) <= 10 * seconds + 3
    covered = [s for e in steps for s in range(e.first_step, e.step + 1)]
    assert covered == list(range(1, 4001))  # every step's loss, in order, once
    assert all(len(e.metrics["loss"]) == e.step - e.first_step + 1 for e in steps)


def test_under_a_ceiling_evaluations_take_at_most_a_twentieth_of_the_time() -> None:
    tel = TelemetrySpec(grid_every=0, eval_max_hz=1000)
    trainer = Trainer(run_spec(mlp([4]), "circle", loss=opt("mse"), telemetry=tel))
    evals, period = trainer.evals, trainer.evals.every
    evals.mark(100.0, 0.5)  # one took half a second
    assert not evals.due(period, 101.0)  # the next waits 10 s, not 1 ms
    assert evals.due(period, 110.0) and not evals.due(period + 1, 110.0)


def test_grid_covers_the_plane_without_nan() -> None:
    _, events = collect(two_epochs(grid_resolution=16))
    grid = next(e for e in events if e.type == "grid_computed")
    assert grid.mode == "binary" and grid.resolution == 16 and grid.values.shape == (16, 16)
    assert ((grid.values >= -1.0) & (grid.values <= 1.0)).all()
    assert grid.extent == (-5.5, 5.5, -5.5, 5.5)  # fitted to the circle's points (radius 5)


def test_run_started_reports_the_resolved_graph() -> None:
    _, events = collect(two_epochs())
    started = events[0]
    assert started.graph.total_params == 17
    assert [n.shape_text for n in started.graph.nodes][-1] == "(N, 1)"
    assert started.steps_per_epoch == 5 and started.total_steps == 10
    assert started.device == str(resolve_device("auto"))  # the GPU where there is one
