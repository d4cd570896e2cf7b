"""The parcels served from their file (api.file_layers) answer as the layer held in memory did.

The reference is the whole parcels layer validated by ``Territory.from_folder``,
reprojected to WGS84 and paged by the in-memory path of :mod:`api.geojson`
(STRtree ``intersects``, ``page_features``): same features, properties,
order, paging, extent and counts, for bboxes inside, on the edges of, around
and away from the parcels.  The file is built once by processes starting
together, rebuilt after a builder died, and the files of previous versions
of the GeoPackage are deleted once no process serves them.
"""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import URL

from api.context import WGS84
from api.file_layers import FileLayer, open_file_layer, served_path
from api.geojson import bbox_positions, feature_page, page_features
from foncier.territory import GPKG_NAME, Territory


@pytest.fixture(scope="module")
def territory(api_territory: Path) -> Territory:
    return Territory.from_folder(api_territory)


@pytest.fixture(scope="module")
def reference(territory: Territory) -> gpd.GeoDataFrame:
    """The parcels as the service held them: every one, validated, in WGS84."""
    out = territory.parcels.to_crs(WGS84)
    out.sindex  # noqa: B018
    return out


@pytest.fixture(scope="module")
def served(api_territory: Path) -> FileLayer:
    return open_file_layer(api_territory, api_territory / GPKG_NAME, "parcels")


def _text(bbox: tuple[float, ...]) -> str:
    return ",".join(repr(float(v)) for v in bbox)


def _edge_bboxes(reference: gpd.GeoDataFrame) -> list[tuple[float, ...]]:
    """Bboxes on the parcels' own edges and corners, degenerate ones included."""
    geoms = reference.geometry.to_numpy()
    b = shapely.bounds(geoms[[0, 17, 401]])
    corner = shapely.get_coordinates(geoms[5])[0]
    minx, miny, maxx, maxy = reference.total_bounds
    return [
        tuple(b[0]),  # exactly a parcel's box: it and its neighbours touching it
        (b[1][2], b[1][1], b[1][2] + 1e-3, b[1][3]),  # starts on a parcel's right edge
        (b[2][0], b[2][1], b[2][0], b[2][3]),  # zero width, on a parcel's left edge
        (corner[0], corner[1], corner[0], corner[1]),  # one vertex shared by parcels
        (minx, miny, maxx, maxy),  # the layer's extent
        (minx - 1, miny - 1, minx - 1e-9, maxy + 1),  # just west of every parcel
        (maxx, maxy, maxx + 0.5, maxy + 0.5),  # touching the north-east corner
        (-180.0, -90.0, 180.0, 90.0),  # the whole earth
        (0.0, 0.0, 1.0, 1.0),  # away from the territory
    ]


def test_served_file_counts_and_extent(
    served: FileLayer, reference: gpd.GeoDataFrame, territory: Territory
) -> None:
    assert served.count == len(reference) == 3455  # the sample of 3,000 parcels asked
    assert served.bounds == tuple(float(v) for v in reference.total_bounds)
    assert served.area_m2 == pytest.approx(float(territory.parcels.area.sum()), rel=1e-12)
    assert served.id_column == "idu"


