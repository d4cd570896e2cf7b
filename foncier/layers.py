"""Layer and table schemas, validation and the CRS / geometry policy.

This module is longer than most on purpose: it is the one place where every
table's contract lives (column names, types, keys), so that a reader finds
them all together.

Every layer foncier works on has one schema, defined here once: its key, its
columns with their types and allowed values, and its geometry type.  The
tables passed between stages (land units, candidate pairs, assignments,
unmatched projects, budgets, ZAN balance, decisions) have theirs in
:data:`TABLE_SCHEMAS`, checked by :func:`check_table`.
:func:`validate_layer` turns any (Geo)DataFrame into a clean layer in
Lambert-93 (EPSG:2154) or raises an error naming the layer, the column, the
offending values and the fix.

The CRS policy: a layer in another CRS is reprojected to EPSG:2154; a layer
with no CRS is refused.  The geometry policy: invalid geometries are repaired
with :func:`shapely.make_valid` (keeping only the polygonal part for polygon
layers), and the repair is reported by a :class:`GeometryRepairedWarning` and
counted in the :class:`LoadReport`; null or empty geometries are refused with
their ids.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from foncier._format import fr_number
from foncier.choices import CONSTRAINT_KINDS
from foncier.errors import (
    CRSError,
    GeometryError,
    GeometryRepairedWarning,
    LayerSchemaError,
    NotFoundError,
)

__all__ = [
    "ACTIVITY_CLASSES",
    "CRS_L93",
    "LAYER_NAMES",
    "SCHEMAS",
    "ORIGINS",
    "ORIGIN_ACTIVITY_ZONE",
    "ORIGIN_FRICHE",
    "ORIGIN_ZAE_PLOT",
    "Col",
    "DiagnosisCol",
    "Column",
    "LayerSchema",
    "LoadReport",
    "PROJECT_FIELDS",
    "TABLE_SCHEMAS",
    "TableCol",
    "UnitCol",
    "check_area_of_use",
    "check_table",
    "destination_column",
    "empty_layer",
    "is_activity_zone",
    "normalise_insee",
    "validate_layer",
    "validate_record",
]

#: The CRS every layer is stored and measured in (Lambert-93).
CRS_L93 = "EPSG:2154"


class Col:
    """Column names, defined once and used everywhere in foncier."""

    # shared
    INSEE = "insee"
    NAME = "name"
    KIND = "kind"
    SITE_ID = "site_id"
    ZONE_TYPE = "zone_type"
    GEOMETRY = "geometry"
    # communes
    EPCI = "epci"
    SCOT = "scot"
    REGION = "region"
    HAS_PLANNING_DOC = "has_planning_doc"
    # planning documents (PLU, PLUi, carte communale, RNU)
    DOC_TYPE = "doc_type"
    PRESCRIPTION_DATE = "prescription_date"
    ARRET_DATE = "arret_date"
    APPROVAL_DATE = "approval_date"
    GUARANTEE_POOLING = "guarantee_pooling"
    DELEGATED_COMMUNES = "delegated_communes"
    # parcels
    IDU = "idu"
    SECTION = "section"
    NUMERO = "numero"
    CONTENANCE_M2 = "contenance_m2"
    AREA_M2 = "area_m2"
    OWNER_KIND = "owner_kind"
    #: Optional column of the parcels layer: the owner's account (``compte communal`` of the
    #: Fichiers fonciers) when known; lots count their distinct owners from it.
    OWNER_ID = "owner_id"
    LAND_COVER = "land_cover"
    # plu zones
    ZONE_ID = "zone_id"
    LIBELLE = "libelle"
    DESTDOMI = "destdomi"
    ACTIVITY_CLASS = "activity_class"
    # zae
    SURF_BRUTE_HA = "surf_brute_ha"
    SURF_UTILE_HA = "surf_utile_ha"
    # zae plots
    PLOT_ID = "plot_id"
    REFCAD = "refcad"
    SERVICING_STAGE = "servicing_stage"
    OCCUPANCY = "occupancy"
    PRICE_EUR_M2 = "price_eur_m2"
    # friches
    STATUS = "status"
    POLLUTION = "pollution"
    SURFACE_M2 = "surface_m2"
    APPROXIMATE = "approximate"
    FOOTPRINT = "footprint"
    # constraints
    CONSTRAINT_ID = "constraint_id"
    EFFECT = "effect"
    # infrastructure
    INFRA_ID = "infra_id"
    # ENAF consumption (tidy)
    YEAR = "year"
    ENAF_M2 = "enaf_m2"
    ACTIVITY_M2 = "activity_m2"
    HOUSING_M2 = "housing_m2"
    MIXED_M2 = "mixed_m2"
    ROAD_M2 = "road_m2"
    RAIL_M2 = "rail_m2"
    UNKNOWN_M2 = "unknown_m2"
    # projects
    PROJECT_ID = "project_id"
    SECTOR = "sector"
    AREA_MIN_HA = "area_min_ha"
    AREA_MAX_HA = "area_max_ha"
    JOBS = "jobs"
    INVESTMENT_EUR = "investment_eur"
    NEEDS_RAIL = "needs_rail"
    MAX_DIST_INTERCHANGE_KM = "max_dist_interchange_km"
    MAX_SLOPE_PCT = "max_slope_pct"
    SEVESO = "seveso"
    PREFERRED_INSEE = "preferred_insee"
    IS_PENE = "is_pene"
    #: category of a project, for the rule set's exclusions (``[[exclusions]]``)
    CATEGORY = "category"
    FRANCE2030 = "france2030"
    EARLIEST_YEAR = "earliest_year"


#: Zone types of the CNIG PLU standard (``typezone``), sub-types mapped onto them.
ZONE_TYPES = ("U", "AUc", "AUs", "A", "N")
#: ``destdomi`` code of zones whose dominant destination is economic activity.
DESTDOMI_ACTIVITY = "02"
#: ``activity_class`` of a PLU zone: an activity zone (candidate land) or another zone.
ACTIVITY_CLASSES = ("activity", "other")
OWNER_KINDS = ("public", "private", "unknown")
#: Land cover of a parcel; ``unknown`` when no source (buildings, OCS GE, ZAE) says it, and
#: charged by the rule set's ``unknown_land_cover`` setting.
LAND_COVERS = ("enaf", "artificialised", "unknown")
#: How a friche's land is known: the union of its cadastral parcels, the polygon its
#: source publishes, or a disc of its declared surface around its point (approximate).
FOOTPRINT_PARCELS = "parcels"
FOOTPRINT_DECLARED = "declared"
FOOTPRINT_APPROXIMATE = "approximate"
FOOTPRINTS = (FOOTPRINT_PARCELS, FOOTPRINT_DECLARED, FOOTPRINT_APPROXIMATE)
#: Planning-document types: PLU, PLU intercommunal, plan de sauvegarde (en tenant lieu),
#: carte communale, plan d'occupation des sols (lapsed), règlement national d'urbanisme.
DOC_TYPES = ("PLU", "PLUi", "PSMV", "CC", "POS", "RNU")
#: Cartofriches ``site_statut`` values (CNIG Friches standard).
FRICHE_STATUSES = (
    "friche sans projet",
    "friche avec projet",
    "friche reconvertie",
    "friche potentielle",
    "site avec projet",
)
#: CNIG TERRAIN-ECO ``terr_stade_amngt`` values, from least to most serviced.
SERVICING_STAGES = (
    "non aménageable",
    "non aménagé, non viabilisé",
    "viabilisation en cours",
    "viabilisé non aménagé",
    "viabilisé et aménagé",
    "inconnu",
    "autre",
    "sans objet",
)
#: CNIG TERRAIN-ECO ``terr_etat_occup`` values.
OCCUPANCIES = (
    "inoccupé",
    "occupation en transition",
    "occupé",
    "vacant",
    "friche",
    "inconnu",
    "autre",
    "sans objet",
)
CONSTRAINT_EFFECTS = ("exclude", "penalise")
INFRA_KINDS = (
    "interchange",
    "motorway",
    "rail_line",
    "rail_freight",
    "substation",
    "power_line",
    "port",
    "other",
)

INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
IDU_RE = re.compile(r"^(\d{5}|2[AB]\d{3})[0-9A-Z]{3}[0-9A-Z]{2}\d{4}$")
_SIREN_RE = re.compile(r"^\d{9}$")

ColumnKind = Literal["code", "str", "float", "int", "bool"]
GeometryKind = Literal["polygon", "point", "line", "any"]


class UnitCol:
    """Column names of the land units table."""

    UNIT_ID = "unit_id"
    ORIGIN = "origin"
    IDUS = "idus"
    GROSS_AREA_HA = "gross_area_ha"
    NET_AREA_HA = "net_area_ha"
    COMPACTNESS = "compactness"
    SLOPE_MEAN_PCT = "slope_mean_pct"
    SLOPE_MAX_PCT = "slope_max_pct"
    DIST_INTERCHANGE_KM = "dist_interchange_km"
    DIST_RAIL_FREIGHT_KM = "dist_rail_freight_km"
    DIST_SUBSTATION_KM = "dist_substation_km"
    DIST_HOUSING_KM = "dist_housing_km"
    ENAF_SHARE = "enaf_share"
    UNKNOWN_COVER_SHARE = "unknown_cover_share"
    IS_FRICHE = "is_friche"
    FOOTPRINT = "footprint"
    FLOOD_SHARE = "flood_share"
    NATURA2000_SHARE = "natura2000_share"
    COMPLETENESS = "completeness"


#: Origins of candidate land.
ORIGIN_ZAE_PLOT = "zae_plot"
ORIGIN_FRICHE = "friche"
ORIGIN_ACTIVITY_ZONE = "activity_zone"
ORIGINS = (ORIGIN_ZAE_PLOT, ORIGIN_FRICHE, ORIGIN_ACTIVITY_ZONE)


@dataclass(frozen=True)
class Column:
    """One column of a layer schema.

    Parameters
    ----------
    name
        Column name.
    kind
        ``code`` (identifier kept as a string, e.g. an INSEE code), ``str``,
        ``float``, ``int`` or ``bool``.
    required
        Whether the column must be present; an absent optional column is
        added filled with ``default``.
    nullable
        Whether missing values are allowed.
    allowed
        Allowed values, if the column is an enumeration.
    minimum
        Smallest allowed value of a numeric column.
    maximum
        Largest plausible value of a numeric column (a larger one is a unit
        or typing mistake and is refused).
    pattern
        Regular expression a ``code`` must match.
    width
        Width a purely numeric ``code`` is zero-padded to (INSEE: 5).
    default
        Value of an absent optional column.
    """

    name: str
    kind: ColumnKind
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: re.Pattern[str] | None = None
    width: int | None = None
    default: Any = None


@dataclass(frozen=True)
class LayerSchema:
    """The schema of one layer: key, columns, geometry type.

    ``geometry`` is ``None`` for attribute tables (ENAF consumption, projects).
    ``checks`` are row checks across columns: ``(column, description,
    function)`` where the function of the columns (a DataFrame, or a mapping
    of one-value arrays for :func:`validate_record`) returns booleans,
    ``True`` on bad rows, and ``column`` is the one the error message names.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    geometry: GeometryKind | None
    description: str
    checks: tuple[tuple[str, str, Callable[[Any], Any]], ...] = ()

    @property
    def column_names(self) -> list[str]:
        """Names of the schema's columns, in order."""
        return [c.name for c in self.columns]


