"""`create_app(settings)`: the FastAPI application. Nothing happens at import time; the
lifespan creates the data folder, migrates the database and starts the run manager.

May import: stdlib, fastapi, starlette, sqlalchemy, server modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import sessionmaker
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import load_plugins
from server.api import catalog, datasets, events, networks, runs
from server.api.deps import require_token
from server.api.errors import COMMON, install, problem
from server.api.guards import HostCheck, RequestCheck
from server.runs.hub import Hub
from server.runs.manager import RunManager
from server.settings import Settings
from server.storage.db import make_engine, migrate

VERSION = "0.1.0"
WEB = Path(__file__).resolve().parent.parent / "web"
PAGE = """<!doctype html><meta charset="utf-8"><title>livegrad</title>
<h1>livegrad</h1><p>The API: <a href="/docs">/docs</a>. Runs:</p><ul id="runs"></ul>
<script>fetch('/api/v1/runs').then(r => r.json()).then(p => {
  for (const r of p.items) { const li = document.createElement('li');
    li.textContent = `${r.id} ${r.name ?? ''} ${r.status} step ${r.step}`;
    document.getElementById('runs').append(li); } });</script>
"""


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, by Content-Length or as they
    stream in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._refuse(scope, receive, send)
        seen = 0

        async def counted() -> Message:  # chunked bodies carry no length: count as they come
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if seen > self.limit:  # FastAPI re-raises it while reading the body: a 413
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"request body too large: at most {self.limit} bytes are accepted"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        resp = problem(413, self._message())
        await resp(scope, receive, send)


def _lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.db_url())
        await asyncio.to_thread(migrate, engine)  # the loop stays free from the first request
        sessions = sessionmaker(engine, expire_on_commit=False)
        hub = Hub(settings.data_dir / "runs", settings.history_events, settings.history_bytes)
        manager = RunManager(settings, sessions, hub)
        app.state.sessions, app.state.manager = sessions, manager
        await manager.start()
        try:
            yield
        finally:
            await manager.shutdown()
            await asyncio.to_thread(engine.dispose)
    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    load_plugins(settings.plugins)  # before any route or worker reads a registry
    app = FastAPI(title="livegrad", version=VERSION, lifespan=_lifespan(settings),
                  description="Train small PyTorch models and watch them learn, live.")
    app.state.settings = settings
    install(app)
    api = [Depends(require_token)]
    for module in (catalog, datasets, networks, runs):
        app.include_router(module.router, prefix="/api/v1", dependencies=api, responses=COMMON)
    app.include_router(events.router, prefix="/api/v1")
    # the last added runs first: Host, then CORS (preflights), Origin and body type, size
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestCheck, allowed_origins=settings.allowed_origins)
    if settings.allowed_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins,
                           allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(HostCheck, allowed=settings.allowed_hosts, bound=settings.host)

    # The web UI: web/ as static files (its npm libraries in web/node_modules, installed by
    # `make setup`), mounted last so that the API and /docs match first.
    if (WEB / "index.html").exists():
        # Browsers and tools ask for /favicon.ico whatever the page links: the same SVG
        @app.get("/favicon.ico", include_in_schema=False, response_model=None)
        def favicon() -> Response:
            return FileResponse(WEB / "favicon.svg", media_type="image/svg+xml")

        app.mount("/", StaticFiles(directory=WEB, html=True), name="web")
    else:
        @app.get("/", include_in_schema=False, response_model=None)
        def index() -> Response:
            return HTMLResponse(PAGE)

    return app
