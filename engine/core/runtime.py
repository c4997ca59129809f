"""Process-level set-up for hosts of the engine: CPU thread counts.

One thread setting for both of the engine's CPU kernels: torch's intra-op threads and NumPy's
BLAS (OpenBLAS, which the fused NumPy step calls). A worker process sets it before it trains
(two torch threads beside a busy server process cost 2.6-3x here; the fused 784-256-256-10
MLP fell from 1,180 to 551-616 steps/s with BLAS on two threads of a busy 2-core machine).
`ensure_threads` gives the engine used from Python the same default (1, or LIVEGRAD_THREADS)
unless `set_threads` was called first.
May import: stdlib, torch, threadpoolctl.
"""

from __future__ import annotations

import os
from typing import Any

import torch

DEFAULT_THREADS = 1  # the server's worker default too: these nets are too small to split
_limits: dict[str, Any] = {}  # "n": the count set; "blas": the limiter, alive for the process


def set_threads(n: int) -> None:
    """Use n threads (n >= 1) for torch's CPU kernels and NumPy's BLAS in this process."""
    if n < 1:
        raise ValueError(f"thread count must be at least 1, got {n}")
    torch.set_num_threads(n)
    # for BLAS libraries loaded later (they read it when they load), then for those loaded
    os.environ["OPENBLAS_NUM_THREADS"] = str(n)
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    _limits["blas"] = threadpool_limits(limits=n, user_api="blas")
    _limits["n"] = n


def ensure_threads() -> int:
    """The thread count in force: set_threads' if it was called, else the default applied
    now (LIVEGRAD_THREADS, else DEFAULT_THREADS). Cheap to call on every run."""
    if "n" not in _limits:
        set_threads(int(os.environ.get("LIVEGRAD_THREADS") or DEFAULT_THREADS))
    return int(_limits["n"])

