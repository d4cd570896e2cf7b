"""Folium maps for the working group: ZAN budgets, available land, placements.

Two maps, in French, each naming its data (rule set, data vintage and, for
the generated sample, "échantillon synthétique"):

- :func:`territory_map`: communes coloured by the ZAN budget they have left,
  land units, ZAE, friches, constraints and infrastructure;
- :func:`scenario_map`: the same base plus the projects placed by a scenario
  and a panel listing the projects left out, with their reasons.

Maps stay light.  Commune boundaries are simplified together with
:func:`shapely.coverage_simplify` (neighbours keep a common edge, no gaps or
slivers appear), other polygons are simplified one by one, coordinates are
rounded to 5 decimals in WGS84 (about 1 m), and parcels are only drawn where
they matter: as the land units they form, never the whole cadastre.  The map
of the default sample (30 000 parcels, 40 communes, about 150 land units) is
about 0.55 MB of HTML, its scenario map about 0.9 MB (0.16 MB more with
Leaflet inlined), and either is drawn in under a second by headless Chromium.

Limits: every feature is embedded in the page as GeoJSON and drawn as an SVG
path, which stays fluid up to a few thousand land units and a few hundred
communes (an EPCI or a département).  Beyond that (a région, or every parcel
of a territory), serve the layers as vector tiles or through the API's
paginated GeoJSON endpoints with a bbox filter instead of embedding them, or
raise ``tolerance_m``.

The maps load Leaflet from its CDN (as Folium does); ``inline_assets=True``
embeds the copy of Leaflet 1.9.3 shipped in ``foncier/templates/leaflet``
(BSD 2-Clause licence) so that the map opens with no network, e.g. inside the
working group's report.  Background tiles (OpenStreetMap) always need the
network; every layer of the study is drawn without them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure

from foncier._format import fr_number
from foncier.errors import LayerSchemaError, NotFoundError
from foncier.layers import ORIGIN_ACTIVITY_ZONE, ORIGIN_FRICHE, ORIGIN_ZAE_PLOT, Col, UnitCol
from foncier.zan import STATUS_LABELS, budget_table, pool_ids

__all__ = [
    "LAYER_NAMES",
    "ORIGIN_LABELS",
    "REASON_LABELS",
    "map_html",
    "scenario_map",
    "territory_map",
]

#: French name of each layer in the layer control.
LAYER_NAMES: dict[str, str] = {
    "communes": "Communes : budget ZAN restant",
    "units": "Unités foncières disponibles",
    "zae": "Zones d'activités (ZAE)",
    "friches": "Friches",
    "ppri_red": "PPRI zone rouge",
    "ppri_blue": "PPRI zone bleue",
    "natura2000": "Natura 2000",
    "znieff": "ZNIEFF",
    "infrastructure": "Infrastructures",
    "placements": "Implantations des projets",
    "tiles": "Fond OpenStreetMap",
}
#: French label of each land-unit origin.
ORIGIN_LABELS: dict[str, str] = {
    ORIGIN_ZAE_PLOT: "lot de ZAE",
    ORIGIN_FRICHE: "friche",
    ORIGIN_ACTIVITY_ZONE: "zone d'activités du PLU",
}
#: French heading of each reason code of an unmatched project.
REASON_LABELS: dict[str, str] = {
    "infeasible": "Aucun terrain ne remplit les exigences",
    "blocked_by_zan": "Bloqués par le budget ZAN",
    "outcompeted": "Terrains pris par d'autres projets",
    "no_land": "Aucun terrain candidat",
    "not_worth": "Emplois insuffisants pour l'ENAF consommé",
    "not_selected": "Non retenus (marge d'optimalité du calcul)",
}

#: Simplification tolerance (m, Lambert-93) of commune boundaries and other polygons.
COMMUNE_TOLERANCE_M = 20.0
POLYGON_TOLERANCE_M = 2.0
#: Decimals kept in WGS84 coordinates (1e-5 degree is about 1 m).
COORD_DECIMALS = 5

_EXCEEDED = "#b2182b"
_INCOMPLETE = "#bdbdbd"
_BUDGET_PALETTE = ("#ffffcc", "#d9f0a3", "#addd8e", "#78c679", "#41ab5d", "#238443", "#005a32")
_NICE_EDGES = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0)
_SCORE_PALETTE = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
_ORIGIN_COLOURS = {
    ORIGIN_ZAE_PLOT: "#1f78b4",
    ORIGIN_FRICHE: "#8c510a",
    ORIGIN_ACTIVITY_ZONE: "#6a3d9a",
}
_FRICHE_COLOURS = {
    "friche sans projet": "#e66101",
    "friche potentielle": "#fdb863",
    "friche avec projet": "#b2abd2",
    "site avec projet": "#b2abd2",
    "friche reconvertie": "#5e3c99",
}
_CONSTRAINT_STYLE = {
    "ppri_red": ("#e31a1c", ("ppri_red",), True),
    "ppri_blue": ("#1f78b4", ("ppri_blue",), True),
    "natura2000": ("#33a02c", ("natura2000",), True),
    "znieff": ("#b15928", ("znieff1", "znieff2"), False),
}
_CONSTRAINT_KIND_FR = {
    "ppri_red": "PPRI zone rouge",
    "ppri_blue": "PPRI zone bleue",
    "natura2000": "Natura 2000",
    "znieff1": "ZNIEFF de type 1",
    "znieff2": "ZNIEFF de type 2",
}
_EFFECT_FR = {"exclude": "exclut le terrain", "penalise": "pénalise le terrain"}
_INFRA_STYLE = {
    "interchange": ("#e31a1c", "échangeur autoroutier"),
    "motorway": ("#e31a1c", "autoroute"),
    "rail_line": ("#404040", "voie ferrée"),
    "rail_freight": ("#000000", "gare ou embranchement fret"),
    "substation": ("#ff7f00", "poste électrique"),
    "power_line": ("#ff7f00", "ligne électrique"),
    "port": ("#1f78b4", "port"),
    "other": ("#737373", "autre"),
}
_SECTOR_PALETTE = (
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#17becf",
    "#bcbd22",
    "#666666",
)
_COLUMN_LABELS = {
    UnitCol.COMPLETENESS: "complétude des données",
    UnitCol.ENAF_SHARE: "part ENAF",
    UnitCol.NET_AREA_HA: "surface nette, ha",
    UnitCol.COMPACTNESS: "compacité",
    UnitCol.SLOPE_MEAN_PCT: "pente moyenne, %",
    "score": "score",
}
_POPUP_STYLE = "max-width:380px;font:12px/1.35 sans-serif"
_PANEL_CSS = (
    "position:fixed;z-index:1000;background:rgba(255,255,255,.94);padding:6px 10px;"
    "border:1px solid #999;border-radius:4px;font:12px/1.35 sans-serif;"
)
_POOL_FR = {"commune": "par commune", "epci": "mutualisés par EPCI", "scot": "mutualisés par SCoT"}
#: Leaflet panes, bottom to top: a layer switched off and on again stays at its level.
_PANES = {
    "communes": 405,
    "constraints": 410,
    "sites": 415,
    "units": 430,
    "placements": 440,
    "infrastructure": 450,
}
_LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/"


# -- geometry and GeoJSON ----------------------------------------------------------------


def _coverage_simplified(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Simplify polygons sharing boundaries together when they form a coverage."""
    if tolerance_m <= 0 or len(geoms) == 0:
        return geoms
    if bool(shapely.coverage_is_valid(geoms)):
        return np.asarray(shapely.coverage_simplify(geoms, tolerance_m))
    # Overlapping or gapped communes: simplify each one (edges may then differ by < tolerance).
    return np.asarray(shapely.simplify(geoms, tolerance_m, preserve_topology=True))


