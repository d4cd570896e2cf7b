"""Zoning from the Géoportail de l'Urbanisme (GPU): PLU ``zone_urba`` and carte communale sectors.

Field names are matched case-insensitively (GPU exports write ``LIBELLE``,
``TYPEZONE``, ``IDURBA``...).

Zone types (``typezone``) are mapped onto the five types of the CNIG PLU
standard, case-insensitively:

==========================  ==========
``typezone``                zone type
==========================  ==========
``U``                       ``U``
``AUc``                     ``AUc``
``AUs``                     ``AUs``
``A``, ``Ah``, ``Ac``...    ``A`` (sub-types of older standards, e.g. STECAL ``Ah``)
``N``, ``Nh``, ``Nd``,      ``N``
``Nco``...
==========================  ==========

A bare ``AU`` (constructible or not is unknown) or any other value rejects
the row with its value in the report.

Carte communale sectors (``typesect``) are mapped as follows:

==============  ==========  ============  ===========================================
``typesect``    zone type   ``destdomi``  meaning
==============  ==========  ============  ===========================================
``01``          ``U``       none          sector open to building
``02``          ``U``       ``02``        sector reserved for economic activities
``03``          ``N``       none          sector not open to building (A or N land;
                                          both are non-constructible, ``N`` is used)
``99``          rejected                  "other", no planning meaning
==============  ==========  ============  ===========================================

``destdomi`` of PLU zones is read as published (two-digit code, ``02`` =
economic activity) and left empty when the file has no such field: activity
zones are never guessed from their label.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from foncier.errors import DataSourceError
from foncier.io._common import (
    PathLike,
    as_paths,
    blank,
    find_column,
    read_vector,
    reject_rows,
    validate_source,
)
from foncier.layers import DESTDOMI_ACTIVITY, Col, LoadReport, normalise_insee

__all__ = ["SECTOR_ZONE_TYPES", "map_zone_type", "read_gpu_zoning"]

#: Carte communale ``typesect`` -> (zone type, destdomi).
SECTOR_ZONE_TYPES: dict[str, tuple[str, str | None]] = {
    "01": ("U", None),
    "02": ("U", DESTDOMI_ACTIVITY),
    "03": ("N", None),
}


def map_zone_type(values: pd.Series) -> pd.Series:
    """Map GPU ``typezone`` values (sub-types included) to the CNIG zone types.

    Parameters
    ----------
    values
        Raw ``typezone`` values, any case.

    Returns
    -------
    pandas.Series
        ``U``, ``AUc``, ``AUs``, ``A`` or ``N``; missing where the value has
        no unambiguous zone type.

    Examples
    --------
    >>> map_zone_type(pd.Series(["U", "auc", "AUs", "Ah", "Nco", "AU", "X"])).tolist()
    ['U', 'AUc', 'AUs', 'A', 'N', nan, nan]
    """
    v = values.astype(object).where(values.isna(), values.astype(str).str.strip().str.upper())
    is_au = v.str.startswith("AU").fillna(False).astype(bool)
    is_a = v.str.match(r"^A[A-Z0-9]*$").fillna(False).astype(bool) & ~is_au
    is_n = v.str.match(r"^N[A-Z0-9]*$").fillna(False).astype(bool)
    conditions = [v == "U", v == "AUC", v == "AUS", is_a, is_n]
    mapped = np.select(
        [c.to_numpy(dtype=bool) for c in conditions], ["U", "AUc", "AUs", "A", "N"], ""
    )
    return pd.Series(mapped, index=values.index, dtype=object).replace("", np.nan)


def _destdomi(s: pd.Series) -> pd.Series:
    code = normalise_insee(s.astype(object), width=2)
    return code.astype(object).where(~blank(code), None)


def _insee_from(raw: gpd.GeoDataFrame, idurba_col: str | None) -> pd.Series:
    insee_col = find_column(raw.columns, "insee", "code_insee", "inseecom")
    out = pd.Series(None, index=raw.index, dtype=object)
    if insee_col is not None:
        code = normalise_insee(raw[insee_col].astype(object))
        out = code.astype(object).where(~blank(code), None)
    if idurba_col is not None:
        # IDURBA = "<INSEE or SIREN>_<type>_<date>": a 5-character leading code is an INSEE code.
        lead = raw[idurba_col].astype(str).str.extract(r"^((?:\d{5}|2[AB]\d{3}))_", expand=False)
        out = out.where(out.notna(), lead)
    return out


def _read_one(path: PathLike, index_start: int) -> gpd.GeoDataFrame:
    raw = read_vector(path, what="GPU zoning")
    src = str(path)
    libelle = find_column(raw.columns, "libelle")
    typezone = find_column(raw.columns, "typezone")
    typesect = find_column(raw.columns, "typesect")
    if typezone is None and typesect is None:
        msg = (
            f"{src}: no 'typezone' (PLU zone_urba) nor 'typesect' (carte communale secteur_cc) "
            f"column, matched case-insensitively; columns found: "
            f"{[c for c in raw.columns if c != raw.geometry.name]}. Is this a GPU zoning file?"
        )
        raise DataSourceError(msg)
    idurba = find_column(raw.columns, "idurba")
    zone_id_col = find_column(raw.columns, "zone_id", "idzone")
    out = pd.DataFrame(index=raw.index)
    out[Col.INSEE] = _insee_from(raw, idurba)
    if typezone is not None:
        out[Col.ZONE_TYPE] = map_zone_type(raw[typezone])
        dest = find_column(raw.columns, "destdomi")
        out[Col.DESTDOMI] = _destdomi(raw[dest]) if dest is not None else None
        out["typezone"] = raw[typezone]
        label = raw[libelle] if libelle is not None else raw[typezone]
    else:
        assert typesect is not None
        sect = normalise_insee(raw[typesect].astype(object), width=2)
        out[Col.ZONE_TYPE] = sect.map(lambda s: SECTOR_ZONE_TYPES.get(s, (None, None))[0])
        out[Col.DESTDOMI] = sect.map(lambda s: SECTOR_ZONE_TYPES.get(s, (None, None))[1])
        out["typesect"] = sect
        label = raw[libelle] if libelle is not None else "secteur " + sect
    out[Col.LIBELLE] = label.astype(object).where(~blank(label), None)
    out["idurba"] = raw[idurba] if idurba is not None else None
    libelong = find_column(raw.columns, "libelong")
    if libelong is not None:
        out["libelong"] = raw[libelong]
    if zone_id_col is not None:
        zid = raw[zone_id_col].astype(object).where(~blank(raw[zone_id_col]), None)
        out[Col.ZONE_ID] = zid.map(lambda z: None if z is None else str(z))
    else:
        doc = out["idurba"].fillna(out[Col.INSEE]).fillna("zone").astype(str)
        lib = out[Col.LIBELLE].fillna("").astype(str)
        rank = pd.Series(np.arange(index_start, index_start + len(raw)), index=raw.index)
        out[Col.ZONE_ID] = doc + ":" + lib + ":" + rank.astype(str)
    out["_source"] = src
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.to_numpy(), crs=raw.crs)
    return gdf


def read_gpu_zoning(
    paths: PathLike | Sequence[PathLike],
    *,
    communes: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Read GPU ``zone_urba`` (PLU/PLUi) or carte communale sector files into ``plu_zones``.

    Parameters
    ----------
    paths
        One file or several (shapefile, GeoPackage, GeoJSON...), PLU zones
        and carte communale sectors may be mixed.
    communes
        Optional communes layer: zones without an INSEE code (``insee``
        field absent and ``IDURBA`` led by an EPCI SIREN, as in PLUi) get
        the commune containing their representative point.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``plu_zones`` layer (``zone_id``, ``insee``, ``libelle``,
        ``zone_type``, ``destdomi``; then ``typezone`` or ``typesect`` as
        published, ``idurba``, ``libelong``).  ``zone_id`` is the file's
        ``zone_id``/``idzone`` if any, else ``{idurba}:{libelle}:{n}``
        (``n`` = position of the zone among all files read).  Rows with an
        unknown zone type, no label or no commune are rejected and listed
        in ``attrs["load_report"]``; the mapping of sub-types and sectors is
        in this module's documentation.

    Raises
    ------
    DataSourceError
        Unreadable file, or a file with neither ``typezone`` nor ``typesect``.
    LayerSchemaError, CRSError, GeometryError
        See :func:`foncier.layers.validate_layer`.
    """
    files = as_paths(paths)
    frames: list[gpd.GeoDataFrame] = []
    start = 0
    for p in files:
        gdf = _read_one(p, start)
        start += len(gdf)
        frames.append(gdf.to_crs(frames[0].crs) if frames and gdf.crs is not None else gdf)
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    report = LoadReport("plu_zones", source=", ".join(map(str, files)), rows_read=len(gdf))
    if communes is not None and gdf[Col.INSEE].isna().any() and len(communes):
        gdf = _insee_from_communes(gdf, communes)
    none = pd.Series(None, index=gdf.index, dtype=object)
    raw_type = gdf.get("typezone", none).astype(object)
    raw_type = raw_type.where(raw_type.notna(), gdf.get("typesect", none).astype(object))
    unknown = gdf[Col.ZONE_TYPE].isna()
    for i in gdf.index[unknown]:
        report.rows_rejected.append(
            (str(gdf.at[i, Col.ZONE_ID]), f"unknown zone type {raw_type[i]!r}")
        )
    gdf = gdf.loc[~unknown]
    gdf = reject_rows(gdf, gdf[Col.LIBELLE].isna(), "no libelle", gdf[Col.ZONE_ID], report)
    gdf = reject_rows(
        gdf,
        gdf[Col.INSEE].isna(),
        "no commune (no insee field, IDURBA not led by an INSEE code; pass communes=)",
        gdf[Col.ZONE_ID],
        report,
    )
    gdf = reject_rows(gdf, gdf[Col.ZONE_ID].isna(), "no zone id", gdf[Col.ZONE_ID], report).drop(
        columns="_source"
    )
    if gdf[Col.DESTDOMI].isna().all() and len(gdf):
        report.notes.append(
            "no destdomi in the file: activity zones (destdomi 02) cannot be identified"
        )
    return validate_source("plu_zones", gdf, report, files)


def _insee_from_communes(gdf: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill missing INSEE codes with the commune holding each zone's representative point."""
    points = gpd.GeoDataFrame(
        geometry=gdf.geometry.representative_point().to_crs(communes.crs), index=gdf.index
    )
    joined = gpd.sjoin(points, communes[[Col.INSEE, "geometry"]], predicate="within", how="left")
    found = joined[~joined.index.duplicated()][Col.INSEE]
    gdf = gdf.copy()
    gdf[Col.INSEE] = gdf[Col.INSEE].where(gdf[Col.INSEE].notna(), found)
    return gdf
