"""The assumptions a figure rests on, counted, so that they travel with it.

On a real territory some inputs are missing and foncier falls back on a
default: a layer no source was given for, a friche known only by a point and
its declared surface, a land unit whose slope could not be measured, a
parcel whose land cover is unknown and charged as ENAF, a commune whose
planning-document status is unknown.  :func:`assumptions` counts each of
them from a territory, its land units and (optionally) a budget table and a
scenario's placements, as a short list of records:

``{"code": "approximate_footprints", "text": "12 friches …", "count": 12, "ha": 84.1}``

(``count`` and ``ha`` are ``None`` when they do not apply).  The records are
shown, in French, next to the figures they qualify: the ZAN table and the
land supply of the CLI, the scenario result (``hypotheses``), the report
and the map (:func:`assumptions_text`, :func:`assumptions_html`).

Every count is vectorised over the layers; columns another part of foncier
may not have yet (``land_cover = unknown``, ``unknown_cover_share``, a
commune planning status) are read when present and skipped otherwise.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

import numpy as np
import pandas as pd
import shapely

from foncier._format import fr_number
from foncier.choices import LAYER_LABELS
from foncier.criteria import CRITERIA, UNKNOWN_VALUES
from foncier.layers import FOOTPRINT_APPROXIMATE, ORIGIN_FRICHE, Col, UnitCol

__all__ = [
    "CRITERIA_LABELS",
    "LAYER_LABELS",
    "Assumption",
    "assumptions",
    "assumptions_html",
    "assumptions_text",
    "scenario_assumptions",
]


class Assumption(TypedDict):
    """One assumption: a code, its French sentence and what it concerns."""

    code: str
    text: str
    count: int | None
    ha: float | None


#: French names of the land-unit criteria counted by the completeness.
CRITERIA_LABELS: dict[str, str] = {
    UnitCol.SLOPE_MEAN_PCT: "pente moyenne",
    UnitCol.SLOPE_MAX_PCT: "pente maximale",
    UnitCol.DIST_INTERCHANGE_KM: "distance à un échangeur",
    UnitCol.DIST_RAIL_FREIGHT_KM: "distance au fret ferroviaire",
    UnitCol.DIST_SUBSTATION_KM: "distance à un poste électrique",
    UnitCol.DIST_HOUSING_KM: "distance aux habitations",
    UnitCol.ENAF_SHARE: "part d'ENAF",
    UnitCol.FLOOD_SHARE: "part en zone inondable",
    UnitCol.NATURA2000_SHARE: "part en Natura 2000",
    Col.SERVICING_STAGE: "viabilisation",
    Col.ZONE_TYPE: "type de zone",
    Col.OWNER_KIND: "propriétaire",
}
#: Infrastructure kinds a land-unit criterion is measured against.
_CRITERION_INFRA = {
    "interchange": "échangeurs",
    "rail_freight": "gares de fret",
    "substation": "postes électriques",
}
#: Commune columns that may carry a planning-document status (yes / no / unknown).
_PLANNING_COLUMNS = (
    "planning_status",
    "planning_doc_status",
    "guarantee_status",
    "guarantee_eligibility",
    "guarantee_eligible",
    Col.HAS_PLANNING_DOC,
)
_UNKNOWN = frozenset({*UNKNOWN_VALUES, "inconnue", "unknown", "nd", "n.d."})
#: Land-cover value of parcels whose cover is not known.
_UNKNOWN_COVER = "unknown"
#: Land-unit column: share of the unit's area on parcels of unknown cover.
_UNKNOWN_COVER_SHARE = "unknown_cover_share"
_SHOWN_CODES = 5


def _record(code: str, text: str, count: int | None = None, ha: float | None = None) -> Assumption:
    return Assumption(
        code=code,
        text=text,
        count=None if count is None else int(count),
        ha=None if ha is None or not np.isfinite(ha) else round(float(ha), 2),
    )


def _ha(value: float) -> str:
    return fr_number(value, 1, "ha")


def _first(codes: Iterable[str]) -> str:
    codes = sorted(codes)
    more = f"… (+{len(codes) - _SHOWN_CODES})" if len(codes) > _SHOWN_CODES else ""
    return ", ".join(codes[:_SHOWN_CODES]) + more


def _unknown_mask(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    return (values.isna() | text.isin(_UNKNOWN)).fillna(True).astype(bool)


# -- what the territory lacks ------------------------------------------------------------
#: Layers the ZAN budget table is computed from.
_ZAN_LAYERS = ("communes", "enaf_consumption")


def _missing_layers(territory: Any, only: Sequence[str] | None) -> list[Assumption]:
    empty = [name for name, layer in territory.layers.items() if layer.empty]
    empty += [n for n in ("enaf_consumption", "projects") if territory.layer(n).empty]
    if territory.dem_path is None:
        empty.append("dem")
    if only is not None:
        empty = [n for n in empty if n in only]
    out = []
    if empty:
        names = ", ".join(LAYER_LABELS.get(n, n) for n in empty)
        out.append(
            _record(
                "missing_layers",
                f"{len(empty)} couche(s) absente(s), rien n'est inventé à leur place : {names}",
                len(empty),
            )
        )
    infra = territory.infrastructure
    if not infra.empty and only is None:
        present = set(infra[Col.KIND].astype(str))
        lacking = [label for kind, label in _CRITERION_INFRA.items() if kind not in present]
        if lacking:
            out.append(
                _record(
                    "missing_infrastructure",
                    "infrastructures sans aucun élément de type "
                    + ", ".join(lacking)
                    + " : les distances correspondantes sont inconnues",
                    len(lacking),
                )
            )
    return out


def _planning_status(territory: Any, budgets: pd.DataFrame | None) -> list[Assumption]:
    communes = territory.communes
    column = next((c for c in _PLANNING_COLUMNS if c in communes.columns), None)
    if column is None or communes.empty:
        return []
    unknown = _unknown_mask(communes[column])
    if not unknown.any():
        return []
    codes = communes.loc[unknown, Col.INSEE].astype(str)
    guarantee = "garantie communale de 1 ha à confirmer"
    per_commune = budgets is not None and budgets.attrs.get("pool") == "commune"
    if per_commune and budgets is not None and "guarantee_applied" in budgets.columns:
        applied = budgets.loc[budgets["insee"].astype(str).isin(set(codes)), "guarantee_applied"]
        granted = int(applied.fillna(False).astype(bool).sum())
        guarantee = (
            f"garantie communale de 1 ha accordée par hypothèse à {granted}, "
            f"non accordée à {len(applied) - granted}"
        )
    n = int(unknown.sum())
    return [
        _record(
            "planning_status_unknown",
            f"{n} commune(s) sur {len(communes)} sans information sur leur document "
            f"d'urbanisme ({_first(codes)}) : {guarantee}",
            n,
        )
    ]


def _unknown_cover(territory: Any, units: pd.DataFrame | None) -> list[Assumption]:
    # counted on the whole layer by foncier.partitioned.read_supply_territory, which keeps
    # only the parcels the supply reads
    counted = territory.metadata.get("parcels_unknown_cover")
    parcels = territory.parcels
    if counted is not None:
        n, ha = int(counted["count"]), float(counted["area_m2"]) / 1e4
    elif parcels.empty or Col.LAND_COVER not in parcels.columns:
        return []
    else:
        unknown = (parcels[Col.LAND_COVER].astype(object) == _UNKNOWN_COVER).to_numpy()
        n = int(unknown.sum())
        ha = float(shapely.area(parcels.geometry.to_numpy()[unknown]).sum()) / 1e4
    if not n:
        return []
    text = (
        f"{n} parcelle(s) ({_ha(ha)}) d'occupation du sol inconnue, "
        "comptées comme ENAF (choix prudent)"
    )
    if units is not None and _UNKNOWN_COVER_SHARE in units.columns:
        share = pd.to_numeric(units[_UNKNOWN_COVER_SHARE], errors="coerce").fillna(0.0)
        in_units = float((share * units[UnitCol.NET_AREA_HA]).sum())
        text += f", dont {_ha(in_units)} dans l'offre foncière"
    return [_record("unknown_cover_as_enaf", text, n, ha)]


def _enaf_missing(budgets: pd.DataFrame | None) -> list[Assumption]:
    if budgets is None:
        return []
    missing = budgets.attrs.get("missing_years") or {}
    if not missing:
        return []
    return [
        _record(
            "enaf_missing",
            f"{len(missing)} commune(s) sans données de consommation d'ENAF complètes : "
            f"leurs budgets sont laissés vides (n.d.) ({_first(map(str, missing))})",
            len(missing),
        )
    ]


def _budget_notes(budgets: pd.DataFrame | None, known: set[str]) -> list[Assumption]:
    """The budget table's own assumptions (``attrs["hypotheses"]``), not counted twice."""
    if budgets is None:
        return []
    out = []
    # the ZAN table's assumptions ({key, count, communes, text}, foncier.zan.budget_table);
    # the vintage is a fact, and missing years are counted by ``enaf_missing``
    stated = [
        {"code": a["key"], "text": a["text"], "count": a.get("count")}
        for a in budgets.attrs.get("assumptions") or ()
        if a.get("key") not in ("enaf_vintage", "missing_years")
    ]
    for item in [*(budgets.attrs.get("hypotheses") or ()), *stated]:
        if isinstance(item, str):
            out.append(_record("zan", item))
        elif isinstance(item, dict) and item.get("code") not in known and item.get("text"):
            count, ha = item.get("count"), item.get("ha")
            out.append(
                _record(
                    str(item.get("code", "zan")),
                    str(item["text"]),
                    None if count is None else int(count),
                    None if ha is None else float(ha),
                )
            )
    return out


