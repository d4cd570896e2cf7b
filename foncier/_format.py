"""French number formatting for what people read (CLI tables, maps, reports)."""

from __future__ import annotations

import math

__all__ = ["fr_compact", "fr_number"]


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
    """
    if value is None or not math.isfinite(value):
        return "n.d."
    text = f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    if trim_zeros and "," in text:
        text = text.rstrip("0").rstrip(",")
    if text in {"-0", ""}:
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
