"""Bad inputs to the service: one error body, nothing stored, security headers, OpenAPI."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.models import ErrorOut, Project, ProjectList

from .conftest import AUTH

NEW: dict[str, Any] = {
    "project_id": "P-950",
    "name": "Usine",
    "sector": "chimie",
    "area_min_ha": 2.5,
    "area_max_ha": 3.0,
    "jobs": 40,
}


def raw(client: TestClient, method: str, url: str, text: str, auth: bool = True):
    """Send a JSON body as text (``Infinity``, ``NaN`` and ``1e30`` exactly as written)."""
    headers = {"Content-Type": "application/json", **(AUTH if auth else {})}
    return client.request(method, url, content=text.encode(), headers=headers)


def territory_hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


PROJECT_BODIES = [
    ('"area_max_ha": Infinity', 422, "area_max_ha", "nombre fini"),
    ('"area_min_ha": -Infinity', 422, "area_min_ha", "nombre fini"),
    ('"area_min_ha": NaN', 422, "area_min_ha", "nombre fini"),
    ('"jobs": 1e30', 422, "jobs", ""),
    ('"jobs": 200000', 422, "jobs", "maximum plausible"),
    ('"investment_eur": 1e15', 422, "investment_eur", "maximum plausible"),
    ('"investment_eur": Infinity', 422, "investment_eur", "nombre fini"),
    ('"area_min_ha": 1e12, "area_max_ha": 1e12', 422, "area_min_ha", "maximum plausible"),
    ('"area_min_ha": 50000, "area_max_ha": 60000', 422, "area_min_ha", "maximum plausible"),
    ('"max_slope_pct": 1000', 422, "max_slope_pct", "maximum plausible"),
    ('"max_dist_interchange_km": Infinity', 422, "max_dist_interchange_km", "nombre fini"),
    ('"earliest_year": 3000', 422, "earliest_year", "maximum plausible"),
    ('"jobs": "beaucoup"', 422, "jobs", "nombre entier"),
    ('"colour": "red"', 422, "colour", "champ inconnu"),
]


def _body(change: str, base: dict[str, Any] = NEW) -> str:
    import json

    fields = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in base.items())
    return "{" + fields + ", " + change + "}"


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize(("change", "status", "field", "words"), PROJECT_BODIES)
def test_bad_project_is_refused_and_not_stored(
    client: TestClient,
    api_territory: Path,
    method: str,
    change: str,
    status: int,
    field: str,
    words: str,
) -> None:
    before = client.get("/projects").json()
    hashes = territory_hashes(api_territory)
    url = "/projects" if method == "POST" else "/projects/P-001"
    base = NEW if method == "POST" else {k: v for k, v in NEW.items() if k != "project_id"}
    r = raw(client, method, url, _body(change, base))
    assert r.status_code == status, r.text
    body = ErrorOut.model_validate(r.json())
    assert body.field == field and field in body.detail and words in body.detail
    assert body.hint
    # nothing stored: every project reads back as before, and the service still answers
    after = client.get("/projects")
    assert after.status_code == 200 and after.json() == before
    assert client.get("/projects/P-950").status_code == 404
    assert territory_hashes(api_territory) == hashes


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ('"area_min_ha": Infinity', "area_min_ha"),
        ('"area_min_ha": 2, "area_max_ha": NaN', "area_max_ha"),
        ('"area_min_ha": 1e12', "area_min_ha"),
        ('"area_min_ha": 2, "jobs": 1e30', "jobs"),
        ('"area_min_ha": 2, "max_slope_pct": -Infinity', "max_slope_pct"),
    ],
)
def test_bad_match_query_is_422(client: TestClient, change: str, field: str) -> None:
    r = raw(client, "POST", "/match/query", "{" + change + "}", auth=False)
    assert r.status_code == 422, r.text
    body = ErrorOut.model_validate(r.json())
    assert body.field == field and field in body.detail


def test_every_write_route_reads_back(client: TestClient) -> None:
    r = client.post("/projects", json=NEW, headers=AUTH)
    assert r.status_code == 201, r.text
    r = client.put("/projects/P-950", json={**NEW, "jobs": 41}, headers=AUTH)
    assert r.status_code == 200, r.text
    run = client.post("/scenarios", json={"name": "relecture"}, headers=AUTH)
    assert run.status_code == 202, run.text
    sid = run.json()["scenario_id"]
    placed = client.get(f"/scenarios/{sid}/assignments").json()["assignments"]
    decision = {"project_id": placed[0]["project_id"], "decision": "rejected", "author": "GT"}
    r = client.post(f"/scenarios/{sid}/decisions", json=decision, headers=AUTH)
    assert r.status_code == 201, r.text
    listing = ProjectList.model_validate(client.get("/projects").json())
    assert Project.model_validate(client.get("/projects/P-950").json()).jobs == 41
    assert any(p.project_id == "P-950" for p in listing.projects)
    for url in ("/scenarios", f"/scenarios/{sid}", "/decisions", "/zan/budgets"):
        assert client.get(url).status_code == 200, url
    assert client.delete("/projects/P-950", headers=AUTH).status_code == 204
    assert client.get("/projects").status_code == 200


def test_validated_project_cannot_be_deleted(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    sid = client.post("/scenarios", json={"name": "base"}, headers=AUTH).json()["scenario_id"]
    placed = client.get(f"/scenarios/{sid}/assignments").json()["assignments"]
    pid = placed[0]["project_id"]
    body = {"project_id": pid, "decision": "validated", "author": "GT"}
    first = client.post(f"/scenarios/{sid}/decisions", json=body, headers=AUTH).json()
    r = client.delete(f"/projects/{pid}", headers=AUTH)
    assert r.status_code == 409, r.text
    err = ErrorOut.model_validate(r.json())
    assert err.decision_ids == [first["decision_id"]]
    assert str(first["decision_id"]) in err.detail and "ne peut pas être supprimé" in err.detail
    assert client.get(f"/projects/{pid}").status_code == 200
    # once its placement is rejected, the project may go (the log keeps both decisions)
    client.post(f"/scenarios/{sid}/decisions", json={**body, "decision": "rejected"}, headers=AUTH)
    assert client.delete(f"/projects/{pid}", headers=AUTH).status_code == 204
    assert client.get("/decisions").json()["count"] == 2


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "error"),
    [
        ("GET", "/no-such-route", None, 404, "HTTPError"),
        ("DELETE", "/health", None, 405, "HTTPError"),
        ("GET", "/projects/P-nope", None, 404, "NotFoundError"),
        ("GET", "/layers/roads", None, 404, "NotFoundError"),
        ("POST", "/match/query", "not json", 422, "RequestValidationError"),
        ("POST", "/match/query", "[1, 2]", 422, "RequestValidationError"),
        ("POST", "/projects", "{}", 422, "RequestValidationError"),
        ("POST", "/scenarios", '{"objective": "profit"}', 422, "RequestValidationError"),
        ("POST", "/scenarios", '{"time_limit_s": Infinity}', 422, "RequestValidationError"),
        ("POST", "/scenarios", '{"weights": {"slope": NaN}}', 422, "RequestValidationError"),
        ("GET", "/layers/parcels?limit=-3", None, 422, "RequestValidationError"),
    ],
)
def test_every_error_has_the_documented_body(
    client: TestClient, method: str, url: str, body: str | None, status: int, error: str
) -> None:
    if body is None:
        r = client.request(method, url, headers=AUTH)
    else:
        r = raw(client, method, url, body)
    assert r.status_code == status, r.text
    out = ErrorOut.model_validate(r.json())
    assert out.error == error and out.detail and out.hint
    assert set(r.json()) >= {"error", "detail", "hint"}
    assert r.headers["x-content-type-options"] == "nosniff"


def test_internal_error_is_500_with_the_body(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    client.app.state.context.store.list_projects = lambda: 1 / 0  # type: ignore[attr-defined]
    quiet = TestClient(client.app, raise_server_exceptions=False)
    r = quiet.get("/projects")
    assert r.status_code == 500
    out = ErrorOut.model_validate(r.json())
    assert out.error == "InternalError" and "ZeroDivisionError" in out.detail
    assert "Traceback" not in r.text and r.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("url", "html"),
    [("/health", False), ("/projects", False), ("/layers/communes", False), ("/docs", True)],
)
def test_security_headers(client: TestClient, url: str, html: bool) -> None:
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = r.headers["content-security-policy"]
    if html:
        assert "'unsafe-inline'" in csp and r.headers["x-frame-options"] == "SAMEORIGIN"
    else:
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"


def test_body_too_large_has_the_body_and_headers(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=100)
    r = client.post("/projects", json={**NEW, "name": "x" * 200}, headers=AUTH)
    assert r.status_code == 413
    assert ErrorOut.model_validate(r.json()).hint
    assert r.headers["x-content-type-options"] == "nosniff"


def test_openapi_declares_the_error_body_everywhere(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ref = "#/components/schemas/ErrorOut"
    for path, item in doc["paths"].items():
        for method, op in item.items():
            responses = op["responses"]
            assert "500" in responses, (path, method)
            if op.get("parameters") or op.get("requestBody"):
                assert "422" in responses, (path, method)
            if op.get("requestBody"):
                assert "413" in responses, (path, method)
            for code, response in responses.items():
                if code[0] in "45":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": ref}, (path, method, code)
    delete = doc["paths"]["/projects/{project_id}"]["delete"]
    assert "409" in delete["responses"] and "rejected" in delete["description"]
