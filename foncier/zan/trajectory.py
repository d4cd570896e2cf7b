"""The ZAN trajectory of a territory or pool: actual consumption, envelope, projection, 2050."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from foncier.errors import NotFoundError
from foncier.zan.budgets import (
    POOL_ID,
    _communes_table,
    _planning_docs,
    _tables,
    _vintage,
    _wide_flows,
    commune_budgets,
    pool_ids,
)
from foncier.zan.rules import RuleSet, load_rules

if TYPE_CHECKING:
    from foncier.territory import Territory

__all__ = ["NET_ZERO_YEAR", "SERIES_LABELS", "trajectory"]

#: Year of the net-zero artificialisation target (loi 2021-1104, art. 191).
NET_ZERO_YEAR = 2050
#: French legend of each series of :func:`trajectory`.
SERIES_LABELS: dict[str, str] = {
    "consumption": "Consommation d'ENAF annuelle",
    "cumulative": "Consommation cumulée depuis 2021",
    "envelope": "Enveloppe 2021-2031",
    "projection": "Projection au rythme actuel",
    "zan_2050": "Trajectoire vers le ZAN 2050",
}
_RATE_UNIT, _STOCK_UNIT = "ha/an", "ha"


def _series(name: str, years: range | list[int], values: list[float], unit: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": list(years),
            "series": name,
            "label": SERIES_LABELS[name],
            "value_ha": [float(v) for v in values],
            "unit": unit,
        }
    )


def trajectory(
    territory: Territory | tuple[pd.DataFrame, pd.DataFrame],
    rules: RuleSet | None = None,
    pool: str | None = None,
    pool_id: str | None = None,
) -> pd.DataFrame:
    """Yearly ZAN trajectory, tidy and ready for a chart.

    Series (column ``series``; ``label`` is its French legend):

    - ``consumption`` (ha/an): ENAF consumed each year, reference period to
      the latest year of data; ``year`` is the start of the flow;
    - ``cumulative`` (ha): consumption since 1 Jan 2021, on 1 January of each
      ``year`` (0 in 2021);
    - ``envelope`` (ha): the 2021-2031 envelope, a flat line 2021 → 2031,
      the ceiling of ``cumulative``;
    - ``projection`` (ha): ``consumed + pace × (year − end)`` from the last
      year of data to 2031 (the formula of
      :func:`~foncier.zan.commune_budgets`);
    - ``zan_2050`` (ha/an): the target pace, ``envelope / 10`` per year until
      2031, then decreasing linearly to 0 in 2050 (net zero).

    A year missing for any member commune gives NaN, never zero.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory` or a ``(communes, enaf)`` pair.
    rules
        Rule set; ``None`` loads ``climat-resilience-2023``.
    pool
        ``commune``, ``epci`` or ``scot``; ``None`` uses the rule set's.
    pool_id
        The pool to chart (INSEE code, EPCI SIREN or SCoT); ``None`` charts
        the whole territory.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``series``, ``label``, ``value_ha``, ``unit``;
        ``attrs`` carries the provenance, ``pool`` and ``pool_id``.

    Raises
    ------
    NotFoundError
        ``pool_id`` names no pool of the territory.

    Warns
    -----
    MissingEnafWarning
        Communes lacking years of ENAF data.
    """
    rules = rules if rules is not None else load_rules()
    level = pool if pool is not None else rules.pool
    communes, enaf, given = _tables(territory)
    vintage = _vintage(enaf, given)
    budgets = commune_budgets(
        communes, enaf, rules, vintage=vintage, pool=level, planning_docs=_planning_docs(territory)
    )
    table = _communes_table(communes)
    ids = pool_ids(table, level)
    if pool_id is None:
        members, rows = ids.index, budgets
    else:
        if pool_id not in set(ids):
            msg = (
                f"no {level} pool {pool_id!r} in the territory; known pools: {sorted(set(ids))[:8]}"
            )
            raise NotFoundError(msg)
        members, rows = ids.index[ids == pool_id], budgets[budgets[POOL_ID] == pool_id]
    envelope = rows["envelope_ha"].sum(skipna=False)
    consumed = rows["consumed_ha"].sum(skipna=False)
    pace = rows["pace_ha_per_year"].sum(skipna=False)
    ref0 = rules.reference_period[0]
    t0, t1 = rules.target_period
    end = max(t0, min(vintage.end_year, t1))
    flows = _wide_flows(enaf, members, range(ref0, vintage.end_year)).sum(axis=0, skipna=False)
    since = flows.loc[t0 : end - 1]
    cumulative = [0.0, *since.cumsum(skipna=False).tolist()]
    after = range(t1, NET_ZERO_YEAR + 1)
    target_pace = envelope / (t1 - t0)
    zan = [target_pace] * (t1 - t0) + [
        target_pace * (NET_ZERO_YEAR - y) / (NET_ZERO_YEAR - t1) for y in after
    ]
    out = pd.concat(
        [
            _series("consumption", flows.index.tolist(), flows.tolist(), _RATE_UNIT),
            _series("cumulative", range(t0, end + 1), cumulative, _STOCK_UNIT),
            _series("envelope", range(t0, t1 + 1), [envelope] * (t1 - t0 + 1), _STOCK_UNIT),
            _series(
                "projection",
                range(end, t1 + 1),
                [consumed + pace * (y - end) for y in range(end, t1 + 1)],
                _STOCK_UNIT,
            ),
            _series("zan_2050", range(t0, NET_ZERO_YEAR + 1), zan, _RATE_UNIT),
        ],
        ignore_index=True,
    )
    out = out.astype({"year": "int64", "series": "str", "label": "str", "unit": "str"})
    out.attrs.update(budgets.attrs)
    out.attrs["pool_id"] = pool_id
    return out
