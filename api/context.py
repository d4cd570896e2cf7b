"""What the service holds in memory: the territory, its land units, and the state store.

The territory is read and its land units computed once, when the application
starts (:meth:`ServiceContext.open`, called by the lifespan handler), with
only the parcels the land supply, the lots and the land assembly need
(:func:`foncier.partitioned.read_supply_territory`); the other spatial layers
are reprojected to WGS84 once, with their spatial index built, so that a
GeoJSON request only selects and serialises.  The parcels are served from a
file with an R-tree (:mod:`api.file_layers`), not from a copy in every worker.  Figures that depend
on the decision log (ZAN budgets net of validated placements, land left on
each unit) are cached per version of the log.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from api.file_layers import FILE_LAYERS, FileLayer, open_file_layer
from api.settings import Settings
from api.state import StateStore
from api.tables import jsonable
from foncier.decisions import committed_of, validated_placements
from foncier.errors import NotFoundError
from foncier.explain import QueryUnits, place_names, prepare_query
from foncier.inputs import MatchingInputs, matching_inputs
from foncier.layers import Col, UnitCol
from foncier.partitioned import read_supply_territory
from foncier.projects import TerritoryLimits, territory_limits
from foncier.scenarios import ScenarioResult
from foncier.territory import GPKG_NAME, Territory
from foncier.units_cache import folder_land_units
from foncier.zan import RuleSet, available_rules, load_rules

__all__ = ["WGS84", "QueryInputs", "ServiceContext", "TerritoryData", "load_territory_data"]

logger = logging.getLogger("foncier.api")

#: CRS of every GeoJSON the service returns (RFC 7946).
WGS84 = "EPSG:4326"
#: The territory folder served when none is configured; generated when missing.
DEFAULT_TERRITORY = Path("data/sample")
_RESULTS_KEPT = 8
#: Values kept by :meth:`ServiceContext.memo` (map pages, pool inputs).
_MEMO_KEPT = 32


@dataclass(frozen=True)
class TerritoryData:
    """A territory with what the service derives from it once.

    Attributes
    ----------
    territory
        The loaded territory (layers in EPSG:2154), with only the parcels the
        supply needs (:func:`~foncier.partitioned.read_supply_territory`).
    units
        Its land units (:func:`foncier.supply.land_units`), in EPSG:2154.
    layers_wgs84
        Every spatial layer in WGS84, in the territory's order: in memory with
        its spatial index built, or, for :data:`~api.file_layers.FILE_LAYERS`,
        served from its file.
    units_wgs84
        The land units in WGS84, spatial index built.
    """

    territory: Territory
    units: gpd.GeoDataFrame
    layers_wgs84: dict[str, gpd.GeoDataFrame | FileLayer]
    units_wgs84: gpd.GeoDataFrame

    def summary(self) -> dict[str, Any]:
        """:meth:`Territory.summary`, the layers served from a file counted on the whole file."""
        summary = self.territory.summary()
        for name, layer in self.layers_wgs84.items():
            if isinstance(layer, FileLayer):
                entry: dict[str, Any] = {"features": layer.count}
                if layer.count and layer.area_m2 is not None:
                    entry["area_ha"] = round(layer.area_m2 / 1e4, 1)
                summary["layers"][name] = entry
        return summary


_TERRITORIES: dict[tuple[str, float], TerritoryData] = {}
_TERRITORIES_LOCK = threading.Lock()


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.to_crs(WGS84)
    out.sindex  # noqa: B018  (build the index now, not in a request thread)
    return out


def load_territory_data(settings: Settings) -> TerritoryData:
    """Load the configured territory and its land units (cached per folder).

    The default sample folder is generated with
    :func:`foncier.sample.write_sample` when missing.  Results are cached in
    the process per folder and GeoPackage modification time, so rebuilding
    the application on the same folder (tests, reloads) does not recompute.

    Parameters
    ----------
    settings
        Service settings (``territory``, ``sample_parcels``).

    Returns
    -------
    TerritoryData
        The territory, its land units and their WGS84 copies.

    Raises
    ------
    DataSourceError
        The folder is missing (and is not the default sample) or unreadable.
    """
    folder = settings.territory
    if not folder.exists() and folder == DEFAULT_TERRITORY:
        from foncier.sample import write_sample

        logger.info("generating the sample territory in %s", folder)
        write_sample(folder, n_parcels=settings.sample_parcels)
    gpkg = folder / GPKG_NAME
    key = (str(folder.resolve()), gpkg.stat().st_mtime if gpkg.is_file() else 0.0)
    with _TERRITORIES_LOCK:
        if key not in _TERRITORIES:
            territory = read_supply_territory(folder)
            # read back when this folder's files were screened before (any worker, any run)
            units = folder_land_units(folder, territory)
            in_file = {row[0] for row in pyogrio.list_layers(gpkg)} & set(FILE_LAYERS)
            _TERRITORIES[key] = TerritoryData(
                territory=territory,
                units=units,
                layers_wgs84={
                    name: open_file_layer(folder, gpkg, name) if name in in_file else _to_wgs84(gdf)
                    for name, gdf in territory.iter_layers()
                },
                units_wgs84=_to_wgs84(units),
            )
        return _TERRITORIES[key]


@dataclass(frozen=True)
class QueryInputs:
    """What the single-project queries share at one pool level, rule set and log version.

    Attributes
    ----------
    version
        The version of the decision log they were prepared at
        (:meth:`~api.state.StateStore.decisions_version`).
    inputs
        The engine's inputs net of validated placements (:meth:`ServiceContext.inputs`).
    prepared
        The land units, pools and arrays of the queries (:func:`prepare_query`).
    labels
        Commune name and site label of each unit (:meth:`ServiceContext.place_labels`).
    """

    version: int
    inputs: MatchingInputs
    prepared: QueryUnits
    labels: dict[str, dict[str, Any]]


@dataclass
class ServiceContext:
    """Everything the routers read: settings, territory data, state store, caches.

    Create it with :meth:`open`; :meth:`close` releases the database.
    """

    settings: Settings
    data: TerritoryData
    store: StateStore
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _results: OrderedDict[str, ScenarioResult] = field(default_factory=OrderedDict)
    _memo: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)
    _query_inputs: dict[tuple[str, str | None], QueryInputs] = field(default_factory=dict)
    #: Where each running scenario is (step, solver time, incumbent, bound, gap).
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings) -> ServiceContext:
        """Load the territory (once per process), open the state store, seed projects.

        On the first start on a state folder, the territory's projects are
        copied into the store; later changes go through the API.  Runs left
        unfinished by a stopped service are marked as failed.
        """
        data = load_territory_data(settings)
        store = StateStore(settings.resolved_state_dir)
        projects = data.territory.projects
        records = projects.astype(object).where(projects.notna(), None).to_dict("records")
        store.seed_projects([{str(k): _plain(v) for k, v in r.items()} for r in records])
        interrupted = store.fail_interrupted()
        if interrupted:
            logger.warning("%d scenario runs were interrupted by a restart", interrupted)
        return cls(settings=settings, data=data, store=store)

    def close(self) -> None:
        """Close the state store."""
        self.store.close()

    @property
    def territory(self) -> Territory:
        """The territory served."""
        return self.data.territory

    # -- decisions -> committed land (the rules live in foncier.decisions) -------
    def decisions(self) -> pd.DataFrame:
        """The placements in force: the ``decisions`` table of the log (latest decision wins).

        Cached per version of the decision log.
        """
        key = ("decisions", self.store.decisions_version())

        def compute() -> pd.DataFrame:
            log = pd.DataFrame([vars(r) for r in self.store.list_decisions()])
            return validated_placements(log)

        table: pd.DataFrame = self.memo(key, compute)
        return table

    def committed(self) -> pd.DataFrame:
        """ENAF committed by validated placements, per commune (:func:`read_committed` shape).

        Returns
        -------
        pandas.DataFrame
            See :func:`foncier.decisions.committed_of`.
        """
        return committed_of(self.decisions())

    def validated_project_ids(self) -> set[str]:
        """Projects whose latest decision is a validated placement."""
        return set(self.decisions()[Col.PROJECT_ID].astype(str))

    def available_units(self) -> gpd.GeoDataFrame:
        """Land units with the area of validated placements taken off their net area."""
        units: gpd.GeoDataFrame = self.inputs("commune", None).units
        return units

    # -- ZAN and the engine's inputs -------------------------------------------------
    def rule_sets(self) -> dict[str, RuleSet]:
        """The rule sets the service offers: the built-in ones and ``Settings.rules_files``."""
        key = ("rule_sets",)

        def compute() -> dict[str, RuleSet]:
            known = {name: load_rules(name) for name in available_rules()}
            for path in self.settings.rules_files:
                rules = load_rules(path)
                known[rules.name] = rules
            return known

        value: dict[str, RuleSet] = self.memo(key, compute)
        return value

    def rule_set(self, name: str | None) -> RuleSet:
        """A rule set the service offers, by name (``None``: the default one).

        Only names are accepted: a client must not make the service read
        files of the server (:func:`foncier.zan.load_rules` also takes paths).

        Raises
        ------
        NotFoundError
            Not a rule set of the service.
        """
        known = self.rule_sets()
        if name is None:
            default: RuleSet = self.memo(("rule_set", None), lambda: load_rules(None))
            return default
        if name not in known:
            msg = (
                f"jeu de règles inconnu « {name} » ; le service connaît : "
                f"{', '.join(sorted(known))}"
            )
            raise NotFoundError(msg)
        return known[name]

    def inputs(self, pool: str, rules: str | None) -> MatchingInputs:
        """The engine's inputs net of validated placements (:func:`matching_inputs`).

        Cached per pool level, rule set and version of the decision log, so a
        query and a scenario started at the same moment read the same figures.

        Raises
        ------
        NotFoundError
            Unknown rule set.
        """
        return self._inputs_and_warnings(pool, rules)[0]

    def budgets(self, pool: str, rules: str | None) -> tuple[pd.DataFrame, list[str]]:
        """ZAN budget table net of validated placements, and the warnings it raised.

        Cached like :meth:`inputs`.

        Raises
        ------
        NotFoundError
            Unknown rule set.
        """
        built, caught = self._inputs_and_warnings(pool, rules)
        return built.budgets, caught

    def _inputs_and_warnings(
        self, pool: str, rules: str | None
    ) -> tuple[MatchingInputs, list[str]]:
        rule_set = self.rule_set(rules)
        key = ("inputs", pool, rules, self.store.decisions_version())

        def compute() -> tuple[MatchingInputs, list[str]]:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                built = matching_inputs(
                    self.territory,
                    rules=rule_set,
                    pool=pool,
                    decisions=self.decisions(),
                    units=self.data.units,
                )
            # pandas deep-copies attrs on every operation: the engine gets plain units
            built.units.attrs = {}
            return built, [str(w.message) for w in caught]

        value: tuple[MatchingInputs, list[str]] = self.memo(key, compute)
        return value

    def current_query_inputs(
        self, pool: str, rules: str | None, version: int | None = None
    ) -> QueryInputs | None:
        """:meth:`query_inputs` if already prepared at the log's current version, else ``None``.

        Parameters
        ----------
        pool, rules
            As for :meth:`query_inputs` (an unknown rule set is never prepared).
        version
            The version of the decision log, when just read.
        """
        if version is None:
            version = self.store.decisions_version()
        with self._lock:
            cached = self._query_inputs.get((pool, rules))
        return cached if cached is not None and cached.version == version else None

    def query_inputs(self, pool: str, rules: str | None) -> QueryInputs:
        """What every single-project query at ``pool`` and ``rules`` shares, prepared once.

        One entry per pool level and rule set, kept until the decision log
        changes: the version of the log is read on each call (from the
        database every worker shares), and an entry of an older version is
        prepared again, so that a decision recorded through any worker is
        counted by the next query.

        Raises
        ------
        NotFoundError
            Unknown rule set.
        """
        version = self.store.decisions_version()
        cached = self.current_query_inputs(pool, rules, version)
        if cached is not None:
            return cached
        inputs = self.inputs(pool, rules)
        prepared = prepare_query(
            inputs.units,
            inputs.pools.remaining,
            inputs.pools.unit_pool,
            pool_names=inputs.pools.names,
            pool_kind=inputs.pools.kind,
        )
        fresh = QueryInputs(
            version=version,
            inputs=inputs,
            prepared=prepared,
            labels=self.place_labels(),
        )
        with self._lock:
            self._query_inputs[(pool, rules)] = fresh
        return fresh

    def territory_limits(self) -> TerritoryLimits:
        """The communes and area a queried project must fit in (:func:`territory_limits`)."""
        value: TerritoryLimits = self.memo(
            ("territory_limits",), lambda: territory_limits(self.territory.communes)
        )
        return value

    def place_names(self) -> pd.DataFrame:
        """Commune name and site label of every land unit, indexed by ``unit_id``."""

        def compute() -> pd.DataFrame:
            units = self.data.units
            return place_names(units, self.territory).set_index(
                units[UnitCol.UNIT_ID].astype(str).to_numpy()
            )

        value: pd.DataFrame = self.memo(("place_names",), compute)
        return value

    def place_labels(self) -> dict[str, dict[str, Any]]:
        """:meth:`place_names` as plain values per ``unit_id``, for answers built row by row."""

        def compute() -> dict[str, dict[str, Any]]:
            labels: dict[str, dict[str, Any]] = jsonable(self.place_names().to_dict("index"))
            return labels

        value: dict[str, dict[str, Any]] = self.memo(("place_labels",), compute)
        return value

    def memo(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The value of ``compute()`` cached under ``key`` (a few kept, e.g. map pages)."""
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = compute()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > _MEMO_KEPT:
                self._memo.popitem(last=False)
        return value

    # -- scenario results -------------------------------------------------------
    def result(self, scenario_id: str, folder: str) -> ScenarioResult:
        """A scenario's result, read from its folder once and kept in memory (a few)."""
        with self._lock:
            if scenario_id in self._results:
                self._results.move_to_end(scenario_id)
                return self._results[scenario_id]
        loaded = ScenarioResult.from_folder(folder)
        with self._lock:
            self._results[scenario_id] = loaded
            while len(self._results) > _RESULTS_KEPT:
                self._results.popitem(last=False)
        return loaded


def _plain(value: Any) -> Any:
    """A JSON-ready Python value from a pandas / numpy scalar."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
