"""The field descriptions GIS analysts read on /docs are French."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.models import FrenchModel, MatchQuery

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
        "an",
        "at",
        "in",
        "not",
        "one",
        "two",
        "every",
        "all",
        "only",
        "most",
        "least",
        "more",
        "than",
        "without",
        "per",
        "their",
        "they",
        "how",
        "why",
        "successful",
        "response",
        "error",
        "unknown",
        "available",
        "stored",
        "served",
        "placed",
        "left",
        "project",
        "projects",
        "scenario",
        "scenarios",
        "placements",
        "layer",
        "layers",
        "land",
        "units",
        "map",
        "maps",
        "jobs",
        "plant",
        "needing",
        "near",
        "slope",
    ]
)

#: Keys whose string value is prose a person reads on /docs.
_PROSE_KEYS = ("description", "summary", "title")
#: Keys whose value is data (an example, a default, allowed values): never prose.
_DATA_KEYS = frozenset(["example", "examples", "default", "enum", "const", "value"])


def _field_descriptions(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(schema.field, description)`` for every documented schema field."""
    for schema_name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if "description" in prop:
                yield f"{schema_name}.{field}", prop["description"]


def _english_words(text: str) -> set[str]:
    """English words of ``text``; names (``area_min_ha``, ``projects.csv``, `code`) left out."""
    prose = re.sub(r"`[^`]*`", " ", text)
    return set(re.findall(r"[\w'’]+(?:\.\w+)*", prose.lower())) & _ENGLISH


def _is_identifier_title(title: str, owner: str | None) -> bool:
    """Whether ``title`` is pydantic's rendering of the identifier ``owner``.

    A field or parameter ``area_min_ha`` gets the title "Area Min Ha", a
    schema ``api__models__Link`` the title "Link": identifiers, not prose.
    """
    if owner is None:
        return False
    return title in (owner.title().replace("_", " "), owner.rsplit("__", 1)[-1])


def _prose(
    node: Any, path: tuple[str, ...] = (), owner: str | None = None
) -> Iterator[tuple[tuple[str, ...], str]]:
    """Yield ``(path, text)`` for every prose string of an OpenAPI document.

    Prose is a ``description``, ``summary`` or ``title`` string, and the
    ``summary`` / ``description`` of a named request example.  Data is not
    walked (examples, defaults, enum values), nor are names (keys of
    ``properties``, paths, operation ids, a title that renders the name of
    its field, parameter or schema).
    """
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _prose(item, (*path, str(i)), owner)
        return
    if not isinstance(node, dict):
        return
    if "in" in node and isinstance(node.get("name"), str):  # a parameter
        owner = node["name"]
    for key, value in node.items():
        here = (*path, key)
        if path[-1:] in (("properties",), ("schemas",)):
            yield from _prose(value, here, key)
        elif key in _PROSE_KEYS and isinstance(value, str):
            if key != "title" or not _is_identifier_title(value, owner):
                yield here, value
        elif key == "examples" and isinstance(value, dict):
            for name, example in value.items():
                for field in ("summary", "description"):
                    if field in example:
                        yield (*here, name, field), example[field]
        elif key not in _DATA_KEYS:
            yield from _prose(value, here, owner)


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


def test_the_prose_walker_skips_names_and_data_and_reads_example_summaries() -> None:
    spec = {
        "info": {"title": "foncier", "description": "Le service"},
        "paths": {
            "/x": {
                "get": {
                    "operationId": "get_x",
                    "summary": "Un x",
                    "parameters": [
                        {"name": "min_area_ha", "in": "query", "schema": {"title": "Min Area Ha"}}
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "examples": {
                                    "a": {"summary": "One example", "value": {"title": "of"}}
                                }
                            }
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "api__models__Link": {
                    "title": "Link",
                    "description": "Un lien",
                    "properties": {
                        "description": {"title": "Description", "examples": ["the x"]},
                        "default": {"title": "Not a name", "default": "the"},
                    },
                }
            }
        },
    }
    prose = dict(_prose(spec))
    assert prose == {
        ("info", "title"): "foncier",
        ("info", "description"): "Le service",
        ("paths", "/x", "get", "summary"): "Un x",
        (
            "paths",
            "/x",
            "get",
            "requestBody",
            "content",
            "application/json",
            "examples",
            "a",
            "summary",
        ): "One example",
        ("components", "schemas", "api__models__Link", "description"): "Un lien",
        (
            "components",
            "schemas",
            "api__models__Link",
            "properties",
            "default",
            "title",
        ): "Not a name",
    }
    assert _english_words("`area_min_ha` manquant, area_max_ha hors limites") == set()
    assert _english_words("colonnes de projects.csv, pas les projects.") == {"projects"}


def test_every_prose_string_of_the_document_is_french(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    prose = dict(_prose(spec))
    kinds = Counter(path[-1] for path in prose)
    assert kinds["description"] > 300
    assert kinds["summary"] > 35
    english = {"/".join(path): text for path, text in prose.items() if _english_words(text)}
    assert english == {}
    assert (
        spec["info"]["description"]
        .strip()
        .startswith("Foncier pour les projets industriels sous la loi ZAN")
    )
    health = spec["paths"]["/health"]["get"]
    assert health["description"].startswith("Indique que le service répond")
    assert health["responses"]["200"]["description"] == "Succès"
    query = spec["paths"]["/match/query"]["post"]
    assert query["requestBody"]["content"]["application/json"]["examples"]["logistique"][
        "summary"
    ] == ("2,5 ha, pente ≤ 6 %, échangeur ≤ 5 km")
    schemas = spec["components"]["schemas"]
    assert schemas["MatchCandidate"]["description"] == (
        "Une unité foncière faisable pour le projet demandé"
    )
    assert "Successful Response" not in str(spec) and "Validation Error" not in str(spec)


def test_every_tag_of_a_route_has_a_french_description(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    used = {tag for item in spec["paths"].values() for op in item.values() for tag in op["tags"]}
    described = {tag["name"]: tag["description"] for tag in spec["tags"]}
    assert used == set(described)
    assert {k: v for k, v in described.items() if _english_words(v)} == {}
    assert described["zan"] == (
        "Budgets ZAN par commune ou groupement, nets des implantations validées"
    )


def test_a_model_without_a_french_description_is_refused() -> None:
    with pytest.raises(TypeError, match="Bare needs its own description_fr"):

        class Bare(FrenchModel):
            """An English docstring only."""

            a: int

    class Subquery(MatchQuery):
        """A subclass states its own French description too."""

        description_fr = "Une sous-requête"

    assert Subquery.model_json_schema()["description"] == "Une sous-requête"
    assert MatchQuery.model_json_schema()["description"] != "Une sous-requête"


def test_layer_and_collection_texts_qgis_users_read_are_french(client: TestClient) -> None:
    collections = client.get("/collections").json()["collections"]
    texts = {c["id"]: f"{c['title']} — {c['description']}" for c in collections}
    assert {"parcels", "land_units"} <= set(texts)
    assert {k: v for k, v in texts.items() if _english_words(v)} == {}
    assert texts["parcels"] == "Parcelles cadastrales — parcelles cadastrales (cadastre Etalab)"
    layers = {x["name"]: x["description"] for x in client.get("/layers").json()["layers"]}
    assert layers["friches"] == "friches (Cartofriches, CNIG Friches)"
    assert {k: v for k, v in layers.items() if _english_words(v)} == {}
