"""``foncier query``: the planner's question, "where can this project go?"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from foncier.cli._main import (
    committed_option,
    decisions_option,
    format_option,
    handle_errors,
    main,
    pool_option,
    rules_option,
    territory_argument,
)

#: CLI option -> ``projects`` column, for the requirements given on the command line.
_FIELDS = {
    "area": "area_min_ha",
    "jobs": "jobs",
    "max_interchange_km": "max_dist_interchange_km",
    "max_slope": "max_slope_pct",
    "rail": "needs_rail",
    "seveso": "seveso",
    "pene": "is_pene",
    "preferred_insee": "preferred_insee",
    "earliest_year": "earliest_year",
}
#: Columns of the printed table: (answer column, French header, decimals or None for text).
_TABLE = (
    ("rank", "rang", 0),
    ("unit_id", "unité", None),
    ("commune", "commune", None),
    ("site", "site", None),
    ("net_area_ha", "surface nette (ha)", 2),
    ("slope_mean_pct", "pente (%)", 1),
    ("dist_interchange_km", "échangeur (km)", 1),
    ("dist_rail_freight_km", "gare fret (km)", 1),
    ("score", "score", 2),
    ("zan_cost", "coût ZAN", None),
)


def _cell(value: Any, decimals: int | None) -> str:
    from foncier._format import fr_number

    if decimals is None:
        return "" if value is None or value != value else str(value)
    return fr_number(value, decimals) if value == value else "inconnu"


@main.command(
    help="""Classe les unités foncières de TERRITOIRE qui peuvent accueillir un projet
    (aucun scénario n'est résolu).

    Donnez les exigences du projet (--area au moins) ou --project ID pour un
    projet du territoire.  Les unités dont le coût ZAN tient dans le budget de
    leur niveau de mutualisation viennent d'abord ; chaque ligne dit ce qu'il
    reste avant et après le projet (décisions validées déduites, aucun scénario
    compté) ; avec --scenario, ce que ce scénario prend déjà du terrain et du
    budget.  Si rien ne convient, la raison et ce qui débloquerait sont
    écrits.""",
)
@territory_argument
@click.option("--project", "project_id", help="Un projet du territoire, par son identifiant.")
@click.option("--area", type=click.FloatRange(min=0, min_open=True), help="Surface minimale (ha).")
@click.option("--jobs", type=click.IntRange(min=0), help="Emplois du projet.")
@click.option(
    "--max-interchange-km",
    type=click.FloatRange(min=0),
    help="Distance maximale à un échangeur (km).",
)
@click.option("--max-slope", type=click.FloatRange(min=0), help="Pente moyenne maximale (%).")
@click.option(
    "--rail", is_flag=True, default=None, help="A besoin d'une desserte ferroviaire fret proche."
)
@click.option("--seveso", is_flag=True, default=None, help="Un établissement Seveso.")
@click.option(
    "--pene",
    is_flag=True,
    default=None,
    help="Un projet d'envergure nationale ou européenne (PENE).",
)
@click.option("--preferred-insee", help="Code INSEE de la commune souhaitée.")
@click.option(
    "--earliest-year", type=click.IntRange(min=2000, max=2100), help="Année de démarrage."
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1, max=100),
    default=5,
    show_default=True,
    help="Nombre d'unités foncières proposées.",
)
@click.option(
    "--scenario",
    "scenario_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Un résultat de scénario de ce territoire (dossier écrit par foncier match) : "
    "chaque unité dit aussi ce que ce scénario prend déjà de son terrain et du budget "
    "de son enveloppe.",
)
@pool_option(default="commune")
@rules_option
@committed_option
@decisions_option
@format_option()
@handle_errors
def query(
    territory: Path,
    project_id: str | None,
    k: int,
    scenario_dir: Path | None,
    pool: str,
    rules_name: str | None,
    committed: Path | None,
    decisions: Path | None,
    fmt: str,
    **requirements: Any,
) -> None:
    """Rank the land units of TERRITORY that can host one project (no scenario is solved).

    Give the project's requirements (--area at least) or --project ID for a
    project of the territory.  Units whose ZAN cost fits their pool's budget
    come first; each line says what the pool has left before and after the
    project (validated decisions deducted, no scenario counted); with
    --scenario, what that scenario already takes of the land and the budget.
    When nothing fits, the reason and what would unlock it are printed.
    """
    from foncier.errors import FoncierError
    from foncier.inputs import resolve_rules
    from foncier.layers import Col
    from foncier.scenarios import Scenario
    from foncier.territory import Territory
    from foncier.units_cache import folder_land_units

    t = Territory.from_folder(territory)
    given = {_FIELDS[k_]: v for k_, v in requirements.items() if v is not None}
    if project_id is not None:
        rows = t.projects[t.projects[Col.PROJECT_ID].astype(str) == project_id]
        if rows.empty:
            known = t.projects[Col.PROJECT_ID].astype(str).tolist()
            msg = (
                f"projet {project_id!r} inconnu du territoire {territory} ; projets connus : "
                f"{known[:10]}{' …' if len(known) > 10 else ''}"
            )
            raise FoncierError(msg)
        fields: dict[str, Any] = {
            str(key): value
            for key, value in rows.iloc[0].to_dict().items()
            if value is not None and value == value
        }
        fields.update(given)
    elif Col.AREA_MIN_HA not in given:
        msg = "donnez la surface minimale du projet (--area HA) ou un projet (--project ID)"
        raise FoncierError(msg)
    else:
        fields = given
    rules = resolve_rules(rules_name)
    # the folder's land units, read back when its files were screened before
    units = folder_land_units(
        territory,
        t,
        unknown_land_cover=rules.unknown_land_cover,
        friches_count=rules.friches_count,
    )
    scenario = Scenario(
        t, rules=rules, pool=pool, committed=committed, decisions=decisions, units=units
    )
    top = scenario.query(fields, k=k, scenario=scenario_dir)
    if fmt == "json":
        click.echo(top.to_json(orient="records", force_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(top.to_csv(index=False), nl=False)
    else:
        _print_table(top)
        if scenario_dir is not None and not top.empty:
            click.echo("")
            click.echo(f"Ce que prend déjà le scénario « {top['scenario_name'].iloc[0]} » :")
            for r in top.itertuples(index=False):
                click.echo(f"  {r.rank}. {r.scenario_claim}")
    if top.empty:
        _print_why_not(scenario, fields)


def _print_table(top: Any) -> None:
    if top.empty:
        click.echo("Aucun terrain ne convient à ce projet.")
        return
    rows = [[h for _, h, _ in _TABLE]]
    rows += [[_cell(r[c], d) for c, _, d in _TABLE] for r in top.to_dict("records")]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_TABLE) - 1)]
    for row in rows:
        head = "  ".join(v.ljust(w) for v, w in zip(row[:-1], widths, strict=True))
        click.echo(f"{head}  {row[-1]}")


def _print_why_not(scenario: Any, fields: dict[str, Any]) -> None:
    """The reason and the hint the engine gives a one-project scenario."""
    import pandas as pd

    from foncier.layers import Col
    from foncier.projects import project_frame

    one = project_frame({Col.PROJECT_ID: "requête", **fields})
    single = type(scenario)(
        scenario.territory,
        projects=one,
        rules=scenario.inputs().rules,
        pool=scenario.pool,
        units=scenario.units,
        committed=scenario.committed,
        decisions=scenario.decisions,
    )
    unmatched = single.run().unmatched
    for r in unmatched.itertuples(index=False):
        click.echo(f"Raison : {r.explanation}")
        if isinstance(r.hint, str) and r.hint and not pd.isna(r.hint):
            click.echo(f"Piste : {r.hint}")


__all__ = ["query"]
