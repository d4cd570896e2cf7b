"""Request and response models of the service, with OpenAPI examples.

Request models check types only; value rules (minimums, ``area_min_ha ≤
area_max_ha``, INSEE codes of the territory) are the library's, applied by
:func:`foncier.projects.validate_projects`, so the API and the files follow
the same rules.  Field descriptions are taken from the layer schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from foncier.assignment import Objective
from foncier.labels import DECISION_LABELS, OBJECTIVE_LABELS, code_of
from foncier.layers import SCHEMAS, Col
from foncier.zan.rules import PoolLevel

__all__ = [
    "Assignment",
    "AssignmentList",
    "BudgetRow",
    "BudgetTable",
    "Comparison",
    "ComparisonRow",
    "Decision",
    "DecisionIn",
    "DecisionList",
    "ErrorOut",
    "Feature",
    "FieldError",
    "FeatureCollection",
    "FrenchModel",
    "Health",
    "LayerInfo",
    "LayerList",
    "Link",
    "MatchCandidate",
    "MatchQuery",
    "MatchResponse",
    "Project",
    "ProjectIn",
    "ProjectList",
    "ProjectMove",
    "ProjectQuery",
    "SCENARIO_CLAIM_FIELDS",
    "ScenarioIn",
    "ScenarioList",
    "ScenarioOut",
    "TerritorySummary",
    "Unmatched",
    "UnmatchedList",
    "WeightsIn",
]


def _rule(name: str, text: str) -> str:
    """Description of a project field, with the schema's bounds if it has some."""
    column = next(c for c in SCHEMAS["projects"].columns if c.name == name)
    bounds = []
    if column.minimum is not None:
        bounds.append(f"≥ {column.minimum:g}")
    if column.maximum is not None:
        bounds.append(f"≤ {column.maximum:g}")
    return f"{text} ({', '.join(bounds)})" if bounds else text


def _to_code(labels: Mapping[str, str]) -> Callable[[Any], Any]:
    """A validator step: a French label (or any spelling of a code) becomes the code."""

    def convert(value: Any) -> Any:
        return (code_of(value, labels) or value) if isinstance(value, str) else value

    return convert


#: A decision code of the log (``validated``, ``rejected``); outputs always use the code.
DecisionCode = Literal["validated", "rejected"]
#: An objective as a request gives it: its code or its French label (« sobriété »).
ObjectiveIn = Annotated[
    Objective,
    BeforeValidator(
        _to_code(OBJECTIVE_LABELS),
        json_schema_input_type=Literal[(*get_args(Objective), *OBJECTIVE_LABELS.values())],
    ),
]
#: A decision as a request gives it: its code or its French label (« validée »).
DecisionCodeIn = Annotated[
    DecisionCode,
    BeforeValidator(
        _to_code(DECISION_LABELS),
        json_schema_input_type=Literal[(*get_args(DecisionCode), *DECISION_LABELS.values())],
    ),
]


class FrenchModel(BaseModel):
    """A model whose OpenAPI description is the French ``description_fr``.

    The schema /docs shows takes ``description_fr``, not the docstring: the
    English docstring documents the code, the French text is what users read.
    Every subclass states its own ``description_fr``; one without it is
    refused when it is defined.

    Raises
    ------
    TypeError
        A subclass defined without its own non-empty ``description_fr``.
    """

    #: The French description of the model's schema (OpenAPI ``description``).
    description_fr: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a subclass without its own French description."""
        super().__pydantic_init_subclass__(**kwargs)
        text = cls.__dict__.get("description_fr")
        if not isinstance(text, str) or not text.strip():
            msg = f"{cls.__name__} needs its own description_fr (its French OpenAPI description)"
            raise TypeError(msg)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The model's JSON schema, described by ``description_fr``."""
        json_schema = handler(core_schema)
        handler.resolve_ref_schema(json_schema)["description"] = cls.description_fr
        return json_schema


class FieldError(FrenchModel):
    """One refused field of a request: where it is, its name, and why (in French)."""

    description_fr = "Un champ refusé d'une requête : où il est, son nom et pourquoi"

    loc: list[str] = Field(examples=[["body", "area_min_ha"]])
    field: str | None = Field(default=None, examples=["area_min_ha"])
    message: str = Field(examples=["doit être un nombre fini (ni Infinity ni NaN)"])


