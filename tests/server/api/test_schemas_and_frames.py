"""The exported JSON Schemas match the models; the binary frame layout round-trips.

May import: stdlib, numpy, pydantic, pytest, safetensors, server, engine's public names.
"""

from __future__ import annotations

import json
import struct
from typing import Annotated, Any, Literal

import numpy as np
import pytest
from pydantic import BaseModel
from safetensors.numpy import load

from engine import (
    EVENT_ADAPTER,
    Array,
    Event,
    GridComputed,
    LayerWeights,
    NeuronMapsComputed,
    RunPaused,
    WeightsSampled,
    array_fields,
    parse_event,
)
from server.api.frames import decode, encode, to_event, to_frame
from server.export_schemas import OUT, render, schemas

DTYPES = ["float32", "float16", "uint8", "int32"]
SHAPES = [(), (0,), (1,), (5,), (3, 1), (2, 3), (2, 3, 5), (4, 0, 2)]
HEAD: dict[str, Any] = {"run": "r", "seq": 3, "step": 10, "epoch": 1, "t": 0.5}


def header_of(frame: bytes) -> tuple[int, dict[str, Any]]:
    """(N, header) read by hand, as a client without server.api.frames would."""
    (n,) = struct.unpack_from("<Q", frame)
    return n, json.loads(frame[8:8 + n])


def assert_laid_out(frame: bytes) -> dict[str, Any]:
    """The layout's promises: N a multiple of 8 and space-padded, every buffer's begin at a
    multiple of 8 from the frame's start, buffers in order, zero bytes between them."""
    n, header = header_of(frame)
    assert n % 8 == 0 and frame[8:8 + n].decode().rstrip(" ").endswith("}")
    start, end = 8 + n, 0
    for entry in (v for k, v in header.items() if k != "__metadata__"):
        begin, stop = entry["data_offsets"]
        assert begin % 8 == 0 and (start + begin) % 8 == 0 and begin >= end
        assert frame[start + end:start + begin] == b"\0" * (begin - end)
        end = stop
    assert len(frame) == start + end  # nothing after the last buffer
    return header


def test_exported_schemas_match_the_models() -> None:
    stale = [name for name, schema in schemas().items()
             if not (OUT / name).exists() or (OUT / name).read_text(encoding="utf-8")
             != render(schema)]
    assert not stale, f"docs/schemas drifted ({stale}): run `python -m server.export_schemas`"


