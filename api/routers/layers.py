"""``/layers``: the territory's layers as GeoJSON in WGS84, filtered by bbox and paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
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
from api.models import ErrorOut, FeatureCollection, LayerInfo, LayerList
from foncier.errors import NotFoundError
from foncier.layers import SCHEMAS

router = APIRouter(prefix="/layers", tags=["layers"])

#: Largest page of features.
MAX_LIMIT = 5_000


@router.get(
    "",
    response_model=LayerList,
    description="Chaque couche spatiale du territoire, avec son nombre d'entités.",
    summary="Couches servies",
)
def list_layers(ctx: Context) -> LayerList:
    """Every spatial layer of the territory, with its feature count."""
    return LayerList(
        layers=[
            LayerInfo(
                name=name,
                description=SCHEMAS[name].description,
                features=len(gdf),
                href=f"/layers/{name}",
            )
            for name, gdf in ctx.data.layers_wgs84.items()
        ]
    )


@router.get(
    "/{name}",
    response_model=FeatureCollection,
    response_class=JSONResponse,
    responses={
        200: {
            "content": {GEOJSON: {}},
            "description": "Une page de la couche ; les en-têtes indiquent si elle est partielle",
            "headers": {
                "X-Total-Count": {"description": "Entités trouvées", "schema": {"type": "integer"}},
                "Link": {
                    "description": "Pages suivante / précédente (RFC 8288)",
                    "schema": {"type": "string"},
                },
            },
        },
        404: {
            "model": ErrorOut,
            "description": "Couche inconnue (les couches connues sont listées)",
        },
        422: {"model": ErrorOut, "description": "bbox mal formée ou inversée"},
    },
    description=(
        "Entités d'une couche qui intersectent `bbox` (index spatial), `limit` à partir de "
        "`offset`.\n\n"
        "Une page n'est pas toute la couche quand `numberReturned` < `numberMatched` : suivez le "
        "lien `next` (aussi dans l'en-tête `Link`, avec le total dans `X-Total-Count`) ou lisez "
        "`/collections/{name}/items` (OGC API Features), que GDAL et QGIS parcourent d'eux-mêmes."
    ),
    summary="Une couche en GeoJSON (WGS84), filtrée par bbox et paginée",
)
def get_layer(
    ctx: Context,
    request: Request,
    name: Annotated[str, Path(description="Nom de la couche", examples=["parcels"])],
    bbox: Annotated[str | None, Query(description=BBOX_DESCRIPTION)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Taille de page")] = 100,
    offset: Annotated[int, Query(ge=0, description="Entités sautées")] = 0,
) -> JSONResponse:
    """Features of a layer intersecting ``bbox`` (spatial index), ``limit`` from ``offset``.

    A page is not the whole layer when ``numberReturned`` < ``numberMatched``:
    follow the ``next`` link (also in the ``Link`` header, with the total in
    ``X-Total-Count``) or read ``/collections/{name}/items`` (OGC API
    Features), which GDAL and QGIS page through on their own.
    """
    layers = ctx.data.layers_wgs84
    if name not in layers:
        msg = f"couche inconnue « {name} » ; couches disponibles : {', '.join(layers)}"
        raise NotFoundError(msg)
    gdf = layers[name]
    positions = bbox_positions(gdf, bbox)
    page = feature_page(gdf, positions, limit=limit, offset=offset, url=request.url)
    return FastJSONResponse(page, media_type=GEOJSON, headers=page_headers(page))
