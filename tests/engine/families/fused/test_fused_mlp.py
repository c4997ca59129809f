"""The fused step against AutogradStep (torch is the oracle): losses, accuracies, final
weights, divergence reports, evaluation and outputs agree; the trainer picks it. Every test
runs twice: on the compiled kernel (kernel.py; these nets are all small enough for it)
and on the NumPy code it falls back to."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
import torch

from engine import Choice, NetworkSpec, NodeSpec, RunSpec, TelemetrySpec, Trainer, TrainingSpec
from engine.core.prepare import prepare_run
from engine.core.run import PreparedRun
from engine.core.specs import EdgeSpec
from engine.core.steps import AutogradStep
from engine.families.fused.kernel import ensure_compiled
from engine.families.fused.mlp import FusedMLPStep, fused_unsupported_reason

RTOL, ATOL = 1e-4, 1e-5
STEPS = 20


@pytest.fixture(autouse=True, params=["compiled", "numpy"])
def kernel(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which kernel FusedMLPStep picks in this test (through the switch a user has)."""
    if request.param == "compiled":
        if not ensure_compiled():
            pytest.skip("the compiled kernel is unavailable here")
        monkeypatch.delenv("LIVEGRAD_FUSED_KERNEL", raising=False)
    else:
        monkeypatch.setenv("LIVEGRAD_FUSED_KERNEL", "numpy")
    return str(request.param)


def mlp(hidden: list[int], out: int, act: str = "tanh", act_params: dict[str, Any] | None = None
        ) -> NetworkSpec:
    nodes: list[tuple[str, str, dict[str, Any]]] = [("in", "input", {})]
    for i, width in enumerate(hidden):
        nodes += [(f"fc{i}", "linear", {"out_features": width}),
                  (f"act{i}", act, act_params or {})]
    nodes.append(("out", "linear", {"out_features": out}))
    return NetworkSpec.stack(*nodes)


def spec(network: NetworkSpec, data: str = "circle", loss: str = "mse",
         optimizer: tuple[str, dict[str, Any]] = ("sgd", {"lr": 0.03}),
         task: str = "classification", data_params: dict[str, Any] | None = None,
         **training: Any) -> RunSpec:
    training.setdefault("steps", STEPS)
    return RunSpec(network=network, data=Choice(name=data, params=data_params or {}),
                   training=TrainingSpec(task=task, loss=Choice(name=loss),
                                         optimizer=Choice(name=optimizer[0], params=optimizer[1]),
                                         device="cpu", **training))


def batches_and_lrs(run: PreparedRun, steps: int = STEPS, lr_decay: float = 0.97
                    ) -> tuple[list[np.ndarray], list[float]]:
    rng = np.random.default_rng(1)
    n, size = len(run.data.x_train), run.spec.training.batch_size
    batches = [rng.permutation(n)[:size] for _ in range(steps)]
    batches[-1] = batches[-1][: max(size - 3, 1)]  # a short last batch, as at an epoch's end
    return batches, [run.base_lr * lr_decay**i for i in range(steps)]


def weights(run: PreparedRun) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in run.model.parameters()]


