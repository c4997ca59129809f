"""Browser tests: a real Chromium driven by Playwright against a real server.

The server runs as `livegrad serve --port <free> --data-dir <tmp>` in a subprocess for the
session; the browser is the system's Chromium (/usr/bin/chromium, Debian's package) when there
is one, else Playwright's own (`playwright install chromium`). Screenshots of the main states
go to tests/web/screenshots/ (ignored by git) for people to review.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# Generous: a loaded 2-core machine starts a worker process in seconds, not milliseconds.
TIMEOUT_MS = 30_000

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (make setup)")
sync_api.expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str | None:
    for name in (os.environ.get("LIVEGRAD_CHROMIUM"), "/usr/bin/chromium",
                 shutil.which("chromium"), shutil.which("chromium-browser")):
        if name and Path(name).exists():
            return name
    return None  # Playwright's own build, if `playwright install chromium` put one there


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`livegrad serve` on a port and data folder of its own (a subprocess), which can be
    stopped and started again on the same port and folder, as a restart in place would."""

    def __init__(self, data: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.data = data
        self.env = {**os.environ, **(env or {})}  # e.g. LIVEGRAD_ACCESS_TOKEN
        token = self.env.get("LIVEGRAD_ACCESS_TOKEN")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        exe = Path(sys.executable).with_name("livegrad")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "server.cli"]
        self.starts += 1
        log = open(self.data / f"server-{self.starts}.log", "w")  # noqa: SIM115 - the child's
        self.proc = subprocess.Popen([*cmd, "serve", "--port", str(self.port), "--data-dir",
                                      str(self.data)], cwd=ROOT, stdout=log,
                                     stderr=subprocess.STDOUT, env=self.env)
        log.close()  # the child holds its own copy
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{self.url}/api/v1/health", timeout=2, headers=self.headers)
                if health.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.data / f"server-{self.starts}.log").read_text()
                pytest.fail(f"the server did not start: {log_text[-2000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        self.proc = None


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (ROOT / "web" / "node_modules" / "uplot").is_dir():
        pytest.skip("web/node_modules is missing: run `make setup` (npm ci in web/)")
    live = Server(tmp_path_factory.mktemp("livegrad-data"))
    live.start()
    yield live.url
    live.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        except Exception as err:  # no browser at all: say how to get one
            pytest.skip(f"no Chromium ({err.__class__.__name__}); install chromium or run "
                        "`playwright install chromium`")
        yield b
        b.close()


class Page:
    """A fresh page with the app loaded; collects uncaught errors (a test fails on any)."""

    def __init__(self, browser: object, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = url

    def open(self, path: str = "/") -> object:
        self.page.goto(self.url + path)
        self.page.wait_for_selector("body[data-ready=true]")
        return self.page

    def shot(self, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.fixture
def app(browser: object, server: str) -> Iterator[Page]:
    page = Page(browser, server)
    yield page
    page.context.close()
    assert not page.errors, page.errors


def module_page(browser: Any, origin: str, module: str) -> Iterator[Any]:
    """A blank page at `origin` that can import web/<module> (no server runs: Playwright
    serves the file from the working tree), for testing one module in a real browser."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    source = (ROOT / "web" / module).read_text(encoding="utf-8")

    def serve(route: Any) -> None:
        if route.request.url.endswith(f"/{module}"):
            route.fulfill(body=source, content_type="text/javascript")
        else:
            route.fulfill(body=f"<!doctype html><title>{module}</title>", content_type="text/html")

    page.route(f"{origin}/**", serve)
    page.goto(f"{origin}/")
    yield page
    context.close()


def serve_own(tmp_path_factory: pytest.TempPathFactory, name: str,
              env: dict[str, str] | None = None) -> Iterator[Server]:
    """A server of a test's own (one it may break, or one with settings of its own), for a
    fixture to yield from; skipped without the page's npm libraries."""
    if not (ROOT / "web" / "node_modules" / "uplot").is_dir():
        pytest.skip("web/node_modules is missing: run `make setup` (npm ci in web/)")
    server = Server(tmp_path_factory.mktemp(name), env=env)
    server.start()
    yield server
    server.stop()


def page_of(browser: object, server: Server) -> Iterator[Page]:
    """A page on `server`, for a fixture to yield from; fails the test on uncaught errors."""
    page = Page(browser, server.url)
    yield page
    page.context.close()
    assert not page.errors, page.errors
