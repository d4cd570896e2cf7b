"""Global assignment of projects to land units: one MILP solved by HiGHS (:mod:`highspy`).

Variables: one binary ``x[k]`` per candidate pair ``k = (project p, unit u)``
(see :func:`foncier.feasibility.candidate_pairs`).  Constraints:

- each project on at most one unit: ``Σ_u x[p, u] ≤ 1``;
- capacity: ``Σ_p area_min_ha[p] · x[p, u] ≤ net_area_ha[u]`` — a project is
  charged its minimal area, the land it cannot do without (its maximum is a
  wish, not a need);
- ZAN: for each budget pool, ``Σ enaf_ha[k] · x[k] ≤ max(remaining_ha, 0)``,
  with ``enaf_ha = area_min_ha × enaf_share`` (0 for PENE projects and for
  friches).  A pool already over its envelope gets a zero budget: only
  ENAF-free placements remain possible there.

Rows that can never bind (a unit or pool whose candidates all fit together)
are left out of the model.  Objectives (maximised, see
:func:`objective_coefficients`): ``jobs``, ``score``, ``min_enaf``,
``friches_first``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from foncier.choices import OBJECTIVES, Objective
from foncier.errors import FoncierError
from foncier.layers import UnitCol

if TYPE_CHECKING:
    from scipy import sparse

__all__ = [
    "ENAF_PENALTY_JOBS_PER_HA",
    "MIP_REL_GAP",
    "OBJECTIVES",
    "Objective",
    "PLACEMENT_VALUE",
    "PoolInfo",
    "SolveProgress",
    "SolveReport",
    "check_objective",
    "greedy_assignment",
    "improve_scores",
    "objective_coefficients",
    "pool_info",
    "solve_assignment",
]

#: An objective a scenario can maximise (see :func:`objective_coefficients`).
#: ``min_enaf``: a placement is worth its jobs minus this many jobs per ha of
#: ENAF it consumes, so a project is placed on ENAF only if it brings more
#: than 20 jobs per ha consumed, and ENAF-free sites are preferred.
ENAF_PENALTY_JOBS_PER_HA = 20.0
#: Value of placing a project at all, added to every pair's value: a project
#: with no jobs is still worth placing.  (A score tie-breaker in the objective
#: makes HiGHS 5-10 times slower; ties are broken by :func:`improve_scores`.)
PLACEMENT_VALUE = 1e-3
#: Default relative optimality gap at which HiGHS stops: 0.5 % of 586 jobs is
#: under 3 jobs, while proving the last fraction can take minutes when ZAN binds.
MIP_REL_GAP = 5e-3
#: ``friches_first``: jobs placed on a friche count (1 + this) times.
FRICHE_BONUS = 1.0
_TOL = 1e-6

_OF_KIND = {"commune": "de la commune", "epci": "de l'EPCI", "scot": "du SCoT"}
_KIND = {"commune": "la commune", "epci": "l'EPCI", "scot": "le SCoT"}


@dataclass
class PoolInfo:
    """ZAN budget pools aligned with the units (see :func:`foncier.matching.pool_info`)."""

    ids: np.ndarray
    of_unit: np.ndarray
    remaining: np.ndarray
    budget: np.ndarray
    names: dict[str, str]
    kind: str

    def label(self, code: int, *, of: bool = False) -> str:
        """French name of a pool: ``"la commune Alès"``, or ``"de la commune Alès"`` with ``of``."""
        if code < 0:
            return "d'aucune enveloppe" if of else "aucune enveloppe"
        pid = str(self.ids[code])
        name = self.names.get(pid, pid)
        words = _OF_KIND if of else _KIND
        return f"{words.get(self.kind, 'de l’enveloppe' if of else 'l’enveloppe')} {name}"


def pool_info(
    units: pd.DataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
    *,
    pool_names: Mapping[str, str] | None = None,
    pool_kind: str = "commune",
) -> PoolInfo:
    """Align budget pools with the units.

    Parameters
    ----------
    units
        Land units.
    remaining
        Remaining ZAN budget in ha per pool id (may be negative).
    unit_pool
        Pool id per unit, indexed by ``unit_id`` (or by the units' index).
    pool_names
        Display names of the pools.
    pool_kind
        ``commune``, ``epci`` or ``scot`` (for the French texts).

    Returns
    -------
    PoolInfo
        Pool codes per unit (``-1`` when a unit has no pool), pool ids,
        remaining and budget (remaining floored at 0; a pool without a
        remaining value has a zero budget).
    """
    ids = units[UnitCol.UNIT_ID].astype(str)
    by_id = unit_pool.copy()
    by_id.index = by_id.index.astype(str)
    pools = by_id.reindex(ids.to_numpy())
    if pools.isna().all() and len(unit_pool) == len(units) and unit_pool.index.equals(units.index):
        pools = pd.Series(unit_pool.to_numpy(), index=ids.to_numpy())
    pool_ids = pd.Index(
        sorted(set(remaining.index.astype(str)) | set(pools.dropna().astype(str))), dtype=object
    )
    codes = pool_ids.get_indexer(pd.Index(pools.astype(object).where(pools.notna(), None)))
    rem = pd.to_numeric(remaining, errors="coerce")
    rem.index = rem.index.astype(str)
    rem_arr = rem.reindex(pool_ids).fillna(0.0).to_numpy(dtype=float)
    names = {str(k): str(v) for k, v in (pool_names or {}).items()}
    return PoolInfo(
        ids=pool_ids.to_numpy(dtype=object),
        of_unit=codes.astype(int),
        remaining=rem_arr,
        budget=np.maximum(rem_arr, 0.0),
        names=names,
        kind=pool_kind,
    )


def check_objective(objective: str) -> str:
    """Return ``objective`` if it is known.

    Raises
    ------
    FoncierError
        For an unknown objective, listing the known ones.
    """
    if objective not in OBJECTIVES:
        msg = f"objectif inconnu « {objective} » ; valeurs possibles : {', '.join(OBJECTIVES)}"
        raise FoncierError(msg)
    return objective


def objective_coefficients(
    pairs: pd.DataFrame, objective: str, *, enaf_penalty: float = ENAF_PENALTY_JOBS_PER_HA
) -> np.ndarray:
    """Value of each candidate pair under an objective (to be maximised).

    - ``jobs``: the project's jobs;
    - ``score``: the pair's score (floored at 0);
    - ``min_enaf``: jobs − ``enaf_penalty`` × ENAF ha (lexicographic preference
      for sobriety would leave projects out for a few m²; a price per ha
      states the trade-off explicitly);
    - ``friches_first``: jobs, counted ``1 + FRICHE_BONUS`` times on a friche.

    Every objective adds :data:`PLACEMENT_VALUE`, which makes placing a project
    with no jobs still worthwhile.  Ties (same value on several units) are
    broken by score after solving, by :func:`improve_scores`.

    Parameters
    ----------
    pairs
        Candidate pairs (``jobs``, ``score``, ``enaf_ha``, ``is_friche``).
    objective
        One of :data:`OBJECTIVES`.
    enaf_penalty
        Jobs per ha of ENAF of ``min_enaf``.

    Returns
    -------
    numpy.ndarray
        One coefficient per pair.

    Raises
    ------
    FoncierError
        Unknown objective.
    """
    check_objective(objective)
    jobs = pairs["jobs"].to_numpy(dtype=float)
    if objective == "jobs":
        value = jobs
    elif objective == "score":
        value = np.maximum(pairs["score"].to_numpy(dtype=float), 0.0)
    elif objective == "min_enaf":
        value = jobs - enaf_penalty * pairs["enaf_ha"].to_numpy(dtype=float)
    else:
        friche = pairs["is_friche"].to_numpy(dtype=bool)
        value = jobs * np.where(friche, 1.0 + FRICHE_BONUS, 1.0)
    return value + PLACEMENT_VALUE


@dataclass
class SolveReport:
    """What the solver did.

    Attributes
    ----------
    status
        ``optimal``, ``time_limit`` (best solution found when time ran out),
        ``no_candidates`` (nothing to solve), ``infeasible`` or ``error``.
    message
        The solver's message.
    objective
        Value of the solution found (``Σ coefficients``).
    dual_bound
        Best bound on the optimum proven by the solver.
    gap
        Relative optimality gap ``(bound − objective) / |bound|``.
    time_s
        Solve time in seconds.
    n_pairs, n_rows
        Model size: variables and constraints.
    """

    status: str
    message: str
    objective: float
    dual_bound: float
    gap: float
    time_s: float
    n_pairs: int
    n_rows: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level prints of HiGHS on stdout (it prints debug lines even with disp=False)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _matrix(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int, n_cols: int
) -> sparse.csr_array:
    from scipy import sparse

    return sparse.csr_array((vals, (rows, cols)), shape=(n_rows, n_cols))


def _model(
    pairs: pd.DataFrame, capacity_ha: np.ndarray, pool_of_unit: np.ndarray, budget_ha: np.ndarray
) -> tuple[sparse.csr_array, np.ndarray]:
    """Constraint matrix and upper bounds (rows that cannot bind are dropped)."""
    from scipy import sparse

    k = len(pairs)
    col = np.arange(k)
    p_codes, p_rows = np.unique(pairs["p"].to_numpy(), return_inverse=True)
    # projects with a single candidate are bounded by the variable bound already
    multi = np.bincount(p_rows, minlength=len(p_codes)) > 1
    keep_p = multi[p_rows]
    _, p_rows2 = np.unique(p_rows[keep_p], return_inverse=True)
    blocks = [_matrix(p_rows2, col[keep_p], np.ones(keep_p.sum()), int(multi.sum()), k)]
    ubs = [np.ones(int(multi.sum()))]
    u = pairs["u"].to_numpy()
    area = pairs["area_ha"].to_numpy(dtype=float)
    demand = np.bincount(u, weights=area, minlength=len(capacity_ha))
    binding_u = demand > capacity_ha + _TOL
    keep_u = binding_u[u]
    if keep_u.any():
        u_codes, u_rows = np.unique(u[keep_u], return_inverse=True)
        blocks.append(_matrix(u_rows, col[keep_u], area[keep_u], len(u_codes), k))
        ubs.append(capacity_ha[u_codes])
    pool = pool_of_unit[u]
    enaf = pairs["enaf_ha"].to_numpy(dtype=float)
    has_pool = (pool >= 0) & (enaf > 0)
    if has_pool.any():
        use = np.bincount(pool[has_pool], weights=enaf[has_pool], minlength=len(budget_ha))
        binding = use > budget_ha + _TOL
        keep = has_pool & binding[np.where(pool >= 0, pool, 0)]
        if keep.any():
            g_codes, g_rows = np.unique(pool[keep], return_inverse=True)
            blocks.append(_matrix(g_rows, col[keep], enaf[keep], len(g_codes), k))
            ubs.append(budget_ha[g_codes])
    # ENAF-consuming pairs on units without a pool have a zero budget
    orphan = (pool < 0) & (enaf > 0)
    if orphan.any():
        blocks.append(_matrix(np.zeros(orphan.sum(), int), col[orphan], enaf[orphan], 1, k))
        ubs.append(np.zeros(1))
    return sparse.vstack(blocks, format="csr"), np.concatenate(ubs)


@dataclass(frozen=True)
class SolveProgress:
    """Where HiGHS is while it runs, passed to a ``progress`` callback.

    Attributes
    ----------
    elapsed_s
        Seconds since the solve started.
    incumbent
        Value of the best solution found so far (``nan`` before the first).
    bound
        Best bound proven on the optimum (``nan`` before the root LP).
    gap
        Relative gap ``(bound − incumbent) / |bound|`` (``nan`` while unknown).
    """

    elapsed_s: float
    incumbent: float
    bound: float
    gap: float

    def text_fr(self) -> str:
        """French one-liner, e.g. ``"12 s, solution 541 emplois, borne 545, écart 0,7 %"``."""
        parts = [f"{self.elapsed_s:.0f} s"]
        if np.isfinite(self.incumbent):
            parts.append(f"solution {self.incumbent:.0f}")
        if np.isfinite(self.bound):
            parts.append(f"borne {self.bound:.0f}")
        if np.isfinite(self.gap):
            parts.append(f"écart {100 * self.gap:.1f} %".replace(".", ","))
        return ", ".join(parts)


#: Seconds between two calls of a solve's ``progress`` callback.
PROGRESS_EVERY_S = 0.5


def _usable(
    pairs: pd.DataFrame, pool_of_unit: np.ndarray, budget_ha: np.ndarray, capacity_ha: np.ndarray
) -> np.ndarray:
    """Pairs that can be selected at all: their area fits the unit, their ENAF the pool's budget."""
    u = pairs["u"].to_numpy(dtype=int)
    enaf = pairs["enaf_ha"].to_numpy(dtype=float)
    pool = pool_of_unit[u]
    room = np.where(pool >= 0, np.append(budget_ha, 0.0)[pool], 0.0)
    fits = pairs["area_ha"].to_numpy(dtype=float) <= capacity_ha[u] + _TOL
    return fits & ((enaf <= _TOL) | (enaf <= room + _TOL))


def _is_feasible(
    chosen: np.ndarray,
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
) -> bool:
    """Whether a selection of pairs meets every constraint of the model."""
    p = pairs["p"].to_numpy()[chosen]
    if len(np.unique(p)) < len(p):
        return False
    u = pairs["u"].to_numpy(dtype=int)[chosen]
    load = np.bincount(
        u, weights=pairs["area_ha"].to_numpy(float)[chosen], minlength=len(capacity_ha)
    )
    if (load > capacity_ha + _TOL).any():
        return False
    enaf = pairs["enaf_ha"].to_numpy(float)[chosen]
    pool = pool_of_unit[u]
    if ((pool < 0) & (enaf > _TOL)).any():
        return False
    use = np.bincount(pool[pool >= 0], weights=enaf[pool >= 0], minlength=len(budget_ha))
    return not (use > budget_ha + _TOL).any()


def solve_assignment(
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
    coefficients: np.ndarray,
    *,
    time_limit: float | None = None,
    mip_rel_gap: float = MIP_REL_GAP,
    start: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    progress: Callable[[SolveProgress], None] | None = None,
) -> tuple[np.ndarray, SolveReport]:
    """Solve the assignment MILP with HiGHS (:mod:`highspy`), from a starting solution.

    The solver starts from ``start`` (or from the greedy baseline): its
    answer is never worse than that solution, so that re-solving after a
    relaxation (more land, more budget, a looser requirement), warm-started
    from the previous solution, never lowers the objective.  HiGHS runs on
    one thread with a fixed seed: the same inputs give the same result
    (unless the time limit cuts the search short).

    Parameters
    ----------
    pairs
        Candidate pairs with ``p``, ``u`` (unit row positions), ``area_ha``,
        ``enaf_ha``, ``score``.
    capacity_ha
        Net area of each unit, by row position.
    pool_of_unit
        Budget pool code of each unit (index into ``budget_ha``), ``-1`` if none.
    budget_ha
        ZAN budget of each pool code, already floored at 0.
    coefficients
        Value of each pair (see :func:`objective_coefficients`); pairs of
        non-positive value are never selected (unless ``fixed``).
    time_limit
        Seconds; on timeout the best solution found is returned with status
        ``time_limit``.
    mip_rel_gap
        Relative gap at which the solver stops.
    start
        Row positions of a feasible selection to start from (e.g. the
        previous solution); ignored when it breaks a constraint.
    fixed
        Row positions of pairs that must be selected.
    progress
        Called about every :data:`PROGRESS_EVERY_S` seconds while HiGHS runs
        with a :class:`SolveProgress`, and once at the end with the result's.

    Returns
    -------
    selected : numpy.ndarray
        Row positions (in ``pairs``) of the chosen pairs.
    report : SolveReport
        Status, objective, bound, gap, time, model size; status
        ``infeasible`` when the ``fixed`` pairs cannot all be selected.
    """
    import highspy

    clock = time.perf_counter()
    cap = np.asarray(capacity_ha, float)
    pools = np.asarray(pool_of_unit, int)
    budget = np.asarray(budget_ha, float)
    fixed = np.zeros(0, dtype=int) if fixed is None else np.asarray(fixed, dtype=int)
    # Integer main values (jobs, friches_first) make the objective integral,
    # which HiGHS exploits to prune: the placement value is then left to
    # improve_scores' fill step, and added to the bound.
    main = coefficients - PLACEMENT_VALUE
    integral = bool(np.allclose(main, np.round(main), rtol=0.0, atol=1e-9))
    model_c = np.round(main) if integral else np.asarray(coefficients, float)
    keep = (model_c > 0) & _usable(pairs, pools, budget, cap)
    keep[fixed] = True
    worth = np.flatnonzero(keep)
    if not len(worth):
        report = SolveReport(
            "no_candidates", "no candidate pair worth placing", 0.0, 0.0, 0.0, 0.0, 0, 0
        )
        return np.zeros(0, dtype=int), report
    if len(fixed) and not _is_feasible(fixed, pairs, cap, pools, budget):
        report = SolveReport(
            "infeasible", "the fixed pairs break a constraint", 0.0, np.nan, np.nan, 0.0, 0, 0
        )
        return np.zeros(0, dtype=int), report
    incumbent = _start(start, fixed, pairs, cap, pools, budget, coefficients)
    sub = pairs.iloc[worth]
    c = model_c[worth]
    a, ub = _model(sub, cap, pools, budget)
    a = a.tocsc()
    n = len(c)
    lower = np.isin(worth, fixed).astype(float)
    with _quiet_stdout():
        h = highspy.Highs()
    for name, value in (
        ("output_flag", False),
        ("mip_rel_gap", float(mip_rel_gap)),
        ("threads", 1),
        ("random_seed", 0),
    ):
        h.setOptionValue(name, value)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, a.shape[0]
    lp.col_cost_ = -c
    lp.col_lower_, lp.col_upper_ = lower, np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.full(a.shape[0], -highspy.kHighsInf), ub
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, a.shape[0]
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    at = np.searchsorted(worth, incumbent)
    inside = (at < n) & (worth[np.minimum(at, n - 1)] == incumbent)
    if inside.all() and len(incumbent):
        h.setSolution(len(at), at.astype(np.int32), np.ones(len(at)))
    if progress is not None:
        _watch(h, progress, clock)
    h.run()
    elapsed = time.perf_counter() - clock
    model_status = h.getModelStatus()
    status = _status_text(model_status)
    info = h.getInfo()
    chosen = incumbent
    if info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
        x = np.asarray(h.getSolution().col_value)
        found = worth[x > 0.5]
        # never worse than the start, whatever the gap or time limit
        if coefficients[found].sum() >= coefficients[incumbent].sum() - _TOL:
            chosen = found
    objective = float(coefficients[chosen].sum())
    bound = -float(info.mip_dual_bound)
    if integral:
        bound += PLACEMENT_VALUE * len(np.unique(pairs["p"].to_numpy()[worth]))
    if not np.isfinite(bound):
        bound = objective
    bound = max(bound, objective)
    gap = max(0.0, (bound - objective) / abs(bound)) if bound else 0.0
    report = SolveReport(
        status, h.modelStatusToString(model_status), objective, bound, gap, elapsed, n, a.shape[0]
    )
    if progress is not None:
        progress(SolveProgress(elapsed, objective, bound, gap))
    return np.sort(chosen), report


def _start(
    start: np.ndarray | None,
    fixed: np.ndarray,
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
    coefficients: np.ndarray,
) -> np.ndarray:
    """The solution the solver starts from: ``start`` if feasible, else greedy (with ``fixed``).

    Both are completed by :func:`improve_scores`' fill step, so the start is
    never worse than the greedy baseline.
    """
    if start is not None:
        start = np.union1d(np.asarray(start, dtype=int), fixed)
        if not _is_feasible(start, pairs, capacity_ha, pool_of_unit, budget_ha):
            start = None
    if start is None:
        start = greedy_assignment(
            pairs, capacity_ha, pool_of_unit, budget_ha, coefficients, fixed=fixed
        )
    return improve_scores(
        start, pairs, capacity_ha, pool_of_unit, budget_ha, coefficients, passes=0
    )


def _status_text(model_status: Any) -> str:
    """Our status name of a HiGHS model status."""
    import highspy

    m = highspy.HighsModelStatus
    names = {
        m.kOptimal: "optimal",
        m.kTimeLimit: "time_limit",
        m.kInterrupt: "time_limit",
        m.kInfeasible: "infeasible",
        m.kUnbounded: "unbounded",
        m.kUnboundedOrInfeasible: "infeasible",
    }
    return names.get(model_status, "error")


def _watch(h: Any, progress: Callable[[SolveProgress], None], clock: float) -> None:
    """Report the solve's progress to ``progress`` at most every :data:`PROGRESS_EVERY_S`."""
    last = [-np.inf]

    def on_event(event: Any) -> None:
        now = time.perf_counter() - clock
        if now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        out = event.data_out
        inc, bnd = -float(out.mip_primal_bound), -float(out.mip_dual_bound)
        inc = inc if abs(inc) < 1e30 else float("nan")
        bnd = bnd if abs(bnd) < 1e30 else float("nan")
        gap = (bnd - inc) / abs(bnd) if np.isfinite(inc) and np.isfinite(bnd) and bnd else np.nan
        progress(SolveProgress(now, inc, bnd, max(gap, 0.0) if np.isfinite(gap) else gap))

    h.cbMipInterrupt.subscribe(on_event)


def greedy_assignment(
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
    coefficients: np.ndarray,
    *,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """Baseline: take pairs best value first (then best score) while they fit.

    Parameters
    ----------
    pairs, capacity_ha, pool_of_unit, budget_ha, coefficients
        As in :func:`solve_assignment`.
    fixed
        Row positions of pairs taken first, whatever their value (assumed
        to fit together).

    Returns
    -------
    numpy.ndarray
        Row positions of the chosen pairs.
    """
    cap = np.asarray(capacity_ha, float).copy()
    budget = np.asarray(budget_ha, float).copy()
    pools = np.asarray(pool_of_unit, int)
    placed: set[int] = set()
    chosen = []
    p_arr, u_arr = pairs["p"].to_numpy(), pairs["u"].to_numpy()
    area, enaf = pairs["area_ha"].to_numpy(float), pairs["enaf_ha"].to_numpy(float)
    score = pairs["score"].to_numpy(float)
    first = np.asarray([] if fixed is None else fixed, dtype=int)
    order = np.concatenate([first, np.lexsort((-score, -coefficients))])
    for i, k in enumerate(order):
        if coefficients[k] <= 0 and i >= len(first):
            break
        p, u, g = int(p_arr[k]), int(u_arr[k]), int(pools[u_arr[k]])
        if p in placed or area[k] > cap[u] + _TOL:
            continue
        if enaf[k] > 0 and (g < 0 or enaf[k] > budget[g] + _TOL):
            continue
        placed.add(p)
        cap[u] -= area[k]
        if enaf[k] > 0:
            budget[g] -= enaf[k]
        chosen.append(k)
    return np.asarray(chosen, dtype=int)


def improve_scores(
    chosen: np.ndarray,
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
    coefficients: np.ndarray,
    *,
    passes: int = 3,
) -> np.ndarray:
    """Complete the solution and move placed projects to better-scored units.

    Two cheap steps after the MILP, neither of which lowers the objective:

    1. *fill*: an unplaced project whose candidate pair (of positive value)
       still fits, in capacity and ZAN budget, is added (the solver may stop
       within its gap or time limit before finding such completions);
    2. *moves*: the MILP maximises the objective only; among the many
       solutions of equal value, each placed project is moved to its
       best-scored candidate unit that still has room and budget, provided
       the move does not lower the pair's objective value.

    Every addition and move respects capacity and ZAN budgets.

    Parameters
    ----------
    chosen
        Row positions of the selected pairs.
    pairs, capacity_ha, pool_of_unit, budget_ha, coefficients
        As in :func:`solve_assignment`.
    passes
        Sweeps over the placed projects.

    Returns
    -------
    numpy.ndarray
        Row positions of the improved selection.
    """
    chosen = np.asarray(chosen, dtype=int).copy()
    if not len(pairs):
        return chosen
    p_arr, u_arr = pairs["p"].to_numpy(), pairs["u"].to_numpy()
    area, enaf = pairs["area_ha"].to_numpy(float), pairs["enaf_ha"].to_numpy(float)
    score = pairs["score"].to_numpy(float)
    pools = np.asarray(pool_of_unit, int)
    free = np.asarray(capacity_ha, float) - np.bincount(
        u_arr[chosen], weights=area[chosen], minlength=len(capacity_ha)
    )
    g_chosen = pools[u_arr[chosen]]
    has = g_chosen >= 0
    left = np.asarray(budget_ha, float) - np.bincount(
        g_chosen[has], weights=enaf[chosen][has], minlength=len(budget_ha)
    )
    placed = set(p_arr[chosen].tolist())
    added = []
    for k in np.lexsort((-score, -coefficients)):
        if coefficients[k] <= 0:
            break
        g = pools[u_arr[k]]
        if p_arr[k] in placed or area[k] > free[u_arr[k]] + _TOL:
            continue
        if enaf[k] > 0 and (g < 0 or enaf[k] > left[g] + _TOL):
            continue
        placed.add(int(p_arr[k]))
        free[u_arr[k]] -= area[k]
        if g >= 0:
            left[g] -= enaf[k]
        added.append(k)
    chosen = np.concatenate([chosen, np.asarray(added, dtype=int)])
    order = np.lexsort((-score, p_arr))
    starts = np.searchsorted(p_arr[order], p_arr[chosen])
    ends = np.searchsorted(p_arr[order], p_arr[chosen], side="right")
    for _ in range(passes):
        moved = False
        for i, k in enumerate(chosen):
            for j in order[starts[i] : ends[i]]:
                if score[j] <= score[k] + 1e-12:
                    break
                if coefficients[j] < coefficients[k] - 1e-9 or area[j] > free[u_arr[j]] + _TOL:
                    continue
                g_old, g_new = pools[u_arr[k]], pools[u_arr[j]]
                if enaf[j] > 0:
                    room = left[g_new] + (enaf[k] if g_new == g_old else 0.0) if g_new >= 0 else 0.0
                    if enaf[j] > room + _TOL:
                        continue
                free[u_arr[k]] += area[k]
                free[u_arr[j]] -= area[j]
                if g_old >= 0:
                    left[g_old] += enaf[k]
                if g_new >= 0:
                    left[g_new] -= enaf[j]
                chosen[i] = j
                moved = True
                break
        if not moved:
            break
    return chosen
