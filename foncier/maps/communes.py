"""The communes: coloured by the ZAN budget they have left, and their names."""

from __future__ import annotations

import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from jinja2 import Template

from foncier.labels import LAYER_NAMES, esc, ha, popup_html
from foncier.layers import Col, TableCol
from foncier.maps.geojson import COMMUNE_TOLERANCE_M, representative_points_wgs84
from foncier.maps.layer import MapLayer, geojson_layer, pane
from foncier.palette import EXCEEDED, INCOMPLETE, budget_class_labels, budget_colour, swatch
from foncier.zan import STATUS_LABELS

__all__ = ["commune_names_layer", "communes_layer"]

#: Columns a budget row of a commune must carry (a row of :func:`foncier.zan.budget_table`).
BUDGET_COLUMNS = (
    TableCol.POOL_ID,
    TableCol.ENVELOPE_HA,
    TableCol.CONSUMED_HA,
    TableCol.REMAINING_HA,
    TableCol.STATUS,
)


def _commune_popup(name: str, code: str, r: Any, pooled: bool, period: tuple[int, int]) -> str:
    placed = getattr(r, TableCol.CONSUMED_BY_PLACEMENTS_HA, None)
    figures = [
        (f"Enveloppe {period[0]}-{period[1]}", ha(r.envelope_ha)),
        (f"Consommé depuis {period[0]}", ha(r.consumed_ha)),
    ]
    if float(getattr(r, TableCol.COMMITTED_HA, 0.0) or 0.0) > 0:
        figures.append(("Engagé (projets décidés)", ha(r.committed_ha)))
    if placed is not None and not np.isnan(placed):
        figures.append(("ENAF des projets placés", ha(placed, 2)))
    status = str(r.status)
    figures += [
        ("Reste" if placed is None else "Reste après le scénario", ha(r.remaining_ha)),
        ("Statut", esc(STATUS_LABELS.get(status, status))),
    ]
    if pooled:
        figures.insert(0, ("Budget mutualisé", esc(r.name)))
    return popup_html(f"{name} ({code})", figures)


def communes_layer(
    communes: gpd.GeoDataFrame, budgets: pd.DataFrame, *, pooled: bool = False
) -> MapLayer:
    """Communes filled by the class of ZAN budget they have left.

    Parameters
    ----------
    communes
        The communes layer (``insee``, ``name``, geometry).
    budgets
        One budget row per commune, on the index of ``communes``: its own
        row of :func:`foncier.zan.budget_table`, or its pool's when budgets
        are pooled (``pool_id``, ``name``, ``envelope_ha``, ``consumed_ha``,
        ``remaining_ha``, ``status``, optionally ``committed_ha`` and
        ``consumed_by_placements_ha`` after a scenario).
    pooled
        The rows are pools' rows: popups name the pool.

    Returns
    -------
    MapLayer
        The layer and the legend of the fixed budget classes
        (:data:`foncier.palette.BUDGET_BREAKS_HA`).
    """
    insee = communes[Col.INSEE].astype(str).to_numpy()
    names = communes[Col.NAME].astype(str).to_numpy()
    remaining = budgets[TableCol.REMAINING_HA].astype(float)
    status = budgets[TableCol.STATUS].fillna("incomplete").astype(str)
    rows = budgets.assign(status=status)
    start, end = budgets.attrs.get("target_period", (2021, 2031))
    popups = [
        _commune_popup(n, c, r, pooled, (start, end))
        for n, c, r in zip(names, insee, rows.itertuples(), strict=True)
    ]
    tips = [f"{esc(n)} : reste {ha(rem)}" for n, rem in zip(names, remaining, strict=True)]
    fills = [budget_colour(rem, st) for rem, st in zip(remaining, status, strict=True)]
    props = {
        "insee": insee,
        "name": names,
        TableCol.REMAINING_HA: remaining.round(4).to_numpy(),
        TableCol.STATUS: status.to_numpy(),
        "fill": fills,
        "tooltip": tips,
        "popup": popups,
    }
    layer = geojson_layer(
        communes,
        props,
        name=LAYER_NAMES["communes"],
        pane_name="communes",
        style=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.55,
        },
        tolerance_m=COMMUNE_TOLERANCE_M,
        coverage=True,
        highlight=True,
    )
    after = TableCol.CONSUMED_BY_PLACEMENTS_HA in budgets.columns
    return MapLayer((layer,), _budget_legend(status, (start, end), after=after))


def _budget_legend(status: pd.Series, period: tuple[int, int], *, after: bool = False) -> str:
    items = [swatch(colour, label) for colour, label in budget_class_labels()]
    n_over = int((status == "exceeded").sum())
    items.append(
        swatch(EXCEEDED, f"enveloppe dépassée ({n_over} commune{'s' if n_over > 1 else ''})")
    )
    if (status == "incomplete").any():
        items.append(swatch(INCOMPLETE, "données incomplètes"))
    title = f"Budget ZAN restant {period[0]}-{period[1]}" + (" après le scénario" if after else "")
    return f"<b>{title}</b>" + "".join(items)


class _Labels(folium.MacroElement):
    """Text labels added to the parent feature group, drawn as Leaflet ``divIcon``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.labels }}.forEach(function (l) {
            L.marker([l[0], l[1]], {
                icon: L.divIcon({className: "foncier-label", html: "<span>" + l[2] + "</span>",
                                 iconSize: [0, 0]}),
                interactive: false, keyboard: false, pane: {{ this.pane|tojson }}
            }).addTo({{ this._parent.get_name() }});
        });
        {% endmacro %}
        """
    )

    def __init__(self, labels: list[list[Any]], pane_name: str) -> None:
        super().__init__()
        self._name = "Labels"
        self.labels = json.dumps(labels, ensure_ascii=False).replace("</", "<\\/")
        self.pane = pane(pane_name)


def commune_names_layer(communes: gpd.GeoDataFrame) -> MapLayer:
    """The name of each commune written at a point inside it (not clickable).

    Parameters
    ----------
    communes
        The communes layer (``name``, geometry).

    Returns
    -------
    MapLayer
        A feature group of text labels, no legend.
    """
    if communes.empty:
        return MapLayer()
    latlon = representative_points_wgs84(communes)
    labels = [
        [float(lat), float(lon), esc(n)]
        for (lat, lon), n in zip(latlon, communes[Col.NAME].astype(str), strict=True)
    ]
    group = folium.FeatureGroup(name=LAYER_NAMES["commune_names"])
    _Labels(labels, "labels").add_to(group)
    return MapLayer((group,))
