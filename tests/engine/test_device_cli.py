"""Device choice and the headless command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from engine import DeviceError, RunSpec, Trainer, resolve_device
from engine.cli import example_spec
from tests.engine.helpers import mlp, opt, run_spec


def test_auto_picks_cpu_without_cuda() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="device 'cuda' was asked for"):
        Trainer(run_spec(mlp([4]), loss=opt("mse"), device="cuda"))


def test_cli_trains_a_spec_file(tmp_path) -> None:
    spec = json.loads(example_spec())
    spec["training"]["epochs"] = 3
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    RunSpec.model_validate(spec)
    out = subprocess.run([sys.executable, "-m", "server.cli", "train", str(path), "--quiet"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "run_completed after 75 steps (3 epochs" in out.stdout
    assert "test_accuracy" in out.stdout


def test_cli_refuses_a_bad_spec_with_the_located_error(tmp_path) -> None:
    spec = json.loads(example_spec())
    spec["network"]["nodes"][3]["params"]["in_features"] = 7
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    out = subprocess.run([sys.executable, "-m", "server.cli", "train", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert 'node "out": in_features is 7 but the incoming tensor is (N, 4)' in out.stderr
