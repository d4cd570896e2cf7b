"""Lots: the parcels each placed project takes inside its land unit.

The assignment says which unit hosts which projects and checks that their
areas add up within the unit's net area; the layout turns that into land a
working group can point at.  Each project placed on a unit gets a *lot*:

- a contiguous set of the unit's pieces of land (its cadastral parcels cut to
  the unit's net area, exclusions removed), at least the project's minimal area;
- whole parcels first; a parcel is cut by one straight line only where needed
  (the lot would exceed the project's largest area, or leave too little land
  for the unit's other projects), and the lot says so (``split``);
- grown from the edge of the free land, each step taking the free neighbour
  closest to the lot's centre (compact lots, the rest left in one piece);
- never overlapping another lot; the same input always gives the same lots.

A unit whose projects cannot all be laid out is reported with the projects
that failed: :func:`place_with_lots` then solves again without those
(project, unit) pairs, and does the same for a pool whose budget the lots'
own ENAF would exceed, rather than publishing an impossible placement.

The geometry (pieces, adjacency, cuts, unions, figures) is vectorised with
shapely 2; the growth itself walks the adjacency graph of each unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier._format import fr_compact
from foncier.errors import InfeasibleError
from foncier.layers import (
    CRS_L93,
    ORIGIN_FRICHE,
    PROJECT_FIELDS,
    TABLE_SCHEMAS,
    Col,
    TableCol,
    UnitCol,
    check_table,
    empty_layer,
)
from foncier.matching import pair_key, with_solution
from foncier.supply import union_by_label
from foncier.zan.charging import EnafCharging, categories

__all__ = [
    "LOT_COLUMNS",
    "MAX_ROUNDS",
    "NO_LOT_HINT",
    "TOLERANCE_M",
    "Land",
    "LotLayout",
    "explain_forbidden",
    "lay_out_lots",
    "lay_out_within_budgets",
    "lot_figures",
    "lot_parcels",
    "piece_adjacency",
    "place_with_lots",
    "shares_border",
    "unit_pieces",
    "with_lots",
]

#: Largest gap (m) between two pieces of one lot, as in :func:`foncier.supply.merge_units`.
TOLERANCE_M = 0.5
#: Shortest common border, in metres, for two pieces to be neighbours (a corner is not one).
MIN_BORDER_M = 1.0
#: Pieces of land smaller than this (m²) are overlay slivers, left out.
SLIVER_M2 = 1.0
#: Land of a unit outside its listed parcels smaller than this (m²) is left out.
REMAINDER_MIN_M2 = 50.0
#: How many times :func:`place_with_lots` solves again before giving up.
MAX_ROUNDS = 4
#: What unlocks a project whose lot cannot be laid out (French).
NO_LOT_HINT = (
    "regrouper des parcelles voisines d'autres unités (foncier assemble) ou réduire la surface "
    "demandée"
)
#: How many first seeds a unit's layout tries before reporting the projects it cannot lay out.
SEED_TRIES = 6
#: Area tolerance (m²) of the layout's comparisons.
_AREA_TOL_M2 = 0.01
#: Tolerance (ha) of the area and budget checks, as the solver's.
_HA_TOL = 1e-6
_OBJECTIVE_TOL = 1e-9  # a later round's solution replaces the best one unless below it by more
#: Candidate offsets of one refinement of a straight cut, and refinements.
_CUT_STEPS = 16
_CUT_ROUNDS = 8
#: Columns of the lots table, before the geometry (schema ``lots`` of ``TABLE_SCHEMAS``).
LOT_COLUMNS = (
    Col.PROJECT_ID,
    UnitCol.UNIT_ID,
    UnitCol.IDUS,
    TableCol.LOT_AREA_HA,
    TableCol.N_PARCELS,
    TableCol.N_OWNERS,
    TableCol.OWNER_KINDS,
    TableCol.PUBLIC_SHARE,
    UnitCol.ENAF_SHARE,
    TableCol.ENAF_HA,
    TableCol.SPLIT,
)
_FRAC = "_enaf_frac"


# -- pieces of land and their adjacency ----------------------------------------------------


def unit_pieces(
    units: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, *, unknown_as: str = "enaf"
) -> gpd.GeoDataFrame:
    """The pieces of land each unit is made of: its parcels cut to its net area.

    A unit lists its parcels (``idus``); each piece is the part of one parcel
    inside the unit's net geometry (exclusions removed), one polygon each.
    Land of the unit outside its listed parcels (a ZAE plot or a friche drawn
    by its own polygon) is a piece without ``idu``.

    Parameters
    ----------
    units
        Land units (``unit_id``, ``idus``, ``origin``, ``owner_kind``,
        ``enaf_share``, net geometry).
    parcels
        The ``parcels`` layer (``idu``, ``owner_kind``, ``land_cover``,
        optionally ``owner_id``).
    unknown_as
        How land of ``unknown`` cover counts: ``enaf`` or ``artificialised``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per piece, sorted by unit then ``idu``: ``unit_id``, ``_unit``
        (row position of the unit), ``idu`` (``""`` outside any listed
        parcel), ``owner_kind``, ``owner_id`` (missing when unknown),
        ``_enaf_frac`` (1 on ENAF land, 0 elsewhere; the unit's ENAF share
        outside its parcels; 0 on a friche) and the polygon.
    """
    ugeoms = units.geometry.to_numpy()
    n = len(units)
    idus = units[UnitCol.IDUS].fillna("").astype(str).to_numpy() if n else np.empty(0, object)
    listed = pd.DataFrame({"u": np.arange(n), Col.IDU: pd.Series(idus).str.split("|")})
    listed = listed.explode(Col.IDU)
    listed = listed[listed[Col.IDU].fillna("") != ""]
    pos = pd.Index(parcels[Col.IDU].astype(str)).get_indexer(listed[Col.IDU].astype(str))
    listed, pos = listed[pos >= 0], pos[pos >= 0]
    u = listed["u"].to_numpy(dtype="int64")
    pgeoms = parcels.geometry.to_numpy()[pos]
    cut = shapely.intersection(ugeoms[u], pgeoms)
    covered = np.bincount(u, weights=shapely.area(cut), minlength=n)
    short = np.flatnonzero(shapely.area(ugeoms) - covered > REMAINDER_MIN_M2).astype("int64")
    rest = ugeoms[short].copy()
    with_parcels = np.isin(short, u)
    if with_parcels.any():
        holes = union_by_label(pgeoms, u, n)[short[with_parcels]]
        rest[with_parcels] = shapely.difference(rest[with_parcels], holes)
    cover = parcels[Col.LAND_COVER].astype(str).to_numpy()[pos]
    frac_parcel = np.where(
        cover == "enaf", 1.0, np.where(cover == "unknown", float(unknown_as == "enaf"), 0.0)
    )
    unit_share = pd.to_numeric(units[UnitCol.ENAF_SHARE], errors="coerce").to_numpy(float)
    owner_ids = (
        parcels[Col.OWNER_ID].astype(object).to_numpy()[pos]
        if Col.OWNER_ID in parcels.columns
        else np.full(len(pos), None, dtype=object)
    )
    geoms = np.concatenate([cut, rest])
    of_unit = np.concatenate([u, short]).astype("int64")
    table = pd.DataFrame(
        {
            "_unit": of_unit,
            Col.IDU: np.concatenate(
                [listed[Col.IDU].astype(str).to_numpy(), np.full(len(short), "")]
            ),
            Col.OWNER_KIND: np.concatenate(
                [
                    parcels[Col.OWNER_KIND].astype(str).to_numpy()[pos],
                    units[Col.OWNER_KIND].astype(str).to_numpy()[short],
                ]
            ),
            Col.OWNER_ID: np.concatenate([owner_ids, np.full(len(short), None, dtype=object)]),
            _FRAC: np.concatenate([frac_parcel, np.nan_to_num(unit_share[short], nan=1.0)]),
        }
    )
    parts, index = shapely.get_parts(geoms, return_index=True)
    table = table.iloc[index].reset_index(drop=True)
    polygonal = np.isin(shapely.get_type_id(parts), (3,)) & (shapely.area(parts) >= SLIVER_M2)
    table, parts = table[polygonal].reset_index(drop=True), parts[polygonal]
    friche = (units[UnitCol.ORIGIN] == ORIGIN_FRICHE).to_numpy()[table["_unit"].to_numpy()]
    table.loc[friche, _FRAC] = 0.0
    table.insert(0, UnitCol.UNIT_ID, units[UnitCol.UNIT_ID].astype(str).to_numpy()[table["_unit"]])
    order = np.lexsort((shapely.get_y(shapely.centroid(parts)), table[Col.IDU], table["_unit"]))
    table, parts = table.iloc[order].reset_index(drop=True), parts[order]
    return gpd.GeoDataFrame(table, geometry=parts, crs=CRS_L93)


def shares_border(a: np.ndarray, b: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Whether each pair of polygons shares :data:`MIN_BORDER_M` of border (within tolerance).

    Parameters
    ----------
    a, b
        Polygons, compared pairwise.
    tolerance_m
        Largest gap between neighbours.

    Returns
    -------
    numpy.ndarray
        One boolean per pair: a common border, not a corner.
    """
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    strip = shapely.area(shapely.intersection(shapely.buffer(a, tolerance_m, quad_segs=2), b))
    return strip >= tolerance_m * MIN_BORDER_M


