"""``/match/query``: the best land units for one project, without running a scenario."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Body

from api.deps import Context
from api.models import ErrorOut, MatchCandidate, MatchQuery, MatchResponse
from api.tables import records
from foncier.explain import query_project, with_place_names
from foncier.layers import Col
from foncier.projects import project_frame, project_requirements, validate_projects

router = APIRouter(prefix="/match", tags=["matching"])

_EXAMPLES = {
    "logistique": {
        "summary": "2.5 ha, slope ≤ 6 %, interchange ≤ 5 km",
        "value": {"area_min_ha": 2.5, "max_slope_pct": 6, "max_dist_interchange_km": 5, "k": 5},
    },
    "seveso": {
        "summary": "A Seveso plant needing rail, budgets pooled per EPCI",
        "value": {"area_min_ha": 4, "seveso": True, "needs_rail": True, "pool": "epci"},
    },
}


@router.post(
    "/query",
    response_model=MatchResponse,
    responses={
        404: {"model": ErrorOut, "description": "Unknown rule set"},
        422: {"model": ErrorOut, "description": "Missing area_min_ha or a field out of range"},
    },
    summary="Top-k land units for one project",
)
def match_query(
    ctx: Context, body: Annotated[MatchQuery, Body(openapi_examples=_EXAMPLES)]
) -> MatchResponse:
    """Feasible land units for one project's requirements, with score, ZAN cost and reasons.

    Units whose ENAF cost fits the remaining budget of their pool (net of
    validated placements) come first, then by score.  The project is checked
    with the rules of the projects layer before anything is computed: a
    negative, infinite or implausible number, or an area larger than the
    territory → 422 naming the field.
    """
    project = body.model_dump(exclude={"k", "pool", "rules"}, exclude_none=True)
    # the rules the projects layer schema cannot state: a commune of the territory, an area
    # within the territory's
    validate_projects(project_frame(project), ctx.territory.communes)
    inputs = ctx.inputs(body.pool, body.rules)
    # query_project validates the fields with the projects layer schema (LayerSchemaError)
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
    top = with_place_names(top, ctx.territory)
    fields = body.model_dump(exclude={"k", "pool", "rules"})
    requirements = project_requirements(pd.DataFrame([{Col.PROJECT_ID: "requête", **fields}]))
    return MatchResponse(
        requirements=str(requirements["text"].iloc[0]),
        pool=body.pool,
        rules=inputs.rules.name,
        candidates=[MatchCandidate(**row) for row in records(pd.DataFrame(top))],
    )
