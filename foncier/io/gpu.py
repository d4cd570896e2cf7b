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
economic activity) and left empty when the file has no such field.

Activity zones
--------------
Real ``zone_urba`` files often carry no ``destdomi``; their activity zones
are then only recognisable from their labels (``Ux``, ``Uy``, ``1AUe``,
"zone d'activités"...).  :func:`classify_zones` applies a rules file
(:data:`DEFAULT_ZONE_RULES`, ``foncier/rules/nomenclatures/zones_activite.toml``,
commented in French; a user file replaces it): ordered patterns on
``libelle``, ``libelong``, ``typezone`` or ``zone_type``, the first match
deciding.  Combined with ``destdomi`` when present: a zone both sources
classify alike takes that class; when they disagree the conflict is reported
and, by default (``on_conflict = "activity"``), the zone is kept as an
activity zone.  The result is the ``activity_class`` column (``activity`` or
``other``) and, beside it, ``activity_reason`` (French, for the planner); the
load report lists every distinct label with its class and reason.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from foncier.errors import DataSourceError, RuleSetError
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

__all__ = [
    "DEFAULT_ZONE_RULES",
    "SECTOR_ZONE_TYPES",
    "ZoneRule",
    "ZoneRules",
    "classify_zones",
    "load_zone_rules",
    "map_zone_type",
    "read_gpu_zoning",
]

#: The built-in activity-zone rules (``foncier/rules/nomenclatures/zones_activite.toml``).
DEFAULT_ZONE_RULES = "zones_activite.toml"
#: Column beside ``activity_class`` saying why (French, for the planner).
ACTIVITY_REASON = "activity_reason"
#: Fields a zone rule may look at.
RULE_FIELDS = ("libelle", "libelong", "typezone", "zone_type")
_ON_CONFLICT = ("activity", "destdomi")
_ACTIVITY, _OTHER = "activity", "other"
_CLASS_LABELS = {_ACTIVITY: "zone d'activités", _OTHER: "autre zone"}

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


@dataclass(frozen=True)
class ZoneRule:
    """One rule of the activity-zone classification.

    Attributes
    ----------
    field
        ``libelle``, ``libelong``, ``typezone`` (as published) or ``zone_type``
        (CNIG type).
    pattern
        Regular expression searched in the field, ignoring case and accents.
    activity
        Whether a zone it matches is an activity zone.
    reason
        What the load report says (French).
    """

    field: str
    pattern: re.Pattern[str]
    activity: bool
    reason: str


@dataclass(frozen=True)
class ZoneRules:
    """The activity-zone classification: ordered rules, first match decides.

    Attributes
    ----------
    name, version
        Identity of the rules, named in the load report.
    rules
        The rules, in order.
    destdomi_activity
        ``destdomi`` codes meaning an activity zone (``02``).
    destdomi_silent
        ``destdomi`` codes saying nothing of the destination (``00``, ``99``);
        any other code means "not an activity zone".
    on_conflict
        ``activity`` (a zone either source calls an activity zone is one) or
        ``destdomi`` (``destdomi`` wins).
    source
        Where the rules were read from.
    """

    name: str
    version: str
    rules: tuple[ZoneRule, ...]
    destdomi_activity: tuple[str, ...] = (DESTDOMI_ACTIVITY,)
    destdomi_silent: tuple[str, ...] = ("00", "99")
    on_conflict: str = "activity"
    source: str = ""


