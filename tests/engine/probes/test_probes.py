"""Probe statistics against torch (the oracle): gradient and weight norms, update ratios,
histograms, activations and neuron maps equal what p.grad, the weights and the layer outputs
give directly, on both step strategies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Event, TelemetrySpec, Trainer
from engine.probes.passes import probe_forward
from engine.probes.stats import Sampler, histograms, histograms_on_device
from tests.engine.helpers import mlp, opt, run_spec

EVERY_STEP = {"norms": {"flush_every": 1, "max_hz": None},
              "histograms": {"every": 1, "max_hz": None},
              "activations": {"every": 1, "max_hz": None},
              "neuron_maps": {"every": 1, "max_hz": None, "resolution": 8}}


def spec(fast_path: bool, probes: dict | None = None, steps: int = 6, **training):
    tel = TelemetrySpec(scalars_every=1, grid_every=0, probes=probes or EVERY_STEP)
    training.setdefault("loss", opt("mse"))
    return run_spec(mlp([5, 3]), "circle", {"n_points": 60}, steps=steps, batch_size=8,
                    fast_path=fast_path, device="cpu", telemetry=tel, **training)


def params(trainer: Trainer) -> list[tuple[str, torch.Tensor]]:
    model = trainer.model
    return [(f"{node}.{name}", p) for node in model.order
            for name, p in model.layers[node].named_parameters()]


def test_norms_equal_those_of_p_grad_and_the_weights() -> None:
    trainer = Trainer(spec(fast_path=False))
    assert trainer.strategy.name == "autograd"
    before = [p.detach().clone() for _, p in params(trainer)]
    seen = []

    def check(event: Event) -> None:
        named = params(trainer)
        assert event.params == [n for n, _ in named]
        assert event.layers == [n.split(".")[0] for n, _ in named]
        grads = [float(p.grad.norm()) for _, p in named]  # the step just taken
        np.testing.assert_allclose([row[-1] for row in event.grad_norm], grads, rtol=1e-5)
        weights = [float(p.detach().norm()) for _, p in named]
        np.testing.assert_allclose(event.weight_norm, weights, rtol=1e-5)
        moved = [float((p.detach() - b).norm()) / w
                 for (_, p), b, w in zip(named, before, weights, strict=True)]
        np.testing.assert_allclose(event.update_ratio, moved, rtol=1e-4, atol=1e-9)
        before[:] = [p.detach().clone() for _, p in named]
        seen.append(event.steps)

    trainer.subscribe(check, types={"norms_sampled"})
    assert trainer.run().type == "run_completed"
    assert seen == [[s] for s in range(1, 7)]


def test_a_norms_event_carries_an_even_spread_of_at_most_max_points_steps() -> None:
    probes = {"norms": {"flush_every": 20, "max_hz": None, "max_points": 5}}
    trainer = Trainer(spec(True, probes=probes, steps=60))
    events: list[Event] = []
    trainer.subscribe(events.append, types={"norms_sampled"})
    trainer.run()
    assert [e.steps for e in events] == [[1, 6, 11, 15, 20], [21, 26, 31, 35, 40],
                                         [41, 46, 51, 55, 60]]
    assert all(len(row) == 5 for e in events for row in e.grad_norm)
    steps, _ = trainer.telemetry.norms.trajectory()
    assert steps == list(range(1, 61))  # the warnings' and diagnosis' history has them all


def norms_events(fast_path: bool, **training) -> list[Event]:
    trainer = Trainer(spec(fast_path, steps=20, **training))
    events: list[Event] = []
    trainer.subscribe(events.append, types={"norms_sampled"})
    trainer.run()
    return events


@pytest.mark.parametrize("training", [{}, {"clip": opt("norm", max_norm=0.05)},
                                      {"regularizer": opt("l2", alpha=0.01)},
                                      {"optimizer": opt("adam", lr=0.01)}])
def test_fused_norms_equal_the_autograd_ones(training: dict) -> None:
    fused, ref = norms_events(True, **training), norms_events(False, **training)
    assert len(fused) == len(ref) == 20
    for a, b in zip(fused, ref, strict=True):
        assert a.steps == b.steps and a.params == b.params
        np.testing.assert_allclose(a.grad_norm, b.grad_norm, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(a.weight_norm, b.weight_norm, rtol=1e-4)
        np.testing.assert_allclose(a.update_ratio, b.update_ratio, rtol=1e-3, atol=1e-8)


def same_hist(h, t: torch.Tensor, bins: int = 32) -> bool:
    """The histogram equals torch.histc over the tensor's own [min, max]."""
    lo, hi = (float(v) for v in torch.aminmax(t.float()))
    if hi <= lo:
        lo, hi = lo - 0.5, lo + 0.5
    counts = torch.histc(t.float(), bins, lo, hi).long().tolist()
    return (h.lo, h.hi) == pytest.approx((lo, hi)) and h.counts == counts


