"""``foncier report``: the working group's HTML report of a scenario result folder."""

from __future__ import annotations

from pathlib import Path

import click

from foncier.cli._main import force_option, handle_errors, main, output_option

#: Keys of a scenario's audit record that may name its territory folder.
_TERRITORY_KEYS = ("territory_path", "territory_folder")


def _territory_folder(outdir: Path, given: Path | None) -> Path:
    from foncier.errors import DataSourceError
    from foncier.scenarios import ScenarioResult

    if given is not None:
        return given
    audit = ScenarioResult.from_folder(outdir).audit
    for key in _TERRITORY_KEYS:
        value = audit.get(key)
        if value and Path(value).is_dir():
            return Path(value)
    msg = (
        f"le dossier de scénario {outdir} ne nomme pas de dossier de territoire existant ; "
        "indiquez-le avec --territory TERRITOIRE"
    )
    raise DataSourceError(msg)


@main.command(
    help="Écrit le rapport du dossier de résultat d'un scénario RÉSULTAT (RÉSULTAT/report.html)."
)
@click.argument(
    "outdir", metavar="RÉSULTAT", type=click.Path(file_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--territory",
    "territory",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Dossier du territoire du scénario (défaut : celui que nomme son audit).",
)
@output_option(help="Fichier HTML à écrire (défaut : RÉSULTAT/report.html).")
@click.option(
    "--pdf",
    "pdf",
    is_flag=True,
    help="Écrire aussi le rapport en PDF A4 à côté de la page HTML (même nom, .pdf), "
    "imprimé par Chromium sans réseau ; Chromium doit être installé.",
)
@force_option
@handle_errors
def report(
    outdir: Path, territory: Path | None, output: Path | None, pdf: bool, force: bool
) -> None:
    """Write the report of the scenario result folder OUTDIR (OUTDIR/report.html)."""
    from foncier._format import fr_number
    from foncier.pdf import find_chromium
    from foncier.report import HEADLINE_LABELS, headline_figures, write_pdf, write_report
    from foncier.scenarios import ScenarioResult
    from foncier.territory import Territory

    browser = find_chromium() if pdf else None  # before the work: say at once if it is missing
    t = Territory.from_folder(_territory_folder(outdir, territory))
    path = write_report(outdir, t, output, force=force)
    figures = headline_figures(ScenarioResult.from_folder(outdir), t.projects)
    click.echo(f"Rapport écrit : {path} ; {t.data_label}")
    if browser is not None:
        click.echo(f"PDF écrit : {write_pdf(path, force=force, chromium=browser)}")
    for key in ("projects_placed", "jobs_placed", "ha_used", "ha_enaf", "remaining_after_ha"):
        label, unit = HEADLINE_LABELS[key]
        click.echo(f"  {label} : {fr_number(figures[key], 2 if unit == 'ha' else 0, unit)}")
