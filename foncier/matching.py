"""Match industrial projects with land units: feasibility, score, global assignment, reasons.

The engine works on plain tables, so it can be used and tested without a
territory: a projects table, a land-units table, the remaining ZAN budget of
each pool (a Series ``pool_id -> ha``) and the pool of each unit (a Series
``unit_id -> pool_id``).  The steps live in their own modules:

- :mod:`foncier.feasibility`: hard requirements, "unverified" policy, candidate pairs;
- :mod:`foncier.scoring`: the score of a pair and its contributions;
- :mod:`foncier.assignment`: the MILP (HiGHS) and the greedy baseline;
- :mod:`foncier.explain`: reasons for every decision, single-project query.

Examples
--------
>>> import pandas as pd
>>> projects = pd.DataFrame({"project_id": ["P1", "P2"], "name": ["a", "b"], "sector": "x",
...                          "area_min_ha": [3.0, 2.0], "area_max_ha": [3.0, 2.0],
...                          "jobs": [50, 20]})
>>> units = pd.DataFrame({"unit_id": ["U1"], "insee": ["30007"], "zone_type": ["U"],
...                       "servicing_stage": ["viabilisé et aménagé"], "net_area_ha": [4.0],
...                       "slope_mean_pct": [2.0], "dist_interchange_km": [1.0],
...                       "dist_rail_freight_km": [9.0], "dist_housing_km": [1.0],
...                       "enaf_share": [0.0]})
>>> result = match_projects(projects, units, pd.Series({"30007": 1.0}), pd.Series({"U1": "30007"}))
>>> result.assignments["project_id"].tolist(), result.unmatched["reason_code"].tolist()
(['P1'], ['outcompeted'])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from foncier._format import fr_number
from foncier.assignment import (
    ENAF_PENALTY_JOBS_PER_HA,
    MIP_REL_GAP,
    PoolInfo,
    SolveProgress,
    SolveReport,
    check_objective,
    greedy_assignment,
    improve_scores,
    objective_coefficients,
    pool_info,
    solve_assignment,
)
from foncier.errors import FoncierError, InfeasibleError
from foncier.explain import explain_placed, explain_unmatched
from foncier.feasibility import (
    Rejections,
    Thresholds,
    candidate_pairs,
    check_units,
    pairwise_feasible,
)
from foncier.layers import PROJECT_FIELDS, Col, TableCol, UnitCol, check_table
from foncier.scoring import Weights, score_contributions
from foncier.sensitivity import budget_values, placement_stability
from foncier.unlock import UNLOCKABLE, UnlockSetup, unlock_hints, unlock_hints_empty, with_unlocks
from foncier.zan.charging import EnafCharging, categories

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "BudgetPools",
    "MatchResult",
    "budget_pools",
    "complete_match",
    "match_projects",
    "pair_key",
    "pool_info",
    "verify_assignment",
    "with_project_fields",
    "with_solution",
]

_TOL = 1e-6


@dataclass(frozen=True)
class BudgetPools:
    """The ZAN inputs of the engine, taken from a budget table.

    Attributes
    ----------
    remaining
        Remaining budget in ha per pool id (negative when exceeded).
    unit_pool
        Pool id of each land unit, indexed by ``unit_id``.
    names
        Display name of each pool.
    kind
        Pool level: ``commune``, ``epci`` or ``scot``.
    """

    remaining: pd.Series
    unit_pool: pd.Series
    names: dict[str, str]
    kind: str


def budget_pools(
    budgets: pd.DataFrame, communes: pd.DataFrame, units: pd.DataFrame, pool: str | None = None
) -> BudgetPools:
    """Align a ZAN budget table with the land units, for the matching engine.

    Parameters
    ----------
    budgets
        Output of :func:`foncier.zan.budget_table` (one row per pool, ``pool_id``,
        ``name``, ``remaining_ha``).
    communes
        The ``communes`` layer (its EPCI and SCoT give the pool of each commune).
    units
        Land units (``unit_id``, ``insee``).
    pool
        Pool level; by default the one the budget table was computed for.

    Returns
    -------
    BudgetPools
        Remaining budget per pool, pool of each unit, pool names.
    """
    from foncier.zan import pool_ids

    check_table(budgets, "budgets")
    level = str(pool or budgets.attrs.get("pool", "commune"))
    of_commune = pool_ids(communes, level)
    unit_pool = pd.Series(
        of_commune.reindex(units[Col.INSEE].astype(str)).to_numpy(),
        index=units[UnitCol.UNIT_ID].astype(str).to_numpy(),
    )
    by_pool = pd.DataFrame(budgets).set_index("pool_id")
    # pandas deep-copies attrs on every operation: the engine gets plain tables
    by_pool.attrs = {}
    unit_pool.attrs = {}
    names = {str(k): str(v) for k, v in by_pool[Col.NAME].items()}
    return BudgetPools(by_pool["remaining_ha"], unit_pool, names, level)


_RANK_SCORE_WEIGHT = 1e-6


@dataclass
class MatchResult:
    """The outcome of :func:`match_projects`.

    Attributes
    ----------
    assignments
        One row per placed project: ``project_id``, ``unit_id``, ``insee``,
        ``pool_id``, ``area_ha``, ``enaf_ha``, ``jobs``, ``score``,
        ``is_friche``, ``unverified``, ``zan_cost`` and ``explanation`` (French).
    unmatched
        One row per project left out: ``project_id``, ``reason_code``
        (``infeasible``, ``no_land``, ``blocked_by_zan``, ``outcompeted``,
        ``not_worth``, ``not_selected``), ``requirement``, ``unit_id``,
        ``pool_id``, ``missing_ha`` (ENAF budget short for ``blocked_by_zan``,
        area short on the best unit for ``outcompeted``), ``blocking_project_id``,
        ``explanation`` and ``hint`` (French), and the verified unlock
        (``unlock_field``, ``unlock_value``, ``unlock_unit_id``,
        ``unlock_pool_id``, ``unlock_verified``, ``unlock_jobs_lost``, see
        :mod:`foncier.unlock`).
    contributions
        Score contributions of the placed pairs ("why here").
    pool_balance
        Per pool: ``pool_id``, ``remaining_before_ha``, ``budget_ha``,
        ``enaf_used_ha``, ``remaining_after_ha``.
    solve
        Solver status, objective, bound, gap, time.
    pairs
        Candidate pairs given to the solver.
    rejections
        Per-project rejection summaries.
    objective
        Objective maximised.
    greedy_objective
        Value of the greedy baseline on the same candidates.
    budget_values
        With ``sensitivity``: jobs gained by one more hectare in each pool
        (see :func:`foncier.sensitivity.budget_values`); the assignments
        then carry ``stability`` and ``alternative_unit_id``.
    setup
        What the unlock and sensitivity steps solve again from (see
        :func:`complete_match`).
    weights
        Score weights of the solve (for :func:`with_solution`).
    """

    assignments: pd.DataFrame
    unmatched: pd.DataFrame
    contributions: pd.DataFrame
    pool_balance: pd.DataFrame
    solve: SolveReport
    pairs: pd.DataFrame
    rejections: Rejections
    objective: str
    greedy_objective: float
    budget_values: pd.DataFrame | None = None
    setup: UnlockSetup | None = field(default=None, repr=False)
    weights: Weights = field(default_factory=Weights, repr=False)


def match_projects(
    projects: pd.DataFrame,
    units: pd.DataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
    *,
    objective: str = "jobs",
    weights: Weights | None = None,
    thresholds: Thresholds | None = None,
    top_n: int | None = 50,
    time_limit: float | None = None,
    mip_rel_gap: float = MIP_REL_GAP,
    enaf_penalty: float = ENAF_PENALTY_JOBS_PER_HA,
    pool_names: Mapping[str, str] | None = None,
    pool_kind: str = "commune",
    charging: EnafCharging | None = None,
    forbidden: pd.DataFrame | None = None,
    unlock: bool = True,
    start: pd.DataFrame | None = None,
    progress: Callable[[SolveProgress], None] | None = None,
    sensitivity: bool = False,
    fold: bool = False,
) -> MatchResult:
    """Place projects on land units, globally, under the ZAN budgets, with reasons.

    Parameters
    ----------
    projects
        Projects table (``projects`` layer schema).
    units
        Land units (``unit_id``, ``insee``, criteria…).
    remaining
        Remaining ZAN budget in ha per pool id; negative = already over.
    unit_pool
        Pool id of each unit, indexed by ``unit_id``.
    objective
        ``jobs``, ``score``, ``min_enaf`` or ``friches_first``
        (see :func:`foncier.assignment.objective_coefficients`).
    weights
        Score weights (:class:`~foncier.scoring.Weights`).
    thresholds
        Requirement constants (:class:`~foncier.feasibility.Thresholds`).
    top_n
        Candidate pairs kept per project and ranking (50: on the sample,
        pruning to 50 loses nothing against no pruning while 30 loses 1 %
        of the jobs under binding ZAN budgets and slows HiGHS down); ``None``
        keeps all.
    time_limit
        Solver time limit in seconds; the best solution found is returned.
    mip_rel_gap
        Relative gap at which the solver stops (0.5 %, see
        :data:`~foncier.assignment.MIP_REL_GAP`).  Whatever the gap, the
        result is never worse than the greedy baseline: if greedy does better
        than the solver's incumbent, its solution is kept (``solve.greedy_kept``,
        and said so in ``solve.message``).
    enaf_penalty
        Jobs per ha of ENAF for ``min_enaf``.
    pool_names
        Display names of the pools (for the French texts).
    pool_kind
        ``commune``, ``epci`` or ``scot``.
    charging
        What counts as ENAF consumption; build it from the ZAN rule set with
        :meth:`~foncier.zan.charging.EnafCharging.from_rules`.
    forbidden
        ``project_id``, ``unit_id`` pairs the solver may not choose (their
        lot cannot be laid out, see :func:`foncier.lots.place_with_lots`).
    unlock
        Look for the change that would place each project left out, and
        verify it by solving again (see :mod:`foncier.unlock`).
    start
        A previous solution to start from (``project_id``, ``unit_id``, e.g.
        the assignments of the scenario before a relaxation): its placements
        that are still candidate pairs and fit together are the solver's
        first incumbent, so the new objective is never lower than theirs.
    sensitivity
        Also compute the value of one more hectare of budget per pool and
        whether each placement is stable or fragile (:mod:`foncier.sensitivity`,
        by solving again).
    progress
        Called while HiGHS runs with its elapsed time, incumbent, bound and
        gap (:class:`~foncier.assignment.SolveProgress`).
    fold
        Fold identical projects into integer columns
        (:class:`~foncier.assignment.Folding`): the optimum is the same and the
        solve faster (0.24× on the sample), but the solution moves a group of
        identical projects together, and the lot layout that follows a
        scenario's solve (:func:`foncier.lots.place_with_lots`) then rejects
        them one solve at a time: on the sample 120 projects placed with
        folding against 124 without.  Off for scenarios; for a portfolio
        solved without lots.

    Returns
    -------
    MatchResult
        Assignments, unmatched projects with reasons, contributions, pool
        balance, solver report.

    Raises
    ------
    FoncierError
        Unknown objective.
    LayerSchemaError
        Units miss a column.
    InfeasibleError
        The solution breaks a constraint when re-checked (a solver bug):
        never returned silently.
    """
    check_objective(objective)
    check_units(units)
    weights = weights or Weights()
    th = thresholds or Thresholds()
    units = units.reset_index(drop=True)
    projects = projects.reset_index(drop=True)
    pools = pool_info(units, remaining, unit_pool, pool_names=pool_names, pool_kind=pool_kind)
    pairs, rejections = candidate_pairs(
        projects,
        units,
        weights=weights,
        thresholds=th,
        top_n=top_n,
        # objective value first, score among equals
        rank=lambda f: (
            objective_coefficients(f, objective, enaf_penalty=enaf_penalty)
            + _RANK_SCORE_WEIGHT * f["score"].to_numpy()
        ),
        charging=charging,
    )
    pairs = _with_start(pairs, start, projects, units, weights, th, charging)
    pairs = _allowed(pairs, forbidden)
    pairs = pairs.reset_index(drop=True)
    capacity = units[UnitCol.NET_AREA_HA].astype(float).fillna(0.0).to_numpy()
    coef = objective_coefficients(pairs, objective, enaf_penalty=enaf_penalty)
    chosen, report = solve_assignment(
        pairs,
        capacity,
        pools.of_unit,
        pools.budget,
        coef,
        time_limit=time_limit,
        mip_rel_gap=mip_rel_gap,
        start=_start_pairs(pairs, start),
        progress=progress,
        fold=fold,
    )
    greedy = greedy_assignment(pairs, capacity, pools.of_unit, pools.budget, coef)
    if coef[greedy].sum() > coef[chosen].sum() + _TOL:
        chosen = greedy
        report.greedy_kept = True
    chosen = improve_scores(chosen, pairs, capacity, pools.of_unit, pools.budget, coef)
    setup = UnlockSetup(
        projects=projects,
        units=units,
        pairs=pairs,
        chosen=chosen,
        capacity=capacity,
        pools=pools,
        coefficients=lambda f: objective_coefficients(f, objective, enaf_penalty=enaf_penalty),
        candidates=lambda f: _allowed(
            candidate_pairs(
                f, units, weights=weights, thresholds=th, top_n=None, charging=charging
            )[0],
            forbidden,
        ),
        thresholds=th,
        charging=charging or EnafCharging(),
        mip_rel_gap=mip_rel_gap,
    )
    result = _solved(
        setup,
        report,
        rejections=rejections,
        objective=objective,
        weights=weights,
        greedy_objective=float(coef[greedy].sum()),
        remaining=remaining,
        unit_pool=unit_pool,
    )
    return complete_match(result, unlock=unlock, sensitivity=sensitivity)


def complete_match(
    match: MatchResult,
    *,
    unlock: bool = True,
    sensitivity: bool = False,
    parcels: gpd.GeoDataFrame | None = None,
    unknown_as: str = "enaf",
) -> MatchResult:
    """Add the verified unlocks and the sensitivity to a match solved without them.

    :func:`match_projects` calls it; a caller that solves several times
    before keeping one solution (the lot layout, see
    :func:`foncier.lots.place_with_lots`) solves with ``unlock=False`` and
    completes only the solution it keeps.

    Parameters
    ----------
    match
        A result of :func:`match_projects` (its ``unmatched`` reasons are
        those of the solve; rows whose reason is not unlockable are kept).
    unlock
        Find and verify, by solving again, the change that would place each
        project left out (see :mod:`foncier.unlock`).
    sensitivity
        Value of one more hectare per pool and stability of each placement
        (see :mod:`foncier.sensitivity`).
    parcels
        The ``parcels`` layer of the match's units (which then carry
        ``idus`` and their geometry): a hint is verified only if, in the
        verifying solution, every placement on its unit gets a lot (see
        :class:`~foncier.unlock.UnlockSetup`); ``None`` verifies on the
        units' net areas alone.
    unknown_as
        How parcels of unknown land cover count in the lots' ENAF
        (``enaf`` or ``artificialised``).

    Returns
    -------
    MatchResult
        ``match`` with the unlock columns of ``unmatched`` filled and, with
        ``sensitivity``, ``budget_values`` and the assignments' ``stability``.
    """
    setup = match.setup
    if setup is None or not (unlock or sensitivity):
        return match
    if parcels is not None:
        setup = replace(setup, parcels=parcels, unknown_as=unknown_as)
    unmatched, assignments, values = match.unmatched, match.assignments.copy(), None
    todo = unmatched[Col.PROJECT_ID][unmatched[TableCol.REASON_CODE].isin(UNLOCKABLE)]
    if unlock and len(todo):
        hints = unlock_hints(setup, todo.astype(str).tolist())
        unmatched = check_table(with_unlocks(unmatched, hints, setup.pools), "unmatched")
    if sensitivity:
        values = check_table(
            budget_values(setup, unmatched[Col.PROJECT_ID].astype(str).tolist()), "budget_values"
        )
        stability = placement_stability(setup).reindex(assignments[Col.PROJECT_ID].astype(str))
        for col in (TableCol.STABILITY, TableCol.ALTERNATIVE_UNIT_ID):
            assignments[col] = stability[col].to_numpy()
        assignments = check_table(assignments, "assignments")
    return replace(match, assignments=assignments, unmatched=unmatched, budget_values=values)


def with_solution(match: MatchResult, chosen: np.ndarray) -> MatchResult:
    """The match with another solution over its candidate pairs, explained and re-checked.

    The lot layout (:func:`foncier.lots.place_with_lots`) takes placements
    out and puts projects back on other units; the result then says what
    that solution is: assignments, reasons of the projects left out,
    contributions, pool balance, objective value, and the solution the
    unlocks and the sensitivity start from.

    Parameters
    ----------
    match
        A result of :func:`match_projects` (with its ``setup``).
    chosen
        Row positions, in ``match.pairs``, of the pairs placed.

    Returns
    -------
    MatchResult
        ``match`` for that solution, without unlocks (see :func:`complete_match`).

    Raises
    ------
    InfeasibleError
        The solution breaks a constraint (capacity, ZAN budget, requirement).
    """
    s = match.setup
    if s is None:
        msg = "ce résultat d'appariement ne garde pas de quoi changer sa solution"
        raise FoncierError(msg)
    pools = s.pools
    of_unit = np.where(pools.of_unit >= 0, pools.ids[np.maximum(pools.of_unit, 0)], None)
    return _solved(
        replace(s, chosen=np.asarray(chosen, dtype=int)),
        replace(match.solve),
        rejections=match.rejections,
        objective=match.objective,
        weights=match.weights,
        greedy_objective=match.greedy_objective,
        remaining=pd.Series(pools.remaining, index=pools.ids),
        unit_pool=pd.Series(of_unit, index=s.units[UnitCol.UNIT_ID].astype(str).to_numpy()),
    )


def _solved(
    setup: UnlockSetup,
    report: SolveReport,
    *,
    rejections: Rejections,
    objective: str,
    weights: Weights,
    greedy_objective: float,
    remaining: pd.Series,
    unit_pool: pd.Series,
) -> MatchResult:
    """The result of the solution ``setup.chosen``: explained, re-checked, its value in ``report``.

    Raises
    ------
    InfeasibleError
        The solution breaks a constraint when re-checked (a solver bug).
    """
    pairs, chosen, pools = setup.pairs, setup.chosen, setup.pools
    coef = setup.coefficients(pairs)
    report.objective = float(coef[chosen].sum())
    if np.isfinite(report.dual_bound) and report.dual_bound:
        report.gap = max(0.0, (report.dual_bound - report.objective) / abs(report.dual_bound))
    placed = pairs.iloc[chosen]
    assignments = explain_placed(placed, setup.units, pools, weights)
    violations = verify_assignment(
        assignments,
        setup.projects,
        setup.units,
        remaining,
        unit_pool,
        thresholds=setup.thresholds,
        charging=setup.charging,
    )
    if violations:
        msg = (
            "la solution du solveur enfreint des contraintes quand on la revérifie "
            "(résultat non publié) : " + " ; ".join(violations[:5])
        )
        raise InfeasibleError(msg)
    unmatched = explain_unmatched(
        setup.projects, setup.units, pairs, rejections, chosen, coef, pools, objective=objective
    )
    return MatchResult(
        assignments=check_table(with_project_fields(assignments, setup.projects), "assignments"),
        unmatched=check_table(
            with_project_fields(
                with_unlocks(unmatched, unlock_hints_empty(), pools), setup.projects
            ),
            "unmatched",
        ),
        contributions=score_contributions(placed, weights),
        pool_balance=_pool_balance(placed, pools),
        solve=report,
        pairs=pairs,
        rejections=rejections,
        objective=objective,
        greedy_objective=greedy_objective,
        setup=setup,
        weights=weights,
    )


def _allowed(pairs: pd.DataFrame, forbidden: pd.DataFrame | None) -> pd.DataFrame:
    """``pairs`` without the ``project_id``, ``unit_id`` pairs of ``forbidden``."""
    if forbidden is None or not len(forbidden):
        return pairs
    return pairs[~pair_key(pairs).isin(pair_key(forbidden))]


def _with_start(
    pairs: pd.DataFrame,
    start: pd.DataFrame | None,
    projects: pd.DataFrame,
    units: pd.DataFrame,
    weights: Weights,
    thresholds: Thresholds,
    charging: EnafCharging | None,
) -> pd.DataFrame:
    """``pairs`` plus the still feasible placements of ``start`` that pruning left out.

    The pruning to the ``top_n`` best pairs of each project depends on the
    units' values: a relaxation (one more hectare on a unit) may push a
    placement of the previous solution out of its project's best pairs,
    and the warm start would lose it.  Putting these pairs back keeps the
    previous solution in the model, so that the new objective is never
    lower.
    """
    if start is None or not len(start):
        return pairs
    key = pair_key(pairs)
    wanted = pair_key(start)
    missing = wanted[~wanted.isin(key)]
    ids = projects[Col.PROJECT_ID].astype(str)
    at = np.flatnonzero(ids.isin(missing.get_level_values(0)).to_numpy())
    if not len(at):
        return pairs
    extra, _ = candidate_pairs(
        projects.iloc[at],
        units,
        weights=weights,
        thresholds=thresholds,
        top_n=None,
        charging=charging,
    )
    extra_key = pair_key(extra)
    extra = extra[extra_key.isin(missing)].copy()
    # project positions in the whole table, not in the subset
    extra["p"] = at[extra["p"].to_numpy()]
    return pd.concat([pairs, extra], ignore_index=True)


def pair_key(table: pd.DataFrame) -> pd.MultiIndex:
    """The ``(project_id, unit_id)`` of each row of a table of pairs, as text.

    Parameters
    ----------
    table
        Candidate pairs, assignments or forbidden pairs.

    Returns
    -------
    pandas.MultiIndex
        One ``(project_id, unit_id)`` per row.
    """
    return pd.MultiIndex.from_arrays(
        [table[Col.PROJECT_ID].astype(str), table[UnitCol.UNIT_ID].astype(str)]
    )


def _start_pairs(pairs: pd.DataFrame, start: pd.DataFrame | None) -> np.ndarray | None:
    """Row positions in ``pairs`` of the placements of a previous solution."""
    if start is None or not len(start):
        return None
    key = pair_key(pairs)
    wanted = pair_key(start)
    at = key.get_indexer(wanted)
    return at[at >= 0]


def with_project_fields(table: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the project fields its readers show, right after ``project_id``.

    Parameters
    ----------
    table
        A table with a ``project_id`` column (assignments, unmatched).
    projects
        The projects table.

    Returns
    -------
    pandas.DataFrame
        ``table`` with the columns of :data:`foncier.layers.PROJECT_FIELDS`
        (taken from ``projects`` where ``table`` lacks them).
    """
    fields = projects.set_index(projects[Col.PROJECT_ID].astype(str))
    ids = table[Col.PROJECT_ID].astype(str)
    out = table.copy()
    missing = [name for name in PROJECT_FIELDS if name not in out.columns]
    for at, name in enumerate(missing, start=1):
        out.insert(at, name, fields[name].reindex(ids).to_numpy())
    return out