# -- the land supply ---------------------------------------------------------------------
def _friches(territory: Any, units: pd.DataFrame | None) -> list[Assumption]:
    from foncier.supply import friche_footprints

    if territory.friches.empty:
        return []
    friches = friche_footprints(territory.friches, territory.parcels)
    approx = friches[Col.FOOTPRINT] == FOOTPRINT_APPROXIMATE
    out = []
    if approx.any():
        n = int(approx.sum())
        text = (
            f"{n} friche(s) sur {len(territory.friches)} connue(s) par un point et leur surface "
            "déclarée : emprise approximative (disque de cette surface)"
        )
        ha = None
        if units is not None and UnitCol.FOOTPRINT in units.columns:
            mask = (units[UnitCol.ORIGIN] == ORIGIN_FRICHE) & (
                units[UnitCol.FOOTPRINT] == FOOTPRINT_APPROXIMATE
            )
            ha = float(units.loc[mask, UnitCol.NET_AREA_HA].sum())
            text += f", {int(mask.sum())} unité(s) foncière(s), {_ha(ha)}"
        out.append(_record("approximate_footprints", text, n, ha))
    lost = int(friches.attrs.get("without_surface", 0))
    if lost:
        out.append(
            _record(
                "friches_without_surface",
                f"{lost} friche(s) ponctuelle(s) sans surface déclarée ni parcelles chargées, "
                "laissées hors de l'offre foncière",
                lost,
            )
        )
    return out


