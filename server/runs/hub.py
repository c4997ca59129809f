"""Per-run event history and fan-out to websocket clients' outboxes (event-loop thread only).

Light events are kept in order (bounded) for catch-up; heavy frames latest per key. A
run's light events are appended to data_dir/runs/<id>/events.jsonl as they come (handed to
the history thread every FLUSH_S by `append_pending`), its newest heavy frames beside them,
so that a crash loses at most the last moment of a run's history; a finished run's file is
rewritten once, bounded as the memory's, so that a client can catch up after a restart.
Each client's outbox takes only the event types it subscribed to, live and in its catch-up.
Files are read and written on one history thread, never on the loop: `load` (awaited before
a subscribe) reads a finished run's history; `finish` hands the history to be written, and
the channel stays in memory until it is, so that nobody reads a file half written. A resumed
run's channel is reopened (`reopen`): its history goes on, and so does its stream.
May import: stdlib, orjson, server.runs.outbox, server.runs.thinning, server.api.frames.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from server.runs.outbox import Frame, Outbox
from server.runs.thinning import thinned, thinned_text

EVENTS_FILE = "events.jsonl"
HEAVY_FILE = "latest-{key}.frame"  # a finished run's last heavy frame per key: seq + frame
TYPE_PREFIX = '{"type":"'
STEPS_PREFIX = TYPE_PREFIX + 'steps_completed",'
MERGE_LOSSES = 4096  # losses per merged steps_completed at most (about 80 KB of JSON)
log = logging.getLogger("livegrad.hub")


@dataclass
class Channel:
    history: deque[tuple[int, str]]
    history_bytes: int = 0  # characters of the texts held (about their bytes)
    heavy: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    clients: set[Outbox] = field(default_factory=set)
    finished: bool = False
    writing: int = 0  # history writes handed to the history thread, not yet done
    pending: list[str] = field(default_factory=list)  # light events not yet appended
    heavy_dirty: set[str] = field(default_factory=set)  # heavy frames not yet on disk
    catch_up: tuple[Any, list[tuple[int, str]]] | None = None  # the last one made, by its ask
    # thinned steps_completed texts by (seq, points), or the (seq, text) events of a merged
    # run of them by (first seq, last seq, points): made once, whoever asks
    thin: dict[tuple[int, ...], Any] = field(default_factory=dict)


class Hub:
    def __init__(self, runs_dir: Path, history_events: int,
                 history_bytes: int = 64 << 20) -> None:
        self.runs_dir = runs_dir
        self.history_events = history_events
        # Count alone does not bound memory: one steps_completed of a fast run carries every
        # step's loss since the last (thousands); past either bound the oldest events go
        # (a client that needs them sees a gap and reads /metrics).
        self.history_bytes = history_bytes
        self.channels: dict[str, Channel] = {}
        self._dirty: set[str] = set()  # channels with events not yet appended to their file
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="livegrad-history")

    def open(self, run_id: str) -> None:
        """A new run's channel: nothing on disk to read."""
        self.channels.setdefault(run_id, Channel(history=deque(maxlen=self.history_events)))

    async def load(self, run_id: str) -> None:
        """Have the run's channel in memory, a finished run's history read off the loop."""
        if run_id not in self.channels:
            ch = await asyncio.wrap_future(self._io.submit(self._read_channel, run_id))
            self.channels.setdefault(run_id, ch)  # another load may have won meanwhile

    async def reopen(self, run_id: str) -> None:
        """A finished run goes on (resumed): its history and stream continue."""
        await self.load(run_id)
        self.channels[run_id].finished = False

    def _channel(self, run_id: str) -> Channel:
        """The channel; read here only off the loop (a script, a test): the loop's callers
        `open` or `load` it first."""
        ch = self.channels.get(run_id)
        if ch is None:
            ch = self.channels[run_id] = self._read_channel(run_id)
        return ch

    def _read_channel(self, run_id: str) -> Channel:
        ch = Channel(history=deque(maxlen=self.history_events))
        path = self.runs_dir / run_id / EVENTS_FILE
        if path.exists():
            ch.finished = True
            last = -1
            for line in read_lines(path):
                try:
                    seq = int(json.loads(line)["seq"])
                except (ValueError, KeyError, TypeError):
                    continue  # not an event: skipped, the others still load
                if seq > last:  # in seq order, once each (a rewrite never repeats one)
                    self._remember(ch, seq, line)
                    last = seq
            ch.heavy = read_heavy(path.parent)
        return ch

    def publish(self, run_id: str, type_: str, seq: int, payload: Frame,
                parsed: dict[str, Any] | None = None) -> None:
        """Hold and fan out one event (`parsed`: its JSON already parsed, if it was)."""
        ch = self._channel(run_id)
        key = type_ if isinstance(payload, bytes) else None  # a binary frame: latest wins
        if isinstance(payload, bytes):
            ch.heavy[type_] = (seq, payload)
            ch.heavy_dirty.add(type_)
        else:
            self._remember(ch, seq, str(payload))
            ch.pending.append(str(payload))
        self._dirty.add(run_id)  # on disk at the next append_pending
        thin: dict[int, str] = {}  # one thinned text per points value asked, made once
        for box in ch.clients:
            frame = payload
            if box.points is not None and type_ == "steps_completed" \
                    and isinstance(payload, str):
                if box.points not in thin:
                    ev = parsed if parsed is not None else orjson.loads(payload)
                    thin[box.points] = ch.thin[seq, box.points] = \
                        thinned_text(ev, box.points, payload)
                frame = thin[box.points]
            box.put_event(seq, frame, key, type_)

    def _remember(self, ch: Channel, seq: int, text: str) -> None:
        if len(ch.history) == ch.history.maxlen:
            ch.history_bytes -= len(ch.history[0][1])
        ch.history.append((seq, text))
        ch.history_bytes += len(text)
        while ch.history_bytes > self.history_bytes and len(ch.history) > 1:
            ch.history_bytes -= len(ch.history.popleft()[1])

    def subscribe(self, run_id: str, box: Outbox, since: int) -> tuple[int, int]:
        """Queue the catch-up after `since` (of the types the client wants) and attach the
        client; returns the (first, last) seq held, so that a client can tell whether it
        missed events."""
        ch = self._channel(run_id)
        held = [(q, text) for q, text in ch.history if q > since]
        if box.types is not None:
            held = [(q, text) for q, text in held if box.wants(event_type(text))]
        catch_up = self._catch_up(ch, held, since, box)
        box.max_light += len(catch_up)  # the bound is on lag behind live events, not history
        for seq, text in catch_up:
            box.put_event(seq, text, kind=event_type(text))  # typed: a later subscribe sees it
        for key, (seq, frame) in ch.heavy.items():
            if seq > since:
                box.put_event(seq, frame, key, key)
        ch.clients.add(box)
        first = ch.history[0][0] if ch.history else -1
        last = max([ch.history[-1][0] if ch.history else -1]
                   + [s for s, _ in ch.heavy.values()])
        return first, last

    def _catch_up(self, ch: Channel, held: list[tuple[int, str]], since: int, box: Outbox
                  ) -> list[tuple[int, str]]:
        """The held events compacted (and thinned to the box's points), made once for the
        clients that ask for the same while nothing new came: a class that opens the page
        at once would otherwise parse the run's whole history once per student."""
        key = (since, box.types, box.points, held[-1][0] if held else -1, len(held))
        if ch.catch_up is not None and ch.catch_up[0] == key:
            return ch.catch_up[1]
        made = compact(held, box.points, ch.thin)
        ch.catch_up = (key, made)
        if len(ch.thin) > 2 * len(ch.history) + 64:  # forget those of events no longer held
            oldest = ch.history[0][0] if ch.history else 0
            ch.thin = {k: v for k, v in ch.thin.items() if k[0] >= oldest}
        return made

    def unsubscribe(self, run_id: str, box: Outbox) -> None:
        ch = self.channels.get(run_id)
        if ch is not None:
            ch.clients.discard(box)
            self._evict(run_id, ch)

    def append_pending(self) -> None:
        """Hand the light events published since the last call to the history thread, to be
        appended to their runs' files (and the heavy frames that changed, latest per key):
        called every FLUSH_S by the run manager, so that a crash loses at most that much
        (plus the write itself) of a run's history."""
        dirty, self._dirty = self._dirty, set()
        for run_id in dirty:
            ch = self.channels.get(run_id)
            if ch is None or (not ch.pending and not ch.heavy_dirty):
                continue
            lines, ch.pending = ch.pending, []
            heavy = {key: ch.heavy[key] for key in ch.heavy_dirty if key in ch.heavy}
            ch.heavy_dirty = set()
            self._io.submit(append_history, self.runs_dir / run_id, lines, heavy) \
                .add_done_callback(_log_append)

    def finish(self, run_id: str) -> None:
        """Have the light history written to disk (the history thread); forget it once it is
        written and nobody watches."""
        ch = self._channel(run_id)
        ch.finished = True
        ch.pending, ch.heavy_dirty = [], set()  # the whole history is rewritten below
        self._dirty.discard(run_id)
        folder = self.runs_dir / run_id
        lines, heavy = [text for _, text in ch.history], dict(ch.heavy)  # as of this event
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on a loop (a script, a test): write here
            write_history(folder, lines, heavy)
            self._evict(run_id, ch)
            return
        ch.writing += 1
        fut = self._io.submit(write_history, folder, lines, heavy)
        fut.add_done_callback(lambda done: self._after_write(done, loop, run_id, ch))

    def _after_write(self, done: Future[None], loop: asyncio.AbstractEventLoop, run_id: str,
                     ch: Channel) -> None:
        if (exc := done.exception()) is not None:
            log.error("the history of run %s was not written", run_id, exc_info=exc)
        _call_soon(loop, self._written, run_id, ch)

    def _written(self, run_id: str, ch: Channel) -> None:
        ch.writing -= 1
        if self.channels.get(run_id) is ch:
            self._evict(run_id, ch)

    async def drained(self) -> None:
        """Wait for the history writes handed over so far (before a run's folder goes)."""
        await asyncio.wrap_future(self._io.submit(lambda: None))

    def close(self) -> None:
        """Finish the history writes handed over (a thread other than the loop's)."""
        self._io.shutdown(wait=True)

    def forget(self, run_id: str) -> None:
        self.channels.pop(run_id, None)
        self._dirty.discard(run_id)

    def _evict(self, run_id: str, ch: Channel) -> None:
        if ch.finished and not ch.clients and not ch.writing:
            self.channels.pop(run_id, None)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass  # the loop closed (shutdown): nothing is left to evict


