"""The ZAN trajectory of a territory or pool: actual consumption, envelope, projection, 2050.

After the target period the allowed pace follows the rule set's ``decades``:
each cuts the previous period's yearly pace by its ``reduction_rate``, and
the pace is 0 (net zero) in 2050 (loi 2021-1104 art. 191).  From 2031 the
law counts net artificialisation (OCS GE, décret 2023-1096), not ENAF
consumption; the series says, in its ``metric`` column, which one each year
counts, and draws both in the same unit (ha per year).
"""

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
from foncier.zan.rules import METRIC_LABELS, RuleSet, load_rules

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
    "zan_2050": "Trajectoire vers le ZAN 2050 (rythme annuel permis)",
}
_RATE_UNIT, _STOCK_UNIT = "ha/an", "ha"


def _series(
    name: str,
    years: range | list[int],
    values: list[float],
    unit: str,
    metric: str | list[str] = "enaf",
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": list(years),
            "series": name,
            "label": SERIES_LABELS[name],
            "value_ha": [float(v) for v in values],
            "unit": unit,
            "metric": metric,
        }
    )


def _target_pace(rules: RuleSet, envelope: float) -> tuple[list[int], list[float], list[str]]:
    """Allowed yearly pace from the start of the target period to 2050, and its metric."""
    t0, t1 = rules.target_period
    years, values, metrics = (
        list(range(t0, t1)),
        [envelope / (t1 - t0)] * (t1 - t0),
        ["enaf"] * (t1 - t0),
    )
    pace = values[-1]
    for d in rules.decades:
        pace *= 1.0 - d.reduction_rate
        span = range(d.period[0], min(d.period[1], NET_ZERO_YEAR))
        years += list(span)
        values += [pace] * len(span)
        metrics += [d.metric] * len(span)
    last = years[-1] + 1 if years else t1
    # up to 2050 with no decade given: the last pace holds; 2050 itself is net zero
    gap = range(last, NET_ZERO_YEAR)
    years += [*gap, NET_ZERO_YEAR]
    values += [pace] * len(gap) + [0.0]
    metrics += [metrics[-1]] * len(gap) + ["artificialisation"]
    return years, values, metrics


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
    - ``zan_2050`` (ha/an): the allowed pace, ``envelope / target years``
      per year until the end of the target period, then cut by each of the
      rule set's ``decades`` in turn (``pace × (1 − reduction_rate)``), and
      0 in 2050 (net zero).

    Column ``metric`` says what each value counts: ``enaf`` (consumption)
    or ``artificialisation`` (net, from 2031); ``attrs["metrics_note"]``
    says it in French.

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
        Columns ``year``, ``series``, ``label``, ``value_ha``, ``unit``, ``metric``;
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
    zan_years, zan, zan_metrics = _target_pace(rules, envelope)
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
            _series("zan_2050", zan_years, zan, _RATE_UNIT, zan_metrics),
        ],
        ignore_index=True,
    )
    out = out.astype(
        {"year": "int64", "series": "str", "label": "str", "unit": "str", "metric": "str"}
    )
    out.attrs.update(budgets.attrs)
    out.attrs["pool_id"] = pool_id
    steps = [
        f"{d.period[0]}-{d.period[1]} : {METRIC_LABELS[d.metric]}, rythme réduit de "
        f"{round(d.reduction_rate * 100)} % par rapport à la période précédente"
        for d in rules.decades
    ]
    out.attrs["metrics_note"] = (
        f"{t0}-{t1} : {METRIC_LABELS['enaf']} ; " + " ; ".join(steps) + " ; zéro net en 2050. "
        "Toutes les valeurs en ha par an."
    )
    return out
