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

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from foncier.assignment import (
    PLACEMENT_VALUE,
    _pair_model,
    _quiet_stdout,
    _usable,
    improve_scores,
    solve_assignment,
)
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
#: Pools solved again for the value of one more hectare (the most promising first).
MAX_RESOLVES = 10
#: Seconds of the MILPs that decide the placements no cheaper test decided.
STABILITY_TIME_S = 10.0
#: Seconds of one MILP looking for a near-optimal solution without many placements at once.
BATCH_TIME_S = 2.0
#: Seconds of one MILP with one placement forbidden.
PAIR_TIME_S = 1.0
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


def placement_stability(s: UnlockSetup, *, time_limit_s: float = STABILITY_TIME_S) -> pd.DataFrame:
    """Whether each placement is stable (same unit in near-optimal solutions) or fragile.

    A placement is *fragile* when a solution without it is worth at least
    the scenario's objective less :data:`FRAGILE_TOLERANCE` (a near-optimal
    solution puts the project elsewhere, or leaves it out); *stable* when
    forbidding it provably loses more.  Each placement is decided by the
    cheapest test that answers, in this order:

    1. a move of the project to another unit at no loss, keeping every
       other placement; or a placement worth less than the tolerance
       (fragile, without solving);
    2. the solution without the placement, completed by filling in what
       still fits (fragile when it stays near-optimal);
    3. the LP relaxation with the placement forbidden, re-solved from the
       previous basis: stable when its bound is below the threshold;
    4. the MILP with the placement forbidden, warm-started from the
       scenario's solution without it and cut off at the threshold: fragile
       when it finds a near-optimal solution, stable when it proves there is
       none.  A solution found also decides every other placement it does
       not hold (fragile: one solve answers for several).

    Placements still open when ``time_limit_s`` is spent are ``untested``.

    Parameters
    ----------
    s
        The scenario's solve.
    time_limit_s
        Seconds for the MILPs of step 4 together.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``project_id``: ``stability`` (one of :data:`STABILITY`)
        and ``alternative_unit_id`` (for a fragile placement, the unit the
        project takes in the near-optimal solution found; missing when that
        solution leaves it out).
    """
    clock = time.perf_counter()
    chosen = np.asarray(s.chosen, dtype=int)
    ids = s.pairs[Col.PROJECT_ID].astype(str).to_numpy()
    unit_ids = s.pairs[UnitCol.UNIT_ID].astype(object).to_numpy()
    out = pd.DataFrame(
        {TableCol.STABILITY: "untested", TableCol.ALTERNATIVE_UNIT_ID: None},
        index=pd.Index(ids[chosen], name=Col.PROJECT_ID),
    )
    if not len(chosen):
        return out
    model = _Model(s)
    state = np.full(len(chosen), "untested", dtype=object)
    alt = np.full(len(chosen), None, dtype=object)
    moves = _moves(s, model.value)
    state[moves >= 0] = "fragile"
    alt[moves >= 0] = unit_ids[moves[moves >= 0]]
    state[(state == "untested") & (model.value[chosen] <= model.tol)] = "fragile"

    def found(y: np.ndarray) -> None:
        """Every open placement a near-optimal solution ``y`` does not hold is fragile."""
        held = np.isin(chosen, y)
        open_ = (state == "untested") & ~held
        where = pd.Series(unit_ids[y], index=ids[y])
        state[open_] = "fragile"
        alt[open_] = where.reindex(ids[chosen[open_]]).to_numpy()

    for i in np.flatnonzero(state == "untested"):
        if state[i] != "untested":
            continue
        y = model.filled(int(i))
        if model.value[y].sum() >= model.floor - _TOL:
            found(y)
    for j, bound in model.lp_bounds(np.flatnonzero(state == "untested")):
        if bound < model.floor - _TOL:
            state[j] = "stable"
    while (state == "untested").any():
        left = time_limit_s - (time.perf_counter() - clock)
        if left <= 0:
            break
        before = int((state == "untested").sum())
        found(model.batch(np.flatnonzero(state == "untested"), min(left, BATCH_TIME_S)))
        if (state == "untested").sum() == before:
            break
    order = np.flatnonzero(state == "untested")
    order = order[np.argsort(-model.value[chosen[order]], kind="stable")]
    for i in order:
        left = time_limit_s - (time.perf_counter() - clock)
        if state[i] != "untested" or left <= 0:
            continue
        verdict, y = model.mip(int(i), min(left, PAIR_TIME_S))
        if verdict == "fragile":
            found(y)
        elif verdict == "stable":
            state[i] = "stable"
    out[TableCol.STABILITY] = state
    out[TableCol.ALTERNATIVE_UNIT_ID] = alt
    return out


