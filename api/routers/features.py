"""OGC API – Features, Part 1 Core: the territory's layers for GDAL, QGIS and ArcGIS.

Conformance classes Core, GeoJSON and OpenAPI 3.0.  The landing page ``/``
links the API description, the conformance declaration and
``/collections``: one collection per territory layer (``parcels``,
``communes``, …), the land units (``land_units``) and the placements of
each finished scenario (``placements-<scenario_id>``).  Items are GeoJSON in
WGS84 (CRS84), filtered by ``bbox``, paged with ``limit`` / ``offset`` and
``next`` / ``prev`` links; ``numberMatched`` says how many features match.
Reading is open, like the rest of the service.

In QGIS: *Layer › Add Layer › Add WFS / OGC API – Features Layer*, URL
``http://HOST:PORT/``; with GDAL: ``ogrinfo OAPIF:http://HOST:PORT/ parcels``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from api.context import ServiceContext, TerritoryData
from api.deps import Context
from api.file_layers import FileLayer
from api.geojson import (
    BBOX_DESCRIPTION,
    GEOJSON,
    FastJSONResponse,
    bbox_positions,
    feature_page,
    page_headers,
)
from api.models import ErrorOut, Feature, FeatureCollection, FrenchModel
from foncier.errors import NotFoundError
from foncier.layers import SCHEMAS, Col, UnitCol

__all__ = ["CONFORMANCE", "CRS84", "MAX_ITEMS", "router"]

router = APIRouter(tags=["OGC API Features"])

#: The CRS of every geometry served (WGS84, longitude first).
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: Conformance classes of OGC API – Features Part 1 the service implements.
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
#: Largest page of items; the default page is :data:`DEFAULT_ITEMS`.
MAX_ITEMS = 10_000
DEFAULT_ITEMS = 1_000
LAND_UNITS = "land_units"
PLACEMENTS_PREFIX = "placements-"
_JSON = "application/json"
_OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
_TITLES = {
    "communes": "Communes",
    "parcels": "Parcelles cadastrales",
    "plu_zones": "Zones des PLU",
    "zae": "Zones d'activités économiques (ZAE)",
    "zae_plots": "Lots de ZAE",
    "friches": "Friches",
    "constraints": "Contraintes (PPRI, Natura 2000, ZNIEFF)",
    "infrastructure": "Infrastructures",
    LAND_UNITS: "Unités foncières disponibles",
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Collection ou entité inconnue"}
}


class Link(FrenchModel):
    """A link (OGC API Common)."""

    description_fr = "Un lien (OGC API Common)"

    href: str
    rel: str = Field(examples=["data"])
    type: str = Field(examples=[_JSON])
    title: str | None = None


class LandingPage(FrenchModel):
    """The landing page: what the service is and where its parts are."""

    description_fr = "La page d'accueil : ce qu'est le service et où sont ses parties"

    title: str
    description: str
    links: list[Link]


class Conformance(FrenchModel):
    """The conformance classes the service implements."""

    description_fr = "Les classes de conformité OGC que le service met en œuvre"

    conformsTo: list[str]  # noqa: N815  (OGC name)


class Collection(FrenchModel):
    """One collection: its extent, CRS and links to its items."""

    description_fr = "Une collection : son emprise, son CRS et les liens vers ses entités"

    id: str = Field(examples=["parcels"])
    title: str
    description: str
    itemType: str = "feature"  # noqa: N815  (OGC name)
    crs: list[str] = [CRS84]
    storageCrs: str = CRS84  # noqa: N815
    extent: dict[str, Any] | None = Field(
        None, description="Emprise spatiale : bbox WGS84 (CRS84) ; absente pour une collection vide"
    )
    links: list[Link]


class Collections(FrenchModel):
    """Every collection served."""

    description_fr = "Toutes les collections servies"

    links: list[Link]
    collections: list[Collection]


@dataclass(frozen=True)
class _Source:
    """What a collection serves: its features in WGS84 (in memory or in a file), their key."""

    id: str
    title: str
    description: str
    frame: gpd.GeoDataFrame | FileLayer
    id_column: str


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _territory_sources(data: TerritoryData) -> dict[str, _Source]:
    sources = {
        name: _Source(name, _TITLES.get(name, name), SCHEMAS[name].description, gdf, key)
        for name, gdf in data.layers_wgs84.items()
        for key in SCHEMAS[name].key[:1]
    }
    sources[LAND_UNITS] = _Source(
        LAND_UNITS,
        _TITLES[LAND_UNITS],
        "Unités foncières retenues à partir des couches du territoire, avec tous leurs critères",
        data.units_wgs84,
        UnitCol.UNIT_ID,
    )
    return sources


def _placements_source(ctx: ServiceContext, scenario_id: str) -> _Source:
    """The placements of a finished scenario, in WGS84 (cached)."""
    from api.routers.scenarios import finished_result

    def compute() -> gpd.GeoDataFrame:
        placements = finished_result(ctx, scenario_id).placements
        out = placements.to_crs("EPSG:4326")
        out.sindex  # noqa: B018  (index built once)
        return out

    frame: gpd.GeoDataFrame = ctx.memo(("ogc-placements", scenario_id), compute)
    record = ctx.store.get_scenario(scenario_id)
    return _Source(
        f"{PLACEMENTS_PREFIX}{scenario_id}",
        f"Implantations du scénario « {record.name} »",
        f"Projets implantés par le scénario {scenario_id} : nom du projet, secteur, emplois, "
        "surface, coût ZAN et explication, sur le polygone de l'unité foncière",
        frame,
        Col.PROJECT_ID,
    )


def _source(ctx: ServiceContext, collection_id: str) -> _Source:
    """The collection ``collection_id``.

    Raises
    ------
    NotFoundError
        Not a collection of the service (404), or a scenario not finished.
    """
    sources = _territory_sources(ctx.data)
    if collection_id in sources:
        return sources[collection_id]
    if collection_id.startswith(PLACEMENTS_PREFIX):
        scenario_id = collection_id.removeprefix(PLACEMENTS_PREFIX)
        record = ctx.store.get_scenario(scenario_id)
        if record.status == "done" and record.result_dir is not None:
            return _placements_source(ctx, scenario_id)
    msg = (
        f"collection inconnue « {collection_id} » ; les collections sont listées par "
        f"GET /collections (couches du territoire : {', '.join(sources)}, et "
        "placements-<scenario_id> de chaque scénario terminé)"
    )
    raise NotFoundError(msg)


def _collection(source: _Source, base: str) -> Collection:
    href = f"{base}/collections/{source.id}"
    extent = None
    frame = source.frame
    bounds: tuple[float, ...] | None = None
    if isinstance(frame, FileLayer):
        bounds = frame.bounds
    elif len(frame):
        valid = frame.geometry.notna() & ~frame.geometry.is_empty
        if bool(valid.any()):
            bounds = tuple(float(v) for v in frame.geometry[valid].total_bounds)
    if bounds is not None:
        extent = {"spatial": {"bbox": [list(bounds)], "crs": CRS84}}
    return Collection(
        id=source.id,
        title=source.title,
        description=source.description,
        extent=extent,
        links=[
            Link(href=href, rel="self", type=_JSON, title="Cette collection"),
            Link(href=f"{href}/items", rel="items", type=GEOJSON, title="Les entités (GeoJSON)"),
        ],
    )


@router.get(
    "/",
    response_model=LandingPage,
    description=(
        "Ce qu'est le service, avec les liens vers sa description d'API, sa conformité et ses "
        "collections."
    ),
    summary="Page d'accueil (OGC API Features)",
)
def landing_page(request: Request) -> LandingPage:
    """What the service is, with links to its API description, conformance and collections."""
    base = _base(request)
    links = [
        Link(href=f"{base}/", rel="self", type=_JSON, title="Cette page"),
        Link(href=f"{base}/openapi.json", rel="service-desc", type=_OPENAPI, title="API (OpenAPI)"),
        Link(href=f"{base}/docs", rel="service-doc", type="text/html", title="Documentation"),
        Link(href=f"{base}/conformance", rel="conformance", type=_JSON, title="Conformité OGC"),
        Link(href=f"{base}/collections", rel="data", type=_JSON, title="Collections"),
        Link(href=f"{base}/health", rel="status", type=_JSON, title="État du service"),
        Link(href=f"{base}/layers", rel="related", type=_JSON, title="Couches (GeoJSON paginé)"),
        Link(href=f"{base}/scenarios", rel="related", type=_JSON, title="Scénarios"),
    ]
    return LandingPage(
        title="foncier",
        description=(
            "Foncier pour l'industrie sous la loi ZAN : couches du territoire, unités "
            "foncières et implantations des scénarios (OGC API – Features)"
        ),
        links=links,
    )


@router.get(
    "/conformance",
    response_model=Conformance,
    description="OGC API – Features, partie 1 : Core, GeoJSON, OpenAPI 3.0.",
    summary="Classes de conformité",
)
def conformance() -> Conformance:
    """OGC API – Features Part 1: Core, GeoJSON, OpenAPI 3.0."""
    return Conformance(conformsTo=CONFORMANCE)


@router.get(
    "/collections",
    response_model=Collections,
    description=(
        "Chaque couche du territoire, les unités foncières et les implantations de chaque "
        "scénario terminé."
    ),
    summary="Collections (OGC API Features)",
)
def list_collections(ctx: Context, request: Request) -> Collections:
    """Every territory layer, the land units, and the placements of each finished scenario."""
    base = _base(request)
    sources = list(_territory_sources(ctx.data).values())
    for record in ctx.store.list_scenarios():
        if record.status == "done" and record.result_dir is not None:
            sources.append(_placements_source(ctx, record.scenario_id))
    return Collections(
        links=[Link(href=f"{base}/collections", rel="self", type=_JSON)],
        collections=[_collection(s, base) for s in sources],
    )


CollectionId = Annotated[str, Path(max_length=200, examples=["parcels"])]


@router.get(
    "/collections/{collection_id}",
    response_model=Collection,
    responses=_NOT_FOUND,
    description=(
        "Titre, emprise spatiale (WGS84) et CRS d'une collection, avec le lien vers ses entités."
    ),
    summary="Une collection",
)
def get_collection(ctx: Context, request: Request, collection_id: CollectionId) -> Collection:
    """A collection's title, spatial extent (WGS84) and CRS, with the link to its items."""
    return _collection(_source(ctx, collection_id), _base(request))


