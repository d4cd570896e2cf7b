"""GeoJSON pages: bbox parsing and FeatureCollections with paging links (RFC 7946).

A page says when it is partial: ``numberMatched`` and ``numberReturned`` in
the body with ``next`` / ``prev`` links (OGC API Features), and the same in
the headers (:func:`page_headers`: ``Link`` rel="next", ``X-Total-Count``)
for clients that only read headers.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely
from starlette.datastructures import URL
from starlette.responses import JSONResponse

from api.errors import InvalidBBoxError

if TYPE_CHECKING:
    from api.file_layers import FileLayer

__all__ = [
    "GEOJSON",
    "Positions",
    "FastJSONResponse",
    "bbox_positions",
    "feature_page",
    "page_headers",
    "parse_bbox",
]

#: Positions of features in a layer, in order (``range`` for a whole layer served from a file).
Positions: TypeAlias = "np.ndarray | range"
#: Media type of GeoJSON (RFC 7946).
GEOJSON = "application/geo+json"

BBOX_DESCRIPTION = (
    "minx,miny,maxx,maxy en degrés WGS84 (longitude, latitude), par ex. 4.0,44.0,4.2,44.2"
)


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse a ``minx,miny,maxx,maxy`` WGS84 bounding box.

    Parameters
    ----------
    text
        Four comma-separated numbers: longitudes in [-180, 180], latitudes in
        [-90, 90], ``minx ≤ maxx`` and ``miny ≤ maxy``.

    Returns
    -------
    tuple of float
        ``(minx, miny, maxx, maxy)``.

    Raises
    ------
    InvalidBBoxError
        Not four numbers, out of range, or inverted.

    Examples
    --------
    >>> parse_bbox("4.0,44.0,4.2,44.2")
    (4.0, 44.0, 4.2, 44.2)
    """
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        msg = (
            f"paramètre 'bbox' : quatre nombres séparés par des virgules attendus "
            f"(minx,miny,maxx,maxy en degrés WGS84), reçu « {text} »"
        )
        raise InvalidBBoxError(msg)
    minx, miny, maxx, maxy = values
    in_range = all(-180 <= x <= 180 for x in (minx, maxx)) and all(
        -90 <= y <= 90 for y in (miny, maxy)
    )
    if not in_range:
        msg = (
            f"paramètre 'bbox' : « {text} » sort des bornes WGS84 : longitudes dans "
            "[-180, 180] et latitudes dans [-90, 90] (des mètres Lambert-93 ? envoyez des degrés)"
        )
        raise InvalidBBoxError(msg)
    if minx > maxx or miny > maxy:
        msg = (
            f"paramètre 'bbox' : « {text} » est inversée : minx ≤ maxx et miny ≤ maxy "
            "attendus (ordre minx,miny,maxx,maxy)"
        )
        raise InvalidBBoxError(msg)
    return minx, miny, maxx, maxy


