"""Helpers for testing code that uses foncier: compare layers, build a tiny territory.

- :func:`assert_layer_equal`: two layers (tables with or without geometry)
  hold the same columns, dtypes, CRS, index, values and geometries, with an
  optional tolerance, and the message names the column that differs;
- :func:`tiny_territory`: a small hand-built :class:`~foncier.territory.Territory`
  (a few square communes, a grid of parcels, a ZAE, a friche, constraints,
  infrastructure, ENAF consumption and three projects), deterministic and built
  in milliseconds, whose figures can be checked by hand.

Examples
--------
>>> from foncier.testing import assert_layer_equal, tiny_territory
>>> t = tiny_territory()
>>> len(t.communes), len(t.parcels), t.projects["project_id"].tolist()
(2, 32, ['P1', 'P2', 'P3'])
>>> assert_layer_equal(t.parcels, t.parcels.copy())
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from foncier.io.cerema import EnafVintage
from foncier.layers import CRS_L93, DESTDOMI_ACTIVITY, Col, validate_layer
from foncier.territory import Territory

__all__ = ["TINY_ORIGIN", "assert_layer_equal", "tiny_territory"]

#: Relative tolerance of numbers and absolute tolerance of coordinates (m)
#: when ``check_less_precise=True``.
_LESS_PRECISE = 1e-5
_MM = 1e-3


def _geometry_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if isinstance(frame[c].dtype, gpd.array.GeometryDtype)]


def _first_labels(index: pd.Index, mask: np.ndarray, n: int = 5) -> list[object]:
    return index[np.flatnonzero(mask)[:n]].tolist()


def _tolerances(check_less_precise: bool | float) -> tuple[float, float]:
    """Relative tolerance of numbers, absolute tolerance of coordinates (m)."""
    if check_less_precise is True:
        return _LESS_PRECISE, _MM
    if check_less_precise is False:
        return 0.0, 0.0
    return float(check_less_precise), float(check_less_precise)


def assert_layer_equal(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    check_less_precise: bool | float = False,
    check_dtype: bool = True,
    check_like: bool = False,
    check_index: bool = True,
) -> None:
    """Assert that two layers are equal: columns, dtypes, CRS, index, values, geometries.

    Works on spatial layers (GeoDataFrames) and on tables (``projects``,
    ``enaf_consumption``, land units, candidate pairs...).  Geometries are
    compared as shapes (:func:`shapely.equals_exact` on normalised geometries,
    so the start vertex and ring orientation do not matter), not as WKB.

    Parameters
    ----------
    left, right
        The layers.
    check_less_precise
        ``False``: values and coordinates must be equal.  ``True``: numbers
        equal to a relative 1e-5 and coordinates to 1 mm.  A float: that
        relative tolerance for numbers and that distance (in CRS units,
        metres in EPSG:2154) for coordinates.
    check_dtype
        Whether each column's dtype must be the same.
    check_like
        Ignore the order of the columns (and of the index: rows are matched
        by label).
    check_index
        Whether the index must be equal; ``False`` compares rows by position.

    Raises
    ------
    AssertionError
        Naming what differs: the kind of frame, the CRS, the columns, or the
        column and the first rows whose values or geometries differ.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"v": [1.0]}, geometry=[shapely.box(0, 0, 1, 1)], crs=2154)
    >>> b = a.copy()
    >>> b.geometry = [shapely.box(0, 0, 1, 1.0001)]
    >>> assert_layer_equal(a, b, check_less_precise=True)
    >>> assert_layer_equal(a, b)
    Traceback (most recent call last):
    ...
    AssertionError: geometry column 'geometry' differs at rows [0] (tolerance 0.0)
    """
    left_geo, right_geo = isinstance(left, gpd.GeoDataFrame), isinstance(right, gpd.GeoDataFrame)
    if left_geo != right_geo:
        kinds = ["GeoDataFrame" if g else "DataFrame" for g in (left_geo, right_geo)]
        msg = f"one layer is a {kinds[0]}, the other a {kinds[1]}"
        raise AssertionError(msg)
    if left_geo and left.crs != right.crs:
        msg = f"the CRS differ: {left.crs} and {right.crs}"
        raise AssertionError(msg)
    if list(left.columns) != list(right.columns):
        only_left = [c for c in left.columns if c not in right.columns]
        only_right = [c for c in right.columns if c not in left.columns]
        if only_left or only_right:
            msg = f"the columns differ: only in left {only_left}, only in right {only_right}"
            raise AssertionError(msg)
        if not check_like:
            msg = (
                f"the columns are in another order: {list(left.columns)} and {list(right.columns)}"
            )
            raise AssertionError(msg)
    if len(left) != len(right):
        msg = f"the layers have {len(left)} and {len(right)} rows"
        raise AssertionError(msg)
    if check_like:
        right = right[list(left.columns)]
        if left.index.is_unique and right.index.is_unique and left.index.isin(right.index).all():
            right = right.loc[left.index]
    if check_index:
        pd.testing.assert_index_equal(left.index, right.index, exact="equiv", obj="layer index")
    rel, dist = _tolerances(check_less_precise)
    geometry = set(_geometry_columns(left))
    for col in left.columns:
        a, b = left[col], right[col]
        if check_dtype and a.dtype != b.dtype:
            msg = f"column {col!r} has dtype {a.dtype} and {b.dtype}"
            raise AssertionError(msg)
        if col in geometry:
            _assert_geometries_equal(col, a, b, dist, left.index)
            continue
        try:
            pd.testing.assert_series_equal(
                a.reset_index(drop=True),
                b.reset_index(drop=True),
                check_dtype=check_dtype,
                check_exact=rel == 0.0,
                rtol=rel if rel else 1e-5,
                check_names=False,
                obj=f"column {col!r}",
            )
        except AssertionError as exc:
            raise AssertionError(str(exc)) from None


def _assert_geometries_equal(
    col: str, a: pd.Series, b: pd.Series, tolerance: float, index: pd.Index
) -> None:
    ga, gb = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    missing_a, missing_b = shapely.is_missing(ga), shapely.is_missing(gb)
    if (missing_a != missing_b).any():
        rows = _first_labels(index, missing_a != missing_b)
        msg = f"geometry column {col!r}: missing geometries differ at rows {rows}"
        raise AssertionError(msg)
    both = ~missing_a
    same = np.ones(len(ga), dtype=bool)
    same[both] = shapely.equals_exact(
        shapely.normalize(ga[both]), shapely.normalize(gb[both]), tolerance=tolerance
    )
    if not same.all():
        rows = _first_labels(index, ~same)
        msg = f"geometry column {col!r} differs at rows {rows} (tolerance {tolerance})"
        raise AssertionError(msg)


# -- a tiny territory ----------------------------------------------------------------------

#: Lower-left corner (EPSG:2154) of :func:`tiny_territory`, near Alès (Gard).
TINY_ORIGIN = (780_000.0, 6_330_000.0)
_NAMES = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India")
_EPCI = "200066918"


def _square_grid(x0: float, y0: float, side: float, k: int) -> list[shapely.Polygon]:
    """``k × k`` squares of a ``side`` × ``side`` block, row-major from the lower left."""
    step = side / k
    return [
        shapely.box(x0 + i * step, y0 + j * step, x0 + (i + 1) * step, y0 + (j + 1) * step)
        for j in range(k)
        for i in range(k)
    ]


def tiny_territory(
    n_communes: int = 2,
    *,
    parcels_per_side: int = 4,
    commune_side_m: float = 1_000.0,
    dem_dir: str | Path | None = None,
    slope_pct: float = 2.0,
) -> Territory:
    """A small deterministic territory, built by hand in memory in milliseconds.

    Commune ``i`` (INSEE ``30001``, ``30002``...; all in the EPCI 200066918)
    is a square of ``commune_side_m`` side, east of the previous one, from
    :data:`TINY_ORIGIN`, cut into ``parcels_per_side²`` square parcels.  Its
    bottom row of parcels is an activity zone (U, destdomi 02), its top row a
    housing zone (U), the rest an agricultural zone (A); its parcels are ENAF
    except where built (below).  Moreover:

    - commune 1 holds a ZAE on its two bottom-left parcels: the first is a
      vacant, serviced plot, the second is occupied;
    - commune 2 (if any) holds a friche (``friche sans projet``, artificialised)
      on its bottom-right parcel, and a Natura 2000 site over the western half
      of its bottom-left parcel;
    - an interchange lies at the origin, a rail-freight line runs 50 m south of
      the communes, a blue flood zone covers commune 1's third bottom parcel;
    - each commune consumed 1 ha of ENAF a year from 2009 to 2020 and 0.5 ha a
      year since (Cerema vintage 2009-2023): under the default rules its
      envelope is 5 ha, of which 4 ha are left;
    - three projects: ``P1`` (5-6 ha, 60 jobs), ``P2`` (2-2.5 ha, 15 jobs,
      needs rail) and ``P3`` (40 ha, 40 jobs: too large for any unit).

    Parameters
    ----------
    n_communes
        Number of communes (1 to 9).
    parcels_per_side
        Parcels per side of a commune (3 to 20); 4 gives 6.25 ha parcels.
    commune_side_m
        Side of a commune in metres.
    dem_dir
        Folder to write a DEM (``dem.tif``, a plane rising eastwards by
        ``slope_pct``, 25 m cells) to; ``None``: no DEM, so the slopes are
        unknown.
    slope_pct
        Slope of that plane.

    Returns
    -------
    Territory
        Every layer validated, ``metadata["synthetic"]`` set.

    Examples
    --------
    >>> t = tiny_territory(3, parcels_per_side=3)
    >>> t.communes["insee"].tolist(), round(float(t.parcels.area.sum() / 1e4), 6)
    (['30001', '30002', '30003'], 300.0)
    """
    if not 1 <= n_communes <= len(_NAMES):
        msg = f"n_communes must be between 1 and {len(_NAMES)}; received {n_communes}"
        raise ValueError(msg)
    if not 3 <= parcels_per_side <= 20:
        msg = f"parcels_per_side must be between 3 and 20; received {parcels_per_side}"
        raise ValueError(msg)
    k, side = parcels_per_side, float(commune_side_m)
    step = side / k
    x0, y0 = TINY_ORIGIN
    insee = [f"30{i + 1:03d}" for i in range(n_communes)]
    corners = [(x0 + i * side, y0) for i in range(n_communes)]
    communes = gpd.GeoDataFrame(
        {
            Col.INSEE: insee,
            Col.NAME: list(_NAMES[:n_communes]),
            Col.EPCI: _EPCI,
            Col.SCOT: "SCoT de test",
            Col.HAS_PLANNING_DOC: True,
        },
        geometry=[shapely.box(x, y, x + side, y + side) for x, y in corners],
        crs=CRS_L93,
    )
    parcel_geoms, parcel_insee, numero = [], [], []
    for code, (x, y) in zip(insee, corners, strict=True):
        parcel_geoms += _square_grid(x, y, side, k)
        parcel_insee += [code] * k * k
        numero += [f"{j + 1:04d}" for j in range(k * k)]
    parcels = gpd.GeoDataFrame(
        {
            Col.IDU: [f"{c}000AB{n}" for c, n in zip(parcel_insee, numero, strict=True)],
            Col.INSEE: parcel_insee,
            Col.SECTION: "AB",
            Col.NUMERO: numero,
            Col.CONTENANCE_M2: step * step,
            Col.OWNER_KIND: "private",
            Col.LAND_COVER: "enaf",
        },
        geometry=parcel_geoms,
        crs=CRS_L93,
    )
    zones = []
    for code, (x, y) in zip(insee, corners, strict=True):
        top = y + side - step
        zones += [
            (
                f"{code}-UX",
                code,
                "UX",
                "U",
                DESTDOMI_ACTIVITY,
                shapely.box(x, y, x + side, y + step),
            ),
            (f"{code}-A", code, "A", "A", None, shapely.box(x, y + step, x + side, top)),
            (f"{code}-UA", code, "UA", "U", "01", shapely.box(x, top, x + side, y + side)),
        ]
    plu_zones = gpd.GeoDataFrame(
        pd.DataFrame(
            zones, columns=[Col.ZONE_ID, Col.INSEE, Col.LIBELLE, Col.ZONE_TYPE, Col.DESTDOMI, "g"]
        ).drop(columns="g"),
        geometry=[z[-1] for z in zones],
        crs=CRS_L93,
    )
    first_plots = [
        shapely.box(x0, y0, x0 + step, y0 + step),
        shapely.box(x0 + step, y0, x0 + 2 * step, y0 + step),
    ]
    zae = gpd.GeoDataFrame(
        {
            Col.SITE_ID: ["ZAE-1"],
            Col.NAME: ["ZAE de test"],
            Col.INSEE: [insee[0]],
            Col.SURF_BRUTE_HA: [2 * step * step / 1e4],
            Col.SURF_UTILE_HA: [2 * step * step / 1e4],
        },
        geometry=[shapely.box(x0, y0, x0 + 2 * step, y0 + step)],
        crs=CRS_L93,
    )
    zae_plots = gpd.GeoDataFrame(
        {
            Col.PLOT_ID: ["ZAE-1-1", "ZAE-1-2"],
            Col.SITE_ID: "ZAE-1",
            Col.REFCAD: [f"{insee[0]}000AB0001", f"{insee[0]}000AB0002"],
            Col.SERVICING_STAGE: "viabilisé et aménagé",
            Col.OCCUPANCY: ["inoccupé", "occupé"],
            Col.PRICE_EUR_M2: 25.0,
        },
        geometry=first_plots,
        crs=CRS_L93,
    )
    constraints_rows = [
        (
            "PPRI-1",
            "ppri_blue",
            "penalise",
            "PPRI bleu",
            shapely.box(x0 + 2 * step, y0, x0 + 3 * step, y0 + step),
        )
    ]
    friche_rows = []
    if n_communes >= 2:
        x2, y2 = corners[1]
        friche_idu = f"{insee[1]}000AB{k:04d}"
        parcels.loc[parcels[Col.IDU] == friche_idu, Col.LAND_COVER] = "artificialised"
        friche = shapely.box(x2 + side - step, y2, x2 + side, y2 + step)
        friche_rows.append(
            ("FR-1", "Ancienne usine", insee[1], "friche sans projet", "U", step * step, friche)
        )
        natura = shapely.box(x2, y2, x2 + step / 2, y2 + step)
        constraints_rows.append(("N2000-1", "natura2000", "exclude", "Natura 2000", natura))
    friches = gpd.GeoDataFrame(
        {
            Col.SITE_ID: [r[0] for r in friche_rows],
            Col.NAME: [r[1] for r in friche_rows],
            Col.INSEE: [r[2] for r in friche_rows],
            Col.STATUS: [r[3] for r in friche_rows],
            Col.ZONE_TYPE: [r[4] for r in friche_rows],
            Col.SURFACE_M2: [r[5] for r in friche_rows],
        },
        geometry=[r[6] for r in friche_rows],
        crs=CRS_L93,
    )
    constraints = gpd.GeoDataFrame(
        {
            Col.CONSTRAINT_ID: [r[0] for r in constraints_rows],
            Col.KIND: [r[1] for r in constraints_rows],
            Col.EFFECT: [r[2] for r in constraints_rows],
            Col.NAME: [r[3] for r in constraints_rows],
        },
        geometry=[r[4] for r in constraints_rows],
        crs=CRS_L93,
    )
    east = x0 + n_communes * side
    infrastructure = gpd.GeoDataFrame(
        {
            Col.INFRA_ID: ["ECH-1", "FRET-1"],
            Col.KIND: ["interchange", "rail_freight"],
            Col.NAME: ["Échangeur de test", "Ligne de fret"],
        },
        geometry=[shapely.Point(x0, y0), shapely.LineString([(x0, y0 - 50), (east, y0 - 50)])],
        crs=CRS_L93,
    )
    years = np.arange(2009, 2023)  # flows 2009 … 2022: the Cerema 2009-2023 vintage
    enaf_m2 = np.where(years < 2021, 10_000.0, 5_000.0)
    enaf = pd.DataFrame(
        {
            Col.INSEE: np.repeat(insee, len(years)),
            Col.YEAR: np.tile(years, n_communes),
            Col.ENAF_M2: np.tile(enaf_m2, n_communes),
            Col.ACTIVITY_M2: np.tile(enaf_m2 * 0.3, n_communes),
            Col.HOUSING_M2: np.tile(enaf_m2 * 0.6, n_communes),
            Col.MIXED_M2: np.tile(enaf_m2 * 0.05, n_communes),
            Col.ROAD_M2: np.tile(enaf_m2 * 0.05, n_communes),
            Col.RAIL_M2: 0.0,
            Col.UNKNOWN_M2: 0.0,
        }
    )
    projects = pd.DataFrame(
        {
            Col.PROJECT_ID: ["P1", "P2", "P3"],
            Col.NAME: ["Usine A", "Entrepôt B", "Campus C"],
            Col.SECTOR: ["industrie", "logistique", "industrie"],
            Col.AREA_MIN_HA: [5.0, 2.0, 40.0],
            Col.AREA_MAX_HA: [6.0, 2.5, 40.0],
            Col.JOBS: [60, 15, 40],
            Col.NEEDS_RAIL: [False, True, False],
            Col.MAX_DIST_INTERCHANGE_KM: [10.0, np.nan, np.nan],
            Col.MAX_SLOPE_PCT: [8.0, np.nan, np.nan],
        }
    )
    layers = {
        "communes": communes,
        "parcels": parcels,
        "plu_zones": plu_zones,
        "zae": zae,
        "zae_plots": zae_plots,
        "friches": friches,
        "constraints": constraints,
        "infrastructure": infrastructure,
    }
    bounds = (x0, y0 - step, east, y0 + side)
    return Territory(
        name="Territoire de test",
        layers={name: validate_layer(name, layer) for name, layer in layers.items()},
        enaf_consumption=validate_layer("enaf_consumption", enaf),
        projects=validate_layer("projects", projects),
        dem_path=None if dem_dir is None else _plane_dem(Path(dem_dir), bounds, slope_pct),
        metadata={"synthetic": True, "generator": "foncier.testing.tiny_territory"},
        enaf_vintage=EnafVintage(2009, 2023),
    )


def _plane_dem(folder: Path, bounds: tuple[float, float, float, float], slope_pct: float) -> Path:
    """Write a plane rising eastwards by ``slope_pct``, 25 m cells, 100 m of margin."""
    import rasterio
    from rasterio.transform import from_origin

    cell, margin = 25.0, 100.0
    west, south, east, north = bounds
    width = int(np.ceil((east - west + 2 * margin) / cell))
    height = int(np.ceil((north - south + 2 * margin) / cell))
    x = np.arange(width) * cell
    z = np.tile(100.0 + x * slope_pct / 100.0, (height, 1)).astype("float32")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dem.tif"
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": CRS_L93,
        "transform": from_origin(west - margin, north + margin, cell, cell),
        "nodata": -9999.0,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path
