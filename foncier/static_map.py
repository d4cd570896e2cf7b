"""The printable map of a scenario: a matplotlib figure for paper, in French.

The interactive map (:func:`foncier.maps.scenario_map`) is for a screen;
printed, its layer list, legend and panels hide the territory.  This map is
drawn for A4: the communes with their names, those over their envelope after
the scenario shaded, the placements coloured by sector with the colours of
:mod:`foncier.palette` (the same on every map), a legend, a metric scale bar
(matplotlib-scalebar), a north arrow and, on the generated sample, the words
"Échantillon synthétique".  Figures need no pyplot: drawing the map never
changes the user's matplotlib backend.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from foncier.layers import Col, TableCol, UnitCol
from foncier.maps.geojson import COMMUNE_TOLERANCE_M, coverage_simplified
from foncier.palette import EXCEEDED, SECTOR_COLOURS, sector_colour

__all__ = ["LANDSCAPE_RATIO", "is_landscape", "scenario_figure"]

#: A territory wider than high by this ratio is drawn on a landscape page.
LANDSCAPE_RATIO = 1.15
_PORTRAIT_IN = (7.2, 8.6)
_LANDSCAPE_IN = (10.4, 5.9)
#: Share of the figure's width given to the map; the legend takes the rest, on the right.
_MAP_WIDTH = 0.78
#: Beyond this many communes, their names are written smaller.
_MANY_COMMUNES = 50
_OVER_FILL = "#f4c7c3"
_COMMUNE_FILL = "#f7f7f7"


def is_landscape(bounds: Any) -> bool:
    """Whether a territory of ``bounds`` (minx, miny, maxx, maxy) fits a landscape page better."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    return (maxx - minx) > LANDSCAPE_RATIO * max(maxy - miny, 1.0)


def _over_communes(territory: Any, balance: pd.DataFrame, pool: str) -> np.ndarray:
    """Whether each commune belongs to a pool over its envelope after the scenario."""
    over = set(
        balance.loc[balance[TableCol.OVER_BUDGET].astype(bool), TableCol.POOL_ID].astype(str)
    )
    communes = territory.communes
    key = Col.INSEE if pool == "commune" else {"epci": Col.EPCI, "scot": Col.SCOT}.get(pool)
    if key is None or key not in communes.columns:
        return np.zeros(len(communes), dtype=bool)
    return communes[key].astype(str).isin(over).to_numpy()


def scenario_figure(territory: Any, result: Any, *, synthetic: bool = False) -> Figure:
    """The scenario's printable map.

    Parameters
    ----------
    territory
        The scenario's :class:`~foncier.territory.Territory` (its communes).
    result
        A :class:`foncier.scenarios.ScenarioResult` (its placements and ZAN
        balance).
    synthetic
        Write "Échantillon synthétique" on the map.

    Returns
    -------
    matplotlib.figure.Figure
        Sized for an A4 page, landscape when the territory is wide
        (:func:`is_landscape`).
    """
    from matplotlib_scalebar.scalebar import ScaleBar

    communes = territory.communes
    geoms = coverage_simplified(communes.geometry.to_numpy(), COMMUNE_TOLERANCE_M)
    landscape = is_landscape(communes.total_bounds)
    fig = Figure(figsize=_LANDSCAPE_IN if landscape else _PORTRAIT_IN)
    ax = fig.add_axes((0.0, 0.0, _MAP_WIDTH, 1.0))
    pool = str(result.audit.get("pool", "commune"))
    over = _over_communes(territory, result.zan_balance, pool)
    drawn = communes.set_geometry(list(geoms), crs=communes.crs)
    drawn.plot(
        ax=ax,
        color=np.where(over, _OVER_FILL, _COMMUNE_FILL).tolist(),
        edgecolor="#636363",
        linewidth=0.5,
    )
    places = result.placements
    sectors: list[str] = []
    if len(places):
        by_unit = (
            pd.DataFrame(places.drop(columns="geometry"))
            .assign(geometry=places.geometry.to_numpy())
            .sort_values(TableCol.AREA_HA, ascending=False, kind="stable")
            .drop_duplicates(UnitCol.UNIT_ID)
        )
        colours = [sector_colour(s) for s in by_unit[Col.SECTOR].astype(str)]
        shapes = gpd.GeoSeries(by_unit["geometry"].to_numpy(), crs=places.crs)
        shapes.plot(ax=ax, color=colours, edgecolor="#252525", linewidth=0.3)
        points = shapely.point_on_surface(shapes.to_numpy())
        ax.scatter(
            shapely.get_x(points),
            shapely.get_y(points),
            s=22,
            c=colours,
            edgecolors="#252525",
            linewidths=0.5,
            zorder=3,
        )
        present = set(places[Col.SECTOR].dropna().astype(str))
        sectors = [s for s in SECTOR_COLOURS if s in present] + sorted(
            present - set(SECTOR_COLOURS)
        )
    labels = shapely.point_on_surface(geoms)
    for x, y, name in zip(
        shapely.get_x(labels), shapely.get_y(labels), communes[Col.NAME].astype(str), strict=True
    ):
        ax.text(
            x,
            y + 250,
            name,
            fontsize=5.5 if len(communes) <= _MANY_COMMUNES else 4.5,
            ha="center",
            va="bottom",
            color="#252525",
            zorder=4,
        )
    handles: list[Any] = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=5,
            markerfacecolor=sector_colour(s),
            markeredgecolor="#252525",
            markeredgewidth=0.5,
            label=s,
        )
        for s in sectors
    ]
    if over.any():
        handles.append(
            Patch(facecolor=_OVER_FILL, edgecolor=EXCEEDED, label="Enveloppe ZAN dépassée")
        )
    if handles:
        legend = ax.legend(
            handles=handles,
            title="Projets placés, par secteur",
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            frameon=False,
            fontsize=6.5,
            title_fontsize=7,
        )
        legend.set_zorder(6)
    ax.add_artist(
        ScaleBar(
            1.0,
            "m",
            location="lower left",
            length_fraction=0.2,
            box_alpha=0.85,
            font_properties={"size": 7},
            scale_loc="top",
        )
    )
    ax.annotate(
        "N",
        xy=(0.965, 0.97),
        xytext=(0.965, 0.89),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 2.5, "headwidth": 8, "headlength": 7},
    )
    if synthetic:
        ax.text(
            0.01,
            0.985,
            "Échantillon synthétique : territoire et projets fictifs",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            fontweight="bold",
            color=EXCEEDED,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )
    ax.set_axis_off()
    ax.set_aspect("equal")
    minx, miny, maxx, maxy = communes.total_bounds
    pad = 0.03 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    return fig
