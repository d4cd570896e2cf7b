"""Constraints (PPRI, Natura 2000, ZNIEFF...) and infrastructure from any vector file.

A constraint file is any polygon layer; the caller says which constraint kind
its features are, either one kind for the whole file (a Natura 2000 layer) or
a mapping from the values of one field to kinds (a PPRI layer whose ``zone``
field holds ``rouge`` / ``bleu``).  The effect of a kind on land supply
defaults to :data:`DEFAULT_EFFECTS`: red PPRI zones and Natura 2000 sites
exclude land, every other kind penalises it.

Infrastructure files are points or lines of one kind each (motorway
interchanges, freight stations, substations...).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from foncier.errors import LayerSchemaError
from foncier.io._common import (
    PathLike,
    blank,
    find_column,
    read_vector,
    reject_rows,
    validate_source,
)
from foncier.layers import CONSTRAINT_EFFECTS, CONSTRAINT_KINDS, INFRA_KINDS, Col, LoadReport

__all__ = ["DEFAULT_EFFECTS", "read_constraints", "read_infrastructure"]

#: Effect of each constraint kind when none is given.
DEFAULT_EFFECTS: dict[str, str] = {
    kind: "exclude" if kind in ("ppri_red", "natura2000") else "penalise"
    for kind in CONSTRAINT_KINDS
}
#: Fields tried, in order, for a feature's identifier and name.
_ID_FIELDS = (
    "id", "sitecode", "code_natio", "id_mnhn", "code", "code poste", "gid", "fid", "osm_id"
)  # fmt: skip
_NAME_FIELDS = ("name", "nom", "sitename", "nom_znieff", "nom_site", "nom poste", "libelle", "lib")


def _check_kind(kind: str, allowed: tuple[str, ...], what: str) -> None:
    if kind not in allowed:
        msg = f"type {what} inconnu {kind!r} ; valeurs possibles {list(allowed)}"
        raise LayerSchemaError(msg)


def _ids_and_names(raw: gpd.GeoDataFrame, prefix: str) -> tuple[pd.Series, pd.Series]:
    id_col = find_column(raw.columns, *_ID_FIELDS)
    name_col = find_column(raw.columns, *_NAME_FIELDS)
    position = pd.Series(range(len(raw)), index=raw.index).astype(str)
    if id_col is not None:
        own = raw[id_col].astype(object).where(~blank(raw[id_col]), None)
        local = own.map(lambda v: None if v is None else str(v).strip()).fillna(position)
        # A file's identifiers are not always unique (a site cut in several polygons).
        dup = local.duplicated(keep=False)
        local = local.where(~dup, local + "-" + position)
    else:
        local = position
    names = raw[name_col] if name_col is not None else pd.Series(None, index=raw.index)
    return prefix + ":" + local, names


def read_constraints(
    path: PathLike,
    kind: str | Mapping[str, str],
    *,
    field: str | None = None,
    effect: str | Mapping[str, str] | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon file of regulatory or environmental constraints.

    Parameters
    ----------
    path
        Any vector file of polygons.
    kind
        The constraint kind of every feature (one of
        :data:`foncier.layers.CONSTRAINT_KINDS`), or a mapping from the
        values of ``field`` to kinds, e.g. ``{"rouge": "ppri_red", "bleu":
        "ppri_blue"}`` (values matched ignoring case).
    field
        The field holding the values mapped by ``kind`` (case-insensitive);
        required when ``kind`` is a mapping.
    effect
        ``exclude`` or ``penalise`` for every feature, or per kind;
        :data:`DEFAULT_EFFECTS` otherwise.
    layer
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``constraints`` layer: ``constraint_id`` = ``{kind}:{feature id}``
        (the file's ``SITECODE``, ``CODE_NATIO``, ``id``... or the feature's
        position), ``kind``, ``effect``, ``name`` (``SITENAME``,
        ``NOM_ZNIEFF``, ``nom``...).  Features whose ``field`` value is not
        in the mapping are rejected and listed in ``attrs["load_report"]``.

    Raises
    ------
    LayerSchemaError
        An unknown kind or effect, or a mapping without ``field``.
    DataSourceError
        Unreadable file, or ``field`` absent from it.

    Examples
    --------
    Not run as doctests: they need the published files, which are not shipped.

    >>> read_constraints("natura2000.geojson", "natura2000")  # doctest: +SKIP
    >>> kinds = {"R": "ppri_red", "B": "ppri_blue"}
    >>> read_constraints("ppri.shp", kinds, field="zone")  # doctest: +SKIP
    """
    src = str(path)
    kinds = [kind] if isinstance(kind, str) else list(kind.values())
    for k in kinds:
        _check_kind(k, CONSTRAINT_KINDS, "de contrainte")
    if not isinstance(kind, str) and field is None:
        msg = (
            "une correspondance entre valeurs et types de contrainte demande field=, le champ "
            "qui porte ces valeurs"
        )
        raise LayerSchemaError(msg)
    raw = read_vector(path, what="des contraintes", layer=layer)
    report = LoadReport("constraints", source=src, rows_read=len(raw))
    if isinstance(kind, str):
        kinds_of = pd.Series(kind, index=raw.index, dtype=object)
    else:
        assert field is not None
        col = find_column(raw.columns, field, required=True, source=src)
        assert col is not None
        lookup = {str(k).strip().lower(): v for k, v in kind.items()}
        values = raw[col].astype(object).where(raw[col].isna(), raw[col].astype(str).str.strip())
        kinds_of = values.str.lower().map(lookup)
        for i in raw.index[kinds_of.isna()]:
            report.rows_rejected.append((str(i), f"{col} value {values[i]!r} not in the mapping"))
        raw = raw.loc[kinds_of.notna()]
        kinds_of = kinds_of.loc[raw.index]
    if effect is None:
        effects = kinds_of.map(DEFAULT_EFFECTS)
    elif isinstance(effect, str):
        effects = pd.Series(effect, index=raw.index, dtype=object)
    else:
        effects = kinds_of.map(lambda k: effect.get(k, DEFAULT_EFFECTS[k]))
    bad = sorted(set(effects.dropna()) - set(CONSTRAINT_EFFECTS))
    if bad:
        msg = (
            f"{src} : effet de contrainte inconnu {bad} ; valeurs possibles "
            f"{list(CONSTRAINT_EFFECTS)}"
        )
        raise LayerSchemaError(msg)
    gdf = gpd.GeoDataFrame(
        {Col.KIND: kinds_of, Col.EFFECT: effects}, geometry=raw.geometry, crs=raw.crs
    )
    ids, names = _ids_and_names(raw, "")
    gdf[Col.CONSTRAINT_ID] = kinds_of + ids
    gdf[Col.NAME] = names
    geoms = gdf.geometry
    gdf = reject_rows(
        gdf, geoms.isna() | geoms.is_empty, "pas de géométrie", gdf[Col.CONSTRAINT_ID], report
    )
    return validate_source("constraints", gdf, report, src)