def test_array_fields_say_dtype_and_shape_in_the_json_schema() -> None:
    defs = EVENT_ADAPTER.json_schema()["$defs"]
    values = defs["GridComputed"]["properties"]["values"]
    assert values["type"] == "array" and values["items"]["items"] == {"type": "number"}
    assert (values["x-dtype"], values["x-shape"]) == ("float32", ["R", "R"])
    maps = defs["NeuronMapsComputed"]["properties"]["values"]
    assert maps["x-shape"] == ["U", "R", "R"]
    bias = defs["LayerWeights"]["properties"]["bias"]["anyOf"][0]
    assert (bias["x-dtype"], bias["x-shape"]) == ("float32", ["out"])
    assert [(f.path, f.spec.shape) for f in array_fields(WeightsSampled)] == [
        ("layers.*.values", ("out", "in")), ("layers.*.bias", ("out",))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_dtype_and_shape_round_trips(dtype: str, shape: tuple[int, ...]) -> None:
    dims = tuple("abc"[:len(shape)])

    class Holds(Event):
        type: Literal["holds"] = "holds"
        a: Annotated[np.ndarray, Array(dtype, dims)]
        b: Annotated[np.ndarray, Array("uint8", ("n",))]

    model = Holds
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    event = model(**HEAD, a=a, b=np.arange(3, dtype=np.uint8))  # 3 bytes: b's end is odd
    frame = encode(event)
    header = assert_laid_out(frame)
    code = {"float32": "F32", "float16": "F16", "uint8": "U8", "int32": "I32"}[dtype]
    assert header["a"]["dtype"] == code and header["a"]["shape"] == list(shape)
    meta, arrays = decode(frame)
    assert meta == {"type": "holds", **HEAD}  # the event's JSON without its arrays
    assert arrays["a"].dtype == np.dtype(dtype) and arrays["a"].shape == shape
    np.testing.assert_array_equal(arrays["a"], a)
    again = model.model_validate(to_event(frame))
    assert again.model_dump_json() == event.model_dump_json()


class Tile(BaseModel):
    name: str
    pixels: Annotated[np.ndarray, Array("uint8", ("H", "W"))]
    weight: Annotated[np.ndarray, Array("float16", ("k",))] | None = None


class Nested(Event):
    """Arrays in a list of models (some None), and in a list of arrays with gaps."""

    type: Literal["nested"] = "nested"
    tiles: list[Tile]
    counts: list[Annotated[np.ndarray, Array("int32", ("n",))] | None]
    by_name: dict[str, Tile] = {}


def test_arrays_in_nested_models_and_lists_round_trip() -> None:
    tiles = [Tile(name="a", pixels=np.full((2, 3), 7, np.uint8), weight=np.array([0.5, 2])),
             Tile(name="b", pixels=np.zeros((1, 1), np.uint8)),
             Tile(name="c", pixels=np.eye(3, dtype=np.uint8) * 255, weight=np.ones(5))]
    event = Nested(**HEAD, tiles=tiles, counts=[np.arange(3), None, np.array([-2**31, 2**31 - 1])],
                   by_name={"z": Tile(name="z", pixels=np.ones((1, 2), np.uint8))})
    frame = encode(event)
    header = assert_laid_out(frame)
    assert [k for k in header if k != "__metadata__"] == [
        "tiles.0.pixels", "tiles.0.weight", "tiles.1.pixels", "tiles.2.pixels",
        "tiles.2.weight", "counts.0", "counts.2", "by_name.z.pixels"]
    meta, _ = decode(frame)
    assert meta["tiles"][1] == {"name": "b", "weight": None} and meta["counts"] == [None]
    again = Nested.model_validate(to_event(frame))
    assert again.model_dump_json() == event.model_dump_json()
    assert again.counts[1] is None and again.counts[2].dtype == np.int32  # type: ignore[union-attr]


class ImagesSampled(Event):
    """A test-only image event, unknown to server/api/frames.py and to the event union."""

    type: Literal["images_sampled"] = "images_sampled"
    images: Annotated[np.ndarray, Array("uint8", ("N", "H", "W"))]
    scores: Annotated[np.ndarray, Array("float16", ("N",))]


def test_an_image_event_declared_elsewhere_travels_as_uint8_and_float16_buffers() -> None:
    images = np.arange(3 * 5 * 7, dtype=np.uint8).reshape(3, 5, 7)
    event = ImagesSampled(**HEAD, images=images, scores=np.array([0.25, -1.5, 65504]))
    frame = to_frame(event)
    assert isinstance(frame, bytes)  # it holds arrays, so it is a binary frame
    header = assert_laid_out(frame)
    assert header["images"] == {"dtype": "U8", "shape": [3, 5, 7], "data_offsets": [0, 105]}
    assert header["scores"] == {"dtype": "F16", "shape": [3], "data_offsets": [112, 118]}
    n = header_of(frame)[0]
    raw = np.frombuffer(frame, np.uint8, 105, 8 + n).reshape(3, 5, 7)  # the bytes, as-is
    np.testing.assert_array_equal(raw, images)
    data = to_event(frame)
    assert data["type"] == "images_sampled"
    again = ImagesSampled.model_validate(data)
    np.testing.assert_array_equal(again.images, images)
    assert again.scores.dtype == np.float16 and again.scores.tolist() == [0.25, -1.5, 65504]
    assert encode(event.model_dump(), ImagesSampled) == frame  # a dict and its model


def test_a_frame_without_gaps_is_a_safetensors_file() -> None:
    """Buffers that all end on a multiple of 8 leave no gap: safetensors reads the frame."""
    event = ImagesSampled(**HEAD, images=np.ones((2, 2, 4), np.uint8),
                          scores=np.array([1, 2, 3, 4]))
    tensors = load(encode(event))
    assert tensors["images"].shape == (2, 2, 4) and tensors["scores"].dtype == np.float16


def test_json_only_clients_read_plain_lists() -> None:
    grid = GridComputed(**HEAD, resolution=2, extent=(-1, 1, -1, 1), mode="binary",
                        values=np.array([[0.5, -0.25], [1, 0]], np.float64))
    text = grid.model_dump_json()
    assert json.loads(text)["values"] == [[0.5, -0.25], [1.0, 0.0]]
    again = GridComputed.model_validate_json(text)
    assert again.values.dtype == np.float32 and again.values.shape == (2, 2)
    assert not again.values.flags.writeable  # frozen, as the event
    assert isinstance(to_frame(RunPaused(**HEAD)), str)  # no array field: JSON text


def test_array_fields_refuse_the_wrong_kind_or_rank() -> None:
    with pytest.raises(ValueError, match="expected 2 dimensions"):
        GridComputed(**HEAD, resolution=2, extent=(-1, 1, -1, 1), mode="binary",
                     values=np.zeros(4))
    with pytest.raises(ValueError, match="expected uint8 values, got float64"):
        Tile(name="x", pixels=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="outside the range of uint8"):
        Tile(name="x", pixels=[[255, 256]])
    with pytest.raises(ValueError, match="not"):
        LayerWeights(node="d", shape=(2, 3), values=np.zeros((3, 2)))


def test_grid_travels_as_two_float32_buffers() -> None:
    grid = GridComputed(**HEAD, resolution=3, extent=(-1, 1, -1, 1), mode="classes",
                        values=np.arange(9.0).reshape(3, 3), confidence=np.full((3, 3), 0.5))
    frame = encode(grid.model_dump(mode="json"))  # a dict of an engine event: its own model
    header = assert_laid_out(frame)
    assert {k: (v["dtype"], v["shape"]) for k, v in header.items() if k != "__metadata__"} == {
        "values": ("F32", [3, 3]), "confidence": ("F32", [3, 3])}
    meta, arrays = decode(frame)
    assert "values" not in meta and meta["mode"] == "classes"
    assert arrays["values"][2, 2] == 8.0
    assert parse_event(to_event(frame)).model_dump_json() == grid.model_dump_json()


def test_weights_travel_as_one_buffer_per_matrix_and_bias() -> None:
    weights = WeightsSampled(**HEAD, layers=[
        LayerWeights(node="dense1", shape=(3, 2), values=np.array([[0.5, -1], [2, 3], [4, 5]]),
                     bias=np.array([1, 2, 3])),
        LayerWeights(node="out", shape=(1, 3), values=np.array([[0.25, 1, 2]]))])
    frame = encode(weights)
    header = assert_laid_out(frame)
    meta, arrays = decode(frame)
    assert {k: v["shape"] for k, v in header.items() if k != "__metadata__"} == {
        "layers.0.values": [3, 2], "layers.0.bias": [3], "layers.1.values": [1, 3]}
    assert meta["layers"] == [{"node": "dense1", "shape": [3, 2]},
                              {"node": "out", "shape": [1, 3], "bias": None}]
    assert arrays["layers.0.values"].tolist() == [[0.5, -1], [2, 3], [4, 5]]
    assert parse_event(to_event(frame)).model_dump_json() == weights.model_dump_json()


def test_neuron_maps_travel_as_one_units_by_plane_buffer() -> None:
    values = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [0, 0, 0, 0.5]]).reshape(3, 2, 2)
    maps = NeuronMapsComputed(**HEAD, resolution=2, extent=(-6, 6, -6, 6), nodes=["d", "d", "e"],
                              units=[0, 1, 0], values=values)
    frame = encode(maps)
    header = assert_laid_out(frame)
    meta, arrays = decode(frame)
    assert "values" not in meta and meta["nodes"] == ["d", "d", "e"]
    assert header["values"]["shape"] == [3, 2, 2]
    assert arrays["values"][2].tolist() == [[0, 0], [0, 0.5]]  # unit 2's map
    assert parse_event(to_event(frame)).model_dump_json() == maps.model_dump_json()


@pytest.mark.parametrize("damage, match", [
    (lambda f: f[:5], "shorter"),
    (lambda f: struct.pack("<Q", 12) + f[8:], "multiple of 8"),
    (lambda f: f.replace(b'"F32"', b'"F64"', 1), "dtype 'F64'"),
    (lambda f: f.replace(b"[0,36]", b"[4,40]", 1), "misplaced"),
    (lambda f: f[:-1], "misplaced"),
])
def test_malformed_frames_are_refused_saying_where(damage: Any, match: str) -> None:
    grid = GridComputed(**HEAD, resolution=3, extent=(-1, 1, -1, 1), mode="binary",
                        values=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=match):
        decode(damage(encode(grid)))
