"""How much a scenario's answer depends on its inputs: budget values, stable placements.

Two questions a working group asks once a scenario is solved, each answered
by solving again (warm-started from the scenario's solution, which stays
feasible, so no answer is below the scenario's):

- **the value of one more hectare** of ZAN budget in a pool: the pool's
  budget is raised by 1 ha and the scenario solved again; the jobs (and the
  objective) gained are a lower bound of the true value (the re-solve is
  time-limited).  Only pools where a project left out has a candidate unit
  are solved again: elsewhere an extra hectare places nothing (0, said so);
- **stable or fragile placements**: a placement is *fragile* when the
  project can go to another unit at no loss (a move that keeps every other
  placement, found without solving), or when solving again with that pair
  forbidden loses less than :data:`FRAGILE_TOLERANCE` of the objective; it is
  *stable* when the solver proves the loss is larger.  The largest
  placements (by jobs) are tested by re-solving, the others only by the
  move test (``untested`` when no move exists).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from foncier.assignment import solve_assignment
from foncier.layers import Col, TableCol, UnitCol
from foncier.unlock import VERIFY_TIME_S, UnlockSetup, solution_room

__all__ = [
    "FRAGILE_TOLERANCE",
    "STABILITY",
    "budget_values",
    "placement_stability",
]

#: Relative loss of objective under which a forbidden placement is called fragile.
FRAGILE_TOLERANCE = 0.002
#: Placements tested by re-solving (largest jobs first) and pools solved again.
MAX_RESOLVES = 10
#: Stability labels of a placement.
STABILITY = ("stable", "fragile", "untested")
_TOL = 1e-6


def budget_values(s: UnlockSetup, unmatched_ids: list[str]) -> pd.DataFrame:
    """Jobs and objective gained by one more hectare of budget in each pool.

    Parameters
    ----------
    s
        The scenario's solve.
    unmatched_ids
        Projects left out.

    Returns
    -------
    pandas.DataFrame
        One row per pool: ``pool_id``, ``name``, ``remaining_after_ha`` (what
        it has left after the scenario), ``jobs_per_extra_ha``,
        ``objective_per_extra_ha`` and ``method`` (``re-solve``: solved again
        with 1 ha more, a lower bound; ``no_candidate``: no project left out
        has a unit there, 0).
    """
    _, left, _, _ = solution_room(s)
    left_ids = set(unmatched_ids)
    cand = s.pairs[s.pairs[Col.PROJECT_ID].astype(str).isin(left_ids)]
    codes = s.pools.of_unit[cand["u"].to_numpy(dtype=int)]
    jobs_left = pd.Series(cand["jobs"].to_numpy(float)).groupby(codes).max()
    jobs_left = jobs_left[jobs_left.index >= 0].sort_values(ascending=False, kind="stable")
    tested = jobs_left.index[:MAX_RESOLVES].to_numpy(dtype=int)
    coef = s.coefficients(s.pairs)
    base_obj = float(coef[s.chosen].sum())
    base_jobs = float(s.pairs["jobs"].to_numpy(float)[s.chosen].sum())
    jobs_gain = np.zeros(len(s.pools.ids))
    obj_gain = np.zeros(len(s.pools.ids))
    for g in tested:
        budget = s.pools.budget.copy()
        budget[g] += 1.0
        chosen, _ = solve_assignment(
            s.pairs,
            s.capacity,
            s.pools.of_unit,
            budget,
            coef,
            time_limit=VERIFY_TIME_S,
            mip_rel_gap=s.mip_rel_gap,
            start=s.chosen,
        )
        obj_gain[g] = max(float(coef[chosen].sum()) - base_obj, 0.0)
        jobs_gain[g] = float(s.pairs["jobs"].to_numpy(float)[chosen].sum()) - base_jobs
    method = np.where(np.isin(np.arange(len(s.pools.ids)), tested), "re-solve", "no_candidate")
    return pd.DataFrame(
        {
            TableCol.POOL_ID: s.pools.ids,
            Col.NAME: [s.pools.names.get(str(i), str(i)) for i in s.pools.ids],
            TableCol.REMAINING_AFTER_HA: left,
            TableCol.JOBS_PER_EXTRA_HA: jobs_gain,
            TableCol.OBJECTIVE_PER_EXTRA_HA: obj_gain,
            TableCol.METHOD: method,
        }
    )


def placement_stability(s: UnlockSetup) -> pd.DataFrame:
    """Whether each placement is stable (same unit in near-optimal solutions) or fragile.

    Parameters
    ----------
    s
        The scenario's solve.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``project_id``: ``stability`` (one of :data:`STABILITY`)
        and ``alternative_unit_id`` (a unit the project can move to at no
        loss, for a fragile placement found by the move test).
    """
    free, left, _, _ = solution_room(s)
    coef = s.coefficients(s.pairs)
    p_arr = s.pairs["p"].to_numpy()
    u_arr = s.pairs["u"].to_numpy(dtype=int)
    area = s.pairs["area_ha"].to_numpy(float)
    enaf = s.pairs["enaf_ha"].to_numpy(float)
    code = s.pools.of_unit
    chosen = np.asarray(s.chosen, dtype=int)
    of_p = pd.Series(chosen, index=p_arr[chosen])
    # every other pair of a placed project, against its placed pair
    alt = np.flatnonzero(np.isin(p_arr, p_arr[chosen]))
    k = of_p.reindex(p_arr[alt]).to_numpy(dtype=int)
    g_new, g_old = code[u_arr[alt]], code[u_arr[k]]
    room = np.where(g_new >= 0, np.append(left, 0.0)[g_new], 0.0) + np.where(
        g_new == g_old, enaf[k], 0.0
    )
    move = (
        (u_arr[alt] != u_arr[k])
        & (coef[alt] >= coef[k] - 1e-9)
        & (area[alt] <= free[u_arr[alt]] + _TOL)
        & ((enaf[alt] <= _TOL) | (enaf[alt] <= room + _TOL))
    )
    ids = s.pairs[Col.PROJECT_ID].to_numpy()
    out = pd.DataFrame(
        {TableCol.STABILITY: "untested", TableCol.ALTERNATIVE_UNIT_ID: None},
        index=pd.Index(ids[chosen].astype(str), name=Col.PROJECT_ID),
    )
    moves = pd.Series(s.pairs[UnitCol.UNIT_ID].to_numpy()[alt][move], index=ids[alt][move])
    moves = moves[~moves.index.duplicated()]
    out.loc[moves.index.astype(str), TableCol.ALTERNATIVE_UNIT_ID] = moves.to_numpy()
    out.loc[moves.index.astype(str), TableCol.STABILITY] = "fragile"
    base = float(coef[chosen].sum())
    jobs = s.pairs["jobs"].to_numpy(float)
    todo = [c for c in chosen[np.argsort(-jobs[chosen], kind="stable")] if ids[c] not in moves]
    for c in todo[:MAX_RESOLVES]:
        pairs = s.pairs.drop(index=s.pairs.index[c]).reset_index(drop=True)
        keep = np.delete(np.arange(len(s.pairs)), c)
        start = np.searchsorted(keep, chosen[chosen != c])
        sub_coef = coef[keep]
        _, report = solve_assignment(
            pairs,
            s.capacity,
            s.pools.of_unit,
            s.pools.budget,
            sub_coef,
            time_limit=VERIFY_TIME_S,
            mip_rel_gap=0.0,
            start=start,
        )
        tol = FRAGILE_TOLERANCE * abs(base)
        if report.objective >= base - tol:
            out.loc[str(ids[c]), TableCol.STABILITY] = "fragile"
        elif report.dual_bound < base - tol:
            out.loc[str(ids[c]), TableCol.STABILITY] = "stable"
    return out
