"""Scenarios (background runs, results, comparison), decisions and their effect, maps."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.models import (
    AssignmentList,
    BudgetTable,
    BudgetValueList,
    Comparison,
    Decision,
    DecisionList,
    MatchResponse,
    ScenarioList,
    ScenarioOut,
    UnmatchedList,
)
from api.state import DB_NAME, StateStore
from foncier.scenarios import RESULT_FILES

from .conftest import AUTH


def _run(client: TestClient, **body) -> ScenarioOut:
    r = client.post("/scenarios", json=body, headers=AUTH)
    assert r.status_code == 202, r.text
    queued = ScenarioOut.model_validate(r.json())
    assert queued.status == "queued"
    # TestClient runs background tasks before returning: the run is over
    return ScenarioOut.model_validate(client.get(f"/scenarios/{queued.scenario_id}").json())


@pytest.fixture(scope="module")
def jobs(shared_client: TestClient) -> ScenarioOut:
    return _run(shared_client, name="emplois")


@pytest.fixture(scope="module")
def sober(shared_client: TestClient) -> ScenarioOut:
    return _run(shared_client, name="sobriété", objective="min_enaf", pool="epci")


def test_scenario_runs_and_stores_result(shared_client: TestClient, jobs: ScenarioOut) -> None:
    assert jobs.status == "done", jobs.error
    assert jobs.summary is not None
    totals = jobs.summary["totals"]
    assert totals["projects"] == 131
    assert jobs.summary["audit"]["objective"] == "jobs"
    assert jobs.summary["audit"]["rules"] == "climat-resilience-2023"
    assert "Projets placés" in jobs.summary["summary_fr"]
    # the solver status: a code for programs, a French text for people
    audit = jobs.summary["audit"]
    assert audit["solver_status"] in {"optimal", "time_limit"}
    assert (
        audit["solver_message"]
        == {
            "optimal": "optimal (à l'écart toléré près)",
            "time_limit": "arrêté à la limite de temps (meilleure solution trouvée)",
        }[audit["solver_status"]]
    )
    assert f"Solveur : {audit['solver_message']}, écart " in jobs.summary["summary_fr"]
    listed = ScenarioList.model_validate(shared_client.get("/scenarios").json())
    assert jobs.scenario_id in [s.scenario_id for s in listed.scenarios]

    placed = AssignmentList.model_validate(
        shared_client.get(f"/scenarios/{jobs.scenario_id}/assignments").json()
    )
    left = UnmatchedList.model_validate(
        shared_client.get(f"/scenarios/{jobs.scenario_id}/unmatched").json()
    )
    assert placed.count == totals["projects_placed"] == len(placed.assignments)
    assert placed.count + left.count == totals["projects"]
    assert sum(a.jobs for a in placed.assignments) == totals["jobs_placed"]
    assert len({a.project_id for a in placed.assignments}) == placed.count


def test_result_folder_in_state_dir(shared_client: TestClient, jobs: ScenarioOut) -> None:
    store = shared_client.app.state.context.store  # type: ignore[attr-defined]
    folder = Path(store.get_scenario(jobs.scenario_id).result_dir)
    assert folder.parent == store.scenarios_dir
    assert all((folder / name).is_file() for name in RESULT_FILES)


def test_compare(shared_client: TestClient, jobs: ScenarioOut, sober: ScenarioOut) -> None:
    assert sober.status == "done", sober.error
    r = shared_client.get(f"/scenarios/compare?a={jobs.scenario_id}&b={sober.scenario_id}")
    assert r.status_code == 200
    body = Comparison.model_validate(r.json())
    rows = {row.indicator: row for row in body.indicators}
    assert rows["objectif"].a == "emplois" and rows["objectif"].b == "sobriété"
    enaf = rows["ha d'ENAF consommés"]
    assert enaf.difference == pytest.approx(enaf.b - enaf.a)
    assert enaf.b <= enaf.a + 1e-6
    same = Comparison.model_validate(
        shared_client.get(f"/scenarios/compare?a={jobs.scenario_id}&b={jobs.scenario_id}").json()
    )
    assert all(p.status in ("same", "unmatched_in_both") for p in same.projects)


def test_scenario_errors(shared_client: TestClient, jobs: ScenarioOut) -> None:
    assert shared_client.get("/scenarios/S-nope").status_code == 404
    assert shared_client.get("/scenarios/S-nope/assignments").status_code == 404
    assert shared_client.get("/scenarios/S-nope/unmatched").status_code == 404
    r = shared_client.get(f"/scenarios/compare?a={jobs.scenario_id}&b=S-nope")
    assert r.status_code == 404 and "S-nope" in r.json()["detail"]
    assert shared_client.get("/scenarios/compare?a=x").status_code == 422
    for body in ({"objective": "profit"}, {"pool": "region"}, {"weights": {"slope": -1}}):
        assert shared_client.post("/scenarios", json=body, headers=AUTH).status_code == 422
    r = shared_client.post("/scenarios", json={"rules": "loi-2040"}, headers=AUTH)
    assert r.status_code == 404
    r = shared_client.post("/scenarios", json={"project_ids": ["P-001", "P-999"]}, headers=AUTH)
    assert r.status_code == 404 and "P-999" in r.json()["detail"]
    # run without the sensitivity step: no value of one more hectare, said so
    r = shared_client.get(f"/scenarios/{jobs.scenario_id}/budget-values")
    assert r.status_code == 404
    assert r.json()["detail"] == (
        f"le scénario {jobs.scenario_id} a été calculé sans l'étape de sensibilité : la valeur "
        "d'un hectare de budget de plus n'existe pas pour lui ; relancez-le avec "
        "« sensitivity » : true"
    )


def test_subset_and_weights(shared_client: TestClient) -> None:
    run = _run(
        shared_client,
        name="trois",
        project_ids=["P-001", "P-002", "P-003"],
        weights={"friche": 0.5},
        time_limit_s=30,
    )
    assert run.status == "done" and run.summary["totals"]["projects"] == 3
    assert run.summary["audit"]["weights"]["friche"] == 0.5


def test_sensitivity_and_verified_unlocks(shared_client: TestClient) -> None:
    # in the whole sample, projects compete for the last hectares of Cassagnes
    run = _run(shared_client, name="sensibilité", sensitivity=True, time_limit_s=30)
    assert run.status == "done", run.error
    assert run.progress is None  # only while running
    values = BudgetValueList.model_validate(
        shared_client.get(f"/scenarios/{run.scenario_id}/budget-values").json()
    )
    assert values.count == len(values.budget_values) > 0
    resolved = [v for v in values.budget_values if v.method == "re-solve"]
    assert resolved and all(v.jobs_per_extra_ha >= 0 for v in resolved)
    left = UnmatchedList.model_validate(
        shared_client.get(f"/scenarios/{run.scenario_id}/unmatched").json()
    )
    assert left.count > 0
    for row in left.unmatched:
        assert row.unlock_verified == row.hint.startswith("vérifié")
    placed = shared_client.get(f"/scenarios/{run.scenario_id}/assignments").json()
    assert {a["stability"] for a in placed["assignments"]} <= {"stable", "fragile", "untested"}


def test_results_of_unfinished_run_are_409(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    store: StateStore = client.app.state.context.store  # type: ignore[attr-defined]
    record = store.add_scenario("en attente", {})
    for path in ("assignments", "unmatched", "map"):
        r = client.get(f"/scenarios/{record.scenario_id}/{path}")
        assert r.status_code == 409 and "en attente" in r.json()["detail"]
    store.set_scenario_status(record.scenario_id, "failed", error="boom")
    r = client.get(f"/scenarios/{record.scenario_id}/assignments")
    assert r.status_code == 409 and "boom" in r.json()["detail"]


# -- decisions ----------------------------------------------------------------------


def test_decisions_commit_enaf(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    run = _run(client, name="base")
    placed = client.get(f"/scenarios/{run.scenario_id}/assignments").json()["assignments"]
    target = max(placed, key=lambda a: a["enaf_ha"])
    assert target["enaf_ha"] > 0
    before = BudgetTable.model_validate(client.get("/zan/budgets").json())
    row_before = next(r for r in before.rows if r.insee == target["insee"])

    body = {
        "project_id": target["project_id"],
        "decision": "validated",
        "author": "Groupe de travail",
        "comment": "séance du 12 mars",
    }
    r = client.post(f"/scenarios/{run.scenario_id}/decisions", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    decision = Decision.model_validate(r.json())
    assert decision.unit_id == target["unit_id"]
    assert decision.enaf_ha == pytest.approx(target["enaf_ha"])
    assert decision.idus == target["idus"] and decision.idus

    after = BudgetTable.model_validate(client.get("/zan/budgets").json())
    row_after = next(r for r in after.rows if r.insee == target["insee"])
    assert row_after.committed_ha == pytest.approx(row_before.committed_ha + target["enaf_ha"])
    assert row_after.remaining_ha == pytest.approx(row_before.remaining_ha - target["enaf_ha"])
    assert after.committed_ha == pytest.approx(target["enaf_ha"])
    epci = BudgetTable.model_validate(client.get("/zan/budgets?pool=epci").json())
    assert sum(r.committed_ha for r in epci.rows) == pytest.approx(target["enaf_ha"])

    log = DecisionList.model_validate(client.get("/decisions").json())
    assert log.count == 1 and log.committed_ha == pytest.approx(target["enaf_ha"])

    # a later scenario does not place the validated project again and sees the commitment
    later = _run(client, name="après décision")
    assert later.summary["totals"]["projects"] == run.summary["totals"]["projects"] - 1
    later_placed = client.get(f"/scenarios/{later.scenario_id}/assignments").json()
    assert target["project_id"] not in {a["project_id"] for a in later_placed["assignments"]}
    # nor does any later lot sit on the validated lot's parcels
    later_idus = {i for a in later_placed["assignments"] for i in (a["idus"] or "").split("|")}
    assert not later_idus & set(target["idus"].split("|"))
    assert MatchResponse.model_validate(
        client.post("/match/query", json={"area_min_ha": 1}).json()
    ).candidates

    # rejecting it afterwards releases the commitment; the log keeps both entries
    body["decision"] = "rejected"
    r = client.post(f"/scenarios/{run.scenario_id}/decisions", json=body, headers=AUTH)
    assert r.status_code == 201
    released = BudgetTable.model_validate(client.get("/zan/budgets").json())
    assert released.committed_ha == 0.0
    log = DecisionList.model_validate(client.get("/decisions").json())
    assert [d.decision for d in log.decisions] == ["validated", "rejected"]
    only = client.get(f"/decisions?scenario_id={later.scenario_id}").json()
    assert only["count"] == 0


def test_decision_errors(shared_client: TestClient, jobs: ScenarioOut) -> None:
    url = f"/scenarios/{jobs.scenario_id}/decisions"
    ok = {"project_id": "P-001", "decision": "validated", "author": "A"}
    left = shared_client.get(f"/scenarios/{jobs.scenario_id}/unmatched").json()["unmatched"]
    if left:
        r = shared_client.post(url, json={**ok, "project_id": left[0]["project_id"]}, headers=AUTH)
        assert r.status_code == 404 and "n'est pas placé" in r.json()["detail"]
    r = shared_client.post(url, json={**ok, "project_id": "P-999"}, headers=AUTH)
    assert r.status_code == 404
    r = shared_client.post("/scenarios/S-nope/decisions", json=ok, headers=AUTH)
    assert r.status_code == 404
    for bad in ({**ok, "decision": "maybe"}, {**ok, "author": ""}, {"project_id": "P-001"}):
        assert shared_client.post(url, json=bad, headers=AUTH).status_code == 422


def test_decision_log_is_append_only(make_client: Callable[..., TestClient], tmp_path) -> None:
    client = make_client()
    run = _run(client, name="log")
    pid = client.get(f"/scenarios/{run.scenario_id}/assignments").json()["assignments"][0]
    body = {"project_id": pid["project_id"], "decision": "validated", "author": "A"}
    client.post(f"/scenarios/{run.scenario_id}/decisions", json=body, headers=AUTH)
    db = sqlite3.connect(tmp_path / "state" / DB_NAME)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE decisions SET decision = 'rejected'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM decisions")
    db.close()


def test_a_database_written_before_lots_is_opened(tmp_path) -> None:
    """A decisions table without ``idus`` gains the column; its old rows read ``None``."""
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.executescript(
        "CREATE TABLE scenarios (scenario_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "status TEXT NOT NULL, params TEXT NOT NULL, summary TEXT, result_dir TEXT, "
        "error TEXT, created_at TEXT NOT NULL, finished_at TEXT);"
        "CREATE TABLE decisions (decision_id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "scenario_id TEXT NOT NULL, project_id TEXT NOT NULL, unit_id TEXT NOT NULL, "
        "insee TEXT NOT NULL, decision TEXT NOT NULL, area_ha REAL NOT NULL, "
        "enaf_ha REAL NOT NULL, author TEXT NOT NULL, comment TEXT NOT NULL, "
        "created_at TEXT NOT NULL);"
        "INSERT INTO scenarios VALUES ('S-1', 'n', 'done', '{}', NULL, NULL, NULL, 't', NULL);"
        "INSERT INTO decisions (scenario_id, project_id, unit_id, insee, decision, area_ha, "
        "enaf_ha, author, comment, created_at) "
        "VALUES ('S-1', 'P-1', 'U1', '30007', 'validated', 2.0, 1.0, 'A', '', 't');"
    )
    db.close()
    store = StateStore(tmp_path)
    new = store.add_decision(
        scenario_id="S-1",
        project_id="P-2",
        unit_id="U2",
        insee="30007",
        decision="validated",
        area_ha=1.0,
        enaf_ha=0.0,
        author="A",
        comment="",
        idus="30007000AB0001",
    )
    assert [d.idus for d in store.list_decisions()] == [None, "30007000AB0001"]
    assert new.idus == "30007000AB0001"
    store.close()


def test_state_persists_across_restart(make_client: Callable[..., TestClient]) -> None:
    first = make_client()
    run = _run(first, name="persistant")
    pid = first.get(f"/scenarios/{run.scenario_id}/assignments").json()["assignments"][0]
    body = {"project_id": pid["project_id"], "decision": "validated", "author": "A"}
    assert (
        first.post(f"/scenarios/{run.scenario_id}/decisions", json=body, headers=AUTH).status_code
        == 201
    )
    committed = first.get("/decisions").json()["committed_ha"]
    first.__exit__(None, None, None)

    second = make_client()
    again = ScenarioOut.model_validate(second.get(f"/scenarios/{run.scenario_id}").json())
    assert again.status == "done" and again.summary == run.summary
    assert (
        second.get(f"/scenarios/{run.scenario_id}/assignments").json()["count"]
        == (run.summary["totals"]["projects_placed"])
    )
    assert second.get("/decisions").json()["committed_ha"] == committed


def test_interrupted_runs_fail_on_restart(make_client: Callable[..., TestClient]) -> None:
    first = make_client()
    store: StateStore = first.app.state.context.store  # type: ignore[attr-defined]
    record = store.add_scenario("coupé", {})
    store.set_scenario_status(record.scenario_id, "running")
    first.__exit__(None, None, None)
    second = make_client()
    again = second.get(f"/scenarios/{record.scenario_id}").json()
    assert again["status"] == "failed"
    assert again["error"] == (
        "interrompu : le service s'est arrêté pendant le calcul ; relancez le scénario"
    )


# -- maps ---------------------------------------------------------------------------


def test_maps(shared_client: TestClient, jobs: ScenarioOut) -> None:
    r = shared_client.get("/maps/territory")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "leaflet" in r.text.lower()
    r = shared_client.get(f"/scenarios/{jobs.scenario_id}/map")
    assert r.status_code == 200 and "leaflet" in r.text.lower()
    assert shared_client.get("/scenarios/S-nope/map").status_code == 404


def test_maps_unavailable_is_404(
    shared_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "foncier.maps" else real(name, *a),
    )
    r = shared_client.get("/maps/territory")
    assert r.status_code == 404 and "foncier.maps" in r.json()["detail"]


def test_an_unexpected_failure_of_a_run_is_told_in_french(
    shared_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from foncier.scenarios import Scenario

    def broken(self: Scenario, **kwargs: object) -> None:
        raise RuntimeError("disque plein")

    monkeypatch.setattr(Scenario, "run", broken)
    run = _run(shared_client, name="en panne")
    assert run.status == "failed"
    assert run.error == (
        "erreur interne du service (RuntimeError : disque plein) ; le journal du service en "
        f"donne le détail sous l'identifiant {run.scenario_id}"
    )
