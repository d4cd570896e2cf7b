"""The parcels served from their file (api.file_layers) answer as the layer held in memory did.

The reference is the whole parcels layer validated by ``Territory.from_folder``,
reprojected to WGS84 and paged by the in-memory path of :mod:`api.geojson`
(STRtree ``intersects``, ``page_features``): same features, properties,
order, paging, extent and counts, for bboxes inside, on the edges of, around
and away from the parcels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import URL

from api.context import WGS84
from api.file_layers import FileLayer, open_file_layer
from api.geojson import bbox_positions, feature_page
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
        assert got.tolist() == expected.tolist(), bbox
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
    assert np.asarray(bbox_positions(served, _text(bbox))).tolist() == expected.tolist()


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
