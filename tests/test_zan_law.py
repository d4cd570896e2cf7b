"""ZAN rules as the law writes them: periods, guarantee pooling on request (hand-computed)."""

from __future__ import annotations

import dataclasses
import math
import re
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from foncier.criteria import land_cover_shares
from foncier.errors import LayerSchemaError, RuleSetError
from foncier.io.planning import read_planning_docs
from foncier.layers import TABLE_SCHEMAS, check_table
from foncier.zan import (
    EnafCharging,
    Exclusion,
    NationalEnvelope,
    RuleSet,
    TerritorialRate,
    commune_budgets,
    load_rates,
    load_rules,
    placement_impact,
    read_pene,
    trajectory,
)

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


# -- territorialised targets -------------------------------------------------------------------

SCOT_TARGETS = """
name = "scot-ha"
version = "1"
[[territorial_rates]]
level = "scot"
code = "SCoT X"
envelope_ha = 4.2
guarantee_included = true
source = "SCoT X, DOO, objectif chiffré de consommation"
date = 2024-06-01
status = "adopted"
"""
ABC = {"30001": (0.5, (0.0, 0.0, 0.0)), "30002": (5.0, (0.0, 0.0, 0.0)),
       "30003": (5.0, (0.0, 0.0, 0.0))}  # fmt: skip


def scot_rules(tmp_path: Path, text: str = SCOT_TARGETS) -> RuleSet:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def test_a_scot_envelope_in_hectares_with_the_guarantee_inside(tmp_path: Path) -> None:
    rules = scot_rules(tmp_path)
    target = rules.territorial_rates[0]
    assert target.envelope_ha == 4.2 and target.guarantee_included and target.rate is None
    assert str(target.date) == "2024-06-01"
    communes, enaf = communes_table(list(ABC), True), enaf_table(ABC)
    table = commune_budgets(communes, enaf, rules).set_index("insee")
    # A's 1 ha floor comes out of the 4.2 ha; B and C share 3.2 ha pro rata 5 : 5
    assert table["envelope_ha"].tolist() == pytest.approx([1.0, 1.6, 1.6])
    assert table["envelope_ha"].sum() == pytest.approx(4.2)
    # A's share before the floor: 0.32 ha/ha of baseline x 0.5 ha, lifted by 0.84 ha
    assert table.loc["30001", "guaranteed_ha"] == pytest.approx(0.84)
    assert table["reduction_rate"].tolist() == pytest.approx([0.68, 0.68, 0.68])
    assert (table["target_level"] == "scot").all() and table["guarantee_included"].all()
    assert "SCoT X, DOO" in table.loc["30002", "target_note"]
    assert "01/06/2024, adopté" in table.loc["30002", "target_note"]
    # the same hectares without the guarantee inside: A is lifted on top of them
    outside = scot_rules(tmp_path, SCOT_TARGETS.replace("true", "false"))
    table = commune_budgets(communes, enaf, outside).set_index("insee")
    assert table["envelope_ha"].tolist() == pytest.approx([1.0, 2.0, 2.0])
    # pooled by SCoT, every commune having asked: the pool holds exactly the SCoT's hectares
    pooled = commune_budgets(
        communes, enaf, dataclasses.replace(rules, guarantee_pooled=True), pool="scot"
    ).iloc[0]
    assert pooled["envelope_ha"] == pytest.approx(4.2)
    assert pooled["target_level"] == "scot"


