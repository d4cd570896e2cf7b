"""The fixed lists a user chooses from: pooling levels, objectives, constraint kinds.

Defined here, in a module that imports nothing but the standard library, so
that the command line can build its options (``click.Choice``) and print its
help without loading pandas, geopandas or shapely.  The library modules that
own each list (:mod:`foncier.zan.rules`, :mod:`foncier.assignment`,
:mod:`foncier.layers`, :mod:`foncier.assumptions`) import them from here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Literal, get_args

__all__ = [
    "CONSTRAINT_KINDS",
    "DEFAULT_RULES",
    "GUARANTEE_UNKNOWN_CHOICES",
    "LAYER_LABELS",
    "OBJECTIVES",
    "OBJECTIVE_LABELS",
    "POOL_LABELS",
    "POOL_LEVELS",
    "Objective",
    "PoolLevel",
    "code_of",
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

#: French phrase of each pooling level, as a phrase after "budgets".
POOL_LABELS: dict[str, str] = {
    "commune": "par commune",
    "epci": "mutualisés par EPCI",
    "scot": "mutualisés par SCoT",
}
#: French label of each objective of the assignment (:data:`foncier.assignment.OBJECTIVES`).
OBJECTIVE_LABELS: dict[str, str] = {
    "jobs": "emplois",
    "score": "score",
    "min_enaf": "sobriété",
    "friches_first": "friches d'abord",
}


def _folded(text: str) -> str:
    """``text`` lower-cased, without accents, spaces, apostrophes, hyphens or underscores."""
    bare = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in bare if c.isalnum() and not unicodedata.combining(c))


def code_of(value: str, labels: Mapping[str, str]) -> str | None:
    """The code that ``value`` names: a code of ``labels`` or its French label.

    Case, accents, spaces, apostrophes, hyphens and underscores are ignored, so
    that ``"friches d'abord"``, ``"friches-dabord"`` and ``"friches_first"`` all
    name the same code.

    Parameters
    ----------
    value
        What a user typed: an English code (for scripts) or a French label.
    labels
        Code → French label (e.g. :data:`OBJECTIVE_LABELS`).

    Returns
    -------
    str or None
        The code, or ``None`` when ``value`` names none.

    Examples
    --------
    >>> code_of("Sobriete", OBJECTIVE_LABELS), code_of("friches_first", OBJECTIVE_LABELS)
    ('min_enaf', 'friches_first')
    >>> code_of("jobz", OBJECTIVE_LABELS) is None
    True
    """
    key = _folded(value)
    for code, label in labels.items():
        if key in (_folded(code), _folded(label)):
            return code
    return None
