"""``/projects``: the industrial projects, stored by the service (create, read, replace, delete)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Body, Path, Response, status

from api.deps import WRITE_RESPONSES, Context, WriteAccess
from api.errors import ConflictError
from api.models import ErrorOut, Project, ProjectIn, ProjectList
from api.tables import records
from foncier.layers import Col
from foncier.projects import validate_projects

router = APIRouter(prefix="/projects", tags=["projects"])

_EXAMPLE = {
    "usine": {
        "summary": "Une usine de 2,5 à 3 ha près d'un échangeur",
        "value": {
            "project_id": "P-200",
            "name": "Usine de recyclage",
            "sector": "chimie",
            "area_min_ha": 2.5,
            "area_max_ha": 3.0,
            "jobs": 40,
            "investment_eur": 12000000,
            "max_dist_interchange_km": 5,
            "max_slope_pct": 6,
            "seveso": False,
        },
    }
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_RESPONSES,
    422: {"model": ErrorOut, "description": "Un champ enfreint le schéma de la couche des projets"},
}
ProjectId = Annotated[str, Path(max_length=100, examples=["P-001"])]


def validated_project(ctx: Context, project_id: str, body: ProjectIn) -> dict[str, Any]:
    """One project's fields checked by :func:`foncier.projects.validate_projects`.

    The same rules as a projects file: schema types and minimums,
    ``area_min_ha ≤ area_max_ha``, ``preferred_insee`` a commune of the
    territory.  Raises ``LayerSchemaError`` (422, naming the column).
    """
    data = {Col.PROJECT_ID: project_id, **body.model_dump(exclude={"project_id"})}
    table = validate_projects(pd.DataFrame([data]), ctx.territory.communes)
    return records(table)[0]


@router.get(
    "",
    response_model=ProjectList,
    description=(
        "Tous les projets enregistrés, triés par identifiant (au premier démarrage, ceux du "
        "territoire)."
    ),
    summary="Tous les projets",
)
def list_projects(ctx: Context) -> ProjectList:
    """All stored projects, ordered by id (the territory's projects at first start)."""
    projects = [Project(**p) for p in ctx.store.list_projects()]
    return ProjectList(count=len(projects), projects=projects)


@router.post(
    "",
    response_model=Project,
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteAccess],
    responses={**_WRITE_ERRORS, 409: {"model": ErrorOut, "description": "project_id déjà pris"}},
    description="Valide et enregistre un nouveau projet (`project_id` généré s'il est omis).",
    summary="Créer un projet",
)
def create_project(
    ctx: Context, body: Annotated[ProjectIn, Body(openapi_examples=_EXAMPLE)]
) -> Project:
    """Validate and store a new project (``project_id`` generated when omitted)."""
    project_id = body.project_id or f"P-{uuid.uuid4().hex[:8]}"
    data = validated_project(ctx, project_id, body)
    ctx.store.put_project(project_id, data, create=True)
    return Project(**data)


@router.get(
    "/{project_id}",
    response_model=Project,
    responses={404: {"model": ErrorOut, "description": "Projet inconnu"}},
    description="Les champs d'un projet enregistré.",
    summary="Un projet",
)
def get_project(ctx: Context, project_id: ProjectId) -> Project:
    """A stored project's fields."""
    return Project(**ctx.store.get_project(project_id))


@router.put(
    "/{project_id}",
    response_model=Project,
    dependencies=[WriteAccess],
    responses={
        **_WRITE_ERRORS,
        404: {"model": ErrorOut, "description": "Projet inconnu"},
        409: {
            "model": ErrorOut,
            "description": "Le project_id du corps diffère de celui du chemin",
        },
    },
    description="Valide et remplace tous les champs d'un projet enregistré.",
    summary="Remplacer un projet",
)
def replace_project(
    ctx: Context,
    project_id: ProjectId,
    body: Annotated[ProjectIn, Body(openapi_examples=_EXAMPLE)],
) -> Project:
    """Validate and replace every field of a stored project."""
    if body.project_id is not None and body.project_id != project_id:
        msg = (
            f"le project_id du corps (« {body.project_id} ») diffère de celui du chemin "
            f"(« {project_id} ») ; retirez-le du corps ou donnez le même"
        )
        raise ConflictError(msg)
    data = validated_project(ctx, project_id, body)
    ctx.store.put_project(project_id, data, create=False)
    return Project(**data)


@router.delete(
    "/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[WriteAccess],
    responses={
        **WRITE_RESPONSES,
        404: {"model": ErrorOut, "description": "Projet inconnu"},
        409: {
            "model": ErrorOut,
            "description": "Des décisions validées renvoient au projet (`decision_ids` les liste)",
        },
    },
    description=(
        "Supprime un projet enregistré, sauf si des décisions validées y renvoient.\n\n"
        "Un projet dont le groupe de travail a validé l'implantation compte dans les ENAF "
        "engagés, et le journal des décisions ne fait que s'allonger : le supprimer laisserait au "
        "journal un identifiant orphelin. Une telle suppression répond **409** avec les "
        "identifiants de ces décisions (`decision_ids`) ; modifiez le projet par PUT, ou "
        "enregistrez d'abord une décision `rejected` sur son implantation. Un projet qui n'a que "
        "des décisions rejetées peut être supprimé (le journal les garde)."
    ),
    summary="Supprimer un projet",
)
def delete_project(ctx: Context, project_id: ProjectId) -> Response:
    """Delete a stored project, unless validated decisions refer to it.

    A project whose placement the working group validated counts in the
    committed ENAF, and the decision log is append-only: deleting it would
    leave the log with an orphan id.  Such a delete answers **409** with the
    ids of those decisions (``decision_ids``); change the project with PUT,
    or record a ``rejected`` decision on its placement first.  A project with
    only rejected decisions can be deleted (the log keeps them).
    """
    ctx.store.delete_project(project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
