"""Tests of the working group's report: figures equal the scenario's, self-contained, French."""

from __future__ import annotations

import dataclasses
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from foncier._format import fr_number
from foncier.cli import main
from foncier.report import HEADLINE_LABELS, REPORT_NAME, headline_figures, write_report
from foncier.scenarios import Scenario, ScenarioResult
from foncier.territory import Territory

pytestmark = pytest.mark.slow


class _Figures(HTMLParser):
    """Collect the ``data-key``/``data-value`` of the headline figures and the srcdoc."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.srcdoc = ""
        self.scripts_with_src: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-key" in a:
            self.figures[str(a["data-key"])] = str(a["data-value"])
        if tag == "iframe":
            self.srcdoc = str(a.get("srcdoc", ""))
        if tag == "script" and a.get("src"):
            self.scripts_with_src.append(str(a["src"]))


def parse(page: str) -> _Figures:
    parser = _Figures()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def result(scenario_dir: Path) -> ScenarioResult:
    return ScenarioResult.from_folder(scenario_dir)


@pytest.fixture(scope="module")
def page(scenario_dir: Path, sample: Territory, units: gpd.GeoDataFrame) -> str:
    path = write_report(scenario_dir, sample)
    assert path == scenario_dir / REPORT_NAME
    return path.read_text(encoding="utf-8")


def test_headline_figures_are_the_scenario_totals(result, sample):
    figures = headline_figures(result, sample.projects)
    totals = result.totals
    for key in (
        "projects",
        "projects_placed",
        "jobs_total",
        "jobs_placed",
        "ha_used",
        "ha_enaf",
        "ha_friches_reused",
        "pools_over_budget_after",
    ):
        assert figures[key] == pytest.approx(totals[key]), key
    balance = result.zan_balance
    assert figures["remaining_before_ha"] == pytest.approx(
        balance["remaining_before_ha"].clip(lower=0).sum()
    )
    assert figures["remaining_after_ha"] == pytest.approx(
        balance["remaining_after_ha"].clip(lower=0).sum()
    )
    placed = sample.projects["project_id"].isin(result.assignments["project_id"])
    assert figures["investment_total_eur"] == pytest.approx(sample.projects.investment_eur.sum())
    assert figures["investment_placed_eur"] == pytest.approx(
        sample.projects.loc[placed, "investment_eur"].sum()
    )
    assert figures["ha_needed"] == pytest.approx(sample.projects.area_min_ha.sum())


def test_figures_the_result_cannot_vouch_for_are_not_shown(result, sample):
    carried = ("investment_total_eur", "investment_placed_eur", "ha_needed")
    bare = dataclasses.replace(
        result, totals={k: v for k, v in result.totals.items() if k not in carried}
    )
    figures = headline_figures(bare, sample.projects.iloc[:5])  # not the scenario's portfolio
    assert math.isnan(figures["investment_total_eur"]) and math.isnan(figures["ha_needed"])
    assert figures["jobs_placed"] == result.totals["jobs_placed"]


def test_result_carries_the_portfolio_figures(result, sample):
    projects = sample.projects
    figures = headline_figures(result)
    assert figures["investment_total_eur"] == pytest.approx(projects["investment_eur"].sum())
    assert figures["ha_needed"] == pytest.approx(projects["area_min_ha"].sum())
    placed = projects["project_id"].isin(result.assignments["project_id"])
    assert figures["investment_placed_eur"] == pytest.approx(
        projects.loc[placed, "investment_eur"].sum()
    )


def test_report_shows_the_scenario_figures(page, result, sample):
    parsed = parse(page)
    figures = headline_figures(result, sample.projects)
    assert set(parsed.figures) == set(HEADLINE_LABELS)
    for key, value in figures.items():
        assert float(parsed.figures[key]) == pytest.approx(value), key
    text = html.unescape(page)
    assert f"{fr_number(result.totals['ha_used'], 2, 'ha')}" in text
    assert f">{result.totals['jobs_placed']}<" in page


def test_report_lists_placements_unmatched_and_audit(page, result, sample):
    text = html.unescape(page)
    for pid in result.assignments["project_id"]:
        assert f"<span class='id'>{pid}</span>" in page
    for row in result.unmatched.itertuples():
        assert f"<span class='id'>{row.project_id}</span>" in page
        assert row.explanation in text
    for name, digest in result.audit["inputs_sha256"].items():
        assert name in text and digest in text
    assert result.audit["rules"] in text and result.audit["rules_version"] in text
    assert result.audit["enaf_vintage"] in text
    assert sample.data_label in text
    assert "Échantillon synthétique" in text
    assert result.audit["solver_status"] == "optimal"
    words = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    assert "Solveur optimal (à l'écart toléré près), écart " in words
    for row in result.zan_balance.itertuples():
        assert row.name in text
        assert fr_number(row.remaining_after_ha, 2) in text


def test_report_is_self_contained_and_printable(page):
    parsed = parse(page)
    assert parsed.scripts_with_src == []
    assert not re.search(r"<link[^>]+href=['\"]https?:", page)
    assert "@page { size: A4" in page and "@media print" in page
    assert page.count("<svg") >= 2  # the territory chart and the small multiples
    assert "Trajectoire ZAN 2011 → 2031" in page
    assert "L.control.layers" in parsed.srcdoc  # the map, with Leaflet inlined
    assert "Leaflet 1.9.3" in parsed.srcdoc
    assert "<script src=" not in parsed.srcdoc


def test_cli_report(scenario_dir, sample_folder, tmp_path):
    runner = CliRunner()
    out = tmp_path / "rapport.html"
    done = runner.invoke(
        main, ["report", str(scenario_dir), "--territory", str(sample_folder), "-o", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert "Rapport écrit" in done.output and out.is_file()
    assert "Projets placés" in done.output


def test_cli_report_finds_the_territory_in_the_audit(scenario_dir, sample_folder):
    assert ScenarioResult.from_folder(scenario_dir).audit["territory_path"] == str(
        sample_folder.resolve()
    )
    done = CliRunner().invoke(
        main, ["report", str(scenario_dir), "-o", str(scenario_dir / "r.html")]
    )
    assert done.exit_code == 0, done.output
    assert (scenario_dir / "r.html").is_file()


def test_cli_report_asks_for_the_territory_when_it_moved(scenario_dir, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(scenario_dir, moved)
    audit_path = moved / "scenario.json"
    record = json.loads(audit_path.read_text(encoding="utf-8"))
    record["audit"]["territory_path"] = str(tmp_path / "gone")
    audit_path.write_text(json.dumps(record), encoding="utf-8")
    done = CliRunner().invoke(main, ["report", str(moved)])
    assert done.exit_code == 2
    assert "--territory" in done.output


def test_pooled_scenario_report(sample, units, tmp_path):
    outdir = tmp_path / "epci"
    Scenario(
        sample, units=units, pool="epci", objective="min_enaf", name="sobriété"
    ).run().to_folder(outdir)
    result = ScenarioResult.from_folder(outdir)
    page = write_report(outdir, sample).read_text(encoding="utf-8")
    text = html.unescape(page)
    assert "Bilan ZAN par EPCI" in text and "Détail par commune" in text
    for row in result.zan_balance.itertuples():
        assert row.name in text
    for name in sample.communes["name"]:
        assert name in text
    shown = parse(page).figures
    assert float(shown["jobs_placed"]) == result.totals["jobs_placed"]
    assert float(shown["ha_enaf"]) == pytest.approx(result.totals["ha_enaf"])


def test_importing_foncier_keeps_the_users_matplotlib_backend():
    code = "import matplotlib, foncier.report; print(matplotlib.get_backend())"
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "svg"


def test_sensitivity_section_names_the_stable_and_the_largest_fragile_placements():
    from types import SimpleNamespace

    from foncier.report import FRAGILE_LISTED, sensitivity_html

    n = FRAGILE_LISTED + 3
    assignments = pd.DataFrame(
        {
            "project_id": [f"P-{i:03d}" for i in range(n + 1)],
            "unit_id": [f"U-{i:03d}" for i in range(n + 1)],
            "jobs": [*range(1, n + 1), 99],
            "stability": ["fragile"] * n + ["stable"],
            "alternative_unit_id": [None] * (n - 1) + ["U-900", None],
        }
    )
    values = pd.DataFrame(
        {
            "pool_id": ["30001"],
            "name": ["Alès"],
            "remaining_after_ha": [0.4],
            "jobs_per_extra_ha": [7.0],
        }
    )
    html = sensitivity_html(SimpleNamespace(assignments=assignments, budget_values=values))
    assert fr_number(0.2, 1, "%") in html
    assert "Placements stables : <b>P-013</b> sur U-013." in html
    # the 10 fragile placements with most jobs are named, the 3 smallest are counted
    assert all(f"<b>P-{i:03d}</b>" in html for i in range(3, n))
    assert not any(f"<b>P-{i:03d}</b>" in html for i in range(3))
    assert "et 3 autres placements fragiles" in html
    assert "<b>P-012</b> sur U-012 : pourrait aller sur U-900 presque sans perte" in html
    assert "une solution presque aussi bonne laisse ce projet de côté" in html