def _log_append(done: Future[None]) -> None:
    if (exc := done.exception()) is not None:
        log.error("a run's events were not appended to its history", exc_info=exc)


def append_history(folder: Path, lines: list[str], heavy: dict[str, tuple[int, bytes]]) -> None:
    """A live run's newest light events appended to its file (the whole of each line, or
    nothing of it is read back: `read_lines` drops a torn last line), its newest heavy frames
    replaced. The file is the run's whole history while it runs; `write_history` rewrites it
    bounded when the run ends."""
    folder.mkdir(parents=True, exist_ok=True)
    if lines:
        with (folder / EVENTS_FILE).open("a", encoding="utf-8") as f:
            f.write("".join(text + "\n" for text in lines))
    write_heavy(folder, heavy)


def read_lines(path: Path) -> list[str]:
    """A history file's events; a last line the crash tore (no newline, or no JSON) is left
    out, the rest is what was appended."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]  # torn: its event is lost, not half of it read
    return [line for line in lines if line]


def write_history(folder: Path, lines: list[str], heavy: dict[str, tuple[int, bytes]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (EVENTS_FILE + ".partial")  # a crash mid-write keeps the appended file
    partial.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
    partial.replace(folder / EVENTS_FILE)
    write_heavy(folder, heavy)


def write_heavy(folder: Path, heavy: dict[str, tuple[int, bytes]]) -> None:
    """The last grid, weights and neuron maps of a finished run, so that a run reopened after
    a restart shows its boundary and network as it ended."""
    for key, (seq, frame) in heavy.items():
        path = folder / HEAVY_FILE.format(key=key)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(struct.pack("<q", seq) + frame)
        partial.replace(path)  # never half a frame where a catch-up reads one


def read_heavy(folder: Path) -> dict[str, tuple[int, bytes]]:
    heavy: dict[str, tuple[int, bytes]] = {}
    for path in sorted(folder.glob(HEAVY_FILE.format(key="*"))):
        key = path.name[len("latest-"):-len(".frame")]
        data = path.read_bytes()
        heavy[key] = (struct.unpack_from("<q", data)[0], data[8:])
    return heavy


def event_type(text: str) -> str | None:
    """An event's type read off its JSON text: the models dump `type` first (as
    STEPS_PREFIX relies on too), so that no held event is parsed to filter the catch-up."""
    end = text.find('"', len(TYPE_PREFIX)) if text.startswith(TYPE_PREFIX) else -1
    return text[len(TYPE_PREFIX):end] if end > 0 else None


def compact(events: list[tuple[int, str]], points: int | None = None,
            made: dict[tuple[int, ...], Any] | None = None) -> list[tuple[int, str]]:
    """The catch-up with each run of consecutive steps_completed merged into one event: the
    last part's seq, step, epoch, t and lr, the first part's first_step, every step's metrics
    (with `points`, thinned: see thinning.py). Lone events keep their text; only runs of two
    or more are parsed (and, with points, lone steps_completed), unless `made` holds their
    thinned text already (by (seq, points), or (first seq, last seq, points) for a run;
    what is made here is added to it)."""
    out: list[tuple[int, str]] = []
    run: list[tuple[int, str]] = []
    made = {} if made is None else made
    for item in [*events, (-1, "")]:  # the sentinel closes the last run
        if item[1].startswith(STEPS_PREFIX):
            run.append(item)
            continue
        if len(run) == 1 and points is None:
            out.extend(run)
        elif len(run) == 1:
            seq, text = run[0]
            if (seq, points) not in made:
                made[seq, points] = thinned_text(orjson.loads(text), points, text)
            out.append((seq, made[seq, points]))
        elif run and points is None:
            out.extend(_merge_run([orjson.loads(text) for _, text in run], points))
        elif run:
            key = (run[0][0], run[-1][0], points)
            if key not in made:
                made[key] = _merge_run([orjson.loads(t) for _, t in run], points)
            out.extend(made[key])
        run = []
        if item[0] >= 0:
            out.append(item)
    return out


def _merge_run(parts: list[dict[str, Any]], points: int | None) -> list[tuple[int, str]]:
    merged: list[tuple[int, str]] = []
    group: list[dict[str, Any]] = []
    for ev in parts:
        if group and sum(_steps(g) for g in group) + _steps(ev) > MERGE_LOSSES:
            merged.append(_merged(group, points))
            group = []
        group.append(ev)
    return [*merged, _merged(group, points)]


def _merged(group: list[dict[str, Any]], points: int | None) -> tuple[int, str]:
    last = group[-1]
    names = [name for name in last["metrics"] if all(name in g["metrics"] for g in group)]
    event = {**last, "first_step": group[0]["first_step"],
             "metrics": {name: [v for g in group for v in g["metrics"][name]] for name in names}}
    thin = thinned(event, points) if points is not None else None
    return last["seq"], orjson.dumps(thin or event).decode()


def _steps(ev: dict[str, Any]) -> int:
    return int(ev["step"]) - int(ev["first_step"]) + 1