def _moves(s: UnlockSetup, value: np.ndarray) -> np.ndarray:
    """For each placement, a pair of its project it can move to at no loss (else -1).

    The move keeps every other placement: the new unit has the room, its
    pool the budget (counting the ENAF the move gives back in the same pool).
    """
    free, left, _, _ = solution_room(s)
    p_arr = s.pairs["p"].to_numpy()
    u_arr = s.pairs["u"].to_numpy(dtype=int)
    area = s.pairs["area_ha"].to_numpy(float)
    enaf = s.pairs["enaf_ha"].to_numpy(float)
    code = s.pools.of_unit
    chosen = np.asarray(s.chosen, dtype=int)
    of_p = pd.Series(np.arange(len(chosen)), index=p_arr[chosen])
    other = np.flatnonzero(np.isin(p_arr, p_arr[chosen]))
    i = of_p.reindex(p_arr[other]).to_numpy(dtype=int)
    k = chosen[i]
    g_new, g_old = code[u_arr[other]], code[u_arr[k]]
    room = np.where(g_new >= 0, np.append(left, 0.0)[g_new], 0.0) + np.where(
        g_new == g_old, enaf[k], 0.0
    )
    ok = (
        (u_arr[other] != u_arr[k])
        & (value[other] >= value[k] - 1e-9)
        & (area[other] <= free[u_arr[other]] + _TOL)
        & ((enaf[other] <= _TOL) | (enaf[other] <= room + _TOL))
    )
    out = np.full(len(chosen), -1)
    first = pd.Series(other[ok]).groupby(i[ok]).first()
    out[first.index.to_numpy(dtype=int)] = first.to_numpy(dtype=int)
    return out


