"""Land supply: from parcels, ZAE plots and friches to screened land units.

(Longer than most modules: the three steps below share their intermediate
tables and are read in order; each criterion itself lives in
:mod:`foncier.criteria`.)

The supply step answers the working group's first question: how much land is
really available for industry, where, and at what ZAN cost.

1. :func:`candidate_land`: parcels in activity zones, vacant ZAE plots and
   friches not yet reconverted, each with its ``origin``;
2. :func:`screen`: the ``exclude`` constraints (PPRI red zones, Natura 2000
   by default) are subtracted, leaving the net usable land;
3. :func:`merge_units`: contiguous candidates of the same origin, zone, owner
   kind and site become one land unit listing its parcels;
4. :func:`land_units` runs the three steps and adds every criterion of
   :mod:`foncier.criteria`; :func:`supply_summary` totals them per commune.

Every step is vectorised (shapely 2 and STRtree), with no Python loop over
geometries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier import criteria as crit
from foncier.criteria import (
    FLOOD_KINDS,
    constraint_share,
    dissolved_parts,
    overlap_pairs,
)
from foncier.errors import NotFoundError
from foncier.layers import (
    CONSTRAINT_KINDS,
    CRS_L93,
    FOOTPRINT_APPROXIMATE,
    FOOTPRINT_DECLARED,
    FOOTPRINT_PARCELS,
    ORIGIN_ACTIVITY_ZONE,
    ORIGIN_FRICHE,
    ORIGIN_ZAE_PLOT,
    SERVICING_STAGES,
    Col,
    LoadReport,
    UnitCol,
    empty_layer,
    is_activity_zone,
)
from foncier.terrain import zonal_slope
from foncier.zan.rules import load_rules

__all__ = [
    "DEFAULT_EXCLUDE",
    "UNIT_COLUMNS",
    "UNIT_KEY_COLUMNS",
    "add_criteria",
    "candidate_areas",
    "candidate_land",
    "friche_footprints",
    "land_units",
    "merge_units",
    "screen",
    "slope_coverage",
    "supply_summary",
    "union_by_label",
    "unit_key",
    "unit_labels",
]

#: Constraint kinds subtracted from the candidate land by default.
DEFAULT_EXCLUDE: tuple[str, ...] = ("ppri_red", "natura2000")
#: Zone types where activity zones (``activity_class``, else ``destdomi`` 02) make land a candidate.
ACTIVITY_ZONE_TYPES = ("U", "AUc", "AUs")
#: ZAE plot occupancies (CNIG ``terr_etat_occup``) meaning the plot is available.
AVAILABLE_OCCUPANCIES = ("inoccupé", "vacant", "friche", "occupation en transition")
#: Servicing stage of a ZAE plot that can never be built on.
NOT_BUILDABLE = "non aménageable"
#: Friche status of a site already reused.
RECONVERTED = "friche reconvertie"
#: Servicing stage when unknown.
UNKNOWN_STAGE = "inconnu"
#: Ordered servicing stages, least serviced first (for a unit made of several plots).
_STAGE_RANK = {s: i for i, s in enumerate(SERVICING_STAGES[:5])}

#: Columns of the candidate land table, before the geometry.
CANDIDATE_COLUMNS = (
    Col.INSEE,
    UnitCol.ORIGIN,
    Col.ZONE_TYPE,
    Col.OWNER_KIND,
    UnitCol.IDUS,
    Col.SITE_ID,
    Col.SERVICING_STAGE,
    UnitCol.FOOTPRINT,
)
#: Columns of the land units table, before the geometry (the matching engine relies on them).
UNIT_COLUMNS = (
    UnitCol.UNIT_ID,
    Col.INSEE,
    UnitCol.ORIGIN,
    Col.ZONE_TYPE,
    Col.OWNER_KIND,
    UnitCol.IDUS,
    Col.SITE_ID,
    UnitCol.GROSS_AREA_HA,
    UnitCol.NET_AREA_HA,
    UnitCol.COMPACTNESS,
    UnitCol.SLOPE_MEAN_PCT,
    UnitCol.SLOPE_MAX_PCT,
    UnitCol.DIST_INTERCHANGE_KM,
    UnitCol.DIST_RAIL_FREIGHT_KM,
    UnitCol.DIST_SUBSTATION_KM,
    UnitCol.DIST_HOUSING_KM,
    UnitCol.ENAF_SHARE,
    UnitCol.UNKNOWN_COVER_SHARE,
    UnitCol.IS_FRICHE,
    UnitCol.FOOTPRINT,
    Col.SERVICING_STAGE,
    UnitCol.FLOOD_SHARE,
    UnitCol.NATURA2000_SHARE,
    UnitCol.COMPLETENESS,
)
#: Cartofriches column listing a friche's parcels (``{idu,idu}`` or ``|``-separated).
#: Candidates merge into one unit only when these columns are equal.
UNIT_KEY_COLUMNS = (UnitCol.ORIGIN, Col.ZONE_TYPE, Col.OWNER_KIND, Col.SITE_ID, UnitCol.FOOTPRINT)
_FRICHE_PARCELS = "l_idpar"
_PENALISED_SHARE = "penalised_share"
_DISC_QUAD_SEGS = 16
#: Share of a parcel that must lie in activity zones for the parcel to be a candidate.
_MAJORITY = 0.5


# -- candidate land ---------------------------------------------------------------
def _first_within(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the first polygon holding each point, -1 for none."""
    out = np.full(len(points), -1, dtype="int64")
    if len(points) == 0 or len(polygons) == 0:
        return out
    src, dst = shapely.STRtree(polygons).query(points, predicate="within")
    first = np.unique(src, return_index=True)[1]
    out[src[first]] = dst[first]
    return out


