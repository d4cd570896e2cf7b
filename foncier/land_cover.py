"""Land cover of parcels: ENAF, artificialised or unknown, and from which source.

The cadastre says nothing of land cover, so an imported parcel starts
``unknown``.  Three sources then say what they know, each applied in turn:

1. **buildings** (Etalab cadastre ``batiments``): a parcel whose footprint is
   covered by buildings (both bâti dur and bâti léger, overlapping footprints
   counted once) for at least ``min_built_share`` of its area (10 % by
   default) is ``artificialised``.  A parcel less built, or not built at all,
   stays ``unknown``: a yard, a car park or a garden is not a building, and a
   farm building on a large field does not make the field artificial;
2. **ZAE plots** (CNIG TERRAIN-ECO) whose occupancy is ``occupé``: the
   parcels they list (``refcad``), or whose representative point lies in the
   plot, are ``artificialised``;
3. **OCS GE**, when given, decides: a parcel covered by OCS GE polygons for at
   least ``min_ocsge_cover`` of its area (half by default) takes the cover
   (:func:`foncier.io.ocsge.ocsge_land_cover`, décret 2023-1096) holding the
   larger part of it, even against the two other sources (the disagreements
   are counted in the report).

What stays ``unknown`` is charged by the rule set's ``unknown_land_cover``
(``enaf`` by default, the cautious choice) and every land unit carries its
``unknown_cover_share``.  All steps are vectorised overlays (STRtree).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier._format import fr_number
from foncier.criteria import dissolved_parts, overlap_area_m2, overlap_pairs
from foncier.errors import LayerSchemaError
from foncier.layers import Col, LoadReport

__all__ = [
    "DEFAULT_MIN_BUILT_SHARE",
    "DEFAULT_MIN_OCSGE_COVER",
    "LAND_COVER_SOURCE",
    "assign_land_cover",
    "built_share",
    "ocsge_parcel_cover",
]

#: Share of a parcel covered by buildings from which it is artificialised.
DEFAULT_MIN_BUILT_SHARE = 0.10
#: Share of a parcel OCS GE must cover to decide its land cover.
DEFAULT_MIN_OCSGE_COVER = 0.5
#: Column beside ``land_cover``: ``buildings``, ``zae_plot``, ``ocsge`` or ``none``.
LAND_COVER_SOURCE = "land_cover_source"
#: ZAE plot occupancy meaning the plot is built and used.
OCCUPIED = "occupé"


def _footprints(buildings: np.ndarray) -> np.ndarray:
    """Building footprints that do not overlap: only the overlapping ones are dissolved.

    PCI buildings rarely overlap (touching walls share no area), so the union,
    the costly step, is computed on the few that do.
    """
    if len(buildings) == 0:
        return buildings
    tree = shapely.STRtree(buildings)
    pairs = [tree.query(buildings, predicate=p) for p in ("overlaps", "contains", "within")]
    i, j = np.concatenate(pairs, axis=1)
    shared = np.zeros(len(buildings), dtype=bool)
    shared[i[i != j]] = True
    return np.concatenate([buildings[~shared], dissolved_parts(buildings[shared])])


def built_share(parcels: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Share of each parcel's area covered by buildings (footprints dissolved first).

    Parameters
    ----------
    parcels
        Parcels in EPSG:2154.
    buildings
        Building footprints in EPSG:2154 (:func:`foncier.io.read_buildings`).

    Returns
    -------
    numpy.ndarray
        Share in [0, 1] per parcel (0 for an empty parcel).

    Examples
    --------
    >>> parcels = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:2154")
    >>> houses = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 50, 100), shapely.box(40, 0, 60, 10)],
    ...                           crs="EPSG:2154")
    >>> built_share(parcels, houses).tolist()
    [0.51]
    """
    geoms = parcels.geometry.to_numpy()
    covered = overlap_area_m2(geoms, _footprints(buildings.geometry.to_numpy()))
    area = shapely.area(geoms)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, covered / area, 0.0)
    return np.clip(share, 0.0, 1.0)


