"""ZAN accounting: rule sets, budgets, pooling, placements, trajectories (hand-computed)."""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foncier.errors import DataSourceError, LayerSchemaError, NotFoundError, RuleSetError
from foncier.io.cerema import EnafVintage, read_cerema_enaf
from foncier.layers import empty_layer
from foncier.territory import Territory
from foncier.zan import (
    BUDGET_COLUMNS,
    STATUS_LABELS,
    MissingEnafWarning,
    RuleSet,
    TerritorialRate,
    available_rules,
    budget_table,
    commune_budgets,
    load_rates,
    load_rules,
    placement_impact,
    pool_ids,
    read_committed,
    trajectory,
)

EPCI_A, EPCI_B = "200066918", "200000001"
SCOT = "SCoT du Pays des Cévennes"
CEREMA_RIVES = "conso_enaf/cerema_conso2009_2024_data_scot_rives_du_rhone.csv"


def communes_table(planning: tuple[bool, ...] = (True, True, True, False)) -> pd.DataFrame:
    """Four communes: A, B, C in EPCI_A (A, B in the SCoT), D in EPCI_B outside any SCoT."""
    return pd.DataFrame(
        {
            "insee": ["30001", "30002", "30003", "30004"],
            "name": ["Alpha", "Bravo", "Charlie", "Delta"],
            "epci": [EPCI_A, EPCI_A, EPCI_A, EPCI_B],
            "scot": [SCOT, SCOT, None, None],
            "has_planning_doc": list(planning),
        }
    )


def flows(
    per_commune: dict[str, dict[int, float]], years: range = range(2009, 2024)
) -> pd.DataFrame:
    """Tidy ENAF table from flows in ha: unlisted years are 0 ha, years set to None are absent."""
    rows = [
        (insee, y, figures.get(y, 0.0) * 1e4)
        for insee, figures in per_commune.items()
        for y in years
        if figures.get(y, 0.0) is not None
    ]
    return pd.DataFrame(rows, columns=["insee", "year", "enaf_m2"])


def even(baseline_ha: float, since_2021: tuple[float, ...] = (0.0, 0.0, 0.0)) -> dict[int, float]:
    """Baseline spread evenly over 2011-2020, then the given flows from 2021."""
    out = {y: baseline_ha / 10 for y in range(2011, 2021)}
    out.update({2021 + i: v for i, v in enumerate(since_2021)})
    return out


@pytest.fixture
def enaf() -> pd.DataFrame:
    # A: baseline 3.4 ha; B: 1.2 ha (envelope 0.6); C: 8 ha; D: 1.0 ha, no planning document.
    return flows(
        {
            "30001": even(3.4, (0.5, 0.3, 0.4)),
            "30002": even(1.2, (0.1, 0.1, 0.1)),
            "30003": even(8.0, (2.0, 2.5, 0.5)),
            "30004": even(1.0, (0.2, 0.0, 0.1)),
        }
    )


def row(table: pd.DataFrame, key: str) -> pd.Series:
    return table.set_index("insee").loc[key]


# -- rule sets ---------------------------------------------------------------------------------


def test_builtin_rule_set_holds_the_law() -> None:
    rules = load_rules()
    assert "climat-resilience-2023" in available_rules()
    assert rules == load_rules("climat-resilience-2023")
    assert rules.reference_period == (2011, 2021)
    assert rules.target_period == (2021, 2031)
    assert rules.reduction_rate == 0.5
    assert rules.communal_guarantee_ha == 1.0
    assert rules.pene_excluded and not rules.friches_count and not rules.artificialised_counts
    assert rules.pool == "commune"
    assert rules.version


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_rule_files_in_toml_and_yaml(tmp_path: Path) -> None:
    toml = write(
        tmp_path,
        "trace.toml",
        'name = "trace-like"\nversion = "0.1"\nreduction_rate = 0.3\npool = "epci"\n'
        '[[territorial_rates]]\nlevel = "scot"\ncode = "S"\nrate = 0.5447\n',
    )
    rules = load_rules(toml)
    assert (rules.name, rules.version, rules.reduction_rate, rules.pool) == (
        "trace-like",
        "0.1",
        0.3,
        "epci",
    )
    assert rules.territorial_rates == (TerritorialRate("scot", "S", 0.5447),)
    assert rules.communal_guarantee_ha == 1.0  # defaults follow the law
    yaml_file = write(
        tmp_path,
        "r.yaml",
        "name: y\nversion: '2'\nguarantee_pooled: true\ntarget_period: [2021, 2036]\n",
    )
    yrules = load_rules(str(yaml_file))
    assert yrules.guarantee_pooled and yrules.target_period == (2021, 2036)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('name = "x"\nversion = "1"\nreduction_rat = 0.5\n', "reduction_rat"),
        ('name = "x"\nversion = "1"\nreduction_rate = 1.5\n', "reduction_rate"),
        ('name = "x"\nversion = "1"\nreduction_rate = -0.1\n', "est hors de"),
        ('name = "x"\nversion = "1"\npool = "region"\n', "pool"),
        ('name = "x"\nversion = "1"\npene_excluded = "yes"\n', "pene_excluded"),
        ('name = "x"\nversion = "1"\nreference_period = [2021, 2011]\n', "reference_period"),
        ('version = "1"\n', "name"),
        (
            'name = "x"\nversion = "1"\n'
            '[[territorial_rates]]\nlevel = "epci"\ncode = "1"\nrate = 2\n',
            r"territorial_rates\[0\].rate",
        ),
        (
            'name = "x"\nversion = "1"\n[[territorial_rates]]\nlevel = "epci"\ncode = "1"\n',
            "territorial_rates",
        ),
        ('name = "x"\nversion = \n', "fichier TOML invalide"),
    ],
)
def test_rule_file_errors_name_the_key_and_file(tmp_path: Path, text: str, match: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(RuleSetError, match=match) as info:
        load_rules(path)
    assert "bad.toml" in str(info.value)


def test_unknown_rule_set_name() -> None:
    with pytest.raises(NotFoundError, match="climat-resilience-2023"):
        load_rules("no-such-rules")


def test_rule_file_with_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match=r"\.toml"):
        load_rules(write(tmp_path, "rules.txt", "name = 'x'"))


