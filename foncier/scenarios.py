"""Scenarios: a territory, projects, a ZAN rule set, a pool level, weights and an objective.

(Longer than most modules: a scenario, its result folder and the comparison
of two results are one contract, written and read in the same place.)

Running a :class:`Scenario` computes the land supply, the ZAN budgets and the
matching, then returns a :class:`ScenarioResult`: assignments, unmatched
projects with their reasons, the ZAN balance per pool after the scenario,
totals, and an audit record (hashes of every input, rule set, data vintage,
library version, solver status and gap, time).  A result is written to and
read from a folder; :func:`compare` puts two results side by side.

Examples
--------
>>> from foncier.scenarios import Scenario
>>> result = Scenario("territoire/", objective="min_enaf").run()  # doctest: +SKIP
>>> result.to_folder("out/min_enaf")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from foncier._format import fr_compact
from foncier.assignment import MIP_REL_GAP, SolveProgress, check_objective, pool_info
from foncier.errors import DataSourceError, FoncierError, InfeasibleError
from foncier.feasibility import Thresholds
from foncier.inputs import MatchingInputs, matching_inputs, resolve_rules
from foncier.labels import OBJECTIVE_LABELS, POOL_LABELS, solver_message
from foncier.layers import (
    CRS_L93,
    TABLE_SCHEMAS,
    Col,
    TableCol,
    UnitCol,
    check_table,
    empty_layer,
)
from foncier.lots import explain_forbidden, lot_parcels, place_with_lots, with_lots
from foncier.matching import MatchResult, complete_match, match_projects
from foncier.outputs import recover_folder, write_folder
from foncier.projects import read_projects, validate_projects
from foncier.scoring import Weights
from foncier.styles import add_layer_styles, result_metadata
from foncier.workbook import WORKBOOK_NAME, write_workbook
from foncier.zan.rules import LEGAL_STATUS_LABELS, POOL_LEVELS

__all__ = [
    "BUDGET_VALUES_FILE",
    "LOT_PARCELS_FILE",
    "RESULT_FILES",
    "Scenario",
    "ScenarioResult",
    "compare",
    "compare_projects",
    "query_claims",
    "table_sha256",
]

#: Files of a scenario result folder.
RESULT_FILES = (
    "assignments.csv",
    "unmatched.csv",
    "zan_balance.csv",
    "contributions.csv",
    "scenario.json",
    "placements.gpkg",
    "land_units.gpkg",
)
#: The parcels of each lot (schema ``lot_parcels``), for the land officer; absent in
#: results written before it.
LOT_PARCELS_FILE = "parcelles.csv"
#: What one more hectare of budget is worth per pool (schema ``budget_values``): written
#: only when the scenario ran its sensitivity step, so no table without rows stands for it.
BUDGET_VALUES_FILE = "budget_values.csv"
#: The tables of a result written as CSV, each with its schema in ``TABLE_SCHEMAS``.
_CHECKED_TABLES = ("assignments", "unmatched", "zan_balance", "budget_values")
#: ``placements.gpkg`` declares its geometry type: every placement is a lot's polygon.
_PLACEMENTS_GEOMETRY = {"geometry_type": "MultiPolygon", "promote_to_multi": True}


def _csv_dtypes(name: str) -> dict[str, Any]:
    """Text columns of a result table read as text (codes keep their zeros)."""
    if name not in TABLE_SCHEMAS:
        return {Col.PROJECT_ID: str, UnitCol.UNIT_ID: str}
    schemas = (name, "lots") if name == "assignments" else (name,)  # assignments carry lots
    return {
        c.name: str for n in schemas for c in TABLE_SCHEMAS[n].columns if c.kind in ("str", "code")
    }


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_sha256(table: pd.DataFrame) -> str:
    """SHA-256 of a table's content (values, columns and geometry as WKB).

    Parameters
    ----------
    table
        A DataFrame or GeoDataFrame.

    Returns
    -------
    str
        Hex digest; equal tables give equal digests.
    """
    digest = hashlib.sha256()
    digest.update("|".join(map(str, table.columns)).encode())
    attrs = pd.DataFrame(table).drop(columns=Col.GEOMETRY, errors="ignore")
    if len(attrs.columns):
        hashed = pd.util.hash_pandas_object(
            attrs.astype(object).where(attrs.notna(), None), index=False
        )
        digest.update(hashed.to_numpy().tobytes())
    if isinstance(table, gpd.GeoDataFrame) and len(table):
        for wkb in table.geometry.to_wkb():
            digest.update(wkb or b"")
    return digest.hexdigest()


@dataclass
class ScenarioResult:
    """The outcome of a scenario, as tables and an audit record.

    Attributes
    ----------
    assignments
        One row per placed project (see :class:`foncier.matching.MatchResult`).
    unmatched
        One row per project left out, with ``reason_code``, machine-readable
        fields and French ``explanation`` and ``hint``.
    zan_balance
        One row per budget pool: ``pool_id``, ``name``, ``envelope_ha``,
        ``consumed_ha``, ``committed_ha``, ``remaining_before_ha``,
        ``consumed_by_placements_ha``, ``remaining_after_ha``, ``over_budget``.
    contributions
        Score contributions of the placements ("why here").
    totals
        ``projects``, ``projects_placed``, ``jobs_total``, ``jobs_placed``,
        ``ha_used``, ``ha_enaf``, ``ha_friches_reused``,
        ``pools_over_budget_before``, ``pools_over_budget_after``.
    audit
        Inputs' SHA-256, rule set and version, ENAF vintage, foncier version,
        solver status and gap, timings, synthetic-data flag, parameters.
    placements
        Assignments with the geometry of their lot (EPSG:2154): the parcels
        each project takes inside its unit (see :mod:`foncier.lots`).
    rules
        The ZAN rule set itself (:class:`foncier.zan.RuleSet`), written in
        ``scenario.json``: a result reads back without its rule file.
    units
        The land units the scenario used (after validated placements), with
        their criteria and geometry: maps and reports read them from here.
    budget_values
        Jobs gained by one more hectare of budget in each pool
        (:func:`foncier.sensitivity.budget_values`); assignments then carry
        ``stability`` (stable / fragile / untested) and ``alternative_unit_id``.
    lot_parcels
        The parcels of each lot, one row per (project, parcel), with the area
        taken, the owner kind and id (schema ``lot_parcels``; ``parcelles.csv``
        in the result folder, empty for a result written before it).

    Assignments and unmatched projects carry the project fields their
    readers show (:data:`foncier.layers.PROJECT_FIELDS`: name, sector, jobs,
    minimal area); the audit record names the territory (name, folder,
    data label, synthetic flag, hashes of its files).
    """

    assignments: pd.DataFrame
    unmatched: pd.DataFrame
    zan_balance: pd.DataFrame
    contributions: pd.DataFrame
    totals: dict[str, Any]
    audit: dict[str, Any]
    placements: gpd.GeoDataFrame
    rules: Any
    units: gpd.GeoDataFrame
    budget_values: pd.DataFrame = field(default_factory=pd.DataFrame)
    match: MatchResult | None = field(default=None, repr=False)
    lot_parcels: pd.DataFrame = field(default_factory=lambda: empty_layer("lot_parcels"))

    def solution_before_lots(self) -> pd.DataFrame:
        """The solver's first solution, before the lot layout forbade any pair.

        Returns
        -------
        pandas.DataFrame
            ``project_id``, ``unit_id`` (from the audit record's
            ``placements_before_lots``; the assignments for a result written
            before it).
        """
        pairs = self.audit.get("placements_before_lots")
        if pairs is None:
            return self.assignments[[Col.PROJECT_ID, UnitCol.UNIT_ID]]
        return pd.DataFrame(pairs, columns=[Col.PROJECT_ID, UnitCol.UNIT_ID], dtype=object)

    @property
    def territory_path(self) -> Path | None:
        """Folder of the territory the scenario ran on, when it came from one."""
        path = self.audit.get("territory_path")
        return Path(path) if path else None

    def summary_fr(self) -> str:
        """A few French lines for people (CLI, logs)."""
        t, a = self.totals, self.audit
        lines = [
            f"Scénario « {a.get('name', '')} » — objectif "
            f"« {OBJECTIVE_LABELS.get(a['objective'], a['objective'])} », "
            f"budgets {POOL_LABELS.get(a['pool'], a['pool'])}, "
            f"règles {a['rules']} v{a['rules_version']}, données ENAF {a['enaf_vintage']}"
            + (" (données synthétiques)" if a.get("synthetic") else ""),
            f"Projets placés : {t['projects_placed']} / {t['projects']} "
            f"({t['jobs_placed']} emplois sur {t['jobs_total']})",
            f"Surface utilisée : {fr_compact(t['ha_used'])} ha, dont "
            f"{fr_compact(t['ha_friches_reused'])} ha de friches ; "
            f"ENAF consommés : {fr_compact(t['ha_enaf'])} ha",
            f"Enveloppes dépassées après le scénario : {t['pools_over_budget_after']} "
            f"(avant : {t['pools_over_budget_before']})",
            "Solveur : "
            f"{solver_message(a['solver_status'], greedy_kept=bool(a.get('solver_greedy_kept')))}, "
            f"écart {fr_compact(100 * (a['solver_gap'] or 0), 2)} %, "
            f"appariement en {fr_compact(a['timings_s'].get('match', 0))} s",
        ]
        if len(self.unmatched):
            counts = self.unmatched["reason_code"].value_counts()
            lines.append(
                "Projets non placés : "
                + ", ".join(f"{_REASON_FR.get(str(k), str(k))} {v}" for k, v in counts.items())
            )
        return "\n".join(lines)

    def to_folder(self, outdir: str | Path, *, force: bool = False) -> Path:
        """Write the result to a folder, atomically, under the output policy.

        The files are written into a temporary sibling folder swapped in by
        renames: an interrupted write leaves the previous result readable
        (see :mod:`foncier.outputs`).

        Parameters
        ----------
        outdir
            Destination folder: missing, empty, or a scenario result written
            by foncier (replaced, with the report written into it).  Besides
            :data:`RESULT_FILES` it holds the workbook ``scenario.xlsx``
            (:mod:`foncier.workbook`), the same tables for office software.
        force
            Also write into a folder holding other things: only foncier's
            own files are replaced, every other file is kept.

        Returns
        -------
        pathlib.Path
            The folder, holding :data:`RESULT_FILES`.

        Raises
        ------
        OutputError
            The folder holds files foncier did not write and ``force`` is
            not set, or the system refused the write.
        """
        return write_folder(outdir, "scenario", self._write_files, force=force)

    def _write_files(self, folder: Path) -> None:
        self.assignments.to_csv(folder / "assignments.csv", index=False)
        self.unmatched.to_csv(folder / "unmatched.csv", index=False)
        self.zan_balance.to_csv(folder / "zan_balance.csv", index=False)
        self.contributions.to_csv(folder / "contributions.csv", index=False)
        if self.totals.get("sensitivity"):
            self.budget_values.to_csv(folder / BUDGET_VALUES_FILE, index=False)
        self.lot_parcels.to_csv(folder / LOT_PARCELS_FILE, index=False)
        record = {"totals": self.totals, "audit": self.audit, "rules": self.rules.to_dict()}
        (folder / "scenario.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=2, default=_json_default),
            encoding="utf-8",
        )
        gpkg = folder / "placements.gpkg"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(
                self.placements, gpkg, layer="placements", driver="GPKG", **_PLACEMENTS_GEOMETRY
            )
        add_layer_styles(gpkg, metadata=result_metadata(self.audit))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(
                self.units, folder / "land_units.gpkg", layer="land_units", driver="GPKG"
            )
        add_layer_styles(folder / "land_units.gpkg", metadata=result_metadata(self.audit))
        write_workbook(self, folder / WORKBOOK_NAME)

    @classmethod
    def from_folder(cls, outdir: str | Path) -> ScenarioResult:
        """Read a result written by :meth:`to_folder`.

        Parameters
        ----------
        outdir
            A scenario result folder.

        Returns
        -------
        ScenarioResult
            Tables, totals and audit record (without the engine's internals).

        Raises
        ------
        DataSourceError
            A file is missing or unreadable.
        """
        from foncier.zan import RuleSet

        folder = Path(outdir)
        recover_folder(folder)
        missing = [n for n in RESULT_FILES if not (folder / n).is_file()]
        if missing:
            msg = (
                f"{folder} n'est pas un dossier de résultat de scénario : "
                f"{', '.join(missing)} absent(s) ; "
                "écrivez-en un avec `foncier match ... -o DOSSIER` (un résultat écrit par une "
                "version antérieure de foncier est à recalculer)"
            )
            raise DataSourceError(msg)
        try:
            tables = {
                n: pd.read_csv(folder / f"{n}.csv", dtype=_csv_dtypes(n), keep_default_na=True)
                for n in (
                    "assignments",
                    "unmatched",
                    "zan_balance",
                    "contributions",
                )
            }
            values = folder / BUDGET_VALUES_FILE
            tables["budget_values"] = (
                pd.read_csv(values, dtype=_csv_dtypes("budget_values"), keep_default_na=True)
                if values.is_file()
                else empty_layer("budget_values")
            )
            record = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
            placements = gpd.read_file(folder / "placements.gpkg", layer="placements")
            units = gpd.read_file(folder / "land_units.gpkg", layer="land_units")
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            msg = f"impossible de lire le résultat de scénario dans {folder} : {exc}"
            raise DataSourceError(msg) from exc
        if "rules" not in record:
            msg = (
                f"{folder / 'scenario.json'} ne contient pas les règles ZAN du scénario "
                "(résultat d'une version antérieure de foncier) : relancez `foncier match`"
            )
            raise DataSourceError(msg)
        for name in _CHECKED_TABLES:
            check_table(tables[name], name, source=str(folder / f"{name}.csv"))
        check_table(tables["assignments"], "lots", source=str(folder / "assignments.csv"))
        units[UnitCol.UNIT_ID] = units[UnitCol.UNIT_ID].astype(str)
        check_table(units, "land_units", source=str(folder / "land_units.gpkg"))
        rules = RuleSet.from_dict(record["rules"], str(folder / "scenario.json"))
        return cls(
            lot_parcels=_read_lot_parcels(folder / LOT_PARCELS_FILE),
            assignments=tables["assignments"],
            unmatched=tables["unmatched"],
            zan_balance=tables["zan_balance"],
            contributions=tables["contributions"],
            budget_values=tables["budget_values"],
            totals=record["totals"],
            audit=record["audit"],
            placements=placements,
            rules=rules,
            units=units,
        )


def _read_lot_parcels(path: Path) -> pd.DataFrame:
    """The ``lot_parcels`` table of a result folder; empty when written before it."""
    if not path.is_file():
        return empty_layer("lot_parcels")
    text = (Col.PROJECT_ID, UnitCol.UNIT_ID, Col.IDU, Col.OWNER_KIND, Col.OWNER_ID)
    try:
        table = pd.read_csv(path, dtype=dict.fromkeys(text, str), keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        msg = f"impossible de lire la liste des parcelles des lots {path} : {exc}"
        raise DataSourceError(msg) from exc
    table[Col.OWNER_ID] = table[Col.OWNER_ID].where(table[Col.OWNER_ID] != "", None)
    table[TableCol.SPLIT] = table[TableCol.SPLIT].astype(str).eq("True")
    return check_table(table, "lot_parcels", source=str(path))


_REASON_FR = {
    "no_land": "sans terrain",
    "infeasible": "aucun terrain compatible",
    "blocked_by_zan": "bloqués par le ZAN",
    "outcompeted": "supplantés",
    "not_worth": "non rentables sous l'objectif",
    "not_selected": "non retenus",
    "no_lot": "sans lot d'un seul tenant",
}


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


@dataclass
class Scenario:
    """A named matching run over a territory.

    Parameters
    ----------
    territory
        A :class:`~foncier.territory.Territory` or the path of a territory folder.
    projects
        Projects table or file (CSV / GeoJSON); ``None`` uses the territory's.
    rules
        ZAN rule set, its name or file; ``None`` loads the default rule set.
    pool
        Budget pooling level: ``commune``, ``epci`` or ``scot``.
    weights
        Score weights.
    objective
        ``jobs``, ``score``, ``min_enaf`` or ``friches_first``.
    committed
        Committed projects (table or file, see :func:`foncier.zan.read_committed`).
    decisions
        The working group's decisions (a log, a ``decisions`` table or a CSV,
        see :mod:`foncier.decisions`): validated placements count as committed
        ENAF, their area is taken off their unit, and their projects are not
        placed again.
    thresholds
        Requirement constants.
    top_n, time_limit, mip_rel_gap
        Engine options (see :func:`foncier.matching.match_projects`); the
        solver stops after ``time_limit`` seconds (120 by default, ``None``
        for no limit) with the best solution found.
    units
        Land units already computed (skips :func:`foncier.supply.land_units`).
    name
        Label shown on the outputs.
    sensitivity
        Also compute the value of one more hectare of budget per pool and the
        stability of each placement (:mod:`foncier.sensitivity`: a few
        short re-solves).
    """

    territory: Any
    projects: pd.DataFrame | str | Path | None = None
    rules: Any = None
    pool: str = "commune"
    weights: Weights | None = None
    objective: str = "jobs"
    committed: pd.DataFrame | str | Path | None = None
    thresholds: Thresholds | None = None
    top_n: int | None = 50
    time_limit: float | None = 120.0
    mip_rel_gap: float = MIP_REL_GAP
    units: gpd.GeoDataFrame | None = None
    name: str = "scénario"
    decisions: pd.DataFrame | str | Path | None = None
    sensitivity: bool = False
    _inputs: MatchingInputs | None = field(default=None, init=False, repr=False, compare=False)
    _inputs_for: tuple[Any, ...] = field(default=(None,) * 5, init=False, repr=False, compare=False)
    # the folder the scenario read its territory from itself (its land units are cached)
    _folder: Path | None = field(default=None, init=False, repr=False, compare=False)

    def _check(self) -> None:
        check_objective(self.objective)
        if self.pool not in POOL_LEVELS:
            msg = (
                f"niveau de mutualisation inconnu « {self.pool} » ; "
                f"valeurs possibles : {', '.join(POOL_LEVELS)}"
            )
            raise FoncierError(msg)

    def _territory(self) -> Any:
        from foncier.territory import Territory

        if not isinstance(self.territory, Territory):
            self._folder = Path(self.territory)
            self.territory = Territory.from_folder(self._folder)
        self.territory.require_commune_geometries("l'affectation des projets et leur recherche")
        return self.territory

    def inputs(self, progress: bool = False, step: Any = None) -> MatchingInputs:
        """The engine's inputs under this scenario's settings, kept until a setting changes.

        See :func:`foncier.inputs.matching_inputs`: the budget table
        net of committed projects and validated placements, the units still
        available, the pools and what the rule set charges as ENAF.  They are
        computed again when ``rules``, ``pool``, ``committed``, ``decisions``
        or ``units`` is given another value.
        """
        given = (self.rules, self.pool, self.committed, self.decisions, self.units)
        kept = self._inputs_for
        if self._inputs is not None and all(a is b for a, b in zip(given, kept, strict=True)):
            return self._inputs
        rules = resolve_rules(self.rules)
        supply_s = 0.0
        if self.units is None:
            from foncier.supply import land_units
            from foncier.units_cache import folder_land_units

            if step:
                step("offre foncière")
            clock = time.perf_counter()
            territory = self._territory()
            # a Territory given in memory may differ from any folder: computed, not cached
            folder = self._folder
            supply = land_units if folder is None else partial(folder_land_units, folder)
            self.units = supply(
                territory,
                progress=progress,
                unknown_land_cover=rules.unknown_land_cover,
                friches_count=rules.friches_count,
            )
            supply_s = time.perf_counter() - clock
        built = matching_inputs(
            self._territory(),
            rules=rules,
            pool=self.pool,
            committed=self.committed,
            decisions=self.decisions,
            units=self.units,
            progress=progress,
            step=step,
        )
        built.timings["supply"] = built.timings.get("supply", 0.0) + supply_s
        self._inputs = built
        self._inputs_for = (self.rules, self.pool, self.committed, self.decisions, self.units)
        return built

    def run(
        self,
        progress: bool = False,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        start: ScenarioResult | None = None,
    ) -> ScenarioResult:
        """Compute supply, budgets and matching; return the result with its audit record.

        Parameters
        ----------
        progress
            Show progress of the long steps on stderr (while HiGHS runs: time,
            incumbent, bound and gap).
        on_progress
            Called with ``{"step": …, "solver": …}`` at each step and while
            HiGHS runs (``solver``: ``elapsed_s``, ``incumbent``, ``bound``,
            ``gap`` and ``text_fr``), e.g. by the service for
            ``GET /scenarios/{id}``.
        start
            A previous result to start the solver from (e.g. this scenario
            before a requirement, land or budget was relaxed): its solver's
            solution before the lot layout
            (:meth:`ScenarioResult.solution_before_lots`) is the first solve's
            incumbent, so after a relaxation the first solve's objective
            (``solver_objective_before_lots`` in the audit record) is never
            lower than that result's; its published placements, laid out
            again, compete with the solves' (see
            :func:`foncier.lots.place_with_lots`), so the published objective
            is not lower either, as long as its pairs are still candidates.

        Returns
        -------
        ScenarioResult
            Assignments, reasons, ZAN balance, totals, audit record, the rule
            set and the land units used.

        Raises
        ------
        FoncierError
            Unknown objective or pool level; any input error of the steps
            (unreadable territory, malformed projects or rule set…).
        """
        from foncier import __version__

        self._check()
        started = datetime.now(UTC)
        timings: dict[str, float] = {}
        bar = _Progress(progress, on_progress)
        clock = time.perf_counter()
        try:
            bar.step("lecture des données")
            source = Path(self.territory) if isinstance(self.territory, str | Path) else None
            territory = self._territory()
            communes = territory.communes
            projects = self._projects(territory)
            timings["load"] = time.perf_counter() - clock
            inputs = self.inputs(progress=progress, step=bar.step)
            timings.update(inputs.timings)
            decided = set(inputs.decisions[Col.PROJECT_ID].astype(str))
            if decided:
                projects = projects[~projects[Col.PROJECT_ID].astype(str).isin(decided)]
                projects = projects.reset_index(drop=True)

            bar.step("appariement")
            clock = time.perf_counter()
            units = inputs.units
            start_from = start.solution_before_lots() if start is not None else None
            match, layout, forbidden = place_with_lots(
                lambda banned, previous: match_projects(
                    projects,
                    units,
                    inputs.pools.remaining,
                    inputs.pools.unit_pool,
                    objective=self.objective,
                    weights=self.weights,
                    thresholds=self.thresholds,
                    top_n=self.top_n,
                    time_limit=self.time_limit,
                    mip_rel_gap=self.mip_rel_gap,
                    pool_names=inputs.pools.names,
                    pool_kind=inputs.pools.kind,
                    charging=inputs.charging,
                    forbidden=banned,
                    unlock=False,  # only for the solution kept, below
                    start=previous if previous is not None else start_from,
                    progress=bar.solver,
                ),
                units,
                territory.parcels,
                inputs.pools.remaining,
                inputs.pools.unit_pool,
                projects,
                charging=inputs.charging,
                unknown_as=inputs.rules.unknown_land_cover,
                incumbent=(
                    start.assignments[[Col.PROJECT_ID, UnitCol.UNIT_ID]]
                    if start is not None
                    else None
                ),
            )
            timings["match"] = time.perf_counter() - clock - layout.seconds
            timings["lots"] = layout.seconds
            clock = time.perf_counter()
            match = complete_match(
                replace(match, unmatched=explain_forbidden(match.unmatched, forbidden)),
                unlock=True,
                sensitivity=self.sensitivity,
                parcels=territory.parcels,
                unknown_as=inputs.rules.unknown_land_cover,
            )
            timings["unlock"] = time.perf_counter() - clock
            bar.step("bilan ZAN")
            clock = time.perf_counter()
            a = with_lots(match.assignments, layout.lots)
            balance = self._balance(a, inputs.budgets, inputs.rules, communes)
            timings["balance"] = time.perf_counter() - clock
        finally:
            bar.close()

        rules, budgets = inputs.rules, inputs.budgets
        unmatched = match.unmatched
        invest = pd.to_numeric(projects[Col.INVESTMENT_EUR], errors="coerce").fillna(0.0)
        placed_ids = projects[Col.PROJECT_ID].astype(str).isin(a[Col.PROJECT_ID].astype(str))
        totals: dict[str, Any] = {
            "projects": len(projects),
            "projects_placed": len(a),
            "jobs_total": int(projects[Col.JOBS].sum()),
            "jobs_placed": int(a[Col.JOBS].sum()),
            "ha_used": float(a[TableCol.AREA_HA].sum()),
            "ha_lots": float(a[TableCol.LOT_AREA_HA].sum()),
            "lots_split": int(a[TableCol.SPLIT].sum()),
            "ha_enaf": float(balance[TableCol.CONSUMED_BY_PLACEMENTS_HA].sum()),
            "ha_friches_reused": float(a.loc[a[UnitCol.IS_FRICHE], TableCol.AREA_HA].sum()),
            "pools_over_budget_before": int((balance[TableCol.REMAINING_BEFORE_HA] < 0).sum()),
            "pools_over_budget_after": int(balance[TableCol.OVER_BUDGET].sum()),
            "ha_needed": float(projects[Col.AREA_MIN_HA].astype(float).sum()),
            "investment_total_eur": float(invest.sum()),
            "investment_placed_eur": float(invest[placed_ids].sum()),
        }
        totals["sensitivity"] = _sensitivity_totals(match)
        audit: dict[str, Any] = {
            "name": self.name,
            "started_at": started.isoformat(timespec="seconds"),
            "foncier_version": __version__,
            "territory": territory.name,
            "territory_path": str(territory.folder) if territory.folder else None,
            "data_label": territory.data_label,
            "synthetic": territory.synthetic,
            "inputs_sha256": self._hashes(territory, source, projects, units, budgets),
            "rules": rules.name,
            "rules_version": rules.version,
            "rules_source": str(rules.source),
            "enaf_vintage": _vintage_label(budgets.attrs.get("enaf_vintage")),
            "pool": self.pool,
            "objective": self.objective,
            "weights": (self.weights or Weights()).to_dict(),
            "thresholds": _plain(self.thresholds or Thresholds()),
            "top_n": self.top_n,
            "time_limit_s": self.time_limit,
            "mip_rel_gap": self.mip_rel_gap,
            "solver_status": match.solve.status,
            "solver_message": match.solve.message,
            "solver_greedy_kept": match.solve.greedy_kept,
            "solver_objective": match.solve.objective,
            "solver_dual_bound": match.solve.dual_bound,
            "solver_gap": match.solve.gap,
            "greedy_objective": match.greedy_objective,
            "candidate_pairs": match.solve.n_pairs,
            "solves": layout.solves,
            "solver_objective_before_lots": layout.objective_before_lots,
            "placements_before_lots": _pair_list(layout.before_lots),
            "pairs_without_lot": forbidden[[Col.PROJECT_ID, UnitCol.UNIT_ID]].values.tolist(),
            "units": len(units),
            "decisions": len(inputs.decisions),
            "timings_s": timings,
        }
        # -- what the figures rest on by default, recorded with them (scenario.json, report)
        from foncier.assumptions import scenario_assumptions

        audit["hypotheses"] = scenario_assumptions(
            territory, units, budgets, a, decisions=inputs.decisions
        )
        lot_of = layout.lots.set_index(layout.lots[Col.PROJECT_ID].astype(str)).geometry
        placements = gpd.GeoDataFrame(
            a, geometry=lot_of.reindex(a[Col.PROJECT_ID].astype(str)).to_numpy(), crs=CRS_L93
        )
        return ScenarioResult(
            assignments=a,
            unmatched=unmatched,
            zan_balance=balance,
            contributions=match.contributions,
            totals=totals,
            audit=audit,
            placements=placements,
            rules=rules,
            units=units,
            budget_values=(
                match.budget_values
                if match.budget_values is not None
                else empty_layer("budget_values")
            ),
            match=match,
            lot_parcels=lot_parcels(layout.pieces),
        )

    def query(
        self,
        project: Mapping[str, Any] | pd.Series,
        k: int = 5,
        *,
        scenario: ScenarioResult | str | Path | None = None,
    ) -> pd.DataFrame:
        """Top-k land units for one project under this scenario's rules, without a solve.

        The planner's question "where can this 4 ha project go?": feasible
        units ranked by score, those whose ZAN cost fits the remaining budget
        of their pool first, each with its ZAN cost and explanation in French.
        The inputs (budgets net of committed projects and validated
        placements, available units, ENAF charging of the rule set) are those
        :meth:`run` uses, built once by :meth:`inputs`.

        Parameters
        ----------
        project
            The project's fields (``area_min_ha`` at least; others as in the
            ``projects`` layer).
        k
            How many units to return.
        scenario
            A scenario result (or its folder) of this territory: each unit
            then also says what that scenario already takes of it and of its
            pool's budget (:func:`foncier.explain.with_scenario_claims`; its
            placements validated since are counted once, as decisions).

        Returns
        -------
        pandas.DataFrame
            See :func:`foncier.explain.query_project`, with the ``commune``
            name and the ``site`` (« ZAE … », « friche … », « zone d'activités
            du PLU ») of each unit, and the scenario's claims when given.

        Raises
        ------
        DataSourceError
            The scenario places projects on units this territory does not
            have (it was computed on another land supply).

        Examples
        --------
        >>> from foncier.sample import make_sample
        >>> s = Scenario(make_sample(n_parcels=2_000, n_communes=20))
        >>> top = s.query({"area_min_ha": 2.0, "max_dist_interchange_km": 5}, k=3)
        >>> len(top) <= 3 and {"unit_id", "score", "zan_cost"} <= set(top.columns)
        True
        """
        from foncier.explain import query_project, with_place_names

        self._check()
        inputs = self.inputs()
        top = query_project(
            project,
            inputs.units,
            inputs.pools.remaining,
            inputs.pools.unit_pool,
            k=k,
            weights=self.weights,
            thresholds=self.thresholds,
            pool_names=inputs.pools.names,
            pool_kind=inputs.pools.kind,
            charging=inputs.charging,
        )
        top = with_place_names(top, self._territory())
        if scenario is None:
            return top
        return self._with_claims(top, scenario, float(pd.Series(dict(project))[Col.AREA_MIN_HA]))

    def _with_claims(
        self, top: pd.DataFrame, scenario: ScenarioResult | str | Path, area_ha: float
    ) -> pd.DataFrame:
        """``top`` with what ``scenario`` takes of its units and pools (see :meth:`query`)."""
        inputs = self.inputs()
        given = isinstance(scenario, ScenarioResult)
        result = (
            scenario
            if isinstance(scenario, ScenarioResult)
            else ScenarioResult.from_folder(scenario)
        )
        return query_claims(
            top,
            result,
            inputs,
            supply=inputs.units if self.units is None else self.units,
            area_ha=area_ha,
            where="" if given else f" ({scenario})",
        )

    def _projects(self, territory: Any) -> pd.DataFrame:
        if self.projects is None:
            return territory.projects  # validated when the territory was built or read
        if isinstance(self.projects, (str, Path)):
            return read_projects(self.projects, communes=territory.communes)
        return validate_projects(self.projects, territory.communes)

    @staticmethod
    def _balance(
        a: pd.DataFrame,
        budgets: pd.DataFrame,
        rules: Any,
        communes: pd.DataFrame,
    ) -> pd.DataFrame:
        """ZAN balance per pool, re-computed from the lots' own land (area and ENAF share).

        Raises
        ------
        InfeasibleError
            A pool is charged more than its remaining budget (never published).
        """
        from foncier.zan import placement_impact

        placements = pd.DataFrame(
            {
                Col.PROJECT_ID: a[Col.PROJECT_ID].astype(str),
                Col.INSEE: a[Col.INSEE].astype(str),
                "area_ha": a[TableCol.LOT_AREA_HA].astype(float),
                "enaf_share": a[UnitCol.ENAF_SHARE].astype(float),
                Col.IS_PENE: a[Col.IS_PENE].astype(bool),
                UnitCol.IS_FRICHE: a[UnitCol.IS_FRICHE].astype(bool),
            }
        )
        _, per_pool = placement_impact(placements, budgets, rules, communes)
        extra = budgets.groupby("pool_id")[["envelope_ha", "consumed_ha", "committed_ha"]].sum()
        balance = per_pool.merge(extra, left_on="pool_id", right_index=True, how="left")
        before = balance["remaining_before_ha"].astype(float).clip(lower=0.0)
        over = balance["consumed_by_placements_ha"].astype(float) > before + 1e-6
        if over.any():
            msg = (
                "les lots consomment plus d'ENAF que le budget restant des enveloppes "
                f"{balance.loc[over, 'pool_id'].tolist()} : résultat non publié"
            )
            raise InfeasibleError(msg)
        cols = [
            "pool_id",
            Col.NAME,
            "envelope_ha",
            "consumed_ha",
            "committed_ha",
            "remaining_before_ha",
            "consumed_by_placements_ha",
            "remaining_after_ha",
            "over_budget",
        ]
        return balance[cols]

    def _hashes(
        self,
        territory: Any,
        source: Path | None,
        projects: pd.DataFrame,
        units: pd.DataFrame,
        budgets: pd.DataFrame,
    ) -> dict[str, str]:
        out: dict[str, str] = {}
        if source is not None:
            for path in sorted(p for p in source.iterdir() if p.is_file()):
                out[f"file:{path.name}"] = _file_sha256(path)
        else:
            for name, layer in territory.iter_layers():
                out[f"layer:{name}"] = table_sha256(layer)
            out["table:enaf_consumption"] = table_sha256(territory.enaf_consumption)
        for value in (self.projects, self.committed):
            if isinstance(value, (str, Path)):
                out[f"file:{Path(value).name}"] = _file_sha256(Path(value))
        out["table:projects"] = table_sha256(projects)
        out["table:land_units"] = table_sha256(units)
        out["table:budgets"] = table_sha256(budgets)
        if isinstance(self.rules, (str, Path)) and Path(self.rules).is_file():
            out[f"file:{Path(self.rules).name}"] = _file_sha256(Path(self.rules))
        return out


def _sensitivity_totals(match: MatchResult) -> dict[str, Any]:
    """Counts of stable / fragile placements and the pools where a hectare is worth most."""
    if match.budget_values is None:
        return {}
    a = match.assignments
    counts = a[TableCol.STABILITY].value_counts()
    values = match.budget_values.sort_values(TableCol.JOBS_PER_EXTRA_HA, ascending=False)
    values = values[values[TableCol.JOBS_PER_EXTRA_HA] > 0]
    return {
        "method": "re-solve",
        "placements": {k: int(counts.get(k, 0)) for k in ("stable", "fragile", "untested")},
        "jobs_per_extra_ha": {
            str(p): float(v)
            for p, v in zip(
                values[TableCol.POOL_ID], values[TableCol.JOBS_PER_EXTRA_HA], strict=True
            )
        },
    }


def _plain_numbers(state: SolveProgress) -> dict[str, float | None]:
    """A solver state for JSON (``None`` where unknown)."""
    return {
        k: (float(v) if np.isfinite(v) else None)
        for k, v in (
            ("elapsed_s", state.elapsed_s),
            ("incumbent", state.incumbent),
            ("bound", state.bound),
            ("gap", state.gap),
        )
    }


def _pair_list(pairs: pd.DataFrame | None) -> list[list[str]]:
    """``project_id``, ``unit_id`` pairs for JSON."""
    if pairs is None:
        return []
    return pairs[[Col.PROJECT_ID, UnitCol.UNIT_ID]].astype(str).values.tolist()


def _vintage_label(vintage: Any) -> str | None:
    if vintage is None:
        return None
    return str(getattr(vintage, "label", vintage))


def _rules_label(result: ScenarioResult) -> str:
    """Name and version of a result's rule set, flagged when it is a bill."""
    label = f"{result.audit['rules']} v{result.audit['rules_version']}"
    if result.rules.legal_status == "bill":
        label += f" ({LEGAL_STATUS_LABELS['bill']})"
    return label


