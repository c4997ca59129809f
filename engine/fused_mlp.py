"""Placeholder until the fused NumPy path lands."""

from __future__ import annotations

from typing import Any


def fused_unsupported_reason(run: Any) -> str | None:
    return "not implemented yet"


class FusedMLPStep:
    def __init__(self, run: Any) -> None:
        raise NotImplementedError
