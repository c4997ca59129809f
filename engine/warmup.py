"""The warm-up of a process that hosts the engine: torch's first-use costs (the first optimizer
alone takes over a second) and the fused kernel's compile or cache load, paid once before any
run is waiting for them (a worker calls it while idle).
May import: engine modules (it stands above the loop: it trains).
"""

from __future__ import annotations

from engine.core.runtime import ensure_threads
from engine.core.specs import Choice, NetworkSpec, RunSpec, TelemetrySpec
from engine.core.trainer import Trainer
from engine.families.fused.kernel import ensure_compiled


def warm_up() -> None:
    """Train a tiny run on both step strategies so that later runs start at full speed."""
    ensure_threads()
    ensure_compiled()  # compiles once per machine (numba's cache), else loads it: seconds
    network = NetworkSpec.stack(("x", "input", {}), ("d", "linear", {"out_features": 2}),
                                ("t", "tanh", {}), ("out", "linear", {"out_features": 2}))
    for fast_path in (True, False):
        spec = RunSpec.model_validate({  # a version-1 spec: the one network and optimizer
            "network": network, "data": Choice(name="xor", params={"n_points": 40}),
            "training": {"steps": 3, "fast_path": fast_path, "device": "cpu",
                         "optimizer": Choice(name="adam"),
                         "telemetry": TelemetrySpec(grid_every=0)}})
        Trainer(spec).run()