def read_infrastructure(path: PathLike, kind: str, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read points or lines of one infrastructure kind (interchanges, rail, substations...).

    Parameters
    ----------
    path
        Any vector file of points or lines (e.g. an OSM extract of motorway
        junctions).
    kind
        One of :data:`foncier.layers.INFRA_KINDS`.
    layer
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        The ``infrastructure`` layer: ``infra_id`` = ``{kind}:{feature id}``,
        ``kind``, ``name``.  Features without geometry are rejected.

    Raises
    ------
    LayerSchemaError
        An unknown kind.
    DataSourceError
        Unreadable file.
    """
    _check_kind(kind, INFRA_KINDS, "d'infrastructure")
    src = str(path)
    raw = read_vector(path, what="des infrastructures", layer=layer)
    report = LoadReport("infrastructure", source=src, rows_read=len(raw))
    ids, names = _ids_and_names(raw, kind)
    gdf = gpd.GeoDataFrame(
        {Col.INFRA_ID: ids, Col.KIND: kind, Col.NAME: names}, geometry=raw.geometry, crs=raw.crs
    )
    geoms = gdf.geometry
    gdf = reject_rows(
        gdf, geoms.isna() | geoms.is_empty, "pas de géométrie", gdf[Col.INFRA_ID], report
    )
    return validate_source("infrastructure", gdf, report, src)
