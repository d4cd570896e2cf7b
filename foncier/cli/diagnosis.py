"""``foncier diagnostic``: the ZAN diagnosis of a territory (consumption, destinations, ratios).

A command of its own beside ``foncier zan``: the budgets depend on a rule
set, rates and committed projects, the diagnosis only on the Cerema file
(and a reference area's file), so the two take different options.
``--format csv`` writes the per-commune table with its English column codes
for scripts; the table format is for people, in French.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from foncier.cli._main import (
    EXISTING_FILE,
    format_option,
    handle_errors,
    load_territory,
    main,
    territory_argument,
)
from foncier.errors import DataSourceError

if TYPE_CHECKING:
    import pandas as pd

    from foncier.zan.diagnosis import ZanDiagnosis

#: Decimals kept in CSV and JSON output (1e-6 ha = 0.01 m²).
_MACHINE_DECIMALS = 6
_NO_CENSUS = (
    "le fichier Cerema n'a pas les chiffres de population, ménages et emplois "
    "(pop, men, emp) : pas de ratio d'efficacité"
)


def format_diagnosis(diagnosis: ZanDiagnosis, title: str) -> str:
    """The diagnosis as French text for the terminal: one column per area, then the notes."""
    from foncier.layers import DiagnosisCol

    rows = diagnosis.summary_rows()
    areas = [str(a) for a in diagnosis.areas[DiagnosisCol.AREA]]
    width = max(len(h) for h, _ in rows) + 2
    cells = [max(len(a), *(len(v[i]) for _, v in rows)) + 2 for i, a in enumerate(areas)]
    header = " " * width + "".join(a.rjust(c) for a, c in zip(areas, cells, strict=True))
    lines = [title, "", header]
    lines += [
        h.ljust(width) + "".join(v.rjust(c) for v, c in zip(values, cells, strict=True))
        for h, values in rows
    ]
    notes = [*diagnosis.notes, *([_NO_CENSUS] if diagnosis.census_years is None else [])]
    return "\n".join([*lines, *(f"Note : {n}" for n in notes)])


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    text = table.round(_MACHINE_DECIMALS).to_json(orient="records", force_ascii=False)
    return list(json.loads(text))


@main.command(
    help="Diagnostic ZAN de TERRITOIRE : consommation d'ENAF 2011-2021 et depuis 2021 par "
    "destination (habitat, activité, mixte, routes, ferré, inconnu), m² consommés par nouvel "
    "habitant, ménage et emploi, à côté d'une zone de référence (le département) si son "
    "fichier Cerema est donné."
)
@territory_argument
@click.option(
    "--reference",
    type=EXISTING_FILE,
    help="Fichier Cerema de consommation d'ENAF de la zone de référence (le département), "
    "du même millésime.",
)
@click.option(
    "--reference-name",
    help="Nom de la zone de référence (défaut : le département que nomme le fichier).",
)
@format_option()
@handle_errors
def diagnostic(
    territory: Path, reference: Path | None, reference_name: str | None, fmt: str
) -> None:
    """Print the ZAN diagnosis of TERRITORY (:func:`foncier.zan.territory_diagnosis`)."""
    from foncier.io.cerema import read_cerema_enaf
    from foncier.zan.diagnosis import territory_diagnosis

    t = load_territory(territory)
    if t.enaf_consumption.empty:
        msg = (
            f"{territory} : ce territoire n'a pas de consommation d'ENAF (fichier Cerema) ; "
            "importez-la avec foncier import --enaf FICHIER."
        )
        raise DataSourceError(msg)
    ref = read_cerema_enaf(reference) if reference is not None else None
    diagnosis = territory_diagnosis(t, reference=ref, reference_name=reference_name)
    if fmt == "csv":
        click.echo(diagnosis.communes.round(_MACHINE_DECIMALS).to_csv(index=False), nl=False)
    elif fmt == "json":
        payload = {
            "territory": t.data_label,
            "reference_years": list(diagnosis.reference_years),
            "since_years": list(diagnosis.since_years) if diagnosis.since_years else None,
            "census_years": list(diagnosis.census_years) if diagnosis.census_years else None,
            "areas": _records(diagnosis.areas),
            "communes": _records(diagnosis.communes),
            "notes": diagnosis.notes,
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(format_diagnosis(diagnosis, f"Diagnostic ZAN : {t.data_label}"))