def ocsge_parcel_cover(
    parcels: gpd.GeoDataFrame,
    ocsge: gpd.GeoDataFrame,
    *,
    min_cover: float = DEFAULT_MIN_OCSGE_COVER,
) -> np.ndarray:
    """The OCS GE land cover of each parcel, by majority of area.

    Parameters
    ----------
    parcels
        Parcels in EPSG:2154.
    ocsge
        OCS GE polygons with ``land_cover`` (:func:`foncier.io.ocsge.read_ocsge`).
    min_cover
        Share of the parcel the OCS GE polygons must cover for it to decide.

    Returns
    -------
    numpy.ndarray
        ``enaf`` or ``artificialised`` (the cover of the larger area, ENAF on a
        tie), or ``None`` where OCS GE covers less than ``min_cover``.

    Examples
    --------
    >>> parcels = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)] * 2, crs="EPSG:2154")
    >>> parcels = parcels.set_geometry([shapely.box(0, 0, 100, 100), shapely.box(500, 0, 600, 100)])
    >>> ocs = gpd.GeoDataFrame({"land_cover": ["artificialised", "enaf"]},
    ...     geometry=[shapely.box(0, 0, 60, 100), shapely.box(60, 0, 100, 100)], crs="EPSG:2154")
    >>> ocsge_parcel_cover(parcels, ocs).tolist()
    ['artificialised', None]
    """
    geoms = parcels.geometry.to_numpy()
    src, dst, area = overlap_pairs(geoms, ocsge.geometry.to_numpy())
    artificial = ocsge["land_cover"].to_numpy(dtype=object)[dst] == "artificialised"
    n = len(geoms)
    on_artificial = np.bincount(src, weights=area * artificial, minlength=n)
    on_ocsge = np.bincount(src, weights=area, minlength=n)
    decided = on_ocsge >= min_cover * shapely.area(geoms)
    decided &= on_ocsge > 0
    cover = np.where(on_artificial > on_ocsge - on_artificial, "artificialised", "enaf")
    out = np.full(n, None, dtype=object)
    out[decided] = cover[decided]
    return out


def _occupied_plot_parcels(parcels: gpd.GeoDataFrame, zae_plots: gpd.GeoDataFrame) -> np.ndarray:
    """Parcels of the occupied ZAE plots: listed in ``refcad``, or inside the plot."""
    occupied = zae_plots[zae_plots[Col.OCCUPANCY] == OCCUPIED]
    out = np.zeros(len(parcels), dtype=bool)
    if occupied.empty or parcels.empty:
        return out
    if Col.REFCAD in occupied.columns:
        listed = occupied[Col.REFCAD].dropna().astype(str).str.split("|").explode().str.strip()
        out |= parcels[Col.IDU].isin(set(listed)).to_numpy()
    points = shapely.point_on_surface(parcels.geometry.to_numpy())
    inside, _ = shapely.STRtree(occupied.geometry.to_numpy()).query(points, predicate="within")
    out[inside] = True
    return out


