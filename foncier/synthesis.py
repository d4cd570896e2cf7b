"""What a scenario leaves to decide: the figures of the report's "Synthèse pour décision".

Three questions a working group settles in a meeting, answered from a
scenario result (and, for the pace of consumption, its territory):

- which projects need an arbitration, grouped by the reason they are left
  out (:func:`arbitration`);
- which budget pools are over their envelope, or close to it, after the
  scenario, and which placement uses up most of what they had
  (:func:`pools_to_watch`);
- in which year the envelope runs out at the current pace of consumption,
  before and after the scenario's placements (:func:`runout_year`,
  :func:`envelope_outlook`).

Every figure is computed here once; the report only writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from foncier.labels import REASON_LABELS
from foncier.layers import Col, TableCol, UnitCol

__all__ = [
    "CLOSE_SHARE",
    "DecisionSummary",
    "EnvelopeOutlook",
    "arbitration",
    "decision_summary",
    "envelope_outlook",
    "pools_to_watch",
    "runout_year",
]

#: A pool is close to its envelope when what it has left after the scenario is below this
#: share of its envelope.
CLOSE_SHARE = 0.10
_TOL_HA = 1e-6


def runout_year(remaining_ha: Any, pace_ha_per_year: Any, end_year: int) -> np.ndarray:
    """Year an envelope runs out when consumption goes on at its pace.

    ``end_year + remaining / pace``, rounded down: the envelope is used up
    during that year.  An envelope with nothing left ran out by
    ``end_year`` at the latest; one consumed at no pace never runs out
    (``inf``); a missing figure gives NaN.

    Parameters
    ----------
    remaining_ha
        What the envelope has left on 1 January of ``end_year`` (ha).
    pace_ha_per_year
        Yearly consumption since 2021 (ha per year).
    end_year
        The 1 January closing the last flow of the ENAF data.

    Returns
    -------
    numpy.ndarray
        One year (float) per value.

    Examples
    --------
    >>> runout_year([5.0, 0.0, 3.0, -1.0], [2.0, 1.0, 0.0, 1.0], 2023).tolist()
    [2025.0, 2023.0, inf, 2023.0]
    """
    remaining = np.asarray(remaining_ha, dtype=float)
    pace = np.asarray(pace_ha_per_year, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        years = np.floor(end_year + remaining / pace)
    years = np.where(remaining <= _TOL_HA, float(end_year), years)
    years = np.where((remaining > _TOL_HA) & (pace <= 0), np.inf, years)
    return np.where(np.isnan(remaining) | np.isnan(pace), np.nan, years)


def arbitration(unmatched: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """The projects left out, grouped by reason: ``(code, French heading, rows)``.

    Groups follow :data:`foncier.labels.REASON_LABELS` (then any other code);
    within a group, projects with the most jobs come first.
    """
    if unmatched.empty:
        return []
    present = set(unmatched[TableCol.REASON_CODE].astype(str))
    codes = [c for c in REASON_LABELS if c in present] + sorted(present - set(REASON_LABELS))
    out = []
    for code in codes:
        rows = unmatched[unmatched[TableCol.REASON_CODE].astype(str) == code]
        rows = rows.sort_values([Col.JOBS, Col.PROJECT_ID], ascending=[False, True], kind="stable")
        out.append((code, REASON_LABELS.get(code, code), rows))
    return out


def pools_to_watch(
    balance: pd.DataFrame,
    assignments: pd.DataFrame,
    pace: pd.Series,
    end_year: int,
    sites: pd.Series | None = None,
) -> pd.DataFrame:
    """Pools over their envelope or close to it after the scenario, the most urgent first.

    Parameters
    ----------
    balance
        The result's ZAN balance (one row per pool).
    assignments
        The result's placements (``pool_id``, ``enaf_ha``, ``unit_id``).
    pace
        Yearly consumption since 2021 of each pool (ha per year), indexed by
        ``pool_id``.
    end_year
        The 1 January closing the last flow of the ENAF data.
    sites
        Site name of each land unit, indexed by ``unit_id``
        (:func:`foncier.explain.unit_sites`).

    Returns
    -------
    pandas.DataFrame
        The balance's rows with ``remaining_after_ha < CLOSE_SHARE ×
        envelope_ha`` (over budget included), and ``state`` (``over_before``:
        over its envelope before the scenario; ``over``: put over by it;
        ``close``), ``main_project_id``, ``main_project_name``, ``main_unit_id``, ``main_site``,
        ``main_enaf_ha`` (the placement taking the most ENAF from the pool),
        ``runout_year`` (at the current pace) and ``runout_year_with_placements``
        (at the current pace once the placements are made).
    """
    b = balance.copy()
    after = b[TableCol.REMAINING_AFTER_HA].astype(float)
    before = b[TableCol.REMAINING_BEFORE_HA].astype(float)
    envelope = b[TableCol.ENVELOPE_HA].astype(float)
    watched = (after < CLOSE_SHARE * envelope) | b[TableCol.OVER_BUDGET].astype(bool)
    b["state"] = np.select(
        [before < -_TOL_HA, (after < -_TOL_HA) | b[TableCol.OVER_BUDGET].astype(bool)],
        ["over_before", "over"],
        default="close",
    )
    pool_ids = b[TableCol.POOL_ID].astype(str)
    pool_pace = pace.reindex(pool_ids).to_numpy(dtype=float)
    b["runout_year"] = runout_year(before, pool_pace, end_year)
    b["runout_year_with_placements"] = runout_year(after, pool_pace, end_year)
    charged = assignments[assignments[TableCol.ENAF_HA].astype(float) > _TOL_HA]
    main = (
        charged.assign(_pool=charged[TableCol.POOL_ID].astype(str))
        .sort_values(TableCol.ENAF_HA, ascending=False, kind="stable")
        .drop_duplicates("_pool")
        .set_index("_pool")
    )
    b["main_project_id"] = pool_ids.map(main[Col.PROJECT_ID].astype(str)).to_numpy()
    names = main[Col.NAME] if Col.NAME in main.columns else main[Col.PROJECT_ID]
    b["main_project_name"] = pool_ids.map(names.astype(str)).to_numpy()
    b["main_unit_id"] = pool_ids.map(main[UnitCol.UNIT_ID].astype(str)).to_numpy()
    b["main_enaf_ha"] = pool_ids.map(main[TableCol.ENAF_HA].astype(float)).to_numpy()
    b["main_site"] = (
        b["main_unit_id"].map(sites).to_numpy() if sites is not None else b["main_unit_id"]
    )
    b["_share"] = (after / envelope.where(envelope > 0)).fillna(after)
    b = b.loc[watched.to_numpy()].sort_values(["_share", TableCol.POOL_ID], kind="stable")
    return b.drop(columns="_share").reset_index(drop=True)


@dataclass(frozen=True)
class EnvelopeOutlook:
    """The 2021-2031 envelope of the whole territory at the current pace (figures in ha)."""

    envelope_ha: float
    consumed_ha: float
    remaining_before_ha: float
    placed_enaf_ha: float
    pace_ha_per_year: float
    end_year: int
    target_end_year: int
    runout_year: float
    runout_year_with_placements: float


def envelope_outlook(
    balance: pd.DataFrame, pace_ha_per_year: float, end_year: int, target_end_year: int
) -> EnvelopeOutlook:
    """When the territory's envelope runs out, before and after the scenario's placements.

    The territory's envelope is the sum of its pools' (an envelope exceeded
    in one commune counts against the others here: it is the territory as a
    whole).

    Parameters
    ----------
    balance
        The result's ZAN balance.
    pace_ha_per_year
        Yearly consumption of the territory since 2021.
    end_year
        The 1 January closing the last flow of the ENAF data.
    target_end_year
        End of the target period (2031).
    """
    remaining = float(balance[TableCol.REMAINING_BEFORE_HA].sum())
    placed = float(balance[TableCol.CONSUMED_BY_PLACEMENTS_HA].sum())
    years = runout_year([remaining, remaining - placed], [pace_ha_per_year] * 2, end_year)
    return EnvelopeOutlook(
        envelope_ha=float(balance[TableCol.ENVELOPE_HA].sum()),
        consumed_ha=float(balance[TableCol.CONSUMED_HA].sum()),
        remaining_before_ha=remaining,
        placed_enaf_ha=placed,
        pace_ha_per_year=float(pace_ha_per_year),
        end_year=int(end_year),
        target_end_year=int(target_end_year),
        runout_year=float(years[0]),
        runout_year_with_placements=float(years[1]),
    )


@dataclass(frozen=True)
class DecisionSummary:
    """Everything the "Synthèse pour décision" shows, computed from a result."""

    arbitration: list[tuple[str, str, pd.DataFrame]]
    pools: pd.DataFrame
    outlook: EnvelopeOutlook
    pools_total: int


def decision_summary(
    result: Any, territory: Any, sites: pd.Series | None = None
) -> DecisionSummary:
    """The decision summary of a scenario result.

    Parameters
    ----------
    result
        A :class:`foncier.scenarios.ScenarioResult`.
    territory
        Its :class:`~foncier.territory.Territory`, for the pace of ENAF
        consumption since 2021 of each pool.
    sites
        Site name of each land unit (:func:`foncier.explain.unit_sites`).

    Returns
    -------
    DecisionSummary
    """
    from foncier.zan import budget_table

    pool = str(result.audit.get("pool", result.rules.pool))
    budgets = budget_table(territory, result.rules, pool=pool)
    pace = (
        budgets.groupby(budgets[TableCol.POOL_ID].astype(str))[TableCol.PACE_HA_PER_YEAR]
        .sum(min_count=1)
        .astype(float)
    )
    vintage = territory.enaf_vintage
    last = (
        int(vintage.end_year)
        if vintage is not None
        else int(territory.enaf_consumption[Col.YEAR].max()) + 1
    )
    start, end = result.rules.target_period
    end_year = max(start, min(last, end))
    return DecisionSummary(
        arbitration=arbitration(result.unmatched),
        pools=pools_to_watch(result.zan_balance, result.assignments, pace, end_year, sites),
        outlook=envelope_outlook(result.zan_balance, float(pace.sum()), end_year, end),
        pools_total=len(result.zan_balance),
    )
