"""The demand side: industrial projects looking for land and their requirements."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio.errors

from foncier._format import fr_compact, fr_number
from foncier.errors import DataSourceError, FoncierError, LayerSchemaError
from foncier.feasibility import Thresholds
from foncier.io._common import check_content
from foncier.layers import (
    CRS_L93,
    Col,
    LoadReport,
    normalise_insee,
    validate_layer,
    validate_record,
)

__all__ = [
    "MAX_TOP_K",
    "TerritoryLimits",
    "check_in_territory",
    "territory_limits",
    "check_preferred_communes",
    "check_top_k",
    "project_frame",
    "project_record",
    "record_in_territory",
    "requirements_text",
    "project_requirements",
    "read_projects",
    "validate_projects",
]


def _known_insee(communes: pd.DataFrame | Iterable[str]) -> set[str]:
    if isinstance(communes, pd.DataFrame):
        return set(normalise_insee(communes[Col.INSEE]).dropna())
    return set(normalise_insee(pd.Series(list(communes), dtype=object)).dropna())


@dataclass(frozen=True)
class TerritoryLimits:
    """What a project must fit in: the territory's communes and area (:func:`territory_limits`).

    Attributes
    ----------
    insee
        INSEE codes of the communes.
    area_ha
        Area of the territory (ha); 0 when the communes have no geometries.
    """

    insee: frozenset[str]
    area_ha: float


def territory_limits(communes: pd.DataFrame | Iterable[str]) -> TerritoryLimits:
    """The limits :func:`check_in_territory` checks, computed once for many projects.

    Parameters
    ----------
    communes
        The territory's communes (a layer with ``insee``, or INSEE codes).
    """
    area_ha = 0.0
    if isinstance(communes, gpd.GeoDataFrame) and not communes.empty and communes.crs:
        area_ha = float(communes.to_crs(CRS_L93).area.sum()) / 1e4
    return TerritoryLimits(frozenset(_known_insee(communes)), area_ha)


def _check_area_within_territory(projects: pd.DataFrame, territory_ha: float) -> None:
    """Refuse projects whose area exceeds the territory's (when it is known)."""
    if projects.empty or territory_ha <= 0:
        return
    for column in (Col.AREA_MIN_HA, Col.AREA_MAX_HA):
        values = projects[column].to_numpy(dtype="float64")
        bad = values > territory_ha
        if bad.any():
            rows = [
                f"{p} ({fr_compact(v, 0)} ha)"
                for p, v in zip(projects.loc[bad, Col.PROJECT_ID], values[bad], strict=True)
            ]
            msg = (
                f"couche projects, colonne {column!r} : surfaces plus grandes que le territoire "
                f"({fr_compact(territory_ha, 0)} ha) : {', '.join(rows[:5])}"
                f"{' …' if len(rows) > 5 else ''}. Vérifiez l'unité (ha, pas m²)."
            )
            raise LayerSchemaError(msg)


def validate_projects(
    projects: pd.DataFrame, communes: pd.DataFrame | Iterable[str] | None = None
) -> pd.DataFrame:
    """Validate a projects table: its schema, then rules the schema cannot state.

    The schema checks types, finite values within plausible bounds (areas
    ≤ 10,000 ha, jobs ≤ 100,000, investment ≤ 10¹¹ €…), ``area_min_ha ≤
    area_max_ha``, ``jobs ≥ 0`` and unique ids; this adds that every
    ``preferred_insee`` is a commune of the territory and, when the
    communes come with their geometries, that no area exceeds the
    territory's.

    Parameters
    ----------
    projects
        Projects table (``projects`` layer columns).
    communes
        The territory's communes (a layer with ``insee``, or INSEE codes);
        ``None`` skips the commune check.

    Returns
    -------
    pandas.DataFrame
        The validated table.

    Raises
    ------
    LayerSchemaError
        A schema violation, a ``preferred_insee`` outside the territory, or
        an area larger than the territory.

    Examples
    --------
    >>> p = pd.DataFrame({"project_id": ["P1"], "name": ["Usine"], "sector": ["chimie"],
    ...                   "area_min_ha": [2], "area_max_ha": [3], "jobs": [40],
    ...                   "preferred_insee": ["30007"]})
    >>> validate_projects(p, ["30007"])["preferred_insee"].tolist()
    ['30007']
    """
    out = validate_layer("projects", projects)
    if communes is None:
        return out
    return check_in_territory(out, communes)


