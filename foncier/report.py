"""The working group's report: a decision document per scenario, in French, for A4 paper.

:func:`write_report` reads a scenario result folder (written by
:meth:`foncier.scenarios.ScenarioResult.to_folder`) and writes
``report.html`` next to it; :func:`write_pdf` prints it to ``report.pdf``
beside it (``foncier report --pdf``).  In reading order:

1. **Synthèse pour décision** (page 1): what the meeting must decide and why
   (:mod:`foncier.synthesis`): the projects needing an arbitration, grouped
   by reason; the pools over or close to their envelope after the scenario,
   with the placement that uses most of what they had; the year the
   territory's envelope runs out at the current pace; headline figures with
   the ENAF of PENE projects apart (national envelope); what the score
   means; the assumptions (:mod:`foncier.assumptions`) in one box;
2. the projects to arbitrate, each with its reason and what would unlock it;
3. the headline figures, the ZAN balance per pool (and per commune when
   budgets are pooled);
4. :data:`EXTRA_SECTIONS`, the place for further analyses (a ZAN
   diagnosis…), each a function of the :class:`ReportContext`;
5. the 2011 → 2031 ZAN trajectories (matplotlib, inline SVG);
6. the map: printed, a static map (:mod:`foncier.static_map`); on screen,
   the interactive scenario map with Leaflet inlined;
7. annexes: the placed projects, one line each, their sites named by ZAE,
   friche or PLU zone (:func:`foncier.explain.unit_sites`) with the ids in
   small; the audit record.

Print: A4 portrait, the map on a landscape page when the territory is wide;
every table has a fixed layout that fits its page (``templates/report.css``).

Every figure comes from the result (its ``totals``, ``zan_balance``,
``assignments``, ``unmatched``, ``units`` and ``audit``); only what the
result does not carry is read from the territory: commune names and shapes,
site names, and the yearly ENAF series of the charts and of the pace.

The PDF engine is the headless Chromium the tests already drive: the report
is laid out by the engine that shows it on screen (CSS grid, named pages for
landscape sheets, inline SVG, print media), it runs from Debian's
``chromium`` package with no Python dependency and no browser download
(Playwright stays a test tool), where WeasyPrint would add a second layout
engine with its own CSS support and native libraries (Pango) to install.
"""

from __future__ import annotations

import html
import io
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker
import pandas as pd
from matplotlib.figure import Figure

from foncier._format import FOOTPRINT_LABELS, fr_number, is_missing
from foncier.assumptions import assumptions_html, scenario_assumptions
from foncier.labels import OBJECTIVE_LABELS, POOL_LABELS, fr_datetime, solver_message
from foncier.layers import FOOTPRINT_APPROXIMATE, Col, TableCol, UnitCol
from foncier.maps import map_html, scenario_map
from foncier.outputs import write_text
from foncier.report_diagnosis import diagnosis_section
from foncier.sensitivity import FRAGILE_TOLERANCE
from foncier.synthesis import CLOSE_SHARE, DecisionSummary, decision_summary
from foncier.texts import CRITERIA_FR

__all__ = [
    "EXTRA_SECTIONS",
    "HEADLINE_LABELS",
    "REPORT_NAME",
    "ReportContext",
    "headline_figures",
    "write_pdf",
    "write_report",
]

#: Fragile placements listed by name in the report's sensitivity section (most jobs first).
FRAGILE_LISTED = 10

#: File name of the report inside a scenario folder (its PDF: ``report.pdf``).
REPORT_NAME = "report.html"
#: French label and unit of each headline figure, in display order.
HEADLINE_LABELS: dict[str, tuple[str, str]] = {
    "projects_placed": ("Projets placés", ""),
    "projects": ("Projets étudiés", ""),
    "jobs_placed": ("Emplois des projets placés", ""),
    "jobs_total": ("Emplois de tous les projets", ""),
    "investment_placed_eur": ("Investissement des projets placés", "M€"),
    "investment_total_eur": ("Investissement de tous les projets", "M€"),
    "ha_needed": ("Surface nécessaire (tous les projets)", "ha"),
    "ha_used": ("Surface placée", "ha"),
    "ha_friches_reused": ("dont friches réemployées", "ha"),
    "ha_enaf": ("ENAF pris sur les enveloppes locales", "ha"),
    "ha_enaf_pene": ("ENAF des projets PENE (enveloppe nationale)", "ha"),
    "remaining_before_ha": ("Budget ZAN disponible avant le scénario", "ha"),
    "remaining_after_ha": ("Budget ZAN disponible après le scénario", "ha"),
    "pools_over_budget_after": ("Enveloppes dépassées après le scénario", ""),
}
#: Columns of the ZAN balance shown in the report, in ha, in display order.
_BALANCE_HA = (
    TableCol.ENVELOPE_HA,
    TableCol.CONSUMED_HA,
    TableCol.COMMITTED_HA,
    TableCol.REMAINING_BEFORE_HA,
    TableCol.CONSUMED_BY_PLACEMENTS_HA,
    TableCol.REMAINING_AFTER_HA,
)
_DECIMALS = {"": 0, "M€": 2, "ha": 2}
_POOL_FR = {"commune": "commune", "epci": "EPCI", "scot": "SCoT"}
_CHART_COLUMNS = 5
#: Rows of small multiples in one chart: a chart of 5 × 8 fits on a printed page.
_CHART_ROWS = 8
#: At most this many projects and pools are listed on page 1; the sections after list all.
_SYNTHESIS_PROJECTS = 10
_SYNTHESIS_POOLS = 6


def _css() -> str:
    return (resources.files("foncier") / "templates" / "report.css").read_text(encoding="utf-8")


def _esc(value: Any) -> str:
    """Escaped text of a cell; a missing value (None, NaN, ``pd.NA``…) shows nothing."""
    return "" if is_missing(value) else html.escape(str(value))


