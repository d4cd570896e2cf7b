"""``foncier zan``: ZAN budgets of a territory under a rule set.

Every output carries the table's assumptions (``attrs["assumptions"]``, the
"hypothèses"): the table format lists them under the figures; ``--format
json`` gives them under the key ``assumptions`` (``key``, ``count``,
``communes``, ``text``); ``--format csv`` keeps stdout a plain CSV table and
prints them on stderr, one ``Hypothèse : …`` line each; ``--assumptions FILE``
also writes them as a CSV (``key;count;communes;text``, communes separated by
``|``) whatever the format.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import click
import pandas as pd

from foncier._format import fr_number
from foncier.assumptions import assumptions, assumptions_text
from foncier.cli._main import (
    EXISTING_FILE,
    LabelChoice,
    committed_option,
    format_option,
    handle_errors,
    load_territory,
    main,
    pool_option,
    rules_option,
    territory_argument,
)
from foncier.labels import POOL_LABELS, fr_datetime
from foncier.outputs import write_text
from foncier.zan import (
    BUDGET_COLUMNS,
    GUARANTEE_STATUS_LABELS,
    GUARANTEE_UNKNOWN_CHOICES,
    STATUS_LABELS,
    MissingEnafWarning,
    budget_table,
    load_rates,
    load_rules,
    read_committed,
)

#: French heading of each budget column in the table format (CSV and JSON keep the codes).
_HEADINGS = {
    "insee": "INSEE",
    "name": "commune",
    "baseline_ha": "réf. 2011-2021 (ha)",
    "reduction_rate": "taux de réduction",
    "envelope_ha": "enveloppe (ha)",
    "guarantee_applied": "garantie appliquée",
    "guarantee_status": "garantie ouverte",
    "guaranteed_ha": "part garantie (ha)",
    "consumed_ha": "consommé depuis 2021 (ha)",
    "committed_ha": "engagé (ha)",
    "remaining_ha": "reste (ha)",
    "pace_ha_per_year": "rythme (ha/an)",
    "projected_2031_ha": "projeté 2031 (ha)",
    "status": "statut",
}
#: French labels of the ``--guarantee-unknown`` choices.
_GUARANTEE_UNKNOWN_LABELS = {"refuse": "refuser", "apply": "appliquer"}
_DECIMALS = {"reduction_rate": 4}
#: Decimals kept in CSV and JSON output (1e-6 ha = 0.01 m²).
_MACHINE_DECIMALS = 6


def _header(table: pd.DataFrame, territory_label: str) -> str:
    a = table.attrs
    return (
        f"Budgets ZAN 2021-2031 : {territory_label}\n"
        f"Règles : {a['rules']} (version {a['rules_version']}) · données : {a['enaf_vintage']} · "
        f"budgets {POOL_LABELS[a['pool']]} · calculé le {fr_datetime(a['computed_at'])}"
    )


def _format_table(
    table: pd.DataFrame, territory_label: str, hypotheses: list[dict[str, Any]]
) -> str:
    shown = pd.DataFrame(index=table.index)
    for col in BUDGET_COLUMNS:
        values = table[col]
        if col == "status":
            shown[col] = values.map(STATUS_LABELS)
        elif col == "guarantee_applied":
            shown[col] = values.map({True: "oui", False: "non"})
        elif col == "guarantee_status":
            shown[col] = values.map(GUARANTEE_STATUS_LABELS)
        elif pd.api.types.is_float_dtype(values):
            shown[col] = [fr_number(float(v), _DECIMALS.get(col, 2)) for v in values]
        else:
            shown[col] = values.astype(str)
    totals = {
        c: fr_number(float(table[c].sum(skipna=False)), 2, "ha")
        for c in ("envelope_ha", "consumed_ha", "remaining_ha")
    }
    remaining = table["remaining_ha"]
    over = remaining[remaining < 0]
    total = (
        f"Total : enveloppe {totals['envelope_ha']} · consommé depuis 2021 "
        f"{totals['consumed_ha']} · reste net {totals['remaining_ha']}"
        f" · disponible {fr_number(float(remaining.clip(lower=0).sum()), 2, 'ha')}"
        f" (reliquats positifs ; {len(over)} en dépassement, "
        f"{fr_number(float(-over.sum()) + 0.0, 2, 'ha')} au-delà de leur enveloppe)"
    )
    # What the figures rest on by default comes right under the header (nothing when none).
    stated = [assumptions_text(hypotheses), ""] if hypotheses else []
    shown = shown.rename(columns=_HEADINGS)
    parts = [_header(table, territory_label), "", *stated, shown.to_string(index=False)]
    return "\n".join([*parts, "", total])


def _machine(table: pd.DataFrame) -> pd.DataFrame:
    """Return the budget columns with floats rounded for CSV and JSON."""
    return table[list(BUDGET_COLUMNS)].round(_MACHINE_DECIMALS)


def _format_json(
    table: pd.DataFrame, territory_label: str, hypotheses: list[dict[str, Any]]
) -> str:
    rows = json.loads(_machine(table).to_json(orient="records", force_ascii=False))
    keys = ("rules", "rules_version", "enaf_vintage", "computed_at", "pool", "missing_years")
    payload = {
        "territory": territory_label,
        **{k: table.attrs[k] for k in keys},
        "guarantee_unknown": table.attrs.get("guarantee_unknown"),
        "code_mismatch": table.attrs.get("code_mismatch"),
        "assumptions": table.attrs.get("assumptions", []),
        "hypotheses": hypotheses,
        "budgets": rows,
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def _assumptions_csv(table: pd.DataFrame) -> str:
    """The table's assumptions as a CSV: key;count;communes;text."""
    rows = [
        {
            "key": a["key"],
            "count": a["count"],
            "communes": "|".join(a["communes"]),
            "text": a["text"],
        }
        for a in table.attrs.get("assumptions", [])
    ]
    frame = pd.DataFrame(rows, columns=["key", "count", "communes", "text"])
    return frame.to_csv(sep=";", index=False)