def test_load_rates_and_override(tmp_path: Path) -> None:
    path = write(
        tmp_path, "rates.csv", "level;code;reduction_rate\ncommune;30001;0,6\nscot;S;0.5447\n"
    )
    rates = load_rates(path)
    assert rates == (TerritorialRate("commune", "30001", 0.6), TerritorialRate("scot", "S", 0.5447))
    base = RuleSet("r", "1", territorial_rates=(TerritorialRate("scot", "S", 0.4),))
    merged = base.with_rates(rates)
    assert set(merged.territorial_rates) == set(rates)
    assert base.territorial_rates == (TerritorialRate("scot", "S", 0.4),)
    assert merged.rates_table()["reduction_rate"].tolist() == [0.5447, 0.6]


def test_load_rates_pads_commune_codes(tmp_path: Path) -> None:
    path = write(tmp_path, "rates.csv", "level,code,reduction_rate\ncommune,1001,0.5\n")
    assert load_rates(path)[0].code == "01001"


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("level,code,reduction_rate\ncommune,30999,0.5\n", NotFoundError, "30999"),
        (f"level,code,reduction_rate\nepci,{EPCI_A},1.2\n", RuleSetError, "est hors de"),
        ("level,code,reduction_rate\ndepartement,30,0.5\n", RuleSetError, "level"),
        ("level,code,reduction_rate\nregion,76,0.5\n", NotFoundError, "76"),
        ("level,code\ncommune,30001\n", RuleSetError, "reduction_rate"),
        ("level,code,reduction_rate\ncommune,30001,abc\n", RuleSetError, "abc"),
        (
            "level,code,reduction_rate\ncommune,30001,0.5\ncommune,30001,0.6\n",
            RuleSetError,
            "plusieurs cibles",
        ),
    ],
)
def test_rates_table_errors(tmp_path: Path, text: str, error: type, match: str) -> None:
    path = write(tmp_path, "rates.csv", text)
    with pytest.raises(error, match=match):
        load_rates(path, communes=communes_table())


def test_rates_file_missing() -> None:
    with pytest.raises(DataSourceError, match="impossible de lire"):
        load_rates("/nonexistent/rates.csv")


# -- budgets, hand-computed ---------------------------------------------------------------------


def test_budget_columns_and_hand_computed_commune(enaf: pd.DataFrame) -> None:
    table = commune_budgets(communes_table(), enaf)
    assert list(table.columns) == [*BUDGET_COLUMNS, "pool_id"]
    a = row(table, "30001")
    assert a["name"] == "Alpha"
    assert a["baseline_ha"] == pytest.approx(3.4)
    assert a["reduction_rate"] == 0.5
    assert a["envelope_ha"] == pytest.approx(1.7)
    assert not a["guarantee_applied"]
    # Data 2009-2024: flows 2021, 2022, 2023 = 0.5 + 0.3 + 0.4.
    assert a["consumed_ha"] == pytest.approx(1.2)
    assert a["committed_ha"] == 0.0
    assert a["remaining_ha"] == pytest.approx(0.5)
    assert a["pace_ha_per_year"] == pytest.approx(0.4)
    # projected = consumed + pace x (2031 - 2024) = 1.2 + 0.4 x 7.
    assert a["projected_end_ha"] == pytest.approx(4.0)
    assert a["status"] == "at risk"
    assert a["pool_id"] == "30001"