def _plain(obj: Any) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in obj.__dict__.items()}


class _Progress:
    """Steps of a scenario shown as a tqdm bar on stderr, and passed to a callback."""

    _STEPS = 5

    def __init__(
        self, enabled: bool, callback: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self._bar = None
        self._callback = callback
        self._label = ""
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self._STEPS, unit="étape", leave=False)

    def step(self, label: str) -> None:
        self._label = label
        if self._bar is not None:
            if self._bar.n or self._bar.desc:
                self._bar.update(1)
            self._bar.set_description(label)
        if self._callback is not None:
            self._callback({"step": label, "solver": None})

    def solver(self, state: SolveProgress) -> None:
        """Show where HiGHS is (time, incumbent, bound, gap) beside the current step."""
        text = state.text_fr()
        if self._bar is not None:
            self._bar.set_postfix_str(text)
        if self._callback is not None:
            self._callback(
                {"step": self._label, "solver": {**_plain_numbers(state), "text_fr": text}}
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._STEPS - self._bar.n)
            self._bar.close()


def compare_projects(a: ScenarioResult, b: ScenarioResult) -> pd.DataFrame:
    """Where each project goes in two scenarios.

    Parameters
    ----------
    a, b
        Two scenario results.

    Returns
    -------
    pandas.DataFrame
        ``project_id``, ``unit_a``, ``unit_b``, ``status``: ``same``,
        ``moved``, ``left_out_in_b`` (placed in A only), ``placed_in_b_only``
        or ``unmatched_in_both``.
    """
    ua = a.assignments.set_index(a.assignments[Col.PROJECT_ID].astype(str))[UnitCol.UNIT_ID]
    ub = b.assignments.set_index(b.assignments[Col.PROJECT_ID].astype(str))[UnitCol.UNIT_ID]
    ids = sorted(
        set(ua.index)
        | set(ub.index)
        | set(a.unmatched[Col.PROJECT_ID].astype(str))
        | set(b.unmatched[Col.PROJECT_ID].astype(str))
    )
    out = pd.DataFrame({Col.PROJECT_ID: ids})
    out["unit_a"] = ua.reindex(ids).to_numpy()
    out["unit_b"] = ub.reindex(ids).to_numpy()
    in_a, in_b = out["unit_a"].notna(), out["unit_b"].notna()
    out["status"] = np.select(
        [in_a & in_b & (out["unit_a"] == out["unit_b"]), in_a & in_b, in_a, in_b],
        ["same", "moved", "left_out_in_b", "placed_in_b_only"],
        default="unmatched_in_both",
    )
    return out


