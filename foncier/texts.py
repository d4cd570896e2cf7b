"""French texts of the matching stages: a failed requirement, a relaxation hint, criterion labels.

These are the words the working group reads about one (project, unit) pair.
They live apart from the computations that produce the numbers
(:mod:`foncier.feasibility`, :mod:`foncier.scoring`) so that the wording is
reviewed and changed in one place without touching a computation, and so
that the computing modules stay free of presentation.  Whole sentences about
a placement or an unmatched project are composed from these pieces in
:mod:`foncier.explain`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from foncier._format import fr_compact

__all__ = ["CRITERIA_FR", "requirement_text"]


#: French labels of the score criteria (see :class:`foncier.scoring.Weights`).
CRITERIA_FR = {
    "area_fit": "adéquation de surface",
    "interchange": "accès routier",
    "slope": "pente",
    "servicing": "viabilisation",
    "enaf": "sobriété foncière (ENAF)",
    "friche": "réemploi de friche",
    "preferred_commune": "commune souhaitée",
    "environment": "risques et milieux",
    "compactness": "compacité",
    "completeness": "complétude des données",
    "unverified": "critères non vérifiés",
}


def requirement_text(requirement: str, value: float, limit: float, zone: Any = None) -> str:
    """The French sentence of one failed requirement, e.g. ``"pente 9,2 % > 6 %"``.

    Parameters
    ----------
    requirement
        One of :data:`foncier.feasibility.REQUIREMENTS`.
    value
        The unit's value.
    limit
        The project's limit.
    zone
        The unit's zone type (for ``zone``).

    Returns
    -------
    str
        Text for people.

    Examples
    --------
    >>> requirement_text("slope", 9.24, 6.0)
    'pente 9,2 % > 6 %'
    >>> requirement_text("zone", np.nan, 1.0, zone="A")
    "zone A incompatible avec l'industrie"
    >>> requirement_text("year", np.inf, 2030.0)
    'terrain non aménageable'
    """
    digits = 2 if requirement == "area" else 1
    v, lim = fr_compact(value, digits), fr_compact(limit, digits)
    if requirement == "zone":
        return f"zone {zone} incompatible avec l'industrie"
    if requirement == "area":
        return f"surface nette {v} ha < {lim} ha demandés"
    if requirement == "slope":
        return f"pente {v} % > {lim} %"
    if requirement == "interchange":
        return f"échangeur à {v} km > {lim} km"
    if requirement == "rail":
        return f"fret ferroviaire à {v} km > {lim} km"
    if requirement == "seveso":
        return f"habitations à {v} km < {lim} km (Seveso)"
    if not np.isfinite(value):
        return "terrain non aménageable"
    return f"disponible en {value:.0f}, après {limit:.0f} souhaité"