def test_guarantee_lifts_small_envelopes_only_when_eligible(enaf: pd.DataFrame) -> None:
    eligible = row(commune_budgets(communes_table(), enaf), "30002")
    assert eligible["baseline_ha"] == pytest.approx(1.2)
    assert eligible["envelope_ha"] == pytest.approx(1.0)
    assert eligible["guarantee_applied"]
    not_eligible = row(commune_budgets(communes_table((True, False, True, False)), enaf), "30002")
    assert not_eligible["envelope_ha"] == pytest.approx(0.6)
    assert not not_eligible["guarantee_applied"]
    # Delta has no planning document: its 0.5 ha envelope stays.
    assert row(commune_budgets(communes_table(), enaf), "30004")["envelope_ha"] == pytest.approx(
        0.5
    )


def test_status_codes_and_labels(enaf: pd.DataFrame) -> None:
    table = commune_budgets(communes_table(), enaf).set_index("insee")
    # Charlie: envelope 4, consumed 5.0 -> exceeded.
    assert table.loc["30003", "remaining_ha"] == pytest.approx(-1.0)
    assert table.loc["30003", "status"] == "exceeded"
    # Bravo: envelope 1 (guarantee), consumed 0.3, projected 0.3 + 0.1 x 7 = 1.0 -> on track.
    assert table.loc["30002", "projected_end_ha"] == pytest.approx(1.0)
    assert table.loc["30002", "status"] == "on track"
    assert set(STATUS_LABELS) >= set(table["status"])
    assert STATUS_LABELS["exceeded"] == "dépassée"
    assert STATUS_LABELS["at risk"] == "à risque"
    assert STATUS_LABELS["on track"] == "dans l'enveloppe"


def test_committed_projects_reduce_remaining(tmp_path: Path, enaf: pd.DataFrame) -> None:
    path = write(
        tmp_path,
        "committed.csv",
        "insee,committed_ha,label,renatured_ha\n30001,0.3,ZA Nord,\n30001,0.4,Extension,0.2\n"
        "30002,0.5,,\n",
    )
    committed = read_committed(path)
    assert committed["committed_ha"].tolist() == [0.3, 0.4, 0.5]
    table = commune_budgets(communes_table(), enaf, committed=committed).set_index("insee")
    # Renaturation credited: 0.3 + 0.4 - 0.2 = 0.5; remaining 1.7 - 1.2 - 0.5 = 0.
    assert table.loc["30001", "committed_ha"] == pytest.approx(0.5)
    assert table.loc["30001", "remaining_ha"] == pytest.approx(0.0)
    assert table.loc["30001", "status"] == "at risk"
    assert table.loc["30004", "committed_ha"] == 0.0
    no_credit = RuleSet("no-credit", "1", renaturation_credit=False)
    strict = commune_budgets(communes_table(), enaf, no_credit, committed).set_index("insee")
    assert strict.loc["30001", "committed_ha"] == pytest.approx(0.7)
    assert strict.loc["30001", "status"] == "exceeded"


def test_committed_errors(tmp_path: Path, enaf: pd.DataFrame) -> None:
    unknown = pd.DataFrame({"insee": ["30999"], "committed_ha": [1.0]})
    with pytest.raises(NotFoundError, match="30999"):
        commune_budgets(communes_table(), enaf, committed=unknown)
    with pytest.raises(LayerSchemaError, match="committed_ha"):
        read_committed(write(tmp_path, "c.csv", "insee,committed_ha\n30001,-2\n"))
    with pytest.raises(LayerSchemaError, match="committed_ha"):
        read_committed(write(tmp_path, "d.csv", "insee,hectares\n30001,2\n"))
    with pytest.raises(DataSourceError):
        read_committed(tmp_path / "absent.csv")


def test_territorialised_rates_most_specific_level_wins(enaf: pd.DataFrame) -> None:
    rules = RuleSet(
        "territorialised",
        "1",
        territorial_rates=(
            TerritorialRate("scot", SCOT, 0.5447),
            TerritorialRate("epci", EPCI_B, 0.4),
            TerritorialRate("commune", "30002", 0.2),
        ),
    )
    communes = communes_table().assign(scot=[SCOT, SCOT, None, SCOT])
    table = commune_budgets(communes, enaf, rules).set_index("insee")
    assert table["reduction_rate"].to_dict() == {
        "30001": 0.5447,  # SCoT rate
        "30002": 0.2,  # commune beats SCoT
        "30003": 0.5,  # default (EPCI_A has no rate, no SCoT)
        "30004": 0.4,  # EPCI beats SCoT
    }
    # 3.4 x (1 - 0.5447) = 1.54802
    assert table.loc["30001", "envelope_ha"] == pytest.approx(1.54802)
    assert not table.loc["30001", "guarantee_applied"]
    # 1.2 x 0.8 = 0.96 < 1 ha: guarantee
    assert table.loc["30002", "envelope_ha"] == pytest.approx(1.0)
    assert table.loc["30002", "guarantee_applied"]
    # Delta: 1.0 x 0.6, no planning document
    assert table.loc["30004", "envelope_ha"] == pytest.approx(0.6)