class ErrorOut(FrenchModel):
    """The body of every 4xx and 5xx: error class, message, what to do, and the field named."""

    description_fr = (
        "Le corps de chaque réponse 4xx et 5xx : classe d'erreur, message, que faire, et le "
        "champ en cause"
    )

    error: str = Field(examples=["LayerSchemaError"])
    detail: str = Field(
        examples=["couche projects, colonne 'area_min_ha' : valeurs sous le minimum 0"]
    )
    hint: str | None = Field(
        default=None,
        examples=[
            "Corrigez le champ nommé puis renvoyez la requête ; le schéma est dans /openapi.json."
        ],
    )
    field: str | None = Field(default=None, examples=["area_min_ha"])
    errors: list[FieldError] | None = Field(
        default=None, description="Chaque champ refusé de la requête (422 de validation)"
    )
    decision_ids: list[int] | None = Field(
        default=None,
        description="Décisions validées qui empêchent de supprimer le projet (409)",
    )


class Health(FrenchModel):
    """Liveness and what is served."""

    description_fr = "Le service répond, et ce qu'il sert"

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    territory: str = Field(examples=["Agglomération de Valbrune (échantillon synthétique)"])
    synthetic: bool
    land_units: int = Field(examples=[149])


class LayerCount(FrenchModel):
    """Count (and area of polygon layers) of one layer."""

    description_fr = "Nombre d'entités d'une couche (et surface, pour une couche de polygones)"

    features: int
    area_ha: float | None = None


class ProjectsTotals(FrenchModel):
    """Totals of the territory's projects."""

    description_fr = "Totaux des projets du territoire"

    count: int
    jobs: int
    investment_eur: float
    area_min_ha: float
    area_max_ha: float


class TerritorySummary(FrenchModel):
    """The figures of ``foncier info``."""

    description_fr = "Les chiffres de `foncier info`"

    name: str = Field(examples=["Agglomération de Valbrune (échantillon synthétique)"])
    synthetic: bool
    data_label: str
    crs: str = Field(examples=["EPSG:2154"])
    layers: dict[str, LayerCount]
    dem: str | None
    enaf_years: str | None = Field(examples=["Cerema 2009-2023"])
    enaf_communes: int
    projects: ProjectsTotals


class LayerInfo(FrenchModel):
    """One layer served under ``/layers/{name}``."""

    description_fr = "Une couche servie sous `/layers/{name}`"

    name: str = Field(examples=["parcels"])
    description: str
    features: int
    href: str


class LayerList(FrenchModel):
    """The layers served."""

    description_fr = "Les couches servies"

    layers: list[LayerInfo]


class Link(FrenchModel):
    """A link of a paged listing (OGC API Features style)."""

    description_fr = "Un lien d'une liste paginée (à la manière d'OGC API Features)"

    href: str
    rel: str = Field(examples=["next"])
    type: str = "application/geo+json"


class Feature(FrenchModel):
    """A GeoJSON feature (RFC 7946, WGS84)."""

    description_fr = "Une entité GeoJSON (RFC 7946, WGS84)"

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(FrenchModel):
    """A page of a layer as a GeoJSON FeatureCollection in WGS84 (RFC 7946)."""

    description_fr = "Une page d'une couche : FeatureCollection GeoJSON en WGS84 (RFC 7946)"

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [4.08, 44.12]},
                            "properties": {"infra_id": "I-01", "kind": "interchange"},
                        }
                    ],
                    "numberMatched": 12,
                    "numberReturned": 1,
                    "links": [{"href": "/layers/infrastructure?offset=1&limit=1", "rel": "next"}],
                }
            ]
        }
    )

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberMatched: int  # noqa: N815  (OGC API Features name)
    numberReturned: int  # noqa: N815
    links: list[Link]


