"""OGC API – Features on the service: landing page, collections, items paging, GDAL's OAPIF."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from api.routers.features import CONFORMANCE, CRS84, MAX_ITEMS
from api.settings import Settings
from foncier.territory import Territory
from tests.conftest import serve_in_thread

from .conftest import AUTH


@pytest.fixture(scope="module")
def territory(api_territory: Path) -> Territory:
    return Territory.from_folder(api_territory)


@pytest.fixture(scope="module")
def placements_id(shared_client: TestClient) -> str:
    r = shared_client.post("/scenarios", json={"name": "emplois"}, headers=AUTH)
    assert r.status_code == 202, r.text
    scenario_id = r.json()["scenario_id"]
    assert shared_client.get(f"/scenarios/{scenario_id}").json()["status"] == "done"
    return f"placements-{scenario_id}"


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs("EPSG:4326")


def test_landing_page_links(client: TestClient) -> None:
    page = client.get("/").json()
    rels = {link["rel"]: link for link in page["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["data"]["href"].endswith("/collections")
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert client.get(rels["service-desc"]["href"]).status_code == 200
    assert client.get(rels["conformance"]["href"]).json()["conformsTo"] == CONFORMANCE


def test_collections_declare_extent_and_crs(client: TestClient, territory: Territory) -> None:
    body = client.get("/collections").json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert set(by_id) == {*territory.layers, "land_units"}
    parcels = by_id["parcels"]
    assert parcels["crs"] == [CRS84]
    assert parcels["extent"]["spatial"]["crs"] == CRS84
    np.testing.assert_allclose(
        parcels["extent"]["spatial"]["bbox"][0], _wgs84(territory.parcels).total_bounds
    )
    items = next(link for link in parcels["links"] if link["rel"] == "items")
    assert items["type"] == "application/geo+json"
    assert client.get("/collections/parcels").json() == parcels


def test_items_paging_covers_the_layer(client: TestClient, territory: Territory) -> None:
    url: str | None = "/collections/parcels/items?limit=1000"
    ids: list[str] = []
    pages = 0
    while url is not None:
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/geo+json"
        body = r.json()
        assert body["numberMatched"] == len(territory.parcels)
        assert body["numberReturned"] == len(body["features"])
        assert r.headers["X-Total-Count"] == str(len(territory.parcels))
        assert body["timeStamp"].endswith("Z")
        ids += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert ("prev" in links) == (pages > 0)
        url = links.get("next")
        assert ("Link" in r.headers) == (url is not None or pages > 0)
        pages += 1
    assert pages == -(-len(territory.parcels) // 1000)
    assert sorted(ids) == sorted(territory.parcels["idu"].astype(str))


def test_items_bbox_matches_geopandas(client: TestClient, territory: Territory) -> None:
    parcels = _wgs84(territory.parcels)
    x0, y0, x1, y1 = parcels.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    expected = int(parcels.intersects(shapely.box(*box)).sum())
    bbox = ",".join(f"{v:.6f}" for v in box)
    body = client.get(f"/collections/parcels/items?bbox={bbox}&limit=10").json()
    assert 0 < expected < len(parcels)
    assert body["numberMatched"] == expected
    assert body["numberReturned"] == min(10, expected)
    assert all("bbox=" in link["href"] for link in body["links"] if link["rel"] == "next")


def test_item_by_id(client: TestClient, territory: Territory) -> None:
    parcel = territory.parcels.iloc[7]
    r = client.get(f"/collections/parcels/items/{parcel['idu']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    assert feature["id"] == parcel["idu"]
    assert feature["properties"]["contenance_m2"] == parcel["contenance_m2"]
    expected = _wgs84(territory.parcels.iloc[[7]]).geometry.iloc[0]
    assert shapely.geometry.shape(feature["geometry"]).equals_exact(expected, 1e-9)


@pytest.mark.parametrize(
    "path",
    ["/collections/parcels/items/nope", "/collections/rivers", "/collections/rivers/items"],
)
def test_unknown_collection_or_feature_is_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "NotFoundError"
    assert "GET /collections" in body["detail"] or "pas d'objet « nope »" in body["detail"]


def test_items_limit_has_a_maximum(client: TestClient) -> None:
    assert client.get(f"/collections/parcels/items?limit={MAX_ITEMS}").status_code == 200
    r = client.get(f"/collections/parcels/items?limit={MAX_ITEMS + 1}")
    assert r.status_code == 422
    limit = client.get("/openapi.json").json()["paths"]["/collections/{collection_id}/items"]
    schema = next(p for p in limit["get"]["parameters"] if p["name"] == "limit")["schema"]
    assert schema["maximum"] == MAX_ITEMS


def test_layers_page_says_it_is_partial(client: TestClient, territory: Territory) -> None:
    r = client.get("/layers/parcels")
    body = r.json()
    assert body["numberReturned"] == 100 < body["numberMatched"] == len(territory.parcels)
    assert r.headers["X-Total-Count"] == str(len(territory.parcels))
    assert r.headers["X-Number-Returned"] == "100"
    assert re.search(r'<[^>]*offset=100[^>]*>; rel="next"', r.headers["Link"])
    whole = client.get(f"/layers/infrastructure?limit={len(territory.infrastructure)}")
    assert "Link" not in whole.headers
    assert whole.json()["numberReturned"] == len(territory.infrastructure)


def test_scenario_placements_collection(shared_client: TestClient, placements_id: str) -> None:
    ids = [c["id"] for c in shared_client.get("/collections").json()["collections"]]
    assert placements_id in ids
    scenario_id = placements_id.removeprefix("placements-")
    collection = shared_client.get(f"/collections/{placements_id}").json()
    assert collection["title"] == "Implantations du scénario « emplois »"
    assert collection["description"] == (
        f"Projets implantés par le scénario {scenario_id} : nom du projet, secteur, emplois, "
        "surface, coût ZAN et explication, sur le polygone de l'unité foncière"
    )
    assigned = shared_client.get(f"/scenarios/{scenario_id}/assignments").json()
    body = shared_client.get(f"/collections/{placements_id}/items").json()
    assert body["numberMatched"] == assigned["count"] > 0
    feature = body["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {"name", "sector", "jobs", "zan_cost", "explanation"} <= set(feature["properties"])
    one = shared_client.get(f"/collections/{placements_id}/items/{feature['id']}").json()
    assert one["properties"]["project_id"] == feature["id"]


def test_unfinished_scenario_is_not_a_collection(client: TestClient) -> None:
    r = client.get("/collections/placements-S-0-none/items")
    assert r.status_code == 404


# -- GDAL's OAPIF driver against a running service -------------------------------------------


@pytest.fixture(scope="module")
def served(api_territory: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on 127.0.0.1, in a thread, for GDAL."""
    settings = Settings(territory=api_territory, state_dir=tmp_path_factory.mktemp("ogr"))
    with serve_in_thread(settings) as url:
        yield url + "/"


