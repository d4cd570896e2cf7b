"""Suitability criteria of land units, one function each (momepy style).

Every function takes the land units (a GeoDataFrame in EPSG:2154, geometry =
net usable land) and returns a :class:`pandas.Series` on the units' index,
named after the criterion.  A criterion that cannot be measured (no DEM, no
infrastructure of that kind, no parcels layer...) is ``NaN``, never a made-up
default, and lowers :func:`completeness`.

Overlaps with other layers are computed with an STRtree: pairs where one
geometry covers the other take the covered area directly, and intersections
are computed only for pairs that cross a boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier.errors import NotFoundError
from foncier.layers import (
    CONSTRAINT_KINDS,
    INFRA_KINDS,
    ORIGIN_FRICHE,
    Col,
    UnitCol,
    is_activity_zone,
)

__all__ = [
    "CRITERIA",
    "compactness",
    "completeness",
    "constraint_share",
    "dist_housing_km",
    "dissolved_parts",
    "dist_to",
    "enaf_share",
    "is_friche",
    "land_cover_shares",
    "net_area_ha",
    "overlap_area_m2",
    "overlap_pairs",
    "slope_max_pct",
    "slope_mean_pct",
    "unknown_cover_share",
]


#: Constraint kinds counted as flood zones by ``flood_share``.
FLOOD_KINDS = ("ppri_red", "ppri_blue")

#: Criteria counted by :func:`completeness`, each measured or not on every unit.
CRITERIA = (
    UnitCol.SLOPE_MEAN_PCT,
    UnitCol.SLOPE_MAX_PCT,
    UnitCol.DIST_INTERCHANGE_KM,
    UnitCol.DIST_RAIL_FREIGHT_KM,
    UnitCol.DIST_SUBSTATION_KM,
    UnitCol.DIST_HOUSING_KM,
    UnitCol.ENAF_SHARE,
    UnitCol.FLOOD_SHARE,
    UnitCol.NATURA2000_SHARE,
    Col.SERVICING_STAGE,
    Col.ZONE_TYPE,
    Col.OWNER_KIND,
)
#: Values that mean "not known" in the text criteria.
UNKNOWN_VALUES = ("inconnu", "unknown")


def _series(values: np.ndarray | float, units: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series(values, index=units.index, name=name, dtype="float64")


def net_area_ha(units: gpd.GeoDataFrame) -> pd.Series:
    """Net usable area of each unit in hectares.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154.

    Returns
    -------
    pandas.Series
        ``net_area_ha``.

    Examples
    --------
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 200)], crs="EPSG:2154")
    >>> net_area_ha(units).tolist()
    [2.0]
    """
    return _series(shapely.area(units.geometry.to_numpy()) / 1e4, units, UnitCol.NET_AREA_HA)


def compactness(units: gpd.GeoDataFrame) -> pd.Series:
    """Polsby-Popper compactness 4πA/P² (1 for a disc, π/4 ≈ 0.785 for a square).

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154.

    Returns
    -------
    pandas.Series
        ``compactness`` in ]0, 1]; ``NaN`` for an empty geometry.

    Examples
    --------
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:2154")
    >>> round(float(compactness(units).iloc[0]), 4)
    0.7854
    """
    geoms = units.geometry.to_numpy()
    perimeter = shapely.length(geoms)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(perimeter > 0, 4 * np.pi * shapely.area(geoms) / perimeter**2, np.nan)
    return _series(value, units, UnitCol.COMPACTNESS)


def slope_mean_pct(units: gpd.GeoDataFrame, dem_path: str | Path | None) -> pd.Series:
    """Mean slope of each unit in percent, from the DEM (see :func:`~foncier.terrain.zonal_slope`).

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154.
    dem_path
        DEM GeoTIFF in any CRS, or ``None``.

    Returns
    -------
    pandas.Series
        ``slope_mean_pct``; ``NaN`` where the DEM does not cover the unit.
    """
    from foncier.terrain import zonal_slope  # rasterio: loaded with the DEM only

    return zonal_slope(units, dem_path)[UnitCol.SLOPE_MEAN_PCT]


def slope_max_pct(units: gpd.GeoDataFrame, dem_path: str | Path | None) -> pd.Series:
    """Maximum slope of each unit in percent, from the DEM.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154.
    dem_path
        DEM GeoTIFF in any CRS, or ``None``.

    Returns
    -------
    pandas.Series
        ``slope_max_pct``; ``NaN`` where the DEM does not cover the unit.
    """
    from foncier.terrain import zonal_slope

    return zonal_slope(units, dem_path)[UnitCol.SLOPE_MAX_PCT]


def _nearest_km(units: gpd.GeoDataFrame, targets: np.ndarray, name: str) -> pd.Series:
    if len(targets) == 0 or len(units) == 0:
        return _series(np.nan, units, name)
    tree = shapely.STRtree(targets)
    (src, _), dist = tree.query_nearest(
        units.geometry.to_numpy(), return_distance=True, all_matches=False
    )
    out = np.full(len(units), np.nan)
    out[src] = dist / 1000.0
    return _series(out, units, name)


def dist_to(units: gpd.GeoDataFrame, infrastructure: gpd.GeoDataFrame, kind: str) -> pd.Series:
    """Distance in km from each unit to the nearest infrastructure of a kind.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154.
    infrastructure
        The ``infrastructure`` layer (points or lines).
    kind
        An infrastructure kind: ``interchange``, ``rail_freight``,
        ``substation``...

    Returns
    -------
    pandas.Series
        ``dist_<kind>_km``; 0 when the unit touches it; ``NaN`` everywhere when
        the layer has no feature of that kind.

    Raises
    ------
    NotFoundError
        If ``kind`` is not an infrastructure kind.

    Examples
    --------
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:2154")
    >>> infra = gpd.GeoDataFrame({"kind": ["substation"]}, geometry=[shapely.Point(1600, 50)],
    ...                          crs="EPSG:2154")
    >>> dist_to(units, infra, "substation").tolist()
    [1.5]
    """
    if kind not in INFRA_KINDS:
        msg = f"type d'infrastructure inconnu {kind!r} ; valeurs possibles {list(INFRA_KINDS)}"
        raise NotFoundError(msg)
    targets = infrastructure.geometry.to_numpy()[(infrastructure[Col.KIND] == kind).to_numpy()]
    return _nearest_km(units, targets, f"dist_{kind}_km")


def dist_housing_km(units: gpd.GeoDataFrame, plu_zones: gpd.GeoDataFrame) -> pd.Series:
    """Distance in km to the nearest zone where housing may be built.

    Housing zones are the U / AUc / AUs zones that are not activity zones
    (:func:`~foncier.layers.is_activity_zone`); used for the distance Seveso
    projects must keep.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154.
    plu_zones
        The ``plu_zones`` layer.

    Returns
    -------
    pandas.Series
        ``dist_housing_km``; ``NaN`` when there is no such zone.
    """
    urban = plu_zones[Col.ZONE_TYPE].isin(("U", "AUc", "AUs"))
    housing = urban.to_numpy() & ~is_activity_zone(plu_zones)
    targets = plu_zones.geometry.to_numpy()[housing]
    return _nearest_km(units, targets, UnitCol.DIST_HOUSING_KM)


def overlap_pairs(
    geoms: np.ndarray, layer: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(geometry, layer polygon)`` sharing area, and the area they share.

    Pairs where one side covers the other take the covered area directly;
    only pairs whose interiors overlap across a boundary are intersected, and
    pairs that merely touch are left out.

    Parameters
    ----------
    geoms
        Polygons in EPSG:2154.
    layer
        Polygons in EPSG:2154.

    Returns
    -------
    tuple of numpy.ndarray
        ``(geometry positions, layer positions, shared area in m²)``, one
        entry per pair sharing area.
    """
    empty = np.empty(0, dtype="int64")
    if len(geoms) == 0 or len(layer) == 0:
        return empty, empty, np.empty(0)
    tree = shapely.STRtree(layer)
    # Three prepared predicates instead of "intersects": pairs that only touch
    # (neighbouring parcels) share no area and are never looked at again.
    inside_s, inside_d = tree.query(geoms, predicate="covered_by")
    contains_s, contains_d = tree.query(geoms, predicate="covers")
    cross_s, cross_d = tree.query(geoms, predicate="overlaps")
    n = np.int64(len(layer))
    equal = np.isin(contains_s * n + contains_d, inside_s * n + inside_d)
    contains_s, contains_d = contains_s[~equal], contains_d[~equal]
    area = np.concatenate(
        [
            shapely.area(geoms[inside_s]),
            shapely.area(layer[contains_d]),
            shapely.area(shapely.intersection(geoms[cross_s], layer[cross_d])),
        ]
    )
    src = np.concatenate([inside_s, contains_s, cross_s])
    dst = np.concatenate([inside_d, contains_d, cross_d])
    return src, dst, area


