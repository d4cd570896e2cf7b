"""Decisions of the working group: what validated placements take from budgets and land.

The working group validates or rejects placements proposed by a scenario.  A
validated placement is a commitment: its ENAF hectares count as committed in
later ZAN tables (:func:`committed_of`), and its land is taken off its land
unit (:func:`units_after`): the parcels of its lot (``idus``) leave the
unit's polygon and parcel list, so no later lot or assembled site sits on
them.  A decision written before lots (no ``idus``) only takes its area off
the unit's net area, as before; the scenario's assumptions say so.  The
decision log is append-only; on each project the latest decision wins
(:func:`validated_placements`).  The service keeps the log in its database;
the CLI (``foncier match --decisions FILE``) and notebooks read it from a
CSV (:func:`read_decisions`), with the same effect.

Examples
--------
>>> import pandas as pd
>>> log = pd.DataFrame({
...     "decision_id": [1, 2, 3], "project_id": ["P1", "P2", "P1"],
...     "unit_id": ["U1", "U2", "U1"], "insee": ["30007"] * 3,
...     "decision": ["validated", "validated", "rejected"],
...     "area_ha": [2.0, 3.0, 2.0], "enaf_ha": [1.0, 0.5, 1.0]})
>>> validated_placements(log)["project_id"].tolist()
['P2']
>>> committed_of(validated_placements(log))["committed_ha"].tolist()
[0.5]
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier.errors import LayerSchemaError
from foncier.io._common import read_csv_table
from foncier.labels import DECISION_LABELS, code_of
from foncier.layers import TABLE_SCHEMAS, Col, TableCol, UnitCol, check_table, empty_layer

__all__ = [
    "DECISIONS",
    "combined_committed",
    "committed_of",
    "empty_decisions",
    "decided_idus",
    "read_decisions",
    "resolve_decisions",
    "units_after",
    "validated_placements",
    "without_decided_land",
]

_Table = TypeVar("_Table", bound=pd.DataFrame)
#: Decision values of the log (English codes; French labels for people, accepted on input).
DECISIONS = DECISION_LABELS
_DECISION = "decision"


def empty_decisions() -> pd.DataFrame:
    """A decisions table with no row (see :data:`foncier.layers.TABLE_SCHEMAS` ``decisions``)."""
    return pd.DataFrame(empty_layer("decisions"))


def validated_placements(log: pd.DataFrame) -> pd.DataFrame:
    """The placements in force: per project, its latest decision if it is a validation.

    Parameters
    ----------
    log
        Decisions in the order they were taken (or with a ``decision_id`` giving
        that order): ``project_id``, ``unit_id``, ``insee``, ``decision``
        (``validated`` / ``rejected``, French spellings accepted), ``area_ha``
        and ``enaf_ha``; optionally ``idus``, the parcels of the lot
        (``|``-separated).

    Returns
    -------
    pandas.DataFrame
        The ``decisions`` table: one row per project whose latest decision
        validates a placement; ``idus`` missing where the log has none.
    """
    if log.empty:
        return empty_decisions()
    if TableCol.DECISION_ID in log.columns:
        log = log.sort_values(TableCol.DECISION_ID, kind="stable")
    decision = log[_DECISION].astype(str)
    codes = {value: code_of(value, DECISIONS) for value in decision.unique()}
    bad = sorted(value for value, code in codes.items() if code is None)
    if bad:
        msg = (
            f"décisions : valeur(s) {bad} inconnue(s) dans la colonne « decision » ; "
            "valeurs permises : « validée » (validated) ou « rejetée » (rejected)."
        )
        raise LayerSchemaError(msg, column=_DECISION)
    latest = log.assign(**{_DECISION: decision.map(codes)}).drop_duplicates(
        Col.PROJECT_ID, keep="last"
    )
    kept = latest[latest[_DECISION] == "validated"]
    columns = TABLE_SCHEMAS["decisions"].column_names
    out = pd.DataFrame(
        {
            Col.PROJECT_ID: kept[Col.PROJECT_ID].astype(str).to_numpy(),
            UnitCol.UNIT_ID: kept[UnitCol.UNIT_ID].astype(str).to_numpy(),
            Col.INSEE: kept[Col.INSEE].astype(str).to_numpy(),
            TableCol.AREA_HA: pd.to_numeric(kept[TableCol.AREA_HA]).to_numpy(dtype=float),
            TableCol.ENAF_HA: pd.to_numeric(kept[TableCol.ENAF_HA]).to_numpy(dtype=float),
            UnitCol.IDUS: _idus_of(kept),
        },
        columns=columns,
    )
    return check_table(out, "decisions")


def _idus_of(log: pd.DataFrame) -> np.ndarray:
    """The ``idus`` of each decision, missing where the log has none (blank or absent)."""
    if UnitCol.IDUS not in log.columns:
        return np.full(len(log), None, dtype=object)
    text = log[UnitCol.IDUS].astype(object).where(log[UnitCol.IDUS].notna(), "").astype(str)
    text = text.str.strip()
    return text.where(text != "", None).to_numpy(dtype=object)


def read_decisions(path: str | Path) -> pd.DataFrame:
    """Read a decision log from a CSV and return the placements in force.

    Parameters
    ----------
    path
        A ``,`` or ``;``-separated UTF-8 CSV with the columns of
        :func:`validated_placements` (``decision_id`` optional: rows are taken
        in file order otherwise; ``idus`` optional, as in files written
        before lots).  The service's ``GET /decisions`` gives them.

    Returns
    -------
    pandas.DataFrame
        The ``decisions`` table (see :func:`validated_placements`).

    Raises
    ------
    DataSourceError
        The file cannot be read.
    LayerSchemaError
        A column is missing or a value is wrong; ``column`` names it.
    """
    path = Path(path)
    raw = read_csv_table(path, "décisions")
    # numbers as written in French office software too (decimal comma)
    for column in (TableCol.DECISION_ID, TableCol.AREA_HA, TableCol.ENAF_HA):
        if column in raw.columns:
            text = raw[column].str.strip().str.replace(",", ".", regex=False)
            raw[column] = pd.to_numeric(text, errors="coerce")
    schema = TABLE_SCHEMAS["decisions"]
    needed = [*(c.name for c in schema.columns if c.required), _DECISION]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        msg = (
            f"fichier de décisions {path} : colonne « {missing[0]} » absente ; "
            f"colonnes attendues {needed}, reçues {list(raw.columns)}."
        )
        raise LayerSchemaError(msg, column=missing[0])
    try:
        return validated_placements(raw)
    except (LayerSchemaError, ValueError) as exc:
        msg = f"fichier de décisions {path} : {exc}"
        raise LayerSchemaError(msg, column=getattr(exc, "column", None)) from exc


def committed_of(decisions: pd.DataFrame) -> pd.DataFrame:
    """ENAF committed by validated placements, in the shape of :func:`foncier.zan.read_committed`.

    Parameters
    ----------
    decisions
        The ``decisions`` table (:func:`validated_placements`).

    Returns
    -------
    pandas.DataFrame
        ``insee``, ``committed_ha`` (the placement's ENAF, as the scenario
        charged it), ``renatured_ha`` (0) and ``label`` (``project_id@unit_id``).
    """
    return pd.DataFrame(
        {
            Col.INSEE: decisions[Col.INSEE].astype(str).to_numpy(),
            TableCol.COMMITTED_HA: decisions[TableCol.ENAF_HA].astype(float).to_numpy(),
            "renatured_ha": 0.0,
            "label": (
                decisions[Col.PROJECT_ID].astype(str) + "@" + decisions[UnitCol.UNIT_ID].astype(str)
            ).to_numpy(),
        }
    ).astype({Col.INSEE: "str", "label": "str"})


def resolve_decisions(decisions: pd.DataFrame | str | Path | None) -> pd.DataFrame:
    """The ``decisions`` table from a log, a ``decisions`` table, a CSV or nothing.

    Parameters
    ----------
    decisions
        A decision log (with a ``decision`` column), a ``decisions`` table,
        the path of a CSV (:func:`read_decisions`) or ``None``.

    Returns
    -------
    pandas.DataFrame
        The ``decisions`` table (empty for ``None``).

    Raises
    ------
    LayerSchemaError
        A column is missing or a value is wrong.
    """
    if isinstance(decisions, str | Path):
        return read_decisions(decisions)
    if decisions is None:
        return empty_decisions()
    if _DECISION in decisions.columns:
        return validated_placements(decisions)
    return check_table(decisions, "decisions")


def decided_idus(decisions: pd.DataFrame) -> np.ndarray:
    """The parcels (``idu``) the validated lots take, sorted, each once.

    Parameters
    ----------
    decisions
        The ``decisions`` table.

    Returns
    -------
    numpy.ndarray
        The ``idu`` of every parcel listed by a decision's ``idus``.
    """
    if UnitCol.IDUS not in decisions.columns or decisions.empty:
        return np.empty(0, dtype=object)
    listed = decisions[UnitCol.IDUS].dropna().astype(str).str.split("|").explode().str.strip()
    return np.unique(listed[listed != ""].to_numpy(dtype=str)).astype(object)


def units_after(
    units: _Table, decisions: pd.DataFrame, parcels: pd.DataFrame | None = None
) -> _Table:
    """Land units without the land of validated placements.

    A decision listing its lot's parcels (``idus``) takes them off every
    unit: off its polygon (when ``units`` and ``parcels`` have geometries),
    its ``idus`` and its ``net_area_ha`` (by the area removed).  A parcel
    the lot only cut is taken whole (the decision does not say where the
    cut was).  A decision without ``idus`` (a log written before lots)
    takes its ``area_ha`` off its unit's net area only, the land staying in
    the polygon.

    Parameters
    ----------
    units
        Land units (``unit_id``, ``net_area_ha``, optionally ``idus`` and geometry).
    decisions
        The ``decisions`` table.
    parcels
        The ``parcels`` layer (``idu``, geometry), for the decisions' lots.

    Returns
    -------
    same type as ``units``
        A copy (without ``attrs``), ``net_area_ha`` never below 0; ``units``
        itself when there is no decision.
    """
    if decisions.empty:
        return units
    idus = _idus_of(decisions)
    old = decisions[pd.isna(idus)]
    used = old.groupby(old[UnitCol.UNIT_ID].astype(str))[TableCol.AREA_HA].sum()
    out = without_decided_land(units, decisions, parcels)
    taken = out[UnitCol.UNIT_ID].astype(str).map(used).fillna(0.0)
    out[UnitCol.NET_AREA_HA] = (out[UnitCol.NET_AREA_HA] - taken).clip(lower=0.0)
    return out


def without_decided_land(
    units: _Table, decisions: pd.DataFrame, parcels: pd.DataFrame | None
) -> _Table:
    """Units (or any land) without the parcels of the validated lots.

    Parameters
    ----------
    units
        Land (``unit_id``, optionally ``idus``, ``net_area_ha`` and geometry).
    decisions
        The ``decisions`` table.
    parcels
        The ``parcels`` layer; ``None`` leaves the geometry as it is.

    Returns
    -------
    same type as ``units``
        A copy (without ``attrs``): the decided parcels removed from
        ``idus`` and from the polygon, ``net_area_ha`` reduced by the area
        removed.
    """
    out = units.copy()
    out.attrs = {}
    gone = decided_idus(decisions)
    if not len(gone):
        return out
    if UnitCol.IDUS in out.columns:
        listed = out[UnitCol.IDUS].astype(object).where(out[UnitCol.IDUS].notna(), "")
        parts = listed.astype(str).str.split("|").explode()
        kept = parts[(parts != "") & ~parts.isin(gone)]
        joined = kept.groupby(level=0).agg("|".join).reindex(out.index, fill_value="")
        out[UnitCol.IDUS] = joined.where(out[UnitCol.IDUS].notna(), out[UnitCol.IDUS])
    if parcels is None or not isinstance(out, gpd.GeoDataFrame) or Col.IDU not in parcels.columns:
        return out
    taken = parcels[parcels[Col.IDU].astype(str).isin(gone).to_numpy()]
    if taken.empty:
        return out
    land = shapely.union_all(taken.geometry.to_numpy())
    before = out.geometry.to_numpy()
    hit = shapely.intersects(before, land)
    after = before.copy()
    after[hit] = shapely.difference(before[hit], land)
    removed_ha = (shapely.area(before) - shapely.area(after)) / 1e4
    out[out.geometry.name] = gpd.GeoSeries(after, index=out.index, crs=out.crs)
    if UnitCol.NET_AREA_HA in out.columns:
        out[UnitCol.NET_AREA_HA] = (out[UnitCol.NET_AREA_HA] - removed_ha).clip(lower=0.0)
    return out


def combined_committed(committed: pd.DataFrame | None, decisions: pd.DataFrame) -> pd.DataFrame:
    """Committed projects given by the user plus the validated placements.

    Parameters
    ----------
    committed
        A :func:`foncier.zan.read_committed` table, or ``None``.
    decisions
        The ``decisions`` table.

    Returns
    -------
    pandas.DataFrame
        Both, in the :func:`foncier.zan.read_committed` shape.
    """
    ours = committed_of(decisions)
    if committed is None or committed.empty:
        return ours
    if ours.empty:
        return committed
    return pd.concat([committed, ours], ignore_index=True)
