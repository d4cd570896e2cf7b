"""OCS GE land cover (IGN, "occupation du sol à grande échelle") and its artificialisation.

OCS GE describes every polygon of land with a cover code ``CODE_CS``
(``CS1.1.1.1`` zones bâties, ``CS2.2.1`` formations herbacées...) and a use
code ``CODE_US`` (``US1.1`` agriculture, ``US235`` production secondaire,
tertiaire et usage résidentiel...).  The nomenclature of décret n° 2023-1096
(article R. 101-1 of the code de l'urbanisme) says which combinations are
artificialised; foncier holds that mapping as data, with its source, in
``foncier/rules/nomenclatures/ocsge_artificialisation.toml`` (ordered rules,
first match decides; everything else is ENAF).

Codes are read dotted (``CS1.1.1.1``) or not (``CS1111``); a code listed in a
rule covers its sub-codes (``CS2.2.1`` covers ``CS2.2.1.1``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from foncier._format import fr_number
from foncier.errors import CRSError, DataSourceError, RuleSetError
from foncier.io._common import PathLike, as_paths, blank, find_column, read_surfaces, read_vector
from foncier.layers import CRS_L93

__all__ = [
    "OCSGE_NOMENCLATURE",
    "OcsgeNomenclature",
    "OcsgeRule",
    "load_ocsge_nomenclature",
    "normalise_ocsge_code",
    "ocsge_land_cover",
    "read_ocsge",
]

#: The built-in mapping (``foncier/rules/nomenclatures/``).
OCSGE_NOMENCLATURE = "ocsge_artificialisation.toml"
#: Columns of the layer :func:`read_ocsge` returns.
CODE_CS, CODE_US, OCSGE_COVER = "code_cs", "code_us", "land_cover"
_COVERS = ("enaf", "artificialised")
#: The one OCS GE code whose digits are not one level each.
_US235 = "US235"


@dataclass(frozen=True)
class OcsgeRule:
    """Cover codes × use codes (``None``: any use) → ``enaf`` or ``artificialised``."""

    couverture: tuple[str, ...]
    usage: tuple[str, ...] | None
    land_cover: str


@dataclass(frozen=True)
class OcsgeNomenclature:
    """The ordered rules mapping OCS GE codes to a land cover, and the default."""

    name: str
    version: str
    rules: tuple[OcsgeRule, ...]
    default: str = "enaf"
    source: str = ""


def normalise_ocsge_code(values: pd.Series) -> pd.Series:
    """OCS GE codes in their dotted form, upper case (``cs1111`` → ``CS1.1.1.1``).

    Parameters
    ----------
    values
        Raw ``CODE_CS`` or ``CODE_US`` values; missing stay missing.

    Returns
    -------
    pandas.Series
        Dotted codes (``US235`` kept as it is).

    Examples
    --------
    >>> normalise_ocsge_code(pd.Series(["CS1111", " cs2.2.1 ", "US235", "US411", None])).tolist()
    ['CS1.1.1.1', 'CS2.2.1', 'US235', 'US4.1.1', nan]
    """
    text = values.astype(object).where(~blank(values), None)
    code = text.str.upper().str.replace(r"\s", "", regex=True)
    undotted = code.str.fullmatch(r"(CS|US)\d{2,}").fillna(False).astype(bool) & (code != _US235)
    dotted = code.str[:2] + code.str[2:].str.replace(r"(?<=\d)(?=\d)", ".", regex=True)
    return code.where(~undotted, dotted).astype("str")


def _in_codes(codes: pd.Series, listed: tuple[str, ...]) -> np.ndarray:
    prefixes = tuple(f"{c}." for c in listed)
    return (codes.isin(listed) | codes.str.startswith(prefixes).fillna(False)).to_numpy(dtype=bool)


def ocsge_land_cover(
    code_cs: pd.Series, code_us: pd.Series, nomenclature: OcsgeNomenclature | None = None
) -> np.ndarray:
    """Land cover (``enaf`` or ``artificialised``) of OCS GE polygons from their codes.

    Parameters
    ----------
    code_cs, code_us
        Cover and use codes (any case, dotted or not).
    nomenclature
        The mapping; the built-in one (décret 2023-1096) by default.

    Returns
    -------
    numpy.ndarray
        One land cover per polygon.

    Examples
    --------
    >>> ocsge_land_cover(pd.Series(["CS1.1.1.1", "CS2.2.1", "CS2.2.1", "CS1.1.2.1"]),
    ...                  pd.Series(["US1.1", "US1.1", "US235", "US1.3"])).tolist()
    ['artificialised', 'enaf', 'artificialised', 'enaf']
    """
    nomenclature = nomenclature or load_ocsge_nomenclature()
    cs, us = normalise_ocsge_code(code_cs), normalise_ocsge_code(code_us)
    out = np.full(len(cs), "", dtype=object)
    for rule in nomenclature.rules:  # a few rules, each vectorised over the polygons
        hit = _in_codes(cs, rule.couverture)
        if rule.usage is not None:
            hit = hit & _in_codes(us, rule.usage)
        out = np.where((out == "") & hit, rule.land_cover, out)
    return np.where(out == "", nomenclature.default, out)


def _code_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        msg = f"{where} : {key} doit être une liste de codes OCS GE ; reçu {value!r}"
        raise RuleSetError(msg)
    return tuple(normalise_ocsge_code(pd.Series(value)).tolist())


def _check_cover(value: Any, where: str) -> str:
    if value not in _COVERS:
        msg = f"{where} : land_cover doit valoir {list(_COVERS)} ; reçu {value!r}"
        raise RuleSetError(msg)
    return str(value)


def _nomenclature(data: Mapping[str, Any], origin: str) -> OcsgeNomenclature:
    rules = []
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        msg = f"{origin} : aucune règle ([[rules]] avec couverture, usage, land_cover)"
        raise RuleSetError(msg)
    for i, entry in enumerate(entries):
        where = f"{origin}, règle n° {i + 1}"
        if not isinstance(entry, Mapping) or set(entry) != {"couverture", "usage", "land_cover"}:
            msg = f"{where} : une règle a exactement les clés couverture, usage, land_cover"
            raise RuleSetError(msg)
        usage = entry["usage"]
        rules.append(
            OcsgeRule(
                _code_list(entry["couverture"], "couverture", where),
                None if usage == ["*"] else _code_list(usage, "usage", where),
                _check_cover(entry["land_cover"], where),
            )
        )
    return OcsgeNomenclature(
        name=str(data.get("name", "")),
        version=str(data.get("version", "")),
        rules=tuple(rules),
        default=_check_cover(data.get("default", "enaf"), f"{origin}, default"),
        source=origin,
    )


def load_ocsge_nomenclature(path: PathLike | None = None) -> OcsgeNomenclature:
    """Load the OCS GE → land cover mapping: the built-in one or a user's TOML file.

    Parameters
    ----------
    path
        A TOML file written like the built-in
        ``foncier/rules/nomenclatures/ocsge_artificialisation.toml``.

    Returns
    -------
    OcsgeNomenclature
        The validated mapping.

    Raises
    ------
    DataSourceError
        The file cannot be read.
    RuleSetError
        Invalid TOML or malformed rule.
    """
    if path is None:
        res = resources.files("foncier") / "rules" / "nomenclatures" / OCSGE_NOMENCLATURE
        text, origin = res.read_text("utf-8"), f"nomenclature intégrée {OCSGE_NOMENCLATURE}"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"impossible de lire la nomenclature OCS GE {path} : {exc}"
            raise DataSourceError(msg) from exc
        origin = f"nomenclature OCS GE {path}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{origin} : fichier TOML invalide ({exc})"
        raise RuleSetError(msg) from exc
    return _nomenclature(data, origin)


def _read_one(path: Path) -> gpd.GeoDataFrame:
    raw = read_vector(path, what="OCS GE")
    src = str(path)
    cs = find_column(raw.columns, "code_cs", "couverture", "cs", required=True, source=src)
    us = find_column(raw.columns, "code_us", "usage", "us", required=True, source=src)
    assert cs is not None and us is not None
    if raw.crs is None:
        msg = (
            f"{src} : la couche OCS GE n'a pas de SCR ; attendu EPSG:2154 (Lambert-93), comme la "
            "publie l'IGN. Corrigez le fichier (par exemple un .prj manquant à côté du shapefile)."
        )
        raise CRSError(msg)
    out = gpd.GeoDataFrame(
        {CODE_CS: raw[cs].to_numpy(), CODE_US: raw[us].to_numpy()},
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    return out.to_crs(CRS_L93)


def read_ocsge(
    paths: PathLike | Sequence[PathLike], *, nomenclature: OcsgeNomenclature | None = None
) -> gpd.GeoDataFrame:
    """Read OCS GE files (GeoPackage, shapefile...) with ``CODE_CS`` and ``CODE_US``.

    Parameters
    ----------
    paths
        One file or several (e.g. one per department); field names matched
        case-insensitively.
    nomenclature
        The code mapping; the built-in one (décret 2023-1096) by default.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code_cs``, ``code_us`` (dotted), ``land_cover`` (``enaf`` or
        ``artificialised``) and the polygon, in EPSG:2154.  Polygons without
        a cover code or without a polygonal geometry are rejected and listed
        in ``attrs["load_report"]`` (invalid ones are repaired).

    Raises
    ------
    DataSourceError
        Unreadable file, or no ``CODE_CS`` / ``CODE_US`` field.
    CRSError
        A file without CRS.
    """
    gdf, geoms, polygonal, report = read_surfaces(as_paths(paths), _read_one, "ocsge")
    no_code = blank(gdf[CODE_CS]).to_numpy()
    ids = [f"polygone {i}" for i in np.flatnonzero(no_code | ~polygonal)]
    reasons = np.where(no_code, "pas de CODE_CS", "géométrie non surfacique ou vide")
    report.rows_rejected.extend(zip(ids, reasons[no_code | ~polygonal].tolist(), strict=True))
    keep = polygonal & ~no_code
    out = gpd.GeoDataFrame(
        {
            CODE_CS: normalise_ocsge_code(gdf[CODE_CS][keep]).to_numpy(),
            CODE_US: normalise_ocsge_code(gdf[CODE_US][keep]).to_numpy(),
        },
        geometry=geoms[keep],
        crs=CRS_L93,
    )
    out[OCSGE_COVER] = ocsge_land_cover(out[CODE_CS], out[CODE_US], nomenclature)
    counts = out[OCSGE_COVER].value_counts()
    report.notes.append(
        f"{fr_number(int(counts.get('artificialised', 0)), 0)} polygones artificialisés et "
        f"{fr_number(int(counts.get('enaf', 0)), 0)} ENAF selon la "
        f"{(nomenclature or load_ocsge_nomenclature()).source}"
    )
    out.attrs["load_report"] = report
    return out