class BudgetRow(FrenchModel):
    """ZAN budget of one commune or pool (ha); NaN figures are ``null``."""

    description_fr = (
        "Budget ZAN d'une commune ou d'un groupement (ha) ; une valeur inconnue est `null`"
    )

    insee: str = Field(examples=["30900"])
    name: str = Field(examples=["Valbrune"])
    baseline_ha: float | None = Field(examples=[135.08])
    reduction_rate: float | None = Field(examples=[0.5])
    envelope_ha: float | None = Field(examples=[67.54])
    guarantee_applied: bool | None
    guarantee_floor_ha: float | None = Field(examples=[1.0])
    guaranteed_ha: float | None = Field(examples=[0.0])
    guarantee_pooling: bool | None
    guarantee_reserved_ha: float | None = Field(examples=[0.0])
    consumed_ha: float | None = Field(examples=[20.34])
    committed_ha: float | None = Field(examples=[0.0])
    remaining_ha: float | None = Field(examples=[47.2])
    pace_ha_per_year: float | None
    projected_end_ha: float | None = Field(
        description="Consommation projetée à end_year au rythme actuel (ha)"
    )
    end_year: int = Field(examples=[2031], description="Fin de la période cible du jeu de règles")
    status: str = Field(examples=["at risk"])
    pool_id: str = Field(examples=["30900"])


class BudgetTable(FrenchModel):
    """The ZAN table under a named rule set, net of validated placements."""

    description_fr = "Le tableau ZAN sous un jeu de règles nommé, net des implantations validées"

    pool: PoolLevel
    rules: str = Field(examples=["climat-resilience-2023"])
    rules_version: str = Field(examples=["2023.1"])
    enaf_vintage: str | None = Field(examples=["Cerema 2009-2023"])
    computed_at: str
    target_period: list[int] = Field(examples=[[2021, 2031]])
    legal_status: str = Field(
        examples=["in_force"], description="in_force (en vigueur) ou bill (proposition de loi)"
    )
    legal_status_label: str = Field(
        examples=["en vigueur"],
        description=(
            "Libellé : 'en vigueur', ou 'proposition de loi, non en vigueur' pour une simulation"
        ),
    )
    committed_ha: float = Field(description="ENAF engagés par les implantations validées (ha)")
    status_labels: dict[str, str]
    warnings: list[str]
    rows: list[BudgetRow]


class _ProjectFields(FrenchModel):
    """Fields of the ``projects`` layer (see ``foncier/layers.py``)."""

    description_fr = "Champs de la couche des projets"

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(max_length=300, description="Nom du projet", examples=["Usine de recyclage"])
    sector: str = Field(max_length=200, description="Secteur", examples=["chimie"])
    area_min_ha: float = Field(
        description=_rule(Col.AREA_MIN_HA, "Surface minimale requise, ha"), examples=[2.5]
    )
    area_max_ha: float = Field(
        description=_rule(Col.AREA_MAX_HA, "Surface maximale souhaitée, ha"), examples=[3.0]
    )
    jobs: int = Field(description=_rule(Col.JOBS, "Emplois créés"), examples=[40])
    investment_eur: float = Field(
        default=0.0, description=_rule(Col.INVESTMENT_EUR, "Investissement, €"), examples=[12e6]
    )
    needs_rail: bool = Field(
        default=False, description="Besoin d'un embranchement ferroviaire fret"
    )
    max_dist_interchange_km: float | None = Field(
        default=None,
        description=_rule(Col.MAX_DIST_INTERCHANGE_KM, "Distance maximale à un échangeur, km"),
        examples=[5.0],
    )
    max_slope_pct: float | None = Field(
        default=None,
        description=_rule(Col.MAX_SLOPE_PCT, "Pente moyenne maximale, %"),
        examples=[6.0],
    )
    seveso: bool = Field(
        default=False, description="Site Seveso (éloignement des habitations requis)"
    )
    preferred_insee: str | None = Field(
        default=None,
        max_length=10,
        description="Code INSEE de la commune souhaitée (une commune du territoire)",
        examples=["30900"],
    )
    is_pene: bool = Field(default=False, description="Projet d'envergure nationale ou européenne")
    france2030: bool = Field(default=False, description="Soutenu par France 2030")
    earliest_year: int | None = Field(
        default=None,
        description=_rule(Col.EARLIEST_YEAR, "Année où le foncier doit être disponible"),
        examples=[2028],
    )


class ProjectIn(_ProjectFields):
    """A project to create or replace; ``project_id`` is generated when omitted."""

    description_fr = "Un projet à créer ou à remplacer ; `project_id` est généré s'il est omis"

    project_id: str | None = Field(
        default=None, max_length=100, pattern=r"^[\w.\-]+$", examples=["P-200"]
    )