def _zone_attribute(zone_idx: np.ndarray, zones: gpd.GeoDataFrame, column: str) -> np.ndarray:
    values = np.full(len(zone_idx), None, dtype=object)
    found = zone_idx >= 0
    values[found] = zones[column].to_numpy(dtype=object)[zone_idx[found]]
    return values


def _parcels_in(
    polygons: np.ndarray, parcels: gpd.GeoDataFrame, parcel_tree: shapely.STRtree
) -> pd.DataFrame:
    """Per polygon, the parcels whose representative point it holds.

    ``parcel_tree`` is the STRtree of the parcels; representative points are
    computed only for the parcels whose box meets a polygon.  Returns a frame
    indexed by polygon number with ``idus`` (``|``-joined), ``owner_kind`` and
    ``insee`` of the parcels covering the largest area.
    """
    columns = [UnitCol.IDUS, Col.OWNER_KIND, Col.INSEE]
    if len(polygons) == 0 or len(parcels) == 0:
        return pd.DataFrame(columns=columns, dtype="str")
    poly_idx, p_idx = parcel_tree.query(polygons)
    geoms = parcels.geometry.to_numpy()[p_idx]
    shapely.prepare(polygons)
    inside = shapely.contains(polygons[poly_idx], shapely.point_on_surface(geoms))
    poly_idx, p_idx = poly_idx[inside], p_idx[inside]
    pairs = pd.DataFrame(
        {
            "poly": poly_idx,
            Col.IDU: parcels[Col.IDU].to_numpy(dtype=object)[p_idx],
            Col.OWNER_KIND: parcels[Col.OWNER_KIND].to_numpy(dtype=object)[p_idx],
            Col.INSEE: parcels[Col.INSEE].to_numpy(dtype=object)[p_idx],
            "area": shapely.area(geoms[inside]),
        }
    ).sort_values(["poly", Col.IDU], kind="stable")
    out = pd.DataFrame({UnitCol.IDUS: pairs.groupby("poly")[Col.IDU].agg("|".join)})
    for column in (Col.OWNER_KIND, Col.INSEE):
        by_area = pairs.groupby(["poly", column])["area"].sum().reset_index()
        best = by_area.sort_values(["poly", "area"], ascending=[True, False], kind="stable")
        out[column] = best.drop_duplicates("poly").set_index("poly")[column]
    return out


