"""``/health`` and ``/territory``: liveness and what the territory holds."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Context
from api.models import Health, TerritorySummary
from api.tables import jsonable
from foncier import __version__

router = APIRouter(tags=["territory"])


@router.get(
    "/health",
    response_model=Health,
    description=(
        "Indique que le service répond, le territoire qu'il sert et le nombre d'unités foncières "
        "trouvées."
    ),
    summary="État du service et territoire servi",
)
def health(ctx: Context) -> Health:
    """Say the service is up, which territory it serves and how many land units it found."""
    return Health(
        version=__version__,
        territory=ctx.territory.name,
        synthetic=ctx.territory.synthetic,
        land_units=len(ctx.data.units),
    )


@router.get(
    "/territory",
    response_model=TerritorySummary,
    description=(
        "Effectifs et surfaces de chaque couche, années ENAF, totaux des projets : comme `foncier "
        "info`."
    ),
    summary="Synthèse du territoire (foncier info)",
)
def territory(ctx: Context) -> TerritorySummary:
    """Counts and areas of every layer, ENAF years, project totals: as ``foncier info``."""
    summary = jsonable(ctx.data.summary())
    return TerritorySummary(data_label=ctx.territory.data_label, **summary)
