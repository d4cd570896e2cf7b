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
from foncier.layers import Col, UnitCol
from foncier.maps.page import finish, new_map
from foncier.maps.placements import placements_layer, unmatched_panel
from foncier.maps.territory import base_layers, territory_budgets

__all__ = ["scenario_map"]

#: Project fields the placements and the unmatched panel show.
_PROJECT_FIELDS = (Col.NAME, Col.SECTOR, Col.JOBS, Col.AREA_MIN_HA)


def _scenario_tables(
    territory: Any, result: Any, units: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """The land units, assignments and unmatched projects of ``result``, with project fields.

    The one place where the map reads what the scenario used: its land units
    (``units`` when given, else ``result.units``) and the project fields
    carried by ``result.assignments`` and ``result.unmatched``.  A result
    written before results carried them has its units computed from the
    territory and the missing fields taken from the territory's projects.
    """
    if units is None:
        units = getattr(result, "units", None)
    if units is None:
        from foncier.supply import land_units

        units = land_units(territory)
    projects = territory.projects.drop(columns=Col.GEOMETRY, errors="ignore")
    info = projects.set_index(Col.PROJECT_ID)

    def with_fields(table: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in _PROJECT_FIELDS if c not in table.columns and c in info.columns]
        if not missing:
            return table
        ids = table[Col.PROJECT_ID]
        return table.assign(**{c: ids.map(info[c]).to_numpy() for c in missing})

    return units, with_fields(result.assignments), with_fields(result.unmatched)


def _placement_rows(assignments: pd.DataFrame, contributions: pd.DataFrame | None) -> pd.DataFrame:
    """Assignments with their score contributions as text, for the popups."""
    rows = assignments.copy()
    for col in (Col.NAME, Col.SECTOR):
        if col not in rows.columns:
            rows[col] = ""
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


def _host_geometries(result: Any, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Geometry of each unit hosting a placement: the result's own, else the units'."""
    placements = getattr(result, "placements", None)
    ids = result.assignments[UnitCol.UNIT_ID].astype(str)
    if (
        isinstance(placements, gpd.GeoDataFrame)
        and len(placements)
        and placements.geometry.notna().all()
    ):
        hosts = placements.assign(**{UnitCol.UNIT_ID: placements[UnitCol.UNIT_ID].astype(str)})
        hosts = hosts.drop_duplicates(UnitCol.UNIT_ID)[[UnitCol.UNIT_ID, "geometry"]]
        return hosts.to_crs(units.crs) if units.crs is not None else hosts
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
    remaining = balance["remaining_after_ha"].astype(float)
    table = pd.DataFrame(
        {
            "pool_id": balance["pool_id"].astype(str),
            "name": balance[Col.NAME].astype(str),
            "envelope_ha": balance["envelope_ha"].astype(float),
            "consumed_ha": balance["consumed_ha"].astype(float),
            "committed_ha": balance["committed_ha"].astype(float),
            "consumed_by_placements_ha": balance["consumed_by_placements_ha"].astype(float),
            "remaining_ha": remaining,
            "status": np.where(
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
    sector of the unit's largest project (:data:`~foncier.maps.style.SECTOR_COLOURS`,
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
        ``placements`` (the assignments with their unit's geometry), e.g.
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
        The result carries no placement geometry and a placement names a
        unit absent from ``units``.
    """
    units, assignments, unmatched = _scenario_tables(territory, result, units)
    hosts = _host_geometries(result, units)
    if budgets is None and getattr(result, "zan_balance", None) is not None:
        budgets = _balance_budgets(result)
    table = territory_budgets(territory, budgets)
    placements = _placement_rows(assignments, getattr(result, "contributions", None))
    layers = [
        placements_layer(hosts, placements),
        unmatched_panel(unmatched),
        *base_layers(territory, units, table, UnitCol.ORIGIN),
    ]
    totals = getattr(result, "totals", {}) or {}
    n_placed = int(totals.get("projects_placed", len(placements)))
    n_all = int(totals.get("projects", len(territory.projects)))
    name = (getattr(result, "audit", {}) or {}).get("name", "")
    subtitle = f"Scénario {name} : {n_placed} projets placés sur {n_all}".replace("  ", " ")
    m = new_map(territory, inline_assets)
    return finish(m, territory, subtitle, table, layers)
