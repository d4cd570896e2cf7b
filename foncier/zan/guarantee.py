"""Eligibility of each commune to the garantie communale.

Loi 2021-1104 art. 194 III 3°, as amended by loi 2023-630 art. 4: a surface
of ENAF consumption of one hectare is guaranteed over 2021-2031 to the
communes covered by a PLU, a document d'urbanisme en tenant lieu or a carte
communale prescribed, arrêté or approved before 22 August 2026.

Each commune gets a ``guarantee_status``:

- ``yes``: one of its documents (PLU, PLUi, PSMV, carte communale) has a
  prescription, arrêt or approval date before the rule set's
  ``guarantee_deadline``; or the communes layer says ``has_planning_doc``
  true for a commune the planning-documents table does not list;
- ``no``: its documents are all RNU or a lapsed POS, or were prescribed
  after the deadline; or ``has_planning_doc`` is false;
- ``unknown``: no information at all, or a document with no date.  By
  default the guarantee is then not applied (``guarantee_unknown =
  "refuse"``); every budget table states how many communes this concerns.

Two more facts per commune come from the planning-documents table: whether
the commune asked to pool its guaranteed hectares at intercommunal level
(``guarantee_pooling``: the law pools them "à la demande des communes"; NA
when not recorded) and the number of communes déléguées of a commune
nouvelle (``delegated_communes``), each adding the rule set's
``guarantee_per_delegated_commune_ha`` to its floor.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from foncier.io.planning import DATE_COLUMNS
from foncier.layers import Col, normalise_insee

__all__ = [
    "ELIGIBLE_DOC_TYPES",
    "GUARANTEE_STATUSES",
    "GUARANTEE_STATUS_LABELS",
    "guarantee_eligibility",
]

#: The codes of ``guarantee_status``.
GUARANTEE_STATUSES: tuple[str, ...] = ("yes", "no", "unknown")
#: French labels of ``guarantee_status`` (``mixed``: a pool whose members differ).
GUARANTEE_STATUS_LABELS: dict[str, str] = {
    "yes": "oui",
    "no": "non",
    "unknown": "inconnu",
    "mixed": "mixte",
}
#: Document types that open the guarantee: PLU, the documents en tenant lieu, carte communale.
ELIGIBLE_DOC_TYPES: tuple[str, ...] = ("PLU", "PLUi", "PSMV", "CC")
_STAGES = {
    Col.PRESCRIPTION_DATE: "prescription",
    Col.ARRET_DATE: "arrêt",
    Col.APPROVAL_DATE: "approbation",
}
_NOT_ELIGIBLE = {
    "RNU": "règlement national d'urbanisme (RNU), sans document",
    "POS": "POS caduc",
}
#: Rank of each status when a commune has several documents: the best one decides.
_RANK = {"yes": 0, "unknown": 1, "no": 2}


def _fr_date(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%d/%m/%Y")


def _document_status(docs: pd.DataFrame, deadline: dt.date) -> pd.DataFrame:
    """Status and reason of each document row."""
    dates = pd.DataFrame(
        {c: pd.to_datetime(docs[c], format="%Y-%m-%d", errors="coerce") for c in DATE_COLUMNS},
        index=docs.index,
    )
    first = dates.min(axis=1)
    has_date = first.notna()
    values = dates.to_numpy(dtype="datetime64[ns]")
    stage_col = np.where(np.isnat(values), np.datetime64("2262-01-01"), values).argmin(axis=1)
    stage = pd.Series(np.array([_STAGES[c] for c in DATE_COLUMNS])[stage_col], index=docs.index)
    kind = docs[Col.DOC_TYPE].astype(str)
    eligible_type = kind.isin(ELIGIBLE_DOC_TYPES)
    before = first < pd.Timestamp(deadline)
    status = np.select([~eligible_type, ~has_date, before], ["no", "unknown", "yes"], default="no")
    limit = f"{deadline:%d/%m/%Y}"
    when = kind + " : " + stage + " le " + _fr_date(first).fillna("")
    reason = np.select(
        [~eligible_type, ~has_date, before],
        [
            kind.map(_NOT_ELIGIBLE).fillna(kind),
            kind + " sans date de prescription, d'arrêt ni d'approbation",
            when + f" (avant le {limit})",
        ],
        default=when + f" (pas avant le {limit})",
    )
    return pd.DataFrame(
        {Col.INSEE: normalise_insee(docs[Col.INSEE]), "status": status, "reason": reason},
        index=docs.index,
    )


def guarantee_eligibility(
    communes: pd.DataFrame,
    planning_docs: pd.DataFrame | None,
    deadline: dt.date = dt.date(2026, 8, 22),
) -> pd.DataFrame:
    """Eligibility of each commune to the garantie communale.

    Parameters
    ----------
    communes
        Communes table with ``insee`` and optionally ``has_planning_doc``
        (true, false or NA: used for the communes ``planning_docs`` does not list).
    planning_docs
        The ``planning_docs`` table (see :func:`foncier.io.planning.read_planning_docs`),
        or ``None``.
    deadline
        Documents prescribed, arrêtés or approved before this date open the
        guarantee (the rule set's ``guarantee_deadline``).

    Returns
    -------
    pandas.DataFrame
        Indexed by INSEE code in the order of ``communes``:
        ``guarantee_status`` (``yes``, ``no``, ``unknown``) and
        ``guarantee_reason`` (French, e.g. ``"PLU : approbation le 03/02/2017
        (avant le 22/08/2026)"``), ``guarantee_pooling`` (boolean: the
        commune asked to pool its guarantee; NA when not recorded) and
        ``delegated_communes`` (int).  When a commune has several documents
        the best status wins (``yes``, then ``unknown``, then ``no``); the
        pooling request and the communes déléguées are read from any of its rows.

    Examples
    --------
    >>> communes = pd.DataFrame({"insee": ["30007", "30028", "30035"]})
    >>> docs = pd.DataFrame({"insee": ["30007", "30028"], "doc_type": ["PLU", "CC"],
    ...     "prescription_date": [None, "2027-01-15"], "arret_date": [None, None],
    ...     "approval_date": ["2019-06-01", None]})
    >>> guarantee_eligibility(communes, docs)["guarantee_status"].tolist()
    ['yes', 'no', 'unknown']
    """
    insee = normalise_insee(communes[Col.INSEE])
    out = pd.DataFrame(
        {
            "guarantee_status": "unknown",
            "guarantee_reason": "aucune information sur le document d'urbanisme",
        },
        index=pd.Index(insee.to_numpy(), name=Col.INSEE),
    )
    out[Col.GUARANTEE_POOLING] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    out[Col.DELEGATED_COMMUNES] = 0
    if Col.HAS_PLANNING_DOC in communes:
        flag = pd.Series(
            communes[Col.HAS_PLANNING_DOC].astype("boolean").to_numpy(), index=out.index
        )
        known = flag.notna()
        yes = (flag == True).fillna(False).to_numpy(dtype=bool)  # noqa: E712 (nullable)
        out.loc[known & yes, "guarantee_status"] = "yes"
        out.loc[known & ~yes, "guarantee_status"] = "no"
        out.loc[known & yes, "guarantee_reason"] = "couverte par un document d'urbanisme"
        out.loc[known & ~yes, "guarantee_reason"] = "sans document d'urbanisme"
    if planning_docs is not None and len(planning_docs):
        docs = _document_status(planning_docs, deadline)
        docs["rank"] = docs["status"].map(_RANK)
        best = docs.sort_values("rank", kind="stable").drop_duplicates(Col.INSEE)
        best = best.set_index(Col.INSEE).reindex(out.index)
        listed = best["status"].notna()
        out.loc[listed, "guarantee_status"] = best.loc[listed, "status"]
        out.loc[listed, "guarantee_reason"] = best.loc[listed, "reason"]
        codes = normalise_insee(planning_docs[Col.INSEE]).to_numpy()
        if Col.GUARANTEE_POOLING in planning_docs:
            asked = pd.Series(planning_docs[Col.GUARANTEE_POOLING].astype("boolean").to_numpy())
            # any row saying yes is a request; else any row saying no is a refusal
            per = asked.astype("Float64").groupby(codes).max()
            out[Col.GUARANTEE_POOLING] = per.reindex(out.index).astype("boolean")
        if Col.DELEGATED_COMMUNES in planning_docs:
            count = pd.to_numeric(planning_docs[Col.DELEGATED_COMMUNES], errors="coerce")
            per_n = pd.Series(count.fillna(0).to_numpy()).groupby(codes).max()
            out[Col.DELEGATED_COMMUNES] = per_n.reindex(out.index, fill_value=0).astype("int64")
    return out
