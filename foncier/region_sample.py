"""A synthetic région: several synthetic départements side by side, written part by part.

Each département is the synthetic sample (:func:`foncier.sample.make_sample`)
drawn with its own seed and département code, moved in Lambert-93 to its own
cell of a grid so that no two overlap.  Its parcels are appended to the
GeoPackage as soon as it is drawn and then dropped: the memory needed is that
of one département, whatever the number of départements, so a région of about
10 M parcels is written on a machine that could not hold it whole.  The other
layers and tables are small and written once at the end; the DEMs are put
together on one 25 m grid.
"""

from __future__ import annotations

import gc
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely

from foncier.layers import Col, validate_layer
from foncier.outputs import write_folder
from foncier.sample import DEM_NODATA, make_sample, write_dem_grid
from foncier.territory import GPKG_NAME, Territory

__all__ = ["DEPARTEMENTS", "REGION_NAME", "write_region_sample"]

REGION_NAME = "Région de Valbrune (échantillon synthétique)"
#: Département codes given in turn (those of Occitanie, the Gard first as in the sample).
DEPARTEMENTS = ("30", "34", "48", "12", "81", "11", "66", "31", "09", "32", "46", "65", "82")
#: Distance between the grid cells of two départements, in metres: a sample's
#: communes span at most 38.3 km by 29.8 km, its DEM 1 km more on each side.
_STEP_X, _STEP_Y = 42_000.0, 34_000.0
_DEM_RES = 25.0
#: Identifier columns not derived from the INSEE codes: prefixed with the département code.
_IDS = {
    "zae": (Col.SITE_ID,),
    "zae_plots": (Col.SITE_ID, Col.PLOT_ID),
    "constraints": (Col.CONSTRAINT_ID,),
    "infrastructure": (Col.INFRA_ID,),
}


def _offset(k: int, n: int, dem: Path) -> tuple[float, float]:
    """Shift of the ``k``-th of ``n`` départements: its grid cell, its DEM on the 25 m grid."""
    columns = int(np.ceil(np.sqrt(n)))
    dx, dy = (k % columns) * _STEP_X, (k // columns) * _STEP_Y
    with rasterio.open(dem) as src:
        left, top = src.transform.c, src.transform.f
    # the DEM's corner lands on a multiple of 25 m: every DEM cell is a cell of the mosaic
    return dx - (left + dx) % _DEM_RES, dy - (top + dy) % _DEM_RES


def _moved(gdf: gpd.GeoDataFrame, dx: float, dy: float) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out.geometry = shapely.transform(gdf.geometry.to_numpy(), lambda xy: xy + (dx, dy))
    return out


def _departement(
    territory: Territory, code: str, dx: float, dy: float
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, pd.DataFrame]]:
    """One département's layers moved by ``(dx, dy)`` and its tables, every id its own.

    INSEE codes (and the parcel, zone and friche ids built on them) already
    carry the département code; the other ids are prefixed with it, the EPCI
    codes take it as their 5th and 6th digits and the EPCI and SCoT names end
    with it, so that no two départements share an EPCI or a SCoT.
    """
    layers = {name: _moved(gdf, dx, dy) for name, gdf in territory.layers.items()}
    for name, columns in _IDS.items():
        for column in columns:
            layers[name][column] = code + "-" + layers[name][column].astype(str)
    communes = layers["communes"]
    communes[Col.EPCI] = communes[Col.EPCI].str[:4] + code + communes[Col.EPCI].str[6:]
    for column in ("epci_name", Col.SCOT):
        communes[column] = communes[column] + f" ({code})"
    projects = territory.projects.copy()
    projects[Col.PROJECT_ID] = code + "-" + projects[Col.PROJECT_ID]
    tables = {
        "enaf_consumption": territory.enaf_consumption,
        "projects": projects,
        "planning_docs": territory.planning_docs,
    }
    return layers, tables


def _write_dem(path: Path, parts: list[tuple[np.ndarray, float, float]]) -> Path:
    """One DEM holding every ``(array, left, top)`` part, nodata between them."""
    left = min(p[1] for p in parts)
    top = max(p[2] for p in parts)
    width = round(max(p[1] + p[0].shape[1] * _DEM_RES for p in parts) - left) // int(_DEM_RES)
    height = round(top - min(p[2] - p[0].shape[0] * _DEM_RES for p in parts)) // int(_DEM_RES)
    z = np.full((height, width), DEM_NODATA, dtype="float32")
    for array, x, y in parts:
        row, col = round((top - y) / _DEM_RES), round((x - left) / _DEM_RES)
        z[row : row + array.shape[0], col : col + array.shape[1]] = array
    return write_dem_grid(path, z, left, top)


