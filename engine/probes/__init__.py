"""Probes: what training does inside the network, measured without slowing it down.

Gradient and weight norms every step (computed inside the step strategies), histograms,
activations and per-neuron maps from a separate eval-mode pass, Hessian curvature on request,
small models' weight matrices for drawing the network, the exploding/vanishing warnings and
the divergence diagnosis. `PROBES` is the registry (one
entry per probe); `Telemetry` is the hub the trainer drives; `check_probe_changes` refuses a
bad mid-run change before it travels to a trainer. Probes are the only engine code
that touches torch hooks, and only for the length of a probe pass.
May import: stdlib, numpy, torch, pydantic, engine modules below the trainer, its own modules.
"""

# Imported for their side effect, in this order: the in-step probes register first.
from engine.probes import in_step  # noqa: F401, I001  (the probes recording inside the steps)
from engine.probes import entries  # noqa: F401  (the probes sampled between chunks)
from engine.probes.registry import (
    PROBES,
    ProbeEntry,
    ProbeParams,
    changed_settings,
    check_probe_changes,
    probe_settings,
)

__all__ = ["PROBES", "ProbeEntry", "ProbeParams", "changed_settings", "check_probe_changes",
           "probe_settings"]