class Project(_ProjectFields):
    """A stored project."""

    description_fr = "Un projet enregistré"

    model_config = ConfigDict(extra="ignore")

    project_id: str = Field(examples=["P-001"])


class ProjectList(FrenchModel):
    """Every stored project."""

    description_fr = "Tous les projets enregistrés"

    count: int
    projects: list[Project]


class ProjectQuery(FrenchModel):
    """One project's requirements; only ``area_min_ha`` is required."""

    description_fr = "Les exigences d'un projet ; seule `area_min_ha` est requise"

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {"area_min_ha": 2.5, "max_slope_pct": 6, "max_dist_interchange_km": 5, "k": 5}
            ]
        },
    )

    area_min_ha: float = Field(description=_rule(Col.AREA_MIN_HA, "Surface minimale requise, ha"))
    area_max_ha: float | None = Field(default=None, description="Surface maximale souhaitée, ha")
    name: str | None = Field(default=None, max_length=300)
    sector: str | None = Field(default=None, max_length=200)
    jobs: int | None = None
    needs_rail: bool = False
    max_dist_interchange_km: float | None = None
    max_slope_pct: float | None = None
    seveso: bool = False
    preferred_insee: str | None = Field(default=None, max_length=10)
    is_pene: bool = False
    earliest_year: int | None = None
    k: int = Field(default=5, ge=1, le=50, description="Nombre d'unités foncières renvoyées")
    pool: PoolLevel = "commune"
    rules: str | None = Field(default=None, max_length=200, description="Nom du jeu de règles ZAN")


class MatchQuery(ProjectQuery):
    """One project's requirements, and optionally a finished scenario to weigh them against."""

    description_fr = (
        "Les exigences d'un projet et, au besoin, un scénario terminé auquel les comparer"
    )

    scenario_id: str | None = Field(
        default=None,
        max_length=100,
        examples=["S-20261127221500-a1b2c3"],
        description="Un scénario terminé du service : chaque unité foncière dit aussi ce que ce "
        "scénario prend déjà de son terrain et du budget ZAN de son groupement",
    )


#: Fields of a :class:`MatchCandidate` given only with a ``scenario_id``.
SCENARIO_CLAIM_FIELDS = (
    "scenario_name",
    "scenario_projects",
    "scenario_area_ha",
    "room_after_scenario_ha",
    "budget_left_after_scenario_ha",
    "fits_after_scenario",
    "scenario_claim",
)


class MatchCandidate(FrenchModel):
    """One feasible land unit for the queried project."""

    description_fr = "Une unité foncière faisable pour le projet demandé"

    rank: int
    unit_id: str = Field(examples=["U-00012"])
    insee: str
    commune: str = Field(examples=["Alès"], description="Nom de la commune de l'unité foncière")
    origin: str = Field(
        description="zae_plot (lot de ZAE), friche ou activity_zone (zone d'activités du PLU)"
    )
    site_id: str = Field(
        description="Identifiant de la ZAE ou de la friche (vide pour une zone d'activités du PLU)"
    )
    site: str = Field(examples=["ZAE Les Prés"], description="Nom du site")
    zone_type: str | None = Field(default=None, description="Type de zone du PLU")
    net_area_ha: float = Field(description="Surface nette de l'unité foncière (ha)")
    slope_mean_pct: float | None = Field(default=None, description="Pente moyenne (%), si connue")
    dist_interchange_km: float | None = Field(default=None, description="Distance à un échangeur")
    dist_rail_freight_km: float | None = Field(default=None, description="Distance à une gare fret")
    dist_substation_km: float | None = Field(
        default=None, description="Distance à un poste électrique"
    )
    enaf_share: float | None = Field(default=None, description="Part d'ENAF de l'unité foncière")
    pool_id: str | None = Field(
        default=None, description="Groupement de budget ZAN de l'unité foncière"
    )
    budget_left_before_ha: float = Field(
        description="Reste du groupement avant ce projet (décisions validées déduites, "
        "aucun scénario compté)"
    )
    budget_left_after_ha: float = Field(description="Reste du groupement après ce projet")
    score: float = Field(examples=[0.71])
    enaf_ha: float = Field(description="ENAF que le projet y consommerait (ha)")
    zan_ok: bool = Field(description="Tient dans le budget restant du groupement")
    zan_cost: str
    unverified: str
    explanation: str
    # with a scenario_id only (SCENARIO_CLAIM_FIELDS)
    scenario_name: str | None = Field(
        default=None, description="Nom du scénario (seulement avec scenario_id)"
    )
    scenario_projects: str | None = Field(
        default=None,
        examples=["P-004;P-017"],
        description="Projets que le scénario place sur cette unité foncière, séparés par ; "
        "(vide s'il n'en place aucun ; seulement avec scenario_id)",
    )
    scenario_area_ha: float | None = Field(
        default=None,
        description="Surface que les projets du scénario prennent sur cette unité foncière (ha ; "
        "seulement avec scenario_id)",
    )
    room_after_scenario_ha: float | None = Field(
        default=None,
        description="Surface nette de l'unité foncière qui reste après le scénario (ha ; "
        "seulement avec scenario_id)",
    )
    budget_left_after_scenario_ha: float | None = Field(
        default=None,
        description="Reste du groupement après le scénario, avant ce projet (ha ; vide sans "
        "groupement ; seulement avec scenario_id)",
    )
    fits_after_scenario: bool | None = Field(
        default=None,
        description="Il reste après le scénario, sur cette unité foncière et dans son "
        "groupement, la surface et le budget ZAN du projet (seulement avec scenario_id)",
    )
    scenario_claim: str | None = Field(
        default=None,
        description="Ce que le scénario prend déjà de cette unité foncière et du budget de son "
        "groupement, et si le projet y tient après le scénario (seulement avec scenario_id)",
    )


