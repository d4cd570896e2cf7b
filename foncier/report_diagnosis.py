"""The report's section "Diagnostic de la consommation d'ENAF" (MDA's diagnosis of a territory).

Self-contained: :func:`diagnosis_section` takes the territory and returns
the HTML of the section, so that the report only places it.  The figures
are :func:`foncier.zan.territory_diagnosis`'s; the table of the communes
lists those that consumed the most over the reference period.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from foncier._format import fr_number, fr_text
from foncier.labels import esc
from foncier.layers import Col, DiagnosisCol, destination_column
from foncier.zan.diagnosis import DESTINATION_LABELS, ZanDiagnosis, territory_diagnosis

__all__ = ["diagnosis_section", "diagnosis_section_of"]

#: Communes listed in the section, those that consumed the most first.
TOP_COMMUNES = 10


def _table(head: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    th = "".join(
        f"<th class='num'>{h}</th>" if i >= numeric_from else f"<th>{h}</th>"
        for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{v}</td>" if i >= numeric_from else f"<td>{v}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _top_communes(diagnosis: ZanDiagnosis) -> str:
    start, end = diagnosis.reference_years
    ratios = diagnosis.census_years is not None
    table = diagnosis.communes.sort_values(
        DiagnosisCol.REFERENCE_HA, ascending=False, na_position="last", kind="stable"
    ).head(TOP_COMMUNES)
    head = [
        "Commune",
        f"{start}-{end} (ha)",
        *(f"dont {label}" for label in DESTINATION_LABELS.values()),
        "depuis 2021 (ha)",
        *(["m² / nouvel habitant"] if ratios else []),
    ]
    rows = [
        [
            f"{esc(fr_text(r[Col.NAME]))} <small>{esc(r[Col.INSEE])}</small>",
            fr_number(r[DiagnosisCol.REFERENCE_HA], 1),
            *(
                fr_number(r[destination_column(DiagnosisCol.REFERENCE_HA, d)], 1)
                for d in DESTINATION_LABELS
            ),
            fr_number(r[DiagnosisCol.SINCE_2021_HA], 1),
            *([fr_number(r[DiagnosisCol.M2_PER_NEW_INHABITANT], 0)] if ratios else []),
        ]
        for _, r in table.iterrows()
    ]
    return _table(head, rows)


def diagnosis_section_of(diagnosis: ZanDiagnosis) -> str:
    """The HTML of the section for a computed diagnosis."""
    start, end = diagnosis.reference_years
    areas = [esc(a) for a in diagnosis.areas[DiagnosisCol.AREA]]
    summary = _table(
        ["", *areas],
        [[esc(h), *(esc(v) for v in values)] for h, values in diagnosis.summary_rows()],
    )
    census = (
        f"Les ratios rapportent l'ENAF consommé sur la période des recensements "
        f"({diagnosis.census_years[0]}-{diagnosis.census_years[1]}) à l'évolution de la "
        "population, des ménages et des emplois ; ils ne sont donnés que pour une croissance."
        if diagnosis.census_years is not None
        else "Le fichier Cerema du territoire n'a pas les chiffres de population, ménages et "
        "emplois : pas de ratio d'efficacité."
    )
    notes = "".join(f"<p class='label'>{esc(n)}</p>" for n in diagnosis.notes)
    n = min(TOP_COMMUNES, len(diagnosis.communes))
    return f"""
<section class='diagnosis'>
<h2>Diagnostic de la consommation d'ENAF</h2>
<p class='label'>Consommation d'espaces naturels, agricoles et forestiers mesurée par le Cerema
(fichiers fonciers), par destination : période de référence {start}-{end} et depuis {end}.
{esc(census)}</p>
{summary}
<h3>Les {n} communes qui ont le plus consommé ({start}-{end})</h3>
{_top_communes(diagnosis)}
{notes}
</section>
"""


def diagnosis_section(territory: Any, *, reference: pd.DataFrame | None = None) -> str:
    """The section of the report for ``territory``; ``""`` when it has no ENAF data.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory`.
    reference
        A Cerema ENAF table of the reference area (the département), shown
        beside the territory.
    """
    if territory.enaf_consumption.empty:
        return ""
    return diagnosis_section_of(territory_diagnosis(territory, reference=reference))
