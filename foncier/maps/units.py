"""The land units available for projects, by origin or by a numeric column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from foncier._format import footprint_label, fr_number, fr_text
from foncier.errors import LayerSchemaError
from foncier.labels import COLUMN_LABELS, LAYER_NAMES, ORIGIN_LABELS, esc, ha, km, pct, popup_html
from foncier.layers import ORIGIN_FRICHE, Col, UnitCol
from foncier.maps.layer import MapLayer, geojson_layer
from foncier.maps.style import INCOMPLETE, ORIGIN_COLOURS, OTHER, SCORE_PALETTE, swatch

__all__ = ["units_layer"]


def _unit_popup(r: Any, commune: str) -> str:
    net = float(r.net_area_ha)
    share = getattr(r, UnitCol.ENAF_SHARE, np.nan)
    share = 1.0 if share is None or np.isnan(share) else float(share)
    rows = [
        ("Commune", esc(commune)),
        ("Origine", esc(ORIGIN_LABELS.get(r.origin, r.origin))),
        ("Surface nette", ha(net, 2)),
        (
            "Coût ZAN",
            f"{ha(net * share, 2)} d'ENAF si toute la surface est bâtie (part ENAF {pct(share)})",
        ),
        ("Zone", esc(fr_text(getattr(r, Col.ZONE_TYPE, None)))),
        ("Viabilisation", esc(fr_text(getattr(r, Col.SERVICING_STAGE, None)))),
        ("Complétude des données", pct(getattr(r, UnitCol.COMPLETENESS, np.nan))),
    ]
    if r.origin == ORIGIN_FRICHE and UnitCol.FOOTPRINT in r._fields:
        rows.append(("Emprise", esc(footprint_label(getattr(r, UnitCol.FOOTPRINT)))))
    criteria = [
        ("pente moyenne", fr_number(getattr(r, UnitCol.SLOPE_MEAN_PCT, np.nan), 1, "%")),
        ("échangeur", km(getattr(r, UnitCol.DIST_INTERCHANGE_KM, np.nan))),
        ("fret ferroviaire", km(getattr(r, UnitCol.DIST_RAIL_FREIGHT_KM, np.nan))),
        ("poste électrique", km(getattr(r, UnitCol.DIST_SUBSTATION_KM, np.nan))),
        ("habitations", km(getattr(r, UnitCol.DIST_HOUSING_KM, np.nan))),
        ("zone inondable", pct(getattr(r, UnitCol.FLOOD_SHARE, np.nan))),
        ("Natura 2000", pct(getattr(r, UnitCol.NATURA2000_SHARE, np.nan))),
        ("compacité", fr_number(getattr(r, UnitCol.COMPACTNESS, np.nan), 2)),
    ]
    extra = "<div><i>Critères</i> : " + " ; ".join(f"{k} {v}" for k, v in criteria) + "</div>"
    return popup_html(f"Unité foncière {r.unit_id}", rows, extra)


def _numeric_bins(values: pd.Series) -> list[float]:
    lo, hi = float(values.min()), float(values.max())
    if not np.isfinite(lo) or hi <= lo:
        return [lo if np.isfinite(lo) else 0.0, (hi if np.isfinite(hi) else 0.0) + 1.0]
    return list(np.linspace(lo, hi, len(SCORE_PALETTE) + 1))


def _fills(units: gpd.GeoDataFrame, colour_by: str) -> tuple[pd.Series, str]:
    """Fill of each unit and the legend block, by origin or by classes of a numeric column."""
    if colour_by == UnitCol.ORIGIN:
        fills = units[UnitCol.ORIGIN].map(ORIGIN_COLOURS).fillna(OTHER)
        present = [o for o in ORIGIN_COLOURS if o in set(units[UnitCol.ORIGIN])]
        legend = "<b>Unités foncières (origine)</b>" + "".join(
            swatch(ORIGIN_COLOURS[o], ORIGIN_LABELS[o]) for o in present
        )
        return fills, legend
    if colour_by not in units.columns:
        msg = (
            f"colour_by must be 'origin' or a numeric column of the land units; "
            f"received {colour_by!r}, columns are {list(units.columns)}"
        )
        raise LayerSchemaError(msg)
    values = pd.to_numeric(units[colour_by], errors="coerce")
    bins = _numeric_bins(values)
    k = np.clip(np.searchsorted(bins, values.to_numpy(), side="right") - 1, 0, len(bins) - 2)
    fills = pd.Series(np.array(SCORE_PALETTE)[k], index=units.index).where(
        values.notna(), INCOMPLETE
    )
    label = COLUMN_LABELS.get(colour_by, colour_by)
    legend = f"<b>Unités foncières ({esc(label)})</b>" + "".join(
        swatch(SCORE_PALETTE[i], f"{fr_number(lo, 2)} – {fr_number(hi, 2)}")
        for i, (lo, hi) in enumerate(zip(bins[:-1], bins[1:], strict=True))
    )
    return fills, legend


def units_layer(
    units: gpd.GeoDataFrame, commune_names: Mapping[str, str], colour_by: str = UnitCol.ORIGIN
) -> MapLayer:
    """Land units coloured by origin or by a numeric column, with their criteria in a popup.

    Parameters
    ----------
    units
        Land units (:func:`foncier.supply.land_units`, ``UnitCol`` columns).
    commune_names
        Name of each commune by INSEE code.
    colour_by
        ``"origin"`` or a numeric column of ``units``, drawn in 5 equal classes.

    Returns
    -------
    MapLayer
        The layer and its legend; no layer when ``units`` is empty.

    Raises
    ------
    LayerSchemaError
        ``colour_by`` names no column of ``units``.
    """
    if units.empty:
        return MapLayer()
    fills, legend = _fills(units, colour_by)
    communes = units[Col.INSEE].astype(str).map(commune_names).fillna("")
    popups = [_unit_popup(r, c) for r, c in zip(units.itertuples(), communes, strict=True)]
    tips = [
        f"{esc(u)} : {ha(a, 2)} nets, {esc(ORIGIN_LABELS.get(o, o))}"
        for u, a, o in zip(
            units[UnitCol.UNIT_ID], units[UnitCol.NET_AREA_HA], units[UnitCol.ORIGIN], strict=True
        )
    ]
    props = {
        "unit_id": units[UnitCol.UNIT_ID].astype(str).to_numpy(),
        "origin": units[UnitCol.ORIGIN].astype(str).to_numpy(),
        "net_area_ha": units[UnitCol.NET_AREA_HA].astype(float).round(4).to_numpy(),
        "fill": fills.to_numpy(),
        "tooltip": tips,
        "popup": popups,
    }
    layer = geojson_layer(
        units,
        props,
        name=LAYER_NAMES["units"],
        pane_name="units",
        style=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": f["properties"]["fill"],
            "weight": 1.5,
            "fillOpacity": 0.75,
        },
        highlight=True,
    )
    return MapLayer((layer,), legend)