def test_the_most_specific_target_applies_and_says_why(tmp_path: Path) -> None:
    text = SCOT_TARGETS + (
        '[[territorial_rates]]\nlevel = "commune"\ncode = "30003"\nrate = 0.6\n'
        'source = "étude de densification"\nstatus = "suggested"\n'
        '[[territorial_rates]]\nlevel = "region"\ncode = "84"\nrate = 0.6\n'
        'source = "SRADDET, règle n° 1"\n'
    )
    rules = scot_rules(tmp_path, text)
    four = {**ABC, "30004": (4.0, (0.0, 0.0, 0.0))}
    communes = communes_table(list(four), True).assign(region="84")
    communes.loc[3, "scot"] = None
    table = commune_budgets(communes, enaf_table(four), rules).set_index("insee")
    # C: its own rate, 5 x 0.4 = 2 ha, taken out of the SCoT's 4.2 ha; A's floor out of
    # the 2.2 ha left; B gets the remaining 1.2 ha; D, outside the SCoT: 4 x 0.4 (région)
    assert table["envelope_ha"].tolist() == pytest.approx([1.0, 1.2, 2.0, 1.6])
    assert table["target_level"].tolist() == ["scot", "scot", "commune", "region"]
    assert table["target_status"].tolist() == ["adopted", "adopted", "suggested", "adopted"]
    assert "la plus précise" in table.loc["30003", "target_note"]
    pending = [a for a in table.attrs["assumptions"] if a["key"] == "target_not_adopted"]
    assert pending[0]["communes"] == ["30003"]
    # without any target: the rule set's rate, and the note says so
    plain = commune_budgets(communes, enaf_table(four)).set_index("insee")
    assert (plain["target_level"] == "default").all()
    assert "aucune cible territorialisée" in plain.loc["30001", "target_note"]


