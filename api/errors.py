"""Errors of the service: one table from exception types to HTTP status codes.

The library raises domain errors (:mod:`foncier.errors`); routers let them
propagate and :func:`add_exception_handlers` turns each into a JSON response
``{"error": ..., "detail": ..., "hint": ..., "field": ...}`` (:class:`api.models.ErrorOut`)
with the status code of :data:`STATUS_CODES` (the first matching class, in
order).  Routers never raise ``HTTPException`` for a domain error.

Every other 4xx and 5xx has the same body: request validation (FastAPI's
422, its messages in French and naming the field), unknown routes and
methods (404, 405), and unexpected errors (500, without internals).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.security import security_headers
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
from foncier.labels import DECISION_LABELS, OBJECTIVE_LABELS

__all__ = [
    "HINTS",
    "STATUS_CODES",
    "ConflictError",
    "InvalidBBoxError",
    "MapUnavailableError",
    "MissingTokenError",
    "ReferencedProjectError",
    "ScenarioNotReadyError",
    "WriteForbiddenError",
    "add_exception_handlers",
    "error_body",
    "validation_body",
]


class ConflictError(FoncierError):
    """A write clashes with the current state (an id already taken)."""


class ReferencedProjectError(ConflictError):
    """A project validated decisions refer to cannot be deleted; ``decision_ids`` lists them."""

    def __init__(self, message: str, *, decision_ids: list[int]) -> None:
        super().__init__(message)
        self.decision_ids = decision_ids


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

# Without a column on the exception, "colonne 'x'" (or "paramètre 'x'") in its message names the
# field; a row check reading "colonne 'key' : y est … z" names y.
_FIELD_RE = re.compile(
    r"(?:column|colonne|paramètre) '([A-Za-z0-9_/]+)'(?: ?: ([a-z_]+) (?:is|est) )?"
)

#: What to do, by status code, when the error itself gives no better hint.
HINTS: dict[int, str] = {
    400: "Vérifiez le fichier ou la valeur nommés dans le détail.",
    401: "Envoyez l'en-tête 'Authorization: Bearer <FONCIER_API_TOKEN>'.",
    403: "Utilisez le jeton de FONCIER_API_TOKEN, ou configurez les écritures du service.",
    404: "Vérifiez l'identifiant ou le chemin ; les listes sont sous GET /projects, "
    "/scenarios, /layers.",
    405: "Cette méthode n'existe pas sur ce chemin ; voir /docs.",
    409: "Relisez l'état actuel (GET) avant de réessayer.",
    413: "Envoyez un corps plus petit (FONCIER_MAX_BODY_BYTES).",
    422: "Corrigez le champ nommé puis renvoyez la requête ; le schéma est dans /openapi.json.",
    500: "Erreur interne du service : réessayez, et signalez-la si elle persiste.",
}

_log = logging.getLogger("foncier.api")


def status_code(exc: Exception) -> int:
    """HTTP status code of an exception, from :data:`STATUS_CODES` (500 if none applies)."""
    for cls, code in STATUS_CODES.items():
        if isinstance(exc, cls):
            return code
    return 500


def error_body(exc: Exception) -> dict[str, Any]:
    """The JSON body of an error: class, message, hint and the field it names, if any."""
    message = str(exc)
    field = getattr(exc, "column", None)
    if field is None:
        match = _FIELD_RE.search(message)
        field = (match.group(2) or match.group(1)) if match else None
    body: dict[str, Any] = {
        "error": type(exc).__name__,
        "detail": message,
        "hint": HINTS.get(status_code(exc)),
        "field": field,
    }
    if isinstance(exc, ReferencedProjectError):
        body["decision_ids"] = exc.decision_ids
    return body


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


#: Codes whose French labels a request may give instead (the labels are listed first).
_LABELLED = (OBJECTIVE_LABELS, DECISION_LABELS)


def _expected(expected: str) -> str:
    """The permitted values of a choice, French labels first when the codes have some."""
    for labels in _LABELLED:
        if all(f"'{code}'" in expected for code in labels):
            return ", ".join(f"« {label} » ({code})" for code, label in labels.items())
    return expected.replace(" or ", " ou ")


def _french(error: dict[str, Any]) -> str:
    """One pydantic validation error, in French."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    texts = {
        "missing": "champ obligatoire absent",
        "extra_forbidden": "champ inconnu (retirez-le)",
        "finite_number": "doit être un nombre fini (ni Infinity ni NaN)",
        "float_parsing": "doit être un nombre",
        "float_type": "doit être un nombre",
        "int_parsing": "doit être un nombre entier",
        "int_type": "doit être un nombre entier",
        "int_from_float": "doit être un nombre entier",
        "bool_parsing": "doit être true ou false",
        "bool_type": "doit être true ou false",
        "string_type": "doit être une chaîne de caractères",
        "list_type": "doit être une liste",
        "dict_type": "doit être un objet JSON",
        "model_attributes_type": "doit être un objet JSON",
        "model_type": "doit être un objet JSON",
        "json_invalid": "le corps n'est pas du JSON valide",
        "json_type": "le corps n'est pas du JSON valide",
    }
    bounds = {
        "greater_than_equal": ("≥", "ge"),
        "greater_than": (">", "gt"),
        "less_than_equal": ("≤", "le"),
        "less_than": ("<", "lt"),
    }
    if kind in texts:
        text = texts[kind]
    elif kind in bounds:
        sign, key = bounds[kind]
        text = f"doit être {sign} {_number(ctx.get(key))}"
    elif kind == "string_too_long":
        text = f"au plus {ctx.get('max_length')} caractères"
    elif kind == "string_too_short":
        text = f"au moins {ctx.get('min_length')} caractère(s)"
    elif kind == "string_pattern_mismatch":
        text = f"format attendu : {ctx.get('pattern')}"
    elif kind in ("literal_error", "enum"):
        text = f"valeur non permise ; valeurs possibles : {_expected(str(ctx.get('expected')))}"
    else:
        text = f"valeur refusée ({error.get('msg', kind)})"
    if "input" in error and kind not in ("missing", "json_invalid"):
        shown = repr(error["input"])
        text += f" (reçu : {shown[:60]}{'…' if len(shown) > 60 else ''})"
    return text


