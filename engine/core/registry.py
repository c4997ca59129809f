"""Named registries: one entry in one place makes a layer, data set, loss or optimizer exist.

Each entry carries a pydantic model of its parameters, so that the catalog (JSON Schema with
type, range, default and description) and validation come from one definition.
May import: stdlib, pydantic, engine.core.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.core.errors import LocatedError, SpecError, shown


class Params(BaseModel):
    """Base class of every entry's parameter model: unknown fields are refused, and so are
    wrong types ("8" or true for an int) and NaN or infinite numbers: a spec is stored and
    shared as written, so a coerced value would be a different spec from the one it shows."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Entry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def params(self) -> type[Params]: ...


E = TypeVar("E", bound=Entry)


class Registry(Generic[E]):
    """A name -> entry table that refuses duplicates and lists the known names on a miss."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, E] = {}

    def register(self, entry: E) -> E:
        if entry.name in self._entries:
            raise ValueError(f"{self.what} {entry.name!r} is already registered")
        self._entries[entry.name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str, *, node: str | None = None, field: str = "kind") -> E:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise SpecError(
                [LocatedError(node, field, f"unknown {self.what} {shown(name)}; known: {known}")]
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[E]:
        return iter(self._entries.values())

    def names(self) -> list[str]:
        return list(self._entries)

    def catalog(self) -> list[dict[str, Any]]:
        """Each entry's name, description and parameter JSON Schema, for the front end."""
        return [catalog_entry(e) for e in self]


def catalog_entry(entry: Entry) -> dict[str, Any]:
    extra = getattr(entry, "catalog_extra", None)
    item: dict[str, Any] = {
        "name": entry.name,
        "description": entry.description,
        "params": entry.params.model_json_schema(),
    }
    if callable(extra):
        item.update(extra())
    return item


def parse_params(entry: Entry, raw: dict[str, Any], *, node: str | None, where: str) -> Any:
    """Validate raw parameters against an entry's model; errors name the node and the field."""
    try:
        return entry.params.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or None
            field = f"{where}.{loc}" if loc else where
            msg = "must be a finite number" if err["type"] == "finite_number" else err["msg"]
            errors.append(LocatedError(node, field, f"{msg} (got {shown(err.get('input'))})"))
        raise SpecError(errors) from None