def _criteria(units: pd.DataFrame | None) -> list[Assumption]:
    if units is None or units.empty or UnitCol.COMPLETENESS not in units.columns:
        return []
    partial = pd.to_numeric(units[UnitCol.COMPLETENESS], errors="coerce").fillna(0.0) < 1.0
    if not partial.any():
        return []
    counts = {}
    for column in CRITERIA:
        if column not in units.columns:
            counts[column] = len(units)
            continue
        values = units[column]
        unknown = values.isna()
        if not pd.api.types.is_numeric_dtype(values):
            unknown |= values.isin(UNKNOWN_VALUES)
        counts[column] = int(unknown.sum())
    worst = sorted(((n, c) for c, n in counts.items() if n), key=lambda x: (-x[0], x[1]))
    detail = " ; ".join(f"{CRITERIA_LABELS.get(c, c)} : {n}" for n, c in worst)
    ha = float(units.loc[partial, UnitCol.NET_AREA_HA].sum())
    return [
        _record(
            "defaulted_criteria",
            f"{int(partial.sum())} unité(s) foncière(s) sur {len(units)} ({_ha(ha)}) ont des "
            f"critères inconnus (complétude < 100 %), comptés comme non mesurés : {detail}",
            int(partial.sum()),
            ha,
        )
    ]


def _placements(assignments: pd.DataFrame | None, units: pd.DataFrame | None) -> list[Assumption]:
    if assignments is None or assignments.empty or units is None:
        return []
    if UnitCol.FOOTPRINT not in units.columns:
        return []
    approx = set(
        units.loc[units[UnitCol.FOOTPRINT] == FOOTPRINT_APPROXIMATE, UnitCol.UNIT_ID].astype(str)
    )
    on = assignments[UnitCol.UNIT_ID].astype(str).isin(approx)
    if not on.any():
        return []
    ha = float(pd.to_numeric(assignments.loc[on, "area_ha"], errors="coerce").sum())
    return [
        _record(
            "placements_on_approximate_footprints",
            f"{int(on.sum())} projet(s) placé(s) sur une friche d'emprise approximative "
            f"({_ha(ha)}) : surface et contraintes à vérifier sur le terrain",
            int(on.sum()),
            ha,
        )
    ]


def _decisions_without_lot(decisions: pd.DataFrame | None) -> list[Assumption]:
    if decisions is None or decisions.empty:
        return []
    idus = (
        decisions[UnitCol.IDUS].astype(object)
        if UnitCol.IDUS in decisions.columns
        else pd.Series(None, index=decisions.index, dtype=object)
    )
    old = idus.isna() | (idus.astype(str).str.strip() == "")
    if not old.any():
        return []
    ha = float(pd.to_numeric(decisions.loc[old, "area_ha"], errors="coerce").sum())
    return [
        _record(
            "decisions_without_lot",
            f"{int(old.sum())} décision(s) validée(s) sans liste de parcelles (journal antérieur "
            f"aux lots) : leur surface ({_ha(ha)}) est déduite de la surface nette de leur unité, "
            "mais leur terrain n'est pas localisé ; un nouveau lot peut s'y superposer",
            int(old.sum()),
            ha,
        )
    ]


