"""The fused step's compiled kernel against torch (AutogradStep) where the probes read it: the
per-parameter gradient norms of sampled steps and the gradients captured on a chunk's last
step, for each activation, loss and optimizer, with penalties and clipping; then which kernel a
step gets, and the fall-back to NumPy. (Losses, weights, accuracies and divergence are
checked on both kernels in test_fused_mlp.py.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine import Choice
from engine.core.prepare import prepare_run
from engine.core.steps import AutogradStep, Recording
from engine.families.fused import kernel as fk
from engine.families.fused.mlp import FusedMLPStep
from tests.engine.families.fused.test_fused_mlp import batches_and_lrs, mlp, spec, weights

pytestmark = pytest.mark.skipif(not fk.ensure_compiled(), reason="no compiled kernel here")
STEPS = 12


def recorded(kernel: str, s: Any) -> tuple[Any, Any]:
    """Both steps' outcomes for one chunk sampling every third step and capturing the last."""
    ref_run, run = prepare_run(s), prepare_run(s)
    batches, lrs = batches_and_lrs(ref_run, STEPS)
    record = Recording([i % 3 == 1 for i in range(STEPS)], capture=True)
    ref, step = AutogradStep(ref_run), FusedMLPStep(run, kernel=kernel)
    assert step.kernel == kernel
    applied = before_each_step(ref)
    want, got = ref.train(batches, lrs, record), step.train(batches, lrs, record)
    for a, b in zip(weights(run), weights(ref_run), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    return (want, applied[-1]), (got, step.captured_grads())


def before_each_step(ref: AutogradStep) -> list[list[Any]]:
    """torch's gradients as the optimizer receives them (after clipping), at every step: the
    oracle of a capture. (p.grad after the step is not: foreach SGD with Nesterov adds the
    momentum into p.grad in place.)"""
    seen: list[list[Any]] = []
    step = ref.optimizer.step

    def recording_step(*args: Any, **kwargs: Any) -> Any:
        seen.append([p.grad.detach().clone() for p in ref.params])
        return step(*args, **kwargs)

    ref.optimizer.step = recording_step  # type: ignore[method-assign]
    return seen


CASES = [  # (activation, loss, data, data params, outputs, optimizer, training extras)
    ("tanh", "mse", "circle", {}, 1, ("sgd", {"lr": 0.1}), {}),
    ("sigmoid", "cross_entropy", "gaussian", {"n_classes": 3}, 3,
     ("adam", {"lr": 0.02, "weight_decay": 0.01}), {}),
    ("relu", "binary_cross_entropy", "spiral", {}, 1, ("momentum", {"lr": 0.05}),
     {"clip": Choice(name="norm", params={"max_norm": 0.1})}),
    # (not rmsprop on the hinge loss: a bias gradient of ±1/n terms cancels to 0 in one
    # summation order and to ±1e-9 in another, and rmsprop makes a full step of either sign)
    ("leaky_relu", "hinge", "two_moons", {}, 1, ("sgd", {"lr": 0.05}),
     {"regularizer": Choice(name="elastic_net", params={"alpha": 0.02})}),
    ("leaky_relu", "mse", "circle", {}, 1, ("rmsprop", {"lr": 0.005, "momentum": 0.5}),
     {"regularizer": Choice(name="l2", params={"alpha": 0.05})}),
    ("elu", "l1", "xor", {}, 2, ("adagrad", {"lr": 0.05}),
     {"clip": Choice(name="value", params={"clip_value": 0.05})}),
    ("tanh", "mse", "circle", {}, 1, ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
     {"clip": Choice(name="norm", params={"max_norm": 0.2, "norm_type": 1.0})}),
    ("relu", "cross_entropy", "xor", {}, 2, ("nesterov", {"lr": 0.05, "momentum": 0.9}),
     {"regularizer": Choice(name="l1", params={"alpha": 0.01})}),
]


@pytest.mark.parametrize("kernel", ["compiled", "numpy"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[5][0]}")
def test_sampled_norms_and_captured_grads_equal_torch(kernel: str, case: tuple[Any, ...]
                                                      ) -> None:
    act, loss, data, params, out, optimizer, extra = case
    s = spec(mlp([6, 4], out, act), data, loss, optimizer, data_params=params, **extra)
    (want, want_grads), (got, got_grads) = recorded(kernel, s)
    np.testing.assert_allclose(got.losses, want.losses, rtol=1e-4, atol=1e-5)
    assert got.grad_norms is not None and want.grad_norms is not None
    np.testing.assert_array_equal(got.sampled, want.sampled)
    assert got.grad_norms.shape == want.grad_norms.shape == (4, 6)  # 4 sampled, 3 layers
    np.testing.assert_allclose(got.grad_norms, want.grad_norms, rtol=1e-4, atol=1e-7)
    assert got_grads is not None
    for g, w in zip(got_grads, want_grads, strict=True):  # as applied: after clipping
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-7)


def test_the_kernels_agree_closely_over_many_steps() -> None:
    s = spec(mlp([8] * 6, 1), "spiral", "mse", ("sgd", {"lr": 0.03}), steps=500)
    runs = {k: prepare_run(s) for k in ("compiled", "numpy")}
    batches, lrs = batches_and_lrs(runs["numpy"], 500, lr_decay=1.0)
    got = {k: FusedMLPStep(run, kernel=k).train(batches, lrs) for k, run in runs.items()}
    np.testing.assert_allclose(got["compiled"].losses, got["numpy"].losses, rtol=1e-4)
    np.testing.assert_array_equal(got["compiled"].accuracies, got["numpy"].accuracies)
    for a, b in zip(weights(runs["compiled"]), weights(runs["numpy"]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_small_nets_get_the_kernel_and_big_ones_numpy() -> None:
    assert FusedMLPStep(prepare_run(spec(mlp([8] * 6, 1)))).kernel == "compiled"
    big = spec(mlp([256, 256], 10), "synthetic_images", "cross_entropy",
               data_params={"n_points": 100}, batch_size=64)
    step = FusedMLPStep(prepare_run(big))
    assert step.kernel == "numpy" and "BLAS" in (fk.kernel_reason(step) or "")


def test_without_the_kernel_the_numpy_path_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fk, "_state", {"error": "the compiled kernel is unavailable (test)"})
    run = prepare_run(spec(mlp([4, 2], 1)))
    step = FusedMLPStep(run)
    assert step.kernel == "numpy" and step.compiled is None
    outcome = step.train(*batches_and_lrs(run))
    assert outcome.divergence is None and len(outcome.losses) == 20
    with pytest.raises(RuntimeError, match="unavailable"):
        FusedMLPStep(run, kernel="compiled")


def test_an_empty_chunk_and_a_chunk_after_tensors_are_replaced() -> None:
    run = prepare_run(spec(mlp([4, 2], 1), optimizer=("adam", {"lr": 0.01})))
    step = FusedMLPStep(run, kernel="compiled")
    empty = step.train([], [])
    assert len(empty.losses) == 0 and empty.divergence is None
    batches, lrs = batches_and_lrs(run)
    step.train(batches[:5], lrs[:5])
    for p in run.model.parameters():  # as a checkpoint restore that swaps tensors would
        p.data = p.data.clone()
    step.train(batches[5:], lrs[5:])
    assert [w.ctypes.data for w in step.weight_arrays()] == \
        [p.data_ptr() for p in run.model.parameters()]


def test_the_compiled_code_is_cached_by_a_hash_of_every_kernel_source(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # numba checks only the caller's file: a change to a module it calls must not load stale
    # code, so the folder is named by all of them (under the base numba was given, if any)
    assert "chunk.py" in fk.SOURCES and "kernel_ops.py" in fk.SOURCES
    callee = tmp_path / "callee.py"
    callee.write_text("x = 1\n")
    monkeypatch.setattr(fk, "SOURCES", (*fk.SOURCES, str(callee)))  # an absolute path
    before = fk.cache_dir(str(tmp_path))
    callee.write_text("x = 2\n")
    after = fk.cache_dir(str(tmp_path))
    assert before and after and before != after
    assert before.startswith(str(tmp_path)) and fk.cache_dir(str(tmp_path)) == after
