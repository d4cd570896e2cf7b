"""``/match/query``: the best land units for one project, without running a scenario."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.context import QueryInputs, ServiceContext
from api.deps import Context
from api.models import (
    SCENARIO_CLAIM_FIELDS,
    ErrorOut,
    MatchCandidate,
    MatchQuery,
    MatchResponse,
)
from api.routers.scenarios import finished_result
from api.tables import column_records, records
from foncier.explain import query_columns
from foncier.layers import Col, UnitCol
from foncier.projects import project_record, record_in_territory, requirements_text
from foncier.scenarios import query_claims

router = APIRouter(prefix="/match", tags=["matching"])

_EXAMPLES = {
    "logistique": {
        "summary": "2,5 ha, pente ≤ 6 %, échangeur ≤ 5 km",
        "value": {"area_min_ha": 2.5, "max_slope_pct": 6, "max_dist_interchange_km": 5, "k": 5},
    },
    "seveso": {
        "summary": "Une usine Seveso embranchée fer, budgets groupés par EPCI",
        "value": {"area_min_ha": 4, "seveso": True, "needs_rail": True, "pool": "epci"},
    },
    "scenario": {
        "summary": "3 ha, avec ce que prend déjà de chaque unité un scénario terminé",
        "value": {"area_min_ha": 3, "scenario_id": "S-20261127221500-a1b2c3"},
    },
}
#: Fields of a query that are not the project's.
_NOT_PROJECT = {"k", "pool", "rules", "scenario_id"}
#: What an answer without a scenario leaves out (the same bytes as before the scenario fields).
_WITHOUT_SCENARIO: dict[str, Any] = {
    "scenario_id": True,
    "scenario_name": True,
    "candidates": {"__all__": set(SCENARIO_CLAIM_FIELDS)},
}


@router.post(
    "/query",
    response_model=MatchResponse,
    responses={
        400: {
            "model": ErrorOut,
            "description": "Le scénario a été calculé sur une autre offre foncière",
        },
        404: {"model": ErrorOut, "description": "Jeu de règles ou scénario inconnu"},
        409: {
            "model": ErrorOut,
            "description": "Le calcul du scénario n'est pas terminé, ou a échoué",
        },
        422: {"model": ErrorOut, "description": "area_min_ha manquant ou champ hors limites"},
    },
    description=(
        "Unités foncières faisables pour les exigences d'un projet, avec score, coût ZAN et "
        "raisons.\n\n"
        "Les unités dont le coût en ENAF tient dans le budget restant de leur groupement (net des "
        "implantations validées) viennent d'abord, puis par score. Le projet est contrôlé avec "
        "les règles de la couche des projets avant tout calcul : un nombre négatif, infini ou "
        "invraisemblable, ou une surface plus grande que le territoire → 422 nommant le champ.\n\n"
        "Avec `scenario_id`, un scénario terminé du service, chaque unité dit aussi ce que ce "
        "scénario prend déjà de son terrain et du budget de son groupement, et si le projet y "
        "tient après le scénario (ce qui reste après le scénario) ; ses implantations "
        "validées depuis ne comptent qu'une fois. Scénario inconnu → 404, pas terminé → 409, "
        "calculé sur une autre offre foncière → 400."
    ),
    summary="Meilleures unités foncières pour un projet",
)
async def match_query(
    ctx: Context, body: Annotated[MatchQuery, Body(openapi_examples=_EXAMPLES)]
) -> Response:
    """Feasible land units for one project's requirements, with score, ZAN cost and reasons.

    Units whose ENAF cost fits the remaining budget of their pool (net of
    validated placements) come first, then by score.  The project is checked
    with the rules of the projects layer before anything is computed: a
    negative, infinite or implausible number, or an area larger than the
    territory → 422 naming the field.

    With ``scenario_id``, a finished scenario of the service, each unit also
    says what that scenario already takes of its land and of its pool's
    budget, and whether the project still fits once it is counted; its
    placements validated since count once, as decisions.  An unknown
    scenario → 404, one not finished → 409, one computed on another land
    supply → 400.
    """
    # with the inputs prepared at the log's current version and no scenario to read, the
    # answer takes about a millisecond of CPU: given on the event loop, as a hop to the
    # thread pool costs more under load; preparing inputs or reading a result goes there
    query = (
        None if body.scenario_id is not None else ctx.current_query_inputs(body.pool, body.rules)
    )
    if query is not None:
        return _answer(ctx, body, query)
    return await run_in_threadpool(_answer, ctx, body, None)


def _answer(ctx: ServiceContext, body: MatchQuery, query: QueryInputs | None) -> Response:
    """The answer of :func:`match_query` (``query``: the inputs, when already prepared)."""
    # the one project, validated as a record with the projects layer schema (LayerSchemaError),
    # then with the rules the schema cannot state: a commune of the territory, an area
    # within the territory's
    project = project_record(body.model_dump(exclude=_NOT_PROJECT, exclude_none=True))
    record_in_territory(project, ctx.territory_limits())
    result = None if body.scenario_id is None else finished_result(ctx, body.scenario_id)
    # units, pools, their arrays and the place names, prepared once per decision-log version
    query = query or ctx.query_inputs(body.pool, body.rules)
    # filtered, scored and ranked on arrays; the k rows kept are written as JSON values at
    # once, without a table
    columns = query_columns(
        project, query.prepared, k=body.k, charging=query.inputs.charging, validated=True
    )
    if result is None:
        rows = column_records(columns)
    else:
        top = pd.DataFrame(columns)
        if len(top):
            top = query_claims(
                top,
                result,
                query.inputs,
                supply=ctx.data.units,
                area_ha=float(project[Col.AREA_MIN_HA]),
                where=f" ({body.scenario_id})",
            )
        rows = records(top)
    # the place names of with_place_names, looked up per row; the answer is serialised
    # by pydantic-core from the model (typed by its fields, the schema the OpenAPI gives),
    # not validated again on the way out
    answer = MatchResponse.model_construct(
        requirements=requirements_text(project),
        pool=body.pool,
        rules=query.inputs.rules.name,
        candidates=[
            MatchCandidate.model_construct(**row, **query.labels[row[UnitCol.UNIT_ID]])
            for row in rows
        ],
        scenario_id=body.scenario_id,
        scenario_name=None if result is None else str(result.audit.get("name", "")),
    )
    exclude = _WITHOUT_SCENARIO if result is None else None
    return Response(answer.model_dump_json(exclude=exclude), media_type="application/json")
