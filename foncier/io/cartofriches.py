"""Friches from Cartofriches (Cerema), in the CNIG Friches standard.

Cartofriches publishes friches as polygons where their outline is known and,
in its national table, as points (``Long``/``Lat``) with a declared surface
``site_surface`` (m²) and the cadastral parcels of the site in ``l_idpar``
(``{idu,idu,...}``).  A point friche gets its land from those parcels when
the parcels are loaded (all of them must be found; ``footprint = "parcels"``);
otherwise it stays a point with ``surface_m2`` = ``site_surface``,
``approximate = True`` and ``footprint = "approximate"`` (the supply step
draws it as a disc of that surface, and every output says the footprint is
approximate).  A polygon friche keeps its outline (``footprint = "declared"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier._format import fr_number
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
from foncier.layers import (
    FOOTPRINT_APPROXIMATE,
    FOOTPRINT_DECLARED,
    FOOTPRINT_PARCELS,
    FRICHE_STATUSES,
    Col,
    LoadReport,
    normalise_insee,
)

__all__ = ["parcel_footprints", "parse_idpar_list", "read_cartofriches"]


def parse_idpar_list(values: pd.Series) -> pd.Series:
    """Split Cartofriches ``l_idpar`` values (``{idu,idu}``) into lists of parcel ids.

    Parameters
    ----------
    values
        Raw ``l_idpar`` values; braces, quotes, spaces, ``,``/``;``/``|``
        separators are accepted.

    Returns
    -------
    pandas.Series
        A list of upper-case ids per row (empty when missing).

    Examples
    --------
    >>> parse_idpar_list(pd.Series(["{301140000W0256,30114000AB0012}", None])).tolist()
    [['301140000W0256', '30114000AB0012'], []]
    """
    text = values.astype(object).where(~blank(values), "").astype(str)
    cleaned = text.str.upper().str.replace(r"[{}\[\]\"' ]", "", regex=True)
    return cleaned.str.split(r"[,;|]").map(lambda ids: [i for i in ids if i])


def parcel_footprints(
    idpar: pd.Series, parcels: gpd.GeoDataFrame
) -> tuple[gpd.GeoSeries, pd.Index]:
    """The land of friches from their listed cadastral parcels.

    The id lists are exploded, joined on the parcels' ``idu`` and the
    parcels of each friche dissolved: no loop over friches.

    Parameters
    ----------
    idpar
        A list of parcel ids per friche (see :func:`parse_idpar_list`).
    parcels
        The ``parcels`` layer.

    Returns
    -------
    land : geopandas.GeoSeries
        Union of the parcels, in the parcels' CRS, for the friches whose
        listed parcels are all loaded (indexed like ``idpar``).
    partial : pandas.Index
        The friches only some of whose parcels are loaded (they keep no land:
        a part of a site is not its footprint).

    Examples
    --------
    >>> import shapely
    >>> parcels = gpd.GeoDataFrame(
    ...     {"idu": ["30007000AB0001", "30007000AB0002"]},
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
    ...     crs="EPSG:2154",
    ... )
    >>> ids = pd.Series([["30007000AB0001", "30007000AB0002"], ["30007000AB0009"]])
    >>> land, partial = parcel_footprints(ids, parcels)
    >>> land.area.tolist(), list(partial)
    ([200.0], [])
    """
    exploded = idpar.explode().dropna()
    pairs = pd.DataFrame({"row": exploded.index, Col.IDU: exploded.to_numpy()})
    empty = gpd.GeoSeries([], crs=parcels.crs, index=idpar.index[:0])
    if pairs.empty or parcels.empty:
        return empty, idpar.index[:0]
    geom = parcels.drop_duplicates(Col.IDU).set_index(Col.IDU).geometry
    pairs["found"] = pairs[Col.IDU].isin(geom.index)
    by_row = pairs.groupby("row")["found"]
    complete, some = by_row.all(), by_row.any()
    partial = complete.index[~complete & some]
    sel = pairs[pairs["row"].isin(complete.index[complete])]
    if sel.empty:
        return empty, partial
    pieces = gpd.GeoDataFrame(
        {"row": sel["row"].to_numpy()}, geometry=geom.loc[sel[Col.IDU]].to_numpy(), crs=parcels.crs
    )
    land = pieces.dissolve(by="row").geometry
    land.index.name = idpar.index.name
    return land, partial


def _parcel_land(
    gdf: gpd.GeoDataFrame, idpar: pd.Series, parcels: gpd.GeoDataFrame, report: LoadReport
) -> gpd.GeoDataFrame:
    """Replace point geometries by the union of their listed parcels, when all are loaded."""
    land, partial = parcel_footprints(idpar, parcels)
    if len(partial):
        report.notes.append(
            f"{fr_number(len(partial), 0)} friche(s) ponctuelle(s) gardent leur point : seule une "
            "partie de leurs parcelles est chargée"
        )
    if land.empty:
        return gdf
    land = land.to_crs(gdf.crs)
    gdf = gdf.copy()
    geoms = gdf.geometry.to_numpy().copy()
    geoms[gdf.index.get_indexer(land.index)] = land.to_numpy()
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    gdf.loc[land.index, Col.APPROXIMATE] = False
    gdf.loc[land.index, Col.FOOTPRINT] = FOOTPRINT_PARCELS
    gdf.loc[land.index, Col.SURFACE_M2] = land.to_crs(2154).area
    report.notes.append(
        f"{fr_number(len(land), 0)} friche(s) ponctuelle(s) prennent leur emprise dans leurs "
        "parcelles cadastrales"
    )
    return gdf


def _read_friches(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Read a vector file, or a CSV with ``Long``/``Lat`` columns (EPSG:4326)."""
    if path.suffix.lower() != ".csv":
        return read_vector(path, what="Cartofriches", layer=layer)
    if not path.is_file():
        msg = f"le fichier Cartofriches {path} n'existe pas"
        raise DataSourceError(msg)
    table = read_csv_table(path, "Cartofriches")
    src = str(path)
    lon = find_column(table.columns, "long", "lon", "longitude", required=True, source=src)
    lat = find_column(table.columns, "lat", "latitude", required=True, source=src)
    assert lon is not None and lat is not None
    x, _ = numeric(table[lon])
    y, _ = numeric(table[lat])
    points = gpd.points_from_xy(x, y)
    points[(x.isna() | y.isna()).to_numpy()] = None
    return gpd.GeoDataFrame(table, geometry=points, crs="EPSG:4326")