def compare(a: ScenarioResult, b: ScenarioResult) -> pd.DataFrame:
    """Two scenarios side by side.

    Parameters
    ----------
    a, b
        Two scenario results (e.g. read with :meth:`ScenarioResult.from_folder`).

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator (French label): columns ``a``, ``b``,
        ``difference`` (b − a): objective, pool level, rule set, projects and
        jobs placed, ha used, ha of ENAF consumed, ha of friches reused,
        pools over budget, projects moved, left out in B only, placed in B only.
    """
    moves = compare_projects(a, b)["status"].value_counts()
    ta, tb = a.totals, b.totals
    numbers = [
        ("projets placés", ta["projects_placed"], tb["projects_placed"]),
        ("emplois placés", ta["jobs_placed"], tb["jobs_placed"]),
        ("ha utilisés", ta["ha_used"], tb["ha_used"]),
        ("ha d'ENAF consommés", ta["ha_enaf"], tb["ha_enaf"]),
        ("ha de friches réemployés", ta["ha_friches_reused"], tb["ha_friches_reused"]),
        ("enveloppes dépassées", ta["pools_over_budget_after"], tb["pools_over_budget_after"]),
    ]
    rows: list[dict[str, Any]] = [
        {
            "indicator": "objectif",
            "a": OBJECTIVE_LABELS.get(a.audit["objective"], a.audit["objective"]),
            "b": OBJECTIVE_LABELS.get(b.audit["objective"], b.audit["objective"]),
        },
        {
            "indicator": "mutualisation",
            "a": POOL_LABELS.get(a.audit["pool"], a.audit["pool"]),
            "b": POOL_LABELS.get(b.audit["pool"], b.audit["pool"]),
        },
        {
            "indicator": "règles ZAN",
            "a": _rules_label(a),
            "b": _rules_label(b),
        },
    ]
    for label, va, vb in numbers:
        rows.append(
            {
                "indicator": label,
                "a": round(va, 2),
                "b": round(vb, 2),
                "difference": round(vb - va, 2),
            }
        )
    for label, key in (
        ("projets déplacés", "moved"),
        ("projets placés en A seulement", "left_out_in_b"),
        ("projets placés en B seulement", "placed_in_b_only"),
    ):
        rows.append(
            {"indicator": label, "a": None, "b": None, "difference": int(moves.get(key, 0))}
        )
    return pd.DataFrame(rows, columns=["indicator", "a", "b", "difference"]).set_index("indicator")


