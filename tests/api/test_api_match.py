"""``POST /match/query``: top-k units for one project, checked against the library."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.models import ErrorOut, MatchResponse
from foncier.explain import query_project
from foncier.supply import land_units
from foncier.territory import Territory
from foncier.zan import budget_table, pool_ids

QUERY: dict[str, Any] = {"area_min_ha": 2.5, "max_slope_pct": 6, "max_dist_interchange_km": 8}


def test_query_matches_library(client: TestClient, api_territory) -> None:
    r = client.post("/match/query", json={**QUERY, "k": 4})
    assert r.status_code == 200, r.text
    body = MatchResponse.model_validate(r.json())
    assert body.requirements.startswith("surface ≥ 2,5 ha")
    assert "pente ≤ 6 %" in body.requirements

    territory = Territory.from_folder(api_territory)
    units = land_units(territory)
    budgets = budget_table(territory, pool="commune").set_index("pool_id")
    pools = pool_ids(territory.communes, "commune")
    unit_pool = pools.reindex(units["insee"]).set_axis(units["unit_id"])
    expected = query_project(QUERY, units, budgets["remaining_ha"], unit_pool, k=4)
    assert [c.unit_id for c in body.candidates] == expected["unit_id"].tolist()
    assert [c.score for c in body.candidates] == pytest.approx(expected["score"].tolist())
    assert [c.rank for c in body.candidates] == [1, 2, 3, 4]


def test_query_order_and_requirements(client: TestClient) -> None:
    body = MatchResponse.model_validate(client.post("/match/query", json=QUERY).json())
    assert 0 < len(body.candidates) <= 5
    ok = [c.zan_ok for c in body.candidates]
    assert ok == sorted(ok, reverse=True)
    for flag in (True, False):
        scores = [c.score for c in body.candidates if c.zan_ok is flag]
        assert scores == sorted(scores, reverse=True)
    units = client.get("/land-units?limit=5000").json()["features"]
    props = {f["properties"]["unit_id"]: f["properties"] for f in units}
    for c in body.candidates:
        unit = props[c.unit_id]
        assert unit["net_area_ha"] >= 2.5
        assert unit["slope_mean_pct"] is None or unit["slope_mean_pct"] <= 6
        assert c.enaf_ha == pytest.approx(2.5 * (unit["enaf_share"] or 0), abs=1e-6) or (
            unit["is_friche"] and c.enaf_ha == 0
        )
        assert c.explanation.startswith("score")


def test_query_impossible_project_is_empty(client: TestClient) -> None:
    r = client.post("/match/query", json={"area_min_ha": 5000})
    assert r.status_code == 200
    assert r.json()["candidates"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"area_min_ha": -1}, "area_min_ha"),
        ({"area_min_ha": 0}, "area_min_ha"),
        ({"area_min_ha": 3, "area_max_ha": 1}, "area_min_ha"),
        ({"area_min_ha": 3, "max_slope_pct": -2}, "max_slope_pct"),
        ({"area_min_ha": 3, "preferred_insee": "12345"}, "preferred_insee"),
    ],
)
def test_query_invalid_values_are_422(client: TestClient, body: dict, field: str) -> None:
    r = client.post("/match/query", json=body)
    assert r.status_code == 422, r.text
    assert ErrorOut.model_validate(r.json()).field == field


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"max_slope_pct": 5},
        {"area_min_ha": "big"},
        {"area_min_ha": 2, "k": 0},
        {"area_min_ha": 2, "k": 51},
        {"area_min_ha": 2, "pool": "region"},
        {"area_min_ha": 2, "colour": "red"},
    ],
)
def test_query_malformed_body_is_422(client: TestClient, body: dict) -> None:
    r = client.post("/match/query", json=body)
    assert r.status_code == 422
    if "area_min_ha" not in body:
        assert any("area_min_ha" in e["loc"] for e in r.json()["errors"])


def test_query_unknown_rules_is_404(client: TestClient) -> None:
    r = client.post("/match/query", json={**QUERY, "rules": "loi-2040"})
    assert r.status_code == 404


@pytest.mark.parametrize("pool", ["epci", "scot"])
def test_query_pooled(client: TestClient, pool: str) -> None:
    body = MatchResponse.model_validate(
        client.post("/match/query", json={**QUERY, "pool": pool}).json()
    )
    assert body.pool == pool and body.candidates
