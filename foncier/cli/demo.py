"""``foncier demo``: the README's main command, the whole chain on the synthetic sample.

It generates the sample territory if needed (reusing it otherwise), computes the
ZAN budgets and the land supply, runs the default matching scenario, writes the
map and the working group's report, and prints where they are with the
headline figures.
"""

from __future__ import annotations

from pathlib import Path

import click

from foncier.cli._main import handle_errors, main, output_option
from foncier.cli.info import format_summary


@main.command(
    help="Toute la chaîne sur l'échantillon synthétique : ZAN, offre foncière, "
    "appariement, carte, rapport."
)
@click.option(
    "--dir",
    "workdir",
    default=Path("data/sample"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier du territoire échantillon (créé s'il manque, réutilisé sinon).",
)
@output_option(
    "outdir",
    folder=True,
    default=Path("data/demo"),
    help="Dossier des budgets, unités foncières, scénario, carte et rapport.",
)
@click.option("--force", is_flag=True, help="Régénère l'échantillon même s'il existe.")
@handle_errors
def demo(workdir: Path, outdir: Path, force: bool) -> None:
    """Run the whole chain on the synthetic sample: ZAN, supply, matching, map, report."""
    from foncier._format import fr_number
    from foncier.exports import write_layer
    from foncier.maps import map_html, scenario_map
    from foncier.outputs import check_separate, write_file, write_text
    from foncier.report import HEADLINE_LABELS, headline_figures, write_report
    from foncier.sample import write_sample
    from foncier.scenarios import Scenario
    from foncier.styles import territory_metadata
    from foncier.supply import land_units
    from foncier.territory import GPKG_NAME, Territory
    from foncier.zan import budget_table

    check_separate(outdir, [workdir])
    if force or not (workdir / GPKG_NAME).is_file():
        click.echo(f"Génération de l'échantillon synthétique dans {workdir}…")
        territory = write_sample(workdir)
    else:
        click.echo(f"Échantillon existant réutilisé : {workdir}")
        territory = Territory.from_folder(workdir)
    click.echo(format_summary(territory.summary()))

    budgets = budget_table(territory)
    write_text(outdir / "budgets_zan.csv", budgets.to_csv(index=False), "budgets")
    remaining = budgets["remaining_ha"]
    click.echo(
        f"\nBudgets ZAN 2021-2031 ({budgets.attrs['rules']} v{budgets.attrs['rules_version']}, "
        f"{budgets.attrs['enaf_vintage']}) : enveloppe "
        f"{fr_number(budgets['envelope_ha'].sum(), 1, 'ha')}, reste net "
        f"{fr_number(remaining.sum(), 1, 'ha')}, disponible "
        f"{fr_number(remaining.clip(lower=0).sum(), 1, 'ha')} "
        f"({int((remaining < 0).sum())} communes en dépassement)"
    )
    units = land_units(territory, progress=True)
    write_file(
        outdir / "unites_foncieres.gpkg",
        "land_units",
        lambda tmp: write_layer(units, tmp, "land_units", metadata=territory_metadata(territory)),
    )
    click.echo(
        f"Offre foncière : {len(units)} unités, {fr_number(units['net_area_ha'].sum(), 1, 'ha')}"
    )

    result = Scenario(territory, units=units, name="demo : emplois, budgets par commune").run(
        progress=True
    )
    scenario_dir = result.to_folder(outdir / "scenario")
    map_path = outdir / "carte.html"
    page = map_html(scenario_map(territory, result, result.units, inline_assets=True))
    write_text(map_path, page, "map")
    report_path = write_report(scenario_dir, territory)

    click.echo("\n" + result.summary_fr())
    figures = headline_figures(result, territory.projects)
    for key in ("projects_placed", "jobs_placed", "ha_used", "ha_enaf", "remaining_after_ha"):
        label, unit = HEADLINE_LABELS[key]
        click.echo(f"  {label} : {fr_number(figures[key], 2 if unit == 'ha' else 0, unit)}")
    click.echo(f"\nCarte : {map_path.resolve()}")
    click.echo(f"Rapport : {report_path.resolve()}")
    click.echo(f"Résultats du scénario : {scenario_dir.resolve()}")
