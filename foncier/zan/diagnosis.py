"""The ZAN diagnosis of a territory: what was consumed, for what, and how efficiently.

The figures of *Mon Diagnostic Artificialisation* (Cerema), from the Cerema
ENAF file alone:

- ENAF consumed over the reference period (1 Jan 2011 → 1 Jan 2021) and
  since the start of the target period (1 Jan 2021 → the last year of the
  file), in total and by destination: habitat, activité, mixte, routes,
  ferré, inconnu;
- efficiency ratios: m² of ENAF consumed per new inhabitant, new household
  and new job over the census period of the file (``pop15`` → ``pop21``:
  the flows of 1 Jan 2015 → 1 Jan 2021), the way Cerema computes its
  ``artpop1521`` column;
- the territory beside a reference area (its département) when a Cerema
  table of that area is given.

A commune missing a year of a period has no figure for it (``NaN``, shown
"n.d."), never a zero.  A ratio is only given for a growth: when the
population (households, jobs) fell or stayed flat, m² per new inhabitant
has no meaning and is ``NaN``.  Totals of an area add the consumption and
the changes of its communes, then divide (a ratio of sums, not a mean of
ratios).

Examples
--------
>>> import pandas as pd
>>> from foncier.layers import Col
>>> enaf = pd.DataFrame({
...     "insee": ["30001"] * 12, "year": list(range(2011, 2023)),
...     "enaf_m2": [1000.0] * 12, "activity_m2": [400.0] * 12,
...     "housing_m2": [600.0] * 12, "mixed_m2": [0.0] * 12, "road_m2": [0.0] * 12,
...     "rail_m2": [0.0] * 12, "unknown_m2": [0.0] * 12})
>>> communes = pd.DataFrame({"insee": ["30001"], "name": ["Alpha"],
...     "pop15": [100.0], "pop21": [110.0]})
>>> d = zan_diagnosis(enaf, communes)
>>> float(d.communes.loc[0, "reference_ha"]), float(d.communes.loc[0, "since_2021_ha"])
(1.0, 0.2)
>>> float(d.communes.loc[0, "m2_per_new_inhabitant"])  # 6 years x 1000 m² / 10 inhabitants
600.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from foncier._format import MISSING, fr_number
from foncier.errors import LayerSchemaError
from foncier.layers import Col, DiagnosisCol, check_table, destination_column

__all__ = [
    "DESTINATION_LABELS",
    "RATIO_LABELS",
    "ZanDiagnosis",
    "census_period",
    "consumption_by_destination",
    "efficiency_ratios",
    "territory_diagnosis",
    "zan_diagnosis",
]

_D = DiagnosisCol
_M2_PER_HA = 1e4
#: French label of each Cerema destination, in the diagnosis order.
DESTINATION_LABELS: dict[str, str] = {
    Col.HOUSING_M2: "habitat",
    Col.ACTIVITY_M2: "activité",
    Col.MIXED_M2: "mixte",
    Col.ROAD_M2: "routes",
    Col.RAIL_M2: "ferré",
    Col.UNKNOWN_M2: "inconnu",
}
#: French label of each efficiency ratio.
RATIO_LABELS: dict[str, str] = {
    _D.M2_PER_NEW_INHABITANT: "m² consommés par nouvel habitant",
    _D.M2_PER_NEW_HOUSEHOLD: "m² consommés par nouveau ménage",
    _D.M2_PER_NEW_JOB: "m² consommés par nouvel emploi",
}
#: Census figure prefix → the change column and the ratio it divides.
_CENSUS = {
    "pop": (_D.NEW_INHABITANTS, _D.M2_PER_NEW_INHABITANT),
    "men": (_D.NEW_HOUSEHOLDS, _D.M2_PER_NEW_HOUSEHOLD),
    "emp": (_D.NEW_JOBS, _D.M2_PER_NEW_JOB),
}
_CENSUS_RE = re.compile(r"^pop(\d{2})$")
_SUMMED = (
    _D.REFERENCE_HA,
    *(destination_column(_D.REFERENCE_HA, d) for d in _D.DESTINATIONS),
    _D.SINCE_2021_HA,
    *(destination_column(_D.SINCE_2021_HA, d) for d in _D.DESTINATIONS),
    _D.CENSUS_CONSUMED_M2,
    _D.NEW_INHABITANTS,
    _D.NEW_HOUSEHOLDS,
    _D.NEW_JOBS,
)


@dataclass(frozen=True)
class ZanDiagnosis:
    """The ZAN diagnosis of a territory (see the module doc).

    Attributes
    ----------
    communes
        One row per commune: the ``zan_diagnosis`` table of
        :data:`foncier.layers.TABLE_SCHEMAS` (consumption in ha by period
        and destination, census changes, ratios in m²).
    areas
        One row per area, the territory first, then the reference area when
        one was given: the same figures summed over its communes, the
        ratios recomputed from the sums, and ``area`` its name.
    reference_years, since_years
        The periods, ``(start, end)`` from 1 Jan ``start`` to 1 Jan ``end``.
    census_years
        The census period of the ratios, ``None`` when the file has no
        census figures.
    notes
        What people should know, in French: communes without a complete
        period, territory communes outside the reference area.
    """

    communes: pd.DataFrame
    areas: pd.DataFrame
    reference_years: tuple[int, int]
    since_years: tuple[int, int] | None
    census_years: tuple[int, int] | None
    notes: list[str] = field(default_factory=list)

    @property
    def destination_shares(self) -> pd.DataFrame:
        """Share of each destination in the reference consumption, per area (0-1)."""
        cols = [destination_column(_D.REFERENCE_HA, d) for d in _D.DESTINATIONS]
        total = self.areas[_D.REFERENCE_HA].replace(0.0, np.nan)
        shares = self.areas[cols].div(total, axis=0)
        shares.columns = list(_D.DESTINATIONS)
        return shares.set_axis(self.areas[_D.AREA])

    def summary_rows(self) -> list[tuple[str, list[str]]]:
        """The figures for people: a French heading and one value per area, per line.

        Consumption in ha with its share of the period's total, ratios in m²
        ("n.d." when unknown, never ``nan``).
        """
        start, end = self.reference_years
        rows: list[tuple[str, list[str]]] = []
        periods = [(_D.REFERENCE_HA, f"Consommation d'ENAF {start}-{end}")]
        if self.since_years is not None:
            s0, s1 = self.since_years
            periods.append((_D.SINCE_2021_HA, f"Consommation d'ENAF depuis {s0} ({s0}-{s1})"))
        for period, heading in periods:
            totals = self.areas[period]
            rows.append((heading, [fr_number(v, 1, "ha") for v in totals]))
            for d, label in DESTINATION_LABELS.items():
                values = self.areas[destination_column(period, d)]
                shares = values / totals.replace(0.0, np.nan)
                rows.append(
                    (
                        f"  dont {label}",
                        [
                            f"{fr_number(v, 1, 'ha')} ({fr_number(100 * sh, 0, '%')})"
                            for v, sh in zip(values, shares, strict=True)
                        ],
                    )
                )
        if self.census_years is not None:
            c0, c1 = self.census_years
            rows.append(
                (
                    f"ENAF consommé {c0}-{c1} (période des recensements)",
                    [fr_number(v / _M2_PER_HA, 1, "ha") for v in self.areas[_D.CENSUS_CONSUMED_M2]],
                )
            )
            changes = {
                _D.M2_PER_NEW_INHABITANT: (_D.NEW_INHABITANTS, "habitants"),
                _D.M2_PER_NEW_HOUSEHOLD: (_D.NEW_HOUSEHOLDS, "ménages"),
                _D.M2_PER_NEW_JOB: (_D.NEW_JOBS, "emplois"),
            }
            for ratio, label in RATIO_LABELS.items():
                change, unit = changes[ratio]
                rows.append(
                    (
                        f"  {label}",
                        [
                            f"{fr_number(v, 0, 'm²')} ({_signed(n)} {unit})"
                            for v, n in zip(self.areas[ratio], self.areas[change], strict=True)
                        ],
                    )
                )
        return rows


def _signed(value: float) -> str:
    """A change with its sign, « +1 445 » or « -38 »; "n.d." when unknown."""
    text = fr_number(value, 0)
    return text if text == MISSING or value <= 0 else f"+{text}"


def census_period(communes: pd.DataFrame) -> tuple[int, int] | None:
    """The first and last census years of the ``pop{YY}`` columns, ``None`` if fewer than two.

    Examples
    --------
    >>> census_period(pd.DataFrame(columns=["insee", "pop15", "pop21", "men21"]))
    (2015, 2021)
    """
    years = sorted(2000 + int(m.group(1)) for c in communes.columns if (m := _CENSUS_RE.match(c)))
    return (years[0], years[-1]) if len(years) >= 2 else None


def _window(enaf: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """ENAF consumed per commune from 1 Jan ``start`` to 1 Jan ``end`` (m²); NaN if a year lacks."""
    columns = [Col.ENAF_M2, *_D.DESTINATIONS]
    present = [c for c in columns if c in enaf.columns]  # a table without destinations
    rows = enaf[(enaf[Col.YEAR] >= start) & (enaf[Col.YEAR] < end)]
    grouped = rows.groupby(Col.INSEE)
    sums = grouped[present].sum(min_count=1).reindex(columns=columns)
    complete = grouped[Col.YEAR].nunique() == end - start
    return sums.where(complete, np.nan).reindex(enaf[Col.INSEE].unique())


def consumption_by_destination(enaf: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """ENAF consumed per commune from 1 Jan ``start`` to 1 Jan ``end``, by destination, in ha.

    Parameters
    ----------
    enaf
        A tidy ``enaf_consumption`` table (:func:`foncier.io.read_cerema_enaf`).
    start, end
        The period; the flows of years ``start`` to ``end - 1`` are added.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``insee``: ``enaf_m2`` and the six destination columns,
        converted to ha (their names are kept); a commune missing a year of
        the period has NaN.
    """
    return _window(enaf, start, end) / _M2_PER_HA


def efficiency_ratios(enaf: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """ENAF consumed per new inhabitant, household and job over the census period, per commune.

    Parameters
    ----------
    enaf
        A tidy ``enaf_consumption`` table.
    communes
        ``insee`` and the census figures ``pop{YY}``, ``men{YY}``,
        ``emp{YY}`` of the Cerema file (``attrs["communes"]`` of
        :func:`foncier.io.read_cerema_enaf`).  The change is Cerema's own
        column (``pop1521``…, computed before the figures were rounded) when
        the file has it, else the difference of the two census figures.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``insee``: ``census_consumed_m2``, ``new_inhabitants``,
        ``new_households``, ``new_jobs`` and the three ratios in m²; all NaN
        when the file has no census figures.  A ratio is NaN unless its
        change is a growth.
    """
    insee = pd.Index(enaf[Col.INSEE].unique(), name=Col.INSEE)
    out = pd.DataFrame(index=insee, columns=_ratio_columns(), dtype=float)
    period = census_period(communes)
    if period is None:
        return out
    first, last = period
    out[_D.CENSUS_CONSUMED_M2] = _window(enaf, first, last)[Col.ENAF_M2]
    figures = communes.drop_duplicates(Col.INSEE).set_index(Col.INSEE).reindex(insee)
    yy0, yy1 = f"{first % 100:02d}", f"{last % 100:02d}"
    for prefix, (change, _) in _CENSUS.items():
        a, b, published = f"{prefix}{yy0}", f"{prefix}{yy1}", f"{prefix}{yy0}{yy1}"
        if published in figures.columns:  # Cerema's change, computed before rounding
            out[change] = figures[published].astype(float)
        elif a in figures.columns and b in figures.columns:
            out[change] = figures[b].astype(float) - figures[a].astype(float)
    return _with_ratios(out)


def _ratio_columns() -> list[str]:
    return [
        _D.CENSUS_CONSUMED_M2,
        *(change for change, _ in _CENSUS.values()),
        *(ratio for _, ratio in _CENSUS.values()),
    ]


def _with_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each ratio = consumed m² / its change, when the change is a growth."""
    consumed = table[_D.CENSUS_CONSUMED_M2].astype(float)
    for change, ratio in _CENSUS.values():
        growth = table[change].astype(float)
        table[ratio] = (consumed / growth).where(growth > 0)
    return table


