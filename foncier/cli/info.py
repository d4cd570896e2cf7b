"""``foncier info``: what a territory folder holds."""

from __future__ import annotations

import json
from pathlib import Path

import click

from foncier.cli._main import handle_errors, load_territory, main, territory_argument


def _format_summary(summary: dict) -> str:
    lines = [f"Territoire : {summary['name']}" + (" (échantillon synthétique)" if summary["synthetic"] else "")]
    lines.append(f"SCR : {summary['crs']}")
    lines.append("Couches :")
    for name, entry in summary["layers"].items():
        area = f"  {entry['area_ha']:>12,.1f} ha".replace(",", " ") if "area_ha" in entry else ""
        lines.append(f"  {name:<16} {entry['features']:>8} objets{area}")
    lines.append(f"MNT : {summary['dem'] or 'absent'}")
    lines.append(f"Consommation ENAF : {summary['enaf_years'] or 'absente'} ({summary['enaf_communes']} communes)")
    p = summary["projects"]
    lines.append(
        f"Projets : {p['count']} · {p['jobs']} emplois · {p['investment_eur'] / 1e6:.1f} M€ · "
        f"{p['area_min_ha']:.1f}-{p['area_max_ha']:.1f} ha demandés"
    )
    return "\n".join(lines)


@main.command()
@territory_argument
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@handle_errors
def info(territory: Path, as_json: bool) -> None:
    """Summarise a territory folder: layers, counts, areas, ENAF years, projects."""
    t = load_territory(territory)
    summary = t.summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        click.echo(_format_summary(summary))
