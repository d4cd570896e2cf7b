"""``POST /match/query``: top-k units for one project, checked against the library."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.models import SCENARIO_CLAIM_FIELDS, ErrorOut, MatchCandidate, MatchQuery, MatchResponse
from api.state import StateStore
from api.tables import records
from foncier.choices import POOL_LEVELS
from foncier.explain import query_project, with_place_names
from foncier.layers import Col
from foncier.projects import project_frame, project_requirements, validate_projects
from foncier.scenarios import ScenarioResult, query_claims
from foncier.supply import land_units
from foncier.territory import Territory
from foncier.zan import budget_table, pool_ids

from .conftest import AUTH

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


# -- what a finished scenario already takes (scenario_id) ----------------------------


def _scenario(client: TestClient, **body: Any) -> str:
    r = client.post("/scenarios", json=body, headers=AUTH)
    assert r.status_code == 202, r.text
    # TestClient runs background tasks before returning: the run is over
    done = client.get(f"/scenarios/{r.json()['scenario_id']}").json()
    assert done["status"] == "done", done["error"]
    return str(done["scenario_id"])


@pytest.fixture(scope="module")
def scenario_id(shared_client: TestClient) -> str:
    return _scenario(shared_client, name="emplois")


def _claims_expected(ctx: Any, body: dict[str, Any], scenario_id: str) -> list[dict[str, Any]]:
    """The answer's claim fields computed by the library from the same scenario result."""
    query = MatchQuery(**body)
    top, _ = _slow_answer(ctx, query)
    result = ScenarioResult.from_folder(ctx.store.get_scenario(scenario_id).result_dir)
    claims = query_claims(
        top,
        result,
        ctx.inputs(query.pool, query.rules),
        supply=ctx.data.units,
        area_ha=query.area_min_ha,
    )
    return [{f: row[f] for f in SCENARIO_CLAIM_FIELDS} for row in records(claims)]


@pytest.mark.parametrize("pool", ["commune", "epci"])
def test_query_says_what_a_scenario_already_takes(
    shared_client: TestClient, scenario_id: str, pool: str
) -> None:
    body = {"area_min_ha": 1.0, "k": 12, "pool": pool, "scenario_id": scenario_id}
    r = shared_client.post("/match/query", json=body)
    assert r.status_code == 200, r.text
    got = MatchResponse.model_validate(r.json())
    name = shared_client.get(f"/scenarios/{scenario_id}").json()["name"]
    assert (got.scenario_id, got.scenario_name) == (scenario_id, name)
    # the same candidates as without the scenario, each with the library's claims
    without = shared_client.post("/match/query", json={**body, "scenario_id": None}).json()
    assert {k: v for k, v in r.json().items() if k not in ("candidates", "scenario_id")} == {
        k: v for k, v in without.items() if k != "candidates"
    } | {"scenario_name": name}
    assert [
        {k: v for k, v in c.items() if k not in SCENARIO_CLAIM_FIELDS}
        for c in r.json()["candidates"]
    ] == without["candidates"]
    expected = _claims_expected(shared_client.app.state.context, body, scenario_id)
    assert [{f: c[f] for f in SCENARIO_CLAIM_FIELDS} for c in r.json()["candidates"]] == expected

    # hand check against the scenario's placements, as a planner would read them
    placed = shared_client.get(f"/scenarios/{scenario_id}/assignments").json()["assignments"]
    claimed = 0
    for c in got.candidates:
        mine = [a for a in placed if a["unit_id"] == c.unit_id]
        assert c.scenario_name == name
        assert c.scenario_projects == ";".join(sorted(a["project_id"] for a in mine))
        assert c.scenario_area_ha == pytest.approx(sum(a["area_ha"] for a in mine))
        assert c.room_after_scenario_ha == pytest.approx(c.net_area_ha - c.scenario_area_ha)
        assert c.budget_left_after_scenario_ha is not None
        assert c.budget_left_after_scenario_ha <= c.budget_left_before_ha + 1e-9
        fits = (
            c.room_after_scenario_ha >= 1.0 - 1e-6
            and c.enaf_ha <= max(c.budget_left_after_scenario_ha, 0.0) + 1e-6
        )
        assert c.fits_after_scenario is fits
        assert c.scenario_claim is not None
        assert c.scenario_claim.startswith(f"le scénario « {name} » ")
        assert "encore" not in c.scenario_claim
        claimed += bool(mine) or c.budget_left_after_scenario_ha < c.budget_left_before_ha
    assert claimed > 0  # the scenario does take land or budget among these units


def test_query_without_scenario_has_no_scenario_fields(shared_client: TestClient) -> None:
    r = shared_client.post("/match/query", json=QUERY)
    assert set(r.json()) == {"requirements", "pool", "rules", "candidates"}
    assert r.json()["candidates"]
    for c in r.json()["candidates"]:
        assert not set(c) & set(SCENARIO_CLAIM_FIELDS)


def test_query_with_scenario_and_nothing_fitting(shared_client: TestClient, scenario_id: str):
    r = shared_client.post("/match/query", json={"area_min_ha": 5000, "scenario_id": scenario_id})
    assert r.status_code == 200, r.text
    assert r.json()["candidates"] == [] and r.json()["scenario_id"] == scenario_id


