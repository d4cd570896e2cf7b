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
@force_option
@handle_errors
def sample(outdir: Path, n_parcels: int, n_communes: int, seed: int, force: bool) -> None:
    """Generate the deterministic synthetic sample territory into OUTDIR.

    OUTDIR must be missing, empty, or a territory folder foncier wrote.
    """
    from foncier.outputs import check_folder
    from foncier.sample import write_sample

    check_folder(outdir, "territory", force=force)

    click.echo(f"Génération de l'échantillon synthétique ({n_parcels} parcelles, graine {seed})…")
    territory = write_sample(outdir, n_parcels, seed, n_communes=n_communes, force=force)
    s = territory.summary()
    click.echo(
        f"Écrit dans {outdir} : {s['layers']['communes']['features']} communes, "
        f"{s['layers']['parcels']['features']} parcelles, {s['projects']['count']} projets."
    )
