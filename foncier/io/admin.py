"""Communes and their EPCI membership.

Commune boundaries come from an Admin Express or GeoJSON file (``code``/``nom``
as in geo.api.gouv.fr and france-geojson, ``INSEE_COM``/``NOM`` as in IGN
Admin Express, ``id``/``nom`` as in the Etalab cadastre communes files).  The
EPCI of each commune comes from the file's ``SIREN_EPCI`` field (Admin
Express) or from the ``decoupage-administratif`` EPCI JSON (a list of EPCI
with their ``membres``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from foncier.errors import DataSourceError, LayerSchemaError
from foncier.io._common import (
    PathLike,
    blank,
    find_column,
    read_vector,
    reject_rows,
    validate_source,
)
from foncier.layers import Col, LoadReport, normalise_insee

import geopandas as gpd

__all__ = ["read_communes", "read_epci_membership"]

EPCI_NAME = "epci_name"


def read_epci_membership(path: PathLike) -> pd.DataFrame:
    """Read the ``decoupage-administratif`` EPCI JSON into one row per member commune.

    Parameters
    ----------
    path
        The ``epci.json`` file: a list of ``{"code": SIREN, "nom": ...,
        "membres": [{"code": INSEE, ...}, ...]}``.

    Returns
    -------
    pandas.DataFrame
        Columns ``insee``, ``epci`` (SIREN), ``epci_name``.

    Raises
    ------
    DataSourceError
        Unreadable or truncated JSON, or not a list of EPCI with members.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        msg = f"cannot read the EPCI file {path}: {exc.strerror or exc}"
        raise DataSourceError(msg) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"the EPCI file {path} is not valid JSON ({exc}); it may be truncated"
        raise DataSourceError(msg) from exc
    ok = isinstance(data, list) and all(
        isinstance(e, dict) and "code" in e and isinstance(e.get("membres"), list) for e in data
    )
    if not ok:
        msg = (
            f"{path}: expected the decoupage-administratif EPCI JSON, a list of objects with "
            "'code' (SIREN), 'nom' and 'membres' (list of {'code': INSEE, ...})"
        )
        raise DataSourceError(msg)
    rows = [
        (str(m.get("code", "")), str(e["code"]), str(e.get("nom", "")))
        for e in data
        for m in e["membres"]
    ]
    out = pd.DataFrame(rows, columns=[Col.INSEE, Col.EPCI, EPCI_NAME])
    out[Col.INSEE] = normalise_insee(out[Col.INSEE])
    return out


def read_communes(
    path: PathLike,
    *,
    epci_json: PathLike | None = None,
    epci: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read commune boundaries with their EPCI into the ``communes`` layer.

    Parameters
    ----------
    path
        Vector file of communes with ``code``/``nom``, ``INSEE_COM``/``NOM``
        or ``id``/``nom`` (case-insensitive).
    epci_json
        The ``decoupage-administratif`` EPCI JSON giving each commune's EPCI;
        without it the file's ``SIREN_EPCI``/``epci`` field is used.
    epci
        Keep only the member communes of this EPCI (SIREN).
    layer
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``communes`` layer (``insee``, ``name``, ``epci``, ``scot``,
        ``has_planning_doc``; then ``epci_name`` when known).  Communes
        without EPCI are rejected and listed in ``attrs["load_report"]``.

    Raises
    ------
    DataSourceError
        Unreadable file, no code or name field, or no EPCI source at all.
    """
    src = str(path)
    raw = read_vector(path, what="communes", layer=layer)
    report = LoadReport("communes", source=src, rows_read=len(raw))
    code = find_column(raw.columns, "code", "insee_com", "insee", "code_insee", "id", required=True, source=src)
    name = find_column(raw.columns, "nom", "nom_com", "name", "libelle", required=True, source=src)
    assert code is not None and name is not None
    gdf = gpd.GeoDataFrame(
        {Col.INSEE: normalise_insee(raw[code].astype(object)), Col.NAME: raw[name]},
        geometry=raw.geometry,
        crs=raw.crs,
    )
    gdf = reject_rows(gdf, blank(gdf[Col.INSEE]), "no INSEE code", gdf[Col.NAME], report)
    if epci_json is not None:
        members = read_epci_membership(epci_json).drop_duplicates(Col.INSEE).set_index(Col.INSEE)
        gdf[Col.EPCI] = gdf[Col.INSEE].map(members[Col.EPCI])
        gdf[EPCI_NAME] = gdf[Col.INSEE].map(members[EPCI_NAME])
        reason = f"not a member of any EPCI in {epci_json}"
    else:
        epci_col = find_column(raw.columns, "siren_epci", "epci", "code_epci")
        if epci_col is None:
            msg = (
                f"{src}: no EPCI for the communes: the file has no 'SIREN_EPCI'/'epci' field; "
                "give the decoupage-administratif EPCI JSON (--epci-json / epci_json=)"
            )
            raise DataSourceError(msg)
        gdf[Col.EPCI] = raw.loc[gdf.index, epci_col].astype(object)
        reason = f"no value in {epci_col}"
    gdf[Col.EPCI] = gdf[Col.EPCI].where(~blank(gdf[Col.EPCI]), None)
    if epci is not None:
        keep = gdf[Col.EPCI] == str(epci)
        if not keep.any():
            msg = f"{src}: no commune of the file belongs to EPCI {epci!r}"
            raise LayerSchemaError(msg)
        report.notes.append(f"{int((~keep).sum())} communes outside EPCI {epci} left out")
        gdf = gdf.loc[keep]
    gdf = reject_rows(gdf, gdf[Col.EPCI].isna(), reason, gdf[Col.INSEE], report)
    dup = gdf[Col.INSEE].duplicated()
    gdf = reject_rows(gdf, dup, "INSEE code given twice (first kept)", gdf[Col.INSEE], report)
    return validate_source("communes", gdf, report, src)
