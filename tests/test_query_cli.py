"""``foncier query``: the planner's question on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from foncier import Scenario
from foncier.cli import main
from foncier.sample import write_sample
from foncier.territory import Territory


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("query") / "territoire"
    write_sample(out, n_parcels=3000, seed=0, n_communes=20)
    return out


def _run(*args: str):
    return CliRunner().invoke(main, ["query", *args])


def test_query_json_equals_the_library(folder: Path):
    res = _run(
        str(folder), "--area", "2", "--max-interchange-km", "8", "-k", "4", "--format", "json"
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    expected = Scenario(Territory.from_folder(folder)).query(
        {"area_min_ha": 2.0, "max_dist_interchange_km": 8.0}, k=4
    )
    assert [r["unit_id"] for r in rows] == expected["unit_id"].tolist()
    assert [r["commune"] for r in rows] == expected["commune"].tolist()
    assert all(r["net_area_ha"] >= 2.0 for r in rows)
    assert all(
        r["dist_interchange_km"] <= 8.0 for r in rows if r["dist_interchange_km"] is not None
    )
    for r in rows:
        assert r["budget_left_after_ha"] == pytest.approx(r["budget_left_before_ha"] - r["enaf_ha"])


def test_query_table_is_french_and_names_sites(folder: Path):
    res = _run(str(folder), "--area", "2", "-k", "3")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("rang") and "commune" in lines[0] and "coût ZAN" in lines[0]
    assert len(lines) == 4
    assert all(("ZAE " in line) or ("friche " in line) or ("PLU" in line) for line in lines[1:])
    assert "nan" not in res.output and "None" not in res.output


def test_query_a_project_of_the_territory(folder: Path):
    t = Territory.from_folder(folder)
    pid = str(t.projects["project_id"].iloc[0])
    res = _run(str(folder), "--project", pid, "--format", "json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    area = float(t.projects["area_min_ha"].iloc[0])
    assert all(r["net_area_ha"] >= area for r in rows)


def test_query_with_nothing_fitting_says_why(folder: Path):
    res = _run(str(folder), "--area", "400")
    assert res.exit_code == 0, res.output
    assert "Aucun terrain ne convient" in res.output
    assert "Raison :" in res.output and "surface" in res.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "--area"),
        (("--project", "P-999"), "P-999"),
    ],
)
def test_query_errors_are_one_french_line(folder: Path, args: tuple[str, ...], words: str):
    res = _run(str(folder), *args)
    assert res.exit_code == 2
    assert res.output.startswith("Erreur : ") and words in res.output


@pytest.fixture(scope="module")
def scenario_dir(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario") / "resultat"
    res = CliRunner().invoke(main, ["match", str(folder), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_query_says_what_a_named_scenario_already_takes(folder: Path, scenario_dir: Path):
    from foncier.scenarios import ScenarioResult

    res = _run(
        str(folder), "--area", "1", "-k", "8", "--scenario", str(scenario_dir), "--format", "json"
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    placed = ScenarioResult.from_folder(scenario_dir).assignments
    name = ScenarioResult.from_folder(scenario_dir).audit["name"]
    on_unit = placed.groupby("unit_id")
    enaf_in_commune = placed.groupby(placed["insee"].astype(str))["enaf_ha"].sum()
    claimed = 0
    for r in rows:
        u = r["unit_id"]
        ids = sorted(on_unit.get_group(u)["project_id"]) if u in on_unit.groups else []
        area = float(on_unit.get_group(u)["area_ha"].sum()) if ids else 0.0
        assert r["scenario_name"] == name
        assert r["scenario_projects"] == ";".join(ids)
        assert r["scenario_area_ha"] == pytest.approx(area)
        assert r["room_after_scenario_ha"] == pytest.approx(r["net_area_ha"] - area)
        used = float(enaf_in_commune.get(str(r["pool_id"]), 0.0))
        assert r["budget_left_after_scenario_ha"] == pytest.approx(
            r["budget_left_before_ha"] - used
        )
        fits = (
            r["room_after_scenario_ha"] >= 1.0 - 1e-6
            and r["enaf_ha"] <= max(r["budget_left_after_scenario_ha"], 0.0) + 1e-6
        )
        assert r["fits_after_scenario"] == fits
        assert r["scenario_claim"].startswith(f"le scénario « {name} » ")
        verdict = r["scenario_claim"].rsplit(" : ", 1)[-1]
        if fits:
            assert verdict == "ce projet y a sa place après le scénario aussi"
        else:
            assert verdict.startswith("après le scénario, il manquerait à ce projet ")
        claimed += bool(ids) or used > 0
    assert claimed > 0  # the sample's scenario does take land or budget among these units
    table = _run(str(folder), "--area", "1", "-k", "3", "--scenario", str(scenario_dir))
    assert table.exit_code == 0, table.output
    assert f"Ce que prend déjà le scénario « {name} » :" in table.output
    assert "nan" not in table.output and "None" not in table.output


def test_query_refuses_a_scenario_of_another_land_supply(folder: Path, scenario_dir: Path):
    from dataclasses import replace

    from foncier.errors import DataSourceError
    from foncier.scenarios import ScenarioResult

    result = ScenarioResult.from_folder(scenario_dir)
    other = replace(result, assignments=result.assignments.assign(unit_id="U-99999"))
    with pytest.raises(DataSourceError) as err:
        Scenario(Territory.from_folder(folder)).query({"area_min_ha": 1.0}, scenario=other)
    assert str(err.value) == (
        f"le scénario « {result.audit['name']} » place des projets sur des unités foncières "
        "que ce territoire n'a pas (U-99999) : il a été calculé sur une autre offre foncière ; "
        "recalculez-le sur ce territoire"
    )
    res = _run(str(folder), "--area", "1", "--scenario", str(folder))
    assert res.exit_code == 2
    assert res.output.startswith("Erreur : ") and len(res.output.strip().splitlines()) == 1
