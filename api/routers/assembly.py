"""``/assemble``: the best contiguous sites of X ha across land units (land assembly)."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Body

from api.deps import Context
from api.models import AssembledSite, AssemblyQuery, AssemblyResponse, ErrorOut
from api.tables import records
from foncier.land_assembly import assemble_sites
from foncier.layers import Col
from foncier.projects import project_frame, project_requirements, validate_projects

router = APIRouter(prefix="/assemble", tags=["matching"])

_EXAMPLES = {
    "douze_hectares": {
        "summary": "12 ha, 3 propriétaires au plus",
        "value": {"area_min_ha": 12, "max_owners": 3, "k": 3},
    },
    "logistique": {
        "summary": "6 ha près d'un échangeur, pente ≤ 5 %",
        "value": {"area_min_ha": 6, "max_dist_interchange_km": 5, "max_slope_pct": 5},
    },
}
_NOT_PROJECT = {"k", "pool", "rules", "max_owners"}


@router.post(
    "",
    response_model=AssemblyResponse,
    responses={
        404: {"model": ErrorOut, "description": "Jeu de règles inconnu"},
        422: {"model": ErrorOut, "description": "area_min_ha manquant ou champ hors limites"},
    },
    description=(
        "Sites d'un seul tenant d'au moins `area_min_ha`, formés de parcelles candidates.\n\n"
        "Les sites ignorent les limites des unités foncières ; ils sont classés par nombre de "
        "propriétaires, part publique (la plus grande d'abord), ENAF et score du projet, et "
        "respectent les exigences du projet. Chaque site liste ses parcelles et vient avec son "
        "polygone (GeoJSON, WGS84)."
    ),
    summary="Meilleurs sites d'un seul tenant d'une surface donnée, entre unités foncières",
)
def assemble(
    ctx: Context, body: Annotated[AssemblyQuery, Body(openapi_examples=_EXAMPLES)]
) -> AssemblyResponse:
    """Contiguous sites of at least ``area_min_ha`` grown over candidate parcels.

    Sites ignore the land units' boundaries; they are ranked by number of
    owners, public share (largest first), ENAF and the project's score, and
    must meet the project's requirements.  Each site lists its parcels and
    comes with its polygon (GeoJSON, WGS84).
    """
    project = body.model_dump(exclude=_NOT_PROJECT, exclude_none=True)
    validate_projects(project_frame(project), ctx.territory.communes)
    rules = ctx.rule_set(body.rules)
    sites = assemble_sites(
        ctx.territory,
        body.area_min_ha,
        {k: v for k, v in project.items() if k != Col.AREA_MIN_HA},
        max_owners=body.max_owners,
        k=body.k,
        rules=rules,
        pool=body.pool,
        decisions=ctx.decisions(),
    )
    geometries = [f["geometry"] for f in sites.to_crs("EPSG:4326").to_geo_dict()["features"]]
    fields = body.model_dump(exclude=_NOT_PROJECT)
    requirements = project_requirements(pd.DataFrame([{Col.PROJECT_ID: "requête", **fields}]))
    return AssemblyResponse(
        requirements=str(requirements["text"].iloc[0]),
        pool=body.pool,
        rules=rules.name,
        sites=[
            AssembledSite(**row, geometry=geometry)
            for row, geometry in zip(records(pd.DataFrame(sites)), geometries, strict=True)
        ],
    )
