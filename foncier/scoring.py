"""How well a land unit suits a project: the score of a feasible pair and its contributions.

The score of a feasible (project, unit) pair is a weighted sum of criteria in
[0, 1] (see :class:`Weights`), minus :attr:`Weights.unverified_penalty` per
requirement that could not be verified (see :mod:`foncier.feasibility`).
Each criterion's value is kept on the candidate pairs (``c_<criterion>``
columns) so that "why here" is a table (:func:`score_contributions`).

The functions work on numpy arrays already read from the tables by
:mod:`foncier.feasibility`, so that the units and projects are read once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from foncier.layers import Col, UnitCol
from foncier.texts import CRITERIA_FR

__all__ = ["Weights", "pair_criteria", "score", "score_contributions", "unit_criteria"]


@dataclass(frozen=True)
class Weights:
    """Weights of the score criteria; each criterion's value lies in [0, 1].

    The defaults sum to 1, so a score lies in [0, 1] before penalties.  An
    unknown criterion value counts as 0.

    Parameters
    ----------
    area_fit
        ``area_max_ha / net_area_ha`` capped at 1: large units are kept for
        large projects.
    interchange
        ``1 - dist_interchange_km / 20``: road access.
    slope
        ``1 - slope_mean_pct / 15``: earthworks.
    servicing
        ``1 - lead_years / 5``: how soon the unit is ready.
    enaf
        ``1 - enaf_share``: ZAN sobriety of the unit.
    friche
        1 for a friche (reuse of brownfield land).
    preferred_commune
        1 when the unit lies in the project's ``preferred_insee``.
    environment
        ``1 - max(flood_share, natura2000_share)``.
    compactness
        The unit's compactness (1 = disc).
    completeness
        The unit's data completeness.
    unverified_penalty
        Subtracted once per unverified requirement of the pair.

    Examples
    --------
    >>> round(sum(Weights().criteria.values()), 10)
    1.0
    """

    area_fit: float = 0.15
    interchange: float = 0.15
    slope: float = 0.10
    servicing: float = 0.10
    enaf: float = 0.15
    friche: float = 0.10
    preferred_commune: float = 0.10
    environment: float = 0.05
    compactness: float = 0.05
    completeness: float = 0.05
    unverified_penalty: float = 0.05

    @property
    def criteria(self) -> dict[str, float]:
        """Criterion name → weight (without the penalty)."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "unverified_penalty"
        }

    def to_dict(self) -> dict[str, float]:
        """All weights, for the audit record."""
        return asdict(self)


def _unit01(x: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.clip(x, 0.0, 1.0), nan=0.0)


def unit_criteria(
    *,
    slope_pct: np.ndarray,
    dist_interchange_km: np.ndarray,
    lead_years: np.ndarray,
    enaf_share: np.ndarray,
    is_friche: np.ndarray,
    flood_share: np.ndarray,
    natura2000_share: np.ndarray,
    compactness: np.ndarray,
    completeness: np.ndarray,
) -> dict[str, np.ndarray]:
    """The criteria that depend on the unit only, in [0, 1], one value per unit.

    Parameters
    ----------
    slope_pct, dist_interchange_km, lead_years, enaf_share, is_friche, flood_share,
    natura2000_share, compactness, completeness
        Aligned unit values (NaN: unknown, the criterion then counts 0).

    Returns
    -------
    dict of str to numpy.ndarray
        ``interchange``, ``slope``, ``servicing``, ``enaf``, ``friche``,
        ``environment``, ``compactness``, ``completeness``.

    Examples
    --------
    >>> one = np.array([np.nan])
    >>> c = unit_criteria(slope_pct=np.array([3.0]), dist_interchange_km=np.array([5.0]),
    ...                   lead_years=np.array([1.0]), enaf_share=np.array([0.25]),
    ...                   is_friche=np.array([False]), flood_share=one,
    ...                   natura2000_share=np.array([0.5]), compactness=one, completeness=one)
    >>> {k: float(v[0]) for k, v in c.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'interchange': 0.75, 'slope': 0.8, 'servicing': 0.8, 'enaf': 0.75, 'friche': 0.0,
     'environment': 0.5, 'compactness': 0.0, 'completeness': 0.0}
    """
    env_risk = np.fmax(flood_share, natura2000_share)
    return {
        "interchange": _unit01(1 - dist_interchange_km / 20.0),
        "slope": _unit01(1 - slope_pct / 15.0),
        "servicing": _unit01(1 - lead_years / 5.0),
        "enaf": _unit01(1 - enaf_share),
        "friche": is_friche.astype(float),
        "environment": _unit01(1 - env_risk),
        "compactness": _unit01(compactness),
        "completeness": _unit01(completeness),
    }