def test_bbox_positions_on_edges_and_away(served: FileLayer, reference: gpd.GeoDataFrame) -> None:
    counts = []
    for bbox in _edge_bboxes(reference):
        expected = bbox_positions(reference, _text(bbox))
        got = np.asarray(bbox_positions(served, _text(bbox)))
        assert got.tolist() == np.asarray(expected).tolist(), bbox
        counts.append(len(got))
    # the cases are what they say: neighbours touching, a line, a shared vertex, every
    # parcel, none west of them, every parcel, none away
    assert counts[0] > 1 and counts[1] > 1 and counts[2] > 1 and counts[3] > 1
    assert counts[4] == counts[7] == len(reference)
    assert counts[5] == 0 and counts[8] == 0
    assert len(bbox_positions(served, "0,0,1,1")) == 0
    assert list(bbox_positions(served, None)) == list(range(len(reference)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    x=st.floats(-0.05, 1.05),
    y=st.floats(-0.05, 1.05),
    w=st.floats(0.0, 0.4),
    h=st.floats(0.0, 0.4),
)
def test_bbox_positions_as_the_strtree(
    served: FileLayer, reference: gpd.GeoDataFrame, x: float, y: float, w: float, h: float
) -> None:
    minx, miny, maxx, maxy = reference.total_bounds
    sx, sy = maxx - minx, maxy - miny
    bbox = (minx + x * sx, miny + y * sy, minx + (x + w) * sx, miny + (y + h) * sy)
    expected = bbox_positions(reference, _text(bbox))
    assert np.asarray(bbox_positions(served, _text(bbox))).tolist() == np.asarray(expected).tolist()


def _without_time(page: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in page.items() if k != "timeStamp"}


def _expected_page(
    reference: gpd.GeoDataFrame, url: str, bbox: str | None, limit: int, offset: int, **kw: Any
) -> dict[str, Any]:
    positions = bbox_positions(reference, bbox)
    page = feature_page(reference, positions, limit=limit, offset=offset, url=URL(url), **kw)
    return _without_time(json.loads(json.dumps(page)))


def test_layer_pages_as_before(
    client: TestClient, reference: gpd.GeoDataFrame, served: FileLayer
) -> None:
    bboxes: list[str | None] = [None, *(_text(b) for b in _edge_bboxes(reference))]
    for bbox in bboxes:
        matched = len(bbox_positions(reference, bbox))
        for limit, offset in [(100, 0), (7, 0), (7, 7), (5000, 0), (3, max(matched - 2, 0))]:
            query = f"limit={limit}&offset={offset}" + (f"&bbox={bbox}" if bbox else "")
            url = f"http://testserver/layers/parcels?{query}"
            r = client.get(url)
            assert r.status_code == 200, r.text
            assert b"NaN" not in r.content
            body = json.loads(r.content)
            assert _without_time(body) == _expected_page(reference, url, bbox, limit, offset)
            assert r.headers["X-Total-Count"] == str(matched)
    # past the last feature: an empty page that still counts them all
    r = client.get(f"/layers/parcels?offset={len(reference)}&limit=10")
    assert r.json()["features"] == [] and r.json()["numberMatched"] == len(reference)


def test_collection_items_extent_and_item_as_before(
    client: TestClient, reference: gpd.GeoDataFrame
) -> None:
    collections = {c["id"]: c for c in client.get("/collections").json()["collections"]}
    bbox = collections["parcels"]["extent"]["spatial"]["bbox"][0]
    assert bbox == [float(v) for v in reference.total_bounds]
    assert client.get("/collections/parcels").json()["extent"]["spatial"]["bbox"][0] == bbox
    text = _text(_edge_bboxes(reference)[0])
    url = f"http://testserver/collections/parcels/items?bbox={text}&limit=4&offset=1"
    body = client.get(url).json()
    expected = _expected_page(reference, url, text, 4, 1, id_column="idu")
    body["links"] = body["links"][:-1]  # the collection link the route adds
    assert _without_time(body) == expected
    idu = str(reference["idu"].iloc[1234])
    item = client.get(f"/collections/parcels/items/{idu}").json()
    row = reference.iloc[[1234]].set_index(reference["idu"].iloc[[1234]].astype(str).to_numpy())
    feature = json.loads(json.dumps(row.to_geo_dict(na="null", drop_id=False)["features"][0]))
    assert {k: v for k, v in item.items() if k != "links"} == feature
    assert client.get("/collections/parcels/items/inconnue").status_code == 404


def test_counts_on_the_whole_layer(client: TestClient, territory: Territory) -> None:
    layers = {la["name"]: la["features"] for la in client.get("/layers").json()["layers"]}
    assert layers["parcels"] == len(territory.parcels)
    summary = client.get("/territory").json()["layers"]
    expected = territory.summary()["layers"]
    assert summary.keys() == expected.keys()
    for name, entry in expected.items():  # the answer's model writes a missing area as null
        assert summary[name] == {"area_ha": None, **entry}, name


def test_stored_features_are_the_in_memory_ones(
    served: FileLayer, reference: gpd.GeoDataFrame
) -> None:
    """Every stored feature text, with and without its id, parses to ``page_features``."""
    positions = np.arange(len(reference))[::-1]  # in the order asked, not the file's
    got = json.loads(orjson.dumps(served.features(positions, with_id=False)))
    assert len(got) == len(reference)
    page = reference.iloc[positions]
    assert got == json.loads(json.dumps(page_features(page)))
    keyed = page.set_index(page["idu"].astype(str).to_numpy())
    with_id = served.features(positions[:50], with_id=True)
    expected = json.loads(json.dumps(page_features(keyed.iloc[:50], drop_id=False)))
    assert json.loads(orjson.dumps(with_id)) == expected
    assert served.features(np.array([], dtype="int64"), with_id=True) == []


def _territory_copy(api_territory: Path, folder: Path) -> Path:
    shutil.copytree(api_territory, folder)
    return folder


def _new_version(gpkg: Path, text: str) -> None:
    """Change the GeoPackage's bytes, not its features (another version of the file)."""
    with sqlite3.connect(gpkg) as conn:
        conn.execute("UPDATE gpkg_contents SET description = ?", (text,))
    conn.close()


_BUILDER = """
import sys, time
from pathlib import Path
import api.file_layers as fl

folder, log, pause = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
write = fl._write

def logged(gpkg, name, path):
    with log.open("a") as f:
        f.write(f"start {path.name}\\n")
    write(gpkg, name, path)  # the temporary file is complete: a killed builder leaves it
    time.sleep(pause)
    with log.open("a") as f:
        f.write("end\\n")

fl._write = logged
layer = fl.open_file_layer(folder, folder / "territory.gpkg", "parcels")
print(layer.count, layer.path.name)
"""


def _builders(folder: Path, cache: Path, log: Path, pause: float, n: int) -> list[Any]:
    env = {**__import__("os").environ, "FONCIER_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-c", _BUILDER, str(folder), str(log), str(pause)]
    return [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(n)]


def test_workers_starting_together_build_the_file_once(api_territory: Path, tmp_path: Path) -> None:
    folder = _territory_copy(api_territory, tmp_path / "territory")
    log = tmp_path / "builds.log"
    procs = _builders(folder, tmp_path / "cache", log, 1.0, 3)
    outputs = [p.communicate(timeout=300)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    # one build; the two others waited for it and read it
    assert log.read_text().splitlines()[1:] == ["end"]
    assert len({tuple(o) for o in outputs}) == 1 and outputs[0][0] == "3455"
    served = (tmp_path / "cache" / "served").iterdir()
    assert sorted(p.name.split(".", 1)[1] for p in served) == [
        "sqlite",
        "sqlite.lock",
        "sqlite.readers",
    ]


def test_a_builder_that_died_leaves_no_lock(
    api_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _territory_copy(api_territory, tmp_path / "territory")
    cache = tmp_path / "cache"
    log = tmp_path / "builds.log"
    (proc,) = _builders(folder, cache, log, 600.0, 1)
    deadline = time.monotonic() + 300
    while not (log.is_file() and log.read_text().count("\n") == 1):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    while (time.monotonic() < deadline) and not list((cache / "served").glob(".*.tmp-*")):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.kill()  # holding the build lock, its temporary file written
    proc.wait()
    leftovers = list((cache / "served").glob(".*.tmp-*"))
    assert leftovers
    monkeypatch.setenv("FONCIER_CACHE_DIR", str(cache))
    layer = open_file_layer(folder, folder / "territory.gpkg", "parcels")  # does not wait
    assert layer.count == 3455 and layer.path.is_file()
    assert not [p for p in leftovers if p.exists()]


def test_previous_versions_are_deleted_once_unused(
    api_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FONCIER_CACHE_DIR", str(tmp_path / "cache"))
    folder = _territory_copy(api_territory, tmp_path / "territory")
    other = _territory_copy(api_territory, tmp_path / "other")
    gpkg = folder / "territory.gpkg"
    first = open_file_layer(folder, gpkg, "parcels")
    of_other = open_file_layer(other, other / "territory.gpkg", "parcels").path
    del_me = first.path
    served = del_me.parent
    # what foncier did not write, or cannot tell is of this folder: never deleted
    foreign = [
        served / "notes.txt",
        served / f"{'0' * 64}.sqlite",  # an older layout's name, of no known folder
        served / f"{del_me.name.split('-')[0]}-parcels-{'0' * 63}.sqlite",
        served / f"{del_me.name}.bak",
    ]
    for f in foreign:
        f.write_text("gardé")
    _new_version(gpkg, "v2")
    second = open_file_layer(folder, gpkg, "parcels")
    assert second.path != del_me and second.path == served_path(folder, gpkg, "parcels")
    assert del_me.is_file()  # still served by this process (``first``)
    assert orjson.dumps(first.features(np.array([0]), with_id=False)) == orjson.dumps(
        second.features(np.array([0]), with_id=False)
    )
    del first
    gc.collect()  # the first layer no longer served: its readers' lock released
    _new_version(gpkg, "v3")
    third = open_file_layer(folder, gpkg, "parcels")
    left = sorted(p.name for p in served.iterdir())
    assert not del_me.exists()
    assert not any(name.startswith(del_me.name + ".") for name in left if "bak" not in name)
    assert second.path.is_file()  # served by this process: kept
    del second
    gc.collect()
    open_file_layer(folder, gpkg, "parcels")  # the same version again: nothing to delete but v2
    assert sorted(p.name for p in served.iterdir() if p.suffix == ".sqlite") == sorted(
        [third.path.name, of_other.name, foreign[1].name, foreign[2].name]
    )
    assert all(f.read_text() == "gardé" for f in foreign)


def test_a_served_file_in_a_read_only_cache_is_served(
    api_territory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FONCIER_CACHE_DIR", str(tmp_path / "cache"))
    gpkg = api_territory / GPKG_NAME
    built = open_file_layer(api_territory, gpkg, "parcels").path
    # its locks where nothing can be written (as a read-only cache folder)
    nowhere = tmp_path / "absent"
    monkeypatch.setattr(
        "api.file_layers._companions", lambda p: (nowhere / "a.lock", nowhere / "a.readers")
    )
    layer = open_file_layer(api_territory, gpkg, "parcels")
    assert layer.path == built and layer.count == 3455
    assert len(bbox_positions(layer, None)) == 3455