def write_region_sample(
    outdir: str | Path,
    departements: int = 4,
    parcels_each: int = 2_500_000,
    seed: int = 0,
    *,
    n_communes: int = 40,
    force: bool = False,
) -> Path:
    """Write a synthetic région of several départements as one territory folder.

    Département ``k`` is :func:`foncier.sample.make_sample` with seed
    ``seed + k`` and the code ``DEPARTEMENTS[k]``, moved to its cell of a
    grid of about √``departements`` columns.  Its parcels are appended to
    ``territory.gpkg`` as soon as it is drawn, so only one département is
    held in memory at a time.

    Parameters
    ----------
    outdir
        Destination folder: missing, empty, or a territory folder written by
        foncier (replaced atomically).
    departements
        Number of départements (1 to 13).
    parcels_each
        Approximate number of parcels of each département (see
        :func:`foncier.sample.make_sample`).
    seed
        Seed of the first département.
    n_communes
        Communes of each département (20 to 64).
    force
        Also write into a folder holding other things (see
        :meth:`Territory.to_folder`).

    Returns
    -------
    pathlib.Path
        The folder written; ``Territory.from_folder`` or
        :func:`foncier.partitioned.read_supply_territory` read it.

    Raises
    ------
    ValueError
        ``departements`` is not between 1 and 13 (or a count is refused by
        :func:`foncier.sample.make_sample`).
    OutputError
        ``outdir`` holds files foncier did not write, and ``force`` is not set.
    """
    if not 1 <= departements <= len(DEPARTEMENTS):
        msg = f"departements doit être entre 1 et {len(DEPARTEMENTS)} ; reçu {departements}"
        raise ValueError(msg)
    codes = DEPARTEMENTS[:departements]

    def write(folder: Path) -> None:
        gpkg = folder / GPKG_NAME
        layers: dict[str, list[gpd.GeoDataFrame]] = {}
        tables: dict[str, list[pd.DataFrame]] = {}
        dems: list[tuple[np.ndarray, float, float]] = []
        valid = True
        vintage = None
        with tempfile.TemporaryDirectory() as tmp:
            for k, code in enumerate(codes):
                part = make_sample(
                    parcels_each,
                    seed + k,
                    n_communes=n_communes,
                    dem_dir=Path(tmp) / code,
                    departement=code,
                )
                assert part.dem_path is not None  # the sample always has its DEM
                vintage = part.enaf_vintage
                dx, dy = _offset(k, departements, part.dem_path)
                with rasterio.open(part.dem_path) as src:
                    dems.append((src.read(1), src.transform.c + dx, src.transform.f + dy))
                moved, small = _departement(part, code, dx, dy)
                del part
                parcels = moved.pop("parcels")
                valid &= bool(shapely.is_valid(parcels.geometry.to_numpy()).all())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    pyogrio.write_dataframe(
                        parcels,
                        gpkg,
                        layer="parcels",
                        driver="GPKG",
                        append=k > 0,
                        promote_to_multi=False,
                    )
                del parcels
                gc.collect()  # the next département is drawn in the memory this one held
                for name, gdf in moved.items():
                    layers.setdefault(name, []).append(gdf)
                for name, df in small.items():
                    tables.setdefault(name, []).append(df)
            whole = {
                name: validate_layer(name, pd.concat(parts, ignore_index=True))
                for name, parts in layers.items()
            }
            for name, gdf in whole.items():
                valid &= bool(shapely.is_valid(gdf.geometry.to_numpy()).all())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    pyogrio.write_dataframe(
                        gdf, gpkg, layer=name, driver="GPKG", promote_to_multi=False
                    )
            joined = {
                name: validate_layer(name, pd.concat(parts, ignore_index=True))
                for name, parts in tables.items()
            }
            region = Territory(
                name=REGION_NAME,
                layers=whole,
                enaf_consumption=joined["enaf_consumption"],
                projects=joined["projects"],
                dem_path=_write_dem(Path(tmp) / "dem.tif", dems),
                metadata={
                    "synthetic": True,
                    "description": (
                        f"Échantillon synthétique : {departements} départements fictifs "
                        "côte à côte, chacun à l'échelle d'Alès Agglomération. Toutes les "
                        "communes, parcelles, zones, friches et projets sont inventés."
                    ),
                    "seed": seed,
                    "departements": list(codes),
                    "parcels_each": parcels_each,
                    "n_communes": n_communes,
                    "generator": "foncier.region_sample",
                },
                enaf_vintage=vintage,
                planning_docs=joined["planning_docs"],
            )
            region.write_tables(folder, geometries_valid=valid)

    return write_folder(outdir, "territory", write, force=force)
