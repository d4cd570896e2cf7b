"""What would unlock an unmatched project: the smallest change, verified by solving again.

For each project left out, every land unit is examined at once (numpy over
projects × units): which of the project's requirements fail there and the
value each must take (:func:`foncier.feasibility.requirement_relaxations`),
whether the unit still has room once the scenario's placements are made,
and whether its ZAN pool still has the ENAF the placement would consume.
Each (project, unit) gets the change that lets the unit host the project,
over all its requirements at once, and a normalised cost (relative
relaxation of each requirement, budget added per ha of project, jobs the
competitors on the unit would lose per job of the project).  Two variants
are priced on a unit without enough room: land freed by the projects placed
there, or a minimal area reduced to the room left (and the budget it then
needs).

The cheapest few changes of each project are then **verified**: the
scenario is solved again with the change applied (new requirement values,
budget added to the pool) and the project placed on the unit, warm-started
from the scenario's solution with the projects in the way taken off (a
feasible solution), with a short time limit.  A hint is verified when that
solution exists, passes the independent re-check and, when the parcels are
known (:attr:`UnlockSetup.parcels`), the unit's placements of that solution
can all be laid out as lots, and the lots of its pool keep within the
pool's budget with their own ENAF (:func:`foncier.lots.lay_out_within_budgets`,
on that unit and its pool's): the published result gives every placement
its lot within budget, so a hint whose project would get no contiguous lot
there, or a lot charging more ENAF than its pool has, is not verified.  It says what the other
projects lose (jobs no longer placed, projects moved), at most: the
existence of the solution does not depend on the time limit, the loss said
may shrink with more time.

The machine-readable fields of a hint (``unlock_field``, ``unlock_value``,
``unlock_unit_id``, ``unlock_pool_id``, ``unlock_verified``) are
``;``-joined when several fields change at once: a ``projects.csv`` column
(``area_min_ha``, ``max_slope_pct``, ``max_dist_interchange_km``,
``needs_rail``, ``earliest_year``), ``budget_ha`` (ha of ZAN budget added
to ``unlock_pool_id``) or ``project_id`` (the competitor whose land is
freed, named by its id).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from foncier._format import fr_compact
from foncier.assignment import MIP_REL_GAP, PoolInfo, improve_scores, solve_assignment
from foncier.feasibility import RELAX_FIELDS, Thresholds, requirement_relaxations
from foncier.layers import Col, TableCol, UnitCol
from foncier.zan.charging import EnafCharging, categories

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "UNLOCKABLE",
    "UNLOCK_COLUMNS",
    "VERIFIED_PER_PROJECT",
    "VERIFY_TIME_S",
    "UnlockSetup",
    "unlock_hints",
    "solution_room",
    "unlock_hints_empty",
    "with_unlocks",
]

#: Reasons for which an unlock is looked for.
UNLOCKABLE = ("infeasible", "blocked_by_zan", "outcompeted")

#: Columns an unlock adds to the unmatched table.
UNLOCK_COLUMNS = (
    TableCol.UNLOCK_FIELD,
    TableCol.UNLOCK_VALUE,
    TableCol.UNLOCK_UNIT_ID,
    TableCol.UNLOCK_POOL_ID,
    TableCol.UNLOCK_VERIFIED,
    TableCol.UNLOCK_LOSS,
)
_TOL = 1e-6
#: Years of delay that cost as much as doubling a requirement.
_YEARS_SCALE = 5.0
#: Cost of giving up rail freight.
_RAIL_COST = 1.0
#: A minimal area is not reduced by more than a quarter (to fit a unit, or the room left on
#: it): beyond, the hint would describe another project.
_MAX_AREA_CUT = 0.25
#: Changes verified per project (cheapest first).
VERIFIED_PER_PROJECT = 2
#: Seconds of each verifying solve.
VERIFY_TIME_S = 0.5
_BUDGET = "budget_ha"
_COMPETITOR = Col.PROJECT_ID


@dataclass(frozen=True)
class UnlockSetup:
    """What solving a scenario again needs, kept from :func:`foncier.matching.match_projects`.

    Read by the unlocks and by :mod:`foncier.sensitivity`.

    ``parcels`` (the ``parcels`` layer; ``units`` then carry ``idus`` and
    their geometry) lets a hint be verified only where the verifying
    solution's placements on its unit all get a lot, laid out as the
    published result would (``charging`` and ``unknown_as`` charge their
    ENAF).  Without parcels (a bare units table, as in library use of
    :func:`foncier.matching.match_projects`), a hint is verified on the
    units' net areas alone.
    """

    projects: pd.DataFrame
    units: pd.DataFrame
    pairs: pd.DataFrame
    chosen: np.ndarray
    capacity: np.ndarray
    pools: PoolInfo
    coefficients: Callable[[pd.DataFrame], np.ndarray]
    candidates: Callable[[pd.DataFrame], pd.DataFrame]
    thresholds: Thresholds
    charging: EnafCharging
    mip_rel_gap: float = MIP_REL_GAP
    verify_time_s: float = VERIFY_TIME_S
    parcels: gpd.GeoDataFrame | None = None
    unknown_as: str = "enaf"


def _ceil(x: np.ndarray, step: float) -> np.ndarray:
    return np.ceil(np.round(x / step, 6)) * step


def _floor(x: np.ndarray, step: float) -> np.ndarray:
    return np.floor(np.round(x / step, 6)) * step


def solution_room(s: UnlockSetup) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Room left per unit, budget left per pool, jobs and area placed per unit."""
    placed = s.pairs.iloc[s.chosen]
    u = placed["u"].to_numpy(dtype=int)
    n_u = len(s.capacity)
    load = np.bincount(u, weights=placed["area_ha"].to_numpy(float), minlength=n_u)
    jobs = np.bincount(u, weights=placed["jobs"].to_numpy(float), minlength=n_u)
    code = s.pools.of_unit[u]
    ok = code >= 0
    used = np.bincount(
        code[ok], weights=placed["enaf_ha"].to_numpy(float)[ok], minlength=len(s.pools.ids)
    )
    return s.capacity - load, s.pools.budget - used, jobs, load


