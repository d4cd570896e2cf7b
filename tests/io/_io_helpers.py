"""Helpers of the open-data reader tests: real files read in place, small hand-made excerpts."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def real(rel: str) -> Path:
    """Path of a real open-data file; the test is skipped when the folder is absent."""
    path = REAL / rel
    if not path.exists():
        pytest.skip(f"real data file {path} not available")
    return path


def squares(n: int = 3, size: float = 100.0, x0: float = 700_000.0, y0: float = 6_300_000.0):
    """An n x n grid of size-metre squares in EPSG:2154, row-major from the lower left."""
    return [
        shapely.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
        for j in range(n)
        for i in range(n)
    ]


def write_geojson(path: Path, gdf: gpd.GeoDataFrame) -> Path:
    """Write a GeoDataFrame as a GeoJSON file (in its CRS) and return the path."""
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def feature_collection(features: list[dict]) -> str:
    """A GeoJSON FeatureCollection text (EPSG:4326 by the GeoJSON rule)."""
    return json.dumps({"type": "FeatureCollection", "features": features})
