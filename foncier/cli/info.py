"""``foncier info``: what a territory folder holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from foncier._format import fr_number
from foncier.choices import LAYER_LABELS
from foncier.cli._main import handle_errors, load_territory, main, territory_argument


def format_summary(summary: dict[str, Any]) -> str:
    """Render :meth:`foncier.territory.Territory.summary` as French text for the terminal."""
    name = summary["name"]
    if summary["synthetic"] and "synthétique" not in name:
        name += " (échantillon synthétique)"
    lines = [f"Territoire : {name}", f"SCR : {summary['crs']}", "Couches :"]
    for layer, entry in summary["layers"].items():
        area = f"  {fr_number(entry['area_ha'], 1, 'ha'):>14}" if "area_ha" in entry else ""
        label = LAYER_LABELS.get(layer, layer)
        lines.append(f"  {label:<22} {entry['features']:>8} objets{area}")
    if summary.get("communes_source") == "enaf":
        lines.append(
            f"Communes : {summary['enaf_communes']} lues dans le fichier Cerema, sans contours"
        )
    docs = summary.get("planning_docs", 0)
    lines.append(
        f"Documents d'urbanisme : {docs} communes renseignées"
        if docs
        else "Documents d'urbanisme : absents (garantie communale : statut inconnu)"
    )
    lines.append(f"MNT : {summary['dem'] or 'absent'}")
    enaf = summary["enaf_years"] or "absente"
    lines.append(f"Consommation ENAF : {enaf} ({summary['enaf_communes']} communes)")
    p = summary["projects"]
    lines.append(
        f"Projets : {p['count']} · {p['jobs']} emplois · "
        f"{fr_number(p['investment_eur'] / 1e6, 1, 'M€')} · "
        f"{fr_number(p['area_min_ha'], 1)} à {fr_number(p['area_max_ha'], 1, 'ha')} demandés"
    )
    return "\n".join(lines)


@main.command(
    help="Résume un dossier de territoire : couches, nombres, surfaces, années ENAF, projets."
)
@territory_argument
@click.option("--json", "as_json", is_flag=True, help="Écrit le résumé en JSON.")
@handle_errors
def info(territory: Path, as_json: bool) -> None:
    """Summarise a territory folder: layers, counts, areas, ENAF years, projects."""
    summary = load_territory(territory).summary()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        click.echo(format_summary(summary))