def _is_candidate_zone(zones: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each PLU zone is an activity zone whose parcels can be candidates."""
    return zones[Col.ZONE_TYPE].isin(ACTIVITY_ZONE_TYPES).to_numpy() & is_activity_zone(zones)


def candidate_areas(
    plu_zones: gpd.GeoDataFrame, zae_plots: gpd.GeoDataFrame, friches: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Where candidate land can lie, and the parcels friches list by id.

    :func:`land_units` reads only the parcels meeting one of these polygons
    (activity zones, ZAE plots, friche footprints) or listed by a friche's
    ``l_idpar``: every other parcel can be left unread without changing a unit.

    Parameters
    ----------
    plu_zones, zae_plots, friches
        The territory's layers of those names.

    Returns
    -------
    tuple of numpy.ndarray
        The polygons (shapely geometries) and the sorted unique listed ``idu``.
    """
    from foncier.io.cartofriches import parse_idpar_list

    footprints = friche_footprints(friches, empty_layer("parcels"))
    geoms = np.concatenate(
        [
            plu_zones.geometry.to_numpy()[_is_candidate_zone(plu_zones)],
            zae_plots.geometry.to_numpy(),
            footprints.geometry.to_numpy(),
        ]
    )
    listed = np.empty(0, dtype=object)
    if _FRICHE_PARCELS in friches.columns and len(friches):
        ids = parse_idpar_list(friches[_FRICHE_PARCELS]).explode().dropna()
        listed = np.unique(ids.to_numpy(dtype=object))
    return geoms, listed


def _activity_parcels(
    parcels: gpd.GeoDataFrame, parcel_tree: shapely.STRtree, zones: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Parcels lying mostly (at least half their area) in activity zones.

    Returns their positions and, for each, the activity zone covering the
    largest part of it.  Only the parcels meeting an activity zone are
    looked at, and intersections are computed only for those crossing a zone
    boundary.
    """
    zone_idx = np.flatnonzero(_is_candidate_zone(zones))
    empty = np.empty(0, dtype="int64")
    if len(zone_idx) == 0 or len(parcels) == 0:
        return empty, empty
    zone_geoms = zones.geometry.to_numpy()[zone_idx]
    near = np.unique(parcel_tree.query(zone_geoms, predicate="intersects")[1])
    geoms = parcels.geometry.to_numpy()[near]
    src, dst, area = overlap_pairs(geoms, zone_geoms)
    share = np.bincount(src, weights=area, minlength=len(near)) / shapely.area(geoms)
    order = np.lexsort((-area, src))
    first = order[np.unique(src[order], return_index=True)[1]]
    best = np.full(len(near), -1, dtype="int64")
    best[src[first]] = dst[first]
    mostly = share >= _MAJORITY
    return near[mostly], zone_idx[best[mostly]]


def _frame(geometry: np.ndarray, origin: str, **columns: Any) -> gpd.GeoDataFrame:
    data = {c: columns.get(c, pd.NA) for c in CANDIDATE_COLUMNS}
    data[UnitCol.ORIGIN] = origin
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(geometry)))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS_L93)


def friche_footprints(friches: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Friches with the land they stand for and how it is known (``footprint``).

    - a polygon friche keeps its outline, and the ``footprint`` its layer
      gives (``declared``, or ``parcels`` when the import built it from the
      cadastre);
    - a point friche whose ``l_idpar`` parcels are all in ``parcels`` takes
      their union (``parcels``);
    - any other point friche with a declared ``surface_m2`` becomes a disc of
      that surface around its point (``approximate``);
    - a point friche with neither is left out.

    Parameters
    ----------
    friches
        The ``friches`` layer.
    parcels
        The ``parcels`` layer (may be empty).

    Returns
    -------
    geopandas.GeoDataFrame
        The friches kept (RangeIndex), polygons in EPSG:2154, with
        ``footprint``; ``attrs["without_surface"]`` counts those left out.
    """
    from foncier.io.cartofriches import parcel_footprints, parse_idpar_list

    friches = friches.reset_index(drop=True)
    geoms = friches.geometry.to_numpy().copy()
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    footprint = (
        friches[Col.FOOTPRINT].astype(object).fillna(FOOTPRINT_DECLARED).to_numpy().copy()
        if Col.FOOTPRINT in friches.columns
        else np.full(len(friches), FOOTPRINT_DECLARED, dtype=object)
    )
    footprint[~polygonal] = FOOTPRINT_APPROXIMATE
    point = np.flatnonzero(~polygonal)
    if len(point) and len(parcels) and _FRICHE_PARCELS in friches.columns:
        land, _ = parcel_footprints(parse_idpar_list(friches[_FRICHE_PARCELS].iloc[point]), parcels)
        at = friches.index.get_indexer(land.index)
        geoms[at] = land.to_crs(CRS_L93).to_numpy()
        footprint[at] = FOOTPRINT_PARCELS
        polygonal[at] = True
    surface = (
        friches[Col.SURFACE_M2].to_numpy(dtype="float64", na_value=np.nan)
        if Col.SURFACE_M2 in friches.columns
        else np.full(len(friches), np.nan)
    )
    disc = ~polygonal & (surface > 0)
    # radius of the 64-gon (the buffer's polygon) whose area is the friche's surface
    sides = 4 * _DISC_QUAD_SEGS
    radius = np.sqrt(2 * surface[disc] / (sides * np.sin(2 * np.pi / sides)))
    geoms[disc] = shapely.buffer(
        shapely.point_on_surface(geoms[disc]), radius, quad_segs=_DISC_QUAD_SEGS
    )
    keep = polygonal | disc
    out = friches.assign(**{Col.FOOTPRINT: footprint}).loc[keep].set_geometry(geoms[keep])
    out = out.reset_index(drop=True)
    out.attrs["without_surface"] = int((~keep).sum())
    return out


def _friche_land(territory: Any, parcel_tree: shapely.STRtree) -> tuple[gpd.GeoDataFrame, int]:
    """Friches not yet reconverted, and the number of point friches without a surface."""
    from foncier.io.cartofriches import parse_idpar_list

    parcels = territory.parcels
    zones = territory.plu_zones
    zone_geoms = zones.geometry.to_numpy()
    friches = friche_footprints(territory.friches, parcels)
    no_surface = int(friches.attrs["without_surface"])
    friches = friches[friches[Col.STATUS] != RECONVERTED].reset_index(drop=True)
    f_geoms = friches.geometry.to_numpy()
    f_parcels = _parcels_in(f_geoms, parcels, parcel_tree).reindex(range(len(friches)))
    f_zone = _zone_attribute(
        _first_within(shapely.point_on_surface(f_geoms), zone_geoms), zones, Col.ZONE_TYPE
    )
    if Col.ZONE_TYPE in friches.columns:
        f_zone = np.where(pd.isna(f_zone), friches[Col.ZONE_TYPE].to_numpy(dtype=object), f_zone)
    f_idus = f_parcels[UnitCol.IDUS]
    if _FRICHE_PARCELS in friches.columns:
        listed = parse_idpar_list(friches[_FRICHE_PARCELS]).map("|".join)
        f_idus = listed.where(listed != "", f_idus)
    friche_land = _frame(
        f_geoms,
        ORIGIN_FRICHE,
        **{
            Col.INSEE: friches[Col.INSEE].to_numpy(),
            Col.ZONE_TYPE: f_zone,
            Col.OWNER_KIND: f_parcels[Col.OWNER_KIND].fillna("unknown").to_numpy(),
            UnitCol.IDUS: f_idus.fillna("").to_numpy(),
            Col.SITE_ID: friches[Col.SITE_ID].to_numpy(),
            Col.SERVICING_STAGE: UNKNOWN_STAGE,
            UnitCol.FOOTPRINT: friches[Col.FOOTPRINT].to_numpy(),
        },
    )
    return friche_land, no_surface


def _zae_land(
    territory: Any, parcel_tree: shapely.STRtree, f_geoms: np.ndarray
) -> gpd.GeoDataFrame:
    """Available ZAE plots, except those inside a candidate friche."""
    parcels = territory.parcels
    zones = territory.plu_zones
    zone_geoms = zones.geometry.to_numpy()
    plots = territory.zae_plots
    available = plots[Col.OCCUPANCY].isin(AVAILABLE_OCCUPANCIES) & (
        plots[Col.SERVICING_STAGE] != NOT_BUILDABLE
    )
    p_points = shapely.point_on_surface(plots.geometry.to_numpy())
    available &= _first_within(p_points, f_geoms) < 0
    plots = plots[available.to_numpy()].reset_index(drop=True)
    p_geoms = plots.geometry.to_numpy()
    p_parcels = _parcels_in(p_geoms, parcels, parcel_tree).reindex(range(len(plots)))
    refcad = plots[Col.REFCAD].astype("str").str.strip() if len(plots) else plots[Col.REFCAD]
    p_idus = refcad.where(plots[Col.REFCAD].notna() & (refcad != ""), p_parcels[UnitCol.IDUS])
    site_insee = plots[Col.SITE_ID].map(territory.zae.set_index(Col.SITE_ID)[Col.INSEE])
    zae_land = _frame(
        p_geoms,
        ORIGIN_ZAE_PLOT,
        **{
            Col.INSEE: site_insee.fillna(p_parcels[Col.INSEE]).to_numpy(),
            Col.ZONE_TYPE: _zone_attribute(
                _first_within(shapely.point_on_surface(p_geoms), zone_geoms), zones, Col.ZONE_TYPE
            ),
            Col.OWNER_KIND: p_parcels[Col.OWNER_KIND].fillna("unknown").to_numpy(),
            UnitCol.IDUS: p_idus.fillna("").to_numpy(),
            Col.SITE_ID: plots[Col.SITE_ID].to_numpy(),
            Col.SERVICING_STAGE: plots[Col.SERVICING_STAGE].to_numpy(),
            UnitCol.FOOTPRINT: FOOTPRINT_DECLARED,
        },
    )
    return zae_land


def _activity_land(
    territory: Any, parcel_tree: shapely.STRtree, f_geoms: np.ndarray
) -> gpd.GeoDataFrame:
    """Parcels mostly in activity zones, outside ZAE plots and candidate friches."""
    parcels = territory.parcels
    zones = territory.plu_zones
    chosen_idx, chosen_zone = _activity_parcels(parcels, parcel_tree, zones)
    points = shapely.point_on_surface(parcels.geometry.to_numpy()[chosen_idx])
    free = (_first_within(points, territory.zae_plots.geometry.to_numpy()) < 0) & (
        _first_within(points, f_geoms) < 0
    )
    # Without an inventory saying otherwise, artificialised land in an activity
    # zone is taken as built: its reuse goes through the friche inventory.
    free &= parcels[Col.LAND_COVER].to_numpy()[chosen_idx] != "artificialised"
    chosen_idx, chosen_zone = chosen_idx[free], chosen_zone[free]
    chosen = parcels.iloc[chosen_idx]
    parcel_land = _frame(
        chosen.geometry.to_numpy(),
        ORIGIN_ACTIVITY_ZONE,
        **{
            Col.INSEE: chosen[Col.INSEE].to_numpy(),
            Col.ZONE_TYPE: zones[Col.ZONE_TYPE].to_numpy(dtype=object)[chosen_zone],
            Col.OWNER_KIND: chosen[Col.OWNER_KIND].to_numpy(),
            UnitCol.IDUS: chosen[Col.IDU].to_numpy(),
            Col.SITE_ID: "",
            Col.SERVICING_STAGE: UNKNOWN_STAGE,
            UnitCol.FOOTPRINT: FOOTPRINT_PARCELS,
        },
    )
    return parcel_land


def candidate_land(territory: Any) -> gpd.GeoDataFrame:
    """Land that could host an industrial project, each piece with its origin.

    - ``friche``: friches whose status is not ``friche reconvertie``; a point
      friche (Cartofriches) takes the union of its listed cadastral parcels
      when they are all loaded, else becomes a disc of its ``surface_m2``
      (``footprint = "approximate"``) and is left out without one (see
      :func:`friche_footprints`);
    - ``zae_plot``: ZAE plots whose occupancy is ``inoccupé``, ``vacant``,
      ``friche`` or ``occupation en transition`` and whose servicing stage is
      not ``non aménageable``;
    - ``activity_zone``: parcels lying for at least half their area in U, AUc
      or AUs activity zones (``activity_class`` = ``activity``, as the GPU
      reader classifies them from ``destdomi`` and their labels; without that
      column, ``destdomi`` 02; carte-communale sector 02 is loaded as such),
      whose representative point is outside every ZAE plot
      (the ZAE inventory says whether its plots are free) and outside the
      candidate friches, and whose land cover is not ``artificialised``
      (without an inventory, built-up land is taken as occupied; its reuse
      goes through the friche inventory); their zone type is that of the
      activity zone covering the largest part of them.

    A ZAE plot inside a candidate friche is left to the friche.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per candidate, RangeIndex, columns ``insee``, ``origin``,
        ``zone_type``, ``owner_kind``, ``idus``, ``site_id``,
        ``servicing_stage``, ``footprint`` (``parcels`` for activity-zone
        parcels, ``declared`` for ZAE plots, the friche's for friches) and
        the candidate's polygon (EPSG:2154).
        ``attrs["friches_without_surface"]`` counts the point friches left out.
    """
    parcel_tree = shapely.STRtree(territory.parcels.geometry.to_numpy())
    friche_land, no_surface = _friche_land(territory, parcel_tree)
    f_geoms = friche_land.geometry.to_numpy()
    zae_land = _zae_land(territory, parcel_tree, f_geoms)
    parcel_land = _activity_land(territory, parcel_tree, f_geoms)
    parts = [f for f in (zae_land, friche_land, parcel_land) if len(f)]
    if parts:
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=CRS_L93)
    else:
        out = _frame(np.empty(0, dtype=object), ORIGIN_ACTIVITY_ZONE)
    for column in CANDIDATE_COLUMNS:
        out[column] = out[column].astype("str")
    out[Col.SITE_ID] = out[Col.SITE_ID].fillna("")
    out[UnitCol.IDUS] = out[UnitCol.IDUS].fillna("")
    out.attrs["friches_without_surface"] = no_surface
    return out


# -- screening --------------------------------------------------------------------
def _check_kinds(kinds: Iterable[str], what: str) -> tuple[str, ...]:
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in CONSTRAINT_KINDS]
    if unknown:
        msg = (
            f"unknown constraint kind(s) to {what}: {unknown}; expected some of "
            f"{list(CONSTRAINT_KINDS)}"
        )
        raise NotFoundError(msg)
    return kinds