#: Plausibility caps of a project: larger values are typing or unit mistakes.
PROJECT_MAX_AREA_HA = 10_000.0
PROJECT_MAX_JOBS = 100_000
PROJECT_MAX_INVESTMENT_EUR = 1e11


def _insee(name: str = Col.INSEE, **kw: Any) -> Column:
    return Column(name, "code", pattern=INSEE_RE, width=5, **kw)


def _area_min_above_max(df: Any) -> Any:
    return df[Col.AREA_MIN_HA] > df[Col.AREA_MAX_HA]


SCHEMAS: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        LayerSchema(
            "communes",
            (Col.INSEE,),
            (
                _insee(),
                Column(Col.NAME, "str"),
                Column(Col.EPCI, "code", pattern=_SIREN_RE),
                Column(Col.SCOT, "str", required=False, nullable=True),
                # INSEE code of the région (its SRADDET territorialises the ZAN target)
                Column(Col.REGION, "str", required=False, nullable=True),
                # covered by a planning document that opens the garantie communale;
                # blank = unknown (see foncier.zan.guarantee)
                Column(Col.HAS_PLANNING_DOC, "bool", required=False, nullable=True),
            ),
            "polygon",
            "limites des communes, avec leur EPCI et leur SCoT",
        ),
        LayerSchema(
            "parcels",
            (Col.IDU,),
            (
                Column(Col.IDU, "code", pattern=IDU_RE),
                _insee(),
                Column(Col.SECTION, "str"),
                Column(Col.NUMERO, "str"),
                Column(Col.CONTENANCE_M2, "float", nullable=True, minimum=0),
                Column(
                    Col.OWNER_KIND, "str", required=False, allowed=OWNER_KINDS, default="unknown"
                ),
                Column(
                    Col.LAND_COVER, "str", required=False, allowed=LAND_COVERS, default="unknown"
                ),
                # the owner's identifier (a SIREN from the legal-persons parcel files, an
                # account number of the land registry) where the data has one
                Column(Col.OWNER_ID, "str", required=False, nullable=True),
            ),
            "polygon",
            "parcelles cadastrales (cadastre Etalab)",
        ),
        LayerSchema(
            "plu_zones",
            (Col.ZONE_ID,),
            (
                Column(Col.ZONE_ID, "str"),
                _insee(),
                Column(Col.LIBELLE, "str"),
                Column(Col.ZONE_TYPE, "str", allowed=ZONE_TYPES),
                Column(Col.DESTDOMI, "str", required=False, nullable=True),
                # missing: the zone is an activity zone when its destdomi is 02
                Column(
                    Col.ACTIVITY_CLASS,
                    "str",
                    required=False,
                    nullable=True,
                    allowed=ACTIVITY_CLASSES,
                ),
            ),
            "polygon",
            "zonage des PLU et cartes communales (GPU zone_urba)",
        ),
        LayerSchema(
            "zae",
            (Col.SITE_ID,),
            (
                Column(Col.SITE_ID, "str"),
                Column(Col.NAME, "str"),
                _insee(),
                Column(Col.SURF_BRUTE_HA, "float", nullable=True, minimum=0),
                Column(Col.SURF_UTILE_HA, "float", required=False, nullable=True, minimum=0),
            ),
            "polygon",
            "zones d'activités économiques (CNIG SITE-ECO)",
        ),
        LayerSchema(
            "zae_plots",
            (Col.PLOT_ID,),
            (
                Column(Col.PLOT_ID, "str"),
                Column(Col.SITE_ID, "str"),
                Column(Col.REFCAD, "str", required=False, nullable=True),
                Column(Col.SERVICING_STAGE, "str", allowed=SERVICING_STAGES),
                Column(Col.OCCUPANCY, "str", allowed=OCCUPANCIES),
                Column(Col.PRICE_EUR_M2, "float", required=False, nullable=True, minimum=0),
            ),
            "polygon",
            "lots des ZAE (CNIG TERRAIN-ECO)",
        ),
        LayerSchema(
            "friches",
            (Col.SITE_ID,),
            (
                Column(Col.SITE_ID, "str"),
                Column(Col.NAME, "str", nullable=True),
                _insee(),
                Column(Col.STATUS, "str", allowed=FRICHE_STATUSES),
                Column(Col.POLLUTION, "str", required=False, nullable=True),
                Column(Col.ZONE_TYPE, "str", required=False, nullable=True),
                Column(Col.SURFACE_M2, "float", required=False, nullable=True, minimum=0),
                Column(Col.APPROXIMATE, "bool", required=False, default=False),
                Column(
                    Col.FOOTPRINT,
                    "str",
                    required=False,
                    allowed=FOOTPRINTS,
                    default=FOOTPRINT_DECLARED,
                ),
            ),
            "any",
            "friches (Cartofriches, CNIG Friches)",
        ),
        LayerSchema(
            "constraints",
            (Col.CONSTRAINT_ID,),
            (
                Column(Col.CONSTRAINT_ID, "str"),
                Column(Col.KIND, "str", allowed=CONSTRAINT_KINDS),
                Column(Col.EFFECT, "str", allowed=CONSTRAINT_EFFECTS),
                Column(Col.NAME, "str", required=False, nullable=True),
            ),
            "polygon",
            "contraintes réglementaires et environnementales (PPRI, Natura 2000, ZNIEFF…)",
        ),
        LayerSchema(
            "infrastructure",
            (Col.INFRA_ID,),
            (
                Column(Col.INFRA_ID, "str"),
                Column(Col.KIND, "str", allowed=INFRA_KINDS),
                Column(Col.NAME, "str", required=False, nullable=True),
            ),
            "any",
            "infrastructures de transport et d'énergie",
        ),
        LayerSchema(
            "enaf_consumption",
            (Col.INSEE, Col.YEAR),
            (
                _insee(),
                Column(Col.YEAR, "int", minimum=2009),
                Column(Col.ENAF_M2, "float", minimum=0),
                Column(Col.ACTIVITY_M2, "float", minimum=0),
                Column(Col.HOUSING_M2, "float", minimum=0),
                Column(Col.MIXED_M2, "float", minimum=0),
                Column(Col.ROAD_M2, "float", minimum=0),
                Column(Col.RAIL_M2, "float", minimum=0),
                Column(Col.UNKNOWN_M2, "float", minimum=0),
            ),
            None,
            "ENAF consommés par commune et par année, en m² (Cerema) ; l'année A va du "
            "1er janvier A au 1er janvier A+1",
        ),
        LayerSchema(
            "planning_docs",
            (Col.INSEE, Col.DOC_TYPE, Col.PRESCRIPTION_DATE, Col.ARRET_DATE, Col.APPROVAL_DATE),
            (
                _insee(),
                Column(Col.DOC_TYPE, "str", allowed=DOC_TYPES),
                Column(Col.PRESCRIPTION_DATE, "str", required=False, nullable=True),
                Column(Col.ARRET_DATE, "str", required=False, nullable=True),
                Column(Col.APPROVAL_DATE, "str", required=False, nullable=True),
                # the commune asked to pool its garantie communale (blank: not recorded)
                Column(Col.GUARANTEE_POOLING, "bool", required=False, nullable=True),
                # communes déléguées of a commune nouvelle (each adds to its guarantee)
                Column(Col.DELEGATED_COMMUNES, "int", required=False, minimum=0, default=0),
            ),
            None,
            "documents d'urbanisme de chaque commune et dates de leur procédure (dates ISO), "
            "sa demande de mutualiser la garantie communale, ses communes déléguées",
        ),
        LayerSchema(
            "projects",
            (Col.PROJECT_ID,),
            (
                Column(Col.PROJECT_ID, "str"),
                Column(Col.NAME, "str"),
                Column(Col.SECTOR, "str"),
                Column(Col.AREA_MIN_HA, "float", minimum=0.0001, maximum=PROJECT_MAX_AREA_HA),
                Column(Col.AREA_MAX_HA, "float", minimum=0.0001, maximum=PROJECT_MAX_AREA_HA),
                Column(Col.JOBS, "int", minimum=0, maximum=PROJECT_MAX_JOBS),
                Column(
                    Col.INVESTMENT_EUR,
                    "float",
                    required=False,
                    minimum=0,
                    maximum=PROJECT_MAX_INVESTMENT_EUR,
                    default=0.0,
                ),
                Column(Col.NEEDS_RAIL, "bool", required=False, default=False),
                Column(
                    Col.MAX_DIST_INTERCHANGE_KM,
                    "float",
                    required=False,
                    nullable=True,
                    minimum=0,
                    maximum=1000,
                ),
                Column(
                    Col.MAX_SLOPE_PCT,
                    "float",
                    required=False,
                    nullable=True,
                    minimum=0,
                    maximum=100,
                ),
                Column(Col.SEVESO, "bool", required=False, default=False),
                _insee(Col.PREFERRED_INSEE, required=False, nullable=True),
                Column(Col.IS_PENE, "bool", required=False, default=False),
                Column(Col.CATEGORY, "str", required=False, nullable=True),
                Column(Col.FRANCE2030, "bool", required=False, default=False),
                Column(
                    Col.EARLIEST_YEAR,
                    "int",
                    required=False,
                    nullable=True,
                    minimum=2000,
                    maximum=2100,
                ),
            ),
            None,
            "projets industriels en recherche de foncier (la demande)",
            checks=(
                (Col.AREA_MIN_HA, "area_min_ha supérieure à area_max_ha", _area_min_above_max),
            ),
        ),
    )
}

