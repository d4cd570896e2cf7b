"""``foncier import``: build a territory folder from open-data files."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from foncier.choices import LAYER_LABELS
from foncier.cli._main import EXISTING_FILE, force_option, handle_errors, main, output_option
from foncier.errors import LayerSchemaError

if TYPE_CHECKING:
    from foncier.io.assemble import CachedLayer
    from foncier.layers import LoadReport

#: French names of the layers, for the messages.
_LABELS = LAYER_LABELS


def _pairs(values: Sequence[str], option: str) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        kind, sep, path = value.partition("=")
        if not sep or not kind or not path:
            msg = (
                f"{option} attend TYPE=FICHIER (par ex. natura2000=sites.geojson) ; "
                f"reçu « {value} »"
            )
            raise LayerSchemaError(msg)
        file = Path(path)
        if not file.is_file():
            msg = f"{option} « {value} » : le fichier {file} n'existe pas"
            raise LayerSchemaError(msg)
        out.append((kind.strip(), file))
    return out


def _codes(keys: Sequence[str]) -> str:
    return ", ".join(keys[:5]) + (" …" if len(keys) > 5 else "")


def _print_cache(cache: Path, layers: Sequence[CachedLayer]) -> None:
    """What the cache holds, source by source, in French."""
    from foncier.io.assemble import CACHE_LAYERS

    click.echo(f"Cache {cache} :")
    for item in layers:
        label = f"{_LABELS.get(item.layer, item.layer)} ({item.source})"
        if not item.used:
            click.secho(f"  {label} : non lu par cette version de foncier", fg="yellow")
            continue
        parts = [f"{len(item.files)} fichier(s) trouvé(s)"]
        if item.missing:
            parts.append(f"{len(item.missing)} absent(s) du serveur ({_codes(item.missing)})")
        if item.empty:
            parts.append(f"{len(item.empty)} sans aucun objet ({_codes(item.empty)})")
        colour = None if item.files and not item.missing else "yellow"
        click.secho(f"  {label} : " + " ; ".join(parts), fg=colour)
    fetched = {item.source for item in layers}
    for source, (layer, _) in CACHE_LAYERS.items():
        if source not in fetched and source != "buildings":
            click.secho(f"  {_LABELS.get(layer, layer)} ({source}) : absent du cache", fg="yellow")


def _print_report(report: LoadReport) -> None:
    click.echo(f"  {report.summary()}")
    reasons: dict[str, list[str]] = {}
    for row_id, reason in report.rows_rejected:
        reasons.setdefault(reason, []).append(row_id)
    for reason, ids in reasons.items():
        shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
        click.echo(f"    rejet ({len(ids)}) : {reason} — {shown}")


@main.command(
    "import",
    help="Construit un dossier de territoire à partir de fichiers open data ; les couches "
    "manquantes sont signalées, jamais inventées.",
)
@click.option(
    "--from-cache",
    "cache",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Dossier de cache écrit par « foncier fetch » (son manifest.json) : communes, "
    "cadastre, zonage ; les autres options s'y ajoutent.",
)
@click.option(
    "--cadastre",
    multiple=True,
    type=EXISTING_FILE,
    help="Parcelles du cadastre Etalab (répétable).",
)
@click.option("--enaf", type=EXISTING_FILE, help="CSV Cerema de consommation d'ENAF.")
@click.option(
    "--zoning", multiple=True, type=EXISTING_FILE, help="Fichier GPU zone_urba / secteur_cc."
)
@click.option("--friches", type=EXISTING_FILE, help="Fichier Cartofriches (points ou polygones).")
@click.option("--zae", type=EXISTING_FILE, help="Table CNIG SITE-ECO (CSV ou vecteur).")
@click.option("--zae-plots", type=EXISTING_FILE, help="Table CNIG TERRAIN-ECO (CSV ou vecteur).")
@click.option(
    "--constraints",
    multiple=True,
    metavar="TYPE=FICHIER",
    help="Contrainte, par ex. natura2000=n2k.gpkg",
)
@click.option(
    "--infrastructure",
    multiple=True,
    metavar="TYPE=FICHIER",
    help="Infrastructure, par ex. interchange=x.gpkg",
)
@click.option("--communes", multiple=True, type=EXISTING_FILE, help="Contours des communes.")
@click.option("--epci-json", type=EXISTING_FILE, help="JSON des EPCI de decoupage-administratif.")
@click.option("--epci", help="Ne garde que les communes de cet EPCI (SIREN).")
@click.option("--dem", type=EXISTING_FILE, help="MNT dans tout SCR (reprojeté en EPSG:2154).")
@click.option("--projects", type=EXISTING_FILE, help="Projets en CSV ou GeoJSON.")
@click.option(
    "--planning-docs",
    type=EXISTING_FILE,
    help=(
        "Documents d'urbanisme des communes (CSV : insee;type;date_prescription;date_arret;"
        "date_approbation ; type PLU, PLUi, CC ou RNU) : ils ouvrent la garantie communale."
    ),
)
# land cover of the parcels and activity zones of the PLU
@click.option(
    "--buildings",
    multiple=True,
    type=EXISTING_FILE,
    help="Bâtiments du cadastre Etalab (cadastre-<insee>-batiments.json, répétable) : "
    "les parcelles bâties deviennent artificialisées.",
)
@click.option(
    "--built-share",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.10,
    show_default=True,
    help="Part bâtie d'une parcelle à partir de laquelle elle est artificialisée.",
)
@click.option(
    "--ocsge",
    multiple=True,
    type=EXISTING_FILE,
    help="OCS GE (CODE_CS, CODE_US ; répétable) : décide l'occupation du sol des parcelles.",
)
@click.option(
    "--zone-rules",
    type=EXISTING_FILE,
    help=(
        "Règles des zones d'activités (TOML) remplaçant "
        "foncier/rules/nomenclatures/zones_activite.toml."
    ),
)
@click.option("--name", required=True, help="Nom du territoire.")
@output_option(
    folder=True,
    required=True,
    help="Dossier du territoire à écrire (absent, vide, ou un territoire écrit par foncier).",
)
@force_option
@handle_errors
def import_(
    cache: Path | None,
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
    buildings: tuple[Path, ...],
    built_share: float,
    ocsge: tuple[Path, ...],
    zone_rules: Path | None,
    planning_docs: Path | None,
    name: str,
    output: Path,
    force: bool,
) -> None:
    """Build a territory folder from open-data files; missing layers are reported, not invented."""
    from foncier.io.assemble import TerritorySources, build_territory, sources_from_cache
    from foncier.io.cerema import CodeMismatch
    from foncier.layers import Col
    from foncier.outputs import check_folder

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
        buildings=buildings,
        min_built_share=built_share,
        ocsge=ocsge,
        zone_rules=zone_rules,
        planning_docs=planning_docs,
    )
    if cache is not None:
        sources, cached = sources_from_cache(cache, sources)
        _print_cache(cache, cached)
    inputs = [
        *cadastre,
        *zoning,
        *communes,
        enaf,
        friches,
        zae,
        zae_plots,
        epci_json,
        dem,
        projects,
        cache,
        planning_docs,
        zone_rules,
        *buildings,
        *ocsge,
        *(path for _, path in sources.constraints),
        *(path for _, path in sources.infrastructure),
    ]
    check_folder(output, "territory", force=force, inputs=inputs)
    with tempfile.TemporaryDirectory(prefix="foncier-import-") as tmp:
        click.echo(f"Import du territoire « {name} »…")
        territory = build_territory(name, sources, Path(tmp) / "dem.tif")
        for layer, report in territory.reports.items():
            if layer in territory.metadata["sources"]:
                click.echo(f"{_LABELS.get(layer, layer)} :")
                _print_report(report)
        folder = territory.to_folder(output, force=force, inputs=inputs)
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
