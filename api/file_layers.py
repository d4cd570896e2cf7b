"""Big layers served from a file with an R-tree, not held in every worker.

A territory's parcels grow with it (10 M for a région): instead of a WGS84
copy in every worker, :func:`open_file_layer` writes once per version of the
GeoPackage a SQLite file in the cache folder (next to the cached land units,
:func:`foncier.units_cache.cache_folder`) holding, per feature in the layer's
order, its validated properties as JSON, its WGS84 geometry as WKB and its
WGS84 box in an R-tree.  A bbox request asks the R-tree; features whose box
lies inside the bbox match, the others are tested on their geometry with the
same predicate as the in-memory layers (:class:`shapely.STRtree`
``intersects``).  The answers are those of the layer validated and
reprojected in memory: same features, properties, order and extent.

The file is opened read-only by each request thread; the operating system's
page cache, not each worker, holds what is read often.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import orjson
import pyarrow as pa
import pyogrio
import shapely

from api.geojson import Positions, page_properties
from foncier.layers import SCHEMAS, validate_layer
from foncier.outputs import atomic_write
from foncier.units_cache import cache_folder, file_digests

__all__ = ["FILE_LAYERS", "FileLayer", "open_file_layer"]

#: Layers served from a file: those that grow with the territory.
FILE_LAYERS: tuple[str, ...] = ("parcels",)
#: Features read, validated and written at a time when the file is built.
BATCH_SIZE = 100_000
#: Version of the file's layout (part of its key).
_FORMAT = 1
#: CRS of the geometries served (RFC 7946).
_WGS84 = "EPSG:4326"
_SCHEMA = """
CREATE TABLE features (pos INTEGER PRIMARY KEY, key TEXT NOT NULL, properties BLOB NOT NULL,
                       geometry BLOB NOT NULL);
