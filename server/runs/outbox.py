"""One websocket client's bounded outbox, with lanes, and the task that drains it.

Lanes: control frames (hello, acks, errors: never dropped), light events (in order; when the
client lags past the bound it is dropped and reconnects with its seq), heavy frames
(latest-wins per key). Publishing never awaits, so training and other clients never wait.
A client may cap its heavy frames (`frames_hz`): each key's newest goes at most that often,
so that a page drawing at 10 Hz is not sent (and does not decode) 30 grids a second; what
is held back is replaced by newer frames and the last one always goes, before the event that
ends the run (clients close their stream on it).
A client that subscribed to some event types (`types`) is offered only those: one set lookup
per frame.
The sender gives up on a client when no frame has gone out for `stall_s` while frames wait
(its socket is not being read), and, for clients that asked for batches, sends the light
events that gathered (at most BATCH_INTERVAL_S apart) as JSON arrays.
May import: stdlib, starlette.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator

Frame = str | bytes
BATCH_EVENTS = 512  # light events per batch frame at most
BATCH_CHARS = 256 * 1024  # and about this much JSON (clients' default frame limit is 1 MiB)
BATCH_INTERVAL_S = 0.025  # batched clients get at most 40 rounds of frames a second
RUN_ENDS = frozenset({"run_completed", "run_stopped", "run_failed"})  # no frame follows them


class Outbox:
    def __init__(self, max_light: int, batch: bool = False, points: int | None = None) -> None:
        self.max_light = max_light
        self.batch = batch
        self.points = points  # at most this many values per metric per steps_completed
        self.control: deque[str] = deque()
        self.light: deque[tuple[int, Frame, str | None]] = deque()  # (seq, frame, type)
        self.heavy: dict[str, tuple[int, Frame, str | None]] = {}
        self.types: frozenset[str] | None = None  # the event types it receives; None: all
        self.frames_gap_s = 0.0  # seconds between two heavy frames of one key (0: no cap)
        self.sent_at: dict[str, float] = {}  # heavy key -> when its last frame was taken
        self.ending = False  # the run's end is queued: held frames go with it, uncapped
        self.wake = asyncio.Event()
        self.overflowed = False
        self.stalled = False

    def put_control(self, frame: str) -> None:
        self.control.append(frame)
        self.wake.set()

    def wants(self, kind: str | None) -> bool:
        return kind is None or self.types is None or kind in self.types

    def subscribe(self, types: frozenset[str] | None) -> None:
        """Receive only these event types from now on; those already queued are dropped."""
        self.types = types
        self.light = deque(e for e in self.light if self.wants(e[2]))
        self.heavy = {key: e for key, e in self.heavy.items() if self.wants(e[2])}

    def cap_frames(self, hz: float | None) -> None:
        """Heavy frames at most `hz` a second per key from now on (None: as they come)."""
        self.frames_gap_s = 0.0 if hz is None else 1.0 / hz
        self.wake.set()  # frames held under the old cap may be due now

    def held_until(self) -> float | None:
        """When the first heavy frame held back by the cap may go (None: none is held)."""
        if not self.heavy or not self.frames_gap_s or self.ending:
            return None
        return min(self.sent_at.get(key, -math.inf) + self.frames_gap_s for key in self.heavy)

    def put_event(self, seq: int, frame: Frame, heavy_key: str | None = None,
                  kind: str | None = None) -> None:
        """Queue an event frame of type `kind` (None: of no type a client can refuse) if the
        client wants it; a full light lane marks the client as stalled."""
        if not self.wants(kind):
            return
        if heavy_key is not None:
            self.heavy[heavy_key] = (seq, frame, kind)
        elif len(self.light) >= self.max_light:
            self.overflowed = True
        else:
            self.light.append((seq, frame, kind))
            self.ending = self.ending or kind in RUN_ENDS
        self.wake.set()

    def take(self, now: float | None = None) -> list[Frame]:
        """Everything pending: control first, then events by seq (light ones batched); heavy
        frames whose key went less than the cap's gap before `now` stay, latest-wins, unless
        the run's end is queued (a client stops reading there)."""
        now = time.monotonic() if now is None else now
        frames: list[Frame] = list(self.control)
        self.control.clear()
        gap = 0.0 if self.ending else self.frames_gap_s
        due = [key for key in self.heavy if now - self.sent_at.get(key, -math.inf) >= gap]
        events = list(self.light) + [self.heavy.pop(key) for key in due]
        self.sent_at.update((key, now) for key in due)
        self.light.clear()
        events.sort(key=lambda e: e[0])
        ordered = [e[1] for e in events]
        return frames + (list(batched(ordered)) if self.batch else ordered)


def batched(frames: list[Frame]) -> Iterator[Frame]:
    """Consecutive text frames joined into JSON arrays; binary frames stay as they are."""
    group: list[str] = []
    size = 0
    for frame in frames:
        if isinstance(frame, str) and len(group) < BATCH_EVENTS and size < BATCH_CHARS:
            group.append(frame)
            size += len(frame)
            continue
        if group:
            yield "[" + ",".join(group) + "]"
        group, size = ([frame], len(frame)) if isinstance(frame, str) else ([], 0)
        if isinstance(frame, bytes):
            yield frame
    if group:
        yield "[" + ",".join(group) + "]"


async def drain(send: Callable[[Frame], Awaitable[None]], box: Outbox, stall_s: float) -> None:
    """Send the outbox's frames as they come; returns when the client overflows its light
    lane or no send completes within `stall_s` (box.overflowed / box.stalled say which)."""
    loop = asyncio.get_running_loop()
    while True:
        held = box.held_until()
        if held is None:
            await box.wake.wait()
        else:  # a heavy frame waits for its turn: wake then, or on anything sooner
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(box.wake.wait(), max(0.0, held - time.monotonic()))
        box.wake.clear()
        if box.overflowed:
            return
        began = loop.time()
        try:
            async with asyncio.timeout_at(began + stall_s) as deadline:
                for frame in box.take(time.monotonic()):
                    await send(frame)
                    deadline.reschedule(loop.time() + stall_s)
        except TimeoutError:
            box.stalled = True
            return
        if box.batch:  # let events gather: at most one round of frames per BATCH_INTERVAL_S
            await asyncio.sleep(max(0.0, began + BATCH_INTERVAL_S - loop.time()))
