"""Setting one weight by hand (the drawing's click on a link): applied between steps, also
while paused, with weight_set and a fresh weights_sampled, neuron_maps_computed and
grid_computed; the model's forward then is torch's with that weight (the oracle), on both
step strategies; a bad edit is refused by field and changes nothing."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from engine import Control, SpecError, TelemetrySpec, Trainer, WeightEdit, check_weight_edit
from tests.engine.core.test_control import Recorder
from tests.engine.helpers import mlp, opt, run_spec

REDRAWN = ("weights_sampled", "neuron_maps_computed", "grid_computed")


def plane_spec(fast_path: bool = True):
    tel = TelemetrySpec(scalars_every=1, grid_every=1, grid_resolution=8,
                        probes={"neuron_maps": {"resolution": 4}})
    return run_spec(mlp([4], out=2), "circle", {"n_points": 60}, loss=opt("mse"),
                    batch_size=10, steps=10_000_000, fast_path=fast_path, device="cpu",
                    telemetry=tel)


def paused_run(fast_path: bool) -> tuple[Control, Trainer, Recorder, threading.Thread]:
    control = Control(paused=True)
    trainer = Trainer(plane_spec(fast_path), control=control)
    seen = Recorder()
    trainer.subscribe(seen)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    seen.wait_for("run_paused")
    return control, trainer, seen, thread


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_weight_set_while_paused_is_applied_and_redrawn(fast_path: bool) -> None:
    control, trainer, seen, thread = paused_run(fast_path)
    before = {kind: len(seen.of(kind)) for kind in REDRAWN}
    trainer.set_weight("dense1", 2, 1, 1.5)
    event = seen.wait_for("weight_set")
    for kind in REDRAWN:
        seen.wait_for(kind, before[kind] + 1)
    assert trainer.step == 0 and control.paused  # no step ran: it waits again
    control.stop()
    thread.join(20)
    assert (event.node, event.row, event.col, event.value, event.step) == ("dense1", 2, 1,
                                                                           1.5, 0)
    weights = seen.of("weights_sampled")[-1].layers[0]
    assert weights.node == "dense1" and weights.values[2, 1] == 1.5
    # the maps and the grid are the model's outputs with the new weight (torch the oracle)
    grid = torch.from_numpy(trainer.prepared.data.grid(4))
    with torch.no_grad():
        outs = trainer.model.node_outputs(grid)
    assert trainer.model.layers["dense1"].weight[2, 1].item() == 1.5
    maps = seen.of("neuron_maps_computed")[-1]
    rows = [i for i, n in enumerate(maps.nodes) if n == "out"]
    np.testing.assert_allclose(maps.values[rows], outs["out"].T.numpy().reshape(2, 4, 4),
                               rtol=1e-5, atol=1e-6)
    assert seen.of("grid_computed")[-1].seq > event.seq


def test_the_forward_changes_by_the_weight_times_its_input() -> None:
    trainer = Trainer(plane_spec(False))
    x = torch.tensor([[0.3, -0.7]])
    with torch.no_grad():
        pre = trainer.model.node_outputs(x)["dense1"].clone()
        w = trainer.model.layers["dense1"].weight[1, 0].item()
    trainer.control.set_weight("dense1", 1, 0, w + 2.0)
    trainer.apply_weight_edits()
    with torch.no_grad():
        post = trainer.model.node_outputs(x)["dense1"]
    want = pre.clone()
    want[0, 1] += 2.0 * 0.3  # only unit 1 moves, by Δw times input 0
    torch.testing.assert_close(post, want)


def test_a_running_run_takes_a_weight_between_chunks() -> None:
    control = Control()
    trainer = Trainer(plane_spec(True), control=control)
    seen = Recorder()
    trainer.subscribe(seen)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    seen.wait_for("steps_completed", 3)
    trainer.set_weight("out", 0, 3, -0.25)
    event = seen.wait_for("weight_set")
    control.stop()
    thread.join(20)
    assert event.node == "out" and event.step > 0
    assert seen.of("run_stopped")


@pytest.mark.parametrize(("node", "row", "col", "value", "field"), [
    ("nope", 0, 0, 1.0, "node"),
    ("act1", 0, 0, 1.0, "node"),  # an activation has no weight
    ("dense1", 4, 0, 1.0, "row"),  # 4 output units: rows 0..3
    ("dense1", 0, 2, 1.0, "col"),  # 2 inputs: columns 0..1
    ("dense1", -1, 0, 1.0, "row"),
    ("dense1", 0, 0, float("nan"), "value"),
    ("dense1", 0, 0, float("inf"), "value"),
    ("dense1", 0, 0, 2e6, "value"),
])
def test_a_bad_edit_is_refused_by_field_and_changes_nothing(node, row, col, value, field):
    trainer = Trainer(plane_spec(True))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with pytest.raises(SpecError) as refused:
        trainer.set_weight(node, row, col, value)
    assert refused.value.errors[0].field == field
    assert field in str(refused.value)
    with pytest.raises(SpecError) as against_spec:  # the server's check, without a model
        check_weight_edit(plane_spec(True), WeightEdit(node, row, col, value)) \
            if field in ("node", "row", "col") and row >= 0 \
            else WeightEdit.checked(node, row, col, value)
    assert against_spec.value.errors[0].field == field
    trainer.apply_weight_edits()
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert trainer.control.take_weights() == []
