"""Which land unit can host which project: hard requirements, candidate pairs, rejections.

(Longer than 600 lines on purpose: the unit and project arrays and the chunked
evaluation of the requirements are private types shared by the three readers
of that evaluation, :func:`candidate_pairs` with its rejection summaries,
:func:`feasibility_table` and :func:`pairwise_feasible`; splitting them would
make those types public for no other user.)

Every (project, unit) pair is tested against the project's hard requirements,
in this order (the first failed one is the reason a pair is rejected):

``zone``
    The unit's ``zone_type`` must be one of :attr:`Thresholds.compatible_zones`
    (U, AUc, AUs by default: A and N zones cannot host industry).
``area``
    ``net_area_ha`` of the unit ≥ the project's ``area_min_ha``.
``slope``
    ``slope_mean_pct`` of the unit ≤ the project's ``max_slope_pct``.  The
    mean slope is used, not the maximum: a platform is earthworked to the mean
    gradient, while the maximum of a 25 m DEM over a unit is dominated by
    embankments on its edges and by DEM noise.
``interchange``
    ``dist_interchange_km`` ≤ the project's ``max_dist_interchange_km``.
``rail``
    For a project with ``needs_rail``: ``dist_rail_freight_km`` ≤
    :attr:`Thresholds.rail_max_km` (2 km: the length of a private siding that
    is still financed in practice).
``seveso``
    For a Seveso project: ``dist_housing_km`` ≥
    :attr:`Thresholds.seveso_min_housing_km` (0.5 km, the order of magnitude of
    the effect distances of a Seveso seuil bas site).
``year``
    The year the unit can be built on (``reference_year`` + a lead time from
    its servicing stage, see :data:`LEAD_YEARS`, + 3 years in an AUs zone,
    which needs a change of the PLU, + 2 years for a friche, which needs
    demolition and remediation) ≤ the project's ``earliest_year``, the year
    it needs the land.  A "non aménageable" plot is never available.

A requirement the project does not state (missing limit) always holds.  When
the unit's value of a stated requirement is unknown (NaN), the pair is **not
rejected** but flagged *unverified*: the pair stays a candidate, each
unverified requirement lowers its score by
:attr:`foncier.scoring.Weights.unverified_penalty`, and the explanation says
which requirements must still be checked on site.

The feasible pairs are scored (:mod:`foncier.scoring`), priced in ENAF
(:class:`foncier.zan.charging.EnafCharging`) and pruned here
(:func:`candidate_pairs`); the French texts of a failed requirement come from
:mod:`foncier.texts`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from foncier.errors import LayerSchemaError
from foncier.layers import Col, UnitCol
from foncier.scoring import Weights, pair_criteria, score, unit_criteria
from foncier.texts import requirement_text
from foncier.zan.charging import EnafCharging, categories

__all__ = [
    "LEAD_YEARS",
    "REQUIREMENTS",
    "Rejections",
    "Thresholds",
    "candidate_pairs",
    "check_units",
    "feasibility_table",
    "one_project_pairs",
    "pairwise_feasible",
    "unit_arrays",
    "requirement_relaxations",
    "unverified_labels",
]


#: Hard requirements, in the order they are tested.
REQUIREMENTS: tuple[str, ...] = ("zone", "area", "slope", "interchange", "rail", "seveso", "year")

#: Years between the reference year and the year a unit can be built on, by
#: CNIG servicing stage (``terr_stade_amngt``).  "inconnu", "autre" and missing
#: stages are unknown (the ``year`` requirement is then unverified).
LEAD_YEARS: Mapping[str, float] = {
    "viabilisé et aménagé": 0.0,
    "viabilisé non aménagé": 1.0,
    "viabilisation en cours": 1.0,
    "sans objet": 1.0,
    "non aménagé, non viabilisé": 3.0,
    "non aménageable": np.inf,
}

_NO_LIMIT = 1e9


@dataclass(frozen=True)
class Thresholds:
    """Constants of the hard requirements (see the module docstring).

    Parameters
    ----------
    rail_max_km
        Largest distance to a rail-freight line for a project that needs rail.
    seveso_min_housing_km
        Smallest distance to housing for a Seveso project.
    reference_year
        Year the lead times are counted from.
    aus_lead_years
        Extra years for a unit in an AUs zone (PLU change needed).
    friche_lead_years
        Extra years for a friche (demolition, remediation).
    compatible_zones
        Zone types that can host an industrial project.
    """

    rail_max_km: float = 2.0
    seveso_min_housing_km: float = 0.5
    reference_year: int = 2026
    aus_lead_years: float = 3.0
    friche_lead_years: float = 2.0
    compatible_zones: tuple[str, ...] = ("U", "AUc", "AUs")


_UNIT_NUMERIC = (
    UnitCol.NET_AREA_HA,
    UnitCol.SLOPE_MEAN_PCT,
    UnitCol.DIST_INTERCHANGE_KM,
    UnitCol.DIST_RAIL_FREIGHT_KM,
    UnitCol.DIST_HOUSING_KM,
    UnitCol.ENAF_SHARE,
)


def check_units(units: pd.DataFrame) -> None:
    """Check that a land-units table has the columns the matching needs.

    Parameters
    ----------
    units
        Land units (see :func:`foncier.supply.land_units`).

    Raises
    ------
    LayerSchemaError
        A column is missing, or ``unit_id`` has duplicates.
    """
    needed = (UnitCol.UNIT_ID, Col.INSEE, Col.ZONE_TYPE, Col.SERVICING_STAGE, *_UNIT_NUMERIC)
    missing = [c for c in needed if c not in units.columns]
    if missing:
        msg = (
            f"land units miss the columns {missing}; expected at least {list(needed)}, "
            f"received {list(units.columns)}. Build them with foncier.supply.land_units."
        )
        raise LayerSchemaError(msg)
    dup = units[UnitCol.UNIT_ID].duplicated()
    if dup.any():
        msg = (
            "land units have duplicate unit_id values "
            f"{units.loc[dup, UnitCol.UNIT_ID].unique()[:5].tolist()}; "
            "each unit_id must identify one unit"
        )
        raise LayerSchemaError(msg)


def _num(df: pd.DataFrame, col: str, default: float = np.nan) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _flag(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return df[col].fillna(False).astype(bool).to_numpy()


@dataclass
class _UnitArrays:
    """Unit-side arrays of the requirements and criteria."""

    ids: np.ndarray
    insee: np.ndarray
    zone: np.ndarray
    net_area: np.ndarray
    slope: np.ndarray
    d_interchange: np.ndarray
    d_rail: np.ndarray
    d_housing: np.ndarray
    zone_ok: np.ndarray  # 1 ok, 0 incompatible, NaN unknown
    available_year: np.ndarray  # NaN unknown, inf never
    lead_years: np.ndarray
    enaf_share: np.ndarray
    is_friche: np.ndarray
    base_score: dict[str, np.ndarray] = field(default_factory=dict)


def _unit_arrays(units: pd.DataFrame, th: Thresholds) -> _UnitArrays:
    zone = units[Col.ZONE_TYPE].astype(object).to_numpy()
    zone_known = pd.notna(zone)
    zone_ok = np.where(zone_known, np.isin(zone, th.compatible_zones).astype(float), np.nan)
    stage = units[Col.SERVICING_STAGE].astype(object).map(dict(LEAD_YEARS))
    lead = pd.to_numeric(stage, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    is_friche = _flag(units, UnitCol.IS_FRICHE)
    lead = lead + np.where(zone == "AUs", th.aus_lead_years, 0.0)
    lead = lead + np.where(is_friche, th.friche_lead_years, 0.0)
    slope = _num(units, UnitCol.SLOPE_MEAN_PCT)
    d_inter = _num(units, UnitCol.DIST_INTERCHANGE_KM)
    enaf = _num(units, UnitCol.ENAF_SHARE)
    base = unit_criteria(
        slope_pct=slope,
        dist_interchange_km=d_inter,
        lead_years=lead,
        enaf_share=enaf,
        is_friche=is_friche,
        flood_share=_num(units, UnitCol.FLOOD_SHARE),
        natura2000_share=_num(units, UnitCol.NATURA2000_SHARE),
        compactness=_num(units, UnitCol.COMPACTNESS),
        completeness=_num(units, UnitCol.COMPLETENESS),
    )
    return _UnitArrays(
        ids=units[UnitCol.UNIT_ID].astype(str).to_numpy(),
        insee=units[Col.INSEE].astype(object).to_numpy(),
        zone=zone,
        # a unit's size is never assumed: unknown net area counts as 0 ha
        net_area=np.nan_to_num(_num(units, UnitCol.NET_AREA_HA), nan=0.0),
        slope=slope,
        d_interchange=d_inter,
        d_rail=_num(units, UnitCol.DIST_RAIL_FREIGHT_KM),
        d_housing=_num(units, UnitCol.DIST_HOUSING_KM),
        zone_ok=zone_ok,
        available_year=th.reference_year + lead,
        lead_years=lead,
        enaf_share=enaf,
        is_friche=is_friche,
        base_score=base,
    )


@dataclass
class _ProjectArrays:
    ids: np.ndarray
    area_min: np.ndarray
    area_max: np.ndarray
    max_slope: np.ndarray
    max_interchange: np.ndarray
    needs_rail: np.ndarray
    seveso: np.ndarray
    earliest: np.ndarray
    preferred: np.ndarray
    is_pene: np.ndarray
    jobs: np.ndarray
    category: np.ndarray


def _project_arrays(projects: pd.DataFrame) -> _ProjectArrays:
    area_min = _num(projects, Col.AREA_MIN_HA)
    area_max = _num(projects, Col.AREA_MAX_HA)
    return _ProjectArrays(
        ids=projects[Col.PROJECT_ID].astype(str).to_numpy(),
        area_min=area_min,
        area_max=np.where(np.isnan(area_max), area_min, area_max),
        max_slope=_num(projects, Col.MAX_SLOPE_PCT),
        max_interchange=_num(projects, Col.MAX_DIST_INTERCHANGE_KM),
        needs_rail=_flag(projects, Col.NEEDS_RAIL),
        seveso=_flag(projects, Col.SEVESO),
        earliest=_num(projects, Col.EARLIEST_YEAR),
        preferred=(
            projects[Col.PREFERRED_INSEE].astype(object).to_numpy()
            if Col.PREFERRED_INSEE in projects.columns
            else np.full(len(projects), None, dtype=object)
        ),
        is_pene=_flag(projects, Col.IS_PENE),
        jobs=np.nan_to_num(_num(projects, Col.JOBS), nan=0.0),
        category=categories(projects),
    )


def _record_arrays(project: Mapping[str, Any]) -> _ProjectArrays:
    """:func:`_project_arrays` of one validated project record, without a table."""

    def num(col: str) -> np.ndarray:
        value = project.get(col)
        return np.array([np.nan if value is None else float(value)])

    def flag(col: str) -> np.ndarray:
        return np.array([bool(project.get(col))])

    area_min = num(Col.AREA_MIN_HA)
    area_max = num(Col.AREA_MAX_HA)
    return _ProjectArrays(
        ids=np.array([str(project[Col.PROJECT_ID])], dtype=object),
        area_min=area_min,
        area_max=np.where(np.isnan(area_max), area_min, area_max),
        max_slope=num(Col.MAX_SLOPE_PCT),
        max_interchange=num(Col.MAX_DIST_INTERCHANGE_KM),
        needs_rail=flag(Col.NEEDS_RAIL),
        seveso=flag(Col.SEVESO),
        earliest=num(Col.EARLIEST_YEAR),
        preferred=np.array([project.get(Col.PREFERRED_INSEE)], dtype=object),
        is_pene=flag(Col.IS_PENE),
        jobs=np.nan_to_num(num(Col.JOBS), nan=0.0),
        category=np.array([_category(project.get(Col.CATEGORY))], dtype=object),
    )


def _category(value: Any) -> str | None:
    """A project's category as :func:`foncier.zan.charging.categories` reads it."""
    text = None if value is None or value != value else str(value).strip()  # NaN != NaN
    return text if text else None