def read_cartofriches(
    path: PathLike,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    insee: Iterable[str] | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a Cartofriches / CNIG Friches file into the ``friches`` layer.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, shapefile... of friches (points or polygons),
        or a CSV with ``Long``/``Lat`` columns (EPSG:4326), with the CNIG
        fields ``site_id``, ``site_nom``, ``site_statut``, ``site_surface``,
        ``comm_insee``, ``sol_pollution_existe``, ``urba_zone_type``,
        ``l_idpar`` (matched case-insensitively).
    parcels
        The ``parcels`` layer: a point friche whose ``l_idpar`` parcels are
        all in it takes their union as its land.
    insee
        Keep only the friches of these communes (the others are counted in
        the notes).
    layer
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``friches`` layer (``site_id``, ``name``, ``insee``, ``status``,
        ``pollution``, ``zone_type``, ``surface_m2``, ``approximate``,
        ``footprint``; then ``l_idpar`` as published).  ``surface_m2`` is the polygon's area in
        EPSG:2154 for polygons and parcel land, ``site_surface`` for points.
        ``approximate`` is ``True`` for friches kept as points;
        ``footprint`` is ``parcels``, ``declared`` or ``approximate``.
        ``attrs["load_report"]`` lists rows rejected (no id, unknown status,
        no commune, non-numeric or negative surface, duplicate id).

    Raises
    ------
    DataSourceError
        Unreadable file, or a missing ``site_id`` / ``site_statut`` /
        ``comm_insee`` field.
    CRSError, GeometryError
        See :func:`foncier.layers.validate_layer`.
    """
    raw = _read_friches(Path(path), layer)
    src = str(path)
    report = LoadReport("friches", source=src, rows_read=len(raw))
    col = column_getter(raw, src)

    gdf = gpd.GeoDataFrame(
        {
            Col.SITE_ID: col("site_id", required=True),
            Col.NAME: col("site_nom", "nom", "name"),
            Col.INSEE: normalise_insee(col("comm_insee", "insee", required=True).astype(object)),
            Col.STATUS: col("site_statut", "statut", required=True),
            Col.POLLUTION: col("sol_pollution_existe", "pollution"),
            Col.ZONE_TYPE: col("urba_zone_type", "zone_type"),
            "l_idpar": col("l_idpar"),
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
        index=raw.index,
    )
    ids = gdf[Col.SITE_ID].astype(object).where(~blank(gdf[Col.SITE_ID]), None)
    gdf[Col.SITE_ID] = ids.map(lambda v: None if v is None else str(v).strip())
    gdf = reject_rows(gdf, gdf[Col.SITE_ID].isna(), "pas de site_id", gdf[Col.SITE_ID], report)
    status = (
        gdf[Col.STATUS].astype(object).where(gdf[Col.STATUS].isna(), gdf[Col.STATUS].astype(str))
    )
    gdf[Col.STATUS] = status.str.strip().str.lower()
    bad = ~gdf[Col.STATUS].isin(FRICHE_STATUSES)
    for i in gdf.index[bad]:
        report.rows_rejected.append((str(gdf.at[i, Col.SITE_ID]), f"unknown status {status[i]!r}"))
    gdf = gdf.loc[~bad]
    gdf = reject_rows(gdf, blank(gdf[Col.INSEE]), "pas de comm_insee", gdf[Col.SITE_ID], report)
    surface, text = numeric(col("site_surface", "surface_m2").loc[gdf.index])
    gdf = reject_rows(gdf, text, "site_surface non numérique", gdf[Col.SITE_ID], report)
    surface = surface.loc[gdf.index]
    gdf = reject_rows(gdf, surface < 0, "site_surface négative", gdf[Col.SITE_ID], report)
    gdf[Col.SURFACE_M2] = surface.loc[gdf.index]
    geoms = gdf.geometry.to_numpy()
    missing = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=gdf.index)
    gdf = reject_rows(gdf, missing, "pas de géométrie", gdf[Col.SITE_ID], report)
    dup = gdf[Col.SITE_ID].duplicated()
    gdf = reject_rows(
        gdf, dup, "site_id en double (le premier est gardé)", gdf[Col.SITE_ID], report
    )
    if insee is not None:
        keep = gdf[Col.INSEE].isin(set(insee))
        if (~keep).any():
            report.rows_read -= int((~keep).sum())
            report.notes.append(
                f"{fr_number(int((~keep).sum()), 0)} friche(s) hors des communes "
                "demandées écartée(s)"
            )
        gdf = gdf.loc[keep]
    is_point = gdf.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    gdf[Col.APPROXIMATE] = is_point
    gdf[Col.FOOTPRINT] = np.where(is_point, FOOTPRINT_APPROXIMATE, FOOTPRINT_DECLARED)
    if (~is_point).any() and gdf.crs is not None:
        area = gdf.geometry[~is_point].to_crs(2154).area
        gdf.loc[~is_point, Col.SURFACE_M2] = area
    if parcels is not None and is_point.any() and len(parcels) and gdf.crs is not None:
        idpar = parse_idpar_list(gdf.loc[is_point, "l_idpar"])
        gdf = _parcel_land(gdf, idpar, parcels, report)
    n_points = int(np.asarray(gdf[Col.APPROXIMATE]).sum())
    if n_points:
        report.notes.append(
            f"{fr_number(n_points, 0)} friche(s) gardée(s) en points avec leur surface déclarée "
            "(approximative)"
        )
    return validate_source("friches", gdf, report, src)
