"""Errors of the service: one table from exception types to HTTP status codes.

The library raises domain errors (:mod:`foncier.errors`); routers let them
propagate and :func:`add_exception_handlers` turns each into a JSON response
``{"detail": ..., "error": ..., "field": ...}`` with the status code of
:data:`STATUS_CODES` (the first matching class, in order).  Routers never
raise ``HTTPException`` for a domain error.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from foncier.errors import (
    CRSError,
    DataSourceError,
    FoncierError,
    GeometryError,
    InfeasibleError,
    LayerSchemaError,
    NotFoundError,
    RuleSetError,
)

__all__ = [
    "STATUS_CODES",
    "ConflictError",
    "InvalidBBoxError",
    "MapUnavailableError",
    "MissingTokenError",
    "ScenarioNotReadyError",
    "WriteForbiddenError",
    "add_exception_handlers",
]


class ConflictError(FoncierError):
    """A write clashes with the current state (an id already taken)."""


class ScenarioNotReadyError(FoncierError):
    """A scenario's results are asked for before its run finished (or after it failed)."""


class InvalidBBoxError(FoncierError, ValueError):
    """A ``bbox`` query parameter is malformed, inverted or outside WGS84 bounds."""


class MapUnavailableError(FoncierError):
    """Maps are asked for but :mod:`foncier.maps` is not installed in this version."""


class MissingTokenError(FoncierError):
    """A write arrives without ``Authorization: Bearer`` while a token is configured."""


class WriteForbiddenError(FoncierError):
    """A write with a wrong token, or while writes are not configured."""


#: Exception class -> HTTP status code; the first class an error is an instance of wins.
STATUS_CODES: dict[type[Exception], int] = {
    MissingTokenError: 401,
    WriteForbiddenError: 403,
    NotFoundError: 404,
    MapUnavailableError: 404,
    ConflictError: 409,
    ScenarioNotReadyError: 409,
    InvalidBBoxError: 422,
    LayerSchemaError: 422,
    RuleSetError: 422,
    InfeasibleError: 422,
    GeometryError: 422,
    CRSError: 422,
    DataSourceError: 400,
    FoncierError: 400,
}

# "column 'x'" names the field; a row check reads "column 'key': y is larger than z", naming y.
_FIELD_RE = re.compile(r"column '([A-Za-z0-9_/]+)'(?:: ([a-z_]+) is )?")


def status_code(exc: Exception) -> int:
    """HTTP status code of an exception, from :data:`STATUS_CODES` (500 if none applies)."""
    for cls, code in STATUS_CODES.items():
        if isinstance(exc, cls):
            return code
    return 500


def error_body(exc: Exception) -> dict[str, str | None]:
    """The JSON body of an error: message, error class and the field it names, if any."""
    message = str(exc)
    match = _FIELD_RE.search(message)
    return {
        "detail": message,
        "error": type(exc).__name__,
        "field": (match.group(2) or match.group(1)) if match else None,
    }


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, MissingTokenError) else None
    return JSONResponse(error_body(exc), status_code=status_code(exc), headers=headers)


def add_exception_handlers(app: FastAPI) -> None:
    """Register the handler of every class of :data:`STATUS_CODES` on ``app``."""
    for cls in STATUS_CODES:
        app.add_exception_handler(cls, _handle)