CREATE VIRTUAL TABLE boxes USING rtree(pos, minx, maxx, miny, maxy);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class FileLayer:
    """A layer in WGS84 read from its served file (see the module).

    Attributes
    ----------
    path
        The served file.
    count
        Features of the layer.
    bounds
        ``(minx, miny, maxx, maxy)`` of its WGS84 geometries, ``None`` when empty.
    area_m2
        Total area of its geometries in EPSG:2154, ``None`` for a layer without polygons
        (as :meth:`foncier.territory.Territory.summary` counts it).
    id_column
        The layer's key column.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        meta = dict(self._conn().execute("SELECT name, value FROM meta").fetchall())
        self.count = int(meta["count"])
        bounds = json.loads(meta["bounds"])
        self.bounds: tuple[float, float, float, float] | None = (
            None if bounds is None else tuple(bounds)
        )
        self.area_m2: float | None = json.loads(meta["area_m2"])
        self.id_column = str(meta["id_column"])

    def __len__(self) -> int:
        return self.count

    def _conn(self) -> sqlite3.Connection:
        """The read-only connection of the calling thread (the file never changes once written)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
            self._local.conn = conn
        return conn

    def positions(self, bbox: tuple[float, float, float, float] | None) -> Positions:
        """Sorted positions of the features intersecting a WGS84 bbox (all if ``None``)."""
        if bbox is None:
            return range(self.count)
        minx, miny, maxx, maxy = bbox
        conn = self._conn()
        meets = "b.minx <= :maxx AND b.maxx >= :minx AND b.miny <= :maxy AND b.maxy >= :miny"
        # the R-tree's boxes are rounded outwards: one inside the bbox holds its feature
        within = "b.minx >= :minx AND b.maxx <= :maxx AND b.miny >= :miny AND b.maxy <= :maxy"
        if maxx <= minx or maxy <= miny:  # a line or a point: every feature met is tested
            within = "0"
        values = {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
        inside = conn.execute(
            f"SELECT b.pos FROM boxes b WHERE {meets} AND {within}", values
        ).fetchall()
        edge = conn.execute(
            f"SELECT b.pos, f.geometry FROM boxes b JOIN features f ON f.pos = b.pos "
            f"WHERE {meets} AND NOT ({within})",
            values,
        ).fetchall()
        found = np.array(inside, dtype="int64").reshape(-1)
        if edge:
            pos, wkbs = zip(*edge, strict=True)
            geoms = shapely.from_wkb(np.array(wkbs, dtype=object))
            hits = shapely.STRtree(geoms).query(shapely.box(*bbox), predicate="intersects")
            found = np.concatenate([found, np.array(pos, dtype="int64")[hits]])
        return np.sort(found)

    def features(self, positions: Positions, *, with_id: bool) -> list[orjson.Fragment]:
        """The GeoJSON features at ``positions``, in order, as serialised fragments.

        The same members as :func:`api.geojson.page_features`: ``id`` (the
        key, when ``with_id``), ``type``, ``properties`` and ``geometry``.
        """
        pos = np.asarray(positions, dtype="int64")
        if not len(pos):
            return []
        rows = (
            self._conn()
            .execute(
                "SELECT key, properties, geometry FROM features WHERE pos IN "
                f"({','.join(map(str, pos.tolist()))}) ORDER BY pos"
            )
            .fetchall()
        )
        keys, props, wkbs = zip(*rows, strict=True)
        # the rows come by position: put them back in the order asked
        rank = np.argsort(np.argsort(pos, kind="stable"), kind="stable")
        shapes = shapely.to_geojson(shapely.from_wkb(np.array(wkbs, dtype=object)))
        heads = [b'{"id":' + orjson.dumps(k) + b"," if with_id else b"{" for k in keys]
        texts = [
            orjson.Fragment(
                h + b'"type":"Feature","properties":' + p + b',"geometry":' + s.encode() + b"}"
            )
            for h, p, s in zip(heads, props, shapes.tolist(), strict=True)
        ]
        return [texts[i] for i in rank.tolist()]

    def find(self, key: str) -> int | None:
        """Position of the first feature whose key is ``key``, ``None`` when none is."""
        row = self._conn().execute("SELECT min(pos) FROM features WHERE key = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])


def _file_key(folder: Path, gpkg: Path, name: str) -> str:
    from foncier import __version__

    record = {
        "format": _FORMAT,
        "version": __version__,
        "layer": name,
        "sha256": file_digests(folder, [gpkg])[0],
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _write(gpkg: Path, name: str, path: Path) -> None:
    """Write the served file of layer ``name`` of ``gpkg`` to ``path`` (by batches)."""
    key_column = SCHEMAS[name].key[0]
    conn = sqlite3.connect(path)
    try:
        conn.executescript(_SCHEMA)
        count, start = 0, 0
        lows, highs = [], []
        area = 0.0
        polygons = False
        with pyogrio.open_arrow(gpkg, layer=name, batch_size=BATCH_SIZE, use_pyarrow=True) as (
            meta,
            reader,
        ):
            geometry = meta["geometry_name"] or "wkb_geometry"
            for batch in reader:
                frame = pa.Table.from_batches([batch]).drop_columns([geometry]).to_pandas()
                geoms = shapely.from_wkb(batch.column(geometry).to_numpy(zero_copy_only=False))
                raw = gpd.GeoDataFrame(frame, geometry=geoms, crs=meta["crs"])
                layer = cast(gpd.GeoDataFrame, validate_layer(name, raw))
                types = shapely.get_type_id(layer.geometry.to_numpy())
                polygons |= bool(np.isin(types, (3, 6)).any())
                area += float(shapely.area(layer.geometry.to_numpy()).sum())
                served = layer.to_crs(_WGS84)
                props = [
                    orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY)
                    for row in page_properties(served)
                ]
                wgs = served.geometry.to_numpy()
                box = shapely.bounds(wgs)
                pos = np.arange(start, start + len(served))
                keys = served[key_column].astype(str).tolist()
                conn.executemany(
                    "INSERT INTO features VALUES (?, ?, ?, ?)",
                    zip(pos.tolist(), keys, props, shapely.to_wkb(wgs).tolist(), strict=True),
                )
                conn.executemany(
                    "INSERT INTO boxes VALUES (?, ?, ?, ?, ?)",
                    np.column_stack([pos, box[:, [0, 2, 1, 3]]]).tolist(),
                )
                if len(served):
                    lows.append(box[:, :2].min(axis=0))
                    highs.append(box[:, 2:].max(axis=0))
                count += len(served)
                start += len(served)
        bounds = [*np.min(lows, axis=0).tolist(), *np.max(highs, axis=0).tolist()] if lows else None
        conn.execute("CREATE INDEX features_key ON features (key)")
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("count", str(count)),
                ("bounds", json.dumps(bounds)),
                ("area_m2", json.dumps(area if polygons else None)),
                ("id_column", key_column),
            ],
        )
        conn.commit()
    finally:
        conn.close()


def open_file_layer(folder: Path, gpkg: Path, name: str) -> FileLayer:
    """The served file of a layer of a territory's GeoPackage, written when missing.

    Parameters
    ----------
    folder
        The territory folder.
    gpkg
        Its GeoPackage.
    name
        A layer of it (one of :data:`FILE_LAYERS`).

    Returns
    -------
    FileLayer
        The layer, keyed by the GeoPackage's digest, the layer and foncier's
        version: a changed GeoPackage gets a new file.
    """
    path = cache_folder().parent / "served" / f"{_file_key(folder, gpkg, name)}.sqlite"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: _write(gpkg, name, tmp))
    return FileLayer(path)