def test_epci_rows_are_sums_of_members(enaf: pd.DataFrame) -> None:
    communes = communes_table()
    members = commune_budgets(communes, enaf)
    pooled = commune_budgets(communes, enaf, pool="epci").set_index("insee")
    assert list(pooled.index) == [EPCI_B, EPCI_A]
    a = pooled.loc[EPCI_A]
    assert a["name"] == f"EPCI {EPCI_A}"
    assert a["pool_id"] == EPCI_A
    # Alpha 1.7 + Bravo 1.0 (guarantee applied before pooling) + Charlie 4.0, less the 0.4 ha
    # of Bravo's guarantee: Bravo did not ask to pool it and its own 0.3 ha used none of it.
    assert a["envelope_ha"] == pytest.approx(6.3)
    assert a["guarantee_reserved_ha"] == pytest.approx(0.4)
    assert a["guaranteed_ha"] == pytest.approx(0.4)
    assert a["baseline_ha"] == pytest.approx(12.6)
    assert a["consumed_ha"] == pytest.approx(1.2 + 0.3 + 5.0)
    assert a["remaining_ha"] == pytest.approx(6.3 - 6.5)
    assert a["guarantee_applied"] and not a["guarantee_pooling"]
    assert a["reduction_rate"] == pytest.approx(0.5)
    assert a["status"] == "exceeded"
    abc = members[members["insee"].isin(["30001", "30002", "30003"])]
    for col in ("baseline_ha", "consumed_ha", "projected_end_ha"):
        assert a[col] == pytest.approx(abc[col].sum())
    for col in ("envelope_ha", "remaining_ha"):
        assert a[col] + a["guarantee_reserved_ha"] == pytest.approx(abc[col].sum())
    assert pooled.attrs["pool"] == "epci"


def test_scot_pools_and_communes_outside_any_scot(enaf: pd.DataFrame) -> None:
    pooled = commune_budgets(communes_table(), enaf, pool="scot").set_index("insee")
    assert set(pooled.index) == {SCOT, "30003", "30004"}
    # Alpha 1.7 + Bravo 0.6: Bravo keeps its 0.4 ha guarantee to itself
    assert pooled.loc[SCOT, "envelope_ha"] == pytest.approx(2.3)
    assert pooled.loc["30003", "name"] == "hors SCoT : Charlie"


def test_pooled_effective_rate_is_baseline_weighted(enaf: pd.DataFrame) -> None:
    rules = RuleSet("r", "1", territorial_rates=(TerritorialRate("commune", "30003", 0.75),))
    pooled = commune_budgets(communes_table(), enaf, rules, pool="epci").set_index("insee")
    # (3.4 x 0.5 + 1.2 x 0.5 + 8 x 0.25) / 12.6 kept -> rate 1 - 4.3 / 12.6
    assert pooled.loc[EPCI_A, "reduction_rate"] == pytest.approx(1 - 4.3 / 12.6)


def test_guarantee_pooled_assumes_the_unrecorded_requests(enaf: pd.DataFrame) -> None:
    rules = RuleSet("pooled", "1", guarantee_pooled=True)
    communes = commune_budgets(communes_table(), enaf, rules).set_index("insee")
    # the commune keeps its own guaranteed hectares in its commune row
    assert communes.loc["30002", "envelope_ha"] == pytest.approx(1.0)
    assert communes.loc["30002", "guarantee_applied"]
    assert communes.loc["30002", "guarantee_pooling"]
    assert communes.loc["30002", "guarantee_reserved_ha"] == 0.0
    epci = commune_budgets(communes_table(), enaf, rules, pool="epci").set_index("insee")
    assert epci.loc[EPCI_A, "envelope_ha"] == pytest.approx(6.7)
    assert epci.loc[EPCI_A, "guarantee_reserved_ha"] == pytest.approx(0.0)
    assert epci.loc[EPCI_A, "remaining_ha"] == pytest.approx(0.2)
    by_key = {a["key"]: a for a in epci.attrs["assumptions"]}
    assert by_key["guarantee_pooling_unknown"]["communes"] == ["30002"]
    assert "par hypothèse" in by_key["guarantee_pooling_unknown"]["text"]


def test_pool_ids() -> None:
    communes = communes_table()
    assert pool_ids(communes, "commune").to_dict()["30003"] == "30003"
    assert pool_ids(communes, "epci").to_dict() == {
        "30001": EPCI_A,
        "30002": EPCI_A,
        "30003": EPCI_A,
        "30004": EPCI_B,
    }
    assert pool_ids(communes, "scot")["30001"] == SCOT
    # Cerema files write "" for communes outside any SCoT: each is its own pool.
    blank = communes.assign(scot=[SCOT, SCOT, "", ""])
    assert pool_ids(blank, "scot").to_dict() == pool_ids(communes, "scot").to_dict()
    with pytest.raises(LayerSchemaError, match="pool"):
        pool_ids(communes, "region")