# -- public ------------------------------------------------------------------------------
def assumptions(
    territory: Any,
    units: pd.DataFrame | None = None,
    budgets: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    *,
    zan_only: bool = False,
    decisions: pd.DataFrame | None = None,
) -> list[Assumption]:
    """Count what the figures of a territory rest on by default.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.
    units
        Its land units (:func:`foncier.supply.land_units`), for the criteria
        and the footprints of the supply.
    budgets
        A budget table (:func:`foncier.zan.budget_table`), for the communes
        without ENAF data and the table's own assumptions.
    assignments
        A scenario's placements, for the projects placed on approximate land.
    zan_only
        Only what a ZAN budget table rests on (communes and ENAF layers,
        planning status, ENAF data, the table's own assumptions).
    decisions
        The validated placements (``decisions`` table), for those recorded
        without their lot's parcels.

    Returns
    -------
    list of Assumption
        In this order, those that apply: ``missing_layers``,
        ``missing_infrastructure``, ``planning_status_unknown``,
        ``unknown_cover_as_enaf``, ``enaf_missing``, the budget table's own,
        ``approximate_footprints``, ``friches_without_surface``,
        ``defaulted_criteria``, ``placements_on_approximate_footprints``,
        ``decisions_without_lot``.  Empty when nothing rests on a default.
    """
    out = [*_missing_layers(territory, _ZAN_LAYERS if zan_only else None)]
    table_says = (
        {a.get("key") for a in (budgets.attrs.get("assumptions") or ())}
        if (budgets is not None)
        else set()
    )
    if not table_says & {"guarantee_unknown_applied", "guarantee_unknown_refused"}:
        out += _planning_status(territory, budgets)
    if not zan_only:
        out += _unknown_cover(territory, units)
    out += _enaf_missing(budgets)
    out += _budget_notes(budgets, {a["code"] for a in out})
    if not zan_only:
        out += [*_friches(territory, units), *_criteria(units), *_placements(assignments, units)]
        out += _decisions_without_lot(decisions)
    return out


def scenario_assumptions(
    territory: Any,
    units: pd.DataFrame,
    budgets: pd.DataFrame | None,
    assignments: pd.DataFrame | None = None,
    decisions: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """The assumptions of a scenario (see :func:`assumptions`), as plain dicts for JSON.

    What :meth:`foncier.scenarios.Scenario.run` records with the result
    (``scenario.json``, ``hypotheses``) and the report shows.
    """
    found = assumptions(territory, units, budgets, assignments, decisions=decisions)
    return [dict(a) for a in found]


_NONE_TEXT = "Aucune : chaque chiffre repose sur des données fournies."


def assumptions_text(records: Sequence[Any]) -> str:
    """The assumptions as French plain text, one ``- `` line each.

    Examples
    --------
    >>> print(assumptions_text([{"code": "x", "text": "2 couche(s) absente(s)"}]))
    Hypothèses :
    - 2 couche(s) absente(s)
    >>> assumptions_text([])
    'Hypothèses : aucune : chaque chiffre repose sur des données fournies.'
    """
    if not records:
        return "Hypothèses : " + _NONE_TEXT[0].lower() + _NONE_TEXT[1:]
    return "\n".join(["Hypothèses :", *(f"- {r['text']}" for r in records)])


def assumptions_html(records: Sequence[Any], heading: str = "h2") -> str:
    """The assumptions as an HTML box (``<section class='hypotheses'>``), in French.

    Parameters
    ----------
    records
        Output of :func:`assumptions` (or the ``hypotheses`` of a scenario).
    heading
        Tag of the title (``h2`` in the report, ``b`` in a map panel).

    Returns
    -------
    str
        A titled list, escaped.
    """
    title = f"<{heading}>Hypothèses</{heading}>"
    if not records:
        return f"<section class='hypotheses'>{title}<p>{html.escape(_NONE_TEXT)}</p></section>"
    items = "".join(f"<li>{html.escape(str(r['text']))}</li>" for r in records)
    note = (
        "<p class='note'>Ce que les chiffres supposent faute de données ; "
        "chaque ligne compte les éléments concernés.</p>"
    )
    return f"<section class='hypotheses'>{title}{note}<ul>{items}</ul></section>"
