"""foncier: place industrial projects on land under the French ZAN law.

The public API, by stage (the modules document each stage in full):

- layers and their schemas: :func:`validate_layer`, :data:`SCHEMAS`, :class:`Col`;
- the territory store: :class:`Territory`, and the synthetic sample: :func:`make_sample`;
- readers of the official open-data formats: :mod:`foncier.io`;
- ZAN accounting: :func:`budget_table`, :func:`trajectory`, :func:`placement_impact`,
  :func:`load_rules`;
- land supply: :func:`land_units`, :func:`supply_summary`;
- matching: :func:`match_projects`, :func:`query_project`, :class:`Scenario`, :func:`compare`;
- outputs for the working group: :func:`territory_map`, :func:`scenario_map`, :func:`write_report`.
"""

from foncier.errors import (
    CRSError,
    DataSourceError,
    FoncierError,
    FoncierWarning,
    GeometryError,
    GeometryRepairedWarning,
    InfeasibleError,
    LayerSchemaError,
    NotFoundError,
    OutputError,
    RuleSetError,
)
from foncier.explain import query_project
from foncier.io import (
    EnafVintage,
    fetch_territory,
    read_cadastre,
    read_cartofriches,
    read_cerema_enaf,
    read_communes,
    read_constraints,
    read_epci_membership,
    read_gpu_zoning,
    read_infrastructure,
    read_zae,
    read_zae_plots,
    reproject_dem,
    write_cerema_enaf,
)
from foncier.layers import CRS_L93, LAYER_NAMES, SCHEMAS, Col, LoadReport, validate_layer
from foncier.maps import map_html, scenario_map, territory_map
from foncier.matching import MatchResult, match_projects, verify_assignment
from foncier.projects import read_projects
from foncier.report import write_report
from foncier.sample import make_sample, write_sample
from foncier.scenarios import Scenario, ScenarioResult, compare
from foncier.supply import land_units, supply_summary
from foncier.territory import Territory
from foncier.zan import (
    RuleSet,
    TerritorialRate,
    budget_table,
    load_rates,
    load_rules,
    placement_impact,
    pool_ids,
    read_committed,
    trajectory,
)

__version__ = "0.1.0"

__all__ = [
    "CRS_L93",
    "LAYER_NAMES",
    "SCHEMAS",
    "CRSError",
    "Col",
    "DataSourceError",
    "EnafVintage",
    "FoncierError",
    "FoncierWarning",
    "GeometryError",
    "GeometryRepairedWarning",
    "InfeasibleError",
    "LayerSchemaError",
    "LoadReport",
    "MatchResult",
    "NotFoundError",
    "OutputError",
    "RuleSet",
    "RuleSetError",
    "Scenario",
    "ScenarioResult",
    "TerritorialRate",
    "Territory",
    "__version__",
    "budget_table",
    "compare",
    "fetch_territory",
    "land_units",
    "load_rates",
    "load_rules",
    "make_sample",
    "map_html",
    "match_projects",
    "placement_impact",
    "pool_ids",
    "query_project",
    "read_cadastre",
    "read_cartofriches",
    "read_cerema_enaf",
    "read_committed",
    "read_communes",
    "read_constraints",
    "read_epci_membership",
    "read_gpu_zoning",
    "read_infrastructure",
    "read_projects",
    "read_zae",
    "read_zae_plots",
    "reproject_dem",
    "scenario_map",
    "supply_summary",
    "territory_map",
    "trajectory",
    "validate_layer",
    "verify_assignment",
    "write_cerema_enaf",
    "write_report",
    "write_sample",
]
