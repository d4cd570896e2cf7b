"""The foundation commands: sample, info, demo; errors without tracebacks."""

from __future__ import annotations

import json

from click.testing import CliRunner

from foncier.cli import main


def test_info_json(sample_folder):
    res = CliRunner().invoke(main, ["info", str(sample_folder), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["projects"]["count"] == 131 and summary["projects"]["jobs"] == 586
    assert summary["enaf_years"] == "Cerema 2009-2023"
    assert summary["synthetic"] is True


def test_info_text_is_french(sample_folder):
    res = CliRunner().invoke(main, ["info", str(sample_folder)])
    assert res.exit_code == 0
    assert "échantillon synthétique" in res.output
    assert "586 emplois" in res.output


def test_missing_territory_is_a_clean_error(tmp_path):
    res = CliRunner().invoke(main, ["info", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "Erreur" in res.output and "Traceback" not in res.output


def test_sample_command(tmp_path):
    res = CliRunner().invoke(
        main,
        ["sample", str(tmp_path / "s"), "--parcels", "2000", "--communes", "20", "--seed", "3"],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "s" / "territory.gpkg").is_file()
    assert (tmp_path / "s" / "dem.tif").is_file()


def test_demo_runs_the_whole_chain_and_reuses_the_sample(tmp_path):
    from foncier.sample import write_sample
    from foncier.scenarios import ScenarioResult

    sample = tmp_path / "sample"
    write_sample(sample, n_parcels=3_000, seed=0, n_communes=20)
    out = tmp_path / "demo"
    res = CliRunner().invoke(main, ["demo", "--dir", str(sample), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Échantillon existant réutilisé" in res.output
    for name in ("budgets_zan.csv", "unites_foncieres.gpkg", "carte.html", "scenario/report.html"):
        assert (out / name).is_file(), name
    result = ScenarioResult.from_folder(out / "scenario")
    placed = result.totals["projects_placed"]
    assert f"Projets placés : {placed}\n" in res.output
    assert "échantillon synthétique" in (out / "scenario" / "report.html").read_text(
        encoding="utf-8"
    )