def screen(
    candidates: gpd.GeoDataFrame,
    constraints: gpd.GeoDataFrame,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    *,
    min_area_m2: float = 1.0,
) -> gpd.GeoDataFrame:
    """Subtract the excluded constraints from the candidate land.

    The excluded constraints are dissolved into disjoint polygons and put in
    an STRtree.  A candidate covered by one of them is dropped without any
    intersection being computed; a candidate crossing their boundaries (or
    holding one of them) gets the difference with those polygons; the others,
    including those merely touching a constraint, keep their geometry
    untouched.

    Parameters
    ----------
    candidates
        Output of :func:`candidate_land` (or any polygons in EPSG:2154).
    constraints
        The ``constraints`` layer.
    exclude
        Constraint kinds to subtract (PPRI red zones and Natura 2000 by default).
    min_area_m2
        Candidates left with less net area are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        The surviving candidates (RangeIndex), geometry = net usable land, with
        ``gross_area_ha`` (before screening) and ``penalised_share`` (share of
        the net land under the other, non-excluded constraints; ``NaN`` when
        the constraints layer is empty).  ``attrs["dropped"]`` counts the
        candidates removed.

    Raises
    ------
    NotFoundError
        If an ``exclude`` kind is not a constraint kind.
    """
    kinds = _check_kinds(exclude, "exclude")
    geoms = candidates.geometry.to_numpy()
    net = geoms.copy()
    mask = constraints[Col.KIND].isin(kinds).to_numpy()
    parts = dissolved_parts(constraints.geometry.to_numpy()[mask])
    if len(parts) and len(geoms):
        tree = shapely.STRtree(parts)
        inside = np.unique(tree.query(geoms, predicate="covered_by")[0])
        # pairs sharing area without the candidate being inside: a constraint
        # crossing the candidate's boundary, or lying within it
        src, dst = np.concatenate(
            [tree.query(geoms, predicate="overlaps"), tree.query(geoms, predicate="covers")],
            axis=1,
        )
        crossing = ~np.isin(src, inside)
        order = np.argsort(src[crossing], kind="stable")
        src, dst = src[crossing][order], dst[crossing][order]
        net[inside] = shapely.Polygon()
        if len(src):
            cut, group = np.unique(src, return_inverse=True)
            holes = shapely.multipolygons(parts[dst], indices=group)
            net[cut] = shapely.difference(geoms[cut], holes)
    area = shapely.area(net)
    keep = area >= min_area_m2
    out = candidates.loc[keep].copy()
    out = out.set_geometry(gpd.GeoSeries(net[keep], index=out.index, crs=CRS_L93))
    out.insert(len(out.columns) - 1, UnitCol.GROSS_AREA_HA, shapely.area(geoms[keep]) / 1e4)
    other = [k for k in CONSTRAINT_KINDS if k not in kinds]
    out[_PENALISED_SHARE] = constraint_share(out, constraints, other, name=_PENALISED_SHARE)
    out = out.reset_index(drop=True)
    out.attrs["dropped"] = int((~keep).sum())
    return out