def _take_projects(pa: _ProjectArrays, at: np.ndarray) -> _ProjectArrays:
    """The projects at positions ``at``."""
    return _ProjectArrays(**{name: values[at] for name, values in pa.__dict__.items()})


@dataclass
class _Requirement:
    """One requirement on a chunk: unit value (U,), project limit (P,), direction."""

    name: str
    value: np.ndarray
    limit: np.ndarray
    active: np.ndarray
    upper: bool  # True: fail when value > limit; False: fail when value < limit


def _requirements(
    pa: _ProjectArrays, ua: _UnitArrays, th: Thresholds, sl: slice
) -> list[_Requirement]:
    n = sl.stop - sl.start
    every = np.ones(n, dtype=bool)
    earliest = pa.earliest[sl]
    return [
        _Requirement("zone", ua.zone_ok, np.ones(n), every, upper=False),
        _Requirement("area", ua.net_area, pa.area_min[sl], every, upper=False),
        _Requirement("slope", ua.slope, pa.max_slope[sl], ~np.isnan(pa.max_slope[sl]), upper=True),
        _Requirement(
            "interchange",
            ua.d_interchange,
            pa.max_interchange[sl],
            ~np.isnan(pa.max_interchange[sl]),
            upper=True,
        ),
        _Requirement("rail", ua.d_rail, np.full(n, th.rail_max_km), pa.needs_rail[sl], upper=True),
        _Requirement(
            "seveso",
            ua.d_housing,
            np.full(n, th.seveso_min_housing_km),
            pa.seveso[sl],
            upper=False,
        ),
        # Every project: a "non aménageable" unit (inf) fails even without a stated year.
        _Requirement(
            "year",
            ua.available_year,
            np.where(np.isnan(earliest), _NO_LIMIT, earliest),
            every,
            upper=True,
        ),
    ]


