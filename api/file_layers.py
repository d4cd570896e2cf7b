"""Big layers served from a file with an R-tree, not held in every worker.

A territory's parcels grow with it (10 M for a région): instead of a WGS84
copy in every worker, :func:`open_file_layer` writes once per version of the
GeoPackage a SQLite file in the cache folder (next to the cached land units,
:func:`foncier.units_cache.cache_folder`) holding, per feature in the layer's
order, the GeoJSON text of the feature (its validated properties and its
WGS84 geometry, written once), its WGS84 geometry as WKB and its WGS84 box in
an R-tree.  A bbox request asks the R-tree; features whose box lies inside
the bbox match, the others are tested on their geometry with the same
predicate as the in-memory layers (:class:`shapely.STRtree` ``intersects``).
A page is the stored texts joined: nothing is serialised per request.  The
answers are those of the layer validated and reprojected in memory: same
features, properties, order and extent.

The file is opened read-only by each request thread (one connection per
thread, its statements prepared once); the operating system's page cache,
not each worker, holds what is read often.

Workers starting together on a new GeoPackage build its file once: the
first takes the file's build lock, the others wait for it and read what it
wrote (the lock is the kernel's, released if its holder dies).  Each process
serving a file holds a shared lock on it; the served files of the same
territory folder and layer left by previous GeoPackage versions are deleted
once no process holds theirs.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import IO, cast

import geopandas as gpd
import numpy as np
import orjson
import pyarrow as pa
import pyogrio
import shapely

from api.geojson import Positions, page_properties
from api.locks import lock_file
from foncier.layers import SCHEMAS, validate_layer
from foncier.outputs import atomic_write
from foncier.units_cache import cache_folder, file_digests

__all__ = ["FILE_LAYERS", "FileLayer", "open_file_layer", "served_path"]

#: Layers served from a file: those that grow with the territory.
FILE_LAYERS: tuple[str, ...] = ("parcels",)
#: Features read, validated and written at a time when the file is built.
BATCH_SIZE = 100_000
#: Version of the file's layout (part of its key).
_FORMAT = 2
#: CRS of the geometries served (RFC 7946).
_WGS84 = "EPSG:4326"
#: ``features.body``: a feature's GeoJSON text after its opening brace (``"type":"Feature",
#: "properties":{…},"geometry":{…}}``), so that a page prefixes it with ``{`` or ``{"id":…,``.
_SCHEMA = """
CREATE TABLE features (pos INTEGER PRIMARY KEY, key TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE shapes (pos INTEGER PRIMARY KEY, geometry BLOB NOT NULL);
CREATE VIRTUAL TABLE boxes USING rtree(pos, minx, maxx, miny, maxy);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


#: The R-tree's test of a box meeting the bbox, and of one lying inside it (the R-tree's boxes
#: are rounded outwards: one inside the bbox holds its feature).
_MEETS = "b.minx <= :maxx AND b.maxx >= :minx AND b.miny <= :maxy AND b.maxy >= :miny"
_WITHIN = "b.minx >= :minx AND b.maxx <= :maxx AND b.miny >= :miny AND b.maxy <= :maxy"
_INSIDE = f"SELECT json_group_array(b.pos) FROM boxes b WHERE {_MEETS} AND {_WITHIN}"
#: The features met and their geometries to test: all of them for a line or a point, else
#: those not inside.
_MET = f"SELECT b.pos, s.geometry FROM boxes b JOIN shapes s ON s.pos = b.pos WHERE {_MEETS}"
_EDGE = f"{_MET} AND NOT ({_WITHIN})"
#: The rows asked, in the order asked (``json_each`` walks the array in order).
_ROWS = "SELECT f.key, f.body FROM json_each(?) j JOIN features f ON f.pos = j.value ORDER BY j.key"


class FileLayer:
    """A layer in WGS84 read from its served file (see the module).

    Parameters
    ----------
    path
        The served file.
    hold
        An open lock file on which the process holds a shared lock while it
        serves ``path`` (:func:`open_file_layer`): kept open with the layer.

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

    def __init__(self, path: Path, hold: IO[bytes] | None = None) -> None:
        self.path = path
        self._hold = hold
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
        """The read-only connection of the calling thread (the file never changes once written).

        One per thread of the bounded request threadpool, reused by its
        requests; its statements are compiled once (the connection's cache).
        """
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
        values = {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
        if maxx <= minx or maxy <= miny:  # a line or a point: every feature met is tested
            found = np.empty(0, dtype="int64")
            edge = conn.execute(_MET, values).fetchall()
        else:
            (inside,) = conn.execute(_INSIDE, values).fetchone()
            found = np.array(orjson.loads(inside), dtype="int64")
            edge = conn.execute(_EDGE, values).fetchall()
        if edge:
            pos, wkbs = zip(*edge, strict=True)
            geoms = shapely.from_wkb(np.array(wkbs, dtype=object))
            # the predicate of the in-memory layers' STRtree query: the box prepared
            box = shapely.box(*bbox)
            shapely.prepare(box)
            hits = shapely.intersects(box, geoms)
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
        rows = self._conn().execute(_ROWS, (orjson.dumps(pos.tolist()),)).fetchall()
        if with_id:
            return [orjson.Fragment(b'{"id":' + orjson.dumps(k) + b"," + b) for k, b in rows]
        return [orjson.Fragment(b"{" + b) for _, b in rows]

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


def _bodies(served: gpd.GeoDataFrame) -> list[bytes]:
    """``features.body`` of each feature of a validated layer in WGS84 (see :data:`_SCHEMA`)."""
    props = [
        orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY) for row in page_properties(served)
    ]
    shapes = shapely.to_geojson(served.geometry.to_numpy()).tolist()
    return [
        b'"type":"Feature","properties":' + p + b',"geometry":' + s.encode() + b"}"
        for p, s in zip(props, shapes, strict=True)
    ]


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
                wgs = served.geometry.to_numpy()
                box = shapely.bounds(wgs)
                pos = np.arange(start, start + len(served)).tolist()
                keys = served[key_column].astype(str).tolist()
                conn.executemany(
                    "INSERT INTO features VALUES (?, ?, ?)",
                    zip(pos, keys, _bodies(served), strict=True),
                )
                conn.executemany(
                    "INSERT INTO shapes VALUES (?, ?)",
                    zip(pos, shapely.to_wkb(wgs).tolist(), strict=True),
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


def _companions(path: Path) -> tuple[Path, Path]:
    """The build lock and the readers' lock of a served file (beside it)."""
    return path.with_name(f"{path.name}.lock"), path.with_name(f"{path.name}.readers")


def _temporaries(path: Path) -> list[Path]:
    """Temporary files of a served file's writes (:func:`foncier.outputs.atomic_write`)."""
    return list(path.parent.glob(f".{glob.escape(path.name)}.tmp-*"))


def _remove_stale(path: Path, pattern: re.Pattern[str]) -> None:
    """Delete the served files named by ``pattern`` but ``path`` that no process holds.

    A file is deleted, with its locks and temporary files, only when this
    process gets both its readers' lock (no process serves it) and its build
    lock (none is writing it).
    """
    for old in sorted(path.parent.iterdir()):
        if old == path or not pattern.fullmatch(old.name):
            continue
        build, readers = _companions(old)
        with contextlib.ExitStack() as stack:
            try:
                held = stack.enter_context(readers.open("a+b"))
                building = stack.enter_context(build.open("a+b"))
            except OSError:  # not ours to delete from here
                continue
            if not (lock_file(held, wait=False) and lock_file(building, wait=False)):
                continue  # served by a running process, or being written
            for f in (old, *_temporaries(old)):
                with contextlib.suppress(OSError):  # Windows: open elsewhere, kept
                    f.unlink()
            if not old.exists():
                for f in (build, readers):
                    f.unlink(missing_ok=True)


def served_path(folder: Path, gpkg: Path, name: str) -> Path:
    """The served file of layer ``name`` of a territory's GeoPackage, in the cache folder.

    ``<folder id>-<layer>-<key>.sqlite`` in ``served/`` beside
    :func:`~foncier.units_cache.cache_folder`: the folder id is a digest of
    the folder's path, the key a digest of the GeoPackage, the layer, the
    file's layout and foncier's version.
    """
    territory = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    key = _file_key(folder, gpkg, name)
    return cache_folder().parent / "served" / f"{territory}-{name}-{key}.sqlite"


def open_file_layer(folder: Path, gpkg: Path, name: str) -> FileLayer:
    """The served file of a layer of a territory's GeoPackage, written when missing.

    One process writes a missing file (under its build lock), the others
    starting at the same time wait for it and read it.  The process then
    holds the file's readers' lock while it serves it, and deletes the
    served files of the same folder and layer left by other versions of the
    GeoPackage (or of foncier) that no process serves any more.

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
        version: a changed GeoPackage gets a new file (:func:`served_path`).
    """
    path = served_path(folder, gpkg, name)
    build, readers = _companions(path)
    while True:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            with build.open("a+b") as building:
                lock_file(building)  # another process writing it: wait for it, then read it
                if not path.is_file():
                    for tmp in _temporaries(path):  # left by a writer that died
                        tmp.unlink(missing_ok=True)
                    atomic_write(path, lambda tmp: _write(gpkg, name, tmp))
        try:
            held = readers.open("a+b")
        except OSError:  # a cache folder this process cannot write to: served, none deleted
            return FileLayer(path)
        lock_file(held, shared=True)
        if path.is_file():
            break
        held.close()  # deleted meanwhile (as stale by another version's process): written again
    # the other keys of the same folder and layer
    prefix = path.name.rsplit("-", 1)[0]
    _remove_stale(path, re.compile(re.escape(prefix) + r"-[0-9a-f]{64}\.sqlite"))
    return FileLayer(path, held)
