"""The supply at département, région and national scale.

The supply reads few parcels: those meeting an activity zone, a ZAE plot or a
friche, or listed by a friche (:func:`foncier.supply.candidate_areas`; about
0.4 % of a territory's parcels).  Two ways follow from it:

- on one machine, :func:`read_supply_territory` reads the parcels by Arrow
  batches and keeps only those: the peak memory is that of one batch and of
  the parcels kept, not of the whole layer, and
  :func:`foncier.supply.land_units` on it gives the same units as on the
  whole territory;
- beyond one machine, :func:`write_partitioned_parcels` writes the parcels as
  GeoParquet partitioned by département and :func:`partitioned_land_units`
  runs the same supply functions per département on a Dask cluster
  (dask-geopandas; the ``distributed`` extra), then merges the units
  crossing a département border and computes their criteria again with the
  same functions.  The scheduler's address is the only change between a
  local cluster and a real one.

Dask is imported only by :func:`partitioned_land_units`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from foncier.errors import DataSourceError, FoncierError, OutputError
from foncier.layers import (
    CRS_L93,
    LAND_COVERS,
    Col,
    UnitCol,
    empty_layer,
    validate_layer,
)
from foncier.supply import (
    DEFAULT_EXCLUDE,
    UNIT_COLUMNS,
    add_criteria,
    candidate_areas,
    candidate_land,
    component_labels,
    merge_units,
    screen,
    slope_coverage,
    unit_key,
    unit_labels,
)
from foncier.territory import GPKG_NAME, Territory

__all__ = [
    "BATCH_SIZE",
    "PARTITION_COLUMN",
    "SOURCE_NAME",
    "check_partitions",
    "departement",
    "partitioned_land_units",
    "read_supply_territory",
    "supply_parcels",
    "without_parcels",
    "write_partitioned_parcels",
]

#: Parcels read at a time (an Arrow batch).
BATCH_SIZE = 200_000
#: Column (and Hive partition key) holding the département code.
PARTITION_COLUMN = "departement"
_UNIT = "_unit"
#: File of a partitions folder recording the territory it was written from.
SOURCE_NAME = "_source.json"
#: Column flagging the parcels read only to count those of unknown land cover.
_COVER_ONLY = "_cover_only"
#: Bytes of the GeoPackage SQLite may map in memory while it scans the parcels.
_MMAP_BYTES = 1 << 30
#: Land cover of parcels whose cover is not known.
UNKNOWN_COVER = "unknown"
#: Contiguity tolerance of :func:`foncier.supply.merge_units` (its default).
_TOLERANCE_M = 0.5


def departement(insee: pd.Series) -> pd.Series:
    """Département code of INSEE commune codes: their 2 first characters, 3 overseas (97…).

    Examples
    --------
    >>> departement(pd.Series(["30007", "2A004", "97411"])).tolist()
    ['30', '2A', '974']
    """
    codes = insee.astype("str")
    return codes.str[:2].where(~codes.str.startswith("97"), codes.str[:3])


def _kept(
    geoms: np.ndarray, idus: np.ndarray, tree: shapely.STRtree, listed: np.ndarray
) -> np.ndarray:
    """Whether each parcel meets a candidate area or is listed by a friche."""
    keep = np.zeros(len(geoms), dtype=bool)
    keep[tree.query(geoms, predicate="intersects")[0]] = True
    keep |= pd.Index(listed).get_indexer(idus) >= 0
    return keep


def _areas(layers: dict[str, gpd.GeoDataFrame]) -> tuple[shapely.STRtree, np.ndarray]:
    areas, listed = candidate_areas(layers["plu_zones"], layers["zae_plots"], layers["friches"])
    return shapely.STRtree(areas), listed


def _rtree_table(con: sqlite3.Connection, layer: str) -> str | None:
    """Name of the GeoPackage R-tree of ``layer``'s geometries, if it has one."""
    row = con.execute(
        "SELECT column_name FROM gpkg_extensions WHERE table_name = ? "
        "AND extension_name = 'gpkg_rtree_index'",
        (layer,),
    ).fetchone()
    return None if row is None else f"rtree_{layer}_{row[0]}"


