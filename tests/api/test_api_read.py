"""Read endpoints: health, territory, layers (bbox, paging), ZAN budgets, land units, OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient

from api.geojson import page_features
from api.models import BudgetTable, FeatureCollection, Health, LayerList, TerritorySummary
from foncier.supply import land_units
from foncier.territory import Territory
from foncier.zan import budget_table


@pytest.fixture(scope="module")
def territory(api_territory) -> Territory:
    return Territory.from_folder(api_territory)


def test_health(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    body = Health.model_validate(r.json())
    assert body.status == "ok"
    assert body.synthetic is True
    assert body.land_units > 0


def test_territory_matches_summary(client: TestClient, territory: Territory) -> None:
    r = client.get("/territory")
    assert r.status_code == 200
    body = TerritorySummary.model_validate(r.json())
    expected = territory.summary()
    assert body.layers["parcels"].features == expected["layers"]["parcels"]["features"]
    assert body.layers["communes"].features == 20
    assert body.projects.count == expected["projects"]["count"] == 131
    assert body.enaf_years == expected["enaf_years"]


def test_layer_list(client: TestClient, territory: Territory) -> None:
    body = LayerList.model_validate(client.get("/layers").json())
    assert {layer.name for layer in body.layers} == set(territory.layers)
    counts = {layer.name: layer.features for layer in body.layers}
    assert counts["parcels"] == len(territory.parcels)


def test_layer_paging_follows_links(client: TestClient, territory: Territory) -> None:
    r = client.get("/layers/communes?limit=8")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    first = FeatureCollection.model_validate(r.json())
    assert first.numberMatched == 20 and first.numberReturned == 8
    rels = {link.rel: link.href for link in first.links}
    assert "next" in rels and "prev" not in rels
    seen = [f.properties["insee"] for f in first.features]
    page = first
    while any(link.rel == "next" for link in page.links):
        nxt = next(link.href for link in page.links if link.rel == "next")
        page = FeatureCollection.model_validate(client.get(nxt).json())
        seen += [f.properties["insee"] for f in page.features]
    assert sorted(seen) == sorted(territory.communes["insee"])
    assert page.numberReturned == 4
    assert any(link.rel == "prev" for link in page.links)


def test_layer_is_wgs84(client: TestClient) -> None:
    body = client.get("/layers/communes?limit=20").json()
    gdf = gpd.GeoDataFrame.from_features(body["features"])
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    assert (coords[:, 0] > -5).all() and (coords[:, 0] < 10).all()
    assert (coords[:, 1] > 41).all() and (coords[:, 1] < 52).all()


def test_layer_bbox_matches_geopandas(client: TestClient, territory: Territory) -> None:
    parcels = territory.parcels.to_crs(4326)
    minx, miny, maxx, maxy = parcels.total_bounds
    box = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    expected = set(parcels.loc[parcels.intersects(shapely.box(*box)), "idu"])
    bbox = ",".join(f"{v:.8f}" for v in box)
    r = client.get(f"/layers/parcels?bbox={bbox}&limit=5000")
    assert r.status_code == 200
    body = FeatureCollection.model_validate(r.json())
    got = {f.properties["idu"] for f in body.features}
    assert 0 < len(got) < len(parcels)
    # the query box is rounded to 1e-8 degrees: allow parcels touching its edge
    assert len(got ^ expected) <= 2
    assert body.numberMatched == len(got)


def test_layer_bbox_outside_territory_is_empty(client: TestClient) -> None:
    body = client.get("/layers/parcels?bbox=-60,-20,-59,-19").json()
    assert body["numberMatched"] == 0 and body["features"] == []


@pytest.mark.parametrize(
    ("bbox", "match"),
    [
        ("1,2,3", "quatre nombres séparés par des virgules"),
        ("a,b,c,d", "quatre nombres séparés par des virgules"),
        ("4.2,44,4.0,44.2", "inversée"),
        ("4,44.3,4.2,44.2", "inversée"),
        ("700000,6300000,710000,6310000", "sort des bornes WGS84"),
        ("nan,1,2,3", "quatre nombres séparés par des virgules"),
    ],
)
def test_layer_bad_bbox_is_422(client: TestClient, bbox: str, match: str) -> None:
    r = client.get(f"/layers/parcels?bbox={bbox}")
    assert r.status_code == 422
    assert match in r.json()["detail"]
    assert r.json()["error"] == "InvalidBBoxError"


def test_unknown_layer_lists_known_ones(client: TestClient) -> None:
    r = client.get("/layers/roads")
    assert r.status_code == 404
    assert "roads" in r.json()["detail"] and "parcels" in r.json()["detail"]


@pytest.mark.parametrize("query", ["limit=0", "limit=5001", "offset=-1"])
def test_layer_bad_paging_is_422(client: TestClient, query: str) -> None:
    assert client.get(f"/layers/parcels?{query}").status_code == 422


@pytest.mark.parametrize("pool", ["commune", "epci", "scot"])
def test_budgets_match_library(client: TestClient, territory: Territory, pool: str) -> None:
    r = client.get(f"/zan/budgets?pool={pool}")
    assert r.status_code == 200
    body = BudgetTable.model_validate(r.json())
    expected = budget_table(territory, pool=pool).set_index("pool_id")
    assert body.pool == pool and body.rules == "climat-resilience-2023"
    assert len(body.rows) == len(expected)
    for row in body.rows:
        assert row.remaining_ha == pytest.approx(expected.loc[row.pool_id, "remaining_ha"])
        assert row.envelope_ha == pytest.approx(expected.loc[row.pool_id, "envelope_ha"])
    assert body.committed_ha == 0.0


def test_budgets_under_a_bill_say_so(client: TestClient) -> None:
    law = BudgetTable.model_validate(client.get("/zan/budgets").json())
    assert law.legal_status_label == "en vigueur" and law.target_period == [2021, 2031]
    r = client.get("/zan/budgets?rules=trace-senat-2025")
    assert r.status_code == 200
    body = BudgetTable.model_validate(r.json())
    assert body.legal_status == "bill"
    assert body.legal_status_label == "proposition de loi, non en vigueur"
    assert body.target_period == [2021, 2034]


def test_budgets_errors(client: TestClient) -> None:
    assert client.get("/zan/budgets?pool=region").status_code == 422
    r = client.get("/zan/budgets?rules=no-such-rules")
    assert r.status_code == 404
    assert "no-such-rules" in r.json()["detail"]
    assert "climat-resilience-2023" in r.json()["detail"]
    # rule set paths are refused: the service never reads a file a client names
    r = client.get("/zan/budgets", params={"rules": "/etc/hostname"})
    assert r.status_code == 404


def test_land_units_filters(client: TestClient, territory: Territory) -> None:
    units = land_units(territory)
    body = FeatureCollection.model_validate(client.get("/land-units?limit=5000").json())
    assert body.numberMatched == len(units)
    big = client.get("/land-units?min_area_ha=5&limit=5000").json()
    assert big["numberMatched"] == int((units["net_area_ha"] >= 5).sum())
    assert all(f["properties"]["net_area_ha"] >= 5 for f in big["features"])
    insee = units["insee"].iloc[0]
    one = client.get(f"/land-units?commune={insee}&limit=5000").json()
    assert one["numberMatched"] == int((units["insee"] == insee).sum())
    friches = client.get("/land-units?origin=friche&limit=5000").json()
    assert friches["numberMatched"] == int((units["origin"] == "friche").sum())
    assert {f["properties"]["origin"] for f in friches["features"]} <= {"friche"}
    assert client.get("/land-units?origin=garden").status_code == 422
    assert client.get("/land-units?min_area_ha=-1").status_code == 422


def test_land_units_are_valid_geojson(client: TestClient) -> None:
    body = client.get("/land-units?limit=3").json()
    gdf = gpd.GeoDataFrame.from_features(body["features"], crs=4326)
    assert len(gdf) == 3 and gdf.is_valid.all()
    assert gdf.total_bounds[1] > 41


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/health",
        "/territory",
        "/layers/{name}",
        "/zan/budgets",
        "/land-units",
        "/projects",
        "/projects/{project_id}",
        "/match/query",
        "/scenarios",
        "/scenarios/compare",
        "/scenarios/{scenario_id}",
        "/scenarios/{scenario_id}/assignments",
        "/scenarios/{scenario_id}/unmatched",
        "/scenarios/{scenario_id}/decisions",
        "/decisions",
        "/maps/territory",
        "/scenarios/{scenario_id}/map",
    ]:
        assert path in paths, path
    body = paths["/projects"]["post"]["requestBody"]["content"]["application/json"]
    assert "examples" in body
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "404" in paths["/layers/{name}"]["get"]["responses"]


def test_page_features_as_geopandas_writes_them(api_territory: Path) -> None:
    territory = Territory.from_folder(api_territory)
    for name, layer in territory.iter_layers():
        page = layer.to_crs("EPSG:4326").iloc[::7].head(60)
        for drop_id in (True, False):
            expected = page.to_geo_dict(na="null", drop_id=drop_id)["features"]
            assert json.dumps(page_features(page, drop_id=drop_id)) == json.dumps(expected), name
