"""Errors that say what was wrong, where, and why.

A `SpecError` carries one or more `LocatedError`s, each naming the node (or none for the
whole spec), the field, and the reason, so that a server can answer 422 with them and a UI
can pin each message on its node. May import: stdlib, pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel


class LocatedError(BaseModel):
    """One refusal: which node (if any), which field (if any), and why."""

    node: str | None = None
    field: str | None = None
    message: str

    def __init__(self, node: str | None = None, field: str | None = None, message: str = ""):
        super().__init__(node=node, field=field, message=message)

    def __str__(self) -> str:
        if self.node is None or f'"{self.node}"' in self.message:
            return self.message
        return f'node "{self.node}": {self.message}'


class SpecError(ValueError):
    """A spec that cannot be built or run; `errors` holds every located reason found."""

    def __init__(self, errors: list[LocatedError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def shown(value: object, limit: int = 80) -> str:
    """A value as a message quotes it: its repr, cut short (a 1 MB string is no message)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class DeviceError(RuntimeError):
    """A device was asked for that this machine does not have."""
