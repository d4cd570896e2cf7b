"""``foncier zan``: ZAN budgets of a territory under a rule set, or under two (``--versus``).

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
from foncier.choices import GUARANTEE_UNKNOWN_CHOICES, POOL_LABELS
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
from foncier.outputs import write_text

if TYPE_CHECKING:
    import pandas as pd

#: French heading of each budget column in the table format (CSV and JSON keep the codes).
_HEADINGS = {
    "insee": "INSEE",
    "name": "commune",
    "baseline_ha": "réf. 2011-2021 (ha)",
    "reduction_rate": "taux de réduction",
    "target_level": "cible",
    "target_status": "statut de la cible",
    "envelope_ha": "enveloppe (ha)",
    "guarantee_included": "garantie incluse",
    "guarantee_applied": "garantie appliquée",
    "guarantee_status": "garantie ouverte",
    "guarantee_floor_ha": "plancher garanti (ha)",
    "guaranteed_ha": "part garantie (ha)",
    "guarantee_pooling": "garantie mutualisée",
    "guarantee_reserved_ha": "garantie gardée (ha)",
    "allowance_ha": "marge locale (ha)",
    "pene_built_ha": "PENE réalisés (ha)",
    "pene_planned_ha": "PENE prévus (ha)",
    "consumed_ha": "consommé (ha)",
    "committed_ha": "engagé (ha)",
    "excluded_ha": "exclu (ha)",
    "remaining_ha": "reste (ha)",
    "pace_ha_per_year": "rythme (ha/an)",
    "projected_end_ha": "projeté fin de période (ha)",
    "end_year": "fin",
    "status": "statut",
}
#: French labels of the ``--guarantee-unknown`` choices.
_GUARANTEE_UNKNOWN_LABELS = {"refuse": "refuser", "apply": "appliquer"}


def _headings(table: pd.DataFrame) -> dict[str, str]:
    """French headings of the table format, the periods read from the rule set."""
    start, end = table.attrs["target_period"]
    ref0, ref1 = table.attrs.get("reference_period", (2011, 2021))
    return {
        **_HEADINGS,
        "baseline_ha": f"réf. {ref0}-{ref1} (ha)",
        "consumed_ha": f"consommé depuis {start} (ha)",
        "projected_end_ha": f"projeté {end} (ha)",
    }


_DECIMALS = {"reduction_rate": 4}
#: Decimals kept in CSV and JSON output (1e-6 ha = 0.01 m²).
_MACHINE_DECIMALS = 6


def _header(table: pd.DataFrame, territory_label: str) -> str:
    from foncier.labels import fr_datetime

    a = table.attrs
    start, end = a["target_period"]
    bill = f" · {a['legal_status_label'].upper()}" if a.get("legal_status") == "bill" else ""
    return (
        f"Budgets ZAN {start}-{end} : {territory_label}\n"
        f"Règles : {a['rules']} (version {a['rules_version']}){bill} · "
        f"données : {a['enaf_vintage']} · "
        f"budgets {POOL_LABELS[a['pool']]} · calculé le {fr_datetime(a['computed_at'])}"
    )


def _format_table(
    table: pd.DataFrame, territory_label: str, hypotheses: list[dict[str, Any]]
) -> str:
    import pandas as pd

    from foncier.assumptions import assumptions_text
    from foncier.zan import (
        BUDGET_COLUMNS,
        GUARANTEE_STATUS_LABELS,
        STATUS_LABELS,
        TARGET_LEVEL_LABELS,
        TARGET_STATUS_LABELS,
    )

    shown = pd.DataFrame(index=table.index)
    for col in BUDGET_COLUMNS:
        values = table[col]
        if col == "target_note":
            continue  # listed under the table, once per target
        if col == "status":
            shown[col] = values.map(STATUS_LABELS)
        elif col == "target_level":
            shown[col] = values.map(TARGET_LEVEL_LABELS)
        elif col == "target_status":
            shown[col] = values.map(TARGET_STATUS_LABELS)
        elif col in ("guarantee_applied", "guarantee_pooling", "guarantee_included"):
            shown[col] = values.map({True: "oui", False: "non"})
        elif col == "guarantee_status":
            shown[col] = values.map(GUARANTEE_STATUS_LABELS)
        elif col == "end_year":
            shown[col] = values.astype(int).astype(str)
        elif pd.api.types.is_float_dtype(values):
            shown[col] = [fr_number(float(v), _DECIMALS.get(col, 2)) for v in values]
        else:
            shown[col] = values.astype(str)
    totals = {
        c: fr_number(float(table[c].sum(skipna=False)), 2, "ha")
        for c in ("envelope_ha", "consumed_ha", "remaining_ha")
    }
    start = table.attrs["target_period"][0]
    remaining = table["remaining_ha"]
    over = remaining[remaining < 0]
    total = (
        f"Total : enveloppe {totals['envelope_ha']} · consommé depuis {start} "
        f"{totals['consumed_ha']} · reste net {totals['remaining_ha']}"
        f" · disponible {fr_number(float(remaining.clip(lower=0).sum()), 2, 'ha')}"
        f" (reliquats positifs ; {len(over)} en dépassement, "
        f"{fr_number(float(-over.sum()) + 0.0, 2, 'ha')} au-delà de leur enveloppe)"
    )
    kept = float(table["guarantee_reserved_ha"].sum())
    if kept > 0:
        total += (
            f"\nGaranties communales gardées par les communes qui n'ont pas demandé leur "
            f"mutualisation (hors budget mutualisé) : {fr_number(kept, 2, 'ha')}"
        )
    # What the figures rest on by default comes right under the header (nothing when none).
    stated = [assumptions_text(hypotheses), ""] if hypotheses else []
    counts = table["target_note"].value_counts(sort=False)
    targets = ["Cibles appliquées :"] + [f"- {note} ({n})" for note, n in counts.items()]
    shown = shown.rename(columns=_headings(table))
    parts = [_header(table, territory_label), "", *stated, shown.to_string(index=False)]
    return "\n".join([*parts, "", *targets, "", total])


def _machine(table: pd.DataFrame) -> pd.DataFrame:
    """Return the budget columns with floats rounded for CSV and JSON."""
    from foncier.zan import BUDGET_COLUMNS

    return table[list(BUDGET_COLUMNS)].round(_MACHINE_DECIMALS)


def _format_json(
    table: pd.DataFrame, territory_label: str, hypotheses: list[dict[str, Any]]
) -> str:
    rows = json.loads(_machine(table).to_json(orient="records", force_ascii=False))
    keys = (
        "rules",
        "rules_version",
        "enaf_vintage",
        "computed_at",
        "pool",
        "target_period",
        "end_year",
        "legal_status",
        "legal_status_label",
        "national_envelopes",
        "missing_years",
    )
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


def _format_versus(
    versus: pd.DataFrame, territory_label: str, fmt: str, hypotheses: list[dict[str, Any]]
) -> str:
    """The comparison of two rule sets as a French table, a CSV or JSON."""
    from foncier.assumptions import assumptions_text
    from foncier.zan import VERSUS_COLUMNS

    a = versus.attrs
    machine = versus[list(VERSUS_COLUMNS)].round(_MACHINE_DECIMALS)
    if fmt == "csv":
        return machine.to_csv(index=False)
    if fmt == "json":
        payload = {
            "territory": territory_label,
            **{k: a[k] for k in ("rules", "versus_rules", "rules_label", "versus_label", "pool")},
            "assumptions": a["assumptions"],
            "hypotheses": hypotheses,
            "budgets": json.loads(machine.to_json(orient="records", force_ascii=False)),
        }
        return json.dumps(payload, ensure_ascii=False, indent=2)
    shown = versus[list(VERSUS_COLUMNS)].copy()
    for col in VERSUS_COLUMNS[2:]:
        shown[col] = [fr_number(float(v), 2) for v in versus[col]]
    sums = {c: fr_number(float(versus[c].sum(skipna=False)), 2, "ha") for c in VERSUS_COLUMNS[2:]}
    stated = [assumptions_text(hypotheses), ""] if hypotheses else []
    return "\n".join(
        [
            f"Budgets ZAN sous deux jeux de règles : {territory_label} "
            f"(budgets {POOL_LABELS[a['pool']]})",
            f"Règles : {a['rules_label']}",
            f"Comparées à (versus_…) : {a['versus_label']}",
            "",
            *stated,
            shown.to_string(index=False),
            "",
            f"Total : enveloppe {sums['envelope_ha']} → {sums['versus_envelope_ha']} "
            f"({sums['envelope_change_ha']}) · reste {sums['remaining_ha']} → "
            f"{sums['versus_remaining_ha']} ({sums['remaining_change_ha']})",
        ]
    )


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
@click.option(
    "--pene",
    type=EXISTING_FILE,
    default=None,
    help=(
        "Liste des PENE du territoire (CSV : insee, pene_ha, state réalisé ou prévu, year) : "
        "les PENE réalisés sortent de la consommation locale, les PENE prévus restent hors "
        "des budgets locaux."
    ),
)
@click.option(
    "--versus",
    "versus_name",
    default=None,
    help=(
        "Second jeu de règles (nom ou fichier TOML/YAML) : affiche, par commune ou "
        "groupement, l'enveloppe et le reste sous les deux jeux de règles "
        "(par exemple --versus trace-senat-2025)."
    ),
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
    pene: Path | None,
    versus_name: str | None,
    fmt: str,
) -> None:
    """ZAN budgets 2021-2031 per commune, EPCI or SCoT: envelope, consumed, remaining."""
    from foncier.assumptions import assumptions, assumptions_text
    from foncier.zan import (
        MissingEnafWarning,
        budget_table,
        budgets_versus,
        load_rates,
        load_rules,
        read_committed,
        read_pene,
    )

    rules = load_rules(rules_name)
    t = load_territory(territory)
    if rates is not None:
        rules = rules.with_rates(load_rates(rates, communes=t.commune_table()))
    committed_table = read_committed(committed) if committed is not None else None
    pene_table = read_pene(pene) if pene is not None else None
    rule_sets = [rules]
    if versus_name is not None:
        other = load_rules(versus_name)
        rule_sets.append(other.with_rates(rules.territorial_rates) if rates is not None else other)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingEnafWarning)
        table, *others = [
            budget_table(
                t,
                r,
                pool=pool or rules.pool,
                committed=committed_table,
                guarantee_unknown=guarantee_unknown,
                pene=pene_table,
            )
            for r in rule_sets
        ]
    if table.attrs["missing_years"]:
        click.secho(_missing_note(table.attrs["missing_years"]), fg="yellow", err=True)
    hypotheses = [dict(a) for a in assumptions(t, budgets=table, zan_only=True)]
    if assumptions_file is not None:
        write_text(assumptions_file, _assumptions_csv(table), "budgets")
    if others:
        versus = budgets_versus(table, others[0])
        extra = [dict(a) for a in assumptions(t, budgets=others[0], zan_only=True)]
        both = hypotheses + [h for h in extra if h not in hypotheses]
        click.echo(_format_versus(versus, t.data_label, fmt, both), nl=fmt != "csv")
        if fmt == "csv" and both:
            click.echo(assumptions_text(both), err=True)
        return
    if fmt == "csv":
        click.echo(_machine(table).to_csv(index=False), nl=False)
        if hypotheses:
            click.echo(assumptions_text(hypotheses), err=True)
    elif fmt == "json":
        click.echo(_format_json(table, t.data_label, hypotheses))
    else:
        click.echo(_format_table(table, t.data_label, hypotheses))
