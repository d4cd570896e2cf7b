"""The one shape every layer function returns, and the GeoJSON layer they are built from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from foncier.maps.geojson import POLYGON_TOLERANCE_M, feature_collection

__all__ = ["MapLayer", "area_style", "circle_marker", "geojson_layer", "pane"]

Style = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class MapLayer:
    """What each layer function of :mod:`foncier.maps` returns.

    A layer function receives the tables to draw (it computes no data) and
    returns this; :func:`foncier.maps.territory_map` and
    :func:`foncier.maps.scenario_map` add the layers to the map and gather
    the legend blocks and panels.

    Attributes
    ----------
    layers
        Leaflet layers (``folium.GeoJson`` or ``folium.FeatureGroup``), each
        listed by name in the layer control; empty when there is nothing to
        draw (no ZAE, no friches…).
    legend_html
        The layer's block of the legend panel (HTML, French), ``""`` for none.
    panel_html
        A panel of its own (HTML, French), ``""`` for none: the projects left
        out by a scenario.
    """

    layers: tuple[folium.map.Layer, ...] = ()
    legend_html: str = ""
    panel_html: str = ""

    def add_to(self, m: folium.Map) -> None:
        """Add the Leaflet layers to ``m`` (legend and panel are placed by the map)."""
        for layer in self.layers:
            layer.add_to(m)


def pane(name: str) -> str:
    """Name of the Leaflet pane of a layer family (see :data:`foncier.maps.style.PANES`)."""
    return f"foncier_{name}"


def circle_marker(radius: float, fill_opacity: float, pane_name: str) -> folium.CircleMarker:
    """The marker of point features: a circle drawn in SVG, never an image (works offline)."""
    marker = folium.CircleMarker(radius=radius, fill=True, fill_opacity=fill_opacity, weight=1)
    marker.options["pane"] = pane(pane_name)  # path_options() drops it
    return marker


def area_style(weight: float, fill_opacity: float, dash: str | None = None) -> Style:
    """Style filling and outlining each feature with its ``fill`` property."""

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        out = {
            "fillColor": feature["properties"]["fill"],
            "color": feature["properties"]["fill"],
            "weight": weight,
            "fillOpacity": fill_opacity,
        }
        if dash:
            out["dashArray"] = dash
        return out

    return style


def geojson_layer(
    gdf: gpd.GeoDataFrame,
    properties: pd.DataFrame | Mapping[str, Any],
    *,
    name: str | None,
    pane_name: str,
    style: Style,
    show: bool = True,
    points: bool = False,
    tolerance_m: float = POLYGON_TOLERANCE_M,
    coverage: bool = False,
    highlight: bool = False,
    radius: float = 6.0,
) -> folium.GeoJson:
    """A GeoJSON layer with a hover ``tooltip`` and a click ``popup`` taken from ``properties``.

    Point geometries (or every geometry when ``points``) are drawn as circle
    markers of ``radius`` pixels.
    """
    props = pd.DataFrame(properties)
    kwargs: dict[str, Any] = {}
    if highlight:
        kwargs["highlight_function"] = lambda f: {"weight": 3, "color": "#000000"}
    return folium.GeoJson(
        feature_collection(gdf, props, tolerance_m=tolerance_m, coverage=coverage, points=points),
        name=name,
        show=show,
        pane=pane(pane_name),
        style_function=style,
        tooltip=folium.GeoJsonTooltip(["tooltip"], labels=False),
        popup=folium.GeoJsonPopup(["popup"], labels=False),
        zoom_on_click=False,
        marker=circle_marker(radius, 1.0 if points else 0.9, pane_name),
        **kwargs,
    )
