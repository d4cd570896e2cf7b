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
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from foncier._format import fr_number
from foncier.errors import DataSourceError, LayerSchemaError
from foncier.io._common import (
    PathLike,
    as_paths,
    blank,
    check_content,
    find_column,
    read_vector,
    reject_rows,
    validate_source,
)
from foncier.layers import Col, LoadReport, normalise_insee

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
    check_content(path, "EPCI", {"json"})
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        msg = f"impossible de lire le fichier des EPCI {path} : {exc.strerror or exc}"
        raise DataSourceError(msg) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = (
            f"le fichier des EPCI {path} n'est pas un JSON valide ({exc}) ; "
            "il est peut-être tronqué"
        )
        raise DataSourceError(msg) from exc
    ok = isinstance(data, list) and all(
        isinstance(e, dict) and "code" in e and isinstance(e.get("membres"), list) for e in data
    )
    if not ok:
        msg = (
            f"{path} : attendu le JSON des EPCI de decoupage-administratif, une liste d'objets "
            "avec 'code' (SIREN), 'nom' et 'membres' (liste de {'code': INSEE, ...})"
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


def _read_boundaries(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    src = str(path)
    raw = read_vector(path, what="des communes", layer=layer)
    code = find_column(
        raw.columns, "code", "insee_com", "insee", "code_insee", "id", required=True, source=src
    )
    name = find_column(raw.columns, "nom", "nom_com", "name", "libelle", required=True, source=src)
    epci_col = find_column(raw.columns, "siren_epci", "epci", "code_epci", "codeepci")
    assert code is not None and name is not None
    return gpd.GeoDataFrame(
        {
            Col.INSEE: normalise_insee(raw[code].astype(object)),
            Col.NAME: raw[name],
            Col.EPCI: raw[epci_col].astype(object) if epci_col is not None else None,
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )


def read_communes(
    paths: PathLike | Sequence[PathLike],
    *,
    epci_json: PathLike | None = None,
    epci: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read commune boundaries with their EPCI into the ``communes`` layer.

    Parameters
    ----------
    paths
        Vector file(s) of communes with ``code``/``nom``, ``INSEE_COM``/``NOM``
        or ``id``/``nom`` (case-insensitive).
    epci_json
        The ``decoupage-administratif`` EPCI JSON giving each commune's EPCI;
        without it the file's ``SIREN_EPCI`` (Admin Express), ``codeEpci``
        (geo.api.gouv.fr) or ``epci`` field is used.
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
    LayerSchemaError
        No commune belongs to ``epci``.
    """
    files = as_paths(paths)
    src = ", ".join(map(str, files))
    frames = [_read_boundaries(p, layer) for p in files]
    crs = frames[0].crs
    gdf = gpd.GeoDataFrame(
        pd.concat(
            [f.to_crs(crs) if f.crs is not None and crs is not None else f for f in frames],
            ignore_index=True,
        ),
        crs=crs,
    )
    report = LoadReport("communes", source=src, rows_read=len(gdf))
    gdf = reject_rows(gdf, blank(gdf[Col.INSEE]), "pas de code INSEE", gdf[Col.NAME], report)
    if epci_json is not None:
        members = read_epci_membership(epci_json).drop_duplicates(Col.INSEE).set_index(Col.INSEE)
        gdf[Col.EPCI] = gdf[Col.INSEE].map(members[Col.EPCI])
        gdf[EPCI_NAME] = gdf[Col.INSEE].map(members[EPCI_NAME])
        reason = f"not a member of any EPCI in {epci_json}"
    elif gdf[Col.EPCI].isna().all():
        msg = (
            f"{src} : aucun EPCI pour les communes : pas de champ 'SIREN_EPCI'/'epci' ; "
            "donnez le JSON des EPCI de decoupage-administratif (--epci-json / epci_json=)"
        )
        raise DataSourceError(msg)
    else:
        reason = "pas d'EPCI dans le fichier"
    gdf[Col.EPCI] = gdf[Col.EPCI].where(~blank(gdf[Col.EPCI]), None)
    if epci is not None:
        keep = gdf[Col.EPCI] == str(epci)
        if not keep.any():
            msg = f"{src} : aucune commune du fichier n'appartient à l'EPCI {epci!r}"
            raise LayerSchemaError(msg)
        report.rows_read -= int((~keep).sum())
        report.notes.append(
            f"{fr_number(int((~keep).sum()), 0)} commune(s) hors de l'EPCI {epci} écartée(s)"
        )
        gdf = gdf.loc[keep]
    gdf = reject_rows(gdf, gdf[Col.EPCI].isna(), reason, gdf[Col.INSEE], report)
    dup = gdf[Col.INSEE].duplicated()
    gdf = reject_rows(
        gdf, dup, "code INSEE en double (le premier est gardé)", gdf[Col.INSEE], report
    )
    return validate_source("communes", gdf, report, files)
