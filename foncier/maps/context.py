"""The context of the land: ZAE, friches, constraints and infrastructure, one function each."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier.labels import (
    CONSTRAINT_KIND_LABELS,
    EFFECT_LABELS,
    INFRA_KIND_LABELS,
    LAYER_NAMES,
    esc,
    ha,
    popup_html,
)
from foncier.layers import Col
from foncier.maps.layer import MapLayer, area_style, geojson_layer
from foncier.maps.style import (
    CONSTRAINT_STYLE,
    FRICHE_COLOURS,
    INFRA_COLOURS,
    OTHER,
    ZAE_COLOUR,
    swatch,
)

__all__ = ["constraints_layer", "friches_layer", "infrastructure_layer", "zae_layer"]


def _text(gdf: gpd.GeoDataFrame, column: str, default: pd.Series | str = "") -> pd.Series:
    """A text column for people, ``default`` where absent or missing."""
    fallback = default if isinstance(default, pd.Series) else pd.Series(default, index=gdf.index)
    if column not in gdf.columns:
        return fallback.astype(str)
    values = gdf[column]
    return values.astype(object).where(values.notna(), fallback).astype(str)


def zae_layer(zae: gpd.GeoDataFrame) -> MapLayer:
    """Business parks (ZAE) as dashed outlines; popup: id, commune, gross and usable area.

    Parameters
    ----------
    zae
        The ``zae`` layer.

    Returns
    -------
    MapLayer
        One layer, no legend (the layer control names it); none when ``zae`` is empty.
    """
    if zae.empty:
        return MapLayer()
    names = _text(zae, Col.NAME, zae[Col.SITE_ID].astype(str))
    popups = [
        popup_html(
            n,
            [
                ("Identifiant", esc(s)),
                ("Commune", esc(i)),
                ("Surface brute", ha(b)),
                ("Surface utile", ha(u)),
            ],
        )
        for n, s, i, b, u in zip(
            names,
            zae[Col.SITE_ID],
            zae[Col.INSEE],
            zae[Col.SURF_BRUTE_HA],
            zae[Col.SURF_UTILE_HA],
            strict=True,
        )
    ]
    layer = geojson_layer(
        zae,
        {"fill": [ZAE_COLOUR] * len(zae), "tooltip": names.map(esc).tolist(), "popup": popups},
        name=LAYER_NAMES["zae"],
        pane_name="sites",
        style=area_style(2, 0.05, "6 4"),
    )
    return MapLayer((layer,))


def friches_layer(friches: gpd.GeoDataFrame) -> MapLayer:
    """Friches by Cartofriches status, points as circles; popup: their Cartofriches record.

    Parameters
    ----------
    friches
        The ``friches`` layer (polygons or points).

    Returns
    -------
    MapLayer
        One layer and the legend of the statuses present
        (:data:`foncier.maps.style.FRICHE_COLOURS`); none when ``friches`` is empty.
    """
    if friches.empty:
        return MapLayer()
    status = friches[Col.STATUS].astype(str)
    names = _text(friches, Col.NAME, friches[Col.SITE_ID].astype(str))
    pollution = _text(friches, Col.POLLUTION, "n.d.").replace("", "n.d.")
    zone = _text(friches, Col.ZONE_TYPE, "n.d.").replace("", "n.d.")
    drawn_m2 = shapely.area(friches.geometry.to_numpy())
    declared_m2 = (
        pd.to_numeric(friches[Col.SURFACE_M2], errors="coerce").to_numpy(dtype=float)
        if Col.SURFACE_M2 in friches.columns
        else np.full(len(friches), np.nan)
    )
    area_ha = np.where(np.isnan(declared_m2), np.where(drawn_m2 > 0, drawn_m2, np.nan), declared_m2)
    approximate = (
        friches[Col.APPROXIMATE].fillna(False).astype(bool).to_numpy()
        if Col.APPROXIMATE in friches.columns
        else np.zeros(len(friches), dtype=bool)
    )
    popups = [
        popup_html(
            n,
            [
                ("Statut", esc(s)),
                ("Pollution", esc(p)),
                ("Surface", ha(a / 1e4, 2) + (" (approximative)" if approx else "")),
                ("Zone du PLU", esc(z)),
                ("Identifiant Cartofriches", esc(i)),
            ],
        )
        for n, s, p, a, approx, z, i in zip(
            names,
            status,
            pollution,
            area_ha,
            approximate,
            zone,
            friches[Col.SITE_ID].astype(str),
            strict=True,
        )
    ]
    layer = geojson_layer(
        friches,
        {
            "fill": status.map(FRICHE_COLOURS).fillna(OTHER).tolist(),
            "tooltip": [f"{esc(n)} ({esc(s)})" for n, s in zip(names, status, strict=True)],
            "popup": popups,
        },
        name=LAYER_NAMES["friches"],
        pane_name="sites",
        style=area_style(2, 0.5),
    )
    present = set(status)
    legend = "<b>Friches</b>" + "".join(
        swatch(colour, esc(s)) for s, colour in FRICHE_COLOURS.items() if s in present
    )
    return MapLayer((layer,), legend)


def constraints_layer(constraints: gpd.GeoDataFrame) -> MapLayer:
    """One layer per constraint family (PPRI red and blue, Natura 2000, ZNIEFF hidden at first).

    Parameters
    ----------
    constraints
        The ``constraints`` layer.

    Returns
    -------
    MapLayer
        The layers of the families present and their legend.
    """
    layers: list[folium.map.Layer] = []
    items = []
    for key, (colour, kinds, show) in CONSTRAINT_STYLE.items():
        part = constraints[constraints[Col.KIND].isin(kinds)]
        if part.empty:
            continue
        names = _text(part, Col.NAME, part[Col.CONSTRAINT_ID].astype(str))
        popups = [
            popup_html(
                n,
                [
                    ("Type", esc(CONSTRAINT_KIND_LABELS.get(k, k))),
                    ("Effet", esc(EFFECT_LABELS.get(e, e))),
                ],
            )
            for n, k, e in zip(names, part[Col.KIND], part[Col.EFFECT], strict=True)
        ]
        layers.append(
            geojson_layer(
                part,
                {"fill": [colour] * len(part), "tooltip": names.map(esc).tolist(), "popup": popups},
                name=LAYER_NAMES[key],
                pane_name="constraints",
                style=area_style(1, 0.3),
                show=show,
            )
        )
        items.append(swatch(colour, LAYER_NAMES[key]))
    legend = "<b>Contraintes</b>" + "".join(items) if items else ""
    return MapLayer(tuple(layers), legend)


def infrastructure_layer(infrastructure: gpd.GeoDataFrame) -> MapLayer:
    """Roads, rail, power and ports: lines as lines, points as circles, in one layer.

    Parameters
    ----------
    infrastructure
        The ``infrastructure`` layer.

    Returns
    -------
    MapLayer
        One layer and the legend of the kinds present; none when empty.
    """
    if infrastructure.empty:
        return MapLayer()
    kind = infrastructure[Col.KIND].astype(str)
    names = _text(infrastructure, Col.NAME, infrastructure[Col.INFRA_ID].astype(str))
    labels = kind.map(INFRA_KIND_LABELS).fillna(kind)
    layer = geojson_layer(
        infrastructure,
        {
            "fill": kind.map(INFRA_COLOURS).fillna(OTHER).tolist(),
            "tooltip": [f"{esc(n)} ({esc(lab)})" for n, lab in zip(names, labels, strict=True)],
            "popup": [
                popup_html(n, [("Type", esc(lab))]) for n, lab in zip(names, labels, strict=True)
            ],
        },
        name=LAYER_NAMES["infrastructure"],
        pane_name="infrastructure",
        style=area_style(3, 0.9),
    )
    present = set(kind)
    legend = "<b>Infrastructures</b>" + "".join(
        swatch(INFRA_COLOURS[k], label, line=True)
        for k, label in INFRA_KIND_LABELS.items()
        if k in present
    )
    return MapLayer((layer,), legend)
