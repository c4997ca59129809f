"""The websocket /api/v1/runs/{id}/events: hello, catch-up after `since`, live events (of the
types the client subscribed to), and control and subscribe messages in. See docs/protocol.md.

May import: stdlib, fastapi, pydantic, server modules, engine's public names.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from engine import RunSpec, SpecError, WeightEdit, check_weight_edit
from server.api.deps import bearer, token_matches
from server.api.errors import ApiError
from server.api.guards import origin_allowed
from server.api.protocol import (
    CLIENT_MESSAGE,
    Ack,
    ControlMessage,
    ErrorFrame,
    Hello,
    SpecSummary,
    SubscribeMessage,
    subscription,
)
from server.runs.manager import RunManager
from server.runs.outbox import Outbox, drain

router = APIRouter(tags=["events"])
STALLED = 1013  # "try again later": reconnect with ?since=<last seq>
CLOSE_WAIT_S = 30.0  # the most a stalled client's close may take (after the library's own)
SEND_BUFFER = 256 * 1024  # bytes a socket buffers for a client at most (kernel, and again
# in the server's transport) before a send waits
EXPECTED = ('expected {"type": "control", "action": "pause"|"resume"|"step"|"stop"|"set_lr"|'
            '"set_probes"|"set_pace"|"set_weight", "lr"?: number, "n"?: int, "probes"?: '
            '{probe: {field: value}}, "pace"?: number|null, "node"?: id, "row"?: int, '
            '"col"?: int, "value"?: number} or '
            '{"type": "subscribe", "events": [event type, ...] | null, "frames_hz"?: '
            'number|null}')
TOKEN_PROTOCOL = "livegrad.token."  # Sec-WebSocket-Protocol: livegrad.token.<token>
ARGUMENT = {"set_lr": "lr", "set_probes": "probes", "step": "n", "set_pace": "pace"}  # the
# field an action takes; set_pace's may be null (as fast as it goes)
OPTIONAL = {"set_pace"}
WEIGHT = ("node", "row", "col", "value")  # the fields set_weight takes, all of them


def summary(spec: RunSpec) -> SpecSummary:
    return SpecSummary(name=spec.name, data=spec.data.name, task=spec.training.task,
                       optimizer=spec.training.optimizer.name, nodes=len(spec.network.nodes))


def _token_ok(ws: WebSocket) -> tuple[bool, str | None]:
    """Whether the token came (an `Authorization: Bearer` header, a `livegrad.token.<token>`
    subprotocol or `?token=`), and the subprotocol to echo when it came as one."""
    token = ws.app.state.settings.access_token
    offered = [p for p in ws.scope.get("subprotocols", []) if p.startswith(TOKEN_PROTOCOL)]
    if token is None:
        return True, offered[0] if offered else None
    for protocol in offered:
        if token_matches(protocol.removeprefix(TOKEN_PROTOCOL), token):
            return True, protocol
    given = [bearer(ws.headers.get("authorization")), ws.query_params.get("token")]
    return any(token_matches(g, token) for g in given), None


def _refusal(ws: WebSocket, spec: RunSpec | None, run_id: str) -> tuple[int, str] | None:
    if not _token_ok(ws)[0]:  # first: without the token, not even whether the run exists
        return 4401, "bad token"
    origin = ws.headers.get("origin")
    if not origin_allowed(origin, ws.headers.get("host"), ws.app.state.settings.allowed_origins):
        return 4403, f"origin {origin!r} is not allowed: add it to allowed_origins"
    if spec is None:
        return 4404, f"no run with id {run_id!r}"
    return None


@router.websocket("/runs/{run_id}/events")
async def run_events(ws: WebSocket, run_id: str, since: int = -1, batch: bool = False,
                     subscribe: str | None = None, points: int | None = None,
                     frames_hz: float | None = None) -> None:
    """Hello, then every event after `since` (catch-up), then live events; with
    `subscribe=a,b`, only those types (and the ones every client gets), catch-up included;
    with `points=n`, each steps_completed carries at most n values per metric (every
    stride-th step: see its `stride`); with `frames_hz=f`, binary frames at most f a second
    per kind, the newest."""
    manager: RunManager = ws.app.state.manager
    spec = await manager.spec_of(run_id)
    refusal = _refusal(ws, spec, run_id)
    # a refusal too: a close code reaches a client, a handshake's 403 says
    await ws.accept(subprotocol=_token_ok(ws)[1] if refusal is None else None)
    if refusal is not None or spec is None:  # nothing (browsers show neither code nor reason)
        code, reason = refusal or (4404, "")
        await ws.close(code=code, reason=reason)
        return
    cap_send_buffer(ws)
    box = Outbox(manager.settings.outbox_scalars, batch=batch,
                 points=None if points is None else max(1, points))
    if frames_hz is not None:
        box.cap_frames(min(1000.0, frames_hz) if frames_hz > 0 else None)
    if subscribe is not None:
        names = [name.strip() for name in subscribe.split(",") if name.strip()]
        refused = _subscribe(box, names, "the subscribe parameter")
        if refused is not None:
            box.put_control(refused)  # after the hello; the client then gets every type
    try:
        status = await manager.run_status(run_id)
    except ApiError as exc:  # deleted meanwhile
        await ws.close(code=4404, reason=exc.detail)
        return
    await manager.hub.load(run_id)  # a finished run's history: read off the loop
    first, last = manager.hub.subscribe(run_id, box, since)  # no await between: still loaded
    hello = Hello(run=run_id, status=status, spec=summary(spec), since=since,
                  first_seq=first, last_seq=last)
    box.control.appendleft(hello.model_dump_json())
    box.wake.set()  # the hello goes now, catch-up or not (a queued run has no event yet)
    try:
        await _serve(ws, manager, run_id, box)
    finally:
        manager.hub.unsubscribe(run_id, box)


async def _serve(ws: WebSocket, manager: RunManager, run_id: str, box: Outbox) -> None:
    sender = asyncio.create_task(drain(_sender(ws), box, manager.settings.ws_stall_s))
    receiver = asyncio.create_task(_receive(ws, manager, run_id, box))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if box.overflowed or box.stalled:
        why = "fell behind" if box.overflowed else "stopped reading"
        with contextlib.suppress(Exception):
            # not cancelled early: the close frame is queued behind what the socket holds,
            # and a close cancelled midway drops the connection without it (no 1013); the
            # websocket library gives up on its own after its close timeout (10 s)
            async with asyncio.timeout(CLOSE_WAIT_S):
                await ws.close(code=STALLED, reason=f"client {why}: reconnect with ?since=<seq>")


def cap_send_buffer(ws: WebSocket, size: int = SEND_BUFFER) -> bool:
    """Cap the connection's kernel send buffer, so that a client that stops reading makes
    sends wait within about `size` bytes (then the outbox's stall timer runs) instead of
    megabytes later (Linux grows a socket's buffer up to 4 MiB). ASGI has no handle on the
    socket: the server's transport is found behind the send callable (uvicorn's); False
    when there is none (another server: its buffering then decides)."""
    transport = _transport(ws._send)  # noqa: SLF001  (the ASGI send the socket was given)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
        transport.set_write_buffer_limits(high=size)
        return True
    return False


def _transport(send: Any, depth: int = 12) -> asyncio.Transport | None:
    """The transport behind an ASGI send: its bound protocol's, through the wrappers'
    closures (Starlette's exception handling, middlewares)."""
    seen: set[int] = set()
    todo = [send]
    for _ in range(depth * 4):
        if not todo:
            return None
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        transport = getattr(getattr(fn, "__self__", None), "transport", None)
        if isinstance(transport, asyncio.Transport):
            return transport
        for cell in getattr(fn, "__closure__", None) or ():
            with contextlib.suppress(ValueError):  # an empty cell
                if callable(cell.cell_contents):
                    todo.append(cell.cell_contents)
        inner = getattr(fn, "__wrapped__", None)
        if inner is not None:
            todo.append(inner)
    return None


def _sender(ws: WebSocket):  # type: ignore[no-untyped-def]
    async def send(frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_text(frame)
    return send


async def _receive(ws: WebSocket, manager: RunManager, run_id: str, box: Outbox) -> None:
    while True:
        try:
            msg = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if msg["type"] == "websocket.disconnect":
            return
        text = msg.get("text")
        if text is None:
            box.put_control(ErrorFrame(message="binary messages are not accepted; send "
                                               "control messages as JSON text").model_dump_json())
        else:
            box.put_control(await _handle(text, manager, run_id, box))


async def _handle(text: str, manager: RunManager, run_id: str, box: Outbox) -> str:
    """The reply to one client message (in order: the next waits for this one's)."""
    try:
        msg = CLIENT_MESSAGE.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ())]
        where = ".".join(loc[1:] if loc[:1] in (["control"], ["subscribe"]) else loc)
        return _error(f"malformed message: {where or 'message'}: {first['msg']}; {EXPECTED}")
    if isinstance(msg, SubscribeMessage):
        refused = _subscribe(box, msg.events, "subscribe")
        if refused is not None:
            return refused
        if "frames_hz" in msg.model_fields_set:
            box.cap_frames(msg.frames_hz)
        return Ack(action="subscribe", status=await manager.run_status(run_id)).model_dump_json()
    return await _control(msg, manager, run_id)


async def _control(msg: ControlMessage, manager: RunManager, run_id: str) -> str:
    field = ARGUMENT.get(msg.action)
    arg = getattr(msg, field) if field is not None else None
    if field is not None and arg is None and msg.action not in OPTIONAL:
        return _error(f"{msg.action} needs '{field}'")
    if msg.action == "set_weight":
        arg = {name: getattr(msg, name) for name in WEIGHT}
        refused = await _weight_refusal(arg, manager, run_id)
        if refused is not None:
            return _error(refused)
    try:
        if msg.action == "resume":  # a paused run goes on, a stopped one from its state
            status = (await manager.resume(run_id)).status
        else:
            status = await manager.control(run_id, msg.action, arg)
    except ApiError as exc:
        return _error(exc.detail)
    return Ack(action=msg.action, status=status).model_dump_json()


async def _weight_refusal(arg: dict[str, Any], manager: RunManager, run_id: str
                          ) -> str | None:
    """Why the run cannot take this weight (a field missing, a node or index its network
    lacks), naming the field; None when it can. Checked against the run's spec, in a thread
    (shape inference), before anything crosses to the worker."""
    missing = [name for name in WEIGHT if arg[name] is None]
    if missing:
        return f"set_weight needs {', '.join(repr(m) for m in missing)} ({', '.join(WEIGHT)})"
    spec = await manager.spec_of(run_id)
    if spec is None:
        return f"no run with id {run_id!r}"
    try:
        edit = WeightEdit.checked(**arg)
        await asyncio.to_thread(check_weight_edit, spec, edit)
    except SpecError as exc:
        return "; ".join(e.message for e in exc.errors) + "; nothing was changed"
    return None


def _subscribe(box: Outbox, events: list[str] | None, what: str) -> str | None:
    """Filter the client's outbox to `events` (and ALWAYS_SENT); or an error frame naming
    the unknown types and the known ones, the subscription unchanged."""
    try:
        box.subscribe(subscription(events))
    except ValueError as exc:
        return _error(f"{what}: {exc}; the subscription is unchanged")
    return None


def _error(message: str) -> str:
    return ErrorFrame(message=message).model_dump_json()
