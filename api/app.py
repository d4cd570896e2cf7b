"""The FastAPI application: :func:`create_app` and the module-level ``app`` uvicorn serves.

Run it with ``foncier serve TERRITORY`` or ``uvicorn api.app:app`` (settings
from ``FONCIER_*`` environment variables, see :class:`api.settings.Settings`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.context import ServiceContext
from api.errors import HINTS, add_exception_handlers
from api.models import ErrorOut
from api.routers import (
    assembly,
    decisions,
    features,
    health,
    land_units,
    layers,
    maps,
    matching,
    projects,
    scenarios,
    zan,
)
from api.security import SecurityHeaders
from api.settings import Settings
from foncier import __version__

__all__ = ["BodySizeLimit", "SecurityHeaders", "app", "create_app"]

_DESCRIPTION = """
Foncier pour les projets industriels sous la loi ZAN, pour les aménageurs et le groupe de travail.

Lisez les couches du territoire (GeoJSON, WGS84), ses budgets ZAN et ses unités foncières ; gérez
les projets ; cherchez le meilleur foncier pour un projet ; lancez, lisez et comparez des
scénarios ; enregistrez les décisions du groupe de travail (les implantations validées comptent
alors dans les ENAF engagés).

La lecture est ouverte. Les écritures (projets, scénarios, décisions) demandent
`Authorization: Bearer <FONCIER_API_TOKEN>`.
"""

#: French description of each tag of the routes, in the order /docs lists them.
_OPENAPI_TAGS: list[dict[str, Any]] = [
    {"name": "territory", "description": "État du service et synthèse du territoire servi"},
    {
        "name": "layers",
        "description": "Couches du territoire en GeoJSON (WGS84), filtrées par bbox et paginées",
    },
    {
        "name": "zan",
        "description": "Budgets ZAN par commune ou groupement, nets des implantations validées",
    },
    {"name": "land units", "description": "Unités foncières retenues, avec leurs critères"},
    {
        "name": "projects",
        "description": "Projets industriels enregistrés : lire, créer, remplacer, supprimer",
    },
    {
        "name": "matching",
        "description": "Meilleures unités foncières ou meilleurs sites assemblés pour un projet, "
        "sans lancer de scénario",
    },
    {
        "name": "scenarios",
        "description": "Scénarios calculés en arrière-plan : implantations, projets non "
        "implantés, valeur du budget, comparaison",
    },
    {
        "name": "decisions",
        "description": "Décisions du groupe de travail sur les implantations (un journal où "
        "l'on ne fait qu'ajouter)",
    },
    {"name": "maps", "description": "Cartes Leaflet du territoire et des scénarios"},
    {
        "name": "OGC API Features",
        "description": "OGC API – Features pour QGIS, GDAL et ArcGIS : couches du territoire, "
        "unités foncières et implantations des scénarios",
    },
]

#: French wording of the response descriptions FastAPI writes by default.
_FASTAPI_RESPONSE_TEXTS = {
    "Successful Response": "Succès",
    "Validation Error": "Requête refusée (champ invalide)",
}


class BodySizeLimit:
    """ASGI middleware refusing request bodies larger than ``max_bytes`` with 413.

    The declared ``Content-Length`` is checked first; a body sent without
    one (chunked) is read up to the limit before the application sees it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "error": "PayloadTooLarge",
                "detail": f"request body larger than {self.max_bytes} bytes "
                "(FONCIER_MAX_BODY_BYTES); send a smaller body",
                "hint": HINTS[413],
                "field": None,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 when its body is too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


def _error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare :class:`api.models.ErrorOut` for every error status of every operation.

    Every operation gets its 422 (request validation, when it takes
    parameters or a body), 413 (body size, when it takes a body) and 500;
    every 4xx and 5xx response, FastAPI's default 422 included, points to
    ``ErrorOut``.  FastAPI's default English response descriptions
    ("Successful Response", "Validation Error") become French.
    """
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    error_content = {"application/json": {"schema": ref}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            has_input = bool(operation.get("parameters") or operation.get("requestBody"))
            if has_input:
                responses.setdefault("422", {"description": "Requête refusée (champ invalide)"})
            if operation.get("requestBody"):
                responses.setdefault("413", {"description": "Corps plus grand que la limite"})
            responses.setdefault("500", {"description": "Erreur interne du service"})
            for code, response in responses.items():
                text = response.get("description")
                response["description"] = _FASTAPI_RESPONSE_TEXTS.get(text, text)
                if code[:1] in "45":
                    response["content"] = error_content
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ErrorOut", error_schema)
    return schema


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the foncier service.

    The territory is loaded and its land units computed once, when the
    application starts (lifespan), not per request.

    Parameters
    ----------
    settings
        Service settings; ``None`` reads them from ``FONCIER_*`` variables.

    Returns
    -------
    fastapi.FastAPI
        The application, with its routers, error table and body size limit.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> app = create_app(Settings(territory="data/sample"))  # doctest: +SKIP
    >>> with TestClient(app) as client:  # doctest: +SKIP
    ...     client.get("/health").json()["status"]
    'ok'
    """
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the threadpool of the synchronous routes, bounded (anyio's default is 40)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        context = ServiceContext.open(settings)
        app.state.context = context
        try:
            yield
        finally:
            context.close()

    # Swagger UI and ReDoc from the assets shipped with fastapi-offline: /docs works offline
    app = FastAPIOffline(
        title="foncier",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "MIT"},
        openapi_tags=_OPENAPI_TAGS,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    for module in (
        health,
        layers,
        zan,
        land_units,
        projects,
        matching,
        assembly,
        scenarios,
        decisions,
        maps,
        features,
    ):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: the 413 carries the headers too

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _error_responses(get_openapi_schema(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def get_openapi_schema(app: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI document of ``app`` (before the error responses are declared)."""
    return get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        license_info=app.license_info,
        tags=app.openapi_tags,
    )


app = create_app()