class MatchResponse(FrenchModel):
    """Top-k units for one project, best first (units fitting the ZAN budget first)."""

    description_fr = (
        "Les meilleures unités pour un projet, la meilleure d'abord (celles qui tiennent dans "
        "le budget ZAN en premier)"
    )

    requirements: str = Field(examples=["surface ≥ 2,5 ha ; pente ≤ 6 %"])
    pool: PoolLevel
    rules: str
    candidates: list[MatchCandidate]
    scenario_id: str | None = Field(
        default=None, description="Le scénario pesé avec la requête (seulement avec scenario_id)"
    )
    scenario_name: str | None = Field(
        default=None, description="Nom de ce scénario (seulement avec scenario_id)"
    )


class AssemblyQuery(ProjectQuery):
    """A site of ``area_min_ha`` to assemble across land units, with the project's requirements."""

    description_fr = (
        "Un site d'au moins `area_min_ha` à assembler entre unités foncières, avec les "
        "exigences du projet"
    )

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [{"area_min_ha": 12, "max_owners": 3, "k": 3}]},
    )

    max_owners: int | None = Field(
        default=None,
        ge=1,
        description="Nombre maximal de propriétaires d'un site (propriétaires distincts si les "
        "parcelles les donnent, sinon parcelles)",
    )
    k: int = Field(default=5, ge=1, le=50, description="Nombre de sites renvoyés")


class AssembledSite(FrenchModel):
    """One contiguous site assembled from candidate parcels, with its figures and geometry."""

    description_fr = (
        "Un site d'un seul tenant assemblé à partir de parcelles candidates, avec ses chiffres "
        "et sa géométrie"
    )

    site_rank: int
    insee: str = Field(description="Commune de la plus grande partie du site")
    commune: str
    idus: str | None = Field(default=None, description="Ses parcelles, séparées par |")
    lot_area_ha: float = Field(description="Surface du site (ha)")
    n_parcels: int
    n_owners: float | None = Field(default=None, description="Propriétaires distincts, si connus")
    owner_kinds: str = Field(examples=["private|public"])
    public_share: float = Field(description="Part du site détenue par des personnes publiques")
    enaf_share: float | None = None
    enaf_ha: float = Field(description="ENAF imputés par le site à l'enveloppe ZAN locale (ha)")
    score: float
    slope_mean_pct: float | None = None
    dist_interchange_km: float | None = None
    zan_ok: bool = Field(description="Ses ENAF tiennent dans le budget restant du groupement")
    zan_cost: str
    explanation: str
    split: bool = Field(description="Une parcelle est coupée par la limite du site")
    geometry: dict[str, Any] = Field(description="Polygone GeoJSON en WGS84")