def _commune_table(
    enaf: pd.DataFrame,
    communes: pd.DataFrame,
    reference_years: tuple[int, int],
    since_years: tuple[int, int] | None,
) -> pd.DataFrame:
    insee = pd.Index(enaf[Col.INSEE].unique(), name=Col.INSEE)
    meta = communes.drop_duplicates(Col.INSEE).set_index(Col.INSEE).reindex(insee)
    table = pd.DataFrame(index=insee)
    table[Col.NAME] = meta[Col.NAME] if Col.NAME in meta.columns else pd.NA
    table[_D.DEP] = meta[_D.DEP] if _D.DEP in meta.columns else pd.NA
    windows = [(_D.REFERENCE_HA, reference_years), (_D.SINCE_2021_HA, since_years)]
    for period, years in windows:
        by_use = (
            consumption_by_destination(enaf, *years).reindex(insee)
            if years is not None
            else pd.DataFrame(np.nan, index=insee, columns=[Col.ENAF_M2, *_D.DESTINATIONS])
        )
        table[period] = by_use[Col.ENAF_M2]
        for d in _D.DESTINATIONS:
            table[destination_column(period, d)] = by_use[d]
    table = table.join(efficiency_ratios(enaf, communes))
    table = table.reset_index().sort_values(Col.INSEE, kind="stable").reset_index(drop=True)
    table[Col.NAME] = table[Col.NAME].astype(object)
    table[_D.DEP] = table[_D.DEP].astype(object)
    return check_table(table, "zan_diagnosis")