def _num(value: Any, decimals: int = 1, unit: str = "") -> str:
    return "n.d." if is_missing(value) else fr_number(float(value), decimals, unit)


def _id(value: Any) -> str:
    """An identifier, in small after the name it belongs to."""
    return f" <span class='id'>{_esc(value)}</span>" if _esc(value) else ""


@dataclass(frozen=True)
class ReportContext:
    """What a section of the report is built from.

    Attributes
    ----------
    territory
        The scenario's :class:`~foncier.territory.Territory`.
    result
        The :class:`~foncier.scenarios.ScenarioResult`.
    pool
        Budget pooling level of the scenario (``commune``, ``epci``, ``scot``).
    commune_names
        INSEE code → commune name.
    sites
        Site name of each land unit, indexed by ``unit_id``.
    """

    territory: Any
    result: Any
    pool: str
    commune_names: dict[str, str]
    sites: pd.Series


#: Further sections, placed after the ZAN balance and before the trajectories: each
#: function takes the :class:`ReportContext` and returns the HTML of a
#: ``<section class='extra'>`` (with its ``<h2>``), or ``""`` when it has nothing to show.
EXTRA_SECTIONS: tuple[Callable[[ReportContext], str], ...] = (
    lambda ctx: diagnosis_section(ctx.territory),  # the ZAN diagnosis (foncier.report_diagnosis)
)


# -- headline figures ----------------------------------------------------------------------


def _pene_enaf_ha(result: Any) -> float:
    """ENAF of the placed PENE projects: area × ENAF share of their unit (national envelope)."""
    a = result.assignments
    pene = a[a[Col.IS_PENE].astype(bool)]
    if pene.empty:
        return 0.0
    units = result.units
    share = (
        units.set_index(units[UnitCol.UNIT_ID].astype(str))[UnitCol.ENAF_SHARE]
        .astype(float)
        .reindex(pene[UnitCol.UNIT_ID].astype(str))
        .fillna(1.0)
        .to_numpy()
    )
    return float((pene[TableCol.AREA_HA].astype(float).to_numpy() * share).sum())


def headline_figures(result: Any, projects: pd.DataFrame | None = None) -> dict[str, float]:
    """The report's headline figures, read from the scenario result.

    Counts, jobs, hectares placed, ENAF consumed and pools over budget are
    the result's ``totals``; the remaining budgets are sums over the result's
    ``zan_balance`` of what pools not over budget have left (a pool over its
    envelope has nothing left to give, it does not lower the others).  The
    ENAF of PENE projects, charged to the national envelope and not to the
    local ones, is their area times the ENAF share of their unit.  The
    investment and the area needed are taken from ``totals`` when the result
    carries them, otherwise from ``projects`` when it is the scenario's
    portfolio (same number of projects); else NaN.

    Parameters
    ----------
    result
        A :class:`foncier.scenarios.ScenarioResult`.
    projects
        The scenario's projects (``project_id``, ``investment_eur``,
        ``area_min_ha``), for the figures the result does not carry.

    Returns
    -------
    dict
        Keys of :data:`HEADLINE_LABELS`; investments in euros.
    """
    totals = dict(result.totals)
    balance = result.zan_balance
    out: dict[str, float] = {k: float(totals[k]) for k in HEADLINE_LABELS if k in totals}
    out["remaining_before_ha"] = float(balance[TableCol.REMAINING_BEFORE_HA].clip(lower=0).sum())
    out["remaining_after_ha"] = float(balance[TableCol.REMAINING_AFTER_HA].clip(lower=0).sum())
    out["ha_enaf_pene"] = _pene_enaf_ha(result)
    same = projects is not None and len(projects) == int(totals.get("projects", -1))
    placed = set(result.assignments[Col.PROJECT_ID].astype(str))
    if projects is not None and same:
        ids = projects[Col.PROJECT_ID].astype(str)
        invest = pd.to_numeric(projects[Col.INVESTMENT_EUR], errors="coerce")
        out.setdefault("investment_total_eur", float(invest.sum()))
        out.setdefault("investment_placed_eur", float(invest[ids.isin(placed)].sum()))
        out.setdefault("ha_needed", float(projects[Col.AREA_MIN_HA].astype(float).sum()))
    for key in ("investment_total_eur", "investment_placed_eur", "ha_needed"):
        out.setdefault(key, float("nan"))
    return {k: out[k] for k in HEADLINE_LABELS}


def _figure_text(figures: dict[str, float], key: str) -> str:
    unit = HEADLINE_LABELS[key][1]
    value = figures[key]
    return fr_number(value / 1e6 if unit == "M€" else value, _DECIMALS[unit], unit)


def _figures_html(figures: dict[str, float]) -> str:
    cells = []
    for key, (label, _) in HEADLINE_LABELS.items():
        value = figures[key]
        raw = "" if math.isnan(value) else repr(float(value))
        cells.append(
            f"<div class='figure' data-key='{key}' data-value='{raw}'>"
            f"<span class='value'>{_figure_text(figures, key)}</span>"
            f"<span class='label'>{_esc(label)}</span></div>"
        )
    note = (
        "<p class='note'>Budget ZAN disponible : somme de ce qui reste aux enveloppes non "
        "dépassées ; une enveloppe dépassée n'a plus rien à donner et ne réduit pas celles "
        "des autres. Les projets d'envergure nationale ou européenne (PENE) sont décomptés de "
        "l'enveloppe nationale, pas des enveloppes locales.</p>"
    )
    return "<div class='figures'>" + "".join(cells) + "</div>" + note


# -- tables --------------------------------------------------------------------------------