def check_in_territory(
    projects: pd.DataFrame, communes: pd.DataFrame | Iterable[str] | TerritoryLimits
) -> pd.DataFrame:
    """The rules of :func:`validate_projects` its schema cannot state, on a validated table.

    Parameters
    ----------
    projects
        A projects table already validated against its schema (e.g. by
        :func:`project_frame`).
    communes
        The territory's communes (a layer with ``insee``, or INSEE codes), or
        their :func:`territory_limits`.

    Returns
    -------
    pandas.DataFrame
        ``projects`` itself.

    Raises
    ------
    LayerSchemaError
        A ``preferred_insee`` outside the territory, or an area larger than
        the territory.
    """
    limits = communes if isinstance(communes, TerritoryLimits) else territory_limits(communes)
    _check_area_within_territory(projects, limits.area_ha)
    return _check_preferred(projects, limits.insee)


def check_preferred_communes(
    projects: pd.DataFrame, communes: pd.DataFrame | Iterable[str]
) -> pd.DataFrame:
    """Check that every ``preferred_insee`` of a validated projects table is a territory commune.

    Parameters
    ----------
    projects
        A projects table already validated against its schema.
    communes
        The territory's communes (a layer with ``insee``, or INSEE codes).

    Returns
    -------
    pandas.DataFrame
        ``projects`` itself.

    Raises
    ------
    LayerSchemaError
        A ``preferred_insee`` outside the territory (``column`` names it).
    """
    return _check_preferred(projects, _known_insee(communes))


def _check_preferred(projects: pd.DataFrame, known: set[str] | frozenset[str]) -> pd.DataFrame:
    pref = projects[Col.PREFERRED_INSEE]
    bad = projects[pref.notna() & ~pref.isin(known)]
    if len(bad):
        pairs = [
            f"{p} -> {c}"
            for p, c in zip(bad[Col.PROJECT_ID], bad[Col.PREFERRED_INSEE], strict=True)
        ]
        msg = (
            f"couche projects, colonne {Col.PREFERRED_INSEE!r} : communes hors du territoire : "
            f"{', '.join(pairs[:5])}{' …' if len(pairs) > 5 else ''}. Donnez le code INSEE de "
            f"l'une de ses {fr_number(len(known), 0)} communes, ou laissez la cellule vide."
        )
        raise LayerSchemaError(msg, column=Col.PREFERRED_INSEE)
    return projects


def project_frame(project: Mapping[str, Any] | pd.Series) -> pd.DataFrame:
    """A one-row validated projects table from the fields of one project.

    Missing identification fields get defaults (``project_id`` = ``"requête"``,
    ``area_max_ha`` = ``area_min_ha``, ``jobs`` = 0), so that a query needs
    only its requirements.

    Parameters
    ----------
    project
        Fields of the ``projects`` layer; ``area_min_ha`` at least.

    Returns
    -------
    pandas.DataFrame
        One validated row.

    Raises
    ------
    LayerSchemaError
        A missing ``area_min_ha`` or a wrong value.
    """
    return validate_layer("projects", pd.DataFrame([_query_fields(project)]))


def project_record(project: Mapping[str, Any] | pd.Series) -> dict[str, Any]:
    """:func:`project_frame` as one validated record, without a table.

    The same defaults, rules and messages (:func:`foncier.layers.validate_record`),
    for the single-project queries of the service.

    Parameters
    ----------
    project
        Fields of the ``projects`` layer; ``area_min_ha`` at least.

    Returns
    -------
    dict
        The validated fields (``None`` where missing).

    Raises
    ------
    LayerSchemaError
        A missing ``area_min_ha`` or a wrong value.

    Examples
    --------
    >>> project_record({"area_min_ha": 2})["area_max_ha"]
    2.0
    """
    return validate_record("projects", _query_fields(project))


def _query_fields(project: Mapping[str, Any] | pd.Series) -> dict[str, Any]:
    """The fields of one queried project, identification fields defaulted."""
    data = {k: (None if v is None or v is pd.NA else v) for k, v in dict(project).items()}
    data.setdefault(Col.PROJECT_ID, "requête")
    data.setdefault(Col.NAME, str(data[Col.PROJECT_ID]))
    data.setdefault(Col.SECTOR, "")
    data.setdefault(Col.AREA_MAX_HA, data.get(Col.AREA_MIN_HA))
    data.setdefault(Col.JOBS, 0)
    return data