def _area_row(table: pd.DataFrame, name: str) -> dict[str, Any]:
    """The figures of an area: sums over its communes (NaN if one lacks), ratios from the sums."""
    row: dict[str, Any] = {_D.AREA: name}
    for col in _SUMMED:
        row[col] = float(table[col].sum(skipna=False)) if len(table) else np.nan
    return row


def _periods(enaf: pd.DataFrame, rules: Any) -> tuple[tuple[int, int], tuple[int, int] | None]:
    reference = tuple(rules.reference_period) if rules is not None else (2011, 2021)
    since_start = int(rules.target_period[0]) if rules is not None else 2021
    last = int(enaf[Col.YEAR].max()) + 1 if len(enaf) else since_start
    since = (since_start, last) if last > since_start else None
    return (int(reference[0]), int(reference[1])), since


def zan_diagnosis(
    enaf: pd.DataFrame,
    communes: pd.DataFrame | None = None,
    *,
    name: str = "territoire",
    reference: pd.DataFrame | None = None,
    reference_communes: pd.DataFrame | None = None,
    reference_name: str | None = None,
    rules: Any = None,
) -> ZanDiagnosis:
    """The ZAN diagnosis of the communes of ``enaf``, beside a reference area if given.

    Parameters
    ----------
    enaf
        A tidy ``enaf_consumption`` table (:func:`foncier.io.read_cerema_enaf`).
    communes
        ``insee``, ``name``, ``dep`` and the census figures of the communes;
        by default ``enaf.attrs["communes"]`` (what the Cerema file holds).
    name
        Name of the territory, first row of :attr:`ZanDiagnosis.areas`.
    reference, reference_communes, reference_name
        The Cerema table of a reference area (the département), its
        communes (default: its ``attrs["communes"]``) and its name (default:
        « département » and the name the file gives, when it names one).
    rules
        A :class:`~foncier.zan.RuleSet` whose reference and target periods
        are used; by default 2011-2021 and from 2021.

    Returns
    -------
    ZanDiagnosis

    Raises
    ------
    LayerSchemaError
        ``communes`` has no ``insee`` column, or the reference shares no
        year with the territory.
    """
    if communes is None:
        communes = enaf.attrs.get("communes")
    if communes is None:
        communes = pd.DataFrame({Col.INSEE: enaf[Col.INSEE].unique()})
    if Col.INSEE not in communes.columns:
        msg = (
            f"diagnostic ZAN : la table des communes n'a pas de colonne « {Col.INSEE} » "
            f"(colonnes reçues : {list(communes.columns)}) ; donnez celle du fichier Cerema."
        )
        raise LayerSchemaError(msg, column=Col.INSEE)
    reference_years, since_years = _periods(enaf, rules)
    table = _commune_table(enaf, communes, reference_years, since_years)
    rows = [_area_row(table, name)]
    notes: list[str] = []
    if reference is not None:
        ref_communes = (
            reference_communes
            if reference_communes is not None
            else reference.attrs.get("communes")
        )
        if ref_communes is None:
            ref_communes = pd.DataFrame({Col.INSEE: reference[Col.INSEE].unique()})
        if not set(reference[Col.YEAR]) & set(enaf[Col.YEAR]):
            msg = (
                "diagnostic ZAN : le fichier de référence ne couvre aucune année du territoire ; "
                "donnez un fichier Cerema du même millésime."
            )
            raise LayerSchemaError(msg, column=Col.YEAR)
        ref_table = _commune_table(reference, ref_communes, reference_years, since_years)
        label = reference_name or _department_name(ref_communes)
        rows.append(_area_row(ref_table, label))
        outside = sorted(set(table[Col.INSEE]) - set(ref_table[Col.INSEE]))
        if outside:
            notes.append(
                f"{len(outside)} commune(s) du territoire hors de la zone de référence "
                f"« {label} » : {', '.join(outside[:5])}"
            )
    areas = _with_ratios(pd.DataFrame(rows))
    missing = table[table[_D.REFERENCE_HA].isna()][Col.INSEE].tolist()
    if missing:
        notes.append(
            f"{len(missing)} commune(s) sans consommation complète sur "
            f"{reference_years[0]}-{reference_years[1]} (n.d.) : {', '.join(missing[:5])}"
        )
    return ZanDiagnosis(
        communes=table,
        areas=areas,
        reference_years=reference_years,
        since_years=since_years,
        census_years=census_period(communes),
        notes=notes,
    )


