"""Etalab cadastre parcels (cadastre.data.gouv.fr, from the DGFiP PCI vecteur).

Etalab publishes one GeoJSON per commune (``cadastre-{insee}-parcelles.json.gz``,
EPSG:4326) whose features carry ``id`` (the 14-character parcel id, ``idu``),
``commune``, ``prefixe``, ``section``, ``numero``, ``contenance`` (the tax
area in m²), ``arpente``, ``created`` and ``updated``.  foncier keeps
``contenance`` as ``contenance_m2`` and adds beside it the geometric area
``area_m2`` measured in EPSG:2154: the two differ (the tax area is a declared
figure), and the land supply works on geometries.

The buildings of the same distribution (``cadastre-{insee}-batiments.json``,
the PCI ``BATIMENT`` objects: ``type`` = ``01`` bâti dur or ``02`` bâti
léger, ``nom``, ``commune``, ``created``, ``updated``) are read by
:func:`read_buildings`; exports of the PCI itself name the type ``DUR``.
They say which parcels are built (:mod:`foncier.land_cover`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier._format import fr_number
from foncier.errors import CRSError
from foncier.io._common import (
    PathLike,
    as_paths,
    blank,
    find_column,
    numeric,
    read_surfaces,
    read_vector,
    reject_rows,
    validate_source,
)
from foncier.layers import CRS_L93, IDU_RE, Col, LoadReport, normalise_insee

__all__ = ["BUILDING_TYPE", "read_buildings", "read_cadastre"]

#: Column of :func:`read_buildings`: ``01`` bâti dur, ``02`` bâti léger (PCI ``DUR``).
BUILDING_TYPE = "building_type"


def _read_one(path: PathLike) -> gpd.GeoDataFrame:
    raw = read_vector(path, what="cadastre")
    src = str(path)
    id_col = find_column(raw.columns, "id", "idu", "id_par", required=True, source=src)
    assert id_col is not None
    columns = {
        Col.IDU: id_col,
        Col.INSEE: find_column(raw.columns, "commune", "insee", "code_insee"),
        Col.SECTION: find_column(raw.columns, "section", required=True, source=src),
        Col.NUMERO: find_column(raw.columns, "numero", required=True, source=src),
        Col.CONTENANCE_M2: find_column(raw.columns, "contenance", "contenance_m2"),
        "prefixe": find_column(raw.columns, "prefixe"),
        "arpente": find_column(raw.columns, "arpente"),
    }
    out = pd.DataFrame(index=raw.index)
    for name, col in columns.items():
        out[name] = raw[col] if col is not None else pd.NA
    out["_source"] = src
    return gpd.GeoDataFrame(out, geometry=raw.geometry.to_numpy(), crs=raw.crs)


def read_cadastre(
    paths: PathLike | Sequence[PathLike], *, insee: Iterable[str] | None = None
) -> gpd.GeoDataFrame:
    """Read Etalab cadastre parcel files (GeoJSON or GeoJSON.gz) into the parcels layer.

    Parameters
    ----------
    paths
        One file or several (e.g. one per commune); any vector format GDAL
        reads, ``.gz`` files are read through ``/vsigzip/``.  Field names are
        matched case-insensitively.
    insee
        Keep only the parcels of these communes (the others are counted in
        the report's notes, not rejected).

    Returns
    -------
    geopandas.GeoDataFrame
        The ``parcels`` layer in EPSG:2154 with ``idu`` (from ``id``),
        ``insee`` (from ``commune``, else the first 5 characters of ``id``),
        ``section``, ``numero``, ``contenance_m2`` (the tax area) and, after
        them, ``area_m2`` (geometric area in EPSG:2154), ``prefixe`` and
        ``arpente``.  ``attrs["load_report"]`` lists the rejected rows:
        missing or malformed ``id``, non-numeric or negative ``contenance``,
        missing geometry, a parcel given twice (first kept).

    Raises
    ------
    DataSourceError
        Missing, empty, truncated or corrupt file, or a file without the
        ``id``, ``section`` or ``numero`` fields.
    CRSError
        A file without CRS or lying outside metropolitan France.

    Examples
    --------
    Not run as a doctest: it needs an Etalab cadastre file, which is not shipped.

    >>> parcels = read_cadastre(["cadastre-91027-parcelles.json.gz"])  # doctest: +SKIP
    >>> parcels[["idu", "contenance_m2", "area_m2"]].head()  # doctest: +SKIP
    """
    files = as_paths(paths)
    frames = [_read_one(p) for p in files]
    crs = frames[0].crs
    frames = [f.to_crs(crs) if f.crs is not None and f.crs != crs else f for f in frames]
    raw = pd.concat(frames, ignore_index=True)
    gdf = gpd.GeoDataFrame(raw, geometry="geometry", crs=crs)
    report = LoadReport("parcels", source=", ".join(str(p) for p in files), rows_read=len(gdf))
    idu = gdf[Col.IDU].astype(object).where(gdf[Col.IDU].isna(), gdf[Col.IDU].astype(str))
    idu = idu.str.strip().str.upper()
    gdf[Col.IDU] = idu
    gdf = reject_rows(
        gdf, blank(gdf[Col.IDU]), "identifiant de parcelle manquant", gdf[Col.IDU], report
    )
    malformed = ~gdf[Col.IDU].str.match(IDU_RE)
    gdf = reject_rows(
        gdf,
        malformed,
        "identifiant de parcelle mal formé (14 caractères attendus)",
        gdf[Col.IDU],
        report,
    )
    commune = normalise_insee(gdf[Col.INSEE].astype(object))
    gdf[Col.INSEE] = commune.where(~blank(commune), gdf[Col.IDU].str[:5])
    area, text = numeric(gdf[Col.CONTENANCE_M2])
    gdf = reject_rows(gdf, text, "contenance non numérique", gdf[Col.IDU], report)
    area = area.loc[gdf.index]
    gdf = reject_rows(gdf, area < 0, "contenance négative", gdf[Col.IDU], report)
    gdf[Col.CONTENANCE_M2] = area.loc[gdf.index]
    geoms = gdf.geometry.to_numpy()
    no_geom = pd.Series(shapely.is_missing(geoms) | shapely.is_empty(geoms), index=gdf.index)
    gdf = reject_rows(gdf, no_geom, "pas de géométrie", gdf[Col.IDU], report)
    dup = gdf[Col.IDU].duplicated(keep="first")
    gdf = reject_rows(gdf, dup, "parcelle en double (la première est gardée)", gdf[Col.IDU], report)
    if insee is not None:
        keep = gdf[Col.INSEE].isin(set(insee))
        if (~keep).any():
            report.rows_read -= int((~keep).sum())
            report.notes.append(
                f"{fr_number(int((~keep).sum()), 0)} parcelle(s) hors des communes "
                "demandées écartée(s)"
            )
        gdf = gdf.loc[keep]
    gdf = gdf.drop(columns="_source")
    for col in (Col.SECTION, Col.NUMERO, "prefixe"):
        gdf[col] = gdf[col].astype(object).where(gdf[col].isna(), gdf[col].astype(str).str.strip())
    report.notes.append(
        "owner_kind et land_cover ne sont pas dans le cadastre : propriétaire et couverture "
        "« unknown » (inconnus) jusqu'à ce que le bâti, l'OCS GE ou les terrains de ZAE disent "
        "la couverture ; une couverture inconnue compte comme ENAF par défaut "
        "(unknown_land_cover du jeu de règles)"
    )
    out = validate_source("parcels", gdf, report, files)
    out.insert(out.columns.get_loc(Col.CONTENANCE_M2) + 1, Col.AREA_M2, out.geometry.area)
    return out


def _read_buildings_one(path: PathLike) -> gpd.GeoDataFrame:
    raw = read_vector(path, what="des bâtiments du cadastre")
    src = str(path)
    if raw.crs is None:
        msg = (
            f"{src} : le fichier des bâtiments n'a pas de SCR ; les fichiers Etalab sont en "
            "EPSG:4326 (GeoJSON)"
        )
        raise CRSError(msg)
    kind = find_column(raw.columns, "type", "dur")
    codes = (
        normalise_insee(raw[kind].astype(object), width=2)
        if kind is not None
        else pd.Series(None, index=raw.index, dtype=object)
    )
    out = gpd.GeoDataFrame(
        {BUILDING_TYPE: codes.astype(object).where(~blank(codes), None).to_numpy()},
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    return out.to_crs(CRS_L93)


def read_buildings(paths: PathLike | Sequence[PathLike]) -> gpd.GeoDataFrame:
    """Read cadastre building files (Etalab ``cadastre-{insee}-batiments.json`` or PCI exports).

    Parameters
    ----------
    paths
        One file or several; any vector format GDAL reads, ``.gz`` included.
        The type of building is read from ``type`` (Etalab) or ``DUR`` (PCI),
        matched case-insensitively, and may be absent.

    Returns
    -------
    geopandas.GeoDataFrame
        ``building_type`` (``01`` bâti dur, ``02`` bâti léger, or missing) and
        the footprint polygon, in EPSG:2154; invalid footprints repaired,
        features without a polygonal footprint rejected and counted in
        ``attrs["load_report"]``.

    Raises
    ------
    DataSourceError
        Missing, empty or corrupt file.
    CRSError
        A file without CRS.
    """
    gdf, geoms, polygonal, report = read_surfaces(as_paths(paths), _read_buildings_one, "buildings")
    report.rows_rejected.extend(
        (f"bâtiment {i}", "pas d'emprise surfacique") for i in np.flatnonzero(~polygonal)
    )
    out = gpd.GeoDataFrame(
        {BUILDING_TYPE: gdf[BUILDING_TYPE].to_numpy()[polygonal]},
        geometry=geoms[polygonal],
        crs=CRS_L93,
    )
    out.attrs["load_report"] = report
    return out
