"""Tests of scenarios: running on the sample, audit record, result folders, comparison, CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from foncier.assignment import PLACEMENT_VALUE
from foncier.cli import main
from foncier.errors import DataSourceError, FoncierError, LayerSchemaError
from foncier.explain import REASON_CODES
from foncier.outputs import MANIFEST_NAME
from foncier.scenarios import (
    LOT_PARCELS_FILE,
    RESULT_FILES,
    Scenario,
    ScenarioResult,
    compare,
    compare_projects,
    table_sha256,
)
from foncier.territory import Territory
from foncier.workbook import WORKBOOK_NAME
from foncier.zan import load_rules


@pytest.fixture(scope="module")
def territory(sample_folder: Path) -> Territory:
    return Territory.from_folder(sample_folder)


@pytest.fixture(scope="module")
def jobs_result(sample_folder: Path) -> ScenarioResult:
    return Scenario(sample_folder, name="emplois").run()


def test_sample_scenario_totals_match_the_tables(jobs_result: ScenarioResult, territory: Territory):
    r = jobs_result
    t = r.totals
    assert t["projects"] == len(territory.projects) == 131
    assert t["projects_placed"] == len(r.assignments)
    assert t["projects_placed"] + len(r.unmatched) == 131
    assert t["jobs_placed"] == r.assignments["jobs"].sum()
    assert t["ha_used"] == pytest.approx(r.assignments["area_ha"].sum())
    friche_area = r.assignments.loc[r.assignments["is_friche"], "area_ha"].sum()
    assert t["ha_friches_reused"] == pytest.approx(friche_area)
    assert t["ha_enaf"] == pytest.approx(r.assignments["enaf_ha"].sum())
    # the balance after = before - what the placements consumed, per pool
    bal = r.zan_balance
    assert np.allclose(
        bal["remaining_after_ha"], bal["remaining_before_ha"] - bal["consumed_by_placements_ha"]
    )
    # no pool that had budget left is pushed over it
    assert not (bal["over_budget"] & (bal["remaining_before_ha"] >= 0)).any()
    assert t["pools_over_budget_after"] == int(bal["over_budget"].sum())


def test_sample_scenario_audit_record(jobs_result: ScenarioResult):
    a = jobs_result.audit
    assert a["synthetic"] is True
    assert a["rules"] == "climat-resilience-2023"
    assert a["rules_version"]
    assert a["enaf_vintage"].startswith("Cerema")
    assert a["solver_status"] == "optimal"
    assert a["solver_message"] == "optimal (à l'écart toléré près)"
    assert a["solver_greedy_kept"] is (a["greedy_objective"] > a["solver_objective"])
    assert a["solver_gap"] <= 5e-3
    assert a["solver_objective"] >= a["greedy_objective"]
    assert "\nSolveur : optimal (à l'écart toléré près), écart " in jobs_result.summary_fr()
    hashes = a["inputs_sha256"]
    assert {"file:territory.gpkg", "file:projects.csv", "table:land_units"} <= set(hashes)
    assert all(len(h) == 64 for h in hashes.values())


def test_summary_says_in_french_the_solve_stopped_in_time_and_kept_greedy(
    jobs_result: ScenarioResult,
):
    audit = {**jobs_result.audit, "solver_status": "time_limit", "solver_greedy_kept": True}
    summary = dataclasses.replace(jobs_result, audit=audit).summary_fr()
    line = next(x for x in summary.splitlines() if x.startswith("Solveur : "))
    assert line.startswith(
        "Solveur : arrêté à la limite de temps (meilleure solution trouvée) ; la solution "
        "gloutonne, meilleure que celle du solveur, est gardée, écart "
    )


def test_every_unmatched_project_has_a_reason(jobs_result: ScenarioResult):
    um = jobs_result.unmatched
    assert um["reason_code"].isin(REASON_CODES).all()
    assert um["explanation"].str.len().gt(10).all()
    zan = um[um["reason_code"] == "blocked_by_zan"]
    assert (zan["missing_ha"] > 0).all()
    assert zan["pool_id"].notna().all()


def test_result_folder_round_trip(jobs_result: ScenarioResult, tmp_path: Path):
    folder = jobs_result.to_folder(tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir() if p.name != MANIFEST_NAME) == sorted(
        (*RESULT_FILES, WORKBOOK_NAME, LOT_PARCELS_FILE)
    )
    back = ScenarioResult.from_folder(folder)
    # run without the sensitivity step: no budget_values.csv, read back as no values
    assert back.budget_values.empty and not back.totals["sensitivity"]
    assert len(back.lot_parcels) == len(jobs_result.lot_parcels) > 0
    pd.testing.assert_frame_equal(
        back.lot_parcels.drop(columns="owner_id"),
        jobs_result.lot_parcels.drop(columns="owner_id"),
        check_dtype=False,
    )
    assert back.lot_parcels["owner_id"].isna().tolist() == (
        jobs_result.lot_parcels["owner_id"].isna().tolist()
    )
    # a result written before the parcel list reads with an empty one
    (folder / LOT_PARCELS_FILE).unlink()
    assert ScenarioResult.from_folder(folder).lot_parcels.empty
    jobs_result.to_folder(folder)
    back = ScenarioResult.from_folder(folder)
    pd.testing.assert_frame_equal(
        back.assignments[["project_id", "unit_id", "insee", "jobs"]],
        jobs_result.assignments[["project_id", "unit_id", "insee", "jobs"]].astype(
            {"project_id": str, "unit_id": str, "insee": str}
        ),
        check_dtype=False,
    )
    assert back.totals == json.loads(json.dumps(jobs_result.totals))
    assert back.audit["inputs_sha256"] == jobs_result.audit["inputs_sha256"]
    # the solver's solution before the lot layout reads back: a later run starts from it
    before = jobs_result.solution_before_lots()
    assert len(before) >= len(jobs_result.assignments) > 0
    pd.testing.assert_frame_equal(back.solution_before_lots(), before)
    assert len(back.placements) == len(jobs_result.assignments)
    assert back.placements.crs.to_epsg() == 2154
    assert back.placements.geometry.notna().all()
    # a scenario compared with itself changes nothing
    same = compare(back, jobs_result)
    assert same.loc["emplois placés", "difference"] == 0
    assert same.loc["projets déplacés", "difference"] == 0


def test_compare_flags_a_result_under_a_bill(jobs_result: ScenarioResult) -> None:
    bill = load_rules("trace-senat-2025")
    under_bill = dataclasses.replace(
        jobs_result,
        rules=bill,
        audit={**jobs_result.audit, "rules": bill.name, "rules_version": bill.version},
    )
    table = compare(jobs_result, under_bill)
    assert table.loc["règles ZAN", "a"] == "climat-resilience-2023 v2023.1"
    assert table.loc["règles ZAN", "b"] == (
        "trace-senat-2025 v2025.1 (proposition de loi, non en vigueur)"
    )


def test_compare_two_objectives_and_pools(jobs_result: ScenarioResult, territory: Territory):
    other = Scenario(territory, objective="min_enaf", pool="epci").run()
    table = compare(jobs_result, other)
    assert table.loc["objectif", "a"] == "emplois"
    assert table.loc["objectif", "b"] == "sobriété"
    assert table.loc["mutualisation", "b"] == "mutualisés par EPCI"
    assert table.loc["ha d'ENAF consommés", "b"] <= table.loc["ha d'ENAF consommés", "a"] + 1e-6
    moves = compare_projects(jobs_result, other)
    assert len(moves) == 131
    moved = int((moves["status"] == "moved").sum())
    assert table.loc["projets déplacés", "difference"] == moved
    assert other.audit["inputs_sha256"]["layer:parcels"]  # in-memory territory: layer hashes


def test_committed_projects_reduce_the_budgets(territory: Territory, tmp_path: Path):
    insee = territory.communes["insee"].iloc[0]
    path = tmp_path / "committed.csv"
    path.write_text(f"insee,committed_ha,label\n{insee},500,grand projet\n", encoding="utf-8")
    r = Scenario(territory, committed=path).run()
    row = r.zan_balance.set_index("pool_id").loc[insee]
    assert row["committed_ha"] == 500
    assert row["remaining_before_ha"] < 0
    placed_there = r.assignments[r.assignments["pool_id"] == insee]
    assert (
        placed_there["enaf_ha"] <= 1e-6
    ).all()  # zero budget: ENAF-free land only (1e-6 ha = slivers)
    assert "file:committed.csv" in r.audit["inputs_sha256"]


def test_bad_objective_or_pool_fails_before_any_work(tmp_path: Path):
    with pytest.raises(FoncierError, match="objectif inconnu « fastest »"):
        Scenario(tmp_path / "absent", objective="fastest").run()
    with pytest.raises(FoncierError, match="niveau de mutualisation inconnu « region »"):
        Scenario(tmp_path / "absent", pool="region").run()
    with pytest.raises(DataSourceError, match="n'existe pas"):
        Scenario(tmp_path / "absent").run()


def test_projects_in_unknown_communes_are_refused(territory: Territory):
    projects = territory.projects.copy()
    projects.loc[0, "preferred_insee"] = "99999"
    with pytest.raises(LayerSchemaError, match="99999"):
        Scenario(territory, projects=projects).run()


def test_from_folder_of_something_else_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataSourceError, match="n'est pas un dossier de résultat"):
        ScenarioResult.from_folder(tmp_path)


def test_table_sha256_is_stable_and_content_sensitive():
    gdf = gpd.GeoDataFrame(
        {"a": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)], crs="EPSG:2154"
    )
    assert table_sha256(gdf) == table_sha256(gdf.copy())
    changed = gdf.copy()
    changed.loc[1, "geometry"] = shapely.box(1, 1, 3, 3)
    assert table_sha256(changed) != table_sha256(gdf)
    assert table_sha256(pd.DataFrame({"a": [1, 2]})) != table_sha256(pd.DataFrame({"a": [2, 1]}))


def test_cli_match_and_compare(sample_folder: Path, tmp_path: Path):
    runner = CliRunner()
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    res = runner.invoke(main, ["match", str(sample_folder), "-o", str(out_a), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "Projets placés :" in res.output
    assert (out_a / "placements.gpkg").is_file()
    res = runner.invoke(
        main,
        [
            "match",
            str(sample_folder),
            "-o",
            str(out_b),
            "--objective",
            "friches_first",
            "--pool",
            "epci",
            "--time-limit",
            "30",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["compare", str(out_a), str(out_b)])
    assert res.exit_code == 0, res.output
    assert "ha de friches réemployés" in res.output
    assert "friches d'abord" in res.output


def test_cli_errors_are_clean(sample_folder: Path, tmp_path: Path):
    runner = CliRunner()
    res = runner.invoke(
        main, ["match", str(sample_folder), "-o", str(tmp_path), "--objective", "fast"]
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    res = runner.invoke(main, ["compare", str(tmp_path), str(tmp_path)])
    assert res.exit_code == 2
    assert "n'est pas un dossier de résultat" in res.output


def test_audit_names_the_territory_folder(jobs_result: ScenarioResult, sample_folder: Path):
    assert jobs_result.audit["territory_path"] == str(sample_folder.resolve())


def test_single_project_query_matches_the_engine_rules(territory: Territory):
    scenario = Scenario(territory)
    top = scenario.query({"area_min_ha": 4.0, "max_dist_interchange_km": 5.0}, k=5)
    assert 1 <= len(top) <= 5
    units = scenario.units.set_index("unit_id").loc[top["unit_id"]]
    assert (units["net_area_ha"] >= 4.0).all()
    assert (units["dist_interchange_km"].fillna(0) <= 5.0).all()
    assert top["score"].is_monotonic_decreasing or not top["zan_ok"].all()
    # ZAN cost = area x ENAF share, zero on friches
    expected = np.where(units["is_friche"], 0.0, 4.0 * units["enaf_share"].fillna(1.0))
    np.testing.assert_allclose(top["enaf_ha"], expected, atol=1e-9)


def test_relaxed_scenario_started_from_the_previous_result_never_places_fewer_jobs(sample, units):
    from foncier.scenarios import Scenario

    first = Scenario(sample, units=units).run()
    blocked = first.unmatched[first.unmatched["reason_code"] == "blocked_by_zan"]
    assert len(blocked)
    row = blocked.iloc[0]
    assert row["unlock_verified"] and row["unlock_pool_id"] == row["pool_id"]
    # a relaxation: one more hectare of land on the unit its hint names
    relaxed = units.copy()
    at = relaxed["unit_id"] == row["unlock_unit_id"]
    relaxed.loc[at, "net_area_ha"] += 1.0
    again = Scenario(sample, units=relaxed).run(start=first)
    # the start is the first result's solver solution before the lot layout, whose value is
    # its jobs plus the placement value: started from it, the relaxed solver is never worse
    before = first.solution_before_lots()
    placed = before.merge(first.match.setup.projects, on="project_id")
    assert first.audit["solver_objective_before_lots"] == pytest.approx(
        placed["jobs"].sum() + PLACEMENT_VALUE * len(placed)
    )
    assert len(before) >= len(first.assignments)
    assert (
        again.audit["solver_objective_before_lots"]
        >= first.audit["solver_objective_before_lots"] - 1e-6
    )
    # the first result's published placements, laid out again, compete with the solves': the
    # published result after the relaxation is never below the first one
    assert again.match.solve.objective >= first.match.solve.objective - 1e-6
    assert again.assignments["jobs"].sum() >= first.assignments["jobs"].sum()