class FastJSONResponse(JSONResponse):
    """A JSON response written by orjson (a few times faster than :mod:`json` on a page).

    The content holds no NaN: the pages and tables give missing values as
    ``None`` (``null``); orjson would also write a NaN as ``null``, never as
    ``NaN``.
    """

    def render(self, content: Any) -> bytes:
        """``content`` as UTF-8 JSON."""
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def bbox_positions(gdf: gpd.GeoDataFrame | FileLayer, bbox: str | None) -> Positions:
    """Sorted positions of the features intersecting a WGS84 bbox (all if ``None``).

    Uses the layer's spatial index: the STRtree of a layer in memory (in
    WGS84), the R-tree of a :class:`~api.file_layers.FileLayer`.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        return gdf.positions(None if bbox is None else parse_bbox(bbox))
    if bbox is None:
        return np.arange(len(gdf))
    box = shapely.box(*parse_bbox(bbox))
    return np.sort(gdf.sindex.query(box, predicate="intersects"))


def page_features(page: gpd.GeoDataFrame, *, drop_id: bool = True) -> list[dict[str, Any]]:
    """``page.to_geo_dict(na="null", drop_id=drop_id)["features"]``, geometries written by GEOS.

    The geometries go through :func:`shapely.to_geojson` and one JSON parse,
    not a Python mapping per coordinate: the same features, several times
    faster on a page of polygons.

    Examples
    --------
    >>> page = gpd.GeoDataFrame({"a": [1.5, None]}, geometry=[shapely.Point(1, 2), None])
    >>> page_features(page)[0]["geometry"]
    {'type': 'Point', 'coordinates': [1.0, 2.0]}
    >>> page_features(page)[1]["properties"], page_features(page)[1]["geometry"]
    ({'a': None}, None)
    """
    geoms = page.geometry.to_numpy()
    texts = shapely.to_geojson(geoms)
    texts[shapely.is_missing(geoms) | shapely.is_empty(geoms)] = "null"
    shapes = json.loads("[" + ",".join(texts) + "]")
    ids = [str(i) for i in page.index]
    return [
        {
            **({} if drop_id else {"id": fid}),
            "type": "Feature",
            "properties": properties,
            "geometry": shape,
        }
        for fid, shape, properties in zip(ids, shapes, page_properties(page), strict=True)
    ]


def page_properties(page: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The ``properties`` of :func:`page_features`: all columns but the geometry (missing: None).

    Examples
    --------
    >>> page_properties(gpd.GeoDataFrame({"a": [1.5, None]}, geometry=[None, None]))
    [{'a': 1.5}, {'a': None}]
    """
    columns = [c for c in page.columns if c != page.geometry.name]
    # column by column: one conversion each to Python values, missing ones as None
    values = [_plain_values(page[c]) for c in columns]
    if not columns:
        return [{} for _ in range(len(page))]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _plain_values(column: pd.Series) -> list[Any]:
    """Values of a column as Python objects, ``None`` where missing (as ``to_geo_dict``)."""
    values = column.to_numpy(dtype=object)
    values[pd.isna(values)] = None
    return list(values)


def feature_page(
    gdf: gpd.GeoDataFrame | FileLayer,
    positions: Positions,
    *,
    limit: int,
    offset: int,
    url: URL,
    id_column: str | None = None,
) -> dict[str, Any]:
    """A FeatureCollection of ``gdf.iloc[positions][offset:offset + limit]`` with links.

    Parameters
    ----------
    gdf
        A layer in WGS84, in memory or served from its file.
    positions
        Positions of the matching features, in order.
    limit, offset
        Page size and start.
    url
        URL of the request, for the ``self``, ``next`` and ``prev`` links.
    id_column
        Column whose value is each feature's ``id`` (kept in the properties too).

    Returns
    -------
    dict
        ``type``, ``features`` (missing values as ``null``), ``numberMatched``,
        ``numberReturned``, ``timeStamp``, ``links``.
    """
    chosen = positions[offset : offset + limit]
    features: list[Any]
    if not isinstance(gdf, gpd.GeoDataFrame):
        features = gdf.features(chosen, with_id=id_column is not None)
    else:
        page = gdf.iloc[np.asarray(chosen, dtype="int64")]
        if id_column is not None:
            page = page.set_index(page[id_column].astype(str).to_numpy())
        features = page_features(page, drop_id=id_column is None) if len(page) else []
    matched = len(positions)
    links = [{"href": str(url), "rel": "self", "type": GEOJSON}]
    if offset + limit < matched:
        nxt = url.include_query_params(offset=offset + limit, limit=limit)
        links.append({"href": str(nxt), "rel": "next", "type": GEOJSON})
    if offset > 0:
        prev = url.include_query_params(offset=max(offset - limit, 0), limit=limit)
        links.append({"href": str(prev), "rel": "prev", "type": GEOJSON})
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }


def page_headers(page: dict[str, Any]) -> dict[str, str]:
    """Headers saying how much of the layer a page holds, and where the rest is.

    ``X-Total-Count`` (features matched), ``X-Number-Returned`` and, when
    the page is partial, ``Link`` with the ``next`` / ``prev`` pages (RFC 8288).

    Examples
    --------
    >>> page_headers({"numberMatched": 3, "numberReturned": 3, "links": []})
    {'X-Total-Count': '3', 'X-Number-Returned': '3'}
    """
    headers = {
        "X-Total-Count": str(page["numberMatched"]),
        "X-Number-Returned": str(page["numberReturned"]),
    }
    links = [
        f'<{link["href"]}>; rel="{link["rel"]}"; type="{link["type"]}"'
        for link in page["links"]
        if link["rel"] in ("next", "prev")
    ]
    if links:
        headers["Link"] = ", ".join(links)
    return headers
