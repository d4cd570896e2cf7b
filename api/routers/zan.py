"""``/zan``: ZAN budgets per commune, EPCI or SCoT, net of validated placements."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Context
from api.models import BudgetRow, BudgetTable, ErrorOut, PoolLevel
from api.tables import jsonable, records
from foncier.zan import STATUS_LABELS

router = APIRouter(prefix="/zan", tags=["zan"])


@router.get(
    "/budgets",
    response_model=BudgetTable,
    responses={404: {"model": ErrorOut, "description": "Jeu de règles inconnu"}},
    description=(
        "Enveloppe sur la période du jeu de règles, ENAF consommés, engagés et restants (ha) par "
        "groupement.\n\n"
        "`committed_ha` comprend les implantations validées par le groupe de travail (`POST "
        "/scenarios/{id}/decisions`) : le budget affiché est net de ce qui a été décidé."
    ),
    summary="Tableau des budgets ZAN",
)
def budgets(
    ctx: Context,
    pool: Annotated[PoolLevel, Query(description="Niveau de groupement des budgets")] = "commune",
    rules: Annotated[
        str | None,
        Query(
            max_length=200, description="Nom du jeu de règles (par défaut : climat-resilience-2023)"
        ),
    ] = None,
) -> BudgetTable:
    """Envelope over the rule set's period, consumed, committed and remaining ENAF (ha) per pool.

    ``committed_ha`` includes the placements the working group validated
    (``POST /scenarios/{id}/decisions``), so the budget shown is net of what
    has been decided.
    """
    table, caught = ctx.budgets(pool, rules)
    attrs = jsonable(table.attrs)
    return BudgetTable(
        pool=pool,
        rules=attrs["rules"],
        rules_version=attrs["rules_version"],
        enaf_vintage=attrs.get("enaf_vintage"),
        computed_at=attrs["computed_at"],
        target_period=attrs["target_period"],
        legal_status=attrs["legal_status"],
        legal_status_label=attrs["legal_status_label"],
        committed_ha=float(ctx.committed()["committed_ha"].sum()),
        status_labels=STATUS_LABELS,
        warnings=caught,
        rows=[BudgetRow(**row) for row in records(table)],
    )
