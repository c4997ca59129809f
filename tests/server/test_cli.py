"""The `livegrad` command as a user runs it: `livegrad train spec.json`."""

from __future__ import annotations

import json
import subprocess
import sys

from engine import RunSpec, example_spec


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