_OGRINFO = shutil.which("ogrinfo")
needs_ogrinfo = pytest.mark.skipif(
    _OGRINFO is None, reason="ogrinfo not installed (Debian: apt-get install gdal-bin)"
)


def _ogrinfo(*args: str) -> str:
    assert _OGRINFO is not None
    done = subprocess.run(
        [_OGRINFO, "-ro", *args], capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout


@needs_ogrinfo
def test_ogrinfo_reads_the_whole_layer(served: str, territory: Territory) -> None:
    summary = _ogrinfo("-so", f"OAPIF:{served}", "parcels")
    count = int(re.search(r"Feature Count: (\d+)", summary).group(1))  # type: ignore[union-attr]
    assert count == len(territory.parcels)
    extent = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", summary)
    assert extent is not None
    bounds = _wgs84(territory.parcels).total_bounds
    np.testing.assert_allclose([float(v) for v in extent.groups()], bounds, atol=1e-5)
    # reading every feature: GDAL follows the next links, page after page
    features = _ogrinfo("-q", "-oo", "PAGE_SIZE=1000", f"OAPIF:{served}", "parcels")
    assert features.count("OGRFeature(parcels)") == len(territory.parcels)


@needs_ogrinfo
def test_ogrinfo_lists_every_collection(served: str, territory: Territory) -> None:
    listing = _ogrinfo(f"OAPIF:{served}")
    names = re.findall(r"^\d+: (\S+)", listing, flags=re.MULTILINE)
    assert names == [*territory.layers, "land_units"]
