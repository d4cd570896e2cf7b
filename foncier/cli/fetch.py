"""``foncier fetch``: download a territory's open data from the official addresses."""

from __future__ import annotations

from pathlib import Path

import click

from foncier.cli._main import handle_errors, main, output_option, quiet_option
from foncier.errors import DataSourceError

_SOURCES = ("epci", "communes", "cadastre", "buildings", "zoning")


@main.command(
    help="Télécharge le cadastre (parcelles et bâtiments), les communes, l'EPCI et le "
    "zonage d'urbanisme depuis les adresses officielles."
)
@click.option("--epci", help="SIREN de l'EPCI (par ex. 200066918 pour Alès Agglomération).")
@click.option("--insee", multiple=True, help="Code INSEE d'une commune (répétable).")
@output_option("folder", folder=True, default="foncier-cache", help="Dossier du cache.")
@click.option(
    "--base-url",
    envvar="FONCIER_FETCH_BASE_URL",
    help="Miroir remplaçant les serveurs officiels (variable FONCIER_FETCH_BASE_URL).",
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="SOURCE=MODÈLE",
    help="Modèle d'adresse d'une source ({insee}, {dep}, {epci}, {base}).",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(_SOURCES),
    help="Sources à télécharger (défaut : toutes).",
)
@quiet_option
@handle_errors
def fetch(
    epci: str | None,
    insee: tuple[str, ...],
    folder: Path,
    base_url: str | None,
    urls: tuple[str, ...],
    sources: tuple[str, ...],
    quiet: bool,
) -> None:
    """Download cadastre (parcels and buildings), communes, EPCI and zoning data."""
    from foncier.io.fetch import fetch_territory

    templates = {}
    for value in urls:
        name, sep, template = value.partition("=")
        if not sep:
            msg = f"--url attend SOURCE=MODÈLE ; reçu « {value} »"
            raise DataSourceError(msg)
        templates[name] = template
    manifest = fetch_territory(
        folder,
        epci=epci,
        insee=insee,
        base_url=base_url,
        urls=templates,
        sources=sources or _SOURCES,
        progress=not quiet,
    )
    counts: dict[str, int] = {}
    for f in manifest.files:
        counts[f.status] = counts.get(f.status, 0) + 1
    labels = {"downloaded": "téléchargés", "resumed": "repris", "cached": "en cache"}
    done = ", ".join(f"{n} {labels.get(s, s)}" for s, n in counts.items() if s != "missing")
    click.echo(f"{len(manifest.files)} fichiers dans {folder} : {done}")
    for f in manifest.missing:
        click.secho(f"Absent du serveur : {f.source} {f.key} ({f.url})", fg="yellow")
    click.echo(f"Sommes de contrôle sha256 : {folder / 'manifest.json'}")