def _feature_collection(
    gdf: gpd.GeoDataFrame,
    properties: pd.DataFrame,
    *,
    tolerance_m: float = POLYGON_TOLERANCE_M,
    coverage: bool = False,
    points: bool = False,
) -> dict[str, Any]:
    """GeoJSON of ``gdf`` in WGS84, simplified and rounded, with ``properties``."""
    geoms = gdf.geometry.to_numpy()
    if points:
        geoms = shapely.point_on_surface(geoms)
    elif coverage:
        geoms = _coverage_simplified(geoms, tolerance_m)
    elif tolerance_m > 0:
        geoms = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    wgs = gpd.GeoSeries(geoms, crs=gdf.crs).to_crs(4326).to_numpy()
    wgs = shapely.transform(wgs, lambda xy: np.round(xy, COORD_DECIMALS))
    frame = gpd.GeoDataFrame(
        properties.reset_index(drop=True).astype(object), geometry=wgs, crs=4326
    )
    frame = frame[~frame.geometry.is_empty & frame.geometry.notna()]
    collection: dict[str, Any] = json.loads(frame.to_json(drop_id=True, na="null"))
    return collection


def _bounds_wgs84(gdf: gpd.GeoDataFrame) -> list[list[float]]:
    x0, y0, x1, y1 = (
        gpd.GeoSeries([shapely.box(*gdf.total_bounds)], crs=gdf.crs).to_crs(4326)[0].bounds
    )
    return [[y0, x0], [y1, x1]]


# -- texts ---------------------------------------------------------------------------------


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _ha(value: Any, decimals: int = 1) -> str:
    return fr_number(float(value) if value is not None else float("nan"), decimals, "ha")


def _pct(value: Any) -> str:
    return fr_number(float(value) * 100.0 if value is not None else float("nan"), 0, "%")


def _km(value: Any) -> str:
    return fr_number(float(value) if value is not None else float("nan"), 1, "km")


