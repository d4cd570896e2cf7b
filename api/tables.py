"""Turn library tables and records into JSON-ready Python values."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.json import ujson_dumps  # type: ignore[attr-defined]  # to_json's encoder

__all__ = ["column_records", "jsonable", "records"]


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-ready dicts (NaN and NA as ``None``, numpy scalars as Python).

    Examples
    --------
    >>> records(pd.DataFrame({"a": [1.5, float("nan")], "b": ["x", None]}))
    [{'a': 1.5, 'b': 'x'}, {'a': None, 'b': None}]
    """
    frame = pd.DataFrame(table).drop(columns="geometry", errors="ignore")
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False))
    return rows


def column_records(columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    """:func:`records` of the table ``pd.DataFrame(columns)``, without building the table.

    The columns are written by the JSON encoder :meth:`pandas.DataFrame.to_json`
    uses, with its defaults (10 decimals, NaN, infinities and ``None`` as
    ``null``), and read back: each value is the one :func:`records` gives.

    Parameters
    ----------
    columns
        Column name -> values of equal lengths (numpy arrays of numbers,
        booleans or texts, or lists of texts and ``None``).

    Returns
    -------
    list of dict
        One dict per row, its keys in the order of ``columns``.

    Examples
    --------
    >>> column_records({"a": np.array([1 / 3, np.nan]), "b": ["x", None]})
    [{'a': 0.3333333333, 'b': 'x'}, {'a': None, 'b': None}]
    """
    encoded: dict[str, list[Any]] = json.loads(
        ujson_dumps(dict(columns), double_precision=10, ensure_ascii=False)
    )
    names = list(encoded)
    return [dict(zip(names, row, strict=True)) for row in zip(*encoded.values(), strict=True)]


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of nested dicts/lists of numpy, pandas and path values (NaN as ``None``).

    Examples
    --------
    >>> jsonable({"x": np.float64("nan"), "y": [np.int64(2)], "p": Path("a")})
    {'x': None, 'y': [2], 'p': 'a'}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)
