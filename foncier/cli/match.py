"""``foncier match`` and ``foncier compare``: run a matching scenario, compare two."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from foncier._format import fr_compact
from foncier.assignment import OBJECTIVES
from foncier.cli._main import handle_errors, main, territory_argument

_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)
_UNMATCHED_SHOWN = 10


@main.command()
@territory_argument
@click.option(
    "--projects",
    "projects_file",
    type=_FILE,
    help="Projects CSV or GeoJSON (default: the territory's).",
)
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    default="jobs",
    show_default=True,
    help="What the assignment maximises.",
)
@click.option(
    "--pool",
    type=click.Choice(["commune", "epci", "scot"]),
    default="commune",
    show_default=True,
    help="Level at which ZAN budgets are enforced.",
)
@click.option("--rules", "rules_name", default=None, help="ZAN rule set name or TOML/YAML file.")
@click.option("--committed", type=_FILE, help="CSV of committed projects: insee, committed_ha.")
@click.option(
    "--decisions",
    type=_FILE,
    help="CSV of the working group's decisions (project_id, unit_id, insee, decision, "
    "area_ha, enaf_ha): validated placements are committed and not placed again.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Solver time limit (s); the best solution found is kept.",
)
@click.option(
    "--top-n",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Candidate units kept per project and ranking before solving.",
)
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the result is written to.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@handle_errors
def match(
    territory: Path,
    projects_file: Path | None,
    objective: str,
    pool: str,
    rules_name: str | None,
    committed: Path | None,
    decisions: Path | None,
    time_limit: float | None,
    top_n: int,
    outdir: Path,
    quiet: bool,
) -> None:
    """Place the projects of TERRITORY on its land units under the ZAN budgets."""
    from foncier.scenarios import Scenario

    scenario = Scenario(
        territory,
        projects=projects_file,
        rules=rules_name,
        pool=pool,
        objective=objective,
        committed=committed,
        decisions=decisions,
        time_limit=time_limit,
        top_n=top_n,
        name=f"{objective} / {pool}",
    )
    if not quiet:
        click.echo(
            f"Appariement des projets de {territory} (objectif {objective}, budgets par {pool})…",
            err=True,
        )
    result = scenario.run(progress=not quiet)
    result.to_folder(outdir)
    click.echo(result.summary_fr())
    unmatched = result.unmatched
    for row in unmatched.head(_UNMATCHED_SHOWN).itertuples(index=False):
        hint = f" → {row.hint}" if isinstance(row.hint, str) and row.hint else ""
        click.echo(f"  {row.project_id} : {row.explanation}{hint}")
    if len(unmatched) > _UNMATCHED_SHOWN:
        click.echo(f"  … et {len(unmatched) - _UNMATCHED_SHOWN} autres (voir unmatched.csv)")
    click.echo(f"Résultats écrits dans {outdir}")


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fr_compact(float(value), 1)
    return str(value)


@main.command()
@click.argument("outdir_a", type=click.Path(file_okay=False, path_type=Path))
@click.argument("outdir_b", type=click.Path(file_okay=False, path_type=Path))
@handle_errors
def compare(outdir_a: Path, outdir_b: Path) -> None:
    """Compare two scenario results (folders written by `foncier match`) side by side."""
    from foncier.scenarios import ScenarioResult
    from foncier.scenarios import compare as compare_results

    table = compare_results(
        ScenarioResult.from_folder(outdir_a), ScenarioResult.from_folder(outdir_b)
    )
    width = max(len(str(i)) for i in table.index)
    click.echo(f"{'':<{width}}  {'A':>28}  {'B':>28}  {'B − A':>8}")
    for label, row in table.iterrows():
        click.echo(
            f"{label:<{width}}  {_cell(row['a']):>28}  {_cell(row['b']):>28}  "
            f"{_cell(row['difference']):>8}"
        )
    click.echo(f"A : {outdir_a}\nB : {outdir_b}")
