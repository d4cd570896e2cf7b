"""The working group's report: one printable HTML page per scenario, in French.

:func:`write_report` reads a scenario result folder (written by
:meth:`foncier.scenarios.ScenarioResult.to_folder`) and writes
``report.html`` next to it: headline figures, the ZAN balance per pool (and
per commune when budgets are pooled), the 2011 → 2031 ZAN trajectory of each
pool (matplotlib, inline SVG), the placements, the projects left out grouped
by reason, the audit record, and the scenario map embedded with Leaflet
inlined.  A "Hypothèses" box at the top states what the figures rest on by
default (:mod:`foncier.assumptions`).  The page needs no network and prints on A4.

Every figure comes from the result (its ``totals``, ``zan_balance``,
``assignments``, ``unmatched`` and ``audit``); only what the result does not
carry is read from the territory: the names and sectors of projects, the
investment and area needed (checked against the result's project count), and
the yearly ENAF series of the charts.
"""

from __future__ import annotations

import html
import io
import math
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker
import pandas as pd
from matplotlib.figure import Figure

from foncier._format import FOOTPRINT_LABELS, fr_number, is_missing  # noqa: E402
from foncier.assumptions import assumptions_html, scenario_assumptions  # noqa: E402
from foncier.labels import REASON_LABELS  # noqa: E402
from foncier.layers import FOOTPRINT_APPROXIMATE, Col, UnitCol  # noqa: E402
from foncier.maps import map_html, scenario_map  # noqa: E402
from foncier.outputs import write_text  # noqa: E402

__all__ = ["HEADLINE_LABELS", "REPORT_NAME", "headline_figures", "write_report"]

#: File name of the report inside a scenario folder.
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
    "ha_enaf": ("ENAF consommé par les projets placés", "ha"),
    "remaining_before_ha": ("Budget ZAN disponible avant le scénario", "ha"),
    "remaining_after_ha": ("Budget ZAN disponible après le scénario", "ha"),
    "pools_over_budget_after": ("Enveloppes dépassées après le scénario", ""),
}
#: Columns of the ZAN balance shown in the report, in ha, in display order.
_BALANCE_HA = (
    "envelope_ha",
    "consumed_ha",
    "committed_ha",
    "remaining_before_ha",
    "consumed_by_placements_ha",
    "remaining_after_ha",
)
_DECIMALS = {"": 0, "M€": 2, "ha": 2}
_POOL_FR = {"commune": "commune", "epci": "EPCI", "scot": "SCoT"}
_CHART_COLUMNS = 5
_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font: 10.5pt/1.4 "DejaVu Sans", Arial, sans-serif; color: #222; margin: 0 auto;
       max-width: 190mm; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 7mm 0 2mm;
     border-bottom: 1px solid #999; }
