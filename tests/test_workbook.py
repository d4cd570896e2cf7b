"""The scenario workbook opens with openpyxl: French headers, numbers as numbers, frozen headers."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from foncier.assignment import SolveReport
from foncier.labels import REASON_LABELS, TABLE_COLUMN_LABELS
from foncier.outputs import read_manifest
from foncier.scenarios import ScenarioResult
from foncier.workbook import SHEETS, WORKBOOK_NAME, number_format

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result(scenario_dir: Path) -> ScenarioResult:
    return ScenarioResult.from_folder(scenario_dir)


@pytest.fixture(scope="module")
def book(scenario_dir: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(scenario_dir / WORKBOOK_NAME)


def _table(sheet) -> pd.DataFrame:
    rows = list(sheet.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_workbook_is_written_with_the_result(scenario_dir, result):
    entry = read_manifest(scenario_dir).files[WORKBOOK_NAME]
    assert entry["kind"] == "scenario"
    # the CSVs stay machine-readable: commas, decimal points, codes, full precision
    plain = pd.read_csv(scenario_dir / "unmatched.csv")
    assert set(plain["reason_code"]) <= set(REASON_LABELS)
    assert plain["missing_ha"].dtype == float


def test_sheets_and_french_headers(book, result):
    assert book.sheetnames == list(SHEETS)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        headers = [c.value for c in sheet[1]]
        assert all(h and h[0].isupper() for h in headers), (sheet.title, headers)
    placements = [c.value for c in book["Placements"][1]]
    assert placements == [TABLE_COLUMN_LABELS[c] for c in result.assignments.columns]
    unmatched = [c.value for c in book["Non placés"][1]]
    assert unmatched == [TABLE_COLUMN_LABELS[c] for c in result.unmatched.columns]
    identifiers = set(result.assignments.columns) | set(result.unmatched.columns)
    identifiers |= set(result.zan_balance.columns)
    for sheet in book.worksheets:
        assert not {c.value for c in sheet[1]} & identifiers, sheet.title


def test_numbers_are_numbers_with_a_format(book, result):
    shown = _table(book["Placements"])
    area = TABLE_COLUMN_LABELS["area_ha"]
    assert all(isinstance(v, float | int) for v in shown[area])
    assert shown[area].tolist() == pytest.approx(result.assignments["area_ha"].tolist())
    assert shown[TABLE_COLUMN_LABELS["jobs"]].tolist() == result.assignments["jobs"].tolist()
    column = list(result.assignments.columns).index("area_ha") + 1
    assert book["Placements"].cell(row=2, column=column).number_format == number_format("area_ha")
    budgets = _table(book["Budgets"])
    assert len(budgets) == len(result.zan_balance)
    after = budgets[TABLE_COLUMN_LABELS["remaining_after_ha"]]
    assert after.tolist() == pytest.approx(result.zan_balance["remaining_after_ha"].tolist())
    over = budgets[TABLE_COLUMN_LABELS["over_budget"]]
    assert over.tolist() == ["oui" if v else "non" for v in result.zan_balance["over_budget"]]


def test_unmatched_reasons_and_unlocks_in_french(book, result):
    shown = _table(book["Non placés"])
    reasons = shown[TABLE_COLUMN_LABELS["reason_code"]].tolist()
    assert reasons == [REASON_LABELS[c] for c in result.unmatched["reason_code"]]
    hints = shown[TABLE_COLUMN_LABELS["hint"]].tolist()
    expected = [None if pd.isna(h) else h for h in result.unmatched["hint"]]
    assert hints == expected and any(expected)


def test_hypotheses_and_audit(book, result):
    hypotheses = _table(book["Hypothèses"])
    records = result.audit["hypotheses"]
    assert hypotheses["Hypothèse"].tolist() == [r["text"] for r in records]
    audit = dict(book["Audit"].iter_rows(min_row=2, values_only=True))
    assert audit["Règles ZAN"] == result.audit["rules"]
    # coded fields read in French: the sample's scenario maximises jobs and is solved to optimality
    assert result.audit["objective"] == "jobs" and audit["Objectif"] == "emplois"
    assert result.audit["solver_status"] == "optimal"
    assert audit["Statut du solveur"] == "optimal (à l'écart toléré près)"
    assert audit["Message du solveur"] == result.audit["solver_message"]
    assert audit["Message du solveur"].startswith("optimal (à l'écart toléré près)")
    assert audit["Poids du score : adéquation de surface"] == pytest.approx(
        result.audit["weights"]["area_fit"]
    )


def test_audit_sheet_says_the_solver_status_in_french():
    from foncier.workbook import _audit_rows

    def sheet(status: str, greedy_kept: bool, detail: str = "") -> dict[str, str]:
        report = SolveReport(status, detail, 0.0, 0.0, 0.0, 0.0, 0, 0, greedy_kept=greedy_kept)
        audit = {
            "solver_status": report.status,
            "solver_message": report.message,
            "solver_greedy_kept": report.greedy_kept,
        }
        return dict(_audit_rows(audit).itertuples(index=False))

    assert sheet("optimal", False) == {
        "Statut du solveur": "optimal (à l'écart toléré près)",
        "Message du solveur": "optimal (à l'écart toléré près)",
        "Solution gloutonne gardée (meilleure que celle du solveur)": "non",
    }
    limited = sheet("time_limit", True)
    assert limited["Statut du solveur"] == (
        "arrêté à la limite de temps (meilleure solution trouvée)"
    )
    assert limited["Message du solveur"] == (
        "arrêté à la limite de temps (meilleure solution trouvée) ; "
        "la solution gloutonne, meilleure que celle du solveur, est gardée"
    )
    assert limited["Solution gloutonne gardée (meilleure que celle du solveur)"] == "oui"
    infeasible = sheet("infeasible", False, "les couples imposés enfreignent une contrainte")
    assert infeasible["Statut du solveur"] == "sans solution"
    assert infeasible["Message du solveur"] == (
        "sans solution : les couples imposés enfreignent une contrainte"
    )


def test_stability_codes_are_written_in_french():
    from foncier.workbook import _french

    table = pd.DataFrame({"stability": ["stable", "fragile", "untested", None]})
    assert _french(table)["stability"].tolist()[:3] == ["stable", "fragile", "non testé"]
    assert TABLE_COLUMN_LABELS["stability"] == "Stabilité du placement"
