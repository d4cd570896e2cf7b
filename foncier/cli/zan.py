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
from typing import TYPE_CHECKING, Any

import click

from foncier._format import fr_number
from foncier.choices import GUARANTEE_UNKNOWN_CHOICES
from foncier.cli._main import (
    EXISTING_FILE,
    committed_option,
    format_option,
    handle_errors,
    load_territory,
    main,
    pool_option,
    rules_option,
    territory_argument,
)
from foncier.outputs import write_text

if TYPE_CHECKING:
    import pandas as pd

_POOL_LABELS = {
    "commune": "par commune",
    "epci": "mutualisé par EPCI",
    "scot": "mutualisé par SCoT",
}
_DECIMALS = {"reduction_rate": 4}
#: Decimals kept in CSV and JSON output (1e-6 ha = 0.01 m²).
_MACHINE_DECIMALS = 6


def _header(table: pd.DataFrame, territory_label: str) -> str:
    a = table.attrs
    return (
        f"Budgets ZAN 2021-2031 : {territory_label}\n"
        f"Règles : {a['rules']} (version {a['rules_version']}) · données : {a['enaf_vintage']} · "
        f"budgets {_POOL_LABELS[a['pool']]} · calculé le {a['computed_at']}"
    )


def _format_table(
    table: pd.DataFrame, territory_label: str, hypotheses: list[dict[str, Any]]
) -> str:
    import pandas as pd

    from foncier.assumptions import assumptions_text
    from foncier.zan import BUDGET_COLUMNS, GUARANTEE_STATUS_LABELS, STATUS_LABELS

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
    parts = [_header(table, territory_label), "", *stated, shown.to_string(index=False)]
    return "\n".join([*parts, "", total])


def _machine(table: pd.DataFrame) -> pd.DataFrame:
    """Return the budget columns with floats rounded for CSV and JSON."""
    from foncier.zan import BUDGET_COLUMNS

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
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["key", "count", "communes", "text"])
    return frame.to_csv(sep=";", index=False)


def _missing_note(missing: dict[str, list[int]]) -> str:
    shown = " ; ".join(f"{k} ({', '.join(map(str, v))})" for k, v in list(missing.items())[:10])
    more = f" et {len(missing) - 10} autres" if len(missing) > 10 else ""
    return (
        f"Attention : consommation d'ENAF manquante pour {len(missing)} commune(s) : "
        f"{shown}{more}. Leurs budgets sont laissés vides (n.d.), jamais comptés comme nuls."
    )


@main.command()
@territory_argument
@rules_option
@click.option(
    "--rates", type=EXISTING_FILE, help="CSV of territorialised rates: level, code, reduction_rate."
)
@click.option(
    "--guarantee-unknown",
    type=click.Choice(GUARANTEE_UNKNOWN_CHOICES),
    default=None,
    help=(
        "Garantie communale des communes sans information sur leur document d'urbanisme : "
        "refuse (non appliquée) ou apply (appliquée, par hypothèse). Défaut : celui des règles "
        "(refuse)."
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
    from foncier.assumptions import assumptions, assumptions_text
    from foncier.zan import (
        MissingEnafWarning,
        budget_table,
        load_rates,
        load_rules,
        read_committed,
    )

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
