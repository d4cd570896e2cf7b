"""What a scenario adds to the map: its placements, and the panel of projects left out."""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from foncier._format import fr_number
from foncier.labels import (
    LAYER_NAMES,
    OWNER_KIND_LABELS,
    REASON_LABELS,
    collapsible,
    esc,
    ha,
    html_table,
    pct,
    popup_div,
)
from foncier.layers import Col, TableCol, UnitCol
from foncier.maps.layer import MapLayer, geojson_layer
from foncier.palette import SECTOR_COLOURS, sector_colour, swatch

__all__ = ["placements_layer", "unmatched_panel"]


def _placement_html(p: Any) -> str:
    rows = [
        ("Secteur", esc(getattr(p, Col.SECTOR, ""))),
        ("Surface", ha(p.area_ha, 2)),
        ("Emplois", fr_number(float(p.jobs), 0)),
        ("Coût ZAN", esc(getattr(p, TableCol.ZAN_COST, "") or ha(p.enaf_ha, 2))),
        ("Pourquoi ici", esc(getattr(p, TableCol.EXPLANATION, ""))),
    ]
    if getattr(p, "contributions", ""):
        rows.append(("Contributions au score", p.contributions))
    return f"<b>{esc(p.project_id)} : {esc(getattr(p, Col.NAME, ''))}</b>{html_table(rows)}"


def _parcel_list_html(parcels: pd.DataFrame) -> pd.Series:
    """Per project, its lot's parcels (``lot_parcels``) as French lines: area, owner kind, owner."""
    owner = parcels[Col.OWNER_ID].astype(object)
    line = (
        parcels[Col.IDU].astype(str).where(parcels[Col.IDU].astype(str) != "", "hors parcellaire")
        + " : "
        + [ha(v, 2) for v in parcels[TableCol.TAKEN_HA]]
        + parcels[TableCol.SPLIT].map({True: " (partie)", False: ""})
        + ", "
        + parcels[Col.OWNER_KIND].map(OWNER_KIND_LABELS).fillna("inconnu")
        + owner.where(owner.isna(), " (" + owner.astype(str) + ")").fillna("")
    )
    html = line.map(esc)
    return html.groupby(parcels[Col.PROJECT_ID].astype(str).to_numpy()).agg("<br>".join)


def _lot_html(p: Any, parcel_list: str | None = None) -> str:
    """What a lot says: its parcels (each with its area and owner when listed), owners, ENAF."""
    kinds = [
        OWNER_KIND_LABELS.get(k, k) for k in str(getattr(p, TableCol.OWNER_KINDS, "")).split("|")
    ]
    owners = getattr(p, TableCol.N_OWNERS, float("nan"))
    n = int(getattr(p, TableCol.N_PARCELS, 0))
    idus = str(getattr(p, UnitCol.IDUS, "") or "")
    rows = [
        ("Lot", ha(getattr(p, TableCol.LOT_AREA_HA), 2)
         + (" (une parcelle coupée)" if getattr(p, TableCol.SPLIT, False) else "")),
        ("Parcelles", f"{n} :<br>{parcel_list}" if n and parcel_list
         else f"{n} : {esc(idus.replace('|', ', '))}" if n else "hors parcellaire"),
        ("Propriétaires", (fr_number(float(owners), 0) + " ; " if owners == owners else "")
         + esc(", ".join(kinds))),
        ("Part publique", pct(getattr(p, TableCol.PUBLIC_SHARE))),
        ("ENAF du lot", f"{pct(getattr(p, UnitCol.ENAF_SHARE))} ({ha(p.enaf_ha, 2)})"),
    ]  # fmt: skip
    return _placement_html(p) + html_table(rows)


def _outline(feature: dict[str, Any]) -> dict[str, Any]:
    fill = feature["properties"]["fill"]
    return {"fillColor": fill, "color": fill, "weight": 3, "fillOpacity": 0.1, "dashArray": "4"}


def _lot(feature: dict[str, Any]) -> dict[str, Any]:
    fill = feature["properties"]["fill"]
    return {"fillColor": fill, "color": "#333333", "weight": 1, "fillOpacity": 0.6}


def _dot(feature: dict[str, Any]) -> dict[str, Any]:
    fill = feature["properties"]["fill"]
    return {"fillColor": fill, "color": "#000000", "weight": 1, "fillOpacity": 1.0}


