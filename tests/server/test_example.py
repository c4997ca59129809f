"""examples/train_over_api.py runs against a live `livegrad serve` and does what it says:
catalog, run, streamed falling loss, checkpoint.

May import: stdlib, tests.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
from pathlib import Path

from tests.server.conftest import ROOT


def test_example_trains_over_the_api(live_server: str, tmp_path: Path) -> None:
    out = tmp_path / "weights.safetensors"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "train_over_api.py"),
                           "--url", live_server, "--epochs", "20", "--out", str(out)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert re.search(r"catalog: \d+ layer kinds, \d+ data sets, optimizers: .*adam", text)
    assert re.search(r"run [0-9a-f]+ \(.*\) is (running|queued)", text)
    losses = [float(x) for x in re.findall(r"train loss (\d+\.\d+)", text)]
    assert len(losses) >= 5 and losses[-1] < losses[0], text
    assert "run_completed at step" in text
    weights = out.read_bytes()
    (n,) = struct.unpack_from("<Q", weights, 0)
    names = set(json.loads(weights[8:8 + n])) - {"__metadata__"}
    assert names and f"saved {len(weights)} bytes" in text
