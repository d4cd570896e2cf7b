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
from foncier.labels import HIGHS_ERROR_LABELS, solver_message
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
    "Folding",
    "SolveReport",
    "check_objective",
    "fold_projects",
    "greedy_assignment",
    "improve_scores",
    "local_search",
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
        ``no_candidates`` (nothing to solve), ``infeasible``, ``unbounded``
        or ``error``: the code programs read.
    detail
        French detail of the status (why the fixed pairs have no solution,
        which HiGHS error), ``""`` for none.
    objective
        Value of the solution found (``Σ coefficients``).
    dual_bound
        Best bound on the optimum proven by the solver.
    gap
        Relative optimality gap ``(bound − objective) / |bound|``.
    time_s
        Solve time in seconds.
    n_pairs, n_rows
        Model size: candidate pairs worth placing and constraints.
    n_columns
        Integer variables of the model once identical projects are folded
        (see :class:`Folding`); ``n_pairs`` without folding.
    greedy_kept
        The greedy baseline did better than the solver's solution and was
        kept instead (see :func:`foncier.matching.match_projects`).
    """

    status: str
    detail: str
    objective: float
    dual_bound: float
    gap: float
    time_s: float
    n_pairs: int
    n_rows: int
    n_columns: int = 0
    greedy_kept: bool = False

    @property
    def message(self) -> str:
        """What people read of the solve, in French (:func:`foncier.labels.solver_message`)."""
        return solver_message(self.status, detail=self.detail, greedy_kept=self.greedy_kept)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON, with the French ``message``."""
        return {**asdict(self), "message": self.message}


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


@dataclass(frozen=True)
class Folding:
    """Identical projects folded into groups: one integer column per (group, unit).

    Two projects are identical when they have the same candidate units with
    the same minimal area, ENAF charge, objective coefficient and fixing on
    each: they are interchangeable in every solution, so a column ``y[g, u]``
    counting how many projects of group ``g`` go to unit ``u`` (with
    ``Σ_u y[g, u] ≤ |g|``) gives a model with the same optimum, without the
    symmetry of the original one.

    Attributes
    ----------
    column
        Folded column of each pair (row position in the pairs given).
    group
        Group of each column.
    unit
        Unit of each column.
    area, enaf, value
        Minimal area, ENAF charge and coefficient of each column (those of
        each of its pairs).
    upper
        Upper bound of each column: the group's size, or fewer when the unit
        cannot hold that many of its projects.
    lower
        Lower bound of each column: how many of its pairs are fixed.
    size
        Number of projects of each group.
    order
        Pair positions sorted by column then project: the pairs of column
        ``j`` are ``order[start[j]:start[j + 1]]``, in the order of the
        group's projects.
    start
        Start of each column in ``order`` (length ``n_columns + 1``).
    """

    column: np.ndarray
    group: np.ndarray
    unit: np.ndarray
    area: np.ndarray
    enaf: np.ndarray
    value: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    size: np.ndarray
    order: np.ndarray
    start: np.ndarray

    @property
    def n_columns(self) -> int:
        """Number of folded columns."""
        return len(self.group)

    def counts(self, chosen: np.ndarray) -> np.ndarray:
        """Value of each column for a selection of pairs (row positions)."""
        return np.bincount(self.column[chosen], minlength=self.n_columns).astype(float)

    def unfold(self, y: np.ndarray) -> np.ndarray:
        """Pairs of a folded solution: column ``j`` takes the next ``y[j]`` projects of its group.

        The projects of a group are handed out in their order, to the
        columns in order of unit: the same ``y`` always gives the same pairs,
        and each project gets at most one unit when ``Σ_u y[g, u] ≤ |g|``.
        """
        take = np.rint(np.clip(y, 0, self.upper)).astype(int)
        before = np.cumsum(take) - take
        first = np.concatenate(([0], np.flatnonzero(np.diff(self.group)) + 1))
        group_start = np.repeat(before[first], np.diff(np.append(first, len(take))))
        offset = before - group_start
        col = np.repeat(np.arange(len(take)), take)
        slot = np.arange(len(col)) - np.repeat(np.cumsum(take) - take, take)
        return np.sort(self.order[self.start[col] + offset[col] + slot])


