"""What a placement charges to the local ZAN envelope: the ENAF cost of a (project, unit) pair.

The rule set (:class:`foncier.zan.RuleSet`) says which land counts as ENAF
consumption; :class:`EnafCharging` holds those flags and computes the charge
of aligned arrays of placements.  The matching prices its candidate pairs
with it, and re-checks a solution with the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from foncier.layers import Col

if TYPE_CHECKING:
    from foncier.zan.rules import RuleSet

__all__ = ["ENAF_SLIVER_HA", "EnafCharging", "categories"]


#: ENAF charges below this (ha) are overlay noise and count as 0.
ENAF_SLIVER_HA = 1e-6


@dataclass(frozen=True)
class EnafCharging:
    """What a placement charges to the local ZAN envelope (from the rule set).

    The charge of a project on a unit is ``area_min_ha × enaf_share`` (the
    whole ``area_min_ha`` if ``artificialised_counts``); nothing for a PENE
    project if ``pene_excluded``, nothing on a friche unless ``friches_count``.
    An unknown ``enaf_share`` counts as 1 (the prudent assumption: all ENAF);
    a charge below :data:`ENAF_SLIVER_HA` (0.01 m², geometric noise of the
    overlay) counts as 0.

    Parameters
    ----------
    pene_excluded
        PENE projects are charged to the national envelope.
    friches_count
        Building on a friche counts as consumption, for the ENAF share of the
        friche (:func:`foncier.criteria.land_cover_shares` reads it from its
        parcels under this setting: a friche agricole on ENAF parcels).
    artificialised_counts
        Building on land already artificialised counts as consumption.

    Examples
    --------
    >>> charging = EnafCharging()
    >>> charging.charge(
    ...     np.array([4.0, 4.0, 4.0, 4.0]),
    ...     np.array([0.5, np.nan, 1.0, 1.0]),
    ...     is_pene=np.array([False, False, True, False]),
    ...     is_friche=np.array([False, False, False, True]),
    ... ).tolist()
    [2.0, 4.0, 0.0, 0.0]
    """

    pene_excluded: bool = True
    friches_count: bool = False
    artificialised_counts: bool = False
    excluded_categories: frozenset[str] = frozenset()

    @classmethod
    def from_rules(cls, rules: RuleSet) -> EnafCharging:
        """Read the three flags of a :class:`foncier.zan.RuleSet`."""
        return cls(
            pene_excluded=bool(rules.pene_excluded),
            friches_count=bool(rules.friches_count),
            artificialised_counts=bool(rules.artificialised_counts),
            excluded_categories=frozenset(rules.excluded_categories),
        )

    def excluded(self, category: np.ndarray) -> np.ndarray:
        """Whether each category is one the rule set excludes from the local count.

        Parameters
        ----------
        category
            The projects' categories (see :func:`categories`; missing ones
            are ``None``).

        Returns
        -------
        numpy.ndarray
            One boolean per project: charged to a national envelope, not locally.
        """
        if not self.excluded_categories:
            return np.zeros(len(category), dtype=bool)
        return np.isin(category, list(self.excluded_categories))

    def charge(
        self,
        area_ha: np.ndarray,
        enaf_share: np.ndarray,
        is_pene: np.ndarray,
        is_friche: np.ndarray,
        excluded: np.ndarray | None = None,
    ) -> np.ndarray:
        """ENAF charged locally, in ha, for aligned arrays of placements.

        The arrays may also broadcast against each other (a column of
        projects' values, a row of units' values: every pair of a block).

        Parameters
        ----------
        area_ha
            Area each placement takes (the project's ``area_min_ha``).
        enaf_share
            Share of ENAF of each unit (NaN: unknown, counted as 1).
        is_pene, is_friche
            Whether the project is a PENE one, whether the unit is a friche.
        excluded
            Whether the project is of a category the rule set excludes from
            the local count (see :meth:`excluded`); none by default.

        Returns
        -------
        numpy.ndarray
            The ENAF cost of each placement, in ha.
        """
        share = (
            np.ones(np.shape(enaf_share))
            if self.artificialised_counts
            else np.nan_to_num(enaf_share, nan=1.0)
        )
        free = (is_pene & self.pene_excluded) | (is_friche & (not self.friches_count))
        if excluded is not None:
            free = free | excluded
        cost = np.where(free, 0.0, area_ha * share)
        return np.where(cost < ENAF_SLIVER_HA, 0.0, cost)


def categories(table: pd.DataFrame) -> np.ndarray:
    """The ``category`` of each row of ``table``, stripped (``None`` where missing).

    Parameters
    ----------
    table
        Projects, or placements carrying their projects' ``category``.

    Returns
    -------
    numpy.ndarray
        An object array, one category per row.
    """
    if Col.CATEGORY not in table.columns:
        return np.full(len(table), None, dtype=object)
    value = table[Col.CATEGORY].astype("string").str.strip()
    return value.astype(object).where(value.notna(), None).to_numpy(dtype=object)
