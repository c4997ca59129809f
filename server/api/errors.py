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


def problem(status: int, detail: str, errors: list[ErrorItem] | None = None) -> JSONResponse:
    body = Problem(detail=detail, errors=errors or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


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
    return problem(exc.status_code, str(exc.detail))


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (404, 409, 413, 422)
}
