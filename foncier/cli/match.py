"""``foncier match`` and ``foncier compare``: run a matching scenario, compare two."""

from __future__ import annotations

import math
from pathlib import Path

import click

from foncier._format import fr_compact
from foncier.choices import OBJECTIVE_LABELS, POOL_LABELS
from foncier.cli._main import (
    EXISTING_FILE,
    committed_option,
    decisions_option,
    force_option,
    handle_errors,
    main,
    objective_option,
    output_option,
    pool_option,
    quiet_option,
    rules_option,
    territory_argument,
)

_UNMATCHED_SHOWN = 10


@main.command(help="Place les projets de TERRITOIRE sur ses unités foncières sous les budgets ZAN.")
@territory_argument
@click.option(
    "--projects",
    "projects_file",
    type=EXISTING_FILE,
    help="Projets en CSV ou GeoJSON (défaut : ceux du territoire).",
)
@objective_option
@pool_option(default="commune")
@rules_option
@committed_option
@decisions_option
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Temps de calcul maximal (s) ; la meilleure solution trouvée est gardée.",
)
@click.option(
    "--top-n",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Unités candidates gardées par projet et par classement avant la résolution.",
)
@click.option(
    "--sensibilite",
    "sensitivity",
    is_flag=True,
    help=(
        "Calcule aussi la valeur d'un hectare de budget ZAN de plus par enveloppe et la "
        "stabilité de chaque placement (quelques recalculs courts : budget_values.csv, "
        "colonne stability d'assignments.csv)."
    ),
)
@output_option(
    "outdir",
    folder=True,
    required=True,
    help="Dossier du résultat (absent, vide, ou un résultat écrit par foncier).",
)
@quiet_option
@force_option
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
    sensitivity: bool,
    outdir: Path,
    quiet: bool,
    force: bool,
) -> None:
    """Place the projects of TERRITORY on its land units under the ZAN budgets."""
    from foncier.outputs import check_folder
    from foncier.scenarios import Scenario

    inputs = [territory, projects_file, committed, _rules_file(rules_name)]
    check_folder(outdir, "scenario", force=force, inputs=inputs)
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
        sensitivity=sensitivity,
        name=f"{OBJECTIVE_LABELS[objective]} / {pool}",
    )
    if not quiet:
        click.echo(
            f"Appariement des projets de {territory} (objectif « {OBJECTIVE_LABELS[objective]} », "
            f"budgets {POOL_LABELS[pool]})…",
            err=True,
        )
    result = scenario.run(progress=not quiet)
    result.to_folder(outdir, force=force)
    click.echo(result.summary_fr())
    unmatched = result.unmatched
    for row in unmatched.head(_UNMATCHED_SHOWN).itertuples(index=False):
        hint = f" → {row.hint}" if isinstance(row.hint, str) and row.hint else ""
        click.echo(f"  {row.project_id} : {row.explanation}{hint}")
    if len(unmatched) > _UNMATCHED_SHOWN:
        click.echo(f"  … et {len(unmatched) - _UNMATCHED_SHOWN} autres (voir unmatched.csv)")
    click.echo(f"Résultats écrits dans {outdir}")


def _rules_file(name: str | None) -> Path | None:
    """The rule file named by ``--rules``, if it is a file (not a built-in name)."""
    return Path(name) if name is not None and Path(name).is_file() else None


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fr_compact(float(value), 1)
    return str(value)


@main.command(
    help="Compare côte à côte deux résultats de scénarios (dossiers écrits par foncier match)."
)
@click.argument("outdir_a", metavar="RÉSULTAT_A", type=click.Path(file_okay=False, path_type=Path))
@click.argument("outdir_b", metavar="RÉSULTAT_B", type=click.Path(file_okay=False, path_type=Path))
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