def _missing_note(missing: dict[str, list[int]]) -> str:
    shown = " ; ".join(f"{k} ({', '.join(map(str, v))})" for k, v in list(missing.items())[:10])
    more = f" et {len(missing) - 10} autres" if len(missing) > 10 else ""
    return (
        f"Attention : consommation d'ENAF manquante pour {len(missing)} commune(s) : "
        f"{shown}{more}. Leurs budgets sont laissés vides (n.d.), jamais comptés comme nuls."
    )


@main.command(help="Budgets ZAN 2021-2031 par commune, EPCI ou SCoT : enveloppe, consommé, reste.")
@territory_argument
@rules_option
@click.option(
    "--rates",
    type=EXISTING_FILE,
    help="CSV des taux territorialisés : level, code, reduction_rate.",
)
@click.option(
    "--guarantee-unknown",
    type=LabelChoice({c: _GUARANTEE_UNKNOWN_LABELS[c] for c in GUARANTEE_UNKNOWN_CHOICES}),
    default=None,
    help=(
        "Garantie communale des communes sans information sur leur document d'urbanisme : "
        "refuser (non appliquée) ou appliquer (appliquée, par hypothèse). Défaut : celui des "
        "règles (refuser)."
    ),
)
@click.option(
    "--assumptions",
    "assumptions_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Écrit aussi les hypothèses du tableau dans ce fichier CSV (key;count;communes;text).",
)
@pool_option()
@committed_option
@format_option()
@handle_errors
def zan(
    territory: Path,
    rules_name: str | None,
    rates: Path | None,
    pool: str | None,
    committed: Path | None,
    guarantee_unknown: str | None,
    assumptions_file: Path | None,
    fmt: str,
) -> None:
    """ZAN budgets 2021-2031 per commune, EPCI or SCoT: envelope, consumed, remaining."""
    rules = load_rules(rules_name)
    t = load_territory(territory)
    if rates is not None:
        rules = rules.with_rates(load_rates(rates, communes=t.communes))
    committed_table = read_committed(committed) if committed is not None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingEnafWarning)
        table = budget_table(
            t, rules, pool=pool, committed=committed_table, guarantee_unknown=guarantee_unknown
        )
    if table.attrs["missing_years"]:
        click.secho(_missing_note(table.attrs["missing_years"]), fg="yellow", err=True)
    hypotheses = [dict(a) for a in assumptions(t, budgets=table, zan_only=True)]
    if assumptions_file is not None:
        write_text(assumptions_file, _assumptions_csv(table), "budgets")
    if fmt == "csv":
        click.echo(_machine(table).to_csv(index=False), nl=False)
        if hypotheses:
            click.echo(assumptions_text(hypotheses), err=True)
    elif fmt == "json":
        click.echo(_format_json(table, t.data_label, hypotheses))
    else:
        click.echo(_format_table(table, t.data_label, hypotheses))
