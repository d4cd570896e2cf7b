"""The decision summary: hand-checked small cases, and the report's page 1 against the result."""

from __future__ import annotations

import html
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from foncier._format import fr_number
from foncier.cli import main
from foncier.explain import unit_sites
from foncier.labels import REASON_LABELS
from foncier.layers import ORIGIN_ACTIVITY_ZONE, ORIGIN_FRICHE, ORIGIN_ZAE_PLOT, is_activity_zone
from foncier.report import write_report
from foncier.scenarios import ScenarioResult
from foncier.synthesis import (
    CLOSE_SHARE,
    arbitration,
    envelope_outlook,
    pools_to_watch,
    runout_year,
)


def _balance(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    """Pools as ``(pool_id, envelope, consumed, remaining_before, placed)``."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "pool_id",
            "envelope_ha",
            "consumed_ha",
            "remaining_before_ha",
            "consumed_by_placements_ha",
        ],
    )
    frame["name"] = "commune " + frame["pool_id"]
    frame["committed_ha"] = 0.0
    frame["remaining_after_ha"] = frame["remaining_before_ha"] - frame["consumed_by_placements_ha"]
    frame["over_budget"] = frame["remaining_after_ha"] < 0
    return frame


def test_runout_year_hand_checked():
    # 6 ha left on 1 Jan 2023 at 2 ha a year: used up during 2026 (2023 + 3)
    assert runout_year([6.0], [2.0], 2023).tolist() == [2026.0]
    # 6.5 ha: 3.25 years, still during 2026
    assert runout_year([6.5], [2.0], 2023).tolist() == [2026.0]
    assert math.isnan(runout_year([np.nan], [1.0], 2023)[0])
    assert math.isinf(runout_year([1.0], [0.0], 2023)[0])


def test_pools_to_watch_hand_checked():
    balance = _balance(
        [
            ("A", 10.0, 11.0, -1.0, 0.0),  # over before the scenario
            ("B", 10.0, 2.0, 8.0, 7.5),  # 0.5 ha left < 10 % of 10 ha: close
            ("C", 10.0, 2.0, 8.0, 3.0),  # 5 ha left: fine
            ("D", 4.0, 1.0, 3.0, 3.5),  # put over by the scenario
        ]
    )
    assignments = pd.DataFrame(
        {
            "project_id": ["p1", "p2", "p3", "p4"],
            "unit_id": ["u1", "u2", "u3", "u4"],
            "pool_id": ["B", "B", "C", "D"],
            "enaf_ha": [2.5, 5.0, 3.0, 3.5],
            "name": ["un", "deux", "trois", "quatre"],
        }
    )
    pace = pd.Series({"A": 1.0, "B": 2.0, "C": 1.0, "D": 0.5})
    sites = pd.Series({"u2": "ZAE Les Prés", "u4": "friche Filature"})
    watched = pools_to_watch(balance, assignments, pace, 2023, sites)
    # by what is left as a share of the envelope: D -12.5 %, A -10 %, B 5 % (C is not watched)
    assert watched["pool_id"].tolist() == ["D", "A", "B"]
    assert watched["state"].tolist() == ["over", "over_before", "close"]
    b = watched.set_index("pool_id").loc["B"]
    assert (b["main_project_id"], b["main_unit_id"], b["main_site"]) == ("p2", "u2", "ZAE Les Prés")
    assert b["main_enaf_ha"] == 5.0 and b["main_project_name"] == "deux"
    assert b["runout_year"] == 2027.0  # 8 ha at 2 ha a year from 2023
    assert b["runout_year_with_placements"] == 2023.0  # 0.5 ha: during 2023
    assert watched.set_index("pool_id").loc["A", "runout_year"] == 2023.0
    assert pd.isna(watched.set_index("pool_id").loc["A", "main_project_id"])
    nothing = pools_to_watch(balance, assignments.iloc[:0], pace, 2023, sites)
    assert nothing["pool_id"].tolist() == ["D", "A", "B"] and nothing["main_unit_id"].isna().all()


def test_envelope_outlook_hand_checked():
    balance = _balance([("A", 10.0, 4.0, 6.0, 2.0), ("B", 5.0, 1.0, 4.0, 0.0)])
    outlook = envelope_outlook(balance, pace_ha_per_year=2.5, end_year=2023, target_end_year=2031)
    assert outlook.envelope_ha == 15.0 and outlook.remaining_before_ha == 10.0
    assert outlook.runout_year == 2027.0  # 10 / 2.5 = 4 years
    assert outlook.runout_year_with_placements == 2026.0  # 8 / 2.5 = 3.2 years


def test_arbitration_groups_follow_the_reason_order():
    unmatched = pd.DataFrame(
        {
            "project_id": ["a", "b", "c"],
            "jobs": [3, 10, 5],
            "reason_code": ["outcompeted", "infeasible", "outcompeted"],
        }
    )
    groups = arbitration(unmatched)
    assert [g[0] for g in groups] == ["infeasible", "outcompeted"]
    assert groups[1][1] == REASON_LABELS["outcompeted"]
    assert groups[1][2]["project_id"].tolist() == ["c", "a"]  # most jobs first


# -- the report's page 1, against the result ------------------------------------------------


class _Synth(HTMLParser):
    """The ``data-synth`` values of page 1 and the text of the summary section."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._key: str | None = None
        self._in_summary = 0
        self.summary_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id") == "synthese":
            self._in_summary = 1
        elif self._in_summary and tag == "section":
            self._in_summary += 1
        if "data-synth" in a:
            self._key = str(a["data-synth"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._in_summary:
            self._in_summary -= 1

    def handle_data(self, data: str) -> None:
        if self._key is not None and data.strip():
            self.values.setdefault(self._key, data.strip())
            self._key = None
        if self._in_summary:
            self.summary_text.append(data)


@pytest.fixture(scope="module")
def page(scenario_dir: Path, sample) -> str:
    return write_report(scenario_dir, sample).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def result(scenario_dir: Path) -> ScenarioResult:
    return ScenarioResult.from_folder(scenario_dir)


@pytest.mark.slow
def test_page_one_figures_are_the_results(page, result, sample):
    parsed = _Synth()
    parsed.feed(page)
    shown = parsed.values
    assert int(shown["arbitration"]) == len(result.unmatched)
    balance = result.zan_balance
    over = balance["over_budget"].astype(bool)
    close = (balance["remaining_after_ha"] < CLOSE_SHARE * balance["envelope_ha"]) & ~over
    assert int(shown["pools_over"]) == int(over.sum()) == result.totals["pools_over_budget_after"]
    assert int(shown["pools_close"]) == int(close.sum())
    # the pace from the ENAF table itself: flows since 2021 over the years of data
    enaf = sample.enaf_consumption
    since = enaf[enaf["year"] >= 2021]
    years = since["year"].nunique()
    pace = since["enaf_m2"].sum() / 1e4 / years
    end = 2021 + years
    remaining = balance["remaining_before_ha"].sum()
    placed = balance["consumed_by_placements_ha"].sum()
    assert int(shown["runout_year"]) == math.floor(end + remaining / pace)
    assert int(shown["runout_year_with_placements"]) == math.floor(
        end + (remaining - placed) / pace
    )
    # PENE apart: area × ENAF share of the unit of each PENE placement
    a = result.assignments
    share = result.units.set_index("unit_id")["enaf_share"]
    pene = a[a["is_pene"]]
    pene_ha = float((pene["area_ha"] * share.reindex(pene["unit_id"]).to_numpy()).sum())
    assert pene_ha > 0  # the sample places a PENE project
    assert shown["ha_enaf_pene"] == fr_number(pene_ha, 2, "ha")
    text = "".join(parsed.summary_text)
    assert "Synthèse pour décision" in text and "Hypothèses" in text and "Le score" in text
    for code in set(result.unmatched["reason_code"]):
        n = int((result.unmatched["reason_code"] == code).sum())
        assert f"data-reason='{code}' data-count='{n}'" in page
    for pid in result.unmatched["project_id"]:
        assert f"data-project='{pid}'" in page


@pytest.mark.slow
def test_annex_names_the_sites(page, result, sample):
    text = html.unescape(page)
    annex = text[text.index("Annexe : projets placés") :]
    units = result.units.set_index("unit_id")
    zae_names = sample.zae.set_index("site_id")["name"]
    friche_names = sample.friches.set_index("site_id")["name"]
    a = result.assignments
    origin = units.loc[a["unit_id"], "origin"].to_numpy()
    site = units.loc[a["unit_id"], "site_id"].to_numpy()
    on_zae, on_friche = origin == ORIGIN_ZAE_PLOT, origin == ORIGIN_FRICHE
    assert on_zae.any() and on_friche.any()
    for s in site[on_zae]:
        assert f"ZAE {zae_names[s]}" in annex
    for s in site[on_friche]:
        assert f"friche {friche_names[s]}" in annex
    assert "annex" in page and "Coût ZAN et raisons" not in text


@pytest.mark.slow
def test_unit_sites_name_the_plu_zone(units, sample):
    labels = unit_sites(units, sample)
    zones = sample.layers["plu_zones"]
    zones = zones[is_activity_zone(zones)]
    in_zone = units[units["origin"] == ORIGIN_ACTIVITY_ZONE]
    assert len(in_zone)
    points = shapely.point_on_surface(in_zone.geometry.to_numpy())
    named = 0
    for unit_id, point in zip(in_zone["unit_id"], points, strict=True):
        holding = zones[zones.contains(point)]
        if len(holding):
            assert labels[unit_id] == f"zone {holding['libelle'].iloc[0]} du PLU"
            named += 1
        else:
            assert labels[unit_id] == "zone d'activités du PLU"
    assert named > 0


def test_cli_pdf_without_chromium_says_so_in_french(scenario_dir, sample_folder, monkeypatch):
    monkeypatch.setenv("FONCIER_CHROMIUM", "/nonexistent/chromium")
    before = sorted(p.name for p in scenario_dir.iterdir())
    done = CliRunner().invoke(
        main, ["report", str(scenario_dir), "--territory", str(sample_folder), "--pdf"]
    )
    assert done.exit_code == 2
    assert done.output.startswith("Erreur : ") and "Chromium" in done.output
    assert "FONCIER_CHROMIUM" in done.output and "Traceback" not in done.output
    assert sorted(p.name for p in scenario_dir.iterdir()) == before  # nothing written
