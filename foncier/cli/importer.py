"""``foncier import``: build a territory folder from open-data files."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import click

from foncier.cli._main import handle_errors, main
from foncier.errors import LayerSchemaError
from foncier.io.cerema import CodeMismatch
from foncier.layers import Col, LoadReport

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)

#: French names of the layers, for the messages.
_LABELS = {
    "communes": "communes",
    "parcels": "parcelles",
    "plu_zones": "zonage PLU",
    "zae": "ZAE",
    "zae_plots": "terrains de ZAE",
    "friches": "friches",
    "constraints": "contraintes",
    "infrastructure": "infrastructures",
    "enaf_consumption": "consommation ENAF",
    "planning_docs": "documents d'urbanisme",
    "projects": "projets",
    "dem": "MNT",
}


def _pairs(values: Sequence[str], option: str) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        kind, sep, path = value.partition("=")
        if not sep or not kind or not path:
            msg = f"{option} expects KIND=FILE (e.g. natura2000=sites.geojson); received {value!r}"
            raise LayerSchemaError(msg)
        file = Path(path)
        if not file.is_file():
            msg = f"{option} {value!r}: the file {file} does not exist"
            raise LayerSchemaError(msg)
        out.append((kind.strip(), file))
    return out


def _print_report(report: LoadReport) -> None:
    click.echo(f"  {report.summary()}")
    reasons: dict[str, list[str]] = {}
    for row_id, reason in report.rows_rejected:
        reasons.setdefault(reason, []).append(row_id)
    for reason, ids in reasons.items():
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        click.echo(f"    rejet ({len(ids)}) : {reason} — {shown}")


@main.command("import")
@click.option("--cadastre", multiple=True, type=_FILE, help="Etalab cadastre parcels (repeatable).")
@click.option("--enaf", type=_FILE, help="Cerema ENAF consumption CSV.")
@click.option("--zoning", multiple=True, type=_FILE, help="GPU zone_urba / secteur_cc file.")
@click.option("--friches", type=_FILE, help="Cartofriches file (points or polygons).")
@click.option("--zae", type=_FILE, help="CNIG SITE-ECO table (CSV or vector).")
@click.option("--zae-plots", type=_FILE, help="CNIG TERRAIN-ECO table (CSV or vector).")
@click.option("--constraints", multiple=True, metavar="KIND=FILE", help="e.g. natura2000=n2k.gpkg")
@click.option(
    "--infrastructure", multiple=True, metavar="KIND=FILE", help="e.g. interchange=x.gpkg"
)
@click.option("--communes", multiple=True, type=_FILE, help="Commune boundaries.")
@click.option("--epci-json", type=_FILE, help="decoupage-administratif EPCI JSON.")
@click.option("--epci", help="Keep only the communes of this EPCI (SIREN).")
@click.option("--dem", type=_FILE, help="DEM in any CRS (reprojected to EPSG:2154).")
@click.option("--projects", type=_FILE, help="Projects CSV or GeoJSON.")
@click.option(
    "--planning-docs",
    type=_FILE,
    help=(
        "Documents d'urbanisme des communes (CSV : insee;type;date_prescription;date_arret;"
        "date_approbation ; type PLU, PLUi, CC ou RNU) : ils ouvrent la garantie communale."
    ),
)
@click.option("--name", required=True, help="Territory name.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Territory folder to write.",
)
@handle_errors
def import_(
    cadastre: tuple[Path, ...],
    enaf: Path | None,
    zoning: tuple[Path, ...],
    friches: Path | None,
    zae: Path | None,
    zae_plots: Path | None,
    constraints: tuple[str, ...],
    infrastructure: tuple[str, ...],
    communes: tuple[Path, ...],
    epci_json: Path | None,
    epci: str | None,
    dem: Path | None,
    projects: Path | None,
    planning_docs: Path | None,
    name: str,
    output: Path,
) -> None:
    """Build a territory folder from open-data files; missing layers are reported, not invented."""
    from foncier.io.assemble import TerritorySources, build_territory

    sources = TerritorySources(
        cadastre=cadastre,
        enaf=enaf,
        zoning=zoning,
        friches=friches,
        zae=zae,
        zae_plots=zae_plots,
        constraints=_pairs(constraints, "--constraints"),
        infrastructure=_pairs(infrastructure, "--infrastructure"),
        communes=communes,
        epci_json=epci_json,
        epci=epci,
        dem=dem,
        projects=projects,
        planning_docs=planning_docs,
    )
    with tempfile.TemporaryDirectory(prefix="foncier-import-") as tmp:
        click.echo(f"Import du territoire « {name} »…")
        territory = build_territory(name, sources, Path(tmp) / "dem.tif")
        for layer, report in territory.reports.items():
            if layer in territory.metadata["sources"]:
                click.echo(f"{_LABELS.get(layer, layer)} :")
                _print_report(report)
        folder = territory.to_folder(output)
    for layer in territory.metadata["missing"]:
        click.secho(
            f"Couche absente : {_LABELS.get(layer, layer)} ({layer}) — aucune source fournie, "
            "laissée vide",
            fg="yellow",
        )
    if territory.communes_from_enaf:
        click.secho(
            f"Communes : {len(territory.commune_table())} communes lues dans le fichier Cerema, "
            "sans contours (foncier zan et info fonctionnent ; supply et match demandent "
            "--communes)",
            fg="yellow",
        )
    mismatch = territory.metadata.get("code_mismatch")
    if isinstance(mismatch, dict) and (mismatch["only_communes"] or mismatch["only_enaf"]):
        for line in CodeMismatch(
            tuple(mismatch["only_communes"]), tuple(mismatch["only_enaf"]), mismatch["common"]
        ).lines():
            click.secho(f"Codes communes : {line}", fg="yellow")
    flags = territory.commune_table().get(Col.HAS_PLANNING_DOC)
    if not len(territory.planning_docs) and (flags is None or flags.isna().all()):
        click.secho(
            "Garantie communale : aucun document d'urbanisme fourni (--planning-docs) ; "
            "le statut des communes est inconnu et la garantie de 1 ha n'est pas appliquée",
            fg="yellow",
        )
    click.echo(f"Territoire écrit dans {folder}")
