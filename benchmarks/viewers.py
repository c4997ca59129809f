"""A class of viewers in a process of its own: posts one run, connects N websocket viewers to
it at once, reads every frame to the run's end, and prints one JSON line
{"run": id, "frames": frames one viewer received, "seconds": wall time}.

ws_stream.py starts it at a low priority (nice 19), so that on this loopback machine the
viewers' own parsing competes less with training than the server's work does: a class's
browsers run on other machines, the server does not.

    python benchmarks/viewers.py URL SPEC_JSON_FILE N [--batch]

May import: stdlib, httpx, websockets, live_server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx
from live_server import view  # noqa: E402  (a script's sibling module)


async def watch(url: str, spec: dict, viewers: int, batch: bool) -> dict:
    base_ws = url.replace("http", "ws", 1) + "/api/v1"
    async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
        r = await api.post("/runs", json=spec)
        r.raise_for_status()
        run_id = r.json()["id"]
        counts = [[0] for _ in range(viewers)]
        t0 = time.monotonic()
        query = "?batch=true" if batch else ""
        await asyncio.gather(*(view(f"{base_ws}/runs/{run_id}/events{query}", None, c)
                               for c in counts))
        while (await api.get(f"/runs/{run_id}")).json()["status"] in ("queued", "running"):
            await asyncio.sleep(0.05)
    return {"run": run_id, "frames": counts[0][0] if viewers else 0,
            "seconds": time.monotonic() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("spec", type=Path)
    p.add_argument("viewers", type=int)
    p.add_argument("--batch", action="store_true", help="?batch=true, as the browser asks")
    args = p.parse_args()
    spec = json.loads(args.spec.read_text())
    print(json.dumps(asyncio.run(watch(args.url, spec, args.viewers, args.batch))))


if __name__ == "__main__":
    main()
