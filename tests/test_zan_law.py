"""ZAN rules as the law writes them: periods, guarantee pooling on request (hand-computed)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from foncier.io.planning import read_planning_docs
from foncier.layers import TABLE_SCHEMAS, check_table
from foncier.zan import RuleSet, commune_budgets

EPCI = "200066918"


def enaf_table(per_commune: dict[str, tuple[float, tuple[float, ...]]]) -> pd.DataFrame:
    """Baseline (ha) spread evenly over 2011-2020, then yearly flows (ha) from 2021."""
    rows = []
    for insee, (baseline, since) in per_commune.items():
        rows += [(insee, y, baseline / 10 * 1e4) for y in range(2011, 2021)]
        rows += [(insee, 2021 + i, ha * 1e4) for i, ha in enumerate(since)]
    return pd.DataFrame(rows, columns=["insee", "year", "enaf_m2"])


def communes_table(codes: list[str], planning: bool | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "insee": codes,
            "name": [f"C{c}" for c in codes],
            "epci": EPCI,
            "scot": "SCoT X",
            "has_planning_doc": pd.array([planning] * len(codes), dtype="boolean"),
        }
    )


def docs(tmp_path: Path, text: str) -> pd.DataFrame:
    path = tmp_path / "docs.csv"
    path.write_text(text, encoding="utf-8")
    return read_planning_docs(path)


# -- periods -------------------------------------------------------------------------------------


def test_a_thirteen_year_period_scales_the_reference_pace() -> None:
    rules = RuleSet("p13", "1", target_period=(2021, 2034))
    enaf = enaf_table({"30001": (2.6, (0.1, 0.1, 0.1))})
    row = commune_budgets(communes_table(["30001"], False), enaf, rules).iloc[0]
    # 2.6 ha over 10 years = 0.26 ha/year, x 13 years x (1 - 0.5) = 1.69 ha
    assert row["envelope_ha"] == pytest.approx(1.69)
    assert row["consumed_ha"] == pytest.approx(0.3)
    assert row["pace_ha_per_year"] == pytest.approx(0.1)
    # 0.3 + 0.1 x (2034 - 2024)
    assert row["projected_end_ha"] == pytest.approx(1.3)
    assert row["end_year"] == 2034 and row["status"] == "on track"
    # the default 2021-2031 rule: baseline x 0.5, as before
    default = commune_budgets(communes_table(["30001"], False), enaf).iloc[0]
    assert default["envelope_ha"] == pytest.approx(1.3) and default["end_year"] == 2031


def test_a_period_without_data_yet_is_incomplete_never_on_track() -> None:
    rules = RuleSet("later", "1", target_period=(2024, 2034))
    enaf = enaf_table({"30001": (2.6, (0.1, 0.1, 0.1))})
    table = commune_budgets(communes_table(["30001"], False), enaf, rules)
    row = table.iloc[0]
    assert row["envelope_ha"] == pytest.approx(1.3)
    assert math.isnan(row["pace_ha_per_year"]) and math.isnan(row["projected_end_ha"])
    assert row["status"] == "incomplete"
    assert table.attrs["end_year"] == 2034 and table.attrs["target_period"] == [2024, 2034]
    vintage = [a for a in table.attrs["assumptions"] if a["key"] == "enaf_vintage"][0]
    assert "aucune année de consommation depuis 2024" in vintage["text"]


def test_budget_tables_meet_their_contract() -> None:
    enaf = enaf_table({"30001": (2.6, (0.1, 0.1, 0.1)), "30002": (1.0, (0.0, 0.0, 0.0))})
    for pool in ("commune", "epci"):
        table = commune_budgets(communes_table(["30001", "30002"], True), enaf, pool=pool)
        check_table(table, "budgets")
    names = TABLE_SCHEMAS["budgets"].column_names
    assert "projected_end_ha" in names and "end_year" in names
    assert "guarantee_reserved_ha" in names


# -- the garantie communale, pooled at the communes' request ----------------------------------

# A: raw envelope 0.4, lifted by 0.6, consumed 0.1 (uses none of its guarantee);
# B: raw envelope 0.5, lifted by 0.5, consumed 0.7 (uses 0.2 ha of its guarantee);
# C: raw envelope 5, consumed 2.
THREE = {
    "30001": (0.8, (0.1, 0.0, 0.0)),
    "30002": (1.0, (0.3, 0.2, 0.2)),
    "30003": (10.0, (2.0, 0.0, 0.0)),
}
HEADER = "insee;type;date_approbation;mutualisation\n"


def test_pooling_counts_only_the_guarantees_of_communes_that_asked(tmp_path: Path) -> None:
    communes = communes_table(list(THREE))
    enaf = enaf_table(THREE)
    asked = docs(tmp_path, HEADER + "30001;PLU;2015-01-01;oui\n30002;PLU;2015-01-01;oui\n"
                 "30003;PLU;2015-01-01;\n")  # fmt: skip
    refused = docs(tmp_path, HEADER + "30001;PLU;2015-01-01;oui\n30002;PLU;2015-01-01;non\n"
                   "30003;PLU;2015-01-01;\n")  # fmt: skip
    per_commune = commune_budgets(communes, enaf, planning_docs=refused).set_index("insee")
    # each commune's guaranteed hectares, whatever the pooling
    assert per_commune["guaranteed_ha"].tolist() == pytest.approx([0.6, 0.5, 0.0])
    assert per_commune["guarantee_floor_ha"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert per_commune["envelope_ha"].tolist() == pytest.approx([1.0, 1.0, 5.0])
    assert per_commune["guarantee_pooling"].tolist() == [True, False, False]
    both = commune_budgets(communes, enaf, planning_docs=asked, pool="epci").iloc[0]
    only_a = commune_budgets(communes, enaf, planning_docs=refused, pool="epci").iloc[0]
    assert both["envelope_ha"] == pytest.approx(7.0)
    assert both["guarantee_reserved_ha"] == pytest.approx(0.0)
    # B did not ask: of its 0.5 ha, the 0.2 ha its own 0.7 ha used stay in the pool, 0.3 ha
    # stay B's own, out of the pooled budget
    assert only_a["envelope_ha"] == pytest.approx(6.7)
    assert only_a["guarantee_reserved_ha"] == pytest.approx(0.3)
    assert both["envelope_ha"] - only_a["envelope_ha"] == pytest.approx(0.3)
    assert only_a["remaining_ha"] == pytest.approx(6.7 - 2.8)
    assert only_a["remaining_ha"] == pytest.approx(both["remaining_ha"] - 0.3)
    # an explicit "non" is not overridden by the rule set's assumption for unrecorded requests
    assumed = RuleSet("assume", "1", guarantee_pooled=True)
    again = commune_budgets(communes, enaf, assumed, planning_docs=refused, pool="epci").iloc[0]
    assert again["envelope_ha"] == pytest.approx(6.7)


def test_a_commune_that_did_not_ask_keeps_its_whole_unused_guarantee(tmp_path: Path) -> None:
    three = {**THREE, "30002": (1.0, (0.0, 0.0, 0.0))}
    communes, enaf = communes_table(list(three)), enaf_table(three)
    planning = docs(tmp_path, HEADER + "30001;PLU;2015-01-01;oui\n30002;CC;2015-01-01;non\n")
    table = commune_budgets(communes, enaf, planning_docs=planning, pool="epci")
    row = table.iloc[0]
    # 0.4 + 0.6 (A asked) + 0.5 (B's raw envelope) + 5 (C has no planning information)
    assert row["envelope_ha"] == pytest.approx(6.5)
    assert row["guarantee_reserved_ha"] == pytest.approx(0.5)
    # no assumption about requests: every lifted commune's request is recorded
    keys = [a["key"] for a in table.attrs["assumptions"]]
    assert "guarantee_pooling_unknown" not in keys


def test_communes_nouvelles_add_half_a_hectare_per_commune_deleguee(tmp_path: Path) -> None:
    communes = communes_table(["30001", "30002"])
    enaf = enaf_table({"30001": (0.8, (0.1, 0.0, 0.0)), "30002": (0.8, (0.1, 0.0, 0.0))})
    planning = docs(
        tmp_path,
        "insee;type;date_approbation;communes_deleguees\n30001;PLU;2015-01-01;3\n"
        "30002;PLU;2015-01-01;\n",
    )
    table = commune_budgets(communes, enaf, planning_docs=planning).set_index("insee")
    # 1 ha + 3 x 0.5 ha = 2.5 ha, against a raw envelope of 0.4 ha
    assert table.loc["30001", "guarantee_floor_ha"] == pytest.approx(2.5)
    assert table.loc["30001", "guaranteed_ha"] == pytest.approx(2.1)
    assert table.loc["30001", "envelope_ha"] == pytest.approx(2.5)
    assert table.loc["30002", "envelope_ha"] == pytest.approx(1.0)
    none = RuleSet("none", "1", guarantee_per_delegated_commune_ha=0.0)
    flat = commune_budgets(communes, enaf, none, planning_docs=planning).set_index("insee")
    assert flat.loc["30001", "envelope_ha"] == pytest.approx(1.0)