def fold_projects(
    p: np.ndarray,
    u: np.ndarray,
    area: np.ndarray,
    enaf: np.ndarray,
    value: np.ndarray,
    fixed: np.ndarray,
    capacity_ha: np.ndarray,
) -> Folding:
    """Group identical projects (see :class:`Folding`).

    Projects are grouped by a hash of their pairs, then each project's pairs
    are compared with those of its group's first project: a hash collision
    leaves the project on its own, so the folding is always exact.

    Parameters
    ----------
    p, u
        Project and unit of each pair.
    area, enaf, value
        Minimal area, ENAF charge and objective coefficient of each pair.
    fixed
        Whether each pair must be selected.
    capacity_ha
        Net area of each unit (bounds the columns).

    Returns
    -------
    Folding
        The groups and their columns.
    """
    n = len(p)
    by_pu = np.lexsort((u, p))
    frame = pd.DataFrame({"u": u, "a": area, "e": enaf, "c": value, "f": fixed})
    row_hash = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    p_sorted = p[by_pu]
    first = np.concatenate(([0], np.flatnonzero(np.diff(p_sorted)) + 1))
    projects = p_sorted[first]
    degree = np.diff(np.append(first, n))
    h1 = np.add.reduceat(row_hash[by_pu], first)
    h2 = np.add.reduceat(pd.util.hash_array(row_hash[by_pu]), first)
    _, group_of = np.unique(
        np.stack([degree.astype(np.uint64), h1, h2]), axis=1, return_inverse=True
    )
    group_of = group_of.ravel()
    # exact check: each project's pairs (sorted by unit) against its group's first project's
    leader = np.full(group_of.max() + 1, len(projects))
    np.minimum.at(leader, group_of, np.arange(len(projects)))
    rank = np.arange(n) - np.repeat(first, degree)
    mine = by_pu
    theirs = by_pu[np.repeat(first[leader[group_of]], degree) + rank]
    same = (
        (u[mine] == u[theirs])
        & (area[mine] == area[theirs])
        & (enaf[mine] == enaf[theirs])
        & (value[mine] == value[theirs])
        & (fixed[mine] == fixed[theirs])
    )
    ok = np.logical_and.reduceat(same, first)
    group_of = np.where(ok, group_of, group_of.max() + 1 + np.arange(len(projects)))
    # groups numbered in order of their first project
    _, seen, group_of = np.unique(group_of, return_index=True, return_inverse=True)
    group_of = np.argsort(np.argsort(seen))[group_of]
    g_of_pair = np.empty(n, dtype=int)
    g_of_pair[by_pu] = np.repeat(group_of, degree)
    size = np.bincount(group_of)
    order = np.lexsort((p, u, g_of_pair))
    key_g, key_u = g_of_pair[order], u[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (key_g[1:] != key_g[:-1]) | (key_u[1:] != key_u[:-1])
    start = np.append(np.flatnonzero(new), n)
    column = np.empty(n, dtype=int)
    column[order] = np.cumsum(new) - 1
    lead = order[start[:-1]]
    fits = np.floor((capacity_ha[u[lead]] + _TOL) / np.maximum(area[lead], _TOL))
    lower = np.bincount(column[fixed], minlength=len(lead)).astype(float)
    upper = np.maximum(np.minimum(size[g_of_pair[lead]], fits), lower)
    return Folding(
        column=column,
        group=g_of_pair[lead],
        unit=u[lead],
        area=area[lead],
        enaf=enaf[lead],
        value=value[lead],
        upper=upper.astype(float),
        lower=lower,
        size=size,
        order=order,
        start=start,
    )


def _unfolded(pairs: pd.DataFrame, value: np.ndarray, fixed: np.ndarray) -> Folding:
    """The trivial folding: one column per pair, one group per project."""
    n = len(pairs)
    _, group = np.unique(pairs["p"].to_numpy(), return_inverse=True)
    order = np.lexsort((pairs["u"].to_numpy(), group))
    column = np.empty(n, dtype=int)
    column[order] = np.arange(n)
    return Folding(
        column=column,
        group=group[order],
        unit=pairs["u"].to_numpy(dtype=int)[order],
        area=pairs["area_ha"].to_numpy(dtype=float)[order],
        enaf=pairs["enaf_ha"].to_numpy(dtype=float)[order],
        value=np.asarray(value, float)[order],
        upper=np.ones(n),
        lower=fixed[order].astype(float),
        size=np.ones(group.max() + 1, dtype=int),
        order=order,
        start=np.arange(n + 1),
    )


def _model(
    fold: Folding, capacity_ha: np.ndarray, pool_of_unit: np.ndarray, budget_ha: np.ndarray
) -> tuple[sparse.csr_array, np.ndarray]:
    """Constraint matrix and row bounds of the folded model (rows that cannot bind left out)."""
    from scipy import sparse

    k = fold.n_columns
    col = np.arange(k)
    g, upper = fold.group, fold.upper
    # a group whose columns cannot exceed its size needs no row
    reach = np.bincount(g, weights=upper, minlength=len(fold.size))
    multi = reach > fold.size + _TOL
    keep_g = multi[g]
    g_codes, g_rows = np.unique(g[keep_g], return_inverse=True)
    blocks = [_matrix(g_rows, col[keep_g], np.ones(keep_g.sum()), len(g_codes), k)]
    ubs = [fold.size[g_codes].astype(float)]
    u, area = fold.unit, fold.area
    demand = np.bincount(u, weights=area * upper, minlength=len(capacity_ha))
    binding_u = demand > capacity_ha + _TOL
    keep_u = binding_u[u]
    if keep_u.any():
        u_codes, u_rows = np.unique(u[keep_u], return_inverse=True)
        blocks.append(_matrix(u_rows, col[keep_u], area[keep_u], len(u_codes), k))
        ubs.append(capacity_ha[u_codes])
    pool = pool_of_unit[u]
    enaf = fold.enaf
    has_pool = (pool >= 0) & (enaf > 0)
    if has_pool.any():
        use = np.bincount(
            pool[has_pool], weights=(enaf * upper)[has_pool], minlength=len(budget_ha)
        )
        binding = use > budget_ha + _TOL
        keep = has_pool & binding[np.where(pool >= 0, pool, 0)]
        if keep.any():
            b_codes, b_rows = np.unique(pool[keep], return_inverse=True)
            blocks.append(_matrix(b_rows, col[keep], enaf[keep], len(b_codes), k))
            ubs.append(budget_ha[b_codes])
    # ENAF-consuming pairs on units without a pool have a zero budget
    orphan = (pool < 0) & (enaf > 0)
    if orphan.any():
        blocks.append(_matrix(np.zeros(orphan.sum(), int), col[orphan], enaf[orphan], 1, k))
        ubs.append(np.zeros(1))
    return sparse.vstack(blocks, format="csr"), np.concatenate(ubs)


def _pair_model(
    pairs: pd.DataFrame, capacity_ha: np.ndarray, pool_of_unit: np.ndarray, budget_ha: np.ndarray
) -> tuple[sparse.csc_array, np.ndarray]:
    """The unfolded model with one column per row of ``pairs``, in the order of ``pairs``."""
    fold = _unfolded(pairs, np.ones(len(pairs)), np.zeros(len(pairs), dtype=bool))
    a, ub = _model(fold, capacity_ha, pool_of_unit, budget_ha)
    return a.tocsc()[:, fold.column], ub


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
    fold: bool = True,
) -> tuple[np.ndarray, SolveReport]:
    """Solve the assignment MILP with HiGHS (:mod:`highspy`), from a starting solution.

    The solver starts from ``start`` (or from the greedy baseline): its
    answer is never worse than that solution, so that re-solving after a
    relaxation (more land, more budget, a looser requirement), warm-started
    from the previous solution, never lowers the objective.  HiGHS is given
    the better of that start and an LP-guided rounding (see
    :func:`_heuristic`).  Under a fractional objective (``score``), a start
    not yet within ``mip_rel_gap`` of the LP relaxation's bound is lifted
    first by :func:`_most_placed` (as many projects placed as possible,
    given at most half the time left), polished by :func:`local_search`:
    HiGHS's own search leaves projects out for a long time under such
    objectives.  A start within the gap of the LP bound is returned as
    ``optimal`` without running HiGHS's branch and bound, which would stop
    there too.  A solution cut short by the time limit is improved by
    :func:`local_search`.  HiGHS runs on one thread with a fixed seed: the
    same inputs give the same result (unless the time limit cuts the search
    short).

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
    fold
        Fold identical projects into integer columns (:class:`Folding`); the
        optimum is the same, the model smaller and without their symmetry.

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
        report = SolveReport("no_candidates", "", 0.0, 0.0, 0.0, 0.0, 0, 0)
        return np.zeros(0, dtype=int), report
    if len(fixed) and not _is_feasible(fixed, pairs, cap, pools, budget):
        report = SolveReport(
            "infeasible",
            "les couples imposés enfreignent une contrainte",
            0.0,
            np.nan,
            np.nan,
            0.0,
            0,
            0,
        )
        return np.zeros(0, dtype=int), report
    incumbent = _start(start, fixed, pairs, cap, pools, budget, coefficients)
    sub = pairs.iloc[worth]
    p_arr = sub["p"].to_numpy()
    if fold:
        folding = fold_projects(
            p_arr,
            sub["u"].to_numpy(dtype=int),
            sub["area_ha"].to_numpy(dtype=float),
            sub["enaf_ha"].to_numpy(dtype=float),
            model_c[worth],
            np.isin(worth, fixed),
            cap,
        )
    else:
        folding = _unfolded(sub, model_c[worth], np.isin(worth, fixed))
    a, ub = _model(folding, cap, pools, budget)
    a = a.tocsc()
    n = folding.n_columns
    options: dict[str, Any] = {
        "output_flag": False,
        "mip_rel_gap": float(mip_rel_gap),
        "threads": 1,
        "random_seed": 0,
    }
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 0.01)
    incumbent, root_bound = _heuristic(
        a, ub, folding, options, worth, incumbent, fixed, pairs, cap, pools, budget, coefficients
    )
    # HiGHS's bounds in the coefficients' units (the placement value is left out of
    # integral models)
    added = PLACEMENT_VALUE * len(np.unique(p_arr)) if integral else 0.0

    def bound_of(mip_dual_bound: float) -> float:
        return -float(mip_dual_bound) + added

    def polish(selection: np.ndarray) -> np.ndarray:
        return local_search(selection, pairs, cap, pools, budget, coefficients, fixed=fixed)

    def proven(selection: np.ndarray, mip_dual_bound: float) -> bool:
        # what HiGHS calls optimal: within the relative gap of the bound it proved
        bound, value = bound_of(mip_dual_bound), float(coefficients[selection].sum())
        return bool(np.isfinite(bound) and bound > 0 and value >= (1 - mip_rel_gap) * bound - _TOL)

    def left() -> float | None:
        return None if time_limit is None else max(time_limit - (time.perf_counter() - clock), 0.01)

    if not integral and not proven(incumbent, -root_bound):
        remaining = left()
        share = None if remaining is None else remaining / 2
        most = polish(_most_placed(pairs, cap, pools, budget, keep, incumbent, fixed, share, fold))
        if coefficients[most].sum() > coefficients[incumbent].sum() + _TOL:
            incumbent = most
    if proven(incumbent, -root_bound):
        # already within the gap of the LP relaxation's bound: nothing for HiGHS to prove
        size = (len(worth), a.shape[0], n)
        return _reported(
            "optimal", "", incumbent, root_bound + added, coefficients, clock, progress, size
        )
    options["time_limit"] = np.inf if time_limit is None else left()
    h = _highs(a, ub, folding, options, np.arange(n), integer=True)
    # the incumbent's pairs in the model (the others have no value in it): still feasible
    at = np.searchsorted(worth, incumbent)
    inside = (at < len(worth)) & (worth[np.minimum(at, len(worth) - 1)] == incumbent)
    if inside.any():
        _set_solution(h, folding.counts(at[inside]))
    if progress is not None:
        _watch(h, progress, clock)
    stall = _StallCheck(h, worth, folding, polish, proven)
    h.run()
    model_status = h.getModelStatus()
    status = _status_text(model_status)
    info = h.getInfo()
    chosen = incumbent
    if info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
        found = worth[folding.unfold(np.asarray(h.getSolution().col_value))]
        # never worse than the start, whatever the gap or time limit
        if coefficients[found].sum() >= coefficients[incumbent].sum() - _TOL:
            chosen = found
    detail = (
        HIGHS_ERROR_LABELS.get(model_status.name, model_status.name) if status == "error" else ""
    )
    if stall.polished is not None:
        # interrupted once the polished incumbent was proven within the gap
        status, chosen = "optimal", stall.polished
    elif status == "time_limit":
        chosen = polish(chosen)
    bound = bound_of(info.mip_dual_bound)
    if not np.isfinite(bound):
        # stopped before HiGHS proved a bound: the root LP's still holds
        bound = root_bound + added
    return _reported(
        status, detail, chosen, bound, coefficients, clock, progress, (len(worth), a.shape[0], n)
    )


def _reported(
    status: str,
    detail: str,
    chosen: np.ndarray,
    bound: float,
    coefficients: np.ndarray,
    clock: float,
    progress: Callable[[SolveProgress], None] | None,
    size: tuple[int, int, int],
) -> tuple[np.ndarray, SolveReport]:
    """The selection, sorted, and its :class:`SolveReport`; the last ``progress`` call.

    ``detail`` is :attr:`SolveReport.detail`; ``bound`` is floored at the
    objective (``inf`` when nothing bounds it: the objective itself, gap 0);
    ``size`` is (pairs, rows, columns) of the model.
    """
    elapsed = time.perf_counter() - clock
    objective = float(coefficients[chosen].sum())
    bound = max(bound, objective) if np.isfinite(bound) else objective
    gap = max(0.0, (bound - objective) / abs(bound)) if bound else 0.0
    report = SolveReport(status, detail, objective, bound, gap, elapsed, *size)
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


def _highs(
    a: sparse.csc_array,
    row_upper: np.ndarray,
    folding: Folding,
    options: Mapping[str, Any],
    columns: np.ndarray,
    *,
    integer: bool,
) -> Any:
    """A HiGHS instance holding the folded model restricted to ``columns``."""
    import highspy

    with _quiet_stdout():
        h = highspy.Highs()
    for name, value in options.items():
        h.setOptionValue(name, value)
    sub = a[:, columns]
    n = len(columns)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, a.shape[0]
    lp.col_cost_ = -folding.value[columns]
    lp.col_lower_, lp.col_upper_ = folding.lower[columns], folding.upper[columns]
    lp.row_lower_, lp.row_upper_ = np.full(a.shape[0], -highspy.kHighsInf), row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = sub.indptr
    lp.a_matrix_.index_, lp.a_matrix_.value_ = sub.indices, sub.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, a.shape[0]
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)
    return h


def _set_solution(h: Any, y: np.ndarray) -> None:
    """Give HiGHS a dense starting solution (a sparse one makes it solve a sub-MIP to complete)."""
    import highspy

    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(y, float).tolist()
    solution.value_valid = True
    h.setSolution(solution)


#: Seconds without a better incumbent after which HiGHS's incumbent is polished by
#: :func:`local_search` to see whether the gap is already met.
STALL_S = 2.0


class _StallCheck:
    """Stop HiGHS once its incumbent, polished by :func:`local_search`, is proven within the gap.

    On large portfolios whose LP bound is the trivial one (every project on
    its best unit, as under ``friches_first`` at 1,000 projects), HiGHS's tree
    moves neither its incumbent nor its bound for minutes, while the local
    search lifts its incumbent by about 1 % (under ``score``, HiGHS's bound is
    tight but its incumbent stays 2.6 % below it for seconds).  Each improving
    solution HiGHS finds is kept; after :data:`STALL_S` without a better one it
    is polished, and HiGHS is interrupted if ``proven`` (the polished solution,
    HiGHS's dual bound) says it is within the gap, which is what HiGHS itself
    would return as optimal.  Otherwise HiGHS goes on unchanged: nothing is
    given back to it, so a solve that does not stall keeps its own path.
    """

    def __init__(
        self,
        h: Any,
        worth: np.ndarray,
        folding: Folding,
        polish: Callable[[np.ndarray], np.ndarray],
        proven: Callable[[np.ndarray, float], bool],
    ):
        self.worth, self.folding = worth, folding
        self.polish, self.proven = polish, proven
        self.found: np.ndarray | None = None
        self.polished: np.ndarray | None = None
        self.since = time.perf_counter()
        h.cbMipImprovingSolution.subscribe(self._on_solution)
        h.cbMipInterrupt.subscribe(self._on_interrupt)

    def _on_solution(self, event: Any) -> None:
        self.found = np.asarray(event.data_out.mip_solution, float).copy()
        self.since = time.perf_counter()

    def _on_interrupt(self, event: Any) -> None:
        if self.found is None or time.perf_counter() - self.since < STALL_S:
            return
        polished = self.polish(self.worth[self.folding.unfold(self.found)])
        self.found = None  # polished once: again only after HiGHS's next solution
        if self.proven(polished, event.data_out.mip_dual_bound):
            self.polished = polished
            event.interrupt()


def _most_placed(
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
    usable: np.ndarray,
    start: np.ndarray,
    fixed: np.ndarray,
    time_limit: float | None,
    fold: bool,
) -> np.ndarray:
    """A selection placing as many projects as possible, each on one of its ``usable`` pairs.

    The same model with every usable pair worth one placement: its
    objective is integral, which HiGHS prunes on, so it is solved to
    optimality in a fraction of the time the real objective takes (on the
    benchmark's 1,000 projects × 50,000 units under ``score``, every project
    placed in about 3 s, where HiGHS's incumbent still left 24 out after
    16 s).  With the real
    objective's coefficients, the best solutions place every project that
    can be placed, and what remains is choosing their units, which
    :func:`local_search` does well; HiGHS's own incumbent, on the other
    hand, leaves projects out for seconds under a fractional objective.
    Started from ``start``; ``time_limit`` bounds the solve (its best
    solution is returned).  Only for fractional objectives: under integral
    ones (``jobs``, ``friches_first``) HiGHS's incumbent already places
    them, and the count solved first made the sample's solve 4 times and
    the large instance's ``friches_first`` twice as long.
    """
    count = np.where(usable, 1.0, 0.0) + PLACEMENT_VALUE
    most, _ = solve_assignment(
        pairs,
        capacity_ha,
        pool_of_unit,
        budget_ha,
        count,
        time_limit=time_limit,
        mip_rel_gap=0.0,
        start=start,
        fixed=fixed,
        fold=fold,
    )
    return most


def _heuristic(
    a: sparse.csc_array,
    row_upper: np.ndarray,
    folding: Folding,
    options: Mapping[str, Any],
    worth: np.ndarray,
    incumbent: np.ndarray,
    fixed: np.ndarray,
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
    coefficients: np.ndarray,
) -> tuple[np.ndarray, float]:
    """A near-optimal start for HiGHS, never worse than ``incumbent``, and the LP bound.

    1. The LP relaxation of the folded model is solved; its bound is tight on
       these models, its solution says where projects go.
    2. *LP-guided rounding*: pairs are taken greedily, those the LP selects
       most first (a project's share of its group's column), each while it
       fits, then completed by :func:`improve_scores`' fill step.

    The rounding is not improved by :func:`local_search` here: a start
    closer to the optimum did not shorten HiGHS's search on the sample or
    the large benchmark instance, and on the sample without folding it made
    the solve 5 times slower.  The local search polishes what
    :func:`_most_placed` returns and a solution cut short by the time limit
    instead (see :func:`solve_assignment`).

    The better of the rounding and ``incumbent`` is returned: HiGHS starts
    from a solution a few per cent from the optimum instead of greedy's
    10-20 %.  The bound is the LP relaxation's value in the model's
    coefficients (``inf`` when the LP was not solved to optimality).
    """
    import highspy

    h = _highs(a, row_upper, folding, options, np.arange(folding.n_columns), integer=False)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return incumbent, np.inf
    bound = -float(h.getInfo().objective_function_value)
    y = np.asarray(h.getSolution().col_value)
    priority = np.zeros(len(pairs))
    priority[worth] = (y / folding.size[folding.group])[folding.column]
    rounded = greedy_assignment(
        pairs, capacity_ha, pool_of_unit, budget_ha, coefficients, fixed=fixed, priority=priority
    )
    rounded = improve_scores(
        rounded, pairs, capacity_ha, pool_of_unit, budget_ha, coefficients, passes=0
    )
    if coefficients[rounded].sum() > coefficients[incumbent].sum() + _TOL:
        return rounded, bound
    return incumbent, bound


#: Passes of :func:`local_search`; each applies a set of independent improving moves at once.
LOCAL_SEARCH_PASSES = 30


def _segments(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner and position of each item of the segments ``[starts[i], starts[i] + counts[i])``."""
    owner = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, starts[owner] + offset


def local_search(
    chosen: np.ndarray,
    pairs: pd.DataFrame,
    capacity_ha: np.ndarray,
    pool_of_unit: np.ndarray,
    budget_ha: np.ndarray,
    coefficients: np.ndarray,
    *,
    fixed: np.ndarray | None = None,
    passes: int = LOCAL_SEARCH_PASSES,
) -> np.ndarray:
    """Improve a feasible selection by moves, evictions and swaps (a primal heuristic).

    Each pass lists, for every pair ``k`` a project could take (an
    unplaced project's pair, or a better pair of a placed one):

    - the *direct* move: take ``k`` (leaving the project's current unit);
    - for each placed project ``q`` blocking ``k`` (on its unit when the
      room is short, in its budget pool when the ZAN budget is short):
      *evict* ``q``, *relocate* ``q`` to its best other pair that fits, or
      *swap* ``q`` into the unit the project leaves.

    A move is kept when every unit and pool it loads still holds its net
    change and it raises the objective.  The moves kept in a pass are
    independent (the best one on each project, and on each unit or pool it
    loads), so they all apply at once; passes stop when no move is left, or
    after ``passes``.  The result is completed by :func:`improve_scores`'
    fill step.

    Parameters
    ----------
    chosen
        Row positions of a feasible selection.
    pairs, capacity_ha, pool_of_unit, budget_ha, coefficients
        As in :func:`solve_assignment`.
    fixed
        Row positions of pairs that must stay selected (their projects do
        not move).
    passes
        Maximum number of passes.

    Returns
    -------
    numpy.ndarray
        Row positions of the selection, sorted: feasible, never of lower
        value than ``chosen``, the same for the same inputs.
    """
    chosen = np.sort(np.asarray(chosen, dtype=int))
    if not len(pairs):
        return chosen
    cap = np.asarray(capacity_ha, float)
    pools = np.asarray(pool_of_unit, int)
    budget = np.asarray(budget_ha, float)
    c = np.asarray(coefficients, float)
    p_arr = pairs["p"].to_numpy(dtype=int)
    u_arr = pairs["u"].to_numpy(dtype=int)
    area, enaf = pairs["area_ha"].to_numpy(float), pairs["enaf_ha"].to_numpy(float)
    score = pairs["score"].to_numpy(float)
    n_units, n_pools, n_projects = len(cap), len(budget), int(p_arr.max()) + 1
    # resources: the units, then the pools, then a zero budget for ENAF outside any pool
    n_res = n_units + n_pools + 1
    pool_res = np.where(pools[u_arr] >= 0, n_units + pools[u_arr], n_units + n_pools)
    charge = np.maximum(enaf, 0.0)
    limit = np.concatenate([cap, budget, [0.0]])
    usable = (c > 0) & _usable(pairs, pools, budget, cap)
    locked = np.zeros(n_projects, dtype=bool)
    if fixed is not None:
        locked[p_arr[np.asarray(fixed, dtype=int)]] = True
    # each project's pairs, best value (then score) first
    by_p = np.lexsort((np.arange(len(p_arr)), -score, -c, p_arr))
    key_pu = p_arr * n_units + u_arr
    by_pu = np.argsort(key_pu, kind="stable")
    on = np.full(n_projects, -1)
    on[p_arr[chosen]] = chosen
    for _ in range(passes):
        cur = on[on >= 0]
        load = np.bincount(u_arr[cur], weights=area[cur], minlength=n_res)
        load += np.bincount(pool_res[cur], weights=charge[cur], minlength=n_res)
        slack = limit - load
        fits = (area <= slack[u_arr] + _TOL) & (charge <= slack[pool_res] + _TOL)
        kx_all = on[p_arr]
        movable = ~locked[p_arr] & (np.arange(len(p_arr)) != kx_all)
        # best other pair of each placed project that fits as things stand
        ok = usable & fits & movable & (kx_all >= 0)
        ok_sorted = by_p[ok[by_p]]
        alt = np.full(n_projects, -1)
        q_alt, first = np.unique(p_arr[ok_sorted], return_index=True)
        alt[q_alt] = ok_sorted[first]
        # entering pairs: unplaced projects' pairs, better pairs of placed ones
        better = (kx_all < 0) | (c > c[np.maximum(kx_all, 0)] + _TOL)
        enter = np.flatnonzero(usable & movable & better)
        kx = kx_all[enter]
        # placed projects blocking an entering pair: on its unit, or in its pool
        movers = cur[~locked[p_arr[cur]]]
        new_k = alt[p_arr[movers]]
        loss = c[movers] - np.where(new_k >= 0, c[np.maximum(new_k, 0)], 0.0)
        same_pool = (new_k >= 0) & (pool_res[np.maximum(new_k, 0)] == pool_res[movers])
        # moves of a fixed width (a pair per slot) and chains (one row per pair)
        blocks = [(np.stack([enter, kx]), np.array([1.0, -1.0]))]
        chains = []
        who_parts, kq_parts = [], []
        for res, amount, freed, short in (
            (u_arr, area, area[movers], area[enter] > slack[u_arr[enter]] + _TOL),
            (
                pool_res,
                charge,
                charge[movers] - np.where(same_pool, charge[np.maximum(new_k, 0)], 0.0),
                charge[enter] > slack[pool_res[enter]] + _TOL,
            ),
        ):
            order = np.lexsort((-freed, loss, res[movers]))
            held, frees = movers[order], freed[order]
            lo = np.searchsorted(res[held], res[enter[short]])
            hi = np.searchsorted(res[held], res[enter[short]], side="right")
            owner, pos = _segments(lo, hi - lo)
            rows = np.flatnonzero(short)[owner]
            q = held[pos]
            other = (p_arr[q] != p_arr[enter[rows]]) & (frees[pos] > _TOL)
            who_parts.append(rows[other])
            kq_parts.append(q[other])
            # clearing: the fewest blockers, least lost first, that free what the pair needs
            f = np.where(other, frees[pos], 0.0)
            total = np.cumsum(f)
            cum = total - np.concatenate(([0.0], total))[(np.cumsum(hi - lo) - (hi - lo))[owner]]
            need = (amount[enter] - slack[res[enter]])[rows]
            inside = other & (cum - f < need - _TOL)
            enough = np.zeros(len(enter), dtype=bool)
            enough[rows[cum >= need - _TOL]] = True
            n_in = np.bincount(rows[inside], minlength=len(enter))
            clear = enough & (n_in >= 2)
            sel = inside & clear[rows]
            ids = np.cumsum(clear) - 1
            m_out, k_out = ids[rows[sel]], q[sel]
            e = np.flatnonzero(clear)
            chains.append(
                (
                    np.concatenate([ids[e], ids[e], m_out, m_out]),
                    np.concatenate([enter[e], kx[e], k_out, alt[p_arr[k_out]]]),
                    np.repeat([1.0, -1.0, -1.0, 1.0], [len(e), len(e), len(m_out), len(m_out)]),
                    len(e),
                )
            )
        who = np.concatenate(who_parts)
        kq = np.concatenate(kq_parts)
        uniq = np.unique(who * len(p_arr) + kq)
        who, kq = uniq // len(p_arr), uniq % len(p_arr)
        # the swap: q into the unit the entering project leaves, if q may go there
        back = np.full(len(who), -1)
        leaving = kx[who] >= 0
        want = p_arr[kq[leaving]] * n_units + u_arr[kx[who[leaving]]]
        at = np.minimum(np.searchsorted(key_pu[by_pu], want), len(p_arr) - 1)
        hit = key_pu[by_pu[at]] == want
        back[np.flatnonzero(leaving)[hit]] = by_pu[at[hit]]
        back[(back >= 0) & ~usable[np.maximum(back, 0)]] = -1
        sign4 = np.array([1.0, -1.0, -1.0, 1.0])
        for last in (np.full(len(who), -1), alt[p_arr[kq]], back):
            blocks.append((np.stack([enter[who], kx[who], kq, last]), sign4))
        # long format: one row per (move, pair, +1 taken / -1 left)
        move_parts, k_parts, s_parts = [], [], []
        offset = 0
        for cols, signs in blocks:
            move_parts.append(np.tile(np.arange(cols.shape[1]), cols.shape[0]) + offset)
            k_parts.append(cols.ravel())
            s_parts.append(np.repeat(signs, cols.shape[1]))
            offset += cols.shape[1]
        for ids, ks, signs, count in chains:
            move_parts.append(ids + offset)
            k_parts.append(ks)
            s_parts.append(signs)
            offset += count
        move = np.concatenate(move_parts)
        k = np.concatenate(k_parts)
        s = np.concatenate(s_parts)
        there = k >= 0
        move, k, s = move[there], k[there], s[there]
        gain = np.bincount(move, weights=s * c[k], minlength=offset)
        good = gain > _TOL
        renum = np.cumsum(good) - 1
        there = good[move]
        move, k, s, gain = renum[move[there]], k[there], s[there], gain[good]
        if not len(gain):
            break
        # net change of each (move, resource); a move is kept if every resource holds it
        key = np.concatenate([move * n_res + u_arr[k], move * n_res + pool_res[k]])
        delta = np.concatenate([s * area[k], s * charge[k]])
        key_u, inv = np.unique(key, return_inverse=True)
        net = np.bincount(inv, weights=delta)
        m_of, r_of = key_u // n_res, key_u % n_res
        broken = np.bincount(m_of[net > slack[r_of] + _TOL], minlength=len(gain)) > 0
        # independent moves: the best on each project it touches and resource it loads
        rank = np.empty(len(gain), dtype=int)
        rank[np.lexsort((np.arange(len(gain)), -gain))] = np.arange(len(gain))
        loads = (net > 0) & ~broken[m_of]
        lock_m = np.concatenate([m_of[loads], move[~broken[move]]])
        lock = np.concatenate([r_of[loads], n_res + p_arr[k[~broken[move]]]])
        if not len(lock_m):
            break
        o = np.lexsort((rank[lock_m], lock))
        head = np.ones(len(o), dtype=bool)
        head[1:] = lock[o][1:] != lock[o][:-1]
        best = np.repeat(lock_m[o][head], np.diff(np.append(np.flatnonzero(head), len(o))))
        lost = np.bincount(lock_m[o][best != lock_m[o]], minlength=len(gain)) > 0
        kept = ~broken & ~lost & (np.bincount(lock_m, minlength=len(gain)) > 0)
        if not kept.any():
            break
        done = kept[move]
        on[p_arr[k[done & (s < 0)]]] = -1
        on[p_arr[k[done & (s > 0)]]] = k[done & (s > 0)]
    result = on[on >= 0]
    result = np.sort(improve_scores(result, pairs, cap, pools, budget, c, passes=0))
    if c[result].sum() < c[chosen].sum() - _TOL or not _is_feasible(
        result, pairs, cap, pools, budget
    ):
        return chosen
    return result


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
    priority: np.ndarray | None = None,
) -> np.ndarray:
    """Baseline: take pairs best value first (then best score) while they fit.

    Parameters
    ----------
    pairs, capacity_ha, pool_of_unit, budget_ha, coefficients
        As in :func:`solve_assignment`.
    fixed
        Row positions of pairs taken first, whatever their value (assumed
        to fit together).
    priority
        Order pairs by this first (highest first), then by value and score:
        e.g. the pairs' values in the LP relaxation, for an LP-guided
        rounding.

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
    keys = (-score, -coefficients) if priority is None else (-score, -coefficients, -priority)
    rest = np.lexsort(keys)
    order = np.concatenate([first, rest[coefficients[rest] > 0]])
    for k in order:
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
