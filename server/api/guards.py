"""What every request passes before a route sees it, for a server shared on a network:
the Host check (DNS rebinding), the Origin check of state-changing requests (CSRF), JSON-only
request bodies, and the websocket's Origin rule, which REST shares.

Each refusal is the one error shape ({"detail", "errors"}), on REST and on a websocket
handshake alike (an HTTP answer instead of the upgrade, where the server offers that).
May import: stdlib, starlette, server.api.errors, server.hosts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette._utils import parse_host_header
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api.errors import problem
from server.hosts import is_loopback

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", "[::]", ""})


def normal_host(name: str) -> str:
    """A configured host as `parse_host_header` gives it: lower case, no port, IPv6 in
    brackets (`fd00::5`, `[fd00::5]:80` and `[FD00::5]` are one host)."""
    name = name.strip().lower()
    parsed = parse_host_header(name)
    if parsed is not None:
        return parsed.host
    return f"[{name.strip('[]')}]" if ":" in name else name


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """No Origin (not a browser), the same origin, a loopback origin, or one configured."""
    if origin is None or "*" in allowed or origin in allowed:
        return True
    parts = urlsplit(origin)
    if parts.netloc and host is not None and parts.netloc.lower() == host.lower():
        return True
    return is_loopback(parts.hostname)


class HostCheck:
    """Answers only requests whose Host is loopback, the bound address or one of `allowed`
    (`*`: any; `*.example.org`: its subdomains); others get 421 (400 for a malformed or
    missing Host), so that a page on a rebinding domain cannot drive the server."""

    def __init__(self, app: ASGIApp, allowed: list[str], bound: str | None = None) -> None:
        self.app = app
        self.any = "*" in allowed
        self.exact = {normal_host(h) for h in allowed if not h.startswith("*.")}
        self.suffixes = tuple(h.lower()[1:] for h in allowed if h.startswith("*."))
        if bound is not None and normal_host(bound) not in WILDCARD_BINDS:
            self.exact.add(normal_host(bound))

    def allows(self, host: str) -> bool:
        return (self.any or host in self.exact or is_loopback(host)
                or (bool(self.suffixes) and host.endswith(self.suffixes)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        raw = Headers(scope=scope).get("host")
        parsed = parse_host_header(raw)
        if parsed is None:
            return await refuse(scope, receive, send, 400, f"a malformed or missing Host "
                                f"header ({raw!r}): send the name the server is reached by")
        if not self.allows(parsed.host.lower()):
            return await refuse(scope, receive, send, 421, f"host {parsed.host!r} is not "
                                "served here: add it to allowed_hosts (LIVEGRAD_ALLOWED_HOSTS)")
        await self.app(scope, receive, send)


class RequestCheck:
    """For POST, PUT, PATCH and DELETE: a foreign Origin (or, without one, Referer) gets 403;
    a body type other than JSON gets 415, so that no cross-site 'simple' request (a form, a
    text/plain fetch) reaches a route. Requests with neither header (scripts) pass."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app, self.allowed = app, allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        origin = headers.get("origin") or _referer_origin(headers.get("referer"))
        if not origin_allowed(origin, headers.get("host"), self.allowed):
            return await refuse(scope, receive, send, 403, f"origin {origin!r} may not change "
                                "anything here: add it to allowed_origins (LIVEGRAD_ALLOWED_"
                                "ORIGINS)")
        kind = headers.get("content-type")
        if kind is not None and not _is_json(kind):
            return await refuse(scope, receive, send, 415, f"content type {kind!r} is not "
                                "accepted: send JSON ('Content-Type: application/json')")
        await self.app(scope, receive, send)


def _referer_origin(referer: str | None) -> str | None:
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    """The one error shape, on an HTTP request or instead of a websocket's upgrade (a close
    before accepting, where the server cannot answer HTTP there)."""
    if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
            "extensions", {}):
        await send({"type": "websocket.close", "code": 4000 + status, "reason": detail[:120]})
        return
    await problem(status, detail)(scope, receive, send)
