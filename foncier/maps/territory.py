"""The territory map: ZAN budgets left per commune and the land available."""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from foncier.errors import LayerSchemaError
from foncier.layers import Col, TableCol, UnitCol
from foncier.maps.communes import BUDGET_COLUMNS, commune_names_layer, communes_layer
from foncier.maps.consumption import consumption_layer
from foncier.maps.context import (
    constraints_layer,
    friches_layer,
    infrastructure_layer,
    zae_layer,
)
from foncier.maps.layer import MapLayer
from foncier.maps.page import finish, new_map
from foncier.maps.units import units_layer
from foncier.zan import pool_ids
from foncier.zan.diagnosis import territory_diagnosis

__all__ = ["base_layers", "territory_budgets", "territory_map"]


def _unknown_budgets(communes: pd.DataFrame) -> pd.DataFrame:
    """Budget rows of communes without ENAF data: every figure unknown."""
    insee = communes[Col.INSEE].astype(str).to_numpy()
    nan = np.full(len(insee), np.nan)
    table = pd.DataFrame(
        {
            TableCol.POOL_ID: insee,
            "name": communes[Col.NAME].astype(str).to_numpy(),
            TableCol.ENVELOPE_HA: nan,
            TableCol.CONSUMED_HA: nan,
            TableCol.COMMITTED_HA: nan,
            TableCol.REMAINING_HA: nan,
            TableCol.STATUS: "incomplete",
        }
    )
    table.attrs.update(rules="aucune (pas de données ENAF)", rules_version="", pool="commune")
    return table


def territory_budgets(territory: Any, budgets: pd.DataFrame | None) -> pd.DataFrame:
    """The budget table a map shows: ``budgets``, else per commune under the default rules."""
    if budgets is not None:
        table = budgets
    elif territory.enaf_consumption.empty:
        table = _unknown_budgets(territory.communes)
    else:
        from foncier.zan import budget_table

        table = budget_table(territory, pool="commune")
    missing = [c for c in BUDGET_COLUMNS if c not in table.columns]
    if missing:
        msg = (
            f"budgets must be a table of foncier.zan.budget_table; the column(s) {missing} "
            f"are missing (received {list(table.columns)})"
        )
        raise LayerSchemaError(msg)
    return table


def _commune_rows(communes: gpd.GeoDataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The budget row of each commune (its pool's row when pooled), on the communes' index."""
    ids = pool_ids(communes, str(table.attrs.get("pool", "commune")))
    rows = table.set_index(TableCol.POOL_ID).reindex(ids.to_numpy())
    rows.index = ids.index
    rows[TableCol.POOL_ID] = ids.to_numpy()
    rows = rows.reindex(communes[Col.INSEE].astype(str).to_numpy())
    rows.index = communes.index
    return rows


def base_layers(
    territory: Any, units: gpd.GeoDataFrame, budgets: pd.DataFrame, colour_by: str
) -> list[MapLayer]:
    """The layers of every map of a territory, bottom to top in the layer control."""
    communes = territory.communes
    layers = []
    if not communes.empty:
        pooled = str(budgets.attrs.get("pool", "commune")) != "commune"
        layers.append(communes_layer(communes, _commune_rows(communes, budgets), pooled=pooled))
        if not territory.enaf_consumption.empty:
            layers.append(consumption_layer(communes, territory_diagnosis(territory)))
    names = dict(zip(communes[Col.INSEE].astype(str), communes[Col.NAME].astype(str), strict=True))
    layers += [
        constraints_layer(territory.constraints),
        zae_layer(territory.zae),
        friches_layer(territory.friches),
        units_layer(units, names, colour_by),
        infrastructure_layer(territory.infrastructure),
        commune_names_layer(communes),
    ]
    return layers


def territory_map(
    territory: Any,
    units: gpd.GeoDataFrame | None = None,
    budgets: pd.DataFrame | None = None,
    *,
    colour_by: str = UnitCol.ORIGIN,
    inline_assets: bool = False,
) -> folium.Map:
    """Map of a territory: ZAN budgets left per commune and the land available.

    Layers (French names, see :data:`~foncier.labels.LAYER_NAMES`): communes
    coloured by remaining 2021-2031 ZAN budget in the fixed classes of
    :data:`~foncier.palette.BUDGET_BREAKS_HA` (a red for "enveloppe
    dépassée", grey for incomplete data; popup: enveloppe, consommé depuis
    2021, engagé, reste, statut) and their names, land units (by origin or
    by a numeric column; popup: surface nette, coût ZAN, criteria,
    completeness), ZAE, friches by status, PPRI red and blue zones, Natura
    2000, ZNIEFF (hidden at first) and infrastructure.  The title names the
    data label, the rule set and the data vintage.  See
    :mod:`foncier.maps` for size limits.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.
    units
        Land units (:func:`foncier.supply.land_units`); computed when ``None``.
    budgets
        A budget table of :func:`foncier.zan.budget_table`, per commune or
        pooled (communes then show their pool's figures); computed per
        commune under the default rule set when ``None``.
    colour_by
        ``"origin"`` or a numeric column of ``units`` (``"completeness"``,
        ``"enaf_share"``, a score…), drawn in 5 equal classes.
    inline_assets
        Embed Leaflet in the page (works with no network) instead of linking
        its CDN.

    Returns
    -------
    folium.Map
        Save it with ``m.save("carte.html")``.

    Raises
    ------
    LayerSchemaError
        ``budgets`` is not a budget table, or ``colour_by`` names no column.

    Examples
    --------
    >>> from foncier.sample import make_sample
    >>> m = territory_map(make_sample(n_parcels=2_000, n_communes=12))  # doctest: +SKIP
    >>> m.save("carte.html")  # doctest: +SKIP
    """
    table = territory_budgets(territory, budgets)
    if units is None:
        from foncier.supply import land_units

        units = land_units(territory)
    from foncier.assumptions import assumptions

    layers = base_layers(territory, units, table, colour_by)
    m = new_map(territory, inline_assets)
    stated = assumptions(territory, units, table)
    return finish(m, territory, "Budget ZAN restant et foncier disponible", table, layers, stated)
