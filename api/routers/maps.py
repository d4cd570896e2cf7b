"""Maps for the working group (HTML pages drawn by :mod:`foncier.maps`)."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import Context
from api.errors import MapUnavailableError
from api.models import ErrorOut, PoolLevel
from api.routers.scenarios import ScenarioId, finished_result

router = APIRouter(tags=["maps"])

_HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "Une page de carte Leaflet"}
}


def _maps() -> ModuleType:
    if importlib.util.find_spec("foncier.maps") is None:
        msg = (
            "cartes indisponibles : cette version de foncier n'a pas le module foncier.maps ; "
            "utilisez /layers et /land-units (GeoJSON) dans un SIG"
        )
        raise MapUnavailableError(msg)
    return importlib.import_module("foncier.maps")


@router.get(
    "/maps/territory",
    response_class=HTMLResponse,
    responses={**_HTML, 404: {"model": ErrorOut, "description": "Cartes indisponibles"}},
    description=(
        "Communes colorées selon leur budget ZAN restant (net des décisions), unités foncières, "
        "ZAE, friches."
    ),
    summary="Carte du territoire",
)
def territory_map(
    ctx: Context,
    pool: Annotated[
        PoolLevel, Query(description="Niveau de groupement des budgets affiché")
    ] = "commune",
    rules: Annotated[str | None, Query(max_length=200, description="Nom du jeu de règles")] = None,
) -> HTMLResponse:
    """Communes coloured by remaining ZAN budget (net of decisions), land units, ZAE, friches."""
    maps = _maps()
    budgets, _ = ctx.budgets(pool, rules)
    key = ("territory", pool, rules, ctx.store.decisions_version())
    html = ctx.memo(
        key,
        lambda: maps.map_html(
            maps.territory_map(ctx.territory, ctx.available_units(), budgets, inline_assets=True)
        ),
    )
    return HTMLResponse(html)


@router.get(
    "/scenarios/{scenario_id}/map",
    response_class=HTMLResponse,
    responses={
        **_HTML,
        404: {"model": ErrorOut, "description": "Scénario inconnu, ou cartes indisponibles"},
        409: {"model": ErrorOut, "description": "Le calcul du scénario n'est pas terminé"},
    },
    description=(
        "La carte du territoire, avec les implantations du scénario et les projets qu'il laisse "
        "de côté."
    ),
    summary="Carte d'un scénario",
)
def scenario_map(ctx: Context, scenario_id: ScenarioId) -> HTMLResponse:
    """The territory map plus the scenario's placements and the projects it left out."""
    maps = _maps()
    result = finished_result(ctx, scenario_id)
    html = ctx.memo(
        ("scenario", scenario_id),
        lambda: maps.map_html(
            maps.scenario_map(ctx.territory, result, result.units, inline_assets=True)
        ),
    )
    return HTMLResponse(html)
