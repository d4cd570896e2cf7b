"""The palette of every map and styled GeoPackage: colours and classes fixed in one place.

Fixed here once, so that two maps of a territory (two scenarios side by side,
a territory map and a scenario map) give a sector, a budget class, a friche
status or an origin the same colour.  Nothing here depends on the data drawn.
"""

from __future__ import annotations

import zlib

import numpy as np

from foncier._format import fr_compact
from foncier.layers import FRICHE_STATUSES, ORIGIN_ACTIVITY_ZONE, ORIGIN_FRICHE, ORIGIN_ZAE_PLOT

__all__ = [
    "BUDGET_BREAKS_HA",
    "BUDGET_PALETTE",
    "CONSUMPTION_BREAKS_HA",
    "CONSUMPTION_PALETTE",
    "EXCEEDED",
    "FRICHE_COLOURS",
    "INCOMPLETE",
    "SECTOR_COLOURS",
    "budget_class_labels",
    "budget_colour",
    "consumption_class_labels",
    "consumption_colour",
    "sector_colour",
    "swatch",
]

#: Lower bounds (ha) of the classes of remaining ZAN budget, the last one open-ended.
BUDGET_BREAKS_HA: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
#: Fill of each budget class, from the smallest remainder to the largest.
BUDGET_PALETTE = ("#ffffcc", "#d9f0a3", "#addd8e", "#78c679", "#41ab5d", "#238443", "#005a32")
#: Lower bounds (ha) of the classes of ENAF consumed per commune over a period (2011-2021).
CONSUMPTION_BREAKS_HA: tuple[float, ...] = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
#: Fill of each consumption class, from the smallest consumption to the largest.
CONSUMPTION_PALETTE = ("#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603")
#: Fill of a pool over its envelope, and of a pool without ENAF data.
EXCEEDED = "#b2182b"
INCOMPLETE = "#bdbdbd"
#: Fill of the classes of a numeric land-unit column (``colour_by``).
SCORE_PALETTE = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
#: Fill of features whose category has no colour of its own.
OTHER = "#737373"
ORIGIN_COLOURS = {
    ORIGIN_ZAE_PLOT: "#1f78b4",
    ORIGIN_FRICHE: "#8c510a",
    ORIGIN_ACTIVITY_ZONE: "#6a3d9a",
}
#: One colour per Cartofriches status (:data:`foncier.layers.FRICHE_STATUSES`).
FRICHE_COLOURS: dict[str, str] = dict(
    zip(FRICHE_STATUSES, ("#e66101", "#7b3294", "#1a9641", "#fdb863", "#4393c3"), strict=True)
)
ZAE_COLOUR = "#1f78b4"
#: Per constraint layer: its fill, the constraint kinds it draws, whether it shows at first.
CONSTRAINT_STYLE: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "ppri_red": ("#e31a1c", ("ppri_red",), True),
    "ppri_blue": ("#1f78b4", ("ppri_blue",), True),
    "natura2000": ("#33a02c", ("natura2000",), True),
    "znieff": ("#b15928", ("znieff1", "znieff2"), False),
}
INFRA_COLOURS = {
    "interchange": "#e31a1c",
    "motorway": "#e31a1c",
    "rail_line": "#404040",
    "rail_freight": "#000000",
    "substation": "#01665e",  # dark teal: the friche statuses use oranges and purple
    "power_line": "#01665e",
    "port": "#1f78b4",
    "other": OTHER,
}
#: One colour per sector of the projects' vocabulary (the sectors of :mod:`foncier.sample`).
SECTOR_COLOURS: dict[str, str] = {
    "logistique": "#377eb8",
    "agroalimentaire": "#4daf4a",
    "mécanique et métallurgie": "#984ea3",
    "chimie et matériaux": "#e41a1c",
    "énergie et hydrogène": "#ff7f00",
    "recyclage": "#a65628",
    "bois et construction": "#bcbd22",
    "textile": "#f781bf",
    "numérique et électronique": "#17becf",
    "artisanat de production": "#666666",
}
#: Colours of sectors outside the vocabulary, each picked by a hash of the sector's name.
_OTHER_SECTOR_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#08519c",
    "#6a51a3",
    "#99000d",
)
#: Leaflet panes, bottom to top: a layer switched off and on again stays at its level.
PANES = {
    "communes": 405,
    "constraints": 410,
    "sites": 415,
    "units": 430,
    "placements": 440,
    "infrastructure": 450,
    "labels": 460,
}


