"""One websocket client's bounded outbox, with lanes, and the task that drains it.

Lanes: control frames (hello, acks, errors: never dropped), light events (in order; when the
client lags past the bound it is dropped and reconnects with its seq), heavy frames
(latest-wins per key). Publishing never awaits, so training and other clients never wait.
May import: stdlib, starlette.
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.websockets import WebSocket

Frame = str | bytes


class Outbox:
    def __init__(self, max_light: int) -> None:
        self.max_light = max_light
        self.control: deque[str] = deque()
        self.light: deque[tuple[int, Frame]] = deque()
        self.heavy: dict[str, tuple[int, Frame]] = {}
        self.wake = asyncio.Event()
        self.overflowed = False

    def put_control(self, frame: str) -> None:
        self.control.append(frame)
        self.wake.set()

    def put_event(self, seq: int, frame: Frame, heavy_key: str | None = None) -> None:
        """Queue an event frame; a full light lane marks the client as stalled."""
        if heavy_key is not None:
            self.heavy[heavy_key] = (seq, frame)
        elif len(self.light) >= self.max_light:
            self.overflowed = True
        else:
            self.light.append((seq, frame))
        self.wake.set()

    def take(self) -> list[Frame]:
        """Everything pending: control first, then events by seq."""
        frames: list[Frame] = list(self.control)
        self.control.clear()
        events = list(self.light) + list(self.heavy.values())
        self.light.clear()
        self.heavy.clear()
        events.sort(key=lambda e: e[0])
        return frames + [f for _, f in events]


async def drain(ws: WebSocket, box: Outbox) -> None:
    """Send the outbox's frames as they come; returns when the client is found stalled."""
    while True:
        await box.wake.wait()
        box.wake.clear()
        if box.overflowed:
            return
        for frame in box.take():
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_text(frame)