def _candidates(s: UnlockSetup, rows: np.ndarray) -> pd.DataFrame:
    """Every (unmatched project, unit) with the change that makes it possible and its cost."""
    projects = s.projects.iloc[rows].reset_index(drop=True)
    blocked, needed = requirement_relaxations(projects, s.units, thresholds=s.thresholds)
    free, left, jobs_on, load_on = solution_room(s)
    n_p, n_u = blocked.shape
    area = projects[Col.AREA_MIN_HA].astype(float).to_numpy()[:, None]
    jobs = projects[Col.JOBS].astype(float).to_numpy()[:, None]
    limits = {
        r: pd.to_numeric(projects[f], errors="coerce").to_numpy(dtype=float)[:, None]
        for r, f in RELAX_FIELDS.items()
        if f in projects.columns
    }
    new = {
        "area": _floor(needed["area"], 0.01),
        "slope": _ceil(needed["slope"], 0.1),
        "interchange": _ceil(needed["interchange"], 0.1),
        "rail": needed["rail"],
        "year": _ceil(needed["year"], 1.0),
    }
    blocked = blocked | (new["area"] < (1 - _MAX_AREA_CUT) * area)  # NaN: not needed
    cost = np.zeros((n_p, n_u))
    with np.errstate(invalid="ignore", divide="ignore"):
        cost += np.nan_to_num((area - new["area"]) / area)
        for r in ("slope", "interchange"):
            lim = limits.get(r, np.full((n_p, 1), np.nan))
            cost += np.nan_to_num((new[r] - lim) / np.maximum(np.abs(lim), 1.0))
        cost += np.where(np.isfinite(new["rail"]), _RAIL_COST, 0.0)
        lim_y = limits.get("year", np.full((n_p, 1), np.nan))
        cost += np.nan_to_num((new["year"] - lim_y) / _YEARS_SCALE)
    share = pd.to_numeric(s.units[UnitCol.ENAF_SHARE], errors="coerce").to_numpy(float)
    friche = (
        s.units[UnitCol.IS_FRICHE].fillna(False).astype(bool).to_numpy()
        if UnitCol.IS_FRICHE in s.units
        else np.zeros(n_u, dtype=bool)
    )
    pene = (
        projects[Col.IS_PENE].fillna(False).astype(bool).to_numpy()
        if Col.IS_PENE in projects
        else np.zeros(n_p, dtype=bool)
    )
    excluded = s.charging.excluded(categories(projects))
    code = s.pools.of_unit
    room = np.where(code >= 0, np.append(left, 0.0)[code], 0.0)[None, :]
    base_area = np.where(np.isfinite(new["area"]), new["area"], area)
    density = np.divide(jobs_on, load_on, out=np.zeros(n_u), where=load_on > 0)[None, :]
    pool_jobs = np.bincount(code[code >= 0], weights=jobs_on[code >= 0], minlength=len(left))
    pool_enaf = s.pools.budget - left
    per_enaf = np.divide(pool_jobs, pool_enaf, out=np.zeros(len(left)), where=pool_enaf > _TOL)
    per_enaf_u = np.where(code >= 0, np.append(per_enaf, 0.0)[code], 0.0)[None, :]
    frames = []
    for variant in ("budget", "area", "compete"):
        a = base_area
        if variant == "area":
            a = np.minimum(base_area, _floor(np.maximum(free, 0.0), 0.01)[None, :])
        short = np.maximum(a - free[None, :], 0.0)
        enaf = np.broadcast_to(
            s.charging.charge(a, share[None, :], pene[:, None], friche[None, :], excluded[:, None]),
            a.shape,
        )
        missing = np.where(enaf > room + _TOL, _ceil(enaf - np.maximum(room, 0.0), 0.01), 0.0)
        budget = np.zeros_like(missing) if variant == "compete" else missing
        ok = ~blocked & (a > 0) & ((code >= 0)[None, :] | (enaf <= _TOL))
        if variant == "area":
            ok &= (a < base_area - _TOL) & (a >= (1 - _MAX_AREA_CUT) * area)
        if variant == "compete":
            whole = np.where(code >= 0, np.append(s.pools.budget, 0.0)[code], 0.0)[None, :]
            ok &= (missing > 0) & (enaf <= whole + _TOL)
        total = (
            cost
            + np.where(a < base_area, (base_area - a) / area, 0.0)
            + budget / np.maximum(a, 0.1)
            + (short * density + (missing - budget) * per_enaf_u) / np.maximum(jobs, 1.0)
        )
        pi, ui = np.nonzero(ok)
        frames.append(
            pd.DataFrame(
                {
                    "row": rows[pi],
                    "u": ui,
                    "cost": total[pi, ui],
                    "area": np.where(a[pi, ui] < area[pi, 0] - _TOL, a[pi, ui], np.nan),
                    "area_req": np.isfinite(new["area"][pi, ui]),
                    "slope": new["slope"][pi, ui],
                    "interchange": new["interchange"][pi, ui],
                    "rail": new["rail"][pi, ui],
                    "year": new["year"][pi, ui],
                    "budget": budget[pi, ui],
                    "short": short[pi, ui],
                    "zan_short": (missing - budget)[pi, ui],
                    "enaf": enaf[pi, ui],
                    "room": np.broadcast_to(room, (n_p, n_u))[pi, ui],
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    # cheapest first, then the unit order: the same inputs always give the same hints
    return out.sort_values(["row", "cost", "u"], kind="stable").reset_index(drop=True)


def _changed_project(s: UnlockSetup, cand: pd.Series) -> pd.DataFrame:
    row = s.projects.iloc[[int(cand["row"])]].copy()
    for r, f in RELAX_FIELDS.items():
        value = cand[r]
        if np.isfinite(value):
            row[f] = False if r == "rail" else value
    return row


@dataclass
class _Verified:
    ok: bool
    loss: float
    lost: list[str]
    moved: int
    unit_jobs_freed: list[str]
    #: The verifying solution placed the project, but its unit's parcels give it (or the
    #: unit's other projects) no lot: what the layout says, in French; empty otherwise.
    no_lot: str = ""
    #: The lots have room but their own ENAF takes the pool over its budget: what the
    #: layout says, in French; empty otherwise.
    over_budget: str = ""


def _verify(s: UnlockSetup, cand: pd.Series) -> _Verified:
    """Solve again with the change applied and the project on the unit."""
    p_row, u = int(cand["row"]), int(cand["u"])
    fail = _Verified(False, math.nan, [], 0, [])
    mine = s.candidates(_changed_project(s, cand)).assign(p=p_row)
    mine[Col.PROJECT_ID] = str(s.projects[Col.PROJECT_ID].iloc[p_row])
    target = np.flatnonzero(mine["u"].to_numpy() == u)
    if not len(target):
        return fail
    others = s.pairs["p"].to_numpy() != p_row
    pairs = pd.concat([s.pairs[others], mine], ignore_index=True)
    old_pos = np.flatnonzero(others)
    at = np.full(len(s.pairs), -1)
    at[old_pos] = np.arange(len(old_pos))
    start = at[s.chosen]
    start = start[start >= 0]
    forced = len(old_pos) + int(target[0])
    budget = s.pools.budget.copy()
    code = int(s.pools.of_unit[u])
    if code >= 0:
        budget[code] += float(cand["budget"])
    coef = s.coefficients(pairs)
    start = _make_room(pairs, start, forced, s.capacity, s.pools.of_unit, budget, coef)
    chosen, report = solve_assignment(
        pairs,
        s.capacity,
        s.pools.of_unit,
        budget,
        coef,
        time_limit=s.verify_time_s,
        mip_rel_gap=s.mip_rel_gap,
        start=start,
        fixed=np.array([forced]),
    )
    if forced not in set(chosen.tolist()):
        return fail
    chosen = improve_scores(chosen, pairs, s.capacity, s.pools.of_unit, budget, coef, passes=0)
    if s.parcels is not None:
        no_lot, over = _lot_failure(s, pairs.iloc[chosen], u, p_row, budget)
        if no_lot or over:
            return _Verified(False, math.nan, [], 0, [], no_lot=no_lot, over_budget=over)
    before = s.pairs.iloc[s.chosen].set_index(Col.PROJECT_ID)
    after = pairs.iloc[chosen].set_index(Col.PROJECT_ID)
    jobs = pairs["jobs"].to_numpy(float)
    loss = float(s.pairs["jobs"].to_numpy(float)[s.chosen].sum()) - (
        float(jobs[chosen].sum()) - float(jobs[forced])
    )
    lost = [str(i) for i in before.index if i not in after.index]
    common = before.index.intersection(after.index)
    moved = int((before.loc[common, UnitCol.UNIT_ID] != after.loc[common, UnitCol.UNIT_ID]).sum())
    pool_of = s.pools.of_unit
    near = before[
        (before["u"] == u)
        | (
            (pool_of[before["u"].to_numpy(dtype=int)] == code)
            & (before["enaf_ha"] > 0)
            & (code >= 0)
        )
    ]
    freed = [
        str(i)
        for i in near.index
        if i not in after.index or after.loc[i, UnitCol.UNIT_ID] != near.loc[i, UnitCol.UNIT_ID]
    ]
    return _Verified(True, max(loss, 0.0), lost, moved, freed)


def _lot_failure(
    s: UnlockSetup, placed: pd.DataFrame, u: int, p_row: int, budget: np.ndarray
) -> tuple[str, str]:
    """Why the placements ``placed`` cannot all be laid out as the published result would.

    The lots of unit ``u`` and of the other units of its pool are laid out
    (:func:`foncier.lots.lay_out_within_budgets`), their ENAF checked
    against ``budget`` (per pool, the change's budget included).

    Returns
    -------
    tuple of str
        The layout's French explanation when a placement on ``u`` gets no
        lot (of project ``p_row`` when it is one of those), and the one of a
        lot taking the pool over its budget; ``""`` where all is well.
    """
    from foncier.lots import lay_out_within_budgets
    from foncier.matching import pair_key

    code = int(s.pools.of_unit[u])
    on = placed["u"].to_numpy(dtype=int)
    near = (s.pools.of_unit[on] == code) if code >= 0 else (on == u)
    placed = placed[near | (on == u)]
    pool_of = pd.Series(
        np.where(s.pools.of_unit >= 0, s.pools.ids[np.maximum(s.pools.of_unit, 0)], None),
        index=s.units[UnitCol.UNIT_ID].astype(str).to_numpy(),
    ).dropna()
    lay_out = partial(
        lay_out_within_budgets,
        units=s.units.iloc[np.unique(placed["u"].to_numpy(dtype=int))],
        parcels=s.parcels,
        fields=s.projects.set_index(s.projects[Col.PROJECT_ID].astype(str)),
        remaining=pd.Series(budget, index=s.pools.ids),
        unit_pool=pool_of,
        charging=s.charging,
        unknown_as=s.unknown_as,
    )
    layout, bad = lay_out(placed, placed)
    failed = layout.failed
    unit_id = str(s.units[UnitCol.UNIT_ID].iloc[u])
    here = failed[failed[UnitCol.UNIT_ID].astype(str) == unit_id]
    if len(here):
        own = here[here[Col.PROJECT_ID].astype(str) == str(s.projects[Col.PROJECT_ID].iloc[p_row])]
        return str((own if len(own) else here)[TableCol.EXPLANATION].iloc[0]), ""
    if len(failed):
        # placements elsewhere in the pool without a lot would be taken out: the budget
        # is checked on the others' lots
        kept = ~np.asarray(pair_key(placed).isin(pair_key(failed)))
        layout, bad = lay_out(placed[kept], placed)
    return "", str(bad[TableCol.EXPLANATION].iloc[0]) if len(bad) else ""


def _make_room(
    pairs: pd.DataFrame,
    start: np.ndarray,
    forced: int,
    capacity: np.ndarray,
    pool_of_unit: np.ndarray,
    budget: np.ndarray,
    coef: np.ndarray,
) -> np.ndarray:
    """``start`` with the forced pair, the least valuable pairs in its way taken off."""
    u_arr = pairs["u"].to_numpy(dtype=int)
    area, enaf = pairs["area_ha"].to_numpy(float), pairs["enaf_ha"].to_numpy(float)
    u, code = u_arr[forced], int(pool_of_unit[u_arr[forced]])
    keep = np.ones(len(start), dtype=bool)
    order = np.argsort(coef[start], kind="stable")
    on_u = order[u_arr[start[order]] == u]
    excess = area[start[on_u]].sum() + area[forced] - capacity[u]
    if excess > _TOL:
        drop = np.cumsum(area[start[on_u]]) - area[start[on_u]] < excess - _TOL
        keep[on_u[drop]] = False
    if code >= 0 and enaf[forced] > 0:
        in_pool = order[(pool_of_unit[u_arr[start[order]]] == code) & keep[order]]
        excess = enaf[start[in_pool]].sum() + enaf[forced] - budget[code]
        if excess > _TOL:
            drop = np.cumsum(enaf[start[in_pool]]) - enaf[start[in_pool]] < excess - _TOL
            keep[in_pool[drop]] = False
    return np.append(start[keep], forced)


def _value_text(r: str, value: float) -> str:
    return {
        "area": f"une surface minimale de {fr_compact(value, 2)} ha",
        "slope": f"une pente acceptée jusqu'à {fr_compact(value, 1)} %",
        "interchange": f"un échangeur accepté à {fr_compact(value, 1)} km",
        "rail": "l'abandon du besoin de fret ferroviaire",
        "year": f"un démarrage en {value:.0f}",
    }[r]


def _limit_text(r: str, project: pd.Series) -> str:
    field = RELAX_FIELDS[r]
    value = project.get(field)
    if r == "rail":
        return ""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    digits = 2 if r == "area" else 1
    if r == "year":
        return f" (au lieu de {float(value):.0f})"
    unit = {"area": "ha", "slope": "%", "interchange": "km"}[r]
    return f" (au lieu de {fr_compact(float(value), digits)} {unit})"


def _hint_row(
    s: UnlockSetup, cand: pd.Series, check: _Verified | None, jobs_of: dict[str, int]
) -> dict[str, Any]:
    project = s.projects.iloc[int(cand["row"])]
    u = int(cand["u"])
    unit_id = str(s.units[UnitCol.UNIT_ID].iloc[u])
    code = int(s.pools.of_unit[u])
    fields, values, words = [], [], []
    for r, f in RELAX_FIELDS.items():
        v = float(cand[r])
        if np.isfinite(v):
            fields.append(f)
            values.append("False" if r == "rail" else f"{v:g}")
            words.append(_value_text(r, v) + _limit_text(r, project))
    if cand["budget"] > 0:
        fields.append(_BUDGET)
        values.append(f"{float(cand['budget']):g}")
        words.append(
            f"{fr_compact(float(cand['budget']), 2)} ha de budget ZAN de plus dans "
            f"{s.pools.label(code)}"
        )
    freed = check.unit_jobs_freed if check is not None and check.ok else []
    if cand["short"] > _TOL or cand["zan_short"] > _TOL:
        names = freed or ["les projets placés sur ce terrain ou dans son enveloppe"]
        fields.append(_COMPETITOR)
        values.append(",".join(freed))
        room = []
        if cand["short"] > _TOL:
            room.append(f"{fr_compact(float(cand['short']), 2)} ha de terrain sur {unit_id}")
        if cand["zan_short"] > _TOL:
            room.append(
                f"{fr_compact(float(cand['zan_short']), 2)} ha d'ENAF de {s.pools.label(code)}"
            )
        words.append(
            " et ".join(room)
            + " laissés par "
            + ", ".join(f"{n} ({jobs_of[n]} emplois)" if n in jobs_of else n for n in names)
        )
    change = " et ".join(words) if words else "sans changement"
    if check is not None and check.ok:
        text = f"vérifié en recalculant le scénario : avec {change}, il est placé sur {unit_id}"
        if check.loss <= 0.5:
            text += " ; les autres projets n'y perdent rien"
        else:
            text += f" ; les autres projets perdent au plus {check.loss:.0f} emplois"
        if check.lost:
            verb = "n'est plus placé" if len(check.lost) == 1 else "ne sont plus placés"
            text += f" ({', '.join(check.lost)} {verb})"
        if check.moved:
            text += f", {check.moved} projet{'s' if check.moved > 1 else ''} change"
            text += "nt de terrain" if check.moved > 1 else " de terrain"
    elif check is not None and check.no_lot:
        text = (
            f"piste non vérifiée (le recalcul du scénario le place sur {unit_id}, mais les "
            f"parcelles de {unit_id} ne lui donnent pas de lot d'un seul tenant) : avec {change}, "
            "il ne serait pas placé pour autant"
        )
    elif check is not None and check.over_budget:
        text = (
            f"piste non vérifiée (le recalcul du scénario le place sur {unit_id}, mais "
            f"{check.over_budget}) : avec {change}, il ne serait pas placé pour autant"
        )
    else:
        text = (
            f"piste non vérifiée (le recalcul du scénario ne l'a pas confirmée) : avec {change}, "
            f"il pourrait aller sur {unit_id}"
        )
    return {
        TableCol.UNLOCK_FIELD: ";".join(fields) or None,
        TableCol.UNLOCK_VALUE: ";".join(values) or None,
        TableCol.UNLOCK_UNIT_ID: unit_id,
        TableCol.UNLOCK_POOL_ID: str(s.pools.ids[code])
        if code >= 0 and cand["budget"] > 0
        else None,
        TableCol.UNLOCK_VERIFIED: bool(check is not None and check.ok),
        TableCol.UNLOCK_LOSS: float(check.loss) if check is not None and check.ok else np.nan,
        TableCol.HINT: text,
        "no_lot": check.no_lot if check is not None and not check.ok else "",
        "over_budget": check.over_budget if check is not None and not check.ok else "",
        "_cand": cand,
    }


def unlock_hints(s: UnlockSetup, project_ids: list[str]) -> pd.DataFrame:
    """The verified smallest change that places each of ``project_ids``.

    Parameters
    ----------
    s
        The scenario's solve (see :class:`UnlockSetup`).
    project_ids
        Projects left out (infeasible, blocked by the ZAN, outcompeted).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``project_id``: :data:`UNLOCK_COLUMNS`, ``hint`` (French)
        and the cost components of the chosen change (``requirements``:
        relaxed requirement names, ``budget``: ha of budget added,
        ``short``: ha to free on the unit), ``no_lot``: when the change
        was not verified only because the unit's parcels give no lot in the
        verifying solution, the layout's French explanation (else ``""``),
        and ``over_budget``: the same when the lots there have room but their
        own ENAF takes the unit's pool over its budget; projects for which
        no change can work (zoning, Seveso) are absent.
    """
    ids = s.projects[Col.PROJECT_ID].astype(str).to_numpy()
    rows = np.flatnonzero(np.isin(ids, project_ids))
    if not len(rows) or not len(s.units):
        return unlock_hints_empty()
    cands = _candidates(s, rows)
    placed = s.pairs.iloc[s.chosen]
    jobs_of = dict(zip(placed[Col.PROJECT_ID], placed["jobs"].astype(int), strict=True))
    out: dict[str, dict[str, Any]] = {}
    for row_key, group in cands.groupby("row", sort=True):
        row = int(str(row_key))
        pid = str(ids[row])
        best: tuple[float, dict[str, Any]] | None = None
        first_unverified: dict[str, Any] | None = None
        jobs = max(float(s.projects[Col.JOBS].iloc[row]), 1.0)
        for _, cand in group.head(VERIFIED_PER_PROJECT).iterrows():
            check = _verify(s, cand)
            hint = _hint_row(s, cand, check, jobs_of)
            if not check.ok:
                first_unverified = first_unverified or hint
                continue
            key = float(cand["cost"]) + check.loss / jobs
            if best is None or key < best[0] - 1e-9:
                best = (key, hint)
        chosen = best[1] if best is not None else first_unverified
        if chosen is not None:
            out[pid] = chosen
    table = pd.DataFrame.from_dict(out, orient="index")
    if not len(table):
        return unlock_hints_empty()
    cand_rows = pd.DataFrame(list(table.pop("_cand")), index=table.index)
    table["requirements"] = [
        [r for r in RELAX_FIELDS if np.isfinite(c[r]) and (r != "area" or c["area_req"])]
        for _, c in cand_rows.iterrows()
    ]
    table["budget"] = cand_rows["budget"].to_numpy(float)
    table["short"] = cand_rows["short"].to_numpy(float)
    table["zan_short"] = cand_rows["zan_short"].to_numpy(float)
    table["cost"] = cand_rows["cost"].to_numpy(float)
    table["enaf"] = cand_rows["enaf"].to_numpy(float)
    table["code"] = s.pools.of_unit[cand_rows["u"].to_numpy(dtype=int)]
    table["room"] = cand_rows["room"].to_numpy(float)
    return table


def unlock_hints_empty() -> pd.DataFrame:
    """An :func:`unlock_hints` answer without any hint."""
    return pd.DataFrame(columns=[*UNLOCK_COLUMNS, TableCol.HINT])


def with_unlocks(unmatched: pd.DataFrame, hints: pd.DataFrame, pools: PoolInfo) -> pd.DataFrame:
    """The unmatched table with each project's unlock, and the reason that actually binds.

    The reason follows the change that unlocks the project: a requirement to
    relax makes it ``infeasible`` (``requirement`` names it); otherwise
    missing ZAN budget makes it ``blocked_by_zan`` (even where the unit is
    also taken: both are said); otherwise land taken by other projects makes
    it ``outcompeted``.  When the change would place the project but the
    unit's parcels give it no lot of one piece (the hint is then not
    verified), the lot is what binds: ``no_lot``, on the hint's unit; when
    the lot has room but charges more ENAF than the pool has, the ZAN does:
    ``blocked_by_zan``, on the hint's unit and pool.

    Parameters
    ----------
    unmatched
        Rows of :func:`foncier.explain.explain_unmatched`.
    hints
        Output of :func:`unlock_hints`.
    pools
        Budget pools (for their names).

    Returns
    -------
    pandas.DataFrame
        ``unmatched`` with :data:`UNLOCK_COLUMNS` (empty where no change was
        found) and, where a hint exists, its reason fields and French hint.
    """
    from foncier.labels import REQUIREMENT_LABELS

    out = unmatched.copy()
    for col in (
        TableCol.REQUIREMENT,
        UnitCol.UNIT_ID,
        TableCol.POOL_ID,
        TableCol.BLOCKING_PROJECT_ID,
        TableCol.HINT,
    ):
        out[col] = out[col].astype(object)
    for col in UNLOCK_COLUMNS:
        out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out[TableCol.UNLOCK_VERIFIED] = False
    out[TableCol.UNLOCK_LOSS] = np.nan
    ids = out[Col.PROJECT_ID].astype(str)
    for i in out.index[ids.isin(hints.index)]:
        h = hints.loc[ids[i]]
        for col in UNLOCK_COLUMNS:
            out.at[i, col] = h[col]
        out.at[i, TableCol.HINT] = h[TableCol.HINT]
        unit = h[TableCol.UNLOCK_UNIT_ID]
        taken = (
            f" ; {unit} est en outre occupé (il y manque {fr_compact(h['short'], 2)} ha)"
            if h["short"] > _TOL
            else ""
        )
        code = int(h["code"])
        if h["requirements"]:
            reqs = list(h["requirements"])
            out.at[i, TableCol.REASON_CODE] = "infeasible"
            out.at[i, TableCol.REQUIREMENT] = reqs[0]
            out.at[i, UnitCol.UNIT_ID] = unit
            text = (
                f"aucun terrain ne convient ; sur le plus facile à débloquer, {unit}, "
                "ce qui bloque est " + ", ".join(REQUIREMENT_LABELS[r] for r in reqs)
            )
            if h["budget"] > 0:
                text += f", et le budget ZAN de {pools.label(code)}"
            out.at[i, TableCol.EXPLANATION] = text + taken
        elif h["budget"] > 0 or h["zan_short"] > _TOL:
            out.at[i, TableCol.REASON_CODE] = "blocked_by_zan"
            out.at[i, TableCol.REQUIREMENT] = None
            out.at[i, UnitCol.UNIT_ID] = unit
            out.at[i, TableCol.POOL_ID] = h[TableCol.UNLOCK_POOL_ID]
            out.at[i, TableCol.MISSING_HA] = float(max(h["budget"], h["zan_short"]))
            out.at[i, TableCol.EXPLANATION] = (
                f"bloqué par le ZAN : sur {unit} il consommerait {fr_compact(h['enaf'], 2)} ha "
                f"d'ENAF, {pools.label(code)} n'en a plus que "
                f"{fr_compact(max(h['room'], 0.0), 2)} (reste après le scénario)" + taken
            )
        named = []
        if _COMPETITOR in str(h[TableCol.UNLOCK_FIELD]) and pd.notna(h[TableCol.UNLOCK_VALUE]):
            named = [n for n in str(h[TableCol.UNLOCK_VALUE]).split(";")[-1].split(",") if n]
        if named:
            out.at[i, TableCol.BLOCKING_PROJECT_ID] = named[0]
        land_only = h["budget"] <= 0 and h["zan_short"] <= _TOL and h["short"] > _TOL
        if not h["requirements"] and land_only:
            out.at[i, TableCol.REASON_CODE] = "outcompeted"
            out.at[i, UnitCol.UNIT_ID] = unit
            out.at[i, TableCol.MISSING_HA] = float(h["short"])
            out.at[i, TableCol.EXPLANATION] = (
                f"supplanté : sur {unit}, le terrain le plus facile à libérer, il manque "
                f"{fr_compact(h['short'], 2)} ha, pris par "
                + (", ".join(named) if named else "d'autres projets")
            )
        if h["no_lot"] or h["over_budget"]:
            # the change would place it, but the unit's parcels give no lot, or its lot
            # charges more ENAF than the pool has: the lot binds
            lifted = [REQUIREMENT_LABELS[r] for r in h["requirements"]]
            if h["budget"] > 0 or h["zan_short"] > _TOL:
                lifted.append(f"le budget ZAN de {pools.label(code)}")
            if h["short"] > _TOL:
                lifted.append("la place prise par d'autres projets")
            out.at[i, TableCol.REQUIREMENT] = None
            out.at[i, UnitCol.UNIT_ID] = unit
            if h["no_lot"]:
                out.at[i, TableCol.REASON_CODE] = "no_lot"
                head, said = "sans lot d'un seul tenant", h["no_lot"]
            else:
                out.at[i, TableCol.REASON_CODE] = "blocked_by_zan"
                out.at[i, TableCol.POOL_ID] = str(pools.ids[code])
                head, said = "bloqué par le ZAN", h["over_budget"]
            out.at[i, TableCol.EXPLANATION] = (
                f"{head} : même en levant ce qui bloque sur {unit} ({', '.join(lifted)}), {said}"
                if lifted
                else f"{head} sur {unit} : {said}"
            )
    return out
