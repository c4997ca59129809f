"""The exported JSON Schemas match the models; the binary frame layout round-trips.

May import: stdlib, server, engine's public names.
"""

from __future__ import annotations

import struct

from engine import GridComputed, LayerWeights, NeuronMapsComputed, WeightsSampled, parse_event
from server.export_schemas import OUT, render, schemas
from server.frames import decode, encode, to_event


def test_exported_schemas_match_the_models() -> None:
    stale = [name for name, schema in schemas().items()
             if not (OUT / name).exists() or (OUT / name).read_text(encoding="utf-8")
             != render(schema)]
    assert not stale, f"docs/schemas drifted ({stale}): run `python -m server.export_schemas`"


def test_binary_frame_layout() -> None:
    grid = GridComputed(run="r", seq=3, step=10, epoch=1, t=0.5, resolution=3,
                        extent=(-1, 1, -1, 1), mode="classes",
                        values=[float(i) for i in range(9)], confidence=[0.5] * 9)
    frame = encode(grid.model_dump(mode="json"))
    (n,) = struct.unpack_from("<I", frame)
    start = 4 + n + (-(4 + n)) % 8
    assert start % 8 == 0 and frame[4 + n:start] == b"\0" * (start - 4 - n)
    header, arrays = decode(frame)
    assert [b["name"] for b in header["buffers"]] == ["values", "confidence"]
    assert all(b["offset"] % 8 == 0 and b["shape"] == [3, 3] for b in header["buffers"])
    assert parse_event(to_event(frame)) == grid
    assert arrays["values"][-1] == 8.0


def test_weights_travel_as_one_buffer_per_matrix_and_bias() -> None:
    weights = WeightsSampled(run="r", seq=4, step=25, epoch=1, t=0.5, layers=[
        LayerWeights(node="dense1", shape=(3, 2), values=[0.5, -1, 2, 3, 4, 5], bias=[1, 2, 3]),
        LayerWeights(node="out", shape=(1, 3), values=[0.25, 1, 2])])
    event = weights.model_dump(mode="json")
    frame = encode(event)
    header, arrays = decode(frame)
    assert event == weights.model_dump(mode="json")  # encoding leaves the event as it was
    shapes = {b["name"]: b["shape"] for b in header["buffers"]}
    assert shapes == {"layers.0.values": [3, 2], "layers.0.bias": [3],
                      "layers.1.values": [1, 3]}
    assert header["layers"] == [{"node": "dense1", "shape": [3, 2]},
                                {"node": "out", "shape": [1, 3], "bias": None}]
    assert arrays["layers.0.values"] == [0.5, -1, 2, 3, 4, 5]
    assert parse_event(to_event(frame)) == weights


def test_neuron_maps_travel_as_one_buffer_per_map() -> None:
    maps = NeuronMapsComputed(run="r", seq=5, step=50, epoch=2, t=1.0, resolution=2,
                              extent=(-6, 6, -6, 6), nodes=["d", "d", "e"], units=[0, 1, 0],
                              values=[[1, 2, 3, 4], [5, 6, 7, 8], [0, 0, 0, 0.5]])
    frame = encode(maps.model_dump(mode="json"))
    header, arrays = decode(frame)
    assert "values" not in header and header["nodes"] == ["d", "d", "e"]
    assert [(b["name"], b["shape"]) for b in header["buffers"]] == [
        ("values.0", [2, 2]), ("values.1", [2, 2]), ("values.2", [2, 2])]
    assert all(b["offset"] % 8 == 0 for b in header["buffers"])
    assert arrays["values.2"] == [0, 0, 0, 0.5]
    assert parse_event(to_event(frame)) == maps
