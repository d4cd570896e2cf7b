"""Projects CRUD, validation with the library's rules, write protection, body limit, persistence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.models import ErrorOut, Project, ProjectList

from .conftest import AUTH, TOKEN

NEW: dict[str, Any] = {
    "project_id": "P-900",
    "name": "Usine de recyclage",
    "sector": "chimie",
    "area_min_ha": 2.5,
    "area_max_ha": 3.0,
    "jobs": 40,
    "max_slope_pct": 6,
    "preferred_insee": "30900",
}


def test_list_projects_seeded_from_territory(client: TestClient) -> None:
    body = ProjectList.model_validate(client.get("/projects").json())
    assert body.count == 131 == len(body.projects)
    assert body.projects[0].project_id == "P-001"


def test_crud_roundtrip(client: TestClient) -> None:
    r = client.post("/projects", json=NEW, headers=AUTH)
    assert r.status_code == 201, r.text
    created = Project.model_validate(r.json())
    assert created.project_id == "P-900" and created.investment_eur == 0.0
    assert created.needs_rail is False and created.earliest_year is None
    assert Project.model_validate(client.get("/projects/P-900").json()) == created
    assert client.get("/projects").json()["count"] == 132

    changed = {**NEW, "jobs": 55, "area_max_ha": 4.0}
    r = client.put("/projects/P-900", json=changed, headers=AUTH)
    assert r.status_code == 200
    assert client.get("/projects/P-900").json()["jobs"] == 55

    assert client.delete("/projects/P-900", headers=AUTH).status_code == 204
    r = client.get("/projects/P-900")
    assert r.status_code == 404
    assert ErrorOut.model_validate(r.json()).error == "NotFoundError"
    assert client.delete("/projects/P-900", headers=AUTH).status_code == 404


def test_generated_id(client: TestClient) -> None:
    body = {k: v for k, v in NEW.items() if k != "project_id"}
    r = client.post("/projects", json=body, headers=AUTH)
    assert r.status_code == 201
    pid = r.json()["project_id"]
    assert pid.startswith("P-") and client.get(f"/projects/{pid}").status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"area_min_ha": -1.0}, "area_min_ha", "sous le minimum"),
        ({"area_min_ha": 5.0, "area_max_ha": 3.0}, "area_min_ha", "supérieure à area_max_ha"),
        ({"jobs": -3}, "jobs", "sous le minimum"),
        ({"preferred_insee": "99999"}, "preferred_insee", "hors du territoire"),
        ({"preferred_insee": "ABC"}, "preferred_insee", "mal formés"),
        ({"earliest_year": 1990}, "earliest_year", "sous le minimum"),
    ],
)
def test_invalid_project_is_422_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str, words: str
) -> None:
    r = client.post("/projects", json={**NEW, **change}, headers=AUTH)
    assert r.status_code == 422, r.text
    body = ErrorOut.model_validate(r.json())
    assert body.field == field and words in body.detail
    assert body.error == "LayerSchemaError"
    assert client.get("/projects/P-900").status_code == 404


@pytest.mark.parametrize("missing", ["name", "area_min_ha", "jobs"])
def test_missing_field_is_422(client: TestClient, missing: str) -> None:
    body = {k: v for k, v in NEW.items() if k != missing}
    r = client.post("/projects", json=body, headers=AUTH)
    assert r.status_code == 422
    assert missing in r.json()["errors"][0]["loc"]


def test_conflicts(client: TestClient) -> None:
    assert client.post("/projects", json=NEW, headers=AUTH).status_code == 201
    r = client.post("/projects", json=NEW, headers=AUTH)
    assert r.status_code == 409 and "existe déjà" in r.json()["detail"]
    r = client.put("/projects/P-001", json=NEW, headers=AUTH)
    assert r.status_code == 409 and "diffère" in r.json()["detail"]
    r = client.put("/projects/P-777", json={**NEW, "project_id": None}, headers=AUTH)
    assert r.status_code == 404


def test_unknown_field_is_refused(client: TestClient) -> None:
    r = client.post("/projects", json={**NEW, "surface": 3}, headers=AUTH)
    assert r.status_code == 422


# -- write protection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/projects", NEW),
        ("put", "/projects/P-001", {**NEW, "project_id": "P-001"}),
        ("delete", "/projects/P-001", None),
        ("post", "/scenarios", {"name": "x"}),
        (
            "post",
            "/scenarios/S-1/decisions",
            {"project_id": "P-001", "decision": "validated", "author": "a"},
        ),
    ],
)
def test_writes_need_the_token(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    r = client.request(method, path, **kwargs)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert ErrorOut.model_validate(r.json()).error == "MissingTokenError"
    r = client.request(method, path, headers={"Authorization": "Bearer wrong"}, **kwargs)
    assert r.status_code == 403
    assert ErrorOut.model_validate(r.json()).error == "WriteForbiddenError"
    r = client.request(method, path, headers={"Authorization": f"Basic {TOKEN}"}, **kwargs)
    assert r.status_code == 401
    assert client.get("/projects/P-001").status_code == 200


def test_no_token_configured_refuses_writes(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token=None)
    r = client.post("/projects", json=NEW, headers=AUTH)
    assert r.status_code == 403
    assert "FONCIER_API_TOKEN" in r.json()["detail"]
    assert "--allow-anonymous-writes" in r.json()["detail"]
    assert client.get("/projects").status_code == 200


def test_anonymous_writes_when_allowed(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token=None, allow_anonymous_writes=True)
    assert client.post("/projects", json=NEW).status_code == 201


def test_token_from_environment(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("FONCIER_API_TOKEN", "from-env")
    monkeypatch.setenv("FONCIER_MAX_BODY_BYTES", "5000")
    from api.settings import Settings

    settings = Settings(territory=tmp_path, state_dir=tmp_path / "s")
    assert settings.api_token is not None
    assert settings.api_token.get_secret_value() == "from-env"
    assert settings.max_body_bytes == 5000
    assert TOKEN not in repr(settings)


# -- body limit ---------------------------------------------------------------------


def test_body_limit_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=400)
    big = {**NEW, "name": "x" * 500}
    r = client.post("/projects", json=big, headers=AUTH)
    assert r.status_code == 413
    assert "FONCIER_MAX_BODY_BYTES" in r.json()["detail"]
    assert client.post("/projects", json=NEW, headers=AUTH).status_code == 201


def test_body_limit_without_content_length(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=400)

    def chunks():
        yield b'{"name": "'
        yield b"x" * 1000
        yield b'"}'

    r = client.post(
        "/projects", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 413


def test_small_chunked_body_passes(make_client: Callable[..., TestClient]) -> None:
    import json

    client = make_client()
    payload = json.dumps(NEW).encode()

    def chunks():
        yield payload[:20]
        yield payload[20:]

    r = client.post(
        "/projects", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 201


# -- persistence --------------------------------------------------------------------


def test_projects_persist_across_restart(make_client: Callable[..., TestClient]) -> None:
    first = make_client()
    assert first.post("/projects", json=NEW, headers=AUTH).status_code == 201
    assert first.delete("/projects/P-001", headers=AUTH).status_code == 204
    first.__exit__(None, None, None)

    second = make_client()
    assert second.get("/projects/P-900").json()["name"] == "Usine de recyclage"
    # seeding happens once: a deleted territory project does not come back
    assert second.get("/projects/P-001").status_code == 404
    assert second.get("/projects").json()["count"] == 131
