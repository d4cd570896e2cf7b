"""``foncier sample``: generate the synthetic sample territory."""

from __future__ import annotations

from pathlib import Path

import click

from foncier.cli._main import force_option, handle_errors, main


@main.command(
    help="""Génère l'échantillon synthétique déterministe dans DOSSIER.

    DOSSIER doit être absent, vide, ou un dossier de territoire écrit par foncier."""
)
@click.argument("outdir", metavar="DOSSIER", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--parcels",
    "n_parcels",
    default=30_000,
    show_default=True,
    type=click.IntRange(1_000, 10_000_000),
    help="Nombre approximatif de parcelles cadastrales.",
)
@click.option(
    "--communes",
    "n_communes",
    default=40,
    show_default=True,
    type=click.IntRange(20, 64),
    help="Nombre de communes.",
)
@click.option(
    "--seed", default=0, show_default=True, help="Graine aléatoire (même graine, même territoire)."
)
@click.option(
    "--departements",
    "n_departements",
    default=1,
    show_default=True,
    type=click.IntRange(1, 13),
    help=(
        "Départements côte à côte (une région synthétique) : les parcelles se répartissent "
        "entre eux, la mémoire nécessaire est celle d'un département."
    ),
)
@force_option
@handle_errors
def sample(
    outdir: Path, n_parcels: int, n_communes: int, seed: int, n_departements: int, force: bool
) -> None:
    """Generate the deterministic synthetic sample territory into OUTDIR.

    OUTDIR must be missing, empty, or a territory folder foncier wrote.
    With ``--departements K`` (K > 1), K départements of about
    ``n_parcels / K`` parcels each (:func:`foncier.region_sample.write_region_sample`).
    """
    from foncier.outputs import check_folder

    check_folder(outdir, "territory", force=force)

    if n_departements == 1:
        from foncier.sample import write_sample

        click.echo(
            f"Génération de l'échantillon synthétique ({n_parcels} parcelles, graine {seed})…"
        )
        territory = write_sample(outdir, n_parcels, seed, n_communes=n_communes, force=force)
        s = territory.summary()
        communes, parcels = s["layers"]["communes"]["features"], s["layers"]["parcels"]["features"]
        projects = s["projects"]["count"]
    else:
        import pandas as pd
        import pyogrio

        from foncier.region_sample import write_region_sample
        from foncier.territory import GPKG_NAME, PROJECTS_NAME

        each = max(n_parcels // n_departements, 1_000)
        click.echo(
            f"Génération d'une région synthétique de {n_departements} départements "
            f"({each} parcelles chacun, graines {seed} à {seed + n_departements - 1})…"
        )
        folder = write_region_sample(
            outdir, n_departements, each, seed, n_communes=n_communes, force=force
        )
        gpkg = folder / GPKG_NAME
        communes = pyogrio.read_info(gpkg, layer="communes")["features"]
        parcels = pyogrio.read_info(gpkg, layer="parcels")["features"]
        projects = len(pd.read_csv(folder / PROJECTS_NAME, dtype=str))
    click.echo(
        f"Écrit dans {outdir} : {communes} communes, {parcels} parcelles, {projects} projets."
    )
