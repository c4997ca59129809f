"""Train a network through livegrad's REST API and websocket, as any program can.

Fetches the catalog and a preset, posts a run, streams its events (printing the loss as it
falls), then downloads the trained weights as a safetensors file. Needs only httpx and
websockets; start a server first (`livegrad serve`), then:

    python examples/train_over_api.py --url http://127.0.0.1:8000 --epochs 30

The protocol is docs/protocol.md. May import: stdlib, httpx, websockets.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

TERMINAL = {"run_completed", "run_stopped", "run_failed"}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the livegrad server")
    p.add_argument("--preset", default="band_221_sigmoid", help="a name from /catalog/presets")
    p.add_argument("--epochs", type=int, default=30, help="override the preset's epochs")
    p.add_argument("--out", default="weights.safetensors", help="where to save the weights")
    p.add_argument("--token", default=None, help="the server's access token, if it has one")
    return p.parse_args(argv)


def choose_spec(api: httpx.Client, preset: str, epochs: int) -> dict[str, Any]:
    catalog = api.get("/catalog").raise_for_status().json()
    print(f"catalog: {len(catalog['layers'])} layer kinds, {len(catalog['datasets'])} data "
          f"sets, optimizers: {', '.join(o['name'] for o in catalog['optimizers'])}")
    presets = {p["name"]: p for p in api.get("/catalog/presets").raise_for_status().json()}
    if preset not in presets:
        sys.exit(f"no preset {preset!r}; the server has: {', '.join(presets)}")
    spec: dict[str, Any] = presets[preset]["spec"]
    spec["training"]["epochs"] = epochs
    # Evaluate after every epoch however fast they go (by default the server's runs evaluate
    # at most 20 times a second, plenty for a chart): this script prints every few epochs.
    spec["training"].setdefault("telemetry", {})["eval_max_hz"] = None
    return spec


def binary_header(frame: bytes) -> dict[str, Any]:
    """A binary frame's event, without its arrays: the frame is safetensors' layout (a u64
    header length, the JSON header, the buffers), the event's JSON is its metadata."""
    (n,) = struct.unpack_from("<Q", frame, 0)
    header: dict[str, Any] = json.loads(frame[8:8 + n])
    event: dict[str, Any] = json.loads(header["__metadata__"]["event"])
    return event


def show(event: dict[str, Any], every: int) -> None:
    if event["type"] == "run_started":
        print(f"run started: {event['strategy']} on {event['device']}, "
              f"{event['total_steps']} steps")
    elif event["type"] == "eval_completed" and event["epoch"] % every == 0:
        values = "  ".join(f"{name.replace('_', ' ')} {value:.4f}"
                           for name, value in event["metrics"].items())
        print(f"epoch {event['epoch']:4d}  step {event['step']:6d}  {values}")
    elif event["type"] in TERMINAL:
        print(f"{event['type']} at step {event['step']}: "
              + json.dumps(event.get("metrics") or event.get("reason")))


def stream(ws_url: str, token: str | None, every: int) -> dict[str, Any]:
    """Print the run's events until its end; reconnects with `since` if dropped."""
    last, grids = -1, 0
    while True:
        auth = {"Authorization": f"Bearer {token}"} if token else None  # not in the URL
        try:
            # compression=None: the server turns per-message deflate off anyway (it costs
            # 13-46x on binary frames); proxy=None: talk to the server itself.
            with connect(f"{ws_url}?since={last}", additional_headers=auth, compression=None,
                         proxy=None, max_size=2**24) as ws:
                for message in ws:
                    if isinstance(message, bytes):  # a heavy event: the decision boundary
                        grids += 1
                        last = max(last, binary_header(message)["seq"])
                        continue
                    event = json.loads(message)
                    if event["type"] in ("hello", "ack", "error"):
                        continue
                    last = max(last, event["seq"])
                    show(event, every)
                    if event["type"] in TERMINAL:
                        print(f"({grids} decision-boundary frames received)")
                        return event
        except ConnectionClosed as exc:  # 1013: we were too slow; resume after `last`
            print(f"connection closed ({exc}); resuming after seq {last}")


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    base = args.url.rstrip("/") + "/api/v1"
    with httpx.Client(base_url=base, headers=headers, timeout=30, trust_env=False) as api:
        spec = choose_spec(api, args.preset, args.epochs)
        created = api.post("/runs", json=spec)
        if created.status_code != 201:
            sys.exit(f"the server refused the run: {created.json()['detail']}")
        run = created.json()
        print(f"run {run['id']} ({run['name']}) is {run['status']}")
        ws_url = base.replace("http", "ws", 1) + f"/runs/{run['id']}/events"
        end = stream(ws_url, args.token, every=max(1, args.epochs // 10))
        if end["type"] == "run_failed":
            return 1
        weights = api.get(f"/runs/{run['id']}/checkpoint").raise_for_status().content
    Path(args.out).write_bytes(weights)
    (n,) = struct.unpack_from("<Q", weights, 0)
    tensors = [k for k in json.loads(weights[8:8 + n]) if k != "__metadata__"]
    print(f"saved {len(weights)} bytes to {args.out}: {', '.join(tensors)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