def _table(
    head: list[tuple[str, bool]],
    rows: list[list[str]],
    classes: list[str] | None = None,
    *,
    widths: Sequence[float] | None = None,
    css_class: str = "",
) -> str:
    """An HTML table; ``widths`` (percentages of the page width) fix its layout."""
    cols = ""
    if widths is not None:
        cols = "<colgroup>" + "".join(f"<col style='width:{w:g}%'>" for w in widths) + "</colgroup>"
    th = "".join(f"<th class='num'>{h}</th>" if num else f"<th>{h}</th>" for h, num in head)
    body = []
    for i, row in enumerate(rows):
        cls = f" class='{classes[i]}'" if classes and classes[i] else ""
        tds = "".join(
            f"<td class='num'>{v}</td>" if num else f"<td>{v}</td>"
            for v, (_, num) in zip(row, head, strict=True)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    attr = f" class='{css_class}'" if css_class else ""
    return f"<table{attr}>{cols}<thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _balance_html(balance: pd.DataFrame, pool: str) -> str:
    head = [
        (_POOL_FR.get(pool, pool).capitalize(), False),
        ("Enveloppe 2021-2031", True),
        ("Consommé depuis 2021", True),
        ("Engagé", True),
        ("Reste avant", True),
        ("ENAF des projets", True),
        ("Reste après", True),
    ]
    rows, classes = [], []
    for r, over in zip(
        balance.itertuples(index=False), balance[TableCol.OVER_BUDGET].astype(bool), strict=True
    ):
        values = [getattr(r, c) for c in _BALANCE_HA]
        rows.append([f"{_esc(r.name)}{_id(r.pool_id)}", *(_num(v, 2) for v in values)])
        classes.append("over" if over else "")
    sums = balance[list(_BALANCE_HA)].sum()
    rows.append(["Total du territoire", *(_num(v, 2) for v in sums)])
    classes.append("total")
    note = (
        "<p class='note'>Hectares ; en rouge, les enveloppes dépassées après le scénario. "
        "Le total additionne aussi les restes négatifs des enveloppes dépassées.</p>"
    )
    widths = (28, 12, 12, 12, 12, 12, 12)
    return _table(head, rows, classes, widths=widths) + note


def _communes_html(budgets: pd.DataFrame) -> str:
    from foncier.zan import STATUS_LABELS

    head = [
        ("Commune", False),
        ("Enveloppe", True),
        ("Consommé depuis 2021", True),
        ("Reste", True),
        ("Statut", False),
    ]
    status = budgets[TableCol.STATUS].astype(str)
    rows = [
        [
            f"{_esc(r.name)}{_id(r.insee)}",
            _num(getattr(r, TableCol.ENVELOPE_HA), 2),
            _num(getattr(r, TableCol.CONSUMED_HA), 2),
            _num(getattr(r, TableCol.REMAINING_HA), 2),
            _esc(STATUS_LABELS.get(s, s)),
        ]
        for r, s in zip(budgets.itertuples(index=False), status, strict=True)
    ]
    classes = ["over" if s == "exceeded" else "" for s in status]
    return _table(head, rows, classes, widths=(34, 15, 15, 15, 21))


def _placements_html(assignments: pd.DataFrame, ctx: ReportContext) -> str:
    """The placed projects, one line each (the annex); ids float right of a shortened name."""
    units = ctx.result.units
    approximate = (
        set(units.loc[units[UnitCol.FOOTPRINT] == FOOTPRINT_APPROXIMATE, UnitCol.UNIT_ID])
        if UnitCol.FOOTPRINT in units.columns
        else set()
    )
    head = [
        ("Projet", False),
        ("Secteur", False),
        ("Site", False),
        ("Commune", False),
        ("Surface (ha)", True),
        ("Lot (ha)", True),
        ("ENAF (ha)", True),
        ("Emplois", True),
        ("Score", True),
    ]
    ordered = assignments.sort_values([Col.INSEE, UnitCol.UNIT_ID, Col.PROJECT_ID], kind="stable")
    rows = []
    for r in ordered.itertuples(index=False):
        unit = str(r.unit_id)
        mark = " *" if unit in approximate else ""
        pene = " <b>PENE</b>" if bool(r.is_pene) else ""
        rows.append(
            [
                f"{_id(r.project_id)}{_esc(r.name)}{pene}",
                _esc(r.sector),
                f"{_id(unit)}{_esc(ctx.sites.get(unit, unit))}{mark}",
                _esc(ctx.commune_names.get(str(r.insee), r.insee)),
                _num(r.area_ha, 2),
                _num(getattr(r, TableCol.LOT_AREA_HA, None), 2),
                _num(r.enaf_ha, 2),
                _num(r.jobs, 0),
                _num(r.score, 2),
            ]
        )
    notes = [
        "Lot : les parcelles du terrain attribuées au projet. "
        "ENAF : hectares pris sur l'enveloppe locale (0 sur une friche, un terrain déjà "
        "artificialisé, ou pour un projet PENE, décompté de l'enveloppe nationale). "
        + _score_sentence(ctx.result.audit)
        + " Le coût ZAN, les raisons de chaque choix et les parcelles de chaque lot figurent "
        "dans le classeur du scénario (scenario.xlsx, feuille « Placements »)."
    ]
    if approximate & set(assignments[UnitCol.UNIT_ID].astype(str)):
        notes.append(f"* {_esc(FOOTPRINT_LABELS[FOOTPRINT_APPROXIMATE])}.")
    widths = (24, 12, 25, 10, 6, 6, 6, 6, 5)
    table = _table(head, rows, widths=widths, css_class="annex")
    return table + "".join(f"<p class='note'>{n}</p>" for n in notes)


def _score_sentence(audit: dict[str, Any]) -> str:
    """What a score is, in one sentence, with the scenario's three heaviest weights."""
    weights = {
        k: float(v)
        for k, v in (audit.get("weights") or {}).items()
        if k in CRITERIA_FR and k != "unverified" and float(v) > 0
    }
    top = sorted(weights, key=lambda k: -weights[k])[:3]
    named = ", ".join(f"{CRITERIA_FR[k]} {fr_number(100 * weights[k], 0, '%')}" for k in top)
    return (
        "Le score, de 0 à 1, est la part de l'idéal qu'atteint le terrain pour le projet : "
        "chaque critère est noté de 0 à 1 et pondéré"
        + (f" (entre autres {named})" if named else "")
        + ", moins une pénalité par exigence non vérifiée ; « score 0,22 » veut dire 22 % de "
        "cet idéal."
    )


def _unit_role(reason_code: str) -> str:
    """What the unit named with a project left out is to it."""
    return "Terrain le plus proche" if reason_code == "infeasible" else "Terrain en cause"


def _unmatched_html(summary: DecisionSummary, sites: pd.Series) -> str:
    if not summary.arbitration:
        return "<p>Tous les projets sont placés.</p>"
    parts = []
    for code, label, group in summary.arbitration:
        items = "".join(
            f"<li><b>{_esc(r.name)}</b>{_id(r.project_id)} ({_num(r.area_min_ha, 2, 'ha')}, "
            f"{_num(r.jobs, 0)} emplois) : {_esc(r.explanation)}"
            + (
                f"<br><span class='label'>{_unit_role(code)} : "
                f"{_esc(sites.get(str(r.unit_id), r.unit_id))}</span>{_id(r.unit_id)}"
                if _esc(r.unit_id)
                else ""
            )
            + (f"<br><span class='label'>Piste : {_esc(r.hint)}</span>" if _esc(r.hint) else "")
            + "</li>"
            for r in group.itertuples(index=False)
        )
        parts.append(f"<h3>{_esc(label)} ({len(group)})</h3><ul>{items}</ul>")
    return "".join(parts)


# -- sensitivity (foncier.sensitivity): one section, kept apart from the rest of the report


def sensitivity_html(result: Any) -> str:
    """Report section: what one more hectare is worth per pool, stable and fragile placements.

    Parameters
    ----------
    result
        A :class:`~foncier.scenarios.ScenarioResult`.

    Returns
    -------
    str
        HTML (an ``<h2>`` and its content); empty when the scenario was run
        without the sensitivity step.
    """
    values = getattr(result, "budget_values", None)
    a = result.assignments
    if values is None or not len(values) or "stability" not in a.columns:
        return ""
    worth = values[values["jobs_per_extra_ha"] > 0].sort_values(
        "jobs_per_extra_ha", ascending=False, kind="stable"
    )
    rows = [
        [_esc(r.name), _num(r.remaining_after_ha, 2, "ha"), _num(r.jobs_per_extra_ha, 0)]
        for r in worth.itertuples(index=False)
    ]
    pools = (
        _table(
            [("Enveloppe", False), ("Reste après le scénario", True), ("Emplois gagnés", True)],
            rows,
        )
        if rows
        else "<p>Un hectare de budget de plus ne placerait aucun projet de plus.</p>"
    )
    counts = a["stability"].value_counts()
    fragile = a[a["stability"] == "fragile"]
    if "jobs" in fragile.columns:
        fragile = fragile.sort_values("jobs", ascending=False, kind="stable")
    shown = fragile.head(FRAGILE_LISTED)
    items = "".join(
        f"<li><b>{_esc(r.project_id)}</b> sur {_esc(r.unit_id)}"
        + (
            f" : pourrait aller sur {_esc(r.alternative_unit_id)} presque sans perte"
            if _esc(r.alternative_unit_id)
            else " : une solution presque aussi bonne laisse ce projet de côté"
        )
        + "</li>"
        for r in shown.itertuples(index=False)
    )
    if len(fragile) > len(shown):
        items += (
            f"<li>et {len(fragile) - len(shown)} autres placements fragiles (colonne "
            "« Stabilité du placement » du classeur du scénario)</li>"
        )
    stable = a[a["stability"] == "stable"]
    firm = (
        "<p>Placements stables : "
        + ", ".join(
            f"<b>{_esc(r.project_id)}</b> sur {_esc(r.unit_id)}" for r in stable.itertuples()
        )
        + ".</p>"
        if len(stable)
        else ""
    )
    return (
        "<h2>Sensibilité</h2>"
        "<p class='label'>Valeur d'un hectare de budget ZAN de plus, par enveloppe : emplois "
        "gagnés en recalculant le scénario avec 1 ha de plus (au moins autant : le recalcul "
        "est limité dans le temps).</p>"
        f"{pools}"
        f"<p>Placements stables : {int(counts.get('stable', 0))} ; fragiles : "
        f"{int(counts.get('fragile', 0))} ; non testés : {int(counts.get('untested', 0))}. "
        "Un placement est fragile quand une solution sans lui reste à moins de "
        f"{fr_number(100 * FRAGILE_TOLERANCE, 1, '%')} de l'objectif du scénario ; stable "
        "quand le recalcul sans ce terrain prouve une perte plus grande.</p>"
        + firm
        + (
            f"<p>Placements fragiles, les plus gros en emplois d'abord :</p><ul>{items}</ul>"
            if items
            else ""
        )
    )


def _audit_html(audit: dict[str, Any]) -> str:
    gap = float(audit.get("solver_gap") or 0.0)
    status = str(audit.get("solver_status") or "")
    fields = [
        ("Scénario", audit.get("name")),
        ("Territoire", audit.get("territory")),
        ("Données", audit.get("data_label")),
        ("Règles ZAN", f"{audit.get('rules')} (version {audit.get('rules_version')})"),
        ("Source des règles", audit.get("rules_source")),
        ("Millésime ENAF", audit.get("enaf_vintage")),
        ("Budgets", POOL_LABELS.get(audit.get("pool", ""), audit.get("pool"))),
        ("Objectif", OBJECTIVE_LABELS.get(audit.get("objective", ""), audit.get("objective"))),
        (
            "Solveur",
            f"{solver_message(status, greedy_kept=bool(audit.get('solver_greedy_kept')))}, "
            f"écart {_num(100 * gap, 2, '%')}",
        ),
        ("Version de foncier", audit.get("foncier_version")),
        ("Calculé le", fr_datetime(audit["started_at"]) if audit.get("started_at") else None),
    ]
    rows = [[_esc(k), _esc(v)] for k, v in fields if v is not None]
    hashes = audit.get("inputs_sha256", {}) or {}
    hash_rows = [[_esc(k), f"<code>{_esc(v)}</code>"] for k, v in sorted(hashes.items())]
    return (
        _table([("Élément", False), ("Valeur", False)], rows, widths=(25, 75))
        + "<h3>Empreintes SHA-256 des données d'entrée</h3>"
        + _table([("Donnée", False), ("SHA-256", False)], hash_rows, widths=(30, 70))
    )


# -- synthesis (page 1) ---------------------------------------------------------------------


def _year_text(year: float, target_end: int) -> str:
    if math.isnan(year):
        return "n.d."
    if year > target_end:
        return f"pas avant {target_end}"
    return f"{year:.0f}"


def _plural(n: int, singular: str, plural: str) -> str:
    """The French form for ``n`` things: singular for 0 and 1."""
    return singular if n <= 1 else plural


def _runout_phrase(year: float, key: str, target_end: int) -> str:
    """« est épuisée en 2025 », « n'est pas épuisée avant 2031 », « est déjà épuisée »."""
    if math.isnan(year):
        return "a une date d'épuisement inconnue (données incomplètes)"
    if year > target_end:
        return f"n'est pas épuisée avant <b data-synth='{key}'>{target_end}</b>"
    return f"est épuisée en <b data-synth='{key}'>{year:.0f}</b>"


def _lead_html(summary: DecisionSummary, figures: dict[str, float]) -> str:
    n_left = sum(len(g) for _, _, g in summary.arbitration)
    pools = summary.pools
    over = int((pools["state"] != "close").sum())
    close = int((pools["state"] == "close").sum())
    o = summary.outlook
    envelope = f"l'enveloppe 2021-2031 du territoire ({_num(o.envelope_ha, 1, 'ha')})"
    if o.remaining_before_ha <= 0:
        when = f"{envelope} est déjà épuisée"
    else:
        when = (
            f"au rythme constaté depuis 2021 ({_num(o.pace_ha_per_year, 1, 'ha')} par an), "
            f"{envelope} {_runout_phrase(o.runout_year, 'runout_year', o.target_end_year)} ; "
            "si les projets placés s'y ajoutent, elle "
            + _runout_phrase(
                o.runout_year_with_placements, "runout_year_with_placements", o.target_end_year
            )
        )
    projects = f"{figures['projects']:.0f}"
    return (
        f"<p class='lead'><b data-synth='arbitration'>{n_left}</b> "
        f"{_plural(n_left, 'projet', 'projets')} sur {projects} "
        f"{_plural(n_left, 'demande', 'demandent')} un arbitrage ; "
        f"<b data-synth='pools_over'>{over}</b> {_plural(over, 'enveloppe', 'enveloppes')} "
        f"sur {summary.pools_total} {_plural(over, 'est dépassée', 'sont dépassées')} après "
        f"le scénario et <b data-synth='pools_close'>{close}</b> "
        f"{_plural(close, 'est', 'sont')} à moins de {_pct(CLOSE_SHARE)} de "
        f"{_plural(close, 'son', 'leur')} montant ; {when}.</p>"
    )


def _strip_html(figures: dict[str, float]) -> str:
    cells = [
        ("projects_placed", f"sur {figures['projects']:.0f} projets placés"),
        ("jobs_placed", f"emplois sur {figures['jobs_total']:.0f}"),
        ("ha_used", f"placés, dont {_figure_text(figures, 'ha_friches_reused')} de friches"),
        ("ha_enaf", "d'ENAF pris sur les enveloppes locales"),
        ("ha_enaf_pene", "d'ENAF des projets PENE (enveloppe nationale, à part)"),
        ("remaining_after_ha", "de budget ZAN disponible après le scénario"),
        ("investment_placed_eur", "d'investissement placé"),
        (
            "pools_over_budget_after",
            _plural(
                int(figures["pools_over_budget_after"]),
                "enveloppe dépassée après le scénario",
                "enveloppes dépassées après le scénario",
            ),
        ),
    ]
    return (
        "<div class='strip'>"
        + "".join(
            f"<div data-synth='{k}'><b>{_figure_text(figures, k)}</b>{_esc(text)}</div>"
            for k, text in cells
        )
        + "</div>"
    )


def _arbitration_list(summary: DecisionSummary) -> str:
    if not summary.arbitration:
        return "<p>Aucun : tous les projets sont placés.</p>"
    parts, shown = [], 0
    for code, label, group in summary.arbitration:
        room = max(_SYNTHESIS_PROJECTS - shown, 1)
        items = "".join(
            f"<li data-project='{_esc(r.project_id)}'><b>{_esc(r.name)}</b>{_id(r.project_id)}"
            f" — {_num(r.area_min_ha, 2, 'ha')}, {_num(r.jobs, 0)} emplois"
            + (
                f" ; piste : {_esc(textwrap.shorten(str(r.hint), 90, placeholder='…'))}"
                if _esc(r.hint)
                else ""
            )
            + "</li>"
            for r in group.head(room).itertuples(index=False)
        )
        more = len(group) - min(room, len(group))
        others = _plural(more, "autre", "autres")
        tail = f"<li>… et {more} {others} : voir « Projets à arbitrer »</li>" if more else ""
        shown += min(room, len(group))
        parts.append(
            f"<h3 data-reason='{_esc(code)}' data-count='{len(group)}'>{_esc(label)} "
            f"({len(group)})</h3><ul>{items}{tail}</ul>"
        )
    return "".join(parts)


def _pools_watch_html(summary: DecisionSummary, ctx: ReportContext) -> str:
    pools = summary.pools
    if pools.empty:
        return (
            f"<p>Aucune : chaque enveloppe garde au moins {_pct(CLOSE_SHARE)} de son montant "
            "après le scénario.</p>"
        )
    state_fr = {
        "over_before": "déjà dépassée",
        "over": "dépassée",
        "close": "presque épuisée",
    }
    end = summary.outlook.target_end_year
    rows, classes = [], []
    shown = pools.head(_SYNTHESIS_POOLS)
    years = shown["runout_year"].to_numpy(dtype=float)
    for r, year in zip(shown.itertuples(index=False), years, strict=True):
        used = (
            f"{_esc(ctx.sites.get(str(r.main_unit_id), r.main_unit_id))}{_id(r.main_unit_id)}"
            f" : {_esc(r.main_project_name)}{_id(r.main_project_id)}, "
            f"{_num(r.main_enaf_ha, 2, 'ha')}"
            if _esc(r.main_unit_id)
            else "—"
        )
        rows.append(
            [
                f"{_esc(r.name)}{_id(r.pool_id)}",
                _esc(state_fr[str(r.state)]),
                _num(getattr(r, TableCol.REMAINING_BEFORE_HA), 2),
                _num(getattr(r, TableCol.REMAINING_AFTER_HA), 2),
                used,
                "déjà épuisée"
                if getattr(r, TableCol.REMAINING_BEFORE_HA) <= 0
                else _year_text(year, end),
            ]
        )
        classes.append("over" if r.state != "close" else "")
    head = [
        (_POOL_FR.get(ctx.pool, ctx.pool).capitalize(), False),
        ("Enveloppe", False),
        ("Reste avant (ha)", True),
        ("Reste après (ha)", True),
        ("Principal consommateur (site : projet, ENAF)", False),
        ("Épuisée au rythme actuel", True),
    ]
    more = len(pools) - min(len(pools), _SYNTHESIS_POOLS)
    others = _plural(more, "autre", "autres")
    tail = f"<p class='note'>… et {more} {others} : voir le bilan ZAN.</p>" if more else ""
    table = _table(head, rows, classes, widths=(18, 15, 10, 10, 34, 13))
    return table + tail


def _synthese_html(
    ctx: ReportContext, summary: DecisionSummary, figures: dict[str, float], stated: Any
) -> str:
    pool_phrase = _POOL_FR.get(ctx.pool, ctx.pool)
    return f"""
<section class='synthese' id='synthese'>
<h2>Synthèse pour décision</h2>
{_lead_html(summary, figures)}
{_strip_html(figures)}
<h3 class='block'>Projets à arbitrer</h3>
{_arbitration_list(summary)}
<h3 class='block'>Enveloppes ZAN dépassées ou presque épuisées (par {_esc(pool_phrase)})</h3>
{_pools_watch_html(summary, ctx)}
<p class='note'>{_esc(_score_sentence(ctx.result.audit))}</p>
{assumptions_html(stated)}
</section>
"""


# -- trajectory charts ---------------------------------------------------------------------


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    # Figure objects need no pyplot, so importing foncier never changes the user's backend
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "foncier"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _fr_axes(ax: Any, top: float) -> None:
    decimals = 0 if top >= 5 else (1 if top >= 0.5 else 2)
    ax.yaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda v, _: fr_number(v, decimals))
    )
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator([2011, 2016, 2021, 2026, 2031]))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}"))