def pair_criteria(
    unit_values: Mapping[str, np.ndarray],
    *,
    area_max_ha: np.ndarray,
    net_area_ha: np.ndarray,
    preferred_insee: np.ndarray,
    insee: np.ndarray,
    n_unverified: np.ndarray,
) -> dict[str, np.ndarray]:
    """Criterion values of aligned pairs (vectorised over the pairs).

    Parameters
    ----------
    unit_values
        :func:`unit_criteria` of each pair's unit.
    area_max_ha, preferred_insee
        The project's largest area and preferred commune, per pair.
    net_area_ha, insee
        The unit's net area and commune, per pair.
    n_unverified
        Number of unverified requirements of each pair.

    Returns
    -------
    dict of str to numpy.ndarray
        ``area_fit``, the unit criteria, ``preferred_commune`` and
        ``unverified`` (the count, weighted by the penalty in :func:`score`).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = np.clip(area_max_ha / net_area_ha, 0.0, 1.0)
    out = {"area_fit": np.nan_to_num(fit, nan=0.0)}
    out.update(unit_values)
    out["preferred_commune"] = (pd.notna(preferred_insee) & (preferred_insee == insee)).astype(
        float
    )
    out["unverified"] = n_unverified
    return out


def score(criteria: Mapping[str, np.ndarray], weights: Weights) -> np.ndarray:
    """The score of pairs: weighted criteria minus the penalty per unverified requirement.

    Parameters
    ----------
    criteria
        Output of :func:`pair_criteria`.
    weights
        Score weights.

    Returns
    -------
    numpy.ndarray
        One score per pair.

    Examples
    --------
    >>> crit = {name: np.array([1.0]) for name in Weights().criteria}
    >>> float(score({**crit, "unverified": np.array([2.0])}, Weights()).round(10)[0])
    0.9
    """
    total = -weights.unverified_penalty * criteria["unverified"]
    for name, w in weights.criteria.items():
        total = total + w * criteria[name]
    return total


def score_contributions(pairs: pd.DataFrame, weights: Weights | None = None) -> pd.DataFrame:
    """Long table of each criterion's contribution to the score of given pairs.

    Parameters
    ----------
    pairs
        Rows of :func:`foncier.feasibility.candidate_pairs` (with the
        ``c_<criterion>`` columns).
    weights
        The weights the scores were computed with.

    Returns
    -------
    pandas.DataFrame
        ``project_id, unit_id, criterion, label, value, weight, contribution``;
        the contributions of a pair add up to its score.
    """
    weights = weights or Weights()
    w = {**weights.criteria, "unverified": -weights.unverified_penalty}
    rows = []
    for name, wt in w.items():
        rows.append(
            pd.DataFrame(
                {
                    Col.PROJECT_ID: pairs[Col.PROJECT_ID].to_numpy(),
                    UnitCol.UNIT_ID: pairs[UnitCol.UNIT_ID].to_numpy(),
                    "criterion": name,
                    "label": CRITERIA_FR[name],
                    "value": pairs[f"c_{name}"].to_numpy(dtype=float),
                    "weight": wt,
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["contribution"] = out["value"] * out["weight"]
    return out.sort_values([Col.PROJECT_ID, UnitCol.UNIT_ID], kind="stable").reset_index(drop=True)
