"""Business parks (ZAE) and their plots, CNIG "Sites économiques" standard.

The SITE-ECO table (one row per site: ``site_id``, ``site_nom``,
``site_type``, ``site_surf_brute`` and ``site_surf_utile`` in ha,
``site_comm_insee``, geometry ``site_geomsurf``) becomes the ``zae`` layer;
the TERRAIN-ECO table (one row per plot: ``terr_id``, ``site_id``,
``terr_refcad`` = ``|``-separated parcel ids, ``terr_surf_brute`` in ha,
``terr_stade_amngt``, ``terr_etat_occup``, ``terr_m2_prix``, geometry
``terr_geomsurf``) becomes ``zae_plots``.

Both are published as CSV with the geometry as a GeoJSON text column (in
EPSG:4326, as GeoJSON requires), or as any vector file (the standard's
GeoPackage).  Enumerated values are matched ignoring case and accents.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from foncier.errors import DataSourceError
from foncier.io._common import (
    PathLike,
    blank,
    column_getter,
    find_column,
    numeric,
    read_csv_table,
    read_vector,
    reject_rows,
    validate_source,
)
from foncier.layers import OCCUPANCIES, SERVICING_STAGES, Col, LoadReport, normalise_insee

__all__ = ["read_zae", "read_zae_plots"]

_TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}


def _parse_geometry(text: pd.Series) -> pd.Series:
    """Parse GeoJSON (or WKT) geometry strings; unparsable or blank values become None."""
    s = text.astype(object).where(~blank(text), None)
    s = s.map(lambda v: None if v is None else str(v).replace('\\"', '"').strip())
    is_json = s.str.startswith("{").fillna(False).astype(bool)
    out = pd.Series(None, index=s.index, dtype=object)
    if is_json.any():
        out[is_json] = shapely.from_geojson(s[is_json].to_numpy(), on_invalid="ignore")
    wkt = s.notna() & ~is_json
    if wkt.any():
        out[wkt] = shapely.from_wkt(s[wkt].to_numpy(), on_invalid="ignore")
    return out


def _read_table(
    path: PathLike, geom_cols: tuple[str, ...], what: str, csv_crs: str
) -> gpd.GeoDataFrame:
    path = Path(path)
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        return read_vector(path, what=what)
    if not path.is_file():
        msg = f"le fichier {what} {path} n'existe pas"
        raise DataSourceError(msg)
    table = read_csv_table(path, what)
    geom_col = find_column(table.columns, *geom_cols, required=True, source=str(path))
    assert geom_col is not None
    geoms = _parse_geometry(table[geom_col])
    return gpd.GeoDataFrame(table.drop(columns=geom_col), geometry=geoms.to_numpy(), crs=csv_crs)


def _fold(value: object) -> str:
    text = unicodedata.normalize("NFKD", str(value).strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _enum(s: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    lookup = {_fold(v): v for v in allowed}
    return s.map(lambda v: None if pd.isna(v) else lookup.get(_fold(v)))


def _no_geometry(gdf: gpd.GeoDataFrame) -> pd.Series:
    geoms = gdf.geometry.to_numpy()
    return pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=gdf.index)


def read_zae(path: PathLike, *, csv_crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Read a CNIG SITE-ECO table (CSV with ``site_geomsurf``, or a vector file) into ``zae``.

    Parameters
    ----------
    path
        CSV (``,`` or ``;``-separated, UTF-8 with optional BOM) or vector file.
    csv_crs
        CRS of the geometry column of a CSV (GeoJSON is EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        The ``zae`` layer (``site_id``, ``name``, ``insee``,
        ``surf_brute_ha``, ``surf_utile_ha``; then ``site_type``).  Rows
        without id, commune or polygon, with a non-numeric or negative
        surface, or a duplicate id, are rejected and listed in
        ``attrs["load_report"]``.

    Raises
    ------
    DataSourceError
        Unreadable file, or no ``site_id`` / ``site_comm_insee`` / geometry column.
    """
    src = str(path)
    raw = _read_table(
        path, ("site_geomsurf", "geomsurf", "geometry", "geom", "wkt"), "SITE-ECO", csv_crs
    )
    report = LoadReport("zae", source=src, rows_read=len(raw))
    col = column_getter(raw, src)

    gdf = gpd.GeoDataFrame(
        {
            Col.SITE_ID: col("site_id", required=True),
            Col.NAME: col("site_nom", "nom", "name"),
            Col.INSEE: normalise_insee(
                col("site_comm_insee", "insee", required=True).astype(object)
            ),
            "site_type": col("site_type"),
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
        index=raw.index,
    )
    ids = gdf[Col.SITE_ID]
    gdf = reject_rows(gdf, blank(ids), "pas de site_id", ids, report)
    gdf = reject_rows(
        gdf, blank(gdf[Col.INSEE]), "pas de site_comm_insee", gdf[Col.SITE_ID], report
    )
    gdf[Col.NAME] = gdf[Col.NAME].where(~blank(gdf[Col.NAME]), gdf[Col.SITE_ID])
    for field, target in (
        ("site_surf_brute", Col.SURF_BRUTE_HA),
        ("site_surf_utile", Col.SURF_UTILE_HA),
    ):
        values, text = numeric(col(field).loc[gdf.index])
        gdf = reject_rows(gdf, text, f"{field} non numérique", gdf[Col.SITE_ID], report)
        values = values.loc[gdf.index]
        gdf = reject_rows(gdf, values < 0, f"{field} négatif", gdf[Col.SITE_ID], report)
        gdf[target] = values.loc[gdf.index]
    gdf = reject_rows(
        gdf, _no_geometry(gdf), "géométrie absente ou illisible", gdf[Col.SITE_ID], report
    )
    dup = gdf[Col.SITE_ID].duplicated()
    gdf = reject_rows(
        gdf, dup, "site_id en double (le premier est gardé)", gdf[Col.SITE_ID], report
    )
    return validate_source("zae", gdf, report, src)


def read_zae_plots(path: PathLike, *, csv_crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Read a CNIG TERRAIN-ECO table (CSV with ``terr_geomsurf`` or vector) into ``zae_plots``.

    Parameters
    ----------
    path
        CSV (``,`` or ``;``-separated, UTF-8 with optional BOM) or vector file.
    csv_crs
        CRS of the geometry column of a CSV (GeoJSON is EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        The ``zae_plots`` layer (``plot_id`` from ``terr_id``, ``site_id``,
        ``refcad``, ``servicing_stage``, ``occupancy``, ``price_eur_m2``;
        then ``surf_brute_ha``).  Stage and occupancy values are matched
        ignoring case and accents; rows with an unknown value, no id, no
        polygon, a non-numeric or negative number, or a duplicate id are
        rejected and listed in ``attrs["load_report"]``.

    Raises
    ------
    DataSourceError
        Unreadable file, or a missing ``terr_id`` / ``site_id`` /
        ``terr_stade_amngt`` / ``terr_etat_occup`` / geometry column.
    """
    src = str(path)
    raw = _read_table(
        path, ("terr_geomsurf", "geomsurf", "geometry", "geom", "wkt"), "TERRAIN-ECO", csv_crs
    )
    report = LoadReport("zae_plots", source=src, rows_read=len(raw))
    col = column_getter(raw, src)

    stage_raw = col("terr_stade_amngt", "servicing_stage", required=True)
    occup_raw = col("terr_etat_occup", "occupancy", required=True)
    refcad = col("terr_refcad", "refcad")
    gdf = gpd.GeoDataFrame(
        {
            Col.PLOT_ID: col("terr_id", "plot_id", required=True),
            Col.SITE_ID: col("site_id", required=True),
            Col.REFCAD: refcad.astype(object).where(~blank(refcad), None),
            Col.SERVICING_STAGE: _enum(stage_raw, SERVICING_STAGES),
            Col.OCCUPANCY: _enum(occup_raw, OCCUPANCIES),
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
        index=raw.index,
    )
    ids = gdf[Col.PLOT_ID]
    gdf = reject_rows(gdf, blank(ids), "pas de terr_id", ids, report)
    gdf = reject_rows(gdf, blank(gdf[Col.SITE_ID]), "pas de site_id", gdf[Col.PLOT_ID], report)
    for target, raw_values, field in (
        (Col.SERVICING_STAGE, stage_raw, "terr_stade_amngt"),
        (Col.OCCUPANCY, occup_raw, "terr_etat_occup"),
    ):
        bad = gdf[target].isna()
        for i in gdf.index[bad]:
            report.rows_rejected.append(
                (str(gdf.at[i, Col.PLOT_ID]), f"unknown {field} {raw_values[i]!r}")
            )
        gdf = gdf.loc[~bad]
    for field, target in (
        ("terr_m2_prix", Col.PRICE_EUR_M2),
        ("terr_surf_brute", Col.SURF_BRUTE_HA),
    ):
        values, text = numeric(col(field).loc[gdf.index])
        gdf = reject_rows(gdf, text, f"{field} non numérique", gdf[Col.PLOT_ID], report)
        values = values.loc[gdf.index]
        gdf = reject_rows(gdf, values < 0, f"{field} négatif", gdf[Col.PLOT_ID], report)
        gdf[target] = values.loc[gdf.index]
    gdf = reject_rows(
        gdf, _no_geometry(gdf), "géométrie absente ou illisible", gdf[Col.PLOT_ID], report
    )
    dup = gdf[Col.PLOT_ID].duplicated()
    gdf = reject_rows(
        gdf, dup, "terr_id en double (le premier est gardé)", gdf[Col.PLOT_ID], report
    )
    return validate_source("zae_plots", gdf, report, src)
