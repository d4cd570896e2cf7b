"""The one builder of the matching engine's inputs, so one question gets one answer everywhere.

A scenario run (:meth:`foncier.scenarios.Scenario.run`), a single-project
query (:meth:`~foncier.scenarios.Scenario.query`) and the service
(``/match/query``, ``/scenarios``) all need the same inputs: the rule set, the
ZAN budget table net of committed projects and of the working group's
validated placements, the land units still available after those
placements, the remaining budget of each pool with the pool of each unit, and
what the rule set charges as ENAF.  :func:`matching_inputs` computes them
once, in one way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from foncier.decisions import combined_committed, resolve_decisions, units_after
from foncier.errors import FoncierError
from foncier.layers import check_table
from foncier.matching import BudgetPools, budget_pools
from foncier.zan.charging import EnafCharging

__all__ = ["MatchingInputs", "matching_inputs", "resolve_rules"]


@dataclass(frozen=True)
class MatchingInputs:
    """What the matching engine reads, built by :func:`matching_inputs`.

    Attributes
    ----------
    rules
        The ZAN rule set (:class:`foncier.zan.RuleSet`).
    pool
        Pooling level of the budgets.
    budgets
        ZAN budget table per pool, net of ``committed``.
    units
        Land units, their ``net_area_ha`` reduced by validated placements.
    pools
        Remaining budget per pool and pool of each unit.
    charging
        What a placement charges to its pool, from the rule set.
    committed
        Committed projects counted in ``budgets``: the user's and the
        validated placements'.
    decisions
        The validated placements (``decisions`` table).
    timings
        Seconds spent on the budgets and on the land supply.
    """

    rules: Any
    pool: str
    budgets: pd.DataFrame
    units: Any
    pools: BudgetPools
    charging: EnafCharging
    committed: pd.DataFrame | None
    decisions: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)


def resolve_rules(rules: Any) -> Any:
    """A :class:`~foncier.zan.RuleSet` from itself, a built-in name, a file or ``None``."""
    from foncier import zan

    return rules if isinstance(rules, zan.RuleSet) else zan.load_rules(rules)


def matching_inputs(
    territory: Any,
    *,
    rules: Any = None,
    pool: str = "commune",
    committed: pd.DataFrame | str | Path | None = None,
    decisions: pd.DataFrame | str | Path | None = None,
    units: Any = None,
    progress: bool = False,
    step: Callable[[str], None] | None = None,
) -> MatchingInputs:
    """Build the engine's inputs for a territory.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.
    rules
        A rule set, a built-in name, a rule file or ``None`` (the default rules).
    pool
        Pooling level: ``commune``, ``epci`` or ``scot``.
    committed
        Committed projects (table or file, see :func:`foncier.zan.read_committed`).
    decisions
        The working group's decisions: a log or a ``decisions`` table, or a
        CSV (see :func:`foncier.decisions.read_decisions`).  Validated
        placements count as committed ENAF and their lot's parcels are taken off
        their unit (:func:`foncier.decisions.units_after`).
    units
        Land units already computed; :func:`foncier.supply.land_units` otherwise.
    progress
        Show the land supply's progress.
    step
        Called with the French label of each step (a progress bar's).

    Returns
    -------
    MatchingInputs

    Raises
    ------
    FoncierError
        Unknown pool level; any error of the rule set, committed or decisions file.
    LayerSchemaError
        The land units miss a column the engine needs.
    """
    from foncier import zan
    from foncier.supply import land_units

    if pool not in zan.POOL_LEVELS:
        msg = (
            f"niveau de mutualisation inconnu {pool!r} ; valeurs permises : {list(zan.POOL_LEVELS)}"
        )
        raise FoncierError(msg)
    rule_set = resolve_rules(rules)
    if isinstance(committed, str | Path):
        committed = zan.read_committed(committed)
    decided = resolve_decisions(decisions)
    all_committed = combined_committed(committed, decided) if len(decided) else committed
    timings: dict[str, float] = {}
    if step:
        step("budgets ZAN")
    clock = time.perf_counter()
    budgets = zan.budget_table(territory, rule_set, pool=pool, committed=all_committed)
    timings["budgets"] = time.perf_counter() - clock
    if step:
        step("offre foncière")
    clock = time.perf_counter()
    if units is None:
        units = land_units(
            territory,
            progress=progress,
            unknown_land_cover=rule_set.unknown_land_cover,
            friches_count=rule_set.friches_count,
        )
    check_table(units, "land_units")
    units = units_after(units.reset_index(drop=True), decided, territory.parcels)
    timings["supply"] = time.perf_counter() - clock
    pools = budget_pools(budgets, territory.communes, units, pool)
    return MatchingInputs(
        rules=rule_set,
        pool=pool,
        budgets=budgets,
        units=units,
        pools=pools,
        charging=EnafCharging.from_rules(rule_set),
        committed=all_committed,
        decisions=decided,
        timings=timings,
    )
