"""The binary websocket frame: a length-prefixed JSON header plus 8-byte-aligned arrays.

Layout (all little-endian), documented in docs/protocol.md:
    uint32 header_length | header JSON (UTF-8) | zero padding to a multiple of 8 |
    buffer 0 | padding to 8 | buffer 1 | ...
The header is the event's JSON without its array fields, plus "buffers": a list of
{"name", "dtype", "shape", "offset", "nbytes"}, offsets counted from the first buffer. A
buffer's `name` is the dotted path of its list in the event (`values`, `values.3` for the
fourth of a list of lists, `layers.0.bias` inside a list of objects); `shape` is what the
numbers mean: [R, R] for a map of the plane, [out, in] for a weight matrix, else [n].
Used by the worker (to encode) and by tests and clients (to decode).
May import: stdlib.
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from collections.abc import Iterator
from typing import Any

# Per heavy event type, the paths of its number lists; `*` stands for every item of a list.
HEAVY_FIELDS: dict[str, tuple[str, ...]] = {
    "grid_computed": ("values", "confidence"),
    "neuron_maps_computed": ("values.*",),
    "weights_sampled": ("layers.*.values", "layers.*.bias"),
}
_TYPECODES = {"float32": "f", "float64": "d", "int32": "i", "uint8": "B"}
_GONE = object()  # marks a list moved into a buffer, until the header is pruned


def _pad(n: int) -> int:
    return (-n) % 8


def _skeleton(value: Any) -> Any:
    """A copy of the event's dicts and lists of containers that shares its number lists, so
    that moving those out of the header never copies (nor alters) the event itself."""
    if isinstance(value, dict):
        return {k: _skeleton(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict | list):
        return [_skeleton(v) for v in value]
    return value


def _leaves(node: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any, Any]]:
    """(path, parent, key) of every place that the pattern `parts` names in `node`."""
    head, rest = parts[0], parts[1:]
    if head == "*":
        keys: list[Any] = list(range(len(node))) if isinstance(node, list) else []
    else:
        keys = [head] if isinstance(node, dict) and head in node else []
    for key in keys:
        where = f"{path}.{key}" if path else str(key)
        if rest:
            yield from _leaves(node[key], rest, where)
        else:
            yield where, node, key


def _shape(event: dict[str, Any], parent: Any, key: Any, n: int) -> list[int]:
    r = event.get("resolution")
    if isinstance(r, int) and r * r == n:
        return [r, r]
    shape = parent.get("shape") if isinstance(parent, dict) and key == "values" else None
    if isinstance(shape, list | tuple) and len(shape) == 2 and shape[0] * shape[1] == n:
        return list(shape)  # a weight matrix; its bias stays [n]
    return [n]


def _prune(value: Any) -> Any:
    """The header without the lists that went into buffers (a list of them goes too)."""
    if isinstance(value, dict):
        kept = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _GONE}
    if isinstance(value, list) and value and (value[0] is _GONE
                                               or isinstance(value[0], dict | list)):
        items = [_prune(v) for v in value]
        if all(v is _GONE for v in items):
            return _GONE
        return [None if v is _GONE else v for v in items]  # the buffers fill these in
    return value


def encode(event: dict[str, Any]) -> bytes:
    """A heavy event as a binary frame: its number lists become float32 buffers."""
    header = _skeleton(event)
    payloads: list[bytes] = []
    buffers: list[dict[str, Any]] = []
    offset = 0
    for pattern in HEAVY_FIELDS.get(event["type"], ()):
        for path, parent, key in list(_leaves(header, pattern.split("."), "")):
            values = parent[key]
            if not isinstance(values, list) or not values \
                    or not isinstance(values[0], int | float):
                continue  # None (e.g. no confidence) or empty: it stays in the header
            arr = array("f", values)
            if sys.byteorder != "little":
                arr.byteswap()
            data = arr.tobytes()
            buffers.append({"name": path, "dtype": "float32",
                            "shape": _shape(event, parent, key, len(arr)), "offset": offset,
                            "nbytes": len(data)})
            payloads.append(data + b"\0" * _pad(len(data)))
            offset += len(data) + _pad(len(data))
            parent[key] = _GONE
    header = _prune(header)
    header["buffers"] = buffers
    head = json.dumps(header, separators=(",", ":")).encode()
    prefix = struct.pack("<I", len(head)) + head
    return prefix + b"\0" * _pad(len(prefix)) + b"".join(payloads)


def decode(frame: bytes) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """(header, {name: values}) of a binary frame; raises ValueError if malformed."""
    if len(frame) < 4:
        raise ValueError("frame shorter than its 4-byte header length")
    (n,) = struct.unpack_from("<I", frame, 0)
    header = json.loads(frame[4:4 + n])
    start = 4 + n + _pad(4 + n)
    if start % 8:
        raise ValueError("payload is not 8-byte aligned")
    arrays: dict[str, list[Any]] = {}
    for buf in header["buffers"]:
        lo = start + buf["offset"]
        if lo % 8 or lo + buf["nbytes"] > len(frame):
            raise ValueError(f"buffer {buf['name']!r} is misplaced")
        arr = array(_TYPECODES[buf["dtype"]])
        arr.frombytes(frame[lo:lo + buf["nbytes"]])
        if sys.byteorder != "little":
            arr.byteswap()
        arrays[buf["name"]] = arr.tolist()
    return header, arrays


def _place(root: dict[str, Any], path: str, value: list[Any]) -> None:
    """Put `value` at a dotted path, making the lists and dicts on the way (numbers index
    lists, names key dicts)."""
    parts = path.split(".")
    node: Any = root
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        fresh = value if last else [] if parts[i + 1].isdigit() else {}
        if isinstance(node, list):
            index = int(part)
            node.extend([None] * (index + 1 - len(node)))
            if last or node[index] is None:
                node[index] = fresh
            node = node[index]
        else:
            if last or part not in node:
                node[part] = fresh
            node = node[part]


def to_event(frame: bytes) -> dict[str, Any]:
    """The event dict a binary frame carries (header fields plus arrays, in place)."""
    header, arrays = decode(frame)
    header.pop("buffers")
    for name, values in arrays.items():
        _place(header, name, values)
    return header
