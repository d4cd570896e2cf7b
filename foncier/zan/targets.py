"""Territorialised ZAN targets: which one governs each commune, and the rate it gives it.

The SRADDET territorialises the national target per région or per SCoT, the
SCoT per EPCI or commune, a PLU(i) sets its own figure (loi 2021-1104 art.
194 I and III 1°-2°; code de l'urbanisme L.4251-1, L.141-3, L.151-5).  A rule
set's ``territorial_rates`` records those figures: each a reduction rate or
an envelope in hectares, with its source document, date and status.

Precedence: the most specific target covering a commune applies (commune,
then EPCI, then SCoT, then région, then the rule set's ``reduction_rate``),
whatever its status; the status (``adopted``, ``draft``, ``suggested``) is
shown with every figure, and a budget table lists the communes whose figure
rests on a target not adopted.  An envelope in hectares for an EPCI, a SCoT
or a région is first reduced by the envelopes of its members governed by a
more specific target, then shared among the communes it governs pro rata of
their reference consumption.  When ``guarantee_included`` is true the
hectares already contain the garantie communale: the floors of its eligible
communes are taken from them and the others share what is left (one scale
``s`` such that ``Σ max(s × baseline, floor) = hectares``); otherwise the
guarantee lifts envelopes on top of the hectares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from foncier._format import fr_number
from foncier.layers import Col
from foncier.zan.rules import TARGET_LEVELS, RuleSet, TerritorialRate

__all__ = ["TARGET_LEVEL_LABELS", "TARGET_STATUS_LABELS", "commune_targets"]

_LEVEL_COLUMNS = {"commune": Col.INSEE, "epci": Col.EPCI, "scot": Col.SCOT, "region": Col.REGION}
#: French names of the target levels (``default``: the rule set's own rate).
TARGET_LEVEL_LABELS: dict[str, str] = {
    "commune": "commune",
    "epci": "EPCI",
    "scot": "SCoT",
    "region": "région",
    "default": "règle générale",
    "mixed": "mixte",
}
#: French labels of the target statuses.
TARGET_STATUS_LABELS: dict[str, str] = {
    "adopted": "adopté",
    "draft": "projet arrêté",
    "suggested": "proposé",
    "mixed": "mixte",
}


def period_factor(rules: RuleSet) -> float:
    """Years of the target period per year of the reference period (1 for 2021-2031)."""
    (ref0, ref1), (t0, t1) = rules.reference_period, rules.target_period
    return (t1 - t0) / (ref1 - ref0)


def _share_scale(hectares: float, baseline: np.ndarray, floor: np.ndarray) -> float:
    """The scale ``s`` with ``Σ max(s × baseline, floor) = hectares`` (0 when floors exceed it)."""
    lifted = np.zeros(len(baseline), dtype=bool)
    scale = 0.0
    for _ in range(len(baseline) + 1):  # the lifted set only grows: at most n rounds
        rest = float(baseline[~lifted].sum())
        scale = max((hectares - float(floor[lifted].sum())) / rest, 0.0) if rest > 0 else 0.0
        now = (floor > 0) & (scale * baseline < floor)
        if (now == lifted).all():
            break
        lifted = now
    return scale


def _note(target: TerritorialRate, scope: str) -> str:
    """French description of a target: what, where, from which document, its status."""
    where = f"{TARGET_LEVEL_LABELS[target.level]} {scope}"
    if target.rate is not None:
        what = f"taux de réduction {fr_number(target.rate, 4)}"
    else:
        what = f"enveloppe de {fr_number(target.envelope_ha or 0.0, 2, 'ha')}"
        what += " garantie communale comprise" if target.guarantee_included else ""
        what += ", partagée au prorata de la consommation de référence"
    source = target.source or "source non précisée"
    when = f" du {target.date:%d/%m/%Y}" if target.date is not None else ""
    status = TARGET_STATUS_LABELS[target.status]
    return (
        f"cible {where} : {what} ({source}{when}, {status}) ; la plus précise des cibles "
        "qui couvrent la commune (commune, puis EPCI, SCoT, région)"
    )


def commune_targets(
    rules: RuleSet, communes: pd.DataFrame, baseline: pd.Series, floor: pd.Series
) -> pd.DataFrame:
    """The territorialised target governing each commune, and the reduction rate it gives.

    Parameters
    ----------
    rules
        The rule set (its ``territorial_rates``, ``reduction_rate``, periods).
    communes
        Communes table indexed by INSEE code, with ``insee``, ``epci`` and
        optionally ``scot`` and ``region``.
    baseline
        Reference consumption of each commune (ha), on the same index.
    floor
        Garantie communale floor of each commune (ha; 0 when not eligible).

    Returns
    -------
    pandas.DataFrame
        On ``communes``' index: ``reduction_rate`` (for an envelope in
        hectares, the effective rate ``1 − share / (baseline × target years /
        reference years)``), ``target_level`` (``commune``, ``epci``,
        ``scot``, ``region`` or ``default``), ``target_status``,
        ``guarantee_included`` and ``target_note`` (French: which target
        applied, from which document, and why).

    Examples
    --------
    >>> from foncier.zan.rules import RuleSet, TerritorialRate
    >>> communes = pd.DataFrame({"insee": ["30001", "30002"], "epci": "200066918",
    ...     "scot": "S"}).set_index("insee", drop=False)
    >>> rules = RuleSet("r", "1", territorial_rates=(
    ...     TerritorialRate("scot", "S", envelope_ha=3.0, guarantee_included=True),))
    >>> out = commune_targets(rules, communes, pd.Series([0.5, 9.5], index=communes.index),
    ...     pd.Series([1.0, 1.0], index=communes.index))
    >>> ((1 - out["reduction_rate"]) * [0.5, 9.5]).round(6).tolist()  # shares before the floor
    [0.105263, 2.0]
    """
    targets = rules.territorial_rates
    index = communes.index
    governing = pd.Series(-1, index=index, dtype="int64")
    for level in reversed(TARGET_LEVELS):  # région first, commune last: the most specific wins
        col = _LEVEL_COLUMNS[level]
        codes = {t.code: i for i, t in enumerate(targets) if t.level == level}
        if codes and col in communes:
            found = communes[col].astype(object).map(codes)
            governing = found.where(found.notna(), governing).astype("int64")
    picks = governing.to_numpy()
    rates = np.array(
        [np.nan if t.rate is None else t.rate for t in targets] + [rules.reduction_rate]
    )
    rate = pd.Series(rates[picks], index=index, dtype="float64")
    factor = period_factor(rules)
    hectare_targets = sorted(
        (i for i, t in enumerate(targets) if t.envelope_ha is not None),
        key=lambda i: TARGET_LEVELS.index(targets[i].level),
    )
    for i in hectare_targets:
        t = targets[i]
        col = _LEVEL_COLUMNS[t.level]
        members = communes[col].astype(str).eq(t.code) if col in communes else governing < -1
        governed = (governing == i).to_numpy()
        raw = baseline * factor * (1.0 - rate)
        taken = raw + ((floor - raw).clip(lower=0.0) if t.guarantee_included else 0.0)
        fixed = members.to_numpy() & ~governed
        left = max(float(t.envelope_ha or 0.0) - float(taken[fixed].sum()), 0.0)
        floors = floor[governed].to_numpy() if t.guarantee_included else np.zeros(governed.sum())
        scale = _share_scale(left, baseline[governed].to_numpy(), floors)
        rate[governed] = 1.0 - scale / factor
    labels = np.array([_note(t, t.code) for t in targets] + [
        f"taux de réduction {fr_number(rules.reduction_rate, 4)} de la règle générale "
        f"({rules.name}) : aucune cible territorialisée ne couvre la commune"
    ])  # fmt: skip
    levels = np.array([t.level for t in targets] + ["default"])
    statuses = np.array([t.status for t in targets] + ["adopted"])
    included = np.array([t.guarantee_included for t in targets] + [False])
    return pd.DataFrame(
        {
            "reduction_rate": rate,
            "target_level": levels[picks],
            "target_status": statuses[picks],
            "guarantee_included": included[picks],
            "target_note": labels[picks],
        },
        index=index,
    ).astype({"target_level": "str", "target_status": "str", "target_note": "str"})
