"""ZAN budgets: envelopes over the rule set's target period, consumption, what remains.

(Longer than most modules on purpose: the budget arithmetic, the committed
projects it deducts and the assumptions it states are one computation, read
together by whoever checks a figure against the law.)

The arithmetic, for each commune (figures in ha; flows of year ``Y`` run from
1 Jan ``Y`` to 1 Jan ``Y+1``):

- ``baseline_ha`` = sum of the flows of the reference period (2011 … 2020);
- ``envelope_ha`` = the reference pace over the target period, reduced:
  ``baseline_ha / reference years × target years × (1 − reduction_rate)``
  (``baseline_ha × 0.5`` for 2021-2031 after 2011-2021), then
  ``max(envelope, guarantee_floor_ha)`` for communes eligible to the
  garantie communale (``guarantee_status`` ``yes``, see
  :mod:`foncier.zan.guarantee`; a commune of unknown status gets it only
  under ``guarantee_unknown = "apply"``); the floor is
  ``communal_guarantee_ha`` plus ``guarantee_per_delegated_commune_ha`` per
  commune déléguée of a commune nouvelle; ``guaranteed_ha`` is what the
  guarantee adds;
- ``consumed_ha`` = sum of the flows from the start of the target period to
  the latest year in the data (capped at its end);
- ``remaining_ha`` = ``envelope_ha − consumed_ha − committed_ha``;
- ``pace_ha_per_year`` = ``consumed_ha / n`` with ``n`` the number of years
  of data since the start of the target period;
- ``projected_end_ha`` = ``consumed_ha + pace_ha_per_year × (end_year − end)``
  where ``end_year`` closes the target period (2031) and ``end`` is the
  1 January closing the last flow in the data.  With no year of data in the
  target period there is no pace and no projection, and the status is
  ``incomplete``.

Pooled rows (EPCI, SCoT) are sums of their members, with one exception:
the law pools a commune's guaranteed hectares only at its request
(``guarantee_pooling``, from the planning-documents table; the rule set's
``guarantee_pooled`` says what to assume when the request is not recorded).
The guarantee of a commune that did not ask stays a floor of that commune:
the part of it its own consumption and committed projects already used is
in the pooled envelope, the rest (``guarantee_reserved_ha``) is kept out of
the pooled envelope and remaining budget, so that no other commune of the
pool can spend it.  Pooled ``envelope_ha + guarantee_reserved_ha`` is the sum
of the members' envelopes.  (The matching charges a pool's ``remaining_ha``:
a new project in such a commune does not draw on its reserved hectares
through the pooled budget; the commune-level table shows them.)

A commune with a year missing from the data gets NaN figures and status
``incomplete``: a missing year is never read as zero consumption.

Every table carries its assumptions in ``attrs["assumptions"]``: a list of
``{"key", "count", "communes", "text"}`` entries (``text`` in French, the
"hypothèses" shown with the figures): communes of unknown planning status and
what was done with their guarantee, commune codes present in the communes
layer or in the ENAF table only, communes named by the Cerema file alone,
years of ENAF data missing, and the data vintage the consumption rests on.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from foncier._format import fr_number
from foncier.errors import DataSourceError, FoncierWarning, LayerSchemaError, NotFoundError
from foncier.io._common import read_csv_table
from foncier.io.cerema import CodeMismatch, EnafVintage, code_mismatch
from foncier.layers import Col, normalise_insee
from foncier.zan.guarantee import guarantee_eligibility
from foncier.zan.rules import (
    LEGAL_STATUS_LABELS,
    POOL_LEVELS,
    RuleSet,
    check_guarantee_unknown,
    load_rules,
)
from foncier.zan.targets import commune_targets, period_factor

if TYPE_CHECKING:
    from foncier.territory import Territory

__all__ = [
    "BUDGET_COLUMNS",
    "STATUS_LABELS",
    "MissingEnafWarning",
    "budget_table",
    "commune_budgets",
    "pool_ids",
    "read_committed",
]

#: Columns of every budget table, in order (``pool_id`` follows them).
BUDGET_COLUMNS: tuple[str, ...] = (
    "insee",
    "name",
    "baseline_ha",
    "reduction_rate",
    "target_level",
    "target_status",
    "target_note",
    "envelope_ha",
    "guarantee_included",
    "guarantee_applied",
    "guarantee_status",
    "guarantee_floor_ha",
    "guaranteed_ha",
    "guarantee_pooling",
    "guarantee_reserved_ha",
    "allowance_ha",
    "pene_built_ha",
    "pene_planned_ha",
    "consumed_ha",
    "committed_ha",
    "excluded_ha",
    "remaining_ha",
    "pace_ha_per_year",
    "projected_end_ha",
    "end_year",
    "status",
)
POOL_ID = "pool_id"
COMMITTED_HA = "committed_ha"
EXCLUDED_HA = "excluded_ha"
PENE_HA = "pene_ha"
#: Column of committed projects and placements naming their category (see ``exclusions``).
CATEGORY = Col.CATEGORY
RENATURED_HA = "renatured_ha"
#: French labels of the ``status`` codes, for people.
STATUS_LABELS: dict[str, str] = {
    "on track": "dans l'enveloppe",
    "at risk": "à risque",
    "exceeded": "dépassée",
    "incomplete": "données incomplètes",
}
_M2_PER_HA = 1e4
_EPS_HA = 1e-9
_SUMMED = (
    "baseline_ha",
    "envelope_ha",
    "guarantee_reserved_ha",
    "allowance_ha",
    "pene_built_ha",
    "pene_planned_ha",
    "consumed_ha",
    "committed_ha",
    "excluded_ha",
    "remaining_ha",
    "pace_ha_per_year",
    "projected_end_ha",
)


class MissingEnafWarning(FoncierWarning):
    """Some communes lack ENAF consumption figures for years the accounting needs."""


def _check_pool(pool: str) -> None:
    if pool not in POOL_LEVELS:
        msg = f"pool doit valoir l'un de {list(POOL_LEVELS)} ; reçu {pool!r}"
        raise LayerSchemaError(msg)


def _require(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        msg = (
            f"table {name} : colonne(s) manquante(s) {missing} ; "
            f"attendu au moins {list(columns)}, reçu {list(table.columns)}"
        )
        raise LayerSchemaError(msg)


def _communes_table(communes: pd.DataFrame) -> pd.DataFrame:
    _require(communes, "communes", (Col.INSEE, Col.NAME, Col.EPCI))
    table = pd.DataFrame(communes.drop(columns=Col.GEOMETRY, errors="ignore")).copy()
    table[Col.INSEE] = normalise_insee(table[Col.INSEE])
    scot = table[Col.SCOT] if Col.SCOT in table else pd.Series(np.nan, index=table.index)
    # Cerema files write "" for a commune outside any SCoT.
    table[Col.SCOT] = scot.where(scot.astype(str).str.strip() != "").astype("str")
    plan = table.get(Col.HAS_PLANNING_DOC, pd.Series(pd.NA, index=table.index))
    table[Col.HAS_PLANNING_DOC] = plan.astype("boolean")  # NA: unknown
    dup = table[Col.INSEE][table[Col.INSEE].duplicated()]
    if len(dup):
        msg = f"table des communes : codes INSEE en double {sorted(set(dup))[:5]}"
        raise LayerSchemaError(msg)
    return table.set_index(Col.INSEE, drop=False)


def pool_ids(communes: pd.DataFrame, pool: str) -> pd.Series:
    """Budget pool of each commune.

    Parameters
    ----------
    communes
        Communes layer or table with ``insee``, ``name``, ``epci`` and
        optionally ``scot``.
    pool
        ``commune`` (the INSEE code), ``epci`` (the EPCI SIREN) or ``scot``
        (the ``scot`` value; a commune outside any SCoT is its own pool).

    Returns
    -------
    pandas.Series
        Pool id (str) indexed by INSEE code, named ``pool_id``.

    Raises
    ------
    LayerSchemaError
        Unknown pool level or missing column.

    Examples
    --------
    >>> communes = pd.DataFrame({"insee": ["30007"], "name": ["Alès"], "epci": ["200066918"]})
    >>> pool_ids(communes, "epci").to_dict()
    {'30007': '200066918'}
    """
    _check_pool(pool)
    table = _communes_table(communes)
    if pool == "commune":
        ids = table[Col.INSEE]
    elif pool == "epci":
        ids = table[Col.EPCI].astype(str)
    else:
        ids = table[Col.SCOT].where(table[Col.SCOT].notna(), table[Col.INSEE]).astype(str)
    return pd.Series(ids.to_numpy(), index=table.index, name=POOL_ID, dtype="str")


def _pool_names(table: pd.DataFrame, pool: str, ids: pd.Series) -> pd.Series:
    if pool == "commune":
        names = table[Col.NAME]
    elif pool == "epci":
        named = table["epci_name"] if "epci_name" in table else pd.Series(np.nan, index=table.index)
        names = named.where(named.notna(), "EPCI " + table[Col.EPCI].astype(str))
    else:
        names = table[Col.SCOT].where(table[Col.SCOT].notna(), "hors SCoT : " + table[Col.NAME])
    return pd.Series(names.to_numpy(), index=ids.to_numpy()).groupby(level=0).first()


def read_committed(path: str | Path) -> pd.DataFrame:
    """Read a table of committed projects (decided, not yet built).

    Parameters
    ----------
    path
        A ``,`` or ``;``-separated UTF-8 CSV with columns ``insee`` and
        ``committed_ha`` (ENAF the project will consume, ha), optionally
        ``label`` and ``renatured_ha`` (ha renatured by the project,
        deducted when the rule set credits renaturation).

    Returns
    -------
    pandas.DataFrame
        Columns ``insee`` (str), ``committed_ha``, ``renatured_ha`` (float),
        ``label``; several rows per commune are allowed.

    Raises
    ------
    DataSourceError
        Unreadable file.
    LayerSchemaError
        Missing column, non-numeric or negative hectares.
    """
    return _read_hectares(path, "des projets engagés", _committed_table)


def _read_hectares(
    path: str | Path, what: str, parse: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """Read a CSV of hectares per commune (column names lower-cased), parsed by ``parse``.

    A :class:`LayerSchemaError` of ``parse`` is raised again with the file's path.
    """
    path = Path(path)
    raw = read_csv_table(path, what)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    try:
        return parse(raw)
    except LayerSchemaError as exc:
        msg = f"{path}: {exc}"
        raise LayerSchemaError(msg) from exc


def _committed_table(raw: pd.DataFrame) -> pd.DataFrame:
    _require(raw, "des projets engagés", (Col.INSEE, COMMITTED_HA))
    out = pd.DataFrame({Col.INSEE: normalise_insee(raw[Col.INSEE])})
    for col in (COMMITTED_HA, RENATURED_HA):
        values = raw[col] if col in raw else pd.Series(0.0, index=raw.index)
        text = values.astype(str).str.strip().str.replace(",", ".", regex=False)
        num = pd.to_numeric(text.replace("", "0"), errors="coerce")
        bad = num.isna() | (num < 0)
        if bad.any():
            msg = (
                f"table des projets engagés, colonne {col!r} : des hectares positifs ou nuls "
                f"sont attendus ; reçu {values[bad].tolist()[:5]} pour les communes "
                f"{out.loc[bad, Col.INSEE].tolist()[:5]}"
            )
            raise LayerSchemaError(msg)
        out[col] = num.astype("float64").to_numpy()
    out["label"] = raw["label"].astype(str) if "label" in raw else ""
    out[CATEGORY] = raw[CATEGORY].astype(str).str.strip() if CATEGORY in raw else ""
    return out


_BUILT = {"built", "realise", "réalisé", "realisé", "construit"}
_PLANNED = {"planned", "prevu", "prévu", "projet", "en projet"}


def read_pene(path: str | Path) -> pd.DataFrame:
    """Read a list of PENE (projets d'envergure nationale ou européenne) in the territory.

    Parameters
    ----------
    path
        A ``,`` or ``;``-separated UTF-8 CSV with columns ``insee``,
        ``pene_ha`` (ENAF the project consumes, ha), ``state`` (``built`` /
        ``réalisé`` or ``planned`` / ``prévu``), ``year`` (year its
        consumption was measured, for a built one), optionally ``label``.

    Returns
    -------
    pandas.DataFrame
        Columns ``insee``, ``pene_ha`` (float), ``state`` (``built`` or
        ``planned``), ``year`` (nullable int), ``label``.

    Raises
    ------
    DataSourceError
        Unreadable file.
    LayerSchemaError
        Missing column, negative hectares, unknown state, a built PENE with no year.
    """
    return _read_hectares(path, "des PENE", _pene_table)


def _pene_table(raw: pd.DataFrame) -> pd.DataFrame:
    _require(raw, "PENE", (Col.INSEE, PENE_HA, "state"))
    hectares = pd.to_numeric(
        raw[PENE_HA].astype(str).str.strip().str.replace(",", ".", regex=False), errors="coerce"
    )
    state = raw["state"].astype(str).str.strip().str.lower()
    kind = np.select([state.isin(_BUILT), state.isin(_PLANNED)], ["built", "planned"], "")
    year = pd.to_numeric(raw["year"], errors="coerce") if "year" in raw else pd.Series(np.nan)
    year = year.reindex(raw.index)
    problems = {
        f"colonne {PENE_HA!r} : des hectares >= 0": hectares.isna() | (hectares < 0),
        "colonne 'state' : built / réalisé ou planned / prévu": pd.Series(kind == "").set_axis(
            raw.index
        ),
        "colonne 'year' : l'année de consommation d'un PENE réalisé": pd.Series(
            (kind == "built") & year.isna().to_numpy()
        ).set_axis(raw.index),
    }
    for what, bad in problems.items():
        if bad.any():
            msg = (
                f"PENE table, {what} attendus ; lignes {(raw.index[bad] + 2).tolist()[:5]} "
                f"(communes {raw.loc[bad, Col.INSEE].astype(str).tolist()[:5]})"
            )
            raise LayerSchemaError(msg)
    return pd.DataFrame(
        {
            Col.INSEE: normalise_insee(raw[Col.INSEE]),
            PENE_HA: hectares.astype("float64"),
            "state": pd.Series(kind, index=raw.index, dtype="str"),
            Col.YEAR: year.astype("Int64"),
            "label": raw["label"].astype(str) if "label" in raw else "",
        }
    )


def _off_local(
    table: pd.DataFrame,
    rules: RuleSet,
    committed: pd.DataFrame | None,
    pene: pd.DataFrame | None,
    period: tuple[int, int],
) -> pd.DataFrame:
    """Per commune: committed ha charged locally, excluded ha, PENE built and planned.

    A PENE counts as built in the flows when its year lies in ``period``
    (start of the target period → end of the data); a PENE built later is
    not in the data yet and is counted with the planned ones.
    """
    out = pd.DataFrame(
        0.0, index=table.index, columns=[COMMITTED_HA, EXCLUDED_HA, "built", "planned"]
    )
    for name, frame in (("des projets engagés", committed), ("des PENE", pene)):
        if frame is not None:
            unknown = sorted(set(normalise_insee(frame[Col.INSEE])) - set(table.index))
            if unknown:
                msg = f"la table {name} nomme des communes hors du territoire : {unknown[:5]}"
                raise NotFoundError(msg)
    if committed is not None:
        c = _committed_table(committed)
        net = c[COMMITTED_HA] - (c[RENATURED_HA] if rules.renaturation_credit else 0.0)
        excluded = c[CATEGORY].isin(rules.excluded_categories)
        by = c[Col.INSEE]
        out[COMMITTED_HA] = (
            net.where(~excluded, 0.0).groupby(by).sum().reindex(out.index, fill_value=0.0)
        )
        out[EXCLUDED_HA] = (
            net.where(excluded, 0.0).groupby(by).sum().reindex(out.index, fill_value=0.0)
        )
    if pene is not None:
        p = _pene_table(pene)
        year = p[Col.YEAR].astype("float64")
        in_data = (p["state"] == "built") & (year >= period[0]) & (year < period[1])
        by = p[Col.INSEE]
        out["built"] = (
            p[PENE_HA].where(in_data, 0.0).groupby(by).sum().reindex(out.index, fill_value=0.0)
        )
        later = (p["state"] == "planned") | ((p["state"] == "built") & (year >= period[1]))
        out["planned"] = (
            p[PENE_HA].where(later, 0.0).groupby(by).sum().reindex(out.index, fill_value=0.0)
        )
    return out


def _vintage(enaf: pd.DataFrame, vintage: EnafVintage | None) -> EnafVintage:
    if vintage is not None:
        return vintage
    found = enaf.attrs.get("vintage")
    if isinstance(found, EnafVintage):
        return found
    if enaf.empty:
        msg = (
            "la table de consommation d'ENAF est vide (empty) ; le bilan ZAN a besoin des "
            "chiffres du Cerema"
        )
        raise DataSourceError(msg)
    years = enaf[Col.YEAR].astype(int)
    return EnafVintage(int(years.min()), int(years.max()) + 1)


def _wide_flows(enaf: pd.DataFrame, insee: pd.Index, years: range) -> pd.DataFrame:
    """Flows in ha, one row per commune, one column per year; NaN where absent."""
    _require(enaf, "enaf_consumption", (Col.INSEE, Col.YEAR, Col.ENAF_M2))
    table = pd.DataFrame(
        {
            Col.INSEE: normalise_insee(enaf[Col.INSEE]),
            Col.YEAR: enaf[Col.YEAR].astype(int),
            Col.ENAF_M2: pd.to_numeric(enaf[Col.ENAF_M2], errors="coerce"),
        }
    )
    dup = table.duplicated([Col.INSEE, Col.YEAR])
    if dup.any():
        keys = (table.loc[dup, Col.INSEE] + "/" + table.loc[dup, Col.YEAR].astype(str)).tolist()
        msg = (
            "table enaf_consumption : plusieurs lignes pour une même commune et une même "
            f"année : {keys[:5]}"
        )
        raise LayerSchemaError(msg)
    wide = table.pivot(index=Col.INSEE, columns=Col.YEAR, values=Col.ENAF_M2)
    return wide.reindex(index=insee, columns=list(years)) / _M2_PER_HA


def _status(envelope: pd.Series, remaining: pd.Series, projected: pd.Series) -> pd.Series:
    """Status of each budget; no projection (no year of data in the period) is ``incomplete``."""
    status = np.select(
        [
            envelope.isna() | remaining.isna() | projected.isna(),
            remaining < -_EPS_HA,
            projected > envelope + _EPS_HA,
        ],
        ["incomplete", "exceeded", "at risk"],
        default="on track",
    )
    return pd.Series(status, index=envelope.index, dtype="str")


def _stamp(
    df: pd.DataFrame, rules: RuleSet, vintage: EnafVintage, pool: str, **extra: Any
) -> pd.DataFrame:
    df.attrs.update(
        {
            "rules": rules.name,
            "rules_version": rules.version,
            "enaf_vintage": vintage.label,
            "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pool": pool,
            **extra,
        }
    )
    return df


def _missing_years(wide: pd.DataFrame) -> dict[str, list[int]]:
    gaps = wide.isna()
    return {
        str(insee): [int(y) for y in wide.columns[row]]
        for insee, row in zip(gaps.index, gaps.to_numpy(), strict=True)
        if row.any()
    }


def _warn_missing(missing: dict[str, list[int]]) -> None:
    shown = "; ".join(
        f"{k} ({', '.join(map(str, v[:4]))}{'…' if len(v) > 4 else ''})"
        for k, v in list(missing.items())[:5]
    )
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    warnings.warn(
        f"ENAF consumption is missing for {len(missing)} commune(s) in years the ZAN "
        f"accounting needs: {shown}{more}. Their budgets are left blank (NaN, status "
        "'incomplete'), never read as zero; complete the Cerema table to compute them.",
        MissingEnafWarning,
        stacklevel=3,
    )


def _commune_rows(
    table: pd.DataFrame,
    enaf: pd.DataFrame,
    rules: RuleSet,
    committed: pd.DataFrame | None,
    vintage: EnafVintage,
    eligibility: pd.DataFrame,
    apply_unknown: bool,
    pene: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.Series, dict[str, list[int]]]:
    """Per-commune figures, what each commune would keep out of a pool, the missing years."""
    ref0, ref1 = rules.reference_period
    t0, t1 = rules.target_period
    end = max(t0, min(vintage.end_year, t1))
    wide = _wide_flows(enaf, table.index, range(ref0, max(ref1, end)))
    needed = wide[list(range(ref0, ref1)) + list(range(t0, end))]
    missing = _missing_years(needed)
    baseline = wide[list(range(ref0, ref1))].sum(axis=1, skipna=False)
    consumed = wide[list(range(t0, end))].sum(axis=1, skipna=False)
    status = pd.Series(eligibility["guarantee_status"].to_numpy(), index=table.index)
    eligible = (status == "yes") | ((status == "unknown") & apply_unknown)
    delegated = pd.Series(eligibility[Col.DELEGATED_COMMUNES].to_numpy(), index=table.index)
    floor = (
        rules.communal_guarantee_ha + rules.guarantee_per_delegated_commune_ha * delegated
    ).where(eligible, 0.0)
    targets = commune_targets(rules, table, baseline, floor)
    rate = targets["reduction_rate"]
    # the reference pace over the target period's years, reduced
    raw_envelope = baseline * period_factor(rules) * (1.0 - rate)
    lifted = eligible & (raw_envelope < floor)
    lift = (floor - raw_envelope).where(lifted, 0.0)
    envelope = raw_envelope + lift
    asked = pd.Series(eligibility[Col.GUARANTEE_POOLING].to_numpy(), index=table.index)
    pooling = asked.astype("boolean").fillna(rules.guarantee_pooled).astype(bool)
    off = _off_local(table, rules, committed, pene, (t0, end))
    # PENE: built ones are inside the Cerema flows, planned ones not yet; with pene_excluded
    # both are off the local budget, otherwise the planned ones are charged as committed
    if rules.pene_excluded:
        consumed = consumed - off["built"]
        committed_ha = off[COMMITTED_HA]
    else:
        committed_ha = off[COMMITTED_HA] + off["planned"]
    allowance = envelope * rules.local_overshoot_pct / 100.0
    envelope = envelope + allowance
    # A commune that did not ask to pool keeps, in a pooled budget, the guaranteed hectares
    # its own consumption and committed projects have not used.
    own_used = (consumed + committed_ha - raw_envelope).clip(lower=0.0).clip(upper=lift)
    reserve = (lift - own_used).where(lifted & ~pooling, 0.0)
    n_years = end - t0
    pace = consumed / n_years if n_years else pd.Series(np.nan, index=table.index)
    projected = consumed + pace * (t1 - end)
    remaining = envelope - consumed - committed_ha
    rows = pd.DataFrame(
        {
            "insee": table.index.astype("str"),
            "name": table[Col.NAME].astype("str"),
            "baseline_ha": baseline,
            "reduction_rate": rate,
            "target_level": targets["target_level"],
            "target_status": targets["target_status"],
            "target_note": targets["target_note"],
            "envelope_ha": envelope,
            "guarantee_included": targets["guarantee_included"],
            "guarantee_applied": lifted,
            "guarantee_status": status.astype("str"),
            "guarantee_floor_ha": floor.astype("float64"),
            "guaranteed_ha": lift,
            "guarantee_pooling": pooling & eligible,
            "guarantee_reserved_ha": 0.0,
            "allowance_ha": allowance,
            "pene_built_ha": off["built"],
            "pene_planned_ha": off["planned"],
            "consumed_ha": consumed,
            "committed_ha": committed_ha,
            "excluded_ha": off[EXCLUDED_HA],
            "remaining_ha": remaining,
            "pace_ha_per_year": pace,
            "projected_end_ha": projected,
            "end_year": t1,
        },
        index=table.index,
    )
    rows["status"] = _status(envelope, remaining, projected)
    return rows, reserve, missing


def _pool_status(statuses: pd.Series) -> str:
    """A code of a pool (guarantee status, target level…): its members' one, or ``mixed``."""
    found = statuses.unique()
    return str(found[0]) if len(found) == 1 else "mixed"


def _pool_note(notes: pd.Series) -> str:
    """The target of a pool: its members' one, or how many differ."""
    found = notes.unique()
    if len(found) == 1:
        return str(found[0])
    return f"{len(found)} cibles différentes selon les communes (voir le tableau par commune)"


def _pool_rows(
    rows: pd.DataFrame, reserve: pd.Series, table: pd.DataFrame, pool: str, rules: RuleSet
) -> pd.DataFrame:
    ids = pool_ids(table, pool)
    frame = rows.copy()
    frame["envelope_ha"] -= reserve
    frame["remaining_ha"] -= reserve
    frame["guarantee_reserved_ha"] = reserve
    frame["raw_envelope_ha"] = rows["envelope_ha"] - rows["guaranteed_ha"] - rows["allowance_ha"]
    keys = ids.reindex(frame.index).to_numpy()
    group = frame.groupby(keys, sort=True)
    cols = [*_SUMMED, "raw_envelope_ha"]
    sums = group[cols].sum().mask(frame[cols].isna().groupby(keys, sort=True).any())
    weighted = 1.0 - sums["raw_envelope_ha"] / (sums["baseline_ha"] * period_factor(rules))
    mean_rate = group["reduction_rate"].mean()
    rate = weighted.where(sums["baseline_ha"] > 0, mean_rate)
    names = _pool_names(table, pool, ids)
    out = pd.DataFrame(
        {
            "insee": sums.index.astype("str"),
            "name": names.reindex(sums.index).astype("str").to_numpy(),
            "baseline_ha": sums["baseline_ha"],
            "reduction_rate": rate,
            "target_level": group["target_level"].agg(_pool_status),
            "target_status": group["target_status"].agg(_pool_status),
            "target_note": group["target_note"].agg(_pool_note),
            "envelope_ha": sums["envelope_ha"],
            "guarantee_included": group["guarantee_included"].any(),
            "guarantee_applied": group["guarantee_applied"].any(),
            "guarantee_status": group["guarantee_status"].agg(_pool_status),
            "guarantee_floor_ha": group["guarantee_floor_ha"].sum(),
            "guaranteed_ha": group["guaranteed_ha"].sum(),
            "guarantee_pooling": group["guarantee_pooling"].any(),
            **{c: sums[c] for c in _SUMMED[2:]},
            "end_year": group["end_year"].first(),
        },
        index=sums.index,
    )
    out["status"] = _status(out["envelope_ha"], out["remaining_ha"], out["projected_end_ha"])
    return out[list(BUDGET_COLUMNS)]


def commune_budgets(
    communes: pd.DataFrame,
    enaf: pd.DataFrame,
    rules: RuleSet | None = None,
    committed: pd.DataFrame | None = None,
    vintage: EnafVintage | None = None,
    *,
    pool: str = "commune",
    planning_docs: pd.DataFrame | None = None,
    guarantee_unknown: str | None = None,
    pene: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Budget table from explicit communes and ENAF consumption tables.

    Per commune: ``baseline_ha`` = sum of the reference flows (2011 … 2020);
    ``envelope_ha`` = ``baseline_ha / reference years × target years × (1 −
    reduction_rate)``, raised to ``guarantee_floor_ha`` for communes eligible
    to the garantie communale (``guarantee_status`` ``yes``, from
    ``planning_docs`` and the rule set's ``guarantee_deadline``, else from
    ``has_planning_doc``; a commune of ``unknown`` status is lifted only
    under ``guarantee_unknown = "apply"``), ``guaranteed_ha`` being the
    hectares added; ``consumed_ha`` = flows from the start of the target
    period to the latest year; ``remaining_ha`` = ``envelope_ha −
    consumed_ha − committed_ha``; ``pace_ha_per_year`` = ``consumed_ha / n``
    (``n`` years of data in the target period); ``projected_end_ha`` =
    ``consumed_ha + pace_ha_per_year × (end_year − end)`` (``end`` = the
    1 January closing the last flow).  ``status`` is ``exceeded`` when
    ``consumed + committed > envelope``, else ``at risk`` when
    ``projected_end_ha > envelope_ha``, else ``on track`` (``incomplete``
    when figures or the projection are missing; see :data:`STATUS_LABELS`).

    Pooled rows (``pool`` = ``epci`` or ``scot``) sum their members, after the
    guarantee was applied to each commune, less the ``guarantee_reserved_ha``
    of members that did not ask to pool it (see the module docstring); their
    ``reduction_rate`` is the effective rate ``1 − Σ unlifted envelope / (Σ
    baseline × target years / reference years)`` and ``guarantee_applied``
    is true when any member was lifted, ``guarantee_pooling`` when any asked.

    Parameters
    ----------
    communes
        Communes layer or table: ``insee``, ``name``, ``epci``, optionally
        ``scot``, ``has_planning_doc`` (true, false or blank = unknown),
        ``epci_name``.
    enaf
        Tidy ENAF table: ``insee``, ``year`` (start of the flow), ``enaf_m2``.
    rules
        Rule set; ``None`` loads ``climat-resilience-2023``.
    committed
        Committed projects (see :func:`read_committed`): ``insee``,
        ``committed_ha``, optionally ``renatured_ha``.
    vintage
        Years covered by ``enaf``; taken from ``enaf.attrs["vintage"]`` or
        from its years when ``None``.
    pool
        ``commune``, ``epci`` or ``scot``.
    planning_docs
        Planning documents (see :func:`foncier.io.planning.read_planning_docs`);
        they decide each commune's ``guarantee_status``.
    guarantee_unknown
        ``refuse`` or ``apply`` (the guarantee of communes of unknown
        status); ``None`` uses the rule set's ``guarantee_unknown``.
    pene
        PENE of the territory (see :func:`read_pene`): with the rule set's
        ``pene_excluded``, the built ones whose year lies in the data of the
        target period are deducted from ``consumed_ha`` (the Cerema flows
        contain them; ``pene_built_ha``), the others (``pene_planned_ha``)
        are kept off the local budget; without it the planned ones are
        charged as committed.  Committed projects whose ``category`` is one
        of the rule set's ``exclusions`` are not charged (``excluded_ha``);
        ``allowance_ha`` = envelope × ``local_overshoot_pct`` / 100 is
        included in ``envelope_ha``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BUDGET_COLUMNS` then ``pool_id``, one row per commune
        or pool (for pools, ``insee`` holds the pool id and ``name`` a
        readable pool name).  ``attrs``: ``rules``, ``rules_version``,
        ``enaf_vintage``, ``computed_at``, ``pool``, ``missing_years``
        (INSEE → years absent), ``target_period``, ``end_year``,
        ``legal_status`` and ``legal_status_label`` (of the rule set),
        ``national_envelopes`` (hectares drawn from each),
        ``guarantee_unknown`` (the choice applied), ``guarantee_reasons``
        (INSEE → why its status, in French), ``code_mismatch``
        (``only_communes``, ``only_enaf``: codes on one side only; ``common``)
        and ``assumptions`` (the French "hypothèses", see the module docstring).
        Pooled rows' ``guarantee_status`` is their members' one, or ``mixed``.

    Raises
    ------
    LayerSchemaError
        A missing column, duplicate rows, an unknown pool level.
    NotFoundError
        Committed projects in a commune that is not in ``communes``.
    DataSourceError
        No commune code in common between ``communes`` and ``enaf``.
    RuleSetError
        ``guarantee_unknown`` is neither ``refuse`` nor ``apply``.

    Warns
    -----
    MissingEnafWarning
        Communes lacking years of ENAF data; their figures are NaN.

    Examples
    --------
    >>> communes = pd.DataFrame({"insee": ["30007"], "name": ["Alès"], "epci": ["200066918"]})
    >>> enaf = pd.DataFrame({"insee": "30007", "year": range(2011, 2024), "enaf_m2": 340.0})
    >>> row = commune_budgets(communes, enaf).iloc[0]
    >>> round(float(row.envelope_ha), 6), row.guarantee_status, bool(row.guarantee_applied)
    (0.17, 'unknown', False)
    >>> row = commune_budgets(communes, enaf, guarantee_unknown="apply").iloc[0]
    >>> round(float(row.envelope_ha), 6), round(float(row.guaranteed_ha), 6)
    (1.0, 0.83)
    """
    _check_pool(pool)
    rules = rules if rules is not None else load_rules()
    apply_unknown = (
        check_guarantee_unknown(guarantee_unknown)
        if guarantee_unknown is not None
        else rules.guarantee_unknown
    ) == "apply"
    table = _communes_table(communes)
    found_vintage = _vintage(enaf, vintage)
    mismatch = code_mismatch(table.index, enaf[Col.INSEE]) if len(enaf) else None
    if mismatch is not None and mismatch.common == 0 and len(table):
        msg = (
            "aucun code INSEE en commun entre la table des communes "
            f"({_first(list(mismatch.only_communes))}) et la consommation ENAF "
            f"({_first(list(mismatch.only_enaf))}) : ces données ne décrivent pas le même "
            "territoire"
        )
        raise DataSourceError(msg)
    eligibility = guarantee_eligibility(table, planning_docs, rules.guarantee_deadline)
    rows, reserve, missing = _commune_rows(
        table, enaf, rules, committed, found_vintage, eligibility, apply_unknown, pene
    )
    if missing:
        _warn_missing(missing)
    out = rows if pool == "commune" else _pool_rows(rows, reserve, table, pool, rules)
    out = out.reset_index(drop=True)
    out[POOL_ID] = out["insee"]
    assumptions = _assumptions(rows, rules, apply_unknown, mismatch, found_vintage, missing)
    if pool != "commune":
        assumptions.extend(_pooling_assumptions(rows, eligibility, rules))
    assumptions[:0] = _legal_assumptions(rules)
    return _stamp(
        out[[*BUDGET_COLUMNS, POOL_ID]],
        rules,
        found_vintage,
        pool,
        missing_years=missing,
        target_period=list(rules.target_period),
        reference_period=list(rules.reference_period),
        legal_status=rules.legal_status,
        legal_status_label=LEGAL_STATUS_LABELS[rules.legal_status],
        national_envelopes=_national_draws(rows, rules),
        end_year=rules.target_period[1],
        guarantee_unknown="apply" if apply_unknown else "refuse",
        guarantee_reasons=eligibility["guarantee_reason"].astype(str).to_dict(),
        code_mismatch={
            "only_communes": list(mismatch.only_communes) if mismatch is not None else [],
            "only_enaf": list(mismatch.only_enaf) if mismatch is not None else [],
            "common": mismatch.common if mismatch is not None else 0,
        },
        assumptions=assumptions,
    )


def _national_draws(rows: pd.DataFrame, rules: RuleSet) -> list[dict[str, Any]]:
    """Hectares the territory draws from each national envelope of the rule set."""
    out = []
    pene = float(rows["pene_built_ha"].sum() + rows["pene_planned_ha"].sum())
    excluded = float(rows["excluded_ha"].sum())
    for e in rules.national_envelopes:
        drawn = (pene if "pene" in e.categories and rules.pene_excluded else 0.0) + (
            excluded if set(e.categories) & rules.excluded_categories else 0.0
        )
        out.append(
            {
                "name": e.name,
                "envelope_ha": e.envelope_ha,
                "drawn_ha": drawn,
                "legal_status": e.legal_status,
                "legal_status_label": LEGAL_STATUS_LABELS[e.legal_status],
                "article": e.article,
            }
        )
    return out


def _legal_assumptions(rules: RuleSet) -> list[dict[str, Any]]:
    """What in the rule set is not the law in force: the whole set, or some of its rules."""
    label = LEGAL_STATUS_LABELS["bill"]
    if rules.legal_status == "bill":
        text = (
            f"Règles « {rules.name} » : {label} ; ces chiffres disent ce que deviendraient les "
            "budgets si le texte était adopté, pas le droit applicable"
        )
        return [_assumption("rules_not_in_force", [], text)]
    parts = [f"exclusion « {e.category} »" for e in rules.exclusions if e.legal_status == "bill"]
    parts += [f"enveloppe {e.name}" for e in rules.national_envelopes if e.legal_status == "bill"]
    if rules.local_overshoot_pct and rules.local_overshoot_status == "bill":
        parts.append(f"dépassement de {fr_number(rules.local_overshoot_pct, 0)} %")
    if not parts:
        return []
    text = f"Règles « {rules.name} » : {', '.join(parts)} : {label}"
    return [_assumption("rules_partly_not_in_force", [], text)]


def _pooling_assumptions(
    rows: pd.DataFrame, eligibility: pd.DataFrame, rules: RuleSet
) -> list[dict[str, Any]]:
    """Which communes' guarantee a pooled budget counts, when their request is not recorded."""
    lifted = rows["guarantee_applied"].to_numpy(dtype=bool)
    unrecorded = eligibility[Col.GUARANTEE_POOLING].isna().to_numpy() & lifted
    if not unrecorded.any():
        return []
    codes = rows.index[unrecorded].astype(str).tolist()
    if rules.guarantee_pooled:
        done = "comptée dans le budget mutualisé par hypothèse (guarantee_pooled = true)"
    else:
        done = (
            "gardée par chaque commune, hors du budget mutualisé, pour la part que sa propre "
            "consommation n'a pas utilisée (guarantee_pooled = false)"
        )
    text = (
        f"{len(codes)} commune(s) à la garantie communale appliquée sans demande de "
        f"mutualisation connue ({_first(codes)}) : leur garantie est {done} ; indiquez leur "
        "demande dans la colonne « mutualisation » des documents d'urbanisme"
    )
    return [_assumption("guarantee_pooling_unknown", codes, text)]


def _first(codes: list[str], n: int = 5) -> str:
    return ", ".join(codes[:n]) + (" …" if len(codes) > n else "")


def _assumption(key: str, communes: list[str], text: str) -> dict[str, Any]:
    return {"key": key, "count": len(communes), "communes": communes, "text": text}


def _assumptions(
    rows: pd.DataFrame,
    rules: RuleSet,
    apply_unknown: bool,
    mismatch: CodeMismatch | None,
    vintage: EnafVintage,
    missing: dict[str, list[int]],
) -> list[dict[str, Any]]:
    """The French "hypothèses" of a budget table (see the module docstring)."""
    out = []
    unknown = rows["guarantee_status"] == "unknown"
    if unknown.any():
        codes = rows.index[unknown].astype(str).tolist()
        raw = rows["envelope_ha"] - rows["guaranteed_ha"] - rows["allowance_ha"]
        short = unknown & (raw < rules.communal_guarantee_ha)
        gap = float((rules.communal_guarantee_ha - raw[short]).sum())
        ha = fr_number(rules.communal_guarantee_ha, 2, "ha")
        lead = (
            f"{len(codes)} commune(s) sans information sur leur document d'urbanisme "
            f"(statut inconnu : {_first(codes)})"
        )
        if apply_unknown:
            text = (
                f"{lead} : garantie communale de {ha} appliquée par hypothèse "
                f"(guarantee_unknown = apply) ; elle relève {int(short.sum())} enveloppe(s) "
                f"de {fr_number(gap, 2, 'ha')} au total"
            )
            out.append(_assumption("guarantee_unknown_applied", codes, text))
        else:
            text = (
                f"{lead} : garantie communale de {ha} non appliquée ; "
                f"{int(short.sum())} d'entre elles auraient une enveloppe relevée de "
                f"{fr_number(gap, 2, 'ha')} au total si elles y avaient droit "
                "(fournissez leurs documents d'urbanisme : foncier import --planning-docs)"
            )
            out.append(_assumption("guarantee_unknown_refused", codes, text))
    pending = rows["target_status"] != "adopted"
    if pending.any():
        codes = rows.index[pending].astype(str).tolist()
        text = (
            f"{len(codes)} commune(s) dont l'enveloppe repose sur une cible territorialisée non "
            f"adoptée (projet arrêté ou proposée : {_first(codes)}) ; voir la colonne target_note"
        )
        out.append(_assumption("target_not_adopted", codes, text))
    if mismatch is not None and mismatch.only_communes:
        codes = list(mismatch.only_communes)
        out.append(_assumption("communes_without_enaf", codes, mismatch.lines()[0]))
    if mismatch is not None and mismatch.only_enaf:
        codes = list(mismatch.only_enaf)
        out.append(_assumption("enaf_without_commune", codes, mismatch.lines()[-1]))
    if missing:
        codes = sorted(missing)
        text = (
            f"{len(codes)} commune(s) aux années de consommation ENAF manquantes "
            f"({_first(codes)}) : budgets laissés vides, jamais comptés comme nuls"
        )
        out.append(_assumption("missing_years", codes, text))
    t0, t1 = rules.target_period
    end = max(t0, min(vintage.end_year, t1))
    if end > t0:
        since = f"consommation depuis {t0} comptée sur {t0}-{end - 1} ({end - t0} an(s))"
        if end < t1:
            since += f", projetée à {t1} au rythme moyen de ces années"
    else:
        since = f"aucune année de consommation depuis {t0} dans les données"
    out.append(
        _assumption(
            "enaf_vintage",
            [],
            f"Données ENAF {vintage.label} (flux annuels du 1er janvier {vintage.first_year} "
            f"au 1er janvier {vintage.end_year}) : {since}",
        )
    )
    return out


def _tables(
    territory: Territory | tuple[pd.DataFrame, pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame, EnafVintage | None]:
    if isinstance(territory, tuple):
        communes, enaf = territory
        return communes, enaf, None
    return territory.commune_table(), territory.enaf_consumption, territory.enaf_vintage


def _planning_docs(
    territory: Territory | tuple[pd.DataFrame, pd.DataFrame],
) -> pd.DataFrame | None:
    """The territory's planning documents (``None`` for a ``(communes, enaf)`` pair)."""
    return None if isinstance(territory, tuple) else territory.planning_docs


def budget_table(
    territory: Territory | tuple[pd.DataFrame, pd.DataFrame],
    rules: RuleSet | None = None,
    *,
    pool: str | None = None,
    committed: pd.DataFrame | None = None,
    guarantee_unknown: str | None = None,
    pene: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """ZAN budget of each commune or pool of a territory.

    See :func:`commune_budgets` for the formulas (in short: ``envelope =
    max(baseline / reference years × target years × (1 − rate), floor)`` for
    the communes eligible to the guarantee, ``remaining = envelope − consumed
    − committed``, ``projected_end = consumed + pace × (end_year − end)``).  The communes come
    from the communes layer, or from the Cerema file when the territory has
    no commune geometries; the guarantee follows the territory's planning
    documents.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`, or a ``(communes, enaf)`` pair.
    rules
        Rule set; ``None`` loads ``climat-resilience-2023``.
    pool
        ``commune``, ``epci`` or ``scot``; ``None`` uses the rule set's ``pool``.
    committed
        Committed projects (see :func:`read_committed`).
    guarantee_unknown
        ``refuse`` or ``apply``: what to do with the guarantee of communes of
        unknown planning status; ``None`` uses the rule set's.
    pene
        The territory's PENE (see :func:`read_pene`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BUDGET_COLUMNS` and ``pool_id``, with provenance and
        the assumptions in ``attrs`` (see :func:`commune_budgets`).

    Raises
    ------
    LayerSchemaError, NotFoundError, DataSourceError
        As :func:`commune_budgets`; ``DataSourceError`` when the territory has
        no ENAF consumption data.

    Warns
    -----
    MissingEnafWarning
        Communes lacking years of ENAF data.
    """
    rules = rules if rules is not None else load_rules()
    communes, enaf, vintage = _tables(territory)
    table = commune_budgets(
        communes,
        enaf,
        rules,
        committed,
        vintage,
        pool=pool if pool is not None else rules.pool,
        planning_docs=_planning_docs(territory),
        guarantee_unknown=guarantee_unknown,
        pene=pene,
    )
    if not isinstance(territory, tuple) and territory.communes_from_enaf:
        codes = communes[Col.INSEE].astype(str).tolist()
        text = (
            f"{len(codes)} communes, leur EPCI et leur SCoT lus dans le fichier Cerema "
            "(pas de contours communaux dans le territoire)"
        )
        table.attrs["assumptions"].insert(0, _assumption("communes_from_enaf", codes, text))
    return table