def record_in_territory(project: Mapping[str, Any], limits: TerritoryLimits) -> None:
    """:func:`check_in_territory` on one validated record (:func:`project_record`).

    Raises
    ------
    LayerSchemaError
        As :func:`check_in_territory`.
    """
    areas = (project[Col.AREA_MIN_HA], project[Col.AREA_MAX_HA])
    inside = limits.area_ha <= 0 or all(a <= limits.area_ha for a in areas)
    preferred = project.get(Col.PREFERRED_INSEE)
    if not inside or (preferred is not None and preferred not in limits.insee):
        check_in_territory(pd.DataFrame([dict(project)]), limits)  # words the error


#: Largest number of land units a query may ask for.
MAX_TOP_K = 1000


def check_top_k(k: Any) -> int:
    """Check the number of land units asked for by a query: an integer in 1..1000.

    Parameters
    ----------
    k
        The number asked for.

    Returns
    -------
    int
        ``k`` as a Python int.

    Raises
    ------
    LayerSchemaError
        ``k`` is not a whole number (booleans and NaN included) or is outside
        ``1..MAX_TOP_K``.

    Examples
    --------
    >>> check_top_k(5)
    5
    """
    whole = isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))
    if not whole or not 1 <= int(k) <= MAX_TOP_K:
        msg = (
            f"paramètre 'k' : {k!r} n'est pas un nombre d'unités foncières valable ; "
            f"attendu un entier de 1 à {MAX_TOP_K}."
        )
        raise LayerSchemaError(msg)
    return int(k)


def project_requirements(
    projects: pd.DataFrame, thresholds: Thresholds | None = None
) -> pd.DataFrame:
    """The hard requirements of each project, as numbers and as a French sentence.

    Parameters
    ----------
    projects
        Validated projects table.
    thresholds
        Constants of the rail and Seveso requirements.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``project_id``: ``min_area_ha``, ``max_slope_pct``,
        ``max_dist_interchange_km``, ``max_dist_rail_km`` and
        ``min_dist_housing_km`` (NaN when not required), ``needed_by_year``
        and ``text``.

    Examples
    --------
    >>> p = pd.DataFrame({"project_id": ["P1"], "name": ["Usine"], "sector": ["chimie"],
    ...                   "area_min_ha": [2.5], "area_max_ha": [3], "jobs": [40],
    ...                   "max_slope_pct": [6], "seveso": [True]})
    >>> project_requirements(validate_projects(p))["text"].iloc[0]
    'surface ≥ 2,5 ha ; pente ≤ 6 % ; habitations à ≥ 0,5 km (Seveso)'
    """
    th = thresholds or Thresholds()
    rail = projects[Col.NEEDS_RAIL].fillna(False).astype(bool).to_numpy()
    seveso = projects[Col.SEVESO].fillna(False).astype(bool).to_numpy()
    table = pd.DataFrame(
        {
            "min_area_ha": projects[Col.AREA_MIN_HA].astype(float).to_numpy(),
            "max_slope_pct": projects[Col.MAX_SLOPE_PCT].astype(float).to_numpy(),
            "max_dist_interchange_km": projects[Col.MAX_DIST_INTERCHANGE_KM]
            .astype(float)
            .to_numpy(),
            "max_dist_rail_km": np.where(rail, th.rail_max_km, np.nan),
            "min_dist_housing_km": np.where(seveso, th.seveso_min_housing_km, np.nan),
            "needed_by_year": pd.to_numeric(projects[Col.EARLIEST_YEAR]).astype(float).to_numpy(),
        },
        index=pd.Index(projects[Col.PROJECT_ID].astype(str), name=Col.PROJECT_ID),
    )
    values = {col: table[col].to_numpy(dtype=float) for col in table.columns}
    table["text"] = [
        _requirements_sentence({col: float(v[i]) for col, v in values.items()})
        for i in range(len(table))
    ]
    return table


def requirements_text(project: Mapping[str, Any], thresholds: Thresholds | None = None) -> str:
    """The ``text`` of :func:`project_requirements` for one validated record.

    Parameters
    ----------
    project
        A validated project (:func:`project_record`).
    thresholds
        Constants of the rail and Seveso requirements.

    Returns
    -------
    str
        The requirements as a French sentence.

    Examples
    --------
    >>> requirements_text(project_record({"area_min_ha": 2.5, "max_slope_pct": 6}))
    'surface ≥ 2,5 ha ; pente ≤ 6 %'
    """
    th = thresholds or Thresholds()

    def number(column: str) -> float:
        value = project.get(column)
        return np.nan if value is None else float(value)

    return _requirements_sentence(
        {
            "min_area_ha": number(Col.AREA_MIN_HA),
            "max_slope_pct": number(Col.MAX_SLOPE_PCT),
            "max_dist_interchange_km": number(Col.MAX_DIST_INTERCHANGE_KM),
            "max_dist_rail_km": th.rail_max_km if project.get(Col.NEEDS_RAIL) else np.nan,
            "min_dist_housing_km": th.seveso_min_housing_km if project.get(Col.SEVESO) else np.nan,
            "needed_by_year": number(Col.EARLIEST_YEAR),
        }
    )


