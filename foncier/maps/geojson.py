"""Layers as light GeoJSON: simplified, in WGS84, coordinates rounded to about 1 m."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "COMMUNE_TOLERANCE_M",
    "COORD_DECIMALS",
    "POLYGON_TOLERANCE_M",
    "bounds_wgs84",
    "coverage_simplified",
    "feature_collection",
    "representative_points_wgs84",
]

#: Simplification tolerance (m, Lambert-93) of commune boundaries and other polygons.
COMMUNE_TOLERANCE_M = 20.0
POLYGON_TOLERANCE_M = 2.0
#: Decimals kept in WGS84 coordinates (1e-5 degree is about 1 m).
COORD_DECIMALS = 5


def coverage_simplified(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Simplify polygons sharing boundaries together when they form a coverage."""
    if tolerance_m <= 0 or len(geoms) == 0:
        return geoms
    if bool(shapely.coverage_is_valid(geoms)):
        return np.asarray(shapely.coverage_simplify(geoms, tolerance_m))
    # Overlapping or gapped communes: simplify each one (edges may then differ by < tolerance).
    return np.asarray(shapely.simplify(geoms, tolerance_m, preserve_topology=True))


def feature_collection(
    gdf: gpd.GeoDataFrame,
    properties: pd.DataFrame,
    *,
    tolerance_m: float = POLYGON_TOLERANCE_M,
    coverage: bool = False,
    points: bool = False,
) -> dict[str, Any]:
    """GeoJSON of ``gdf`` in WGS84, simplified and rounded, with ``properties``.

    ``points=True`` draws each geometry as a point inside it (representative point).
    """
    geoms = gdf.geometry.to_numpy()
    if points:
        geoms = shapely.point_on_surface(geoms)
    elif coverage:
        geoms = coverage_simplified(geoms, tolerance_m)
    elif tolerance_m > 0:
        geoms = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    wgs = gpd.GeoSeries(geoms, crs=gdf.crs).to_crs(4326).to_numpy()
    wgs = shapely.transform(wgs, lambda xy: np.round(xy, COORD_DECIMALS))
    frame = gpd.GeoDataFrame(
        properties.reset_index(drop=True).astype(object), geometry=wgs, crs=4326
    )
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    collection: dict[str, Any] = json.loads(frame.to_json(drop_id=True, na="null"))
    return collection


def representative_points_wgs84(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """``(lat, lon)`` of a point inside each geometry, rounded like the features."""
    points = gpd.GeoSeries(shapely.point_on_surface(gdf.geometry.to_numpy()), crs=gdf.crs)
    wgs = points.to_crs(4326)
    return np.round(np.column_stack([wgs.y.to_numpy(), wgs.x.to_numpy()]), COORD_DECIMALS)


def bounds_wgs84(gdf: gpd.GeoDataFrame) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of ``gdf``, for Leaflet's ``fitBounds``."""
    x0, y0, x1, y1 = (
        gpd.GeoSeries([shapely.box(*gdf.total_bounds)], crs=gdf.crs).to_crs(4326)[0].bounds
    )
    return [[y0, x0], [y1, x1]]
