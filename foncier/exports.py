"""Vector exports: a layer written as a styled GeoPackage or as GeoParquet.

GeoPackage is the default (one file QGIS opens styled, with the data's
provenance); GeoParquet 1.1 is the format for large exports (columnar,
compressed, read in a fraction of the time by GDAL ≥ 3.8, QGIS, DuckDB,
geopandas), written with its CRS and a bounding-box covering column so that
readers filter by area without decoding geometries.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from foncier.errors import FoncierError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["FORMATS", "VectorFormat", "format_of", "write_layer"]

VectorFormat = Literal["gpkg", "parquet"]
#: Vector formats the CLI writes, by ``--format`` value.
FORMATS: tuple[VectorFormat, ...] = ("gpkg", "parquet")
_PARQUET_SUFFIXES = {".parquet", ".geoparquet"}


def format_of(path: str | Path, fmt: str | None = None) -> VectorFormat:
    """The format to write ``path`` in: ``fmt`` when given, else from its suffix.

    Examples
    --------
    >>> format_of("unites.parquet"), format_of("unites.gpkg"), format_of("x.gpkg", "parquet")
    ('parquet', 'gpkg', 'parquet')
    """
    if fmt is None:
        return "parquet" if Path(path).suffix.lower() in _PARQUET_SUFFIXES else "gpkg"
    if fmt not in FORMATS:
        msg = f"format {fmt!r} inconnu : choisissez parmi {list(FORMATS)}"
        raise FoncierError(msg)
    return "parquet" if fmt == "parquet" else "gpkg"


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    layer: str,
    *,
    fmt: VectorFormat = "gpkg",
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write one layer to a GeoPackage (styled) or a GeoParquet file.

    Parameters
    ----------
    gdf
        The layer (its CRS is written with it).
    path
        Destination file (replaced).
    layer
        Layer name in the GeoPackage; it picks the style
        (:func:`foncier.styles.layer_style`).
    fmt
        ``gpkg`` or ``parquet`` (GeoParquet 1.1, CRS as PROJJSON, ``bbox``
        covering column).
    metadata
        Provenance written in the GeoPackage metadata (GeoParquet files
        carry their CRS and geometry metadata only).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from foncier.styles import add_layer_styles

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        gdf.to_parquet(
            out,
            index=False,
            schema_version="1.1.0",
            write_covering_bbox=True,
            compression="zstd",
        )
        return out
    if out.exists():
        out.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gdf.to_file(out, layer=layer, driver="GPKG", engine="pyogrio")
    add_layer_styles(out, [layer], metadata=metadata)
    return out
