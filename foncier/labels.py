r"""French labels and HTML snippets for what the working group reads (maps, report).

One place for the words people see beside the codes the library uses
(origins, reasons, constraint kinds, pools…), and for the small HTML helpers
that every page shares: escaping, hectares / kilometres / percentages written
the French way (through :mod:`foncier._format`) and the two-column table of
a popup.  Importing this module loads neither folium nor matplotlib.

Examples
--------
>>> ha(2.345, 2) == "2,35\xa0ha"
True
>>> esc("<Zone & co>")
'&lt;Zone &amp; co&gt;'
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from foncier._format import fr_number
from foncier.choices import OBJECTIVE_LABELS, POOL_LABELS, code_of
from foncier.layers import (
    ORIGIN_ACTIVITY_ZONE,
    ORIGIN_FRICHE,
    ORIGIN_ZAE_PLOT,
    Col,
    TableCol,
    UnitCol,
)

__all__ = [
    "AUDIT_LABELS",
    "COLUMN_LABELS",
    "CONSTRAINT_KIND_LABELS",
    "DECISION_LABELS",
    "EFFECT_LABELS",
    "GREEDY_KEPT_LABEL",
    "HIGHS_ERROR_LABELS",
    "INFRA_KIND_LABELS",
    "LAYER_NAMES",
    "OBJECTIVE_LABELS",
    "ORIGIN_LABELS",
    "OWNER_KIND_LABELS",
    "POOL_LABELS",
    "SOLVER_STATUS_LABELS",
    "REASON_LABELS",
    "REQUIREMENT_LABELS",
    "TABLE_COLUMN_LABELS",
    "code_of",
    "collapsible",
    "esc",
    "fr_datetime",
    "ha",
    "html_table",
    "km",
    "pct",
    "popup_div",
    "popup_html",
    "solver_message",
]

#: French name of each map layer in the layer control.
LAYER_NAMES: dict[str, str] = {
    "communes": "Communes : budget ZAN restant",
    "consumption": "Communes : consommation d'ENAF 2011-2021",
    "commune_names": "Noms des communes",
    "units": "Unités foncières disponibles",
    "zae": "Zones d'activités (ZAE)",
    "friches": "Friches",
    "ppri_red": "PPRI zone rouge",
    "ppri_blue": "PPRI zone bleue",
    "natura2000": "Natura 2000",
    "znieff": "ZNIEFF",
    "infrastructure": "Infrastructures",
    "placements": "Implantations des projets",
    "tiles": "Fond OpenStreetMap",
}
#: French label of each land-unit origin.
ORIGIN_LABELS: dict[str, str] = {
    ORIGIN_ZAE_PLOT: "lot de ZAE",
    ORIGIN_FRICHE: "friche",
    ORIGIN_ACTIVITY_ZONE: "zone d'activités du PLU",
}
#: French heading of each reason code of an unmatched project.
REASON_LABELS: dict[str, str] = {
    "infeasible": "Aucun terrain ne remplit les exigences",
    "blocked_by_zan": "Bloqués par le budget ZAN",
    "outcompeted": "Terrains pris par d'autres projets",
    "no_land": "Aucun terrain candidat",
    "not_worth": "Emplois insuffisants pour l'ENAF consommé",
    "not_selected": "Non retenus (marge d'optimalité du calcul)",
    "no_lot": "Aucun lot d'un seul tenant dans les parcelles",
}
#: French name of each hard requirement of a project (:data:`foncier.feasibility.REQUIREMENTS`).
REQUIREMENT_LABELS: dict[str, str] = {
    "zone": "le zonage",
    "area": "la surface",
    "slope": "la pente",
    "interchange": "la distance à l'échangeur",
    "rail": "la desserte ferroviaire",
    "seveso": "la distance aux habitations (Seveso)",
    "year": "la date de disponibilité",
}
#: French name of each constraint kind.
CONSTRAINT_KIND_LABELS: dict[str, str] = {
    "ppri_red": "PPRI zone rouge",
    "ppri_blue": "PPRI zone bleue",
    "natura2000": "Natura 2000",
    "znieff1": "ZNIEFF de type 1",
    "znieff2": "ZNIEFF de type 2",
}
#: What a constraint does to the land it covers.
EFFECT_LABELS: dict[str, str] = {"exclude": "exclut le terrain", "penalise": "pénalise le terrain"}
#: French name of each infrastructure kind.
INFRA_KIND_LABELS: dict[str, str] = {
    "interchange": "échangeur autoroutier",
    "motorway": "autoroute",
    "rail_line": "voie ferrée",
    "rail_freight": "gare ou embranchement fret",
    "substation": "poste électrique",
    "power_line": "ligne électrique",
    "port": "port",
    "other": "autre",
}
#: French label of the land-unit columns a map can be coloured by.
COLUMN_LABELS: dict[str, str] = {
    UnitCol.COMPLETENESS: "complétude des données",
    UnitCol.ENAF_SHARE: "part ENAF",
    UnitCol.NET_AREA_HA: "surface nette, ha",
    UnitCol.COMPACTNESS: "compacité",
    UnitCol.SLOPE_MEAN_PCT: "pente moyenne, %",
    "score": "score",
}
#: French header of each column of a scenario's tables (placements, unmatched, ZAN balance)
#: and of the land units, for the tables people open in office software.
#: French values of ``assignments.stability`` (see :mod:`foncier.sensitivity`).
STABILITY_LABELS: dict[str, str] = {
    "stable": "stable",
    "fragile": "fragile",
    "untested": "non testé",
}

#: French values of ``solve.status`` (audit ``solver_status``), see
#: :class:`foncier.assignment.SolveReport`.
SOLVER_STATUS_LABELS: dict[str, str] = {
    "optimal": "optimal (à l'écart toléré près)",
    "time_limit": "arrêté à la limite de temps (meilleure solution trouvée)",
    "infeasible": "sans solution",
    "unbounded": "non borné",
    "no_candidates": "aucun couple projet-terrain à placer",
    "error": "erreur du solveur",
}
#: French name of each HiGHS model status that ``solve.status`` calls ``error``,
#: by its ``highspy.HighsModelStatus`` member name (the detail of the solver message).
HIGHS_ERROR_LABELS: dict[str, str] = {
    "kNotset": "résolution non lancée",
    "kLoadError": "modèle non chargé",
    "kModelError": "modèle invalide",
    "kPresolveError": "échec du prétraitement",
    "kSolveError": "échec de la résolution",
    "kPostsolveError": "échec du post-traitement",
    "kModelEmpty": "modèle vide",
    "kObjectiveBound": "borne de l'objectif atteinte",
    "kObjectiveTarget": "cible de l'objectif atteinte",
    "kIterationLimit": "limite d'itérations atteinte",
    "kSolutionLimit": "limite de solutions atteinte",
    "kMemoryLimit": "mémoire insuffisante",
    "kHighsInterrupt": "résolution interrompue",
    "kUnknown": "statut inconnu",
}
#: What the solver message adds when the greedy baseline beat the solver's solution.
GREEDY_KEPT_LABEL = "la solution gloutonne, meilleure que celle du solveur, est gardée"

TABLE_COLUMN_LABELS: dict[str, str] = {
    Col.PROJECT_ID: "Projet (identifiant)",
    Col.NAME: "Nom",
    Col.SECTOR: "Secteur",
    Col.JOBS: "Emplois",
    Col.AREA_MIN_HA: "Surface minimale demandée (ha)",
    Col.INSEE: "Code INSEE",
    Col.IS_PENE: "Projet PENE (enveloppe nationale)",
    Col.SITE_ID: "Site (identifiant)",
    TableCol.UNLOCK_FIELD: "Déblocage : champ(s) à changer",
    TableCol.UNLOCK_VALUE: "Déblocage : nouvelle(s) valeur(s)",
    TableCol.UNLOCK_UNIT_ID: "Déblocage : unité foncière",
    TableCol.UNLOCK_POOL_ID: "Déblocage : enveloppe ZAN",
    TableCol.UNLOCK_VERIFIED: "Déblocage vérifié par un nouveau calcul",
    TableCol.UNLOCK_LOSS: "Déblocage : emplois perdus au plus par les autres projets",
    TableCol.STABILITY: "Stabilité du placement",
    TableCol.ALTERNATIVE_UNIT_ID: "Autre unité presque aussi bonne",
    "jobs_per_extra_ha": "Emplois gagnés par hectare de budget en plus",
    "objective_per_extra_ha": "Objectif gagné par hectare de budget en plus",
    "method": "Méthode",
    UnitCol.UNIT_ID: "Unité foncière",
    UnitCol.IS_FRICHE: "Friche",
    UnitCol.ORIGIN: "Origine du terrain",
    TableCol.POOL_ID: "Budget ZAN (code)",
    TableCol.AREA_HA: "Surface placée (ha)",
    TableCol.ENAF_HA: "ENAF pris sur l'enveloppe locale (ha)",
    TableCol.SCORE: "Score (0 à 1)",
    TableCol.UNVERIFIED: "À vérifier sur place",
    TableCol.ZAN_COST: "Coût ZAN",
    TableCol.EXPLANATION: "Explication",
    TableCol.REASON_CODE: "Raison",
    TableCol.REQUIREMENT: "Exigence bloquante",
    TableCol.MISSING_HA: "Manque (ha)",
    TableCol.BLOCKING_PROJECT_ID: "Projet qui prend le terrain",
    TableCol.HINT: "Ce qui le débloquerait",
    TableCol.ENVELOPE_HA: "Enveloppe 2021-2031 (ha)",
    TableCol.CONSUMED_HA: "Consommé depuis 2021 (ha)",
    TableCol.COMMITTED_HA: "Engagé (ha)",
    TableCol.REMAINING_HA: "Reste (ha)",
    TableCol.REMAINING_BEFORE_HA: "Reste avant le scénario (ha)",
    TableCol.CONSUMED_BY_PLACEMENTS_HA: "ENAF des projets placés (ha)",
    TableCol.REMAINING_AFTER_HA: "Reste après le scénario (ha)",
    TableCol.OVER_BUDGET: "Enveloppe dépassée",
    TableCol.PACE_HA_PER_YEAR: "Rythme depuis 2021 (ha par an)",
    TableCol.STATUS: "Statut",
    UnitCol.IDUS: "Parcelles du lot (idu)",
    UnitCol.ENAF_SHARE: "Part d'ENAF",
    TableCol.LOT_AREA_HA: "Surface du lot (ha)",
    TableCol.N_PARCELS: "Parcelles du lot",
    TableCol.N_OWNERS: "Propriétaires",
    TableCol.OWNER_KINDS: "Types de propriétaire",
    TableCol.PUBLIC_SHARE: "Part publique",
    TableCol.SPLIT: "Parcelle coupée",
}
#: French name of each field of a scenario's audit record, and of the fields of its
#: nested records (``"weights.area_fit"``…).
AUDIT_LABELS: dict[str, str] = {
    "name": "Scénario",
    "started_at": "Calculé le",
    "foncier_version": "Version de foncier",
    "territory": "Territoire",
    "territory_path": "Dossier du territoire",
    "data_label": "Données",
    "synthetic": "Échantillon synthétique",
    "inputs_sha256": "Empreinte SHA-256",
    "rules": "Règles ZAN",
    "rules_version": "Version des règles",
    "rules_source": "Source des règles",
    "enaf_vintage": "Millésime ENAF",
    "pool": "Budgets ZAN par",
    "objective": "Objectif",
    "weights": "Poids du score",
    "thresholds": "Seuils des exigences",
    "top_n": "Terrains candidats gardés par projet",
    "time_limit_s": "Temps de calcul maximal (s)",
    "mip_rel_gap": "Écart d'optimalité accepté",
    "solver_status": "Statut du solveur",
    "solver_message": "Message du solveur",
    "solver_objective": "Valeur de l'objectif",
    "solver_dual_bound": "Borne de l'objectif",
    "solver_gap": "Écart d'optimalité atteint",
    "greedy_objective": "Objectif d'une solution gloutonne",
    "solver_greedy_kept": "Solution gloutonne gardée (meilleure que celle du solveur)",
    "candidate_pairs": "Couples projet-terrain possibles",
    "solves": "Résolutions (les couples sans lot écartés)",
    "solver_objective_before_lots": "Valeur de l'objectif avant le découpage des lots",
    "placements_before_lots": "Placements du solveur avant le découpage des lots",
    "pairs_without_lot": "Couples projet-terrain sans lot possible",
    "units": "Unités foncières",
    "decisions": "Décisions validées prises en compte",
    "timings_s": "Durée (s)",
    "weights.unverified_penalty": "pénalité par exigence non vérifiée",
    "thresholds.rail_max_km": "fret ferroviaire à moins de (km)",
    "thresholds.seveso_min_housing_km": "habitations à plus de (km, Seveso)",
    "thresholds.reference_year": "année de référence",
    "thresholds.aus_lead_years": "délai d'ouverture d'une zone AUs (ans)",
    "thresholds.friche_lead_years": "délai de reconversion d'une friche (ans)",
    "thresholds.compatible_zones": "zones compatibles",
    "timings_s.load": "lecture",
    "timings_s.budgets": "budgets ZAN",
    "timings_s.supply": "offre foncière",
    "timings_s.match": "appariement",
    "timings_s.lots": "lots",
    "timings_s.unlock": "déblocages vérifiés et sensibilité",
    "timings_s.balance": "bilan ZAN",
}

#: French label of each owner kind of a parcel (``owner_kind``).
OWNER_KIND_LABELS: dict[str, str] = {"public": "public", "private": "privé", "unknown": "inconnu"}
#: French label of each decision of the working group (:data:`foncier.decisions.DECISIONS`).
DECISION_LABELS: dict[str, str] = {"validated": "validée", "rejected": "rejetée"}
#: Month names, for dates people read.
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
#: The time zone of the dates people read.
_PARIS = ZoneInfo("Europe/Paris")

_POPUP_STYLE = "max-width:380px;font:12px/1.35 sans-serif"


def esc(value: Any) -> str:
    """HTML-escaped text of ``value`` (quotes included)."""
    return html.escape(str(value))


def _number(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def ha(value: Any, decimals: int = 1) -> str:
    """Hectares the French way; ``None`` and NaN read "n.d."."""
    return fr_number(_number(value), decimals, "ha")


def pct(share: Any) -> str:
    """A share (0-1) as a whole percentage; ``None`` and NaN read "n.d."."""
    return fr_number(_number(share) * 100.0, 0, "%")


def km(value: Any) -> str:
    """Kilometres with one decimal; ``None`` and NaN read "n.d."."""
    return fr_number(_number(value), 1, "km")


def html_table(rows: Sequence[tuple[str, str]]) -> str:
    """Two-column table: a heading (left) and its value per row; both are HTML already."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{k}</th><td>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table>{body}</table>"