class AssemblyResponse(FrenchModel):
    """The best sites of the asked area, fewest owners first."""

    description_fr = (
        "Les meilleurs sites de la surface demandée, les moins de propriétaires d'abord"
    )

    requirements: str
    pool: PoolLevel
    rules: str
    sites: list[AssembledSite]


class WeightsIn(FrenchModel):
    """Score weights of a scenario (see :class:`foncier.scoring.Weights`)."""

    description_fr = "Poids du score d'un scénario"

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    area_fit: float = Field(default=0.15, ge=0)
    interchange: float = Field(default=0.15, ge=0)
    slope: float = Field(default=0.10, ge=0)
    servicing: float = Field(default=0.10, ge=0)
    enaf: float = Field(default=0.15, ge=0)
    friche: float = Field(default=0.10, ge=0)
    preferred_commune: float = Field(default=0.10, ge=0)
    environment: float = Field(default=0.05, ge=0)
    compactness: float = Field(default=0.05, ge=0)
    completeness: float = Field(default=0.05, ge=0)
    unverified_penalty: float = Field(default=0.05, ge=0)


class ScenarioIn(FrenchModel):
    """A scenario to run over the stored projects."""

    description_fr = "Un scénario à calculer sur les projets enregistrés"

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [{"name": "sobriété", "objective": "min_enaf", "pool": "epci"}]
        },
    )

    name: str = Field(default="scénario", min_length=1, max_length=200)
    objective: ObjectiveIn = "jobs"
    pool: PoolLevel = "commune"
    rules: str | None = Field(default=None, max_length=200, description="Nom du jeu de règles ZAN")
    weights: WeightsIn | None = None
    project_ids: list[str] | None = Field(
        default=None, description="Projets à implanter (tous les projets enregistrés par défaut)"
    )
    time_limit_s: float | None = Field(default=None, gt=0, le=600)
    sensitivity: bool = Field(
        default=False,
        description=(
            "Calculer aussi les emplois gagnés par un hectare de budget de plus par groupement "
            "et si chaque implantation est stable ou fragile (quelques résolutions courtes)"
        ),
    )


class ScenarioOut(FrenchModel):
    """A scenario run: parameters, status, and its totals once done."""

    description_fr = "Un scénario : paramètres, statut et, une fois terminé, ses totaux"

    scenario_id: str = Field(examples=["S-20261127221500-a1b2c3"])
    name: str
    status: Literal["queued", "running", "done", "failed"]
    params: dict[str, Any]
    summary: dict[str, Any] | None = Field(
        description="Totaux, trace d'audit et synthèse en français une fois terminé"
    )
    error: str | None
    created_at: str
    finished_at: str | None
    progress: dict[str, Any] | None = Field(
        default=None,
        description=(
            "En cours : l'étape courante et, pendant la résolution HiGHS, le temps écoulé, "
            "la meilleure solution, la borne, l'écart et une ligne en français (text_fr)"
        ),
    )


class ScenarioList(FrenchModel):
    """Every scenario run, oldest first."""

    description_fr = "Tous les scénarios, du plus ancien au plus récent"

    count: int
    scenarios: list[ScenarioOut]


class Assignment(FrenchModel):
    """A placed project ("why here" in ``explanation``)."""

    description_fr = "Un projet implanté (« pourquoi ici » dans `explanation`)"

    model_config = ConfigDict(extra="allow")

    project_id: str
    unit_id: str
    insee: str
    area_ha: float
    enaf_ha: float
    jobs: int
    score: float
    explanation: str
    lot_area_ha: float | None = Field(default=None, description="Surface du lot du projet (ha)")
    idus: str | None = Field(default=None, description="Parcelles du lot, séparées par |")
    n_parcels: int | None = None
    n_owners: float | None = Field(default=None, description="Propriétaires distincts, si connus")
    public_share: float | None = Field(
        default=None, description="Part du lot détenue par des personnes publiques"
    )
    split: bool | None = Field(default=None, description="Une parcelle du lot est coupée")


class AssignmentList(FrenchModel):
    """Placements of a scenario."""

    description_fr = "Les implantations d'un scénario"

    scenario_id: str
    count: int
    assignments: list[Assignment]