def test_targets_read_from_a_csv_with_their_provenance(tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text(
        "level;code;reduction_rate;envelope_ha;source;date;status;guarantee_included\n"
        "scot;SCoT X;;4,2;DOO;2024-06-01;draft;oui\ncommune;30003;0,6;;PLU;;adopted;\n",
        encoding="utf-8",
    )
    targets = load_rates(path, communes=communes_table(list(ABC), True))
    assert targets[0].envelope_ha == pytest.approx(4.2) and targets[0].status == "draft"
    assert targets[0].guarantee_included and targets[1].rate == pytest.approx(0.6)
    assert (
        RuleSet.from_dict(
            RuleSet("r", "1", territorial_rates=targets).to_dict(), "copie"
        ).territorial_rates
        == targets
    )


# -- PENE, exclusions, national envelopes, overshoot allowance -------------------------------


def pene_file(tmp_path: Path, text: str) -> pd.DataFrame:
    path = tmp_path / "pene.csv"
    path.write_text(text, encoding="utf-8")
    return read_pene(path)


def test_a_pene_built_in_2022_leaves_the_local_consumption(tmp_path: Path) -> None:
    # flows 2021-2023: 0.2, 1.7 (of which a 1.5 ha PENE), 0.2 ha
    enaf = enaf_table({"30001": (6.0, (0.2, 1.7, 0.2))})
    communes = communes_table(["30001"], False)
    pene = pene_file(
        tmp_path,
        "insee;pene_ha;state;year;label\n30001;1.5;réalisé;2022;ligne THT\n"
        "30001;4.0;prévu;;contournement\n",
    )
    rules = RuleSet("r", "1", national_envelopes=(NationalEnvelope("PENE", 12_500.0, ("pene",)),))
    table = commune_budgets(communes, enaf, rules, pene=pene)
    row = table.iloc[0]
    assert row["pene_built_ha"] == pytest.approx(1.5)
    assert row["pene_planned_ha"] == pytest.approx(4.0)
    # 2.1 ha of flows less the 1.5 ha PENE; the planned one is not charged
    assert row["consumed_ha"] == pytest.approx(0.6)
    assert row["committed_ha"] == pytest.approx(0.0)
    assert row["remaining_ha"] == pytest.approx(3.0 - 0.6)
    assert row["pace_ha_per_year"] == pytest.approx(0.2)
    assert table.attrs["national_envelopes"][0]["drawn_ha"] == pytest.approx(5.5)
    # a rule set that charges PENE locally: built stays in the flows, planned is committed
    local = commune_budgets(communes, enaf, RuleSet("l", "1", pene_excluded=False), pene=pene)
    assert local.iloc[0]["consumed_ha"] == pytest.approx(2.1)
    assert local.iloc[0]["committed_ha"] == pytest.approx(4.0)
    assert local.iloc[0]["remaining_ha"] == pytest.approx(3.0 - 2.1 - 4.0)


def test_pene_file_errors(tmp_path: Path) -> None:
    with pytest.raises(LayerSchemaError, match="year"):
        pene_file(tmp_path, "insee;pene_ha;state\n30001;1.5;built\n")
    with pytest.raises(LayerSchemaError, match="state"):
        pene_file(tmp_path, "insee;pene_ha;state;year\n30001;1.5;peut-être;2022\n")


def test_excluded_categories_and_the_overshoot_allowance() -> None:
    enaf = enaf_table({"30001": (6.0, (0.2, 0.2, 0.2))})
    communes = communes_table(["30001"], False)
    committed = pd.DataFrame(
        {"insee": ["30001", "30001"], "committed_ha": [1.0, 2.0],
         "category": ["logement", "industrie_verte"]}
    )  # fmt: skip
    rules = RuleSet(
        "w", "1", exclusions=(Exclusion("industrie_verte", legal_status="bill"),),
        local_overshoot_pct=30.0, local_overshoot_status="bill",
    )  # fmt: skip
    table = commune_budgets(communes, enaf, rules, committed)
    row = table.iloc[0]
    # envelope 3 ha + 30 % = 3.9 ha; the green-industry 2 ha are not charged locally
    assert row["allowance_ha"] == pytest.approx(0.9)
    assert row["envelope_ha"] == pytest.approx(3.9)
    assert row["committed_ha"] == pytest.approx(1.0) and row["excluded_ha"] == pytest.approx(2.0)
    assert row["remaining_ha"] == pytest.approx(3.9 - 0.6 - 1.0)
    keys = {a["key"]: a["text"] for a in table.attrs["assumptions"]}
    assert "proposition de loi, non en vigueur" in keys["rules_partly_not_in_force"]
    placed = pd.DataFrame(
        {"project_id": ["p1", "p2"], "insee": "30001", "area_ha": [2.0, 2.0],
         "enaf_share": [1.0, 1.0], "category": ["industrie_verte", "logistique"]}
    )  # fmt: skip
    per, _ = placement_impact(placed, table, rules, communes)
    assert per["charged_to"].tolist() == ["excluded", "local"]
    assert per["consumed_ha"].tolist() == pytest.approx([0.0, 2.0])
    # under the default rules nothing is excluded and there is no allowance
    plain = commune_budgets(communes, enaf, committed=committed).iloc[0]
    assert plain["committed_ha"] == pytest.approx(3.0)
    assert plain["envelope_ha"] == pytest.approx(3.0)


# -- friches_count --------------------------------------------------------------------------------


def test_friches_count_charges_the_enaf_part_of_a_friche() -> None:
    box = shapely.box
    # a friche over an ENAF parcel (a friche agricole) and a parcel of unknown cover;
    # an activity-zone unit over the same two kinds of parcel
    units = gpd.GeoDataFrame(
        {"origin": ["friche", "activity_zone"]},
        geometry=[box(0, 0, 200, 100), box(0, 100, 200, 200)],
        crs="EPSG:2154",
    )
    parcels = gpd.GeoDataFrame(
        {"land_cover": ["enaf", "unknown", "enaf", "unknown"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 100, 200),
                  box(100, 100, 200, 200)],
        crs="EPSG:2154",
    )  # fmt: skip
    off = land_cover_shares(units, parcels)
    on = land_cover_shares(units, parcels, friches_count=True)
    assert off["enaf_share"].tolist() == [0.0, 1.0]
    # unknown cover under a friche is already used land: only the ENAF parcel counts
    assert on["enaf_share"].tolist() == [0.5, 1.0]
    assert on["unknown_cover_share"].tolist() == [0.0, 0.5]
    # what a 2 ha project on the friche is charged under each setting
    area, friche, pene = np.array([2.0]), np.array([True]), np.array([False])
    assert EnafCharging().charge(area, off["enaf_share"].to_numpy()[:1], pene, friche) == [0.0]
    counted = EnafCharging(friches_count=True)
    assert counted.charge(area, on["enaf_share"].to_numpy()[:1], pene, friche) == [1.0]


# -- after 2031 -----------------------------------------------------------------------------------


def test_decades_after_2031_come_from_the_rule_set(tmp_path: Path) -> None:
    text = (
        'name = "d"\nversion = "1"\n'
        "[[decades]]\nperiod = [2031, 2041]\nreduction_rate = 0.25\n"
        '[[decades]]\nperiod = [2041, 2050]\nreduction_rate = 0.6\nmetric = "artificialisation"\n'
    )
    rules = scot_rules(tmp_path, text)
    assert [d.reduction_rate for d in rules.decades] == [0.25, 0.6]
    enaf = enaf_table({"30001": (4.0, (0.1, 0.1, 0.1))})
    traj = trajectory((communes_table(["30001"], False), enaf), rules)
    pace = traj[traj["series"] == "zan_2050"].set_index("year")["value_ha"]
    # envelope 2 ha over 10 years = 0.2 ha/year; x 0.75 = 0.15; x 0.4 = 0.06; net zero in 2050
    assert pace.loc[2030] == pytest.approx(0.2)
    assert pace.loc[2035] == pytest.approx(0.15)
    assert pace.loc[2049] == pytest.approx(0.06)
    assert pace.loc[2050] == 0.0
    bad = text.replace("[2041, 2050]", "[2042, 2050]")
    with pytest.raises(RuleSetError, match=r"les décennies \(decades\) doivent se suivre"):
        scot_rules(tmp_path, bad)


# -- built-in rule sets ---------------------------------------------------------------------------

BUILT_IN = ["climat-resilience-2023", "trace-senat-2025", "simplification-2025"]


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_key_of_a_built_in_rule_set_is_written_or_commented(name: str) -> None:
    text = (resources.files("foncier") / "rules" / f"{name}.toml").read_text("utf-8")
    rules = load_rules(name)
    fields = set(RuleSet.__dataclass_fields__) - {"source"}
    named = {f for f in fields if re.search(rf"\b{f}\b", text)}
    # the law in force names every key; a what-if at least the keys it sets
    assert named == fields if name == "climat-resilience-2023" else "legal_status" in named
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 10
    assert (rules.legal_status == "bill") == (name != "climat-resilience-2023")
    assert "0.5447" not in text and "Cévennes" not in text


# -- every budget setting changes the sample's budgets by what it says ---------------------------


def _sums(table: pd.DataFrame, *cols: str) -> list[float]:
    return [float(table[c].sum()) for c in cols]


@pytest.mark.slow
def test_each_budget_setting_has_its_effect_on_the_sample(sample_territory) -> None:
    from foncier.zan import budget_table

    base = budget_table(sample_territory)
    raw = base["envelope_ha"] - base["guaranteed_ha"]
    first = str(base["insee"].iloc[0])
    assert base["guarantee_applied"].any()  # the sample has communes on the 1 ha floor

    def table(**kw) -> pd.DataFrame:
        opts = {k: kw.pop(k) for k in ("pool", "committed", "pene") if k in kw}
        return budget_table(sample_territory, RuleSet("s", "1", **kw), **opts)

    # reduction_rate: the unlifted envelopes scale by (1 - 0.6) / (1 - 0.5)
    t = table(reduction_rate=0.6)
    lifted = base["guarantee_applied"] | t["guarantee_applied"]
    assert (t["envelope_ha"] - t["guaranteed_ha"])[~lifted].sum() == pytest.approx(
        0.8 * raw[~lifted].sum()
    )
    # target_period: 13 years at the reduced reference pace
    t = table(target_period=(2021, 2034))
    assert (t["envelope_ha"] - t["guaranteed_ha"]).sum() == pytest.approx(1.3 * raw.sum())
    assert set(t["end_year"]) == {2034}
    # local_overshoot_pct: every envelope + 30 %
    t = table(local_overshoot_pct=30.0)
    assert t["envelope_ha"].tolist() == pytest.approx((1.3 * base["envelope_ha"]).tolist())
    # communal_guarantee_ha: eligible communes get max(raw, 2 ha)
    t = table(communal_guarantee_ha=2.0)
    eligible = base["guarantee_floor_ha"] > 0
    expected = raw.where(~eligible, raw.clip(lower=2.0))
    assert t["envelope_ha"].tolist() == pytest.approx(expected.tolist())
    # guarantee_unknown: applied, every commune of unknown status is eligible
    t = table(guarantee_unknown="apply")
    unknown = base["guarantee_status"] == "unknown"
    assert (t.loc[unknown, "guarantee_floor_ha"] == 1.0).all()
    assert t["guaranteed_ha"].sum() >= base["guaranteed_ha"].sum()
    # guarantee_pooled: assumed requests put every unused guarantee in the EPCI pools
    kept, pooled = (table(pool="epci", guarantee_pooled=flag) for flag in (False, True))
    assert kept["guarantee_reserved_ha"].sum() > 0
    assert pooled["guarantee_reserved_ha"].sum() == 0
    assert pooled["envelope_ha"].sum() == pytest.approx(
        kept["envelope_ha"].sum() + kept["guarantee_reserved_ha"].sum()
    )
    # renaturation_credit: renatured hectares come off the committed ones
    committed = pd.DataFrame({"insee": [first], "committed_ha": [2.0], "renatured_ha": [0.5]})
    on = table(committed=committed)
    off = table(committed=committed, renaturation_credit=False)
    assert _sums(on, "committed_ha") == pytest.approx([1.5])
    assert _sums(off, "committed_ha") == pytest.approx([2.0])
    # pene_excluded: a PENE built in 2022 leaves the local consumption, unless PENE count
    pene = pd.DataFrame({"insee": [first], "pene_ha": [1.0], "state": ["built"], "year": [2022]})
    out = table(pene=pene)
    counted = table(pene=pene, pene_excluded=False)
    assert out["consumed_ha"].sum() == pytest.approx(base["consumed_ha"].sum() - 1.0)
    assert counted["consumed_ha"].sum() == pytest.approx(base["consumed_ha"].sum())


def test_a_region_target_on_the_real_cerema_territory(real_data: Path, tmp_path: Path) -> None:
    from foncier.io.cerema import read_cerema_enaf, write_cerema_enaf

    path = real_data / "conso_enaf/cerema_conso2009_2024_data_scot_rives_du_rhone.csv"
    enaf = read_cerema_enaf(path)
    communes = enaf.attrs["communes"]
    assert set(communes["region"]) == {"84"}  # the file's idreg (Auvergne-Rhône-Alpes)
    write_cerema_enaf(enaf, tmp_path / "enaf.csv", communes=communes)
    again = read_cerema_enaf(tmp_path / "enaf.csv").attrs["communes"]
    assert set(again["region"]) == {"84"}
    # a made-up regional envelope of 500 ha, guarantee inside: the 152 communes share it
    target = TerritorialRate("region", "84", envelope_ha=500.0, guarantee_included=True)
    rules = RuleSet("r", "1", territorial_rates=(target,), guarantee_unknown="apply")
    table = commune_budgets(again, enaf, rules)
    assert len(table) == 152 and table["envelope_ha"].sum() == pytest.approx(500.0)
    assert (table["envelope_ha"] >= 1.0 - 1e-9).all()
    assert (table["target_level"] == "region").all()
