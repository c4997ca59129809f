"""A class of viewers in a process of its own: posts one run, connects N websocket viewers to
it at once, reads every frame to the run's end, and prints one JSON line
{"run": id, "frames": frames one viewer received, "seconds": wall time}.

Each viewer reads with light_viewer.py (frame headers walked, payloads skipped) unless
`--full`, which uses the websockets library as a Python client would (and costs this
machine some 0.5-1 core for 50 viewers: what a class's browsers spend on their own machines).

ws_stream.py starts it at a low priority (nice 19), so that on this loopback machine the
viewers' own parsing competes less with training than the server's work does: a class's
browsers run on other machines, the server does not.

    python benchmarks/viewers.py URL SPEC_JSON_FILE N [--batch] [--full]

May import: stdlib, httpx, websockets, live_server, light_viewer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx
from light_viewer import watch_all  # noqa: E402  (a script's sibling module)
from live_server import view  # noqa: E402

PAGE_POINTS = 256  # what web/api.js asks for (STEP_POINTS)


async def watch(url: str, spec: dict, viewers: int, batch: bool, full: bool) -> dict:
    base_ws = url.replace("http", "ws", 1) + "/api/v1"
    async with httpx.AsyncClient(base_url=url + "/api/v1", trust_env=False) as api:
        r = await api.post("/runs", json=spec)
        r.raise_for_status()
        run_id = r.json()["id"]
        counts = [[0] for _ in range(viewers)]
        t0 = time.monotonic()
        query = f"?batch=true&points={PAGE_POINTS}" if batch else ""  # as the page asks
        url_of = f"{base_ws}/runs/{run_id}/events{query}"
        if full:
            await asyncio.gather(*(view(url_of, None, c) for c in counts))
        elif viewers:
            counts = [[n] for n in await asyncio.to_thread(watch_all, [url_of] * viewers)]
        while (await api.get(f"/runs/{run_id}")).json()["status"] in ("queued", "running"):
            await asyncio.sleep(0.05)
    return {"run": run_id, "frames": counts[0][0] if viewers else 0,
            "seconds": time.monotonic() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("spec", type=Path)
    p.add_argument("viewers", type=int)
    p.add_argument("--batch", action="store_true",
                   help="?batch=true&points=256, as the page asks")
    p.add_argument("--full", action="store_true", help="the websockets library's client")
    args = p.parse_args()
    spec = json.loads(args.spec.read_text())
    print(json.dumps(asyncio.run(watch(args.url, spec, args.viewers, args.batch, args.full))))


if __name__ == "__main__":
    main()