def test_missing_year_is_reported_never_zero() -> None:
    gap = even(3.4, (0.5, 0.3, 0.4))
    gap[2015] = None  # Bravo is absent from 2015
    enaf = flows({"30001": even(3.4, (0.5, 0.3, 0.4)), "30002": gap, "30003": even(8.0)})
    communes = communes_table()[lambda c: c["insee"] != "30004"]
    with pytest.warns(MissingEnafWarning, match="30002"):
        table = commune_budgets(communes, enaf)
    assert table.attrs["missing_years"] == {"30002": [2015]}
    b = row(table, "30002")
    assert math.isnan(b["baseline_ha"]) and math.isnan(b["envelope_ha"])
    assert math.isnan(b["remaining_ha"])
    assert b["status"] == "incomplete"
    assert row(table, "30001")["envelope_ha"] == pytest.approx(1.7)
    with pytest.warns(MissingEnafWarning):
        pooled = commune_budgets(communes, enaf, pool="epci")
    assert math.isnan(pooled["envelope_ha"].iloc[0])
    assert pooled["status"].iloc[0] == "incomplete"


def test_commune_without_any_enaf_row_is_missing(enaf: pd.DataFrame) -> None:
    communes = pd.concat(
        [communes_table(), pd.DataFrame({"insee": ["30005"], "name": ["Echo"], "epci": [EPCI_B]})],
        ignore_index=True,
    )
    with pytest.warns(MissingEnafWarning, match="30005"):
        table = commune_budgets(communes, enaf)
    assert table.attrs["missing_years"]["30005"] == [*range(2011, 2021), 2021, 2022, 2023]


def test_bad_input_tables(enaf: pd.DataFrame) -> None:
    with pytest.raises(LayerSchemaError, match="epci"):
        commune_budgets(communes_table().drop(columns="epci"), enaf)
    with pytest.raises(LayerSchemaError, match="enaf_m2"):
        commune_budgets(communes_table(), enaf.drop(columns="enaf_m2"))
    with pytest.raises(LayerSchemaError, match="30002/2014"):
        commune_budgets(communes_table(), pd.concat([enaf, enaf.iloc[[20]]]))
    with pytest.raises(DataSourceError, match="empty"):
        commune_budgets(communes_table(), enaf.iloc[:0])


def test_provenance_on_every_table(enaf: pd.DataFrame) -> None:
    table = commune_budgets(communes_table(), enaf)
    assert table.attrs["rules"] == "climat-resilience-2023"
    assert table.attrs["rules_version"] == load_rules().version
    assert table.attrs["enaf_vintage"] == "Cerema 2009-2024"
    datetime.fromisoformat(table.attrs["computed_at"])
    given_vintage = commune_budgets(communes_table(), enaf, vintage=EnafVintage(2009, 2023))
    assert given_vintage.attrs["enaf_vintage"] == "Cerema 2009-2023"
    # Only 2021 and 2022 count with a 2009-2023 vintage: pace (0.5 + 0.3) / 2.
    assert row(given_vintage, "30001")["pace_ha_per_year"] == pytest.approx(0.4)
    assert row(given_vintage, "30001")["projected_end_ha"] == pytest.approx(0.8 + 0.4 * 8)


def test_budget_table_on_a_territory(enaf: pd.DataFrame) -> None:
    geoms = [shapely.box(i * 1000.0, 0, (i + 1) * 1000.0, 1000.0) for i in range(4)]
    gdf = gpd.GeoDataFrame(communes_table(), geometry=geoms, crs="EPSG:2154")
    t = Territory(
        name="t",
        layers={"communes": gdf},
        enaf_consumption=enaf,
        projects=empty_layer("projects"),
        enaf_vintage=EnafVintage(2009, 2024),
    )
    rules = RuleSet("epci-rules", "3", pool="epci")
    table = budget_table(t, rules)
    assert table.attrs["pool"] == "epci"
    assert table.attrs["rules"] == "epci-rules"
    assert len(table) == 2
    per_commune = budget_table(t, pool="commune")
    pd.testing.assert_frame_equal(per_commune, commune_budgets(gdf, enaf))


# -- hypothesis properties ----------------------------------------------------------------------

_ha = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)


