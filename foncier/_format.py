"""French number formatting for what people read (CLI tables, maps, reports)."""

from __future__ import annotations

import math

__all__ = ["fr_number"]


def fr_number(value: float, decimals: int = 1, unit: str = "") -> str:
    r"""Format a number the French way: thin space for thousands, comma for decimals.

    Parameters
    ----------
    value
        The number; NaN is shown as ``"n.d."`` (non disponible).
    decimals
        Digits after the decimal comma.
    unit
        Unit appended after a non-breaking space (``"ha"``, ``"%"``…).

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
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\xa0{unit}" if unit else text