#: Names of every layer, in the order of DESIGN.md.
LAYER_NAMES: tuple[str, ...] = tuple(SCHEMAS)


@dataclass
class LoadReport:
    """What happened while a layer was read and validated.

    Attributes
    ----------
    layer
        Layer name.
    source
        Where the rows came from (a path, or ``"memory"``).
    rows_read
        Rows received.
    rows_rejected
        ``(id, reason)`` of each row a reader rejected.
    geometries_repaired
        Number of invalid geometries repaired with ``shapely.make_valid``.
    repaired_ids
        Keys of the repaired rows (first ones).
    crs_in
        CRS of the input, as ``EPSG:XXXX`` or WKT name; ``None`` for tables.
    reprojected
        Whether the layer was transformed to EPSG:2154.
    notes
        Other remarks a user should read.
    """

    layer: str
    source: str = "memory"
    rows_read: int = 0
    rows_rejected: list[tuple[str, str]] = field(default_factory=list)
    geometries_repaired: int = 0
    repaired_ids: list[str] = field(default_factory=list)
    crs_in: str | None = None
    reprojected: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def rows_kept(self) -> int:
        """Rows read minus rows rejected."""
        return self.rows_read - len(self.rows_rejected)

    def summary(self) -> str:
        """One line in French a person can read, e.g. in ``foncier import``."""
        from foncier.choices import LAYER_LABELS

        layer = LAYER_LABELS.get(self.layer, self.layer)
        parts = [f"{layer} : {self.rows_kept}/{self.rows_read} lignes gardées"]
        if self.rows_rejected:
            n = len(self.rows_rejected)
            parts.append(f"{n} rejetée{'s' if n > 1 else ''}")
        if self.geometries_repaired:
            n = self.geometries_repaired
            parts.append(f"{n} géométrie{'s' if n > 1 else ''} réparée{'s' if n > 1 else ''}")
        if self.reprojected:
            parts.append(f"reprojetée de {self.crs_in} en {CRS_L93}")
        return ", ".join(parts) + "".join(f" ; {n}" for n in self.notes)


def _first(values: Iterable[Any], n: int = 5) -> str:
    # numpy scalars print as plain numbers (-1.0, not np.float64(-1.0))
    vals = [v.item() if isinstance(v, np.generic) else v for v in values]
    shown = ", ".join(repr(v) for v in vals[:n])
    return shown + (f" … ({fr_number(len(vals), 0)} en tout)" if len(vals) > n else "")


def is_activity_zone(zones: pd.DataFrame) -> np.ndarray:
    """Whether each PLU zone is an activity zone, whatever its zone type.

    ``activity_class`` decides where it is set (by the GPU reader's
    classification of ``destdomi`` and labels); elsewhere, e.g. in layers
    built before that column existed, a zone is an activity zone when its
    ``destdomi`` is ``02``.

    Parameters
    ----------
    zones
        The ``plu_zones`` layer.

    Returns
    -------
    numpy.ndarray
        Booleans, one per zone.

    Examples
    --------
    >>> zones = pd.DataFrame({"destdomi": ["02", "01", None],
    ...                       "activity_class": [None, "activity", "other"]})
    >>> is_activity_zone(zones).tolist()
    [True, True, False]
    """
    destdomi = zones[Col.DESTDOMI] if Col.DESTDOMI in zones.columns else pd.Series("", zones.index)
    by_destdomi = destdomi.fillna("").to_numpy(dtype=object) == DESTDOMI_ACTIVITY
    if Col.ACTIVITY_CLASS not in zones.columns:
        return np.asarray(by_destdomi, dtype=bool)
    cls = zones[Col.ACTIVITY_CLASS]
    known = cls.notna().to_numpy()
    return np.where(known, cls.to_numpy(dtype=object) == "activity", by_destdomi).astype(bool)


def normalise_insee(values: pd.Series, *, width: int = 5) -> pd.Series:
    """Normalise codes to strings, zero-padding purely numeric ones.

    Integers and floats read from a spreadsheet (``1001``, ``1001.0``) become
    ``"01001"``; Corsican codes such as ``"2A004"`` are kept as they are.

    Parameters
    ----------
    values
        Codes of any type; missing values stay missing.
    width
        Width of the zero-padded code.

    Returns
    -------
    pandas.Series
        Codes as strings.

    Examples
    --------
    >>> normalise_insee(pd.Series([1001, "30007", "2A004"])).tolist()
    ['01001', '30007', '2A004']
    """
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "string":  # text (the usual case): vectorised string methods
        text = values.astype("str").str.strip()
        digits = text.str.isdigit().fillna(False).astype(bool)
        return text.where(~digits, text.str.zfill(width))
    out = values.astype(object)
    mask = out.notna()
    if not mask.any():
        return out.astype("str")

    def one(v: Any) -> str:
        if isinstance(v, (bool, np.bool_)):
            return str(v)
        if isinstance(v, (int, np.integer)):
            return str(int(v)).zfill(width)
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v)).zfill(width)
        s = str(v).strip()
        return s.zfill(width) if s.isdigit() else s

    if kind in ("integer", "floating", "mixed-integer-float"):  # numbers: once per value
        codes, uniques = pd.factorize(out[mask])
        out.loc[mask] = np.array([one(v) for v in uniques], dtype=object)[codes]
    else:  # mixed types (booleans, numbers and text together): value by value
        out.loc[mask] = [one(v) for v in out[mask]]
    return out.astype("str")


