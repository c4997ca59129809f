"""The server's refusals and their JSON form: {"detail": message, "errors": [located...]}.

May import: stdlib, fastapi, starlette, server.api.schemas, engine's public names.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import LocatedError
from server.api.schemas import ErrorItem, Problem


class ApiError(Exception):
    status = 400

    def __init__(self, detail: str, errors: list[ErrorItem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or [ErrorItem(message=detail)]  # never an empty list


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class TooMany(ApiError):
    status = 429


class SpecRefused(ApiError):
    status = 422

    def __init__(self, detail: str, errors: list[LocatedError]) -> None:
        super().__init__(detail, [ErrorItem(node=e.node, field=e.field, message=e.message)
                                  for e in errors])


def problem(status: int, detail: str, errors: list[ErrorItem] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(detail=detail, errors=errors or [ErrorItem(message=detail)])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


LOG = logging.getLogger("livegrad.server")
WHERE = ("body", "query", "path", "header", "cookie")
UNREADABLE = ("the body is not JSON that can be read: it must be UTF-8 text whose arrays and "
              "objects nest less than about 1,000 levels deep")


FRIENDLY = {"finite_number": "must be a finite number"}
NODE_ID = ("a node id starts with a letter or _, then up to 63 letters, digits, _ or - "
           "(e.g. dense1)")


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _within(body: Any, path: list[int | str]) -> Any:
    """The part of the request body that `path` leads to, or None."""
    for part in path:
        if isinstance(body, dict) and isinstance(part, str):
            body = body.get(part)
        elif isinstance(body, list) and isinstance(part, int) and -len(body) <= part < len(body):
            body = body[part]
        else:
            return None
    return body


def _node_index(parts: list[int | str]) -> int | None:
    """Where the last `nodes.<i>` of a location starts, if it has one."""
    found = None
    for i in range(len(parts) - 1):
        if parts[i] == "nodes" and isinstance(parts[i + 1], int):
            found = i
    return found


def locate(loc: tuple[int | str, ...], body: Any) -> tuple[str | None, str | None]:
    """A pydantic location as (node id, field): `networks.model.nodes.1.id` inside the body
    becomes node "dense1", field "id", so that a page can pin the message on its node."""
    parts = list(loc[1:] if loc and loc[0] in WHERE else loc)
    at = _node_index(parts)
    if at is not None:
        node = _within(body, parts[:at + 2])
        if node is None and parts[:2] == ["networks", "model"]:  # a version-1 body
            node = _within(body, ["network", *parts[2:at + 2]])
        node_id = node.get("id") if isinstance(node, dict) else None
        if isinstance(node_id, str):
            return node_id, _field(tuple(parts[at + 2:])) or None
    return None, _field(tuple(parts)) or (str(loc[0]) if loc else None)


def _message(err: dict[str, Any]) -> str:
    kind = str(err.get("type"))
    if kind == "json_invalid":
        reason = (err.get("ctx") or {}).get("error", "it cannot be parsed")
        return f"the body is not valid JSON: {reason}"
    if kind == "string_pattern_mismatch" and tuple(err.get("loc", ()))[-1:] == ("id",):
        msg = NODE_ID  # the regular expression itself says little to a student
    else:
        msg = FRIENDLY.get(kind, str(err.get("msg", "invalid")))
    value = err.get("input")
    if kind != "missing" and (value is None or isinstance(value, str | int | float)):
        shown = repr(value)
        return f"{msg} (got {shown if len(shown) <= 80 else shown[:77] + '...'})"
    return msg


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem(exc.status, exc.detail, exc.errors)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = []
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        node, field = (None, "body") if e.get("type") == "json_invalid" else \
            locate(loc, exc.body)
        items.append(ErrorItem(node=node, field=field, message=_message(e)))
    where = "; ".join(f"{_where(i)}: {i.message}" for i in items[:5])
    return problem(422, f"the request does not match its schema: {where}", items)


def _where(item: ErrorItem) -> str:
    return f'node "{item.node}" {item.field or ""}'.rstrip() if item.node else item.field or ""


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        return problem(400, UNREADABLE, [ErrorItem(field="body", message=UNREADABLE)])
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: the traceback goes to the log, the client gets the usual shape."""
    LOG.exception("unexpected error in %s %s", request.method, request.url.path)
    detail = f"internal server error ({type(exc).__name__}); the server logged the traceback"
    return problem(500, detail, [ErrorItem(message=detail)])


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 404, 409, 413, 422, 429, 500)
}
# What any route may answer (documented on every one, in the same shape): a body that is
# not JSON (400, 415), the access token (401), a foreign Origin (403) or Host (421), 500.
COMMON: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": why} for code, why in (
    (400, "Malformed request (a body that cannot be decoded, a bad Host header)"),
    (401, "The server has an access token and the request lacks it or has another one"),
    (403, "A state-changing request from a foreign Origin (or Referer)"),
    (413, "Request body larger than max_body_bytes"),
    (415, "A request body that is not JSON"),
    (421, "A Host the server does not answer (allowed_hosts)"),
    (422, "The request does not match its schema, or the spec is not valid"),
    (500, "A bug in the server (the log has the traceback)"),
    )
}
