"""Annotated dependencies for routes: SessionDep (a database session) and RunsDep (the run
manager), plus the optional access-token check.

SessionDep is for plain `def` routes only (FastAPI runs them, and this generator, in its
threadpool). The other two are `async`: they do no I/O, and a sync dependency would cost
every request (/health too) a trip through the threadpool, behind any slow read there.

May import: stdlib, fastapi, sqlalchemy, server modules.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from server.runs.manager import RunManager


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


async def get_runs(request: Request) -> RunManager:
    manager: RunManager = request.app.state.manager
    return manager


BEARER = HTTPBearer(auto_error=False, scheme_name="accessToken", description=(
    "Required when the server is started with an access token (LIVEGRAD_ACCESS_TOKEN): "
    "'Authorization: Bearer <token>'. Without one, every route is open."))
MISSING = ("this server needs an access token: send 'Authorization: Bearer <token>' "
           "(the token the server was started with, LIVEGRAD_ACCESS_TOKEN)")


def token_matches(given: str | None, token: str) -> bool:
    """In constant time: how long a guess matched says nothing."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for another scheme."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def require_token(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
    token = request.app.state.settings.access_token
    if token is None:
        return
    if credentials is None:
        raise HTTPException(401, MISSING, headers={"WWW-Authenticate": "Bearer"})
    if not token_matches(credentials.credentials, token):
        raise HTTPException(401, "the access token is not this server's: send "
                                 "'Authorization: Bearer <token>' with the right one",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


SessionDep = Annotated[Session, Depends(get_session)]
RunsDep = Annotated[RunManager, Depends(get_runs)]