def _series(traj: pd.DataFrame) -> dict[str, pd.Series]:
    return {str(name): g.set_index("year")["value_ha"] for name, g in traj.groupby("series")}


def _flows_axes(ax: Any, traj: pd.DataFrame, title: str, small: bool) -> None:
    """Annual ENAF consumption 2011 → last year of data, and the 2021-2031 target pace."""
    series = _series(traj)
    flows = series["consumption"]
    target = series["zan_2050"].loc[:2030]
    colours = ["#9e9e9e" if y < 2021 else "#e6550d" for y in flows.index]
    ax.bar(flows.index, flows.to_numpy(), color=colours, width=0.8, label="Consommation annuelle")
    ax.step(
        [*target.index, 2031],
        [*target.to_numpy(), target.iloc[-1]],
        where="post",
        color="#31a354",
        label="Rythme permis par l'enveloppe",
    )
    ax.set_xlim(2010.4, 2031.6)
    ax.set_title(title, fontsize=6.5 if small else 10)
    ax.tick_params(labelsize=5.5 if small else 8)
    _fr_axes(ax, float(max(flows.max(), target.max())))
    if not small:
        ax.set_ylabel("ha par an")
        ax.legend(fontsize=7, loc="upper left")


def _stock_axes(ax: Any, traj: pd.DataFrame, placed_ha: float) -> None:
    """Consumption since 2021 against the envelope, with the projection and the scenario."""
    series = _series(traj)
    cumulative, envelope, projection = (
        series["cumulative"],
        series["envelope"],
        series["projection"],
    )
    ax.plot(cumulative.index, cumulative.to_numpy(), color="#e6550d", label="Consommé depuis 2021")
    ax.plot(envelope.index, envelope.to_numpy(), color="#31a354", label="Enveloppe 2021-2031")
    ax.plot(
        projection.index,
        projection.to_numpy(),
        color="#e6550d",
        linestyle="--",
        label="Projection au rythme actuel",
    )
    end = int(cumulative.index.max())
    ax.scatter(
        [end],
        [float(cumulative.iloc[-1]) + placed_ha],
        color="#3182bd",
        zorder=3,
        label="Avec les projets placés",
    )
    ax.set_xlim(2020.5, 2031.5)
    ax.set_title("Consommation cumulée 2021-2031", fontsize=10)
    ax.tick_params(labelsize=8)
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator([2021, 2026, 2031]))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fr_number(v, 0)))
    ax.set_ylabel("ha")
    ax.legend(fontsize=7, loc="upper left")


