"""Land assembly: the best contiguous sites of X ha across candidate parcels.

A land unit stops where the owner kind, the zone or the origin changes; an
investor asking for 12 ha does not care.  :func:`assemble_sites` grows sites
of at least the asked area over every piece of candidate land (parcels in
activity zones, free ZAE plots, friches, exclusions removed), whatever unit
it belongs to, and ranks them as a land-assembly operation is judged:

1. fewest owners (distinct owners when the parcels carry ``owner_id``; else
   the number of parcels, each possibly another owner);
2. largest public share (land a public body already holds);
3. least ENAF (the ZAN charge);
4. best score of the project there (the matching's score, requirements checked).

Each site is grown from a seed (public, non-ENAF, large pieces first, a few
per connected block of candidate land) by taking, at each step, the
neighbour closest to its centre, a new owner or ENAF land counting as
farther; the last parcel is cut by one straight line when taking it whole
would overshoot the asked area by more than :data:`OVERSHOOT`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from foncier import criteria as crit
from foncier._format import fr_compact
from foncier.decisions import resolve_decisions, without_decided_land
from foncier.errors import FoncierError
from foncier.layers import (
    CRS_L93,
    FOOTPRINT_PARCELS,
    Col,
    TableCol,
    UnitCol,
    check_table,
    empty_layer,
)
from foncier.lots import (
    SLIVER_M2,
    TOLERANCE_M,
    Land,
    lot_figures,
    piece_adjacency,
    shares_border,
    unit_pieces,
)
from foncier.supply import DEFAULT_EXCLUDE, add_criteria, candidate_land, screen
from foncier.zan.charging import EnafCharging

__all__ = ["MAX_SEEDS", "OVERSHOOT", "SEEDS_PER_BLOCK", "assemble_sites", "site_parcels"]

#: A site may exceed the asked area by this share before its last parcel is cut.
OVERSHOOT = 0.10
#: Seeds tried per connected block of candidate land, and in all.
SEEDS_PER_BLOCK = 8
MAX_SEEDS = 100
#: Extra "distance" of a new owner, of ENAF land, of land not held by a public body.
_NEW_OWNER, _ENAF, _NOT_PUBLIC = 0.5, 0.5, 0.25
_SITE = "site"


def _grow_site(
    land: Land, seed: int, target_m2: float, attrs: pd.DataFrame
) -> list[tuple[int, Any]] | None:
    """``(piece, polygon)`` of a site grown from ``seed`` (the land is unchanged), or ``None``."""
    owner = attrs["_owner"].to_numpy(dtype=object)
    cost = 1.0 + _ENAF * attrs["_enaf_frac"].to_numpy(float)
    cost += _NOT_PUBLIC * (attrs[Col.OWNER_KIND].to_numpy(dtype=object) != "public")
    if land.area[seed] > target_m2 * (1 + OVERSHOOT):
        parts = land.cut(seed, target_m2, (land.cx[seed] + 1.0, land.cy[seed]))
        return None if parts is None else [(seed, parts[0])]
    site: list[tuple[int, Any]] = [(seed, land.geoms[seed])]
    owners = {owner[land.row[seed]]}
    area = land.area[seed]
    sx, sy = area * land.cx[seed], area * land.cy[seed]
    while area < target_m2:
        taken = {m for m, _ in site}
        frontier = {m for p in taken for m in land.nbr[p]} - taken
        if not frontier:
            return None
        cx, cy = sx / area, sy / area

        def key(m: int, cx: float = cx, cy: float = cy) -> tuple[float, int]:
            row = land.row[m]
            extra = _NEW_OWNER * (owner[row] not in owners)
            return (float(np.hypot(land.cx[m] - cx, land.cy[m] - cy)) * (cost[row] + extra), m)

        k = min(frontier, key=key)
        geom = land.geoms[k]
        need = target_m2 - area
        if land.area[k] > need + target_m2 * OVERSHOOT:
            parts = land.cut(k, need, (cx, cy))
            near = np.asarray([g for _, g in site], dtype=object)
            if (
                parts is not None
                and shares_border(
                    np.asarray([parts[0]] * len(near), dtype=object), near, land.tolerance_m
                ).any()
            ):
                geom = parts[0]
        site.append((k, geom))
        owners.add(owner[land.row[k]])
        a = float(shapely.area(geom))
        area += a
        sx, sy = sx + a * land.cx[k], sy + a * land.cy[k]
    return site


def _seeds(pieces: pd.DataFrame, block: np.ndarray, big_enough: np.ndarray) -> np.ndarray:
    """Seed pieces: per block large enough, public then non-ENAF then large pieces first."""
    order = pd.DataFrame(
        {
            "block": block,
            "public": pieces[Col.OWNER_KIND].to_numpy(dtype=object) == "public",
            "enaf": pieces["_enaf_frac"].to_numpy(float),
            "area": -shapely.area(pieces.geometry.to_numpy()),
            "i": np.arange(len(pieces)),
        }
    )[big_enough[block]]
    order = order.sort_values(["block", "public", "enaf", "area", "i"], ascending=[1, 0, 1, 1, 1])
    picked = order.groupby("block", sort=True).head(SEEDS_PER_BLOCK)
    picked = picked.sort_values(["public", "enaf", "area", "i"], ascending=[0, 1, 1, 1])
    return picked["i"].to_numpy()[:MAX_SEEDS]


def _site_units(
    sites: gpd.GeoDataFrame, site_pieces: gpd.GeoDataFrame, candidates: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Sites as land units (origin, zone, stage of their largest piece) for the criteria."""
    largest = (
        site_pieces.assign(_a=shapely.area(site_pieces.geometry.to_numpy()))
        .sort_values([_SITE, "_a"], ascending=[True, False], kind="stable")
        .drop_duplicates(_SITE)
        .set_index(_SITE)
    )
    of = candidates.iloc[largest["_unit"].reindex(sites[_SITE]).to_numpy()]
    frame = pd.DataFrame(
        {
            Col.INSEE: of[Col.INSEE].astype(str).to_numpy(),
            UnitCol.ORIGIN: of[UnitCol.ORIGIN].astype(str).to_numpy(),
            Col.ZONE_TYPE: of[Col.ZONE_TYPE].astype(str).to_numpy(),
            Col.OWNER_KIND: sites[TableCol.OWNER_KINDS].to_numpy(),
            UnitCol.IDUS: sites[UnitCol.IDUS].to_numpy(),
            Col.SITE_ID: of[Col.SITE_ID].astype(str).to_numpy(),
            UnitCol.FOOTPRINT: FOOTPRINT_PARCELS,
            Col.SERVICING_STAGE: of[Col.SERVICING_STAGE].astype(str).to_numpy(),
            UnitCol.GROSS_AREA_HA: sites[TableCol.LOT_AREA_HA].to_numpy(),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=sites.geometry.to_numpy(), crs=CRS_L93)


def assemble_sites(
    territory: Any,
    area_ha: float,
    requirements: Mapping[str, Any] | None = None,
    *,
    max_owners: int | None = None,
    k: int = 5,
    rules: Any = None,
    pool: str = "commune",
    committed: Any = None,
    decisions: Any = None,
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
) -> gpd.GeoDataFrame:
    """The best contiguous sites of at least ``area_ha`` across candidate parcels.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.
    area_ha
        Area asked for (ha): every site has at least this much land.
    requirements
        The project's other fields as in ``foncier query`` (slope, distance
        to an interchange, rail, Seveso, PENE…); each site must meet them.
    max_owners
        Keep only the sites with at most this many owners (distinct owners,
        or parcels when owners are not known).
    k
        How many sites to return.
    rules, pool, committed, decisions
        ZAN rule set, pooling level, committed projects and the working
        group's decisions, as for a scenario (the ZAN cost of each site); the
        parcels of validated lots are not candidate land.
    exclude
        Constraint kinds subtracted from the candidate land.

    Returns
    -------
    geopandas.GeoDataFrame
        At most ``k`` sites, best first (schema ``assembled_sites``):
        ``site_rank``, ``insee``, ``commune``, ``idus``, ``lot_area_ha``,
        ``n_parcels``, ``n_owners``, ``owner_kinds``, ``public_share``,
        ``enaf_share``, ``enaf_ha`` (the site's ZAN charge), ``score``,
        ``zan_ok``, ``zan_cost``, ``explanation`` (French) and the geometry.
        Empty when no block of candidate land is large enough or no site
        meets the requirements.

    Raises
    ------
    FoncierError
        ``area_ha`` is not positive, or ``max_owners`` is below 1.
    LayerSchemaError
        A requirement is out of range (the ``projects`` layer's rules).
    """
    from foncier.explain import query_project, with_place_names
    from foncier.inputs import matching_inputs, resolve_rules

    if not area_ha > 0:
        msg = f"surface demandée {area_ha!r} ha : donnez une surface positive (--area HA)"
        raise FoncierError(msg)
    if max_owners is not None and max_owners < 1:
        msg = f"nombre de propriétaires maximal {max_owners!r} : donnez au moins 1"
        raise FoncierError(msg)
    project = {**(requirements or {}), Col.AREA_MIN_HA: float(area_ha)}
    rule_set = resolve_rules(rules)
    unknown_as = rule_set.unknown_land_cover
    decided = resolve_decisions(decisions)
    candidates = without_decided_land(
        screen(candidate_land(territory), territory.constraints, exclude),
        decided,
        territory.parcels,
    )
    candidates = candidates.assign(
        **{
            UnitCol.UNIT_ID: [f"C{i}" for i in range(len(candidates))],
            UnitCol.ENAF_SHARE: crit.land_cover_shares(
                candidates, territory.parcels, unknown_as=unknown_as
            )[UnitCol.ENAF_SHARE],
        }
    )
    pieces = unit_pieces(candidates, territory.parcels, unknown_as=unknown_as)
    geoms = pieces.geometry.to_numpy()
    i, j = piece_adjacency(geoms, np.zeros(len(pieces), dtype="int64"), tolerance_m=TOLERANCE_M)
    n = len(pieces)
    graph = coo_matrix((np.ones(len(i), dtype="int8"), (i, j)), (n, n))
    _, block = connected_components(graph, directed=False)
    target = float(area_ha) * 1e4
    big_enough = np.bincount(block, weights=shapely.area(geoms)) >= target if n else np.zeros(0)
    if not n or not big_enough.any():
        return _empty()
    # owners: the owner's id when known, else the parcel (each parcel possibly another owner)
    idu = pieces[Col.IDU].astype(str)
    fallback = idu.where(idu != "", pd.Series([f"#{r}" for r in range(n)]))
    attrs = pieces.assign(
        _owner=pieces[Col.OWNER_ID].astype(object).where(pieces[Col.OWNER_ID].notna(), fallback)
    )
    nbr: list[set[int]] = [set() for _ in range(n)]
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        nbr[a].add(b)
        nbr[b].add(a)
    land = Land(
        geoms=list(geoms),
        row=list(range(n)),
        free=[True] * n,
        split=[False] * n,
        nbr=nbr,
        tolerance_m=TOLERANCE_M,
    )
    site_rows: list[int] = []
    site_of: list[int] = []
    site_geoms: list[Any] = []
    seen: set[frozenset[int]] = set()
    for seed in _seeds(pieces, block, big_enough):
        site = _grow_site(land, int(seed), target, attrs)
        members = frozenset(m for m, _ in site or ())
        if site is None or members in seen:
            continue
        seen.add(members)
        site_rows += [m for m, _ in site]
        site_of += [len(seen) - 1] * len(site)
        site_geoms += [g for _, g in site]
    if not site_rows:
        return _empty()
    names = np.array([f"S{m:04d}" for m in range(len(seen))])
    taken = pieces.drop(columns=pieces.geometry.name).iloc[site_rows].reset_index(drop=True)
    polygons = np.asarray(site_geoms, dtype=object)
    taken[_SITE] = names[site_of]
    taken[TableCol.SPLIT] = ~shapely.equals(polygons, geoms[site_rows])
    site_pieces = gpd.GeoDataFrame(taken, geometry=polygons, crs=CRS_L93)
    pene = bool(project.get(Col.IS_PENE) or False)
    placed = pd.DataFrame({_SITE: names, UnitCol.UNIT_ID: names, Col.IS_PENE: pene})
    not_friche = pd.DataFrame({UnitCol.UNIT_ID: names, UnitCol.IS_FRICHE: False})
    inputs_rules = EnafCharging.from_rules(rule_set)
    sites = lot_figures(site_pieces, placed, not_friche, charging=inputs_rules, key=_SITE)
    units = add_criteria(
        _site_units(sites, site_pieces, candidates), territory, unknown_land_cover=unknown_as
    )
    units[UnitCol.UNIT_ID] = sites[_SITE].to_numpy()
    inputs = matching_inputs(
        territory, rules=rule_set, pool=pool, committed=committed, decisions=decided, units=units
    )
    top = query_project(
        project,
        inputs.units,
        inputs.pools.remaining,
        inputs.pools.unit_pool,
        k=len(units),
        pool_names=inputs.pools.names,
        pool_kind=inputs.pools.kind,
        charging=inputs.charging,
    )
    if top.empty:
        return _empty()
    top = with_place_names(top, territory).set_index(UnitCol.UNIT_ID)
    figures = sites.set_index(_SITE).loc[top.index]
    owners = figures[TableCol.N_OWNERS].fillna(figures[TableCol.N_PARCELS].clip(lower=1))
    charge = figures[TableCol.ENAF_HA].astype(float)
    ranked = pd.DataFrame(
        {
            "_owners": owners,
            "_public": -figures[TableCol.PUBLIC_SHARE],
            "_enaf": charge,
            "_score": -top[TableCol.SCORE].astype(float),
            "_name": top.index,
        },
        index=top.index,
    )
    if max_owners is not None:
        ranked = ranked[ranked["_owners"] <= max_owners]
    ranked = ranked.sort_values(["_owners", "_public", "_enaf", "_score", "_name"]).head(k)
    if ranked.empty:
        return _empty()
    best, fig = top.loc[ranked.index], figures.loc[ranked.index]
    differs = (
        np.abs(charge[ranked.index].to_numpy() - best[TableCol.ENAF_HA].astype(float)) >= 0.005
    )
    zan_cost = (
        best[TableCol.ZAN_COST]
        .astype(str)
        .where(
            ~differs,
            best[TableCol.ZAN_COST].astype(str)
            + [
                f" ; le site lui-même compte {fr_compact(c, 2)} ha d'ENAF"
                for c in charge[ranked.index]
            ],
        )
    )
    out = pd.DataFrame(
        {
            TableCol.SITE_RANK: np.arange(1, len(ranked) + 1),
            Col.INSEE: best[Col.INSEE].astype(str).to_numpy(),
            "commune": best["commune"].to_numpy(),
            **{c: fig[c].to_numpy() for c in _FIGURES},
            TableCol.ENAF_HA: charge[ranked.index].to_numpy(),
            TableCol.SCORE: best[TableCol.SCORE].astype(float).to_numpy(),
            UnitCol.SLOPE_MEAN_PCT: best[UnitCol.SLOPE_MEAN_PCT].to_numpy(dtype=float),
            UnitCol.DIST_INTERCHANGE_KM: best[UnitCol.DIST_INTERCHANGE_KM].to_numpy(dtype=float),
            "zan_ok": charge[ranked.index].to_numpy()
            <= best["budget_left_before_ha"].astype(float).to_numpy() + 1e-6,
            TableCol.ZAN_COST: zan_cost.to_numpy(),
            TableCol.EXPLANATION: best[TableCol.EXPLANATION].astype(str).to_numpy(),
            TableCol.SPLIT: fig[TableCol.SPLIT].to_numpy(dtype=bool),
        }
    )
    result = gpd.GeoDataFrame(out, geometry=fig.geometry.to_numpy(), crs=CRS_L93)
    return check_table(result, "assembled_sites")


def site_parcels(sites: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> pd.DataFrame:
    """The parcels of each assembled site: the land officer's list of owners to meet.

    Parameters
    ----------
    sites
        Sites of :func:`assemble_sites` (``site_rank``, ``idus``, geometry).
    parcels
        The ``parcels`` layer (``idu``, ``owner_kind``, optionally ``owner_id``).

    Returns
    -------
    pandas.DataFrame
        One row per (site, parcel), by rank then ``idu`` (schema
        ``site_parcels``): ``site_rank``, ``idu``, ``taken_ha`` (the part of
        the parcel inside the site), ``owner_kind``, ``owner_id`` (missing
        when unknown) and ``split`` (the site takes only part of the parcel).
    """
    listed = pd.DataFrame(
        {
            "_site": np.arange(len(sites)),
            Col.IDU: sites[UnitCol.IDUS].fillna("").astype(str).str.split("|").to_numpy(),
        }
    ).explode(Col.IDU)
    listed = listed[listed[Col.IDU].fillna("") != ""]
    pos = pd.Index(parcels[Col.IDU].astype(str)).get_indexer(listed[Col.IDU].astype(str))
    listed, pos = listed[pos >= 0], pos[pos >= 0]
    site = listed["_site"].to_numpy(dtype="int64")
    whole = parcels.geometry.to_numpy()[pos]
    taken = shapely.area(shapely.intersection(sites.geometry.to_numpy()[site], whole))
    owner_id = (
        parcels[Col.OWNER_ID].astype(object).to_numpy()[pos]
        if Col.OWNER_ID in parcels.columns
        else np.full(len(pos), None, dtype=object)
    )
    out = pd.DataFrame(
        {
            TableCol.SITE_RANK: sites[TableCol.SITE_RANK].to_numpy(dtype="int64")[site],
            Col.IDU: listed[Col.IDU].astype(str).to_numpy(),
            TableCol.TAKEN_HA: taken / 1e4,
            Col.OWNER_KIND: parcels[Col.OWNER_KIND].astype(str).to_numpy()[pos],
            Col.OWNER_ID: owner_id,
            TableCol.SPLIT: taken < shapely.area(whole) - SLIVER_M2,
        }
    ).sort_values([TableCol.SITE_RANK, Col.IDU], kind="stable")
    return check_table(out.reset_index(drop=True), "site_parcels")


#: What a site says about its land, from :func:`foncier.lots.lot_figures`.
_FIGURES = (
    UnitCol.IDUS,
    TableCol.LOT_AREA_HA,
    TableCol.N_PARCELS,
    TableCol.N_OWNERS,
    TableCol.OWNER_KINDS,
    TableCol.PUBLIC_SHARE,
    UnitCol.ENAF_SHARE,
)


def _empty() -> gpd.GeoDataFrame:
    out = empty_layer("assembled_sites")
    assert isinstance(out, gpd.GeoDataFrame)
    return out