@pytest.mark.parametrize("fast_path", [False, True])
def test_histograms_equal_torch_histc_of_weights_and_applied_grads(fast_path: bool) -> None:
    trainer = Trainer(spec(fast_path, clip=opt("value", clip_value=0.01)))
    got: list[Event] = []

    def check(event: Event) -> None:
        grads = [torch.as_tensor(g) for g in trainer.strategy.captured_grads()]
        for (name, p), w, g, grad in zip(params(trainer), event.weights, event.grads, grads,
                                         strict=True):
            assert w.name == g.name == name and not w.sampled and w.size == p.numel()
            assert same_hist(w, p.detach()) and same_hist(g, grad)
            assert float(grad.abs().max()) <= 0.01 + 1e-7  # as applied: after clipping
            if not fast_path:
                assert torch.equal(grad, p.grad)
        got.append(event)

    trainer.subscribe(check, types={"histograms_sampled"})
    assert trainer.run().type == "run_completed"
    assert len(got) == 6


def test_big_tensors_are_histogrammed_on_a_fixed_sample() -> None:
    probes = {"histograms": {"every": 1, "max_hz": None, "sample_size": 16, "bins": 4}}
    s = spec(False, probes=probes)
    s.networks = {"model": mlp([20, 3])}
    trainer = Trainer(s)
    events: list[Event] = []
    trainer.subscribe(events.append, types={"histograms_sampled"})
    trainer.run()
    first = {h.name: h for h in events[0].weights}
    assert first["dense1.weight"].sampled and first["dense1.weight"].size == 40
    assert all(h.sampled == (h.size > 16) for h in events[0].weights + events[0].grads)
    assert all(sum(h.counts) == min(h.size, 16) for h in events[0].weights + events[0].grads)
    sampler = Sampler(16)
    t = torch.randn(50)
    (a, sampled), (b, _) = sampler.flat(t), sampler.flat(t * 2)
    assert sampled and torch.equal(b, a * 2)  # the same elements every time


def test_numpy_and_device_histograms_both_equal_torch_histc() -> None:
    gen = torch.Generator().manual_seed(3)
    edges = torch.linspace(-1, 1, 33)  # values on every bin edge, the rightmost included
    cases = [torch.randn(5000, generator=gen), torch.cat([edges, edges * 0.3]),
             torch.full((7,), 2.5), torch.full((3,), 3e37), torch.zeros(0)]
    names = [f"t{i}" for i in range(len(cases))]
    as_arrays = histograms(names, [t.numpy() for t in cases], 32, Sampler(10_000))
    on_device = histograms_on_device(names, cases, 32, Sampler(10_000))
    for t, a, d in zip(cases, as_arrays, on_device, strict=True):
        assert a == d and sum(a.counts) == t.numel() and a.lo < a.hi
        assert a.counts == torch.histc(t, 32, a.lo, a.hi).long().tolist()
    # where float32 overflows, torch's kernel drops values (a cast of inf); NumPy keeps them
    broken = [torch.tensor([1.0, float("nan"), float("inf")]), torch.tensor([-3e38, 3e38, 0.0])]
    for h, t in zip(histograms(["nan", "huge"], [t.numpy() for t in broken], 32,
                               Sampler(10)), broken, strict=True):
        assert sum(h.counts) == int(torch.isfinite(t).sum()) and h.lo < h.hi


@pytest.mark.parametrize("fast_path", [False, True])
def test_activations_equal_the_layer_outputs(fast_path: bool) -> None:
    s = spec(fast_path)
    s.networks = {"model": mlp([6, 4], "relu")}
    s.network.nodes[4].kind = "sigmoid"  # act2: one sigmoid layer among the ReLUs
    trainer = Trainer(s)
    checked = []

    def check(event: Event) -> None:
        x = torch.from_numpy(trainer.prepared.data.x_train[:256])
        trainer.model.eval()
        with torch.no_grad():
            outs = trainer.model.node_outputs(x)
        trainer.model.train()
        assert [lay.node for lay in event.layers] == [n for n in outs if n != "x"]
        for lay in event.layers:
            out = outs[lay.node]
            assert lay.mean == pytest.approx(float(out.mean()), rel=1e-5, abs=1e-7)
            assert lay.std == pytest.approx(float(out.std(correction=0)), rel=1e-5)
            assert same_hist(lay.hist, out)
            dead = float((~(out > 0).any(0)).float().mean()) if lay.kind == "relu" else None
            assert lay.dead_fraction == dead
            sat = float(((out < 0.02) | (out > 0.98)).float().mean()) \
                if lay.kind == "sigmoid" else None
            assert lay.saturated_fraction == sat
        checked.append(event.batch)

    trainer.subscribe(check, types={"activations_sampled"})
    assert trainer.run().type == "run_completed"
    assert checked == [30] * 6  # every training example: 30 of them


def test_probe_pass_hooks_exist_only_during_the_pass() -> None:
    trainer = Trainer(spec(True))
    model = trainer.model
    seen = []

    def spy(_m, _i, _o) -> None:  # a hook of the test's own, to count the probe's beside it
        seen.append(len(model.layers["act1"]._forward_hooks))

    handle = model.layers["act1"].register_forward_hook(spy)
    outs = probe_forward(model, torch.zeros(3, 2))
    handle.remove()
    assert seen == [2] and set(outs) == set(model.order)
    trainer.run()
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training  # the pass's eval() was undone
