"""The scenario map: the territory map plus the placements and the projects left out."""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from foncier._format import fr_number
from foncier.errors import NotFoundError
from foncier.labels import esc
from foncier.layers import Col, TableCol, UnitCol
from foncier.maps.page import finish, new_map
from foncier.maps.placements import placements_layer, unmatched_panel
from foncier.maps.territory import base_layers, territory_budgets

__all__ = ["scenario_map"]


def _placement_rows(assignments: pd.DataFrame, contributions: pd.DataFrame | None) -> pd.DataFrame:
    """Assignments with their score contributions as text, for the popups."""
    rows = assignments.copy()
    rows["contributions"] = ""
    needed = {Col.PROJECT_ID, UnitCol.UNIT_ID, "label", "contribution"}
    if contributions is not None and needed <= set(contributions.columns) and len(rows):
        shown = contributions[contributions["contribution"].abs() > 5e-3].sort_values(
            "contribution", ascending=False, kind="stable"
        )
        parts = (
            shown["label"].astype(str).map(esc)
            + " "
            + [("+" if c > 0 else "") + fr_number(c, 2) for c in shown["contribution"]]
        )
        text = parts.groupby(
            [shown[Col.PROJECT_ID].astype(str), shown[UnitCol.UNIT_ID].astype(str)]
        ).agg(" ; ".join)
        keys = pd.MultiIndex.from_arrays(
            [rows[Col.PROJECT_ID].astype(str), rows[UnitCol.UNIT_ID].astype(str)]
        )
        rows["contributions"] = text.reindex(keys).fillna("").to_numpy()
    return rows


def _lots(result: Any) -> gpd.GeoDataFrame | None:
    """The lots of the placements (``project_id`` and geometry), when the result has them."""
    placements = getattr(result, "placements", None)
    if not isinstance(placements, gpd.GeoDataFrame) or not len(placements):
        return None
    if placements.geometry.isna().any():
        return None
    return placements[[Col.PROJECT_ID, placements.geometry.name]]


def _host_geometries(result: Any, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Outline of each unit hosting a placement (its lots are drawn over it)."""
    ids = result.assignments[UnitCol.UNIT_ID].astype(str)
    missing = sorted(set(ids) - set(units[UnitCol.UNIT_ID].astype(str)))
    if missing:
        msg = (
            "the scenario places projects on units absent from the land units given: "
            f"{missing[:5]}; pass the units the scenario was run with"
        )
        raise NotFoundError(msg)
    return units.assign(**{UnitCol.UNIT_ID: units[UnitCol.UNIT_ID].astype(str)})[
        [UnitCol.UNIT_ID, "geometry"]
    ]


def _balance_budgets(result: Any) -> pd.DataFrame:
    """Budget table of the pools after the scenario, from its ZAN balance."""
    balance = result.zan_balance
    remaining = balance[TableCol.REMAINING_AFTER_HA].astype(float)
    table = pd.DataFrame(
        {
            TableCol.POOL_ID: balance[TableCol.POOL_ID].astype(str),
            "name": balance[Col.NAME].astype(str),
            TableCol.ENVELOPE_HA: balance[TableCol.ENVELOPE_HA].astype(float),
            TableCol.CONSUMED_HA: balance[TableCol.CONSUMED_HA].astype(float),
            TableCol.COMMITTED_HA: balance[TableCol.COMMITTED_HA].astype(float),
            TableCol.CONSUMED_BY_PLACEMENTS_HA: balance[TableCol.CONSUMED_BY_PLACEMENTS_HA].astype(
                float
            ),
            TableCol.REMAINING_HA: remaining,
            TableCol.STATUS: np.where(
                remaining.isna(), "incomplete", np.where(remaining < 0, "exceeded", "on track")
            ),
        }
    )
    audit = getattr(result, "audit", {}) or {}
    table.attrs.update(
        rules=audit.get("rules", "?"),
        rules_version=audit.get("rules_version", ""),
        enaf_vintage=audit.get("enaf_vintage", ""),
        pool=audit.get("pool", "commune"),
    )
    return table


def scenario_map(
    territory: Any,
    result: Any,
    units: gpd.GeoDataFrame | None = None,
    *,
    budgets: pd.DataFrame | None = None,
    inline_assets: bool = False,
) -> folium.Map:
    """Map of a scenario: the territory map plus the placements and the projects left out.

    Placements are drawn on their land unit, outlined in the colour of the
    sector of the unit's largest project (:data:`~foncier.palette.SECTOR_COLOURS`,
    the same on every map), with a marker so that small units stay visible;
    the popup lists each project placed there with its area, jobs, ZAN cost,
    why this unit and every criterion's contribution to its score.  A panel
    lists the unmatched projects grouped by reason, with what would unlock
    them.  Nothing is recomputed: the figures are the result's.

    Parameters
    ----------
    territory
        The scenario's :class:`~foncier.territory.Territory`.
    result
        A scenario result with ``assignments`` (``project_id``, ``unit_id``,
        ``name``, ``sector``, ``area_ha``, ``enaf_ha``, ``jobs``,
        ``zan_cost``, ``explanation``) and ``unmatched`` (``project_id``,
        ``name``, ``reason_code``, ``explanation``, ``hint``) tables,
        optionally ``units`` (the land units it used), ``contributions``
        (``project_id``, ``unit_id``, ``label``, ``contribution``) and
        ``placements`` (the assignments with their lot's geometry), e.g.
        :class:`foncier.scenarios.ScenarioResult`.
    units
        The land units to draw; ``result.units`` when ``None``.
    budgets
        Budget table for the communes layer (see :func:`~foncier.maps.territory_map`);
        ``None`` shows what each pool has left after the scenario (its
        ``zan_balance``).
    inline_assets
        Embed Leaflet in the page instead of linking its CDN.

    Returns
    -------
    folium.Map

    Raises
    ------
    NotFoundError
        A placement names a unit absent from ``units``.
    """
    # Everything comes from the result: its land units, and the project fields its
    # assignments and unmatched tables carry (foncier.layers.PROJECT_FIELDS).
    units = units if units is not None else result.units
    hosts = _host_geometries(result, units)
    if budgets is None and getattr(result, "zan_balance", None) is not None:
        budgets = _balance_budgets(result)
    table = territory_budgets(territory, budgets)
    placements = _placement_rows(result.assignments, getattr(result, "contributions", None))
    layers = [
        placements_layer(
            hosts, placements, lots=_lots(result), parcels=getattr(result, "lot_parcels", None)
        ),
        unmatched_panel(result.unmatched),
        *base_layers(territory, units, table, UnitCol.ORIGIN),
    ]
    totals = getattr(result, "totals", {}) or {}
    n_placed = int(totals.get("projects_placed", len(placements)))
    n_all = int(totals.get("projects", len(placements) + len(result.unmatched)))
    name = (getattr(result, "audit", {}) or {}).get("name", "")
    subtitle = f"Scénario {name} : {n_placed} projets placés sur {n_all}".replace("  ", " ")
    from foncier.assumptions import scenario_assumptions

    m = new_map(territory, inline_assets)
    stated = (getattr(result, "audit", {}) or {}).get("hypotheses")
    if stated is None:  # a result written before its assumptions were recorded
        stated = scenario_assumptions(territory, units, None, result.assignments)
    return finish(m, territory, subtitle, table, layers, stated)
