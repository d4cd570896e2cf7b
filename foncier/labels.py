r"""French labels and HTML snippets for what the working group reads (maps, report).

One place for the words people see beside the codes the library uses
(origins, reasons, constraint kinds, pools…), and for the small HTML helpers
that every page shares: escaping, hectares / kilometres / percentages written
the French way (through :mod:`foncier._format`) and the two-column table of
a popup.  Importing this module loads neither folium nor matplotlib.

Examples
--------
>>> ha(2.345, 2) == "2,35\xa0ha"
True
>>> esc("<Zone & co>")
'&lt;Zone &amp; co&gt;'
"""

from __future__ import annotations

import datetime as dt
import html
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from foncier._format import fr_number
from foncier.layers import ORIGIN_ACTIVITY_ZONE, ORIGIN_FRICHE, ORIGIN_ZAE_PLOT, UnitCol

__all__ = [
    "COLUMN_LABELS",
    "CONSTRAINT_KIND_LABELS",
    "DECISION_LABELS",
    "EFFECT_LABELS",
    "INFRA_KIND_LABELS",
    "LAYER_NAMES",
    "OBJECTIVE_LABELS",
    "ORIGIN_LABELS",
    "OWNER_KIND_LABELS",
    "POOL_LABELS",
    "REASON_LABELS",
    "TERRITORY_LAYER_LABELS",
    "code_of",
    "collapsible",
    "esc",
    "fr_datetime",
    "ha",
    "html_table",
    "km",
    "pct",
    "popup_div",
    "popup_html",
]

#: French name of each map layer in the layer control.
LAYER_NAMES: dict[str, str] = {
    "communes": "Communes : budget ZAN restant",
    "consumption": "Communes : consommation d'ENAF 2011-2021",
    "commune_names": "Noms des communes",
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
    "no_lot": "Aucun lot d'un seul tenant dans les parcelles",
}
#: French name of each constraint kind.
CONSTRAINT_KIND_LABELS: dict[str, str] = {
    "ppri_red": "PPRI zone rouge",
    "ppri_blue": "PPRI zone bleue",
    "natura2000": "Natura 2000",
    "znieff1": "ZNIEFF de type 1",
    "znieff2": "ZNIEFF de type 2",
}
#: What a constraint does to the land it covers.
EFFECT_LABELS: dict[str, str] = {"exclude": "exclut le terrain", "penalise": "pénalise le terrain"}
#: French name of each infrastructure kind.
INFRA_KIND_LABELS: dict[str, str] = {
    "interchange": "échangeur autoroutier",
    "motorway": "autoroute",
    "rail_line": "voie ferrée",
    "rail_freight": "gare ou embranchement fret",
    "substation": "poste électrique",
    "power_line": "ligne électrique",
    "port": "port",
    "other": "autre",
}
#: French label of the land-unit columns a map can be coloured by.
COLUMN_LABELS: dict[str, str] = {
    UnitCol.COMPLETENESS: "complétude des données",
    UnitCol.ENAF_SHARE: "part ENAF",
    UnitCol.NET_AREA_HA: "surface nette, ha",
    UnitCol.COMPACTNESS: "compacité",
    UnitCol.SLOPE_MEAN_PCT: "pente moyenne, %",
    "score": "score",
}
#: How budgets are pooled, as a phrase after "budgets".
POOL_LABELS: dict[str, str] = {
    "commune": "par commune",
    "epci": "mutualisés par EPCI",
    "scot": "mutualisés par SCoT",
}

#: French name of each layer of a territory folder (:data:`foncier.layers.SCHEMAS`).
TERRITORY_LAYER_LABELS: dict[str, str] = {
    "communes": "communes",
    "parcels": "parcelles",
    "plu_zones": "zones du PLU",
    "zae": "ZAE",
    "zae_plots": "lots de ZAE",
    "friches": "friches",
    "constraints": "contraintes",
    "infrastructure": "infrastructures",
    "enaf_consumption": "consommation d'ENAF",
    "planning_docs": "documents d'urbanisme",
    "projects": "projets",
    "dem": "MNT",
}
#: French label of each objective of the assignment (:data:`foncier.assignment.OBJECTIVES`).
OBJECTIVE_LABELS: dict[str, str] = {
    "jobs": "emplois",
    "score": "score",
    "min_enaf": "sobriété",
    "friches_first": "friches d'abord",
}
#: French label of each owner kind of a parcel (``owner_kind``).
OWNER_KIND_LABELS: dict[str, str] = {"public": "public", "private": "privé", "unknown": "inconnu"}
#: French label of each decision of the working group (:data:`foncier.decisions.DECISIONS`).
DECISION_LABELS: dict[str, str] = {"validated": "validée", "rejected": "rejetée"}
#: Month names, for dates people read.
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
#: The time zone of the dates people read.
_PARIS = ZoneInfo("Europe/Paris")

