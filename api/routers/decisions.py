"""Decisions of the working group on placements: an append-only log."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Body, Query, status

from api.deps import WRITE_RESPONSES, Context, WriteAccess
from api.models import Decision, DecisionIn, DecisionList, ErrorOut
from api.routers.scenarios import ScenarioId, finished_result
from foncier.errors import NotFoundError
from foncier.layers import Col, UnitCol

router = APIRouter(tags=["decisions"])


@router.post(
    "/scenarios/{scenario_id}/decisions",
    response_model=Decision,
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteAccess],
    responses={
        **WRITE_RESPONSES,
        404: {"model": ErrorOut, "description": "Scénario inconnu, ou projet qu'il n'implante pas"},
        409: {"model": ErrorOut, "description": "Le calcul du scénario n'est pas terminé"},
    },
    description=(
        "Enregistre la décision du groupe de travail sur une implantation d'un scénario "
        "terminé.\n\n"
        "Le journal ne fait que s'allonger ; la dernière décision sur un projet l'emporte. Une "
        "implantation validée compte en `committed_ha` (ses ENAF) dans les tableaux ZAN, requêtes "
        "et scénarios suivants, et les parcelles de son lot sont retirées de son unité foncière "
        "(aucun lot ni site assemblé ultérieur ne les utilise)."
    ),
    summary="Valider ou rejeter une implantation",
)
def add_decision(
    ctx: Context, scenario_id: ScenarioId, body: Annotated[DecisionIn, Body()]
) -> Decision:
    """Record the working group's decision on one placement of a finished scenario.

    The log is append-only; the latest decision on a project wins.  A
    validated placement counts as ``committed_ha`` (its ENAF) in later ZAN
    tables, queries and scenarios, and the parcels of its lot are taken off
    its land unit (no later lot or assembled site uses them).
    """
    assignments = finished_result(ctx, scenario_id).assignments
    row = assignments[assignments[Col.PROJECT_ID].astype(str) == body.project_id]
    if row.empty:
        placed = assignments[Col.PROJECT_ID].astype(str).tolist()
        msg = (
            f"le projet « {body.project_id} » n'est pas placé par le scénario « {scenario_id} » ; "
            f"projets placés : {', '.join(placed[:20])}{' …' if len(placed) > 20 else ''}"
        )
        raise NotFoundError(msg)
    placed_row = row.iloc[0]
    record = ctx.store.add_decision(
        scenario_id=scenario_id,
        project_id=body.project_id,
        unit_id=str(placed_row[UnitCol.UNIT_ID]),
        insee=str(placed_row[Col.INSEE]),
        decision=body.decision,
        area_ha=float(placed_row["area_ha"]),
        enaf_ha=float(placed_row["enaf_ha"]),
        author=body.author,
        comment=body.comment,
        idus=_lot_idus(placed_row),
    )
    return Decision(**vars(record))


def _lot_idus(placement: pd.Series) -> str | None:
    """The parcels of a placement's lot, ``None`` when it lists none."""
    idus = placement.get(UnitCol.IDUS)
    return str(idus) if isinstance(idus, str) and idus.strip() else None


@router.get(
    "/decisions",
    response_model=DecisionList,
    description=(
        "Toutes les décisions dans l'ordre, et les ENAF engagés par les implantations validées."
    ),
    summary="Journal des décisions",
)
def list_decisions(
    ctx: Context,
    scenario_id: Annotated[
        str | None, Query(max_length=100, description="Seulement les décisions de ce scénario")
    ] = None,
) -> DecisionList:
    """Every decision in order, and the ENAF committed by the validated placements."""
    items = [Decision(**vars(r)) for r in ctx.store.list_decisions(scenario_id)]
    return DecisionList(
        count=len(items),
        committed_ha=float(ctx.committed()["committed_ha"].sum()),
        decisions=items,
    )
