"""A scenario's tables as one workbook for office software (``scenario.xlsx``).

The CSV files of a result stay machine-readable (comma-separated, decimal
point, codes and full-precision numbers, for scripts and for reading the
result back); people open the workbook instead.  One sheet per table:

- **Budgets**: the ZAN balance per pool;
- **Placements**: the placed projects, with their ZAN cost and why there;
- **Non placés**: the projects left out, with their reason and what would
  unlock them;
- **Hypothèses**: what the figures rest on by default;
- **Audit**: the audit record (rule set, data vintage, solver, hashes).

Headers are in French (:data:`foncier.labels.TABLE_COLUMN_LABELS`), codes
are written as their French labels (reasons, requirements, yes / no), numbers
stay numbers with a number format (hectares with two decimals, jobs as whole
numbers, shares as percentages), and the header row is frozen with a filter
on it.  Written by :meth:`foncier.scenarios.ScenarioResult.to_folder`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from foncier.labels import (
    AUDIT_LABELS,
    OBJECTIVE_LABELS,
    POOL_LABELS,
    REASON_LABELS,
    REQUIREMENT_LABELS,
    SOLVER_STATUS_LABELS,
    STABILITY_LABELS,
    TABLE_COLUMN_LABELS,
)
from foncier.layers import Col, TableCol

__all__ = ["SHEETS", "WORKBOOK_NAME", "number_format", "write_workbook"]

#: File name of the workbook in a scenario result folder.
WORKBOOK_NAME = "scenario.xlsx"
#: Sheet names, in order.
SHEETS = ("Budgets", "Placements", "Non placés", "Hypothèses", "Audit")
_MAX_WIDTH = 60
_YES_NO = {True: "oui", False: "non"}


def number_format(column: str) -> str:
    """Excel number format of a numeric column, from its name.

    Examples
    --------
    >>> number_format("remaining_after_ha"), number_format("jobs"), number_format("enaf_share")
    ('#,##0.00', '#,##0', '0%')
    """
    if column.endswith("_ha"):
        return "#,##0.00"
    if column.endswith("_share"):
        return "0%"
    if column.endswith(("_km", "_pct")):
        return "0.0"
    if column.endswith("_eur") or column in (Col.JOBS, "count"):
        return "#,##0"
    return "0.00"


def _codes(values: pd.Series, labels: Mapping[str, str]) -> pd.Series:
    """Codes (one, or several comma-separated) written as their French labels."""

    def one(text: Any) -> Any:
        if not isinstance(text, str) or not text:
            return text
        return ", ".join(labels.get(c.strip(), c.strip()) for c in text.split(","))

    return values.map(one)


def _french(table: pd.DataFrame) -> pd.DataFrame:
    """A table ready for people: codes as labels, booleans as oui / non."""
    out = pd.DataFrame(table).drop(columns=Col.GEOMETRY, errors="ignore").copy()
    if TableCol.REASON_CODE in out.columns:
        out[TableCol.REASON_CODE] = _codes(out[TableCol.REASON_CODE], REASON_LABELS)
    for col in (TableCol.REQUIREMENT, TableCol.UNVERIFIED):
        if col in out.columns:
            out[col] = _codes(out[col], REQUIREMENT_LABELS)
    if TableCol.STABILITY in out.columns:
        out[TableCol.STABILITY] = _codes(out[TableCol.STABILITY], STABILITY_LABELS)
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(_YES_NO)
    return out


def _cell(value: Any) -> Any:
    """A value openpyxl writes as it is: numbers as numbers, missing values as empty cells."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return _YES_NO[bool(value)]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def _sheet(book: Any, title: str, table: pd.DataFrame, labels: Mapping[str, str]) -> None:
    """One sheet: a bold frozen header row with a filter, then one row per table row."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    columns = list(table.columns)
    sheet.append([labels.get(str(c), str(c)) for c in columns])
    for row in table.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        sheet.cell(row=1, column=j).font = Font(bold=True)
        numeric = pd.api.types.is_numeric_dtype(table[col]) and not pd.api.types.is_bool_dtype(
            table[col]
        )
        if numeric:
            fmt = number_format(str(col))
            if pd.api.types.is_integer_dtype(table[col]) and fmt == "0.00":
                fmt = "#,##0"
            for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        texts = [str(sheet.cell(row=1, column=j).value or "")]
        texts += ["" if _cell(v) is None else str(_cell(v)) for v in table[col].head(200)]
        sheet.column_dimensions[letter].width = min(max(map(len, texts)) + 2, _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(table) + 1, 1)}"


#: French values of the audit record's coded fields.
_AUDIT_CODES: dict[str, Mapping[str, str]] = {
    "objective": OBJECTIVE_LABELS,
    "pool": POOL_LABELS,
    "solver_status": SOLVER_STATUS_LABELS,
}


def _audit_rows(audit: Mapping[str, Any]) -> pd.DataFrame:
    """The audit record as ``(élément, valeur)`` rows in French; nested records flattened."""
    from foncier.texts import CRITERIA_FR

    def label(key: str, sub: str | None = None) -> str:
        head = AUDIT_LABELS.get(key, key)
        if sub is None:
            return head
        name = AUDIT_LABELS.get(f"{key}.{sub}") or (
            CRITERIA_FR.get(sub, sub) if key == "weights" else sub
        )
        return f"{head} : {name}"

    def plain(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return ", ".join(map(str, value))
        return _YES_NO[value] if isinstance(value, bool) else value

    rows: list[tuple[str, Any]] = []
    for key, value in audit.items():
        if key == "hypotheses":
            continue
        if isinstance(value, Mapping):
            rows += [(label(key, str(k)), plain(v)) for k, v in value.items()]
        else:
            coded = _AUDIT_CODES.get(key, {})
            rows.append(
                (label(key), plain(coded.get(value, value) if isinstance(value, str) else value))
            )
    return pd.DataFrame(rows, columns=["element", "value"]).astype(object)


def write_workbook(result: Any, path: str | Path) -> Path:
    """Write the workbook of a scenario result to ``path`` (an ``.xlsx`` file).

    A low-level writer: :meth:`foncier.scenarios.ScenarioResult.to_folder`
    calls it inside the folder it writes under the output policy.

    Parameters
    ----------
    result
        A :class:`foncier.scenarios.ScenarioResult`.
    path
        The file to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    labels = dict(TABLE_COLUMN_LABELS)
    balance = result.zan_balance.rename(columns={Col.NAME: "pool_name"})
    _sheet(book, SHEETS[0], _french(balance), {**labels, "pool_name": "Budget ZAN"})
    _sheet(book, SHEETS[1], _french(result.assignments), labels)
    _sheet(book, SHEETS[2], _french(result.unmatched), labels)
    records = result.audit.get("hypotheses") or []
    hypotheses = pd.DataFrame(
        {
            "text": [r.get("text") for r in records],
            "count": pd.to_numeric(pd.Series([r.get("count") for r in records]), errors="coerce"),
            "area_ha": pd.to_numeric(pd.Series([r.get("ha") for r in records]), errors="coerce"),
        }
    )
    _sheet(
        book,
        SHEETS[3],
        hypotheses,
        {"text": "Hypothèse", "count": "Nombre", "area_ha": "Surface concernée (ha)"},
    )
    _sheet(book, SHEETS[4], _audit_rows(result.audit), {"element": "Élément", "value": "Valeur"})
    target = Path(path)
    book.save(target)
    return target
