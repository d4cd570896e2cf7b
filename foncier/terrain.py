"""Terrain: read a DEM with rasterio, derive slope, aggregate it over land units.

The DEM may come in any projected or geographic CRS; it is warped to
Lambert-93 (EPSG:2154) with bilinear resampling, its nodata cells kept as
``NaN``.  Slope is the magnitude of the elevation gradient in percent
(100 × rise / run).  Zonal statistics burn the units' ids on the DEM grid with
:func:`rasterio.features.rasterize` and aggregate with :func:`numpy.bincount`,
so their cost does not grow with a Python loop over the units.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.transform
import rasterio.warp
import rasterio.windows
import shapely
from affine import Affine
from rasterio.crs import CRS as RioCRS
from rasterio.enums import Resampling

from foncier.errors import CRSError, DataSourceError, GeometryError, LayerSchemaError
from foncier.io._common import check_content
from foncier.layers import CRS_L93
from foncier.outputs import write_file

__all__ = [
    "Dem",
    "read_dem",
    "slope_pct",
    "write_suitability_raster",
    "zonal_slope",
]

#: Column names of :func:`zonal_slope`'s result.
SLOPE_MEAN_PCT = "slope_mean_pct"
SLOPE_MAX_PCT = "slope_max_pct"

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class Dem:
    """A DEM on a north-up Lambert-93 grid.

    Attributes
    ----------
    elevation
        Elevations in metres, ``float32``, ``NaN`` where the source had no data
        or does not cover the grid.
    transform
        Affine transform of the grid (EPSG:2154 metres).
    crs
        Always ``"EPSG:2154"``.
    source_crs
        CRS of the file read, e.g. ``"EPSG:32631"``.
    """

    elevation: np.ndarray
    transform: Affine
    crs: str
    source_crs: str

    @property
    def bounds(self) -> Bounds:
        """``(minx, miny, maxx, maxy)`` of the grid."""
        height, width = self.elevation.shape
        return rasterio.transform.array_bounds(height, width, self.transform)[:4]


def _open_checked(path: Path) -> rasterio.io.DatasetReader:
    if not path.is_file():
        msg = (
            f"le fichier MNT {path} n'existe pas ; donnez le chemin d'un GeoTIFF d'altitudes "
            "en mètres"
        )
        raise DataSourceError(msg)
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        msg = (
            f"impossible de lire le MNT {path} : {exc} ; un GeoTIFF d'altitudes en mètres "
            "est attendu"
        )
        raise DataSourceError(msg) from exc


def _crs_label(crs: RioCRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def _target_grid(
    src: rasterio.io.DatasetReader, bounds: Bounds | None
) -> tuple[Affine, int, int] | None:
    """Lambert-93 grid (transform, width, height) of the DEM, cropped to ``bounds``.

    Returns ``None`` when ``bounds`` does not meet the DEM footprint.
    """
    try:
        full, width, height = rasterio.warp.calculate_default_transform(
            src.crs, CRS_L93, src.width, src.height, *src.bounds
        )
    except Exception as exc:
        msg = (
            f"impossible de reprojeter le MNT de {_crs_label(src.crs)} vers {CRS_L93} : {exc} ; "
            "vérifiez le système de coordonnées déclaré dans le GeoTIFF"
        )
        raise CRSError(msg) from exc
    if bounds is None:
        return full, int(width), int(height)
    res = abs(full.a)
    dem_bounds = rasterio.transform.array_bounds(height, width, full)
    # One cell of margin so that the gradient is defined on the units' edges.
    minx = max(bounds[0] - res, dem_bounds[0])
    miny = max(bounds[1] - res, dem_bounds[1])
    maxx = min(bounds[2] + res, dem_bounds[2])
    maxy = min(bounds[3] + res, dem_bounds[3])
    if minx >= maxx or miny >= maxy:
        return None
    # Snap on the DEM's own Lambert-93 grid, so that a DEM already in
    # EPSG:2154 is read cell for cell, without resampling.
    col0 = np.floor((minx - full.c) / res)
    row0 = np.floor((full.f - maxy) / res)
    col1 = np.ceil((maxx - full.c) / res)
    row1 = np.ceil((full.f - miny) / res)
    transform = Affine(res, 0.0, full.c + col0 * res, 0.0, -res, full.f - row0 * res)
    return transform, int(col1 - col0), int(row1 - row0)


def _read_window(
    src: rasterio.io.DatasetReader, bounds: Bounds | None
) -> tuple[np.ndarray, Affine]:
    """Read the cells of a Lambert-93 DEM covering ``bounds`` (plus one cell), as is."""
    full = rasterio.windows.Window(0, 0, src.width, src.height)
    window = full
    if bounds is not None:
        res_x, res_y = abs(src.transform.a), abs(src.transform.e)
        # Whole cells from the one before bounds to the one after (rounding the
        # offsets and lengths of a fractional window apart can lose the last
        # one): the slope of every cell inside bounds is then the same whatever
        # the window, e.g. for a département's units alone.
        left, top = src.transform.c, src.transform.f
        col0 = int(np.floor((bounds[0] - res_x - left) / res_x))
        col1 = int(np.ceil((bounds[2] + res_x - left) / res_x))
        row0 = int(np.floor((top - bounds[3] - res_y) / res_y))
        row1 = int(np.ceil((top - bounds[1] + res_y) / res_y))
        window = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0).intersection(full)
    masked = src.read(1, window=window, masked=True)
    elevation = masked.astype("float32").filled(np.nan)
    return elevation, src.window_transform(window)


def read_dem(path: str | Path, *, bounds: Bounds | None = None) -> Dem:
    """Read a DEM GeoTIFF on a Lambert-93 grid.

    A DEM already in EPSG:2154 is read as is (the window covering ``bounds``
    only); a DEM in another CRS is warped to EPSG:2154 with bilinear
    resampling at its own resolution.  Nodata cells, and cells outside the
    source, become ``NaN``.

    Parameters
    ----------
    path
        GeoTIFF of elevations in metres (first band).
    bounds
        ``(minx, miny, maxx, maxy)`` in EPSG:2154 to read; the whole DEM when
        ``None``.

    Returns
    -------
    Dem
        Elevations (``float32``), transform and CRS.  When ``bounds`` does not
        meet the DEM, the elevation array has shape ``(0, 0)``.

    Raises
    ------
    DataSourceError
        The file is missing or is not a raster.
    CRSError
        The DEM has no CRS, or its CRS cannot be reprojected to EPSG:2154.

    Examples
    --------
    Not run as a doctest: it needs a DEM file, which is not shipped.

    >>> dem = read_dem("srtm30_cevennes_utm31n.tif")  # doctest: +SKIP
    >>> dem.crs, dem.source_crs  # doctest: +SKIP
    ('EPSG:2154', 'EPSG:32631')
    """
    path = Path(path)
    try:
        check_content(path, "MNT")
    except DataSourceError as exc:
        msg = f"impossible de lire le MNT : {exc}"
        raise DataSourceError(msg) from exc
    with _open_checked(path) as src:
        if src.crs is None:
            msg = (
                f"le MNT {path} n'a pas de système de coordonnées (CRS) ; un GeoTIFF qui en "
                f"déclare un est attendu (EPSG:2154 ou un système reprojetable vers lui). "
                f"Déclarez-le avec `gdal_edit.py -a_srs EPSG:2154 {path.name}` ou rasterio."
            )
            raise CRSError(msg)
        source_crs = _crs_label(src.crs)
        grid = _target_grid(src, bounds)
        if grid is None:
            empty = np.empty((0, 0), dtype="float32")
            return Dem(empty, Affine.identity(), CRS_L93, source_crs)
        if src.crs == RioCRS.from_user_input(CRS_L93) and src.transform.b == src.transform.d == 0:
            elevation, transform = _read_window(src, bounds)
        else:
            transform, width, height = grid
            elevation = np.full((height, width), np.nan, dtype="float32")
            rasterio.warp.reproject(
                source=rasterio.band(src, 1),
                destination=elevation,
                src_transform=src.transform,
                src_crs=src.crs,
                src_nodata=src.nodata,
                dst_transform=transform,
                dst_crs=CRS_L93,
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
    if bounds is None and elevation.size and not np.isfinite(elevation).any():
        msg = (
            f"le MNT {path} ne contient aucune altitude : toutes ses cellules sont sans donnée "
            "(nodata). Vérifiez le fichier ou sa valeur nodata."
        )
        raise DataSourceError(msg)
    return Dem(elevation, transform, CRS_L93, source_crs)


def slope_pct(elevation: np.ndarray, transform: Affine) -> np.ndarray:
    """Slope of a DEM in percent (100 × rise / run), by central differences.

    Parameters
    ----------
    elevation
        2-D array of elevations in metres; ``NaN`` marks no data and makes the
        slope of the cell and of its four neighbours ``NaN``.
    transform
        Affine transform of a north-up grid with metric cells.

    Returns
    -------
    numpy.ndarray
        Slope in percent, same shape, ``float32``.

    Examples
    --------
    >>> from affine import Affine
    >>> z = np.tile(np.arange(5, dtype=float) * 0.05 * 25, (4, 1))  # 5 % towards the east
    >>> float(slope_pct(z, Affine(25, 0, 0, 0, -25, 100))[1, 2])
    5.0
    """
    z = np.asarray(elevation, dtype="float64")
    if z.shape[0] < 2 or z.shape[1] < 2:
        return np.full(z.shape, np.nan, dtype="float32")
    dz_dy, dz_dx = np.gradient(z, abs(transform.e), abs(transform.a))
    slope = np.hypot(dz_dx, dz_dy) * 100.0
    slope[np.isnan(z)] = np.nan  # a cell without elevation has no slope either
    return slope.astype("float32")


def _grouped_max(ids: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Maximum of ``values`` per id in ``0..n-1`` (``NaN`` for absent ids)."""
    out = np.full(n, np.nan)
    if not len(ids):
        return out
    order = np.argsort(ids, kind="stable")
    ids_sorted = ids[order]
    starts = np.flatnonzero(np.r_[True, ids_sorted[1:] != ids_sorted[:-1]])
    out[ids_sorted[starts]] = np.maximum.reduceat(values[order], starts)
    return out


