"""Request and response models of the service, with OpenAPI examples.

Request models check types only; value rules (minimums, ``area_min_ha ≤
area_max_ha``, INSEE codes of the territory) are the library's, applied by
:func:`foncier.projects.validate_projects`, so the API and the files follow
the same rules.  Field descriptions are taken from the layer schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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


class FieldError(BaseModel):
    """One refused field of a request: where it is, its name, and why (in French)."""

    loc: list[str] = Field(examples=[["body", "area_min_ha"]])
    field: str | None = Field(default=None, examples=["area_min_ha"])
    message: str = Field(examples=["doit être un nombre fini (ni Infinity ni NaN)"])


class ErrorOut(BaseModel):
    """The body of every 4xx and 5xx: error class, message, what to do, and the field named."""

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


class Health(BaseModel):
    """Liveness and what is served."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    territory: str = Field(examples=["Agglomération de Valbrune (échantillon synthétique)"])
    synthetic: bool
    land_units: int = Field(examples=[149])


class LayerCount(BaseModel):
    """Count (and area of polygon layers) of one layer."""

    features: int
    area_ha: float | None = None


class ProjectsTotals(BaseModel):
    """Totals of the territory's projects."""

    count: int
    jobs: int
    investment_eur: float
    area_min_ha: float
    area_max_ha: float


class TerritorySummary(BaseModel):
    """The figures of ``foncier info``."""

    name: str = Field(examples=["Agglomération de Valbrune (échantillon synthétique)"])
    synthetic: bool
    data_label: str
    crs: str = Field(examples=["EPSG:2154"])
    layers: dict[str, LayerCount]
    dem: str | None
    enaf_years: str | None = Field(examples=["Cerema 2009-2023"])
    enaf_communes: int
    projects: ProjectsTotals


class LayerInfo(BaseModel):
    """One layer served under ``/layers/{name}``."""

    name: str = Field(examples=["parcels"])
    description: str
    features: int
    href: str


class LayerList(BaseModel):
    """The layers served."""

    layers: list[LayerInfo]


class Link(BaseModel):
    """A link of a paged listing (OGC API Features style)."""

    href: str
    rel: str = Field(examples=["next"])
    type: str = "application/geo+json"


class Feature(BaseModel):
    """A GeoJSON feature (RFC 7946, WGS84)."""

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    """A page of a layer as a GeoJSON FeatureCollection in WGS84 (RFC 7946)."""

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


class BudgetRow(BaseModel):
    """ZAN budget of one commune or pool (ha); NaN figures are ``null``."""

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


class BudgetTable(BaseModel):
    """The ZAN table under a named rule set, net of validated placements."""

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


class _ProjectFields(BaseModel):
    """Fields of the ``projects`` layer (see ``foncier/layers.py``)."""

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

    project_id: str | None = Field(
        default=None, max_length=100, pattern=r"^[\w.\-]+$", examples=["P-200"]
    )


class Project(_ProjectFields):
    """A stored project."""

    model_config = ConfigDict(extra="ignore")

    project_id: str = Field(examples=["P-001"])


class ProjectList(BaseModel):
    """Every stored project."""

    count: int
    projects: list[Project]


class ProjectQuery(BaseModel):
    """One project's requirements; only ``area_min_ha`` is required."""

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


class MatchCandidate(BaseModel):
    """One feasible land unit for the queried project."""

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


class MatchResponse(BaseModel):
    """Top-k units for one project, best first (units fitting the ZAN budget first)."""

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


class AssembledSite(BaseModel):
    """One contiguous site assembled from candidate parcels, with its figures and geometry."""

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


class AssemblyResponse(BaseModel):
    """The best sites of the asked area, fewest owners first."""

    requirements: str
    pool: PoolLevel
    rules: str
    sites: list[AssembledSite]


class WeightsIn(BaseModel):
    """Score weights of a scenario (see :class:`foncier.scoring.Weights`)."""

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


class ScenarioIn(BaseModel):
    """A scenario to run over the stored projects."""

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


class ScenarioOut(BaseModel):
    """A scenario run: parameters, status, and its totals once done."""

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


class ScenarioList(BaseModel):
    """Every scenario run, oldest first."""

    count: int
    scenarios: list[ScenarioOut]


class Assignment(BaseModel):
    """A placed project ("why here" in ``explanation``)."""

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


class AssignmentList(BaseModel):
    """Placements of a scenario."""

    scenario_id: str
    count: int
    assignments: list[Assignment]


class Unmatched(BaseModel):
    """A project left out, with the reason ("why not")."""

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


class UnmatchedList(BaseModel):
    """Projects a scenario left out."""

    scenario_id: str
    count: int
    unmatched: list[Unmatched]


class BudgetValue(BaseModel):
    """What one more hectare of ZAN budget in a pool gains (by re-solving)."""

    model_config = ConfigDict(extra="allow")

    pool_id: str
    name: str
    remaining_after_ha: float | None
    jobs_per_extra_ha: float
    objective_per_extra_ha: float
    method: Literal["re-solve", "no_candidate"]


class BudgetValueList(BaseModel):
    """Value of one more hectare per pool (of a scenario run with ``sensitivity``)."""

    scenario_id: str
    count: int
    budget_values: list[BudgetValue]


class ComparisonRow(BaseModel):
    """One indicator of two scenarios side by side."""

    indicator: str = Field(examples=["emplois placés"])
    a: Any = None
    b: Any = None
    difference: float | None = None


class ProjectMove(BaseModel):
    """Where a project goes in each scenario."""

    project_id: str
    unit_a: str | None
    unit_b: str | None
    status: str = Field(examples=["moved"])


class Comparison(BaseModel):
    """Two scenarios compared."""

    a: str
    b: str
    indicators: list[ComparisonRow]
    projects: list[ProjectMove]


class DecisionIn(BaseModel):
    """The working group's decision on one placement of a scenario."""

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


class Decision(BaseModel):
    """An entry of the append-only decision log."""

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


class DecisionList(BaseModel):
    """The decision log and the ENAF committed by validated placements."""

    count: int
    committed_ha: float
    decisions: list[Decision]
