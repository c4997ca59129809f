"""Model weights to and from safetensors files (never pickle), with the run spec as metadata.

May import: stdlib, torch, safetensors, engine modules.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from safetensors.torch import save_file
from torch import nn

from engine.specs import RunSpec


def save_checkpoint(model: nn.Module, spec: RunSpec, path: str | Path, *, step: int) -> Path:
    """Write the model's state (parameters and buffers) to `path`; returns the path."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": "livegrad-checkpoint-1", "step": str(step),
            "spec": spec.model_dump_json()}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(target), metadata=meta)
    return target


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a checkpoint as NumPy arrays, by state-dict key."""
    return load_file(str(path))
