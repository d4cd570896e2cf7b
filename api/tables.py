"""Turn library tables and records into JSON-ready Python values."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jsonable", "records"]


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
