"""Neuron maps against torch (the oracle): every node the network drawing shows (the input's
features, the hidden units, the output's raw values) over the plane equals a direct forward
of the grid, on both step strategies; the wall-clock ceiling holds; the defaults sample on
every chunk the ceiling allows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Event, NeuronMapsComputed, TelemetrySpec, Trainer
from engine.probes.registry import NeuronMapsParams
from tests.engine.helpers import mlp, opt, run_spec


def maps_spec(fast_path: bool, maps: dict, steps: int = 6, data: str = "circle"):
    tel = TelemetrySpec(scalars_every=1, grid_every=0, probes={"neuron_maps": maps})
    return run_spec(mlp([5, 3], out=2), data, {"n_points": 60}, steps=steps, batch_size=8,
                    fast_path=fast_path, device="cpu", telemetry=tel, loss=opt("mse"))


def maps_of(spec) -> tuple[Trainer, list[NeuronMapsComputed]]:
    trainer = Trainer(spec)
    events: list[Event] = []
    trainer.subscribe(events.append, types={"neuron_maps_computed"})
    assert trainer.run().type == "run_completed"
    return trainer, events  # type: ignore[return-value]


@pytest.mark.parametrize("fast_path", [True, False])
def test_maps_cover_the_input_every_hidden_unit_and_the_output(fast_path: bool) -> None:
    trainer, events = maps_of(maps_spec(fast_path, {"every": 1, "max_hz": None,
                                                    "resolution": 8}))
    assert len(events) == 6  # every step, no ceiling
    last = events[-1]
    grid = torch.from_numpy(trainer.prepared.data.grid(8))
    with torch.no_grad():
        outs = trainer.model.node_outputs(grid)  # torch's own forward, no hooks
    shown = ["x", "dense1", "act1", "dense2", "act2", "out"]
    assert list(outs) == shown  # the input and the output are nodes of the drawing too
    assert last.nodes == [n for n in shown for _ in range(outs[n].shape[1])]
    assert last.units == [u for n in shown for u in range(outs[n].shape[1])]
    assert last.nodes[:2] == ["x", "x"] and last.nodes[-2:] == ["out", "out"]
    want = torch.cat([outs[n].T for n in shown]).numpy().reshape(-1, 8, 8)
    np.testing.assert_allclose(last.values, want, rtol=1e-5, atol=1e-6)
    assert last.resolution == 8 and last.values.shape == (len(last.units), 8, 8)


def test_the_input_maps_are_the_features_the_input_node_receives() -> None:
    spec = maps_spec(True, {"every": 1, "max_hz": None, "resolution": 4})
    spec = spec.model_copy(update={"data": spec.data.model_copy(update={"params": {
        "n_points": 60, "features": ["x1", "x2", "x1_sq"]}})})
    trainer, events = maps_of(spec)
    data = trainer.prepared.data
    assert data.feature_names == ("x1", "x2", "x1_sq")
    x = [i for i, n in enumerate(events[-1].nodes) if n == "x"]
    want = data.grid(4).T.reshape(3, 4, 4)  # (features, R, R)
    np.testing.assert_allclose(events[-1].values[x], want, rtol=1e-6)
    np.testing.assert_allclose(want[2], want[0] ** 2, rtol=1e-5)  # x1_sq is x1 squared


def test_a_node_wider_than_max_units_is_left_out() -> None:
    _, events = maps_of(maps_spec(True, {"every": 1, "max_hz": None, "resolution": 4,
                                         "max_units": 4}))
    assert set(events[-1].nodes) == {"x", "dense2", "act2", "out"}  # dense1, act1: 5 units


def test_the_ceiling_holds_between_maps() -> None:
    _, events = maps_of(maps_spec(True, {"every": 1, "max_hz": 25, "resolution": 4},
                                  steps=50_000, data="spiral"))
    gaps = np.diff([e.t for e in events[:-1]])  # the last: the run's closing view
    assert len(events) >= 4
    assert gaps.min() >= 1 / 25 - 1e-3  # t is taken at emission, just after the mark


def test_the_defaults_sample_every_chunk_under_a_ceiling_above_20_hz() -> None:
    p = NeuronMapsParams()
    assert p.every == 1 and p.max_hz is not None and p.max_hz > 20
    grid = TelemetrySpec()
    assert grid.grid_every == 1 and grid.grid_max_hz is not None and grid.grid_max_hz > 20