def assign_land_cover(
    parcels: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    ocsge: gpd.GeoDataFrame | None = None,
    zae_plots: gpd.GeoDataFrame | None = None,
    min_built_share: float = DEFAULT_MIN_BUILT_SHARE,
    min_ocsge_cover: float = DEFAULT_MIN_OCSGE_COVER,
) -> gpd.GeoDataFrame:
    """Set each parcel's ``land_cover`` from buildings, occupied ZAE plots and OCS GE.

    Parameters
    ----------
    parcels
        The ``parcels`` layer (its ``land_cover`` is replaced; each parcel
        starts ``unknown``).
    buildings
        Building footprints (:func:`foncier.io.read_buildings`).
    ocsge
        OCS GE polygons with ``land_cover`` (:func:`foncier.io.read_ocsge`).
    zae_plots
        The ``zae_plots`` layer.
    min_built_share
        Share of a parcel covered by buildings from which it is
        artificialised (0.10 by default), in ]0, 1].
    min_ocsge_cover
        Share of a parcel OCS GE must cover to decide its cover (0.5).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``parcels`` with ``land_cover`` and, beside it,
        ``land_cover_source`` (``buildings``, ``zae_plot``, ``ocsge`` or
        ``none``) and ``built_share`` (when buildings are given).  The
        parcels' load report (``attrs["load_report"]``) gets a French note
        counting the parcels and hectares of each cover and source.

    Raises
    ------
    LayerSchemaError
        A threshold outside ]0, 1].

    Examples
    --------
    >>> parcels = gpd.GeoDataFrame({"idu": ["a", "b"]}, crs="EPSG:2154",
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)])
    >>> house = gpd.GeoDataFrame(geometry=[shapely.box(10, 10, 60, 60)], crs="EPSG:2154")
    >>> assign_land_cover(parcels, buildings=house)["land_cover"].tolist()
    ['artificialised', 'unknown']
    """
    for name, value in (("min_built_share", min_built_share), ("min_ocsge_cover", min_ocsge_cover)):
        if not 0.0 < value <= 1.0:
            msg = f"{name} doit être une part dans ]0, 1] (par ex. 0.1 pour 10 %) ; reçu {value!r}"
            raise LayerSchemaError(msg)
    out = parcels.copy()
    n = len(out)
    cover = np.full(n, "unknown", dtype=object)
    source = np.full(n, "none", dtype=object)
    area_ha = shapely.area(out.geometry.to_numpy()) / 1e4
    parts = []
    evidence = np.zeros(n, dtype=bool)
    if buildings is not None:
        share = built_share(out, buildings)
        out["built_share"] = share
        built = share >= min_built_share
        cover[built], source[built] = "artificialised", "buildings"
        evidence |= built
        # at least 1 m² of building: not a sliver between cadastre vintages or reprojections
        partly = (share * area_ha * 1e4 >= 1.0) & ~built
        parts.append(
            f"{int(built.sum())} artificialisées d'après le bâti (part bâtie ≥ "
            f"{fr_number(100 * min_built_share, 1, '%', trim_zeros=True)}), "
            f"{int(partly.sum())} bâties en deçà laissées inconnues"
        )
    if zae_plots is not None and len(zae_plots):
        occupied = _occupied_plot_parcels(out, zae_plots) & (cover != "artificialised")
        cover[occupied], source[occupied] = "artificialised", "zae_plot"
        evidence |= occupied
        parts.append(f"{int(occupied.sum())} artificialisées comme terrains de ZAE occupés")
    if ocsge is not None:
        by_ocsge = ocsge_parcel_cover(out, ocsge, min_cover=min_ocsge_cover)
        decided = by_ocsge != None  # noqa: E711 (element-wise on an object array)
        disagree = decided & evidence & (by_ocsge == "enaf")
        cover[decided], source[decided] = by_ocsge[decided], "ocsge"
        parts.append(
            f"{int(decided.sum())} décidées par l'OCS GE "
            f"({int((by_ocsge == 'artificialised').sum())} artificialisées), dont "
            f"{int(disagree.sum())} ENAF pour l'OCS GE mais bâties ou occupées pour les autres "
            "sources"
        )
    out[Col.LAND_COVER] = pd.Series(cover, index=out.index, dtype="str")
    out[LAND_COVER_SOURCE] = pd.Series(source, index=out.index, dtype="str")
    unknown = cover == "unknown"
    if not parts:
        parts.append("aucune source de couverture (bâti, OCS GE, terrains de ZAE)")
    note = (
        "couverture des parcelles : "
        + " ; ".join(parts)
        + f" ; {int(unknown.sum())} parcelles ({fr_number(area_ha[unknown].sum(), 2, 'ha')}) "
        "de couverture "
        "inconnue, comptées comme ENAF sauf si le jeu de règles dit autrement "
        "(unknown_land_cover)"
    )
    report = parcels.attrs.get("load_report")
    report = report if isinstance(report, LoadReport) else LoadReport("parcels", rows_read=n)
    report.notes.append(note)
    out.attrs["load_report"] = report
    return out
