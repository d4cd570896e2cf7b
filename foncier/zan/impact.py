"""What a set of placed projects does to the ZAN budgets.

Each placement puts a project on a piece of land whose ``enaf_share`` is the
fraction still natural, agricultural or forest.  The ENAF it consumes is
``area_ha × enaf_share`` (the whole ``area_ha`` if the rule set counts land
already artificialised), charged to the local envelope unless the project is
a PENE (national envelope) or the land a friche, as the rule set says.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from foncier.errors import LayerSchemaError, NotFoundError
from foncier.layers import Col, normalise_insee
from foncier.zan.budgets import CATEGORY, POOL_ID, _require, pool_ids
from foncier.zan.rules import RuleSet

__all__ = ["PLACEMENT_COLUMNS", "placement_impact"]

#: Columns a placements table needs (``is_pene`` and ``is_friche`` default to false).
PLACEMENT_COLUMNS: tuple[str, ...] = (Col.PROJECT_ID, Col.INSEE, "area_ha", "enaf_share")
IS_FRICHE = "is_friche"


def _placements_table(placements: pd.DataFrame) -> pd.DataFrame:
    _require(placements, "placements", PLACEMENT_COLUMNS)
    p = pd.DataFrame(placements.drop(columns=Col.GEOMETRY, errors="ignore")).copy()
    p[Col.PROJECT_ID] = p[Col.PROJECT_ID].astype(str)
    p[Col.INSEE] = normalise_insee(p[Col.INSEE])
    for col, low, high in (("area_ha", 0.0, np.inf), ("enaf_share", 0.0, 1.0)):
        num = pd.to_numeric(p[col], errors="coerce")
        bad = num.isna() | (num < low) | (num > high)
        if bad.any():
            msg = (
                f"placements table, column {col!r}: expected numbers in [{low:g}, {high:g}], "
                f"received {p.loc[bad, col].tolist()[:5]} for projects "
                f"{p.loc[bad, Col.PROJECT_ID].tolist()[:5]}"
            )
            raise LayerSchemaError(msg)
        p[col] = num.astype("float64")
    for col in (Col.IS_PENE, IS_FRICHE):
        flags = p[col] if col in p else pd.Series(False, index=p.index)
        if not pd.api.types.is_bool_dtype(flags):
            msg = f"table des placements, colonne {col!r} : vrai/faux attendu, reçu {flags.dtype}"
            raise LayerSchemaError(msg)
        p[col] = flags.astype(bool)
    return p


def placement_impact(
    placements: pd.DataFrame,
    budgets: pd.DataFrame,
    rules: RuleSet,
    communes: pd.DataFrame,
    *,
    pool: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ENAF each placement consumes, and the budget left per pool afterwards.

    Parameters
    ----------
    placements
        One row per project placed: ``project_id``, ``insee`` (commune of the
        land), ``area_ha``, ``enaf_share`` in [0, 1], optionally ``is_pene``
        and ``is_friche`` (booleans, default false) and ``category``.
    budgets
        A budget table (see :func:`~foncier.zan.budget_table`) at the
        pooling level the placements are charged to.
    rules
        The rule set: ``pene_excluded``, ``friches_count`` and
        ``artificialised_counts`` decide what is charged locally.
    communes
        Communes layer or table, to find each placement's pool.
    pool
        Pooling level of ``budgets``; ``None`` reads ``budgets.attrs["pool"]``,
        else the rule set's ``pool``.

    Returns
    -------
    per_placement : pandas.DataFrame
        The placements with ``pool_id``, ``enaf_ha`` (ENAF of the land used,
        ``area_ha × enaf_share``), ``consumed_ha`` (charged to the local
        envelope) and ``charged_to`` (``local``, ``national`` for an excluded
        PENE, ``excluded`` for a project whose ``category`` is one of the rule
        set's ``exclusions``, ``none`` for a friche or land not counted).
    per_pool : pandas.DataFrame
        One row per pool of ``budgets``: ``pool_id``, ``name``,
        ``remaining_before_ha``, ``consumed_by_placements_ha``,
        ``remaining_after_ha``, ``over_budget`` (remaining after < 0).

    Raises
    ------
    LayerSchemaError
        Missing column, area < 0, share outside [0, 1], non-boolean flags.
    NotFoundError
        A placement in a commune unknown to ``communes``, or in a pool
        ``budgets`` has no row for.

    Examples
    --------
    >>> from foncier.zan import load_rules
    >>> communes = pd.DataFrame({"insee": ["30007"], "name": ["Alès"], "epci": ["200066918"]})
    >>> budgets = pd.DataFrame({"pool_id": ["30007"], "name": ["Alès"], "remaining_ha": [5.0]})
    >>> placements = pd.DataFrame({"project_id": ["p1", "p2"], "insee": "30007",
    ...     "area_ha": [4.0, 3.0], "enaf_share": [0.5, 1.0], "is_pene": [False, True]})
    >>> _, per_pool = placement_impact(placements, budgets, load_rules(), communes, pool="commune")
    >>> per_pool[["consumed_by_placements_ha", "remaining_after_ha"]].iloc[0].tolist()
    [2.0, 3.0]
    """
    level = pool or budgets.attrs.get("pool") or rules.pool
    p = _placements_table(placements)
    ids = pool_ids(communes, level)
    unknown = sorted(set(p[Col.INSEE]) - set(ids.index))
    if unknown:
        msg = f"placements dans des communes hors du territoire : {unknown[:5]}"
        raise NotFoundError(msg)
    p[POOL_ID] = ids.reindex(p[Col.INSEE]).to_numpy()
    missing_pools = sorted(set(p[POOL_ID]) - set(budgets[POOL_ID]))
    if missing_pools:
        msg = (
            f"la table des budgets (niveau {level!r}) n'a pas de ligne pour les enveloppes "
            f"{missing_pools[:5]} de ces placements ; calculez les budgets au même niveau"
        )
        raise NotFoundError(msg)
    p["enaf_ha"] = p["area_ha"] * p["enaf_share"]
    counted = p["area_ha"] if rules.artificialised_counts else p["enaf_ha"]
    national = p[Col.IS_PENE] & rules.pene_excluded
    category = p[CATEGORY].astype(str) if CATEGORY in p else pd.Series("", index=p.index)
    excluded = category.isin(rules.excluded_categories)
    free = p[IS_FRICHE] & (not rules.friches_count)
    p["consumed_ha"] = counted.where(~(national | excluded | free), 0.0)
    p["charged_to"] = np.select(
        [national, excluded, free], ["national", "excluded", "none"], default="local"
    )
    p["charged_to"] = p["charged_to"].astype("str")
    used = p.groupby(POOL_ID)["consumed_ha"].sum()
    before = budgets.set_index(POOL_ID)["remaining_ha"].astype("float64")
    per_pool = pd.DataFrame(
        {
            POOL_ID: before.index.astype("str"),
            Col.NAME: budgets.set_index(POOL_ID)[Col.NAME].astype("str").to_numpy(),
            "remaining_before_ha": before.to_numpy(),
            "consumed_by_placements_ha": used.reindex(before.index, fill_value=0.0).to_numpy(),
        }
    )
    per_pool["remaining_after_ha"] = (
        per_pool["remaining_before_ha"] - per_pool["consumed_by_placements_ha"]
    )
    per_pool["over_budget"] = per_pool["remaining_after_ha"] < 0
    for table in (p, per_pool):
        table.attrs.update({k: v for k, v in budgets.attrs.items() if k not in ("missing_years",)})
        table.attrs.update(
            {
                "rules": rules.name,
                "rules_version": rules.version,
                "pool": level,
                "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
    return p.reset_index(drop=True), per_pool
