"""``foncier demo``: the README's main command, run on the bundled synthetic sample."""

from __future__ import annotations

from pathlib import Path

import click

from foncier.cli._main import handle_errors, main
from foncier.cli.info import format_summary


@main.command()
@click.option(
    "--dir",
    "workdir",
    default=Path("data/sample"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the sample territory (generated if missing).",
)
@click.option("--force", is_flag=True, help="Regenerate the sample even if it exists.")
@handle_errors
def demo(workdir: Path, force: bool) -> None:
    """Generate the synthetic sample territory if needed and summarise it."""
    from foncier.sample import write_sample
    from foncier.territory import GPKG_NAME, Territory

    if force or not (workdir / GPKG_NAME).is_file():
        click.echo(f"Génération de l'échantillon synthétique dans {workdir}…")
        territory = write_sample(workdir)
    else:
        click.echo(f"Échantillon existant réutilisé : {workdir}")
        territory = Territory.from_folder(workdir)
    click.echo(format_summary(territory.summary()))
