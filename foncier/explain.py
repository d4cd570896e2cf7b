"""Why a project was placed here, why another was left out, and the single-project query.

Reason codes of an unmatched project (first from the solution; where
:mod:`foncier.unlock` finds a verified change that places the project, the
reason follows what that change relaxes, so that it names the constraint
that actually binds):

``no_land``
    There is no candidate land at all.
``infeasible``
    No unit meets its hard requirements: the requirement to relax on the
    unit easiest to unlock is named (without an unlock: the requirement that
    rejects most units, with the closest unit and what it lacks).
``blocked_by_zan``
    A unit fits (or would, with a smaller change than elsewhere), but its
    ZAN pool has not enough ENAF left once the other placements are made —
    even where the unit is also taken: the pool and the missing ha are given.
``outcompeted``
    Its candidate units are full with other placed projects: the projects
    that would give way on the easiest unit are named, with the area missing.
``not_worth``
    Under ``min_enaf``, its jobs do not pay for the ENAF its options consume.
``not_selected``
    It could still be placed (left out within the solver's optimality gap or
    time limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from foncier._format import fr_compact
from foncier.assignment import PoolInfo, pool_info
from foncier.feasibility import (
    REQUIREMENTS,
    Rejections,
    Thresholds,
    candidate_pairs,
    one_project_pairs,
    unit_arrays,
    unverified_labels,
)
from foncier.labels import OBJECTIVE_LABELS, REQUIREMENT_LABELS
from foncier.layers import ORIGIN_ACTIVITY_ZONE, Col, TableCol, UnitCol, is_activity_zone
from foncier.projects import check_top_k, project_frame, project_record
from foncier.scoring import Weights
from foncier.texts import CRITERIA_FR
from foncier.zan.charging import EnafCharging

__all__ = [
    "REASON_CODES",
    "explain_placed",
    "explain_unmatched",
    "QueryUnits",
    "place_names",
    "prepare_query",
    "query_columns",
    "query_prepared",
    "query_project",
    "unit_sites",
    "with_place_names",
    "with_scenario_claims",
    "zan_cost_text",
]

REASON_CODES = (
    "no_land",
    "infeasible",
    "blocked_by_zan",
    "outcompeted",
    "not_worth",
    "not_selected",
    "no_lot",
)
_TOL = 1e-6


#: Unit columns a query answer carries, so that a planner sees the site without a join.
QUERY_UNIT_COLUMNS = (
    UnitCol.ORIGIN,
    Col.SITE_ID,
    Col.ZONE_TYPE,
    UnitCol.NET_AREA_HA,
    UnitCol.SLOPE_MEAN_PCT,
    UnitCol.DIST_INTERCHANGE_KM,
    UnitCol.DIST_RAIL_FREIGHT_KM,
    UnitCol.DIST_SUBSTATION_KM,
    UnitCol.ENAF_SHARE,
)

#: When a remaining budget is counted, in the French texts.
BEFORE_SCENARIO = "avant le scénario"
BEFORE_QUERY = "hors scénarios, décisions validées déduites"


def zan_cost_text(
    enaf_ha: float,
    *,
    is_friche: bool,
    is_pene: bool,
    pool: PoolInfo,
    code: int,
    left_ha: float,
    after_ha: float,
    when: str = BEFORE_SCENARIO,
    is_excluded: bool = False,
) -> str:
    """French sentence of the ZAN cost of one placement, with what its pool has left.

    Parameters
    ----------
    enaf_ha
        ENAF the placement consumes.
    is_friche, is_pene
        Why it may be free.
    pool
        Budget pools.
    code
        Pool code of the unit.
    left_ha
        What the pool has left before: before the scenario (its placements
        not counted), or for a query before this project.
    after_ha
        What the pool has left after: after every placement of the scenario
        in that pool, or for a query after this project alone.
    when
        What ``left_ha`` is counted before (:data:`BEFORE_SCENARIO` or
        :data:`BEFORE_QUERY`).
    is_excluded
        The project is of a category the rule set excludes from the local
        count (``[[exclusions]]``).

    Returns
    -------
    str
        E.g. ``"0 ha : friche"`` or ``"4 ha pris sur l'enveloppe de la commune
        Y (reste avant le scénario : 5,3 ha ; après : 1,3 ha)"``.
    """
    if enaf_ha <= _TOL:  # why nothing is charged locally
        if is_pene:
            return "0 ha : projet d'envergure nationale (PENE), décompté de l'enveloppe nationale"
        if is_excluded:
            return "0 ha : catégorie de projet exclue du décompte local par le jeu de règles"
        if is_friche:
            return "0 ha : friche"
        return "0 ha : terrain déjà artificialisé"
    text = f"{fr_compact(enaf_ha, 2)} ha pris sur l'enveloppe {pool.label(code, of=True)}"
    if left_ha < enaf_ha - _TOL:
        return (
            text
            + f", qui n'a plus que {fr_compact(max(left_ha, 0.0), 2)} ha ({when})"
            + f" : manque {fr_compact(enaf_ha - max(left_ha, 0.0), 2)} ha"
        )
    after = "après ce projet" if when == BEFORE_QUERY else "après"
    return (
        text + f" (reste {when} : {fr_compact(left_ha, 2)} ha ; "
        f"{after} : {fr_compact(max(after_ha, 0.0), 2)} ha)"
    )


def _zan_texts(
    pairs: pd.DataFrame | Mapping[str, Any],
    codes: np.ndarray,
    left: np.ndarray,
    after: np.ndarray,
    pools: PoolInfo,
    when: str = BEFORE_SCENARIO,
) -> list[str]:
    """ZAN cost sentence of each pair (``left``/``after``: what its pool has left)."""
    return [
        zan_cost_text(
            float(e),
            is_friche=bool(f),
            is_pene=bool(p),
            pool=pools,
            code=int(c),
            left_ha=float(lh),
            after_ha=float(ah),
            when=when,
            is_excluded=bool(x),
        )
        for e, f, p, x, c, lh, ah in zip(
            pairs["enaf_ha"],
            pairs["is_friche"],
            pairs["is_pene"],
            pairs["is_excluded"] if "is_excluded" in pairs else np.zeros(len(codes), dtype=bool),
            codes,
            left,
            after,
            strict=True,
        )
    ]


def _why_here(pairs: pd.DataFrame | Mapping[str, Any], weights: Weights) -> list[str]:
    """Explain each pair: score, its three largest contributions, unverified requirements."""
    criteria = weights.criteria
    labels = [CRITERIA_FR[n] for n in criteria]
    contrib = np.column_stack(
        [np.asarray(pairs[f"c_{n}"], dtype=float) for n in criteria]
    ) * np.array(list(criteria.values()))
    top = np.argsort(-contrib, axis=1, kind="stable")[:, :3]
    out = []
    # Python floats and ints row by row: formatted as the numpy scalars, faster
    rows = zip(contrib.tolist(), top.tolist(), pairs["score"], pairs["unverified"], strict=True)
    for values, best, score, unverified in rows:
        parts = [f"{labels[j]} +{fr_compact(values[j], 2)}" for j in best if values[j] > 0]
        text = f"score {fr_compact(score, 2)} : " + ", ".join(parts)
        if unverified:
            text += " ; à vérifier sur place : " + ", ".join(
                REQUIREMENT_LABELS[r] for r in unverified.split(",")
            )
        out.append(text)
    return out


def explain_placed(
    placed: pd.DataFrame, units: pd.DataFrame, pools: PoolInfo, weights: Weights
) -> pd.DataFrame:
    """Assignments table with, for each placement, its ZAN cost and why this unit.

    Parameters
    ----------
    placed
        Chosen candidate pairs.
    units
        Land units (row positions match ``placed["u"]``).
    pools
        Budget pools.
    weights
        Score weights.

    Returns
    -------
    pandas.DataFrame
        See :attr:`foncier.matching.MatchResult.assignments`.
    """
    u = placed["u"].to_numpy(dtype=int)
    codes = pools.of_unit[u] if len(u) else np.zeros(0, dtype=int)
    before = np.append(pools.remaining, 0.0)
    ok = codes >= 0
    used = np.bincount(
        codes[ok], weights=placed["enaf_ha"].to_numpy(dtype=float)[ok], minlength=len(before)
    )
    after = before - used
    zan = _zan_texts(placed, codes, before[codes], after[codes], pools)
    return pd.DataFrame(
        {
            Col.PROJECT_ID: placed[Col.PROJECT_ID].to_numpy(),
            UnitCol.UNIT_ID: placed[UnitCol.UNIT_ID].to_numpy(),
            Col.INSEE: units[Col.INSEE].to_numpy()[u],
            "pool_id": [pools.ids[c] if c >= 0 else None for c in codes],
            "area_ha": placed["area_ha"].to_numpy(dtype=float),
            "enaf_ha": placed["enaf_ha"].to_numpy(dtype=float),
            Col.JOBS: placed["jobs"].to_numpy(dtype=float).astype(np.int64),
            "score": placed["score"].to_numpy(dtype=float),
            UnitCol.IS_FRICHE: placed["is_friche"].to_numpy(dtype=bool),
            Col.IS_PENE: placed["is_pene"].to_numpy(dtype=bool),
            "unverified": placed["unverified"].to_numpy(),
            "zan_cost": zan,
            "explanation": _why_here(placed, weights),
        }
    )


_UNMATCHED_COLUMNS = [
    Col.PROJECT_ID,
    "reason_code",
    "requirement",
    UnitCol.UNIT_ID,
    "pool_id",
    "missing_ha",
    "blocking_project_id",
    "explanation",
    "hint",
]


def _infeasible_row(pid: str, rejections: Rejections, n_units: int) -> dict[str, Any]:
    counts = rejections.counts.loc[pid, list(REQUIREMENTS)].to_numpy(dtype=int)
    req = REQUIREMENTS[int(counts.argmax())]
    n = int(counts.max())
    row: dict[str, Any] = {Col.PROJECT_ID: pid, "reason_code": "infeasible", "requirement": req}
    text = (
        f"aucun terrain ne convient : {REQUIREMENT_LABELS[req]} écarte {n} "
        f"terrain{'s' if n > 1 else ''} sur {n_units}"
    )
    if pid in rejections.closest.index:
        close = rejections.closest.loc[pid]
        row[UnitCol.UNIT_ID] = close[UnitCol.UNIT_ID]
        text += f" ; le plus proche, {close[UnitCol.UNIT_ID]}, pèche par : {close['lacks']}"
    row["explanation"] = text
    return row


def explain_unmatched(
    projects: pd.DataFrame,
    units: pd.DataFrame,
    pairs: pd.DataFrame,
    rejections: Rejections,
    chosen: np.ndarray,
    coefficients: np.ndarray,
    pools: PoolInfo,
    *,
    objective: str,
) -> pd.DataFrame:
    """One reason (code, machine-readable fields, French text, hint) per unmatched project.

    Parameters
    ----------
    projects, units
        Inputs of the matching.
    pairs
        Candidate pairs given to the solver.
    rejections
        Rejection summaries of :func:`foncier.feasibility.candidate_pairs`.
    chosen
        Row positions of the selected pairs.
    coefficients
        Objective value of each pair.
    pools
        Budget pools.
    objective
        The objective, for the texts.

    Returns
    -------
    pandas.DataFrame
        See :attr:`foncier.matching.MatchResult.unmatched`.
    """
    placed = pairs.iloc[chosen]
    placed_ids = set(placed[Col.PROJECT_ID])
    capacity = units[UnitCol.NET_AREA_HA].astype(float).fillna(0.0).to_numpy()
    free_cap = capacity - np.bincount(
        placed["u"].to_numpy(dtype=int),
        weights=placed["area_ha"].to_numpy(float),
        minlength=len(capacity),
    )
    codes_placed = pools.of_unit[placed["u"].to_numpy(dtype=int)]
    ok = codes_placed >= 0
    left = pools.budget - np.bincount(
        codes_placed[ok], weights=placed["enaf_ha"].to_numpy(float)[ok], minlength=len(pools.ids)
    )
    jobs_of = dict(zip(placed[Col.PROJECT_ID], placed["jobs"], strict=True))
    by_unit = (
        placed.sort_values("area_ha", ascending=False)
        .groupby(UnitCol.UNIT_ID)[Col.PROJECT_ID]
        .first()
    )
    cand = pairs.assign(coef=coefficients)
    cand = cand[~cand[Col.PROJECT_ID].isin(placed_ids)]
    u = cand["u"].to_numpy(dtype=int)
    code = pools.of_unit[u]
    cand = cand.assign(
        free_ha=free_cap[u],
        cap_ok=cand["area_ha"].to_numpy(float) <= free_cap[u] + _TOL,
        left_ha=np.append(left, 0.0)[code],  # code -1 (no pool) -> 0 ha
        code=code,
    )
    cand["zan_ok"] = cand["enaf_ha"] <= cand["left_ha"] + _TOL
    groups = dict(iter(cand.groupby(Col.PROJECT_ID, sort=False)))
    rows = []
    for pid in projects[Col.PROJECT_ID].astype(str):
        if pid in placed_ids:
            continue
        if not len(units):
            rows.append(
                {
                    Col.PROJECT_ID: pid,
                    "reason_code": "no_land",
                    "explanation": "aucun terrain candidat dans le territoire",
                    "hint": "inventorier des terrains (ZAE, friches, zones d'activités)",
                }
            )
            continue
        g = groups.get(pid)
        if g is None or not len(g):
            rows.append(_infeasible_row(pid, rejections, len(units)))
            continue
        rows.append(_competition_row(pid, g, pools, by_unit, jobs_of, objective))
    return pd.DataFrame(rows, columns=_UNMATCHED_COLUMNS)


def _competition_row(
    pid: str,
    g: pd.DataFrame,
    pools: PoolInfo,
    by_unit: pd.Series,
    jobs_of: Mapping[str, Any],
    objective: str,
) -> dict[str, Any]:
    row: dict[str, Any] = {Col.PROJECT_ID: pid}
    n = len(g)
    free = g[g["cap_ok"] & g["zan_ok"]]
    if len(free) and (free["coef"] <= 0).all():
        best = free.sort_values("enaf_ha").iloc[0]
        row |= {
            "reason_code": "not_worth",
            UnitCol.UNIT_ID: best[UnitCol.UNIT_ID],
            "explanation": (
                f"sous l'objectif « {OBJECTIVE_LABELS.get(objective, objective)} », "
                f"ses {int(best['jobs'])} emplois ne compensent pas "
                f"les {fr_compact(best['enaf_ha'], 2)} ha d'ENAF de son meilleur terrain "
                f"({best[UnitCol.UNIT_ID]})"
            ),
            "hint": "un terrain déjà artificialisé ou une friche, ou plus d'emplois par ha",
        }
        return row
    if len(free):
        best = free.sort_values("score", ascending=False).iloc[0]
        row |= {
            "reason_code": "not_selected",
            UnitCol.UNIT_ID: best[UnitCol.UNIT_ID],
            "explanation": (
                f"plaçable sur {best[UnitCol.UNIT_ID]} mais non retenu par le solveur "
                "(écart d'optimalité ou limite de temps)"
            ),
            "hint": "relancer avec un écart d'optimalité plus faible ou plus de temps",
        }
        return row
    zan = g[g["cap_ok"] & ~g["zan_ok"]]
    if len(zan):
        missing = zan["enaf_ha"] - zan["left_ha"].clip(lower=0.0)
        best = zan.iloc[int(np.argmin(missing.to_numpy()))]
        short = float(missing.min())
        code = int(best["code"])
        label = pools.label(code)
        row |= {
            "reason_code": "blocked_by_zan",
            UnitCol.UNIT_ID: best[UnitCol.UNIT_ID],
            "pool_id": pools.ids[code] if code >= 0 else None,
            "missing_ha": short,
            "explanation": (
                f"bloqué par le ZAN : sur {best[UnitCol.UNIT_ID]} il consommerait "
                f"{fr_compact(best['enaf_ha'], 2)} ha d'ENAF, {label} n'en a plus que "
                f"{fr_compact(max(best['left_ha'], 0.0), 2)} (manque {fr_compact(short, 2)} ha)"
            ),
            "hint": f"+{fr_compact(short, 2)} ha de budget dans {label}, ou une friche",
        }
        return row
    best = g.sort_values("score", ascending=False).iloc[0]
    blocker = by_unit.get(best[UnitCol.UNIT_ID])
    blocker_jobs = int(jobs_of.get(blocker, 0)) if blocker is not None else 0
    short = float(best["area_ha"] - max(best["free_ha"], 0.0))
    row |= {
        "reason_code": "outcompeted",
        UnitCol.UNIT_ID: best[UnitCol.UNIT_ID],
        "missing_ha": short,
        "blocking_project_id": blocker,
        "explanation": (
            (
                f"supplanté : ses {n} terrains possibles sont occupés ; sur le meilleur, "
                if n > 1
                else "supplanté : son seul terrain possible est occupé ; sur ce terrain, "
            )
            + f"{best[UnitCol.UNIT_ID]}, {blocker} "
            f"({blocker_jobs} emplois) ne laisse que {fr_compact(max(best['free_ha'], 0.0), 2)} ha "
            f"sur les {fr_compact(best['area_ha'], 2)} ha nécessaires"
        ),
        "hint": (
            f"{fr_compact(short, 2)} ha de plus sur {best[UnitCol.UNIT_ID]} "
            f"(ou une surface minimale réduite d'autant), ou un autre terrain pour {blocker}"
        ),
    }
    return row


@dataclass(frozen=True)
class QueryUnits:
    """Land units prepared once for many single-project queries (:func:`prepare_query`).

    Attributes
    ----------
    units
        The land units, indexed by row position.
    arrays
        Their requirement and criteria arrays (:func:`foncier.feasibility.unit_arrays`).
    pools
        The budget pools aligned with them.
    left_of_unit
        What the pool of each unit has left (ha; 0 for a unit without a pool).
    thresholds
        The requirement constants the arrays were built with.
    details
        The units' ``insee`` and :data:`QUERY_UNIT_COLUMNS` as arrays, for the answers.
    """

    units: pd.DataFrame
    arrays: Any
    pools: PoolInfo
    left_of_unit: np.ndarray
    thresholds: Thresholds | None = None
    details: Mapping[str, np.ndarray] = field(default_factory=dict)


def prepare_query(
    units: pd.DataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
    *,
    thresholds: Thresholds | None = None,
    pool_names: Mapping[str, str] | None = None,
    pool_kind: str = "commune",
) -> QueryUnits:
    """What every query on these units and budgets shares, computed once.

    Parameters
    ----------
    units, remaining, unit_pool, thresholds, pool_names, pool_kind
        As for :func:`query_project`.

    Returns
    -------
    QueryUnits
        For :func:`query_prepared`.
    """
    units = units.reset_index(drop=True)
    pools = pool_info(units, remaining, unit_pool, pool_names=pool_names, pool_kind=pool_kind)
    left_of_unit = np.append(pools.remaining, 0.0)[pools.of_unit]  # no pool (-1) -> 0 ha
    details = {
        c: units[c].to_numpy() for c in (Col.INSEE, *QUERY_UNIT_COLUMNS) if c in units.columns
    }
    return QueryUnits(
        units, unit_arrays(units, thresholds), pools, left_of_unit, thresholds, details
    )


def query_project(
    project: Mapping[str, Any] | pd.Series | pd.DataFrame,
    units: pd.DataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
    k: int = 5,
    weights: Weights | None = None,
    *,
    thresholds: Thresholds | None = None,
    pool_names: Mapping[str, str] | None = None,
    pool_kind: str = "commune",
    charging: EnafCharging | None = None,
) -> pd.DataFrame:
    """Top-k feasible units for one project, without solving the portfolio.

    Units whose ZAN cost fits the pool's remaining budget come first, then by
    score.  For many queries on the same units, :func:`prepare_query` once
    and :func:`query_prepared` each time give the same answers.

    Parameters
    ----------
    project
        The project's fields (``area_min_ha`` at least; others as in the
        ``projects`` layer), or its one-row table from
        :func:`foncier.projects.project_frame` (already validated).
    units
        Land units.
    remaining, unit_pool
        Remaining budget per pool and pool per unit.
    k
        How many units to return.
    weights, thresholds
        Score weights and requirement constants.
    pool_names, pool_kind
        For the French texts.
    charging
        What counts as ENAF consumption (the rule set's, see
        :meth:`~foncier.feasibility.EnafCharging.from_rules`); build every
        input at once with :func:`foncier.inputs.matching_inputs`,
        as :meth:`foncier.scenarios.Scenario.query` and the service do.

    Returns
    -------
    pandas.DataFrame
        ``rank, unit_id, insee``, the unit's :data:`QUERY_UNIT_COLUMNS`
        (origin, site, zone type, net area, slope, distances, ENAF share),
        ``pool_id``, ``budget_left_before_ha`` (what the pool has left
        before this project: committed projects and validated decisions
        deducted, no scenario counted), ``budget_left_after_ha``, ``score,
        enaf_ha, zan_ok, zan_cost, unverified, explanation``; empty if no
        unit is feasible.

    Raises
    ------
    LayerSchemaError
        The project misses ``area_min_ha`` or has a wrong value, or ``k`` is
        not an integer in 1..1000.
    """
    k = check_top_k(k)
    frame = project if isinstance(project, pd.DataFrame) else project_frame(project)
    prepared = prepare_query(
        units,
        remaining,
        unit_pool,
        thresholds=thresholds,
        pool_names=pool_names,
        pool_kind=pool_kind,
    )
    weights = weights or Weights()
    left_of_unit = prepared.left_of_unit

    def fits_first(f: pd.DataFrame) -> np.ndarray:
        return _fits_first(
            f["u"].to_numpy(), f["enaf_ha"].to_numpy(), f["score"].to_numpy(), left_of_unit
        )

    pairs, _ = candidate_pairs(
        frame,
        prepared.units,
        weights=weights,
        thresholds=prepared.thresholds,
        top_n=k,
        rank=fits_first,
        charging=charging,
        arrays=prepared.arrays,
    )
    left = left_of_unit[pairs["u"].to_numpy(dtype=int)]
    pairs = pairs.assign(
        code=prepared.pools.of_unit[pairs["u"].to_numpy(dtype=int)],
        left_ha=left,
        zan_ok=pairs["enaf_ha"].to_numpy() <= np.maximum(left, 0.0) + _TOL,
    )
    top = pairs.sort_values(["zan_ok", "score"], ascending=[False, False], kind="stable").head(k)
    return _answer(top, prepared, weights)


def _fits_first(
    u: np.ndarray, enaf_ha: np.ndarray, score: np.ndarray, left_of_unit: np.ndarray
) -> np.ndarray:
    """Rank of a query's pairs: those that fit their pool's budget first, then by score."""
    over = enaf_ha > np.maximum(left_of_unit[u], 0.0) + _TOL
    return score - 10.0 * over


def query_prepared(
    project: Mapping[str, Any] | pd.Series | pd.DataFrame,
    prepared: QueryUnits,
    k: int = 5,
    weights: Weights | None = None,
    *,
    charging: EnafCharging | None = None,
) -> pd.DataFrame:
    """:func:`query_project` on units prepared once by :func:`prepare_query`.

    Parameters
    ----------
    project, k, weights, charging
        As for :func:`query_project`.
    prepared
        The units, pools and arrays shared by the queries.

    Returns
    -------
    pandas.DataFrame
        As :func:`query_project`: the table of :func:`query_columns`.
    """
    return pd.DataFrame(query_columns(project, prepared, k, weights, charging=charging))


def query_columns(
    project: Mapping[str, Any] | pd.Series | pd.DataFrame,
    prepared: QueryUnits,
    k: int = 5,
    weights: Weights | None = None,
    *,
    charging: EnafCharging | None = None,
    validated: bool = False,
) -> dict[str, Any]:
    """The columns of :func:`query_prepared`'s answer as arrays, without a table.

    The requirements are filtered, the pairs scored and the top ``k`` kept
    on arrays; for an answer serialised at once (the service), building the
    table would cost more than the query.

    Parameters
    ----------
    project, k, weights, charging
        As for :func:`query_project`.
    prepared
        The units, pools and arrays shared by the queries.
    validated
        ``project`` is already a record of :func:`foncier.projects.project_record`
        (checked once by the caller, not again here).

    Returns
    -------
    dict
        Column name -> values (numpy arrays, or lists of texts), in the order
        of :func:`query_project`'s columns, each of the answer's length.

    Examples
    --------
    >>> from foncier.sample import make_sample
    >>> from foncier.inputs import matching_inputs
    >>> inputs = matching_inputs(make_sample(n_parcels=2_000, n_communes=20))
    >>> prepared = prepare_query(inputs.units, inputs.pools.remaining, inputs.pools.unit_pool)
    >>> cols = query_columns({"area_min_ha": 2.0}, prepared, k=3)
    >>> pd.DataFrame(cols).equals(query_prepared({"area_min_ha": 2.0}, prepared, k=3))
    True
    """
    k = check_top_k(k)
    weights = weights or Weights()
    # one project: validated as a record (the projects layer's rules), no one-row table
    row: pd.DataFrame | Mapping[str, Any]
    if isinstance(project, pd.DataFrame):
        row = project
    else:
        row = dict(project) if validated else project_record(project)
    left_of_unit = prepared.left_of_unit
    # the pairs stay arrays: filter, score and top-k in numpy
    cols = one_project_pairs(
        row,
        prepared.arrays,
        weights=weights,
        thresholds=prepared.thresholds,
        top_n=k,
        rank=lambda c: _fits_first(c["u"], c["enaf_ha"], c["score"], left_of_unit),
        charging=charging,
    )
    left = left_of_unit[cols["u"]]
    zan_ok = cols["enaf_ha"] <= np.maximum(left, 0.0) + _TOL
    # as a stable sort on (zan_ok, score), both descending
    order = np.lexsort((np.arange(len(left)), -cols["score"], ~zan_ok))[:k]
    # the k rows kept stay arrays, up to the answer's columns
    top = {
        **{name: values[order] for name, values in cols.items()},
        "code": prepared.pools.of_unit[cols["u"][order]],
        "left_ha": left[order],
        "zan_ok": zan_ok[order],
    }
    top["unverified"] = unverified_labels(top["unverified_bits"])
    return _answer_columns(top, prepared, weights)


def _answer(
    top: pd.DataFrame | Mapping[str, Any], prepared: QueryUnits, weights: Weights
) -> pd.DataFrame:
    """The answer of a query from its top pairs, as a table (see :func:`_answer_columns`)."""
    return pd.DataFrame(_answer_columns(top, prepared, weights))


def _answer_columns(
    top: pd.DataFrame | Mapping[str, Any], prepared: QueryUnits, weights: Weights
) -> dict[str, Any]:
    """The answer's columns from a query's top pairs (``u``, ``code``, ``left_ha``, ``zan_ok``…).

    ``top`` is a table or a mapping of arrays.
    """
    pools = prepared.pools
    u = np.asarray(top["u"], dtype=int)
    codes = np.asarray(top["code"], dtype=int)
    left = np.asarray(top["left_ha"], dtype=float)
    enaf = np.asarray(top["enaf_ha"], dtype=float)
    details = {c: values[u] for c, values in prepared.details.items() if c != Col.INSEE}
    if not len(u):  # no feasible unit: the columns of the units are left out
        details = {}
    return {
        "rank": np.arange(1, len(u) + 1),
        UnitCol.UNIT_ID: np.asarray(top[UnitCol.UNIT_ID]),
        Col.INSEE: prepared.details[Col.INSEE][u],
        **details,
        "pool_id": [pools.ids[c] if c >= 0 else None for c in codes],
        "budget_left_before_ha": left,
        "budget_left_after_ha": left - enaf,
        "score": np.asarray(top["score"]),
        "enaf_ha": enaf,
        "zan_ok": np.asarray(top["zan_ok"]),
        "zan_cost": _zan_texts(top, codes, left, left - enaf, pools, when=BEFORE_QUERY),
        "unverified": np.asarray(top["unverified"]),
        "explanation": _why_here(top, weights),
    }


def place_names(units: pd.DataFrame, territory: Any) -> pd.DataFrame:
    """The ``commune`` name and the ``site`` label of each unit, for :func:`with_place_names`.

    Parameters
    ----------
    units
        Land units, or a query answer (``insee``, and ``origin`` and
        ``site_id`` for the sites).
    territory
        The :class:`~foncier.territory.Territory` they come from.

    Returns
    -------
    pandas.DataFrame
        On the index of ``units``: ``commune``, and ``site`` when ``units``
        has ``origin`` and ``site_id``.
    """
    names = territory.communes.set_index(Col.INSEE)[Col.NAME]
    out = pd.DataFrame(
        {"commune": units[Col.INSEE].map(names).fillna(units[Col.INSEE]).astype("str")},
        index=units.index,
    )
    if UnitCol.ORIGIN in units.columns and Col.SITE_ID in units.columns:
        out["site"] = territory.site_labels(units[UnitCol.ORIGIN], units[Col.SITE_ID])
    return out


def with_place_names(
    top: pd.DataFrame, territory: Any, names: pd.DataFrame | None = None
) -> pd.DataFrame:
    """A query answer with the ``commune`` name and the ``site`` label of each unit.

    Parameters
    ----------
    top
        An answer of :func:`query_project`.
    territory
        The :class:`~foncier.territory.Territory` its units come from.
    names
        :func:`place_names` of all the units, indexed by ``unit_id``, when
        computed once for many answers.

    Returns
    -------
    pandas.DataFrame
        ``top`` with ``commune`` after ``insee`` and ``site`` (« ZAE … »,
        « friche … », « zone d'activités du PLU ») after ``site_id``.
    """
    out = top.copy()
    if names is None:
        found = place_names(out, territory)
    else:
        found = names.reindex(out[UnitCol.UNIT_ID].to_numpy())
        found.index = out.index
    out.insert(list(out.columns).index(Col.INSEE) + 1, "commune", found["commune"])
    if UnitCol.ORIGIN in out.columns and Col.SITE_ID in out.columns:
        out.insert(list(out.columns).index(Col.SITE_ID) + 1, "site", found["site"])
    return out


def unit_sites(units: Any, territory: Any) -> pd.Series:
    """French name of the site of each land unit: its ZAE, its friche or its PLU zone.

    ZAE plots and friches are named by :meth:`Territory.site_labels
    <foncier.territory.Territory.site_labels>`; a unit of a PLU activity zone
    by the label of the activity zone holding a point of it (« zone Ux du PLU »), or
    « zone d'activités du PLU » when no zone with a label holds it.

    Parameters
    ----------
    units
        Land units (``unit_id``, ``origin``, ``site_id`` and their geometry).
    territory
        The :class:`~foncier.territory.Territory` they come from.

    Returns
    -------
    pandas.Series
        The label of each unit, indexed by ``unit_id``.
    """
    import geopandas as gpd
    import shapely

    label = territory.site_labels(units[UnitCol.ORIGIN], units[Col.SITE_ID].fillna(""))
    zones = territory.layers["plu_zones"]
    in_zone = (units[UnitCol.ORIGIN] == ORIGIN_ACTIVITY_ZONE).to_numpy()
    if in_zone.any() and len(zones) and Col.LIBELLE in zones.columns:
        points = gpd.GeoDataFrame(
            geometry=shapely.point_on_surface(units.geometry.to_numpy()[in_zone]),
            index=units.index[in_zone],
            crs=units.crs,
        )
        labelled = zones[Col.LIBELLE].astype("string").str.strip().fillna("") != ""
        named = zones.loc[labelled.to_numpy() & is_activity_zone(zones)]
        hits = gpd.sjoin(points, named[[Col.LIBELLE, "geometry"]], predicate="within")
        libelle = hits.loc[~hits.index.duplicated(), Col.LIBELLE].astype(str).str.strip()
        label.loc[libelle.index] = "zone " + libelle + " du PLU"
    return pd.Series(label.to_numpy(), index=units[UnitCol.UNIT_ID].astype(str).to_numpy())


#: Projects named in a query answer's scenario claim; beyond, they are counted.
CLAIM_NAMED = 5


def with_scenario_claims(
    top: pd.DataFrame,
    placements: pd.DataFrame,
    unit_pool: pd.Series,
    pools: PoolInfo,
    *,
    name: str,
    area_ha: float,
) -> pd.DataFrame:
    """A query answer with what a scenario already takes of each unit and of its pool.

    The answer's figures are counted before any scenario (validated
    decisions deducted); a planner answering an investor also needs to know
    whether the land or the budget is already claimed by the scenario the
    working group is discussing.

    Parameters
    ----------
    top
        An answer of :func:`query_project` (``unit_id``, ``pool_id``,
        ``net_area_ha``, ``budget_left_before_ha``, ``enaf_ha``).
    placements
        The scenario's placements not validated since (``project_id``,
        ``unit_id``, ``area_ha``, ``enaf_ha``).
    unit_pool
        Pool id of each unit, indexed by ``unit_id``, at the answer's pooling
        level (the scenario's placements are counted in those pools).
    pools
        The answer's pools, for their French names.
    name
        The scenario's name, for the French text.
    area_ha
        The area the project needs.

    Returns
    -------
    pandas.DataFrame
        ``top`` with ``scenario_name``, ``scenario_projects`` (``;``-joined
        ids of the scenario's projects on the unit, ``""`` for none),
        ``scenario_area_ha`` (the area they take), ``room_after_scenario_ha``
        (the unit's net area they leave), ``budget_left_after_scenario_ha``
        (what the pool has left once the scenario's ENAF is taken; NaN
        without a pool), ``fits_after_scenario`` (the project still has room
        and budget there) and ``scenario_claim`` (French).
    """
    ids = placements[UnitCol.UNIT_ID].astype(str)
    by_unit = placements.assign(**{UnitCol.UNIT_ID: ids}).groupby(UnitCol.UNIT_ID, sort=True)
    on_unit = by_unit[Col.PROJECT_ID].agg(lambda p: sorted(p.astype(str)))
    area_on = by_unit[TableCol.AREA_HA].sum()
    pool_of = unit_pool.copy()
    pool_of.index = pool_of.index.astype(str)
    enaf_in = (
        pd.Series(placements[TableCol.ENAF_HA].astype(float).to_numpy(), index=ids.to_numpy())
        .groupby(pool_of.reindex(ids.to_numpy()).astype(object).to_numpy(), dropna=True)
        .sum()
    )
    unit = top[UnitCol.UNIT_ID].astype(str)
    pool = top["pool_id"].astype(object)
    taken = area_on.reindex(unit).fillna(0.0).to_numpy()
    room = top[UnitCol.NET_AREA_HA].astype(float).to_numpy() - taken
    used = enaf_in.reindex(pool.where(pool.notna(), "")).fillna(0.0).to_numpy()
    has_pool = pool.notna().to_numpy()
    after = np.where(has_pool, top["budget_left_before_ha"].astype(float).to_numpy() - used, np.nan)
    enaf = top["enaf_ha"].astype(float).to_numpy()
    fits = (room >= area_ha - _TOL) & (~has_pool | (enaf <= np.maximum(after, 0.0) + _TOL))
    names = [on_unit.get(u, []) for u in unit]
    codes = pools.ids.tolist()
    texts = []
    for u, named, t, r, p, d, a, e, ok in zip(
        unit, names, taken, room, pool, used, after, enaf, fits, strict=True
    ):
        shown = ", ".join(named[:CLAIM_NAMED])
        if len(named) > CLAIM_NAMED:
            more = len(named) - CLAIM_NAMED
            shown += f" et {more} autre{'s' if more > 1 else ''}"
        parts = [
            f"le scénario « {name} » place {shown} sur {u} ({fr_compact(t, 2)} ha ; il en "
            f"reste {fr_compact(max(r, 0.0), 2)} après le scénario)"
            if named
            else f"le scénario « {name} » ne place aucun projet sur {u}"
        ]
        if p is not None and p == p:
            label = pools.label(codes.index(p), of=True) if p in codes else f"de l'enveloppe {p}"
            parts.append(
                f"il prend {fr_compact(d, 2)} ha d'ENAF à l'enveloppe {label}, qui a "
                f"{fr_compact(a, 2)} ha après le scénario"
                if d > _TOL
                else f"il ne prend pas d'ENAF à l'enveloppe {label}"
            )
        if ok:
            verdict = "ce projet y a sa place après le scénario aussi"
        else:
            short = []
            if r < area_ha - _TOL:
                short.append(f"{fr_compact(area_ha - max(r, 0.0), 2)} ha de terrain")
            if p is not None and p == p and e > max(a, 0.0) + _TOL:
                short.append(f"{fr_compact(e - max(a, 0.0), 2)} ha de budget ZAN")
            verdict = "après le scénario, il manquerait à ce projet " + " et ".join(short)
        texts.append(" ; ".join(parts) + " : " + verdict)
    return top.assign(
        scenario_name=name,
        scenario_projects=[";".join(n) for n in names],
        scenario_area_ha=taken,
        room_after_scenario_ha=room,
        budget_left_after_scenario_ha=after,
        fits_after_scenario=fits,
        scenario_claim=texts,
    )
