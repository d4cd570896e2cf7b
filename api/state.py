"""The service's persistent state: projects, scenarios and the decision log, in SQLite.

One database file (``foncier-state.sqlite``) in the state folder, in WAL
mode.  Every write is one transaction (``with connection:``): an acknowledged
request is on disk, a failed one leaves nothing behind.  The decision log is
append-only: triggers refuse any ``UPDATE`` or ``DELETE`` on it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.errors import ConflictError, ReferencedProjectError
from api.locks import lock_file
from foncier.errors import NotFoundError

__all__ = ["DB_NAME", "DecisionRecord", "ScenarioRecord", "StateStore"]

DB_NAME = "foncier-state.sqlite"
#: Error of a run a stopped service left queued or running (marked at the next start).
_INTERRUPTED = "interrompu : le service s'est arrêté pendant le calcul ; relancez le scénario"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (
    scenario_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    summary TEXT,
    result_dir TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS decisions (
    decision_id INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario_id TEXT NOT NULL REFERENCES scenarios(scenario_id),
    project_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    insee TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('validated', 'rejected')),
    area_ha REAL NOT NULL,
    enaf_ha REAL NOT NULL,
    author TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at TEXT NOT NULL,
    idus TEXT
);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ScenarioRecord:
    """One scenario run as stored: parameters, status, summary, result folder."""

    scenario_id: str
    name: str
    status: str
    params: dict[str, Any]
    summary: dict[str, Any] | None
    result_dir: str | None
    error: str | None
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class DecisionRecord:
    """One entry of the decision log."""

    decision_id: int
    scenario_id: str
    project_id: str
    unit_id: str
    insee: str
    decision: str
    area_ha: float
    enaf_ha: float
    author: str
    comment: str
    created_at: str
    #: The parcels of the lot (``|``-separated); ``None`` in logs written before lots.
    idus: str | None = None


class StateStore:
    """SQLite store of the service's projects, scenarios and decisions.

    Parameters
    ----------
    folder
        State folder (created if missing); the database is ``folder /
        DB_NAME`` and scenario results go to ``folder / "scenarios"``.

    Examples
    --------
    >>> import tempfile
    >>> store = StateStore(tempfile.mkdtemp())
    >>> store.put_project("P-1", {"project_id": "P-1", "name": "Usine"}, create=True)
    >>> store.get_project("P-1")["name"]
    'Usine'
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scenarios_dir = self.folder / "scenarios"
        self.scenarios_dir.mkdir(exist_ok=True)
        self.path = self.folder / DB_NAME
        self._lock = threading.Lock()
        # workers starting together on a new folder set the database up one at a time:
        # switching it to WAL at once, SQLite refused one of them ("database is locked")
        with open(self.folder / f"{DB_NAME}.lock", "ab") as guard:
            lock_file(guard)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
            columns = {r["name"] for r in self._conn.execute("PRAGMA table_info(decisions)")}
            if "idus" not in columns:  # a database written before lots
                self._conn.execute("ALTER TABLE decisions ADD COLUMN idus TEXT")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- projects ----------------------------------------------------------------
    def seed_projects(self, projects: list[dict[str, Any]]) -> bool:
        """Insert the territory's projects the first time the store is opened.

        Returns
        -------
        bool
            Whether the projects were inserted (``False`` if seeded before:
            projects deleted since are not brought back).
        """
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone():
                return False
            now = _now()
            conn.executemany(
                "INSERT OR IGNORE INTO projects VALUES (?, ?, ?, ?)",
                [(str(p["project_id"]), json.dumps(p), now, now) for p in projects],
            )
            conn.execute("INSERT INTO meta VALUES ('seeded', ?)", (now,))
        return True

    def list_projects(self) -> list[dict[str, Any]]:
        """Every project, ordered by id."""
        rows = self._query("SELECT data FROM projects ORDER BY project_id")
        return [json.loads(r["data"]) for r in rows]

    def get_project(self, project_id: str) -> dict[str, Any]:
        """One project's fields.

        Raises
        ------
        NotFoundError
            Unknown ``project_id``.
        """
        rows = self._query("SELECT data FROM projects WHERE project_id = ?", (project_id,))
        if not rows:
            msg = f"projet inconnu « {project_id} » ; voir la liste sous GET /projects"
            raise NotFoundError(msg)
        return dict(json.loads(rows[0]["data"]))

    def put_project(self, project_id: str, data: dict[str, Any], *, create: bool) -> None:
        """Insert (``create``) or replace a project, in one transaction.

        Raises
        ------
        NotFoundError
            Replacing an unknown project.
        ConflictError
            Creating a project whose id is taken.
        """
        now = _now()
        with self._transaction() as conn:
            exists = conn.execute(
                "SELECT 1 FROM projects WHERE project_id = ?", (project_id,)
            ).fetchone()
            if create and exists:
                msg = (
                    f"le projet « {project_id} » existe déjà ; modifiez-le avec "
                    f"PUT /projects/{project_id} ou choisissez un autre project_id"
                )
                raise ConflictError(msg)
            if not create and not exists:
                msg = f"projet inconnu « {project_id} » ; créez-le avec POST /projects"
                raise NotFoundError(msg)
            if create:
                conn.execute(
                    "INSERT INTO projects VALUES (?, ?, ?, ?)",
                    (project_id, json.dumps(data), now, now),
                )
            else:
                conn.execute(
                    "UPDATE projects SET data = ?, updated_at = ? WHERE project_id = ?",
                    (json.dumps(data), now, project_id),
                )

    def delete_project(self, project_id: str) -> None:
        """Delete a project, unless its placement stands validated.

        The decision log is append-only and validated placements count as
        committed ENAF: a project whose latest decision is ``validated``
        stays (replace it with PUT if it changed, or reject its placement
        first), so that no committed placement refers to a missing project.

        Raises
        ------
        NotFoundError
            Unknown ``project_id``.
        ConflictError
            The project's latest decision is ``validated`` (the ids of its
            validated decisions are given).
        """
        with self._transaction() as conn:
            last = conn.execute(
                "SELECT decision FROM decisions WHERE project_id = ? "
                "ORDER BY decision_id DESC LIMIT 1",
                (project_id,),
            ).fetchone()
            rows = []
            if last is not None and last["decision"] == "validated":
                rows = conn.execute(
                    "SELECT decision_id FROM decisions WHERE project_id = ? AND decision = "
                    "'validated' ORDER BY decision_id",
                    (project_id,),
                ).fetchall()
            exists = conn.execute(
                "SELECT 1 FROM projects WHERE project_id = ?", (project_id,)
            ).fetchone()
            if rows and exists:
                ids = [int(r["decision_id"]) for r in rows]
                msg = (
                    f"le projet {project_id!r} ne peut pas être supprimé : les décisions "
                    f"validées {ids} s'y rapportent (journal des décisions, GET /decisions). "
                    "Modifiez-le avec PUT /projects/{id}, ou enregistrez d'abord une décision "
                    "« rejetée » (rejected) sur son placement ; le journal garde ses décisions."
                ).replace("{id}", project_id)
                raise ReferencedProjectError(msg, decision_ids=ids)
            cur = conn.execute("DELETE FROM projects WHERE project_id = ?", (project_id,))
            if cur.rowcount == 0:
                msg = f"projet inconnu « {project_id} » ; voir la liste sous GET /projects"
                raise NotFoundError(msg)

    # -- scenarios ---------------------------------------------------------------
    def add_scenario(self, name: str, params: dict[str, Any]) -> ScenarioRecord:
        """Record a new scenario run with status ``queued``."""
        scenario_id = f"S-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO scenarios (scenario_id, name, status, params, created_at) "
                "VALUES (?, ?, 'queued', ?, ?)",
                (scenario_id, name, json.dumps(params), _now()),
            )
        return self.get_scenario(scenario_id)

    def set_scenario_status(
        self,
        scenario_id: str,
        status: str,
        *,
        summary: dict[str, Any] | None = None,
        result_dir: str | None = None,
        error: str | None = None,
    ) -> None:
        """Update a scenario's status (``running``, ``done``, ``failed``) and outcome."""
        finished = _now() if status in ("done", "failed") else None
        with self._transaction() as conn:
            conn.execute(
                "UPDATE scenarios SET status = ?, summary = COALESCE(?, summary), "
                "result_dir = COALESCE(?, result_dir), error = ?, finished_at = ? "
                "WHERE scenario_id = ?",
                (
                    status,
                    json.dumps(summary) if summary is not None else None,
                    result_dir,
                    error,
                    finished,
                    scenario_id,
                ),
            )

    def fail_interrupted(self) -> int:
        """Mark runs left ``queued``/``running`` by a stopped service as failed.

        Returns
        -------
        int
            Number of runs marked.
        """
        with self._transaction() as conn:
            cur = conn.execute(
                "UPDATE scenarios SET status = 'failed', finished_at = ?, error = ? "
                "WHERE status IN ('queued', 'running')",
                (_now(), _INTERRUPTED),
            )
            return cur.rowcount

    @staticmethod
    def _scenario(row: sqlite3.Row) -> ScenarioRecord:
        return ScenarioRecord(
            scenario_id=row["scenario_id"],
            name=row["name"],
            status=row["status"],
            params=json.loads(row["params"]),
            summary=json.loads(row["summary"]) if row["summary"] else None,
            result_dir=row["result_dir"],
            error=row["error"],
            created_at=row["created_at"],
            finished_at=row["finished_at"],
        )

    def get_scenario(self, scenario_id: str) -> ScenarioRecord:
        """One scenario.

        Raises
        ------
        NotFoundError
            Unknown ``scenario_id``.
        """
        rows = self._query("SELECT * FROM scenarios WHERE scenario_id = ?", (scenario_id,))
        if not rows:
            msg = f"scénario inconnu « {scenario_id} » ; voir la liste sous GET /scenarios"
            raise NotFoundError(msg)
        return self._scenario(rows[0])

    def list_scenarios(self) -> list[ScenarioRecord]:
        """Every scenario, oldest first."""
        rows = self._query("SELECT * FROM scenarios ORDER BY created_at, scenario_id")
        return [self._scenario(r) for r in rows]

    # -- decisions ---------------------------------------------------------------
    def add_decision(
        self,
        *,
        scenario_id: str,
        project_id: str,
        unit_id: str,
        insee: str,
        decision: str,
        area_ha: float,
        enaf_ha: float,
        author: str,
        comment: str,
        idus: str | None = None,
    ) -> DecisionRecord:
        """Append a decision to the log, in one transaction (``idus``: the lot's parcels)."""
        with self._transaction() as conn:
            cur = conn.execute(
                "INSERT INTO decisions (scenario_id, project_id, unit_id, insee, decision, "
                "area_ha, enaf_ha, author, comment, created_at, idus) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    scenario_id,
                    project_id,
                    unit_id,
                    insee,
                    decision,
                    float(area_ha),
                    float(enaf_ha),
                    author,
                    comment,
                    _now(),
                    idus,
                ),
            )
            decision_id = int(cur.lastrowid or 0)
        rows = self._query("SELECT * FROM decisions WHERE decision_id = ?", (decision_id,))
        return DecisionRecord(**dict(rows[0]))

    def list_decisions(self, scenario_id: str | None = None) -> list[DecisionRecord]:
        """The decision log in order, optionally for one scenario."""
        if scenario_id is None:
            rows = self._query("SELECT * FROM decisions ORDER BY decision_id")
        else:
            rows = self._query(
                "SELECT * FROM decisions WHERE scenario_id = ? ORDER BY decision_id",
                (scenario_id,),
            )
        return [DecisionRecord(**dict(r)) for r in rows]

    def decisions_version(self) -> int:
        """Id of the last decision (0 if none): changes whenever the log grows."""
        rows = self._query("SELECT COALESCE(MAX(decision_id), 0) AS v FROM decisions")
        return int(rows[0]["v"])

    def validated_placements(self) -> list[DecisionRecord]:
        """Placements whose latest decision is ``validated``, one per project.

        A later decision on the same project (in any scenario) supersedes an
        earlier one: a validated placement that is later rejected no longer
        counts, and a project validated twice counts once, at its last unit.
        """
        rows = self._query(
            "SELECT d.* FROM decisions d JOIN ("
            "  SELECT project_id, MAX(decision_id) AS last FROM decisions GROUP BY project_id"
            ") l ON d.decision_id = l.last WHERE d.decision = 'validated' ORDER BY d.decision_id"
        )
        return [DecisionRecord(**dict(r)) for r in rows]
