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
