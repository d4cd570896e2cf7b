"""``/land-units``: land available for industry, with its criteria, as GeoJSON in WGS84."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import Context
from api.geojson import (
    BBOX_DESCRIPTION,
    GEOJSON,
    FastJSONResponse,
    bbox_positions,
    feature_page,
    page_headers,
)
from api.models import ErrorOut, FeatureCollection
from api.routers.layers import MAX_LIMIT
from foncier.layers import Col, UnitCol

router = APIRouter(tags=["land units"])


@router.get(
    "/land-units",
    response_model=FeatureCollection,
    response_class=JSONResponse,
    responses={
        200: {"content": {"application/geo+json": {}}},
        422: {"model": ErrorOut, "description": "bbox mal formée"},
    },
    description=(
        "Unités foncières retenues, avec tous leurs critères (surface nette, pente, distances, "
        "part d'ENAF…)."
    ),
    summary="Unités foncières (GeoJSON, WGS84), filtrées et paginées",
)
def list_land_units(
    ctx: Context,
    request: Request,
    min_area_ha: Annotated[
        float | None, Query(ge=0, description="Surface nette minimale, ha")
    ] = None,
    commune: Annotated[
        str | None, Query(max_length=10, description="Code INSEE de la commune")
    ] = None,
    origin: Annotated[
        Literal["zae_plot", "friche", "activity_zone"] | None,
        Query(description="Origine du foncier"),
    ] = None,
    bbox: Annotated[str | None, Query(description=BBOX_DESCRIPTION)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """Screened land units with every criterion (net area, slope, distances, ENAF share…)."""
    units = ctx.data.units_wgs84
    positions = np.asarray(bbox_positions(units, bbox))
    keep = np.ones(len(positions), dtype=bool)
    if min_area_ha is not None:
        keep &= units[UnitCol.NET_AREA_HA].to_numpy()[positions] >= min_area_ha
    if commune is not None:
        keep &= units[Col.INSEE].to_numpy()[positions] == commune
    if origin is not None:
        keep &= units[UnitCol.ORIGIN].to_numpy()[positions] == origin
    page = feature_page(units, positions[keep], limit=limit, offset=offset, url=request.url)
    return FastJSONResponse(page, media_type=GEOJSON, headers=page_headers(page))