_POPUP_STYLE = "max-width:380px;font:12px/1.35 sans-serif"


def esc(value: Any) -> str:
    """HTML-escaped text of ``value`` (quotes included)."""
    return html.escape(str(value))


def _number(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def ha(value: Any, decimals: int = 1) -> str:
    """Hectares the French way; ``None`` and NaN read "n.d."."""
    return fr_number(_number(value), decimals, "ha")


def pct(share: Any) -> str:
    """A share (0-1) as a whole percentage; ``None`` and NaN read "n.d."."""
    return fr_number(_number(share) * 100.0, 0, "%")


def km(value: Any) -> str:
    """Kilometres with one decimal; ``None`` and NaN read "n.d."."""
    return fr_number(_number(value), 1, "km")


def html_table(rows: Sequence[tuple[str, str]]) -> str:
    """Two-column table: a heading (left) and its value per row; both are HTML already."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{k}</th><td>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table>{body}</table>"


def collapsible(summary: str, body: str, *, open_: bool = True) -> str:
    """A block that folds to its ``summary`` line (HTML ``details``); both are HTML already."""
    state = " open" if open_ else ""
    return f"<details{state}><summary>{summary}</summary>{body}</details>"


def popup_div(body: str) -> str:
    """The box of a popup around ``body`` (HTML)."""
    return f"<div style='{_POPUP_STYLE}'>{body}</div>"


def popup_html(title: str, rows: Sequence[tuple[str, str]], extra: str = "") -> str:
    """A popup: escaped bold ``title``, the table of ``rows``, then ``extra`` HTML."""
    return popup_div(f"<b>{esc(title)}</b>{html_table(rows)}{extra}")


def _folded(text: str) -> str:
    """``text`` lower-cased, without accents, spaces, apostrophes, hyphens or underscores."""
    bare = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in bare if c.isalnum() and not unicodedata.combining(c))


def code_of(value: str, labels: Mapping[str, str]) -> str | None:
    """The code that ``value`` names: a code of ``labels`` or its French label.

    Case, accents, spaces, apostrophes, hyphens and underscores are ignored, so
    that ``"friches d'abord"``, ``"friches-dabord"`` and ``"friches_first"`` all
    name the same code.

    Parameters
    ----------
    value
        What a user typed: an English code (for scripts) or a French label.
    labels
        Code → French label (e.g. :data:`OBJECTIVE_LABELS`).

    Returns
    -------
    str or None
        The code, or ``None`` when ``value`` names none.

    Examples
    --------
    >>> code_of("Sobriete", OBJECTIVE_LABELS), code_of("friches_first", OBJECTIVE_LABELS)
    ('min_enaf', 'friches_first')
    >>> code_of("jobz", OBJECTIVE_LABELS) is None
    True
    """
    key = _folded(value)
    for code, label in labels.items():
        if key in (_folded(code), _folded(label)):
            return code
    return None


def fr_datetime(value: str | dt.datetime, *, time: bool = True) -> str:
    """A date (and time) written the French way, in Paris time: « 2 décembre 2026 à 14 h 05 ».

    Parameters
    ----------
    value
        A datetime or its ISO 8601 text; a naive one is taken as UTC.
    time
        Write the time of day too.

    Returns
    -------
    str
        The date; the first day of a month reads « 1er ».

    Examples
    --------
    >>> fr_datetime("2026-12-02T13:05:00+00:00")
    '2 décembre 2026 à 14 h 05'
    >>> fr_datetime("2026-07-01T10:00:00Z", time=False)
    '1er juillet 2026'
    """
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(_PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    text = f"{day} {_MONTHS[local.month - 1]} {local.year}"
    return f"{text} à {local.hour} h {local.minute:02d}" if time else text
