"""A stopped run resumes exactly: stop at step k, checkpoint, resume from the bytes, and the
losses are those of an uninterrupted run (CPU, same seed): on the fused NumPy path, on autograd
with Adam's moments, and for a denoising autoencoder whose noise has its own generator."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from engine import Choice, Control, RunSpec, Trainer
from engine.core.checkpoint import metadata
from engine.presets import DIGITS_IMAGES, ae_training, autoencoder
from tests.engine.helpers import mlp, opt, run_spec

STEPS, STOP_AT = 120, 37  # mid-epoch: the data order's permutation must come back too


def supervised(fast_path: bool) -> RunSpec:
    return run_spec(mlp([8, 8], out=2), "spiral", loss=opt("cross_entropy"),
                    optimizer=opt("adam", lr=0.01), batch_size=10, steps=STEPS, seed=5,
                    fast_path=fast_path)


def denoising() -> RunSpec:
    training = ae_training(1, 0.003).model_copy(update={"epochs": None, "steps": STEPS})
    return RunSpec(family=Choice(name="autoencoder", params={"noise": "gaussian",
                                                             "noise_level": 0.2}),
                   networks=autoencoder(64, [32], 8, image=True), data=DIGITS_IMAGES,
                   training=training)


def losses(trainer: Trainer) -> tuple[list[float], Any]:
    found: list[float] = []
    trainer.subscribe(lambda e: found.extend(e.metrics["loss"]), types={"steps_completed"})
    return found, trainer.run()


def stopped_at(spec: RunSpec, k: int) -> tuple[Trainer, list[float]]:
    """Single-steps to k, then stops (as the page's step and stop buttons do)."""
    control = Control(paused=True)
    trainer = Trainer(spec, control=control)
    found: list[float] = []
    trainer.subscribe(lambda e: found.extend(e.metrics["loss"]), types={"steps_completed"})
    thread = threading.Thread(target=trainer.run)
    thread.start()
    control.step(k)
    deadline = time.monotonic() + 30
    while trainer.step < k and thread.is_alive() and time.monotonic() < deadline:
        threading.Event().wait(0.005)
    control.stop()
    thread.join(30)
    assert trainer.step == k and not thread.is_alive()
    return trainer, found


@pytest.mark.parametrize("make", [lambda: supervised(True), lambda: supervised(False),
                                  denoising], ids=["fused", "autograd", "denoising_ae"])
def test_stop_resume_equals_an_uninterrupted_run(make: Any) -> None:
    whole, end = losses(Trainer(make()))
    assert end.type == "run_completed" and len(whole) == STEPS
    first, head = stopped_at(make(), STOP_AT)
    data = first.checkpoint()
    assert metadata(data)["step"] == str(STOP_AT)
    resumed = Trainer(make(), resume=data)
    assert resumed.step == STOP_AT
    events: list[Any] = []
    resumed.subscribe(events.append, types={"run_started"})
    tail, end = losses(resumed)
    assert end.type == "run_completed" and events[0].resumed_at == STOP_AT
    np.testing.assert_array_equal(np.asarray(head + tail), np.asarray(whole))
    assert end.seq > first._seq  # the event sequence goes on, it does not restart


def test_a_weights_only_checkpoint_is_refused_for_resuming(tmp_path) -> None:
    from engine import save_checkpoint

    trainer = Trainer(supervised(True))
    path = save_checkpoint(trainer.model, trainer.spec, tmp_path / "w.safetensors", step=0)
    with pytest.raises(ValueError, match="not a resumable checkpoint"):
        Trainer(supervised(True), resume=path.read_bytes())