def query_claims(
    top: pd.DataFrame,
    result: ScenarioResult,
    inputs: MatchingInputs,
    *,
    supply: pd.DataFrame,
    area_ha: float,
    where: str = "",
) -> pd.DataFrame:
    """A query answer with what the scenario ``result`` already takes of its units and pools.

    Parameters
    ----------
    top
        A query answer (:meth:`Scenario.query`).
    result
        A scenario result of the same territory.
    inputs
        The query's inputs (pools, validated decisions).
    supply
        The land units before the decisions: every unit a scenario of this
        territory may place a project on.
    area_ha
        The area the project needs.
    where
        Where the result was read, for the error message.

    Returns
    -------
    pandas.DataFrame
        See :func:`foncier.explain.with_scenario_claims`; the scenario's
        placements validated since count once, as decisions.

    Raises
    ------
    DataSourceError
        The scenario places projects on units ``supply`` does not have.
    """
    from foncier.explain import with_scenario_claims

    a = result.assignments
    stray = sorted(set(a[UnitCol.UNIT_ID].astype(str)) - set(supply[UnitCol.UNIT_ID].astype(str)))
    if stray:
        msg = (
            f"le scénario « {result.audit.get('name', '')} »{where} place des projets sur "
            f"des unités foncières que ce territoire n'a pas ({', '.join(stray[:5])}"
            f"{' …' if len(stray) > 5 else ''}) : il a été calculé sur une autre offre "
            "foncière ; recalculez-le sur ce territoire"
        )
        raise DataSourceError(msg)
    validated = set(inputs.decisions[Col.PROJECT_ID].astype(str))
    pools = pool_info(
        inputs.units,
        inputs.pools.remaining,
        inputs.pools.unit_pool,
        pool_names=inputs.pools.names,
        pool_kind=inputs.pools.kind,
    )
    return with_scenario_claims(
        top,
        a[~a[Col.PROJECT_ID].astype(str).isin(validated)],
        inputs.pools.unit_pool,
        pools,
        name=str(result.audit.get("name", "")),
        area_ha=area_ha,
    )
