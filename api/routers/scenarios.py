"""``/scenarios``: run scenarios in the background, read their results, compare them."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, BackgroundTasks, Body, Path, Query, status

from api.context import ServiceContext
from api.deps import WRITE_RESPONSES, Context, WriteAccess
from api.errors import ScenarioNotReadyError
from api.models import (
    AssignmentList,
    BudgetValueList,
    Comparison,
    ErrorOut,
    ScenarioIn,
    ScenarioList,
    ScenarioOut,
    UnmatchedList,
)
from api.state import ScenarioRecord
from api.tables import jsonable, records
from foncier.errors import FoncierError, InfeasibleError, NotFoundError
from foncier.layers import Col
from foncier.scenarios import Scenario, ScenarioResult, compare, compare_projects
from foncier.scoring import Weights

router = APIRouter(prefix="/scenarios", tags=["scenarios"])
logger = logging.getLogger("foncier.api")

ScenarioId = Annotated[str, Path(max_length=100, examples=["S-20261127221500-a1b2c3"])]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Scénario inconnu"}
}
_NOT_READY: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "Le calcul n'est pas terminé, ou a échoué"}
}
_EXAMPLES = {
    "jobs": {"summary": "Le plus d'emplois, budgets par commune", "value": {"name": "emplois"}},
    "sobriety": {
        "summary": "Le moins d'ENAF, budgets groupés par EPCI",
        "value": {"name": "sobriété", "objective": "min_enaf", "pool": "epci"},
    },
}

#: French wording of a scenario's status (the body keeps the code).
_STATUS_FR = {"queued": "en attente", "running": "en cours", "failed": "en échec"}


def scenario_out(record: ScenarioRecord, ctx: ServiceContext | None = None) -> ScenarioOut:
    """The API view of a stored scenario, with its progress while it runs."""
    data = dict(vars(record))
    if ctx is not None and record.status == "running":
        data["progress"] = ctx.progress.get(record.scenario_id)
    return ScenarioOut.model_validate(data, from_attributes=False)


def finished_result(ctx: ServiceContext, scenario_id: str) -> ScenarioResult:
    """The result of a finished scenario.

    Raises
    ------
    NotFoundError
        Unknown scenario (404).
    ScenarioNotReadyError
        Queued, running or failed (409).
    """
    record = ctx.store.get_scenario(scenario_id)
    if record.status != "done" or record.result_dir is None:
        detail = f": {record.error}" if record.error else ""
        msg = (
            f"le scénario « {scenario_id} » est {_STATUS_FR.get(record.status, record.status)}"
            f"{detail} ; ses résultats existent quand son statut est « done » "
            "(interrogez GET /scenarios/{id})"
        )
        raise ScenarioNotReadyError(msg)
    return ctx.result(scenario_id, record.result_dir)


def _projects(ctx: ServiceContext, wanted: list[str] | None) -> pd.DataFrame:
    stored = ctx.store.list_projects()
    if wanted is not None:
        known = {p[Col.PROJECT_ID] for p in stored}
        unknown = sorted(set(wanted) - known)
        if unknown:
            msg = (
                f"projet(s) inconnu(s) : {', '.join(unknown[:10])} ; "
                "la liste des projets est sous GET /projects"
            )
            raise NotFoundError(msg)
        stored = [p for p in stored if p[Col.PROJECT_ID] in set(wanted)]
    decided = ctx.validated_project_ids()
    left = [p for p in stored if p[Col.PROJECT_ID] not in decided]
    if not left:
        msg = (
            "aucun projet à placer : chaque projet choisi est déjà validé, ou aucun n'est "
            "enregistré ; ajoutez des projets avec POST /projects"
        )
        raise InfeasibleError(msg)
    return pd.DataFrame(left)


def _run(ctx: ServiceContext, scenario_id: str, body: ScenarioIn, projects: pd.DataFrame) -> None:
    """Run a scenario and store its result folder and summary (background task)."""
    ctx.store.set_scenario_status(scenario_id, "running")
    try:
        result = Scenario(
            ctx.territory,
            projects=projects,
            rules=ctx.rule_set(body.rules),
            pool=body.pool,
            weights=Weights(**body.weights.model_dump()) if body.weights else None,
            objective=body.objective,
            decisions=ctx.decisions(),
            time_limit=body.time_limit_s,
            sensitivity=body.sensitivity,
            units=ctx.data.units,
            name=body.name,
        ).run(on_progress=lambda state: ctx.progress.__setitem__(scenario_id, state))
        folder = result.to_folder(ctx.store.scenarios_dir / scenario_id)
        summary = {
            "totals": jsonable(result.totals),
            "audit": jsonable(result.audit),
            "summary_fr": result.summary_fr(),
        }
    except FoncierError as exc:
        ctx.store.set_scenario_status(scenario_id, "failed", error=str(exc))
        return
    except Exception as exc:
        logger.exception("scenario %s failed", scenario_id)
        ctx.store.set_scenario_status(
            scenario_id,
            "failed",
            error=f"erreur interne du service ({type(exc).__name__} : {exc}) ; le journal du "
            f"service en donne le détail sous l'identifiant {scenario_id}",
        )
        return
    finally:
        ctx.progress.pop(scenario_id, None)
    ctx.store.set_scenario_status(scenario_id, "done", summary=summary, result_dir=str(folder))


@router.post(
    "",
    response_model=ScenarioOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[WriteAccess],
    responses={
        **WRITE_RESPONSES,
        404: {"model": ErrorOut, "description": "Projet ou jeu de règles inconnu"},
        422: {
            "model": ErrorOut,
            "description": "Aucun projet à implanter, ou paramètres invalides",
        },
    },
    description=(
        "Met en file un scénario sur les projets enregistrés ; suivez son statut par `GET "
        "/scenarios/{id}`.\n\n"
        "Les projets déjà validés par le groupe de travail ne sont pas placés de nouveau : leurs "
        "ENAF sont engagés dans les budgets et leur surface est retirée de leur unité foncière. "
        "Le résultat est écrit dans le dossier d'état."
    ),
    summary="Lancer un scénario (en arrière-plan)",
)
def create_scenario(
    ctx: Context,
    background: BackgroundTasks,
    body: Annotated[ScenarioIn, Body(openapi_examples=_EXAMPLES)],
) -> ScenarioOut:
    """Queue a scenario over the stored projects; poll ``GET /scenarios/{id}`` for its status.

    Projects already validated by the working group are not placed again:
    their ENAF is committed in the budgets and their area taken off their
    land unit.  The result is written to the state folder.
    """
    ctx.rule_set(body.rules)
    projects = _projects(ctx, body.project_ids)
    record = ctx.store.add_scenario(body.name, body.model_dump(mode="json"))
    background.add_task(_run, ctx, record.scenario_id, body, projects)
    return scenario_out(record)


@router.get(
    "",
    response_model=ScenarioList,
    description=(
        "Les scénarios calculés, du plus ancien au plus récent, avec leur statut et leurs totaux."
    ),
    summary="Tous les scénarios",
)
def list_scenarios(ctx: Context) -> ScenarioList:
    """Scenario runs, oldest first, with their status and totals."""
    items = [scenario_out(r, ctx) for r in ctx.store.list_scenarios()]
    return ScenarioList(count=len(items), scenarios=items)


@router.get(
    "/compare",
    response_model=Comparison,
    responses={**_NOT_FOUND, **_NOT_READY},
    description=(
        "Emplois placés, ha d'ENAF consommés, friches réutilisées, projets déplacés ou non "
        "implantés (b − a)."
    ),
    summary="Deux scénarios comparés",
)
def compare_scenarios(
    ctx: Context,
    a: Annotated[str, Query(max_length=100, description="Identifiant du premier scénario")],
    b: Annotated[str, Query(max_length=100, description="Identifiant du second scénario")],
) -> Comparison:
    """Jobs placed, ha of ENAF consumed, friches reused, projects moved or left out (b − a)."""
    ra, rb = finished_result(ctx, a), finished_result(ctx, b)
    table = compare(ra, rb).reset_index()
    rows: list[dict[str, Any]] = [
        {str(k): jsonable(v) for k, v in row.items()} for row in table.to_dict("records")
    ]
    return Comparison.model_validate(
        {"a": a, "b": b, "indicators": rows, "projects": records(compare_projects(ra, rb))}
    )


@router.get(
    "/{scenario_id}",
    response_model=ScenarioOut,
    responses=_NOT_FOUND,
    description=(
        "Statut, paramètres et, une fois terminé, totaux, trace d'audit et synthèse en français ; "
        "pendant le calcul, sa progression (`progress`)."
    ),
    summary="Un scénario",
)
def get_scenario(ctx: Context, scenario_id: ScenarioId) -> ScenarioOut:
    """Status, parameters, and once done its totals, audit record and French summary."""
    return scenario_out(ctx.store.get_scenario(scenario_id), ctx)


@router.get(
    "/{scenario_id}/assignments",
    response_model=AssignmentList,
    responses={**_NOT_FOUND, **_NOT_READY},
    description=(
        "Chaque projet implanté, avec son unité, sa surface, son coût en ENAF, son score et son "
        "explication."
    ),
    summary="Implantations d'un scénario",
)
def get_assignments(ctx: Context, scenario_id: ScenarioId) -> AssignmentList:
    """Each placed project with its unit, area, ENAF cost, score and explanation."""
    rows = records(finished_result(ctx, scenario_id).assignments)
    return AssignmentList.model_validate(
        {"scenario_id": scenario_id, "count": len(rows), "assignments": rows}
    )


@router.get(
    "/{scenario_id}/budget-values",
    response_model=BudgetValueList,
    responses={
        404: {"model": ErrorOut, "description": "Scénario inconnu, ou calculé sans sensibilité"},
        **_NOT_READY,
    },
    description=(
        "Emplois gagnés par un hectare de plus dans chaque groupement (scénario calculé avec "
        "`sensitivity`) ; 404 pour un scénario calculé sans l'étape de sensibilité."
    ),
    summary="Valeur d'un hectare de budget de plus par groupement",
)
def get_budget_values(ctx: Context, scenario_id: ScenarioId) -> BudgetValueList:
    """Jobs gained by one more hectare in each pool (scenario run with ``sensitivity``).

    Raises
    ------
    NotFoundError
        Unknown scenario, or one run without the sensitivity step (404).
    """
    result = finished_result(ctx, scenario_id)
    if not result.totals.get("sensitivity"):
        msg = (
            f"le scénario {scenario_id} a été calculé sans l'étape de sensibilité : la valeur "
            "d'un hectare de budget de plus n'existe pas pour lui ; relancez-le avec "
            "« sensitivity » : true"
        )
        raise NotFoundError(msg)
    rows = records(result.budget_values)
    return BudgetValueList.model_validate(
        {"scenario_id": scenario_id, "count": len(rows), "budget_values": rows}
    )


@router.get(
    "/{scenario_id}/unmatched",
    response_model=UnmatchedList,
    responses={**_NOT_FOUND, **_NOT_READY},
    description=(
        "Chaque projet non implanté, avec son code de raison, son explication et ce qui le "
        "débloquerait."
    ),
    summary="Projets non implantés par un scénario",
)
def get_unmatched(ctx: Context, scenario_id: ScenarioId) -> UnmatchedList:
    """Each project left out with its reason code, explanation and what would unlock it."""
    rows = records(finished_result(ctx, scenario_id).unmatched)
    return UnmatchedList.model_validate(
        {"scenario_id": scenario_id, "count": len(rows), "unmatched": rows}
    )
