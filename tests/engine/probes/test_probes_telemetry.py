"""The probe registry and settings, curvature against an exact Hessian, the auto-throttle and
its share event, telemetry off, and every probe event as plain, finite, valid data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import engine.probes.telemetry as hub
from engine import PROBES, SpecError, TelemetrySpec, Trainer, parse_event
from tests.engine.helpers import collect, mlp, opt, run_spec

PROBE_TYPES = {"norms_sampled", "histograms_sampled", "activations_sampled",
               "neuron_maps_computed", "curvature_estimated", "telemetry_share", "warning",
               "weights_sampled"}


def test_catalog_lists_every_probe_with_described_params() -> None:
    items = {item["name"]: item for item in PROBES.catalog()}
    assert set(items) >= {"norms", "histograms", "activations", "neuron_maps", "weights",
                          "curvature", "grid", "reconstructions", "code"}  # plugins add more
    for item in items.values():
        props = item["params"]["properties"]
        assert {"every", "max_hz"} <= set(props) and item["events"]
        assert all("description" in p for p in props.values())
    assert items["curvature"]["params"]["properties"]["every"]["default"] == 0  # on request


def test_unknown_probe_and_bad_values_are_located() -> None:
    tel = TelemetrySpec(probes={"gradcam": {}, "histograms": {"bins": 1}})
    with pytest.raises(SpecError) as info:
        Trainer(run_spec(mlp([2]), loss=opt("mse"), steps=1, telemetry=tel))
    fields = {e.field for e in info.value.errors}
    assert fields == {"training.telemetry.probes.gradcam",
                      "training.telemetry.probes.histograms.bins"}


def linear_regression(lr: float, steps: int, every: int = 10):
    tel = TelemetrySpec(grid_every=0, probes={"curvature": {"every": every, "max_hz": None}})
    return run_spec(mlp([], "identity"), "plane", {"n_points": 200}, task="regression",
                    loss=opt("mse"), optimizer=opt("sgd", lr=lr), batch_size=100, steps=steps,
                    telemetry=tel, device="cpu")


def exact_lambda(trainer: Trainer) -> float:
    x = trainer.prepared.data.x_train.astype(np.float64)
    xa = np.c_[x, np.ones(len(x))]  # weights and bias
    return float(np.linalg.eigvalsh(2 / len(x) * xa.T @ xa).max())


def test_curvature_of_a_quadratic_is_its_hessians_top_eigenvalue() -> None:
    trainer, events = collect(linear_regression(0.01, 20))
    est = [e for e in events if e.type == "curvature_estimated"]
    assert [e.step for e in est] == [10, 20]
    lam = exact_lambda(trainer)
    assert est[-1].lambda_max == pytest.approx(lam, rel=1e-3)
    assert est[-1].stable_lr == pytest.approx(2 / lam, rel=1e-3) and est[-1].lr == 0.01


def test_curvature_of_an_mlp_matches_the_full_hessian() -> None:
    tel = TelemetrySpec(grid_every=0, probes={"curvature": {"every": 5, "max_hz": None,
                                                            "iterations": 300, "tol": 1e-7}})
    spec = run_spec(mlp([3]), "circle", {"n_points": 40}, loss=opt("mse"), steps=5,
                    telemetry=tel, device="cpu")
    trainer, events = collect(spec)
    est = next(e for e in events if e.type == "curvature_estimated")
    model, data = trainer.model, trainer.prepared.data
    x = torch.from_numpy(data.x_train)
    y = torch.from_numpy(data.y_train.astype(np.float32) * 2 - 1).unsqueeze(1)
    names = [n for n, _ in model.named_parameters()]
    values = [p.detach().clone() for p in model.parameters()]

    def loss(*flat_params: torch.Tensor) -> torch.Tensor:
        out = torch.func.functional_call(model, dict(zip(names, flat_params, strict=True)), x)
        return torch.nn.functional.mse_loss(out, y)

    blocks = torch.autograd.functional.hessian(loss, tuple(values))
    n = [v.numel() for v in values]
    h = torch.cat([torch.cat([blocks[i][j].reshape(n[i], n[j]) for j in range(len(n))], 1)
                   for i in range(len(n))])
    eig = torch.linalg.eigvalsh(h.double())
    top = eig[eig.abs().argmax()]  # power iteration finds the largest in magnitude
    assert est.lambda_max == pytest.approx(float(top), rel=1e-3)


def test_throttle_widens_the_costliest_probe_and_reports_the_share(monkeypatch) -> None:
    monkeypatch.setattr(hub, "WINDOW_SECONDS", 0.02)
    monkeypatch.setattr(hub, "FIRST_WINDOW_SECONDS", 0.01)
    tel = TelemetrySpec(grid_every=0, budget=0.01, probes={
        "activations": {"every": 1, "max_hz": None, "batch": 256}})
    spec = run_spec(mlp([16, 16]), "spiral", loss=opt("mse"), steps=3000, telemetry=tel,
                    device="cpu")
    _, events = collect(spec)
    shares = [e for e in events if e.type == "telemetry_share"]
    assert len(shares) >= 2
    assert shares[0].share > 0.01 and shares[0].budget == 0.01
    assert shares[0].costs["activations"] == max(shares[0].costs.values())
    assert "activations" in shares[-1].throttled and shares[-1].periods["activations"] > 1
    acts = [e.step for e in events if e.type == "activations_sampled"]
    assert len(acts) < 3000 / 2  # asked for every step


def test_throttle_relaxes_only_where_halving_stays_under_the_mark() -> None:
    """Widen past budget × TIMED_PART; relax only where doubling the share stays under it,
    so that a period settles instead of flipping every window."""
    spec = run_spec(mlp([8]), "spiral", loss=opt("mse"), steps=10, device="cpu")
    tel = Trainer(spec).telemetry
    mark = tel.budget * hub.TIMED_PART
    tel.costs, tel.cadence["norms"].every = {"norms": 1.0}, 4
    tel.throttle(mark * 1.01, steps=1000)
    assert tel.every["norms"] == 8
    tel.throttle(mark * 0.45, steps=1000)  # relaxed, it could reach 0.9 of the mark: it stays
    assert tel.every["norms"] == 8
    tel.throttle(mark * 0.39, steps=1000)
    assert tel.every["norms"] == 4


@pytest.mark.parametrize("every", [0, 1, 2, 3, 7, 1_000_000])
def test_sampled_steps_are_those_whose_count_is_a_multiple_of_every(every: int) -> None:
    for step in range(12):
        for n in range(10):
            want = [every > 0 and (step + i + 1) % every == 0 for i in range(n)]
            assert hub.sampled_steps(step, n, every) == want


def test_telemetry_off_emits_no_probe_events_and_a_bare_diagnosis() -> None:
    # the views (the grid, the neuron maps) come with probes off: off here by their own period
    tel = TelemetrySpec(grid_every=0, probes_enabled=False, probes={"neuron_maps": {"every": 0}})
    spec = run_spec(mlp([8, 8]), "spiral", loss=opt("mse"), optimizer=opt("sgd", lr=1e3),
                    epochs=50, telemetry=tel)
    _, events = collect(spec)
    assert not PROBE_TYPES & {e.type for e in events}
    end = events[-1]
    assert end.type == "run_failed" and end.diagnosis is not None
    assert end.diagnosis.steps == [] and "became non-finite" in end.diagnosis.reading


def plain_numbers(value) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for v in value.values():
            plain_numbers(v)
    elif isinstance(value, list | tuple):
        for v in value:
            plain_numbers(v)
    else:
        assert value is None or isinstance(value, bool | int | str), type(value)


@pytest.mark.parametrize("fast_path", [True, False])
def test_probe_events_are_plain_finite_and_valid(fast_path: bool) -> None:
    every = {"every": 5, "max_hz": None}
    tel = TelemetrySpec(grid_every=0, probes={
        "norms": {"flush_every": 5, "max_hz": None}, "histograms": every, "activations": every,
        "neuron_maps": every, "curvature": every, "weights": every})
    spec = run_spec(mlp([8, 8]), "spiral", loss=opt("mse"), optimizer=opt("sgd", lr=3.0),
                    steps=400, telemetry=tel, fast_path=fast_path)
    _, events = collect(spec)
    kinds = {e.type for e in events}
    assert {"norms_sampled", "histograms_sampled", "activations_sampled",
            "neuron_maps_computed", "curvature_estimated", "weights_sampled"} <= kinds
    for event in events:
        dumped = event.model_dump()
        plain_numbers(dumped)
        assert parse_event(event.model_dump_json()).model_dump() == dumped
