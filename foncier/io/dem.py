"""Digital elevation models: any CRS in, a Lambert-93 GeoTIFF out.

The terrain criteria (slope) are computed in metres in EPSG:2154, so a DEM
published in geographic coordinates or in UTM is reprojected once, at import,
with bilinear resampling; cells without data stay without data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from foncier._format import fr_number
from foncier.errors import CRSError, DataSourceError
from foncier.io._common import PathLike, check_content
from foncier.layers import CRS_L93, LoadReport
from foncier.outputs import write_file

__all__ = ["reproject_dem"]


def _nodata_for(dtype: str) -> float:
    """Return a nodata value for a raster that declares none."""
    if np.issubdtype(np.dtype(dtype), np.floating):
        return float("nan")
    return float(np.iinfo(np.dtype(dtype)).min)


def _refuse_all_nodata(path: Path, data: np.ndarray, nodata: float) -> None:
    """Refuse a DEM whose every cell is nodata (or NaN): it would give no slope anywhere."""
    valid = (
        np.isfinite(data) if np.issubdtype(data.dtype, np.floating) else np.ones(data.shape, bool)
    )
    if not np.isnan(nodata):
        valid &= data != nodata
    if not valid.any():
        msg = (
            f"le MNT {path} ne contient aucune altitude : ses {data.size} cellules sont toutes "
            f"sans donnée (nodata {nodata:g}). Vérifiez le fichier ou sa valeur nodata, ou "
            "importez le territoire sans MNT (les pentes resteront alors inconnues)."
        )
        raise DataSourceError(msg)


def reproject_dem(
    src_path: PathLike, dst_path: PathLike, *, resolution: float | None = None
) -> LoadReport:
    """Reproject a DEM to EPSG:2154 (bilinear) and write it as a GeoTIFF.

    Parameters
    ----------
    src_path
        Any single-band raster GDAL reads, in a projected or geographic CRS.
    dst_path
        GeoTIFF to write (deflate-compressed, tiled).
    resolution
        Output cell size in metres; by default the size GDAL derives from
        the source (about the source's own in metres).

    Returns
    -------
    foncier.layers.LoadReport
        Layer ``"dem"``: ``crs_in``, ``reprojected``, and notes with the
        size, resolution, nodata value and the elevation range written.

    Raises
    ------
    DataSourceError
        Missing, truncated or corrupt raster, one with no band, one whose
        content is not a raster (an HTML page…), or one without any data.
    CRSError
        A raster without CRS.
    OutputError
        ``dst_path`` is the source, a file foncier did not write, or the
        system refused the write.

    Examples
    --------
    Not run as a doctest: it needs a DEM file, which is not shipped.

    >>> reproject_dem("srtm_utm31n.tif", "dem.tif").summary()  # doctest: +SKIP
    """
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src_path, dst_path = Path(src_path), Path(dst_path)
    check_content(src_path, "MNT")
    report = LoadReport("dem", source=str(src_path))
    try:
        with rasterio.open(src_path) as src:
            if src.count < 1:
                msg = f"le MNT {src_path} n'a aucune bande"
                raise DataSourceError(msg)
            if src.crs is None:
                msg = (
                    f"le MNT {src_path} n'a pas de SCR ; attendu un raster géoréférencé "
                    "(GeoTIFF avec son SCR, ou un .prj / .aux.xml à côté)"
                )
                raise CRSError(msg)
            epsg = src.crs.to_epsg()
            report.crs_in = f"EPSG:{epsg}" if epsg else src.crs.to_string()
            dtype = src.dtypes[0]
            nodata = src.nodata if src.nodata is not None else _nodata_for(dtype)
            data = src.read(1)
            report.rows_read = int(data.size)
            _refuse_all_nodata(src_path, data, nodata)
            res = (resolution, resolution) if resolution else None
            transform, width, height = calculate_default_transform(
                src.crs, CRS_L93, src.width, src.height, *src.bounds, resolution=res
            )
            out = np.full((height, width), nodata, dtype=dtype)
            reproject(
                data,
                out,
                src_transform=src.transform,
                src_crs=src.crs,
                src_nodata=nodata,
                dst_transform=transform,
                dst_crs=CRS_L93,
                dst_nodata=nodata,
                resampling=Resampling.bilinear,
            )
    except RasterioError as exc:
        msg = f"impossible de lire le MNT {src_path} : {exc} ; est-ce un fichier raster complet ?"
        raise DataSourceError(msg) from exc
    profile = {
        "driver": "GTiff",
        "dtype": dtype,
        "count": 1,
        "width": width,
        "height": height,
        "crs": CRS_L93,
        "transform": transform,
        "nodata": nodata,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }

    def write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(out, 1)

    write_file(dst_path, "dem", write, inputs=[src_path])
    report.reprojected = epsg != 2154
    valid = out[~np.isnan(out)] if np.isnan(nodata) else out[out != nodata]
    span = (
        f", altitudes de {fr_number(valid.min(), 1, 'm', trim_zeros=True)} à "
        f"{fr_number(valid.max(), 1, 'm', trim_zeros=True)}"
        if valid.size
        else ", aucune donnée"
    )
    report.notes.append(
        f"{fr_number(width, 0)} × {fr_number(height, 0)} cellules de "
        f"{fr_number(transform.a, 1, 'm', trim_zeros=True)}, nodata {nodata:g}{span}"
    )
    return report