@dataclass
class _ChunkResult:
    """Feasibility of a chunk of projects against every unit."""

    start: int
    fail: np.ndarray  # (R, P, U) bool
    unknown_bits: np.ndarray  # (P, U) int: bit r set when requirement r is unverified
    reqs: list[_Requirement]

    @property
    def feasible(self) -> np.ndarray:
        return np.logical_not(self.fail.any(axis=0))


def _evaluate(pa: _ProjectArrays, ua: _UnitArrays, th: Thresholds, sl: slice) -> _ChunkResult:
    reqs = _requirements(pa, ua, th, sl)
    n_p, n_u = sl.stop - sl.start, len(ua.ids)
    fail = np.zeros((len(reqs), n_p, n_u), dtype=bool)
    bits = np.zeros((n_p, n_u), dtype=np.int16)
    for r, req in enumerate(reqs):
        value, limit = req.value[None, :], req.limit[:, None]
        with np.errstate(invalid="ignore"):
            cmp = value > limit if req.upper else value < limit
        fail[r] = cmp & req.active[:, None]
        stated = req.active & (req.limit < _NO_LIMIT)
        unknown = np.isnan(req.value)[None, :] & stated[:, None]
        bits |= unknown.astype(np.int16) << r
    return _ChunkResult(sl.start, fail, bits, reqs)


#: Cells (projects × units) evaluated at once: bounds the memory of the boolean blocks.
_CELLS = 2_000_000
#: Cells of a block of requirement groups (their cumulative counts take 4 bytes per cell).
_GROUP_CELLS = 500_000
#: Cells of a block of projects × units scored at once with broadcasting (kept in cache).
_BLOCK_CELLS = 250_000
#: Feasible pairs pruned at once.
_PAIRS = 500_000