def compare(s: RunSpec, steps: int = STEPS) -> None:
    ref_run, fused_run = prepare_run(s), prepare_run(s)
    assert fused_unsupported_reason(fused_run) is None
    batches, lrs = batches_and_lrs(ref_run, steps)
    ref = AutogradStep(ref_run).train(batches, lrs)
    step = FusedMLPStep(fused_run)
    assert step.kernel == ("numpy" if os.environ.get("LIVEGRAD_FUSED_KERNEL") else "compiled")
    got = step.train(batches[:7], lrs[:7])  # two chunks, as the trainer calls it
    more = step.train(batches[7:], lrs[7:])
    assert ref.divergence is None and got.divergence is None and more.divergence is None
    np.testing.assert_allclose(np.concatenate([got.losses, more.losses]), ref.losses,
                               rtol=RTOL, atol=ATOL)
    if ref.accuracies is None:
        assert got.accuracies is None
    else:
        assert got.accuracies is not None and more.accuracies is not None
        np.testing.assert_allclose(np.concatenate([got.accuracies, more.accuracies]),
                                   ref.accuracies, atol=1e-6)
    for a, b in zip(weights(fused_run), weights(ref_run), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


LOSS_CASES = [  # (loss, data, data params, outputs)
    ("mse", "circle", {}, 1), ("mse", "gaussian", {"n_classes": 3}, 3),
    ("l1", "circle", {}, 1), ("l1", "xor", {}, 2),
    ("cross_entropy", "gaussian", {"n_classes": 3}, 3), ("cross_entropy", "circle", {}, 2),
    ("binary_cross_entropy", "spiral", {}, 1), ("hinge", "two_moons", {}, 1),
]


@pytest.mark.parametrize(("loss", "data", "params", "out"), LOSS_CASES)
def test_each_loss_matches_autograd(loss: str, data: str, params: dict[str, Any],
                                    out: int) -> None:
    compare(spec(mlp([4, 2], out), data, loss, ("sgd", {"lr": 0.1}), data_params=params))


def test_regression_matches_autograd() -> None:
    compare(spec(mlp([6, 3], 1), "plane", "mse", task="regression"))
    compare(spec(mlp([5], 1, "relu"), "gaussian_bumps", "l1", ("adam", {"lr": 0.01}),
                 task="regression"))


OPTIMIZER_CASES = [
    ("sgd", {"lr": 0.1, "weight_decay": 0.01}),
    ("momentum", {"lr": 0.05, "momentum": 0.9}),
    ("momentum", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.02}),
    ("momentum", {"lr": 0.05, "momentum": 0.0}),
    ("nesterov", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01}), ("adam", {"lr": 0.01, "weight_decay": 0.05}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("adagrad", {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.01}),
    ("rmsprop", {"lr": 0.005}),
    ("rmsprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
]


@pytest.mark.parametrize(("name", "params"), OPTIMIZER_CASES)
def test_each_optimizer_matches_torch_optim(name: str, params: dict[str, Any]) -> None:
    compare(spec(mlp([6, 4], 2), "xor", "cross_entropy", (name, params)))


@pytest.mark.parametrize(("act", "params"), [
    ("tanh", {}), ("sigmoid", {}), ("relu", {}), ("leaky_relu", {"negative_slope": 0.1}),
    ("elu", {"alpha": 0.7}), ("identity", {}),
])
def test_each_activation_matches_autograd(act: str, params: dict[str, Any]) -> None:
    compare(spec(mlp([8, 5], 1, act, params), "spiral", "mse", ("momentum", {"lr": 0.05})))


@pytest.mark.parametrize(("regularizer", "clip"), [
    (Choice(name="l1", params={"alpha": 0.01}), Choice(name="none")),
    (Choice(name="l2", params={"alpha": 0.05}), Choice(name="norm", params={"max_norm": 0.1})),
    (Choice(name="elastic_net", params={"alpha": 0.02}),
     Choice(name="value", params={"clip_value": 0.05})),
    (Choice(name="none"), Choice(name="norm", params={"max_norm": 0.2, "norm_type": 1.0})),
])
def test_penalties_and_clipping_match_autograd(regularizer: Choice, clip: Choice) -> None:
    compare(spec(mlp([6, 3], 1), "circle", "mse", ("sgd", {"lr": 0.1}),
                 regularizer=regularizer, clip=clip))


def test_chains_with_stacked_activations_and_no_bias_match() -> None:
    net = NetworkSpec.stack(("in", "input", {}), ("pre", "tanh", {}),
                            ("a", "linear", {"out_features": 5, "bias": False}),
                            ("r", "relu", {}), ("t", "sigmoid", {}), ("i", "identity", {}),
                            ("b", "linear", {"out_features": 3}),
                            ("c", "linear", {"out_features": 2}), ("s", "elu", {}))
    compare(spec(net, "gaussian", "cross_entropy", ("adam", {"lr": 0.02}),
                 data_params={"n_classes": 2}))


def test_unsupported_graphs_and_choices_give_a_reason() -> None:
    def reason(s: RunSpec) -> str | None:
        return fused_unsupported_reason(prepare_run(s))

    assert reason(spec(mlp([4, 2], 1))) is None
    dropout = NetworkSpec.stack(("in", "input", {}), ("fc", "linear", {"out_features": 4}),
                                ("d", "dropout", {}), ("out", "linear", {"out_features": 1}))
    assert "dropout" in (reason(spec(dropout)) or "")
    soft = NetworkSpec.stack(("in", "input", {}), ("fc", "linear", {"out_features": 2}),
                             ("sm", "softmax", {}))
    assert "softmax" in (reason(spec(soft)) or "")
    nodes = [NodeSpec(id="in", kind="input"), NodeSpec(id="a", kind="linear"),
             NodeSpec(id="b", kind="linear"), NodeSpec(id="sum", kind="add"),
             NodeSpec(id="out", kind="linear", params={"out_features": 1})]
    edges = [EdgeSpec(source=s, target=t) for s, t in
             (("in", "a"), ("in", "b"), ("a", "sum"), ("b", "sum"), ("sum", "out"))]
    assert reason(spec(NetworkSpec(nodes=nodes, edges=edges))) is not None
    hinge3 = spec(mlp([4], 3), "gaussian", "hinge", data_params={"n_classes": 3})
    assert "hinge" in (reason(hinge3) or "")
    ams = spec(mlp([4], 1), optimizer=("adam", {"lr": 0.01, "amsgrad": True}))
    assert "amsgrad" in (reason(ams) or "")


@pytest.mark.parametrize(("loss", "act"), [("mse", "tanh"), ("cross_entropy", "relu"),
                                         ("cross_entropy", "elu")])
def test_divergence_is_reported_before_the_update(loss: str, act: str) -> None:
    out = 1 if loss == "mse" else 2
    s = spec(mlp([8] * 6, out, act), "spiral", loss, ("sgd", {"lr": 1e3}), steps=200)
    ref_run, fused_run = prepare_run(s), prepare_run(s)
    batches, lrs = batches_and_lrs(ref_run, 200, lr_decay=1.0)
    got = FusedMLPStep(fused_run).train(batches, lrs)
    assert got.divergence is not None, "lr 1e3 must diverge"
    assert got.divergence.where in ("loss", *fused_run.model.order)
    assert got.divergence.where != "in"
    assert np.isfinite(got.losses).all() and len(got.losses) == got.divergence.index
    if len(got.losses):
        assert got.divergence.last_finite == {"loss": got.losses[-1]}
    assert all(np.isfinite(w).all() for w in weights(fused_run))
    ref = AutogradStep(ref_run).train(batches, lrs)
    assert ref.divergence is not None
    assert (ref.divergence.index, ref.divergence.where) == \
        (got.divergence.index, got.divergence.where)


def test_nonfinite_gradient_names_the_first_linear_layer() -> None:
    # A finite forward (fc0 outputs zeros) whose backward overflows: ∂L/∂z0 = g·1e30·1e30,
    # so fc0's weight gradient is inf while the later layers' gradients are zero.
    def broken() -> PreparedRun:
        run = prepare_run(spec(mlp([4, 2], 1, "identity")))
        params = dict(run.model.named_parameters())
        with torch.no_grad():
            params["layers.fc0.weight"].zero_()
            params["layers.fc0.bias"].zero_()
            params["layers.fc1.weight"].fill_(1e30)
            params["layers.fc1.bias"].zero_()
            params["layers.out.weight"].fill_(1e30)
        return run

    ref_run, fused_run = broken(), broken()
    batches, lrs = batches_and_lrs(ref_run, 3)
    got = FusedMLPStep(fused_run).train(batches, lrs)
    ref = AutogradStep(ref_run).train(batches, lrs)
    assert got.divergence is not None and ref.divergence is not None
    assert (got.divergence.index, got.divergence.where) == (0, "fc0")
    assert (ref.divergence.index, ref.divergence.where) == (0, "fc0")
    assert len(got.losses) == 0 and got.divergence.last_finite == {}
    for a, b in zip(weights(fused_run), weights(ref_run), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing was updated


@pytest.mark.parametrize("case", LOSS_CASES[:6])
def test_evaluate_and_outputs_equal_autograd(case: tuple[str, str, dict[str, Any], int]) -> None:
    loss, data, params, out = case
    run = prepare_run(spec(mlp([5, 3], out), data, loss, data_params=params))
    ref, fused = AutogradStep(run), FusedMLPStep(run)  # one model: the fused step updates it
    fused.train(*batches_and_lrs(run))
    for split in ("train", "test"):
        (a, acc_a), (b, acc_b) = fused.evaluate(split), ref.evaluate(split)
        assert a == pytest.approx(b, rel=1e-5) and acc_a == pytest.approx(acc_b)
    grid = run.data.grid(16)
    assert grid is not None
    got, want = fused.outputs(grid), ref.outputs(grid)
    assert got.dtype == torch.float32 and got.shape == want.shape == (256, out)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_node_outputs_equal_the_models_in_eval_mode() -> None:
    net = NetworkSpec.stack(("in", "input", {}), ("i0", "identity", {}),
                            ("a", "linear", {"out_features": 5}), ("r", "relu", {}),
                            ("t", "sigmoid", {}), ("i", "identity", {}),
                            ("b", "linear", {"out_features": 3}))
    run = prepare_run(spec(net, "gaussian", "cross_entropy", data_params={"n_classes": 3}))
    step = FusedMLPStep(run)
    step.train(*batches_and_lrs(run))
    x = run.data.x_train[:40]
    got = step.node_outputs(x)
    with torch.no_grad():
        want = run.model.node_outputs(torch.from_numpy(x))
    assert list(got) == list(want) == ["in", "i0", "a", "r", "t", "i", "b"]
    for node, out in want.items():  # each its own buffer: the relu did not overwrite "a"
        np.testing.assert_allclose(got[node], out.numpy(), rtol=1e-5, atol=1e-6)
    assert step.node_outputs(x)["b"] is got["b"]  # kept buffers, no allocation per pass


def test_weights_live_in_the_model_even_when_its_tensors_are_replaced() -> None:
    s = spec(mlp([4, 2], 1), "circle", "mse", ("momentum", {"lr": 0.05}))
    ref_run, fused_run = prepare_run(s), prepare_run(s)
    batches, lrs = batches_and_lrs(ref_run)
    AutogradStep(ref_run).train(batches, lrs)
    step = FusedMLPStep(fused_run)
    step.train(batches[:5], lrs[:5])
    with torch.no_grad():  # as a checkpoint restore that swaps tensors would
        for p in fused_run.model.parameters():
            p.data = p.data.clone()
    step.train(batches[5:], lrs[5:])
    for a, b in zip(weights(fused_run), weights(ref_run), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def tfp_default(fast_path: bool) -> RunSpec:
    return RunSpec(network=mlp([4, 2], 1), data=Choice(name="circle"),
                   training=TrainingSpec(loss=Choice(name="mse"), epochs=30, device="cpu",
                                         fast_path=fast_path,
                                         telemetry=TelemetrySpec(grid_resolution=16)))


def test_trainer_picks_the_fused_step_and_both_paths_learn_alike() -> None:
    fused, plain = Trainer(tfp_default(True)), Trainer(tfp_default(False))
    assert fused.strategy.name == "fused_mlp" and plain.strategy.name == "autograd"
    grids: dict[str, list[Any]] = {"fused": [], "plain": []}
    fused.subscribe(grids["fused"].append, types={"grid_computed"})
    plain.subscribe(grids["plain"].append, types={"grid_computed"})
    a, b = fused.run(), plain.run()
    assert a.type == b.type == "run_completed"
    ma, mb = a.metrics, b.metrics  # type: ignore[attr-defined]
    assert ma["train_accuracy"] >= 0.9 and mb["train_accuracy"] >= 0.9
    for key in ma:
        assert ma[key] == pytest.approx(mb[key], rel=0.02, abs=0.02)
    last_fused, last_plain = grids["fused"][-1], grids["plain"][-1]  # after the last step
    assert last_fused.step == last_plain.step == 30 * fused.prepared.steps_per_epoch
    np.testing.assert_allclose(last_fused.values, last_plain.values, atol=0.02)
