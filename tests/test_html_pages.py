"""Every HTML page foncier writes, on a small sample: no missing value shows, assumptions do."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pytest

from foncier.maps import map_html, scenario_map, territory_map
from foncier.report import write_report
from foncier.sample import make_sample
from foncier.scenarios import Scenario, ScenarioResult
from foncier.supply import land_units
from foncier.territory import Territory
from tests._html_text import missing_words, visible_texts


@pytest.fixture(scope="module")
def small() -> tuple[Territory, gpd.GeoDataFrame, ScenarioResult]:
    territory = make_sample(n_parcels=3_000, seed=3, n_communes=20)
    units = land_units(territory)
    return territory, units, Scenario(territory, units=units, name="emplois").run()


@pytest.fixture(scope="module")
def pages(small, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    territory, units, result = small
    folder = tmp_path_factory.mktemp("pages") / "scenario"
    result.to_folder(folder)
    report = write_report(folder, territory)
    return {
        "territory_map": map_html(territory_map(territory, units)),
        "scenario_map": map_html(scenario_map(territory, result, units)),
        "report": report.read_text(encoding="utf-8"),
        "scenario.json": (folder / "scenario.json").read_text(encoding="utf-8"),
    }


@pytest.mark.parametrize("name", ["territory_map", "scenario_map", "report"])
def test_no_missing_value_is_shown(pages: dict[str, str], name: str) -> None:
    texts = visible_texts(pages[name])
    assert sum(len(t) for t in texts) > 1_000  # the scan sees the page's text and popups
    assert missing_words(pages[name]) == []


def test_the_scanner_finds_missing_values_in_popups_and_embedded_pages() -> None:
    popup = json.dumps({"popup": "<table><tr><th>Zone</th><td>nan</td></tr></table>"})
    page = f"<html><body><p>ok</p><script>var g = {popup};</script></body></html>"
    assert [h.split() for h in missing_words(page)] == [["Zone", "nan"]]
    embedded = '<iframe srcdoc="&lt;p&gt;Nom : None&lt;/p&gt;"></iframe><p>NaN ha</p>'
    assert [h.split() for h in missing_words(embedded)] == [["Nom", ":", "None"], ["NaN", "ha"]]
    # code, numbers and words containing the letters are not missing values
    assert missing_words("<p>Nancy, nanomètre, 1.nan</p><script>x = NaN;</script>") == []


def test_report_and_scenario_state_their_assumptions(pages: dict[str, str]) -> None:
    record = json.loads(pages["scenario.json"])
    codes = {h["code"] for h in record["audit"]["hypotheses"]}
    # the sample has every layer; what it rests on is its units' unmeasured criteria
    assert codes and codes <= {
        "missing_layers",
        "missing_infrastructure",
        "defaulted_criteria",
        "approximate_footprints",
        "friches_without_surface",
        "placements_on_approximate_footprints",
    }
    report = pages["report"]
    box = report.index("<section class='hypotheses'>")
    assert box < report.index("<h2>Chiffres clés</h2>")
    for h in record["audit"]["hypotheses"]:
        assert html.escape(h["text"]) in report


def test_report_of_an_older_result_computes_its_assumptions(small, tmp_path: Path) -> None:
    territory, units, result = small
    audit = {k: v for k, v in result.audit.items() if k != "hypotheses"}
    replace(result, audit=audit).to_folder(tmp_path)
    page = write_report(tmp_path, territory).read_text(encoding="utf-8")
    assert "<section class='hypotheses'><h2>Hypothèses</h2>" in page