class Unmatched(FrenchModel):
    """A project left out, with the reason ("why not")."""

    description_fr = "Un projet non implanté, avec la raison (« pourquoi pas »)"

    model_config = ConfigDict(extra="allow")

    project_id: str
    reason_code: str = Field(examples=["blocked_by_zan"])
    explanation: str
    hint: str | None = None
    unlock_field: str | None = Field(
        default=None,
        description=(
            "Ce que change le déblocage vérifié : colonnes de projects.csv jointes par ';', "
            "budget_ha (ha ajoutés à unlock_pool_id) ou project_id (concurrents qui cèdent)"
        ),
        examples=["area_min_ha;budget_ha"],
    )
    unlock_value: str | None = Field(default=None, examples=["4.73;2.08"])
    unlock_unit_id: str | None = None
    unlock_pool_id: str | None = None
    unlock_verified: bool = Field(
        default=False, description="Vérifié en résolvant de nouveau le scénario avec le changement"
    )
    unlock_jobs_lost: float | None = Field(
        default=None, description="Emplois perdus au plus par les autres projets avec le déblocage"
    )


class UnmatchedList(FrenchModel):
    """Projects a scenario left out."""

    description_fr = "Les projets qu'un scénario n'a pas implantés"

    scenario_id: str
    count: int
    unmatched: list[Unmatched]


class BudgetValue(FrenchModel):
    """What one more hectare of ZAN budget in a pool gains (by re-solving)."""

    description_fr = (
        "Ce que rapporte un hectare de budget ZAN de plus dans un groupement (par nouvelle "
        "résolution)"
    )

    model_config = ConfigDict(extra="allow")

    pool_id: str
    name: str
    remaining_after_ha: float | None
    jobs_per_extra_ha: float
    objective_per_extra_ha: float
    method: Literal["re-solve", "no_candidate"]


class BudgetValueList(FrenchModel):
    """Value of one more hectare per pool (of a scenario run with ``sensitivity``)."""

    description_fr = (
        "Valeur d'un hectare de plus par groupement (scénario calculé avec `sensitivity`)"
    )

    scenario_id: str
    count: int
    budget_values: list[BudgetValue]


class ComparisonRow(FrenchModel):
    """One indicator of two scenarios side by side."""

    description_fr = "Un indicateur de deux scénarios, côte à côte"

    indicator: str = Field(examples=["emplois placés"])
    a: Any = None
    b: Any = None
    difference: float | None = None


class ProjectMove(FrenchModel):
    """Where a project goes in each scenario."""

    description_fr = "Où va un projet dans chaque scénario"

    project_id: str
    unit_a: str | None
    unit_b: str | None
    status: str = Field(examples=["moved"])


class Comparison(FrenchModel):
    """Two scenarios compared."""

    description_fr = "Deux scénarios comparés"

    a: str
    b: str
    indicators: list[ComparisonRow]
    projects: list[ProjectMove]


class DecisionIn(FrenchModel):
    """The working group's decision on one placement of a scenario."""

    description_fr = "La décision du groupe de travail sur une implantation d'un scénario"

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "project_id": "P-001",
                    "decision": "validated",
                    "author": "Groupe de travail ZAN",
                    "comment": "validé en séance du 12 mars",
                }
            ]
        },
    )

    project_id: str = Field(min_length=1, max_length=100)
    decision: DecisionCodeIn
    author: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=5000)


class Decision(FrenchModel):
    """An entry of the append-only decision log."""

    description_fr = "Une entrée du journal des décisions (on n'y fait qu'ajouter)"

    decision_id: int
    scenario_id: str
    project_id: str
    unit_id: str
    insee: str
    decision: DecisionCode
    area_ha: float
    enaf_ha: float = Field(description="ENAF engagés une fois validée (ha)")
    author: str
    comment: str
    created_at: str
    idus: str | None = Field(
        None,
        description="Parcelles du lot de l'implantation (séparées par '|'), retirées du foncier "
        "une fois validée ; absent des décisions enregistrées avant les lots",
    )


class DecisionList(FrenchModel):
    """The decision log and the ENAF committed by validated placements."""

    description_fr = "Le journal des décisions et les ENAF engagés par les implantations validées"

    count: int
    committed_ha: float
    decisions: list[Decision]