def _pool_balance(placed: pd.DataFrame, pools: PoolInfo) -> pd.DataFrame:
    codes = pools.of_unit[placed["u"].to_numpy(dtype=int)]
    enaf = placed["enaf_ha"].to_numpy(dtype=float)
    ok = codes >= 0
    used = np.bincount(codes[ok], weights=enaf[ok], minlength=len(pools.ids))
    return pd.DataFrame(
        {
            "pool_id": pools.ids,
            "name": [pools.names.get(i, i) for i in pools.ids],
            "remaining_before_ha": pools.remaining,
            "budget_ha": pools.budget,
            "enaf_used_ha": used,
            "remaining_after_ha": pools.remaining - used,
        }
    )


def verify_assignment(
    assignments: pd.DataFrame,
    projects: pd.DataFrame,
    units: pd.DataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
    *,
    thresholds: Thresholds | None = None,
    charging: EnafCharging | None = None,
) -> list[str]:
    """Re-check a solution from the input tables, independently of the solver.

    Checks: each project placed at most once, on a known unit; every placed
    pair meets the hard requirements; the projects on a unit fit its net
    area; the ENAF consumed per pool (see
    :class:`~foncier.zan.charging.EnafCharging`) stays within
    ``max(remaining, 0)``.

    Parameters
    ----------
    assignments
        ``project_id`` and ``unit_id`` of each placement.
    projects, units, remaining, unit_pool
        The inputs of :func:`match_projects`.
    thresholds
        Requirement constants.
    charging
        What counts as ENAF consumption.

    Returns
    -------
    list of str
        One French line per violation, naming the projects, units or pools
        concerned; empty when the solution is valid.
    """
    out: list[str] = []
    if assignments.empty:
        return out
    dup = assignments[Col.PROJECT_ID].duplicated()
    if dup.any():
        twice = ", ".join(assignments.loc[dup, Col.PROJECT_ID].astype(str))
        out.append(f"projets placés deux fois : {twice}")
    p_tab = projects.set_index(projects[Col.PROJECT_ID].astype(str))
    u_tab = units.set_index(units[UnitCol.UNIT_ID].astype(str))
    pid = assignments[Col.PROJECT_ID].astype(str)
    uid = assignments[UnitCol.UNIT_ID].astype(str)
    # Index.get_indexer: Series.isin on string ids is ~50 times slower (0.6 s for 900 ids
    # against 50,000 units)
    unknown = (p_tab.index.unique().get_indexer(pd.Index(pid)) < 0) | (
        u_tab.index.unique().get_indexer(pd.Index(uid)) < 0
    )
    if unknown.any():
        out.append(
            "projets ou terrains inconnus : "
            + ", ".join(f"{p} sur {u}" for p, u in zip(pid[unknown], uid[unknown], strict=True))
        )
        return out
    p_rows = p_tab.reindex(pid.to_numpy()).reset_index(drop=True)
    u_rows = u_tab.reindex(uid.to_numpy()).reset_index(drop=True)
    ok = pairwise_feasible(p_rows, u_rows, thresholds=thresholds)
    if not ok.all():
        bad = [f"{p} sur {u}" for p, u in zip(pid[~ok], uid[~ok], strict=True)]
        out.append(
            "projets placés sur un terrain qui ne remplit pas leurs exigences : "
            + ", ".join(bad[:5])
        )
    area = p_rows[Col.AREA_MIN_HA].astype(float).to_numpy()
    load = pd.Series(area, index=uid.to_numpy()).groupby(level=0).sum()
    cap = u_tab[UnitCol.NET_AREA_HA].astype(float).reindex(load.index).fillna(0.0)
    over = load > cap + _TOL
    for u in load.index[over]:
        out.append(
            f"terrain {u} dépassé : {fr_number(load[u], 4)} ha de projets "
            f"pour {fr_number(cap[u], 4)} ha nets"
        )
    share = pd.to_numeric(u_rows[UnitCol.ENAF_SHARE], errors="coerce").to_numpy(dtype=float)
    flag = {
        name: (
            table[col].fillna(False).astype(bool).to_numpy()
            if col in table
            else np.zeros(len(table), dtype=bool)
        )
        for name, table, col in (
            ("pene", p_rows, Col.IS_PENE),
            ("friche", u_rows, UnitCol.IS_FRICHE),
        )
    }
    charging = charging or EnafCharging()
    enaf = charging.charge(
        area, share, flag["pene"], flag["friche"], excluded=charging.excluded(categories(p_rows))
    )
    by_id = unit_pool.copy()
    by_id.index = by_id.index.astype(str)
    pool = by_id.reindex(uid.to_numpy())
    if pool.isna().all() and len(unit_pool) == len(units) and unit_pool.index.equals(units.index):
        pool = pd.Series(unit_pool.to_numpy(), index=units[UnitCol.UNIT_ID].astype(str)).reindex(
            uid.to_numpy()
        )
    used = (
        pd.Series(enaf, index=pool.astype(object).fillna("∅").astype(str).to_numpy())
        .groupby(level=0)
        .sum()
    )
    rem = pd.to_numeric(remaining, errors="coerce")
    rem.index = rem.index.astype(str)
    budget = rem.reindex(used.index).fillna(0.0).clip(lower=0.0)
    for g in used.index[used > budget + _TOL]:
        out.append(
            f"enveloppe {g} dépassée : {fr_number(used[g], 4)} ha d'ENAF consommés "
            f"pour {fr_number(budget[g], 4)} ha de budget restant"
        )
    return out
