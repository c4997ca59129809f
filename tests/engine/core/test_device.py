"""Device choice and the headless command line."""

from __future__ import annotations

import json

import pytest
import torch

from engine import (
    DeviceError,
    SpecError,
    Trainer,
    check_spec,
    example_spec,
    resolve_device,
    train_command,
)
from tests.engine.helpers import mlp, opt, run_spec


def test_auto_picks_cpu_without_cuda() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="device 'cuda' was asked for"):
        resolve_device("cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused_by_the_check_on_its_field() -> None:
    spec = run_spec(mlp([4]), loss=opt("mse"), device="cuda")
    errors, _ = check_spec(spec)
    assert [(e.node, e.field) for e in errors] == [(None, "training.device")]
    assert "no usable CUDA device" in errors[0].message
    with pytest.raises(SpecError, match="device 'cuda' was asked for"):
        Trainer(spec)


def test_train_command_prints_final_metrics(tmp_path, capsys) -> None:
    spec = json.loads(example_spec())
    spec["training"]["epochs"] = 3
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert train_command(str(path), quiet=True) == 0
    out = capsys.readouterr().out
    assert "run_completed after 75 steps (3 epochs" in out and "test_accuracy" in out


def test_train_command_refuses_a_missing_file(tmp_path, capsys) -> None:
    assert train_command(str(tmp_path / "nope.json")) == 2
    assert "nope.json" in capsys.readouterr().err
