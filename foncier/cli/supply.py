"""``foncier supply``: screened land units of a territory, with their criteria."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from foncier._format import fr_number
from foncier.choices import CONSTRAINT_KINDS
from foncier.cli._main import (
    force_option,
    handle_errors,
    load_territory,
    main,
    output_option,
    territory_argument,
)
from foncier.exports import FORMATS

if TYPE_CHECKING:
    import pandas as pd

#: GeoPackage layer holding the land units.
UNITS_LAYER = "land_units"


def format_summary(summary: pd.DataFrame) -> str:
    """Per-commune supply summary as a French text table, with a total row.

    Parameters
    ----------
    summary
        Output of :func:`foncier.supply.supply_summary`.

    Returns
    -------
    str
        One line per commune holding land, then the total.
    """
    from foncier.layers import Col

    labels = {
        Col.INSEE: "INSEE",
        Col.NAME: "Commune",
        "units": "Unités",
        "available_ha": "Disponible (ha)",
        "friche_ha": "dont friches (ha)",
        "zae_ha": "dont ZAE (ha)",
        "activity_zone_ha": "dont zones d'activité (ha)",
        "enaf_ha": "dont ENAF (ha)",
    }
    shown = summary[summary["units"] > 0]
    areas = [c for c in labels if c.endswith("_ha")]
    total: dict[str, Any] = {Col.INSEE: "", Col.NAME: "Total", "units": int(summary["units"].sum())}
    total.update({c: float(summary[c].sum()) for c in areas})
    rows: list[dict[Any, Any]] = [*shown.to_dict("records"), total]
    table = [list(labels.values())]
    for row in rows:
        name = row[Col.NAME] if isinstance(row[Col.NAME], str) else "?"
        table.append(
            [str(row[Col.INSEE]), name, str(row["units"])] + [fr_number(row[c], 1) for c in areas]
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = []
    for k, r in enumerate(table):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cells += [c.rjust(w) for c, w in zip(r[2:], widths[2:], strict=True)]
        lines.append("  ".join(cells))
        if k == 0 or k == len(table) - 2:
            lines.append("-" * len(lines[-1]))
    return "\n".join(lines)


@main.command(help="Découpe le foncier de TERRITOIRE en unités foncières avec leurs critères.")
@territory_argument
@output_option(
    required=True,
    help="Fichier des unités foncières : un GeoPackage (couche land_units, stylée pour QGIS) "
    "ou, avec --format parquet ou un nom en .parquet, du GeoParquet.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Format de -o : gpkg (défaut) ou parquet (GeoParquet 1.1, pour les gros exports) ; "
    "déduit du nom du fichier s'il n'est pas donné.",
)
@click.option(
    "--raster",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrit aussi un GeoTIFF de la surface nette des unités (ha) pour les analystes.",
)
@click.option(
    "--raster-resolution",
    default=25.0,
    show_default=True,
    type=click.FloatRange(min=1.0),
    help="Taille des cellules du GeoTIFF en mètres.",
)
@click.option(
    "--exclude",
    "exclude",
    multiple=True,
    type=click.Choice(CONSTRAINT_KINDS),
    help=("Type de contrainte retiré du foncier (répétable ; défaut : ppri_red, natura2000)."),
)
@click.option(
    "--partition-by",
    type=click.Choice(["departement"]),
    default=None,
    help="Calcule l'offre par département sur Dask (dask-geopandas, extra distributed) puis "
    "fusionne les unités à cheval sur deux départements : mêmes unités qu'en un seul processus, "
    "pour une région ou la France entière.",
)
@click.option(
    "--partitions",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Dossier du GeoParquet des parcelles partitionné par département (avec "
    "--partition-by) : écrit s'il n'existe pas (ou avec --force), relu sinon ; il doit être "
    "lisible par les workers du cluster. Défaut : un dossier temporaire.",
)
@click.option(
    "--scheduler",
    metavar="ADRESSE",
    default=None,
    help="Adresse du scheduler Dask d'un cluster (tcp://hôte:8786), avec --partition-by ; "
    "sans elle, le calcul se fait sur les threads de cette machine.",
)
@force_option
@handle_errors
def supply(
    territory: Path,
    output: Path,
    fmt: str | None,
    raster: Path | None,
    raster_resolution: float,
    exclude: tuple[str, ...],
    partition_by: str | None,
    partitions: Path | None,
    scheduler: str | None,
    force: bool,
) -> None:
    """Screen the land of TERRITORY into land units with their criteria."""
    from foncier.assumptions import assumptions, assumptions_text
    from foncier.errors import OutputError
    from foncier.exports import format_of, write_layer
    from foncier.outputs import check_file, write_file
    from foncier.styles import territory_metadata
    from foncier.supply import DEFAULT_EXCLUDE, land_units, supply_summary
    from foncier.terrain import write_suitability_raster

    start = time.perf_counter()
    if raster is not None and raster.resolve() == output.resolve():
        msg = f"--raster et -o désignent le même fichier {output} ; donnez-leur deux noms"
        raise OutputError(msg)
    check_file(output, "land_units", force=force, inputs=[territory])
    if raster is not None:
        check_file(raster, "raster", force=force, inputs=[territory])
    kinds = exclude or DEFAULT_EXCLUDE
    if partition_by is None:
        if partitions is not None or scheduler is not None:
            msg = "--partitions et --scheduler vont avec --partition-by departement ; ajoutez-le"
            raise OutputError(msg)
        t = load_territory(territory, supply_only=True)
        click.echo(f"Offre foncière de {t.data_label}, exclusions : {', '.join(kinds)}", err=True)
        units = land_units(t, exclude=kinds, progress=True)
    else:
        t, units = _partitioned(territory, kinds, partitions, scheduler, force)
    kind = format_of(output, fmt)
    metadata = territory_metadata(t)

    def write(tmp: Path) -> None:
        write_layer(units, tmp, UNITS_LAYER, fmt=kind, metadata=metadata)

    write_file(output, "land_units", write, force=force, inputs=[territory])
    where = f"(couche {UNITS_LAYER})" if kind == "gpkg" else "(GeoParquet)"
    click.echo(f"{len(units)} unités foncières écrites dans {output} {where}")
    if raster is not None:
        write_suitability_raster(
            units, raster, resolution=raster_resolution, force=force, inputs=[territory]
        )
        click.echo(f"Raster de surface nette écrit dans {raster}")
    click.echo(format_summary(supply_summary(units, t.communes)))
    if units.attrs.get("slope_note"):
        click.echo(units.attrs["slope_note"])
    click.echo("\n" + assumptions_text(assumptions(t, units)))
    if partition_by is not None:
        click.echo(
            f"Décomptes de parcelles : sur les {units.attrs['parcels_kept']} parcelles lues "
            "par l'offre (proches des zones d'activité, lots de ZAE et friches), non sur tout "
            "le territoire."
        )
    click.echo(f"Terminé en {fr_number(time.perf_counter() - start, 1)} s", err=True)


def _partitioned(
    territory: Path,
    kinds: tuple[str, ...],
    partitions: Path | None,
    scheduler: str | None,
    force: bool,
) -> tuple[Any, Any]:
    """The territory without its parcels, and its land units computed per département."""
    import tempfile
    from contextlib import ExitStack

    from foncier.errors import OutputError
    from foncier.partitioned import (
        check_partitions,
        partitioned_land_units,
        write_partitioned_parcels,
    )

    if scheduler is not None and partitions is None:
        msg = (
            "--scheduler demande --partitions : un dossier que les workers du cluster "
            "peuvent lire (disque partagé ou stockage objet)"
        )
        raise OutputError(msg)
    where = f"le cluster {scheduler}" if scheduler else "cette machine"
    click.echo(f"Offre foncière de {territory} par département, sur {where}", err=True)
    with ExitStack() as stack:
        if partitions is None:
            partitions = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "parcelles"
        if force or not partitions.exists():
            codes = write_partitioned_parcels(territory, partitions, force=force)
            click.echo(
                f"Parcelles partitionnées dans {partitions} : {len(codes)} départements", err=True
            )
        else:
            check_partitions(territory, partitions)
        units, t = partitioned_land_units(territory, partitions, scheduler=scheduler, exclude=kinds)
    click.echo(
        f"{units.attrs['border_units']} unités à cheval sur deux départements fusionnées",
        err=True,
    )
    return t, units