class _Model:
    """The scenario's MILP and its LP relaxation, re-solved with one placement forbidden.

    ``value`` is the objective of the model (the main values, rounded, when
    they are integral, as :func:`foncier.assignment.solve_assignment` does);
    ``floor`` the least value of a near-optimal solution.
    """

    def __init__(self, s: UnlockSetup) -> None:
        self.s = s
        self.coef = s.coefficients(s.pairs)
        main = self.coef - PLACEMENT_VALUE
        self.integral = bool(np.allclose(main, np.round(main), rtol=0.0, atol=1e-9))
        self.value = np.round(main) if self.integral else np.asarray(self.coef, float)
        self.chosen = np.asarray(s.chosen, dtype=int)
        base = float(self.value[self.chosen].sum())
        self.tol = FRAGILE_TOLERANCE * abs(base)
        self.floor = base - self.tol
        if self.integral:
            self.floor = float(np.ceil(self.floor - 1e-9))
        keep = (self.value > 0) & _usable(s.pairs, s.pools.of_unit, s.pools.budget, s.capacity)
        self.cols = np.flatnonzero(keep)
        self.col_of = np.full(len(s.pairs), -1)
        self.col_of[self.cols] = np.arange(len(self.cols))
        self._lp: Any = None
        self._mip: Any = None
        self._batch: Any = None

    def _highs(self, integer: bool) -> Any:
        import highspy

        a, ub = _pair_model(
            self.s.pairs.iloc[self.cols], self.s.capacity, self.s.pools.of_unit, self.s.pools.budget
        )
        n = len(self.cols)
        with _quiet_stdout():
            h = highspy.Highs()
        for name, value in (
            ("output_flag", False),
            ("threads", 1),
            ("random_seed", 0),
            ("mip_rel_gap", 0.0),
        ):
            h.setOptionValue(name, value)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, a.shape[0]
        lp.col_cost_ = -self.value[self.cols]
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
        lp.row_lower_, lp.row_upper_ = np.full(a.shape[0], -highspy.kHighsInf), ub
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, a.shape[0]
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        h.passModel(lp)
        return h

    def filled(self, i: int) -> np.ndarray:
        """The solution without placement ``i``, completed with what still fits elsewhere."""
        coef = self.coef.copy()
        coef[self.chosen[i]] = -1.0
        start = np.delete(self.chosen, i)
        s = self.s
        return improve_scores(
            start, s.pairs, s.capacity, s.pools.of_unit, s.pools.budget, coef, passes=0
        )

    def lp_bounds(self, which: np.ndarray) -> Iterator[tuple[int, float]]:
        """Bound of the LP relaxation with each placement of ``which`` forbidden (hot-started)."""
        if not len(which):
            return
        if self._lp is None:
            self._lp = self._highs(integer=False)
        h = self._lp
        for i in which:
            j = int(self.col_of[self.chosen[i]])
            if j < 0:
                continue
            h.changeColBounds(j, 0.0, 0.0)
            h.run()
            bound = -float(h.getInfo().objective_function_value)
            h.changeColBounds(j, 0.0, 1.0)
            yield int(i), float(np.floor(bound + 1e-6)) if self.integral else bound

    def batch(self, open_: np.ndarray, time_limit: float) -> np.ndarray:
        """A near-optimal solution holding as few of the placements ``open_`` as it can.

        One MILP: minimise the number of those placements kept, under the
        extra row ``value · x ≥ floor``, warm-started from the scenario's
        solution (which keeps them all).  Every placement the answer does not
        hold is fragile.
        """
        import highspy

        if self._batch is None:
            self._batch = self._highs(integer=True)
            row = np.arange(len(self.cols), dtype=np.int32)
            self._batch.addRow(self.floor, highspy.kHighsInf, len(row), row, self.value[self.cols])
        h = self._batch
        cost = np.zeros(len(self.cols))
        at = self.col_of[self.chosen[open_]]
        cost[at[at >= 0]] = 1.0
        h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
        start = self.col_of[self.chosen]
        start = start[start >= 0]
        h.setSolution(len(start), start.astype(np.int32), np.ones(len(start)))
        h.run()
        if h.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
            return self.chosen
        y = self.cols[np.asarray(h.getSolution().col_value) > 0.5]
        return y if self.value[y].sum() >= self.floor - _TOL else self.chosen

    def mip(self, i: int, time_limit: float) -> tuple[str, np.ndarray]:
        """Solve with placement ``i`` forbidden, cut off at :attr:`floor`.

        Returns ``("fragile", solution)``, ``("stable", [])`` when no
        solution reaches the floor, or ``("untested", [])`` at the time limit.
        """
        import highspy

        if self._mip is None:
            self._mip = self._highs(integer=True)
        h = self._mip
        j = int(self.col_of[self.chosen[i]])
        h.changeColBounds(j, 0.0, 0.0)
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
        h.setOptionValue("objective_bound", -self.floor + 1e-6)
        h.setOptionValue("objective_target", -self.floor)
        start = self.col_of[np.delete(self.chosen, i)]
        start = start[start >= 0]
        h.setSolution(len(start), start.astype(np.int32), np.ones(len(start)))
        h.run()
        info = h.getInfo()
        status = h.getModelStatus()
        h.changeColBounds(j, 0.0, 1.0)
        if info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
            y = self.cols[np.asarray(h.getSolution().col_value) > 0.5]
            if self.value[y].sum() >= self.floor - _TOL:
                return "fragile", y
        # the search ended under the cut-off: no solution reaches the floor
        done = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible)
        if status in done or -float(info.mip_dual_bound) < self.floor - _TOL:
            return "stable", np.zeros(0, dtype=int)
        return "untested", np.zeros(0, dtype=int)