def piece_adjacency(
    geoms: np.ndarray, group: np.ndarray, *, tolerance_m: float = TOLERANCE_M
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of neighbouring pieces of one group: a common border, not a corner.

    Parameters
    ----------
    geoms
        Polygons in EPSG:2154.
    group
        Group of each polygon (its unit); pieces of different groups are never neighbours.
    tolerance_m
        Largest gap between neighbours (cadastre slivers).

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j)`` with ``i < j``, one entry per pair of neighbours.
    """
    if len(geoms) == 0:
        empty = np.empty(0, dtype="int64")
        return empty, empty
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance_m)
    keep = (i < j) & (group[i] == group[j])
    i, j = i[keep], j[keep]
    ok = shares_border(geoms[i], geoms[j], tolerance_m)
    return i[ok], j[ok]


# -- one unit's layout ---------------------------------------------------------------------


@dataclass
class Land:
    """Pieces of land while lots or sites are cut from them (a cut appends its parts).

    The working state of :func:`lay_out_lots` (one unit) and of
    :func:`foncier.land_assembly.assemble_sites` (every candidate piece).

    Attributes
    ----------
    geoms
        Polygon of each piece, cut pieces included.
    row
        Row of the piece (or of the piece it was cut from) in the pieces table.
    free
        Whether the piece is still free (a cut piece is no longer).
    split
        Whether the piece is part of a cut parcel.
    nbr
        Neighbours of each piece (a common border, see :func:`shares_border`).
    area, cx, cy
        Area and centroid of each piece, measured on creation.
    tolerance_m
        Largest gap between neighbours.
    """

    geoms: list[Any]
    row: list[int]  # row of the piece (or of the piece it was cut from) in the pieces table
    free: list[bool]
    split: list[bool]
    nbr: list[set[int]]
    area: list[float] = field(default_factory=list)
    cx: list[float] = field(default_factory=list)
    cy: list[float] = field(default_factory=list)
    tolerance_m: float = TOLERANCE_M

    def __post_init__(self) -> None:
        self._measure(self.geoms)

    def _measure(self, geoms: list[Any]) -> None:
        arr = np.asarray(geoms, dtype=object)
        c = shapely.centroid(arr)
        self.area += shapely.area(arr).tolist()
        self.cx += shapely.get_x(c).tolist()
        self.cy += shapely.get_y(c).tolist()

    def free_component_pieces(self, min_m2: float) -> list[int]:
        """Free pieces in connected parts of the free land of at least ``min_m2``, in order."""
        seen: set[int] = set()
        out: list[int] = []
        for k, is_free in enumerate(self.free):
            if not is_free or k in seen:
                continue
            part, todo = [], [k]
            seen.add(k)
            while todo:
                m = todo.pop()
                part.append(m)
                for n in self.nbr[m]:
                    if self.free[n] and n not in seen:
                        seen.add(n)
                        todo.append(n)
            if sum(self.area[m] for m in part) >= min_m2:
                out += part
        return sorted(out)

    def free_area(self) -> float:
        """Area (m²) of the free pieces."""
        return float(sum(a for a, f in zip(self.area, self.free, strict=True) if f))

    def replace(self, k: int, parts: list[Any]) -> list[int]:
        """Split piece ``k`` into ``parts`` (its cut): new free pieces, neighbours recomputed."""
        start = len(self.geoms)
        new = list(range(start, start + len(parts)))
        self.geoms += parts
        self.row += [self.row[k]] * len(parts)
        self.free += [True] * len(parts)
        self.split += [True] * len(parts)
        self.nbr += [set() for _ in parts]
        self._measure(parts)
        self.free[k] = False
        around = sorted(self.nbr[k])
        for m in around:
            self.nbr[m].discard(k)
        cand_a = [a for a in new for _ in around] + [a for a in new for b in new if a < b]
        cand_b = [b for _ in new for b in around] + [b for a in new for b in new if a < b]
        ok = shares_border(
            np.asarray([self.geoms[a] for a in cand_a], dtype=object),
            np.asarray([self.geoms[b] for b in cand_b], dtype=object),
            self.tolerance_m,
        )
        for a, b, yes in zip(cand_a, cand_b, ok, strict=True):
            if yes:
                self.nbr[a].add(b)
                self.nbr[b].add(a)
        self.nbr[k] = set()
        return new

    def cut(self, k: int, need_m2: float, toward: tuple[float, float]) -> list[Any] | None:
        """Cut piece ``k`` by one straight line: a slice of ``need_m2`` on the side of ``toward``.

        The line is perpendicular to the direction from ``toward`` to the
        piece's centre (along the piece's long axis when they coincide); its
        offset is refined over :data:`_CUT_STEPS` candidates at a time, and the
        slice is never smaller than ``need_m2``.  Returns ``[slice, *rest]``
        (polygons, nothing changed yet), or ``None`` when the slice is not one
        polygon (the piece is too irregular for one cut).
        """
        geom = self.geoms[k]
        dx, dy = self.cx[k] - toward[0], self.cy[k] - toward[1]
        if float(np.hypot(dx, dy)) < 1.0:
            ring = shapely.get_coordinates(shapely.oriented_envelope(geom))
            edges = np.diff(ring[:3], axis=0)
            dx, dy = edges[int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))]
        d = np.array([dx, dy]) / float(np.hypot(dx, dy))
        n = np.array([-d[1], d[0]])
        xy = shapely.get_coordinates(geom)
        along, across = xy @ d, xy @ n
        lo, hi = float(along.min()), float(along.max())
        start, q0, q1 = lo - 1.0, float(across.min()) - 1.0, float(across.max()) + 1.0

        def halves(t: np.ndarray) -> np.ndarray:
            s = np.full_like(t, start)
            corners = [np.outer(s, d) + q0 * n, np.outer(t, d) + q0 * n]
            corners += [np.outer(t, d) + q1 * n, np.outer(s, d) + q1 * n]
            return shapely.polygons(np.stack(corners, axis=1))

        for _ in range(_CUT_ROUNDS):
            t = np.linspace(lo, hi, _CUT_STEPS)
            enough = shapely.area(shapely.intersection(halves(t), geom)) >= need_m2
            first = int(np.argmax(enough)) if enough.any() else len(t) - 1
            lo, hi = float(t[max(first - 1, 0)]), float(t[first])
        half = halves(np.array([hi]))[0]
        piece = shapely.intersection(geom, half)
        if shapely.get_type_id(piece) != 3:
            return None
        rest = shapely.get_parts(shapely.difference(geom, half))
        return [piece, *[p for p in rest if shapely.area(p) >= SLIVER_M2]]


def _grow(
    land: Land,
    target_m2: float,
    max_m2: float,
    reserve_m2: float,
    seed_rank: int = 0,
    whole_first: bool = False,
) -> tuple[list[int], bool] | None:
    """One lot of at least ``target_m2`` from the free pieces, or ``None``.

    ``reserve_m2`` is the land the unit's next projects need: a parcel is cut
    rather than taken whole when taking it would leave less, or make the lot
    larger than ``max_m2``.  With ``whole_first``, the seed and each next
    piece are the closest that can be taken whole (completing the lot first,
    then growing it), a cut piece only when no other is left; otherwise the
    closest, whatever it needs.
    """
    if land.free_area() < target_m2 - _AREA_TOL_M2:
        return None
    free = land.free_component_pieces(target_m2 - _AREA_TOL_M2)
    if not free:
        return None
    w = np.array([land.area[k] for k in free])
    fx = float(np.dot(w, [land.cx[k] for k in free]) / w.sum())
    fy = float(np.dot(w, [land.cy[k] for k in free]) / w.sum())
    dist = np.hypot(
        np.array([land.cx[k] for k in free]) - fx, np.array([land.cy[k] for k in free]) - fy
    )
    lot: list[int] = []
    lot_area, sx, sy = 0.0, 0.0, 0.0
    free_now = land.free_area()

    def fit(m: int) -> int:
        """0: piece ``m`` taken whole completes the lot; 1: it does not complete it; 2: a cut.

        A cut is needed when taking the piece whole would make the lot larger
        than ``max_m2`` or leave less free land than ``reserve_m2``.
        """
        if lot_area + land.area[m] < target_m2 - _AREA_TOL_M2:
            return 1
        fits_max = lot_area + land.area[m] <= max_m2 + _AREA_TOL_M2
        return 0 if fits_max and free_now - land.area[m] >= reserve_m2 - _AREA_TOL_M2 else 2

    # the edge of the free land (the farthest piece, or the ``seed_rank``-th farthest), whole
    # pieces that complete the lot first, in a connected part of the free land large enough
    kind = [fit(k) if whole_first else 0 for k in free]
    seed = free[int(np.lexsort((-dist, np.asarray(kind)))[min(seed_rank, len(free) - 1)])]
    frontier = {seed}
    split = False
    while lot_area < target_m2 - _AREA_TOL_M2:
        if not frontier:
            for m in lot:  # the pieces go back to the free land (cut ones stay cut)
                land.free[m] = True
            return None
        free_now = land.free_area()
        if lot:  # the closest neighbour completing the lot whole, else growing it whole, else cut
            centre = (sx / lot_area, sy / lot_area)
            k = min(
                frontier,
                key=lambda m: (
                    fit(m) if whole_first else 0,
                    np.hypot(land.cx[m] - centre[0], land.cy[m] - centre[1]),
                    m,
                ),
            )
            toward = centre
        else:  # a seed cut keeps its slice on the outer side, the rest towards the free land
            k = seed
            toward = (2 * land.cx[k] - fx, 2 * land.cy[k] - fy)
        need = target_m2 - lot_area
        if fit(k) == 2:
            parts = land.cut(k, need, toward)
            touches = parts is not None and (
                not lot
                or shares_border(
                    np.asarray([parts[0]] * len(lot), dtype=object),
                    np.asarray([land.geoms[m] for m in lot], dtype=object),
                    land.tolerance_m,
                ).any()
            )
            if touches and parts is not None:
                k, split = land.replace(k, parts)[0], True
            else:  # taken whole, the piece would leave too little or pass ``max_m2``
                for m in lot:
                    land.free[m] = True
                return None
        land.free[k] = False
        lot.append(k)
        lot_area += land.area[k]
        sx += land.area[k] * land.cx[k]
        sy += land.area[k] * land.cy[k]
        frontier = {m for p in lot for m in land.nbr[p] if land.free[m]}
    return lot, split


def _lay_out_unit(
    land: Land, group: pd.DataFrame, seed_rank: int, whole_first: bool
) -> tuple[list[tuple[str, list[int]]], list[str]]:
    """The lots of one unit's projects, largest first; the first grows from seed ``seed_rank``.

    ``whole_first``: each lot takes pieces whole where it can (see :func:`_grow`).
    """
    targets = group["_target"].to_numpy(dtype=float)
    done: list[tuple[str, list[int]]] = []
    missed: list[str] = []
    for at, (pid, target, most) in enumerate(
        zip(group[Col.PROJECT_ID].astype(str), targets, group["_max"].to_numpy(float), strict=True)
    ):
        reserve = float(targets[at + 1 :].sum())
        grown = _grow(
            land, float(target), float(most), reserve, seed_rank if at == 0 else 0, whole_first
        )
        if grown is None:
            missed.append(pid)
        else:
            done.append((pid, grown[0]))
    return done, missed


# -- all units -----------------------------------------------------------------------------


@dataclass
class LotLayout:
    """The outcome of :func:`lay_out_lots`.

    Attributes
    ----------
    lots
        One row per project laid out (schema ``lots`` of
        :data:`foncier.layers.TABLE_SCHEMAS`), geometry = the lot.
    failed
        One row per project that could not be laid out on its unit:
        ``project_id``, ``unit_id``, ``area_min_ha``, ``explanation`` (French).
    pieces
        The pieces of the lots: ``project_id``, ``idu``, ``split``, geometry.
    solves
        How many times :func:`place_with_lots` solved the assignment (1 when called alone).
    seconds
        Time spent laying out lots (every round of :func:`place_with_lots`).
    before_lots
        With :func:`place_with_lots`: the first solution of the solver
        (``project_id``, ``unit_id``), before any pair was forbidden for its
        lot: the start of a scenario solved again after a relaxation.
    objective_before_lots
        Its objective value.
    """

    lots: gpd.GeoDataFrame
    failed: pd.DataFrame
    pieces: gpd.GeoDataFrame
    solves: int = 1
    seconds: float = 0.0
    before_lots: pd.DataFrame | None = None
    objective_before_lots: float = float("nan")


def lay_out_lots(
    assignments: pd.DataFrame,
    units: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    charging: EnafCharging | None = None,
    unknown_as: str = "enaf",
    tolerance_m: float = TOLERANCE_M,
    whole_parcels: bool = True,
) -> LotLayout:
    """Lay out the lot of every placed project on its unit's parcels.

    On each unit the projects are laid out largest first (then by
    ``project_id``): each lot starts at the edge of the land still free (the
    piece farthest from its centre) and grows by the free neighbour closest
    to its own centre until it reaches the project's minimal area.

    Parameters
    ----------
    assignments
        ``project_id``, ``unit_id``, ``area_ha`` (the minimal area to lay
        out), optionally ``area_max_ha`` and ``is_pene``.
    units
        The land units the assignment used (``unit_id``, ``idus``, geometry…).
    parcels
        The ``parcels`` layer.
    charging
        What counts as ENAF consumption (a lot's charge); the default rules' otherwise.
    unknown_as
        How parcels of unknown land cover count (``enaf`` or ``artificialised``).
    tolerance_m
        Largest gap between two pieces of one lot.
    whole_parcels
        Take parcels whole where the project's largest area and the unit's
        other projects allow (fewest cut parcels, lots possibly larger than
        the minimum); ``False`` cuts each lot's last parcel to the minimum.

    Returns
    -------
    LotLayout
        Lots, failures and the pieces of the lots.
    """
    placed = pd.DataFrame(assignments).reset_index(drop=True)
    ids = units[UnitCol.UNIT_ID].astype(str)
    used = units[ids.isin(placed[UnitCol.UNIT_ID].astype(str)).to_numpy()].reset_index(drop=True)
    pieces = unit_pieces(used, parcels, unknown_as=unknown_as)
    geoms = pieces.geometry.to_numpy()
    of_unit = pieces["_unit"].to_numpy()
    i, j = piece_adjacency(geoms, of_unit, tolerance_m=tolerance_m)
    nbr_global: list[set[int]] = [set() for _ in range(len(pieces))]
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        nbr_global[a].add(b)
        nbr_global[b].add(a)
    max_ha = (
        pd.to_numeric(placed[Col.AREA_MAX_HA], errors="coerce")
        if Col.AREA_MAX_HA in placed.columns
        else pd.Series(np.inf, index=placed.index)
    )
    placed = placed.assign(
        _target=placed[TableCol.AREA_HA].astype(float) * 1e4, _max=max_ha.fillna(np.inf) * 1e4
    )
    placed = placed.sort_values(
        [UnitCol.UNIT_ID, "_target", Col.PROJECT_ID], ascending=[True, False, True], kind="stable"
    )
    starts = np.searchsorted(of_unit, np.arange(len(used) + 1))
    unit_pos = pd.Series(np.arange(len(used)), index=used[UnitCol.UNIT_ID].astype(str))
    out_rows: list[tuple[str, int, bool]] = []  # (project_id, piece row, split)
    out_geoms: list[Any] = []
    failed: list[dict[str, Any]] = []
    for unit_id, group in placed.groupby(UnitCol.UNIT_ID, sort=True):
        u = int(unit_pos[str(unit_id)])
        lo, hi = int(starts[u]), int(starts[u + 1])
        # the try leaving the fewest projects out, then cutting the fewest pieces: whole
        # pieces first and the closest pieces from the first seed, then the next seeds
        # while a project is left out
        best: tuple[Land, list[tuple[str, list[int]]], list[str], int] | None = None
        tries = [(False, rank) for rank in range(SEED_TRIES)]
        for at, (whole_first, rank) in enumerate([(True, 0)] * whole_parcels + tries):
            land = Land(
                geoms=list(geoms[lo:hi]),
                row=list(range(lo, hi)),
                free=[True] * (hi - lo),
                split=[False] * (hi - lo),
                nbr=[{m - lo for m in nbr_global[k]} for k in range(lo, hi)],
                tolerance_m=tolerance_m,
            )
            done, missed = _lay_out_unit(land, group, rank, whole_first)
            cuts = sum(land.split[k] for _, lot in done for k in lot) if whole_parcels else 0
            if best is None or (len(missed), cuts) < (len(best[2]), best[3]):
                best = (land, done, missed, cuts)
            if not best[2] and (at > 0 or not best[3] or not whole_parcels):
                break
        assert best is not None
        land, done, missed, _ = best
        for pid, lot in done:
            for k in lot:
                out_rows.append((pid, land.row[k], land.split[k]))
                out_geoms.append(land.geoms[k])
        target_of = dict(zip(group[Col.PROJECT_ID].astype(str), group["_target"], strict=True))
        failed += [
            {
                Col.PROJECT_ID: pid,
                UnitCol.UNIT_ID: str(unit_id),
                Col.AREA_MIN_HA: target_of[pid] / 1e4,
                TableCol.EXPLANATION: (
                    f"aucun lot d'un seul tenant de {fr_compact(target_of[pid] / 1e4, 2)} ha "
                    f"ne peut être découpé dans les parcelles encore libres de l'unité "
                    f"{unit_id} ({fr_compact(land.free_area() / 1e4, 2)} ha libres)"
                ),
            }
            for pid in missed
        ]
    lot_pieces = pieces.drop(columns=pieces.geometry.name).iloc[[r for _, r, _ in out_rows]]
    lot_pieces = lot_pieces.assign(
        **{Col.PROJECT_ID: [p for p, _, _ in out_rows], TableCol.SPLIT: [s for _, _, s in out_rows]}
    ).reset_index(drop=True)
    lot_pieces = gpd.GeoDataFrame(
        lot_pieces,
        geometry=gpd.GeoSeries(np.asarray(out_geoms, dtype=object), crs=CRS_L93).to_numpy(),
        crs=CRS_L93,
    )
    lots = (
        lot_figures(lot_pieces, placed, used, charging=charging)
        if len(lot_pieces)
        else empty_layer("lots")
    )
    fails = pd.DataFrame(
        failed, columns=[Col.PROJECT_ID, UnitCol.UNIT_ID, Col.AREA_MIN_HA, TableCol.EXPLANATION]
    )
    return LotLayout(lots=lots, failed=fails, pieces=lot_pieces)


def lot_parcels(pieces: pd.DataFrame) -> pd.DataFrame:
    """The parcels of each lot: what a land officer needs to start talking to owners.

    Parameters
    ----------
    pieces
        The pieces of the lots (:attr:`LotLayout.pieces`).

    Returns
    -------
    pandas.DataFrame
        One row per (project, parcel), sorted by project then ``idu``
        (schema ``lot_parcels``): ``project_id``, ``unit_id``, ``idu`` (blank
        for land outside any listed parcel), ``taken_ha`` (the area the lot
        takes from it), ``owner_kind``, ``owner_id`` (missing when unknown)
        and ``split`` (the lot takes only part of the parcel).
    """
    area = shapely.area(pieces.geometry.to_numpy()) if len(pieces) else np.zeros(0)
    frame = pd.DataFrame(
        {
            Col.PROJECT_ID: pieces[Col.PROJECT_ID].astype(str).to_numpy(),
            UnitCol.UNIT_ID: pieces[UnitCol.UNIT_ID].astype(str).to_numpy(),
            Col.IDU: pieces[Col.IDU].astype(str).to_numpy(),
            TableCol.TAKEN_HA: area / 1e4,
            Col.OWNER_KIND: pieces[Col.OWNER_KIND].astype(str).to_numpy(),
            Col.OWNER_ID: pieces[Col.OWNER_ID].astype(object).to_numpy(),
            TableCol.SPLIT: pieces[TableCol.SPLIT].astype(bool).to_numpy(),
        }
    )
    out = (
        frame.groupby([Col.PROJECT_ID, Col.IDU], sort=True, dropna=False)
        .agg(
            {
                UnitCol.UNIT_ID: "first",
                TableCol.TAKEN_HA: "sum",
                Col.OWNER_KIND: "first",
                Col.OWNER_ID: "first",
                TableCol.SPLIT: "any",
            }
        )
        .reset_index()
    )
    columns = TABLE_SCHEMAS["lot_parcels"].column_names
    return check_table(out[columns].astype({TableCol.SPLIT: bool}), "lot_parcels")


def lot_figures(
    pieces: gpd.GeoDataFrame,
    placed: pd.DataFrame,
    units: pd.DataFrame,
    *,
    charging: EnafCharging | None = None,
    key: str = Col.PROJECT_ID,
) -> gpd.GeoDataFrame:
    """What each lot says: its parcels, owners, public share, ENAF and geometry.

    Parameters
    ----------
    pieces
        The pieces of the lots (``key``, ``idu``, ``owner_kind``,
        ``owner_id``, ``_enaf_frac``, ``split``, geometry).
    placed
        One row per lot: ``key``, ``unit_id``, optionally ``is_pene``.
    units
        The units (``unit_id``, ``is_friche``), for the ENAF charge.
    charging
        What counts as ENAF consumption.
    key
        The column naming the lot.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per lot with pieces, in the order of ``placed``: ``key``,
        ``unit_id`` and the columns of the ``lots`` schema; ``enaf_ha`` is
        the ENAF the lot's own land charges to the local envelope.
    """
    charging = charging or EnafCharging()
    names, label = np.unique(pieces[key].astype(str).to_numpy(), return_inverse=True)
    area = shapely.area(pieces.geometry.to_numpy())
    frame = pd.DataFrame(
        {
            "_lot": label,
            "_a": area,
            "_enaf": area * pieces[_FRAC].to_numpy(float),
            "_public": area * (pieces[Col.OWNER_KIND].astype(str) == "public").to_numpy(),
            Col.IDU: pieces[Col.IDU].astype(str).to_numpy(),
            Col.OWNER_KIND: pieces[Col.OWNER_KIND].astype(str).to_numpy(),
            Col.OWNER_ID: pieces[Col.OWNER_ID].to_numpy(dtype=object),
            TableCol.SPLIT: pieces[TableCol.SPLIT].to_numpy(dtype=bool),
        }
    )
    by = frame.groupby("_lot", sort=True)
    with_idu = frame[frame[Col.IDU] != ""]
    idus = with_idu.drop_duplicates(["_lot", Col.IDU]).sort_values(["_lot", Col.IDU])
    joined = idus.groupby("_lot")[Col.IDU].agg("|".join).reindex(range(len(names)), fill_value="")
    n_parcels = idus.groupby("_lot").size().reindex(range(len(names)), fill_value=0)
    owners_known = frame[Col.OWNER_ID].notna() & (frame[Col.IDU] != "")
    all_known = owners_known.groupby(frame["_lot"]).all()
    n_owners = (
        frame[owners_known].groupby("_lot")[Col.OWNER_ID].nunique().reindex(range(len(names)))
    )
    kinds = (
        frame.drop_duplicates(["_lot", Col.OWNER_KIND])
        .sort_values(["_lot", Col.OWNER_KIND])
        .groupby("_lot")[Col.OWNER_KIND]
        .agg("|".join)
    )
    lot_area = by["_a"].sum().to_numpy()
    share = by["_enaf"].sum().to_numpy() / np.where(lot_area > 0, lot_area, 1.0)
    table = pd.DataFrame(
        {
            key: names,
            UnitCol.IDUS: joined.to_numpy(),
            TableCol.LOT_AREA_HA: lot_area / 1e4,
            TableCol.N_PARCELS: n_parcels.to_numpy().astype("int64"),
            TableCol.N_OWNERS: n_owners.where(all_known.to_numpy()).to_numpy(dtype=float),
            TableCol.OWNER_KINDS: kinds.to_numpy(),
            TableCol.PUBLIC_SHARE: by["_public"].sum().to_numpy()
            / np.where(lot_area > 0, lot_area, 1.0),
            UnitCol.ENAF_SHARE: share,
            TableCol.SPLIT: by[TableCol.SPLIT].any().to_numpy(),
        }
    )
    info = pd.DataFrame(placed).drop_duplicates(key)
    info = info.set_index(info[key].astype(str))
    table.insert(1, UnitCol.UNIT_ID, info[UnitCol.UNIT_ID].astype(str).reindex(names).to_numpy())
    pene = (
        info[Col.IS_PENE].reindex(names).fillna(False).astype(bool).to_numpy()
        if Col.IS_PENE in info.columns
        else np.zeros(len(names), dtype=bool)
    )
    excluded = charging.excluded(categories(info.reindex(names)))
    friche_of = units.set_index(units[UnitCol.UNIT_ID].astype(str))[UnitCol.IS_FRICHE]
    friche = friche_of.reindex(table[UnitCol.UNIT_ID]).fillna(False).astype(bool).to_numpy()
    table.insert(
        len(table.columns) - 1,
        TableCol.ENAF_HA,
        charging.charge(
            table[TableCol.LOT_AREA_HA].to_numpy(), share, pene, friche, excluded=excluded
        ),
    )
    geometry = union_by_label(pieces.geometry.to_numpy(), label, len(names))
    order = pd.Index(names).get_indexer(info.index[info.index.isin(names)])
    lots = gpd.GeoDataFrame(
        table.iloc[order].reset_index(drop=True), geometry=geometry[order], crs=CRS_L93
    )
    if key == Col.PROJECT_ID:
        check_table(lots, "lots")
    return lots


# -- the assignment, laid out --------------------------------------------------------------


def _over_budget(
    lots: pd.DataFrame, assignments: pd.DataFrame, remaining: pd.Series, unit_pool: pd.Series
) -> pd.DataFrame:
    """Placements to forbid because their lots' own ENAF takes a pool over its budget.

    In each pool whose lots charge more than ``max(remaining, 0)``, the lot
    whose charge exceeds the solver's the most.
    """
    pool_of = unit_pool.copy()
    pool_of.index = pool_of.index.astype(str)
    solver = assignments.set_index(assignments[Col.PROJECT_ID].astype(str))[TableCol.ENAF_HA]
    t = pd.DataFrame(
        {
            Col.PROJECT_ID: lots[Col.PROJECT_ID].astype(str),
            UnitCol.UNIT_ID: lots[UnitCol.UNIT_ID].astype(str),
            "pool": pool_of.reindex(lots[UnitCol.UNIT_ID].astype(str)).astype(str).to_numpy(),
            "charge": lots[TableCol.ENAF_HA].astype(float).to_numpy(),
        }
    )
    t["excess"] = t["charge"] - solver.reindex(t[Col.PROJECT_ID]).astype(float).to_numpy()
    rem = pd.to_numeric(remaining, errors="coerce")
    rem.index = rem.index.astype(str)
    used = t.groupby("pool")["charge"].sum()
    budget = rem.reindex(used.index).fillna(0.0).clip(lower=0.0)
    over = used.index[used > budget + _HA_TOL]
    worst = (
        t[t["pool"].isin(over)]
        .sort_values(["pool", "excess", Col.PROJECT_ID], ascending=[True, False, True])
        .drop_duplicates("pool")
    )
    return worst[[Col.PROJECT_ID, UnitCol.UNIT_ID]].assign(
        **{
            TableCol.EXPLANATION: [
                f"le lot de {fr_compact(c, 2)} ha d'ENAF dépasserait le budget ZAN restant "
                f"de son enveloppe ({p})"
                for c, p in zip(worst["charge"], worst["pool"], strict=True)
            ]
        }
    )


def place_with_lots(
    solve: Callable[[pd.DataFrame, pd.DataFrame | None], Any],
    units: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
    projects: pd.DataFrame,
    *,
    charging: EnafCharging | None = None,
    unknown_as: str = "enaf",
    incumbent: pd.DataFrame | None = None,
) -> tuple[Any, LotLayout, pd.DataFrame]:
    """Solve, lay out the lots, and solve again without the pairs that cannot be laid out.

    A pair is forbidden when its project's lot cannot be cut from the unit,
    or when the lots' own ENAF takes a pool over its remaining budget (the
    lot exceeding the solver's charge the most); the assignment is solved
    again, starting from the previous solution without those pairs, until
    every placement has its lot within budget, or for at most
    :data:`MAX_ROUNDS` solves.  Each solution is also made lot-feasible at
    once: its placements without a lot (or taking a pool over its budget)
    are taken out, and each is put back on another of its candidate units
    where the unit's room, the pool's budget and the unit's lots allow it
    (without moving any other placement, so the objective is never lower
    than with the project taken out); the projects that fit nowhere are
    left out with the reason ``no_lot``.  The best of these lot-feasible
    solutions is returned (the latest on a tie), so a later solve that
    the solver's gap lets fall lower never lowers the result: the result
    never holds a placement without its lot, and every capacity and budget
    holds.

    Parameters
    ----------
    solve
        Called with the forbidden ``(project_id, unit_id)`` pairs and the
        previous solution to start from (``None`` the first time); returns a
        :class:`~foncier.matching.MatchResult`.
    units, parcels
        The units the solver placed projects on, and the parcels layer.
    remaining, unit_pool
        Remaining ZAN budget per pool, pool of each unit.
    projects
        The projects (``area_max_ha``, ``is_pene``).
    charging, unknown_as
        ENAF charging of the rule set, and how unknown land cover counts.
    incumbent
        The published placements (``project_id``, ``unit_id``) of a previous
        result, e.g. of this scenario before a relaxation: when they are
        still a solution of this match, made lot-feasible, they compete with
        the solves', so after a relaxation the result is never below that
        previous result (its pairs still among the candidates).

    Returns
    -------
    tuple
        The last match, its lots, and the forbidden or taken-out pairs with
        their French ``explanation`` (empty when the first solution could be
        laid out).
    """
    fields = projects.set_index(projects[Col.PROJECT_ID].astype(str))
    forbidden = pd.DataFrame(columns=[Col.PROJECT_ID, UnitCol.UNIT_ID, TableCol.EXPLANATION])
    seconds = 0.0
    previous: pd.DataFrame | None = None
    solves = 0
    lay_out = partial(
        lay_out_within_budgets,
        units=units,
        parcels=parcels,
        fields=fields,
        remaining=remaining,
        unit_pool=unit_pool,
        charging=charging,
        unknown_as=unknown_as,
    )

    def lot_feasible(
        match: Any,
        forbidden: pd.DataFrame,
        laid: tuple[LotLayout, pd.DataFrame] | None = None,
    ) -> tuple[Any, LotLayout, pd.DataFrame]:
        """The solution with its lots, its lot-less placements taken out and put back.

        ``laid``: the solution's lots and failed pairs when already laid out.
        """
        a = match.assignments
        layout, bad = laid if laid is not None else lay_out(a, a)
        if bad.empty:
            return match, layout, forbidden
        out, kept, taken = _take_out(match, layout, bad, remaining, unit_pool)
        tried = pd.concat([forbidden, taken], ignore_index=True)
        out, kept = _put_back(out, kept, taken, tried, lay_out)
        return out, kept, tried

    best: tuple[Any, LotLayout, pd.DataFrame] | None = None
    while True:
        solves += 1
        match = solve(forbidden, previous)
        clock = time.perf_counter()
        if solves == 1:
            before = match.assignments[[Col.PROJECT_ID, UnitCol.UNIT_ID]].reset_index(drop=True)
            objective_before = float(match.solve.objective)
            if incumbent is not None:
                best = _incumbent(match, incumbent, forbidden, lot_feasible)
        a = match.assignments
        layout, bad = lay_out(a, a)
        # This solution made lot-feasible: kept if it is the best so far, so
        # a later solve (within the solver's gap) never lowers the result.
        found = lot_feasible(match, forbidden, (layout, bad))
        if best is None or found[0].solve.objective >= best[0].solve.objective - _OBJECTIVE_TOL:
            best = found
        seconds += time.perf_counter() - clock
        if bad.empty or solves == MAX_ROUNDS:
            match, layout, forbidden = best
            layout.solves, layout.seconds = solves, seconds
            layout.before_lots, layout.objective_before_lots = before, objective_before
            return match, layout, forbidden.reset_index(drop=True)
        forbidden = pd.concat([forbidden, bad], ignore_index=True)
        previous = a[~pair_key(a).isin(pair_key(bad))]


def _incumbent(
    match: Any,
    incumbent: pd.DataFrame,
    forbidden: pd.DataFrame,
    lot_feasible: Callable[[Any, pd.DataFrame], tuple[Any, LotLayout, pd.DataFrame]],
) -> tuple[Any, LotLayout, pd.DataFrame] | None:
    """A previous result's placements as a lot-feasible solution of this match, if they are one.

    Its pairs that are no longer candidates are left out; ``None`` when the
    match keeps no candidate pairs or the rest breaks a capacity or a budget
    (the inputs were tightened, not relaxed).
    """
    if match.setup is None:
        return None
    at = pair_key(match.setup.pairs).get_indexer(pair_key(incumbent))
    try:
        return lot_feasible(with_solution(match, at[at >= 0]), forbidden)
    except InfeasibleError:
        return None


def lay_out_within_budgets(
    a: pd.DataFrame,
    full: pd.DataFrame,
    *,
    units: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    fields: pd.DataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
    charging: EnafCharging | None,
    unknown_as: str,
    others: pd.DataFrame | None = None,
) -> tuple[LotLayout, pd.DataFrame]:
    """The lots of the placements ``a``, and the pairs to forbid (no lot, or over a budget).

    Whole parcels first; lots cut to the minimum when the whole-parcel lots
    take a pool over its budget.  The budgets are checked on these lots and
    the lots ``others`` laid out elsewhere, the placements being ``full``.
    When some placement gets no lot, the pairs to forbid are those
    placements only (the budgets are not checked).

    Parameters
    ----------
    a, full
        Placements to lay out (``project_id``, ``unit_id``, ``area_ha``),
        and all the placements (their ``enaf_ha``: the solver's charge).
    units, parcels
        Units (``idus``, geometry) and the parcels layer.
    fields
        Project fields (``area_max_ha``, ``is_pene``, ``category``) by project id.
    remaining, unit_pool
        Remaining ZAN budget per pool, pool of each unit.
    charging, unknown_as
        ENAF charging of the rule set, and how unknown land cover counts.
    others
        Lots laid out on other units, counted in the budgets.

    Returns
    -------
    tuple
        The :class:`LotLayout`, and the pairs to forbid (``project_id``,
        ``unit_id``, French ``explanation``).
    """
    ids = a[Col.PROJECT_ID].astype(str)
    extra = {
        c: fields[c].reindex(ids).to_numpy()
        for c in (Col.AREA_MAX_HA, Col.IS_PENE, Col.CATEGORY)
        if c in fields.columns and c not in a.columns
    }
    for whole in (True, False):  # whole parcels, else lots cut to the minimum
        layout = lay_out_lots(
            a.assign(**extra),
            units,
            parcels,
            charging=charging,
            unknown_as=unknown_as,
            whole_parcels=whole,
        )
        bad = layout.failed[[Col.PROJECT_ID, UnitCol.UNIT_ID, TableCol.EXPLANATION]]
        if bad.empty:
            lots = layout.lots if others is None else pd.concat([others, layout.lots])
            bad = _over_budget(lots, full, remaining, unit_pool)
        if bad.empty or not layout.failed.empty:
            break
    return layout, bad


def _put_back(
    match: Any,
    layout: LotLayout,
    taken: pd.DataFrame,
    forbidden: pd.DataFrame,
    lay_out: Callable[..., tuple[LotLayout, pd.DataFrame]],
) -> tuple[Any, LotLayout]:
    """The projects taken out by :func:`_take_out`, placed again where a lot fits.

    Each taken-out project, most valuable first, goes to its first candidate
    unit (by value, then score, then ``unit_id``) outside the forbidden
    pairs where the unit's net area and the pool's budget have room and the
    lots of that unit, its own included, can all be laid out within the
    budgets.  Placements are only added: the objective never falls below
    that of the solution with the projects taken out.  The match is then
    explained again for its final solution (see
    :func:`foncier.matching.with_solution`); the projects still out keep
    their ``no_lot`` rows.
    """
    s = match.setup
    if s is None:  # a match solved without its candidate pairs: nothing to try
        return match, layout
    pairs = s.pairs
    key = pair_key(pairs)
    chosen = key.get_indexer(pair_key(match.assignments))
    banned = key.isin(pair_key(forbidden))
    coef = s.coefficients(pairs)
    pid = pairs[Col.PROJECT_ID].astype(str)
    out = taken[Col.PROJECT_ID].astype(str).unique()
    rows = np.flatnonzero(pid.isin(out).to_numpy() & ~banned & (coef > 0))
    best = pd.Series(coef[rows]).groupby(pid.to_numpy()[rows]).transform("max").to_numpy()
    order = np.lexsort(
        (
            pairs[UnitCol.UNIT_ID].astype(str).to_numpy()[rows],
            -pairs["score"].to_numpy(float)[rows],
            -coef[rows],
            pid.to_numpy()[rows],
            -best,
        )
    )
    u_of = pairs["u"].to_numpy(dtype=int)
    area, enaf = pairs["area_ha"].to_numpy(float), pairs["enaf_ha"].to_numpy(float)
    load = np.bincount(u_of[chosen], weights=area[chosen], minlength=len(s.capacity))
    code_of = s.pools.of_unit[u_of]
    in_pool = code_of[chosen] >= 0
    used = np.bincount(
        code_of[chosen][in_pool], weights=enaf[chosen][in_pool], minlength=len(s.pools.ids)
    )
    cols = [Col.PROJECT_ID, UnitCol.UNIT_ID, TableCol.AREA_HA, TableCol.ENAF_HA]
    placed = pairs.iloc[chosen][cols]
    lots, pieces, done = layout.lots, layout.pieces, set()
    for r in rows[order]:
        u, code = u_of[r], code_of[r]
        left = s.pools.budget[code] - used[code] if code >= 0 else 0.0
        room = s.capacity[u] - load[u]
        if pid.iat[r] in done or area[r] > room + _HA_TOL or enaf[r] > left + _HA_TOL:
            continue
        unit_id = str(pairs[UnitCol.UNIT_ID].iat[r])
        trial = pd.concat([placed, pairs.iloc[[r]][cols]], ignore_index=True)
        here = trial[UnitCol.UNIT_ID].astype(str) == unit_id
        elsewhere = lots[lots[UnitCol.UNIT_ID].astype(str) != unit_id]
        unit_layout, bad = lay_out(trial[here], trial, others=elsewhere)
        if not bad.empty:
            continue
        done.add(pid.iat[r])
        chosen, placed = np.append(chosen, r), trial
        load[u] += area[r]
        if code >= 0:
            used[code] += enaf[r]
        lots = pd.concat([elsewhere, unit_layout.lots], ignore_index=True)
        pieces = pd.concat(
            [pieces[pieces[UnitCol.UNIT_ID].astype(str) != unit_id], unit_layout.pieces],
            ignore_index=True,
        )
    final = with_solution(match, chosen)
    still_out = match.unmatched[Col.PROJECT_ID].astype(str).isin(set(out) - done)
    no_lot = match.unmatched[still_out & (match.unmatched[TableCol.REASON_CODE] == "no_lot")]
    left_out = final.unmatched[~final.unmatched[Col.PROJECT_ID].astype(str).isin(out)]
    final = replace(final, unmatched=pd.concat([left_out, no_lot], ignore_index=True))
    return final, LotLayout(lots, layout.failed.iloc[:0], pieces)


def _take_out(
    match: Any,
    layout: LotLayout,
    bad: pd.DataFrame,
    remaining: pd.Series,
    unit_pool: pd.Series,
) -> tuple[Any, LotLayout, pd.DataFrame]:
    """The last solution without its placements that have no lot or break a budget with it.

    Placements without a lot go first; then, while a pool is over its budget
    with the lots' own ENAF, the lot exceeding the solver's charge the most.
    Their projects become ``no_lot`` rows of ``unmatched``.
    """
    a, lots, out = match.assignments, layout.lots, [bad]
    drop = set(bad[Col.PROJECT_ID].astype(str))
    while True:
        keep_a = ~a[Col.PROJECT_ID].astype(str).isin(drop)
        keep_l = ~lots[Col.PROJECT_ID].astype(str).isin(drop)
        over = _over_budget(lots[keep_l], a[keep_a], remaining, unit_pool)
        if over.empty:
            break
        out.append(over)
        drop |= set(over[Col.PROJECT_ID].astype(str))
    taken = pd.concat(out, ignore_index=True).drop_duplicates(Col.PROJECT_ID)
    gone = a[~keep_a]
    unmatched = match.unmatched
    rows = unmatched.iloc[:0].reindex(range(len(gone)))
    explanation = taken.set_index(Col.PROJECT_ID)[TableCol.EXPLANATION]
    ids = gone[Col.PROJECT_ID].astype(str).to_numpy()
    rows[Col.PROJECT_ID] = ids
    for column in PROJECT_FIELDS:
        if column in rows.columns and column in gone.columns:
            rows[column] = gone[column].to_numpy()
    rows[TableCol.REASON_CODE] = "no_lot"
    rows[UnitCol.UNIT_ID] = gone[UnitCol.UNIT_ID].astype(str).to_numpy()
    rows[TableCol.EXPLANATION] = explanation.reindex(ids).to_numpy()
    rows[TableCol.HINT] = NO_LOT_HINT
    if TableCol.UNLOCK_VERIFIED in rows.columns:
        rows[TableCol.UNLOCK_VERIFIED] = False
    pieces = layout.pieces[~layout.pieces[Col.PROJECT_ID].astype(str).isin(drop)]
    kept = LotLayout(lots[keep_l], layout.failed.iloc[:0], pieces)
    done = replace(
        match,
        assignments=a[keep_a].reset_index(drop=True),
        unmatched=pd.concat([unmatched, rows], ignore_index=True),
    )
    return done, kept, taken[[Col.PROJECT_ID, UnitCol.UNIT_ID, TableCol.EXPLANATION]]


def explain_forbidden(unmatched: pd.DataFrame, forbidden: pd.DataFrame) -> pd.DataFrame:
    """Give the layout's reason to the projects left out because their lots could not be laid out.

    A project that has no candidate pair left once its forbidden pairs are
    removed would read as infeasible; it becomes ``no_lot`` with the unit and
    the French explanation of its first forbidden pair.

    Parameters
    ----------
    unmatched
        The ``unmatched`` table of the last solve.
    forbidden
        The pairs :func:`place_with_lots` forbade, with their ``explanation``.

    Returns
    -------
    pandas.DataFrame
        ``unmatched`` with those rows rewritten.
    """
    if forbidden.empty or unmatched.empty:
        return unmatched
    first = forbidden.drop_duplicates(Col.PROJECT_ID).set_index(Col.PROJECT_ID)
    hit = unmatched[Col.PROJECT_ID].astype(str).isin(first.index) & unmatched[
        TableCol.REASON_CODE
    ].isin(("infeasible", "no_land"))
    if not hit.any():
        return unmatched
    out = unmatched.copy()
    ids = out.loc[hit, Col.PROJECT_ID].astype(str)
    out.loc[hit, TableCol.REASON_CODE] = "no_lot"
    out.loc[hit, TableCol.REQUIREMENT] = None
    out.loc[hit, UnitCol.UNIT_ID] = first[UnitCol.UNIT_ID].reindex(ids).to_numpy()
    out.loc[hit, TableCol.EXPLANATION] = first[TableCol.EXPLANATION].reindex(ids).to_numpy()
    out.loc[hit, TableCol.HINT] = NO_LOT_HINT
    return out


def with_lots(assignments: pd.DataFrame, lots: pd.DataFrame) -> pd.DataFrame:
    """The assignments with what their lots say, the ENAF charge being the lot's own.

    Parameters
    ----------
    assignments
        One row per placed project (``assignments`` schema).
    lots
        Their lots (``lots`` schema), one per project.

    Returns
    -------
    pandas.DataFrame
        ``assignments`` in its order, ``enaf_ha`` replaced by the lot's charge
        (the solver's is kept in the ``zan_cost`` sentence, completed when
        they differ), and the columns of the ``lots`` schema added.
    """
    by_id = pd.DataFrame(lots).set_index(lots[Col.PROJECT_ID].astype(str))
    row = by_id.reindex(assignments[Col.PROJECT_ID].astype(str))
    out = assignments.copy()
    charge = row[TableCol.ENAF_HA].astype(float).to_numpy()
    differs = np.abs(charge - out[TableCol.ENAF_HA].astype(float).to_numpy()) >= 0.005
    if TableCol.ZAN_COST in out.columns and differs.any():
        note = [f" ; le lot lui-même compte {fr_compact(c, 2)} ha d'ENAF" for c in charge[differs]]
        out.loc[differs, TableCol.ZAN_COST] = out.loc[differs, TableCol.ZAN_COST].astype(str) + note
    out[TableCol.ENAF_HA] = charge
    for column in LOT_COLUMNS:
        if column not in (Col.PROJECT_ID, UnitCol.UNIT_ID, TableCol.ENAF_HA):
            out[column] = row[column].to_numpy()
    return check_table(out, "lots")