@st.composite
def territories(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, RuleSet]:
    n = draw(st.integers(min_value=1, max_value=8))
    insee = [f"30{i:03d}" for i in range(1, n + 1)]
    communes = pd.DataFrame(
        {
            "insee": insee,
            "name": [f"C{i}" for i in range(n)],
            "epci": draw(st.lists(st.sampled_from([EPCI_A, EPCI_B]), min_size=n, max_size=n)),
            "scot": draw(st.lists(st.sampled_from([SCOT, "S2", None]), min_size=n, max_size=n)),
            "has_planning_doc": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        }
    )
    figures = {c: {y: draw(_ha) for y in range(2011, 2024)} for c in insee}
    committed = pd.DataFrame(
        {"insee": insee, "committed_ha": draw(st.lists(_ha, min_size=n, max_size=n))}
    )
    rates = tuple(
        TerritorialRate("commune", c, draw(st.floats(0.0, 1.0)))
        for c in insee
        if draw(st.booleans())
    )
    rules = RuleSet(
        "h",
        "1",
        reduction_rate=draw(st.floats(0.0, 1.0)),
        territorial_rates=rates,
        communal_guarantee_ha=draw(st.sampled_from([0.0, 1.0, 2.5])),
    )
    return communes, flows(figures, range(2011, 2024)), committed, rules


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(territories(), st.sampled_from(["commune", "epci", "scot"]))
def test_remaining_is_envelope_minus_consumed_minus_committed(data, pool: str) -> None:
    communes, enaf, committed, rules = data
    table = commune_budgets(communes, enaf, rules, committed, pool=pool)
    expected = table["envelope_ha"] - table["consumed_ha"] - table["committed_ha"]
    np.testing.assert_allclose(table["remaining_ha"], expected, atol=1e-9)
    assert (table["envelope_ha"] >= 0).all()
    exceeded = table["remaining_ha"] < -1e-9
    assert (table.loc[exceeded, "status"] == "exceeded").all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(territories(), st.sampled_from(["epci", "scot"]))
def test_pooling_never_changes_the_totals(data, pool: str) -> None:
    communes, enaf, committed, rules = data
    per_commune = commune_budgets(communes, enaf, rules, committed)
    pooled = commune_budgets(communes, enaf, rules, committed, pool=pool)
    for col in ("baseline_ha", "consumed_ha", "committed_ha", "projected_end_ha"):
        assert pooled[col].sum() == pytest.approx(per_commune[col].sum(), abs=1e-6)
    # what a pool counts, plus the guarantees kept by communes that did not ask to pool them
    kept = pooled["guarantee_reserved_ha"]
    for col in ("envelope_ha", "remaining_ha"):
        assert (pooled[col] + kept).sum() == pytest.approx(per_commune[col].sum(), abs=1e-6)
    assert (kept >= -1e-9).all()
    assert (kept <= pooled["guaranteed_ha"] + 1e-9).all()
    assert pooled["guarantee_applied"].sum() <= per_commune["guarantee_applied"].sum()


# -- placements ----------------------------------------------------------------------------------