_LOCATIONS = {"body": "corps", "query": "paramètre", "path": "chemin", "header": "en-tête"}


def validation_body(exc: RequestValidationError) -> dict[str, Any]:
    """The error body of a request FastAPI refused (422), in French, naming the fields."""
    parts: list[str] = []
    items: list[dict[str, Any]] = []
    first_field: str | None = None
    for error in exc.errors():
        loc = [str(x) for x in error.get("loc", ())]
        where = _LOCATIONS.get(loc[0], loc[0]) if loc else "requête"
        name = ".".join(loc[1:])
        if name and first_field is None:
            first_field = name
        label = f"champ '{name}' ({where})" if name else where
        text = _french(error)
        parts.append(f"{label} : {text}")
        items.append({"loc": loc, "field": name or None, "message": text})
    return {
        "error": "RequestValidationError",
        "detail": "requête refusée : " + " ; ".join(parts[:10]),
        "hint": HINTS[422],
        "field": first_field,
        "errors": items,
    }


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, MissingTokenError) else None
    return JSONResponse(error_body(exc), status_code=status_code(exc), headers=headers)


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(validation_body(exc), status_code=422)


_HTTP_TEXTS = {
    404: "chemin inconnu",
    405: "méthode non permise sur ce chemin",
}


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = exc.status_code
    text = _HTTP_TEXTS.get(code, str(exc.detail))
    body = {
        "error": "HTTPError",
        "detail": f"{text} : {request.method} {request.url.path}",
        "hint": HINTS.get(code),
        "field": None,
    }
    return JSONResponse(body, status_code=code, headers=getattr(exc, "headers", None))


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error on %s %s", request.method, request.url.path)
    body = {
        "error": "InternalError",
        "detail": f"erreur interne sur {request.method} {request.url.path} "
        f"({type(exc).__name__}) ; elle est consignée dans le journal du service",
        "hint": HINTS[500],
        "field": None,
    }
    # answered outside the middleware stack (by Starlette's server-error middleware)
    headers = {k.decode(): v.decode() for k, v in security_headers(request.url.path)}
    return JSONResponse(body, status_code=500, headers=headers)


def add_exception_handlers(app: FastAPI) -> None:
    """Register the handlers: every class of :data:`STATUS_CODES`, validation, HTTP, others."""
    for cls in STATUS_CODES:
        app.add_exception_handler(cls, _handle)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(Exception, _handle_unexpected)