.label { color: #555; } .synthetic { color: #b2182b; font-weight: bold; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 2mm; }
.figure { border: 1px solid #ccc; border-radius: 2mm; padding: 2mm; }
.figure .value { font-size: 14pt; font-weight: bold; display: block; }
.note { font-size: 9pt; color: #555; margin: 1mm 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #ddd; padding: 1px 4px; text-align: left; vertical-align: top; }
td:first-child { min-width: 38mm; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.over td { color: #b2182b; font-weight: bold; }
.chart svg { max-width: 100%; height: auto; }
iframe.map { width: 100%; height: 160mm; border: 1px solid #999; }
code { font-size: 7.5pt; word-break: break-all; }
.hypotheses { border: 1px solid #e08214; background: #fff7ec; border-radius: 2mm;
              padding: 1mm 3mm; margin: 3mm 0; }
.hypotheses h2 { border: none; margin: 1mm 0; font-size: 11pt; }
.hypotheses ul { margin: 1mm 0; padding-left: 5mm; } .hypotheses li { margin: 0.5mm 0; }
@media print {
  h2 { break-after: avoid; } tr, .figure, .chart, iframe.map { break-inside: avoid; }
  .map-section { break-before: page; }
}
"""


def _esc(value: Any) -> str:
    """Escaped text of a cell; a missing value (None, NaN, ``pd.NA``…) shows nothing."""
    return "" if is_missing(value) else html.escape(str(value))


def _num(value: Any, decimals: int = 1, unit: str = "") -> str:
    return "n.d." if is_missing(value) else fr_number(float(value), decimals, unit)


# -- headline figures ----------------------------------------------------------------------


def headline_figures(result: Any, projects: pd.DataFrame | None = None) -> dict[str, float]:
    """The report's headline figures, read from the scenario result.

    Counts, jobs, hectares placed, ENAF consumed and pools over budget are
    the result's ``totals``; the remaining budgets are sums over the result's
    ``zan_balance`` of what pools not over budget have left (a pool over its
    envelope has nothing left to give, it does not lower the others).  The
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
    out["remaining_before_ha"] = float(balance["remaining_before_ha"].clip(lower=0).sum())
    out["remaining_after_ha"] = float(balance["remaining_after_ha"].clip(lower=0).sum())
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


def _figures_html(figures: dict[str, float]) -> str:
    cells = []
    for key, (label, unit) in HEADLINE_LABELS.items():
        value = figures[key]
        shown = value / 1e6 if unit == "M€" else value
        text = fr_number(shown, _DECIMALS[unit], unit)
        raw = "" if math.isnan(value) else repr(float(value))
        cells.append(
            f"<div class='figure' data-key='{key}' data-value='{raw}'>"
            f"<span class='value'>{text}</span><span class='label'>{_esc(label)}</span></div>"
        )
    note = (
        "<p class='note'>Budget ZAN disponible : somme de ce qui reste aux enveloppes non "
        "dépassées ; une enveloppe dépassée n'a plus rien à donner et ne réduit pas celles "
        "des autres.</p>"
    )
    return "<div class='figures'>" + "".join(cells) + "</div>" + note


# -- tables --------------------------------------------------------------------------------


def _table(
    head: list[tuple[str, bool]], rows: list[list[str]], classes: list[str] | None = None
) -> str:
    th = "".join(f"<th class='num'>{h}</th>" if num else f"<th>{h}</th>" for h, num in head)
    body = []
    for i, row in enumerate(rows):
        cls = f" class='{classes[i]}'" if classes and classes[i] else ""
        tds = "".join(
            f"<td class='num'>{v}</td>" if num else f"<td>{v}</td>"
            for v, (_, num) in zip(row, head, strict=True)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


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
    for r in balance.itertuples(index=False):
        rows.append(
            [
                f"{_esc(r.name)} <span class='label'>({_esc(r.pool_id)})</span>",
                *(_num(getattr(r, c), 2) for c in _BALANCE_HA),
            ]
        )
        classes.append("over" if bool(r.over_budget) else "")
    sums = balance[list(_BALANCE_HA)].sum()
    rows.append(["<b>Total du territoire</b>", *(f"<b>{_num(v, 2)}</b>" for v in sums)])
    classes.append("")
    note = (
        "<p class='label'>Hectares ; en rouge, les enveloppes dépassées après le scénario. "
        "Le total additionne aussi les restes négatifs des enveloppes dépassées.</p>"
    )
    return _table(head, rows, classes) + note


def _communes_html(budgets: pd.DataFrame) -> str:
    from foncier.zan import STATUS_LABELS

    head = [
        ("Commune", False),
        ("Enveloppe", True),
        ("Consommé depuis 2021", True),
        ("Reste", True),
        ("Statut", False),
    ]
    rows = [
        [
            f"{_esc(r.name)} ({_esc(r.insee)})",
            _num(r.envelope_ha, 2),
            _num(r.consumed_ha, 2),
            _num(r.remaining_ha, 2),
            _esc(STATUS_LABELS.get(str(status), status)),
        ]
        for r, status in zip(budgets.itertuples(index=False), budgets["status"], strict=True)
    ]
    return _table(head, rows, ["over" if r == "exceeded" else "" for r in budgets["status"]])


def _placements_html(
    assignments: pd.DataFrame, names: dict[str, str], approximate: set[str] | None = None
) -> str:
    approximate = approximate or set()
    footprint_note = (
        f"<br><span class='label'>{_esc(FOOTPRINT_LABELS[FOOTPRINT_APPROXIMATE])}</span>"
    )
    head = [
        ("Projet", False),
        ("Secteur", False),
        ("Commune", False),
        ("Unité", False),
        ("Surface", True),
        ("ENAF", True),
        ("Emplois", True),
        ("Score", True),
        ("Coût ZAN et raisons", False),
    ]
    rows = []
    for r in assignments.itertuples(index=False):
        rows.append(
            [
                f"<b>{_esc(r.project_id)}</b> {_esc(r.name)}",
                _esc(r.sector),
                _esc(names.get(str(r.insee), r.insee)),
                _esc(r.unit_id) + (footprint_note if str(r.unit_id) in approximate else ""),
                _num(r.area_ha, 2, "ha"),
                _num(r.enaf_ha, 2, "ha"),
                _num(r.jobs, 0),
                _num(r.score, 2),
                f"{_esc(r.zan_cost)}<br><span class='label'>{_esc(r.explanation)}</span>",
            ]
        )
    return _table(head, rows)


def _unmatched_html(unmatched: pd.DataFrame) -> str:
    if unmatched.empty:
        return "<p>Tous les projets sont placés.</p>"
    codes = [c for c in REASON_LABELS if c in set(unmatched["reason_code"])]
    codes += sorted(set(unmatched["reason_code"].astype(str)) - set(codes))
    parts = []
    for code in codes:
        group = unmatched[unmatched["reason_code"] == code]
        items = "".join(
            f"<li><b>{_esc(r.project_id)}</b> {_esc(r.name)} : "
            f"{_esc(r.explanation)}"
            + (f"<br><span class='label'>Piste : {_esc(r.hint)}</span>" if _esc(r.hint) else "")
            + "</li>"
            for r in group.itertuples(index=False)
        )
        parts.append(
            f"<h3>{_esc(REASON_LABELS.get(code, code))} ({len(group)})</h3><ul>{items}</ul>"
        )
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
    items = "".join(
        f"<li><b>{_esc(r.project_id)}</b> sur {_esc(r.unit_id)}"
        + (
            f" : pourrait aller sur {_esc(r.alternative_unit_id)} sans perte"
            if _esc(r.alternative_unit_id)
            else " : d'autres solutions presque aussi bonnes le placent ailleurs"
        )
        + "</li>"
        for r in fragile.itertuples(index=False)
    )
    return (
        "<h2>Sensibilité</h2>"
        "<p class='label'>Valeur d'un hectare de budget ZAN de plus, par enveloppe : emplois "
        "gagnés en recalculant le scénario avec 1 ha de plus (au moins autant : le recalcul "
        "est limité dans le temps).</p>"
        f"{pools}"
        f"<p>Placements stables : {int(counts.get('stable', 0))} ; fragiles : "
        f"{int(counts.get('fragile', 0))} ; non testés : {int(counts.get('untested', 0))}. "
        "Un placement est fragile quand le projet peut aller ailleurs sans perte (ou presque) ; "
        "stable quand le recalcul sans ce terrain prouve une perte.</p>"
        + (f"<ul>{items}</ul>" if items else "")
    )


def _audit_html(audit: dict[str, Any]) -> str:
    gap = float(audit.get("solver_gap") or 0.0)
    fields = [
        ("Scénario", audit.get("name")),
        ("Territoire", audit.get("territory")),
        ("Données", audit.get("data_label")),
        ("Règles ZAN", f"{audit.get('rules')} (version {audit.get('rules_version')})"),
        ("Source des règles", audit.get("rules_source")),
        ("Millésime ENAF", audit.get("enaf_vintage")),
        ("Budgets", audit.get("pool")),
        ("Objectif", audit.get("objective")),
        (
            "Solveur",
            f"{audit.get('solver_status')}, écart {_num(100 * gap, 2, '%')}",
        ),
        ("Version de foncier", audit.get("foncier_version")),
        ("Calculé le", audit.get("started_at")),
    ]
    rows = [[_esc(k), _esc(v)] for k, v in fields if v is not None]
    hashes = audit.get("inputs_sha256", {}) or {}
    hash_rows = [[_esc(k), f"<code>{_esc(v)}</code>"] for k, v in sorted(hashes.items())]
    return (
        _table([("Élément", False), ("Valeur", False)], rows)
        + "<h3>Empreintes SHA-256 des données d'entrée</h3>"
        + _table([("Donnée", False), ("SHA-256", False)], hash_rows)
    )


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


def _trajectory_svgs(territory: Any, result: Any) -> tuple[str, str]:
    """A territory-wide chart, and small multiples of the yearly flows, one per pool."""
    from foncier.zan import trajectory

    audit = result.audit
    rules = result.rules
    pool = str(audit.get("pool", rules.pool))
    balance = result.zan_balance
    whole = trajectory(territory, rules, pool=pool)
    fig = Figure(figsize=(7.4, 2.8))
    left, right = fig.subplots(1, 2)
    _flows_axes(left, whole, "Consommation annuelle d'ENAF", small=False)
    _stock_axes(right, whole, float(balance["consumed_by_placements_ha"].sum()))
    fig.tight_layout(pad=0.4)
    big = _svg(fig)
    columns = max(1, min(_CHART_COLUMNS, len(balance)))
    rows = max(1, math.ceil(len(balance) / columns))
    fig = Figure(figsize=(7.4 * columns / max(columns, 3), 1.3 * rows * 5 / max(columns, 3)))
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True)
    for ax, r in zip(axes.ravel(), balance.itertuples(index=False), strict=False):
        traj = trajectory(territory, rules, pool=pool, pool_id=str(r.pool_id))
        title = (
            f"{textwrap.shorten(str(r.name), 30, placeholder='…')}\n"
            f"reste {fr_number(r.remaining_before_ha, 1)} → "
            f"{fr_number(r.remaining_after_ha, 1)} ha"
        )
        _flows_axes(ax, traj, title, small=True)
    for ax in axes.ravel()[len(balance) :]:
        ax.set_visible(False)
    fig.tight_layout(pad=0.3)
    return big, _svg(fig)


# -- assembly ------------------------------------------------------------------------------


def _territory_of(territory: Any) -> Any:
    from foncier.territory import Territory

    return Territory.from_folder(territory) if isinstance(territory, (str, Path)) else territory


def write_report(
    result_dir: str | Path,
    territory: Any = None,
    out: str | Path | None = None,
    *,
    force: bool = False,
) -> Path:
    """Write the working group's HTML report of a scenario result folder.

    Everything the report shows comes from the result itself (its tables,
    rule set and land units), except the ENAF consumption series of the
    trajectories, read from the territory.

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

    Returns
    -------
    pathlib.Path
        The page written: self-contained (charts as inline SVG, the map
        with Leaflet inlined), printable on A4.

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
    names = dict(
        zip(
            territory.communes[Col.INSEE].astype(str),
            territory.communes[Col.NAME].astype(str),
            strict=True,
        )
    )
    figures = headline_figures(result)
    pool = str(audit.get("pool", "commune"))
    big_chart, small_charts = _trajectory_svgs(territory, result)
    communes = ""
    if pool != "commune":
        communes = "<h3>Détail par commune</h3>" + _communes_html(
            budget_table(territory, result.rules, pool="commune")
        )
    units = result.units
    stated = getattr(result, "hypotheses", None) or audit.get("hypotheses")
    if stated is None:  # a result written before its assumptions were recorded
        stated = scenario_assumptions(territory, units, None, result.assignments)
    approximate = (
        set(
            units.loc[units[UnitCol.FOOTPRINT] == FOOTPRINT_APPROXIMATE, UnitCol.UNIT_ID].astype(
                str
            )
        )
        if UnitCol.FOOTPRINT in units.columns
        else set()
    )
    page_map = map_html(scenario_map(territory, result, units, inline_assets=True))
    synthetic = (
        "<p class='synthetic'>Échantillon synthétique : territoire et projets fictifs, "
        "chiffres sans valeur réelle.</p>"
        if territory.synthetic or audit.get("synthetic")
        else ""
    )
    title = f"Foncier industriel et ZAN : {territory.name}"
    now = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
    body = f"""
<h1>{_esc(title)}</h1>
<p class='label'>Scénario « {_esc(audit.get("name", ""))} »,
objectif {_esc(audit.get("objective"))}, budgets ZAN par {_esc(_POOL_FR.get(pool, pool))} ;
{_esc(territory.data_label)} ;
règles {_esc(audit.get("rules"))} (version {_esc(audit.get("rules_version"))}) ;
rapport produit le {now}.</p>
{synthetic}
{assumptions_html(stated)}
<h2>Chiffres clés</h2>
{_figures_html(figures)}
<h2>Bilan ZAN par {_esc(_POOL_FR.get(pool, pool))}</h2>
{_balance_html(result.zan_balance, pool)}
{communes}
<h2>Trajectoire ZAN 2011 → 2031</h2>
<p class='label'>Barres grises : consommation d'ENAF de la période de référence 2011-2020 ;
orange : depuis 2021 ; vert : rythme annuel permis par l'enveloppe 2021-2031 (à gauche) et
l'enveloppe elle-même (à droite) ; point bleu : consommation cumulée avec l'ENAF des projets
placés par le scénario. Puis une vignette par {_esc(_POOL_FR.get(pool, pool))}, avec son reste
avant → après le scénario.</p>
<div class='chart'>{big_chart}</div>
<div class='chart'>{small_charts}</div>
<h2>Projets placés ({len(result.assignments)})</h2>
{_placements_html(result.assignments, names, approximate)}
<h2>Projets non placés ({len(result.unmatched)})</h2>
{_unmatched_html(result.unmatched)}
{sensitivity_html(result)}
<h2>Traçabilité du calcul</h2>
{_audit_html(audit)}
<section class='map-section'>
<h2>Carte du scénario</h2>
<iframe class='map' title='Carte du scénario' srcdoc="{html.escape(page_map, quote=True)}"></iframe>
</section>
"""
    page = (
        "<!DOCTYPE html>\n<html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )
    target = Path(out) if out is not None else folder / REPORT_NAME
    inputs = [*(folder / name for name in RESULT_FILES), getattr(territory, "folder", None)]
    return write_text(target, _compact(page), "report", force=force, inputs=inputs)


def _compact(page: str) -> str:
    """Drop the SVG metadata matplotlib writes (dates would make pages differ)."""
    return re.sub(r"<metadata>.*?</metadata>", "", page, flags=re.DOTALL)
