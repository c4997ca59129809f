"""Array fields of events: NumPy arrays that a model declares with a dtype and a symbolic shape.

    values: Annotated[np.ndarray, Array("float32", ("R", "R"))]

validates NumPy arrays (cast within their kind: float64 to float32; int64 to uint8 when the
values fit) and JSON lists alike, checks the number of dimensions and any fixed size, and
holds a read-only, C-contiguous, little-endian array. Dumps (`model_dump_json`, `model_dump`)
write it as nested lists, so that a JSON-only client reads such an event as any other; its
JSON Schema says so and carries `x-dtype` and `x-shape`. A transport that moves arrays as raw
buffers (the server's binary frame) finds them with `arrays_of` and `without_arrays`, for any
model: nothing here names an event type. Four dtypes travel: float32, float16, uint8 (images)
and int32.
May import: stdlib, numpy, pydantic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

# dtype -> its safetensors code; the order of the browser's typed arrays, too
DTYPES: dict[str, str] = {"float32": "F32", "float16": "F16", "uint8": "U8", "int32": "I32"}
_JSON_ITEM: dict[str, dict[str, Any]] = {
    "float32": {"type": "number"}, "float16": {"type": "number"},
    "uint8": {"type": "integer", "minimum": 0, "maximum": 255},
    "int32": {"type": "integer", "minimum": -(2 ** 31), "maximum": 2 ** 31 - 1},
}


@dataclass(frozen=True)
class Array:
    """`Annotated` metadata of an array field: its dtype and its shape, a name per dimension
    (documentation: `R` is the grid's resolution) or a fixed size (checked)."""

    dtype: str
    shape: tuple[str | int, ...]

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"array dtype {self.dtype!r} does not travel; use one of "
                             f"{sorted(DTYPES)}")

    def validate(self, value: Any) -> np.ndarray:
        want = np.dtype(self.dtype).newbyteorder("<")
        try:
            arr = value if isinstance(value, np.ndarray) else np.asarray(value)
        except (TypeError, ValueError, OverflowError) as exc:  # ragged lists, odd objects
            raise ValueError(f"expected an array of {self.dtype}: {exc}") from exc
        integers = arr.dtype.kind in "biu" and want.kind in "iu"  # JSON's ints are int64
        if arr.size and not (integers or np.can_cast(arr.dtype, want, "same_kind")):
            raise ValueError(f"expected {self.dtype} values, got {arr.dtype}")
        if arr.ndim != len(self.shape):
            raise ValueError(f"expected {len(self.shape)} dimensions {list(self.shape)}, "
                             f"got shape {list(arr.shape)}")
        for name, n in zip(self.shape, arr.shape, strict=True):
            if isinstance(name, int) and n != name:
                raise ValueError(f"expected shape {list(self.shape)}, got {list(arr.shape)}")
        cast = arr.astype(want, order="C", copy=False)  # (not ascontiguousarray: 0-d stays 0-d)
        if integers and cast is not arr and not np.array_equal(cast, arr):
            raise ValueError(f"values outside the range of {self.dtype}")
        arr = cast
        if arr.flags.writeable:  # a frozen event: a view, so that the caller's array stays
            arr = arr.view()
            arr.flags.writeable = False
        return arr

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = dict(_JSON_ITEM[self.dtype])
        for _ in self.shape:
            schema = {"type": "array", "items": schema}
        return {**schema, "x-dtype": self.dtype, "x-shape": list(self.shape)}

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        # dumps give nested lists, in Python mode too: a dump is plain data that compares
        # with ==; the arrays themselves are the attributes (and engine.core.arrays.arrays_of)
        return core_schema.no_info_plain_validator_function(
            self.validate, serialization=core_schema.plain_serializer_function_ser_schema(
                _to_lists, when_used="always"))

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return self.json_schema()


def _to_lists(arr: np.ndarray) -> Any:
    return arr.tolist()


@dataclass(frozen=True)
class ArrayField:
    """A declared array field: its dotted path (`*`: every item of a list or dict) and spec."""

    path: str
    spec: Array


def array_fields(model: type[BaseModel]) -> list[ArrayField]:
    """Every array field `model` declares, in field order, nested models and lists (or dicts)
    of models included: `values`, `layers.*.values`."""
    return list(_declared_in(model, "", frozenset()))


def _declared_in(model: type[BaseModel], prefix: str,
                 seen: frozenset[type[BaseModel]]) -> Iterator[ArrayField]:
    if model in seen:  # a recursive model declares nothing new below itself
        return
    for name, info in model.model_fields.items():
        spec = next((m for m in info.metadata if isinstance(m, Array)), None)
        if spec is not None:
            yield ArrayField(prefix + name, spec)
        else:
            yield from _declared(info.annotation, f"{prefix}{name}", seen | {model})


def _declared(tp: Any, path: str, seen: frozenset[type[BaseModel]]) -> Iterator[ArrayField]:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        spec = next((m for m in args[1:] if isinstance(m, Array)), None)
        if spec is not None:
            yield ArrayField(path, spec)
        else:
            yield from _declared(args[0], path, seen)
    elif origin in (Union, UnionType):
        for arg in args:  # `X | None`: the same path whichever member holds it
            yield from _declared(arg, path, seen)
    elif origin in (list, tuple, set, frozenset) or (
            isinstance(origin, type) and issubclass(origin, list | tuple)):
        for arg in args:
            if arg is not Ellipsis:
                yield from _declared(arg, f"{path}.*", seen)
    elif origin is dict or (isinstance(origin, type) and issubclass(origin, Mapping)):
        yield from _declared(args[1] if len(args) == 2 else Any, f"{path}.*", seen)
    elif isinstance(tp, type) and issubclass(tp, BaseModel):
        yield from _declared_in(tp, f"{path}.", seen)


def arrays_of(event: BaseModel) -> dict[str, np.ndarray]:
    """The arrays `event` holds, by dotted path (`values`, `layers.0.values`), in the order of
    the event (`layers.0.values`, `layers.0.bias`, `layers.1.values`); an array field that is
    None is not there. Empty when the event travels as plain JSON."""
    return dict(_held(event, _paths(type(event)), ""))


Trie = dict[str, "Trie"]
_HERE = ""  # the key that marks an array at this point of the trie


@cache
def _paths(model: type[BaseModel]) -> Trie:
    """The model's array paths as a trie, once per class: most events declare none, and
    events go out up to a hundred times a second."""
    trie: Trie = {}
    for field in array_fields(model):
        node = trie
        for part in field.path.split("."):
            node = node.setdefault(part, {})
        node[_HERE] = {}
    return trie


def _held(node: Any, trie: Trie, path: str) -> Iterator[tuple[str, np.ndarray]]:
    for part, below in trie.items():
        if part == _HERE:
            if isinstance(node, np.ndarray):
                yield path, node
        elif part != "*":
            yield from _held(getattr(node, part, None), below, f"{path}.{part}" if path else part)
        else:
            items = node.items() if isinstance(node, dict) else \
                enumerate(node) if isinstance(node, list | tuple) else ()
            for key, item in items:
                yield from _held(item, below, f"{path}.{key}")


def without_arrays(event: BaseModel, paths: list[str] | None = None) -> dict[str, Any]:
    """The event's JSON (as a dict) without the arrays at `paths` (default: all it holds).

    A removed item of a list shortens it: putting each array back in path order (an insert
    at its index in a list, a key elsewhere) restores the event."""
    paths = list(arrays_of(event)) if paths is None else paths
    exclude: dict[Any, Any] = {}
    for path in paths:
        node = exclude
        parts = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = True
    return event.model_dump(mode="json", exclude=exclude)
