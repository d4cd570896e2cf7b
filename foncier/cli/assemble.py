"""``foncier assemble``: the best contiguous sites of X ha, across land units."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import click

from foncier.cli._main import (
    committed_option,
    decisions_option,
    format_option,
    handle_errors,
    load_territory,
    main,
    pool_option,
    rules_option,
    territory_argument,
)
from foncier.cli.query import _FIELDS
from foncier.cli.query import query as _query

#: Columns of the printed table: (answer column, French header, decimals or None for text).
_TABLE = (
    ("site_rank", "rang", 0),
    ("commune", "commune", None),
    ("lot_area_ha", "surface (ha)", 2),
    ("n_parcels", "parcelles", 0),
    ("owners", "propriétaires", None),
    ("public_share", "part publique (%)", 0),
    ("enaf_ha", "ENAF (ha)", 2),
    ("score", "score", 2),
    ("zan_cost", "coût ZAN", None),
)


def _owners(row: dict[str, Any]) -> str:
    """Distinct owners when known, else « ≤ n » (each parcel possibly another owner)."""
    known = row["n_owners"]
    if known == known and known is not None:
        return str(int(known))
    return f"≤ {max(int(row['n_parcels']), 1)}"


def _cell(row: dict[str, Any], column: str, decimals: int | None) -> str:
    from foncier._format import fr_number

    if column == "owners":
        return _owners(row)
    value = row[column]
    if column == "public_share":
        value = 100 * value
    if decimals is None:
        return "" if value is None or value != value else str(value)
    return fr_number(value, decimals) if value == value else "inconnu"


@main.command(
    help=(
        "Propose les meilleurs sites d'un seul tenant d'au moins --area ha dans TERRITOIRE."
        "\n\n"
        "Les sites sont assemblés à partir des parcelles candidates (zones d'activités, lots "
        "de ZAE libres, friches, exclusions retirées), par-delà les limites des unités "
        "foncières, puis classés : le moins de propriétaires, la plus grande part publique, "
        "le moins d'ENAF, le meilleur score du projet.  Les exigences du projet se donnent "
        "comme pour `foncier query` (pente, échangeur, fer, Seveso…).  Chaque site liste ses "
        "parcelles ; --format geojson donne aussi sa géométrie."
    )
)
@territory_argument
@click.option(
    "--area",
    "area_ha",
    type=click.FloatRange(min=0, min_open=True),
    required=True,
    help="Surface du site recherché (ha) : chaque site proposé en a au moins autant.",
)
@click.option(
    "--max-owners",
    type=click.IntRange(min=1),
    help=(
        "Nombre maximal de propriétaires d'un site (propriétaires distincts quand les parcelles "
        "les donnent, sinon nombre de parcelles)."
    ),
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1, max=50),
    default=5,
    show_default=True,
    help="Nombre de sites proposés.",
)
@pool_option(default="commune")
@rules_option
@committed_option
@decisions_option
@format_option(("table", "csv", "geojson"))
@handle_errors
def assemble(
    territory: Path,
    area_ha: float,
    max_owners: int | None,
    k: int,
    pool: str,
    rules_name: str | None,
    committed: Path | None,
    decisions: Path | None,
    fmt: str,
    **requirements: Any,
) -> None:
    """Propose the best contiguous sites of at least ``area_ha`` in TERRITORY (CLI wrapper)."""
    from foncier.land_assembly import assemble_sites, site_parcels

    t = load_territory(territory)
    given = {_FIELDS[k_]: v for k_, v in requirements.items() if v is not None}
    sites = assemble_sites(
        t,
        area_ha,
        given,
        max_owners=max_owners,
        k=k,
        rules=rules_name,
        pool=pool,
        committed=committed,
        decisions=decisions,
    )
    if fmt == "geojson":
        click.echo(sites.to_crs("EPSG:4326").to_json(ensure_ascii=False, drop_id=True))
        return
    if fmt == "csv":
        click.echo(sites.drop(columns=sites.geometry.name).to_csv(index=False), nl=False)
        return
    if sites.empty:
        from foncier._format import fr_compact

        click.echo(
            f"Aucun site d'un seul tenant d'au moins {fr_compact(area_ha, 2)} ha "
            "ne répond à la demande."
        )
        return
    listed = _parcel_lines(site_parcels(sites, t.parcels))
    records = sites.drop(columns=sites.geometry.name).to_dict("records")
    rows = [[h for _, h, _ in _TABLE]]
    rows += [[_cell(r, c, d) for c, _, d in _TABLE] for r in records]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_TABLE) - 1)]
    for row, record in zip(rows, [None, *records], strict=True):
        head = "  ".join(v.ljust(w) for v, w in zip(row[:-1], widths, strict=True))
        click.echo(f"{head}  {row[-1]}")
        if record is not None:
            click.echo("\n".join(listed.get(int(record["site_rank"]), ["    parcelles : aucune"])))


def _parcel_lines(parcels: Any) -> dict[int, list[str]]:
    """Per site rank, one French line per parcel: idu, area taken, owner kind and id."""
    from foncier._format import fr_number
    from foncier.labels import OWNER_KIND_LABELS

    owner = parcels["owner_id"].astype(object).where(parcels["owner_id"].notna(), "inconnu")
    lines = (
        "    parcelle "
        + parcels["idu"].astype(str)
        + " : "
        + [fr_number(v, 2) for v in parcels["taken_ha"]]
        + " ha"
        + parcels["split"].map({True: " (partie)", False: ""})
        + ", propriétaire "
        + parcels["owner_kind"].map(OWNER_KIND_LABELS).fillna("inconnu")
        + " ("
        + owner.astype(str)
        + ")"
    )
    return lines.groupby(parcels["site_rank"].to_numpy()).agg(list).to_dict()


# The project's requirements: the options of `foncier query`, defined once there.
assemble.params += [copy.copy(p) for p in _query.params if p.name in _FIELDS and p.name != "area"]

__all__ = ["assemble"]
