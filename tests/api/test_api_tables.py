"""``api.tables``: the rows written from column arrays are those of the table's records."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from api.tables import column_records, records

_FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from(
    [0.0, -0.0, 1 / 3, 2.675, 1e16, 1e16 - 1, 1e-15, 9.99999999995, 0.1 + 0.2, -5.5e-11]
)
_TEXTS = st.none() | st.text(max_size=12)


def _column(kind: str, n: int) -> st.SearchStrategy:
    if kind == "float":
        return st.lists(_FLOATS, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=float))
    if kind == "int":
        values = st.integers(-(2**53), 2**53)
        return st.lists(values, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.int64))
    if kind == "bool":
        return st.lists(st.booleans(), min_size=n, max_size=n).map(np.array)
    if kind == "texts":  # a list, as the answers' French texts
        return st.lists(_TEXTS, min_size=n, max_size=n)
    # an object array of texts with NaN for missing, as a unit's column of the str dtype
    texts = st.text(max_size=8) | st.just(float("nan"))
    return st.lists(texts, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=object))


@st.composite
def _columns(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(0, 8))
    kinds = draw(st.lists(st.sampled_from(["float", "int", "bool", "texts", "object"]), max_size=6))
    return {f"{kind}_{i}": draw(_column(kind, n)) for i, kind in enumerate(kinds)}


@settings(max_examples=300, deadline=None)
@given(columns=_columns())
def test_column_records_are_the_records_of_the_table(columns: dict[str, object]) -> None:
    table = pd.DataFrame(columns)
    expected = records(table)
    got = column_records(columns)
    assert got == expected
    # the same Python types too (a 5.0 stays a float, a 5 an int), as pydantic writes them
    assert [[type(v) for v in r.values()] for r in got] == [
        [type(v) for v in r.values()] for r in expected
    ]


def test_column_records_rounds_as_the_table_does() -> None:
    rows = column_records({"x": np.array([1 / 3, 2.0, np.nan, np.inf, 1e17]), "t": list("abcde")})
    assert [r["x"] for r in rows] == [0.3333333333, 2.0, None, None, 1e17]
    assert isinstance(rows[1]["x"], float)
    assert [r["t"] for r in rows] == ["a", "b", "c", "d", "e"]
