"""The websocket /api/v1/runs/{id}/events: hello, catch-up after `since`, live events, and
control messages in. See docs/protocol.md.

May import: stdlib, fastapi, pydantic, server modules, engine's public names.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from engine import RunSpec
from server import repository as repo
from server.errors import ApiError
from server.manager import RunManager
from server.outbox import Outbox, drain
from server.protocol import Ack, ControlMessage, ErrorFrame, Hello, SpecSummary

router = APIRouter(tags=["events"])
STALLED = 1013  # "try again later": reconnect with ?since=<last seq>


def summary(spec: RunSpec) -> SpecSummary:
    return SpecSummary(name=spec.name, data=spec.data.name, task=spec.training.task,
                       optimizer=spec.training.optimizer.name, nodes=len(spec.network.nodes))


def _token_ok(ws: WebSocket) -> bool:
    token = ws.app.state.settings.access_token
    return token is None or ws.query_params.get("token") == token


@router.websocket("/runs/{run_id}/events")
async def run_events(ws: WebSocket, run_id: str, since: int = -1) -> None:
    """Hello, then every event after `since` (catch-up), then live events."""
    manager: RunManager = ws.app.state.manager
    with manager.sessions() as s:
        row = repo.get_run(s, run_id)
        spec = RunSpec.model_validate(row.spec) if row is not None else None
    if spec is None or not _token_ok(ws):
        await ws.close(code=4404 if spec is None else 4401,
                       reason=f"no run with id {run_id!r}" if spec is None else "bad token")
        return
    await ws.accept()
    box = Outbox(manager.settings.outbox_scalars)
    first, last = manager.hub.subscribe(run_id, box, since)
    hello = Hello(run=run_id, status=manager.status(run_id), spec=summary(spec), since=since,
                  first_seq=first, last_seq=last)
    box.control.appendleft(hello.model_dump_json())
    sender = asyncio.create_task(drain(ws, box))
    receiver = asyncio.create_task(_receive(ws, manager, run_id, box))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        manager.hub.unsubscribe(run_id, box)
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if box.overflowed:
        with contextlib.suppress(Exception):
            await ws.close(code=STALLED, reason="client too slow: reconnect with ?since=<seq>")


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
            box.put_control(_handle(text, manager, run_id))


def _handle(text: str, manager: RunManager, run_id: str) -> str:
    try:
        msg = ControlMessage.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "message"
        return ErrorFrame(message=f"malformed control message: {where}: {first['msg']}; "
                                  'expected {"type": "control", "action": "pause"|"resume"|'
                                  '"step"|"stop"|"set_lr", "lr"?: number, "n"?: int}'
                          ).model_dump_json()
    if msg.action == "set_lr" and msg.lr is None:
        return ErrorFrame(message="set_lr needs a positive 'lr'").model_dump_json()
    arg = msg.lr if msg.action == "set_lr" else msg.n if msg.action == "step" else None
    try:
        status = manager.command(run_id, msg.action, arg)
    except ApiError as exc:
        return ErrorFrame(message=exc.detail).model_dump_json()
    return Ack(action=msg.action, status=status).model_dump_json()
