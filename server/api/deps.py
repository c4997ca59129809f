"""Annotated dependencies for routes: SessionDep (a database session) and RunsDep (the run
manager), plus the optional access-token check.

SessionDep is for plain `def` routes only (FastAPI runs them, and this generator, in its
threadpool). The other two are `async`: they do no I/O, and a sync dependency would cost
every request (/health too) a trip through the threadpool, behind any slow read there.

May import: stdlib, fastapi, sqlalchemy, server modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from server.runs.manager import RunManager


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


async def get_runs(request: Request) -> RunManager:
    manager: RunManager = request.app.state.manager
    return manager


async def require_token(request: Request) -> None:
    token = request.app.state.settings.access_token
    if token is None:
        return
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if given != token and request.query_params.get("token") != token:
        raise HTTPException(401, "this server needs an access token: "
                                 "send 'Authorization: Bearer <token>'")


SessionDep = Annotated[Session, Depends(get_session)]
RunsDep = Annotated[RunManager, Depends(get_runs)]
