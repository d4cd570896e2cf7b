"""The field descriptions GIS analysts read on /docs are French."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

#: Common English words that never appear in the project's French descriptions.
_ENGLISH = frozenset(
    [
        "the",
        "of",
        "for",
        "is",
        "are",
        "returns",
        "with",
        "whether",
        "which",
        "what",
        "when",
        "where",
        "its",
        "it's",
        "to",
        "by",
        "from",
        "and",
        "or",
        "if",
        "needs",
        "each",
        "this",
        "that",
        "there",
        "would",
        "has",
        "have",
        "been",
        "smallest",
        "largest",
        "area",
        "number",
        "name",
        "share",
    ]
)


def _field_descriptions(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(schema.field, description)`` for every documented schema field."""
    for schema_name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if "description" in prop:
                yield f"{schema_name}.{field}", prop["description"]


def _english_words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower())) & _ENGLISH


def test_the_english_detector_flags_english_and_passes_french() -> None:
    assert _english_words("Whether its ENAF fits the pool's remaining budget") == {
        "whether",
        "its",
        "the",
    }
    assert _english_words("Part d'ENAF de l'unité foncière, séparées par |") == set()


def test_every_field_description_of_the_schema_is_french(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    described = dict(_field_descriptions(spec))
    assert len(described) > 60
    english = {k: v for k, v in described.items() if _english_words(v)}
    assert english == {}
    assert described["MatchCandidate.net_area_ha"] == "Surface nette de l'unité foncière (ha)"
    assert described["AssembledSite.enaf_ha"] == (
        "ENAF imputés par le site à l'enveloppe ZAN locale (ha)"
    )
    assert described["ProjectIn.area_min_ha"] == "Surface minimale requise, ha (≥ 0.0001, ≤ 10000)"
    assert described["MatchQuery.k"] == "Nombre d'unités foncières renvoyées"


def test_every_route_summary_is_french(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    summaries = {
        f"{method.upper()} {path}": op["summary"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "summary" in op
    }
    assert len(summaries) > 25
    english = {k: v for k, v in summaries.items() if _english_words(v)}
    assert english == {}
    assert summaries["POST /match/query"] == "Meilleures unités foncières pour un projet"
    assert summaries["GET /zan/budgets"] == "Tableau des budgets ZAN"


def test_every_parameter_description_is_french(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {
        f"{method.upper()} {path} {param['name']}": param["description"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        for param in op.get("parameters", [])
        if "description" in param
    }
    assert len(params) > 10
    assert {k: v for k, v in params.items() if _english_words(v)} == {}
    assert params["GET /layers/{name} limit"] == "Taille de page"
    assert params["GET /land-units bbox"].startswith("minx,miny,maxx,maxy en degrés WGS84")
