"""Exceptions and warnings raised by foncier.

Every error foncier raises on purpose derives from :class:`FoncierError`, and
also from the built-in exception that fits (``ValueError`` for bad values,
``KeyError`` for unknown identifiers, ``OSError`` for unreadable files), so
callers can catch either.  Messages say what was expected, what was received
and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "DataSourceError",
    "FoncierError",
    "FoncierWarning",
    "GeometryError",
    "GeometryRepairedWarning",
    "InfeasibleError",
    "LayerSchemaError",
    "NotFoundError",
    "OutputError",
    "RuleSetError",
]


class FoncierError(Exception):
    """Base class of every error raised by foncier."""


class LayerSchemaError(FoncierError, ValueError):
    """A layer misses a column, has a wrong type, a duplicate key or a forbidden value.

    Parameters
    ----------
    message
        The French message for people.
    column
        The offending column, when one is to blame (also kept as ``column``).
    """

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


class CRSError(FoncierError, ValueError):
    """A layer or raster has no CRS, or one that cannot be reprojected to EPSG:2154."""


class GeometryError(FoncierError, ValueError):
    """Geometries are empty, of the wrong type, or cannot be repaired."""


class DataSourceError(FoncierError, OSError):
    """A file is missing, truncated, corrupt, or not in the expected format."""


class NotFoundError(FoncierError, KeyError):
    """An identifier (commune, project, land unit, layer, scenario) is unknown."""

    def __str__(self) -> str:
        # KeyError quotes its message; keep ours readable.
        return str(self.args[0]) if self.args else ""


class RuleSetError(FoncierError, ValueError):
    """A ZAN rule set is malformed (unknown key, rate outside [0, 1], ...)."""


class InfeasibleError(FoncierError, ValueError):
    """A request cannot be satisfied (no candidate land, contradictory requirements)."""


class FoncierWarning(UserWarning):
    """Base class of warnings emitted by foncier."""


class GeometryRepairedWarning(FoncierWarning):
    """Invalid geometries were repaired with ``shapely.make_valid``."""


class OutputError(FoncierError, OSError):
    """An output cannot be written where asked without losing a file, or the system refused it.

    Raised when a destination holds files foncier did not write, when an
    output would land inside (or on) an input, and when the system refuses
    the write (permission, disk full, read-only file system…).
    """
