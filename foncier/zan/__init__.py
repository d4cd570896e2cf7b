"""ZAN accounting: envelopes 2021-2031, consumption, remaining budgets, trajectories.

Every figure is computed under a named, versioned :class:`RuleSet` (the law
as data, see ``foncier/rules/*.toml``) and every table's ``attrs`` names the
rule set, its version, the ENAF data vintage and the time it was computed.

- :mod:`foncier.zan.rules`: rule sets and territorialised rates;
- :mod:`foncier.zan.budgets`: budget tables per commune, EPCI or SCoT;
- :mod:`foncier.zan.compare`: budgets under two rule sets side by side;
- :mod:`foncier.zan.charging`: what a placement charges to the envelope (ENAF cost);
- :mod:`foncier.zan.targets`: territorialised targets and their precedence;
- :mod:`foncier.zan.guarantee`: eligibility of each commune to the garantie communale;
- :mod:`foncier.zan.impact`: what placed projects do to the budgets;
- :mod:`foncier.zan.trajectory`: the yearly series to 2050, for charts;
- :mod:`foncier.zan.diagnosis`: consumption by destination and efficiency ratios (MDA's diagnosis).
"""

from foncier.zan.budgets import (
    BUDGET_COLUMNS,
    STATUS_LABELS,
    MissingEnafWarning,
    budget_table,
    commune_budgets,
    pool_ids,
    read_committed,
    read_pene,
)
from foncier.zan.charging import ENAF_SLIVER_HA, EnafCharging
from foncier.zan.compare import VERSUS_COLUMNS, budgets_versus
from foncier.zan.diagnosis import (
    DESTINATION_LABELS,
    RATIO_LABELS,
    ZanDiagnosis,
    territory_diagnosis,
    zan_diagnosis,
)
from foncier.zan.guarantee import (
    GUARANTEE_STATUS_LABELS,
    GUARANTEE_STATUSES,
    guarantee_eligibility,
)
from foncier.zan.impact import PLACEMENT_COLUMNS, placement_impact
from foncier.zan.rules import (
    DEFAULT_RULES,
    GUARANTEE_UNKNOWN_CHOICES,
    LEGAL_STATUS_LABELS,
    POOL_LEVELS,
    Exclusion,
    NationalEnvelope,
    RuleSet,
    TerritorialRate,
    available_rules,
    load_rates,
    load_rules,
)
from foncier.zan.targets import TARGET_LEVEL_LABELS, TARGET_STATUS_LABELS, commune_targets
from foncier.zan.trajectory import NET_ZERO_YEAR, SERIES_LABELS, trajectory

__all__ = [
    "BUDGET_COLUMNS",
    "DEFAULT_RULES",
    "DESTINATION_LABELS",
    "ENAF_SLIVER_HA",
    "GUARANTEE_STATUSES",
    "GUARANTEE_STATUS_LABELS",
    "GUARANTEE_UNKNOWN_CHOICES",
    "NET_ZERO_YEAR",
    "PLACEMENT_COLUMNS",
    "POOL_LEVELS",
    "RATIO_LABELS",
    "SERIES_LABELS",
    "STATUS_LABELS",
    "TARGET_LEVEL_LABELS",
    "TARGET_STATUS_LABELS",
    "EnafCharging",
    "Exclusion",
    "LEGAL_STATUS_LABELS",
    "NationalEnvelope",
    "MissingEnafWarning",
    "RuleSet",
    "TerritorialRate",
    "ZanDiagnosis",
    "available_rules",
    "VERSUS_COLUMNS",
    "budget_table",
    "budgets_versus",
    "commune_budgets",
    "guarantee_eligibility",
    "load_rates",
    "load_rules",
    "placement_impact",
    "pool_ids",
    "commune_targets",
    "read_committed",
    "territory_diagnosis",
    "read_pene",
    "trajectory",
    "zan_diagnosis",
]
