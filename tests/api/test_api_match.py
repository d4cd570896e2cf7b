"""``POST /match/query``: top-k units for one project, checked against the library."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.models import ErrorOut, MatchCandidate, MatchQuery, MatchResponse
from api.tables import records
from foncier.choices import POOL_LEVELS
from foncier.explain import query_project, with_place_names
from foncier.layers import Col
from foncier.projects import project_frame, project_requirements, validate_projects
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


def _slow_answer(ctx: Any, body: MatchQuery) -> tuple[pd.DataFrame, str]:
    """The answer computed from scratch: validation, units, pools and names of every request."""
    project = body.model_dump(exclude={"k", "pool", "rules"}, exclude_none=True)
    validate_projects(project_frame(project), ctx.territory.communes)
    inputs = ctx.inputs(body.pool, body.rules)
    top = query_project(
        project,
        inputs.units,
        inputs.pools.remaining,
        inputs.pools.unit_pool,
        k=body.k,
        pool_names=inputs.pools.names,
        pool_kind=inputs.pools.kind,
        charging=inputs.charging,
    )
    fields = body.model_dump(exclude={"k", "pool", "rules"})
    requirements = project_requirements(pd.DataFrame([{Col.PROJECT_ID: "requête", **fields}]))
    return with_place_names(top, ctx.territory), str(requirements["text"].iloc[0])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_query_gives_the_answer_computed_from_scratch(shared_client: TestClient, data) -> None:
    ctx = shared_client.app.state.context
    communes = sorted(ctx.territory.communes[Col.INSEE])
    area = data.draw(st.floats(0.1, 12.0), label="area_min_ha")
    optional = {
        "area_max_ha": st.floats(area, 30.0),
        "max_slope_pct": st.floats(0.5, 15.0),
        "max_dist_interchange_km": st.floats(0.5, 20.0),
        "earliest_year": st.integers(2024, 2036),
        "preferred_insee": st.sampled_from(communes),
        "jobs": st.integers(0, 500),
        "needs_rail": st.booleans(),
        "seveso": st.booleans(),
        "is_pene": st.booleans(),
        "pool": st.sampled_from(POOL_LEVELS),
    }
    body = {"area_min_ha": area, "k": data.draw(st.integers(1, 50), label="k")}
    for name in data.draw(st.sets(st.sampled_from(sorted(optional))), label="fields"):
        body[name] = data.draw(optional[name], label=name)
    r = shared_client.post("/match/query", json=body)
    assert r.status_code == 200, r.text
    got = MatchResponse.model_validate(r.json())
    expected, requirements = _slow_answer(ctx, MatchQuery(**body))
    assert got.requirements == requirements
    assert got.candidates == [MatchCandidate(**row) for row in records(expected)]


def test_request_threads_bound_the_threadpool(make_client: Any) -> None:
    import anyio.to_thread

    async def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    with make_client(request_threads=3) as client:
        assert client.portal is not None
        assert client.portal.call(tokens) == 3
        assert client.post("/match/query", json={"area_min_ha": 1}).status_code == 200