@router.get(
    "/collections/{collection_id}/items",
    response_model=FeatureCollection,
    response_class=JSONResponse,
    responses={
        200: {"content": {GEOJSON: {}}, "description": "Une page d'entités"},
        **_NOT_FOUND,
        422: {"model": ErrorOut, "description": "bbox mal formée ou limit hors limites"},
    },
    description=(
        "Entités qui intersectent `bbox` ; `numberMatched` les compte toutes, le lien `next` mène "
        "à la page suivante."
    ),
    summary="Entités d'une collection (GeoJSON, CRS84), filtrées par bbox et paginées",
)
def get_items(
    ctx: Context,
    request: Request,
    collection_id: CollectionId,
    bbox: Annotated[str | None, Query(description=BBOX_DESCRIPTION)] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_ITEMS, description="Taille de page (entités par page)")
    ] = DEFAULT_ITEMS,
    offset: Annotated[int, Query(ge=0, description="Entités sautées")] = 0,
) -> JSONResponse:
    """Features intersecting ``bbox``; ``numberMatched`` counts them all, ``next`` pages on."""
    source = _source(ctx, collection_id)
    positions = bbox_positions(source.frame, bbox)
    page = feature_page(
        source.frame,
        positions,
        limit=limit,
        offset=offset,
        url=request.url,
        id_column=source.id_column,
    )
    base = f"{_base(request)}/collections/{source.id}"
    page["links"].append({"href": base, "rel": "collection", "type": _JSON})
    headers = {**page_headers(page), "Content-Crs": f"<{CRS84}>"}
    return FastJSONResponse(page, media_type=GEOJSON, headers=headers)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_model=Feature,
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}, "description": "L'entité"}, **_NOT_FOUND},
    description=(
        "L'entité dont l'identifiant est `feature_id` (la clé de la couche : `idu`, `insee`…)."
    ),
    summary="Une entité par identifiant",
)
def get_item(
    ctx: Context,
    request: Request,
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(max_length=200, examples=["30900000AB0001"])],
) -> JSONResponse:
    """The feature whose id is ``feature_id`` (the layer's key: ``idu``, ``insee``…)."""
    source = _source(ctx, collection_id)
    frame = source.frame
    if isinstance(frame, FileLayer):
        found = frame.find(feature_id)
        match = np.array([] if found is None else [found], dtype="int64")
    else:
        match = np.flatnonzero(frame[source.id_column].astype(str).to_numpy() == feature_id)
    if len(match) == 0:
        msg = (
            f"pas d'objet « {feature_id} » dans la collection « {collection_id} » "
            f"(les identifiants sont les valeurs de « {source.id_column} »)"
        )
        raise NotFoundError(msg)
    if isinstance(frame, FileLayer):
        feature = orjson.loads(orjson.dumps(frame.features(match[:1], with_id=True)[0]))
    else:
        row = frame.iloc[match[:1]]
        row = row.set_index(row[source.id_column].astype(str).to_numpy())
        feature = row.to_geo_dict(na="null", drop_id=False)["features"][0]
    base = f"{_base(request)}/collections/{source.id}"
    feature["links"] = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON},
        {"href": base, "rel": "collection", "type": _JSON},
    ]
    return FastJSONResponse(feature, media_type=GEOJSON, headers={"Content-Crs": f"<{CRS84}>"})