def overlap_area_m2(geoms: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Area of each geometry covered by a layer of non-overlapping polygons.

    Pairs where the layer polygon covers the geometry count the geometry's
    area, pairs where the geometry covers the layer polygon count the
    polygon's area; only the other pairs, crossing a boundary, are intersected.

    Parameters
    ----------
    geoms
        Polygons in EPSG:2154.
    layer
        Polygons in EPSG:2154 that do not overlap each other (parcels,
        dissolved constraints).

    Returns
    -------
    numpy.ndarray
        Covered area in m² per geometry.

    Examples
    --------
    >>> overlap_area_m2(np.array([shapely.box(0, 0, 100, 100)]),
    ...                 np.array([shapely.box(50, 0, 150, 100), shapely.box(-90, 0, 0, 100)]))
    array([5000.])
    """
    src, _, area = overlap_pairs(geoms, layer)
    return np.bincount(src, weights=area, minlength=len(geoms))


def dissolved_parts(geoms: np.ndarray) -> np.ndarray:
    """Union of polygons, split into its disjoint polygons (a valid STRtree layer).

    Parameters
    ----------
    geoms
        Polygons, possibly overlapping.

    Returns
    -------
    numpy.ndarray
        Disjoint polygons whose union is the union of ``geoms``.
    """
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    return shapely.get_parts(shapely.union_all(geoms))


def land_cover_shares(
    units: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    unknown_as: str = "enaf",
    friches_count: bool = False,
) -> pd.DataFrame:
    """ENAF share and unknown-cover share of each unit, from one overlay with the parcels.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154, with an ``origin`` column.
    parcels
        The ``parcels`` layer with ``land_cover`` (``enaf``,
        ``artificialised`` or ``unknown``).
    unknown_as
        How land of ``unknown`` cover is charged: ``enaf`` (the cautious
        default) or ``artificialised`` (the rule set's ``unknown_land_cover``).
    friches_count
        The rule set's ``friches_count``: when true, a friche's ``enaf_share``
        is its area on parcels whose cover is explicitly ``enaf`` (a friche
        agricole, a wasteland gone back to nature), unknown cover counting
        as already used land; when false (the default) a friche is 0.

    Returns
    -------
    pandas.DataFrame
        ``enaf_share`` and ``unknown_cover_share`` in [0, 1] on the units'
        index: the unit's area on ENAF parcels (plus, when ``unknown_as`` is
        ``enaf``, on parcels of unknown cover), and on parcels of unknown
        cover, each divided by its area on any parcel.  A friche's
        ``unknown_cover_share`` is 0 and its ``enaf_share`` 0 unless
        ``friches_count`` (its reuse consumes no ENAF); a non-friche unit on
        no parcel is ``NaN``.

    Raises
    ------
    NotFoundError
        If ``unknown_as`` is neither ``enaf`` nor ``artificialised``.
    """
    if unknown_as not in ("enaf", "artificialised"):
        msg = f"unknown_as doit valoir 'enaf' ou 'artificialised' ; reçu {unknown_as!r}"
        raise NotFoundError(msg)
    geoms = units.geometry.to_numpy()
    friche = (units[UnitCol.ORIGIN] == ORIGIN_FRICHE).to_numpy()
    enaf_out = np.full(len(units), np.nan)
    unknown_out = np.full(len(units), np.nan)
    enaf_out[friche] = 0.0
    unknown_out[friche] = 0.0
    todo = np.flatnonzero(~friche) if not friches_count else np.arange(len(units))
    if len(todo) and len(parcels):
        cover = parcels[Col.LAND_COVER].to_numpy(dtype=object)
        is_unknown = cover == "unknown"
        is_enaf = (cover == "enaf") | (is_unknown & (unknown_as == "enaf"))
        src, dst, area = overlap_pairs(geoms[todo], parcels.geometry.to_numpy())
        # summed in parcel order: the same shares whether all parcels or only those near
        # the units are given (foncier.partitioned.read_supply_territory)
        order = np.lexsort((dst, src))
        src, dst, area = src[order], dst[order], area[order]
        # a friche's unknown cover counts as already used land, not ENAF
        enaf_dst = np.where(friche[todo][src], cover[dst] == "enaf", is_enaf[dst])
        on_parcels = np.bincount(src, weights=area, minlength=len(todo))
        on_enaf = np.bincount(src, weights=area * enaf_dst, minlength=len(todo))
        on_unknown = np.bincount(src, weights=area * is_unknown[dst], minlength=len(todo))
        with np.errstate(invalid="ignore", divide="ignore"):
            enaf_out[todo] = np.where(on_parcels > 0, on_enaf / on_parcels, np.nan)
            unknown_out[todo] = np.where(on_parcels > 0, on_unknown / on_parcels, np.nan)
        enaf_out[friche & np.isnan(enaf_out)] = 0.0
        unknown_out[friche] = 0.0
    return pd.DataFrame(
        {
            UnitCol.ENAF_SHARE: np.clip(enaf_out, 0.0, 1.0),
            UnitCol.UNKNOWN_COVER_SHARE: np.clip(unknown_out, 0.0, 1.0),
        },
        index=units.index,
    )


def enaf_share(
    units: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, *, unknown_as: str = "enaf"
) -> pd.Series:
    """Fraction of each unit that is ENAF: its ZAN cost per hectare built.

    The share is the unit's area on parcels whose ``land_cover`` is ``enaf``
    (and, unless ``unknown_as`` is ``artificialised``, ``unknown``) divided by
    its area on any parcel.  A friche is 0 by definition (its reuse consumes
    no ENAF).  See :func:`land_cover_shares`.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154, with an ``origin`` column.
    parcels
        The ``parcels`` layer with ``land_cover``.
    unknown_as
        How land of unknown cover is charged (the rule set's
        ``unknown_land_cover``): ``enaf`` by default, the cautious choice.

    Returns
    -------
    pandas.Series
        ``enaf_share`` in [0, 1]; ``NaN`` for a non-friche unit on no parcel.

    Examples
    --------
    >>> units = gpd.GeoDataFrame({"origin": ["activity_zone"]},
    ...                          geometry=[shapely.box(0, 0, 400, 100)], crs="EPSG:2154")
    >>> parcels = gpd.GeoDataFrame(
    ...     {"land_cover": ["enaf", "artificialised", "unknown", "unknown"]},
    ...     geometry=[shapely.box(x, 0, x + 100, 100) for x in (0, 100, 200, 300)],
    ...     crs="EPSG:2154")
    >>> enaf_share(units, parcels).tolist()
    [0.75]
    >>> enaf_share(units, parcels, unknown_as="artificialised").tolist()
    [0.25]
    """
    shares = land_cover_shares(units, parcels, unknown_as=unknown_as)
    return shares[UnitCol.ENAF_SHARE].rename(UnitCol.ENAF_SHARE)


def unknown_cover_share(units: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame) -> pd.Series:
    """Fraction of each unit on parcels whose land cover is unknown.

    The ENAF share of that part rests on the rule set's ``unknown_land_cover``
    assumption; outputs state it with this share.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154, with an ``origin`` column.
    parcels
        The ``parcels`` layer with ``land_cover``.

    Returns
    -------
    pandas.Series
        ``unknown_cover_share`` in [0, 1]; 0 for a friche; ``NaN`` for a
        non-friche unit on no parcel.

    Examples
    --------
    >>> units = gpd.GeoDataFrame({"origin": ["activity_zone"]},
    ...                          geometry=[shapely.box(0, 0, 200, 100)], crs="EPSG:2154")
    >>> parcels = gpd.GeoDataFrame({"land_cover": ["unknown", "artificialised"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs="EPSG:2154")
    >>> unknown_cover_share(units, parcels).tolist()
    [0.5]
    """
    shares = land_cover_shares(units, parcels)
    return shares[UnitCol.UNKNOWN_COVER_SHARE].rename(UnitCol.UNKNOWN_COVER_SHARE)


def _kinds(kind: str | Iterable[str]) -> tuple[str, ...]:
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    unknown = [k for k in kinds if k not in CONSTRAINT_KINDS]
    if unknown:
        msg = (
            f"type(s) de contrainte inconnu(s) {unknown} ; "
            f"valeurs possibles {list(CONSTRAINT_KINDS)}"
        )
        raise NotFoundError(msg)
    return kinds


def constraint_share(
    units: gpd.GeoDataFrame,
    constraints: gpd.GeoDataFrame,
    kind: str | Iterable[str],
    *,
    name: str | None = None,
) -> pd.Series:
    """Share of each unit's area under constraints of one or several kinds.

    Overlapping constraints are dissolved first, so a share never exceeds 1.

    Parameters
    ----------
    units
        Land units, geometry in EPSG:2154.
    constraints
        The ``constraints`` layer.
    kind
        A constraint kind (``ppri_blue``, ``natura2000``...) or several.
    name
        Name of the Series; ``<kind>_share`` by default.

    Returns
    -------
    pandas.Series
        Share in [0, 1]; ``NaN`` everywhere when the constraints layer is
        empty (not provided), since the absence of constraints is then unknown.

    Raises
    ------
    NotFoundError
        If a kind is not a constraint kind.

    Examples
    --------
    >>> units = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:2154")
    >>> cons = gpd.GeoDataFrame({"kind": ["ppri_blue"]}, geometry=[shapely.box(75, 0, 200, 100)],
    ...                         crs="EPSG:2154")
    >>> constraint_share(units, cons, "ppri_blue").tolist()
    [0.25]
    """
    kinds = _kinds(kind)
    label = name or f"{'_'.join(kinds)}_share"
    if len(constraints) == 0:
        return _series(np.nan, units, label)
    geoms = units.geometry.to_numpy()
    selected = constraints.geometry.to_numpy()[constraints[Col.KIND].isin(kinds).to_numpy()]
    covered = overlap_area_m2(geoms, dissolved_parts(selected))
    area = shapely.area(geoms)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, covered / area, np.nan)
    return _series(np.clip(share, 0.0, 1.0), units, label)


def is_friche(units: pd.DataFrame) -> pd.Series:
    """Whether each unit is a friche (brownfield), whose reuse consumes no ENAF.

    Parameters
    ----------
    units
        Land units with an ``origin`` column.

    Returns
    -------
    pandas.Series
        ``is_friche`` (bool).
    """
    return (units[UnitCol.ORIGIN] == ORIGIN_FRICHE).rename(UnitCol.IS_FRICHE).astype(bool)


def completeness(units: pd.DataFrame) -> pd.Series:
    """Share of the criteria measured rather than unknown, per unit.

    The criteria are listed in :data:`CRITERIA`; a numeric criterion is
    unknown when ``NaN``, a text one when missing, ``"inconnu"`` or
    ``"unknown"``; a column absent from ``units`` counts as unknown.

    Parameters
    ----------
    units
        Land units with (some of) the criteria columns.

    Returns
    -------
    pandas.Series
        ``completeness`` in [0, 1].

    Examples
    --------
    >>> units = pd.DataFrame({c: [1.0] for c in CRITERIA[:6]})
    >>> completeness(units).tolist()
    [0.5]
    """
    known = np.zeros(len(units))
    for column in CRITERIA:
        if column not in units.columns:
            continue
        values = units[column]
        measured = values.notna()
        if not pd.api.types.is_numeric_dtype(values):
            measured &= ~values.isin(UNKNOWN_VALUES)
        known += measured.to_numpy(dtype="float64")
    return _series(known / len(CRITERIA), units, UnitCol.COMPLETENESS)