def placements_layer(
    hosts: gpd.GeoDataFrame,
    placements: pd.DataFrame,
    *,
    lots: gpd.GeoDataFrame | None = None,
    parcels: pd.DataFrame | None = None,
) -> MapLayer:
    """Lots of the placed projects over the outline of their unit.

    Each host unit is drawn as its outline, in the sector colour of its
    largest project, and as a dot inside it so that small units stay
    visible; its popup lists every project placed there with its area,
    jobs, ZAN cost, why this unit and the score contributions.  Each lot is
    drawn over it in its project's sector colour, its popup giving the
    lot's figures (area, parcels, owners, public share, ENAF).

    Parameters
    ----------
    hosts
        ``unit_id`` and geometry of every unit named by ``placements``.
    placements
        One row per placed project: ``project_id``, ``unit_id``, ``name``,
        ``sector``, ``area_ha``, ``enaf_ha``, ``jobs``, optionally
        ``zan_cost``, ``explanation`` and ``contributions`` (HTML text), and
        the lot columns (``lot_area_ha``, ``idus``, ``n_parcels``,
        ``n_owners``, ``owner_kinds``, ``public_share``, ``enaf_share``, ``split``).
    lots
        ``project_id`` and geometry of each placement's lot; none drawn when ``None``.
    parcels
        The parcels of the lots (``lot_parcels`` table), listed in each lot's
        popup with the area taken and the owner; the lot's ``idus`` otherwise.

    Returns
    -------
    MapLayer
        One feature group and the legend of the sectors placed
        (:func:`foncier.palette.sector_colour`); none when nothing is placed.
    """
    if placements.empty:
        return MapLayer()
    ordered = placements.sort_values(TableCol.AREA_HA, ascending=False, kind="stable")
    html_of = ordered.assign(html=[_placement_html(p) for p in ordered.itertuples()])
    by_unit = html_of.groupby(UnitCol.UNIT_ID, sort=True).agg(
        html=("html", "<hr>".join),
        sector=(Col.SECTOR, "first"),
        n=(Col.PROJECT_ID, "size"),
        area=(TableCol.AREA_HA, "sum"),
        enaf=(TableCol.ENAF_HA, "sum"),
        projects=(Col.PROJECT_ID, ", ".join),
    )
    drawn = hosts.set_index(UnitCol.UNIT_ID).loc[by_unit.index].reset_index()
    popups = [
        popup_div(
            f"<b>Unité {esc(u)}</b> : {n} projet{'s' if n > 1 else ''}, "
            f"{ha(a, 2)}, {ha(e, 2)} d'ENAF<hr>{h}"
        )
        for u, n, a, e, h in zip(
            by_unit.index,
            by_unit["n"],
            by_unit["area"],
            by_unit["enaf"],
            by_unit["html"],
            strict=True,
        )
    ]
    props = {
        "unit_id": by_unit.index.astype(str),
        "project_ids": by_unit["projects"].to_numpy(),
        "fill": [sector_colour(s) for s in by_unit["sector"].astype(str)],
        "tooltip": [
            f"{esc(u)} : {esc(p)}" for u, p in zip(by_unit.index, by_unit["projects"], strict=True)
        ],
        "popup": popups,
    }
    group = folium.FeatureGroup(name=LAYER_NAMES["placements"])
    for points, style in ((False, _outline), (True, _dot)):
        geojson_layer(
            drawn, props, name=None, pane_name="placements", style=style, points=points, radius=5
        ).add_to(group)
    if lots is not None and len(lots):
        rows = ordered.set_index(ordered[Col.PROJECT_ID].astype(str))
        rows = rows.loc[lots[Col.PROJECT_ID].astype(str)]
        listed = (
            _parcel_list_html(parcels).to_dict() if parcels is not None and len(parcels) else {}
        )
        lot_props = {
            "project_id": rows.index.to_numpy(),
            "fill": [sector_colour(s) for s in rows[Col.SECTOR].astype(str)],
            "tooltip": [
                f"{esc(pid)} : lot de {ha(a, 2)}"
                for pid, a in zip(rows.index, rows[TableCol.LOT_AREA_HA], strict=True)
            ],
            "popup": [popup_div(_lot_html(p, listed.get(str(p.Index)))) for p in rows.itertuples()],
        }
        geojson_layer(lots, lot_props, name=None, pane_name="placements", style=_lot).add_to(group)
    present = set(placements[Col.SECTOR].dropna().astype(str))
    sectors = [s for s in SECTOR_COLOURS if s in present] + sorted(present - set(SECTOR_COLOURS))
    legend = "<b>Implantations (secteur)</b>" + "".join(
        swatch(sector_colour(s), esc(s)) for s in sectors
    )
    return MapLayer((group,), legend)


def unmatched_panel(unmatched: pd.DataFrame) -> MapLayer:
    """Panel of the projects left out, grouped by reason, with what would unlock them.

    Parameters
    ----------
    unmatched
        One row per project left out: ``project_id``, ``name``,
        ``reason_code``, ``explanation``, optionally ``hint``.

    Returns
    -------
    MapLayer
        No layer, the panel's HTML (collapsible, one collapsible block per reason).
    """
    if unmatched.empty:
        return MapLayer(panel_html="<b>Projets non placés</b> : aucun")
    names = (
        unmatched[Col.NAME].fillna("").astype(str)
        if Col.NAME in unmatched.columns
        else pd.Series("", index=unmatched.index)
    )
    hints = (
        unmatched[TableCol.HINT]
        if TableCol.HINT in unmatched.columns
        else pd.Series("", index=unmatched.index)
    )
    reasons = unmatched[TableCol.REASON_CODE].astype(str)
    codes = [c for c in REASON_LABELS if c in set(reasons)]
    codes += sorted(set(reasons) - set(codes))
    blocks = []
    for code in codes:
        part = reasons == code
        items = "".join(
            f"<li><b>{esc(pid)}</b> {esc(name)} : {esc(text)}"
            + (f" <i>(piste : {esc(hint)})</i>" if isinstance(hint, str) and hint else "")
            + "</li>"
            for pid, name, text, hint in zip(
                unmatched.loc[part, Col.PROJECT_ID],
                names[part],
                unmatched.loc[part, TableCol.EXPLANATION].fillna(""),
                hints[part],
                strict=True,
            )
        )
        blocks.append(
            f"<details><summary>{esc(REASON_LABELS.get(code, code))} ({int(part.sum())})"
            f"</summary><ul style='padding-left:16px;margin:2px 0'>{items}</ul></details>"
        )
    title = f"<b>Projets non placés ({len(unmatched)})</b>"
    return MapLayer(panel_html=collapsible(title, "".join(blocks)))