def _small_multiples(territory: Any, result: Any, pool: str, balance: pd.DataFrame) -> str:
    """The yearly flows of each pool in ``balance``, one small chart each (one SVG)."""
    from foncier.zan import trajectory

    columns = max(1, min(_CHART_COLUMNS, len(balance)))
    rows = max(1, math.ceil(len(balance) / columns))
    fig = Figure(figsize=(7.4 * columns / max(columns, 3), 1.3 * rows * 5 / max(columns, 3)))
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True)
    for ax, r in zip(axes.ravel(), balance.itertuples(index=False), strict=False):
        traj = trajectory(territory, result.rules, pool=pool, pool_id=str(r.pool_id))
        title = (
            f"{textwrap.shorten(str(r.name), 30, placeholder='…')}\n"
            f"reste {_num(r.remaining_before_ha, 1)} → "
            f"{_num(r.remaining_after_ha, 1)} ha"
        )
        _flows_axes(ax, traj, title, small=True)
    for ax in axes.ravel()[len(balance) :]:
        ax.set_visible(False)
    fig.tight_layout(pad=0.3)
    return _svg(fig)


def _trajectory_svgs(territory: Any, result: Any) -> tuple[str, list[str]]:
    """A territory-wide chart, and small multiples of the yearly flows, one per pool.

    The small multiples come in blocks of at most :data:`_CHART_ROWS` rows, so that each
    block fits on a printed page.
    """
    from foncier.zan import trajectory

    pool = str(result.audit.get("pool", result.rules.pool))
    balance = result.zan_balance
    whole = trajectory(territory, result.rules, pool=pool)
    fig = Figure(figsize=(7.4, 2.8))
    left, right = fig.subplots(1, 2)
    _flows_axes(left, whole, "Consommation annuelle d'ENAF", small=False)
    _stock_axes(right, whole, float(balance["consumed_by_placements_ha"].sum()))
    fig.tight_layout(pad=0.4)
    block = _CHART_COLUMNS * _CHART_ROWS
    smalls = [
        _small_multiples(territory, result, pool, balance.iloc[i : i + block])
        for i in range(0, len(balance), block)
    ]
    return _svg(fig), smalls