def placements(**overrides) -> pd.DataFrame:
    base = {
        "project_id": ["p1", "p2", "p3", "p4"],
        "insee": ["30001", "30001", "30002", "30003"],
        "area_ha": [2.0, 3.0, 4.0, 1.5],
        "enaf_share": [0.5, 1.0, 1.0, 0.2],
        "is_pene": [False, True, False, False],
        "is_friche": [False, False, True, False],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_pene_and_friche_placements_consume_nothing_locally(enaf: pd.DataFrame) -> None:
    rules = load_rules()
    budgets = commune_budgets(communes_table(), enaf, rules)
    per_placement, per_pool = placement_impact(placements(), budgets, rules, communes_table())
    p = per_placement.set_index("project_id")
    assert p["enaf_ha"].tolist() == pytest.approx([1.0, 3.0, 4.0, 0.3])
    assert p["consumed_ha"].tolist() == pytest.approx([1.0, 0.0, 0.0, 0.3])
    assert p["charged_to"].tolist() == ["local", "national", "none", "local"]
    pools = per_pool.set_index("pool_id")
    assert pools.loc["30001", "remaining_before_ha"] == pytest.approx(0.5)
    assert pools.loc["30001", "consumed_by_placements_ha"] == pytest.approx(1.0)
    assert pools.loc["30001", "remaining_after_ha"] == pytest.approx(-0.5)
    assert pools.loc["30001", "over_budget"]
    assert pools.loc["30002", "consumed_by_placements_ha"] == 0.0
    assert pools.loc["30004", "remaining_after_ha"] == pytest.approx(
        pools.loc["30004", "remaining_before_ha"]
    )
    assert per_pool.attrs["rules"] == "climat-resilience-2023"
    assert per_placement.attrs["enaf_vintage"] == "Cerema 2009-2024"


def test_rules_that_count_pene_friches_and_artificialised_land(enaf: pd.DataFrame) -> None:
    rules = RuleSet(
        "everything", "1", pene_excluded=False, friches_count=True, artificialised_counts=True
    )
    budgets = commune_budgets(communes_table(), enaf, rules)
    per_placement, _ = placement_impact(placements(), budgets, rules, communes_table())
    assert per_placement["consumed_ha"].tolist() == pytest.approx([2.0, 3.0, 4.0, 1.5])


def test_placements_pooled_per_epci(enaf: pd.DataFrame) -> None:
    rules = load_rules()
    budgets = commune_budgets(communes_table(), enaf, rules, pool="epci")
    per_placement, per_pool = placement_impact(placements(), budgets, rules, communes_table())
    assert set(per_placement["pool_id"]) == {EPCI_A}
    pools = per_pool.set_index("pool_id")
    assert pools.loc[EPCI_A, "remaining_before_ha"] == pytest.approx(-0.2)
    assert pools.loc[EPCI_A, "consumed_by_placements_ha"] == pytest.approx(1.3)
    assert pools.loc[EPCI_A, "remaining_after_ha"] == pytest.approx(-1.5)


def test_twelve_projects_what_if(enaf: pd.DataFrame) -> None:
    rules = load_rules()
    budgets = commune_budgets(communes_table(), enaf, rules)
    twelve = pd.DataFrame(
        {
            "project_id": [f"p{i}" for i in range(12)],
            "insee": ["30001", "30002", "30003", "30004"] * 3,
            "area_ha": [0.1] * 12,
            "enaf_share": [1.0] * 12,
        }
    )
    per_placement, per_pool = placement_impact(twelve, budgets, rules, communes_table())
    assert per_placement["consumed_ha"].sum() == pytest.approx(1.2)
    assert per_pool["consumed_by_placements_ha"].tolist() == pytest.approx([0.3] * 4)
    np.testing.assert_allclose(
        per_pool["remaining_after_ha"], budgets["remaining_ha"] - 0.3, atol=1e-12
    )


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"insee": ["30001", "30001", "30002", "30999"]}, NotFoundError, "30999"),
        ({"enaf_share": [0.5, 1.5, 1.0, 0.2]}, LayerSchemaError, "enaf_share"),
        ({"area_ha": [2.0, -3.0, 4.0, 1.5]}, LayerSchemaError, "area_ha"),
        ({"is_pene": ["no", "yes", "no", "no"]}, LayerSchemaError, "is_pene"),
    ],
)
def test_placement_errors(enaf: pd.DataFrame, overrides: dict, error: type, match: str) -> None:
    rules = load_rules()
    budgets = commune_budgets(communes_table(), enaf, rules)
    with pytest.raises(error, match=match):
        placement_impact(placements(**overrides), budgets, rules, communes_table())


def test_placements_against_budgets_of_another_level(enaf: pd.DataFrame) -> None:
    rules = load_rules()
    budgets = commune_budgets(communes_table(), enaf, rules, pool="commune")
    with pytest.raises(NotFoundError, match="calculez les budgets au même niveau"):
        placement_impact(placements(), budgets, rules, communes_table(), pool="epci")


# -- trajectory -----------------------------------------------------------------------------------


def test_trajectory_series(enaf: pd.DataFrame) -> None:
    traj = trajectory((communes_table(), enaf), pool="commune", pool_id="30001")
    assert list(traj.columns) == ["year", "series", "label", "value_ha", "unit", "metric"]
    by = {name: g.set_index("year")["value_ha"] for name, g in traj.groupby("series")}
    assert by["consumption"].index.tolist() == list(range(2011, 2024))
    assert by["consumption"].loc[2015] == pytest.approx(0.34)
    assert by["consumption"].loc[2022] == pytest.approx(0.3)
    assert by["cumulative"].to_dict() == pytest.approx({2021: 0, 2022: 0.5, 2023: 0.8, 2024: 1.2})
    assert by["envelope"].index.tolist() == list(range(2021, 2032))
    assert by["envelope"].tolist() == pytest.approx([1.7] * 11)
    assert by["projection"].loc[2024] == pytest.approx(1.2)
    assert by["projection"].loc[2031] == pytest.approx(4.0)
    assert by["zan_2050"].loc[2025] == pytest.approx(0.17)
    # the decades of the rule set: half the pace 2031-2040, half again 2041-2049, 0 in 2050
    assert by["zan_2050"].loc[2031] == pytest.approx(0.085)
    assert by["zan_2050"].loc[2040] == pytest.approx(0.085)
    assert by["zan_2050"].loc[2041] == pytest.approx(0.0425)
    assert by["zan_2050"].loc[2050] == 0.0
    assert by["zan_2050"].index.tolist() == list(range(2021, 2051))
    metric = traj[traj["series"] == "zan_2050"].set_index("year")["metric"]
    assert metric.loc[2030] == "enaf" and metric.loc[2031] == "artificialisation"
    assert "2031-2041 : artificialisation nette" in traj.attrs["metrics_note"]
    assert traj.attrs["pool_id"] == "30001"
    assert traj.attrs["rules"] == "climat-resilience-2023"
    assert set(traj.loc[traj["series"] == "consumption", "unit"]) == {"ha/an"}