def test_query_scenario_placements_validated_since_count_once(
    make_client: Any,
) -> None:
    client = make_client()
    sid = _scenario(client, name="base")
    placed = client.get(f"/scenarios/{sid}/assignments").json()["assignments"]
    target = max(placed, key=lambda a: a["enaf_ha"])
    decision = {"project_id": target["project_id"], "decision": "validated", "author": "GT"}
    r = client.post(f"/scenarios/{sid}/decisions", json=decision, headers=AUTH)
    assert r.status_code == 201, r.text
    body = {"area_min_ha": 0.5, "k": 50, "scenario_id": sid}
    got = client.post("/match/query", json=body).json()["candidates"]
    expected = _claims_expected(client.app.state.context, body, sid)
    assert [{f: c[f] for f in SCENARIO_CLAIM_FIELDS} for c in got] == expected
    assert all(target["project_id"] not in c["scenario_projects"].split(";") for c in got)


def test_query_scenario_errors(shared_client: TestClient, scenario_id: str, tmp_path) -> None:
    r = shared_client.post("/match/query", json={**QUERY, "scenario_id": "S-inconnu"})
    assert r.status_code == 404
    error = ErrorOut.model_validate(r.json())
    assert error.detail == "scénario inconnu « S-inconnu » ; voir la liste sous GET /scenarios"

    store = shared_client.app.state.context.store
    queued = store.add_scenario("en attente", {})
    r = shared_client.post("/match/query", json={**QUERY, "scenario_id": queued.scenario_id})
    assert r.status_code == 409 and "en attente" in ErrorOut.model_validate(r.json()).detail
    store.set_scenario_status(queued.scenario_id, "failed", error="boom")
    r = shared_client.post("/match/query", json={**QUERY, "scenario_id": queued.scenario_id})
    assert r.status_code == 409 and "boom" in ErrorOut.model_validate(r.json()).detail

    # a result of another land supply: its units are not the service's
    result = ScenarioResult.from_folder(store.get_scenario(scenario_id).result_dir)
    other = replace(result, assignments=result.assignments.assign(unit_id="U-99999"))
    stray = store.add_scenario("ailleurs", {})
    folder = other.to_folder(tmp_path / stray.scenario_id)
    store.set_scenario_status(stray.scenario_id, "done", summary={}, result_dir=str(folder))
    r = shared_client.post("/match/query", json={**QUERY, "scenario_id": stray.scenario_id})
    assert r.status_code == 400
    assert ErrorOut.model_validate(r.json()).detail == (
        f"le scénario « {result.audit['name']} » ({stray.scenario_id}) place des projets sur "
        "des unités foncières que ce territoire n'a pas (U-99999) : il a été calculé sur une "
        "autre offre foncière ; recalculez-le sur ce territoire"
    )
    r = shared_client.post("/match/query", json={**QUERY, "scenario_id": "x" * 101})
    assert r.status_code == 422


def test_query_inputs_are_prepared_once_per_decision_log_version(make_client: Any) -> None:
    client = make_client()
    ctx = client.app.state.context
    body = {"area_min_ha": 1.0, "k": 50}
    before = client.post("/match/query", json=body).json()["candidates"]
    prepared = ctx.current_query_inputs("commune", None)
    assert prepared is not None and prepared.version == ctx.store.decisions_version() == 0
    assert client.post("/match/query", json=body).json()["candidates"] == before
    assert ctx.current_query_inputs("commune", None) is prepared
    assert ctx.current_query_inputs("epci", None) is None  # each pool level its own

    # a placement validated through another worker: written by another connection to the
    # database every worker shares
    target = next(c for c in before if c["enaf_ha"] > 0)
    other = StateStore(ctx.store.folder)
    project = other.list_projects()[0][Col.PROJECT_ID]
    other.add_decision(
        scenario_id=other.add_scenario("ailleurs", {}).scenario_id,
        project_id=project,
        unit_id=target["unit_id"],
        insee=target["insee"],
        decision="validated",
        area_ha=1.0,
        enaf_ha=target["enaf_ha"],
        author="GT",
        comment="",
    )
    other.close()
    assert ctx.current_query_inputs("commune", None) is None  # stale: prepared again
    after = {c["unit_id"]: c for c in client.post("/match/query", json=body).json()["candidates"]}
    fresh = ctx.current_query_inputs("commune", None)
    assert fresh is not None and fresh is not prepared and fresh.version == 1
    unit = after[target["unit_id"]]
    assert unit["net_area_ha"] == pytest.approx(target["net_area_ha"] - 1.0)
    assert unit["budget_left_before_ha"] == pytest.approx(
        target["budget_left_before_ha"] - target["enaf_ha"]
    )
    for c in before:  # every unit of the same pool sees the budget taken, the others do not
        if c["unit_id"] in after:
            taken = target["enaf_ha"] if c["pool_id"] == target["pool_id"] else 0.0
            assert after[c["unit_id"]]["budget_left_before_ha"] == pytest.approx(
                c["budget_left_before_ha"] - taken
            )