def _indexed_rows(
    gpkg: Path, boxes: np.ndarray, listed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Parcels the supply may need, found with the GeoPackage's R-tree and SQL.

    Returns the FIDs of the parcels whose box meets one of ``boxes`` or
    whose ``idu`` is ``listed`` (a superset of those the supply keeps), the
    FIDs of those whose ``land_cover`` may be unknown (not literally one of
    the known covers), and the layer's row count; ``None`` when the layer
    has no R-tree or the file cannot be queried this way.
    """
    known = [c for c in LAND_COVERS if c != UNKNOWN_COVER]
    try:
        con = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        con.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")  # the scan below reads pages in place
        rtree = _rtree_table(con, "parcels")
        info = {r[1]: r[5] for r in con.execute('PRAGMA table_info("parcels")')}
        fid = next((name for name, pk in info.items() if pk), None)
        if rtree is None or fid is None or Col.IDU not in info:
            return None
        con.execute("CREATE TEMP TABLE boxes (minx REAL, maxx REAL, miny REAL, maxy REAL)")
        con.executemany("INSERT INTO boxes VALUES (?, ?, ?, ?)", boxes[:, [0, 2, 1, 3]].tolist())
        con.execute("CREATE TEMP TABLE listed (idu TEXT PRIMARY KEY)")
        con.executemany("INSERT OR IGNORE INTO listed VALUES (?)", [(str(i),) for i in listed])
        near = con.execute(
            f'SELECT DISTINCT r.id FROM temp.boxes b CROSS JOIN "{rtree}" r ON r.minx <= b.maxx '
            "AND r.maxx >= b.minx AND r.miny <= b.maxy AND r.maxy >= b.miny"
        ).fetchall()
        cover = Col.LAND_COVER
        unknown = (
            f'"{cover}" IS NULL OR trim("{cover}") NOT IN ({", ".join("?" * len(known))})'
            if cover in info
            else "1"
        )
        rows = con.execute(
            f'SELECT * FROM (SELECT "{fid}", "{Col.IDU}" IN (SELECT idu FROM temp.listed) AS '
            f'listed, {unknown} AS unknown FROM "parcels") WHERE listed OR unknown',
            known if cover in info else [],
        ).fetchall()
        (count,) = con.execute('SELECT count(*) FROM "parcels"').fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    flags = np.array(rows, dtype="int64").reshape(-1, 3)
    fids = np.union1d(np.array(near, dtype="int64").ravel(), flags[flags[:, 1] == 1, 0])
    return fids, flags[flags[:, 2] == 1, 0], int(count)


def _read_fids(gpkg: Path, fids: np.ndarray, fid: str) -> gpd.GeoDataFrame:
    """The parcels of these FIDs (``fid`` names the FID column), in FID order (the layer's)."""
    where = f'"{fid}" IN ({",".join(map(str, fids.tolist()))})' if len(fids) else "0"
    frame = pyogrio.read_dataframe(
        gpkg, layer="parcels", where=where, use_arrow=True, fid_as_index=True
    )
    return frame.sort_index(kind="stable")


def supply_parcels(
    gpkg: str | Path, layers: dict[str, gpd.GeoDataFrame], *, batch_size: int = BATCH_SIZE
) -> gpd.GeoDataFrame:
    """Read the parcels of a GeoPackage that the supply needs.

    With the GeoPackage's R-tree (every layer foncier writes has one), only
    the parcels whose box meets a candidate area
    (:func:`foncier.supply.candidate_areas`), those listed by a friche and
    those of unknown land cover are read; without it the layer is read by
    Arrow batches of ``batch_size`` and each batch dropped once filtered.
    Either way the parcels meeting a candidate area or listed by a friche
    are kept, in the layer's order: the whole layer is never in memory.

    Parameters
    ----------
    gpkg
        The GeoPackage holding a ``parcels`` layer.
    layers
        Validated ``plu_zones``, ``zae_plots`` and ``friches`` layers (EPSG:2154).
    batch_size
        Parcels read at a time without an R-tree.

    Returns
    -------
    geopandas.GeoDataFrame
        The parcels kept and, flagged by a true ``_cover_only`` column, the
        other parcels whose land cover may be unknown (counted by the
        land-cover assumption on the whole territory), raw (to be
        validated), in the layer's CRS; ``attrs["rows_read"]`` counts the
        parcels of the layer.
    """
    gpkg = Path(gpkg)
    tree, listed = _areas(layers)
    info = pyogrio.read_info(gpkg, layer="parcels")
    crs = info["crs"]
    if crs is not None and gpd.GeoSeries([], crs=crs).crs != CRS_L93:
        areas = gpd.GeoSeries(tree.geometries, crs=CRS_L93).to_crs(crs).to_numpy()
        tree = shapely.STRtree(areas)
    boxes = shapely.bounds(tree.geometries).reshape(-1, 4)
    indexed = _indexed_rows(gpkg, boxes, listed)
    wanted = None if indexed is None else np.union1d(indexed[0], indexed[1])
    if indexed is None or wanted is None or len(wanted) > indexed[2] // 2:
        out = _scanned_parcels(gpkg, tree, listed, batch_size)  # no index, or most rows needed
    else:
        _, unknown, count = indexed
        raw = _read_fids(gpkg, wanted, info.get("fid_column") or "fid")
        geoms = raw.geometry.to_numpy()
        keep = _kept(geoms, raw[Col.IDU].to_numpy(dtype=object), tree, listed)
        out = raw[keep | raw.index.isin(unknown)].reset_index(drop=True)
        out[_COVER_ONLY] = ~keep[keep | raw.index.isin(unknown)]
        out.attrs["rows_read"] = count
    return out


def _scanned_parcels(
    gpkg: Path, tree: shapely.STRtree, listed: np.ndarray, batch_size: int
) -> gpd.GeoDataFrame:
    """:func:`supply_parcels` by Arrow batches over the whole layer (no R-tree)."""
    kept: list[pa.RecordBatch] = []
    geoms: list[np.ndarray] = []
    cover_only: list[np.ndarray] = []
    rows = 0
    with pyogrio.open_arrow(gpkg, layer="parcels", batch_size=batch_size, use_pyarrow=True) as (
        meta,
        reader,
    ):
        name = meta["geometry_name"] or "wkb_geometry"
        crs = meta["crs"]
        schema = reader.schema
        columns = [f.name for f in schema if f.name != name]
        for batch in reader:
            rows += batch.num_rows
            batch_geoms = shapely.from_wkb(batch.column(name).to_numpy(zero_copy_only=False))
            idus = batch.column(Col.IDU).to_numpy(zero_copy_only=False)
            keep = _kept(batch_geoms, idus, tree, listed)
            if Col.LAND_COVER in columns:
                cover = pd.Series(batch.column(Col.LAND_COVER).to_numpy(zero_copy_only=False))
                known = cover.str.strip().isin([c for c in LAND_COVERS if c != UNKNOWN_COVER])
                read = keep | ~known.to_numpy()
            else:
                read = np.ones(len(keep), dtype=bool)
            kept.append(batch.select(columns).filter(pa.array(read)))
            geoms.append(batch_geoms[read])
            cover_only.append(~keep[read])
    table = pa.Table.from_batches(kept, schema=pa.schema([schema.field(c) for c in columns]))
    geometry = np.concatenate(geoms) if geoms else np.empty(0, dtype=object)
    out = gpd.GeoDataFrame(table.to_pandas(), geometry=geometry, crs=crs)
    out[_COVER_ONLY] = np.concatenate(cover_only) if cover_only else np.empty(0, dtype=bool)
    out.attrs["rows_read"] = rows
    return out


def read_supply_territory(folder: str | Path, *, batch_size: int = BATCH_SIZE) -> Territory:
    """Load a territory folder with only the parcels the supply needs.

    :func:`foncier.supply.land_units` on the result gives the same land
    units as on :meth:`Territory.from_folder` (``tests/test_partitioned.py``
    checks it), with the memory of the parcels kept instead of all of them.
    The other layers are read whole.  Stages that need every parcel (the
    land-cover assumptions, maps of the parcels) need the full territory.

    Parameters
    ----------
    folder
        A territory folder (see :meth:`Territory.from_folder`).
    batch_size
        Parcels read at a time.

    Returns
    -------
    Territory
        The territory; ``metadata["parcels_read"]`` and
        ``metadata["parcels_kept"]`` count the parcels read and kept, and the
        ``parcels`` load report says it in French.
    """
    counts: dict[str, int] = {}

    def read(gpkg: Path, layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
        parcels = supply_parcels(gpkg, layers, batch_size=batch_size)
        counts.update(read=parcels.attrs["rows_read"])
        return parcels

    territory = Territory.from_folder(folder, read_parcels=read)
    parcels = territory.layers["parcels"]
    if _COVER_ONLY in parcels.columns:
        unknown = (parcels[Col.LAND_COVER].astype(object) == UNKNOWN_COVER).to_numpy()
        area = float(shapely.area(parcels.geometry.to_numpy()[unknown]).sum())
        parcels = parcels[~parcels[_COVER_ONLY].to_numpy(dtype=bool)].drop(columns=_COVER_ONLY)
        territory.layers["parcels"] = parcels.reset_index(drop=True)
        territory.metadata.update(
            parcels_read=counts["read"],
            parcels_kept=len(parcels),
            parcels_unknown_cover={"count": int(unknown.sum()), "area_m2": area},
        )
        territory.reports["parcels"].notes.append(
            f"seules les {len(parcels)} parcelles sur {counts['read']} proches du foncier "
            "candidat (zones d'activité, lots de ZAE, friches) ont été gardées"
        )
    return territory


def write_partitioned_parcels(
    folder: str | Path, dest: str | Path, *, batch_size: int = BATCH_SIZE, force: bool = False
) -> list[str]:
    """Write the parcels of a territory folder as GeoParquet partitioned by département.

    The parcels are read by Arrow batches; each batch is written as one
    file per département it holds, ``dest/departement=30/part-00000.parquet``
    (a Hive layout that :func:`dask_geopandas.read_parquet` reads as one
    partition per file, with the ``departement`` column).

    Parameters
    ----------
    folder
        A territory folder.
    dest
        The folder to write (written atomically, under the output policy).
    batch_size
        Parcels read at a time.
    force
        Replace a folder foncier wrote before.

    Returns
    -------
    list of str
        The départements written, sorted.
    """
    from foncier.outputs import write_folder

    gpkg = Path(folder) / GPKG_NAME
    codes: set[str] = set()

    def write(tmp: Path) -> None:
        with pyogrio.open_arrow(gpkg, layer="parcels", batch_size=batch_size, use_pyarrow=True) as (
            meta,
            reader,
        ):
            name = meta["geometry_name"] or "wkb_geometry"
            for k, batch in enumerate(reader):
                frame = pa.Table.from_batches([batch]).drop_columns([name]).to_pandas()
                geoms = shapely.from_wkb(batch.column(name).to_numpy(zero_copy_only=False))
                parcels = gpd.GeoDataFrame(frame, geometry=geoms, crs=meta["crs"])
                for code, rows in parcels.groupby(departement(parcels[Col.INSEE])).indices.items():
                    part = tmp / f"{PARTITION_COLUMN}={code}"
                    part.mkdir(exist_ok=True)
                    parcels.iloc[rows].to_parquet(part / f"part-{k:05d}.parquet", index=False)
                    codes.add(str(code))
        (tmp / SOURCE_NAME).write_text(json.dumps(_source(folder)), encoding="utf-8")

    write_folder(dest, "partitions", write, force=force, inputs=[folder])
    return sorted(codes)


def _source(folder: str | Path) -> dict[str, str]:
    """What partitioned parcels are built from: the territory folder and its GeoPackage's digest."""
    from foncier.units_cache import file_digests

    gpkg = Path(folder) / GPKG_NAME
    return {"territory": str(Path(folder).resolve()), "sha256": file_digests(folder, [gpkg])[0]}


def check_partitions(folder: str | Path, partitions: str | Path) -> None:
    """Refuse partitioned parcels that were not written from this territory's parcels as they are.

    :func:`write_partitioned_parcels` records, in ``partitions/_source.json``,
    the territory folder and the SHA-256 of its GeoPackage; the partitions
    are reused only while they match.

    Parameters
    ----------
    folder
        The territory folder.
    partitions
        The partitioned GeoParquet of its parcels.

    Raises
    ------
    OutputError
        The partitions hold no record, or one of another territory or of
        another version of its GeoPackage; the message says to rewrite them
        with ``--force`` or to give another folder.
    """
    record = Path(partitions) / SOURCE_NAME
    try:
        built = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        built = None
    if isinstance(built, dict) and built.get("sha256") == _source(folder)["sha256"]:
        return
    if not isinstance(built, dict):
        why = f"ne dit pas de quel territoire elles viennent ({SOURCE_NAME} absent ou illisible)"
    elif built.get("territory") != str(Path(folder).resolve()):
        why = f"ont été écrites à partir d'un autre territoire ({built.get('territory')})"
    else:
        why = f"ont été écrites à partir d'une version antérieure de {Path(folder) / GPKG_NAME}"
    msg = (
        f"les parcelles partitionnées du dossier {partitions} {why} : relancez avec --force "
        f"pour les réécrire à partir de {folder}, ou donnez un autre dossier à --partitions"
    )
    raise OutputError(msg)


def _supply_partition(frame: gpd.GeoDataFrame, tree: shapely.STRtree, listed: Any) -> Any:
    """The parcels of one GeoParquet partition that the supply needs."""
    geoms = frame.geometry.to_numpy()
    return frame[_kept(geoms, frame[Col.IDU].to_numpy(dtype=object), tree, listed)]


def _with_parcels(territory: Territory, parcels: gpd.GeoDataFrame) -> Territory:
    """The territory's layers with other parcels (for one partition)."""
    return dataclasses.replace(territory, layers={**territory.layers, "parcels": parcels})


def _departement_units(
    code: str,
    base: Territory,
    parcels: gpd.GeoDataFrame,
    kinds: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Land units of one département, and their screened candidates with their unit's row.

    ``parcels`` are the département's and, from the others, those its ZAE
    plots and friches need; only the candidates of the département (by
    their ``insee``) are kept.
    """
    territory = _with_parcels(base, parcels)
    candidates = candidate_land(territory)
    own = (departement(candidates[Col.INSEE]) == code).to_numpy()
    screened = screen(candidates[own].reset_index(drop=True), territory.constraints, kinds)
    units = add_criteria(merge_units(screened), territory, **options)
    return units, screened.assign(**{_UNIT: unit_labels(screened)})


def _partition_rows(
    parcels: gpd.GeoDataFrame, codes: np.ndarray, base: Territory, listed: np.ndarray
) -> dict[str, np.ndarray]:
    """Rows of the parcels each département's task gets, for every département.

    Its own, the listed ones (friches' ``l_idpar``) and, from the other
    départements, those meeting a ZAE plot or friche within the bounding box
    of its communes and parcels (the plots and friches on a border need the
    parcels of both sides).  One iteration per département.
    """
    # the plots and friches alone (no zone): the land a border site may need on both sides
    sites, _ = candidate_areas(base.plu_zones.iloc[:0], base.zae_plots, base.friches)
    site_tree = shapely.STRtree(sites)
    geoms = parcels.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    always = np.flatnonzero(parcels[Col.IDU].isin(listed).to_numpy())
    communes = base.communes.geometry.to_numpy()
    commune_codes = departement(base.communes[Col.INSEE]).to_numpy()
    out = {}
    for code in sorted(set(codes) | set(commune_codes)):
        own = np.flatnonzero(codes == code)
        extent = np.concatenate([geoms[own], communes[commune_codes == code]])
        near = sites[site_tree.query(shapely.box(*shapely.total_bounds(extent)))]
        halo = tree.query(near, predicate="intersects")[1]
        out[str(code)] = np.unique(np.concatenate([own, halo, always]))
    return out


def without_parcels(gpkg: Path, layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """A ``read_parcels`` for :meth:`Territory.from_folder` reading no parcel at all."""
    return empty_layer("parcels")


def _import_dask() -> tuple[Any, Any]:
    try:
        import dask
        import dask_geopandas
    except ImportError as exc:
        msg = (
            "l'offre foncière partitionnée demande dask et dask-geopandas : installez-les "
            "avec l'extra distributed (pip install 'foncier[distributed]')"
        )
        raise FoncierError(msg) from exc
    return dask, dask_geopandas


def partitioned_land_units(
    folder: str | Path,
    partitions: str | Path,
    *,
    scheduler: str | None = None,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    unknown_land_cover: str | None = None,
    friches_count: bool | None = None,
) -> tuple[gpd.GeoDataFrame, Territory]:
    """Land units computed per département on a Dask cluster, merged across borders.

    1. The parcels the supply needs are read from the partitioned GeoParquet
       (:func:`write_partitioned_parcels`) by dask-geopandas, one task per
       file;
    2. per département, one task runs :func:`~foncier.supply.candidate_land`,
       :func:`~foncier.supply.screen`, :func:`~foncier.supply.merge_units`
       and :func:`~foncier.supply.add_criteria` on its parcels (with those
       of the neighbours its ZAE plots and friches meet);
    3. units of two départements whose candidates are contiguous (same rule
       as :func:`~foncier.supply.merge_units`) are merged again from their
       candidates by :func:`~foncier.supply.merge_units`, and get their
       criteria from :func:`~foncier.supply.add_criteria`.

    The units are those of :func:`foncier.supply.land_units` on the whole
    territory, with the same criteria; ``unit_id`` numbers them by origin,
    site and parcels (the single-process order follows the input layers).

    Parameters
    ----------
    folder
        The territory folder (its other layers are read by the client and
        sent to the workers; its DEM must be readable by them at the same path).
    partitions
        The partitioned GeoParquet of its parcels.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``); ``None`` uses the
        current Dask client if there is one, else Dask's local threads.
    exclude, unknown_land_cover, friches_count
        As in :func:`foncier.supply.land_units`.

    Returns
    -------
    units : geopandas.GeoDataFrame
        One row per land unit, columns :data:`~foncier.supply.UNIT_COLUMNS`;
        ``attrs["departements"]`` lists the départements,
        ``attrs["border_units"]`` counts the units merged across a border and
        ``attrs["parcels_kept"]`` the parcels the supply read; the slope
        coverage as in :func:`~foncier.supply.land_units`.
    territory : Territory
        The territory with, as its ``parcels``, only those the supply read
        (for the assumptions of the units).

    Raises
    ------
    DataSourceError
        If ``partitions`` cannot be read as GeoParquet.
    FoncierError
        If dask or dask-geopandas is not installed.
    """
    dask, dask_geopandas = _import_dask()
    kinds = tuple(exclude)
    options = {"unknown_land_cover": unknown_land_cover, "friches_count": friches_count}
    base = Territory.from_folder(folder, read_parcels=without_parcels)
    base.require_commune_geometries("l'offre foncière par département (foncier supply)")
    tree, listed = _areas(base.layers)
    client: Any = contextlib.nullcontext()
    if scheduler is not None:
        from distributed import Client

        client = Client(scheduler)
    with client:
        try:
            frames = dask_geopandas.read_parquet(partitions)
        except (OSError, ValueError) as exc:
            msg = (
                f"impossible de lire les parcelles partitionnées {partitions} : {exc} ; "
                "écrivez-les avec `foncier supply --partition-by departement`"
            )
            raise DataSourceError(msg) from exc
        kept = frames.map_partitions(_supply_partition, tree, listed, meta=frames._meta).compute()
        codes = kept.pop(PARTITION_COLUMN).astype("str").to_numpy()
        parcels = validate_layer("parcels", kept.reset_index(drop=True))
        rows = _partition_rows(parcels, codes, base, listed)
        shared = dask.delayed(base, traverse=False)  # sent once to each worker
        tasks = [
            dask.delayed(_departement_units)(code, shared, parcels.iloc[at], kinds, options)
            for code, at in rows.items()
        ]
        results = dask.compute(*tasks)
    units = [u.assign(**{PARTITION_COLUMN: c}) for c, (u, _) in zip(rows, results, strict=True)]
    screened = [s.assign(**{PARTITION_COLUMN: c}) for c, (_, s) in zip(rows, results, strict=True)]
    read = _with_parcels(base, parcels)
    out = _merged_across_borders(units, screened, read, options)
    out.attrs.update(
        departements=list(rows), parcels_kept=len(parcels), **slope_coverage(out, base)
    )
    return out, read


def _merged_across_borders(
    units: list[gpd.GeoDataFrame],
    screened: list[gpd.GeoDataFrame],
    territory: Territory,
    options: dict[str, Any],
) -> gpd.GeoDataFrame:
    """Merge the units whose candidates join across a border; number every unit."""
    candidates = gpd.GeoDataFrame(pd.concat(screened, ignore_index=True), crs=CRS_L93)
    # one node per (département, unit); candidates join as in merge_units, across départements
    node, pairs = pd.MultiIndex.from_frame(candidates[[PARTITION_COLUMN, _UNIT]]).factorize()
    geoms = candidates.geometry.to_numpy()
    key = unit_key(candidates)
    code = candidates[PARTITION_COLUMN].to_numpy()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=_TOLERANCE_M)
    cross = (code[i] != code[j]) & (key[i] == key[j])
    group = component_labels(len(pairs), node[i[cross]], node[j[cross]])
    joined = np.bincount(group)[group] > 1  # per node
    all_units = pd.concat(units, ignore_index=True)
    position = pd.MultiIndex.from_arrays(
        [all_units[PARTITION_COLUMN], all_units.groupby(PARTITION_COLUMN).cumcount()]
    )
    parts = [all_units[~position.isin(pairs[joined])].drop(columns=PARTITION_COLUMN)]
    members = candidates[joined[node]].drop(columns=[PARTITION_COLUMN, _UNIT])
    merged = add_criteria(merge_units(members.reset_index(drop=True)), territory, **options)
    parts.append(merged)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=CRS_L93)
    out = out.sort_values(
        [UnitCol.ORIGIN, Col.SITE_ID, UnitCol.IDUS, UnitCol.GROSS_AREA_HA], kind="stable"
    ).reset_index(drop=True)
    out[UnitCol.UNIT_ID] = pd.Series(
        [f"U-{i:05d}" for i in range(1, len(out) + 1)], index=out.index, dtype="str"
    )
    out = gpd.GeoDataFrame(out[list(UNIT_COLUMNS)], geometry=out.geometry.to_numpy(), crs=CRS_L93)
    out.attrs["border_units"] = len(merged)
    return out