def sector_colour(sector: str) -> str:
    """Colour of a sector: its own in :data:`SECTOR_COLOURS`, else one fixed by its name.

    Examples
    --------
    >>> sector_colour("logistique")
    '#377eb8'
    >>> sector_colour("aéronautique") == sector_colour(" Aéronautique ")
    True
    """
    name = str(sector).strip().lower()
    if name in SECTOR_COLOURS:
        return SECTOR_COLOURS[name]
    index = zlib.crc32(name.encode("utf-8")) % len(_OTHER_SECTOR_PALETTE)
    return _OTHER_SECTOR_PALETTE[index]


def budget_colour(
    value: float, status: str, breaks: tuple[float, ...] | list[float] = BUDGET_BREAKS_HA
) -> str:
    """Fill of a pool with ``value`` ha left and ZAN ``status``, in the classes of ``breaks``.

    Examples
    --------
    >>> budget_colour(0.7, "on track") == BUDGET_PALETTE[1]
    True
    >>> budget_colour(-1.0, "exceeded") == EXCEEDED, budget_colour(float("nan"), "incomplete")
    (True, '#bdbdbd')
    """
    if status == "incomplete" or np.isnan(value):
        return INCOMPLETE
    if status == "exceeded" or value < 0:
        return EXCEEDED
    k = int(np.searchsorted(np.asarray(breaks), value, side="right")) - 1
    return BUDGET_PALETTE[min(max(k, 0), len(BUDGET_PALETTE) - 1)]


def budget_class_labels() -> list[tuple[str, str]]:
    """Colour and French label of each budget class, e.g. ``"0,5 – 1 ha"``, ``"20 ha et plus"``."""
    out = []
    for k, lo in enumerate(BUDGET_BREAKS_HA):
        if k + 1 < len(BUDGET_BREAKS_HA):
            label = f"{fr_compact(lo)} – {fr_compact(BUDGET_BREAKS_HA[k + 1])} ha"
        else:
            label = f"{fr_compact(lo)} ha et plus"
        out.append((BUDGET_PALETTE[k], label))
    return out


def consumption_colour(value: float) -> str:
    """Fill of a commune that consumed ``value`` ha (classes of :data:`CONSUMPTION_BREAKS_HA`).

    Examples
    --------
    >>> consumption_colour(0.5) == CONSUMPTION_PALETTE[0], consumption_colour(75.0)
    (True, '#a63603')
    >>> consumption_colour(float("nan")) == INCOMPLETE
    True
    """
    if np.isnan(value):
        return INCOMPLETE
    k = int(np.searchsorted(np.asarray(CONSUMPTION_BREAKS_HA), value, side="right")) - 1
    return CONSUMPTION_PALETTE[min(max(k, 0), len(CONSUMPTION_PALETTE) - 1)]


def consumption_class_labels() -> list[tuple[str, str]]:
    """Colour and French label of each consumption class, e.g. ``"1 – 2 ha"``."""
    breaks = CONSUMPTION_BREAKS_HA
    return [
        (
            CONSUMPTION_PALETTE[k],
            f"{fr_compact(lo)} – {fr_compact(breaks[k + 1])} ha"
            if k + 1 < len(breaks)
            else f"{fr_compact(lo)} ha et plus",
        )
        for k, lo in enumerate(breaks)
    ]


def swatch(colour: str, label: str, line: bool = False) -> str:
    """A legend line: a coloured square (or a line) and its label (HTML)."""
    shape = "height:3px;margin-bottom:4px" if line else "height:11px;opacity:.85"
    return (
        f"<div><span style='display:inline-block;width:14px;{shape};background:{colour};"
        f"border:1px solid #777;margin-right:5px'></span>{label}</div>"
    )