# -- map -----------------------------------------------------------------------------------


def _map_section(ctx: ReportContext, synthetic: bool) -> str:
    """The static map for print and the interactive map for the screen."""
    from foncier.static_map import is_landscape, scenario_figure

    territory, result = ctx.territory, ctx.result
    static = _svg(scenario_figure(territory, result, synthetic=synthetic))
    landscape = " landscape" if is_landscape(territory.communes.total_bounds) else ""
    page_map = map_html(scenario_map(territory, result, result.units, inline_assets=True))
    caption = (
        "Communes et projets placés par le scénario, colorés par secteur (mêmes couleurs sur "
        "toutes les cartes) ; en rouge pâle, les enveloppes ZAN dépassées après le scénario. "
        f"{_esc(territory.data_label)}."
    )
    return f"""
<section class='page map-section{landscape}'>
<h2>Carte du scénario</h2>
<div class='static-map'>{static}</div>
<p class='note print-only'>{caption}</p>
<p class='note screen-only'>Carte interactive : couches, légende et fiches des terrains ;
une fois imprimé, ce rapport montre une carte fixe à sa place.</p>
<iframe class='map screen-only' title='Carte du scénario'
 srcdoc="{html.escape(page_map, quote=True)}"></iframe>
</section>
"""


# -- assembly ------------------------------------------------------------------------------