def _strip_accents(text: str) -> str:
    """The text without accents (the rules ignore them, and case)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold_series(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), "").astype(str)
    return text.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii").str.lower()


def _codes(value: Any, key: str, origin: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        msg = f'{origin} : {key} doit être une liste de codes DESTDOMI (["02"]) ; reçu {value!r}'
        raise RuleSetError(msg)
    return tuple(str(v).zfill(2) for v in value)


def _zone_rule(entry: Any, i: int, origin: str) -> ZoneRule:
    where = f"{origin}, règle n° {i + 1}"
    keys = {"field", "pattern", "activity", "reason"}
    if not isinstance(entry, Mapping) or set(entry) != keys:
        got = sorted(entry) if isinstance(entry, Mapping) else entry
        msg = f"{where} : une règle a exactement les clés {sorted(keys)} ; reçu {got}"
        raise RuleSetError(msg)
    if entry["field"] not in RULE_FIELDS:
        msg = f"{where} : field = {entry['field']!r} ; valeurs possibles {list(RULE_FIELDS)}"
        raise RuleSetError(msg)
    if not isinstance(entry["activity"], bool):
        msg = f"{where} : activity doit valoir true ou false ; reçu {entry['activity']!r}"
        raise RuleSetError(msg)
    try:
        pattern = re.compile(_strip_accents(str(entry["pattern"])), re.IGNORECASE)
    except re.error as exc:
        msg = f"{where} : pattern {entry['pattern']!r} n'est pas une expression régulière ({exc})"
        raise RuleSetError(msg) from exc
    return ZoneRule(str(entry["field"]), pattern, entry["activity"], str(entry["reason"]))


def _zone_rules_from_mapping(data: Mapping[str, Any], origin: str) -> ZoneRules:
    allowed = {"name", "version", "destdomi_activity", "destdomi_silent", "on_conflict", "rules"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        msg = f"{origin} : clé(s) inconnue(s) {unknown} ; clés possibles {sorted(allowed)}"
        raise RuleSetError(msg)
    if not isinstance(data.get("rules"), list) or not data["rules"]:
        msg = f"{origin} : aucune règle ([[rules]] avec field, pattern, activity, reason)"
        raise RuleSetError(msg)
    on_conflict = data.get("on_conflict", "activity")
    if on_conflict not in _ON_CONFLICT:
        msg = f"{origin} : on_conflict = {on_conflict!r} ; valeurs possibles {list(_ON_CONFLICT)}"
        raise RuleSetError(msg)
    return ZoneRules(
        name=str(data.get("name", Path(origin).stem)),
        version=str(data.get("version", "")),
        rules=tuple(_zone_rule(e, i, origin) for i, e in enumerate(data["rules"])),
        destdomi_activity=_codes(
            data.get("destdomi_activity", [DESTDOMI_ACTIVITY]), "destdomi_activity", origin
        ),
        destdomi_silent=_codes(
            data.get("destdomi_silent", ["00", "99"]), "destdomi_silent", origin
        ),
        on_conflict=str(on_conflict),
        source=origin,
    )


def load_zone_rules(path: PathLike | None = None) -> ZoneRules:
    """Load the activity-zone rules: the built-in file, or a user's TOML file.

    Parameters
    ----------
    path
        A TOML file written like ``foncier/rules/nomenclatures/zones_activite.toml``
        (copy it and edit it); ``None`` for the built-in one.

    Returns
    -------
    ZoneRules
        The validated rules.

    Raises
    ------
    DataSourceError
        The file does not exist or cannot be read.
    RuleSetError
        Not valid TOML, unknown key, malformed rule or regular expression.

    Examples
    --------
    >>> rules = load_zone_rules()
    >>> rules.on_conflict, rules.destdomi_activity
    ('activity', ('02',))
    """
    if path is None:
        res = resources.files("foncier") / "rules" / "nomenclatures" / DEFAULT_ZONE_RULES
        origin = f"classement intégré {DEFAULT_ZONE_RULES}"
        text = res.read_text("utf-8")
    else:
        file = Path(path)
        origin = f"classement des zones {file}"
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"impossible de lire le fichier de classement des zones {file} : {exc}"
            raise DataSourceError(msg) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{origin} : fichier TOML invalide ({exc})"
        raise RuleSetError(msg) from exc
    return _zone_rules_from_mapping(data, origin)


def classify_zones(zones: pd.DataFrame, rules: ZoneRules | PathLike | None = None) -> pd.DataFrame:
    """Classify PLU zones as activity zones or not, from ``destdomi`` and the rules.

    Parameters
    ----------
    zones
        Zones with ``libelle``, ``zone_type``, ``destdomi`` and, when
        published, ``libelong`` and ``typezone``.
    rules
        The rules, a TOML file of rules, or ``None`` for the built-in ones.

    Returns
    -------
    pandas.DataFrame
        On ``zones``' index: ``activity_class`` (``activity`` or ``other``),
        ``activity_reason`` (French: ``DESTDOMI 02``, the rule's reason, both,
        or the conflict) and ``conflict`` (``destdomi`` and the rules disagree).

    Examples
    --------
    >>> zones = pd.DataFrame({"libelle": ["UY", "Ua", "1AUY"], "zone_type": ["U", "U", "AUc"],
    ...                       "destdomi": ["01", None, "02"]})
    >>> out = classify_zones(zones)
    >>> out["activity_class"].tolist(), out["conflict"].tolist()
    (['activity', 'other', 'activity'], [True, False, False])
    """
    if not isinstance(rules, ZoneRules):
        rules = load_zone_rules(rules)
    n = len(zones)
    blank_text = pd.Series("", index=zones.index, dtype=object)
    texts = {f: _fold_series(zones[f]) if f in zones else blank_text for f in RULE_FIELDS}
    first = np.full(n, -1, dtype="int64")
    for k, rule in enumerate(rules.rules):  # a handful of rules, each vectorised over the zones
        count = texts[rule.field].str.count(rule.pattern.pattern, flags=re.IGNORECASE)
        hit = (count > 0).to_numpy(dtype=bool)
        first = np.where((first < 0) & hit, k, first)
    matched = first >= 0
    rule_activity = np.array([r.activity for r in rules.rules] + [False])[first]
    rule_reason = np.array([r.reason for r in rules.rules] + [""], dtype=object)[first]
    code = zones[Col.DESTDOMI] if Col.DESTDOMI in zones else pd.Series(None, index=zones.index)
    code = normalise_insee(code.astype(object), width=2).astype(object)
    code = code.where(code.notna() & (code.astype(str).str.strip() != ""), None)
    has_code = (code.notna() & ~code.isin(rules.destdomi_silent)).to_numpy(dtype=bool)
    code_activity = code.isin(rules.destdomi_activity).to_numpy(dtype=bool)
    code_text = ("DESTDOMI " + code.fillna("").astype(str)).to_numpy(dtype=object)
    both = has_code & matched
    conflict = both & (code_activity != rule_activity)
    if rules.on_conflict == "activity":
        resolved = code_activity | rule_activity
        kept = "gardée comme zone d'activités (on_conflict = activity)"
    else:
        resolved = code_activity
        kept = "DESTDOMI l'emporte (on_conflict = destdomi)"
    activity = np.select(
        [conflict, both, has_code, matched], [resolved, code_activity, code_activity, rule_activity]
    ).astype(bool)
    reason = np.select(
        [conflict, both, has_code, matched],
        [
            "conflit : " + code_text + " contre « " + rule_reason + " » ; " + kept,
            code_text + " ; " + rule_reason,
            code_text,
            rule_reason,
        ],
        "aucune règle ne s'applique",
    )
    return pd.DataFrame(
        {
            Col.ACTIVITY_CLASS: np.where(activity, _ACTIVITY, _OTHER),
            ACTIVITY_REASON: reason,
            "conflict": conflict,
        },
        index=zones.index,
    ).astype({Col.ACTIVITY_CLASS: "str", ACTIVITY_REASON: "str"})


def _labels(values: pd.Series) -> str:
    return ", ".join(sorted(set(values.astype(str))))


def _classification_notes(zones: pd.DataFrame, rules: ZoneRules) -> list[str]:
    """Load-report lines: every distinct label with its class and reason, conflicts, none found."""
    notes = [f"zones d'activités classées selon le {rules.source} (à corriger avec --zone-rules)"]
    groups = zones.groupby([Col.ACTIVITY_CLASS, ACTIVITY_REASON], sort=True)[Col.LIBELLE]
    for (cls, reason), labels in groups:
        notes.append(f"{_CLASS_LABELS[str(cls)]} ({reason}) : {_labels(labels)}")
    conflict = zones["conflict"].to_numpy(dtype=bool)
    if conflict.any():
        notes.append(
            f"conflit DESTDOMI / libellés pour {int(conflict.sum())} zones "
            f"({_labels(zones.loc[conflict, Col.LIBELLE])}) : à vérifier"
        )
    if len(zones) and not (zones[Col.ACTIVITY_CLASS] == _ACTIVITY).any():
        notes.append(
            "attention : aucune zone d'activités reconnue ; libellés rencontrés : "
            f"{_labels(zones[Col.LIBELLE])}. Si l'une d'elles en est une, corrigez le "
            "classement (--zone-rules)"
        )
    return notes


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


def _dbf_encoding(path: Path) -> str | None:
    """``utf-8`` for a shapefile without ``.cpg`` whose attributes are UTF-8 text.

    GDAL reads such a DBF as ISO-8859-1 (mojibake: "dÃ©diÃ©e"); GPU exports
    of the CNIG 2014 standard are often UTF-8 without saying so.
    """
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return None
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    data = raw[int.from_bytes(raw[8:10], "little") :]  # the records, after the binary header
    if data.isascii():
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _read_one(path: PathLike, index_start: int) -> gpd.GeoDataFrame:
    raw = read_vector(path, what="de zonage du GPU", encoding=_dbf_encoding(Path(path)))
    src = str(path)
    libelle = find_column(raw.columns, "libelle")
    typezone = find_column(raw.columns, "typezone")
    typesect = find_column(raw.columns, "typesect")
    if typezone is None and typesect is None:
        msg = (
            f"{src} : ni colonne 'typezone' (zone_urba d'un PLU) ni 'typesect' (secteur_cc d'une "
            "carte communale), sans tenir compte de la casse ; colonnes trouvées : "
            f"{[c for c in raw.columns if c != raw.geometry.name]}. Est-ce un fichier de zonage "
            "du GPU ?"
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
    zone_rules: ZoneRules | PathLike | None = None,
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
    zone_rules
        The activity-zone rules (:class:`ZoneRules` or a TOML file);
        ``None`` for the built-in ones (see :func:`classify_zones`).

    Returns
    -------
    geopandas.GeoDataFrame
        The ``plu_zones`` layer (``zone_id``, ``insee``, ``libelle``,
        ``zone_type``, ``destdomi``, ``activity_class``; then ``typezone`` or
        ``typesect`` as published, ``idurba``, ``libelong``,
        ``activity_reason``).  The load report lists every distinct label
        with its class and reason, the conflicts between ``destdomi`` and the
        rules, and warns when no activity zone is recognised.  ``zone_id`` is the file's
        ``zone_id``/``idzone`` if any, else ``{idurba}:{libelle}:{n}``
        (``n`` = position of the zone among all files read).  Rows with an
        unknown zone type, no label or no commune are rejected and listed
        in ``attrs["load_report"]``; the mapping of sub-types and sectors is
        in this module's documentation.

    Raises
    ------
    DataSourceError
        Unreadable file, or a file with neither ``typezone`` nor ``typesect``.
    RuleSetError
        Malformed rules file.
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
    gdf = reject_rows(gdf, gdf[Col.LIBELLE].isna(), "pas de libelle", gdf[Col.ZONE_ID], report)
    gdf = reject_rows(
        gdf,
        gdf[Col.INSEE].isna(),
        (
            "pas de commune (pas de champ insee, IDURBA ne commence pas par un code INSEE ; "
            "donnez communes=)"
        ),
        gdf[Col.ZONE_ID],
        report,
    )
    gdf = reject_rows(
        gdf, gdf[Col.ZONE_ID].isna(), "pas d'identifiant de zone", gdf[Col.ZONE_ID], report
    ).drop(columns="_source")
    rules = zone_rules if isinstance(zone_rules, ZoneRules) else load_zone_rules(zone_rules)
    if gdf[Col.DESTDOMI].isna().all() and len(gdf):
        report.notes.append(
            "pas de DESTDOMI dans le fichier : les zones d'activités sont reconnues à leurs "
            "seuls libellés"
        )
    classes = classify_zones(gdf, rules)
    gdf = gdf.assign(
        **{
            Col.ACTIVITY_CLASS: classes[Col.ACTIVITY_CLASS],
            ACTIVITY_REASON: classes[ACTIVITY_REASON],
        }
    )
    report.notes.extend(_classification_notes(gdf.assign(conflict=classes["conflict"]), rules))
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
