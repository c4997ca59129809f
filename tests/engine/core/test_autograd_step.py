"""AutogradStep against plain torch (the oracle): the per-step losses, the gradient norms the
probes record, and the gradients a chunk captures equal those of an independent forward and
backward on a copy of the weights, stepped by torch.optim's own (for-loop) optimizer.

The optimizers are the ones that move .grad under a reader's feet: foreach SGD with Nesterov
adds the momentum into p.grad in place during step(), so a gradient read after the step is
not the gradient (with weight decay torch works on a copy; without, on p.grad itself)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine import NetworkSpec, NodeSpec
from engine.core import steps
from engine.core.prepare import prepare_run
from engine.core.specs import EdgeSpec
from engine.core.steps import AutogradStep, Recording
from tests.engine.helpers import opt, run_spec

STEPS, BATCH = 12, 10
LAYERS = ("dense1", "dense2", "out")


def skip_net() -> NetworkSpec:
    """x -> dense1 -> tanh -> dense2 -> tanh, the two tanh outputs added, -> out: a graph the
    fused path declines, so that the run trains on AutogradStep."""
    nodes = [NodeSpec(id="x", kind="input"),
             NodeSpec(id="dense1", kind="linear", params={"out_features": 6}),
             NodeSpec(id="act1", kind="tanh"),
             NodeSpec(id="dense2", kind="linear", params={"out_features": 6}),
             NodeSpec(id="act2", kind="tanh"),
             NodeSpec(id="skip", kind="add"),
             NodeSpec(id="out", kind="linear", params={"out_features": 1})]
    pairs = [("x", "dense1"), ("dense1", "act1"), ("act1", "dense2"), ("dense2", "act2"),
             ("act1", "skip"), ("act2", "skip"), ("skip", "out")]
    return NetworkSpec(nodes=nodes, edges=[EdgeSpec(source=a, target=b) for a, b in pairs])


OPTIMIZERS = {  # engine's choice, the same optimizer as plain torch makes it
    "nesterov-decay": (opt("nesterov", lr=0.05, momentum=0.9, weight_decay=1e-3),
                       lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,
                                                  weight_decay=1e-3, foreach=False)),
    "nesterov": (opt("nesterov", lr=0.05, momentum=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,
                                            foreach=False)),
    "adam": (opt("adam", lr=0.01),
             lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False)),
}


def oracle(weights: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor,
           batches: list[np.ndarray], make_opt: Any
           ) -> tuple[list[float], np.ndarray, list[torch.Tensor], list[torch.Tensor]]:
    """Plain torch on copies of the weights (w1, b1, w2, b2, w3, b3): each step's loss, each
    step's per-parameter gradient norms (S, P) and the last step's gradients, all read
    before the optimizer's step; then the weights at the end."""
    params = [w.detach().clone().requires_grad_(True) for w in weights]
    optimizer = make_opt(params)
    losses, norms, grads = [], [], []
    for idx in batches:
        w1, b1, w2, b2, w3, b3 = params
        xb, yb = x[torch.from_numpy(idx)], y[torch.from_numpy(idx)]
        h1 = torch.tanh(F.linear(xb, w1, b1))
        h2 = torch.tanh(F.linear(h1, w2, b2))
        loss = F.mse_loss(F.linear(h1 + h2, w3, b3), yb)
        optimizer.zero_grad()
        loss.backward()
        losses.append(float(loss.detach()))
        got = [p.grad for p in params if p.grad is not None]
        norms.append([float(torch.linalg.vector_norm(g.double())) for g in got])
        grads = [g.detach().clone() for g in got]
        optimizer.step()
    return losses, np.asarray(norms), grads, [p.detach() for p in params]


