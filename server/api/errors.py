"""The server's refusals and their JSON form: {"detail": message, "errors": [located...]}.

May import: stdlib, fastapi, starlette, server.api.schemas, engine's public names.
"""

from __future__ import annotations

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
        self.errors = errors or []


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class SpecRefused(ApiError):
    status = 422

    def __init__(self, detail: str, errors: list[LocatedError]) -> None:
        super().__init__(detail, [ErrorItem(node=e.node, field=e.field, message=e.message)
                                  for e in errors])


def problem(status: int, detail: str, errors: list[ErrorItem] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(detail=detail, errors=errors or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem(exc.status, exc.detail, exc.errors)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = [ErrorItem(field=_field(tuple(e.get("loc", ()))), message=e.get("msg", "invalid"))
             for e in exc.errors()]
    where = "; ".join(f"{i.field}: {i.message}" for i in items[:5])
    return problem(422, f"the request does not match its schema: {where}", items)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


async def _crash(_: Request, exc: Exception) -> JSONResponse:
    """A bug, not a refusal: the one shape still (Starlette logs the traceback)."""
    return problem(500, f"internal server error ({type(exc).__name__}); the server log has "
                        "the traceback")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _crash)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (404, 409, 413, 422)
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