def _chunks(n_projects: int, n_units: int, cells: int | None = None) -> Iterator[slice]:
    step = max(1, (cells or _CELLS) // max(n_units, 1))
    for start in range(0, n_projects, step):
        yield slice(start, min(start + step, n_projects))


def unverified_labels(bits: np.ndarray) -> list[str]:
    """Names of the unverified requirements of each pair, ``,``-joined.

    Parameters
    ----------
    bits
        Bit masks (bit ``r`` = requirement ``REQUIREMENTS[r]`` unverified).

    Returns
    -------
    list of str
        E.g. ``"slope,year"``; ``""`` for a fully verified pair.
    """
    masks, at = np.unique(np.asarray(bits, dtype=int), return_inverse=True)
    names = np.array(
        [",".join(r for i, r in enumerate(REQUIREMENTS) if b >> i & 1) for b in masks.tolist()],
        dtype=object,
    )
    return names[at.reshape(-1)].tolist()


#: Number of unverified requirements of each bit mask (the mask's bit count).
_N_UNVERIFIED = np.array([bin(b).count("1") for b in range(1 << len(REQUIREMENTS))], dtype=float)


def _n_unverified(bits: np.ndarray) -> np.ndarray:
    """Number of unverified requirements of each pair, from its bit mask."""
    return _N_UNVERIFIED[np.asarray(bits, dtype=np.intp)]


def _commune_codes(pa: _ProjectArrays, ua: _UnitArrays) -> tuple[np.ndarray, np.ndarray]:
    """The units' communes and the projects' preferred ones as numbers, compared per pair.

    Codes index the units' distinct communes; a missing commune, or a preferred
    one no unit lies in, is NaN, which equals nothing (as a missing preferred
    commune matches no unit).
    """
    codes, communes = pd.factorize(pd.Series(ua.insee, dtype=object))
    preferred = pd.Index(communes, dtype=object).get_indexer(pa.preferred)
    return (
        np.where(codes >= 0, codes, np.nan),
        np.where(pd.notna(pa.preferred) & (preferred >= 0), preferred, np.nan),
    )


def _criteria(
    pa: _ProjectArrays,
    ua: _UnitArrays,
    p: np.ndarray,
    u: np.ndarray,
    bits: np.ndarray,
    communes: tuple[np.ndarray, np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """:func:`foncier.scoring.pair_criteria` of pairs (see :func:`_pair_columns`)."""
    unit_insee, preferred = communes if communes is not None else (ua.insee, pa.preferred)
    return pair_criteria(
        {name: values[u] for name, values in ua.base_score.items()},
        area_max_ha=pa.area_max[p],
        net_area_ha=ua.net_area[u],
        preferred_insee=preferred[p],
        insee=unit_insee[u],
        n_unverified=_n_unverified(bits),
    )


def _pair_columns(
    pa: _ProjectArrays,
    ua: _UnitArrays,
    p: np.ndarray,
    u: np.ndarray,
    bits: np.ndarray,
    weights: Weights,
    charging: EnafCharging,
    communes: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Columns of feasible pairs (score, ZAN cost…) and their criteria, as arrays.

    ``p``, ``u`` and ``bits`` are aligned, or broadcast against each other: a
    column of projects, a row of units and their bits give every pair of a
    block, each value computed as for the pair alone.  ``communes``:
    :func:`_commune_codes` of ``pa`` and ``ua``, for many pairs (comparing
    numbers instead of texts); by default the communes' texts.
    """
    crit = _criteria(pa, ua, p, u, bits, communes)
    excluded = charging.excluded(pa.category)[p]
    columns = {
        "p": p.astype(np.int64, copy=False),
        "u": u.astype(np.int64, copy=False),
        "score": score(crit, weights),
        "area_ha": pa.area_min[p],
        "enaf_ha": charging.charge(
            pa.area_min[p],
            ua.enaf_share[u],
            pa.is_pene[p],
            ua.is_friche[u],
            excluded=excluded,
        ),
        "jobs": pa.jobs[p],
        "is_friche": ua.is_friche[u],
        "is_pene": pa.is_pene[p],
        "is_excluded": excluded,
        "unverified_bits": bits.astype(np.int64),
    }
    return columns, crit


def one_project_pairs(
    project: pd.DataFrame | Mapping[str, Any],
    arrays: _UnitArrays,
    *,
    weights: Weights | None = None,
    thresholds: Thresholds | None = None,
    top_n: int | None = None,
    rank: Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = None,
    charging: EnafCharging | None = None,
) -> dict[str, np.ndarray]:
    """The feasible pairs of one project as arrays: :func:`candidate_pairs` without frames.

    For the single-project queries of the service, where building the frames
    costs more than evaluating the requirements.

    Parameters
    ----------
    project
        A one-row projects table (:func:`foncier.projects.project_frame`), or
        the project as a validated record (:func:`foncier.projects.project_record`).
    arrays
        :func:`unit_arrays` of the land units under ``thresholds``.
    weights, thresholds, top_n, charging
        As for :func:`candidate_pairs`.
    rank
        Function of the pairs' arrays (``u``, ``score``, ``enaf_ha``…) returning
        the value they are ranked by when pruning; defaults to the score.

    Returns
    -------
    dict of numpy.ndarray
        The columns of :func:`candidate_pairs`'s pairs other than ``project_id``
        and ``unverified`` (``unit_id``, ``p``, ``u``, ``score``, ``enaf_ha``,
        ``unverified_bits``, ``c_<criterion>``…), pairs in the same order.
    """
    weights = weights or Weights()
    th = thresholds or Thresholds()
    charging = charging or EnafCharging()
    pa = _project_arrays(project) if isinstance(project, pd.DataFrame) else _record_arrays(project)
    chunk = _evaluate(pa, arrays, th, slice(0, len(pa.ids)))
    pi, ui = np.nonzero(chunk.feasible)
    columns, crit = _pair_columns(pa, arrays, pi, ui, chunk.unknown_bits[pi, ui], weights, charging)
    if top_n is not None and len(pi):
        keep = _kept(pi, columns, rank(columns) if rank is not None else None, top_n)
        columns = {name: values[keep] for name, values in columns.items()}
        crit = {name: values[keep] for name, values in crit.items()}
    return {
        UnitCol.UNIT_ID: arrays.ids[columns["u"]],
        **columns,
        **{f"c_{name}": values for name, values in crit.items()},
    }


def _kept(
    p: np.ndarray, columns: Mapping[str, np.ndarray], rank: np.ndarray | None, top_n: int
) -> np.ndarray:
    """Mask of the pairs pruning keeps: per project, the ``top_n`` best of each ranking.

    The rankings are the score, the smallest ENAF cost (best ``rank`` first
    among equals) and, when given, ``rank`` (the objective's value).  Keeping
    the score's best beside the objective's means a project whose preferred
    units are all of one kind (friches under ``friches_first``: they cost no
    ENAF either) still has its best other sites when those are taken.
    """
    score = columns["score"]
    key = score if rank is None else rank
    keep = _top_mask(p, None, key, top_n) | _top_mask(p, columns["enaf_ha"], key, top_n)
    if rank is not None:
        keep |= _top_mask(p, None, score, top_n)
    return keep


def _top_mask(p: np.ndarray, first: np.ndarray | None, key: np.ndarray, top_n: int) -> np.ndarray:
    """Mask of the ``top_n`` pairs of each project by (``first`` ascending, ``key`` descending).

    The pairs of a project must be together (they come from :func:`numpy.nonzero`
    on a projects × units block); each project's slice is handled with
    :func:`numpy.argpartition`, linear in its number of pairs.
    """
    mask = np.zeros(len(p), dtype=bool)
    bounds = np.r_[0, np.flatnonzero(np.diff(p)) + 1, len(p)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if hi - lo <= top_n:
            mask[lo:hi] = True
            continue
        k = key[lo:hi]
        if first is None:
            mask[lo + np.argpartition(-k, top_n - 1)[:top_n]] = True
            continue
        f = first[lo:hi]
        cut = np.partition(f, top_n - 1)[top_n - 1]
        below = np.flatnonzero(f < cut)
        tied = np.flatnonzero(f == cut)
        need = top_n - len(below)
        if len(tied) > need:
            tied = tied[np.argpartition(-k[tied], need - 1)[:need]]
        mask[lo + below] = True
        mask[lo + tied] = True
    return mask


@dataclass
class Rejections:
    """Why projects were rejected by units, summarised per project.

    Attributes
    ----------
    counts
        Projects × requirements: how many units reject the project first on
        each requirement; column ``feasible``: how many units accept it.
    closest
        Per project (index ``project_id``): ``unit_id`` of the closest
        rejecting unit (fewest failed requirements, then smallest relative
        shortfall), ``n_failed`` and ``lacks`` (French text of what it lacks).
    """

    counts: pd.DataFrame
    closest: pd.DataFrame


_AREA = REQUIREMENTS.index("area")


@dataclass
class _Group:
    """Projects that state the same requirements but the area, screened together.

    The area requirement (``net_area_ha`` ≥ the project's ``area_min_ha``) is
    the only one whose limit varies within a group: on units sorted by net
    area, the units it rejects are the first ones, so every project's
    counts are read from cumulative sums instead of a projects × units matrix.
    The area is never unverified (an unknown net area counts as 0 ha), so the
    unverified requirements of a pair depend on its unit and group only.
    """

    members: np.ndarray  # project positions, ascending
    counts: np.ndarray  # (members, R + 1): units rejecting first on each requirement, feasible
    units: np.ndarray  # positions of the units meeting every requirement but the area
    bits: np.ndarray  # their unverified requirements (bit masks)


def _groups(pa: _ProjectArrays, ua: _UnitArrays, th: Thresholds) -> Iterator[_Group]:
    """Projects grouped by their requirements other than the area, each group evaluated once."""
    n_p, n_r = len(pa.ids), len(REQUIREMENTS)
    if not n_p:
        return
    reqs = _requirements(pa, ua, th, slice(0, n_p))
    key = np.ascontiguousarray(
        np.column_stack([np.column_stack([r.limit, r.active]) for r in reqs if r.name != "area"]),
        dtype=float,
    )
    # rows compared byte for byte: NaN limits group together, nothing else merges
    rows = key.view(np.dtype((np.void, key.itemsize * key.shape[1]))).ravel()
    _, first, of_project = np.unique(rows, return_index=True, return_inverse=True)
    of_project = of_project.reshape(-1)
    by_group = np.argsort(of_project, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(of_project, minlength=len(first)))]
    by_area = np.argsort(ua.net_area, kind="stable")
    sorted_units = _UnitArrays(**_slice_units(ua, by_area))
    # units below each project's minimum area (the area fails on them; a NaN minimum on none)
    below = np.searchsorted(sorted_units.net_area, pa.area_min, side="left")
    below = np.where(np.isnan(pa.area_min), 0, below)
    after = np.arange(n_r + 1) > _AREA
    reps = _take_projects(pa, first)
    for sl in _chunks(len(first), len(ua.ids), _GROUP_CELLS):
        chunk = _evaluate(reps, sorted_units, th, sl)
        fail = chunk.fail
        # first failed requirement of each unit (area apart), then "feasible but for the area"
        first_fail = np.empty((n_r + 1, *fail.shape[1:]), dtype=bool)
        seen = np.zeros(fail.shape[1:], dtype=bool)
        for r in range(n_r):
            first_fail[r] = ~seen if r == _AREA else fail[r] & ~seen
            if r != _AREA:
                seen |= fail[r]
        first_fail[n_r] = ~seen
        cum = np.zeros((*first_fail.shape[:2], first_fail.shape[2] + 1), dtype=np.int32)
        np.cumsum(first_fail, axis=2, out=cum[:, :, 1:])
        for k, g in enumerate(range(sl.start, sl.stop)):
            members = by_group[bounds[g] : bounds[g + 1]]
            at = cum[:, k, below[members]]  # units below the minimum area: (R + 1, members)
            total = cum[:, k, -1:]
            counts = np.where(after[:, None], total - at, total)
            counts[_AREA] = at[_AREA]
            kept = np.flatnonzero(first_fail[n_r, k])
            units = by_area[kept]
            ascending = np.argsort(units)
            yield _Group(
                members, counts.T, units[ascending], chunk.unknown_bits[k, kept[ascending]]
            )


@dataclass
class _Block:
    """Projects of a group and the units that may host them, with the mask of feasible pairs.

    ``fits[i, j]``: unit ``units[j]`` is large enough for project ``members[i]``
    (it meets the group's other requirements by construction).
    """

    members: np.ndarray
    units: np.ndarray  # ascending
    bits: np.ndarray  # unverified requirements of each unit (bit masks)
    fits: np.ndarray


def _group_blocks(group: _Group, pa: _ProjectArrays, ua: _UnitArrays) -> Iterator[_Block]:
    """A group's projects by blocks of similar minimum area, each with the units large enough.

    Projects are taken by increasing minimum area, so the units of a block (those
    reaching its smallest minimum) are nearly all large enough for each of its projects.
    """
    area_min = pa.area_min[group.members]
    # a NaN minimum states no area requirement: every unit fits
    area_min = np.where(np.isnan(area_min), -np.inf, area_min)
    by_area = np.argsort(area_min, kind="stable")
    members, area_min = group.members[by_area], area_min[by_area]
    area = ua.net_area[group.units]
    for sl in _chunks(len(members), len(group.units), _BLOCK_CELLS):
        large = ~(area < area_min[sl.start])
        fits = ~(area[large][None, :] < area_min[sl][:, None])
        if fits.any():
            yield _Block(members[sl], group.units[large], group.bits[large], fits)


def _block_columns(
    pa: _ProjectArrays,
    ua: _UnitArrays,
    block: _Block,
    weights: Weights,
    charging: EnafCharging,
    communes: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """:func:`_pair_columns` of the feasible pairs of a block, project by project, units ascending.

    Computed on the block with broadcasting, then taken where the pairs are feasible.
    """
    columns, _ = _pair_columns(
        pa,
        ua,
        block.members[:, None],
        block.units[None, :],
        block.bits[None, :],
        weights,
        charging,
        communes,
    )
    i, j = np.nonzero(block.fits)

    def feasible(values: np.ndarray) -> np.ndarray:
        if values.shape == block.fits.shape:
            return values[block.fits]
        # a unit's value, the same down a column (or one value for the block)
        if values.shape[0] == 1:
            return np.broadcast_to(values[0], block.fits.shape[1:])[j]
        return values[:, 0][i]  # a project's value, the same along a row

    return {name: feasible(values) for name, values in columns.items()}


def _batches(blocks: Iterator[dict[str, np.ndarray]], size: int) -> Iterator[dict[str, np.ndarray]]:
    """Blocks of pairs joined into batches of at least ``size`` pairs (the last one smaller).

    A block is never split: the pairs of a project stay together.
    """
    batch: list[dict[str, np.ndarray]] = []
    n = 0
    for block in blocks:
        batch.append(block)
        n += len(block["p"])
        if n >= size:
            yield _joined(batch)
            batch, n = [], 0
    if batch:
        yield _joined(batch)


def _joined(blocks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(blocks) == 1:
        return blocks[0]
    return {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}


def _closest(
    pa: _ProjectArrays, ua: _UnitArrays, th: Thresholds, rows: np.ndarray
) -> list[dict[str, Any]]:
    """The closest rejecting unit of projects no unit accepts (positions ``rows``).

    Closest: fewest failed requirements, then smallest relative shortfall;
    with what it lacks, in French.
    """
    sub = _take_projects(pa, rows)
    closest_rows: list[dict[str, Any]] = []
    for sl in _chunks(len(rows), len(ua.ids)):
        chunk = _evaluate(sub, ua, th, sl)
        fail = chunk.fail
        n_fail = fail.sum(axis=0)
        rel = np.zeros(n_fail.shape)
        for r, req in enumerate(chunk.reqs):
            scale = np.where(np.abs(req.limit) > 0, np.abs(req.limit), 1.0)[:, None]
            with np.errstate(invalid="ignore"):
                short = np.abs(req.value[None, :] - req.limit[:, None]) / scale
            rel += np.where(fail[r], np.nan_to_num(short, nan=1.0, posinf=1e3), 0.0)
        key = np.where(n_fail > 0, n_fail * 1e4 + np.minimum(rel, 9e3), np.inf)
        for i in range(sl.stop - sl.start):
            if not np.isfinite(key[i]).any():
                continue
            j = int(np.argmin(key[i]))
            lacks = [
                requirement_text(req.name, req.value[j], req.limit[i], ua.zone[j])
                for r, req in enumerate(chunk.reqs)
                if fail[r, i, j]
            ]
            closest_rows.append(
                {
                    Col.PROJECT_ID: sub.ids[sl.start + i],
                    UnitCol.UNIT_ID: ua.ids[j],
                    "n_failed": int(n_fail[i, j]),
                    "lacks": " ; ".join(lacks),
                }
            )
    return closest_rows


def _kept_pairs(
    pa: _ProjectArrays,
    ua: _UnitArrays,
    columns: dict[str, np.ndarray],
    communes: tuple[np.ndarray, np.ndarray],
    rank: Callable[[pd.DataFrame], np.ndarray] | None,
    top_n: int | None,
) -> dict[str, np.ndarray]:
    """Columns of feasible pairs pruned to ``top_n``, with their ``c_<criterion>`` values.

    The pairs of a project are together, units ascending.
    """
    p = columns["p"]
    if top_n is not None and len(p):
        key = rank(pd.DataFrame(columns, copy=False)) if rank is not None else None
        keep = _kept(p, columns, key, top_n)
        columns = {name: values[keep] for name, values in columns.items()}
    crit = _criteria(pa, ua, columns["p"], columns["u"], columns["unverified_bits"], communes)
    return {**columns, **{f"c_{name}": values for name, values in crit.items()}}


def unit_arrays(units: pd.DataFrame, thresholds: Thresholds | None = None) -> _UnitArrays:
    """The units' side of the requirements and criteria, checked and built once.

    For many :func:`candidate_pairs` calls on the same units (the service's
    single-project queries): pass the result as its ``arrays``.

    Parameters
    ----------
    units
        Land units (see :func:`check_units`).
    thresholds
        Requirement constants; the same as those given to :func:`candidate_pairs`.
    """
    check_units(units)
    return _unit_arrays(units, thresholds or Thresholds())


def candidate_pairs(
    projects: pd.DataFrame,
    units: pd.DataFrame,
    *,
    weights: Weights | None = None,
    thresholds: Thresholds | None = None,
    top_n: int | None = 50,
    rank: Callable[[pd.DataFrame], np.ndarray] | None = None,
    charging: EnafCharging | None = None,
    arrays: _UnitArrays | None = None,
) -> tuple[pd.DataFrame, Rejections]:
    """Feasible (project, unit) pairs with their score, pruned, and rejection summaries.

    The requirements are evaluated once per group of projects that state the
    same limits but the area (a portfolio has few such groups), the area from
    units sorted by net area; only feasible pairs are then built and scored,
    by blocks of projects, with numpy (no loop over pairs).  ``rank`` is
    called on each block's pairs (``p``, ``u``, ``score``, ``area_ha``,
    ``enaf_ha``, ``jobs``, ``is_friche``, ``is_pene``, ``is_excluded``,
    ``unverified_bits``) and must rank each pair on its own values.  Pruning
    keeps, per project, the ``top_n`` best pairs by ``rank`` (the score by
    default; the engine ranks by the objective's value), the ``top_n`` pairs
    of smallest ENAF cost (best rank first among equals), so that options
    which spare the ZAN budget survive, **and**, when ``rank`` is given, the
    ``top_n`` best by score, so that a project whose objective prefers one
    kind of unit (friches under ``friches_first``) keeps its best other sites
    for when those are taken; a project with at most ``top_n`` feasible units
    keeps them all.

    Parameters
    ----------
    projects
        Projects table (``projects`` layer schema).
    units
        Land units (see :func:`check_units`).
    weights
        Score weights; defaults to :class:`Weights`.
    thresholds
        Requirement constants; defaults to :class:`Thresholds`.
    top_n
        Pairs kept per project and per ranking; ``None`` keeps every feasible pair.
    rank
        Function of a pairs frame returning the value pairs are ranked by
        when pruning; defaults to the score.
    charging
        What counts as ENAF consumption (:class:`EnafCharging` defaults:
        PENE and friches free).
    arrays
        :func:`unit_arrays` of ``units`` under ``thresholds``, when already built.

    Returns
    -------
    pairs : pandas.DataFrame
        One row per kept feasible pair: ``project_id``, ``unit_id``, ``p``,
        ``u`` (row positions), ``score``, ``area_ha`` (the project's
        ``area_min_ha``), ``enaf_ha`` (ZAN cost), ``jobs``, ``is_friche``,
        ``unverified_bits``, ``unverified`` (names) and ``c_<criterion>``
        values.
    rejections : Rejections
        Per-project summaries used by the explanations.
    """
    weights = weights or Weights()
    th = thresholds or Thresholds()
    charging = charging or EnafCharging()
    pa = _project_arrays(projects)
    ua = arrays if arrays is not None else unit_arrays(units, th)
    communes = _commune_codes(pa, ua)
    counts = np.zeros((len(pa.ids), len(REQUIREMENTS) + 1), dtype=np.int64)
    none = np.zeros(0, dtype=np.intp)
    empty, _ = _pair_columns(pa, ua, none, none, none, weights, charging, communes)
    blocks = [_kept_pairs(pa, ua, empty, communes, None, None)]

    def feasible() -> Iterator[dict[str, np.ndarray]]:
        for group in _groups(pa, ua, th):
            counts[group.members] = group.counts  # filled as the groups are screened
            for block in _group_blocks(group, pa, ua):
                yield _block_columns(pa, ua, block, weights, charging, communes)

    for batch in _batches(feasible(), _PAIRS):
        blocks.append(_kept_pairs(pa, ua, batch, communes, rank, top_n))
    columns = {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}
    # groups and blocks interleave projects: back to project order, units ascending in each
    order = np.argsort(columns["p"], kind="stable")
    pairs = pd.DataFrame(
        {
            Col.PROJECT_ID: pd.Series(pa.ids[columns["p"][order]], dtype=object),
            UnitCol.UNIT_ID: pd.Series(ua.ids[columns["u"][order]], dtype=object),
            **{name: values[order] for name, values in columns.items()},
        }
    )
    pairs["unverified"] = unverified_labels(pairs["unverified_bits"].to_numpy())
    # the closest unit and the relaxation hints only matter for projects no unit accepts
    closest = _closest(pa, ua, th, np.flatnonzero(counts[:, -1] == 0))
    count_table = pd.DataFrame(
        counts,
        columns=[*REQUIREMENTS, "feasible"],
        index=pd.Index(pa.ids, name=Col.PROJECT_ID),
    )
    rejections = Rejections(
        counts=count_table,
        closest=pd.DataFrame(
            closest, columns=[Col.PROJECT_ID, UnitCol.UNIT_ID, "n_failed", "lacks"]
        ).set_index(Col.PROJECT_ID),
    )
    return pairs, rejections


#: The projects-table field that relaxes each requirement (``rail``: no longer needed).
RELAX_FIELDS: Mapping[str, str] = {
    "area": Col.AREA_MIN_HA,
    "slope": Col.MAX_SLOPE_PCT,
    "interchange": Col.MAX_DIST_INTERCHANGE_KM,
    "rail": Col.NEEDS_RAIL,
    "year": Col.EARLIEST_YEAR,
}


def requirement_relaxations(
    projects: pd.DataFrame, units: pd.DataFrame, *, thresholds: Thresholds | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """For every (project, unit), the requirement values that would let the unit host the project.

    All requirements are relaxed at once: on a unit that fails on the area
    and the slope, both new values are given.  Zoning and Seveso distances
    are not negotiable, nor a unit that can never be built on.

    Parameters
    ----------
    projects, units
        Projects table and land units.
    thresholds
        Requirement constants.

    Returns
    -------
    blocked : numpy.ndarray
        Projects × units, ``True`` where no relaxation of the project's
        requirements makes the pair feasible.
    needed : dict of numpy.ndarray
        Per relaxable requirement (keys of :data:`RELAX_FIELDS`), projects ×
        units: the value the project's field must take (the unit's own
        value: a smaller ``area_min_ha``, a larger ``max_slope_pct`` or
        ``max_dist_interchange_km``, a later ``earliest_year``; 0 for
        ``rail``, meaning "no longer needed"), ``nan`` where the
        requirement already holds.
    """
    check_units(units)
    th = thresholds or Thresholds()
    pa, ua = _project_arrays(projects), _unit_arrays(units, th)
    n_p, n_u = len(pa.ids), len(ua.ids)
    blocked = np.zeros((n_p, n_u), dtype=bool)
    needed = {r: np.full((n_p, n_u), np.nan) for r in RELAX_FIELDS}
    for sl in _chunks(n_p, n_u):
        chunk = _evaluate(pa, ua, th, sl)
        for r, req in enumerate(chunk.reqs):
            fail = chunk.fail[r]
            if req.name not in RELAX_FIELDS:
                blocked[sl] |= fail
                continue
            value = np.broadcast_to(req.value[None, :], fail.shape)
            if req.name == "rail":
                value = np.zeros(fail.shape)
            blocked[sl] |= fail & ~np.isfinite(value)
            needed[req.name][sl] = np.where(fail, value, np.nan)
    return blocked, needed


def feasibility_table(
    projects: pd.DataFrame, units: pd.DataFrame, *, thresholds: Thresholds | None = None
) -> pd.DataFrame:
    """Every (project, unit) pair with its verdict: "why not here" for each pair.

    Meant for inspection of small sets (it has ``len(projects) × len(units)``
    rows); the engine itself uses :func:`candidate_pairs`.

    Parameters
    ----------
    projects
        Projects table.
    units
        Land units.
    thresholds
        Requirement constants.

    Returns
    -------
    pandas.DataFrame
        ``project_id``, ``unit_id``, ``feasible``, ``requirement`` (first
        failed, ``None`` when feasible), ``value``, ``limit``, ``shortfall``
        (by how much, in the requirement's unit), ``unverified`` (names of
        unverified requirements), ``reason`` (French text).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"project_id": ["P1"], "area_min_ha": [2.0], "area_max_ha": [3.0],
    ...                   "jobs": [10], "max_slope_pct": [6.0]})
    >>> u = pd.DataFrame({"unit_id": ["U1"], "insee": ["30007"], "zone_type": ["U"],
    ...                   "servicing_stage": ["viabilisé et aménagé"], "net_area_ha": [5.0],
    ...                   "slope_mean_pct": [9.2], "dist_interchange_km": [1.0],
    ...                   "dist_rail_freight_km": [9.0], "dist_housing_km": [1.0],
    ...                   "enaf_share": [1.0]})
    >>> feasibility_table(p, u)["reason"].iloc[0]
    'pente 9,2 % > 6 %'
    """
    check_units(units)
    th = thresholds or Thresholds()
    pa, ua = _project_arrays(projects), _unit_arrays(units, th)
    parts = []
    for sl in _chunks(len(pa.ids), len(ua.ids)):
        chunk = _evaluate(pa, ua, th, sl)
        any_fail = chunk.fail.any(axis=0)
        first = np.argmax(chunk.fail, axis=0)
        n_p, n_u = any_fail.shape
        values = np.stack([np.broadcast_to(r.value[None, :], (n_p, n_u)) for r in chunk.reqs])
        limits = np.stack([np.broadcast_to(r.limit[:, None], (n_p, n_u)) for r in chunk.reqs])
        val = np.take_along_axis(values, first[None], 0)[0]
        lim = np.take_along_axis(limits, first[None], 0)[0]
        pi, ui = np.indices((n_p, n_u)).reshape(2, -1)
        flat_fail = any_fail.ravel()
        parts.append(
            pd.DataFrame(
                {
                    Col.PROJECT_ID: pa.ids[pi + sl.start],
                    UnitCol.UNIT_ID: ua.ids[ui],
                    "feasible": ~flat_fail,
                    "req_index": np.where(flat_fail, first.ravel(), -1),
                    "value": np.where(flat_fail, val.ravel(), np.nan),
                    "limit": np.where(flat_fail, lim.ravel(), np.nan),
                    "zone": ua.zone[ui],
                    "bits": chunk.unknown_bits.ravel(),
                }
            )
        )
    table = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(
            columns=[
                Col.PROJECT_ID,
                UnitCol.UNIT_ID,
                "feasible",
                "req_index",
                "value",
                "limit",
                "zone",
                "bits",
            ]
        )
    )
    names = np.array([None, *REQUIREMENTS], dtype=object)
    table["requirement"] = names[table["req_index"].to_numpy(dtype=int) + 1]
    with np.errstate(invalid="ignore"):
        table["shortfall"] = (table["value"] - table["limit"]).abs()
    table["unverified"] = unverified_labels(table["bits"].to_numpy())
    table["reason"] = [
        requirement_text(r, v, lim, z) if r is not None else ""
        for r, v, lim, z in zip(
            table["requirement"], table["value"], table["limit"], table["zone"], strict=True
        )
    ]
    cols = [
        Col.PROJECT_ID,
        UnitCol.UNIT_ID,
        "feasible",
        "requirement",
        "value",
        "limit",
        "shortfall",
    ]
    return table[[*cols, "unverified", "reason"]]


def pairwise_feasible(
    projects: pd.DataFrame, units: pd.DataFrame, *, thresholds: Thresholds | None = None
) -> np.ndarray:
    """Feasibility of aligned pairs: row ``i`` of ``projects`` on row ``i`` of ``units``.

    Used to re-check a solution independently of the candidate table.

    Parameters
    ----------
    projects, units
        Tables of the same length, aligned by position.
    thresholds
        Requirement constants.

    Returns
    -------
    numpy.ndarray
        Boolean, ``True`` where the pair meets every hard requirement.
    """
    th = thresholds or Thresholds()
    pa, ua = _project_arrays(projects), _unit_arrays(units, th)
    out = np.zeros(len(pa.ids), dtype=bool)
    step = 256
    for start in range(0, len(pa.ids), step):
        sl = slice(start, min(start + step, len(pa.ids)))
        sub = _UnitArrays(**_slice_units(ua, sl))
        chunk = _evaluate(pa, sub, th, sl)
        idx = np.arange(sl.stop - sl.start)
        out[sl] = chunk.feasible[idx, idx]
    return out


def _slice_units(ua: _UnitArrays, sl: slice | np.ndarray) -> dict[str, Any]:
    return {
        k: v[sl] if isinstance(v, np.ndarray) else {n: a[sl] for n, a in v.items()}
        for k, v in ua.__dict__.items()
    }
