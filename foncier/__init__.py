"""foncier: place industrial projects on land under the French ZAN law.

The public API, by stage (the modules document each stage in full):

- layers and their schemas: :func:`validate_layer`, :data:`SCHEMAS`, :class:`Col`;
- the territory store: :class:`Territory`, and the synthetic sample: :func:`make_sample`,
  a synthetic région of several départements: :func:`write_region_sample`;
- readers of the official open-data formats: :mod:`foncier.io`;
- ZAN accounting: :func:`budget_table`, :func:`trajectory`, :func:`placement_impact`,
  :func:`load_rules`;
- land supply: :func:`land_units`, :func:`supply_summary`;
- tables between stages: :data:`TABLE_SCHEMAS`, :func:`check_table`; the engine's inputs:
  :func:`matching_inputs`; the working group's decisions: :func:`validated_placements`,
  :func:`read_decisions`, :func:`committed_of`, :func:`units_after`;
- matching: :func:`match_projects`, :func:`query_project`, :class:`Scenario`, :func:`compare`;
- outputs for the working group: :func:`territory_map`, :func:`scenario_map`, :func:`write_report`.

Every name is imported on first use (:pep:`562`), so ``import foncier`` stays
cheap: the heavy libraries (folium, matplotlib, scipy, rasterio) load only
with the stage that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "CRSError": "foncier.errors",
    "DataSourceError": "foncier.errors",
    "FoncierError": "foncier.errors",
    "FoncierWarning": "foncier.errors",
    "GeometryError": "foncier.errors",
    "GeometryRepairedWarning": "foncier.errors",
    "InfeasibleError": "foncier.errors",
    "LayerSchemaError": "foncier.errors",
    "NotFoundError": "foncier.errors",
    "OutputError": "foncier.errors",
    "RuleSetError": "foncier.errors",
    "query_project": "foncier.explain",
    "check_table": "foncier.layers",
    "TABLE_SCHEMAS": "foncier.layers",
    "TableCol": "foncier.layers",
    "UnitCol": "foncier.layers",
    "MatchingInputs": "foncier.inputs",
    "matching_inputs": "foncier.inputs",
    "validated_placements": "foncier.decisions",
    "read_decisions": "foncier.decisions",
    "committed_of": "foncier.decisions",
    "units_after": "foncier.decisions",
    "EnafVintage": "foncier.io",
    "fetch_territory": "foncier.io",
    "read_cadastre": "foncier.io",
    "read_cartofriches": "foncier.io",
    "read_cerema_enaf": "foncier.io",
    "read_communes": "foncier.io",
    "read_constraints": "foncier.io",
    "read_epci_membership": "foncier.io",
    "read_gpu_zoning": "foncier.io",
    "read_infrastructure": "foncier.io",
    "read_zae": "foncier.io",
    "read_zae_plots": "foncier.io",
    "reproject_dem": "foncier.io",
    "write_cerema_enaf": "foncier.io",
    "CRS_L93": "foncier.layers",
    "Col": "foncier.layers",
    "LAYER_NAMES": "foncier.layers",
    "LoadReport": "foncier.layers",
    "SCHEMAS": "foncier.layers",
    "validate_layer": "foncier.layers",
    "map_html": "foncier.maps",
    "scenario_map": "foncier.maps",
    "territory_map": "foncier.maps",
    "MatchResult": "foncier.matching",
    "match_projects": "foncier.matching",
    "verify_assignment": "foncier.matching",
    "read_projects": "foncier.projects",
    "write_report": "foncier.report",
    "make_sample": "foncier.sample",
    "write_sample": "foncier.sample",
    "write_region_sample": "foncier.region_sample",
    "Scenario": "foncier.scenarios",
    "ScenarioResult": "foncier.scenarios",
    "compare": "foncier.scenarios",
    "land_units": "foncier.supply",
    "supply_summary": "foncier.supply",
    "Territory": "foncier.territory",
    "RuleSet": "foncier.zan",
    "TerritorialRate": "foncier.zan",
    "budget_table": "foncier.zan",
    "load_rates": "foncier.zan",
    "load_rules": "foncier.zan",
    "placement_impact": "foncier.zan",
    "pool_ids": "foncier.zan",
    "read_committed": "foncier.zan",
    "trajectory": "foncier.zan",
}

if TYPE_CHECKING:
    from foncier.decisions import (
        committed_of,
        read_decisions,
        units_after,
        validated_placements,
    )
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
    from foncier.explain import (
        query_project,
    )
    from foncier.inputs import (
        MatchingInputs,
        matching_inputs,
    )
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
    from foncier.layers import (
        CRS_L93,
        LAYER_NAMES,
        SCHEMAS,
        TABLE_SCHEMAS,
        Col,
        LoadReport,
        TableCol,
        UnitCol,
        check_table,
        validate_layer,
    )
    from foncier.maps import (
        map_html,
        scenario_map,
        territory_map,
    )
    from foncier.matching import (
        MatchResult,
        match_projects,
        verify_assignment,
    )
    from foncier.projects import (
        read_projects,
    )
    from foncier.region_sample import (
        write_region_sample,
    )
    from foncier.report import (
        write_report,
    )
    from foncier.sample import (
        make_sample,
        write_sample,
    )
    from foncier.scenarios import (
        Scenario,
        ScenarioResult,
        compare,
    )
    from foncier.supply import (
        land_units,
        supply_summary,
    )
    from foncier.territory import (
        Territory,
    )
    from foncier.zan import (
        RuleSet,
        TerritorialRate,
        budget_table,
        load_rates,
        load_rules,
        placement_impact,
        pool_ids,
        read_committed,
    )
    from foncier.zan.trajectory import trajectory

__all__ = [
    "CRSError",
    "CRS_L93",
    "Col",
    "DataSourceError",
    "EnafVintage",
    "FoncierError",
    "FoncierWarning",
    "GeometryError",
    "GeometryRepairedWarning",
    "InfeasibleError",
    "LAYER_NAMES",
    "LayerSchemaError",
    "LoadReport",
    "MatchResult",
    "MatchingInputs",
    "NotFoundError",
    "OutputError",
    "OutputError",
    "RuleSet",
    "RuleSetError",
    "SCHEMAS",
    "Scenario",
    "ScenarioResult",
    "TABLE_SCHEMAS",
    "TableCol",
    "TerritorialRate",
    "Territory",
    "UnitCol",
    "__version__",
    "budget_table",
    "check_table",
    "committed_of",
    "compare",
    "fetch_territory",
    "land_units",
    "load_rates",
    "load_rules",
    "make_sample",
    "map_html",
    "match_projects",
    "matching_inputs",
    "placement_impact",
    "pool_ids",
    "query_project",
    "read_cadastre",
    "read_cartofriches",
    "read_cerema_enaf",
    "read_committed",
    "read_communes",
    "read_constraints",
    "read_decisions",
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
    "units_after",
    "validate_layer",
    "validated_placements",
    "verify_assignment",
    "write_cerema_enaf",
    "write_region_sample",
    "write_report",
    "write_sample",
]


def __getattr__(name: str) -> Any:
    """Import a public name, or a submodule (``foncier.zan``), on first use."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if not name.startswith("__"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
