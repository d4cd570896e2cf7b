"""The fixed lists a user chooses from: pooling levels, objectives, constraint kinds.

Defined here, in a module that imports nothing but the standard library, so
that the command line can build its options (``click.Choice``) and print its
help without loading pandas, geopandas or shapely.  The library modules that
own each list (:mod:`foncier.zan.rules`, :mod:`foncier.assignment`,
:mod:`foncier.layers`, :mod:`foncier.assumptions`) import them from here.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CONSTRAINT_KINDS",
    "DEFAULT_RULES",
    "GUARANTEE_UNKNOWN_CHOICES",
    "LAYER_LABELS",
    "OBJECTIVES",
    "POOL_LEVELS",
    "Objective",
    "PoolLevel",
]

PoolLevel = Literal["commune", "epci", "scot"]
#: The pooling levels, most specific first (the one list of them: CLI, service, library).
POOL_LEVELS: tuple[PoolLevel, ...] = get_args(PoolLevel)
#: Name of the rule set used when none is given.
DEFAULT_RULES = "climat-resilience-2023"
#: What to do with the garantie communale of a commune whose planning status is unknown.
GUARANTEE_UNKNOWN_CHOICES: tuple[str, ...] = ("refuse", "apply")

Objective = Literal["jobs", "score", "min_enaf", "friches_first"]
#: The objectives (the one list of them: CLI, service, library).
OBJECTIVES: tuple[Objective, ...] = get_args(Objective)

#: Kinds of constraint layers.
CONSTRAINT_KINDS = (
    "ppri_red",
    "ppri_blue",
    "natura2000",
    "znieff1",
    "znieff2",
    "seveso_zone",
    "heritage",
    "other",
)

#: French names of the layers and tables of a territory.
LAYER_LABELS: dict[str, str] = {
    "communes": "communes",
    "parcels": "parcelles",
    "plu_zones": "zonage PLU",
    "zae": "ZAE",
    "zae_plots": "terrains de ZAE",
    "friches": "friches",
    "constraints": "contraintes",
    "infrastructure": "infrastructures",
    "enaf_consumption": "consommation ENAF",
    "projects": "projets",
    "dem": "MNT",
    "planning_docs": "documents d'urbanisme",
}
