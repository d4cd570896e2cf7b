"""The demand side: industrial projects looking for land and their requirements."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from foncier.errors import DataSourceError, FoncierError
from foncier.layers import LoadReport, validate_layer

__all__ = ["read_projects"]


def read_projects(path: str | Path) -> pd.DataFrame:
    """Read and validate a projects table from CSV or GeoJSON.

    Parameters
    ----------
    path
        A ``,``-separated UTF-8 CSV (optional BOM) or a GeoJSON file whose
        properties are the columns of the ``projects`` layer (the geometry,
        if any, is ignored).

    Returns
    -------
    pandas.DataFrame
        The validated ``projects`` table; ``attrs["load_report"]`` says how
        many rows were read.

    Raises
    ------
    DataSourceError
        Unreadable or malformed file.
    LayerSchemaError
        A missing column, a negative area, ``area_min_ha > area_max_ha``…;
        the message names the file, the column and the offending rows.
    """
    path = Path(path)
    try:
        if path.suffix.lower() in {".geojson", ".json", ".gpkg"}:
            raw = pd.DataFrame(gpd.read_file(path).drop(columns="geometry", errors="ignore"))
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            raw = raw.replace("", pd.NA)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        msg = f"cannot read the projects file {path}: {exc}"
        raise DataSourceError(msg) from exc
    report = LoadReport("projects", source=str(path))
    try:
        return validate_layer("projects", raw, report=report)
    except FoncierError as exc:
        msg = f"{path}: {exc}"
        raise type(exc)(msg) from exc