# -- land units -------------------------------------------------------------------
def union_by_label(geoms: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Union of the geometries sharing a label, vectorised over the labels.

    Parameters
    ----------
    geoms
        Polygons.
    labels
        Label of each polygon, an integer in ``[0, n)``.
    n
        Number of labels.

    Returns
    -------
    numpy.ndarray
        ``n`` geometries: the union of each label's polygons (``None`` for a
        label without any).
    """
    counts = np.bincount(labels, minlength=n)
    out = np.empty(n, dtype=object)
    single = counts[labels] == 1
    out[labels[single]] = geoms[single]
    multi = np.flatnonzero(~single)
    if len(multi):
        order = multi[np.argsort(labels[multi], kind="stable")]
        merged_labels, group = np.unique(labels[order], return_inverse=True)
        # buffer(0) of a collection is the union of its members, in one GEOS call each.
        collections = shapely.geometrycollections(geoms[order], indices=group)
        out[merged_labels] = shapely.buffer(collections, 0)
    return out


def _least_serviced(stages: pd.Series, labels: np.ndarray) -> pd.Series:
    rank = stages.map(_STAGE_RANK)
    best = rank.groupby(labels).min()
    names = pd.Series(list(_STAGE_RANK), dtype="str")
    stage = best.map(names).astype("str").fillna(UNKNOWN_STAGE)
    return stage


def _with_footprint(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if UnitCol.FOOTPRINT in candidates.columns:
        return candidates
    # candidates made without candidate_land
    parcels = candidates[UnitCol.ORIGIN] == ORIGIN_ACTIVITY_ZONE
    footprint = np.where(parcels, FOOTPRINT_PARCELS, FOOTPRINT_DECLARED)
    return candidates.assign(**{UnitCol.FOOTPRINT: footprint})


def unit_key(candidates: gpd.GeoDataFrame) -> np.ndarray:
    """Group number of each candidate's :data:`UNIT_KEY_COLUMNS`: only equal keys merge."""
    candidates = _with_footprint(candidates)
    cols = list(UNIT_KEY_COLUMNS)
    return candidates[cols].astype(object).fillna("").groupby(cols, sort=False).ngroup().to_numpy()