def zonal_slope(units: gpd.GeoDataFrame, dem_path: str | Path | None) -> pd.DataFrame:
    """Mean and maximum slope (percent) of each unit, from a DEM.

    The DEM is read (and warped to EPSG:2154 if needed) on the window covering
    the units; the slope grid is computed once; unit numbers are burnt on the
    same grid (a cell belongs to the unit covering its centre) and the
    statistics aggregated with :func:`numpy.bincount`.  A unit smaller than a
    cell takes the slope of the cell under its representative point.  A unit
    partly outside the DEM uses the covered part; a unit fully outside, or
    only on nodata, gets ``NaN``.

    Parameters
    ----------
    units
        Polygons in EPSG:2154.
    dem_path
        DEM GeoTIFF; ``None`` (no DEM) gives ``NaN`` everywhere.

    Returns
    -------
    pandas.DataFrame
        ``slope_mean_pct`` and ``slope_max_pct`` on the units' index;
        ``attrs["units_without_slope"]`` counts the units left without a
        slope (outside the DEM or on nodata) and ``attrs["share_without_slope"]``
        is their share (1.0 without DEM).

    Raises
    ------
    DataSourceError, CRSError
        See :func:`read_dem`.
    """
    n = len(units)
    out = pd.DataFrame(
        {SLOPE_MEAN_PCT: np.full(n, np.nan), SLOPE_MAX_PCT: np.full(n, np.nan)},
        index=units.index,
    )
    _coverage(out)
    if dem_path is None or n == 0:
        return out
    geoms = units.geometry.to_numpy()
    dem = read_dem(dem_path, bounds=tuple(shapely.total_bounds(geoms)))
    if dem.elevation.size == 0:
        return out
    slope = slope_pct(dem.elevation, dem.transform)
    ids = rasterio.features.rasterize(
        zip(geoms, np.arange(1, n + 1), strict=True),
        out_shape=slope.shape,
        transform=dem.transform,
        fill=0,
        dtype="int32",
    ).ravel()
    burnt = np.bincount(ids, minlength=n + 1)[1:] > 0
    values = slope.ravel()
    keep = (ids > 0) & np.isfinite(values)
    ids_k, values_k = ids[keep] - 1, values[keep].astype("float64")
    count = np.bincount(ids_k, minlength=n)
    total = np.bincount(ids_k, weights=values_k, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    maximum = _grouped_max(ids_k, values_k, n)
    small = np.flatnonzero(~burnt)
    if len(small):
        pts = shapely.point_on_surface(geoms[small])
        col_f, row_f = ~dem.transform @ (shapely.get_x(pts), shapely.get_y(pts))
        rows = np.floor(np.asarray(row_f)).astype("int64")
        cols = np.floor(np.asarray(col_f)).astype("int64")
        inside = (rows >= 0) & (rows < slope.shape[0]) & (cols >= 0) & (cols < slope.shape[1])
        sampled = np.full(len(small), np.nan)
        sampled[inside] = slope[rows[inside], cols[inside]]
        mean[small] = sampled
        maximum[small] = sampled
    out[SLOPE_MEAN_PCT] = mean
    out[SLOPE_MAX_PCT] = maximum
    _coverage(out)
    return out


def _coverage(slopes: pd.DataFrame) -> None:
    """Record on ``slopes.attrs`` how many units have no slope, and their share."""
    missing = int(slopes[SLOPE_MEAN_PCT].isna().sum())
    slopes.attrs["units_without_slope"] = missing
    slopes.attrs["share_without_slope"] = missing / len(slopes) if len(slopes) else 0.0


def write_suitability_raster(
    units: gpd.GeoDataFrame,
    path: str | Path,
    *,
    column: str = "net_area_ha",
    resolution: float = 25.0,
    force: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> Path:
    """Write one column of the land units as a GeoTIFF (EPSG:2154) for analysts.

    Parameters
    ----------
    units
        Land units (polygons in EPSG:2154) with a numeric ``column``.
    path
        Output GeoTIFF.
    column
        Column burnt in the raster (``net_area_ha``, a score...); boolean
        columns are written as 0/1.
    resolution
        Cell size in metres.
    force, inputs
        See :func:`foncier.outputs.write_file`: the raster never replaces a
        file foncier did not write, nor an input.

    Returns
    -------
    pathlib.Path
        The file written: one ``float32`` band, nodata ``NaN`` outside units and
        where the column is unknown, DEFLATE-compressed.

    Raises
    ------
    LayerSchemaError
        If ``column`` is missing or not numeric.
    GeometryError
        If there are no units to write.
    """
    if column not in units.columns or not (
        pd.api.types.is_numeric_dtype(units[column]) or pd.api.types.is_bool_dtype(units[column])
    ):
        msg = (
            f"impossible d'écrire la colonne {column!r} en raster : une colonne numérique des "
            f"unités foncières est attendue ; colonnes reçues : {list(units.columns)}"
        )
        raise LayerSchemaError(msg)
    if len(units) == 0:
        msg = (
            "aucune unité foncière à écrire dans le raster ; vérifiez le foncier candidat "
            "et les exclusions"
        )
        raise GeometryError(msg)
    if resolution <= 0:
        msg = f"la résolution du raster doit être un nombre de mètres positif ; reçu {resolution}"
        raise LayerSchemaError(msg)
    minx, miny, maxx, maxy = shapely.total_bounds(units.geometry.to_numpy())
    minx, miny = np.floor(minx / resolution) * resolution, np.floor(miny / resolution) * resolution
    width = max(1, int(np.ceil((maxx - minx) / resolution)))
    height = max(1, int(np.ceil((maxy - miny) / resolution)))
    transform = Affine(resolution, 0.0, minx, 0.0, -resolution, miny + height * resolution)
    values = units[column].astype("float64").to_numpy()
    known = np.isfinite(values)
    raster = rasterio.features.rasterize(
        zip(units.geometry.to_numpy()[known], values[known], strict=True),
        out_shape=(height, width),
        transform=transform,
        fill=np.nan,
        dtype="float32",
    )
    path = Path(path)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": CRS_L93,
        "transform": transform,
        "nodata": np.nan,
        "compress": "deflate",
    }

    def write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(raster, 1)
            dst.set_band_description(1, column)

    return write_file(path, "raster", write, force=force, inputs=inputs)
