"""Budgets of one territory under two rule sets, side by side ("what if the law changes?")."""

from __future__ import annotations

import pandas as pd

from foncier.errors import LayerSchemaError
from foncier.zan.budgets import POOL_ID
from foncier.zan.rules import LEGAL_STATUS_LABELS

__all__ = ["VERSUS_COLUMNS", "budgets_versus"]

#: Columns of :func:`budgets_versus`, in order.
VERSUS_COLUMNS: tuple[str, ...] = (
    "insee",
    "name",
    "envelope_ha",
    "remaining_ha",
    "versus_envelope_ha",
    "versus_remaining_ha",
    "envelope_change_ha",
    "remaining_change_ha",
)


def _label(attrs: dict) -> str:
    start, end = attrs["target_period"]
    status = LEGAL_STATUS_LABELS[attrs.get("legal_status", "in_force")]
    return f"{attrs['rules']} (version {attrs['rules_version']}, {start}-{end}, {status})"


def budgets_versus(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Envelope and remainder of each commune or pool under two rule sets.

    Parameters
    ----------
    first, second
        Budget tables of the same territory at the same pooling level (see
        :func:`foncier.zan.budget_table`), e.g. under the law in force and
        under a bill.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VERSUS_COLUMNS` on the rows of ``first``:
        ``envelope_ha`` and ``remaining_ha`` under ``first``, ``versus_…``
        under ``second``, and the changes (second − first).  ``attrs``:
        ``rules`` and ``versus_rules`` (names), ``rules_label`` and
        ``versus_label`` (French: name, version, period, legal status),
        ``pool`` and ``assumptions`` (those of both tables, each once).

    Raises
    ------
    LayerSchemaError
        The tables are at different pooling levels.

    Examples
    --------
    >>> a = pd.DataFrame({"insee": ["1"], "name": ["A"], "envelope_ha": [2.0],
    ...     "remaining_ha": [1.0], "pool_id": ["1"]})
    >>> b = a.assign(envelope_ha=2.6, remaining_ha=1.6)
    >>> for t, n in ((a, "loi"), (b, "ppl")):
    ...     t.attrs.update(rules=n, rules_version="1", target_period=[2021, 2031], pool="commune")
    >>> budgets_versus(a, b)[["envelope_change_ha", "remaining_change_ha"]].round(6).values.tolist()
    [[0.6, 0.6]]
    """
    if first.attrs.get("pool") != second.attrs.get("pool"):
        msg = (
            "les deux tableaux de budgets ne sont pas au même niveau de mutualisation "
            f"({first.attrs.get('pool')} et {second.attrs.get('pool')}) ; calculez-les avec le "
            "même --pool"
        )
        raise LayerSchemaError(msg)
    other = second.set_index(POOL_ID).reindex(first[POOL_ID])
    out = pd.DataFrame(
        {
            "insee": first["insee"].astype("str").to_numpy(),
            "name": first["name"].astype("str").to_numpy(),
            "envelope_ha": first["envelope_ha"].to_numpy(),
            "remaining_ha": first["remaining_ha"].to_numpy(),
            "versus_envelope_ha": other["envelope_ha"].to_numpy(),
            "versus_remaining_ha": other["remaining_ha"].to_numpy(),
        }
    )
    out["envelope_change_ha"] = out["versus_envelope_ha"] - out["envelope_ha"]
    out["remaining_change_ha"] = out["versus_remaining_ha"] - out["remaining_ha"]
    seen: set[str] = set()
    assumptions = []
    for a in [*first.attrs.get("assumptions", []), *second.attrs.get("assumptions", [])]:
        if a["text"] not in seen:
            seen.add(a["text"])
            assumptions.append(a)
    out.attrs.update(
        {
            "rules": first.attrs["rules"],
            "versus_rules": second.attrs["rules"],
            "rules_label": _label(first.attrs),
            "versus_label": _label(second.attrs),
            "pool": first.attrs["pool"],
            "assumptions": assumptions,
        }
    )
    return out
