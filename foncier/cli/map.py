"""``foncier map``: the working group's map of a territory, or of a scenario."""

from __future__ import annotations

from pathlib import Path

import click

from foncier.cli._main import (
    force_option,
    handle_errors,
    load_territory,
    main,
    output_option,
    territory_argument,
)


@main.command(
    name="map",
    help="Écrit la carte de TERRITOIRE (budgets ZAN, foncier, contraintes) en page HTML.",
)
@territory_argument
@click.option(
    "--scenario",
    "scenario_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help=(
        "Dossier de résultat d'un scénario (foncier match -o) : ajoute ses implantations "
        "et ses projets non placés."
    ),
)
@output_option(required=True, help="Fichier HTML à écrire.")
@click.option(
    "--colour-by",
    default="origin",
    show_default=True,
    help=(
        "Couleur des unités foncières : origin (leur origine) ou une colonne numérique "
        "des unités (completeness, enaf_share…)."
    ),
)
@click.option(
    "--offline/--online",
    default=True,
    show_default=True,
    help="Inclut Leaflet dans la page pour l'ouvrir sans réseau (défaut), ou le lie "
    "sur son CDN (page plus légère).",
)
@force_option
@handle_errors
def map_command(
    territory: Path,
    scenario_dir: Path | None,
    output: Path,
    colour_by: str,
    offline: bool,
    force: bool,
) -> None:
    """Write the map of TERRITORY (ZAN budgets, land, constraints) as an HTML page."""
    from foncier._format import fr_number
    from foncier.maps import map_html, scenario_map, territory_map
    from foncier.outputs import check_file, write_text

    inputs = [territory, scenario_dir]
    check_file(output, "map", force=force, inputs=inputs)
    t = load_territory(territory)
    if scenario_dir is None:
        from foncier.units_cache import folder_land_units

        # the folder's land units, read back when its files were screened before
        units = folder_land_units(territory, t)
        m = territory_map(t, units, colour_by=colour_by, inline_assets=offline)
    else:
        from foncier.scenarios import ScenarioResult

        result = ScenarioResult.from_folder(scenario_dir)
        m = scenario_map(t, result, result.units, inline_assets=offline)
    page = map_html(m)
    write_text(output, page, "map", force=force, inputs=inputs)
    size = fr_number(len(page.encode("utf-8")) / 1e6, 2, "Mo")
    click.echo(f"Carte écrite : {output} ({size}) ; {t.data_label}")
