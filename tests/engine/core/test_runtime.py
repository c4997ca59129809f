"""engine.core.runtime: one thread setting reaches torch and NumPy's BLAS (as threadpoolctl sees
it), and the default applies only where nobody set one."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from engine.core import runtime


def blas_threads() -> list[int]:
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # NumPy's BLAS is loaded
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.fixture()
def restore_threads() -> Iterator[None]:
    before, limits = torch.get_num_threads(), dict(runtime._limits)
    yield
    runtime.set_threads(before)
    runtime._limits.clear()
    runtime._limits.update(limits)


def test_set_threads_reaches_torch_and_blas(restore_threads: None) -> None:
    runtime.set_threads(2)
    assert torch.get_num_threads() == 2 and set(blas_threads()) == {2}
    runtime.set_threads(1)
    assert torch.get_num_threads() == 1
    threads = blas_threads()
    assert threads and set(threads) == {1}
    assert runtime.ensure_threads() == 1


def test_ensure_threads_applies_the_default_once(restore_threads: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    runtime._limits.clear()
    monkeypatch.delenv("LIVEGRAD_THREADS", raising=False)
    assert runtime.ensure_threads() == runtime.DEFAULT_THREADS
    assert torch.get_num_threads() == runtime.DEFAULT_THREADS
    runtime.set_threads(2)
    assert runtime.ensure_threads() == 2  # an explicit choice is kept
    runtime._limits.clear()
    monkeypatch.setenv("LIVEGRAD_THREADS", "2")
    assert runtime.ensure_threads() == 2 and set(blas_threads()) == {2}


def test_set_threads_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        runtime.set_threads(0)