def _department_name(communes: pd.DataFrame) -> str:
    """« département Gard (30) », « départements Ardèche (07), Drôme (26) », else a generic name."""
    if _D.DEP not in communes.columns or communes[_D.DEP].isna().all():
        return "zone de référence"
    pairs = communes[[_D.DEP, *(["dep_name"] if "dep_name" in communes.columns else [])]]
    pairs = pairs.dropna(subset=[_D.DEP]).drop_duplicates(_D.DEP).sort_values(_D.DEP)
    names = [
        f"{row['dep_name']} ({row[_D.DEP]})"
        if isinstance(row.get("dep_name"), str)
        else row[_D.DEP]
        for _, row in pairs.iterrows()
    ]
    return ("département " if len(names) == 1 else "départements ") + ", ".join(names)


def _departments(communes: pd.DataFrame) -> pd.Series:
    """The département of each commune: the Cerema ``dep`` column, else its INSEE code."""
    insee = communes[Col.INSEE].astype(str)
    from_code = insee.str[:2].where(~insee.str.startswith("97"), insee.str[:3])
    if _D.DEP not in communes.columns:
        return from_code
    return communes[_D.DEP].astype(object).where(communes[_D.DEP].notna(), from_code)


def territory_diagnosis(
    territory: Any,
    *,
    reference: pd.DataFrame | None = None,
    reference_name: str | None = None,
    rules: Any = None,
) -> ZanDiagnosis:
    """:func:`zan_diagnosis` of a :class:`~foncier.territory.Territory`.

    Its communes are those of its communes layer (or of the Cerema file when
    it has no layer), named from it, with the census figures of the Cerema
    file.  When the Cerema file covers more communes than the territory (a
    département's file for an EPCI) and no ``reference`` is given, the
    reference area is made of the communes of the file in the territory's
    départements: the territory beside its département, the data being there.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.
    reference, reference_name
        See :func:`zan_diagnosis`.
    rules
        See :func:`zan_diagnosis`.
    """
    enaf = territory.enaf_consumption
    published = enaf.attrs.get("communes")
    named = territory.metadata_communes()
    if published is not None and len(published):
        extra = [c for c in published.columns if c not in named.columns or c == Col.INSEE]
        named = named.merge(published[extra], on=Col.INSEE, how="left") if len(named) else published
    codes = set(named[Col.INSEE].astype(str)) if len(named) else set(enaf[Col.INSEE])
    inside = enaf[enaf[Col.INSEE].isin(codes)]
    if reference is None and len(inside) < len(enaf) and published is not None:
        deps = set(_departments(named))
        in_deps = published[_departments(published).isin(deps)]
        reference = enaf[enaf[Col.INSEE].isin(set(in_deps[Col.INSEE]))]
        reference_communes: pd.DataFrame | None = in_deps
        if reference_name is None:
            reference_name = (
                f"{_department_name(in_deps)} ({in_deps[Col.INSEE].nunique()} communes "
                "du fichier Cerema)"
            )
    else:
        reference_communes = None
    return zan_diagnosis(
        inside,
        named,
        name=territory.name,
        reference=reference,
        reference_communes=reference_communes,
        reference_name=reference_name,
        rules=rules,
    )
