"""foncier: place industrial projects on land under the French ZAN law.

The public API is re-exported here; see the README for a tour.
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
    RuleSetError,
)
from foncier.io import read_cerema_enaf, write_cerema_enaf
from foncier.layers import CRS_L93, LAYER_NAMES, SCHEMAS, Col, LoadReport, validate_layer

__version__ = "0.1.0"

__all__ = [
    "CRS_L93",
    "LAYER_NAMES",
    "SCHEMAS",
    "CRSError",
    "Col",
    "DataSourceError",
    "FoncierError",
    "FoncierWarning",
    "GeometryError",
    "GeometryRepairedWarning",
    "InfeasibleError",
    "LayerSchemaError",
    "LoadReport",
    "NotFoundError",
    "RuleSetError",
    "__version__",
    "read_cerema_enaf",
    "validate_layer",
    "write_cerema_enaf",
]