def _territory_of(territory: Any) -> Any:
    from foncier.territory import Territory

    return Territory.from_folder(territory) if isinstance(territory, (str, Path)) else territory


def _pct(share: float) -> str:
    return fr_number(100 * share, 0, "%")


def write_report(
    result_dir: str | Path,
    territory: Any = None,
    out: str | Path | None = None,
    *,
    force: bool = False,
    extra_sections: Sequence[Callable[[ReportContext], str]] | None = None,
) -> Path:
    """Write the working group's HTML report of a scenario result folder.

    Everything the report shows comes from the result itself (its tables,
    rule set and land units), except commune names and shapes, site names
    and the ENAF consumption series (trajectories, pace), read from the
    territory.

    Parameters
    ----------
    result_dir
        Folder written by :meth:`foncier.scenarios.ScenarioResult.to_folder`.
    territory
        The scenario's :class:`~foncier.territory.Territory` or its folder;
        ``None``: the folder its audit record names.
    out
        Path of the page; ``result_dir/report.html`` when ``None``.
    force
        Allow replacing a file foncier wrote as another kind of output (a
        file foncier did not write is never replaced).
    extra_sections
        Builders of further sections (see :data:`EXTRA_SECTIONS`, the
        default).

    Returns
    -------
    pathlib.Path
        The page written: self-contained (charts and the printed map as
        inline SVG, the interactive map with Leaflet inlined), printable on
        A4 (:func:`write_pdf`).

    Raises
    ------
    DataSourceError
        ``result_dir`` is not a scenario result folder, or the territory
        folder cannot be read (or is not named and the audit's has moved).
    OutputError
        ``out`` is one of the result's files, lies in the territory folder,
        is a file foncier did not write, or the system refused the write.

    Examples
    --------
    >>> write_report("out/scenario", "territoire/")  # doctest: +SKIP
    PosixPath('out/scenario/report.html')
    """
    from foncier.errors import DataSourceError
    from foncier.explain import unit_sites
    from foncier.scenarios import RESULT_FILES, ScenarioResult
    from foncier.zan import budget_table

    folder = Path(result_dir)
    result = ScenarioResult.from_folder(folder)
    if territory is None:
        territory = result.territory_path
        if territory is None or not Path(territory).is_dir():
            msg = (
                f"le résultat {folder} ne nomme pas de dossier de territoire existant "
                f"({territory}) ; indiquez le territoire (foncier report --territory DOSSIER)"
            )
            raise DataSourceError(msg)
    territory = _territory_of(territory)
    audit = result.audit
    pool = str(audit.get("pool", "commune"))
    ctx = ReportContext(
        territory=territory,
        result=result,
        pool=pool,
        commune_names=dict(
            zip(
                territory.communes[Col.INSEE].astype(str),
                territory.communes[Col.NAME].astype(str),
                strict=True,
            )
        ),
        sites=unit_sites(result.units, territory),
    )
    figures = headline_figures(result)
    summary = decision_summary(result, territory, ctx.sites)
    big_chart, small_charts = _trajectory_svgs(territory, result)
    communes = ""
    if pool != "commune":
        communes = "<h3>Détail par commune</h3>" + _communes_html(
            budget_table(territory, result.rules, pool="commune")
        )
    stated = getattr(result, "hypotheses", None) or audit.get("hypotheses")
    if stated is None:  # a result written before its assumptions were recorded
        stated = scenario_assumptions(territory, result.units, None, result.assignments)
    synthetic = bool(territory.synthetic or audit.get("synthetic"))
    banner = (
        "<p class='synthetic'>Échantillon synthétique : territoire et projets fictifs, "
        "chiffres sans valeur réelle.</p>"
        if synthetic
        else ""
    )
    sections = EXTRA_SECTIONS if extra_sections is None else tuple(extra_sections)
    extra = "".join(build(ctx) for build in sections)
    title = f"Foncier industriel et ZAN : {territory.name}"
    now = fr_datetime(datetime.now(UTC))
    objective = OBJECTIVE_LABELS.get(audit.get("objective", ""), audit.get("objective"))
    pool_fr = _esc(_POOL_FR.get(pool, pool))
    n_left = len(result.unmatched)
    body = f"""
<h1>{_esc(title)}</h1>
<p class='label meta'>Scénario « {_esc(audit.get("name", ""))} »,
objectif « {_esc(objective)} », budgets ZAN {_esc(POOL_LABELS.get(pool, pool))} ;
{_esc(territory.data_label)} ; règles {_esc(audit.get("rules"))}
(version {_esc(audit.get("rules_version"))}) ; rapport produit le {now}.</p>
{banner}
{_synthese_html(ctx, summary, figures, stated)}
<section class='page'>
<h2>Projets à arbitrer ({n_left})</h2>
{_unmatched_html(summary, ctx.sites)}
<h2>Chiffres clés</h2>
{_figures_html(figures)}
</section>
<section>
<h2>Bilan ZAN par {pool_fr}</h2>
{_balance_html(result.zan_balance, pool)}
{communes}
</section>
{extra}
<section class='page'>
<h2>Trajectoire ZAN 2011 → 2031</h2>
<p class='note'>Barres grises : consommation d'ENAF de la période de référence 2011-2020 ;
orange : depuis 2021 ; vert : rythme annuel permis par l'enveloppe 2021-2031 (à gauche) et
l'enveloppe elle-même (à droite) ; point bleu : consommation cumulée avec l'ENAF des projets
placés par le scénario. Puis une vignette par {pool_fr}, avec son reste
avant → après le scénario.</p>
<div class='chart'>{big_chart}</div>
{"".join(f"<div class='chart'>{svg}</div>" for svg in small_charts)}
</section>
{_map_section(ctx, synthetic)}
{sensitivity_html(result)}
<section class='page'>
<h2>Annexe : projets placés ({len(result.assignments)})</h2>
{_placements_html(result.assignments, ctx)}
</section>
<section class='page'>
<h2>Annexe : traçabilité du calcul</h2>
{_audit_html(audit)}
</section>
"""
    page = (
        "<!DOCTYPE html>\n<html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_css()}</style></head><body>{body}</body></html>"
    )
    target = Path(out) if out is not None else folder / REPORT_NAME
    inputs = [*(folder / name for name in RESULT_FILES), getattr(territory, "folder", None)]
    return write_text(target, _compact(page), "report", force=force, inputs=inputs)


