"""``/match/query``: the best land units for one project, without running a scenario."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import Response

from api.deps import Context
from api.models import ErrorOut, MatchCandidate, MatchQuery, MatchResponse
from api.tables import records
from foncier.explain import query_prepared
from foncier.layers import UnitCol
from foncier.projects import project_record, record_in_territory, requirements_text

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
}


@router.post(
    "/query",
    response_model=MatchResponse,
    responses={
        404: {"model": ErrorOut, "description": "Jeu de règles inconnu"},
        422: {"model": ErrorOut, "description": "area_min_ha manquant ou champ hors limites"},
    },
    description=(
        "Unités foncières faisables pour les exigences d'un projet, avec score, coût ZAN et "
        "raisons.\n\n"
        "Les unités dont le coût en ENAF tient dans le budget restant de leur groupement (net des "
        "implantations validées) viennent d'abord, puis par score. Le projet est contrôlé avec "
        "les règles de la couche des projets avant tout calcul : un nombre négatif, infini ou "
        "invraisemblable, ou une surface plus grande que le territoire → 422 nommant le champ."
    ),
    summary="Meilleures unités foncières pour un projet",
)
def match_query(
    ctx: Context, body: Annotated[MatchQuery, Body(openapi_examples=_EXAMPLES)]
) -> Response:
    """Feasible land units for one project's requirements, with score, ZAN cost and reasons.

    Units whose ENAF cost fits the remaining budget of their pool (net of
    validated placements) come first, then by score.  The project is checked
    with the rules of the projects layer before anything is computed: a
    negative, infinite or implausible number, or an area larger than the
    territory → 422 naming the field.
    """
    # the one project, validated as a record with the projects layer schema (LayerSchemaError),
    # then with the rules the schema cannot state: a commune of the territory, an area
    # within the territory's
    project = project_record(body.model_dump(exclude={"k", "pool", "rules"}, exclude_none=True))
    record_in_territory(project, ctx.territory_limits())
    inputs = ctx.inputs(body.pool, body.rules)
    # units, pools and their arrays are prepared once per decision-log version
    top = query_prepared(
        project, ctx.query_units(body.pool, body.rules), k=body.k, charging=inputs.charging
    )
    # the place names of with_place_names, looked up per row; the answer is serialised
    # by pydantic-core from the model (typed by its fields, the schema the OpenAPI gives),
    # not validated again on the way out
    labels = ctx.place_labels()
    answer = MatchResponse.model_construct(
        requirements=requirements_text(project),
        pool=body.pool,
        rules=inputs.rules.name,
        candidates=[
            MatchCandidate.model_construct(**row, **labels[row[UnitCol.UNIT_ID]])
            for row in records(top)
        ],
    )
    return Response(answer.model_dump_json(), media_type="application/json")