_REQUIREMENT_TEMPLATES = (
    ("max_slope_pct", "pente ≤ {} %"),
    ("max_dist_interchange_km", "échangeur à ≤ {} km"),
    ("max_dist_rail_km", "fret ferroviaire à ≤ {} km"),
    ("min_dist_housing_km", "habitations à ≥ {} km (Seveso)"),
)


def _requirements_sentence(values: Mapping[str, float]) -> str:
    """The French sentence of one project's requirements (NaN: not required)."""
    parts = [f"surface ≥ {fr_compact(values['min_area_ha'], 2)} ha"]
    parts += [
        t.format(fr_compact(values[c])) for c, t in _REQUIREMENT_TEMPLATES if np.isfinite(values[c])
    ]
    year = values["needed_by_year"]
    if np.isfinite(year):
        parts.append(f"terrain prêt en {year:.0f}")
    return " ; ".join(parts)


def _refuse_truncated_csv(path: Path, raw: pd.DataFrame) -> None:
    """Refuse a CSV cut in its last line: no final newline and fewer fields than the header."""
    data = path.read_bytes()
    if not len(raw) or data.endswith((b"\n", b"\r")):
        return
    lines = data.decode("utf-8-sig", errors="replace").splitlines()
    header, last = next(csv.reader([lines[0]])), next(csv.reader([lines[-1]]), [])
    if len(last) < len(header):
        msg = (
            f"le fichier de projets {path} semble tronqué : sa dernière ligne "
            f"({', '.join(last[:2])}…) a {len(last)} champs au lieu de {len(header)} et le "
            "fichier ne finit pas par un saut de ligne. Réenregistrez-le ou téléchargez-le "
            "à nouveau."
        )
        raise DataSourceError(msg)


def read_projects(
    path: str | Path, communes: pd.DataFrame | Iterable[str] | None = None
) -> pd.DataFrame:
    """Read and validate a projects table from CSV or GeoJSON.

    Parameters
    ----------
    path
        A ``,``-separated UTF-8 CSV (optional BOM) or a GeoJSON file whose
        properties are the columns of the ``projects`` layer (the geometry,
        if any, is ignored).
    communes
        The territory's communes (layer or INSEE codes) to check
        ``preferred_insee`` against; ``None`` skips that check.

    Returns
    -------
    pandas.DataFrame
        The validated ``projects`` table; ``attrs["load_report"]`` says how
        many rows were read.

    Raises
    ------
    DataSourceError
        Unreadable, malformed or truncated file, or one whose content is not
        a projects table (an HTML page saved as ``.csv``, a ZIP…).
    LayerSchemaError
        A missing column, a negative area, ``area_min_ha > area_max_ha``, an
        unknown preferred commune…; the message names the file, the column
        and the offending rows.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"impossible de lire le fichier de projets {path} : le fichier n'existe pas"
        raise DataSourceError(msg)
    suffix = path.suffix.lower()
    kinds = None if suffix in {".csv", ".json", ".geojson", ".gpkg"} else {"text"}
    check_content(path, "de projets", kinds)
    try:
        if suffix in {".geojson", ".json", ".gpkg"}:
            raw = pd.DataFrame(gpd.read_file(path).drop(columns="geometry", errors="ignore"))
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            raw = raw.replace("", pd.NA)
            _refuse_truncated_csv(path, raw)
    except (
        OSError,
        pd.errors.ParserError,
        UnicodeDecodeError,
        ValueError,
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
    ) as exc:
        msg = f"impossible de lire le fichier de projets {path} : {exc}"
        raise DataSourceError(msg) from exc
    report = LoadReport("projects", source=str(path))
    try:
        out = validate_layer("projects", raw, report=report)
        if communes is not None:
            check_in_territory(out, communes)
        return out
    except FoncierError as exc:
        msg = f"{path}: {exc}"
        raise type(exc)(msg) from exc
