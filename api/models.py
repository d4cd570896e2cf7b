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
        default=None, description="Each refused field of a request (422 of request validation)"
    )
    decision_ids: list[int] | None = Field(
        default=None,
        description="Validated decisions that keep a project from being deleted (409)",
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
        description="consumption projected to end_year at the current pace (ha)"
    )
    end_year: int = Field(examples=[2031], description="end of the rule set's target period")
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
    legal_status: str = Field(examples=["in_force"], description="in_force or bill")
    legal_status_label: str = Field(
        examples=["en vigueur"],
        description="French: 'en vigueur', or 'proposition de loi, non en vigueur' for a what-if",
    )
    committed_ha: float = Field(description="ENAF committed by validated placements (ha)")
    status_labels: dict[str, str]
    warnings: list[str]
    rows: list[BudgetRow]


class _ProjectFields(BaseModel):
    """Fields of the ``projects`` layer (see ``foncier/layers.py``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(max_length=300, description="Project name", examples=["Usine de recyclage"])
    sector: str = Field(max_length=200, description="Sector", examples=["chimie"])
    area_min_ha: float = Field(
        description=_rule(Col.AREA_MIN_HA, "Smallest area needed, ha"), examples=[2.5]
    )
    area_max_ha: float = Field(
        description=_rule(Col.AREA_MAX_HA, "Largest area wanted, ha"), examples=[3.0]
    )
    jobs: int = Field(description=_rule(Col.JOBS, "Jobs created"), examples=[40])
    investment_eur: float = Field(
        default=0.0, description=_rule(Col.INVESTMENT_EUR, "Investment, €"), examples=[12e6]
    )
    needs_rail: bool = Field(default=False, description="Needs a rail-freight connection")
    max_dist_interchange_km: float | None = Field(
        default=None,
        description=_rule(Col.MAX_DIST_INTERCHANGE_KM, "Largest distance to an interchange, km"),
        examples=[5.0],
    )
    max_slope_pct: float | None = Field(
        default=None, description=_rule(Col.MAX_SLOPE_PCT, "Largest mean slope, %"), examples=[6.0]
    )
    seveso: bool = Field(default=False, description="Seveso site (needs distance from housing)")
    preferred_insee: str | None = Field(
        default=None,
        max_length=10,
        description="INSEE code of the preferred commune (a commune of the territory)",
        examples=["30900"],
    )
    is_pene: bool = Field(default=False, description="Projet d'envergure nationale ou européenne")
    france2030: bool = Field(default=False, description="Backed by France 2030")
    earliest_year: int | None = Field(
        default=None,
        description=_rule(Col.EARLIEST_YEAR, "Year the land must be ready"),
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


class MatchQuery(BaseModel):
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

    area_min_ha: float = Field(description=_rule(Col.AREA_MIN_HA, "Smallest area needed, ha"))
    area_max_ha: float | None = Field(default=None, description="Largest area wanted, ha")
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
    k: int = Field(default=5, ge=1, le=50, description="Number of land units returned")
    pool: PoolLevel = "commune"
    rules: str | None = Field(default=None, max_length=200, description="ZAN rule set name")


class MatchCandidate(BaseModel):
    """One feasible land unit for the queried project."""

    rank: int
    unit_id: str = Field(examples=["U-00012"])
    insee: str
    commune: str = Field(examples=["Alès"], description="Name of the unit's commune")
    origin: str = Field(description="zae_plot, friche or activity_zone")
    site_id: str = Field(description="ZAE or friche id (empty for a PLU activity zone)")
    site: str = Field(examples=["ZAE Les Prés"], description="The site, named")
    zone_type: str | None = Field(default=None, description="PLU zone type")
    net_area_ha: float = Field(description="Net area of the unit (ha)")
    slope_mean_pct: float | None = Field(default=None, description="Mean slope (%), if known")
    dist_interchange_km: float | None = Field(default=None, description="To an interchange")
    dist_rail_freight_km: float | None = Field(default=None, description="To a freight station")
    dist_substation_km: float | None = Field(default=None, description="To a substation")
    enaf_share: float | None = Field(default=None, description="ENAF share of the unit")
    pool_id: str | None = Field(default=None, description="ZAN budget pool of the unit")
    budget_left_before_ha: float = Field(
        description="What the pool has left before this project (validated decisions deducted, "
        "no scenario counted)"
    )
    budget_left_after_ha: float = Field(description="What the pool would have left after it")
    score: float = Field(examples=[0.71])
    enaf_ha: float = Field(description="ENAF the project would consume there (ha)")
    zan_ok: bool = Field(description="Whether that fits the pool's remaining budget")
    zan_cost: str
    unverified: str
    explanation: str


class MatchResponse(BaseModel):
    """Top-k units for one project, best first (units fitting the ZAN budget first)."""

    requirements: str = Field(examples=["surface ≥ 2,5 ha ; pente ≤ 6 %"])
    pool: PoolLevel
    rules: str
    candidates: list[MatchCandidate]


class AssemblyQuery(MatchQuery):
    """A site of ``area_min_ha`` to assemble across land units, with the project's requirements."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [{"area_min_ha": 12, "max_owners": 3, "k": 3}]},
    )

    max_owners: int | None = Field(
        default=None,
        ge=1,
        description="Largest number of owners of a site (distinct owners when the parcels give "
        "them, else parcels)",
    )
    k: int = Field(default=5, ge=1, le=50, description="Number of sites returned")


