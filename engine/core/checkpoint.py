"""Checkpoints as safetensors bytes (never pickle): the model's weights, the optimizer's state,
the random states and the step, so that a stopped run resumes exactly where it was, with the
losses an uninterrupted run would have had.

Tensors: the model's state-dict keys as they are (what a reader of weights wants), and the
rest under `__optimizer__.`, `__rng__.` and `__trainer__.` (a reader of weights skips them).
Metadata (strings): the format, the spec, the step, seq and t, the base learning rate, the
optimizer's kind and non-tensor state and the data order's random state, as JSON.
Two optimizer kinds: torch.optim (its state dict, tensors by parameter index) and the fused
step's flat optimizer (one state block and its step count).
May import: stdlib, numpy, torch, safetensors, engine modules.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import load_file
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from safetensors.torch import save_file
from torch import nn

from engine.core.specs import RunSpec

FORMAT = "livegrad-checkpoint-3"  # 3: one flat tensor per optimizer
OPT, RNG, TRAINER = "__optimizer__.", "__rng__.", "__trainer__."


def save_checkpoint(model: nn.Module, spec: RunSpec, path: str | Path, *, step: int) -> Path:
    """Write the model's state (parameters and buffers) to `path`; returns the path."""
    # clones: the parameters are views of one flat tensor, and safetensors refuses shared memory
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"format": "livegrad-checkpoint-1", "step": str(step),
            "spec": spec.model_dump_json()}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target), metadata=meta)
    return target


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """The model tensors of a checkpoint as NumPy arrays, by state-dict key."""
    found = load_file(str(path))
    return {k: v for k, v in found.items() if not k.startswith("__")}


def metadata(data: bytes) -> dict[str, str]:
    """A checkpoint's metadata (safetensors: u64 header length, JSON header)."""
    (n,) = struct.unpack_from("<Q", data, 0)
    meta: dict[str, str] = json.loads(data[8:8 + n]).get("__metadata__", {})
    return meta


def trainer_checkpoint(trainer: Any) -> bytes:
    """Everything a stopped trainer needs to go on exactly (see `restore_trainer`)."""
    tensors = {k: v.detach().cpu().contiguous().clone()
               for k, v in trainer.model.state_dict().items()}
    kind, opt_meta, opt_tensors = optimizer_state(trainer.strategy)
    tensors |= {OPT + k: v for k, v in opt_tensors.items()}
    tensors[RNG + "torch"] = torch.get_rng_state()
    gen = getattr(trainer.strategy, "gen", None)  # a family's own generator (noise)
    if isinstance(gen, torch.Generator):
        tensors[RNG + "family"] = gen.get_state()
    tensors[TRAINER + "perm"] = torch.from_numpy(np.ascontiguousarray(trainer._perm))
    meta = {"format": FORMAT, "spec": trainer.spec.model_dump_json(), "step": str(trainer.step),
            "seq": str(trainer._seq), "t": repr(trainer.elapsed()),
            "base_lr": repr(trainer.base_lr), "optimizer": kind,
            "optimizer_state": json.dumps(opt_meta),
            "data_rng": json.dumps(trainer._rng.bit_generator.state)}
    return save_tensors(tensors, metadata=meta)


def restore_trainer(trainer: Any, data: bytes) -> None:
    """Put a fresh trainer of the same spec where the checkpoint's trainer stopped."""
    meta = metadata(data)
    if meta.get("format") != FORMAT:
        raise ValueError(f"not a resumable checkpoint (format {meta.get('format')!r}, "
                         f"expected {FORMAT!r})")
    tensors = load_tensors(data)
    state = {k: v for k, v in tensors.items() if not k.startswith("__")}
    with torch.no_grad():  # in place: the fused step's NumPy views keep pointing at them
        for key, value in trainer.model.state_dict().items():
            value.copy_(state[key])
    load_optimizer_state(trainer.strategy, meta["optimizer"],
                         json.loads(meta["optimizer_state"]),
                         {k[len(OPT):]: v for k, v in tensors.items() if k.startswith(OPT)})
    torch.set_rng_state(tensors[RNG + "torch"])
    gen = getattr(trainer.strategy, "gen", None)
    if isinstance(gen, torch.Generator) and RNG + "family" in tensors:
        gen.set_state(tensors[RNG + "family"])
    trainer._rng.bit_generator.state = json.loads(meta["data_rng"])
    trainer._perm = tensors[TRAINER + "perm"].numpy().copy()
    trainer.step, trainer._seq = int(meta["step"]), int(meta["seq"])
    trainer.base_lr = float(meta["base_lr"])
    trainer.resumed_at, trainer.t_offset = trainer.step, float(meta["t"])


def optimizer_state(strategy: Any) -> tuple[str, Any, dict[str, torch.Tensor]]:
    """(kind, JSON-able part, tensors) of the strategy's optimizer."""
    opt = strategy.optimizer
    if isinstance(opt, torch.optim.Optimizer):
        sd = opt.state_dict()
        tensors, plain = {}, {}
        for index, entry in sd["state"].items():
            for name, value in entry.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"{index}.{name}"] = value.detach().cpu().contiguous().clone()
                else:
                    plain[f"{index}.{name}"] = value
        return "torch", {"param_groups": sd["param_groups"], "plain": plain}, tensors
    # the fused step's flat optimizer: one (3, P) block and its step count
    return "flat", {"t": int(opt.t)}, {"state": torch.from_numpy(opt.state.copy())}


def load_optimizer_state(strategy: Any, kind: str, plain: Any,
                         tensors: dict[str, torch.Tensor]) -> None:
    opt = strategy.optimizer
    if kind == "flat":
        opt.state[...] = tensors["state"].numpy()  # in place: its views and kernels stay
        opt.t = int(plain["t"])
        return
    state: dict[int, dict[str, Any]] = {}
    for key, value in [*tensors.items(), *plain["plain"].items()]:
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": plain["param_groups"]})