def _compact(page: str) -> str:
    """Drop the SVG metadata matplotlib writes (dates would make pages differ)."""
    return re.sub(r"<metadata>.*?</metadata>", "", page, flags=re.DOTALL)


def write_pdf(
    report: str | Path,
    out: str | Path | None = None,
    *,
    force: bool = False,
    chromium: str | Path | None = None,
) -> Path:
    """Print an HTML report to an A4 PDF beside it, with headless Chromium.

    The PDF is the report's print layout (``@media print``: static map,
    landscape pages where set, page numbers); Chromium opens it with every
    host name unresolvable, so printing needs no network.

    Parameters
    ----------
    report
        The report page (:func:`write_report`).
    out
        The PDF; the page's path with the suffix ``.pdf`` when ``None``.
    force
        Allow replacing a file foncier wrote as another kind of output.
    chromium
        The browser to print with; ``None`` looks for it
        (:func:`foncier.pdf.find_chromium`).

    Returns
    -------
    pathlib.Path
        The PDF written, through the output policy (atomic, in the manifest).

    Raises
    ------
    DataSourceError
        Chromium is not installed, or failed to print the page.
    OutputError
        The output policy refuses ``out``.
    """
    from foncier.outputs import write_file
    from foncier.pdf import find_chromium, print_to_pdf

    page = Path(report)
    target = Path(out) if out is not None else page.with_suffix(".pdf")
    browser = Path(chromium) if chromium is not None else find_chromium()
    return write_file(
        target,
        "report",
        lambda tmp: print_to_pdf(page, tmp, browser),
        force=force,
        inputs=[page],
    )
