"""The ZAN diagnosis: consumption by destination, efficiency ratios, the reference area, the map."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from foncier.cli import main
from foncier.io.cerema import read_cerema_enaf, write_cerema_enaf
from foncier.layers import TABLE_SCHEMAS, Col, DiagnosisCol, destination_column
from foncier.maps.consumption import consumption_layer
from foncier.palette import (
    CONSUMPTION_BREAKS_HA,
    CONSUMPTION_PALETTE,
    INCOMPLETE,
    consumption_colour,
)
from foncier.report_diagnosis import diagnosis_section_of
from foncier.territory import Territory
from foncier.zan import zan_diagnosis
from foncier.zan.diagnosis import census_period, consumption_by_destination
from tests._html_text import missing_words, visible_texts
from tests.test_french import slips_in

_D = DiagnosisCol
USES = ("housing_m2", "activity_m2", "mixed_m2", "road_m2", "rail_m2", "unknown_m2")
#: Per commune, m² per year by destination (habitat, activité, mixte, routes, ferré, inconnu).
FLOWS = {
    "30001": (600.0, 300.0, 0.0, 100.0, 0.0, 0.0),  # 1 000 m² a year
    "30002": (0.0, 2000.0, 0.0, 0.0, 500.0, 0.0),  # 2 500 m² a year
    "30003": (100.0, 0.0, 50.0, 0.0, 0.0, 50.0),  # 200 m² a year
}


def _enaf(years: range = range(2009, 2024)) -> pd.DataFrame:
    rows = [(insee, y, sum(uses), *uses) for insee, uses in FLOWS.items() for y in years]
    return pd.DataFrame(rows, columns=["insee", "year", "enaf_m2", *USES])


def _communes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "insee": list(FLOWS),
            "name": ["Alpha", "Bravo", "Charlie"],
            "dep": ["30", "30", "30"],
            "pop15": [100.0, 50.0, 80.0],
            "pop21": [120.0, 50.0, 70.0],  # +20, flat, -10
            "men15": [40.0, 20.0, 30.0],
            "men21": [50.0, 25.0, 32.0],  # +10, +5, +2
            "emp15": [30.0, 100.0, 5.0],
            "emp21": [25.0, 140.0, 6.0],  # -5, +40, +1
        }
    )


@pytest.fixture
def small() -> pd.DataFrame:
    return zan_diagnosis(_enaf(), _communes(), name="Test").communes.set_index(Col.INSEE)


def test_consumption_by_period_and_destination_hand_checked(small: pd.DataFrame) -> None:
    # 2011-2020: 10 years; since 2021: 2021, 2022, 2023 (the file ends 1 Jan 2024)
    assert small.loc["30001", _D.REFERENCE_HA] == pytest.approx(1.0)
    assert small.loc["30002", _D.REFERENCE_HA] == pytest.approx(2.5)
    assert small.loc["30003", _D.REFERENCE_HA] == pytest.approx(0.2)
    assert small.loc["30001", _D.SINCE_2021_HA] == pytest.approx(0.3)
    assert small.loc["30001", "reference_housing_ha"] == pytest.approx(0.6)
    assert small.loc["30001", "reference_road_ha"] == pytest.approx(0.1)
    assert small.loc["30002", "reference_rail_ha"] == pytest.approx(0.5)
    assert small.loc["30003", "since_2021_unknown_ha"] == pytest.approx(0.015)
    # the destinations add up to the total, in every period
    for period in (_D.REFERENCE_HA, _D.SINCE_2021_HA):
        parts = small[[destination_column(period, d) for d in _D.DESTINATIONS]].sum(axis=1)
        np.testing.assert_allclose(parts, small[period])
    assert small.loc["30002", Col.NAME] == "Bravo" and small.loc["30002", _D.DEP] == "30"


def test_efficiency_ratios_hand_checked(small: pd.DataFrame) -> None:
    # census 2015 -> 2021: the flows of 2015..2020, 6 years
    assert small.loc["30001", _D.CENSUS_CONSUMED_M2] == pytest.approx(6000.0)
    assert small.loc["30001", _D.M2_PER_NEW_INHABITANT] == pytest.approx(6000.0 / 20)
    assert small.loc["30001", _D.M2_PER_NEW_HOUSEHOLD] == pytest.approx(6000.0 / 10)
    assert np.isnan(small.loc["30001", _D.M2_PER_NEW_JOB])  # jobs fell: no ratio
    assert np.isnan(small.loc["30002", _D.M2_PER_NEW_INHABITANT])  # flat population
    assert small.loc["30002", _D.M2_PER_NEW_JOB] == pytest.approx(15000.0 / 40)
    assert np.isnan(small.loc["30003", _D.M2_PER_NEW_INHABITANT])
    assert small.loc["30003", _D.NEW_INHABITANTS] == -10


def test_area_figures_are_ratios_of_sums() -> None:
    d = zan_diagnosis(_enaf(), _communes(), name="Test")
    area = d.areas.iloc[0]
    assert area[_D.AREA] == "Test"
    assert area[_D.REFERENCE_HA] == pytest.approx(3.7)
    assert area[_D.NEW_INHABITANTS] == pytest.approx(10.0)  # +20 + 0 - 10
    consumed = 6 * (1000.0 + 2500.0 + 200.0)
    assert area[_D.M2_PER_NEW_INHABITANT] == pytest.approx(consumed / 10)
    assert area[_D.M2_PER_NEW_HOUSEHOLD] == pytest.approx(consumed / 17)
    assert area[_D.M2_PER_NEW_JOB] == pytest.approx(consumed / 36)
    shares = d.destination_shares.iloc[0]
    assert shares["activity_m2"] == pytest.approx((3000 + 20000) / 37000)
    assert shares.sum() == pytest.approx(1.0)
    assert d.reference_years == (2011, 2021) and d.since_years == (2021, 2024)
    assert d.census_years == (2015, 2021)


def test_a_missing_year_is_unknown_never_zero() -> None:
    enaf = _enaf()
    enaf = enaf[~((enaf["insee"] == "30002") & (enaf["year"] == 2016))]
    d = zan_diagnosis(enaf, _communes())
    row = d.communes.set_index(Col.INSEE).loc["30002"]
    assert np.isnan(row[_D.REFERENCE_HA]) and np.isnan(row["reference_activity_ha"])
    assert np.isnan(row[_D.CENSUS_CONSUMED_M2])
    assert row[_D.SINCE_2021_HA] == pytest.approx(0.75)  # 2021-2023 are complete
    assert np.isnan(d.areas.loc[0, _D.REFERENCE_HA])
    assert any("30002" in n and "n.d." in n for n in d.notes)
    # what people read says n.d., never nan
    text = " ".join(v for _, values in d.summary_rows() for v in values)
    assert "n.d." in text and "nan" not in text.lower()


def test_no_census_columns_means_no_ratio() -> None:
    d = zan_diagnosis(_enaf(), _communes()[["insee", "name"]])
    assert d.census_years is None
    assert d.communes[_D.M2_PER_NEW_INHABITANT].isna().all()
    assert all("m²" not in h for h, _ in d.summary_rows())
    assert census_period(pd.DataFrame(columns=["insee", "pop21"])) is None


def test_reference_area_beside_the_territory() -> None:
    enaf = _enaf()
    territory = enaf[enaf["insee"] != "30003"]
    d = zan_diagnosis(
        territory,
        _communes(),
        name="EPCI",
        reference=enaf,
        reference_communes=_communes().assign(dep_name="Gard"),
    )
    assert d.areas[_D.AREA].tolist() == ["EPCI", "département Gard (30)"]
    assert d.areas[_D.REFERENCE_HA].tolist() == pytest.approx([3.5, 3.7])
    assert d.areas[_D.NEW_INHABITANTS].tolist() == pytest.approx([20.0, 10.0])
    assert d.notes == []
    # a territory commune outside the reference is named
    d = zan_diagnosis(enaf, _communes(), reference=territory, reference_name="Réf.")
    assert any("30003" in n and "Réf." in n for n in d.notes)


def test_consumption_by_destination_is_in_hectares() -> None:
    table = consumption_by_destination(_enaf(), 2011, 2013)
    assert table.loc["30002", "enaf_m2"] == pytest.approx(0.5)
    assert table.loc["30002", "rail_m2"] == pytest.approx(0.1)


def test_the_table_follows_its_schema(small: pd.DataFrame) -> None:
    assert list(small.reset_index().columns) == TABLE_SCHEMAS["zan_diagnosis"].column_names


# -- the map and the report -----------------------------------------------------------


def test_consumption_classes_are_fixed() -> None:
    assert [consumption_colour(b) for b in CONSUMPTION_BREAKS_HA] == list(CONSUMPTION_PALETTE)
    assert consumption_colour(0.999) == CONSUMPTION_PALETTE[0]
    assert consumption_colour(1e6) == CONSUMPTION_PALETTE[-1]
    assert consumption_colour(float("nan")) == INCOMPLETE


def test_consumption_layer_colours_each_commune_by_its_class() -> None:
    d = zan_diagnosis(_enaf(), _communes())
    boxes = [
        shapely.box(700_000 + 1000 * i, 6_300_000, 701_000 + 1000 * i, 6_301_000) for i in range(3)
    ]
    communes = gpd.GeoDataFrame(
        {"insee": ["30003", "30001", "30002"], "name": ["Charlie", "Alpha", "Bravo"]},
        geometry=boxes,
        crs="EPSG:2154",
    )
    layer = consumption_layer(communes, d)
    features = layer.layers[0].data["features"]
    fills = [f["properties"]["fill"] for f in features]
    # 0,2 ha, 1 ha and 2,5 ha: classes 0-1, 1-2 and 2-5 ha
    assert fills == [CONSUMPTION_PALETTE[0], CONSUMPTION_PALETTE[1], CONSUMPTION_PALETTE[2]]
    popup = features[2]["properties"]["popup"]
    assert "Bravo (30002)" in popup and "dont activité" in popup
    assert "Consommation d'ENAF 2011-2021" in layer.legend_html
    assert "50 ha et plus" in layer.legend_html


def test_report_section_shows_the_diagnosis() -> None:
    html = diagnosis_section_of(zan_diagnosis(_enaf(), _communes(), name="Test"))
    text = " ".join(" ".join(visible_texts(html)).split())
    assert "Diagnostic de la consommation d'ENAF" in text
    assert "Consommation d'ENAF 2011-2021 3,7 ha" in text
    assert "dont activité 2,3 ha (62 %)" in text
    assert "m² consommés par nouvel habitant 2 220 m² (+10 habitants)" in text
    assert missing_words(html) == [] and slips_in(text) == []


# -- the real Cerema file ---------------------------------------------------------------

RIVES = "conso_enaf/cerema_conso2009_2024_data_scot_rives_du_rhone.csv"
PORTE = "conso_enaf/cerema_conso2009_2024_data_cc_porte_dromeardeche.csv"


@pytest.fixture(scope="module")
def raw_rives(real_data: Path) -> pd.DataFrame:
    return pd.read_csv(real_data / RIVES, sep=";", encoding="utf-8-sig", dtype={"idcom": str})


def _raw_sum(raw: pd.DataFrame, template: str, years: range) -> pd.Series:
    cols = [template.format(yy=f"{y % 100:02d}", zz=f"{(y + 1) % 100:02d}") for y in years]
    return raw[cols].sum(axis=1).set_axis(raw["idcom"])


def test_real_file_figures_recomputed_from_the_raw_columns(real_data: Path, raw_rives) -> None:
    d = zan_diagnosis(read_cerema_enaf(real_data / RIVES), name="SCoT des Rives du Rhône")
    table = d.communes.set_index(Col.INSEE)
    assert len(table) == 152
    reference = _raw_sum(raw_rives, "naf{yy}art{zz}", range(2011, 2021)) / 1e4
    since = _raw_sum(raw_rives, "naf{yy}art{zz}", range(2021, 2024)) / 1e4
    np.testing.assert_allclose(table[_D.REFERENCE_HA], reference.reindex(table.index))
    np.testing.assert_allclose(table[_D.SINCE_2021_HA], since.reindex(table.index))
    # destinations: Cerema's -1 m² rounding corrections are read as 0 (1e-4 ha each)
    for code, column in (("hab", "housing"), ("act", "activity"), ("rou", "road")):
        raw = _raw_sum(raw_rives, "art{yy}" + code + "{zz}", range(2011, 2021)) / 1e4
        ours = table[f"reference_{column}_ha"]
        np.testing.assert_allclose(ours, raw.reindex(table.index), atol=1e-3)
    # m² per new inhabitant is Cerema's own artpop1521 column, for a growing population
    growing = raw_rives[raw_rives["pop1521"] > 0].set_index("idcom")
    np.testing.assert_allclose(
        table.loc[growing.index, _D.M2_PER_NEW_INHABITANT], growing["artpop1521"], atol=0.006
    )
    shrinking = raw_rives.loc[raw_rives["pop1521"] <= 0, "idcom"]
    assert len(shrinking) > 0 and table.loc[shrinking, _D.M2_PER_NEW_INHABITANT].isna().all()
    # the SCoT: sums of its communes, the ratio of the sums
    area = d.areas.iloc[0]
    assert area[_D.REFERENCE_HA] == pytest.approx(reference.sum())
    consumed = _raw_sum(raw_rives, "naf{yy}art{zz}", range(2015, 2021)).sum()
    assert area[_D.M2_PER_NEW_INHABITANT] == pytest.approx(consumed / raw_rives["pop1521"].sum())
    # Cerema's own changes (computed before rounding), not emp21 - emp15 (3 125 jobs)
    assert area[_D.M2_PER_NEW_JOB] == pytest.approx(consumed / raw_rives["emp1521"].sum())
    assert area[_D.NEW_JOBS] == raw_rives["emp1521"].sum() == 3117
    assert area[_D.REFERENCE_HA] == pytest.approx(1355.6712, abs=1e-4)


def test_real_census_figures_survive_a_territory_folder(real_data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "porte"
    args = ["import", "--enaf", str(real_data / PORTE), "--name", "Porte", "-o", str(folder)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    territory = Territory.from_folder(folder)
    direct = zan_diagnosis(read_cerema_enaf(real_data / PORTE)).communes
    from foncier.zan import territory_diagnosis

    again = territory_diagnosis(territory).communes
    pd.testing.assert_frame_equal(
        again.drop(columns=[Col.NAME, _D.DEP]), direct.drop(columns=[Col.NAME, _D.DEP])
    )
    assert (again[_D.DEP] == direct[_D.DEP]).all()
    # and write_cerema_enaf keeps them when given no communes of its own
    out = write_cerema_enaf(read_cerema_enaf(real_data / PORTE), tmp_path / "again.csv")
    assert census_period(read_cerema_enaf(out).attrs["communes"]) == (2015, 2021)


def test_diagnostic_command_on_the_real_files(real_data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "porte"
    args = ["import", "--enaf", str(real_data / PORTE), "--name", "Porte", "-o", str(folder)]
    assert runner.invoke(main, args).exit_code == 0
    reference = ["--reference", str(real_data / RIVES), "--reference-name", "SCoT"]
    result = runner.invoke(main, ["diagnostic", str(folder), *reference])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Diagnostic ZAN : Porte")
    assert lines[2].split() == ["Porte", "SCoT"]
    line = next(x for x in lines if x.startswith("Consommation d'ENAF 2011-2021"))
    assert "277,2\xa0ha" in line and "1\u202f355,7\xa0ha" in line
    habitant = next(x for x in lines if "nouvel habitant" in x)
    assert "1\u202f068\xa0m² (+1\u202f445 habitants)" in habitant
    assert slips_in(result.output) == [] and "nan" not in result.output
    csv = runner.invoke(main, ["diagnostic", str(folder), "--format", "csv"])
    table = pd.read_csv(io.StringIO(csv.output), dtype={"insee": str, "dep": str})
    assert list(table.columns) == TABLE_SCHEMAS["zan_diagnosis"].column_names
    assert len(table) == 34
    payload = json.loads(
        runner.invoke(main, ["diagnostic", str(folder), "--format", "json"]).output
    )
    assert payload["census_years"] == [2015, 2021]
    assert payload["areas"][0]["reference_ha"] == pytest.approx(277.2001)


def test_diagnostic_command_without_enaf_is_one_french_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["diagnostic", str(tmp_path / "absent")])
    assert result.exit_code == 2 and result.output.startswith("Erreur : ")


def test_territory_map_has_the_consumption_layer_switched_off(sample, units) -> None:
    from foncier.labels import LAYER_NAMES
    from foncier.maps import map_html, territory_map

    m = territory_map(sample, units)
    layers = [c for c in m._children.values() if getattr(c, "layer_name", None)]
    consumption = [c for c in layers if c.layer_name == LAYER_NAMES["consumption"]]
    assert len(consumption) == 1 and consumption[0].show is False
    fills = {f["properties"]["fill"] for f in consumption[0].data["features"]}
    assert fills <= set(CONSUMPTION_PALETTE) and len(fills) > 1
    page = map_html(m)
    assert "ENAF 2011-2021" in page and "50 ha et plus" in page


def test_territory_beside_its_departments_when_the_file_covers_them(real_data: Path) -> None:
    """An EPCI whose Cerema file is the whole SCoT: the reference is its départements' communes."""
    from foncier.layers import empty_layer
    from foncier.zan import territory_diagnosis

    scot = read_cerema_enaf(real_data / RIVES)
    porte = read_cerema_enaf(real_data / PORTE).attrs["communes"]
    boxes = [
        shapely.box(800_000 + 500 * i, 6_450_000, 800_400 + 500 * i, 6_450_400)
        for i in range(len(porte))
    ]
    communes = gpd.GeoDataFrame(
        {
            "insee": porte["insee"].to_numpy(),
            "name": porte["name"].to_numpy(),
            "epci": porte["epci"].to_numpy(),
        },
        geometry=boxes,
        crs="EPSG:2154",
    )
    territory = Territory(
        name="CC Porte de DrômArdèche",
        layers={"communes": communes},
        enaf_consumption=scot,
        projects=empty_layer("projects"),
    )
    d = territory_diagnosis(territory)
    assert len(d.communes) == 34
    raw = pd.read_csv(
        real_data / RIVES, sep=";", encoding="utf-8-sig", dtype={"idcom": str, "iddep": str}
    )
    deps = sorted(raw.loc[raw["idcom"].isin(porte["insee"]), "iddep"].unique())
    assert deps == ["07", "26"]
    in_deps = raw[raw["iddep"].isin(deps)]
    territory_row, reference_row = d.areas.to_dict("records")
    assert territory_row[_D.AREA] == "CC Porte de DrômArdèche"
    assert reference_row[_D.AREA] == (
        f"départements Ardèche (07), Drôme (26) ({len(in_deps)} communes du fichier Cerema)"
    )
    expected = _raw_sum(in_deps, "naf{yy}art{zz}", range(2011, 2021)).sum() / 1e4
    assert reference_row[_D.REFERENCE_HA] == pytest.approx(expected)
    assert territory_row[_D.REFERENCE_HA] == pytest.approx(277.2001)
    assert reference_row[_D.NEW_INHABITANTS] == in_deps["pop1521"].sum()
