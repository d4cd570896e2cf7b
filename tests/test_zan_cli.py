"""The ``foncier zan`` command on a small hand-made territory folder and on the sample."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from foncier.cli import main
from foncier.cli.zan import _headings
from foncier.io.cerema import EnafVintage
from foncier.layers import empty_layer
from foncier.territory import ENAF_NAME, Territory
from foncier.zan import BUDGET_COLUMNS

EPCI_A, EPCI_B = "200066918", "200000001"
# baseline over 2011-2020 and flows 2021-2023, in ha
FIGURES = {
    "30001": (3.4, (0.5, 0.3, 0.4)),  # envelope 1.7, at risk
    "30002": (1.2, (0.1, 0.1, 0.1)),  # envelope 0.6 -> 1 ha guarantee, on track
    "30003": (8.0, (2.0, 2.5, 0.5)),  # envelope 4, exceeded
}


def _enaf() -> pd.DataFrame:
    rows = []
    for insee, (baseline, since) in FIGURES.items():
        for y in range(2009, 2024):
            ha = baseline / 10 if 2011 <= y <= 2020 else since[y - 2021] if y >= 2021 else 0.0
            rows.append((insee, y, round(ha * 1e4)))
    enaf = pd.DataFrame(rows, columns=["insee", "year", "enaf_m2"]).astype({"enaf_m2": float})
    enaf["activity_m2"] = enaf["enaf_m2"]
    for col in ("housing_m2", "mixed_m2", "road_m2", "rail_m2", "unknown_m2"):
        enaf[col] = 0.0
    return enaf


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    communes = gpd.GeoDataFrame(
        {
            "insee": list(FIGURES),
            "name": ["Alpha", "Bravo", "Charlie"],
            "epci": [EPCI_A, EPCI_A, EPCI_B],
            "scot": ["SCoT des Cévennes"] * 3,
            "has_planning_doc": [True, True, True],
        },
        geometry=[
            shapely.box(700_000 + i * 1000.0, 6_300_000, 701_000 + i * 1000.0, 6_301_000)
            for i in range(3)
        ],
        crs="EPSG:2154",
    )
    t = Territory(
        name="Test",
        layers={"communes": communes},
        enaf_consumption=_enaf(),
        projects=empty_layer("projects"),
        enaf_vintage=EnafVintage(2009, 2024),
    )
    return t.to_folder(tmp_path_factory.mktemp("zan") / "territory")


def run(*args: str) -> object:
    result = CliRunner().invoke(main, ["zan", *map(str, args)])
    return result


def csv_rows(output: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(output), dtype={"insee": str}).set_index("insee")


def test_table_format_is_french_with_provenance(folder: Path) -> None:
    result = run(folder)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Budgets ZAN 2021-2031 : Test")
    assert "Règles : climat-resilience-2023 (version 2023.1)" in lines[1]
    assert "données : Cerema 2009-2024" in lines[1]
    assert "budgets par commune" in lines[1]
    # French headings for people, in the order of the budget columns; the target of each row
    # is listed once under the table, not in a column
    header = lines[3]
    period = pd.DataFrame()
    period.attrs.update(target_period=[2021, 2031], reference_period=[2011, 2021])
    headings = _headings(period)
    shown = [c for c in BUDGET_COLUMNS if c != "target_note"]
    at = 0
    for c in shown:  # each heading found after the previous one
        at = header.index(headings[c], at) + len(headings[c])
    assert "remaining_ha" not in header
    assert "Cibles appliquées :" in lines
    assert any("règle générale (climat-resilience-2023)" in x for x in lines)
    alpha = next(line for line in lines if line.startswith("30001"))
    assert "3,40" in alpha and "1,70" in alpha and "0,5000" in alpha and "à risque" in alpha
    bravo = next(line for line in lines if line.startswith("30002"))
    assert "oui" in bravo and "dans l'enveloppe" in bravo
    assert "dépassée" in next(line for line in lines if line.startswith("30003"))
    assert lines[-1].startswith("Total : enveloppe 6,70")


def test_csv_format_has_exactly_the_budget_columns(folder: Path) -> None:
    result = run(folder, "--format", "csv")
    assert result.exit_code == 0, result.output
    table = csv_rows(result.output)
    assert ["insee", *table.columns] == list(BUDGET_COLUMNS)
    assert table.loc["30001", "envelope_ha"] == pytest.approx(1.7)
    assert table.loc["30002", "envelope_ha"] == pytest.approx(1.0)
    assert table.loc["30003", "remaining_ha"] == pytest.approx(-1.0)
    assert table.loc["30001", "projected_end_ha"] == pytest.approx(4.0)
    assert table["status"].tolist() == ["at risk", "on track", "exceeded"]


def test_json_format_carries_provenance(folder: Path) -> None:
    result = run(folder, "--format", "json", "--pool", "epci")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["rules"] == "climat-resilience-2023"
    assert payload["enaf_vintage"] == "Cerema 2009-2024"
    assert payload["pool"] == "epci"
    assert payload["computed_at"]
    rows = {r["insee"]: r for r in payload["budgets"]}
    assert list(payload["budgets"][0]) == list(BUDGET_COLUMNS)
    # Alpha 1.7 + Bravo 0.6: Bravo's 0.4 ha guarantee stays its own (no pooling request)
    assert rows[EPCI_A]["envelope_ha"] == pytest.approx(2.3)
    assert rows[EPCI_A]["guarantee_reserved_ha"] == pytest.approx(0.4)
    assert rows[EPCI_A]["end_year"] == 2031
    assert payload["end_year"] == 2031 and payload["target_period"] == [2021, 2031]
    assert rows[EPCI_B]["envelope_ha"] == pytest.approx(4.0)


def test_scot_pool(folder: Path) -> None:
    result = run(folder, "--pool", "scot", "--format", "csv")
    table = csv_rows(result.stdout)
    assert list(table.index) == ["SCoT des Cévennes"]
    assert table["envelope_ha"].iloc[0] == pytest.approx(6.3)
    assert "sans demande de mutualisation connue (30002)" in result.stderr


def test_committed_projects(folder: Path, tmp_path: Path) -> None:
    committed = tmp_path / "committed.csv"
    committed.write_text("insee,committed_ha,label\n30002,0.5,ZA\n", encoding="utf-8")
    table = csv_rows(run(folder, "--committed", committed, "--format", "csv").output)
    assert table.loc["30002", "committed_ha"] == pytest.approx(0.5)
    assert table.loc["30002", "remaining_ha"] == pytest.approx(1.0 - 0.3 - 0.5)


def test_user_rule_file_and_rates(folder: Path, tmp_path: Path) -> None:
    rules = tmp_path / "trace.yaml"
    rules.write_text("name: trace-like\nversion: '0.1'\nreduction_rate: 0.3\n", encoding="utf-8")
    result = run(folder, "--rules", rules)
    assert "Règles : trace-like (version 0.1)" in result.output
    table = csv_rows(run(folder, "--rules", rules, "--format", "csv").output)
    assert table.loc["30001", "envelope_ha"] == pytest.approx(3.4 * 0.7)
    rates = tmp_path / "rates.csv"
    rates.write_text(f"level,code,reduction_rate\nepci,{EPCI_B},0.5447\n", encoding="utf-8")
    table = csv_rows(run(folder, "--rates", rates, "--format", "csv").output)
    assert table.loc["30003", "reduction_rate"] == pytest.approx(0.5447)
    assert table.loc["30003", "envelope_ha"] == pytest.approx(8.0 * (1 - 0.5447))


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("rates.csv", "level,code,reduction_rate\ncommune,30999,0.5\n", "30999"),
        ("rates.csv", "level,code,reduction_rate\ncommune,30001,1.5\n", "est hors de"),
        ("rules.toml", 'name = "x"\nversion = "1"\nreduction = 0.5\n', "reduction"),
    ],
)
def test_bad_rule_and_rate_files_are_clean_errors(
    folder: Path, tmp_path: Path, name: str, text: str, match: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    option = "--rates" if name.endswith(".csv") else "--rules"
    result = run(folder, option, path)
    assert result.exit_code == 2
    assert "Erreur" in result.stderr and match in result.stderr
    assert "Traceback" not in result.output


def test_unknown_rule_set_name(folder: Path) -> None:
    result = run(folder, "--rules", "no-such-rules")
    assert result.exit_code == 2
    assert "climat-resilience-2023" in result.stderr


def test_missing_years_are_reported(folder: Path, tmp_path: Path) -> None:
    broken = Territory.from_folder(folder).to_folder(tmp_path / "broken")
    cerema = pd.read_csv(broken / ENAF_NAME, sep=";", dtype=str)
    cerema.loc[cerema["idcom"] == "30002", "naf15art16"] = ""
    cerema.to_csv(broken / ENAF_NAME, sep=";", index=False)
    result = run(broken)
    assert result.exit_code == 0, result.output
    assert "Attention" in result.stderr and "30002 (2015)" in result.stderr
    bravo = next(line for line in result.stdout.splitlines() if line.startswith("30002"))
    assert "n.d." in bravo and "données incomplètes" in bravo


@pytest.mark.slow
def test_zan_on_the_sample(sample_folder: Path) -> None:
    result = run(sample_folder, "--pool", "epci", "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["enaf_vintage"] == "Cerema 2009-2023"
    assert len(payload["budgets"]) == 2
    assert all(r["remaining_ha"] is not None for r in payload["budgets"])


def test_versus_prints_both_rule_sets_per_commune(folder: Path) -> None:
    result = run(folder, "--versus", "trace-senat-2025", "--format", "csv")
    assert result.exit_code == 0, result.output
    table = csv_rows(result.stdout)
    # 2021-2031 at half the reference pace, against 2021-2034 (13 years) at the same rate:
    # Alpha 3.4 x 0.5 = 1.7 -> 3.4 x 1.3 x 0.5 = 2.21; Bravo lifted to 1 ha under both;
    # Charlie 8 x 0.5 = 4 -> 5.2
    assert table["envelope_ha"].tolist() == pytest.approx([1.7, 1.0, 4.0])
    assert table["versus_envelope_ha"].tolist() == pytest.approx([2.21, 1.0, 5.2])
    assert table["remaining_change_ha"].tolist() == pytest.approx([0.51, 0.0, 1.2])
    assert "proposition de loi, non en vigueur" in result.stderr
    shown = run(folder, "--versus", "simplification-2025", "--pool", "epci")
    assert shown.exit_code == 0, shown.output
    assert "Comparées à (versus_…) : simplification-2025" in shown.output
    assert "2021-2031, proposition de loi, non en vigueur" in shown.output


def test_a_bill_is_flagged_on_every_output(folder: Path) -> None:
    table = run(folder, "--rules", "trace-senat-2025")
    assert "PROPOSITION DE LOI, NON EN VIGUEUR" in table.output.splitlines()[1]
    payload = json.loads(run(folder, "--rules", "trace-senat-2025", "--format", "json").output)
    assert payload["legal_status"] == "bill"
    assert payload["legal_status_label"] == "proposition de loi, non en vigueur"
    assert payload["end_year"] == 2034
    keys = [a["key"] for a in payload["assumptions"]]
    assert keys[0] == "rules_not_in_force"
    law = json.loads(run(folder, "--format", "json").output)
    assert law["legal_status_label"] == "en vigueur"
    assert "rules_not_in_force" not in [a["key"] for a in law["assumptions"]]