@pytest.mark.parametrize("path", ["kept", "flat", "per-parameter"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("every", [1, 3])
def test_recorded_gradient_norms_and_capture_equal_plain_torch(
        name: str, every: int, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """path: the gradients in one buffer, the sampled steps' kept and normed at the chunk's
    end (the usual path); in one buffer, normed at each step (a chunk too big to keep); or
    per parameter (the fallback)."""
    choice, make_opt = OPTIMIZERS[name]
    run = prepare_run(run_spec(skip_net(), data="xor", loss=opt("mse"), optimizer=choice,
                               batch_size=BATCH, fast_path=False, device="cpu"))
    if path == "flat":
        monkeypatch.setattr(steps, "KEEP_LIMIT", 0)
    if path == "per-parameter":  # as when the parameters cannot share one buffer
        monkeypatch.setattr(steps, "flatten_parameters", lambda params: None)
    step = AutogradStep(run)
    assert (step.flat is None) == (path == "per-parameter")
    weights = [t for node in LAYERS for t in run.model.layers[node].parameters()]
    assert [id(p) for p in step.params] == [id(w) for w in weights]
    x = torch.from_numpy(run.data.x_train)
    y = torch.from_numpy(run.data.y_train.astype(np.float32) * 2 - 1).unsqueeze(1)  # ±1
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(x))
    batches = [perm[i * BATCH:(i + 1) * BATCH] for i in range(STEPS)]
    want_losses, want_norms, want_grads, want_weights = oracle(weights, x, y, batches, make_opt)

    # two chunks: the second starts from the state (momentum, moments) the first left
    sample = [i % every == every - 1 for i in range(STEPS)]
    half = STEPS // 2
    first = step.train(batches[:half], [choice.params["lr"]] * half,
                       Recording(sample[:half]))
    if path != "per-parameter":  # something clears the gradients: the step notices, adopts anew
        step.optimizer.zero_grad(set_to_none=True)  # the flat parameter's
        run.model.zero_grad(set_to_none=True)  # each layer's
    second = step.train(batches[half:], [choice.params["lr"]] * half,
                        Recording(sample[half:], capture=True))
    captured = [g.clone() for g in step.captured_grads() or []]

    losses = np.concatenate([first.losses, second.losses])
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5, atol=1e-7)
    assert first.sampled is not None and second.sampled is not None
    assert first.grad_norms is not None and second.grad_norms is not None
    positions = np.concatenate([first.sampled, second.sampled + half])
    assert positions.tolist() == [i for i in range(STEPS) if sample[i]]
    norms = np.concatenate([first.grad_norms, second.grad_norms])
    np.testing.assert_allclose(norms, want_norms[positions], rtol=1e-5, atol=1e-8)
    for got, want in zip(captured, want_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    # the weights both reached agree: each update applied the same gradients
    for got, want in zip(weights, want_weights, strict=True):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-7)


def test_the_single_sum_check_tells_overflow_from_nonfinite_gradients() -> None:
    """Unsampled steps check one sum of all gradients: huge finite gradients overflow it and
    must not stop the run; one NaN must, naming its layer; a sampled step records its norms."""
    run = prepare_run(run_spec(skip_net(), loss=opt("mse"), optimizer=opt("sgd", lr=0.01),
                               batch_size=BATCH, fast_path=False, device="cpu"))
    step = AutogradStep(run)
    step.train([np.arange(BATCH)], [0.01])
    assert step.flat is not None
    loss = torch.tensor(0.5)
    step.flat.fill_(3e38)  # finite float32, whose sum is not
    assert not torch.isfinite(step.flat.sum())
    assert step.flat_check(step.flat, loss, sample=False) is None
    step.n_kept = 0
    assert step.flat_check(step.flat, loss, sample=True) is None
    assert step.n_kept == 1  # kept for its norms, which are finite (taken in float64)
    norms = step.sampled_norms()
    assert norms.shape == (1, len(step.params)) and bool(torch.isfinite(norms).all())
    step.views[2][0, 0] = float("nan")  # dense2's weight
    assert step.flat_check(step.flat, loss, sample=False) == "dense2"
    assert step.flat_check(step.flat, torch.tensor(float("inf")), sample=True) == "loss"


def test_the_forward_honours_hooks_registered_on_its_layers_or_globally() -> None:
    """GraphModel calls its layers' forward directly only while nothing hooks them: a module
    hook or a global one (as the probes register) still sees every call."""
    run = prepare_run(run_spec(skip_net(), loss=opt("mse"), fast_path=False, device="cpu"))
    model, x = run.model, torch.from_numpy(run.data.x_train[:4])
    plain = model(x)
    seen: list[str] = []
    handle = model.layers["act2"].register_forward_hook(lambda m, i, o: seen.append("act2"))
    hooked = model(x)
    handle.remove()
    global_handle = torch.nn.modules.module.register_module_forward_hook(
        lambda m, i, o: seen.append(type(m).__name__))
    try:
        model(x)
    finally:
        global_handle.remove()
    model(x)  # hooks removed: nothing more is seen
    assert torch.equal(plain, hooked)
    assert seen[0] == "act2" and seen.count("Linear") == 3 and len(seen) == 1 + 8