def _table(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{k}</th><td>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table>{body}</table>"


def _popup(title: str, rows: Sequence[tuple[str, str]], extra: str = "") -> str:
    return f"<div style='{_POPUP_STYLE}'><b>{_esc(title)}</b>{_table(rows)}{extra}</div>"


def _rules_line(budgets: pd.DataFrame) -> str:
    rules = budgets.attrs.get("rules", "?")
    version = budgets.attrs.get("rules_version", "")
    pool = str(budgets.attrs.get("pool", ""))
    text = f"règles ZAN {rules}" + (f" (version {version})" if version else "")
    return text + (f", budgets {_POOL_FR.get(pool, pool)}" if pool else "")


# -- communes ------------------------------------------------------------------------------


def _budget_bins(remaining: pd.Series) -> list[float]:
    top = float(remaining.max()) if remaining.notna().any() else 1.0
    edges = [e for e in _NICE_EDGES if e < top]
    edges.append(next((e for e in _NICE_EDGES if e >= top), top))
    return edges[-(len(_BUDGET_PALETTE) + 1) :] if len(edges) > len(_BUDGET_PALETTE) else edges


def _budget_colour(value: float, status: str, bins: list[float]) -> str:
    if status == "incomplete" or np.isnan(value):
        return _INCOMPLETE
    if status == "exceeded" or value < 0:
        return _EXCEEDED
    k = int(np.searchsorted(bins, value, side="right")) - 1
    k = min(max(k, 0), len(bins) - 2)
    return _BUDGET_PALETTE[k]


def _unknown_budgets(communes: pd.DataFrame) -> pd.DataFrame:
    """Budget rows of communes without ENAF data: every figure unknown."""
    insee = communes[Col.INSEE].astype(str).to_numpy()
    nan = np.full(len(insee), np.nan)
    table = pd.DataFrame(
        {
            "pool_id": insee,
            "name": communes[Col.NAME].astype(str).to_numpy(),
            "envelope_ha": nan,
            "consumed_ha": nan,
            "committed_ha": nan,
            "remaining_ha": nan,
            "status": "incomplete",
        }
    )
    table.attrs.update(rules="aucune (pas de données ENAF)", rules_version="", pool="commune")
    return table


def _commune_budgets(
    territory: Any, budgets: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Budget table, and the budget row of each commune (its pool's row when pooled)."""
    if budgets is not None:
        table = budgets
    elif territory.enaf_consumption.empty:
        table = _unknown_budgets(territory.communes)
    else:
        table = budget_table(territory, pool="commune")
    needed = ("pool_id", "envelope_ha", "consumed_ha", "remaining_ha", "status")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        msg = (
            f"budgets must be a table of foncier.zan.budget_table; the column(s) {missing} "
            f"are missing (received {list(table.columns)})"
        )
        raise LayerSchemaError(msg)
    communes = territory.communes
    pool = str(table.attrs.get("pool", "commune"))
    ids = pool_ids(communes, pool)
    rows = table.set_index("pool_id").reindex(ids.to_numpy())
    rows.index = ids.index
    rows["pool_id"] = ids.to_numpy()
    return table, rows


def _commune_layer(territory: Any, budgets: pd.DataFrame | None) -> tuple[folium.GeoJson, str]:
    table, rows = _commune_budgets(territory, budgets)
    communes = territory.communes
    insee = communes[Col.INSEE].astype(str).to_numpy()
    row = rows.reindex(insee)
    remaining = row["remaining_ha"].astype(float)
    status = row["status"].fillna("incomplete").astype(str)
    bins = _budget_bins(remaining[remaining >= 0])
    pool = str(table.attrs.get("pool", "commune"))
    popups, tips, fills = [], [], []
    for code, name, r, rem, st in zip(
        insee, communes[Col.NAME].astype(str), row.itertuples(), remaining, status, strict=True
    ):
        figures = [
            ("Enveloppe 2021-2031", _ha(r.envelope_ha)),
            ("Consommé depuis 2021", _ha(r.consumed_ha)),
        ]
        if float(getattr(r, "committed_ha", 0.0) or 0.0) > 0:
            figures.append(("Engagé (projets décidés)", _ha(r.committed_ha)))
        placed = getattr(r, "consumed_by_placements_ha", None)
        if placed is not None and not np.isnan(placed):
            figures.append(("ENAF des projets placés", _ha(placed, 2)))
        figures += [
            ("Reste" if placed is None else "Reste après le scénario", _ha(rem)),
            ("Statut", _esc(STATUS_LABELS.get(st, st))),
        ]
        if pool != "commune":
            figures.insert(0, ("Budget mutualisé", _esc(r.name)))
        popups.append(_popup(f"{name} ({code})", figures))
        tips.append(f"{_esc(name)} : reste {_ha(rem)}")
        fills.append(_budget_colour(rem, st, bins))
    props = pd.DataFrame(
        {
            "insee": insee,
            "name": communes[Col.NAME].astype(str).to_numpy(),
            "remaining_ha": remaining.round(4).to_numpy(),
            "status": status.to_numpy(),
            "fill": fills,
            "tooltip": tips,
            "popup": popups,
        }
    )
    data = _feature_collection(communes, props, tolerance_m=COMMUNE_TOLERANCE_M, coverage=True)
    layer = folium.GeoJson(
        data,
        name=LAYER_NAMES["communes"],
        pane=_pane("communes"),
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.55,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(["tooltip"], labels=False),
        popup=folium.GeoJsonPopup(["popup"], labels=False),
        zoom_on_click=False,
    )
    after = "consumed_by_placements_ha" in table.columns
    return layer, _budget_legend(bins, status, after=after)


def _swatch(colour: str, label: str, line: bool = False) -> str:
    shape = "height:3px;margin-bottom:4px" if line else "height:11px;opacity:.85"
    return (
        f"<div><span style='display:inline-block;width:14px;{shape};background:{colour};"
        f"border:1px solid #777;margin-right:5px'></span>{label}</div>"
    )


def _budget_legend(bins: list[float], status: pd.Series, *, after: bool = False) -> str:
    items = [
        _swatch(_BUDGET_PALETTE[k], f"{fr_number(lo, 1)} – {fr_number(hi, 1)} ha")
        for k, (lo, hi) in enumerate(zip(bins[:-1], bins[1:], strict=True))
    ]
    n_over = int((status == "exceeded").sum())
    items.append(
        _swatch(_EXCEEDED, f"enveloppe dépassée ({n_over} commune{'s' if n_over > 1 else ''})")
    )
    if (status == "incomplete").any():
        items.append(_swatch(_INCOMPLETE, "données incomplètes"))
    title = "Budget ZAN restant 2021-2031" + (" après le scénario" if after else "")
    return f"<b>{title}</b>" + "".join(items)


# -- land units ----------------------------------------------------------------------------


def _unit_popup(r: Any, commune: str) -> str:
    net = float(r.net_area_ha)
    share = getattr(r, UnitCol.ENAF_SHARE, np.nan)
    share = 1.0 if share is None or np.isnan(share) else float(share)
    rows = [
        ("Commune", _esc(commune)),
        ("Origine", _esc(ORIGIN_LABELS.get(r.origin, r.origin))),
        ("Surface nette", _ha(net, 2)),
        (
            "Coût ZAN",
            f"{_ha(net * share, 2)} d'ENAF si toute la surface est bâtie (part ENAF {_pct(share)})",
        ),
        ("Zone", _esc(getattr(r, Col.ZONE_TYPE, "") or "n.d.")),
        ("Viabilisation", _esc(getattr(r, Col.SERVICING_STAGE, "") or "n.d.")),
        ("Complétude des données", _pct(getattr(r, UnitCol.COMPLETENESS, np.nan))),
    ]
    criteria = [
        ("pente moyenne", fr_number(getattr(r, UnitCol.SLOPE_MEAN_PCT, np.nan), 1, "%")),
        ("échangeur", _km(getattr(r, UnitCol.DIST_INTERCHANGE_KM, np.nan))),
        ("fret ferroviaire", _km(getattr(r, UnitCol.DIST_RAIL_FREIGHT_KM, np.nan))),
        ("poste électrique", _km(getattr(r, UnitCol.DIST_SUBSTATION_KM, np.nan))),
        ("habitations", _km(getattr(r, UnitCol.DIST_HOUSING_KM, np.nan))),
        ("zone inondable", _pct(getattr(r, UnitCol.FLOOD_SHARE, np.nan))),
        ("Natura 2000", _pct(getattr(r, UnitCol.NATURA2000_SHARE, np.nan))),
        ("compacité", fr_number(getattr(r, UnitCol.COMPACTNESS, np.nan), 2)),
    ]
    extra = "<div><i>Critères</i> : " + " ; ".join(f"{k} {v}" for k, v in criteria) + "</div>"
    return _popup(f"Unité foncière {r.unit_id}", rows, extra)


def _numeric_bins(values: pd.Series) -> list[float]:
    lo, hi = float(values.min()), float(values.max())
    if not np.isfinite(lo) or hi <= lo:
        return [lo if np.isfinite(lo) else 0.0, (hi if np.isfinite(hi) else 0.0) + 1.0]
    return list(np.linspace(lo, hi, len(_SCORE_PALETTE) + 1))


def _unit_layer(
    territory: Any, units: gpd.GeoDataFrame, colour_by: str
) -> tuple[folium.GeoJson, str]:
    names = dict(
        zip(
            territory.communes[Col.INSEE].astype(str),
            territory.communes[Col.NAME].astype(str),
            strict=True,
        )
    )
    if colour_by == UnitCol.ORIGIN:
        fills = units[UnitCol.ORIGIN].map(_ORIGIN_COLOURS).fillna("#737373")
        present = [o for o in _ORIGIN_COLOURS if o in set(units[UnitCol.ORIGIN])]
        legend = "<b>Unités foncières (origine)</b>" + "".join(
            _swatch(_ORIGIN_COLOURS[o], ORIGIN_LABELS[o]) for o in present
        )
    else:
        if colour_by not in units.columns:
            msg = (
                f"colour_by must be 'origin' or a numeric column of the land units; "
                f"received {colour_by!r}, columns are {list(units.columns)}"
            )
            raise LayerSchemaError(msg)
        values = pd.to_numeric(units[colour_by], errors="coerce")
        bins = _numeric_bins(values)
        k = np.clip(np.searchsorted(bins, values.to_numpy(), side="right") - 1, 0, len(bins) - 2)
        fills = pd.Series(np.array(_SCORE_PALETTE)[k], index=units.index).where(
            values.notna(), _INCOMPLETE
        )
        label = _COLUMN_LABELS.get(colour_by, colour_by)
        legend = f"<b>Unités foncières ({_esc(label)})</b>" + "".join(
            _swatch(_SCORE_PALETTE[i], f"{fr_number(lo, 2)} – {fr_number(hi, 2)}")
            for i, (lo, hi) in enumerate(zip(bins[:-1], bins[1:], strict=True))
        )
    communes = units[Col.INSEE].astype(str).map(names).fillna("")
    popups = [_unit_popup(r, c) for r, c in zip(units.itertuples(), communes, strict=True)]
    tips = [
        f"{_esc(u)} : {_ha(a, 2)} nets, {_esc(ORIGIN_LABELS.get(o, o))}"
        for u, a, o in zip(
            units[UnitCol.UNIT_ID], units[UnitCol.NET_AREA_HA], units[UnitCol.ORIGIN], strict=True
        )
    ]
    props = pd.DataFrame(
        {
            "unit_id": units[UnitCol.UNIT_ID].astype(str).to_numpy(),
            "origin": units[UnitCol.ORIGIN].astype(str).to_numpy(),
            "net_area_ha": units[UnitCol.NET_AREA_HA].astype(float).round(4).to_numpy(),
            "fill": fills.to_numpy(),
            "tooltip": tips,
            "popup": popups,
        }
    )
    layer = folium.GeoJson(
        _feature_collection(units, props),
        name=LAYER_NAMES["units"],
        pane=_pane("units"),
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": f["properties"]["fill"],
            "weight": 1.5,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(["tooltip"], labels=False),
        popup=folium.GeoJsonPopup(["popup"], labels=False),
        zoom_on_click=False,
    )
    return layer, legend


# -- context layers ------------------------------------------------------------------------


def _simple_layer(
    gdf: gpd.GeoDataFrame,
    name: str,
    popups: Sequence[str],
    tips: Sequence[str],
    style: Callable[[dict[str, Any]], dict[str, Any]],
    fills: Sequence[str] | str,
    *,
    pane: str,
    show: bool = True,
    points: bool = False,
) -> folium.GeoJson:
    props = pd.DataFrame(
        {
            "fill": [fills] * len(gdf) if isinstance(fills, str) else list(fills),
            "tooltip": list(tips),
            "popup": list(popups),
        }
    )
    kwargs: dict[str, Any] = {}
    if points:
        kwargs["marker"] = _circle(6, 0.9, pane)
    return folium.GeoJson(
        _feature_collection(gdf, props, points=points),
        name=name,
        show=show,
        pane=_pane(pane),
        style_function=style,
        tooltip=folium.GeoJsonTooltip(["tooltip"], labels=False),
        popup=folium.GeoJsonPopup(["popup"], labels=False),
        zoom_on_click=False,
        **kwargs,
    )


def _area_style(weight: float, fill_opacity: float, dash: str | None = None) -> Callable[..., Any]:
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


def _zae_layer(territory: Any) -> folium.GeoJson | None:
    zae = territory.zae
    if zae.empty:
        return None
    popups = [
        _popup(
            str(n),
            [
                ("Identifiant", _esc(s)),
                ("Commune", _esc(i)),
                ("Surface brute", _ha(b)),
                ("Surface utile", _ha(u)),
            ],
        )
        for n, s, i, b, u in zip(
            zae[Col.NAME],
            zae[Col.SITE_ID],
            zae[Col.INSEE],
            zae[Col.SURF_BRUTE_HA],
            zae[Col.SURF_UTILE_HA],
            strict=True,
        )
    ]
    return _simple_layer(
        zae,
        LAYER_NAMES["zae"],
        popups,
        [_esc(n) for n in zae[Col.NAME]],
        _area_style(2, 0.05, "6 4"),
        "#1f78b4",
        pane="sites",
    )


def _friche_layer(territory: Any) -> tuple[folium.GeoJson | None, str]:
    friches = territory.friches
    if friches.empty:
        return None, ""
    status = friches[Col.STATUS].astype(str)
    pollution = (
        friches[Col.POLLUTION] if Col.POLLUTION in friches else pd.Series("", index=friches.index)
    )
    area = shapely.area(friches.geometry.to_numpy()) / 1e4
    popups = [
        _popup(
            str(n), [("Statut", _esc(s)), ("Pollution", _esc(p or "n.d.")), ("Surface", _ha(a, 2))]
        )
        for n, s, p, a in zip(friches[Col.NAME], status, pollution.fillna(""), area, strict=True)
    ]
    layer = _simple_layer(
        friches,
        LAYER_NAMES["friches"],
        popups,
        [f"{_esc(n)} ({_esc(s)})" for n, s in zip(friches[Col.NAME], status, strict=True)],
        _area_style(2, 0.5),
        status.map(_FRICHE_COLOURS).fillna("#737373").tolist(),
        pane="sites",
    )
    legend = "<b>Friches</b>" + "".join(
        _swatch(_FRICHE_COLOURS[s], _esc(s)) for s in _FRICHE_COLOURS if s in set(status)
    )
    return layer, legend


def _constraint_layers(territory: Any) -> list[folium.GeoJson]:
    constraints = territory.constraints
    layers = []
    for key, (colour, kinds, show) in _CONSTRAINT_STYLE.items():
        part = constraints[constraints[Col.KIND].isin(kinds)]
        if part.empty:
            continue
        names = part[Col.NAME] if Col.NAME in part else part[Col.CONSTRAINT_ID]
        popups = [
            _popup(
                str(n),
                [("Type", _CONSTRAINT_KIND_FR.get(k, k)), ("Effet", _EFFECT_FR.get(e, _esc(e)))],
            )
            for n, k, e in zip(names.fillna(""), part[Col.KIND], part[Col.EFFECT], strict=True)
        ]
        layers.append(
            _simple_layer(
                part,
                LAYER_NAMES[key],
                popups,
                [_esc(n) for n in names.fillna("")],
                _area_style(1, 0.3),
                colour,
                pane="constraints",
                show=show,
            )
        )
    return layers


def _infrastructure_layers(territory: Any) -> list[folium.FeatureGroup]:
    infra = territory.infrastructure
    if infra.empty:
        return []
    kind = infra[Col.KIND].astype(str)
    names = infra[Col.NAME] if Col.NAME in infra else infra[Col.INFRA_ID]
    fills = kind.map({k: c for k, (c, _) in _INFRA_STYLE.items()}).fillna("#737373")
    labels = kind.map({k: lab for k, (_, lab) in _INFRA_STYLE.items()}).fillna(kind)
    popups = [_popup(str(n), [("Type", _esc(lab))]) for n, lab in zip(names, labels, strict=True)]
    tips = [f"{_esc(n)} ({_esc(lab)})" for n, lab in zip(names, labels, strict=True)]
    point = shapely.get_type_id(infra.geometry.to_numpy()) == shapely.GeometryType.POINT
    group = folium.FeatureGroup(name=LAYER_NAMES["infrastructure"])
    style = _area_style(3, 0.9)
    for mask, points in ((~point, False), (point, True)):
        if mask.any():
            _simple_layer(
                infra[mask],
                LAYER_NAMES["infrastructure"],
                [p for p, m in zip(popups, mask, strict=True) if m],
                [t for t, m in zip(tips, mask, strict=True) if m],
                style,
                fills[mask].tolist(),
                pane="infrastructure",
                points=points,
            ).add_to(group)
    return [group]


# -- assembly ------------------------------------------------------------------------------


def _pane(name: str) -> str:
    return f"foncier_{name}"


def _circle(radius: float, fill_opacity: float, pane: str) -> folium.CircleMarker:
    marker = folium.CircleMarker(radius=radius, fill=True, fill_opacity=fill_opacity, weight=1)
    marker.options["pane"] = _pane(pane)  # path_options() drops it
    return marker


def _figure(m: folium.Map) -> Figure:
    return cast(Figure, m.get_root())


def _new_map(territory: Any, inline_assets: bool) -> folium.Map:
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    folium.TileLayer(
        "OpenStreetMap", name=LAYER_NAMES["tiles"], attr="© contributeurs OpenStreetMap"
    ).add_to(m)
    m.default_js = [("leaflet", _LEAFLET_CDN + "leaflet.js")]
    m.default_css = [("leaflet_css", _LEAFLET_CDN + "leaflet.css")]
    if inline_assets:
        m.default_js, m.default_css = [], []
        folder = resources.files("foncier") / "templates" / "leaflet"
        css = (folder / "leaflet.css").read_text(encoding="utf-8")
        js = (folder / "leaflet.js").read_text(encoding="utf-8")
        root = _figure(m)
        root.header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css")
        root.header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet")
    root = _figure(m)
    root.header.add_child(folium.Element('<meta charset="utf-8">'), name="charset")
    root.header.add_child(
        folium.Element(f"<title>{_esc(territory.name)} : carte foncier / ZAN</title>"), name="title"
    )
    for name, z_index in _PANES.items():
        folium.map.CustomPane(_pane(name), z_index=z_index, pointer_events=True).add_to(m)
    communes = territory.communes
    if not communes.empty:
        m.fit_bounds(_bounds_wgs84(communes))
    return m


def _panel(m: folium.Map, body: str, position: str, name: str) -> None:
    style = _PANEL_CSS + position
    div = f"<div id='foncier-{name}' class='foncier-panel' style='{style}'>{body}</div>"
    _figure(m).html.add_child(folium.Element(div), name=name)


def _title(territory: Any, subtitle: str, rules_line: str) -> str:
    synthetic = (
        "<div style='color:#b2182b'><b>Échantillon synthétique : données fictives</b></div>"
        if territory.synthetic
        else ""
    )
    return (
        f"<div style='font-size:14px'><b>{_esc(subtitle)}</b></div>"
        f"<div>{_esc(territory.data_label)}, {_esc(rules_line)}</div>{synthetic}"
    )


def _base_layers(
    m: folium.Map,
    territory: Any,
    units: gpd.GeoDataFrame | None,
    budgets: pd.DataFrame | None,
    colour_by: str,
) -> tuple[list[str], pd.DataFrame]:
    """Add the base layers; return the legend blocks and the budget table."""
    from foncier.supply import land_units

    table, _ = _commune_budgets(territory, budgets)
    legends: list[str] = []
    if not territory.communes.empty:
        layer, legend = _commune_layer(territory, table)
        layer.add_to(m)
        legends.append(legend)
    for extra in _constraint_layers(territory):
        extra.add_to(m)
    zae = _zae_layer(territory)
    if zae is not None:
        zae.add_to(m)
    friches, friche_legend = _friche_layer(territory)
    if friches is not None:
        friches.add_to(m)
        legends.append(friche_legend)
    units = units if units is not None else land_units(territory)
    if not units.empty:
        layer, legend = _unit_layer(territory, units, colour_by)
        layer.add_to(m)
        legends.append(legend)
    for group in _infrastructure_layers(territory):
        group.add_to(m)
    legends.append(_context_legend(territory))
    return legends, table


def _context_legend(territory: Any) -> str:
    """Legend of the constraint and infrastructure layers present."""
    kinds = set(territory.constraints[Col.KIND].astype(str))
    items = [
        _swatch(colour, LAYER_NAMES[key])
        for key, (colour, members, _) in _CONSTRAINT_STYLE.items()
        if kinds & set(members)
    ]
    present = set(territory.infrastructure[Col.KIND].astype(str))
    items += [
        _swatch(c, label, line=True) for k, (c, label) in _INFRA_STYLE.items() if k in present
    ]
    return "<b>Contraintes et infrastructures</b>" + "".join(items) if items else ""


def _finish(m: folium.Map, territory: Any, title: str, legends: list[str]) -> folium.Map:
    _panel(m, title, "top:10px;left:50px;max-width:45%;", "title")
    _panel(
        m,
        "<br>".join(block for block in legends if block),
        "bottom:48px;left:10px;max-height:50vh;overflow:auto;",
        "legend",
    )
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def territory_map(
    territory: Any,
    units: gpd.GeoDataFrame | None = None,
    budgets: pd.DataFrame | None = None,
    *,
    colour_by: str = UnitCol.ORIGIN,
    inline_assets: bool = False,
) -> folium.Map:
    """Map of a territory: ZAN budgets left per commune and the land available.

    Layers (French names, see :data:`LAYER_NAMES`): communes coloured by
    remaining 2021-2031 ZAN budget (legend in ha, a red for "enveloppe
    dépassée", grey for incomplete data; popup: enveloppe, consommé depuis
    2021, engagé, reste, statut), land units (by origin or by a numeric
    column; popup: surface nette, coût ZAN, criteria, completeness), ZAE,
    friches by status, PPRI red and blue zones, Natura 2000, ZNIEFF (hidden
    at first) and infrastructure.  The title names the data label, the rule
    set and the data vintage.  See the module docstring for size limits.

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
    m = _new_map(territory, inline_assets)
    legends, table = _base_layers(m, territory, units, budgets, colour_by)
    title = _title(territory, "Budget ZAN restant et foncier disponible", _rules_line(table))
    return _finish(m, territory, title, legends)


# -- scenario ------------------------------------------------------------------------------


def _sector_colours(sectors: pd.Series) -> dict[str, str]:
    names = sorted(set(sectors.dropna().astype(str)))
    return {s: _SECTOR_PALETTE[i % len(_SECTOR_PALETTE)] for i, s in enumerate(names)}


def _placement_rows(
    assignments: pd.DataFrame, projects: pd.DataFrame, contributions: pd.DataFrame | None
) -> pd.DataFrame:
    """Assignments with project name and sector, and their score contributions as text."""
    info = projects.drop(columns=Col.GEOMETRY, errors="ignore").set_index(Col.PROJECT_ID)
    rows = assignments.copy()
    for col in (Col.NAME, Col.SECTOR, Col.INVESTMENT_EUR):
        if col not in rows.columns:
            rows[col] = rows[Col.PROJECT_ID].map(info[col]) if col in info else ""
    rows["contributions"] = ""
    needed = {Col.PROJECT_ID, UnitCol.UNIT_ID, "label", "contribution"}
    if contributions is not None and needed <= set(contributions.columns) and len(rows):
        shown = contributions[contributions["contribution"].abs() > 5e-3].sort_values(
            "contribution", ascending=False, kind="stable"
        )
        parts = (
            shown["label"].astype(str).map(_esc)
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


def _placement_html(p: Any) -> str:
    rows = [
        ("Secteur", _esc(getattr(p, Col.SECTOR, ""))),
        ("Surface", _ha(p.area_ha, 2)),
        ("Emplois", fr_number(float(p.jobs), 0)),
        ("Coût ZAN", _esc(getattr(p, "zan_cost", "") or _ha(p.enaf_ha, 2))),
        ("Pourquoi ici", _esc(getattr(p, "explanation", ""))),
    ]
    if getattr(p, "contributions", ""):
        rows.append(("Contributions au score", p.contributions))
    return f"<b>{_esc(p.project_id)} : {_esc(getattr(p, Col.NAME, ''))}</b>{_table(rows)}"


def _placement_style(points: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def style(feature: dict[str, Any]) -> dict[str, Any]:
        fill = feature["properties"]["fill"]
        if points:
            return {"fillColor": fill, "color": "#000000", "weight": 1, "fillOpacity": 1.0}
        return {"fillColor": fill, "color": fill, "weight": 4, "fillOpacity": 0.35}

    return style


def _placements_layer(
    units: gpd.GeoDataFrame, placements: pd.DataFrame, colours: Mapping[str, str]
) -> folium.FeatureGroup:
    """One feature per unit hosting projects, outlined in the sector of its largest project."""
    ordered = placements.sort_values("area_ha", ascending=False, kind="stable")
    html_of = ordered.assign(html=[_placement_html(p) for p in ordered.itertuples()])
    by_unit = html_of.groupby(UnitCol.UNIT_ID, sort=True).agg(
        html=("html", "<hr>".join),
        sector=(Col.SECTOR, "first"),
        n=(Col.PROJECT_ID, "size"),
        area=("area_ha", "sum"),
        enaf=("enaf_ha", "sum"),
        jobs=(Col.JOBS, "sum"),
        projects=(Col.PROJECT_ID, ", ".join),
    )
    hosts = units.set_index(UnitCol.UNIT_ID).loc[by_unit.index].reset_index()
    popups = [
        f"<div style='{_POPUP_STYLE}'><b>Unité {_esc(u)}</b> : {n} projet{'s' if n > 1 else ''}, "
        f"{_ha(a, 2)}, {_ha(e, 2)} d'ENAF<hr>{h}</div>"
        for u, n, a, e, h in zip(
            by_unit.index,
            by_unit["n"],
            by_unit["area"],
            by_unit["enaf"],
            by_unit["html"],
            strict=True,
        )
    ]
    tips = [
        f"{_esc(u)} : {_esc(p)}" for u, p in zip(by_unit.index, by_unit["projects"], strict=True)
    ]
    fills = by_unit["sector"].astype(str).map(colours).fillna("#737373").tolist()
    group = folium.FeatureGroup(name=LAYER_NAMES["placements"])
    for points in (False, True):
        props = pd.DataFrame(
            {
                "unit_id": by_unit.index.astype(str),
                "project_ids": by_unit["projects"].to_numpy(),
                "fill": fills,
                "tooltip": tips,
                "popup": popups,
            }
        )
        kwargs: dict[str, Any] = {}
        if points:
            kwargs["marker"] = _circle(5, 1.0, "placements")
        folium.GeoJson(
            _feature_collection(hosts, props, points=points),
            pane=_pane("placements"),
            style_function=_placement_style(points),
            tooltip=folium.GeoJsonTooltip(["tooltip"], labels=False),
            popup=folium.GeoJsonPopup(["popup"], labels=False),
            zoom_on_click=False,
            **kwargs,
        ).add_to(group)
    return group


def _unmatched_panel(unmatched: pd.DataFrame, projects: pd.DataFrame) -> str:
    names = dict(
        zip(projects[Col.PROJECT_ID].astype(str), projects[Col.NAME].astype(str), strict=True)
    )
    if unmatched.empty:
        return "<b>Projets non placés</b> : aucun"
    blocks = []
    codes = [c for c in REASON_LABELS if c in set(unmatched["reason_code"])]
    codes += sorted(set(unmatched["reason_code"].astype(str)) - set(codes))
    for code in codes:
        part = unmatched[unmatched["reason_code"] == code]
        items = "".join(
            f"<li><b>{_esc(pid)}</b> {_esc(names.get(str(pid), ''))} : {_esc(text)}"
            + (f" <i>(piste : {_esc(hint)})</i>" if isinstance(hint, str) and hint else "")
            + "</li>"
            for pid, text, hint in zip(
                part[Col.PROJECT_ID],
                part["explanation"].fillna(""),
                part["hint"] if "hint" in part else [""] * len(part),
                strict=True,
            )
        )
        blocks.append(
            f"<details><summary>{_esc(REASON_LABELS.get(code, code))} ({len(part)})</summary>"
            f"<ul style='padding-left:16px;margin:2px 0'>{items}</ul></details>"
        )
    return f"<b>Projets non placés ({len(unmatched)})</b>" + "".join(blocks)


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
    sector of the unit's largest project, with a marker so that small units
    stay visible; the popup lists each project placed there with its area,
    jobs, ZAN cost, why this unit and every criterion's contribution to its
    score.  A panel lists
    the unmatched projects grouped by reason, with what would unlock them.

    Parameters
    ----------
    territory
        The scenario's :class:`~foncier.territory.Territory`.
    result
        A scenario result with ``assignments`` (``project_id``, ``unit_id``,
        ``area_ha``, ``enaf_ha``, ``jobs``, ``zan_cost``, ``explanation``) and
        ``unmatched`` (``project_id``, ``reason_code``, ``explanation``,
        ``hint``) tables, optionally ``contributions`` (``project_id``,
        ``unit_id``, ``label``, ``contribution``) and ``placements`` (the
        assignments with their unit's geometry), e.g.
        :class:`foncier.scenarios.ScenarioResult`.
    units
        The land units the scenario used; computed when ``None``.
    budgets
        Budget table for the communes layer (see :func:`territory_map`);
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
    from foncier.supply import land_units

    units = units if units is not None else land_units(territory)
    hosts = _host_geometries(result, units)
    m = _new_map(territory, inline_assets)
    if budgets is None and getattr(result, "zan_balance", None) is not None:
        budgets = _balance_budgets(result)
    legends, table = _base_layers(m, territory, units, budgets, UnitCol.ORIGIN)
    placements = _placement_rows(
        result.assignments, territory.projects, getattr(result, "contributions", None)
    )
    if not placements.empty:
        colours = _sector_colours(placements[Col.SECTOR])
        _placements_layer(hosts, placements, colours).add_to(m)
        legends.insert(
            0,
            "<b>Implantations (secteur)</b>"
            + "".join(_swatch(c, _esc(s)) for s, c in colours.items()),
        )
    totals = getattr(result, "totals", {}) or {}
    n_placed = int(totals.get("projects_placed", len(placements)))
    n_all = int(totals.get("projects", len(territory.projects)))
    _panel(
        m,
        _unmatched_panel(result.unmatched, territory.projects),
        "bottom:30px;right:10px;max-width:34%;max-height:40vh;overflow:auto;",
        "unmatched",
    )
    name = (getattr(result, "audit", {}) or {}).get("name", "")
    subtitle = f"Scénario {name} : {n_placed} projets placés sur {n_all}".replace("  ", " ")
    title = _title(territory, subtitle, _rules_line(table))
    return _finish(m, territory, title, legends)


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


def map_html(m: folium.Map) -> str:
    """The complete HTML page of a map (what ``m.save`` writes).

    Parameters
    ----------
    m
        A map of :func:`territory_map` or :func:`scenario_map`.

    Returns
    -------
    str
        The page, UTF-8 text.
    """
    return str(m.get_root().render())
