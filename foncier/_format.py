"""French number formatting for what people read (CLI tables, maps, reports)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "FOOTPRINT_LABELS",
    "MISSING",
    "footprint_label",
    "fr_compact",
    "friche_popup_rows",
    "fr_number",
    "fr_text",
    "is_missing",
]

#: What a reader sees for a value that is not known (non disponible).
MISSING = "n.d."
#: Texts that stand for a missing value once a table went through ``str``.
_MISSING_TEXTS = frozenset({"", "nan", "NaN", "None", "<NA>", "NaT", "null"})
#: French labels of the friche footprints (``footprint`` column).
FOOTPRINT_LABELS = {
    "parcels": "emprise des parcelles cadastrales du site",
    "declared": "contour publié par la source",
    "approximate": "emprise approximative : disque de la surface déclarée autour du point",
}


def fr_number(value: float, decimals: int = 1, unit: str = "", *, trim_zeros: bool = False) -> str:
    r"""Format a number the French way: thin space for thousands, comma for decimals.

    Parameters
    ----------
    value
        The number; NaN is shown as ``"n.d."`` (non disponible).
    decimals
        Digits after the decimal comma.
    unit
        Unit appended after a non-breaking space (``"ha"``, ``"%"``…).
    trim_zeros
        Drop trailing zeros of the decimals (``6,0`` → ``6``).

    Returns
    -------
    str
        e.g. ``fr_number(12345.678, 1, "ha") == "12 345,7 ha"``.

    Examples
    --------
    >>> fr_number(12345.678, 1, "ha") == "12\u202f345,7\xa0ha"
    True
    >>> fr_number(float("nan"))
    'n.d.'
    >>> fr_number(-0.001, 2), fr_number(-0.4, 0), fr_number(-0.5, 1)
    ('0,00', '0', '-0,5')
    """
    if value is None or not math.isfinite(value):
        return "n.d."
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    if trim_zeros and "," in text:
        text = text.rstrip("0").rstrip(",")
    if text.startswith("-") and not text.strip("-0,\u202f"):
        text = text[1:]  # "-0,00": a negative number too small to show
    if not text:
        text = "0"
    return f"{text}\xa0{unit}" if unit else text


def fr_compact(value: float, digits: int = 1) -> str:
    r"""Format a number the French way without useless zeros, for sentences.

    Examples
    --------
    >>> fr_compact(9.25), fr_compact(6.0), fr_compact(1234.5) == "1\u202f234,5"
    ('9,2', '6', True)
    """
    return fr_number(value, digits, trim_zeros=True)


def is_missing(value: Any) -> bool:
    """Whether a value is a missing one (``None``, NaN, ``pd.NA``, or their text).

    Examples
    --------
    >>> [is_missing(v) for v in (None, float("nan"), "nan", "<NA>", " ", 0, "U")]
    [True, True, True, True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() in _MISSING_TEXTS
    try:
        return bool(value != value)  # NaN, pd.NA (raises: ambiguous), NaT
    except TypeError:
        return True


def fr_text(value: Any, missing: str = MISSING) -> str:
    """A value as text for people: a missing value reads ``n.d.``, never ``nan`` or ``None``.

    Parameters
    ----------
    value
        Any cell of a table (a code, a name, a label…).
    missing
        Text shown for a missing value.

    Returns
    -------
    str
        ``str(value)`` stripped, or ``missing``.  Not HTML-escaped.

    Examples
    --------
    >>> fr_text(float("nan")), fr_text(None), fr_text(" U "), fr_text("nan", "inconnue")
    ('n.d.', 'n.d.', 'U', 'inconnue')
    """
    return missing if is_missing(value) else str(value).strip()


def footprint_label(value: Any) -> str:
    """French label of a friche footprint (``parcels``, ``declared``, ``approximate``).

    Examples
    --------
    >>> footprint_label("approximate")
    'emprise approximative : disque de la surface déclarée autour du point'
    >>> footprint_label(None)
    'n.d.'
    """
    text = fr_text(value)
    return FOOTPRINT_LABELS.get(text, text)


def friche_popup_rows(friche: Mapping[str, Any], area_ha: float) -> list[tuple[str, str]]:
    r"""The rows of a friche's popup on a map, in French, plain text (escape it for HTML).

    Parameters
    ----------
    friche
        One row of the ``friches`` layer (``status``, ``pollution``,
        ``zone_type``, ``footprint``; absent or missing values read ``n.d.``).
    area_ha
        Area of the friche's land, in ha.

    Returns
    -------
    list of (label, value)
        Statut, Pollution, Zone, Surface and Emprise; a point friche's
        surface is said to be its declared one.

    Examples
    --------
    >>> rows = friche_popup_rows({"status": "friche potentielle", "zone_type": None,
    ...                           "footprint": "approximate"}, 54.08)
    >>> rows[2], rows[3][1] == "54,08\xa0ha (surface déclarée)"
    (('Zone', 'n.d.'), True)
    """
    footprint = fr_text(friche.get("footprint"))
    surface = fr_number(area_ha, 2, "ha")
    if footprint == "approximate":
        surface += " (surface déclarée)"
    return [
        ("Statut", fr_text(friche.get("status"))),
        ("Pollution", fr_text(friche.get("pollution"))),
        ("Zone", fr_text(friche.get("zone_type"))),
        ("Surface", surface),
        ("Emprise", footprint_label(footprint)),
    ]