class AssembledSite(BaseModel):
    """One contiguous site assembled from candidate parcels, with its figures and geometry."""

    site_rank: int
    insee: str = Field(description="Commune of the site's largest piece")
    commune: str
    idus: str | None = Field(default=None, description="Its parcels, |-separated")
    lot_area_ha: float = Field(description="Area of the site (ha)")
    n_parcels: int
    n_owners: float | None = Field(default=None, description="Distinct owners, when known")
    owner_kinds: str = Field(examples=["private|public"])
    public_share: float = Field(description="Share of the site held by public bodies")
    enaf_share: float | None = None
    enaf_ha: float = Field(description="ENAF the site charges to the local envelope (ha)")
    score: float
    slope_mean_pct: float | None = None
    dist_interchange_km: float | None = None
    zan_ok: bool = Field(description="Whether its ENAF fits the pool's remaining budget")
    zan_cost: str
    explanation: str
    split: bool = Field(description="Whether a parcel is cut by the site's edge")
    geometry: dict[str, Any] = Field(description="GeoJSON polygon in WGS84")


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
    rules: str | None = Field(default=None, max_length=200, description="ZAN rule set name")
    weights: WeightsIn | None = None
    project_ids: list[str] | None = Field(
        default=None, description="Projects to place (all stored projects by default)"
    )
    time_limit_s: float | None = Field(default=None, gt=0, le=600)
    sensitivity: bool = Field(
        default=False,
        description=(
            "Also compute the jobs one more hectare of budget gains per pool and whether each "
            "placement is stable or fragile (a few short re-solves)"
        ),
    )


class ScenarioOut(BaseModel):
    """A scenario run: parameters, status, and its totals once done."""

    scenario_id: str = Field(examples=["S-20261127221500-a1b2c3"])
    name: str
    status: Literal["queued", "running", "done", "failed"]
    params: dict[str, Any]
    summary: dict[str, Any] | None = Field(
        description="Totals, audit record and French summary once done"
    )
    error: str | None
    created_at: str
    finished_at: str | None
    progress: dict[str, Any] | None = Field(
        default=None,
        description=(
            "While running: the current step and, while HiGHS solves, its elapsed time, "
            "incumbent, bound, gap and a French line (text_fr)"
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
    lot_area_ha: float | None = Field(default=None, description="Area of the project's lot (ha)")
    idus: str | None = Field(default=None, description="Parcels of the lot, |-separated")
    n_parcels: int | None = None
    n_owners: float | None = Field(default=None, description="Distinct owners, when known")
    public_share: float | None = Field(default=None, description="Share of the lot held publicly")
    split: bool | None = Field(default=None, description="Whether a parcel of the lot is cut")


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
            "What the verified unlock changes: ';'-joined projects.csv columns, budget_ha "
            "(ha added to unlock_pool_id) or project_id (competitors giving way)"
        ),
        examples=["area_min_ha;budget_ha"],
    )
    unlock_value: str | None = Field(default=None, examples=["4.73;2.08"])
    unlock_unit_id: str | None = None
    unlock_pool_id: str | None = None
    unlock_verified: bool = Field(
        default=False, description="Checked by solving the scenario again with the change"
    )
    unlock_jobs_lost: float | None = Field(
        default=None, description="Jobs the other projects lose, at most, with the unlock"
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
    """Value of one more hectare per pool (empty unless run with ``sensitivity``)."""

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
    enaf_ha: float = Field(description="ENAF committed when validated (ha)")
    author: str
    comment: str
    created_at: str
    idus: str | None = Field(
        None,
        description="Parcels of the placement's lot ('|'-separated), taken off the land once "
        "validated; absent in decisions recorded before lots",
    )


class DecisionList(BaseModel):
    """The decision log and the ENAF committed by validated placements."""

    count: int
    committed_ha: float
    decisions: list[Decision]