def unit_labels(candidates: gpd.GeoDataFrame, *, tolerance_m: float = 0.5) -> np.ndarray:
    """Land unit of each candidate: the row of :func:`merge_units`' output it goes into.

    The connected components of the graph joining candidates of the same
    :func:`unit_key` within ``tolerance_m`` of each other (one STRtree query).
    """
    n = len(candidates)
    if n == 0:
        return np.empty(0, dtype="int64")
    geoms = candidates.geometry.to_numpy()
    key = unit_key(candidates)
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tolerance_m)
    same = (key[i] == key[j]) & (i < j)
    return component_labels(n, i[same], j[same])


def component_labels(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected components of an undirected graph of ``n`` nodes and edges ``(i, j)``.

    Numbered as :func:`scipy.sparse.csgraph.connected_components` numbers
    them (by their smallest node), without importing scipy: each edge hooks
    the larger of its two roots under the smaller, then every node points
    to its root, until both ends of every edge share one.

    Examples
    --------
    >>> component_labels(5, np.array([3, 1]), np.array([4, 0])).tolist()
    [0, 0, 1, 2, 2]
    """
    parent = np.arange(n)
    i, j = np.asarray(i, dtype="int64"), np.asarray(j, dtype="int64")
    while len(i) and not np.array_equal(parent[i], parent[j]):
        low, high = np.minimum(parent[i], parent[j]), np.maximum(parent[i], parent[j])
        np.minimum.at(parent, high, low)  # a parent is never larger than its node
        while not np.array_equal(parent[parent], parent):
            parent = parent[parent]
    return np.unique(parent, return_inverse=True)[1].astype("int32")


def merge_units(candidates: gpd.GeoDataFrame, *, tolerance_m: float = 0.5) -> gpd.GeoDataFrame:
    """Merge contiguous candidates of the same origin, zone, owner kind, site and footprint.

    Two candidates are contiguous when their net geometries are within
    ``tolerance_m`` of each other (which absorbs cadastre slivers; a road of
    a few metres keeps them apart).  The adjacency graph comes from one
    STRtree query and its connected components are the land units.

    Parameters
    ----------
    candidates
        Screened candidates (output of :func:`screen`).
    tolerance_m
        Largest gap, in metres, between two contiguous candidates.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit (RangeIndex, in the order of the units' first
        candidate): ``insee`` (of the member with the largest gross area),
        ``origin``, ``zone_type``, ``owner_kind``, ``site_id``, ``footprint``, ``idus``
        (``|``-joined, sorted), ``servicing_stage`` (least serviced known
        stage of its members, ``inconnu`` if none), ``gross_area_ha``,
        ``n_candidates``, geometry = union of the members' net land.
    """
    n = len(candidates)
    geoms = candidates.geometry.to_numpy()
    candidates = _with_footprint(candidates)
    group_cols = list(UNIT_KEY_COLUMNS)
    labels = unit_labels(candidates, tolerance_m=tolerance_m)
    n_units = int(labels.max()) + 1 if n else 0
    frame = pd.DataFrame(candidates.drop(columns=candidates.geometry.name))
    frame["_label"] = labels
    by_label = frame.groupby("_label", sort=True)
    first = by_label[group_cols].first()
    largest = (
        frame.sort_values(["_label", UnitCol.GROSS_AREA_HA], ascending=[True, False], kind="stable")
        .drop_duplicates("_label")
        .set_index("_label")
    )
    idus = frame.loc[frame[UnitCol.IDUS] != "", ["_label", UnitCol.IDUS]].astype(object)
    idus_joined = (
        idus.assign(**{UnitCol.IDUS: idus[UnitCol.IDUS].str.split("|")})
        .explode(UnitCol.IDUS)
        .drop_duplicates()
        .sort_values(["_label", UnitCol.IDUS], kind="stable")
        .groupby("_label")[UnitCol.IDUS]
        .agg("|".join)
    )
    units = pd.DataFrame(
        {
            Col.INSEE: largest[Col.INSEE],
            **{c: first[c] for c in group_cols},
            UnitCol.IDUS: idus_joined.reindex(first.index).fillna("").astype("str"),
            Col.SERVICING_STAGE: _least_serviced(frame[Col.SERVICING_STAGE], labels),
            UnitCol.GROSS_AREA_HA: by_label[UnitCol.GROSS_AREA_HA].sum(),
            "n_candidates": by_label.size(),
        },
        index=first.index,
    ).reset_index(drop=True)
    return gpd.GeoDataFrame(units, geometry=union_by_label(geoms, labels, n_units), crs=CRS_L93)


# -- the whole supply step ----------------------------------------------------------
@contextmanager
def _stage(timings: dict[str, float], name: str, bar: Any) -> Iterator[None]:
    if bar is not None:
        bar.set_description(name)
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    if bar is not None:
        bar.update(1)


def add_criteria(
    units: gpd.GeoDataFrame,
    territory: Any,
    *,
    stage: Callable[[str], Any] | None = None,
    unknown_land_cover: str | None = None,
    friches_count: bool | None = None,
) -> gpd.GeoDataFrame:
    """Add every criterion column of :mod:`foncier.criteria` to merged units.

    Parameters
    ----------
    units
        Output of :func:`merge_units`.
    territory
        The :class:`~foncier.territory.Territory` the units come from (DEM,
        infrastructure, parcels, constraints, PLU zones).
    stage
        Context-manager factory called with each stage name (timing, progress).
    unknown_land_cover
        How parcels of unknown land cover count in ``enaf_share``: ``enaf`` or
        ``artificialised``; ``None`` for the default rule set's
        ``unknown_land_cover`` (``enaf``).  ``unknown_cover_share`` gives the
        share of each unit this assumption bears on.
    friches_count
        Whether a friche's ENAF share is read from its parcels (the rule
        set's ``friches_count``; ``None``: the default rule set's); see
        :func:`foncier.criteria.land_cover_shares`.

    Returns
    -------
    geopandas.GeoDataFrame
        The units with the columns of :data:`UNIT_COLUMNS` (``unit_id`` included).
    """
    timed = stage or (lambda _name: _null())
    out = units.copy()
    with timed("surfaces"):
        out[UnitCol.NET_AREA_HA] = crit.net_area_ha(out)
        out[UnitCol.COMPACTNESS] = crit.compactness(out)
    with timed("pentes"):
        slopes = zonal_slope(out, territory.dem_path)
        out[UnitCol.SLOPE_MEAN_PCT] = slopes[UnitCol.SLOPE_MEAN_PCT]
        out[UnitCol.SLOPE_MAX_PCT] = slopes[UnitCol.SLOPE_MAX_PCT]
    with timed("distances"):
        infra = territory.infrastructure
        out[UnitCol.DIST_INTERCHANGE_KM] = crit.dist_to(out, infra, "interchange")
        out[UnitCol.DIST_RAIL_FREIGHT_KM] = crit.dist_to(out, infra, "rail_freight")
        out[UnitCol.DIST_SUBSTATION_KM] = crit.dist_to(out, infra, "substation")
        out[UnitCol.DIST_HOUSING_KM] = crit.dist_housing_km(out, territory.plu_zones)
    with timed("ENAF"):
        unknown_as = unknown_land_cover or load_rules().unknown_land_cover
        count = load_rules().friches_count if friches_count is None else friches_count
        shares = crit.land_cover_shares(
            out, territory.parcels, unknown_as=unknown_as, friches_count=count
        )
        out[UnitCol.ENAF_SHARE] = shares[UnitCol.ENAF_SHARE]
        out[UnitCol.UNKNOWN_COVER_SHARE] = shares[UnitCol.UNKNOWN_COVER_SHARE]
        out[UnitCol.IS_FRICHE] = crit.is_friche(out)
    with timed("contraintes"):
        constraints = territory.constraints
        out[UnitCol.FLOOD_SHARE] = constraint_share(
            out, constraints, FLOOD_KINDS, name=UnitCol.FLOOD_SHARE
        )
        out[UnitCol.NATURA2000_SHARE] = constraint_share(
            out, constraints, "natura2000", name=UnitCol.NATURA2000_SHARE
        )
    out[UnitCol.COMPLETENESS] = crit.completeness(out)
    out[UnitCol.UNIT_ID] = pd.Series(
        [f"U-{i:05d}" for i in range(1, len(out) + 1)], index=out.index, dtype="str"
    )
    return gpd.GeoDataFrame(out[list(UNIT_COLUMNS)], geometry=out.geometry.to_numpy(), crs=CRS_L93)


@contextmanager
def _null() -> Iterator[None]:
    yield


def land_units(
    territory: Any,
    *,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    progress: bool = False,
    unknown_land_cover: str | None = None,
    friches_count: bool | None = None,
) -> gpd.GeoDataFrame:
    """Screened land units of a territory with all their criteria.

    Runs :func:`candidate_land`, :func:`screen`, :func:`merge_units` and
    :func:`add_criteria`.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.
    exclude
        Constraint kinds subtracted from the candidate land.
    progress
        Show a progress bar of the stages (on stderr).
    unknown_land_cover
        How parcels of unknown land cover are charged in ``enaf_share``
        (``enaf`` or ``artificialised``; ``None``: the default rule set's
        ``unknown_land_cover``); see :func:`add_criteria`.
    friches_count
        Whether friches get the ENAF share of their parcels (the rule set's
        ``friches_count``); see :func:`add_criteria`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per land unit, RangeIndex, columns :data:`UNIT_COLUMNS`,
        geometry = net usable polygon in EPSG:2154.  ``attrs["timings"]`` gives
        the seconds spent in each stage, ``attrs["exclude"]`` the kinds
        subtracted, ``attrs["candidates"]`` and ``attrs["screened_out"]`` the
        candidate counts.

    Raises
    ------
    NotFoundError
        If an ``exclude`` kind is not a constraint kind.
    DataSourceError, CRSError
        If the territory's DEM cannot be read, or it has no commune geometries.

    Examples
    --------
    Not run as a doctest: screening even a small sample takes seconds, and
    ``tests/test_supply.py`` checks the values.

    >>> from foncier.sample import make_sample
    >>> units = land_units(make_sample(n_parcels=2_000, seed=1, n_communes=20))  # doctest: +SKIP
    >>> units[["unit_id", "origin", "net_area_ha", "enaf_share"]].head()  # doctest: +SKIP
    """
    kinds = _check_kinds(exclude, "exclude")
    territory.require_commune_geometries("l'offre foncière (foncier supply)")
    timings: dict[str, float] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=8, unit="étape", leave=False)

    def timed(name: str) -> Any:
        return _stage(timings, name, bar)

    try:
        with timed("candidats"):
            candidates = candidate_land(territory)
        with timed("exclusions"):
            screened = screen(candidates, territory.constraints, kinds)
        with timed("unités foncières"):
            merged = merge_units(screened)
        units = add_criteria(
            merged,
            territory,
            stage=timed,
            unknown_land_cover=unknown_land_cover,
            friches_count=friches_count,
        )
    finally:
        if bar is not None:
            bar.close()
    units.attrs.update(
        timings=timings,
        exclude=list(kinds),
        candidates=len(candidates),
        screened_out=screened.attrs["dropped"],
        **slope_coverage(units, territory),
    )
    return units


def slope_coverage(units: gpd.GeoDataFrame, territory: Any) -> dict[str, Any]:
    """How many land units have no slope (no DEM, outside it, or on nodata), and a French note.

    The note is also added to the DEM's load report in ``territory.reports``,
    so that ``foncier info`` and every output that uses slope can say it.

    Returns
    -------
    dict
        ``units_without_slope`` (int), ``share_without_slope`` (0..1) and
        ``slope_note`` (French sentence, ``""`` when every unit has a slope).
    """
    missing = int(units[UnitCol.SLOPE_MEAN_PCT].isna().sum())
    share = missing / len(units) if len(units) else 0.0
    note = ""
    if missing:
        why = (
            "le territoire n'a pas de MNT"
            if territory.dem_path is None
            else ("le MNT ne les couvre pas ou n'y a pas de données")
        )
        note = (
            f"{missing} unités foncières sur {len(units)} ({share:.0%}) sans pente : {why} ; "
            "le critère de pente n'est pas vérifié pour elles."
        ).replace("%", " %")
        if territory.dem_path is not None:
            report = territory.reports.setdefault(
                "dem", LoadReport("dem", source=str(territory.dem_path))
            )
            if note not in report.notes:
                report.notes.append(note)
    return {"units_without_slope": missing, "share_without_slope": share, "slope_note": note}


def supply_summary(units: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Land available per commune: total, friches, ZAE plots, ENAF.

    Parameters
    ----------
    units
        Output of :func:`land_units`.
    communes
        The ``communes`` layer (every commune gets a row, even with no land).

    Returns
    -------
    pandas.DataFrame
        One row per commune (sorted by INSEE code; communes of units missing
        from ``communes`` are added without a name): ``insee``, ``name``,
        ``units``, ``available_ha``, ``friche_ha``, ``zae_ha``,
        ``activity_zone_ha``, ``enaf_ha`` (net area times ENAF share, over
        units whose share is known) and ``unknown_cover_ha`` (net area on
        parcels of unknown land cover: the part of ``enaf_ha`` resting on the
        rule set's ``unknown_land_cover`` assumption when it is ``enaf``).
        ``attrs["units_without_slope"]`` and ``attrs["share_without_slope"]``
        say how many units have no slope.
    """
    table = pd.DataFrame(
        {
            Col.INSEE: units[Col.INSEE],
            "units": 1,
            "available_ha": units[UnitCol.NET_AREA_HA],
            "friche_ha": units[UnitCol.NET_AREA_HA].where(
                units[UnitCol.ORIGIN] == ORIGIN_FRICHE, 0.0
            ),
            "zae_ha": units[UnitCol.NET_AREA_HA].where(
                units[UnitCol.ORIGIN] == ORIGIN_ZAE_PLOT, 0.0
            ),
            "activity_zone_ha": units[UnitCol.NET_AREA_HA].where(
                units[UnitCol.ORIGIN] == ORIGIN_ACTIVITY_ZONE, 0.0
            ),
            "enaf_ha": (units[UnitCol.NET_AREA_HA] * units[UnitCol.ENAF_SHARE]).fillna(0.0),
            "unknown_cover_ha": (
                units[UnitCol.NET_AREA_HA] * units[UnitCol.UNKNOWN_COVER_SHARE]
            ).fillna(0.0),
        }
    )
    totals = table.groupby(Col.INSEE).sum()
    names = communes.set_index(Col.INSEE)[Col.NAME]
    index = names.index.union(totals.index).sort_values()
    out = totals.reindex(index, fill_value=0)
    out["units"] = out["units"].astype("int64")
    out.insert(0, Col.NAME, names.reindex(index))
    out.index.name = Col.INSEE
    out = out.reset_index()
    missing = int(units[UnitCol.SLOPE_MEAN_PCT].isna().sum())
    out.attrs["units_without_slope"] = missing
    out.attrs["share_without_slope"] = missing / len(units) if len(units) else 0.0
    return out
