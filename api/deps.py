"""Dependencies of the routers: the service context and the write guard."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import ServiceContext
from api.errors import MissingTokenError, WriteForbiddenError
from api.models import ErrorOut

__all__ = [
    "WRITE_RESPONSES",
    "Context",
    "WriteAccess",
    "get_context",
    "require_write",
]

_bearer = HTTPBearer(
    auto_error=False,
    description=(
        "Jeton d'écriture : la valeur de FONCIER_API_TOKEN, en `Authorization: Bearer <token>`"
    ),
)


def service_context(request: Request) -> ServiceContext:
    """The :class:`ServiceContext` opened by the lifespan handler."""
    context: ServiceContext = request.app.state.context
    return context


async def get_context(request: Request) -> ServiceContext:
    """:func:`service_context` as a dependency (async: resolved without a threadpool hop)."""
    return service_context(request)


def require_write(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Allow a write only with the configured bearer token (or anonymous writes enabled).

    Raises
    ------
    MissingTokenError
        No credentials while a token is configured (401).
    WriteForbiddenError
        A wrong token, or no token configured and anonymous writes off (403).
    """
    settings = service_context(request).settings
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if not token:
        if settings.allow_anonymous_writes:
            return
        msg = (
            "écritures désactivées : aucun jeton d'écriture n'est configuré. Définissez "
            "FONCIER_API_TOKEN et envoyez 'Authorization: Bearer <jeton>', ou lancez le service "
            "avec --allow-anonymous-writes (FONCIER_ALLOW_ANONYMOUS_WRITES=true), en local "
            "seulement"
        )
        raise WriteForbiddenError(msg)
    if credentials is None:
        msg = (
            "cette requête modifie des données : envoyez "
            "'Authorization: Bearer <FONCIER_API_TOKEN>'"
        )
        raise MissingTokenError(msg)
    if not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
        msg = "jeton d'écriture invalide : envoyez la valeur de FONCIER_API_TOKEN (Bearer)"
        raise WriteForbiddenError(msg)


Context = Annotated[ServiceContext, Depends(get_context)]
WriteAccess = Depends(require_write)
#: OpenAPI responses of every route protected by :data:`WriteAccess`.
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Aucun jeton envoyé"},
    403: {"model": ErrorOut, "description": "Jeton erroné, ou écritures non configurées"},
}