_TRUE = {"true", "1", "1.0", "oui", "yes", "vrai", "o", "y", "t"}
_FALSE = {"false", "0", "0.0", "non", "no", "faux", "n", "f", ""}


def _fail(schema: LayerSchema, column: str, problem: str, bad: Iterable[Any], fix: str) -> None:
    msg = f"couche {schema.name}, colonne {column!r} : {problem} : {_first(bad)}. {fix}"
    raise LayerSchemaError(msg, column=column)


def _fmt_bound(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f") if abs(value) >= 1e4 else f"{value:g}"


def _check_range(schema: LayerSchema, col: Column, num: pd.Series) -> None:
    """Refuse infinite values and values above the column's plausible maximum."""
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        msg = (
            f"couche {schema.name}, colonne {col.name!r} : valeurs non finies : "
            f"{_first(num[infinite].unique())}. Donnez un nombre fini (ou laissez la cellule "
            "vide si la colonne l'admet)."
        )
        raise LayerSchemaError(msg, column=col.name)
    if col.maximum is not None:
        above = values > col.maximum
        if above.any():
            msg = (
                f"couche {schema.name}, colonne {col.name!r} : valeurs au-dessus du maximum "
                f"plausible {_fmt_bound(col.maximum)} : {_first(num[above].unique())}. "
                "Vérifiez les unités et la saisie de cette colonne."
            )
            raise LayerSchemaError(msg, column=col.name)


def _coerce(schema: LayerSchema, col: Column, s: pd.Series) -> pd.Series:
    """Coerce one column to its schema type or raise naming the bad values."""
    if col.kind == "code":
        out = normalise_insee(s, width=col.width) if col.width else normalise_insee(s, width=0)
        if col.pattern is not None:
            bad = out[out.notna() & ~out.astype(str).str.match(col.pattern)]
            if len(bad):
                _fail(
                    schema,
                    col.name,
                    "codes mal formés",
                    bad.unique(),
                    f"Attendu des codes de la forme {col.pattern.pattern}.",
                )
        return out
    if col.kind == "str":
        if isinstance(s.dtype, pd.StringDtype):
            return s.str.strip()
        return s.astype(object).where(s.isna(), s.astype(str).str.strip()).astype("str")
    if col.kind in ("float", "int"):
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            num = s
        else:
            num = pd.to_numeric(s, errors="coerce")
            suspect = num.isna() & s.notna()
            if suspect.any():
                bad = s[suspect & (s.astype(str).str.strip() != "")]
                if len(bad):
                    _fail(
                        schema,
                        col.name,
                        "valeurs non numériques",
                        bad.unique(),
                        "Attendu des nombres (avec '.' comme séparateur décimal).",
                    )
        _check_range(schema, col, num)
        if col.kind == "int":
            values = num.dropna()
            frac = values % 1 != 0
            if frac.any():
                _fail(
                    schema, col.name, "valeurs non entières", values[frac].unique(),
                    "Attendu des nombres entiers.",
                )  # fmt: skip
            # nullable until the missing values are checked (see _check_columns)
            return num.astype("Int64")
        return num.astype("float64")
    # bool: missing values take the column's default, or stay NA when there is none
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean" if col.nullable else bool)
    low = s.astype(object).where(s.isna(), s.astype(str).str.strip().str.lower())
    low = low.where(low != "", None)
    bad = low[low.notna() & ~low.isin(_TRUE | _FALSE)]
    if len(bad):
        _fail(
            schema,
            col.name,
            "valeurs qui ne sont pas des booléens",
            s[bad.index].unique(),
            "Attendu true/false, 1/0 ou oui/non.",
        )
    out = low.isin(_TRUE)
    if col.default is not None:
        out = out.where(low.notna(), bool(col.default))
    elif col.nullable:
        return out.astype("boolean").mask(low.isna().to_numpy())
    return out.astype(bool)


def _key_labels(df: pd.DataFrame, schema: LayerSchema, mask: pd.Series) -> list[str]:
    keys = [k for k in schema.key if k in df.columns]
    if not keys:
        return [str(i) for i in df.index[mask]]
    rows = df.loc[mask, keys]
    labels = rows.map(str).agg("/".join, axis=1).tolist()
    # a row whose key is missing is named by its line (1 = the first row)
    lines = np.flatnonzero(np.asarray(mask, dtype=bool)) + 1
    blank = rows.isna().any(axis=1).to_numpy()
    return [f"ligne {n}" if b else label for label, b, n in zip(labels, blank, lines, strict=True)]


def _check_columns(schema: LayerSchema, df: pd.DataFrame) -> pd.DataFrame:
    present = set(df.columns)
    lower = {str(c).lower(): c for c in df.columns}
    out = df.copy()
    for col in schema.columns:
        if col.name in present:
            continue
        if col.required:
            hint = ""
            if col.name.lower() in lower:
                hint = (
                    f" Une colonne {lower[col.name.lower()]!r} existe : "
                    f"renommez-la en {col.name!r}."
                )
            msg = (
                f"couche {schema.name} : il manque la colonne obligatoire {col.name!r} ; "
                f"colonnes attendues {schema.column_names}, reçues {list(df.columns)}.{hint}"
            )
            raise LayerSchemaError(msg, column=col.name)
        out[col.name] = col.default
    for col in schema.columns:
        s = _coerce(schema, col, out[col.name])
        # checks on numpy arrays: pandas' per-call overhead dominates on small tables
        missing = s.isna().to_numpy()
        if not col.nullable and missing.any():
            labels = _key_labels(out, schema, pd.Series(missing, index=out.index))
            _fail(
                schema,
                col.name,
                "valeurs manquantes aux lignes",
                labels,
                "Renseignez-les ou retirez ces lignes.",
            )
        if col.allowed is not None:
            bad = ~missing & ~np.isin(s.to_numpy(dtype=object), col.allowed)
            if bad.any():
                _fail(
                    schema,
                    col.name,
                    "valeurs inconnues",
                    s[bad].unique(),
                    f"Valeurs possibles : {list(col.allowed)}.",
                )
        if col.minimum is not None:
            values = s.to_numpy(dtype="float64", na_value=np.nan)
            bad = ~missing & (values < col.minimum)
            if bad.any():
                _fail(
                    schema,
                    col.name,
                    f"valeurs sous le minimum {_fmt_bound(col.minimum)}",
                    s[bad].unique(),
                    "Vérifiez les unités et les signes de cette colonne.",
                )
        if col.kind == "int" and not col.nullable:
            s = s.astype("int64")
        out[col.name] = s
    dup = out.duplicated(list(schema.key), keep=False)
    if dup.any():
        labels = sorted(set(_key_labels(out, schema, dup)))
        _fail(
            schema,
            "/".join(schema.key),
            "clés en double",
            labels,
            "Chaque clé doit désigner une seule ligne.",
        )
    for column, description, check in schema.checks:
        bad_rows = check(out).fillna(False).astype(bool)
        if bad_rows.any():
            _fail(
                schema,
                column,
                f"{description} aux lignes",
                _key_labels(out, schema, bad_rows),
                "Corrigez ces lignes.",
            )
    extra = [c for c in out.columns if c not in schema.column_names and c != Col.GEOMETRY]
    return out[schema.column_names + extra]


#: Margin, in degrees, around a CRS's area of use (offshore features, rounding).
AREA_OF_USE_TOLERANCE_DEG = 0.5


def _round_bounds(bounds: Iterable[float], digits: int = 2) -> list[float]:
    return [round(float(b), digits) for b in bounds]


def check_area_of_use(name: str, gdf: gpd.GeoDataFrame) -> None:
    """Refuse a layer whose bounds lie outside the area of use of its declared CRS.

    Coordinates in degrees declared as Lambert-93, or Lambert-93 metres
    declared as Lambert II étendu, land thousands of kilometres away once
    transformed: pyproj knows where each CRS is valid
    (:attr:`pyproj.CRS.area_of_use`); the layer's bounds, transformed to
    longitude/latitude, must lie within it (with a margin of
    :data:`AREA_OF_USE_TOLERANCE_DEG`).

    Parameters
    ----------
    name
        Layer name (for the message).
    gdf
        The layer in its declared CRS.

    Raises
    ------
    CRSError
        The bounds fall outside the CRS's area of use; the message gives the
        bounds and the area of use.
    """
    if gdf.crs is None or gdf.empty:
        return
    crs = CRS.from_user_input(gdf.crs)
    area = crs.area_of_use
    bounds = np.asarray(gdf.total_bounds, dtype="float64")
    if area is None or not np.isfinite(bounds).all():
        return
    epsg = crs.to_epsg()
    label = f"EPSG:{epsg}" if epsg else crs.name
    try:
        if crs.is_geographic:
            lon_lat = bounds
        else:
            to_geo = Transformer.from_crs(crs, crs.geodetic_crs or "EPSG:4326", always_xy=True)
            west, south, east, north = to_geo.transform_bounds(
                float(bounds[0]),
                float(bounds[1]),
                float(bounds[2]),
                float(bounds[3]),
                densify_pts=5,
            )
            lon_lat = np.array([west, south, east, north], dtype="float64")
    except ProjError:
        lon_lat = np.full(4, np.inf)
    tol = AREA_OF_USE_TOLERANCE_DEG
    inside = (
        np.isfinite(lon_lat).all()
        and lon_lat[0] >= area.west - tol
        and lon_lat[1] >= area.south - tol
        and lon_lat[2] <= area.east + tol
        and lon_lat[3] <= area.north + tol
    )
    if not inside:
        shown = _round_bounds(lon_lat) if np.isfinite(lon_lat).all() else "hors du globe"
        msg = (
            f"couche {name} : ses coordonnées (emprise {_round_bounds(bounds)} dans {label}, "
            f"soit {shown} en longitude/latitude) sont hors du domaine de validité de {label} "
            f"({area.name} : {_round_bounds((area.west, area.south, area.east, area.north))} "
            "en longitude/latitude). Le SCR déclaré est sans doute faux (des degrés déclarés en "
            "Lambert-93, du Lambert-93 déclaré en Lambert II…) : corrigez le SCR du fichier "
            "(son .prj, ou GeoDataFrame.set_crs(..., allow_override=True))."
        )
        raise CRSError(msg)


def _to_l93(schema: LayerSchema, gdf: gpd.GeoDataFrame, report: LoadReport) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = (
            f"couche {schema.name} : aucun SCR déclaré ; attendu EPSG:2154 ou un SCR "
            "reprojetable vers lui. Déclarez-le avec GeoDataFrame.set_crs(...) ou corrigez le "
            "fichier source (par exemple un .prj manquant à côté d'un shapefile)."
        )
        raise CRSError(msg)
    crs = CRS.from_user_input(gdf.crs)
    epsg = crs.to_epsg()
    report.crs_in = f"EPSG:{epsg}" if epsg else crs.name
    if epsg == 2154:
        return gdf
    try:
        out = gdf.to_crs(CRS_L93)
    except Exception as exc:
        msg = (
            f"couche {schema.name} : impossible de reprojeter de {report.crs_in} vers "
            f"{CRS_L93} : {exc}"
        )
        raise CRSError(msg) from exc
    bad = ~np.isfinite(out.geometry.bounds.to_numpy()).all(axis=1) & ~out.geometry.is_empty
    if bad.any():
        msg = (
            f"couche {schema.name} : {fr_number(int(bad.sum()), 0)} géométrie(s) hors du "
            f"domaine de {CRS_L93} après reprojection depuis {report.crs_in} ; "
            "le SCR déclaré est-il juste ?"
        )
        raise CRSError(msg)
    report.reprojected = True
    return out


_G = shapely.GeometryType
_POLYGONAL = (int(_G.POLYGON), int(_G.MULTIPOLYGON))
_POINTS = (int(_G.POINT), int(_G.MULTIPOINT))
_LINES = (int(_G.LINESTRING), int(_G.MULTILINESTRING))
#: Geometry types (shapely type ids) a layer of each geometry kind accepts.
_ALLOWED_TYPES: dict[str, tuple[int, ...]] = {
    "polygon": _POLYGONAL,
    "point": _POINTS,
    "line": _LINES,
    "any": (*_POLYGONAL, *_POINTS, *_LINES),
}


def _polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygons of (possibly mixed) geometries, vectorised."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    out = np.full(len(geoms), None, dtype=object)
    if keep.any():
        # Rows without any polygonal part are left as None.
        shapely.multipolygons(parts[keep], indices=index[keep], out=out)
        single = shapely.get_num_geometries(out) == 1
        out[single] = shapely.get_geometry(out[single], 0)
    return out


def _fix_geometries(
    schema: LayerSchema, gdf: gpd.GeoDataFrame, report: LoadReport, *, known_valid: bool = False
) -> gpd.GeoDataFrame:
    assert schema.geometry is not None
    geoms = gdf.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        labels = _key_labels(gdf, schema, pd.Series(empty, index=gdf.index))
        msg = (
            f"couche {schema.name} : {fr_number(int(empty.sum()), 0)} géométrie(s) nulle(s) ou "
            f"vide(s), lignes {_first(labels)}. Donnez-leur une géométrie ou retirez-les avant le "
            "chargement."
        )
        raise GeometryError(msg)
    invalid = np.zeros(len(geoms), dtype=bool) if known_valid else ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        if schema.geometry == "polygon":
            fixed = _polygonal_part(fixed)
        lost = shapely.is_missing(fixed) | shapely.is_empty(fixed)
        if lost.any():
            labels = _key_labels(gdf, schema, pd.Series(invalid, index=gdf.index))
            bad_labels = [labels[i] for i in np.flatnonzero(lost)]
            msg = (
                f"couche {schema.name} : {fr_number(int(lost.sum()), 0)} géométrie(s) invalide(s) "
                f"sans partie polygonale une fois réparée(s), lignes {_first(bad_labels)} ; "
                "corrigez-les dans un SIG."
            )
            raise GeometryError(msg)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        labels = _key_labels(gdf, schema, pd.Series(invalid, index=gdf.index))
        report.geometries_repaired += int(invalid.sum())
        report.repaired_ids.extend(labels[:20])
        warnings.warn(
            f"couche {schema.name} : {fr_number(int(invalid.sum()), 0)} géométrie(s) invalide(s) "
            f"réparée(s) par shapely.make_valid (lignes {_first(labels)})",
            GeometryRepairedWarning,
            stacklevel=3,
        )
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    wrong = ~np.isin(shapely.get_type_id(geoms), _ALLOWED_TYPES[schema.geometry])
    if wrong.any():
        labels = _key_labels(gdf, schema, pd.Series(wrong, index=gdf.index))
        names = gpd.GeoSeries(geoms[wrong]).geom_type
        msg = (
            f"couche {schema.name} : géométries {schema.geometry!r} attendues ; les lignes "
            f"{_first(labels)} sont de type {_first(names.unique())}."
        )
        raise GeometryError(msg)
    return gdf


def validate_layer(
    name: str,
    data: pd.DataFrame,
    *,
    report: LoadReport | None = None,
    area_of_use: bool = True,
    known_valid: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Validate a layer against its schema and return it clean, in EPSG:2154.

    Parameters
    ----------
    name
        Layer name, one of :data:`LAYER_NAMES`.
    data
        The layer: a GeoDataFrame for spatial layers, a DataFrame for the
        ``enaf_consumption`` and ``projects`` tables.
    report
        A :class:`LoadReport` to fill in (rows read, geometries repaired,
        CRS transformed).  A new one is attached to the result's
        ``attrs["load_report"]`` in any case.
    area_of_use
        Check that the layer's bounds lie within the area of use of its
        declared CRS (:func:`check_area_of_use`): degrees declared as
        Lambert-93, or Lambert-93 coordinates declared as EPSG:27572, are
        refused.  ``False`` skips it, for a layer drawn on purpose away from
        real coordinates.
    known_valid
        The geometries are known to be valid (a layer foncier validated and
        wrote, unchanged since: see :meth:`foncier.territory.Territory.from_folder`):
        their validity is not computed again.  Null, empty and wrongly typed
        geometries are still refused.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The layer with the schema's columns first (typed, codes as strings),
        extra columns kept after them, geometry in EPSG:2154 and valid.

    Raises
    ------
    NotFoundError
        If ``name`` is not a known layer.
    LayerSchemaError
        A missing column, a value of the wrong type, a value outside the
        allowed set or below the minimum, a duplicate key.
    CRSError
        A spatial layer without CRS, or one that cannot be reprojected, or
        (``area_of_use``) outside its CRS's area of use.
    GeometryError
        Null, empty or unrepairable geometries, or geometries of the wrong type.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame(
    ...     {"constraint_id": ["c1"], "kind": ["ppri_red"], "effect": ["exclude"]},
    ...     geometry=[shapely.box(7e5, 6.3e6, 7e5 + 100, 6.3e6 + 100)], crs="EPSG:2154")
    >>> validate_layer("constraints", gdf).area.iloc[0]
    np.float64(10000.0)
    """
    if name not in SCHEMAS:
        msg = f"couche inconnue {name!r} ; couches connues : {list(LAYER_NAMES)}"
        raise NotFoundError(msg)
    schema = SCHEMAS[name]
    report = report if report is not None else LoadReport(name)
    report.rows_read = report.rows_read or len(data)
    if schema.geometry is None:
        table = pd.DataFrame(data)
        if isinstance(data, gpd.GeoDataFrame):
            table = pd.DataFrame(data.drop(columns=data.geometry.name))
        out = _check_columns(schema, table).reset_index(drop=True)
        out.attrs["load_report"] = report
        return out
    if not isinstance(data, gpd.GeoDataFrame):
        msg = (
            f"couche {name} : attendu un GeoDataFrame avec une colonne de géométrie ; "
            f"reçu un {type(data).__name__}"
        )
        raise GeometryError(msg)
    gdf = data.rename_geometry(Col.GEOMETRY) if data.geometry.name != Col.GEOMETRY else data
    if area_of_use:
        check_area_of_use(name, gdf)
    gdf = _to_l93(schema, gdf, report)
    gdf = _fix_geometries(schema, gdf, report, known_valid=known_valid and not report.reprojected)
    attrs = _check_columns(schema, pd.DataFrame(gdf.drop(columns=Col.GEOMETRY)))
    out = gpd.GeoDataFrame(attrs, geometry=gdf.geometry.to_numpy(), crs=CRS_L93)
    out = out.reset_index(drop=True)
    out.attrs["load_report"] = report
    return out


class _NotPlain(Exception):
    """A value the one-row rules of :func:`validate_record` leave to :func:`validate_layer`."""


def _plain_value(col: Column, value: Any) -> Any:
    """``value`` of ``col`` as :func:`validate_layer` keeps it, or :class:`_NotPlain`.

    Only plain valid values are handled here (a number for a numeric column,
    text for a text or code column, a boolean for a flag, a missing value
    where allowed): anything else, an invalid value included, raises
    :class:`_NotPlain` so that the table path decides and words the error.
    """
    if isinstance(value, np.generic):
        value = value.item()
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if col.kind == "bool":
        if isinstance(value, bool):
            return value
        if missing and col.default is not None:
            return bool(col.default)
        if missing and col.nullable:
            return None
        raise _NotPlain
    if missing:
        if col.nullable:  # validate_layer keeps it missing, a text column included
            return None
        raise _NotPlain
    if col.kind in ("code", "str"):
        if not isinstance(value, str):
            raise _NotPlain
        text = value.strip()
        if col.kind == "code":
            if col.width and text.isdigit():
                text = text.zfill(col.width)
            if col.pattern is not None and not col.pattern.match(text):
                raise _NotPlain
        if col.allowed is not None and text not in col.allowed:
            raise _NotPlain
        return text
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _NotPlain
    if not math.isfinite(value) or abs(value) >= 2**53:
        raise _NotPlain
    if col.maximum is not None and value > col.maximum:
        raise _NotPlain
    if col.minimum is not None and value < col.minimum:
        raise _NotPlain
    if col.kind == "int":
        if value % 1 != 0:
            raise _NotPlain
        return int(value)
    return float(value)


def _plain_record(schema: LayerSchema, record: Mapping[str, Any]) -> dict[str, Any]:
    """The rules of :func:`_check_columns` on one row of plain valid values."""
    out: dict[str, Any] = {}
    for col in schema.columns:
        if col.name not in record and col.required:
            raise _NotPlain
        value = record.get(col.name, col.default)
        out[col.name] = _plain_value(col, value)
    columns = {name: np.array([np.nan if v is None else v]) for name, v in out.items()}
    for _column, _description, check in schema.checks:
        try:
            bad = np.asarray(check(columns), dtype=bool)
        except TypeError as exc:  # e.g. a missing value compared with a number
            raise _NotPlain from exc
        if bad.any():
            raise _NotPlain
    out.update({k: v for k, v in record.items() if k not in out})
    return out


def validate_record(name: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one row of an attribute table, as :func:`validate_layer` would.

    The same schema, bounds and messages as :func:`validate_layer` on a
    one-row table, without building one for a row of plain valid values (the
    usual case: a service request already typed by its model).  Any other
    row, an invalid one included, goes through :func:`validate_layer`, which
    raises the error.

    Parameters
    ----------
    name
        An attribute table without geometry (``projects``, ``enaf_consumption``…).
    record
        The row's fields.

    Returns
    -------
    dict
        The schema's columns first, typed as Python values (``None`` where
        missing), then the other fields as given.

    Raises
    ------
    NotFoundError
        ``name`` is not a layer, or is a spatial one.
    LayerSchemaError
        As :func:`validate_layer`.

    Examples
    --------
    >>> row = validate_record("projects", {"project_id": "P1", "name": "Usine",
    ...     "sector": "chimie", "area_min_ha": 2, "area_max_ha": 3, "jobs": 40})
    >>> row["area_min_ha"], row["needs_rail"], row["max_slope_pct"]
    (2.0, False, None)
    """
    schema = SCHEMAS.get(name)
    if schema is None or schema.geometry is not None:
        msg = f"validate_record ne valide que les tables attributaires ; {name!r} n'en est pas une"
        raise NotFoundError(msg)
    try:
        return _plain_record(schema, record)
    except _NotPlain:
        row = validate_layer(name, pd.DataFrame([dict(record)]))
    return {
        str(c): None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v)
        for c, v in row.iloc[0].items()
    }


def empty_layer(name: str) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return an empty, valid layer (or table between stages) with its schema's columns and types.

    Parameters
    ----------
    name
        Layer name, one of :data:`LAYER_NAMES`, or a table of :data:`TABLE_SCHEMAS`.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        Zero rows, in EPSG:2154 for spatial layers.
    """
    schema = SCHEMAS[name] if name in SCHEMAS else TABLE_SCHEMAS[name]
    dtypes = {"code": "str", "str": "str", "float": "float64", "int": "Int64", "bool": "bool"}
    frame = pd.DataFrame(
        {
            c.name: pd.Series(
                dtype="boolean" if c.kind == "bool" and c.nullable else dtypes[c.kind]
            )
            for c in schema.columns
        }
    )
    if schema.geometry is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CRS_L93), crs=CRS_L93)


# -- tables passed between stages -----------------------------------------------------------


class TableCol:
    """Column names of the tables passed between stages (besides :class:`Col`, :class:`UnitCol`).

    Budgets and the ZAN balance (:func:`foncier.zan.budget_table`), candidate
    pairs, assignments and unmatched projects (:mod:`foncier.matching`).
    """

    POOL_ID = "pool_id"
    BASELINE_HA = "baseline_ha"
    REDUCTION_RATE = "reduction_rate"
    ENVELOPE_HA = "envelope_ha"
    GUARANTEE_APPLIED = "guarantee_applied"
    TARGET_LEVEL = "target_level"
    TARGET_STATUS = "target_status"
    TARGET_NOTE = "target_note"
    GUARANTEE_INCLUDED = "guarantee_included"
    GUARANTEE_FLOOR_HA = "guarantee_floor_ha"
    GUARANTEED_HA = "guaranteed_ha"
    GUARANTEE_POOLING = Col.GUARANTEE_POOLING
    GUARANTEE_RESERVED_HA = "guarantee_reserved_ha"
    ALLOWANCE_HA = "allowance_ha"
    PENE_BUILT_HA = "pene_built_ha"
    PENE_PLANNED_HA = "pene_planned_ha"
    EXCLUDED_HA = "excluded_ha"
    PROJECTED_END_HA = "projected_end_ha"
    END_YEAR = "end_year"
    CONSUMED_HA = "consumed_ha"
    COMMITTED_HA = "committed_ha"
    REMAINING_HA = "remaining_ha"
    PACE_HA_PER_YEAR = "pace_ha_per_year"
    STATUS = "status"
    REMAINING_BEFORE_HA = "remaining_before_ha"
    CONSUMED_BY_PLACEMENTS_HA = "consumed_by_placements_ha"
    REMAINING_AFTER_HA = "remaining_after_ha"
    OVER_BUDGET = "over_budget"
    # pairs and placements
    P = "p"
    U = "u"
    AREA_HA = "area_ha"
    ENAF_HA = "enaf_ha"
    SCORE = "score"
    UNVERIFIED = "unverified"
    UNVERIFIED_BITS = "unverified_bits"
    ZAN_COST = "zan_cost"
    EXPLANATION = "explanation"
    # unmatched projects
    REASON_CODE = "reason_code"
    REQUIREMENT = "requirement"
    MISSING_HA = "missing_ha"
    BLOCKING_PROJECT_ID = "blocking_project_id"
    HINT = "hint"
    UNLOCK_FIELD = "unlock_field"
    UNLOCK_VALUE = "unlock_value"
    UNLOCK_UNIT_ID = "unlock_unit_id"
    UNLOCK_POOL_ID = "unlock_pool_id"
    UNLOCK_VERIFIED = "unlock_verified"
    UNLOCK_LOSS = "unlock_jobs_lost"
    # sensitivity
    JOBS_PER_EXTRA_HA = "jobs_per_extra_ha"
    OBJECTIVE_PER_EXTRA_HA = "objective_per_extra_ha"
    METHOD = "method"
    STABILITY = "stability"
    ALTERNATIVE_UNIT_ID = "alternative_unit_id"
    # decisions of the working group
    DECISION_ID = "decision_id"
    # lots: the parcels a placed project takes (foncier.lots), and assembled sites
    LOT_AREA_HA = "lot_area_ha"
    N_PARCELS = "n_parcels"
    N_OWNERS = "n_owners"
    OWNER_KINDS = "owner_kinds"
    PUBLIC_SHARE = "public_share"
    SPLIT = "split"
    SITE_RANK = "site_rank"
    # the parcels of each lot, one row per (project, parcel): the land officer's list
    TAKEN_HA = "taken_ha"


class DiagnosisCol:
    """Column names of the ZAN diagnosis tables (:mod:`foncier.zan.diagnosis`).

    Consumption is given for the reference period (2011-2021) and since the
    start of the target period (2021), in total and by Cerema destination:
    the column of a destination is :func:`destination_column` of its tidy
    ENAF column.  Efficiency ratios divide the ENAF consumed over the census
    period of the Cerema file (e.g. 1 Jan 2015 → 1 Jan 2021) by the change
    of population, households and jobs over it.
    """

    AREA = "area"
    DEP = "dep"
    REFERENCE_HA = "reference_ha"
    SINCE_2021_HA = "since_2021_ha"
    CENSUS_CONSUMED_M2 = "census_consumed_m2"
    NEW_INHABITANTS = "new_inhabitants"
    NEW_HOUSEHOLDS = "new_households"
    NEW_JOBS = "new_jobs"
    M2_PER_NEW_INHABITANT = "m2_per_new_inhabitant"
    M2_PER_NEW_HOUSEHOLD = "m2_per_new_household"
    M2_PER_NEW_JOB = "m2_per_new_job"
    #: The tidy ENAF destination columns, in the order of the diagnosis (MDA's).
    DESTINATIONS = (
        Col.HOUSING_M2,
        Col.ACTIVITY_M2,
        Col.MIXED_M2,
        Col.ROAD_M2,
        Col.RAIL_M2,
        Col.UNKNOWN_M2,
    )


def destination_column(period: str, destination: str) -> str:
    """Column of the diagnosis for a destination over a period.

    Examples
    --------
    >>> destination_column(DiagnosisCol.REFERENCE_HA, Col.HOUSING_M2)
    'reference_housing_ha'
    """
    return f"{period.removesuffix('_ha')}_{destination.removesuffix('_m2')}_ha"


#: Project fields every table about projects carries, so that its readers never join back.
PROJECT_FIELDS = (Col.NAME, Col.SECTOR, Col.JOBS, Col.AREA_MIN_HA)

_T = TableCol


def _f(name: str, **kw: Any) -> Column:
    return Column(name, "float", **kw)


def _s(name: str, **kw: Any) -> Column:
    return Column(name, "str", **kw)


def _b(name: str, **kw: Any) -> Column:
    return Column(name, "bool", **kw)


_PROJECT_FIELD_COLUMNS = (
    _s(Col.NAME, nullable=True),
    _s(Col.SECTOR, nullable=True),
    Column(Col.JOBS, "int", minimum=0),
    _f(Col.AREA_MIN_HA, minimum=0),
)

#: Columns of every table with one row per ZAN budget pool.
_POOL_COLUMNS = (
    _s(_T.POOL_ID),
    _s(Col.NAME),
    _f(_T.ENVELOPE_HA, nullable=True),
    _f(_T.CONSUMED_HA, nullable=True),
    _f(_T.COMMITTED_HA, nullable=True),
)

#: What a lot says about its land (placements and assembled sites): parcels, owners, ENAF.
_LOT_COLUMNS = (
    # blank for a lot on land outside any listed parcel (a ZAE plot drawn by its own polygon)
    _s(UnitCol.IDUS, nullable=True),
    _f(_T.LOT_AREA_HA, minimum=0),
    Column(_T.N_PARCELS, "int", minimum=0),
    # distinct owners when every parcel's owner is known (parcels ``owner_id``), else missing
    _f(_T.N_OWNERS, nullable=True, minimum=0),
    _s(_T.OWNER_KINDS),
    _f(_T.PUBLIC_SHARE, minimum=0),
    _f(UnitCol.ENAF_SHARE, nullable=True),
)

#: One parcel of a lot or a site: what a land officer needs to start talking to its owner.
_PARCEL_LIST_COLUMNS = (
    # blank for land outside any listed parcel (a ZAE plot drawn by its own polygon)
    _s(Col.IDU),
    _f(_T.TAKEN_HA, minimum=0),
    _s(Col.OWNER_KIND),
    _s(Col.OWNER_ID, nullable=True),
    _b(_T.SPLIT),
)

#: Schemas of the tables passed between stages: one contract per table.
TABLE_SCHEMAS: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        LayerSchema(
            "land_units",
            (UnitCol.UNIT_ID,),
            (
                _s(UnitCol.UNIT_ID),
                _insee(),
                _s(UnitCol.ORIGIN, allowed=ORIGINS),
                _s(Col.ZONE_TYPE, nullable=True),
                _s(Col.SERVICING_STAGE, nullable=True),
                _f(UnitCol.NET_AREA_HA, minimum=0),
                _f(UnitCol.SLOPE_MEAN_PCT, nullable=True),
                _f(UnitCol.DIST_INTERCHANGE_KM, nullable=True),
                _f(UnitCol.DIST_RAIL_FREIGHT_KM, nullable=True),
                _f(UnitCol.DIST_HOUSING_KM, nullable=True),
                _f(UnitCol.ENAF_SHARE, nullable=True),
            ),
            "polygon",
            "unités foncières avec leurs critères (foncier.supply.land_units)",
        ),
        LayerSchema(
            "candidate_pairs",
            (_T.P, _T.U),
            (
                _s(Col.PROJECT_ID),
                _s(UnitCol.UNIT_ID),
                Column(_T.P, "int", minimum=0),
                Column(_T.U, "int", minimum=0),
                _f(_T.SCORE),
                _f(_T.AREA_HA, minimum=0),
                _f(_T.ENAF_HA, minimum=0),
                _f(Col.JOBS, minimum=0),
                _b(UnitCol.IS_FRICHE),
                _b(Col.IS_PENE),
            ),
            None,
            "couples (projet, unité) faisables, avec leur score et leur imputation d'ENAF",
        ),
        LayerSchema(
            "assignments",
            (Col.PROJECT_ID,),
            (
                _s(Col.PROJECT_ID),
                _s(UnitCol.UNIT_ID),
                _insee(),
                _s(_T.POOL_ID, nullable=True),
                *_PROJECT_FIELD_COLUMNS,
                _f(_T.AREA_HA, minimum=0),
                _f(_T.ENAF_HA, minimum=0),
                _f(_T.SCORE),
                _b(UnitCol.IS_FRICHE),
                _b(Col.IS_PENE),
                _s(_T.UNVERIFIED, nullable=True),
                _s(_T.ZAN_COST),
                _s(_T.EXPLANATION),
            ),
            None,
            "une ligne par projet implanté (avec l'étape de sensibilité, aussi sa stabilité : "
            "stable / fragile / untested, et alternative_unit_id)",
        ),
        LayerSchema(
            "lots",
            (Col.PROJECT_ID,),
            (
                _s(Col.PROJECT_ID),
                _s(UnitCol.UNIT_ID),
                *_LOT_COLUMNS,
                _f(_T.ENAF_HA, minimum=0),
                _b(_T.SPLIT),
            ),
            "polygon",
            "le lot de chaque projet implanté : ses parcelles dans son unité (foncier.lots)",
        ),
        LayerSchema(
            "lot_parcels",
            (Col.PROJECT_ID, Col.IDU),
            (_s(Col.PROJECT_ID), _s(UnitCol.UNIT_ID), *_PARCEL_LIST_COLUMNS),
            None,
            "les parcelles de chaque lot, avec la surface prise et le propriétaire (foncier.lots)",
        ),
        LayerSchema(
            "site_parcels",
            (_T.SITE_RANK, Col.IDU),
            (Column(_T.SITE_RANK, "int", minimum=1), *_PARCEL_LIST_COLUMNS),
            None,
            "les parcelles de chaque site assemblé, avec la surface prise et le propriétaire "
            "(foncier.land_assembly)",
        ),
        LayerSchema(
            "assembled_sites",
            (_T.SITE_RANK,),
            (
                Column(_T.SITE_RANK, "int", minimum=1),
                _insee(),
                *_LOT_COLUMNS,
                _f(_T.ENAF_HA, minimum=0),
                _f(_T.SCORE),
            ),
            "polygon",
            "sites d'un seul tenant assemblés à partir de parcelles candidates "
            "(foncier.land_assembly)",
        ),
        LayerSchema(
            "unmatched",
            (Col.PROJECT_ID,),
            (
                _s(Col.PROJECT_ID),
                *_PROJECT_FIELD_COLUMNS,
                _s(_T.REASON_CODE),
                _s(_T.REQUIREMENT, nullable=True),
                _s(UnitCol.UNIT_ID, nullable=True),
                _s(_T.POOL_ID, nullable=True),
                _f(_T.MISSING_HA, nullable=True),
                _s(_T.BLOCKING_PROJECT_ID, nullable=True),
                _s(_T.EXPLANATION),
                _s(_T.HINT, nullable=True),
                # the change that places it (foncier.unlock): ';'-joined projects.csv
                # columns, budget_ha or project_id (a competitor), and their values
                _s(_T.UNLOCK_FIELD, nullable=True),
                _s(_T.UNLOCK_VALUE, nullable=True),
                _s(_T.UNLOCK_UNIT_ID, nullable=True),
                _s(_T.UNLOCK_POOL_ID, nullable=True),
                _b(_T.UNLOCK_VERIFIED),
                _f(_T.UNLOCK_LOSS, nullable=True),
            ),
            None,
            "une ligne par projet non implanté, avec sa raison et son déblocage vérifié",
        ),
        LayerSchema(
            "budget_values",
            (_T.POOL_ID,),
            (
                _s(_T.POOL_ID),
                _s(Col.NAME),
                _f(_T.REMAINING_AFTER_HA, nullable=True),
                _f(_T.JOBS_PER_EXTRA_HA),
                _f(_T.OBJECTIVE_PER_EXTRA_HA),
                _s(_T.METHOD, allowed=("re-solve", "no_candidate")),
            ),
            None,
            "valeur d'un hectare de budget ZAN de plus par groupement (foncier.sensitivity)",
        ),
        LayerSchema(
            "budgets",
            (_T.POOL_ID,),
            (
                *_POOL_COLUMNS,
                _s(_T.TARGET_LEVEL),
                _s(_T.TARGET_STATUS),
                _s(_T.TARGET_NOTE),
                _b(_T.GUARANTEE_INCLUDED),
                _f(_T.GUARANTEE_FLOOR_HA),
                _f(_T.GUARANTEED_HA, nullable=True),
                _b(_T.GUARANTEE_POOLING),
                _f(_T.GUARANTEE_RESERVED_HA, nullable=True),
                _f(_T.ALLOWANCE_HA, nullable=True),
                _f(_T.PENE_BUILT_HA),
                _f(_T.PENE_PLANNED_HA),
                _f(_T.EXCLUDED_HA),
                _f(_T.REMAINING_HA, nullable=True),
                _f(_T.PROJECTED_END_HA, nullable=True),
                Column(_T.END_YEAR, "int"),
                _s(_T.STATUS),
            ),
            None,
            "budget ZAN par groupement (foncier.zan.budget_table) ; la projection est à "
            "end_year, la fin de la période cible du jeu de règles",
        ),
        LayerSchema(
            "zan_balance",
            (_T.POOL_ID,),
            (
                *_POOL_COLUMNS,
                _f(_T.REMAINING_BEFORE_HA, nullable=True),
                _f(_T.CONSUMED_BY_PLACEMENTS_HA, minimum=0),
                _f(_T.REMAINING_AFTER_HA, nullable=True),
                _b(_T.OVER_BUDGET),
            ),
            None,
            "bilan ZAN par groupement après un scénario",
        ),
        LayerSchema(
            "decisions",
            (Col.PROJECT_ID,),
            (
                _s(Col.PROJECT_ID),
                _s(UnitCol.UNIT_ID),
                _insee(),
                _f(_T.AREA_HA, minimum=0),
                _f(_T.ENAF_HA, minimum=0),
                # the parcels of the validated lot; absent or blank in logs written before lots
                _s(UnitCol.IDUS, required=False, nullable=True),
            ),
            None,
            "implantations validées par le groupe de travail (une par projet)",
        ),
    )
}

#: The ZAN diagnosis per commune (:func:`foncier.zan.diagnosis.zan_diagnosis`).
TABLE_SCHEMAS["zan_diagnosis"] = LayerSchema(
    "zan_diagnosis",
    (Col.INSEE,),
    (
        _insee(),
        _s(Col.NAME, nullable=True),
        _s(DiagnosisCol.DEP, nullable=True),
        *(
            _f(column, nullable=True)
            for period in (DiagnosisCol.REFERENCE_HA, DiagnosisCol.SINCE_2021_HA)
            for column in (
                period,
                *(destination_column(period, d) for d in DiagnosisCol.DESTINATIONS),
            )
        ),
        _f(DiagnosisCol.CENSUS_CONSUMED_M2, nullable=True),
        _f(DiagnosisCol.NEW_INHABITANTS, nullable=True),
        _f(DiagnosisCol.NEW_HOUSEHOLDS, nullable=True),
        _f(DiagnosisCol.NEW_JOBS, nullable=True),
        _f(DiagnosisCol.M2_PER_NEW_INHABITANT, nullable=True),
        _f(DiagnosisCol.M2_PER_NEW_HOUSEHOLD, nullable=True),
        _f(DiagnosisCol.M2_PER_NEW_JOB, nullable=True),
    ),
    None,
    "consommation d'ENAF par destination et ratios d'efficacité par commune",
)

_KIND_CHECKS: dict[str, Callable[[pd.Series], bool]] = {
    "float": pd.api.types.is_numeric_dtype,
    "int": pd.api.types.is_integer_dtype,
    "bool": pd.api.types.is_bool_dtype,
    "str": lambda s: pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s),
    "code": lambda s: pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s),
}
_KIND_FR = {
    "float": "numérique",
    "int": "entière",
    "bool": "booléenne (vrai / faux)",
    "str": "texte",
    "code": "texte (code)",
}


def check_table(table: pd.DataFrame, name: str, *, source: str | None = None) -> pd.DataFrame:
    """Check a table passed between stages against its schema; return it unchanged.

    The one column check of foncier's intermediate tables (land units,
    candidate pairs, assignments, unmatched, budgets, ZAN balance,
    decisions): the columns of :data:`TABLE_SCHEMAS` ``[name]`` are present
    (optional ones may be absent) with a compatible dtype, non-nullable ones
    hold no missing value, and the key is unique.  Extra columns are allowed.
    A stage calls it once on what it receives and trusts the table after.

    Parameters
    ----------
    table
        The table.
    name
        Its schema's name, a key of :data:`TABLE_SCHEMAS`.
    source
        Where the table comes from (a file), named in the message.

    Returns
    -------
    pandas.DataFrame
        ``table`` itself.

    Raises
    ------
    LayerSchemaError
        A column is missing, of the wrong type or holds missing values, or
        the key has duplicates; ``column`` of the error names it.

    Examples
    --------
    >>> import pandas as pd
    >>> check_table(pd.DataFrame({"pool_id": ["a"]}), "budgets")
    Traceback (most recent call last):
    ...
    foncier.errors.LayerSchemaError: table « budgets » : colonne « name » absente ...
    """
    schema = TABLE_SCHEMAS[name]
    where = f"table « {name} »" + (f" ({source})" if source else "")
    for col in schema.columns:
        if col.name not in table.columns and not col.required:
            continue
        if col.name not in table.columns:
            msg = (
                f"{where} : colonne « {col.name} » absente ; colonnes attendues "
                f"{schema.column_names}, reçues {list(map(str, table.columns))}. "
                f"Produisez cette table avec foncier ({schema.description})."
            )
            raise LayerSchemaError(msg, column=col.name)
        s = table[col.name]
        if len(s) and s.notna().any() and not _KIND_CHECKS[col.kind](s.dropna()):
            msg = (
                f"{where} : la colonne « {col.name} » doit être {_KIND_FR[col.kind]}, "
                f"elle est de type {s.dtype}."
            )
            raise LayerSchemaError(msg, column=col.name)
        if not col.nullable and s.isna().any():
            n = int(s.isna().sum())
            msg = f"{where} : {n} valeur(s) manquante(s) dans la colonne « {col.name} »."
            raise LayerSchemaError(msg, column=col.name)
    key = list(schema.key)
    dup = table.duplicated(subset=key)
    if dup.any():
        first = table.loc[dup, key].head(5).astype(str).agg("/".join, axis=1).tolist()
        msg = f"{where} : clé {'/'.join(key)} en double : {first}."
        raise LayerSchemaError(msg, column=key[0])
    return table