def collapsible(summary: str, body: str, *, open_: bool = True) -> str:
    """A block that folds to its ``summary`` line (HTML ``details``); both are HTML already."""
    state = " open" if open_ else ""
    return f"<details{state}><summary>{summary}</summary>{body}</details>"


def popup_div(body: str) -> str:
    """The box of a popup around ``body`` (HTML)."""
    return f"<div style='{_POPUP_STYLE}'>{body}</div>"


def popup_html(title: str, rows: Sequence[tuple[str, str]], extra: str = "") -> str:
    """A popup: escaped bold ``title``, the table of ``rows``, then ``extra`` HTML."""
    return popup_div(f"<b>{esc(title)}</b>{html_table(rows)}{extra}")


def fr_datetime(value: str | dt.datetime, *, time: bool = True) -> str:
    """A date (and time) written the French way, in Paris time: « 2 décembre 2026 à 14 h 05 ».

    Parameters
    ----------
    value
        A datetime or its ISO 8601 text; a naive one is taken as UTC.
    time
        Write the time of day too.

    Returns
    -------
    str
        The date; the first day of a month reads « 1er ».

    Examples
    --------
    >>> fr_datetime("2026-12-02T13:05:00+00:00")
    '2 décembre 2026 à 14 h 05'
    >>> fr_datetime("2026-07-01T10:00:00Z", time=False)
    '1er juillet 2026'
    """
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(_PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    text = f"{day} {_MONTHS[local.month - 1]} {local.year}"
    return f"{text} à {local.hour} h {local.minute:02d}" if time else text


def solver_message(status: str, *, detail: str = "", greedy_kept: bool = False) -> str:
    """The French text of a solve that people read (audit, workbook, report, summary).

    Parameters
    ----------
    status
        The solve's status code (``optimal``, ``time_limit``…), worded by
        :data:`SOLVER_STATUS_LABELS`.
    detail
        French detail of the status, after a colon (why it has no solution,
        which HiGHS error); ``""`` for none.
    greedy_kept
        The greedy baseline beat the solver's solution and was kept
        (:data:`GREEDY_KEPT_LABEL`).

    Returns
    -------
    str
        E.g. ``"arrêté à la limite de temps (meilleure solution trouvée)"``.

    Examples
    --------
    >>> solver_message("infeasible", detail="les couples imposés enfreignent une contrainte")
    'sans solution : les couples imposés enfreignent une contrainte'
    """
    text = SOLVER_STATUS_LABELS.get(status, status)
    if detail:
        text = f"{text} : {detail}"
    if greedy_kept:
        text = f"{text} ; {GREEDY_KEPT_LABEL}"
    return text