def test_trajectory_of_whole_territory_and_pool(enaf: pd.DataFrame) -> None:
    whole = trajectory((communes_table(), enaf), pool="epci")
    envelope = whole[whole["series"] == "envelope"]["value_ha"].iloc[0]
    assert envelope == pytest.approx(6.3 + 0.5)
    epci = trajectory((communes_table(), enaf), pool="epci", pool_id=EPCI_A)
    cons = epci[epci["series"] == "consumption"].set_index("year")["value_ha"]
    assert cons.loc[2021] == pytest.approx(0.5 + 0.1 + 2.0)
    with pytest.raises(NotFoundError, match="999"):
        trajectory((communes_table(), enaf), pool="epci", pool_id="999")


def test_trajectory_missing_year_is_nan() -> None:
    gap = even(3.4, (0.5, 0.3, 0.4))
    gap[2022] = None
    enaf = flows({"30001": gap})
    communes = communes_table().iloc[:1]
    with pytest.warns(MissingEnafWarning):
        traj = trajectory((communes, enaf))
    cons = traj[traj["series"] == "consumption"].set_index("year")["value_ha"]
    assert math.isnan(cons.loc[2022])
    assert cons.loc[2021] == pytest.approx(0.5)
    cumulative = traj[traj["series"] == "cumulative"].set_index("year")["value_ha"]
    assert math.isnan(cumulative.loc[2023])


# -- real Cerema data --------------------------------------------------------------------------


def test_real_cerema_baselines_recomputed_independently(real_data: Path) -> None:
    path = real_data / CEREMA_RIVES
    enaf = read_cerema_enaf(path)
    communes = enaf.attrs["communes"]
    table = commune_budgets(communes, enaf).set_index("insee")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = {r["idcom"]: r for r in csv.DictReader(f, delimiter=";")}
    assert len(table) == len(rows) == 152
    assert table.attrs["enaf_vintage"] == "Cerema 2009-2024"
    checked = ["07010", "07009", "38544", "42218", "69235"]
    checked = [c for c in checked if c in rows] + sorted(rows)[:3]
    assert len(checked) >= 5
    for code in checked:
        r = rows[code]
        baseline_m2 = sum(float(r[f"naf{y:02d}art{y + 1:02d}"]) for y in range(11, 21))
        consumed_m2 = sum(float(r[f"naf{y:02d}art{y + 1:02d}"]) for y in range(21, 24))
        assert table.loc[code, "baseline_ha"] == pytest.approx(baseline_m2 / 1e4, abs=1e-9)
        assert table.loc[code, "envelope_ha"] == pytest.approx(
            max(baseline_m2 / 1e4 * 0.5, 1.0), abs=1e-9
        )
        assert table.loc[code, "consumed_ha"] == pytest.approx(consumed_m2 / 1e4, abs=1e-9)
        assert table.loc[code, "pace_ha_per_year"] == pytest.approx(consumed_m2 / 3e4, abs=1e-9)
    # Annonay (07010): 2011-2021 baseline read straight from the file.
    annonay = rows["07010"]
    assert table.loc["07010", "name"] == annonay["idcomtxt"]
    scot = commune_budgets(communes, enaf, pool="scot")
    assert len(scot) == 1
    assert scot["envelope_ha"].iloc[0] == pytest.approx(table["envelope_ha"].sum())
    epci = commune_budgets(communes, enaf, pool="epci")
    assert epci["baseline_ha"].sum() == pytest.approx(table["baseline_ha"].sum())


# -- synthetic sample ---------------------------------------------------------------------------


@pytest.mark.slow
def test_sample_territory_budgets_bind(sample_territory: Territory) -> None:
    per_commune = budget_table(sample_territory)
    assert len(per_commune) == len(sample_territory.communes)
    assert per_commune.attrs["enaf_vintage"] == sample_territory.enaf_vintage.label
    assert per_commune.attrs["missing_years"] == {}
    assert per_commune["guarantee_applied"].any()
    assert (per_commune["status"] == "exceeded").any()
    for pool in ("epci", "scot"):
        pooled = budget_table(sample_territory, pool=pool)
        kept = pooled["guarantee_reserved_ha"]
        assert (pooled["envelope_ha"] + kept).sum() == pytest.approx(
            per_commune["envelope_ha"].sum()
        )
        assert (pooled["remaining_ha"] + kept).sum() == pytest.approx(
            per_commune["remaining_ha"].sum()
        )
    traj = trajectory(sample_territory)
    cons = traj[traj["series"] == "consumption"].set_index("year")["value_ha"]
    enaf = sample_territory.enaf_consumption
    expected = enaf[enaf["year"] >= 2011].groupby("year")["enaf_m2"].sum() / 1e4
    pd.testing.assert_series_equal(cons, expected, check_names=False, check_index_type=False)
